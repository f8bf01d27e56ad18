// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule YAML (rules/README.md). The whole file is checked and every error is
 * collected with its position, so one lint run shows everything to fix; a
 * rule set is returned only when nothing was wrong.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vouch_abi.h"
#include "egress.h"
#include "rules.h"
#include "yamltree.h"
#include "rules_internal.h"
#include "utc.h"

#define RULES_MAX_SCOPES	1000
#define RULES_MAX_PATHS		120000	/* two generations fit the tries */
#define RULES_CGROUP_MAX	4096
#define RULES_HOST_NAME		"host"

static const char *const default_loaders[] = {
	"/lib64/ld-linux-x86-64.so.2",
	"/lib/ld-linux-aarch64.so.1",
	"/lib/ld-linux.so.2",
	"/lib/ld-musl-x86_64.so.1",
	NULL
};

static const char *const top_keys[] = {
	"version", "mode", "loaders", "deny", "scopes", "exceptions",
	"containers", "images", "attestation", NULL
};
static const char *const deny_keys[] = { "exec", "egress", NULL };
static const char *const scope_keys[] = {
	"name", "match", "mode", "exec", "deny_direct_loader",
	"deny_anonymous", "check_scripts", "egress", NULL
};
static const char *const match_keys[] = {
	"host", "cgroup", "namespace", "service", "image_digest",
	"container_name", "pod_labels", NULL
};
static const char *const exec_keys[] = { "allow", "deny", NULL };
static const char *const exception_keys[] = {
	"scope", "exec", "egress", "reason", "owner", "expires", NULL
};

