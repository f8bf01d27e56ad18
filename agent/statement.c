// SPDX-License-Identifier: GPL-2.0-only
/*
 * The statement inside an attested bundle: an in-toto Statement v1 whose
 * predicate (https://vouch.dev/allowlist/v1) is checked against a schema
 * that refuses every field it does not know, since ignoring a restriction
 * would widen what is allowed. The result is struct allowlist.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "vouch_abi.h"
#include "attest.h"
#include "jcheck.h"
#include "utc.h"

#define TEXT_MAX		253
#define REPO_MAX		2048
#define COMMIT_MAX		128

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

static int parse_port_item(const struct jcheck *c, json_t *item,
			   const char *at, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	size_t d1, d2;
	const char *s;

	if (json_is_integer(item)) {
		json_int_t p = json_integer_value(item);

		if (p < 1 || p > 65535)
			goto bad;
		*lo = *hi = (uint16_t)p;
		return 0;
	}
	if (!json_is_string(item))
		goto bad;
	/* exactly DIGITS-DIGITS: strtoul alone would take spaces and signs */
	s = json_string_value(item);
	d1 = strspn(s, "0123456789");
	d2 = d1 < 6 && s[d1] == '-' ? strspn(s + d1 + 1, "0123456789") : 0;
	if (d1 == 0 || d2 == 0 || d2 > 5 || s[d1 + 1 + d2])
		goto bad;
	a = strtoul(s, NULL, 10);
	b = strtoul(s + d1 + 1, NULL, 10);
	if (a < 1 || b > 65535 || a > b)
		goto bad;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
bad:
	jcheck__err(c, at, "expected a port (1..65535) or a range \"LOW-HIGH\"");
	return -1;
}

static int parse_protocol(const struct jcheck *c, json_t *rule,
			  const char *path, uint8_t *out)
{
	const char *p = jcheck__text(c, rule, path, "protocol", 8, 0);
	char at[512];

	*out = ALLOWLIST_PROTO_ANY;
	if (!p)
		return json_object_get(rule, "protocol") ? -1 : 0;
	if (strcmp(p, "tcp") == 0)
		*out = ALLOWLIST_PROTO_TCP;
	else if (strcmp(p, "udp") == 0)
		*out = ALLOWLIST_PROTO_UDP;
	else if (strcmp(p, "any") != 0) {
		jcheck__join(at, sizeof(at), path, "protocol");
		jcheck__err(c, at, "expected tcp, udp or any, got '%s'", p);
		return -1;
	}
	return 0;
}

static const char *const egress_rule_fields[] = {
	"cidr", "ports", "protocol", NULL
};

/* One rule becomes one entry per port item, all sharing the range. */
static void parse_egress_rule(const struct jcheck *c, json_t *rule,
			      const char *path, struct allowlist_egress *out,
			      size_t *n, size_t cap)
{
	struct allowlist_egress e = { .port_lo = 0, .port_hi = 65535 };
	const char *cidr, *why;
	json_t *ports, *item;
	char at[512];
	size_t i;

	if (!json_is_object(rule)) {
		jcheck__err(c, path, "expected an object with 'cidr', got %s",
			    jcheck__kind(rule));
		return;
	}
	jcheck__only(c, rule, path, egress_rule_fields);
	cidr = jcheck__text(c, rule, path, "cidr", INET6_ADDRSTRLEN + 4, 1);
	if (parse_protocol(c, rule, path, &e.protocol) || !cidr)
		return;
	why = attest__parse_cidr(cidr, e.addr, &e.prefix_len);
	jcheck__join(at, sizeof(at), path, "cidr");
	if (why) {
		jcheck__err(c, at, "'%s': %s", cidr, why);
		return;
	}
	ports = jcheck__want(c, rule, path, "ports", JSON_ARRAY, 0);
	if (!ports) {
		if (!json_object_get(rule, "ports") && *n < cap)
			out[(*n)++] = e;
		return;
	}
	jcheck__join(at, sizeof(at), path, "ports");
	if (json_array_size(ports) == 0)
		jcheck__err(c, at, "empty; leave 'ports' out to allow every port");
	json_array_foreach(ports, i, item) {
		char iat[540];

		jcheck__path(iat, sizeof(iat), "%s[%zu]", at, i);
		if (parse_port_item(c, item, iat, &e.port_lo, &e.port_hi))
			continue;
		if (*n >= cap) {
			jcheck__err(c, iat, "more than %d egress entries",
				    ATTEST_MAX_ENTRIES);
			return;
		}
		out[(*n)++] = e;
	}
}

