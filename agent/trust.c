// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trust config, read as strictly as rules: every error is collected
 * with its file:line:column, and a trust set is returned only whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fspath.h"
#include "trust.h"
#include "utc.h"
#include "yamltree.h"

#define TRUST_NAME_MAX		128
#define TRUST_KEY_FILE_MAX	16384

static const char *const top_keys[] = {
	"version", "scope", "threshold", "min_serial", "max_validity", "keys",
	"revoked", NULL
};
static const char *const key_keys[] = {
	"id", "name", "pem", "file", "not_before", "not_after", NULL
};

struct trust_loader {
	const struct ydoc *doc;
	struct diags *diags;
	struct trust *t;
	char *dir;
};

static void err(struct trust_loader *ld, const struct ynode *node,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err(struct trust_loader *ld, const struct ynode *node,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree__verror(ld->doc, ld->diags, node, fmt, ap);
	va_end(ap);
}

int trust__scope_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > TRUST_SCOPE_MAX)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-", *s))
			return 0;
	return 1;
}

static int key_id_ok(const char *s)
{
	return strlen(s) == DSSE_KEY_ID_LEN &&
	       strspn(s, "0123456789abcdef") == DSSE_KEY_ID_LEN;
}

static const char *scalar(struct trust_loader *ld, const struct ynode *node,
			  const char *what)
{
	if (node->type != YNODE_SCALAR || node->len == 0) {
		err(ld, node, "expected %s, got %s", what,
		    ytree__describe(node));
		return NULL;
	}
	return node->value;
}

static void parse_version(struct trust_loader *ld, const struct ynode *root)
{
	const struct ynode *node = ytree__get(root, "version");

	if (!node)
		err(ld, root, "missing required key 'version' (use version: 1)");
	else if (node->type != YNODE_SCALAR || node->quoted ||
		 strcmp(node->value, "1") != 0)
		err(ld, node, "unsupported version; this vouch reads version 1");
}

static void parse_scope(struct trust_loader *ld, const struct ynode *root)
{
	const struct ynode *node = ytree__get(root, "scope");
	const char *v;

	if (!node) {
		err(ld, root, "missing required key 'scope'");
		return;
	}
	v = scalar(ld, node, "a scope name");
	if (!v)
		return;
	if (!trust__scope_ok(v)) {
		err(ld, node,
		    "invalid scope '%s': use 1 to %d of A-Z a-z 0-9 _ . -", v,
		    TRUST_SCOPE_MAX);
		return;
	}
	ld->t->scope = strdup(v);
	if (!ld->t->scope)
		err(ld, node, "out of memory");
}

