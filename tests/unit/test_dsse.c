// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/dsse.c: the PAE and an ECDSA signature against the
 * DSSE specification's own vectors (tests/fixtures/attest/dsse-vectors.json
 * says where each came from), strict base64 and DER, and key checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "dsse.h"

#define VECTORS	"tests/fixtures/attest/dsse-vectors.json"

TestSuite(dsse, .timeout = 20);

static json_t *vectors(void)
{
	json_error_t e;
	json_t *v = json_load_file(VECTORS, JSON_REJECT_DUPLICATES, &e);

	cr_assert_not_null(v, "%s: %s", VECTORS, e.text);
	return v;
}

static const char *field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	cr_assert_not_null(s, "fixture field %s", key);
	return s;
}

static unsigned char *decode(const char *b64, size_t *len)
{
	unsigned char *out = NULL;
	const char *why = NULL;

	cr_assert_eq(dsse__b64_decode(b64, strlen(b64), &out, len, &why), 0,
		     "%s: %s", b64, why);
	return out;
}

static int refused(const char *b64, const char *want)
{
	unsigned char *out = NULL;
	const char *why = NULL;
	size_t len;
	int ret = dsse__b64_decode(b64, strlen(b64), &out, &len, &why);

	free(out);
	cr_assert_neq(ret, 0, "'%s' was accepted", b64);
	cr_assert_not_null(strstr(why, want), "'%s': %s", b64, why);
	return 1;
}

Test(dsse, pae_matches_the_protocol_example)
{
	json_t *v = vectors(), *ecdsa = json_object_get(v, "ecdsa");
	const char *type = field(ecdsa, "payloadType");
	unsigned char *body, *pae;
	size_t len, pae_len;

	body = decode(field(ecdsa, "payload"), &len);
	pae = dsse__pae(type, strlen(type), body, len, &pae_len);
	cr_assert_eq(pae_len, strlen(field(ecdsa, "pae")));
	cr_assert_eq(memcmp(pae, field(ecdsa, "pae"), pae_len), 0);
	free(pae);
	free(body);
	json_decref(v);
}

static void hex_to_bytes(const char *hex, unsigned char *out, size_t *len)
{
	*len = strlen(hex) / 2;
	for (size_t i = 0; i < *len; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (unsigned char)b;
	}
}

Test(dsse, pae_matches_every_vector_of_the_test_suite)
{
	json_t *v = vectors(), *item;
	size_t i;

	json_array_foreach(json_object_get(v, "pae"), i, item) {
		const char *type = field(item, "payloadType");
		unsigned char want[512], *body, *pae;
		size_t len, want_len, pae_len;

		body = decode(field(item, "payload"), &len);
		hex_to_bytes(field(item, "pae_hex"), want, &want_len);
		pae = dsse__pae(type, strlen(type), body, len, &pae_len);
		cr_assert_eq(pae_len, want_len, "%s", field(item, "id"));
		cr_assert_eq(memcmp(pae, want, want_len), 0, "%s",
			     field(item, "id"));
		free(pae);
		free(body);
	}
	cr_assert_eq(i, 4);
	json_decref(v);
}

/* The protocol's example signature is raw r||s; vouch takes DER only, so
 * the test re-encodes it and checks the very same (r, s). */
static unsigned char *p1363_to_der(const unsigned char *raw, size_t *len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int n;

	cr_assert(ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL),
				 BN_bin2bn(raw + 32, 32, NULL)));
	n = i2d_ECDSA_SIG(es, &der);
	cr_assert_gt(n, 0);
	ECDSA_SIG_free(es);
	*len = (size_t)n;
	return der;
}

Test(dsse, the_protocol_ecdsa_vector_verifies)
{
	json_t *v = vectors(), *ecdsa = json_object_get(v, "ecdsa");
	const char *pem = field(ecdsa, "public_key"), *why = NULL;
	const char *pae = field(ecdsa, "pae");
	unsigned char *raw, *der;
	size_t raw_len, der_len;
	EVP_PKEY *key;

	key = dsse__public_key_from_pem(pem, strlen(pem), &why);
	cr_assert_not_null(key, "%s", why);
	raw = decode(field(ecdsa, "sig_p1363"), &raw_len);
	cr_assert_eq(raw_len, 64);
	der = p1363_to_der(raw, &der_len);
	cr_assert_null(dsse__sig_der_problem(der, der_len));
	cr_assert(dsse__verify(key, (const unsigned char *)pae, strlen(pae),
			       der, der_len));
	/* one bit of the message changed: no longer */
	cr_assert_not(dsse__verify(key, (const unsigned char *)
				   "DSSEv1 29 http://example.com/HelloWorld 11 hello worle",
				   strlen(pae), der, der_len));
	/* the raw form is named for what it is, and refused */
	cr_assert_not_null(strstr(dsse__sig_der_problem(raw, raw_len), "P1363"));
	OPENSSL_free(der);
	free(raw);
	EVP_PKEY_free(key);
	json_decref(v);
}

