// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON form of a stored event. It follows the proto3 JSON mapping
 * (lowerCamelCase names, defaults omitted) except for 64-bit integers,
 * which are numbers as in vouchd's local JSON sink rather than strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector_json.h"
#include "utf8.h"

static void set_str(json_t *obj, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(obj, key, utf8__json_string(value));
}

static void set_u32(json_t *obj, const char *key, uint32_t value)
{
	if (value)
		json_object_set_new(obj, key, json_integer(value));
}

/*
 * jansson's integers are signed 64-bit: the few values above that range
 * (overlayfs inode numbers can be) keep their digits as a string.
 */
static void set_u64(json_t *obj, const char *key, uint64_t value)
{
	char digits[24];

	if (!value)
		return;
	if (value <= INT64_MAX) {
		json_object_set_new(obj, key, json_integer((json_int_t)value));
		return;
	}
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)value);
	json_object_set_new(obj, key, json_string(digits));
}

static void set_bool(json_t *obj, const char *key, int value)
{
	if (value)
		json_object_set_new(obj, key, json_true());
}

static void set_list(json_t *obj, const char *key, char *const *list,
		     size_t n)
{
	json_t *arr;

	if (n == 0)
		return;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, utf8__json_string(list[i]));
	json_object_set_new(obj, key, arr);
}

static json_t *process_json(const Vouch__V1__Process *p)
{
	json_t *obj = json_object();

	set_u32(obj, "pid", p->pid);
	set_u32(obj, "tid", p->tid);
	set_u32(obj, "ppid", p->ppid);
	set_u32(obj, "uid", p->uid);
	set_u32(obj, "gid", p->gid);
	set_str(obj, "comm", p->comm);
	set_str(obj, "exe", p->exe);
	set_u64(obj, "dev", p->dev);
	set_u64(obj, "inode", p->inode);
	set_list(obj, "argv", p->argv, p->n_argv);
	set_bool(obj, "argvTruncated", p->argv_truncated);
	set_str(obj, "parentExe", p->parent_exe);
	set_list(obj, "exeFlags", p->exe_flags, p->n_exe_flags);
	return obj;
}

static json_t *workload_json(const Vouch__V1__Workload *w)
{
	json_t *obj = json_object();

	set_str(obj, "kind", w->kind);
	set_u64(obj, "cgroupId", w->cgroup_id);
	set_str(obj, "cgroupPath", w->cgroup_path);
	set_str(obj, "scope", w->scope);
	set_str(obj, "containerId", w->container_id);
	set_str(obj, "pod", w->pod);
	set_str(obj, "namespace", w->namespace_);
	set_str(obj, "imageRef", w->image_ref);
	set_str(obj, "imageDigest", w->image_digest);
	set_bool(obj, "attested", w->attested);
	set_str(obj, "service", w->service);
	set_str(obj, "version", w->version);
	set_str(obj, "deployId", w->deploy_id);
	set_str(obj, "environment", w->environment);
	set_str(obj, "systemdUnit", w->systemd_unit);
	return obj;
}

static json_t *network_json(const Vouch__V1__Network *n)
{
	json_t *obj = json_object();

	set_str(obj, "family", n->family);
	set_str(obj, "protocol", n->protocol);
	set_str(obj, "destAddr", n->dest_addr);
	set_u32(obj, "destPort", n->dest_port);
	return obj;
}

static json_t *policy_json(const Vouch__V1__Policy *p)
{
	json_t *obj = json_object();

	set_u32(obj, "generation", p->generation);
	set_u64(obj, "bundleSerial", p->bundle_serial);
	set_str(obj, "keyId", p->key_id);
	return obj;
}

static json_t *loss_json(const Vouch__V1__Loss *l)
{
	json_t *obj = json_object();

	set_str(obj, "kind", l->kind);
	set_u64(obj, "count", l->count);
	return obj;
}

/* A present sub-message is written even when empty, as proto3 JSON does. */
static void set_parts(json_t *obj, const Vouch__V1__Event *ev)
{
	if (ev->process)
		json_object_set_new(obj, "process", process_json(ev->process));
	if (ev->workload)
		json_object_set_new(obj, "workload",
				    workload_json(ev->workload));
	if (ev->network)
		json_object_set_new(obj, "network", network_json(ev->network));
	if (ev->policy)
		json_object_set_new(obj, "policy", policy_json(ev->policy));
	if (ev->loss)
		json_object_set_new(obj, "loss", loss_json(ev->loss));
}

json_t *collector_json__event(const Vouch__V1__Event *ev, int64_t id)
{
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	json_object_set_new(obj, "id", json_integer(id));
	set_str(obj, "agentId", ev->agent_id);
	set_str(obj, "node", ev->node);
	set_u64(obj, "seq", ev->seq);
	set_str(obj, "time", ev->time);
	set_str(obj, "kind", ev->kind);
	set_str(obj, "verdict", ev->verdict);
	set_str(obj, "action", ev->action);
	set_str(obj, "mode", ev->mode);
	set_str(obj, "rule", ev->rule);
	set_str(obj, "reason", ev->reason);
	set_parts(obj, ev);
	return obj;
}

char *collector_json__line(const Vouch__V1__Event *ev, int64_t id,
			   size_t *len)
{
	json_t *obj = collector_json__event(ev, id);
	char *text, *line;
	size_t n;

	text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text)
		return NULL;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}
