/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The trust config (docs/ATTESTATION.md): which keys may sign allow-lists
 * for this node, how many must agree, for which scope, and how fresh a
 * bundle must be. Local and root-owned; never fetched.
 */
#ifndef VOUCH_TRUST_H
#define VOUCH_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "diag.h"
#include "dsse.h"

#define TRUST_SCOPE_MAX		63
#define TRUST_MAX_KEYS		64
#define TRUST_MAX_REVOKED	4096
#define TRUST_MAX_VALIDITY_DEFAULT	(30LL * 86400)

struct trust_key {
	char id[DSSE_KEY_ID_LEN + 1];	/* hex sha256 of the DER public key */
	char *name;			/* optional label, for messages */
	EVP_PKEY *key;
	int64_t not_before;		/* unix seconds; INT64_MIN: none */
	int64_t not_after;		/* INT64_MAX: none */
};

struct trust {
	char *source;
	struct trust_key *keys;
	size_t n_keys;
	char **revoked;			/* key ids, lower-case hex */
	size_t n_revoked;
	unsigned int threshold;		/* distinct keys; default 1 */
	char *scope;
	uint64_t min_serial;		/* default 1 */
	int64_t max_validity;		/* longest expires - issued, seconds */
};

/* Loads and checks a trust config; NULL with diagnostics on any error. */
struct trust *trust__load(const char *path, struct diags *diags);
void trust__free(struct trust *t);

/* The key with this id (revoked or not), or NULL. */
const struct trust_key *trust__find_key(const struct trust *t,
					const char *id);
int trust__is_revoked(const struct trust *t, const char *id);
/* Whether scope is 1..63 of A-Z a-z 0-9 _ . - (it names a state file). */
int trust__scope_ok(const char *scope);

#endif /* VOUCH_TRUST_H */