/* An unquoted whole number in [min, max]. */
static int parse_uint(struct trust_loader *ld, const struct ynode *node,
		      const char *key, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (node->type != YNODE_SCALAR || node->quoted || node->len == 0 ||
	    node->len > 19 ||
	    strspn(node->value, "0123456789") != node->len) {
		err(ld, node, "expected a number (%llu..%llu) for '%s'", min,
		    max, key);
		return -1;
	}
	errno = 0;
	v = strtoull(node->value, &end, 10);
	if (errno || v < min || v > max) {
		err(ld, node, "'%s' is %s; it must be between %llu and %llu",
		    key, node->value, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void parse_numbers(struct trust_loader *ld, const struct ynode *root)
{
	const struct ynode *node;
	unsigned long long v;
	int64_t d;

	node = ytree__get(root, "threshold");
	if (node && !parse_uint(ld, node, "threshold", 1, TRUST_MAX_KEYS, &v))
		ld->t->threshold = (unsigned int)v;
	node = ytree__get(root, "min_serial");
	if (node && !parse_uint(ld, node, "min_serial", 1, INT64_MAX, &v))
		ld->t->min_serial = v;
	node = ytree__get(root, "max_validity");
	if (!node || !scalar(ld, node, "a duration such as 7d"))
		return;
	if (utc__parse_duration(node->value, &d))
		err(ld, node,
		    "invalid duration '%s'; use a number with s, m, h or d, such as 7d",
		    node->value);
	else
		ld->t->max_validity = d;
}

static void parse_time(struct trust_loader *ld, const struct ynode *node,
		       int64_t *out)
{
	int ret;

	if (!scalar(ld, node, "a UTC time such as 2027-01-31T00:00:00Z"))
		return;
	ret = utc__parse(node->value, node->len, out);
	if (ret == -ERANGE)
		err(ld, node, "'%s' is not a valid date and time", node->value);
	else if (ret)
		err(ld, node,
		    "expected a UTC time such as 2027-01-31T00:00:00Z, got '%s'",
		    node->value);
}

/* A key file: regular, not writable by everyone, small. */
static char *read_key_file(struct trust_loader *ld, const struct ynode *node,
			   const char *path, size_t *len)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err(ld, node, "cannot open key file '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		err(ld, node, "key file '%s' is not a regular file", path);
	else if (st.st_mode & S_IWOTH)
		err(ld, node, "key file '%s' is writable by everyone", path);
	else if (st.st_size > TRUST_KEY_FILE_MAX)
		err(ld, node, "key file '%s' is over %d bytes", path,
		    TRUST_KEY_FILE_MAX);
	else
		buf = malloc(TRUST_KEY_FILE_MAX + 1);
	if (buf) {
		n = read(fd, buf, TRUST_KEY_FILE_MAX);
		if (n < 0) {
			err(ld, node, "cannot read key file '%s': %s", path,
			    strerror(errno));
			free(buf);
			buf = NULL;
		} else {
			*len = (size_t)n;
		}
	}
	close(fd);
	return buf;
}

static EVP_PKEY *load_key(struct trust_loader *ld, const struct ynode *map)
{
	const struct ynode *pem = ytree__get(map, "pem");
	const struct ynode *file = ytree__get(map, "file");
	const struct ynode *at = pem ? pem : file;
	const char *why = NULL;
	char *path = NULL, *text = NULL;
	size_t len = 0;
	EVP_PKEY *key;

	if (!pem == !file) {
		err(ld, map, "a key needs exactly one of 'pem' or 'file'");
		return NULL;
	}
	if (!scalar(ld, at, pem ? "PEM text" : "a path"))
		return NULL;
	if (pem) {
		key = dsse__public_key_from_pem(pem->value, pem->len, &why);
		if (!key)
			err(ld, pem, "invalid key: %s", why);
		return key;
	}
	if (file->value[0] == '/')
		path = strdup(file->value);
	else if (asprintf(&path, "%s/%s", ld->dir, file->value) < 0)
		path = NULL;
	if (path)
		text = read_key_file(ld, file, path, &len);
	key = text ? dsse__public_key_from_pem(text, len, &why) : NULL;
	if (text && !key)
		err(ld, file, "invalid key in '%s': %s", path, why);
	free(text);
	free(path);
	return key;
}

static void check_stated_id(struct trust_loader *ld, const struct ynode *map,
			    const struct trust_key *k)
{
	const struct ynode *id = ytree__get(map, "id");

	if (!id || !scalar(ld, id, "a key id (64 hex digits)"))
		return;
	if (!key_id_ok(id->value))
		err(ld, id,
		    "key id must be 64 lower-case hex digits (sha256 of the DER public key)");
	else if (strcmp(id->value, k->id) != 0)
		err(ld, id, "stated key id %s does not match the key, whose id is %s",
		    id->value, k->id);
}

static void parse_key(struct trust_loader *ld, const struct ynode *map,
		      struct trust_key *k)
{
	const struct ynode *node;

	k->not_before = INT64_MIN;
	k->not_after = INT64_MAX;
	if (map->type != YNODE_MAPPING) {
		err(ld, map, "expected a key mapping with 'pem' or 'file', got %s",
		    ytree__describe(map));
		return;
	}
	ytree__check_keys(ld->doc, map, key_keys, "a key", ld->diags);
	node = ytree__get(map, "name");
	if (node && scalar(ld, node, "a name")) {
		if (node->len > TRUST_NAME_MAX)
			err(ld, node, "name is over %d bytes", TRUST_NAME_MAX);
		else if (!(k->name = strdup(node->value)))
			err(ld, node, "out of memory");
	}
	node = ytree__get(map, "not_before");
	if (node)
		parse_time(ld, node, &k->not_before);
	node = ytree__get(map, "not_after");
	if (node)
		parse_time(ld, node, &k->not_after);
	if (k->not_after <= k->not_before)
		err(ld, map, "the key's not_after is not after its not_before");
	k->key = load_key(ld, map);
	if (!k->key)
		return;
	if (dsse__key_id(k->key, k->id)) {
		err(ld, map, "cannot compute the key id");
		return;
	}
	check_stated_id(ld, map, k);
	for (struct trust_key *o = ld->t->keys; o < k; o++)
		if (strcmp(o->id, k->id) == 0)
			err(ld, map, "key %s is listed twice", k->id);
}

static void parse_keys(struct trust_loader *ld, const struct ynode *root)
{
	const struct ynode *node = ytree__get(root, "keys");

	if (!node) {
		err(ld, root, "missing required key 'keys'");
		return;
	}
	if (node->type != YNODE_SEQUENCE || node->n_kids == 0 ||
	    node->n_kids > TRUST_MAX_KEYS) {
		err(ld, node, "expected a list of 1 to %d keys, got %s",
		    TRUST_MAX_KEYS, ytree__describe(node));
		return;
	}
	ld->t->keys = calloc(node->n_kids, sizeof(*ld->t->keys));
	if (!ld->t->keys) {
		err(ld, node, "out of memory");
		return;
	}
	for (size_t i = 0; i < node->n_kids; i++) {
		parse_key(ld, node->kids[i], &ld->t->keys[i]);
		ld->t->n_keys++;
	}
}

static void parse_revoked(struct trust_loader *ld, const struct ynode *root)
{
	const struct ynode *node = ytree__get(root, "revoked");

	if (!node)
		return;
	if (node->type != YNODE_SEQUENCE) {
		err(ld, node, "expected a list of key ids, got %s",
		    ytree__describe(node));
		return;
	}
	if (node->n_kids > TRUST_MAX_REVOKED) {
		err(ld, node, "more than %d revoked key ids", TRUST_MAX_REVOKED);
		return;
	}
	ld->t->revoked = calloc(node->n_kids + 1, sizeof(char *));
	if (!ld->t->revoked) {
		err(ld, node, "out of memory");
		return;
	}
	for (size_t i = 0; i < node->n_kids; i++) {
		const struct ynode *kid = node->kids[i];

		if (!scalar(ld, kid, "a key id"))
			continue;
		if (!key_id_ok(kid->value)) {
			err(ld, kid,
			    "revoked key id must be 64 lower-case hex digits");
			continue;
		}
		ld->t->revoked[ld->t->n_revoked] = strdup(kid->value);
		if (!ld->t->revoked[ld->t->n_revoked++])
			err(ld, kid, "out of memory");
	}
}

/* A threshold that no set of unrevoked keys can meet locks every bundle
 * out: say so now rather than at the first reload. */
static void check_threshold(struct trust_loader *ld, const struct ynode *root)
{
	size_t usable = 0;

	for (size_t i = 0; i < ld->t->n_keys; i++)
		if (ld->t->keys[i].key &&
		    !trust__is_revoked(ld->t, ld->t->keys[i].id))
			usable++;
	if (usable < ld->t->threshold)
		err(ld, ytree__get(root, "threshold") ?: root,
		    "threshold %u can never be met: %zu unrevoked key(s)",
		    ld->t->threshold, usable);
}

static void parse_top(struct trust_loader *ld, const struct ynode *root)
{
	if (!root || root->type != YNODE_MAPPING) {
		err(ld, root, "expected a mapping with 'scope' and 'keys'");
		return;
	}
	ytree__check_keys(ld->doc, root, top_keys, "the trust config",
			  ld->diags);
	parse_version(ld, root);
	parse_scope(ld, root);
	parse_numbers(ld, root);
	parse_keys(ld, root);
	parse_revoked(ld, root);
	if (ld->diags->errors == 0)
		check_threshold(ld, root);
}

static struct trust *trust_new(const char *path)
{
	struct trust *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->threshold = 1;
	t->min_serial = 1;
	t->max_validity = TRUST_MAX_VALIDITY_DEFAULT;
	t->source = strdup(path);
	if (!t->source) {
		free(t);
		return NULL;
	}
	return t;
}

/* Whoever can write the trust config can sign for this node. */
static int check_file_mode(const char *path, struct diags *diags)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH)) {
		diags__add(diags, DIAG_ERROR, path, 0, 0,
			   "the trust config is writable by everyone; refusing it");
		return -EPERM;
	}
	return 0;
}

