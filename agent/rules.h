/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rule YAML, as security teams write it (rules/README.md documents the
 * format). rules__load() validates everything and returns a complete rule
 * set or nothing; it never touches the kernel.
 */
#ifndef VOUCH_RULES_H
#define VOUCH_RULES_H

#include <stddef.h>
#include <stdint.h>
#include "allowlist.h"
#include "diag.h"

#define RULES_NAME_MAX		63

struct rules_list {
	char **items;
	size_t n;
};

struct rules_label {
	char *key;
	char *value;
};

/*
 * What a scope matches among containers, once vouchd knows their metadata.
 * Every field given must match; NULL fields match anything.
 */
struct rules_workload_match {
	char *namespace_;
	char *service;
	char *image_digest;
	char *container_name;
	struct rules_label *labels;	/* pod labels, all required */
	size_t n_labels;
};

/* Egress entries of a scope, or the node-wide deny list (deny only). */
struct rules_egress {
	int has_allowlist;		/* egress.allow given, even empty */
	struct allowlist_egress *allow;
	size_t n_allow;
	struct allowlist_egress *deny;
	size_t n_deny;
};

struct rules_scope {
	char *name;
	int host;			/* the host scope: no cgroup of its own */
	struct rules_list cgroups;	/* fnmatch patterns on cgroup v2 paths */
	int workload;			/* matches containers by metadata */
	struct rules_workload_match wl;
	int mode;			/* enum vouch_mode */
	int has_allowlist;		/* exec.allow given, even empty */
	struct rules_list allow;	/* exact paths and dir/ prefixes */
	struct rules_list deny;
	int deny_direct_loader;		/* default 1 */
	int deny_anonymous;		/* default 1 */
	int check_scripts;		/* default 1 */
	struct rules_egress egress;
};

struct rules_exception {
	char *scope;			/* NULL: every scope */
	char *path;			/* exact path or dir/ prefix */
	struct allowlist_egress *egress;	/* or destinations (path NULL) */
	size_t n_egress;
	char *reason;
	char *owner;
	int64_t expires;		/* unix seconds, UTC */
};

enum rules_fail_action {
	RULES_FAIL_KILL = 0,
	RULES_FAIL_RELEASE = 1,
};

/* How containers are found, held and judged (rules/README.md). */
struct rules_containers {
	int declared;			/* the section is in the file */
	int mode;			/* for containers no scope matches */
	struct rules_list roots;	/* cgroup patterns containers live below */
	struct rules_list runtimes;	/* the runtimes' own binaries */
	int hold_timeout_ms;		/* longest wait for metadata */
	int fail_action;		/* enum rules_fail_action */
	int deny_direct_loader;
	int deny_anonymous;
	int check_scripts;
};

/* Where the attested allow-list comes from (docs/ATTESTATION.md). */
struct rules_attestation {
	int declared;
	char *trust;			/* trust config file */
	char *bundle;			/* DSSE envelope or Sigstore bundle */
	char *state_dir;		/* last accepted serial, per scope */
	int expired_deny;		/* after expiry, new containers: deny */
};

struct vouch_rules {
	char *source;			/* the file it came from */
	int mode;			/* default for scopes without one */
	struct rules_list deny;		/* node-wide deny, every scope */
	struct rules_egress deny_egress;	/* node-wide, deny only */
	struct rules_list loaders;	/* ELF interpreters */
	struct rules_scope *scopes;	/* scopes[0] is always the host */
	size_t n_scopes;
	struct rules_exception *exceptions;
	size_t n_exceptions;
	struct rules_containers containers;
	/* images: the allow-list used while no attested bundle is loaded */
	struct allowlist *images;
	struct rules_attestation attestation;
};

/*
 * Loads and validates a rule file. Returns NULL and fills diags (every error
 * found, each with file:line:column) when the file is not valid. Warnings,
 * such as an exception already expired, may be added on success too.
 * now is the time expiry is judged against (unix seconds).
 */
struct vouch_rules *rules__load(const char *path, int64_t now,
				struct diags *diags);
void rules__free(struct vouch_rules *rules);

/* Index of the scope named name, or -1. */
int rules__scope_index(const struct vouch_rules *rules, const char *name);

#endif /* VOUCH_RULES_H */
