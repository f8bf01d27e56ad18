// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/trust.c: the trust config, keys made at test time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "trust.h"

static struct diags diags;
static char dir[64];
static char path[128];
static char id1[DSSE_KEY_ID_LEN + 1];
static char pem1[1024];

static void write_text(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* A public key PEM for curve, with explicit parameters when asked. */
static void make_key(const char *curve, int explicit, char *pem, size_t len,
		     char *id)
{
	EVP_PKEY *k = EVP_EC_gen(curve);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	cr_assert_not_null(k);
	if (explicit)
		EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_ENCODING,
					       OSSL_PKEY_EC_ENCODING_EXPLICIT);
	if (id)
		cr_assert_eq(dsse__key_id(k, id), 0);
	PEM_write_bio_PUBKEY(bio, k);
	n = BIO_get_mem_data(bio, &data);
	cr_assert_lt((size_t)n, len);
	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	BIO_free(bio);
	EVP_PKEY_free(k);
}

static void setup(void)
{
	memset(&diags, 0, sizeof(diags));
	strcpy(dir, "/tmp/vouch-test-trust-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/trust.yaml", dir);
	make_key("P-256", 0, pem1, sizeof(pem1), id1);
	write_text("k1.pub", pem1);
}

static void teardown(void)
{
	char cmd[128];

	diags__free(&diags);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(trust, .init = setup, .fini = teardown, .timeout = 20);

static struct trust *load(const char *text)
{
	write_text("trust.yaml", text);
	return trust__load(path, &diags);
}

static void assert_error(const char *want, int line)
{
	for (size_t i = 0; i < diags.n; i++)
		if (strstr(diags.items[i].msg, want)) {
			if (line)
				cr_assert_eq(diags.items[i].line, line,
					     "'%s' at line %d", want,
					     diags.items[i].line);
			return;
		}
	cr_assert_fail("no error '%s'; first: %s", want,
		       diags.n ? diags.items[0].msg : "(none)");
}

/* The inline PEM, indented for a YAML block scalar. */
static char *indented(const char *pem, const char *indent)
{
	static char out[2048];
	char *o = out;

	for (const char *p = pem; *p; p++) {
		if (p == pem || p[-1] == '\n')
			o += sprintf(o, "%s", indent);
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

Test(trust, a_full_config_loads)
{
	char text[4096], pem2[1024], id2[65];
	struct trust *t;

	make_key("P-256", 0, pem2, sizeof(pem2), id2);
	snprintf(text, sizeof(text),
		 "version: 1\nscope: prod-eu\nthreshold: 2\nmin_serial: 10\n"
		 "max_validity: 7d\nkeys:\n"
		 "  - name: ci-2026\n    id: %s\n    file: k1.pub\n"
		 "    not_before: 2026-01-01T00:00:00Z\n"
		 "    not_after: 2027-01-01T00:00:00Z\n"
		 "  - pem: |\n%s"
		 "revoked:\n  - %064d\n", id1, indented(pem2, "      "), 0);
	t = load(text);
	cr_assert_not_null(t, "%s", diags.n ? diags.items[0].msg : "");
	cr_assert_str_eq(t->scope, "prod-eu");
	cr_assert_eq(t->threshold, 2);
	cr_assert_eq(t->min_serial, 10);
	cr_assert_eq(t->max_validity, 7 * 86400);
	cr_assert_eq(t->n_keys, 2);
	cr_assert_str_eq(t->keys[0].id, id1);
	cr_assert_str_eq(t->keys[0].name, "ci-2026");
	cr_assert_eq(t->keys[0].not_before, 1767225600);
	cr_assert_str_eq(t->keys[1].id, id2);
	cr_assert_eq(t->keys[1].not_after, INT64_MAX);
	cr_assert(trust__is_revoked(t, "00000000000000000000000000000000"
				       "00000000000000000000000000000000"));
	cr_assert_eq(trust__find_key(t, id2), &t->keys[1]);
	trust__free(t);
}

Test(trust, defaults)
{
	struct trust *t = load("version: 1\nscope: s\nkeys: [{file: k1.pub}]\n");

	cr_assert_not_null(t);
	cr_assert_eq(t->threshold, 1);
	cr_assert_eq(t->min_serial, 1);
	cr_assert_eq(t->max_validity, 30 * 86400);
	trust__free(t);
}

Test(trust, a_stated_id_must_match_the_key)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "version: 1\nscope: s\nkeys:\n  - file: k1.pub\n    id: %064d\n", 1);
	cr_assert_null(load(text));
	assert_error("does not match the key, whose id is", 5);
}

Test(trust, a_key_on_another_curve_is_refused)
{
	char pem[1024];

	make_key("P-384", 0, pem, sizeof(pem), NULL);
	write_text("p384.pub", pem);
	cr_assert_null(load("version: 1\nscope: s\nkeys: [{file: p384.pub}]\n"));
	assert_error("not on curve P-256", 3);
}

Test(trust, a_key_with_explicit_parameters_is_refused)
{
	char pem[2048];

	make_key("P-256", 1, pem, sizeof(pem), NULL);
	write_text("explicit.pub", pem);
	cr_assert_null(load("version: 1\nscope: s\nkeys: [{file: explicit.pub}]\n"));
	assert_error("explicit curve parameters", 3);
}

Test(trust, a_threshold_no_keys_can_meet_is_refused)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "version: 1\nscope: s\nthreshold: 2\nkeys: [{file: k1.pub}]\n");
	cr_assert_null(load(text));
	assert_error("threshold 2 can never be met: 1 unrevoked key(s)", 3);
	snprintf(text, sizeof(text),
		 "version: 1\nscope: s\nkeys: [{file: k1.pub}]\nrevoked: [%s]\n",
		 id1);
	diags__free(&diags);
	cr_assert_null(load(text));
	assert_error("threshold 1 can never be met: 0 unrevoked", 0);
}

Test(trust, shape_errors_name_their_place)
{
	cr_assert_null(load("version: 1\nscope: bad/scope\nkeys:\n"
			    "  - {file: k1.pub, pem: x}\n"
			    "  - {file: k1.pub, colour: red}\n"
			    "  - {file: k1.pub, not_before: 2027-01-01T00:00:00Z,"
			    " not_after: 2026-01-01T00:00:00Z}\n"
			    "revoked: [ABC]\nmax_validity: 7w\n"));
	assert_error("invalid scope 'bad/scope'", 2);
	assert_error("exactly one of 'pem' or 'file'", 4);
	assert_error("colour", 5);
	assert_error("not_after is not after its not_before", 6);
	assert_error("64 lower-case hex digits", 7);
	assert_error("invalid duration '7w'", 8);
}

Test(trust, a_key_listed_twice_is_refused)
{
	cr_assert_null(load("version: 1\nscope: s\nkeys: [{file: k1.pub}, {file: k1.pub}]\n"));
	assert_error("is listed twice", 3);
}

Test(trust, a_world_writable_config_is_refused)
{
	write_text("trust.yaml", "version: 1\nscope: s\nkeys: [{file: k1.pub}]\n");
	chmod(path, 0666);
	cr_assert_null(trust__load(path, &diags));
	assert_error("writable by everyone", 0);
}

Test(trust, not_a_key)
{
	write_text("junk.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	cr_assert_null(load("version: 1\nscope: s\n"
			    "keys: [{file: junk.pub}, {file: missing.pub}]\n"));
	assert_error("not a PEM public key", 3);
	assert_error("cannot open key file", 3);
}
