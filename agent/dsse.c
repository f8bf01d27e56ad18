// SPDX-License-Identifier: GPL-2.0-only
/*
 * DSSE primitives. OpenSSL does the arithmetic and the ASN.1; the checks
 * here refuse what OpenSSL would quietly accept: whitespace and stray
 * padding in base64, BER or padded DER signatures, curves given by their
 * parameters instead of their name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dsse.h"

#define B64_STD		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define PEM_MAX		16384

static int b64_check(const char *s, size_t len, int *url, const char **why)
{
	int std_seen = 0, url_seen = 0;
	size_t pad = 0;

	if (len % 4) {
		*why = "length is not a multiple of 4 (missing padding?)";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad) {
			*why = "'=' padding inside the text";
			return -EINVAL;
		}
		if (c == '+' || c == '/')
			std_seen = 1;
		else if (c == '-' || c == '_')
			url_seen = 1;
		else if (!c || !strchr(B64_STD, c)) {
			*why = "a character outside the base64 alphabet";
			return -EINVAL;
		}
	}
	if (pad > 2) {
		*why = "more than two '=' padding characters";
		return -EINVAL;
	}
	if (std_seen && url_seen) {
		*why = "mixes the standard and URL-safe alphabets";
		return -EINVAL;
	}
	*url = url_seen;
	return 0;
}

int dsse__b64_decode(const char *s, size_t len, unsigned char **out,
		     size_t *out_len, const char **why)
{
	unsigned char *buf;
	char *std, *again;
	size_t pad = 0;
	int url, n, same;

	*out = NULL;
	*out_len = 0;
	if (b64_check(s, len, &url, why))
		return -EINVAL;
	if (len > (size_t)0x7ffffff0) {
		*why = "too long";
		return -EINVAL;
	}
	std = strndup(s, len);
	buf = malloc(len / 4 * 3 + 1);
	if (!std || !buf) {
		free(std);
		free(buf);
		*why = "out of memory";
		return -ENOMEM;
	}
	for (size_t i = 0; url && i < len; i++)
		std[i] = std[i] == '-' ? '+' : std[i] == '_' ? '/' : std[i];
	while (pad < len && std[len - 1 - pad] == '=')
		pad++;
	n = EVP_DecodeBlock(buf, (unsigned char *)std, (int)len);
	if (n < 0 || (size_t)n < pad) {
		*why = "not decodable";
		goto fail;
	}
	n -= (int)pad;
	/* EVP_DecodeBlock ignores the leftover bits: only a round trip
	 * shows that the text is the one canonical encoding. */
	again = dsse__b64_encode(buf, (size_t)n);
	same = again && strcmp(again, std) == 0;
	free(again);
	if (!same) {
		*why = "non-zero bits in the last character (not canonical)";
		goto fail;
	}
	free(std);
	*out = buf;
	*out_len = (size_t)n;
	return 0;
fail:
	free(std);
	free(buf);
	return -EINVAL;
}

char *dsse__b64_encode(const unsigned char *buf, size_t len)
{
	char *out;

	if (len > (size_t)0x5ffffff0)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

unsigned char *dsse__pae(const char *type, size_t type_len,
			 const unsigned char *body, size_t body_len,
			 size_t *out_len)
{
	char head[64];
	unsigned char *out;
	int n;

	n = snprintf(head, sizeof(head), "DSSEv1 %zu ", type_len);
	out = malloc((size_t)n + type_len + 32 + body_len);
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)n);
	memcpy(out + n, type, type_len);
	*out_len = (size_t)n + type_len;
	n = snprintf(head, sizeof(head), " %zu ", body_len);
	memcpy(out + *out_len, head, (size_t)n);
	*out_len += (size_t)n;
	if (body_len)
		memcpy(out + *out_len, body, body_len);
	*out_len += body_len;
	return out;
}

const char *dsse__sig_der_problem(const unsigned char *sig, size_t len)
{
	const unsigned char *p = sig;
	unsigned char *again = NULL;
	ECDSA_SIG *es;
	int n, same;

	if (len == 0)
		return "empty signature";
	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!es && len == 64)
		return "64 bytes, not DER: an IEEE P1363 r||s signature? only DER is accepted";
	if (!es)
		return "not a DER ECDSA signature";
	if ((size_t)(p - sig) != len) {
		ECDSA_SIG_free(es);
		return "trailing bytes after the DER signature";
	}
	/* OpenSSL reads BER (long-form lengths and the like); strict DER is
	 * what it writes back, byte for byte. */
	n = i2d_ECDSA_SIG(es, &again);
	same = n > 0 && (size_t)n == len && memcmp(again, sig, len) == 0;
	OPENSSL_free(again);
	ECDSA_SIG_free(es);
	return same ? NULL : "not minimal DER";
}

int dsse__verify(EVP_PKEY *key, const unsigned char *msg, size_t len,
		 const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (!ctx)
		return 0;
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

unsigned char *dsse__sign(EVP_PKEY *key, const unsigned char *msg,
			  size_t len, size_t *sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t n = 0;

	if (!ctx)
		return NULL;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, msg, len) != 1)
		goto out;
	sig = malloc(n);
	if (sig && EVP_DigestSign(ctx, sig, &n, msg, len) != 1) {
		free(sig);
		sig = NULL;
	}
	*sig_len = n;
out:
	EVP_MD_CTX_free(ctx);
	return sig;
}

const char *dsse__key_problem(EVP_PKEY *key)
{
	char curve[64] = "";
	size_t n = 0;
	int explicit = 0;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return "not an ECDSA key; vouch takes ECDSA P-256 keys only";
	/* A key written with explicit parameters may still be matched to a
	 * name; the flag says how it was written. */
	if ((EVP_PKEY_get_int_param(key,
				    OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS,
				    &explicit) == 1 && explicit) ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
					   curve, sizeof(curve), &n) != 1)
		return "explicit curve parameters; only the named curve P-256 is accepted";
	if (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "P-256") != 0)
		return "the key is not on curve P-256";
	return NULL;
}

int dsse__key_id(EVP_PKEY *key, char id[DSSE_KEY_ID_LEN + 1])
{
	unsigned char *der = NULL, md[32];
	int n = i2d_PUBKEY(key, &der);

	if (n <= 0)
		return -EINVAL;
	if (!EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		return -EINVAL;
	}
	OPENSSL_free(der);
	for (int i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	return 0;
}

EVP_PKEY *dsse__public_key_from_pem(const char *pem, size_t len,
				    const char **why)
{
	EVP_PKEY *key;
	BIO *bio;

	if (len > PEM_MAX) {
		*why = "the PEM text is too long for a public key";
		return NULL;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		*why = "out of memory";
		return NULL;
	}
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key) {
		*why = "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
		return NULL;
	}
	*why = dsse__key_problem(key);
	if (*why) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}
