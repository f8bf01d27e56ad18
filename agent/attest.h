/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attested allow-lists (docs/ATTESTATION.md): a DSSE envelope, bare or in
 * a Sigstore bundle v0.3, holding an in-toto Statement v1 with predicate
 * https://vouch.dev/allowlist/v1, verified offline against the trust
 * config. Everything that fails a check is refused with the reason; the
 * caller keeps the policy it has.
 */
#ifndef VOUCH_ATTEST_H
#define VOUCH_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "allowlist.h"
#include "diag.h"
#include "trust.h"

#define ATTEST_PAYLOAD_TYPE	"application/vnd.in-toto+json"
#define ATTEST_STATEMENT_TYPE	"https://in-toto.io/Statement/v1"
#define ATTEST_PREDICATE_TYPE	"https://vouch.dev/allowlist/v1"
#define ATTEST_SIGSTORE_V03	"application/vnd.dev.sigstore.bundle.v0.3+json"
#define ATTEST_MAX_FILE_BYTES	(4U << 20)
#define ATTEST_MAX_SIGNATURES	16
#define ATTEST_MAX_IMAGES	4096
#define ATTEST_MAX_ENTRIES	4096	/* per exec or egress list */
/* How far "issued" may lie ahead of this node's clock. */
#define ATTEST_CLOCK_SKEW	300

/* The last allow-list accepted for a scope, kept across restarts. */
struct attest_state {
	int have;			/* 0: nothing accepted yet */
	uint64_t serial;
	char payload_sha256[65];
};

/*
 * Reads dir/allowlist-SCOPE.state. A missing file is an empty state (0);
 * a damaged one is an error (-EINVAL with a diagnostic), since starting
 * over from serial 0 would let an old bundle back in.
 */
int attest__load_state(const char *dir, const char *scope,
		       struct attest_state *st, struct diags *diags);
/*
 * Records al as the last accepted list: temp file, fsync, rename, fsync
 * of the directory. Call it after the new list is in force. 0 or -errno.
 */
int attest__commit_state(const char *dir, const struct allowlist *al);

/*
 * Reads and verifies a bundle file against t at time now (unix seconds).
 * st, when not NULL, is the replay state the serial must move past.
 * Returns the verified allow-list, or NULL with every reason in diags.
 */
struct allowlist *attest__verify_file(const struct trust *t,
				      const char *path,
				      const struct attest_state *st,
				      int64_t now, struct diags *diags);
/* The same on bytes already read; name is used in messages. */
struct allowlist *attest__verify_buffer(const struct trust *t,
					const char *name, const char *buf,
					size_t len,
					const struct attest_state *st,
					int64_t now, struct diags *diags);

/*
 * Checks a Statement (the decoded payload) against the schema alone, with
 * no signature and no freshness: what vouchctl attest runs before signing.
 */
struct allowlist *attest__parse_statement(const char *name,
					  const unsigned char *payload,
					  size_t len, struct diags *diags);

/* "a.b.c.d/n", "x:y::/n" or a bare address, IPv4 held as ::ffff:a.b.c.d;
 * bits past the prefix must be zero. NULL, or why not. */
const char *attest__parse_cidr(const char *s, uint8_t addr[16],
			       uint8_t *prefix_len);

#endif /* VOUCH_ATTEST_H */
