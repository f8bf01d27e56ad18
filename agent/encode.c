// SPDX-License-Identifier: GPL-2.0-only
/* struct event to vouch.v1.Event, with protobuf-c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode.h"
#include "utf8.h"
#include "vouch.pb-c.h"
#include "vouch_abi.h"

/* The strings made for one event, freed together once it is packed. */
struct arena {
	char *owned[EVENT_ARGV_MAX + 32];
	size_t n;
	int failed;
};

static char *text(struct arena *a, const char *s)
{
	char *copy;

	if (!s || !*s)
		return (char *)protobuf_c_empty_string;
	if (a->n == sizeof(a->owned) / sizeof(a->owned[0])) {
		a->failed = 1;
		return (char *)protobuf_c_empty_string;
	}
	copy = utf8__repair(s);
	if (!copy) {
		a->failed = 1;
		return (char *)protobuf_c_empty_string;
	}
	a->owned[a->n++] = copy;
	return copy;
}

void encode__time(int64_t unix_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long long)(unix_ns % 1000000000));
}

static void fill_process(Vouch__V1__Process *m, const struct event_process *p,
			 char **argv, char **flags, struct arena *a)
{
	m->pid = p->pid;
	m->tid = p->tid;
	m->ppid = p->ppid;
	m->uid = p->uid;
	m->gid = p->gid;
	m->comm = text(a, p->comm);
	m->exe = text(a, p->exe);
	m->dev = p->dev;
	m->inode = p->ino;
	for (size_t i = 0; i < p->argc; i++)
		argv[i] = text(a, p->argv[i]);
	m->n_argv = p->argc;
	m->argv = argv;
	m->argv_truncated = !!p->argv_truncated;
	m->parent_exe = text(a, p->parent_exe);
	m->n_exe_flags = 0;
	if (p->exe_flags & VOUCH_EXE_ANONYMOUS)
		flags[m->n_exe_flags++] = "anonymous";
	if (p->exe_flags & VOUCH_EXE_DELETED)
		flags[m->n_exe_flags++] = "deleted";
	if (p->exe_flags & VOUCH_EXE_TRUNCATED)
		flags[m->n_exe_flags++] = "truncated";
	if (p->exe_flags & VOUCH_EXE_VIA_SCRIPT)
		flags[m->n_exe_flags++] = "script-interpreter";
	m->exe_flags = flags;
}

static void fill_workload(Vouch__V1__Workload *m,
			  const struct event_workload *w, struct arena *a)
{
	m->kind = text(a, w->kind);
	m->cgroup_id = w->cgroup_id;
	m->cgroup_path = text(a, w->cgroup_path);
	m->scope = text(a, w->scope);
	m->container_id = text(a, w->container_id);
	m->pod = text(a, w->pod);
	m->namespace_ = text(a, w->namespace_);
	m->image_ref = text(a, w->image_ref);
	m->image_digest = text(a, w->image_digest);
	m->attested = !!w->attested;
	m->service = text(a, w->service);
	m->version = text(a, w->version);
	m->deploy_id = text(a, w->deploy_id);
	m->environment = text(a, w->environment);
	m->systemd_unit = text(a, w->systemd_unit);
}

static void fill_network(Vouch__V1__Network *m,
			 const struct event_network *n, struct arena *a)
{
	m->family = text(a, n->family);
	m->protocol = text(a, n->protocol);
	m->dest_addr = text(a, n->dest_addr);
	m->dest_port = n->dest_port;
}

static uint8_t *pack(const Vouch__V1__Event *m, size_t *len)
{
	size_t size = vouch__v1__event__get_packed_size(m);
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return NULL;
	*len = vouch__v1__event__pack(m, buf);
	return buf;
}

uint8_t *encode__event(const struct event *ev, size_t *len)
{
	Vouch__V1__Event m = VOUCH__V1__EVENT__INIT;
	Vouch__V1__Process proc = VOUCH__V1__PROCESS__INIT;
	Vouch__V1__Workload work = VOUCH__V1__WORKLOAD__INIT;
	Vouch__V1__Network net = VOUCH__V1__NETWORK__INIT;
	Vouch__V1__Policy pol = VOUCH__V1__POLICY__INIT;
	Vouch__V1__Loss loss = VOUCH__V1__LOSS__INIT;
	char *argv[EVENT_ARGV_MAX], *flags[4], ts[ENCODE_TIME_LEN];
	struct arena a = { .n = 0 };
	uint8_t *buf = NULL;

	encode__time(ev->time_ns, ts, sizeof(ts));
	m.agent_id = text(&a, ev->agent_id);
	m.node = text(&a, ev->node);
	m.seq = ev->seq;
	m.time = ts;
	m.kind = text(&a, ev->kind);
	m.verdict = text(&a, ev->verdict);
	m.action = text(&a, ev->action);
	m.mode = text(&a, ev->mode);
	m.rule = text(&a, ev->rule);
	m.reason = text(&a, ev->reason);
	if (ev->has_process) {
		fill_process(&proc, &ev->process, argv, flags, &a);
		m.process = &proc;
	}
	if (ev->has_process || ev->has_workload) {
		fill_workload(&work, &ev->workload, &a);
		m.workload = &work;
	}
	if (ev->has_network) {
		fill_network(&net, &ev->network, &a);
		m.network = &net;
	}
	if (ev->policy_gen || ev->bundle_serial) {
		pol.generation = ev->policy_gen;
		pol.bundle_serial = ev->bundle_serial;
		pol.key_id = text(&a, ev->key_id);
		m.policy = &pol;
	}
	if (ev->loss_kind) {
		loss.kind = text(&a, ev->loss_kind);
		loss.count = ev->loss_count;
		m.loss = &loss;
	}
	if (!a.failed)
		buf = pack(&m, len);
	for (size_t i = 0; i < a.n; i++)
		free(a.owned[i]);
	if (!buf)
		errno = ENOMEM;
	return buf;
}
