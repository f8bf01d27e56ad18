// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parts of rule YAML about containers (rules/README.md): how they are
 * found and held (containers:), the image allow-list used until an
 * attested bundle replaces it (images:), and the workload keys a scope's
 * match may use.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "vouch_abi.h"
#include "egress.h"
#include "rules_internal.h"

#define RULES_MAX_IMAGES	20000
#define RULES_MAX_LABELS	32
#define RULES_TEXT_MAX		253	/* a DNS name, a label value */
#define RULES_HOLD_MAX_MS	60000

static const char *const containers_keys[] = {
	"mode", "cgroup_roots", "hold_timeout_ms", "fail_action",
	"deny_direct_loader", "deny_anonymous", "check_scripts", "runtimes",
	NULL
};
static const char *const image_keys[] = {
	"digest", "service", "version", "deploy_id", "environment",
	"namespace", "exec", "egress", NULL
};

static const char *const attestation_keys[] = {
	"trust", "bundle", "state_dir", "on_expiry", NULL
};

/* Where runtimes put containers when the file names no roots. */
static const char *const default_roots[] = {
	"/kubepods", "/kubepods.slice", "/docker", "/machine.slice", NULL
};

/* The OCI runtimes' binaries, where Debian and upstream install them. */
static const char *const default_runtimes[] = {
	"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc",
	"/usr/bin/crun", NULL
};

static void parse_text_value(struct loader *ld, const struct ynode *node,
			     const char *key, char **out)
{
	if (!node || rules_expect_scalar(ld, node, "a string"))
		return;
	if (node->len == 0 || node->len > RULES_TEXT_MAX ||
	    !rules_text_ok(node->value, node->len)) {
		rules_err(ld, node,
			  "'%s' must be 1 to %d printable characters",
			  key, RULES_TEXT_MAX);
		return;
	}
	*out = strdup(node->value);
	if (!*out)
		rules_err(ld, node, "out of memory");
}

static void parse_hold_timeout(struct loader *ld, const struct ynode *node,
			       int *out)
{
	char *end;
	long v;

	if (!node || rules_expect_scalar(ld, node, "a number of milliseconds"))
		return;
	v = strtol(node->value, &end, 10);
	if (node->len == 0 || *end || v < 1 || v > RULES_HOLD_MAX_MS) {
		rules_err(ld, node,
			  "'hold_timeout_ms' must be 1 to %d, got '%s'",
			  RULES_HOLD_MAX_MS, node->value);
		return;
	}
	*out = (int)v;
}

static void parse_fail_action(struct loader *ld, const struct ynode *node,
			      int *out)
{
	if (!node || rules_expect_scalar(ld, node, "kill or release"))
		return;
	if (!strcmp(node->value, "kill"))
		*out = RULES_FAIL_KILL;
	else if (!strcmp(node->value, "release"))
		*out = RULES_FAIL_RELEASE;
	else
		rules_err(ld, node,
			  "unknown fail_action '%s'; expected kill or release",
			  node->value);
}

static void parse_container_flags(struct loader *ld, const struct ynode *map,
				  struct rules_containers *c)
{
	const struct ynode *node;

	node = ytree__get(map, "deny_direct_loader");
	if (node)
		rules_parse_bool(ld, node, &c->deny_direct_loader);
	node = ytree__get(map, "deny_anonymous");
	if (node)
		rules_parse_bool(ld, node, &c->deny_anonymous);
	node = ytree__get(map, "check_scripts");
	if (node)
		rules_parse_bool(ld, node, &c->check_scripts);
}

/* A root matching "/" would make every cgroup of the machine a container. */
static void check_root(struct loader *ld, const struct ynode *node)
{
	if (node->type == YNODE_SCALAR &&
	    fnmatch(node->value, "/", FNM_PATHNAME) == 0)
		rules_err(ld, node,
			  "container root '%s' matches the root cgroup, where every process lives",
			  node->value);
}

static void parse_roots(struct loader *ld, const struct ynode *roots,
			struct rules_list *list)
{
	if (roots->type == YNODE_SEQUENCE && !roots->n_kids) {
		rules_err(ld, roots, "'cgroup_roots' needs at least one pattern");
		return;
	}
	rules_parse_cgroups(ld, roots, "containers", list);
	if (roots->type != YNODE_SEQUENCE) {
		check_root(ld, roots);
		return;
	}
	for (size_t i = 0; i < roots->n_kids; i++)
		check_root(ld, roots->kids[i]);
}

