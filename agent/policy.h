/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A policy is rules compiled against this node: scope ids, map entries with
 * resolved cgroup ids and inodes, and the table that names each rule id in
 * events. Compiling touches no map; kernel__apply_policy() loads the result.
 */
#ifndef VOUCH_POLICY_H
#define VOUCH_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "vouch_abi.h"
#include "allowlist.h"
#include "cgroup.h"
#include "rules.h"
#include "allowlist.h"
#include "workload.h"

enum policy_list {
	POLICY_ALLOW = 0,
	POLICY_DENY = 1,
	POLICY_EXCEPTION = 2,
	POLICY_LIST_MAX = 3,
};

struct policy_path {
	uint32_t scope_id;
	uint32_t rule_id;
	uint64_t expires_boot_ns;	/* exceptions only */
	/* into the rules or the bundle the policy owns: large policies are
	 * held twice across a swap, so entries stay small */
	const char *path;
};

struct policy_inode {
	uint32_t scope_id;
	uint32_t rule_id;
	uint32_t dev;			/* kernel encoding */
	uint64_t ino;
};

struct policy_cgroup {
	uint64_t cgroup_id;
	uint32_t scope_id;
	uint16_t mode;			/* with VOUCH_CGROUP_MODE */
	uint16_t flags;			/* VOUCH_CGROUP_* */
};

struct policy_scope {
	const char *name;		/* into rules, or name_buf */
	char *name_buf;			/* owned, for scopes made of images */
	uint32_t mode;
	uint32_t flags;
	const struct allowlist_image *image;	/* image scopes only */
};

#define POLICY_NO_SCOPE	UINT32_MAX

/* What a container's metadata earns it under this policy. */
struct policy_container_verdict {
	int violation;			/* unattested, or metadata disagrees */
	uint32_t scope_id;		/* image scope, or the unattested one */
	uint16_t mode;			/* from a workload scope, else containers */
	const char *rule;		/* the scope or entry that decided */
	const struct allowlist_image *image;	/* NULL when not attested */
	char reason[320];
};

/* An egress entry of one scope, before prefixes are merged. */
struct policy_egress {
	uint32_t scope_id;
	uint32_t rule_id;
	uint32_t kind;			/* enum vouch_egress_kind */
	uint64_t expires_boot_ns;	/* exceptions only; 0: never */
	struct allowlist_egress e;
	char *text;			/* "10.0.0.0/8 443/tcp", owned */
};

/* One entry of the kernel's egress trie (policy__build_egress). */
struct policy_egress_prefix {
	struct vouch_egress_key key;
	struct vouch_egress_rule rule;
};

/* What a rule id stands for, for the event's rule and reason fields. */
struct policy_rule {
	const char *scope;		/* NULL: node-wide */
	const char *list;		/* "exec.allow", "deny.exec", ... */
	const char *path;
	const struct rules_exception *exception;
};

struct policy {
	uint32_t gen;
	struct vouch_rules *rules;	/* owned */
	struct allowlist *bundle;	/* owned; NULL: images from rules */
	const struct allowlist *images;	/* bundle, else rules->images */
	uint32_t containers_scope;	/* POLICY_NO_SCOPE: no containers: */
	uint32_t unattested_scope;
	uint32_t first_image_scope;
	struct policy_scope *scopes;	/* index is the scope id */
	size_t n_scopes;
	struct policy_path *paths[POLICY_LIST_MAX];
	size_t n_paths[POLICY_LIST_MAX];
	struct policy_inode *deny_inodes;
	size_t n_deny_inodes;
	struct policy_inode *loaders;	/* scope_id and rule_id unused */
	size_t n_loaders;
	struct policy_cgroup *cgroups;
	size_t n_cgroups;
	struct policy_inode runtimes[VOUCH_RUNTIMES_MAX];	/* found ones */
	size_t n_runtimes;
	struct policy_rule *rule_table;	/* index is the rule id */
	size_t n_rules;
	struct policy_egress *egress;
	size_t n_egress;
	struct policy_egress_prefix *egress_map;	/* what the kernel holds */
	size_t n_egress_map;
};

/*
 * Compiles rules and, when given, a verified bundle (taking ownership of
 * both, even on failure) for this node: cgroup patterns matched against
 * idx, files stat'ed for their inodes. Every image becomes a scope of its
 * own. Returns NULL and errno on failure.
 */
struct policy *policy__compile(struct vouch_rules *rules,
			       struct allowlist *bundle,
			       const struct cgroup_index *idx, uint32_t gen);
void policy__free(struct policy *p);

/* Whether the attested bundle in p has expired at now (unix seconds). */
int policy__bundle_expired(const struct policy *p, int64_t now);

/* The kernel's device encoding of a stat() st_dev. */
uint32_t policy__kernel_dev(uint64_t st_dev);
/* Boot-time nanoseconds of a unix time, for exception expiry in BPF. */
uint64_t policy__unix_to_boot_ns(int64_t unix_secs);

/* Records a cgroup created after compiling; 0 or -ENOMEM. */
int policy__add_cgroup(struct policy *p, uint64_t cgroup_id, uint32_t scope_id);
/* The same, with a container's mode and flags (VOUCH_CGROUP_*). */
int policy__add_cgroup_entry(struct policy *p, const struct policy_cgroup *e);
/* Whether new cgroups below path are containers (containers.cgroup_roots). */
int policy__is_container_root(const struct policy *p, const char *path);
/*
 * Judges a container by its metadata: attested image, and service,
 * version and namespace as attested. Fills v; never fails.
 */
void policy__judge_container(const struct policy *p,
			     const struct workload_meta *m,
			     struct policy_container_verdict *v);
/*
 * Whether scope scope_id allows the executable at path, by its path lists
 * alone (the kernel also checks inodes). For an exec judged in user space:
 * the one a container was held at. Sets *rule_id of the deciding entry.
 */
int policy__path_allowed(const struct policy *p, uint32_t scope_id,
			 const char *path, uint32_t *rule_id);
/* Scope ids matching cgroup entry path, for cgroups created after load. */
int policy__scope_for_cgroup(const struct policy *p, const char *path);
/*
 * Egress (agent/policy_egress.c). policy__add_egress() adds n entries of
 * one kind to a scope, each a rule named SCOPE/LIST:ENTRY (scope_name NULL:
 * "node"); ex, for exceptions, names the owner and reason in events.
 * policy__compile() calls it for the rule file's entries; entries from
 * other sources (image allow-lists) go in the same way before
 * policy__build_egress() merges them into egress_map.
 */
int policy__add_egress(struct policy *p, uint32_t scope_id, uint32_t kind,
		       const struct allowlist_egress *list, size_t n,
		       const char *scope_name, const char *list_name,
		       const struct rules_exception *ex);
int policy__compile_egress(struct policy *p);
/* Appends a rule to the table that names rule ids; 0 or -ENOMEM. */
int policy__add_rule(struct policy *p, const char *scope, const char *list,
		     const char *path, const struct rules_exception *ex,
		     uint32_t *id);
int policy__build_egress(struct policy *p);
void policy__free_egress(struct policy *p);

const char *policy__scope_name(const struct policy *p, uint32_t scope_id);
const struct policy_rule *policy__rule(const struct policy *p, uint32_t id);

#endif /* VOUCH_POLICY_H */
