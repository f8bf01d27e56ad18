// SPDX-License-Identifier: GPL-2.0-only
/* Compiles rules into the map entries the kernel decides with. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "policy.h"


/* Appends one zeroed element; returns it, or NULL when memory runs out. */
static void *grow(void **items, size_t *n, size_t size)
{
	char *bigger;

	/* capacity doubles at powers of two, so no separate field is needed */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? *n * 2 : 1;

		bigger = realloc(*items, cap * size);
		if (!bigger)
			return NULL;
		*items = bigger;
	}
	bigger = (char *)*items + *n * size;
	memset(bigger, 0, size);
	(*n)++;
	return bigger;
}

uint32_t policy__kernel_dev(uint64_t st_dev)
{
	return (uint32_t)(major(st_dev) << 20 | minor(st_dev));
}

uint64_t policy__unix_to_boot_ns(int64_t unix_secs)
{
	struct timespec real, boot;
	int64_t delta;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	delta = unix_secs - real.tv_sec;
	if (delta <= 0)
		return 1;	/* already expired; 0 would mean never */
	if (delta > (int64_t)(UINT64_MAX / 1000000000ULL) - boot.tv_sec - 1)
		return UINT64_MAX;
	return (uint64_t)(boot.tv_sec + delta) * 1000000000ULL +
	       (uint64_t)boot.tv_nsec;
}

