// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verifying attested allow-lists, in the order DSSE asks for: decode the
 * envelope, check signatures over the PAE against the trust config, and
 * only then parse the payload, against a schema that refuses every field
 * it does not know (ignoring a restriction would widen what is allowed).
 * Freshness and replay come last. Any failure refuses the whole bundle.
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
#include <jansson.h>
#include <openssl/evp.h>

#include "vouch_abi.h"
#include "attest.h"
#include "dsse.h"
#include "jcheck.h"
#include "utc.h"

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

static int decode_field(const struct jcheck *c, json_t *obj, const char *path,
			const char *key, unsigned char **out, size_t *len)
{
	json_t *val = jcheck__want(c, obj, path, key, JSON_STRING, 1);
	const char *why = NULL;
	char at[512];

	if (!val)
		return -EINVAL;
	jcheck__join(at, sizeof(at), path, key);
	if (dsse__b64_decode(json_string_value(val), json_string_length(val),
			     out, len, &why)) {
		jcheck__err(c, at, "invalid base64: %s", why);
		return -EINVAL;
	}
	return 0;
}

static void parse_signature(const struct jcheck *c, json_t *s, const char *at,
			    struct envelope *env)
{
	size_t i = env->n_sigs;
	json_t *keyid;

	if (!json_is_object(s)) {
		jcheck__err(c, at, "expected an object with 'sig', got %s",
			    jcheck__kind(s));
		return;
	}
	jcheck__only(c, s, at, signature_fields);
	keyid = jcheck__want(c, s, at, "keyid", JSON_STRING, 0);
	if (decode_field(c, s, at, "sig", &env->sigs[i].sig,
			 &env->sigs[i].len))
		return;
	env->sigs[i].keyid = keyid && json_string_length(keyid) ?
			     json_string_value(keyid) : NULL;
	env->n_sigs++;
}

static int parse_envelope(const struct jcheck *c, json_t *obj, const char *path,
			  struct envelope *env)
{
	size_t errors = c->diags->errors, i;
	json_t *type, *sigs, *s;

