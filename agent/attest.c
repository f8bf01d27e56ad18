// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verifying attested allow-lists, in the order DSSE asks for: decode the
 * envelope, check signatures over the PAE against the trust config, and
 * only then parse the payload, against a schema that refuses every field
 * it does not know (ignoring a restriction would widen what is allowed).
 * Freshness and replay come last. Any failure refuses the whole bundle.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "vouch_abi.h"
#include "attest.h"
#include "dsse.h"
#include "utc.h"

#define JSON_FLAGS		(JSON_REJECT_DUPLICATES)
#define TEXT_MAX		253
#define REPO_MAX		2048
#define COMMIT_MAX		128
#define SHORT_ID		16	/* key id digits shown in messages */
#define SIGSTORE_V03_LEGACY	"application/vnd.dev.sigstore.bundle+json;version=0.3"

struct envelope {
	const char *payload_type;	/* borrowed from the JSON tree */
	unsigned char *payload;
	size_t payload_len;
	struct {
		unsigned char *sig;
		size_t len;
		const char *keyid;	/* unauthenticated hint, or NULL */
	} sigs[ATTEST_MAX_SIGNATURES];
	size_t n_sigs;
};

struct verifier {
	const struct trust *t;
	const char *name;
	struct diags *diags;
	int64_t now;
};

/* Where in the JSON a check is, for messages: "predicate.images[...]". */
struct jctx {
	const char *name;
	struct diags *diags;
};

