// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouchctl attest and vouchctl verify: turn a YAML description into a
 * signed allow-list, and check a bundle exactly as vouchd would.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/pem.h>

#include "attest.h"
#include "dsse.h"
#include "trust.h"
#include "utc.h"
#include "vouchctl.h"
#include "yamltree.h"

#define EXIT_USAGE	2
#define MAX_KEYS	ATTEST_MAX_SIGNATURES

static const char *const spec_keys[] = {
	"serial", "scope", "issued", "expires", "valid_for", "images", NULL
};

struct signer {
	EVP_PKEY *key;
	char id[DSSE_KEY_ID_LEN + 1];
};

static void attest_usage(FILE *out)
{
	fprintf(out,
		"Usage: vouchctl attest --key KEY.pem [--key KEY2.pem]... [--sigstore]\n"
		"                       [-o FILE] [--time TIME] SPEC.yaml\n"
		"\n"
		"Builds an in-toto Statement v1 with predicate type\n"
		"https://vouch.dev/allowlist/v1 from the YAML description SPEC.yaml,\n"
		"checks it exactly as vouchd will, and writes a DSSE envelope with one\n"
		"ECDSA P-256 signature over the DSSE PAE per --key (PEM private key).\n"
		"Each signature's keyid is the key's id: the lower-case hex sha256 of\n"
		"its DER public key. Two --key options sign with both keys, as during\n"
		"a key rotation. The format of SPEC.yaml is in docs/ATTESTATION.md.\n"
		"\n"
		"Options:\n"
		"  -k, --key FILE   sign with this private key (repeatable, up to %d)\n"
		"  -s, --sigstore   write a Sigstore bundle v0.3 around the envelope,\n"
		"                   with the key id as the public key hint (one key)\n"
		"  -o, --output F   write to F instead of standard output\n"
		"  -t, --time TIME  issue as of TIME (YYYY-MM-DDTHH:MM:SSZ), not now;\n"
		"                   used when SPEC.yaml gives no 'issued'\n"
		"  -h, --help       show this help and exit\n"
		"\n"
		"Exit status: 0 when written, 1 when SPEC.yaml or a key is refused\n"
		"(every problem is printed), 2 on a usage error.\n", MAX_KEYS);
}

static void verify_usage(FILE *out)
{
	fprintf(out,
		"Usage: vouchctl verify --trust TRUST.yaml [--state DIR [--commit]]\n"
		"                       [--time TIME] BUNDLE\n"
		"\n"
		"Verifies an allow-list bundle (a DSSE envelope or a Sigstore bundle\n"
		"v0.3) offline against a trust config, as vouchd does on load: the\n"
		"file itself (regular, not a symlink, not world-writable, at most\n"
		"%u bytes), strict JSON and base64, signatures over the DSSE PAE by\n"
		"distinct trusted, unrevoked, unexpired keys up to the threshold, the\n"
		"statement's schema, scope, issue and expiry times and serial.\n"
		"\n"
		"On success prints 'BUNDLE: ok' with the serial, scope, image count,\n"
		"expiry and the ids of the keys that counted; otherwise prints every\n"
		"reason for refusal on standard error.\n"
		"\n"
		"Options:\n"
		"  -T, --trust FILE  the trust config (docs/ATTESTATION.md)\n"
		"  -S, --state DIR   also check the serial against the last one\n"
		"                    accepted, kept in DIR as vouchd keeps it\n"
		"  -c, --commit      record this bundle as accepted in the --state DIR\n"
		"  -t, --time TIME   judge expiry as of TIME (YYYY-MM-DDTHH:MM:SSZ)\n"
		"  -h, --help        show this help and exit\n"
		"\n"
		"Exit status: 0 when the bundle is valid, 1 when it is refused,\n"
		"2 on a usage error.\n", ATTEST_MAX_FILE_BYTES);
}

static int parse_time_arg(const char *cmd, const char *s, int64_t *out)
{
	if (utc__parse(s, strlen(s), out) == 0)
		return 0;
	fprintf(stderr, "vouchctl %s: --time wants YYYY-MM-DDTHH:MM:SSZ, got '%s'\n",
		cmd, s);
	return -EINVAL;
}

/* --- YAML description to statement ------------------------------------ */

