/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DSSE building blocks (the protocol's PAE, base64 as envelopes carry
 * it, ECDSA P-256 signatures in DER) on OpenSSL, with every leniency of
 * the generic decoders turned into a named refusal.
 */
#ifndef VOUCH_DSSE_H
#define VOUCH_DSSE_H

#include <stddef.h>
#include <openssl/evp.h>

#define DSSE_KEY_ID_LEN		64	/* hex sha256 of the DER public key */
#define DSSE_SIG_DER_MAX	72	/* SEQUENCE of two 33-byte INTEGERs */

/*
 * Standard or URL-safe base64, padded, canonical. *why names the first
 * problem on -EINVAL; the caller frees *out.
 */
int dsse__b64_decode(const char *s, size_t len, unsigned char **out,
		     size_t *out_len, const char **why);
/* Standard alphabet, padded; NULL when memory runs out. */
char *dsse__b64_encode(const unsigned char *buf, size_t len);

/* "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body; caller frees. */
unsigned char *dsse__pae(const char *type, size_t type_len,
			 const unsigned char *body, size_t body_len,
			 size_t *out_len);

/* Why a signature is not strict DER, or NULL when it is. */
const char *dsse__sig_der_problem(const unsigned char *sig, size_t len);
/* 1 when sig (DER) by key verifies over msg with SHA-256, else 0. */
int dsse__verify(EVP_PKEY *key, const unsigned char *msg, size_t len,
		 const unsigned char *sig, size_t sig_len);
/* A DER signature over msg; caller frees. NULL on failure. */
unsigned char *dsse__sign(EVP_PKEY *key, const unsigned char *msg,
			  size_t len, size_t *sig_len);

/*
 * Why key is not an ECDSA key on the named curve P-256 (explicit curve
 * parameters are refused even when they describe P-256), or NULL.
 */
const char *dsse__key_problem(EVP_PKEY *key);
/* Lower-case hex sha256 of the DER SubjectPublicKeyInfo; 0 or -errno. */
int dsse__key_id(EVP_PKEY *key, char id[DSSE_KEY_ID_LEN + 1]);
/* A public key from PEM text; NULL (with *why) when it is not one. */
EVP_PKEY *dsse__public_key_from_pem(const char *pem, size_t len,
				    const char **why);

#endif /* VOUCH_DSSE_H */
