// SPDX-License-Identifier: GPL-2.0-only
/* JSON lines, built with jansson: one object per event, one per line. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "encode.h"
#include "sink.h"
#include "utf8.h"
#include "vouch_abi.h"

struct sink {
	FILE *out;
	int owned;
};

/*
 * Opens for appending without blocking: a FIFO nobody reads would
 * otherwise hang vouchd at start (ENXIO instead).
 */
static FILE *open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			    O_NONBLOCK, 0640);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) < 0) {
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

struct sink *sink__open(const char *where)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (strcmp(where, "stdout") == 0) {
		s->out = stdout;
		return s;
	}
	s->out = open_append(where);
	if (!s->out) {
		int err = errno;

		free(s);
		errno = err;
		return NULL;
	}
	s->owned = 1;
	return s;
}

/* Adds key: value unless value is NULL; jansson copies the string. */
static void set_str(json_t *obj, const char *key, const char *value)
{
	if (value)
		json_object_set_new(obj, key, utf8__json_string(value));
}

static void set_int(json_t *obj, const char *key, json_int_t value)
{
	json_object_set_new(obj, key, json_integer(value));
}

static json_t *process_json(const struct event_process *p)
{
	json_t *obj = json_object();
	json_t *argv = json_array();
	json_t *flags = json_array();

	set_int(obj, "pid", p->pid);
	set_int(obj, "tid", p->tid);
	set_int(obj, "ppid", p->ppid);
	set_int(obj, "uid", p->uid);
	set_int(obj, "gid", p->gid);
	set_str(obj, "comm", p->comm);
	set_str(obj, "exe", p->exe);
	set_int(obj, "dev", p->dev);
	set_int(obj, "inode", (json_int_t)p->ino);
	for (size_t i = 0; i < p->argc; i++)
		json_array_append_new(argv, utf8__json_string(p->argv[i]));
	json_object_set_new(obj, "argv", argv);
	if (p->argv_truncated)
		json_object_set_new(obj, "argvTruncated", json_true());
	set_str(obj, "parentExe", p->parent_exe);
	if (p->exe_flags & VOUCH_EXE_ANONYMOUS)
		json_array_append_new(flags, json_string("anonymous"));
	if (p->exe_flags & VOUCH_EXE_DELETED)
		json_array_append_new(flags, json_string("deleted"));
	if (p->exe_flags & VOUCH_EXE_TRUNCATED)
		json_array_append_new(flags, json_string("truncated"));
	if (p->exe_flags & VOUCH_EXE_VIA_SCRIPT)
		json_array_append_new(flags, json_string("script-interpreter"));
	json_object_set_new(obj, "exeFlags", flags);
	return obj;
}

static json_t *workload_json(const struct event_workload *w)
{
	json_t *obj = json_object();

	set_str(obj, "kind", w->kind);
	set_int(obj, "cgroupId", (json_int_t)w->cgroup_id);
	set_str(obj, "cgroupPath", w->cgroup_path);
	set_str(obj, "scope", w->scope);
	set_str(obj, "containerId", w->container_id);
	set_str(obj, "pod", w->pod);
	set_str(obj, "namespace", w->namespace_);
	set_str(obj, "imageRef", w->image_ref);
	set_str(obj, "imageDigest", w->image_digest);
	if (w->attested)
		json_object_set_new(obj, "attested", json_true());
	set_str(obj, "service", w->service);
	set_str(obj, "version", w->version);
	set_str(obj, "deployId", w->deploy_id);
	set_str(obj, "environment", w->environment);
	set_str(obj, "systemdUnit", w->systemd_unit);
	return obj;
}

static json_t *network_json(const struct event_network *n)
{
	json_t *obj = json_object();

	set_str(obj, "family", n->family);
	set_str(obj, "protocol", n->protocol);
	set_str(obj, "destAddr", n->dest_addr);
	if (n->dest_port)
		set_int(obj, "destPort", n->dest_port);
	return obj;
}

char *sink__format_json(const struct event *ev)
{
	json_t *obj = json_object();
	char ts[ENCODE_TIME_LEN];
	char *text;

	encode__time(ev->time_ns, ts, sizeof(ts));
	set_str(obj, "agentId", ev->agent_id);
	set_str(obj, "node", ev->node);
	set_int(obj, "seq", (json_int_t)ev->seq);
	set_str(obj, "time", ts);
	set_str(obj, "kind", ev->kind);
	set_str(obj, "verdict", ev->verdict);
	set_str(obj, "action", ev->action);
	set_str(obj, "mode", ev->mode);
	set_str(obj, "rule", ev->rule);
	set_str(obj, "reason", ev->reason);
	if (ev->has_process)
		json_object_set_new(obj, "process", process_json(&ev->process));
	if (ev->has_process || ev->has_workload)
		json_object_set_new(obj, "workload",
				    workload_json(&ev->workload));
	if (ev->has_network)
		json_object_set_new(obj, "network", network_json(&ev->network));
	if (ev->policy_gen || ev->bundle_serial) {
		json_t *pol = json_object();

		if (ev->policy_gen)
			set_int(pol, "generation", ev->policy_gen);
		if (ev->bundle_serial)
			set_int(pol, "bundleSerial",
				(json_int_t)ev->bundle_serial);
		set_str(pol, "keyId", ev->key_id);
		json_object_set_new(obj, "policy", pol);
	}
	if (ev->loss_kind) {
		json_t *loss = json_object();

		set_str(loss, "kind", ev->loss_kind);
		set_int(loss, "count", (json_int_t)ev->loss_count);
		json_object_set_new(obj, "loss", loss);
	}
	/* invalid UTF-8 from argv is escaped rather than refused */
	text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	return text;
}

int sink__write(struct sink *s, const struct event *ev)
{
	char *text = sink__format_json(ev);
	int err = 0;

	if (!text)
		return -ENOMEM;
	if (fprintf(s->out, "%s\n", text) < 0)
		err = -EIO;
	free(text);
	return err;
}

int sink__flush(struct sink *s)
{
	return fflush(s->out) ? -errno : 0;
}

void sink__close(struct sink *s)
{
	if (!s)
		return;
	if (s->owned)
		fclose(s->out);
	else
		fflush(s->out);
	free(s);
}