static int add_rule(struct policy *p, const char *scope, const char *list,
		    const char *path, const struct rules_exception *ex,
		    uint32_t *id)
{
	struct policy_rule *r = grow((void **)&p->rule_table, &p->n_rules,
				     sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->scope = scope;
	r->list = list;
	r->path = path;
	r->exception = ex;
	*id = (uint32_t)(p->n_rules - 1);
	return 0;
}

int policy__add_rule(struct policy *p, const char *scope, const char *list,
		     const char *path, const struct rules_exception *ex,
		     uint32_t *id)
{
	return add_rule(p, scope, list, path, ex, id);
}

static int add_path(struct policy *p, enum policy_list list,
		    uint32_t scope_id, uint32_t rule_id, const char *path,
		    uint64_t expires_boot_ns)
{
	struct policy_path *e = grow((void **)&p->paths[list],
				     &p->n_paths[list], sizeof(*e));

	if (!e)
		return -ENOMEM;
	if (strlen(path) > VOUCH_PATH_MATCH_MAX)
		return -ENAMETOOLONG;
	/* the kernel skips the lookups a scope has no entries for */
	if (list == POLICY_DENY)
		p->scopes[scope_id].flags |= VOUCH_SCOPE_HAS_DENY;
	e->scope_id = scope_id;
	e->rule_id = rule_id;
	e->expires_boot_ns = expires_boot_ns;
	strcpy(e->path, path);
	return 0;
}

/* A denied file is denied by identity too: hard links, bind mounts. */
static int add_deny_inode(struct policy *p, uint32_t scope_id,
			  uint32_t rule_id, const char *path)
{
	struct policy_inode *e;
	struct stat st;

	if (path[strlen(path) - 1] == '/')
		return 0;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;	/* not there now: the path entry still holds */
	e = grow((void **)&p->deny_inodes, &p->n_deny_inodes, sizeof(*e));
	if (!e)
		return -ENOMEM;
	p->scopes[scope_id].flags |= VOUCH_SCOPE_HAS_INODES;
	e->scope_id = scope_id;
	e->rule_id = rule_id;
	e->dev = policy__kernel_dev(st.st_dev);
	e->ino = st.st_ino;
	return 0;
}

static int add_denied(struct policy *p, uint32_t scope_id, uint32_t rule_id,
		      const char *path)
{
	int err = add_path(p, POLICY_DENY, scope_id, rule_id, path, 0);

	return err ? err : add_deny_inode(p, scope_id, rule_id, path);
}

static int compile_scope(struct policy *p, uint32_t id,
			 const uint32_t *node_rule_ids)
{
	const struct vouch_rules *rules = p->rules;
	const struct rules_scope *rs = &rules->scopes[id];
	struct policy_scope *ps = &p->scopes[id];
	uint32_t rule_id;
	int err;

	ps->name = rs->name;
	ps->mode = (uint32_t)rs->mode;
	ps->flags = (rs->has_allowlist ? VOUCH_SCOPE_HAS_ALLOWLIST : 0) |
		    (rs->deny_direct_loader ? VOUCH_SCOPE_DENY_LOADER : 0) |
		    (rs->deny_anonymous ? VOUCH_SCOPE_DENY_ANONYMOUS : 0) |
		    (rs->check_scripts ? VOUCH_SCOPE_CHECK_SCRIPTS : 0);
	for (size_t i = 0; i < rs->allow.n; i++) {
		err = add_rule(p, rs->name, "exec.allow", rs->allow.items[i],
			       NULL, &rule_id);
		if (!err)
			err = add_path(p, POLICY_ALLOW, id, rule_id,
				       rs->allow.items[i], 0);
		if (err)
			return err;
	}
	for (size_t i = 0; i < rs->deny.n; i++) {
		err = add_rule(p, rs->name, "exec.deny", rs->deny.items[i],
			       NULL, &rule_id);
		if (!err)
			err = add_denied(p, id, rule_id, rs->deny.items[i]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < rules->deny.n; i++) {
		err = add_denied(p, id, node_rule_ids[i], rules->deny.items[i]);
		if (err)
			return err;
	}
	return 0;
}

static int compile_exception(struct policy *p,
			     const struct rules_exception *ex, int64_t now)
{
	uint64_t expires = policy__unix_to_boot_ns(ex->expires);
	uint32_t rule_id;
	int only = -1;
	int err;

	if (ex->expires <= now || !ex->path)
		return 0;	/* expired ones waive nothing; egress: see below */
	if (ex->scope)
		only = rules__scope_index(p->rules, ex->scope);
	err = add_rule(p, ex->scope, "exception", ex->path, ex, &rule_id);
	for (size_t id = 0; !err && id < p->n_scopes; id++) {
		if (only >= 0 && (size_t)only != id)
			continue;
		err = add_path(p, POLICY_EXCEPTION, (uint32_t)id, rule_id,
			       ex->path, expires);
	}
	return err;
}

static int compile_loaders(struct policy *p)
{
	const struct rules_list *l = &p->rules->loaders;

	for (size_t i = 0; i < l->n; i++) {
		struct policy_inode *e;
		struct stat st;

		/* stat follows /lib64's symlink to the file that runs */
		if (stat(l->items[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		e = grow((void **)&p->loaders, &p->n_loaders, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->dev = policy__kernel_dev(st.st_dev);
		e->ino = st.st_ino;
	}
	for (size_t id = 0; p->n_loaders && id < p->n_scopes; id++)
		if (p->scopes[id].flags & VOUCH_SCOPE_DENY_LOADER)
			p->scopes[id].flags |= VOUCH_SCOPE_HAS_INODES;
	return 0;
}

int policy__scope_for_cgroup(const struct policy *p, const char *path)
{
	const struct vouch_rules *rules = p->rules;

	/* scope 0 is the host; among the others, file order decides */
	for (size_t id = 1; id < rules->n_scopes; id++) {
		const struct rules_list *pats = &rules->scopes[id].cgroups;

		for (size_t i = 0; i < pats->n; i++)
			if (fnmatch(pats->items[i], path, FNM_PATHNAME) == 0)
				return (int)id;
	}
	return -1;
}

int policy__add_cgroup(struct policy *p, uint64_t cgroup_id, uint32_t scope_id)
{
	struct policy_cgroup *e = grow((void **)&p->cgroups, &p->n_cgroups,
				       sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->cgroup_id = cgroup_id;
	e->scope_id = scope_id;
	return 0;
}

static int compile_cgroups(struct policy *p, const struct cgroup_index *idx)
{
	for (size_t i = 0; idx && i < idx->n; i++) {
		int id = policy__scope_for_cgroup(p, idx->entries[i].path);

		if (id >= 0 && policy__add_cgroup(p, idx->entries[i].id,
						  (uint32_t)id))
			return -ENOMEM;
	}
	return 0;
}

static int compile(struct policy *p, const struct cgroup_index *idx)
{
	const struct vouch_rules *rules = p->rules;
	uint32_t *node_ids;
	int err = 0;

	node_ids = calloc(rules->deny.n + 1, sizeof(*node_ids));
	if (!node_ids)
		return -ENOMEM;
	for (size_t i = 0; !err && i < rules->deny.n; i++)
		err = add_rule(p, NULL, "deny.exec", rules->deny.items[i],
			       NULL, &node_ids[i]);
	for (uint32_t id = 0; !err && id < p->n_scopes; id++)
		err = compile_scope(p, id, node_ids);
	free(node_ids);
	for (size_t i = 0; !err && i < rules->n_exceptions; i++)
		err = compile_exception(p, &rules->exceptions[i], time(NULL));
	if (!err)
		err = compile_loaders(p);
	if (!err)
		err = compile_cgroups(p, idx);
	if (!err)
		err = policy__compile_egress(p);
	if (!err)
		err = policy__build_egress(p);
	return err;
}

struct policy *policy__compile(struct vouch_rules *rules,
			       const struct cgroup_index *idx, uint32_t gen)
{
	struct policy *p = calloc(1, sizeof(*p));
	int err;

	if (!p) {
		rules__free(rules);
		return NULL;
	}
	p->rules = rules;
	p->gen = gen;
	p->n_scopes = rules->n_scopes;
	p->scopes = calloc(p->n_scopes, sizeof(*p->scopes));
	if (!p->scopes || p->n_scopes > VOUCH_MAX_SCOPES) {
		err = p->scopes ? -E2BIG : -ENOMEM;
		goto err_free;
	}
	err = compile(p, idx);
	if (err)
		goto err_free;
	return p;

err_free:
	policy__free(p);
	errno = -err;
	return NULL;
}

void policy__free(struct policy *p)
{
	if (!p)
		return;
	for (int l = 0; l < POLICY_LIST_MAX; l++)
		free(p->paths[l]);
	free(p->deny_inodes);
	free(p->loaders);
	free(p->cgroups);
	free(p->rule_table);
	policy__free_egress(p);
	free(p->scopes);
	rules__free(p->rules);
	free(p);
}

const char *policy__scope_name(const struct policy *p, uint32_t scope_id)
{
	if (!p || scope_id >= p->n_scopes)
		return NULL;
	return p->scopes[scope_id].name;
}

const struct policy_rule *policy__rule(const struct policy *p, uint32_t id)
{
	if (!p || id >= p->n_rules)
		return NULL;
	return &p->rule_table[id];
}