	jcheck__only(c, obj, path, envelope_fields);
	type = jcheck__want(c, obj, path, "payloadType", JSON_STRING, 1);
	sigs = jcheck__want(c, obj, path, "signatures", JSON_ARRAY, 1);
	decode_field(c, obj, path, "payload", &env->payload,
		     &env->payload_len);
	if (type)
		env->payload_type = json_string_value(type);
	if (type && strcmp(env->payload_type, ATTEST_PAYLOAD_TYPE) != 0)
		jcheck__err(c, path[0] ? "dsseEnvelope.payloadType" : "payloadType",
			    "'%s' is not %s", env->payload_type, ATTEST_PAYLOAD_TYPE);
	if (sigs && json_array_size(sigs) == 0)
		jcheck__err(c, "signatures", "the envelope has no signatures");
	if (sigs && json_array_size(sigs) > ATTEST_MAX_SIGNATURES)
		jcheck__err(c, "signatures", "more than %d signatures",
			    ATTEST_MAX_SIGNATURES);
	else if (sigs)
		json_array_foreach(sigs, i, s) {
			char at[512];

			jcheck__path(at, sizeof(at), "%s%ssignatures[%zu]", path,
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
static int parse_bundle(const struct jcheck *c, json_t *obj,
			struct envelope *env)
{
	const char *media = json_string_value(json_object_get(obj, "mediaType"));
	json_t *mat, *dsse, *pk;

	jcheck__only(c, obj, "", bundle_fields);
	if (!media || (strcmp(media, ATTEST_SIGSTORE_V03) != 0 &&
		       strcmp(media, SIGSTORE_V03_LEGACY) != 0)) {
		jcheck__err(c, "mediaType", "'%s' is not a Sigstore bundle v0.3",
			    media ? media : "(not a string)");
		return -EINVAL;
	}
	if (json_object_get(obj, "messageSignature")) {
		jcheck__err(c, "messageSignature",
			    "a message signature carries no statement; vouch needs dsseEnvelope");
		return -EINVAL;
	}
	mat = jcheck__want(c, obj, "", "verificationMaterial", JSON_OBJECT, 1);
	dsse = jcheck__want(c, obj, "", "dsseEnvelope", JSON_OBJECT, 1);
	if (!mat || !dsse)
		return -EINVAL;
	jcheck__only(c, mat, "verificationMaterial", material_fields);
	if (json_object_get(mat, "x509CertificateChain") ||
	    json_object_get(mat, "certificate")) {
		jcheck__err(c, "verificationMaterial",
			    "keyless (certificate) signing needs Fulcio and Rekor; %s",
			    "vouch verifies offline, with trust-config keys only");
		return -EINVAL;
	}
	pk = jcheck__want(c, mat, "verificationMaterial", "publicKey", JSON_OBJECT, 1);
	if (pk)
		jcheck__only(c, pk, "verificationMaterial.publicKey",
			     public_key_fields);
	if (parse_envelope(c, dsse, "dsseEnvelope", env))
		return -EINVAL;
	if (env->n_sigs != 1) {
		jcheck__err(c, "dsseEnvelope.signatures",
			    "a Sigstore bundle holds one signature, not %zu; %s",
			    env->n_sigs, "use a DSSE envelope for several");
		return -EINVAL;
	}
	if (!env->sigs[0].keyid && pk)
		env->sigs[0].keyid = json_string_value(json_object_get(pk, "hint"));
	return 0;
}

/* The parsed tree, which env borrows strings from; NULL when refused. */
static json_t *parse_container(const struct jcheck *c, const char *buf,
			       size_t len, struct envelope *env)
{
	json_t *root = jcheck__load(c->name, buf, len, "the bundle", c->diags);
	int ret = -EINVAL;

	if (!root)
		return NULL;
	if (!json_is_object(root))
		jcheck__err(c, "$", "expected a DSSE envelope or a Sigstore bundle, got %s",
			    jcheck__kind(root));
	else if (json_object_get(root, "mediaType"))
		ret = parse_bundle(c, root, env);
	else if (json_object_get(root, "payloadType") ||
		 json_object_get(root, "payload"))
		ret = parse_envelope(c, root, "", env);
	else
		jcheck__err(c, "$", "neither a DSSE envelope (%s) nor a Sigstore bundle (%s)",
			    "payloadType, payload, signatures", "mediaType");
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
		snprintf(out, len, "signature %zu by key %.*s: does not verify %s",
			 i, SHORT_ID, hint,
			 "(payload or payloadType changed after signing)");
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
		verr(v, "%zu valid signature(s) by distinct trusted keys; %s %u",
		     n, "the trust config requires", v->t->threshold);
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
		verr(v, "valid for %lld s (issued %s, expires %s), %s %lld s",
		     (long long)(al->expires - al->issued), b, a,
		     "longer than the trust config's max_validity of",
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
		verr(v, "serial %llu was already accepted with other content %s",
		     (unsigned long long)al->serial,
		     "(another statement sha256): refused as tampering");
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
			   errno == ELOOP ?
			   "is a symbolic link; bundles are read only from regular files" :
			   strerror(errno));
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
	struct jcheck c = { .name = name, .diags = diags };
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
	struct jcheck c = { .name = path, .diags = diags };
	size_t errors = diags->errors;
	const char *sha, *sc;
	json_error_t e;
	json_t *j, *serial;

	memset(st, 0, sizeof(*st));
	if (!path)
		return -ENOMEM;
	j = json_load_file(path, JCHECK_FLAGS, &e);
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
	jcheck__only(&c, j, "", state_fields);
	sc = jcheck__text(&c, j, "", "scope", TRUST_SCOPE_MAX, 1);
	serial = jcheck__want(&c, j, "", "serial", JSON_INTEGER, 1);
	sha = jcheck__text(&c, j, "", "payload_sha256", 64, 1);
	if (sc && strcmp(sc, scope) != 0)
		jcheck__err(&c, "scope", "the state is for scope '%s'", sc);
	if (sha && !jcheck__hex64_ok(sha))
		jcheck__err(&c, "payload_sha256", "not 64 lower-case hex digits");
	if (serial && json_integer_value(serial) < 1)
		jcheck__err(&c, "serial", "must be a positive integer");
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
