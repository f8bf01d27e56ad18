/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The allow-list of images as vouchd enforces it, whatever it came from:
 * an attested bundle verified against the trust config (agent/attest.c),
 * or, without one, the images: section of rule YAML. Policy compiles each
 * image entry into a scope of its own, with its executables and egress.
 */
#ifndef VOUCH_ALLOWLIST_H
#define VOUCH_ALLOWLIST_H

#include <stddef.h>
#include <stdint.h>

#define ALLOWLIST_DIGEST_LEN	71	/* "sha256:" + 64 hex digits */

/* An executable path or directory (ending in '/'), optionally pinned. */
struct allowlist_exec {
	char *path;
	int has_sha256;
	uint8_t sha256[32];
};

enum allowlist_proto {
	ALLOWLIST_PROTO_ANY = 0,
	ALLOWLIST_PROTO_TCP = 6,
	ALLOWLIST_PROTO_UDP = 17,
};

/*
 * A destination range: IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * with prefix_len counted over 128 bits, so one trie serves both families.
 */
struct allowlist_egress {
	uint8_t addr[16];
	uint8_t prefix_len;		/* 0..128 */
	uint8_t protocol;		/* enum allowlist_proto */
	uint16_t port_lo;		/* 0..65535; lo = 0, hi = 65535: any */
	uint16_t port_hi;
};

struct allowlist_image {
	char digest[ALLOWLIST_DIGEST_LEN + 1];
	char *service;
	char *version;
	char *deploy_id;
	char *environment;
	char *namespace_;		/* NULL: any namespace */
	char *source_repo;
	char *source_commit;
	char *builder;
	struct allowlist_exec *exec_allow;
	size_t n_exec_allow;
	struct allowlist_exec *exec_deny;
	size_t n_exec_deny;
	int egress_declared;		/* egress given: an allow-list, maybe empty */
	struct allowlist_egress *egress_allow;
	size_t n_egress_allow;
	struct allowlist_egress *egress_deny;
	size_t n_egress_deny;
};

struct allowlist {
	char *source;			/* file it came from, for messages */
	int attested;			/* 1: from a verified bundle */
	uint64_t serial;		/* 0 when not attested */
	int64_t issued;			/* unix seconds; 0 when not attested */
	int64_t expires;
	char *scope;
	char **key_ids;			/* keys whose signatures counted */
	size_t n_key_ids;
	/* hex sha256 of the signed statement: the same serial must always
	 * come with the same content (agent/attest.c) */
	char payload_sha256[65];
	struct allowlist_image *images;
	size_t n_images;
};

void allowlist__free(struct allowlist *al);
/* The entry for digest ("sha256:..."), or NULL. */
const struct allowlist_image *allowlist__find(const struct allowlist *al,
					      const char *digest);
/* Whether s is "sha256:" followed by 64 lower-case hex digits. */
int allowlist__valid_digest(const char *s);

#endif /* VOUCH_ALLOWLIST_H */