void rules_parse_containers(struct loader *ld, const struct ynode *node)
{
	struct rules_containers *c = &ld->rules->containers;
	const struct ynode *roots, *runtimes;

	c->mode = ld->rules->mode;
	c->hold_timeout_ms = 2000;
	c->fail_action = RULES_FAIL_KILL;
	c->deny_direct_loader = 1;
	c->deny_anonymous = 1;
	c->check_scripts = 1;
	if (!node)
		return;
	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node, "expected a mapping for 'containers', got %s",
			  ytree__describe(node));
		return;
	}
	c->declared = 1;
	ytree__check_keys(ld->doc, node, containers_keys, "containers",
			  ld->diags);
	rules_parse_mode(ld, ytree__get(node, "mode"), &c->mode);
	parse_hold_timeout(ld, ytree__get(node, "hold_timeout_ms"),
			   &c->hold_timeout_ms);
	parse_fail_action(ld, ytree__get(node, "fail_action"), &c->fail_action);
	parse_container_flags(ld, node, c);
	roots = ytree__get(node, "cgroup_roots");
	if (roots)
		parse_roots(ld, roots, &c->roots);
	else
		rules_list_defaults(ld, default_roots, &c->roots);
	runtimes = ytree__get(node, "runtimes");
	if (runtimes)
		rules_parse_path_list(ld, runtimes, 0, &c->runtimes);
	else
		rules_list_defaults(ld, default_runtimes, &c->runtimes);
	if (c->runtimes.n > VOUCH_RUNTIMES_MAX)
		rules_err(ld, runtimes, "at most %d runtimes", VOUCH_RUNTIMES_MAX);
}

static int parse_digest(struct loader *ld, const struct ynode *node,
			char out[ALLOWLIST_DIGEST_LEN + 1])
{
	if (rules_expect_scalar(ld, node, "a digest such as sha256:<64 hex>"))
		return -1;
	if (!allowlist__valid_digest(node->value)) {
		rules_err(ld, node,
			  "'%.80s' is not a digest: expected sha256: and 64 lower-case hex digits",
			  node->value);
		return -1;
	}
	memcpy(out, node->value, ALLOWLIST_DIGEST_LEN + 1);
	return 0;
}

/* An image's exec list as allowlist entries; the checks are rule paths'. */
static void parse_image_paths(struct loader *ld, const struct ynode *node,
			      struct allowlist_exec **out, size_t *n)
{
	struct rules_list list = { 0 };

	rules_parse_path_list(ld, node, 1, &list);
	if (list.n) {
		*out = calloc(list.n, sizeof(**out));
		if (!*out) {
			rules_err(ld, node, "out of memory");
			rules_list_free(&list);
			return;
		}
	}
	for (size_t i = 0; i < list.n; i++) {
		(*out)[i].path = list.items[i];
		list.items[i] = NULL;
		(*n)++;
	}
	rules_list_free(&list);
}

static void parse_image_exec(struct loader *ld, const struct ynode *node,
			     struct allowlist_image *img)
{
	const struct ynode *allow, *deny;

	if (!node || rules_allow_deny(ld, node, "exec", &allow, &deny))
		return;
	if (allow)
		parse_image_paths(ld, allow, &img->exec_allow,
				  &img->n_exec_allow);
	if (deny)
		parse_image_paths(ld, deny, &img->exec_deny, &img->n_exec_deny);
	if (allow && deny)
		rules_check_conflicts(ld, allow, deny);
}

static void parse_image_egress(struct loader *ld, const struct ynode *node,
			       struct allowlist_image *img)
{
	const struct ynode *allow, *deny;

	if (!node || rules_allow_deny(ld, node, "egress", &allow, &deny))
		return;
	if (allow) {
		img->egress_declared = 1;
		egress__parse_yaml_list(ld->doc, ld->diags, allow,
					&img->egress_allow, &img->n_egress_allow);
	}
	if (deny)
		egress__parse_yaml_list(ld->doc, ld->diags, deny,
					&img->egress_deny, &img->n_egress_deny);
}

static void parse_image(struct loader *ld, const struct ynode *map,
			struct allowlist_image *img, struct strset *seen)
{
	const struct ynode *digest;

	if (map->type != YNODE_MAPPING) {
		rules_err(ld, map, "expected an image (a mapping with 'digest'), got %s",
			  ytree__describe(map));
		return;
	}
	ytree__check_keys(ld->doc, map, image_keys, "an image", ld->diags);
	digest = ytree__get(map, "digest");
	if (!digest)
		rules_err(ld, map, "missing required key 'digest' in an image");
	else if (!parse_digest(ld, digest, img->digest))
		rules_seen_before(ld, seen, digest, NULL, "image digest");
	parse_text_value(ld, ytree__get(map, "service"), "service",
			 &img->service);
	parse_text_value(ld, ytree__get(map, "version"), "version",
			 &img->version);
	parse_text_value(ld, ytree__get(map, "deploy_id"), "deploy_id",
			 &img->deploy_id);
	parse_text_value(ld, ytree__get(map, "environment"), "environment",
			 &img->environment);
	parse_text_value(ld, ytree__get(map, "namespace"), "namespace",
			 &img->namespace_);
	parse_image_exec(ld, ytree__get(map, "exec"), img);
	parse_image_egress(ld, ytree__get(map, "egress"), img);
}