struct trust *trust__load(const char *path, struct diags *diags)
{
	size_t errors = diags->errors, first = diags->n;
	struct trust_loader ld = { .diags = diags };
	struct ydoc *doc;

	if (check_file_mode(path, diags))
		return NULL;
	doc = ytree__load_file(path, diags);
	if (!doc)
		return NULL;
	ld.doc = doc;
	ld.t = trust_new(path);
	ld.dir = fspath__dir_of(path);
	if (!ld.t || !ld.dir)
		err(&ld, NULL, "out of memory");
	else
		parse_top(&ld, doc->root);
	free(ld.dir);
	ytree__free(doc);
	diags__sort(diags, first);
	if (diags->errors == errors)
		return ld.t;
	trust__free(ld.t);
	return NULL;
}

void trust__free(struct trust *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_keys; i++) {
		EVP_PKEY_free(t->keys[i].key);
		free(t->keys[i].name);
	}
	free(t->keys);
	for (size_t i = 0; i < t->n_revoked; i++)
		free(t->revoked[i]);
	free(t->revoked);
	free(t->scope);
	free(t->source);
	free(t);
}

const struct trust_key *trust__find_key(const struct trust *t, const char *id)
{
	for (size_t i = 0; id && i < t->n_keys; i++)
		if (t->keys[i].key && strcmp(t->keys[i].id, id) == 0)
			return &t->keys[i];
	return NULL;
}

int trust__is_revoked(const struct trust *t, const char *id)
{
	for (size_t i = 0; id && i < t->n_revoked; i++)
		if (t->revoked[i] && strcmp(t->revoked[i], id) == 0)
			return 1;
	return 0;
}