static void jerr(const struct jctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void jerr(const struct jctx *c, const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags__add(c->diags, DIAG_ERROR, c->name, 0, 0, "%s: %s", path,
		   msg ? msg : "out of memory");
	free(msg);
}

static void verr(const struct verifier *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void verr(const struct verifier *v, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags__add(v->diags, DIAG_ERROR, v->name, 0, 0, "%s",
		   msg ? msg : "out of memory");
	free(msg);
}

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* JSON paths in messages; a path too long for the buffer is cut short. */
static void pathf(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

static void join(char *out, size_t len, const char *path, const char *key)
{
	pathf(out, len, "%s%s%s", path, *path ? "." : "", key);
}

/* Every field of obj must be in allowed; each stranger is an error. */
static int only_fields(const struct jctx *c, json_t *obj, const char *path,
		       const char *const *allowed)
{
	const char *key;
	json_t *val;
	int bad = 0;

	json_object_foreach(obj, key, val) {
		size_t i = 0;

		while (allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (!allowed[i]) {
			jerr(c, path[0] ? path : "$", "unknown field '%s'", key);
			bad++;
		}
	}
	return bad;
}

static json_t *want(const struct jctx *c, json_t *obj, const char *path,
		    const char *key, json_type type, int required)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
	};
	json_t *val = json_object_get(obj, key);
	char at[512];

	join(at, sizeof(at), path, key);
	if (!val) {
		if (required)
			jerr(c, at, "missing required field");
		return NULL;
	}
	if (json_typeof(val) != type) {
		jerr(c, at, "expected %s, got %s", names[type], json_kind(val));
		return NULL;
	}
	return val;
}

/* Printable text: no C0 or C1 controls, no DEL (jansson checked UTF-8). */
static int text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 0;
	return 1;
}

static const char *want_text(const struct jctx *c, json_t *obj,
			     const char *path, const char *key, size_t max,
			     int required)
{
	json_t *val = want(c, obj, path, key, JSON_STRING, required);
	const char *s;
	char at[512];

	if (!val)
		return NULL;
	s = json_string_value(val);
	join(at, sizeof(at), path, key);
	if (json_string_length(val) == 0 || json_string_length(val) > max ||
	    strlen(s) != json_string_length(val) || !text_ok(s)) {
		jerr(c, at, "must be 1 to %zu printable characters", max);
		return NULL;
	}
	return s;
}

static int hex64_ok(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void sha256_hex(const unsigned char *buf, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* --- egress ------------------------------------------------------------ */

const char *attest__parse_cidr(const char *s, uint8_t addr[16],
			       uint8_t *prefix_len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int prefix, max;
	struct in_addr v4;
	char *end;

	if (n == 0 || n >= sizeof(host))
		return "not an IP address";
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &v4) == 1) {
		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		max = 128;
	} else {
		return "not an IPv4 or IPv6 address";
	}
	prefix = max;
	if (slash) {
		if (!slash[1] || strspn(slash + 1, "0123456789") !=
		    strlen(slash + 1) || strlen(slash + 1) > 3)
			return "the prefix length is not a number";
		prefix = (unsigned int)strtoul(slash + 1, &end, 10);
		if (prefix > max)
			return "the prefix length is too long for the address";
	}
	if (max == 32)
		prefix += 96;
	for (unsigned int bit = prefix; bit < 128; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return "address bits are set past the prefix length";
	*prefix_len = (uint8_t)prefix;
	return NULL;
}

static int parse_port_item(const struct jctx *c, json_t *item,
			   const char *at, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	char *end;

	if (json_is_integer(item)) {
		json_int_t p = json_integer_value(item);

		if (p < 1 || p > 65535)
			goto bad;
		*lo = *hi = (uint16_t)p;
		return 0;
	}
	if (!json_is_string(item))
		goto bad;
	errno = 0;
	a = strtoul(json_string_value(item), &end, 10);
	if (end == json_string_value(item) || *end != '-' ||
	    !(end[1] >= '0' && end[1] <= '9'))
		goto bad;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end || a < 1 || b > 65535 || a > b)
		goto bad;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
bad:
	jerr(c, at, "expected a port (1..65535) or a range \"LOW-HIGH\"");
	return -1;
}

static int parse_protocol(const struct jctx *c, json_t *rule,
			  const char *path, uint8_t *out)
{
	const char *p = want_text(c, rule, path, "protocol", 8, 0);
	char at[512];

	*out = ALLOWLIST_PROTO_ANY;
	if (!p)
		return json_object_get(rule, "protocol") ? -1 : 0;
	if (strcmp(p, "tcp") == 0)
		*out = ALLOWLIST_PROTO_TCP;
	else if (strcmp(p, "udp") == 0)
		*out = ALLOWLIST_PROTO_UDP;
	else if (strcmp(p, "any") != 0) {
		join(at, sizeof(at), path, "protocol");
		jerr(c, at, "expected tcp, udp or any, got '%s'", p);
		return -1;
	}
	return 0;
}

static const char *const egress_rule_fields[] = {
	"cidr", "ports", "protocol", NULL
};

/* One rule becomes one entry per port item, all sharing the range. */
static void parse_egress_rule(const struct jctx *c, json_t *rule,
			      const char *path, struct allowlist_egress *out,
			      size_t *n, size_t cap)
{
	struct allowlist_egress e = { .port_lo = 0, .port_hi = 65535 };
	const char *cidr, *why;
	json_t *ports, *item;
	char at[512];
	size_t i;

	if (!json_is_object(rule)) {
		jerr(c, path, "expected an object with 'cidr', got %s",
		     json_kind(rule));
		return;
	}
	only_fields(c, rule, path, egress_rule_fields);
	cidr = want_text(c, rule, path, "cidr", INET6_ADDRSTRLEN + 4, 1);
	if (parse_protocol(c, rule, path, &e.protocol) || !cidr)
		return;
	why = attest__parse_cidr(cidr, e.addr, &e.prefix_len);
	join(at, sizeof(at), path, "cidr");
	if (why) {
		jerr(c, at, "'%s': %s", cidr, why);
		return;
	}
	ports = want(c, rule, path, "ports", JSON_ARRAY, 0);
	if (!ports) {
		if (!json_object_get(rule, "ports") && *n < cap)
			out[(*n)++] = e;
		return;
	}
	join(at, sizeof(at), path, "ports");
	if (json_array_size(ports) == 0)
		jerr(c, at, "empty; leave 'ports' out to allow every port");
	json_array_foreach(ports, i, item) {
		char iat[540];

		pathf(iat, sizeof(iat), "%s[%zu]", at, i);
		if (parse_port_item(c, item, iat, &e.port_lo, &e.port_hi))
			continue;
		if (*n >= cap) {
			jerr(c, iat, "more than %d egress entries",
			     ATTEST_MAX_ENTRIES);
			return;
		}
		out[(*n)++] = e;
	}
}

static void parse_egress_list(const struct jctx *c, json_t *list,
			      const char *path, struct allowlist_egress **out,
			      size_t *n)
{
	json_t *rule;
	size_t i;

	if (json_array_size(list) > ATTEST_MAX_ENTRIES) {
		jerr(c, path, "more than %d entries", ATTEST_MAX_ENTRIES);
		return;
	}
	*out = calloc(ATTEST_MAX_ENTRIES, sizeof(**out));
	if (!*out) {
		jerr(c, path, "out of memory");
		return;
	}
	json_array_foreach(list, i, rule) {
		char at[512];

		pathf(at, sizeof(at), "%s[%zu]", path, i);
		parse_egress_rule(c, rule, at, *out, n, ATTEST_MAX_ENTRIES);
	}
}

/* --- exec -------------------------------------------------------------- */

static int has_dot_component(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return 1;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static const char *path_problem(const char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/')
		return "not an absolute path";
	if (len > VOUCH_PATH_MATCH_MAX)
		return "longer than the 247 bytes a rule can match";
	if (!text_ok(p))
		return "contains a control character";
	if (strstr(p, "//"))
		return "contains '//'";
	if (has_dot_component(p))
		return "has a '.' or '..' component";
	return NULL;
}

static const char *const exec_entry_fields[] = { "path", "sha256", NULL };

static void parse_exec_entry(const struct jctx *c, json_t *item,
			     const char *at, struct allowlist_exec *e)
{
	const char *path = NULL, *sha = NULL, *why;

	if (json_is_string(item)) {
		path = json_string_value(item);
	} else if (json_is_object(item)) {
		only_fields(c, item, at, exec_entry_fields);
		path = want_text(c, item, at, "path", VOUCH_PATH_MATCH_MAX, 1);
		sha = want_text(c, item, at, "sha256", 64, 0);
		if (!path)
			return;
	} else {
		jerr(c, at, "expected a path or {path, sha256}, got %s",
		     json_kind(item));
		return;
	}
	why = path_problem(path);
	if (why) {
		jerr(c, at, "'%s': %s", path, why);
		return;
	}
	if (sha && (!hex64_ok(sha) || path[strlen(path) - 1] == '/')) {
		jerr(c, at, "sha256 must be 64 lower-case hex digits, on a file path");
		return;
	}
	e->path = strdup(path);
	if (!e->path) {
		jerr(c, at, "out of memory");
		return;
	}
	for (int i = 0; sha && i < 32; i++) {
		unsigned int byte;

		sscanf(sha + 2 * i, "%2x", &byte);
		e->sha256[i] = (uint8_t)byte;
	}
	e->has_sha256 = sha != NULL;
}

static void parse_exec_list(const struct jctx *c, json_t *list,
			    const char *path, struct allowlist_exec **out,
			    size_t *n)
{
	json_t *item;
	size_t i;

	if (json_array_size(list) > ATTEST_MAX_ENTRIES) {
		jerr(c, path, "more than %d entries", ATTEST_MAX_ENTRIES);
		return;
	}
	*out = calloc(json_array_size(list) + 1, sizeof(**out));
	if (!*out) {
		jerr(c, path, "out of memory");
		return;
	}
	json_array_foreach(list, i, item) {
		char at[512];

		pathf(at, sizeof(at), "%s[%zu]", path, i);
		parse_exec_entry(c, item, at, &(*out)[*n]);
		if ((*out)[*n].path)
			(*n)++;
	}
}

/* --- images ------------------------------------------------------------ */

static const char *const image_fields[] = {
	"service", "version", "deploy_id", "environment", "namespace",
	"source", "builder", "exec", "egress", NULL
};
static const char *const source_fields[] = { "repo", "commit", NULL };
static const char *const exec_fields[] = { "allow", "deny", NULL };
static const char *const egress_fields[] = { "allow", "deny", NULL };

static char *dup_text(const struct jctx *c, json_t *obj, const char *path,
		      const char *key, size_t max, int required)
{
	const char *s = want_text(c, obj, path, key, max, required);
	char *copy;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		jerr(c, path, "out of memory");
	return copy;
}

static void parse_source(const struct jctx *c, json_t *img, const char *path,
			 struct allowlist_image *out)
{
	json_t *src = want(c, img, path, "source", JSON_OBJECT, 0);
	char at[512];

	if (!src)
		return;
	join(at, sizeof(at), path, "source");
	only_fields(c, src, at, source_fields);
	out->source_repo = dup_text(c, src, at, "repo", REPO_MAX, 1);
	out->source_commit = dup_text(c, src, at, "commit", COMMIT_MAX, 1);
}

static void parse_exec(const struct jctx *c, json_t *img, const char *path,
		       struct allowlist_image *out)
{
	json_t *exec = want(c, img, path, "exec", JSON_OBJECT, 1);
	json_t *allow, *deny;
	char at[512], lat[540];

	if (!exec)
		return;
	join(at, sizeof(at), path, "exec");
	only_fields(c, exec, at, exec_fields);
	allow = want(c, exec, at, "allow", JSON_ARRAY, 1);
	deny = want(c, exec, at, "deny", JSON_ARRAY, 0);
	join(lat, sizeof(lat), at, "allow");
	if (allow && json_array_size(allow) == 0)
		jerr(c, lat, "empty: an image must be allowed to run something");
	if (allow)
		parse_exec_list(c, allow, lat, &out->exec_allow,
				&out->n_exec_allow);
	join(lat, sizeof(lat), at, "deny");
	if (deny)
		parse_exec_list(c, deny, lat, &out->exec_deny,
				&out->n_exec_deny);
}

static void parse_egress(const struct jctx *c, json_t *img, const char *path,
			 struct allowlist_image *out)
{
	json_t *egress = want(c, img, path, "egress", JSON_OBJECT, 1);
	json_t *allow, *deny;
	char at[512], lat[540];

	if (!egress)
		return;
	join(at, sizeof(at), path, "egress");
	only_fields(c, egress, at, egress_fields);
	allow = want(c, egress, at, "allow", JSON_ARRAY, 1);
	deny = want(c, egress, at, "deny", JSON_ARRAY, 0);
	join(lat, sizeof(lat), at, "allow");
	if (allow)
		parse_egress_list(c, allow, lat, &out->egress_allow,
				  &out->n_egress_allow);
	join(lat, sizeof(lat), at, "deny");
	if (deny)
		parse_egress_list(c, deny, lat, &out->egress_deny,
				  &out->n_egress_deny);
}

static void parse_image(const struct jctx *c, const char *digest, json_t *img,
			const char *path, struct allowlist_image *out)
{
	snprintf(out->digest, sizeof(out->digest), "%s", digest);
	if (!json_is_object(img)) {
		jerr(c, path, "expected an object, got %s", json_kind(img));
		return;
	}
	only_fields(c, img, path, image_fields);
	out->service = dup_text(c, img, path, "service", TEXT_MAX, 1);
	out->version = dup_text(c, img, path, "version", TEXT_MAX, 1);
	out->deploy_id = dup_text(c, img, path, "deploy_id", TEXT_MAX, 1);
	out->environment = dup_text(c, img, path, "environment", TEXT_MAX, 1);
	out->namespace_ = dup_text(c, img, path, "namespace", TEXT_MAX, 0);
	out->builder = dup_text(c, img, path, "builder", TEXT_MAX, 0);
	parse_source(c, img, path, out);
	parse_exec(c, img, path, out);
	parse_egress(c, img, path, out);
}

static void parse_images(const struct jctx *c, json_t *images,
			 struct allowlist *al)
{
	const char *digest;
	json_t *img;
	size_t n = json_object_size(images);

	if (n == 0 || n > ATTEST_MAX_IMAGES) {
		jerr(c, "predicate.images", "must hold 1 to %d images",
		     ATTEST_MAX_IMAGES);
		return;
	}
	al->images = calloc(n, sizeof(*al->images));
	if (!al->images) {
		jerr(c, "predicate.images", "out of memory");
		return;
	}
	json_object_foreach(images, digest, img) {
		char at[512];

		pathf(at, sizeof(at), "predicate.images[\"%.80s\"]", digest);
		if (!allowlist__valid_digest(digest)) {
			jerr(c, at, "key must be \"sha256:\" and 64 lower-case hex digits");
			continue;
		}
		parse_image(c, digest, img, at, &al->images[al->n_images++]);
	}
}

/* --- statement --------------------------------------------------------- */

static const char *const statement_fields[] = {
	"_type", "subject", "predicateType", "predicate", NULL
};
static const char *const subject_fields[] = { "name", "digest", NULL };
static const char *const digest_fields[] = { "sha256", NULL };
static const char *const predicate_fields[] = {
	"serial", "issued", "expires", "scope", "images", NULL
};

static void parse_time_field(const struct jctx *c, json_t *pred,
			     const char *key, int64_t *out)
{
	const char *s = want_text(c, pred, "predicate", key, 32, 1);
	char at[64];

	if (!s)
		return;
	pathf(at, sizeof(at), "predicate.%s", key);
	if (utc__parse(s, strlen(s), out))
		jerr(c, at, "expected a UTC time such as 2027-01-31T00:00:00Z, got '%s'",
		     s);
}

static void parse_predicate(const struct jctx *c, json_t *pred,
			    struct allowlist *al)
{
	json_t *serial, *images;
	const char *scope;

	only_fields(c, pred, "predicate", predicate_fields);
	serial = want(c, pred, "predicate", "serial", JSON_INTEGER, 1);
	if (serial && json_integer_value(serial) < 1)
		jerr(c, "predicate.serial", "must be a positive integer");
	else if (serial)
		al->serial = (uint64_t)json_integer_value(serial);
	parse_time_field(c, pred, "issued", &al->issued);
	parse_time_field(c, pred, "expires", &al->expires);
	scope = want_text(c, pred, "predicate", "scope", TRUST_SCOPE_MAX, 1);
	if (scope && !trust__scope_ok(scope))
		jerr(c, "predicate.scope", "'%s' is not a valid scope name",
		     scope);
	else if (scope && !(al->scope = strdup(scope)))
		jerr(c, "predicate.scope", "out of memory");
	images = want(c, pred, "predicate", "images", JSON_OBJECT, 1);
	if (images)
		parse_images(c, images, al);
}

/* Each subject's sha256 as "sha256:HEX" into a new object used as a set. */
static json_t *parse_subjects(const struct jctx *c, json_t *subjects)
{
	json_t *set = json_object(), *s;
	size_t i;

	if (!set || json_array_size(subjects) == 0) {
		jerr(c, "subject", "must list at least one image digest");
		return set;
	}
	json_array_foreach(subjects, i, s) {
		char at[64], key[80];
		const char *hex;
		json_t *digest;

		pathf(at, sizeof(at), "subject[%zu]", i);
		if (!json_is_object(s)) {
			jerr(c, at, "expected an object, got %s", json_kind(s));
			continue;
		}
		only_fields(c, s, at, subject_fields);
		want_text(c, s, at, "name", REPO_MAX, 0);
		digest = want(c, s, at, "digest", JSON_OBJECT, 1);
		if (!digest)
			continue;
		strcat(at, ".digest");
		only_fields(c, digest, at, digest_fields);
		hex = want_text(c, digest, at, "sha256", 64, 1);
		if (hex && !hex64_ok(hex)) {
			jerr(c, at, "sha256 must be 64 lower-case hex digits");
			continue;
		}
		if (!hex)
			continue;
		snprintf(key, sizeof(key), "sha256:%s", hex);
		if (json_object_get(set, key))
			jerr(c, at, "digest %s is listed twice", key);
		json_object_set_new(set, key, json_true());
	}
	return set;
}

/* Subjects and images name the same digests, both ways. */
static void match_subjects(const struct jctx *c, json_t *set,
			   const struct allowlist *al)
{
	const char *key;
	json_t *val;

	for (size_t i = 0; i < al->n_images; i++)
		if (!json_object_get(set, al->images[i].digest))
			jerr(c, "predicate.images",
			     "%s has an entry but is not a subject of the statement",
			     al->images[i].digest);
	json_object_foreach(set, key, val)
		if (!allowlist__find(al, key))
			jerr(c, "subject",
			     "%s is a subject but has no entry in predicate.images",
			     key);
}

static void parse_statement_json(const struct jctx *c, json_t *st,
				 struct allowlist *al)
{
	const char *type, *ptype;
	json_t *subjects, *pred, *set = NULL;

	if (!json_is_object(st)) {
		jerr(c, "$", "the statement is %s, not an object", json_kind(st));
		return;
	}
	only_fields(c, st, "", statement_fields);
	type = want_text(c, st, "", "_type", 256, 1);
	if (type && strcmp(type, ATTEST_STATEMENT_TYPE) != 0)
		jerr(c, "_type", "'%s' is not %s", type, ATTEST_STATEMENT_TYPE);
	ptype = want_text(c, st, "", "predicateType", 256, 1);
	if (ptype && strcmp(ptype, ATTEST_PREDICATE_TYPE) != 0)
		jerr(c, "predicateType", "'%s' is not %s", ptype,
		     ATTEST_PREDICATE_TYPE);
	subjects = want(c, st, "", "subject", JSON_ARRAY, 1);
	pred = want(c, st, "", "predicate", JSON_OBJECT, 1);
	if (subjects)
		set = parse_subjects(c, subjects);
	if (pred)
		parse_predicate(c, pred, al);
	if (set && pred)
		match_subjects(c, set, al);
	json_decref(set);
}

static json_t *load_json(const char *name, const char *buf, size_t len,
			 const char *what, struct diags *diags)
{
	json_error_t e;
	json_t *j = json_loadb(buf, len, JSON_FLAGS, &e);

	if (!j)
		diags__add(diags, DIAG_ERROR, name, e.line > 0 ? e.line : 0,
			   e.column > 0 ? e.column : 0, "%s is not valid JSON: %s",
			   what, e.text);
	return j;
}

struct allowlist *attest__parse_statement(const char *name,
					  const unsigned char *payload,
					  size_t len, struct diags *diags)
{
	size_t errors = diags->errors;
	struct jctx c = { .diags = diags };
	struct allowlist *al;
	char *where = NULL;
	json_t *st;

	if (asprintf(&where, "%s (payload)", name) < 0)
		return NULL;
	c.name = where;
	st = load_json(where, (const char *)payload, len, "the statement",
		       diags);
	al = calloc(1, sizeof(*al));
	if (st && al) {
		parse_statement_json(&c, st, al);
		sha256_hex(payload, len, al->payload_sha256);
		al->source = strdup(name);
		if (!al->source)
			jerr(&c, "$", "out of memory");
	}
	json_decref(st);
	free(where);
	if (al && diags->errors == errors)
		return al;
	allowlist__free(al);
	return NULL;
}

/* --- envelope and bundle ----------------------------------------------- */

static const char *const envelope_fields[] = {
	"payload", "payloadType", "signatures", NULL
};
static const char *const signature_fields[] = { "sig", "keyid", NULL };
static const char *const bundle_fields[] = {
	"mediaType", "verificationMaterial", "dsseEnvelope",
	"messageSignature", NULL
};
static const char *const material_fields[] = {
	"publicKey", "x509CertificateChain", "certificate", "tlogEntries",
	"timestampVerificationData", NULL
};
static const char *const public_key_fields[] = { "hint", NULL };

static void envelope_free(struct envelope *env)
{
	free(env->payload);
	for (size_t i = 0; i < env->n_sigs; i++)
		free(env->sigs[i].sig);
	memset(env, 0, sizeof(*env));
}

static int decode_field(const struct jctx *c, json_t *obj, const char *path,
			const char *key, unsigned char **out, size_t *len)
{
	json_t *val = want(c, obj, path, key, JSON_STRING, 1);
	const char *why = NULL;
	char at[512];

	if (!val)
		return -EINVAL;
	join(at, sizeof(at), path, key);
	if (dsse__b64_decode(json_string_value(val), json_string_length(val),
			     out, len, &why)) {
		jerr(c, at, "invalid base64: %s", why);
		return -EINVAL;
	}
	return 0;
}

static void parse_signature(const struct jctx *c, json_t *s, const char *at,
			    struct envelope *env)
{
	size_t i = env->n_sigs;
	json_t *keyid;

	if (!json_is_object(s)) {
		jerr(c, at, "expected an object with 'sig', got %s",
		     json_kind(s));
		return;
	}
	only_fields(c, s, at, signature_fields);
	keyid = want(c, s, at, "keyid", JSON_STRING, 0);
	if (decode_field(c, s, at, "sig", &env->sigs[i].sig,
			 &env->sigs[i].len))
		return;
	env->sigs[i].keyid = keyid && json_string_length(keyid) ?
			     json_string_value(keyid) : NULL;
	env->n_sigs++;
}

static int parse_envelope(const struct jctx *c, json_t *obj, const char *path,
			  struct envelope *env)
{
	size_t errors = c->diags->errors, i;
	json_t *type, *sigs, *s;

	only_fields(c, obj, path, envelope_fields);
	type = want(c, obj, path, "payloadType", JSON_STRING, 1);
	sigs = want(c, obj, path, "signatures", JSON_ARRAY, 1);
	decode_field(c, obj, path, "payload", &env->payload,
		     &env->payload_len);
	if (type)
		env->payload_type = json_string_value(type);
	if (type && strcmp(env->payload_type, ATTEST_PAYLOAD_TYPE) != 0)
		jerr(c, path[0] ? "dsseEnvelope.payloadType" : "payloadType",
		     "'%s' is not %s", env->payload_type, ATTEST_PAYLOAD_TYPE);
	if (sigs && json_array_size(sigs) == 0)
		jerr(c, "signatures", "the envelope has no signatures");
	if (sigs && json_array_size(sigs) > ATTEST_MAX_SIGNATURES)
		jerr(c, "signatures", "more than %d signatures",
		     ATTEST_MAX_SIGNATURES);
	else if (sigs)
		json_array_foreach(sigs, i, s) {
			char at[512];

			pathf(at, sizeof(at), "%s%ssignatures[%zu]", path,
				 path[0] ? "." : "", i);
			parse_signature(c, s, at, env);
		}
	return c->diags->errors == errors ? 0 : -EINVAL;
}

/*
 * Sigstore bundle v0.3 with a DSSE envelope and a public key hint. Offline,
 * tlog entries and timestamps cannot be checked and add no trust, so they
 * are ignored; certificates would need Fulcio's root and are refused.
 */
static int parse_bundle(const struct jctx *c, json_t *obj,
			struct envelope *env)
{
	const char *media = json_string_value(json_object_get(obj, "mediaType"));
	json_t *mat, *dsse, *pk;

	only_fields(c, obj, "", bundle_fields);
	if (!media || (strcmp(media, ATTEST_SIGSTORE_V03) != 0 &&
		       strcmp(media, SIGSTORE_V03_LEGACY) != 0)) {
		jerr(c, "mediaType", "'%s' is not a Sigstore bundle v0.3",
		     media ? media : "(not a string)");
		return -EINVAL;
	}
	if (json_object_get(obj, "messageSignature")) {
		jerr(c, "messageSignature",
		     "a message signature carries no statement; vouch needs dsseEnvelope");
		return -EINVAL;
	}
	mat = want(c, obj, "", "verificationMaterial", JSON_OBJECT, 1);
	dsse = want(c, obj, "", "dsseEnvelope", JSON_OBJECT, 1);
	if (!mat || !dsse)
		return -EINVAL;
	only_fields(c, mat, "verificationMaterial", material_fields);
	if (json_object_get(mat, "x509CertificateChain") ||
	    json_object_get(mat, "certificate")) {
		jerr(c, "verificationMaterial",
		     "certificate (keyless) signing needs Fulcio and Rekor; vouch verifies offline against keys in the trust config only");
		return -EINVAL;
	}
	pk = want(c, mat, "verificationMaterial", "publicKey", JSON_OBJECT, 1);
	if (pk)
		only_fields(c, pk, "verificationMaterial.publicKey",
			    public_key_fields);
	if (parse_envelope(c, dsse, "dsseEnvelope", env))
		return -EINVAL;
	if (env->n_sigs != 1) {
		jerr(c, "dsseEnvelope.signatures",
		     "a Sigstore bundle holds exactly one signature, not %zu; use a DSSE envelope for several",
		     env->n_sigs);
		return -EINVAL;
	}
	if (!env->sigs[0].keyid && pk)
		env->sigs[0].keyid = json_string_value(json_object_get(pk, "hint"));
	return 0;
}

/* The parsed tree, which env borrows strings from; NULL when refused. */
static json_t *parse_container(const struct jctx *c, const char *buf,
			       size_t len, struct envelope *env)
{
	json_t *root = load_json(c->name, buf, len, "the bundle", c->diags);
	int ret = -EINVAL;

	if (!root)
		return NULL;
	if (!json_is_object(root))
		jerr(c, "$", "expected a DSSE envelope or a Sigstore bundle, got %s",
		     json_kind(root));
	else if (json_object_get(root, "mediaType"))
		ret = parse_bundle(c, root, env);
	else if (json_object_get(root, "payloadType") ||
		 json_object_get(root, "payload"))
		ret = parse_envelope(c, root, "", env);
	else
		jerr(c, "$", "neither a DSSE envelope (payloadType, payload, signatures) nor a Sigstore bundle (mediaType)");
	if (ret) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* --- signatures -------------------------------------------------------- */

/* Why k may not count now, or NULL; why holds at least 128 bytes. */
static const char *key_unusable(const struct verifier *v,
				const struct trust_key *k, char *why,
				size_t len)
{
	char when[UTC_TEXT_LEN + 8];

	if (trust__is_revoked(v->t, k->id))
		return "key revoked";
	if (v->now < k->not_before) {
		utc__format(k->not_before, when, sizeof(when));
		snprintf(why, len, "key not valid before %s", when);
		return why;
	}
	if (v->now > k->not_after) {
		utc__format(k->not_after, when, sizeof(when));
		snprintf(why, len, "key expired at %s", when);
		return why;
	}
	return NULL;
}

/* The trust key whose signature sig is over msg, the hinted one first. */
static const struct trust_key *signer_of(const struct verifier *v,
					 const char *hint,
					 const unsigned char *msg, size_t len,
					 const unsigned char *sig,
					 size_t sig_len)
{
	const struct trust_key *k = trust__find_key(v->t, hint);

	if (k && dsse__verify(k->key, msg, len, sig, sig_len))
		return k;
	for (size_t i = 0; i < v->t->n_keys; i++) {
		k = &v->t->keys[i];
		if (k->key && dsse__verify(k->key, msg, len, sig, sig_len))
			return k;
	}
	return NULL;
}

/* Why a signature that no trusted key verifies over the PAE failed. */
static void explain_failure(const struct verifier *v, const struct envelope *env,
			    size_t i, char *out, size_t len)
{
	const char *hint = env->sigs[i].keyid;
	const struct trust_key *k;

	k = signer_of(v, hint, env->payload, env->payload_len,
		      env->sigs[i].sig, env->sigs[i].len);
	if (k)
		snprintf(out, len,
			 "signature %zu by key %.*s: signed over the raw payload, not the DSSE PAE",
			 i, SHORT_ID, k->id);
	else if (hint && trust__is_revoked(v->t, hint))
		snprintf(out, len, "signature %zu by key %.*s: key revoked", i,
			 SHORT_ID, hint);
	else if (hint && trust__find_key(v->t, hint))
		snprintf(out, len,
			 "signature %zu by key %.*s: does not verify (payload or payloadType changed after signing)",
			 i, SHORT_ID, hint);
	else if (hint)
		snprintf(out, len,
			 "signature %zu by key %.*s: key not in the trust config",
			 i, SHORT_ID, hint);
	else
		snprintf(out, len,
			 "signature %zu: no key in the trust config verifies it",
			 i);
}

/*
 * Counts distinct usable keys with a valid signature over the PAE; every
 * signature that does not count gets its reason in reasons[i].
 */
static size_t count_signers(const struct verifier *v, const struct envelope *env,
			    const unsigned char *pae, size_t pae_len,
			    const struct trust_key **signers,
			    char reasons[][256])
{
	char why[160];
	size_t n = 0;

	for (size_t i = 0; i < env->n_sigs; i++) {
		const unsigned char *sig = env->sigs[i].sig;
		size_t len = env->sigs[i].len;
		const char *hint = env->sigs[i].keyid, *problem;
		const struct trust_key *k;
		size_t j;

		reasons[i][0] = '\0';
		problem = dsse__sig_der_problem(sig, len);
		if (problem) {
			snprintf(reasons[i], 256, "signature %zu%s%.*s: %s", i,
				 hint ? " by key " : "", SHORT_ID,
				 hint ? hint : "", problem);
			continue;
		}
		k = signer_of(v, hint, pae, pae_len, sig, len);
		if (!k) {
			explain_failure(v, env, i, reasons[i], 256);
			continue;
		}
		problem = key_unusable(v, k, why, sizeof(why));
		if (problem) {
			snprintf(reasons[i], 256, "signature %zu by key %.*s: %s",
				 i, SHORT_ID, k->id, problem);
			continue;
		}
		for (j = 0; j < n && signers[j] != k; j++)
			;
		if (j == n)
			signers[n++] = k;
		else
			snprintf(reasons[i], 256,
				 "signature %zu by key %.*s: the same key again; it counts once",
				 i, SHORT_ID, k->id);
	}
	return n;
}

static int check_signatures(const struct verifier *v, const struct envelope *env,
			    struct allowlist *al)
{
	const struct trust_key *signers[ATTEST_MAX_SIGNATURES];
	char reasons[ATTEST_MAX_SIGNATURES][256];
	unsigned char *pae;
	size_t pae_len, n;
	int met;

	pae = dsse__pae(env->payload_type, strlen(env->payload_type),
			env->payload, env->payload_len, &pae_len);
	if (!pae) {
		verr(v, "out of memory");
		return -ENOMEM;
	}
	n = count_signers(v, env, pae, pae_len, signers, reasons);
	free(pae);
	met = n >= v->t->threshold;
	for (size_t i = 0; i < env->n_sigs; i++)
		if (reasons[i][0])
			diags__add(v->diags, met ? DIAG_WARNING : DIAG_ERROR,
				   v->name, 0, 0, "%s", reasons[i]);
	if (!met) {
		verr(v, "%zu valid signature(s) by distinct trusted keys; the trust config requires %u",
		     n, v->t->threshold);
		return -EPERM;
	}
	al->key_ids = calloc(n, sizeof(char *));
	for (size_t i = 0; al->key_ids && i < n; i++) {
		al->key_ids[i] = strdup(signers[i]->id);
		if (al->key_ids[i])
			al->n_key_ids++;
	}
	if (al->n_key_ids != n) {
		verr(v, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* --- freshness --------------------------------------------------------- */

static void check_freshness(const struct verifier *v, const struct allowlist *al,
			    const struct attest_state *st)
{
	char a[UTC_TEXT_LEN + 8], b[UTC_TEXT_LEN + 8];

	if (strcmp(al->scope, v->t->scope) != 0)
		verr(v, "scope '%s' is not this node's scope '%s'", al->scope,
		     v->t->scope);
	utc__format(al->expires, a, sizeof(a));
	utc__format(al->issued, b, sizeof(b));
	if (al->expires <= v->now)
		verr(v, "the allow-list expired at %s", a);
	if (al->expires <= al->issued)
		verr(v, "expires (%s) is not after issued (%s)", a, b);
	else if (al->expires - al->issued > v->t->max_validity)
		verr(v, "valid for %lld s (issued %s, expires %s), longer than the trust config's max_validity of %lld s",
		     (long long)(al->expires - al->issued), b, a,
		     (long long)v->t->max_validity);
	if (al->issued > v->now + ATTEST_CLOCK_SKEW)
		verr(v, "issued %s, more than %d s ahead of this node's clock",
		     b, ATTEST_CLOCK_SKEW);
	if (al->serial < v->t->min_serial)
		verr(v, "serial %llu is below the trust config's min_serial %llu",
		     (unsigned long long)al->serial,
		     (unsigned long long)v->t->min_serial);
	if (!st || !st->have)
		return;
	if (al->serial < st->serial)
		verr(v, "serial %llu is not above the last accepted %llu",
		     (unsigned long long)al->serial,
		     (unsigned long long)st->serial);
	else if (al->serial == st->serial &&
		 strcmp(al->payload_sha256, st->payload_sha256) != 0)
		verr(v, "serial %llu was already accepted with other content (statement sha256 %.16s, now %.16s): refused as tampering",
		     (unsigned long long)al->serial, st->payload_sha256,
		     al->payload_sha256);
}

/* --- files ------------------------------------------------------------- */

/* A bundle is read only from a regular file that only its owner (and
 * group) may change, and that is not a symlink an attacker could swap. */
static char *read_bundle(const char *path, size_t *len, struct diags *diags)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK);
	if (fd < 0) {
		diags__add(diags, DIAG_ERROR, path, 0, 0, "%s",
			   errno == ELOOP ? "is a symbolic link; bundles are read only from regular files"
					  : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		diags__add(diags, DIAG_ERROR, path, 0, 0, "not a regular file");
	else if (st.st_mode & S_IWOTH)
		diags__add(diags, DIAG_ERROR, path, 0, 0,
			   "is writable by everyone; refusing it");
	else if (st.st_size > ATTEST_MAX_FILE_BYTES)
		diags__add(diags, DIAG_ERROR, path, 0, 0,
			   "is %lld bytes; the limit is %u",
			   (long long)st.st_size, ATTEST_MAX_FILE_BYTES);
	else
		buf = malloc(ATTEST_MAX_FILE_BYTES + 1);
	if (buf) {
		/* Read one byte past the limit: the file may grow after
		 * fstat, and a short first read is not the end either. */
		size_t got = 0;

		while ((n = read(fd, buf + got, ATTEST_MAX_FILE_BYTES + 1 - got)) > 0)
			got += (size_t)n;
		if (n < 0 || got > ATTEST_MAX_FILE_BYTES) {
			diags__add(diags, DIAG_ERROR, path, 0, 0, "%s",
				   n < 0 ? strerror(errno) : "grew past the size limit while read");
			free(buf);
			buf = NULL;
		}
		*len = got;
	}
	close(fd);
	return buf;
}

struct allowlist *attest__verify_buffer(const struct trust *t,
					const char *name, const char *buf,
					size_t len,
					const struct attest_state *st,
					int64_t now, struct diags *diags)
{
	struct verifier v = { .t = t, .name = name, .diags = diags, .now = now };
	struct jctx c = { .name = name, .diags = diags };
	size_t errors = diags->errors;
	struct envelope env = { 0 };
	struct allowlist *al = NULL, *signed_by = NULL;
	json_t *root;

	if (len > ATTEST_MAX_FILE_BYTES) {
		verr(&v, "the bundle is %zu bytes; the limit is %u", len,
		     ATTEST_MAX_FILE_BYTES);
		return NULL;
	}
	root = parse_container(&c, buf, len, &env);
	if (!root)
		goto out;
	signed_by = calloc(1, sizeof(*signed_by));
	if (!signed_by || check_signatures(&v, &env, signed_by))
		goto out;
	/* Only signed bytes are parsed, and only once signed. */
	al = attest__parse_statement(name, env.payload, env.payload_len, diags);
	if (!al)
		goto out;
	al->key_ids = signed_by->key_ids;
	al->n_key_ids = signed_by->n_key_ids;
	signed_by->key_ids = NULL;
	signed_by->n_key_ids = 0;
	al->attested = 1;
	check_freshness(&v, al, st);
out:
	allowlist__free(signed_by);
	json_decref(root);
	envelope_free(&env);
	if (al && diags->errors == errors)
		return al;
	allowlist__free(al);
	return NULL;
}

struct allowlist *attest__verify_file(const struct trust *t,
				      const char *path,
				      const struct attest_state *st,
				      int64_t now, struct diags *diags)
{
	struct allowlist *al;
	size_t len = 0;
	char *buf;

	buf = read_bundle(path, &len, diags);
	if (!buf)
		return NULL;
	al = attest__verify_buffer(t, path, buf, len, st, now, diags);
	free(buf);
	return al;
}

/* --- replay state ------------------------------------------------------ */

static char *state_path(const char *dir, const char *scope, const char *sfx)
{
	char *path = NULL;

	if (!trust__scope_ok(scope))
		return NULL;
	if (asprintf(&path, "%s/allowlist-%s.state%s", dir, scope, sfx) < 0)
		return NULL;
	return path;
}

static const char *const state_fields[] = {
	"scope", "serial", "payload_sha256", NULL
};

int attest__load_state(const char *dir, const char *scope,
		       struct attest_state *st, struct diags *diags)
{
	char *path = state_path(dir, scope, "");
	struct jctx c = { .name = path, .diags = diags };
	size_t errors = diags->errors;
	const char *sha, *sc;
	json_error_t e;
	json_t *j, *serial;

	memset(st, 0, sizeof(*st));
	if (!path)
		return -ENOMEM;
	j = json_load_file(path, JSON_FLAGS, &e);
	if (!j && access(path, F_OK) != 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	if (!j) {
		diags__add(diags, DIAG_ERROR, path, e.line, e.column,
			   "damaged replay state: %s", e.text);
		free(path);
		return -EINVAL;
	}
	only_fields(&c, j, "", state_fields);
	sc = want_text(&c, j, "", "scope", TRUST_SCOPE_MAX, 1);
	serial = want(&c, j, "", "serial", JSON_INTEGER, 1);
	sha = want_text(&c, j, "", "payload_sha256", 64, 1);
	if (sc && strcmp(sc, scope) != 0)
		jerr(&c, "scope", "the state is for scope '%s'", sc);
	if (sha && !hex64_ok(sha))
		jerr(&c, "payload_sha256", "not 64 lower-case hex digits");
	if (serial && json_integer_value(serial) < 1)
		jerr(&c, "serial", "must be a positive integer");
	if (diags->errors == errors) {
		st->have = 1;
		st->serial = (uint64_t)json_integer_value(serial);
		memcpy(st->payload_sha256, sha, 65);
	}
	json_decref(j);
	free(path);
	return st->have ? 0 : -EINVAL;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes the file beside its final name, then renames it into place: a
 * crash leaves the old state or the new one, never half of either. */
int attest__commit_state(const char *dir, const struct allowlist *al)
{
	char *path = state_path(dir, al->scope, "");
	char *tmp = state_path(dir, al->scope, ".tmp");
	char *text = NULL;
	int fd = -1, dfd = -1, err = 0;

	if (!path || !tmp || asprintf(&text,
	    "{\"scope\": \"%s\", \"serial\": %llu, \"payload_sha256\": \"%s\"}\n",
	    al->scope, (unsigned long long)al->serial, al->payload_sha256) < 0) {
		err = -ENOMEM;
		text = NULL;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, text, strlen(text));
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		err = -errno;
	if (dfd >= 0)
		close(dfd);
out:
	free(text);
	free(tmp);
	free(path);
	return err;
}