static void parse_egress_list(const struct jcheck *c, json_t *list,
			      const char *path, struct allowlist_egress **out,
			      size_t *n)
{
	size_t i, cap = 0;
	json_t *rule;

	/* One entry per port item, or one for a rule without ports. */
	json_array_foreach(list, i, rule) {
		json_t *ports = json_object_get(rule, "ports");

		cap += json_array_size(ports) ? json_array_size(ports) : 1;
	}
	if (cap > ATTEST_MAX_ENTRIES) {
		jcheck__err(c, path, "more than %d entries, counting each port item",
			    ATTEST_MAX_ENTRIES);
		return;
	}
	*out = calloc(cap + 1, sizeof(**out));
	if (!*out) {
		jcheck__err(c, path, "out of memory");
		return;
	}
	json_array_foreach(list, i, rule) {
		char at[512];

		jcheck__path(at, sizeof(at), "%s[%zu]", path, i);
		parse_egress_rule(c, rule, at, *out, n, cap);
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
	if (!jcheck__text_ok(p))
		return "contains a control character";
	if (strstr(p, "//"))
		return "contains '//'";
	if (has_dot_component(p))
		return "has a '.' or '..' component";
	return NULL;
}

static const char *const exec_entry_fields[] = { "path", "sha256", NULL };

static void parse_exec_entry(const struct jcheck *c, json_t *item,
			     const char *at, struct allowlist_exec *e)
{
	const char *path = NULL, *sha = NULL, *why;

	if (json_is_string(item)) {
		path = json_string_value(item);
	} else if (json_is_object(item)) {
		jcheck__only(c, item, at, exec_entry_fields);
		path = jcheck__text(c, item, at, "path", VOUCH_PATH_MATCH_MAX, 1);
		sha = jcheck__text(c, item, at, "sha256", 64, 0);
		if (!path)
			return;
	} else {
		jcheck__err(c, at, "expected a path or {path, sha256}, got %s",
			    jcheck__kind(item));
		return;
	}
	why = path_problem(path);
	if (why) {
		jcheck__err(c, at, "'%s': %s", path, why);
		return;
	}
	if (sha && (!jcheck__hex64_ok(sha) || path[strlen(path) - 1] == '/')) {
		jcheck__err(c, at, "sha256 must be 64 lower-case hex digits, on a file path");
		return;
	}
	e->path = strdup(path);
	if (!e->path) {
		jcheck__err(c, at, "out of memory");
		return;
	}
	for (int i = 0; sha && i < 32; i++) {
		unsigned int byte;

		sscanf(sha + 2 * i, "%2x", &byte);
		e->sha256[i] = (uint8_t)byte;
	}
	e->has_sha256 = sha != NULL;
}

static void parse_exec_list(const struct jcheck *c, json_t *list,
			    const char *path, struct allowlist_exec **out,
			    size_t *n)
{
	json_t *item;
	size_t i;

	if (json_array_size(list) > ATTEST_MAX_ENTRIES) {
		jcheck__err(c, path, "more than %d entries", ATTEST_MAX_ENTRIES);
		return;
	}
	*out = calloc(json_array_size(list) + 1, sizeof(**out));
	if (!*out) {
		jcheck__err(c, path, "out of memory");
		return;
	}
	json_array_foreach(list, i, item) {
		char at[512];

		jcheck__path(at, sizeof(at), "%s[%zu]", path, i);
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

static char *dup_text(const struct jcheck *c, json_t *obj, const char *path,
		      const char *key, size_t max, int required)
{
	const char *s = jcheck__text(c, obj, path, key, max, required);
	char *copy;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		jcheck__err(c, path, "out of memory");
	return copy;
}

static void parse_source(const struct jcheck *c, json_t *img, const char *path,
			 struct allowlist_image *out)
{
	json_t *src = jcheck__want(c, img, path, "source", JSON_OBJECT, 0);
	char at[512];

	if (!src)
		return;
	jcheck__join(at, sizeof(at), path, "source");
	jcheck__only(c, src, at, source_fields);
	out->source_repo = dup_text(c, src, at, "repo", REPO_MAX, 1);
	out->source_commit = dup_text(c, src, at, "commit", COMMIT_MAX, 1);
}

static void parse_exec(const struct jcheck *c, json_t *img, const char *path,
		       struct allowlist_image *out)
{
	json_t *exec = jcheck__want(c, img, path, "exec", JSON_OBJECT, 1);
	json_t *allow, *deny;
	char at[512], lat[540];

	if (!exec)
		return;
	jcheck__join(at, sizeof(at), path, "exec");
	jcheck__only(c, exec, at, exec_fields);
	allow = jcheck__want(c, exec, at, "allow", JSON_ARRAY, 1);
	deny = jcheck__want(c, exec, at, "deny", JSON_ARRAY, 0);
	jcheck__join(lat, sizeof(lat), at, "allow");
	if (allow && json_array_size(allow) == 0)
		jcheck__err(c, lat, "empty: an image must be allowed to run something");
	if (allow)
		parse_exec_list(c, allow, lat, &out->exec_allow,
				&out->n_exec_allow);
	jcheck__join(lat, sizeof(lat), at, "deny");
	if (deny)
		parse_exec_list(c, deny, lat, &out->exec_deny,
				&out->n_exec_deny);
}

static void parse_egress(const struct jcheck *c, json_t *img, const char *path,
			 struct allowlist_image *out)
{
	json_t *egress = jcheck__want(c, img, path, "egress", JSON_OBJECT, 1);
	json_t *allow, *deny;
	char at[512], lat[540];

	out->egress_declared = egress != NULL;
	if (!egress)
		return;
	jcheck__join(at, sizeof(at), path, "egress");
	jcheck__only(c, egress, at, egress_fields);
	allow = jcheck__want(c, egress, at, "allow", JSON_ARRAY, 1);
	deny = jcheck__want(c, egress, at, "deny", JSON_ARRAY, 0);
	jcheck__join(lat, sizeof(lat), at, "allow");
	if (allow)
		parse_egress_list(c, allow, lat, &out->egress_allow,
				  &out->n_egress_allow);
	jcheck__join(lat, sizeof(lat), at, "deny");
	if (deny)
		parse_egress_list(c, deny, lat, &out->egress_deny,
				  &out->n_egress_deny);
}

static void parse_image(const struct jcheck *c, const char *digest, json_t *img,
			const char *path, struct allowlist_image *out)
{
	snprintf(out->digest, sizeof(out->digest), "%s", digest);
	if (!json_is_object(img)) {
		jcheck__err(c, path, "expected an object, got %s", jcheck__kind(img));
		return;
	}
	jcheck__only(c, img, path, image_fields);
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

static void parse_images(const struct jcheck *c, json_t *images,
			 struct allowlist *al)
{
	const char *digest;
	json_t *img;
	size_t n = json_object_size(images);

	if (n == 0 || n > ATTEST_MAX_IMAGES) {
		jcheck__err(c, "predicate.images", "must hold 1 to %d images",
			    ATTEST_MAX_IMAGES);
		return;
	}
	al->images = calloc(n, sizeof(*al->images));
	if (!al->images) {
		jcheck__err(c, "predicate.images", "out of memory");
		return;
	}
	json_object_foreach(images, digest, img) {
		char at[512];

		jcheck__path(at, sizeof(at), "predicate.images[\"%.80s\"]", digest);
		if (!allowlist__valid_digest(digest)) {
			jcheck__err(c, at, "key must be \"sha256:\" and 64 lower-case hex digits");
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

static void parse_time_field(const struct jcheck *c, json_t *pred,
			     const char *key, int64_t *out)
{
	const char *s = jcheck__text(c, pred, "predicate", key, 32, 1);
	char at[64];

	if (!s)
		return;
	jcheck__path(at, sizeof(at), "predicate.%s", key);
	if (utc__parse(s, strlen(s), out))
		jcheck__err(c, at, "expected a UTC time such as 2027-01-31T00:00:00Z, got '%s'",
			    s);
}

static void parse_predicate(const struct jcheck *c, json_t *pred,
			    struct allowlist *al)
{
	json_t *serial, *images;
	const char *scope;

	jcheck__only(c, pred, "predicate", predicate_fields);
	serial = jcheck__want(c, pred, "predicate", "serial", JSON_INTEGER, 1);
	if (serial && json_integer_value(serial) < 1)
		jcheck__err(c, "predicate.serial", "must be a positive integer");
	else if (serial)
		al->serial = (uint64_t)json_integer_value(serial);
	parse_time_field(c, pred, "issued", &al->issued);
	parse_time_field(c, pred, "expires", &al->expires);
	scope = jcheck__text(c, pred, "predicate", "scope", TRUST_SCOPE_MAX, 1);
	if (scope && !trust__scope_ok(scope))
		jcheck__err(c, "predicate.scope", "'%s' is not a valid scope name",
			    scope);
	else if (scope && !(al->scope = strdup(scope)))
		jcheck__err(c, "predicate.scope", "out of memory");
	images = jcheck__want(c, pred, "predicate", "images", JSON_OBJECT, 1);
	if (images)
		parse_images(c, images, al);
}

/* Each subject's sha256 as "sha256:HEX" into a new object used as a set. */
static json_t *parse_subjects(const struct jcheck *c, json_t *subjects)
{
	json_t *set = json_object(), *s;
	size_t i;

	if (!set || json_array_size(subjects) == 0) {
		jcheck__err(c, "subject", "must list at least one image digest");
		return set;
	}
	json_array_foreach(subjects, i, s) {
		char at[64], key[80];
		const char *hex;
		json_t *digest;

		jcheck__path(at, sizeof(at), "subject[%zu]", i);
		if (!json_is_object(s)) {
			jcheck__err(c, at, "expected an object, got %s", jcheck__kind(s));
			continue;
		}
		jcheck__only(c, s, at, subject_fields);
		jcheck__text(c, s, at, "name", REPO_MAX, 0);
		digest = jcheck__want(c, s, at, "digest", JSON_OBJECT, 1);
		if (!digest)
			continue;
		strcat(at, ".digest");
		jcheck__only(c, digest, at, digest_fields);
		hex = jcheck__text(c, digest, at, "sha256", 64, 1);
		if (hex && !jcheck__hex64_ok(hex)) {
			jcheck__err(c, at, "sha256 must be 64 lower-case hex digits");
			continue;
		}
		if (!hex)
			continue;
		snprintf(key, sizeof(key), "sha256:%s", hex);
		if (json_object_get(set, key))
			jcheck__err(c, at, "digest %s is listed twice", key);
		json_object_set_new(set, key, json_true());
	}
	return set;
}

/* Subjects and images name the same digests, both ways. */
static void match_subjects(const struct jcheck *c, json_t *set,
			   const struct allowlist *al)
{
	const char *key;
	json_t *val;

	for (size_t i = 0; i < al->n_images; i++)
		if (!json_object_get(set, al->images[i].digest))
			jcheck__err(c, "predicate.images",
				    "%s has an entry but is not a subject of the statement",
				    al->images[i].digest);
	json_object_foreach(set, key, val)
		if (!allowlist__find(al, key))
			jcheck__err(c, "subject",
				    "%s is a subject but has no entry in predicate.images",
				    key);
}

static void parse_statement_json(const struct jcheck *c, json_t *st,
				 struct allowlist *al)
{
	const char *type, *ptype;
	json_t *subjects, *pred, *set = NULL;

	if (!json_is_object(st)) {
		jcheck__err(c, "$", "the statement is %s, not an object", jcheck__kind(st));
		return;
	}
	jcheck__only(c, st, "", statement_fields);
	type = jcheck__text(c, st, "", "_type", 256, 1);
	if (type && strcmp(type, ATTEST_STATEMENT_TYPE) != 0)
		jcheck__err(c, "_type", "'%s' is not %s", type, ATTEST_STATEMENT_TYPE);
	ptype = jcheck__text(c, st, "", "predicateType", 256, 1);
	if (ptype && strcmp(ptype, ATTEST_PREDICATE_TYPE) != 0)
		jcheck__err(c, "predicateType", "'%s' is not %s", ptype,
			    ATTEST_PREDICATE_TYPE);
	subjects = jcheck__want(c, st, "", "subject", JSON_ARRAY, 1);
	pred = jcheck__want(c, st, "", "predicate", JSON_OBJECT, 1);
	if (subjects)
		set = parse_subjects(c, subjects);
	if (pred)
		parse_predicate(c, pred, al);
	if (set && pred)
		match_subjects(c, set, al);
	json_decref(set);
}

struct allowlist *attest__parse_statement(const char *name,
					  const unsigned char *payload,
					  size_t len, struct diags *diags)
{
	size_t errors = diags->errors;
	struct jcheck c = { .diags = diags };
	struct allowlist *al;
	char *where = NULL;
	json_t *st;

	if (asprintf(&where, "%s (payload)", name) < 0)
		return NULL;
	c.name = where;
	st = jcheck__load(where, (const char *)payload, len, "the statement",
			  diags);
	al = calloc(1, sizeof(*al));
	if (st && al) {
		parse_statement_json(&c, st, al);
		sha256_hex(payload, len, al->payload_sha256);
		al->source = strdup(name);
		if (!al->source)
			jcheck__err(&c, "$", "out of memory");
	}
	json_decref(st);
	free(where);
	if (al && diags->errors == errors)
		return al;
	allowlist__free(al);
	return NULL;
}