void rules_parse_images(struct loader *ld, const struct ynode *node)
{
	struct strset seen = { 0 };
	struct allowlist *al;
	size_t n;

	if (!node)
		return;
	if (node->type != YNODE_SEQUENCE) {
		rules_err(ld, node, "expected a list of images, got %s",
			  ytree__describe(node));
		return;
	}
	n = node->n_kids;
	if (n > RULES_MAX_IMAGES) {
		rules_err(ld, node->kids[RULES_MAX_IMAGES], "more than %d images",
			  RULES_MAX_IMAGES);
		n = RULES_MAX_IMAGES;
	}
	al = calloc(1, sizeof(*al));
	if (al)
		al->images = calloc(n ? n : 1, sizeof(*al->images));
	if (al)
		al->source = strdup(ld->doc->file);
	if (!al || !al->images || !al->source) {
		rules_err(ld, node, "out of memory");
		allowlist__free(al);
		return;
	}
	ld->rules->images = al;
	for (size_t i = 0; i < n; i++, al->n_images++)
		parse_image(ld, node->kids[i], &al->images[i], &seen);
	rules_strset_free(&seen);
}

static void parse_labels(struct loader *ld, const struct ynode *node,
			 struct rules_workload_match *m)
{
	size_t n;

	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node, "expected a mapping of pod labels, got %s",
			  ytree__describe(node));
		return;
	}
	n = node->n_kids / 2;
	if (n == 0 || n > RULES_MAX_LABELS) {
		rules_err(ld, node, "'pod_labels' takes 1 to %d labels",
			  RULES_MAX_LABELS);
		return;
	}
	m->labels = calloc(n, sizeof(*m->labels));
	if (!m->labels) {
		rules_err(ld, node, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct rules_label *l = &m->labels[m->n_labels++];

		parse_text_value(ld, node->kids[2 * i], "label name", &l->key);
		parse_text_value(ld, node->kids[2 * i + 1], "label value",
				 &l->value);
	}
}

void rules_parse_workload_match(struct loader *ld, const struct ynode *match,
				struct rules_scope *scope)
{
	struct rules_workload_match *m = &scope->wl;
	const struct ynode *digest = ytree__get(match, "image_digest");
	const struct ynode *labels = ytree__get(match, "pod_labels");

	parse_text_value(ld, ytree__get(match, "namespace"), "namespace",
			 &m->namespace_);
	parse_text_value(ld, ytree__get(match, "service"), "service",
			 &m->service);
	parse_text_value(ld, ytree__get(match, "container_name"),
			 "container_name", &m->container_name);
	if (digest) {
		char buf[ALLOWLIST_DIGEST_LEN + 1];

		if (!parse_digest(ld, digest, buf)) {
			m->image_digest = strdup(buf);
			if (!m->image_digest)
				rules_err(ld, digest, "out of memory");
		}
	}
	if (labels)
		parse_labels(ld, labels, m);
	scope->workload = m->namespace_ || m->service || m->container_name ||
			  m->image_digest || m->n_labels;
}

void rules_free_workload_match(struct rules_workload_match *m)
{
	free(m->namespace_);
	free(m->service);
	free(m->image_digest);
	free(m->container_name);
	for (size_t i = 0; i < m->n_labels; i++) {
		free(m->labels[i].key);
		free(m->labels[i].value);
	}
	free(m->labels);
	memset(m, 0, sizeof(*m));
}

static void parse_file_key(struct loader *ld, const struct ynode *map,
			   const char *key, int dir_ok, char **out)
{
	const struct ynode *node = ytree__get(map, key);

	if (!node) {
		rules_err(ld, map, "missing required key '%s' in attestation", key);
		return;
	}
	if (rules_check_path(ld, node, dir_ok))
		return;
	*out = strdup(node->value);
	if (!*out)
		rules_err(ld, node, "out of memory");
}

void rules_parse_attestation(struct loader *ld, const struct ynode *node)
{
	struct rules_attestation *a = &ld->rules->attestation;
	const struct ynode *expiry;

	a->expired_deny = 1;
	if (!node)
		return;
	if (node->type != YNODE_MAPPING) {
		rules_err(ld, node, "expected a mapping for 'attestation', got %s",
			  ytree__describe(node));
		return;
	}
	a->declared = 1;
	ytree__check_keys(ld->doc, node, attestation_keys, "attestation",
			  ld->diags);
	parse_file_key(ld, node, "trust", 0, &a->trust);
	parse_file_key(ld, node, "bundle", 0, &a->bundle);
	parse_file_key(ld, node, "state_dir", 1, &a->state_dir);
	expiry = ytree__get(node, "on_expiry");
	if (expiry && !rules_expect_scalar(ld, expiry, "deny or keep")) {
		if (!strcmp(expiry->value, "keep"))
			a->expired_deny = 0;
		else if (strcmp(expiry->value, "deny"))
			rules_err(ld, expiry,
				  "unknown on_expiry '%s'; expected deny or keep",
				  expiry->value);
	}
	if (ld->rules->images)
		rules_err(ld, node,
			  "'attestation' and 'images' exclude each other: the verified bundle is the image allow-list");
	if (!ld->rules->containers.declared)
		rules_err(ld, node, "'attestation' needs a 'containers' section");
}

void rules_free_workloads(struct vouch_rules *rules)
{
	free(rules->attestation.trust);
	free(rules->attestation.bundle);
	free(rules->attestation.state_dir);
	rules_list_free(&rules->containers.roots);
	rules_list_free(&rules->containers.runtimes);
	allowlist__free(rules->images);
	rules->images = NULL;
}