Test(dsse, base64_takes_both_alphabets_padded_and_canonical)
{
	unsigned char *out;
	size_t len;

	out = decode("aGVsbG8gd29ybGQ=", &len);
	cr_assert_eq(len, 11);
	cr_assert_eq(memcmp(out, "hello world", 11), 0);
	free(out);
	out = decode("-_-_Pj8=", &len);
	cr_assert_eq(len, 5);
	cr_assert_eq(out[0], 0xfb);
	free(out);
	out = decode("", &len);
	cr_assert_eq(len, 0);
	free(out);
}

Test(dsse, base64_refuses_every_leniency)
{
	refused("aGVsbG8gd29ybGQ", "multiple of 4");
	refused("aGVsbG8gd29ybG==", "non-zero bits");
	refused("QR==", "non-zero bits");
	refused("aGVs=G8g", "padding inside");
	refused("aGVsbG8*d29ybGQ=", "outside the base64 alphabet");
	refused("aGVs bG8gd29ybGQ", "outside the base64 alphabet");
	refused("aGVs\nG8gd29ybGQ=", "outside the base64 alphabet");
	refused("a+b-", "mixes the standard and URL-safe");
	refused("a===", "more than two");
}

static EVP_PKEY *gen(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);

	cr_assert_not_null(k);
	return k;
}

static unsigned char *sign(EVP_PKEY *k, size_t *len)
{
	unsigned char *sig = dsse__sign(k, (const unsigned char *)"m", 1, len);

	cr_assert_not_null(sig);
	cr_assert_null(dsse__sig_der_problem(sig, *len));
	return sig;
}

Test(dsse, der_must_be_minimal_and_whole)
{
	EVP_PKEY *k = gen("P-256");
	unsigned char *sig, longform[80], trailing[80];
	size_t len;

	sig = sign(k, &len);
	/* SEQUENCE length in long form: valid BER, not DER */
	longform[0] = 0x30;
	longform[1] = 0x81;
	longform[2] = sig[1];
	memcpy(longform + 3, sig + 2, len - 2);
	cr_assert_str_eq(dsse__sig_der_problem(longform, len + 1),
			 "not minimal DER");
	memcpy(trailing, sig, len);
	trailing[len] = 0;
	cr_assert_str_eq(dsse__sig_der_problem(trailing, len + 1),
			 "trailing bytes after the DER signature");
	cr_assert_str_eq(dsse__sig_der_problem((const unsigned char *)"\x30\x02", 2),
			 "not a DER ECDSA signature");
	free(sig);
	EVP_PKEY_free(k);
}

Test(dsse, keys_must_be_named_p256)
{
	EVP_PKEY *p384 = gen("P-384"), *p256 = gen("P-256");
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	char id[DSSE_KEY_ID_LEN + 1], want[65];
	unsigned char *der = NULL, md[32];
	int n;

	cr_assert_null(dsse__key_problem(p256));
	cr_assert_str_eq(dsse__key_problem(p384), "the key is not on curve P-256");
	cr_assert_not_null(strstr(dsse__key_problem(rsa), "not an ECDSA key"));
	cr_assert_eq(dsse__key_id(p256, id), 0);
	n = i2d_PUBKEY(p256, &der);
	EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(want + 2 * i, "%02x", md[i]);
	cr_assert_str_eq(id, want);
	OPENSSL_free(der);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa);
}

Test(dsse, explicit_curve_parameters_are_refused)
{
	EVP_PKEY *k = gen("P-256"), *back;
	const char *why = NULL;
	char *pem;
	BIO *bio = BIO_new(BIO_s_mem());
	long n;

	cr_assert(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_ENCODING,
						 OSSL_PKEY_EC_ENCODING_EXPLICIT));
	cr_assert(PEM_write_bio_PUBKEY(bio, k));
	n = BIO_get_mem_data(bio, &pem);
	back = dsse__public_key_from_pem(pem, (size_t)n, &why);
	cr_assert_null(back);
	cr_assert_not_null(strstr(why, "explicit curve parameters"), "%s", why);
	BIO_free(bio);
	EVP_PKEY_free(k);
}
