/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the files that read rule YAML (rules.c, rules_workloads.c):
 * the loader's state and the checks every section uses. Not for other
 * modules; they see only rules.h.
 */
#ifndef VOUCH_RULES_INTERNAL_H
#define VOUCH_RULES_INTERNAL_H

#include <stdint.h>
#include "rules.h"
#include "yamltree.h"

/* A small open-addressing set of strings borrowed from the YAML tree. */
struct strset_entry {
	const char *s;
	const struct ynode *node;
	const char *owner;
};

struct strset {
	struct strset_entry *slots;
	size_t cap;
	size_t n;
};

struct loader {
	const struct ydoc *doc;
	struct diags *diags;
	int64_t now;
	struct vouch_rules *rules;
	size_t n_paths;
	int host_line;			/* where the declared host scope is */
	struct strset scope_names;
	struct strset patterns;		/* cgroup patterns of every scope */
};

void rules_err(struct loader *ld, const struct ynode *node, const char *fmt,
	       ...) __attribute__((format(printf, 3, 4)));

int rules_seen_before(struct loader *ld, struct strset *set,
		      const struct ynode *node, const char *owner,
		      const char *what);
void rules_strset_free(struct strset *set);
int rules_text_ok(const char *s, size_t len);
int rules_expect_scalar(struct loader *ld, const struct ynode *node,
			const char *what);
int rules_check_path(struct loader *ld, const struct ynode *node, int dir_ok);
void rules_count_path(struct loader *ld, const struct ynode *node);
int rules_list_init(struct loader *ld, const struct ynode *node,
		    struct rules_list *list);
void rules_list_push(struct loader *ld, const struct ynode *node,
		     struct rules_list *list);
void rules_list_free(struct rules_list *list);
/* A copy of a NULL-terminated built-in list, where the file gives none. */
void rules_list_defaults(struct loader *ld, const char *const *defaults,
			 struct rules_list *list);
void rules_parse_path_list(struct loader *ld, const struct ynode *node,
			   int dir_ok, struct rules_list *list);
/* The same path in an allow and a deny list is a mistake either way. */
void rules_check_conflicts(struct loader *ld, const struct ynode *allow,
			   const struct ynode *deny);
void rules_parse_bool(struct loader *ld, const struct ynode *node, int *out);
void rules_parse_mode(struct loader *ld, const struct ynode *node, int *out);
void rules_parse_cgroups(struct loader *ld, const struct ynode *node,
			 const char *owner, struct rules_list *list);
/*
 * A mapping of 'allow' and/or 'deny' (what names it in messages): sets
 * both, NULL where absent; -1 when node is no such mapping (reported).
 */
int rules_allow_deny(struct loader *ld, const struct ynode *node,
		     const char *what, const struct ynode **allow,
		     const struct ynode **deny);

/* rules_workloads.c: the containers: and images: sections, and the
 * workload keys of a scope's match. */
void rules_parse_containers(struct loader *ld, const struct ynode *node);
void rules_parse_images(struct loader *ld, const struct ynode *node);
void rules_parse_attestation(struct loader *ld, const struct ynode *node);
void rules_parse_workload_match(struct loader *ld, const struct ynode *match,
				struct rules_scope *scope);
void rules_free_workloads(struct vouch_rules *rules);
void rules_free_workload_match(struct rules_workload_match *m);

#endif /* VOUCH_RULES_INTERNAL_H */
