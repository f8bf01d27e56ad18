// SPDX-License-Identifier: GPL-2.0-only
/* Compiles rules into the map entries the kernel decides with. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
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
	e->path = path;
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

/* A scope vouchd makes for containers; its flags come from containers:. */
static int new_container_scope(struct policy *p, uint32_t id, const char *name,
			       int allowlist)
{
	const struct rules_containers *c = &p->rules->containers;
	struct policy_scope *ps = &p->scopes[id];

	ps->name_buf = strdup(name);
	if (!ps->name_buf)
		return -ENOMEM;
	ps->name = ps->name_buf;
	ps->mode = (uint32_t)c->mode;
	ps->flags = VOUCH_SCOPE_CONTAINER |
		    (allowlist ? VOUCH_SCOPE_HAS_ALLOWLIST : 0) |
		    (c->deny_direct_loader ? VOUCH_SCOPE_DENY_LOADER : 0) |
		    (c->deny_anonymous ? VOUCH_SCOPE_DENY_ANONYMOUS : 0) |
		    (c->check_scripts ? VOUCH_SCOPE_CHECK_SCRIPTS : 0) |
		    (c->fail_action == RULES_FAIL_KILL ? VOUCH_SCOPE_FAIL_KILL : 0);
	return 0;
}

static int add_node_deny(struct policy *p, uint32_t id,
			 const uint32_t *node_rule_ids)
{
	const struct rules_list *deny = &p->rules->deny;
	int err = 0;

	for (size_t i = 0; !err && i < deny->n; i++)
		err = add_denied(p, id, node_rule_ids[i], deny->items[i]);
	return err;
}

static int add_image_paths(struct policy *p, uint32_t id, int allow,
			   const struct allowlist_exec *e, size_t n)
{
	const char *list = allow ? "image.exec.allow" : "image.exec.deny";
	uint32_t rule_id;
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		err = add_rule(p, p->scopes[id].name, list, e[i].path, NULL,
			       &rule_id);
		if (err)
			break;
		err = allow ? add_path(p, POLICY_ALLOW, id, rule_id, e[i].path, 0)
			    : add_denied(p, id, rule_id, e[i].path);
	}
	return err;
}

static int compile_image(struct policy *p, uint32_t id,
			 const struct allowlist_image *img,
			 const uint32_t *node_rule_ids)
{
	char name[96];
	int err;

	/* the digest names it: services may share one across versions */
	snprintf(name, sizeof(name), "image:%.60s%s%.19s", img->service ?
		 img->service : "", img->service ? "@" : "", img->digest);
	err = new_container_scope(p, id, name, 1);
	if (err)
		return err;
	p->scopes[id].image = img;
	err = add_image_paths(p, id, 1, img->exec_allow, img->n_exec_allow);
	if (!err)
		err = add_image_paths(p, id, 0, img->exec_deny, img->n_exec_deny);
	return err ? err : add_node_deny(p, id, node_rule_ids);
}

/*
 * After the rule scopes: "containers" judges containers not identified
 * yet (node-wide deny only), "unattested" those whose image is not on the
 * allow-list (an empty allow-list), then one scope per image.
 */