void rules_err(struct loader *ld, const struct ynode *node, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree__verror(ld->doc, ld->diags, node, fmt, ap);
	va_end(ap);
}

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct strset_entry *strset_slot(struct strset_entry *slots,
					size_t cap, const char *s)
{
	size_t i = str_hash(s) & (cap - 1);

	while (slots[i].s && strcmp(slots[i].s, s) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int strset_grow(struct strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 16;
	struct strset_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i].s)
			*strset_slot(slots, cap, set->slots[i].s) = set->slots[i];
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

/* Returns the earlier entry for node's string, or NULL after adding it. */
static const struct strset_entry *strset_add(struct strset *set,
					     const struct ynode *node,
					     const char *owner, int *oom)
{
	struct strset_entry *slot;

	if (set->cap && set->slots) {
		slot = strset_slot(set->slots, set->cap, node->value);
		if (slot->s)
			return slot;
	}
	if ((set->n + 1) * 2 > set->cap && strset_grow(set)) {
		*oom = 1;
		return NULL;
	}
	slot = strset_slot(set->slots, set->cap, node->value);
	slot->s = node->value;
	slot->node = node;
	slot->owner = owner;
	set->n++;
	return NULL;
}

static const struct strset_entry *strset_find(const struct strset *set,
					      const char *s)
{
	struct strset_entry *slot;

	if (!set->cap)
		return NULL;
	slot = strset_slot(set->slots, set->cap, s);
	return slot->s ? slot : NULL;
}

void rules_strset_free(struct strset *set)
{
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* Reports a duplicate; returns 1 when node's string was already seen. */
int rules_seen_before(struct loader *ld, struct strset *set,
		       const struct ynode *node, const char *owner,
		       const char *what)
{
	const struct strset_entry *prev;
	int oom = 0;

	prev = strset_add(set, node, owner, &oom);
	if (oom)
		rules_err(ld, node, "out of memory");
	if (!prev)
		return oom;
	rules_err(ld, node, "duplicate %s '%s' (first at line %d)", what, node->value,
	    prev->node->line);
	return 1;
}

/* Length of a multi-byte UTF-8 sequence from its lead byte, or -1. */
static int utf8_lead(unsigned int c, unsigned int *cp)
{
	if (c >= 0xc2 && c <= 0xdf) {
		*cp = c & 0x1f;
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		*cp = c & 0x0f;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		*cp = c & 0x07;
		return 4;
	}
	return -1;
}

/* Printable ASCII or UTF-8 without C0/C1 controls, overlongs, surrogates. */
static int utf8_char_len(const unsigned char *p, size_t left)
{
	unsigned int cp = 0;
	int len;

	if (p[0] >= 0x20 && p[0] < 0x7f)
		return 1;
	len = utf8_lead(p[0], &cp);
	if (len < 0 || (size_t)len > left)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < 0xa0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
		return -1;
	return len;
}

int rules_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int n;

	while (i < len) {
		n = utf8_char_len(p + i, len - i);
		if (n < 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

static int has_dot_component(const char *path)
{
	const char *p = path;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if ((n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return 1;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

int rules_expect_scalar(struct loader *ld, const struct ynode *node,
			 const char *what)
{
	if (node->type == YNODE_SCALAR)
		return 0;
	rules_err(ld, node, "expected %s, got %s", what, ytree__describe(node));
	return -1;
}

/* dir_ok: a trailing '/' (a directory prefix) is accepted. */
int rules_check_path(struct loader *ld, const struct ynode *node, int dir_ok)
{
	const char *p = node->value;

	if (rules_expect_scalar(ld, node, "a path"))
		return -1;
	if (node->len == 0) {
		rules_err(ld, node, "empty path");
	} else if (p[0] != '/') {
		rules_err(ld, node, "path '%s' is not absolute", p);
	} else if (node->len > VOUCH_PATH_MATCH_MAX) {
		rules_err(ld, node, "path is %zu bytes, the limit is %d", node->len,
		    VOUCH_PATH_MATCH_MAX);
	} else if (!rules_text_ok(p, node->len)) {
		rules_err(ld, node, "path contains a control character or bad UTF-8");
	} else if (strstr(p, "//")) {
		rules_err(ld, node, "path '%s' contains '//'", p);
	} else if (has_dot_component(p)) {
		rules_err(ld, node, "path '%s' has a '.' or '..' component", p);
	} else if (!dir_ok && p[node->len - 1] == '/') {
		rules_err(ld, node, "'%s' is a directory; a file is expected here", p);
	} else {
		return 0;
	}
	return -1;
}

void rules_count_path(struct loader *ld, const struct ynode *node)
{
	if (++ld->n_paths == RULES_MAX_PATHS + 1)
		rules_err(ld, node, "more than %d paths in the file", RULES_MAX_PATHS);
}

int rules_list_init(struct loader *ld, const struct ynode *node,
		     struct rules_list *list)
{
	if (node->n_kids == 0)
		return 0;
	list->items = calloc(node->n_kids, sizeof(*list->items));
	if (list->items)
		return 0;
	rules_err(ld, node, "out of memory");
	return -ENOMEM;
}

void rules_list_push(struct loader *ld, const struct ynode *node,
		      struct rules_list *list)
{
	char *copy = strdup(node->value);

	if (!copy) {
		rules_err(ld, node, "out of memory");
		return;
	}
	list->items[list->n++] = copy;
}

void rules_list_defaults(struct loader *ld, const char *const *defaults,
			 struct rules_list *list)
{
	size_t n = 0;

	while (defaults[n])
		n++;
	list->items = calloc(n, sizeof(*list->items));
	if (!list->items) {
		rules_err(ld, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		list->items[i] = strdup(defaults[i]);
		if (!list->items[i]) {
			rules_err(ld, NULL, "out of memory");
			return;
		}
		list->n++;
	}
}

void rules_list_free(struct rules_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

void rules_parse_path_list(struct loader *ld, const struct ynode *node,
			    int dir_ok, struct rules_list *list)
{
	struct strset seen = { 0 };

	if (node->type != YNODE_SEQUENCE) {
		rules_err(ld, node, "expected a list of paths, got %s",
		    ytree__describe(node));
		return;
	}
	if (rules_list_init(ld, node, list))
		return;
	for (size_t i = 0; i < node->n_kids; i++) {
		const struct ynode *kid = node->kids[i];

		rules_count_path(ld, kid);
		if (rules_check_path(ld, kid, dir_ok))
			continue;
		if (!rules_seen_before(ld, &seen, kid, NULL, "entry"))
			rules_list_push(ld, kid, list);
	}
	rules_strset_free(&seen);
}

void rules_parse_bool(struct loader *ld, const struct ynode *node, int *out)
{
	if (rules_expect_scalar(ld, node, "true or false"))
		return;
	if (node->quoted)
		rules_err(ld, node, "expected true or false, got a quoted string");
	else if (strcmp(node->value, "true") == 0)
		*out = 1;
	else if (strcmp(node->value, "false") == 0)
		*out = 0;
	else
		rules_err(ld, node, "expected true or false, got '%s'", node->value);
}

void rules_parse_mode(struct loader *ld, const struct ynode *node, int *out)
{
	static const char *const names[] = {
		[VOUCH_MODE_OFF] = "off",
		[VOUCH_MODE_AUDIT] = "audit",
		[VOUCH_MODE_ENFORCE] = "enforce",
	};

	if (!node || rules_expect_scalar(ld, node, "a mode (enforce, audit or off)"))
		return;
	for (int i = 0; i < 3; i++) {
		if (strcmp(node->value, names[i]) == 0) {
			*out = i;
			return;
		}
	}
	rules_err(ld, node, "unknown mode '%s'; expected enforce, audit or off",
	    node->value);
}

static void parse_version(struct loader *ld, const struct ynode *root)
{
	const struct ynode *node = ytree__get(root, "version");

	if (!node) {
		rules_err(ld, root, "missing required key 'version' (use version: 1)");
		return;
	}
	if (rules_expect_scalar(ld, node, "the number 1"))
		return;
	if (node->quoted)
		rules_err(ld, node, "expected the number 1, got a quoted string");
	else if (strcmp(node->value, "1") != 0)
		rules_err(ld, node,
		    "unsupported version '%s'; this vouch reads version 1",
		    node->value);
}

static void parse_loaders(struct loader *ld, const struct ynode *node)
{
	struct rules_list *list = &ld->rules->loaders;

	if (node) {
		rules_parse_path_list(ld, node, 0, list);
		return;
	}
	rules_list_defaults(ld, default_loaders, list);
}

static const char *const egress_keys[] = { "allow", "deny", NULL };

static void egress_free(struct rules_egress *eg)
{
	free(eg->allow);
	free(eg->deny);
	memset(eg, 0, sizeof(*eg));
}

/* A scope's egress: {allow: [...], deny: [...]}. */
static void parse_egress(struct loader *ld, const struct ynode *node,
			 struct rules_egress *eg)
{
	const struct ynode *allow, *deny;

	if (!node)
		return;
	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node, "expected a mapping with 'allow' and/or 'deny', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, egress_keys, "egress", ld->diags);
	allow = ytree__get(node, "allow");
	deny = ytree__get(node, "deny");
	if (allow) {
		eg->has_allowlist = 1;
		egress__parse_yaml_list(ld->doc, ld->diags, allow, &eg->allow,
					&eg->n_allow);
	}
	if (deny)
		egress__parse_yaml_list(ld->doc, ld->diags, deny, &eg->deny,
					&eg->n_deny);
}

static void parse_node_deny(struct loader *ld, const struct ynode *node)
{
	const struct ynode *exec;

	if (!node)
		return;
	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node, "expected a mapping with 'exec' or 'egress', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, deny_keys, "deny", ld->diags);
	exec = ytree__get(node, "exec");
	if (exec)
		rules_parse_path_list(ld, exec, 1, &ld->rules->deny);
	exec = ytree__get(node, "egress");
	if (exec)
		egress__parse_yaml_list(ld->doc, ld->diags, exec,
					&ld->rules->deny_egress.deny,
					&ld->rules->deny_egress.n_deny);
}

static int scope_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > RULES_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

static void parse_scope_name(struct loader *ld, const struct ynode *map,
			     struct rules_scope *scope)
{
	const struct ynode *node = ytree__get(map, "name");

	if (!node) {
		rules_err(ld, map, "missing required key 'name' in a scope");
		return;
	}
	if (rules_expect_scalar(ld, node, "a scope name"))
		return;
	if (!scope_name_ok(node->value, node->len)) {
		rules_err(ld, node,
		    "invalid scope name '%s': use 1 to %d of A-Z a-z 0-9 _ . -",
		    node->value, RULES_NAME_MAX);
		return;
	}
	if (rules_seen_before(ld, &ld->scope_names, node, NULL, "scope name"))
		return;
	scope->name = strdup(node->value);
	if (!scope->name)
		rules_err(ld, node, "out of memory");
}

static void add_pattern(struct loader *ld, const struct ynode *node,
			const char *scope_name, struct rules_list *list)
{
	const struct strset_entry *prev;
	int oom = 0;

	if (rules_expect_scalar(ld, node, "a cgroup pattern"))
		return;
	if (node->len == 0 || node->value[0] != '/') {
		rules_err(ld, node, "cgroup pattern '%s' must start with '/'",
		    node->value);
		return;
	}
	if (node->len > RULES_CGROUP_MAX || !rules_text_ok(node->value, node->len)) {
		rules_err(ld, node,
		    "cgroup pattern is too long or has control characters");
		return;
	}
	prev = strset_add(&ld->patterns, node, scope_name, &oom);
	if (oom)
		rules_err(ld, node, "out of memory");
	else if (prev && prev->owner == scope_name)
		rules_err(ld, node, "duplicate cgroup pattern '%s' (first at line %d)",
		    node->value, prev->node->line);
	else if (prev)
		rules_err(ld, node,
		    "cgroup pattern '%s' is already used by scope '%s' (line %d)",
		    node->value, prev->owner, prev->node->line);
	else
		rules_list_push(ld, node, list);
}

/* owner: the scope's name as written, alive as long as the YAML tree. */
void rules_parse_cgroups(struct loader *ld, const struct ynode *node,
			  const char *owner, struct rules_list *list)
{

	if (node->type == YNODE_SCALAR) {
		list->items = calloc(1, sizeof(*list->items));
		if (!list->items)
			rules_err(ld, node, "out of memory");
		else
			add_pattern(ld, node, owner, list);
		return;
	}
	if (node->type != YNODE_SEQUENCE) {
		rules_err(ld, node, "expected a list of cgroup patterns, got %s",
		    ytree__describe(node));
		return;
	}
	if (node->n_kids == 0)
		rules_err(ld, node, "'cgroup' needs at least one pattern");
	if (rules_list_init(ld, node, list))
		return;
	for (size_t i = 0; i < node->n_kids; i++)
		add_pattern(ld, node->kids[i], owner, list);
}

static void parse_host_flag(struct loader *ld, const struct ynode *node,
			    struct rules_scope *scope)
{
	int host = -1;

	rules_parse_bool(ld, node, &host);
	if (host == 0)
		rules_err(ld, node,
		    "'host' can only be true; match other workloads by 'cgroup'");
	if (host == 1)
		scope->host = 1;
}

static void parse_match(struct loader *ld, const struct ynode *map,
			struct rules_scope *scope)
{
	const struct ynode *node = ytree__get(map, "match");
	const struct ynode *name = ytree__get(map, "name");
	const char *owner = "?";
	const struct ynode *host, *cgroup;

	if (!node) {
		rules_err(ld, map, "missing required key 'match' in a scope");
		return;
	}
	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node,
		    "expected a mapping with 'host: true' or 'cgroup', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, match_keys, "match", ld->diags);
	host = ytree__get(node, "host");
	cgroup = ytree__get(node, "cgroup");
	rules_parse_workload_match(ld, node, scope);
	if (!!host + !!cgroup + !!scope->workload > 1)
		rules_err(ld, node,
			  "'match' takes one of 'host: true', 'cgroup' or workload keys");
	else if (!host && !cgroup && !scope->workload)
		rules_err(ld, node,
			  "'match' needs 'host: true', 'cgroup' or workload keys (namespace, service, image_digest, container_name, pod_labels)");
	if (host)
		parse_host_flag(ld, host, scope);
	if (name && name->type == YNODE_SCALAR)
		owner = name->value;
	if (cgroup)
		rules_parse_cgroups(ld, cgroup, owner, &scope->cgroups);
}

/* The same path allowed and denied in one scope is a mistake either way. */
void rules_check_conflicts(struct loader *ld, const struct ynode *allow,
			   const struct ynode *deny)
{
	struct strset denied = { 0 };
	const struct strset_entry *hit;
	int oom = 0;

	if (allow->type != YNODE_SEQUENCE || deny->type != YNODE_SEQUENCE)
		return;
	for (size_t i = 0; i < deny->n_kids && !oom; i++)
		if (deny->kids[i]->type == YNODE_SCALAR)
			strset_add(&denied, deny->kids[i], NULL, &oom);
	if (oom)
		rules_err(ld, deny, "out of memory");
	for (size_t i = 0; i < allow->n_kids && !oom; i++) {
		if (allow->kids[i]->type != YNODE_SCALAR)
			continue;
		hit = strset_find(&denied, allow->kids[i]->value);
		if (hit)
			rules_err(ld, allow->kids[i],
			    "'%s' conflicts with deny at line %d",
			    hit->s, hit->node->line);
	}
	rules_strset_free(&denied);
}

int rules_allow_deny(struct loader *ld, const struct ynode *node,
		     const char *what, const struct ynode **allow,
		     const struct ynode **deny)
{
	*allow = NULL;
	*deny = NULL;
	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node,
			  "expected a mapping with 'allow' and/or 'deny', got %s",
			  ytree__describe(node));
		return -1;
	}
	ytree__check_keys(ld->doc, node, exec_keys, what, ld->diags);
	*allow = ytree__get(node, "allow");
	*deny = ytree__get(node, "deny");
	return 0;
}

static void parse_exec(struct loader *ld, const struct ynode *node,
		       struct rules_scope *scope)
{
	const struct ynode *allow, *deny;

	if (!node || rules_allow_deny(ld, node, "exec", &allow, &deny))
		return;
	if (allow) {
		scope->has_allowlist = 1;
		rules_parse_path_list(ld, allow, 1, &scope->allow);
	}
	if (deny)
		rules_parse_path_list(ld, deny, 1, &scope->deny);
	if (allow && deny)
		rules_check_conflicts(ld, allow, deny);
}

static void parse_scope_flags(struct loader *ld, const struct ynode *map,
			      struct rules_scope *scope)
{
	const struct ynode *node;

	scope->deny_direct_loader = 1;
	scope->deny_anonymous = 1;
	scope->check_scripts = 1;
	node = ytree__get(map, "deny_direct_loader");
	if (node)
		rules_parse_bool(ld, node, &scope->deny_direct_loader);
	node = ytree__get(map, "deny_anonymous");
	if (node)
		rules_parse_bool(ld, node, &scope->deny_anonymous);
	node = ytree__get(map, "check_scripts");
	if (node)
		rules_parse_bool(ld, node, &scope->check_scripts);
}

static void scope_free_fields(struct rules_scope *scope)
{
	free(scope->name);
	rules_list_free(&scope->cgroups);
	rules_list_free(&scope->allow);
	rules_list_free(&scope->deny);
	egress_free(&scope->egress);
	rules_free_workload_match(&scope->wl);
	memset(scope, 0, sizeof(*scope));
}

static void parse_scope(struct loader *ld, const struct ynode *map,
			struct rules_scope *scope)
{
	parse_scope_name(ld, map, scope);
	parse_match(ld, map, scope);
	scope->mode = ld->rules->mode;
	rules_parse_mode(ld, ytree__get(map, "mode"), &scope->mode);
	parse_exec(ld, ytree__get(map, "exec"), scope);
	parse_scope_flags(ld, map, scope);
	parse_egress(ld, ytree__get(map, "egress"), &scope->egress);
	/* "host" always names the host scope, so no other scope may take it. */
	if (!scope->host && scope->name && !strcmp(scope->name, RULES_HOST_NAME))
		rules_err(ld, ytree__get(map, "name"),
		    "the name 'host' is reserved for the host scope");
}

/* Moves a parsed scope into place: the host first, the rest in order. */
static void place_scope(struct loader *ld, const struct ynode *map,
			struct rules_scope *scope)
{
	struct vouch_rules *rules = ld->rules;

	if (!scope->host) {
		rules->scopes[rules->n_scopes++] = *scope;
		return;
	}
	if (ld->host_line) {
		rules_err(ld, ytree__get(map, "match"),
		    "a second host scope; the first is declared at line %d",
		    ld->host_line);
		scope_free_fields(scope);
		return;
	}
	ld->host_line = map->line;
	rules->scopes[0] = *scope;
}

static void parse_scope_item(struct loader *ld, const struct ynode *map)
{
	struct rules_scope scope = { 0 };

	if (map->type != YNODE_MAPPING) {
		rules_err(ld, map,
		    "expected a scope (a mapping with 'name' and 'match'), got %s",
		    ytree__describe(map));
		return;
	}
	ytree__check_keys(ld->doc, map, scope_keys, "a scope", ld->diags);
	parse_scope(ld, map, &scope);
	place_scope(ld, map, &scope);
}

static int add_implicit_host(struct loader *ld)
{
	struct rules_scope *host = &ld->rules->scopes[0];

	host->name = strdup(RULES_HOST_NAME);
	if (!host->name) {
		rules_err(ld, NULL, "out of memory");
		return -ENOMEM;
	}
	host->host = 1;
	host->mode = ld->rules->mode;
	host->deny_direct_loader = 1;
	host->deny_anonymous = 1;
	host->check_scripts = 1;
	return 0;
}

static void parse_scopes(struct loader *ld, const struct ynode *node)
{
	struct vouch_rules *rules = ld->rules;
	size_t n = 0;

	if (node && node->type != YNODE_SEQUENCE) {
		rules_err(ld, node, "expected a list of scopes, got %s",
		    ytree__describe(node));
		node = NULL;
	}
	if (node)
		n = node->n_kids;
	if (n > RULES_MAX_SCOPES) {
		rules_err(ld, node->kids[RULES_MAX_SCOPES], "more than %d scopes",
		    RULES_MAX_SCOPES);
		n = RULES_MAX_SCOPES;
	}
	rules->scopes = calloc(n + 1, sizeof(*rules->scopes));
	if (!rules->scopes) {
		rules_err(ld, node, "out of memory");
		return;
	}
	rules->n_scopes = 1;	/* slot 0 waits for the host scope */
	for (size_t i = 0; i < n; i++)
		parse_scope_item(ld, node->kids[i]);
	if (!ld->host_line)
		add_implicit_host(ld);
}

static void parse_expires(struct loader *ld, const struct ynode *map,
			  struct rules_exception *ex)
{
	const struct ynode *node = ytree__get(map, "expires");
	int ret;

	if (!node) {
		rules_err(ld, map, "missing required key 'expires' in an exception");
		return;
	}
	if (rules_expect_scalar(ld, node, "a UTC time such as 2027-01-31T00:00:00Z"))
		return;
	ret = utc__parse(node->value, node->len, &ex->expires);
	if (ret == -ERANGE)
		rules_err(ld, node, "'%s' is not a valid date and time", node->value);
	else if (ret)
		rules_err(ld, node,
		    "expected a UTC time such as 2027-01-31T00:00:00Z, got '%s'",
		    node->value);
	else if (ex->expires <= ld->now)
		diags__add(ld->diags, DIAG_WARNING, ld->doc->file, node->line,
			   node->col, "exception expired at %s; vouchd ignores it",
			   node->value);
}

static void parse_text(struct loader *ld, const struct ynode *map,
		       const char *key, char **out)
{
	const struct ynode *node = ytree__get(map, key);
	size_t blank;

	if (!node) {
		rules_err(ld, map, "missing required key '%s' in an exception", key);
		return;
	}
	if (rules_expect_scalar(ld, node, "a string"))
		return;
	blank = strspn(node->value, " \t");
	if (blank == node->len) {
		rules_err(ld, node, "'%s' must not be empty", key);
		return;
	}
	if (!rules_text_ok(node->value, node->len)) {
		rules_err(ld, node, "'%s' contains a control character or bad UTF-8",
		    key);
		return;
	}
	*out = strdup(node->value);
	if (!*out)
		rules_err(ld, node, "out of memory");
}

static void parse_exception_scope(struct loader *ld, const struct ynode *map,
				  struct rules_exception *ex)
{
	const struct ynode *node = ytree__get(map, "scope");
	const struct strset_entry *hit;
	const char *name;

	if (!node || rules_expect_scalar(ld, node, "a scope name"))
		return;
	hit = strset_find(&ld->scope_names, node->value);
	if (strcmp(node->value, RULES_HOST_NAME) == 0)
		name = ld->rules->scopes[0].name;
	else if (hit)
		name = hit->s;
	else
		name = NULL;
	if (!name) {
		rules_err(ld, node, "exception names scope '%s', which is not declared",
		    node->value);
		return;
	}
	ex->scope = strdup(name);
	if (!ex->scope)
		rules_err(ld, node, "out of memory");
}

static void parse_exception_path(struct loader *ld, const struct ynode *map,
				 struct rules_exception *ex)
{
	const struct ynode *node = ytree__get(map, "exec");
	const struct ynode *egress = ytree__get(map, "egress");

	if (node && egress) {
		rules_err(ld, egress, "an exception covers 'exec' or 'egress', not both");
		return;
	}
	if (egress) {
		egress__parse_yaml_entry(ld->doc, ld->diags, egress, &ex->egress,
					 &ex->n_egress);
		return;
	}
	if (!node) {
		rules_err(ld, map, "missing required key 'exec' or 'egress' in an exception");
		return;
	}
	rules_count_path(ld, node);
	if (rules_check_path(ld, node, 1))
		return;
	ex->path = strdup(node->value);
	if (!ex->path)
		rules_err(ld, node, "out of memory");
}

static void parse_exception(struct loader *ld, const struct ynode *map,
			    struct rules_exception *ex)
{
	if (map->type != YNODE_MAPPING) {
		rules_err(ld, map, "expected an exception (a mapping), got %s",
		    ytree__describe(map));
		return;
	}
	ytree__check_keys(ld->doc, map, exception_keys, "an exception",
			  ld->diags);
	parse_exception_scope(ld, map, ex);
	parse_exception_path(ld, map, ex);
	parse_text(ld, map, "reason", &ex->reason);
	parse_text(ld, map, "owner", &ex->owner);
	parse_expires(ld, map, ex);
}

static void parse_exceptions(struct loader *ld, const struct ynode *node)
{
	struct vouch_rules *rules = ld->rules;

	if (!node)
		return;
	if (node->type != YNODE_SEQUENCE) {
		rules_err(ld, node, "expected a list of exceptions, got %s",
		    ytree__describe(node));
		return;
	}
	if (node->n_kids == 0)
		return;
	rules->exceptions = calloc(node->n_kids, sizeof(*rules->exceptions));
	if (!rules->exceptions) {
		rules_err(ld, node, "out of memory");
		return;
	}
	for (size_t i = 0; i < node->n_kids; i++)
		parse_exception(ld, node->kids[i],
				&rules->exceptions[rules->n_exceptions++]);
}

static void parse_top(struct loader *ld, const struct ynode *root)
{
	if (!root) {
		rules_err(ld, NULL,
		    "the file is empty; a rule file starts with 'version: 1'");
		return;
	}
	if (root->type != YNODE_MAPPING) {
		rules_err(ld, root, "expected a mapping at the top level, got %s",
		    ytree__describe(root));
		return;
	}
	ytree__check_keys(ld->doc, root, top_keys, "the rule file", ld->diags);
	parse_version(ld, root);
	ld->rules->mode = VOUCH_MODE_AUDIT;
	rules_parse_mode(ld, ytree__get(root, "mode"), &ld->rules->mode);
	parse_loaders(ld, ytree__get(root, "loaders"));
	parse_node_deny(ld, ytree__get(root, "deny"));
	rules_parse_containers(ld, ytree__get(root, "containers"));
	parse_scopes(ld, ytree__get(root, "scopes"));
	parse_exceptions(ld, ytree__get(root, "exceptions"));
	rules_parse_images(ld, ytree__get(root, "images"));
	rules_parse_attestation(ld, ytree__get(root, "attestation"));
}

void rules__free(struct vouch_rules *rules)
{
	if (!rules)
		return;
	for (size_t i = 0; i < rules->n_scopes; i++)
		scope_free_fields(&rules->scopes[i]);
	free(rules->scopes);
	for (size_t i = 0; i < rules->n_exceptions; i++) {
		free(rules->exceptions[i].scope);
		free(rules->exceptions[i].path);
		free(rules->exceptions[i].egress);
		free(rules->exceptions[i].reason);
		free(rules->exceptions[i].owner);
	}
	free(rules->exceptions);
	rules_list_free(&rules->deny);
	egress_free(&rules->deny_egress);
	rules_list_free(&rules->loaders);
	rules_free_workloads(rules);
	free(rules->source);
	free(rules);
}

struct vouch_rules *rules__load(const char *path, int64_t now,
				struct diags *diags)
{
	size_t errors = diags->errors, first = diags->n;
	struct loader ld = { .diags = diags, .now = now };
	struct ydoc *doc;

	doc = ytree__load_file(path, diags);
	if (!doc)
		return NULL;
	ld.doc = doc;
	ld.rules = calloc(1, sizeof(*ld.rules));
	if (ld.rules)
		ld.rules->source = strdup(path);
	if (!ld.rules || !ld.rules->source)
		rules_err(&ld, NULL, "out of memory");
	else
		parse_top(&ld, doc->root);

	rules_strset_free(&ld.scope_names);
	rules_strset_free(&ld.patterns);
	ytree__free(doc);
	diags__sort(diags, first);
	if (diags->errors == errors)
		return ld.rules;
	rules__free(ld.rules);
	return NULL;
}

int rules__scope_index(const struct vouch_rules *rules, const char *name)
{
	if (!rules || !name)
		return -1;
	for (size_t i = 0; i < rules->n_scopes; i++)
		if (rules->scopes[i].name && !strcmp(rules->scopes[i].name, name))
			return (int)i;
	/* "host" names the host scope whatever the file called it. */
	if (rules->n_scopes && strcmp(name, RULES_HOST_NAME) == 0)
		return VOUCH_SCOPE_HOST;
	return -1;
}