static int spec_err(const struct ydoc *doc, struct diags *d,
		    const struct ynode *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int spec_err(const struct ydoc *doc, struct diags *d,
		    const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree__verror(doc, d, node, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int all_digits(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && !n->quoted && n->len > 0 &&
	       n->len <= 18 && strspn(n->value, "0123456789") == n->len;
}

/*
 * A YAML subtree as JSON: mappings to objects, lists to arrays, scalars to
 * strings, except unquoted numbers among 'ports', which stay numbers. The
 * schema check that follows decides what is right.
 */
static json_t *to_json(const struct ynode *n, int ports)
{
	json_t *j;

	if (n->type == YNODE_SCALAR) {
		if (ports && all_digits(n))
			return json_integer(strtoll(n->value, NULL, 10));
		return json_stringn(n->value, n->len);
	}
	j = n->type == YNODE_MAPPING ? json_object() : json_array();
	for (size_t i = 0; j && i < n->n_kids; i++) {
		if (n->type == YNODE_SEQUENCE) {
			json_array_append_new(j, to_json(n->kids[i], ports));
			continue;
		}
		json_object_set_new(j, n->kids[i]->value,
				    to_json(n->kids[i + 1],
					    !strcmp(n->kids[i]->value, "ports")));
		i++;
	}
	return j;
}

static int spec_times(const struct ydoc *doc, const struct ynode *root,
		      int64_t now, json_t *pred, struct diags *d)
{
	const struct ynode *iss = ytree__get(root, "issued");
	const struct ynode *exp = ytree__get(root, "expires");
	const struct ynode *valid = ytree__get(root, "valid_for");
	char text[UTC_TEXT_LEN + 8];
	int64_t issued = now, dur;

	if (iss && (iss->type != YNODE_SCALAR ||
		    utc__parse(iss->value, iss->len, &issued)))
		return spec_err(doc, d, iss,
				"expected a UTC time such as 2027-01-31T00:00:00Z");
	utc__format(issued, text, sizeof(text));
	json_object_set_new(pred, "issued", json_string(text));
	if (!exp == !valid)
		return spec_err(doc, d, root,
				"give exactly one of 'expires' or 'valid_for'");
	if (exp) {
		if (exp->type != YNODE_SCALAR)
			return spec_err(doc, d, exp, "expected a UTC time");
		json_object_set_new(pred, "expires", to_json(exp, 0));
		return 0;
	}
	if (valid->type != YNODE_SCALAR ||
	    utc__parse_duration(valid->value, &dur))
		return spec_err(doc, d, valid,
				"expected a duration such as 7d, 12h or 3600s");
	utc__format(issued + dur, text, sizeof(text));
	json_object_set_new(pred, "expires", json_string(text));
	return 0;
}

/* images: DIGEST: {name: ..., service: ...}; 'name' names the subject. */
static int spec_images(const struct ydoc *doc, const struct ynode *images,
		       json_t *pred, json_t *subjects, struct diags *d)
{
	json_t *out = json_object();

	json_object_set_new(pred, "images", out);
	if (!images || images->type != YNODE_MAPPING)
		return spec_err(doc, d, images,
				"expected 'images': a mapping from image digest to its entry");
	for (size_t i = 0; i + 1 < images->n_kids; i += 2) {
		const struct ynode *key = images->kids[i];
		const struct ynode *val = images->kids[i + 1];
		const struct ynode *name = ytree__get(val, "name");
		json_t *entry = to_json(val, 0), *subject;

		if (!allowlist__valid_digest(key->value))
			spec_err(doc, d, key,
				 "'%s' is not sha256: and 64 lower-case hex digits",
				 key->value);
		if (json_is_object(entry))
			json_object_del(entry, "name");
		json_object_set_new(out, key->value, entry);
		subject = json_pack("{s:s, s:{s:s}}", "name",
				    name && name->type == YNODE_SCALAR ?
				    name->value : key->value,
				    "digest", "sha256",
				    strncmp(key->value, "sha256:", 7) ? key->value :
				    key->value + 7);
		json_array_append_new(subjects, subject);
	}
	return 0;
}

static json_t *spec_statement(const struct ydoc *doc, int64_t now,
			      struct diags *d)
{
	const struct ynode *root = doc->root, *n;
	json_t *st, *pred, *subjects;

	if (!root || root->type != YNODE_MAPPING) {
		spec_err(doc, d, root, "expected a mapping with 'serial', 'scope' and 'images'");
		return NULL;
	}
	ytree__check_keys(doc, root, spec_keys, "an allow-list description", d);
	pred = json_object();
	subjects = json_array();
	st = json_pack("{s:s, s:o, s:s, s:o}", "_type", ATTEST_STATEMENT_TYPE,
		       "subject", subjects, "predicateType",
		       ATTEST_PREDICATE_TYPE, "predicate", pred);
	if (!st)
		return NULL;
	n = ytree__get(root, "serial");
	if (n && all_digits(n))
		json_object_set_new(pred, "serial",
				    json_integer(strtoll(n->value, NULL, 10)));
	else
		spec_err(doc, d, n ? n : root, "expected 'serial': a positive number");
	spec_times(doc, root, now, pred, d);
	n = ytree__get(root, "scope");
	if (n && n->type == YNODE_SCALAR)
		json_object_set_new(pred, "scope", json_string(n->value));
	else
		spec_err(doc, d, n ? n : root, "expected 'scope': a scope name");
	spec_images(doc, ytree__get(root, "images"), pred, subjects, d);
	return st;
}

/* --- signing ----------------------------------------------------------- */

static int load_signer(const char *path, struct signer *s)
{
	FILE *f = fopen(path, "re");
	const char *why;

	if (!f) {
		fprintf(stderr, "%s: error: %s\n", path, strerror(errno));
		return -errno;
	}
	s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!s->key) {
		fprintf(stderr, "%s: error: not a PEM private key\n", path);
		return -EINVAL;
	}
	why = dsse__key_problem(s->key);
	if (why || dsse__key_id(s->key, s->id)) {
		fprintf(stderr, "%s: error: %s\n", path, why ? why : "no key id");
		return -EINVAL;
	}
	return 0;
}

static json_t *sign_envelope(const char *payload, size_t len,
			     const struct signer *signers, size_t n)
{
	json_t *sigs = json_array(), *env;
	unsigned char *pae, *sig;
	size_t pae_len, sig_len;
	char *b64;

	pae = dsse__pae(ATTEST_PAYLOAD_TYPE, strlen(ATTEST_PAYLOAD_TYPE),
			(const unsigned char *)payload, len, &pae_len);
	for (size_t i = 0; pae && i < n; i++) {
		sig = dsse__sign(signers[i].key, pae, pae_len, &sig_len);
		b64 = sig ? dsse__b64_encode(sig, sig_len) : NULL;
		free(sig);
		if (!b64) {
			free(pae);
			json_decref(sigs);
			return NULL;
		}
		json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid",
						      signers[i].id, "sig", b64));
		free(b64);
	}
	free(pae);
	b64 = dsse__b64_encode((const unsigned char *)payload, len);
	if (!b64) {
		json_decref(sigs);
		return NULL;
	}
	env = json_pack("{s:s, s:s, s:o}", "payloadType", ATTEST_PAYLOAD_TYPE,
			"payload", b64, "signatures", sigs);
	free(b64);
	return env;
}