/* Runtimes that are not installed here are skipped. */
static void compile_runtimes(struct policy *p)
{
	const struct rules_list *l = &p->rules->containers.runtimes;
	struct stat st;

	for (size_t i = 0; i < l->n && p->n_runtimes < VOUCH_RUNTIMES_MAX; i++) {
		if (stat(l->items[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		p->runtimes[p->n_runtimes].dev = policy__kernel_dev(st.st_dev);
		p->runtimes[p->n_runtimes].ino = st.st_ino;
		p->n_runtimes++;
	}
}

static int compile_containers(struct policy *p, const uint32_t *node_rule_ids)
{
	uint32_t id = (uint32_t)p->rules->n_scopes;
	int err;

	if (!p->rules->containers.declared)
		return 0;
	compile_runtimes(p);
	p->containers_scope = id;
	p->unattested_scope = id + 1;
	p->first_image_scope = id + 2;
	err = new_container_scope(p, id, "containers", 0);
	if (!err)
		err = add_node_deny(p, id, node_rule_ids);
	if (!err)
		err = new_container_scope(p, id + 1, "unattested", 1);
	if (!err)
		err = add_node_deny(p, id + 1, node_rule_ids);
	for (size_t i = 0; !err && p->images && i < p->images->n_images; i++)
		err = compile_image(p, p->first_image_scope + (uint32_t)i,
				    &p->images->images[i], node_rule_ids);
	return err;
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

int policy__add_cgroup_entry(struct policy *p, const struct policy_cgroup *e)
{
	struct policy_cgroup *slot = grow((void **)&p->cgroups, &p->n_cgroups,
					  sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	*slot = *e;
	return 0;
}

int policy__is_container_root(const struct policy *p, const char *path)
{
	const struct rules_list *roots = &p->rules->containers.roots;

	if (p->containers_scope == POLICY_NO_SCOPE)
		return 0;
	for (size_t i = 0; i < roots->n; i++)
		if (fnmatch(roots->items[i], path, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

static int compile_cgroups(struct policy *p, const struct cgroup_index *idx)
{
	for (size_t i = 0; idx && i < idx->n; i++) {
		const char *path = idx->entries[i].path;
		struct policy_cgroup e = { .cgroup_id = idx->entries[i].id };
		int id;

		if (policy__is_container_root(p, path)) {
			e.scope_id = p->containers_scope;
			e.flags = VOUCH_CGROUP_CONTAINER_ROOT;
		} else if ((id = policy__scope_for_cgroup(p, path)) >= 0) {
			e.scope_id = (uint32_t)id;
		} else {
			continue;
		}
		if (policy__add_cgroup_entry(p, &e))
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
	for (uint32_t id = 0; !err && id < p->rules->n_scopes; id++)
		err = compile_scope(p, id, node_ids);
	if (!err)
		err = compile_containers(p, node_ids);
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

/* Rule scopes, then containers, unattested and one per image. */
static size_t count_scopes(const struct policy *p)
{
	if (!p->rules->containers.declared)
		return p->rules->n_scopes;
	return p->rules->n_scopes + 2 + (p->images ? p->images->n_images : 0);
}

struct policy *policy__compile(struct vouch_rules *rules,
			       struct allowlist *bundle,
			       const struct cgroup_index *idx, uint32_t gen)
{
	struct policy *p = calloc(1, sizeof(*p));
	int err;

	if (!p) {
		rules__free(rules);
		allowlist__free(bundle);
		return NULL;
	}
	p->rules = rules;
	p->bundle = bundle;
	p->images = bundle ? bundle : rules->images;
	p->gen = gen;
	p->containers_scope = POLICY_NO_SCOPE;
	p->unattested_scope = POLICY_NO_SCOPE;
	p->first_image_scope = POLICY_NO_SCOPE;
	p->n_scopes = count_scopes(p);
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
	for (size_t i = 0; p->scopes && i < p->n_scopes; i++)
		free(p->scopes[i].name_buf);
	policy__free_egress(p);
	free(p->scopes);
	rules__free(p->rules);
	allowlist__free(p->bundle);
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

static int label_matches(const struct workload_meta *m,
			 const struct rules_label *want)
{
	for (size_t i = 0; i < m->n_labels; i++)
		if (!strcmp(m->labels[i].key, want->key))
			return !strcmp(m->labels[i].value, want->value);
	return 0;
}

/* A field the scope names must be known and equal. */
static int field_matches(const char *want, const char *have)
{
	return !want || (have && !strcmp(want, have));
}

static int workload_matches(const struct rules_workload_match *w,
			    const struct workload_meta *m)
{
	if (!field_matches(w->namespace_, m->namespace_) ||
	    !field_matches(w->service, m->service) ||
	    !field_matches(w->image_digest, m->image_digest) ||
	    !field_matches(w->container_name, m->container_name))
		return 0;
	for (size_t i = 0; i < w->n_labels; i++)
		if (!label_matches(m, &w->labels[i]))
			return 0;
	return 1;
}

/* The first scope whose workload keys all match, in file order. */
static const struct rules_scope *workload_scope(const struct policy *p,
						const struct workload_meta *m)
{
	for (size_t i = 1; i < p->rules->n_scopes; i++)
		if (p->rules->scopes[i].workload &&
		    workload_matches(&p->rules->scopes[i].wl, m))
			return &p->rules->scopes[i];
	return NULL;
}

/* Metadata that contradicts the attested entry; a missing field does not. */
static const char *disagreement(const struct allowlist_image *img,
				const struct workload_meta *m,
				const char **have, const char **want)
{
	static const char *const names[] = { "service", "version", "namespace" };
	const char *attested[] = { img->service, img->version, img->namespace_ };
	const char *seen[] = { m->service, m->version, m->namespace_ };

	for (int i = 0; i < 3; i++) {
		if (attested[i] && seen[i] && strcmp(attested[i], seen[i])) {
			*have = seen[i];
			*want = attested[i];
			return names[i];
		}
	}
	return NULL;
}

static uint32_t image_scope(const struct policy *p,
			    const struct allowlist_image *img)
{
	return p->first_image_scope + (uint32_t)(img - p->images->images);
}

/* Where metadata is silent, the attested entry speaks for the image. */
static struct workload_meta effective_meta(const struct workload_meta *m,
					   const struct allowlist_image *img)
{
	struct workload_meta e = *m;

	if (!img)
		return e;
	if (!e.service)
		e.service = img->service;
	if (!e.version)
		e.version = img->version;
	if (!e.namespace_)
		e.namespace_ = img->namespace_;
	return e;
}

static void set_mode(const struct policy *p, const struct workload_meta *m,
		     const struct allowlist_image *img,
		     struct policy_container_verdict *v)
{
	struct workload_meta eff = effective_meta(m, img);
	const struct rules_scope *ws = workload_scope(p, &eff);

	v->mode = (uint16_t)(ws ? ws->mode : p->rules->containers.mode);
	v->rule = ws ? ws->name : "containers";
}

void policy__judge_container(const struct policy *p,
			     const struct workload_meta *m,
			     struct policy_container_verdict *v)
{
	const char *field, *have = NULL, *want = NULL;
	const struct allowlist_image *img;

	memset(v, 0, sizeof(*v));
	v->scope_id = p->unattested_scope;
	v->violation = 1;
	img = m->image_digest ? allowlist__find(p->images, m->image_digest) : NULL;
	field = img ? disagreement(img, m, &have, &want) : NULL;
	/* an entry the metadata contradicts lends it nothing */
	set_mode(p, m, field ? NULL : img, v);
	if (!m->image_digest) {
		snprintf(v->reason, sizeof(v->reason),
			 "container %.64s: no image digest in its metadata (%s)",
			 m->container_id ? m->container_id : "?",
			 m->source ? m->source : "no provider answered");
	} else if (!img) {
		snprintf(v->reason, sizeof(v->reason),
			 "image %s is not on the allow-list%s", m->image_digest,
			 p->bundle ? " (attested)" : "");
	} else if (policy__bundle_expired(p, time(NULL)) &&
		   p->rules->attestation.expired_deny) {
		snprintf(v->reason, sizeof(v->reason),
			 "the attested allow-list (serial %llu) has expired: new containers are denied",
			 (unsigned long long)p->bundle->serial);
	} else if (field) {
		snprintf(v->reason, sizeof(v->reason),
			 "image %.80s: %s '%.80s' disagrees with the attested '%.80s'",
			 m->image_digest, field, have, want);
	} else {
		v->violation = 0;
		v->image = img;
		v->scope_id = image_scope(p, img);
		snprintf(v->reason, sizeof(v->reason),
			 "image %s is attested as %s %s", m->image_digest,
			 img->service ? img->service : "?",
			 img->version ? img->version : "?");
	}
}

int policy__bundle_expired(const struct policy *p, int64_t now)
{
	return p && p->bundle && p->bundle->expires && now >= p->bundle->expires;
}

static int path_matches(const char *entry, const char *path)
{
	size_t len = strlen(entry);

	if (entry[len - 1] == '/')
		return !strncmp(entry, path, len);
	return !strcmp(entry, path);
}

static const struct policy_path *find_path(const struct policy *p,
					   enum policy_list list,
					   uint32_t scope_id, const char *path)
{
	for (size_t i = 0; i < p->n_paths[list]; i++) {
		const struct policy_path *e = &p->paths[list][i];

		if (e->scope_id == scope_id && path_matches(e->path, path))
			return e;
	}
	return NULL;
}

/* As the kernel does: an unexpired exception waives a denial. */
static int waived(const struct policy *p, uint32_t scope_id, const char *path,
		  uint32_t *rule_id)
{
	const struct policy_path *e = find_path(p, POLICY_EXCEPTION, scope_id,
						path);
	struct timespec boot;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	if (!e || (e->expires_boot_ns && e->expires_boot_ns <
		   (uint64_t)boot.tv_sec * 1000000000ULL + (uint64_t)boot.tv_nsec))
		return 0;
	*rule_id = e->rule_id;
	return 1;
}

int policy__path_allowed(const struct policy *p, uint32_t scope_id,
			 const char *path, uint32_t *rule_id)
{
	const struct policy_path *e;

	*rule_id = 0;
	if (scope_id >= p->n_scopes)
		return 0;
	e = find_path(p, POLICY_DENY, scope_id, path);
	if (e) {
		*rule_id = e->rule_id;
		return waived(p, scope_id, path, rule_id);
	}
	if (!(p->scopes[scope_id].flags & VOUCH_SCOPE_HAS_ALLOWLIST))
		return 1;
	e = find_path(p, POLICY_ALLOW, scope_id, path);
	if (e)
		*rule_id = e->rule_id;
	return e != NULL || waived(p, scope_id, path, rule_id);
}
