// SPDX-License-Identifier: GPL-2.0-only
/* The policy in force, summed up as JSON for /v1/status. */
#include <stdlib.h>

#include "status.h"

const char *status__mode_name(int mode)
{
	switch (mode) {
	case VOUCH_MODE_OFF:
		return "off";
	case VOUCH_MODE_AUDIT:
		return "audit";
	case VOUCH_MODE_ENFORCE:
		return "enforce";
	default:
		return "unknown";
	}
}

static json_t *scopes_json(const struct policy *p)
{
	json_t *arr = json_array();
	size_t *cgroups = calloc(p->n_scopes ? p->n_scopes : 1, sizeof(*cgroups));

	for (size_t i = 0; cgroups && i < p->n_cgroups; i++)
		if (p->cgroups[i].scope_id < p->n_scopes)
			cgroups[p->cgroups[i].scope_id]++;
	for (size_t i = 0; arr && cgroups && i < p->n_scopes; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}",
			"name", p->scopes[i].name ? p->scopes[i].name : "",
			"mode", status__mode_name((int)p->scopes[i].mode),
			"cgroups", (json_int_t)cgroups[i]));
	free(cgroups);
	return arr;
}

static json_t *workloads_json(const struct policy *p,
			      const struct cgroup_index *idx)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < p->n_cgroups && i < STATUS_WORKLOADS_MAX;
	     i++) {
		const struct policy_cgroup *c = &p->cgroups[i];
		const char *path = idx ? cgroup__path(idx, c->cgroup_id) : NULL;
		const char *scope = policy__scope_name(p, c->scope_id);

		const char *kind = c->flags & VOUCH_CGROUP_CONTAINER_ROOT ?
				   "container-root" : c->flags & VOUCH_CGROUP_MODE ?
				   "container" : "cgroup";

		json_array_append_new(arr, json_pack("{s:s, s:I, s:s?, s:s}",
			"kind", kind, "cgroupId", (json_int_t)c->cgroup_id,
			"path", path, "scope", scope ? scope : ""));
	}
	return arr;
}

/* The attested allow-list in force, or null when images come from rules. */
static json_t *bundle_json(const struct policy *p)
{
	const struct allowlist *al = p->bundle;

	if (!al)
		return NULL;
	return json_pack("{s:I, s:s?, s:I, s:I, s:s?, s:I}",
		"serial", (json_int_t)al->serial, "scope", al->scope,
		"issued", (json_int_t)al->issued, "expires", (json_int_t)al->expires,
		"keyId", al->n_key_ids ? al->key_ids[0] : NULL,
		"images", (json_int_t)al->n_images);
}

json_t *status__policy(const struct policy *p, const char *source,
		       const struct cgroup_index *idx)
{
	int mode = p->rules ? p->rules->mode : VOUCH_MODE_OFF;
	const char *host = p->n_scopes ? status__mode_name((int)p->scopes[0].mode) :
			   "off";

	return json_pack("{s:s?, s:s, s:s, s:o*, s:{s:I, s:I, s:I}, s:I, s:o*, s:o*, s:I}",
		"source", source, "mode", status__mode_name(mode),
		"hostMode", host, "scopes", scopes_json(p),
		"lists", "allow", (json_int_t)p->n_paths[POLICY_ALLOW],
		"deny", (json_int_t)p->n_paths[POLICY_DENY],
		"exception", (json_int_t)p->n_paths[POLICY_EXCEPTION],
		"workloadCount", (json_int_t)p->n_cgroups,
		"workloads", workloads_json(p, idx),
		"bundle", bundle_json(p),
		"images", (json_int_t)(p->images ? p->images->n_images : 0));
}