static json_t *sigstore_bundle(json_t *env, const char *key_id)
{
	return json_pack("{s:s, s:{s:{s:s}, s:[]}, s:o}",
			 "mediaType", ATTEST_SIGSTORE_V03,
			 "verificationMaterial", "publicKey", "hint", key_id,
			 "tlogEntries", "dsseEnvelope", env);
}

static int write_output(const char *path, const char *text)
{
	size_t len = strlen(text);
	FILE *f = stdout;
	int fd, err = 0;

	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		f = fd < 0 ? NULL : fdopen(fd, "w");
		if (!f) {
			fprintf(stderr, "vouchctl attest: cannot write '%s': %s\n",
				path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
	}
	if (fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF)
		err = -EIO;
	if ((f == stdout ? fflush(f) : fclose(f)) != 0)
		err = -EIO;
	if (err)
		fprintf(stderr, "vouchctl attest: failed to write the output\n");
	return err;
}

/* The statement, checked by the verifier's own schema before signing. */
static char *build_payload(const char *spec, int64_t now)
{
	struct diags d = { 0 };
	struct allowlist *al = NULL;
	struct ydoc *doc;
	json_t *st = NULL;
	char *payload = NULL;

	doc = ytree__load_file(spec, &d);
	if (doc)
		st = spec_statement(doc, now, &d);
	if (st && !d.errors)
		payload = json_dumps(st, JSON_COMPACT);
	if (payload)
		al = attest__parse_statement(spec, (unsigned char *)payload,
					     strlen(payload), &d);
	if (payload && !al) {
		free(payload);
		payload = NULL;
	}
	diags__print(&d, stderr);
	allowlist__free(al);
	json_decref(st);
	ytree__free(doc);
	diags__free(&d);
	return payload;
}

static int do_attest(const char *spec, char **keys, size_t n_keys,
		     int sigstore, const char *out, int64_t now)
{
	struct signer signers[MAX_KEYS] = { 0 };
	json_t *doc = NULL;
	char *payload = NULL, *text = NULL;
	int ret = EXIT_FAILURE;

	for (size_t i = 0; i < n_keys; i++)
		if (load_signer(keys[i], &signers[i]))
			goto out;
	payload = build_payload(spec, now);
	if (!payload)
		goto out;
	doc = sign_envelope(payload, strlen(payload), signers, n_keys);
	if (doc && sigstore)
		doc = sigstore_bundle(doc, signers[0].id);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (!text)
		fprintf(stderr, "vouchctl attest: failed to sign\n");
	else if (write_output(out, text) == 0)
		ret = EXIT_SUCCESS;
out:
	free(text);
	json_decref(doc);
	free(payload);
	for (size_t i = 0; i < n_keys; i++)
		EVP_PKEY_free(signers[i].key);
	return ret;
}

int vouchctl__attest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "sigstore", no_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t now = (int64_t)time(NULL);
	char *keys[MAX_KEYS];
	const char *out = NULL;
	size_t n_keys = 0;
	int opt, sigstore = 0;

	while ((opt = getopt_long(argc, argv, "k:so:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (n_keys == MAX_KEYS) {
				fprintf(stderr, "vouchctl attest: at most %d keys\n",
					MAX_KEYS);
				return EXIT_USAGE;
			}
			keys[n_keys++] = optarg;
			break;
		case 's':
			sigstore = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (parse_time_arg("attest", optarg, &now))
				return EXIT_USAGE;
			break;
		case 'h':
			attest_usage(stdout);
			return EXIT_SUCCESS;
		default:
			attest_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || n_keys == 0 || (sigstore && n_keys != 1)) {
		fprintf(stderr, "vouchctl attest: %s\n",
			n_keys == 0 ? "at least one --key is needed" :
			sigstore && n_keys != 1 ?
			"a Sigstore bundle holds exactly one signature: give one --key" :
			"give exactly one SPEC.yaml");
		attest_usage(stderr);
		return EXIT_USAGE;
	}
	return do_attest(argv[optind], keys, n_keys, sigstore, out, now);
}

/* --- verify ------------------------------------------------------------ */

static void print_ok(const char *path, const struct allowlist *al)
{
	char issued[UTC_TEXT_LEN + 8], expires[UTC_TEXT_LEN + 8];

	utc__format(al->issued, issued, sizeof(issued));
	utc__format(al->expires, expires, sizeof(expires));
	printf("%s: ok: serial %llu, scope %s, %zu image(s), issued %s, expires %s, signed by",
	       path, (unsigned long long)al->serial, al->scope, al->n_images,
	       issued, expires);
	for (size_t i = 0; i < al->n_key_ids; i++)
		printf("%s %s", i ? "," : "", al->key_ids[i]);
	printf("\n");
}

static int do_verify(const char *trust_path, const char *state_dir,
		     int commit, const char *bundle, int64_t now)
{
	struct attest_state st = { 0 };
	struct diags d = { 0 };
	struct allowlist *al = NULL;
	struct trust *t;
	int ret = EXIT_FAILURE, err;

	t = trust__load(trust_path, &d);
	if (t && (!state_dir ||
		  attest__load_state(state_dir, t->scope, &st, &d) == 0))
		al = attest__verify_file(t, bundle, state_dir ? &st : NULL,
					 now, &d);
	fflush(stdout);
	diags__print(&d, stderr);
	if (al) {
		print_ok(bundle, al);
		ret = EXIT_SUCCESS;
	}
	if (al && commit) {
		err = attest__commit_state(state_dir, al);
		if (err) {
			fprintf(stderr, "%s: error: cannot record the serial: %s\n",
				state_dir, strerror(-err));
			ret = EXIT_FAILURE;
		}
	}
	allowlist__free(al);
	trust__free(t);
	diags__free(&d);
	return ret;
}

int vouchctl__verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 'T' },
		{ "state", required_argument, NULL, 'S' },
		{ "commit", no_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t now = (int64_t)time(NULL);
	const char *trust = NULL, *state = NULL;
	int opt, commit = 0;

	while ((opt = getopt_long(argc, argv, "T:S:ct:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			trust = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'c':
			commit = 1;
			break;
		case 't':
			if (parse_time_arg("verify", optarg, &now))
				return EXIT_USAGE;
			break;
		case 'h':
			verify_usage(stdout);
			return EXIT_SUCCESS;
		default:
			verify_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!trust || optind + 1 != argc || (commit && !state)) {
		fprintf(stderr, "vouchctl verify: %s\n",
			!trust ? "--trust is required" :
			commit && !state ? "--commit needs --state" :
			"give exactly one BUNDLE");
		verify_usage(stderr);
		return EXIT_USAGE;
	}
	return do_verify(trust, state, commit, argv[optind], now);
}
