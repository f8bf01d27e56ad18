// SPDX-License-Identifier: GPL-2.0-only
/* From ring buffer record to shipped event. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "containers.h"
#include "units.h"
#include "connect_event.h"
#include "encode.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "shipper.h"
#include "spool.h"

#define CGROUP_RESCAN_NS	1000000000LL	/* at most one rescan a second */

struct events {
	struct kernel *kernel;
	struct sink *sink;
	struct ring_buffer *rb;
	struct events_identity id;
	struct cgroup_index *cgroups;
	int64_t last_rescan_ns;
	uint64_t seq;
	uint64_t shipped;
	uint64_t reported_losses[VOUCH_EVENT_KIND_MAX];
	uint64_t lost;
	int write_errors_logged;
	struct spool *spool;		/* NULL: no collector */
	struct shipper *shipper;
	uint64_t spool_errors;
	uint64_t reported_spool_drops;
	uint64_t reported_rejected;
	struct containers *containers;	/* NULL: no container support */
	struct units *units;		/* NULL: units are not named */
	struct metrics *metrics;	/* NULL: not counted */
};

static const char *const kind_names[VOUCH_EVENT_KIND_MAX] = {
	[VOUCH_EVENT_EXEC] = "exec",
	[VOUCH_EVENT_SCRIPT] = "script",
	[VOUCH_EVENT_EXCEPTION] = "exception",
	[VOUCH_EVENT_CGROUP_MKDIR] = "cgroup",
	[VOUCH_EVENT_CONNECT] = "connect",
	[VOUCH_EVENT_CONTAINER] = "container",
};

static const char *const mode_names[] = {
	[VOUCH_MODE_OFF] = "off",
	[VOUCH_MODE_AUDIT] = "audit",
	[VOUCH_MODE_ENFORCE] = "enforce",
};

static const char *const action_names[] = {
	[VOUCH_ACTION_NONE] = "none",
	[VOUCH_ACTION_KILLED] = "killed",
	[VOUCH_ACTION_REPORTED] = "reported",
	[VOUCH_ACTION_REFUSED] = "refused",
	[VOUCH_ACTION_HELD] = "held",
};

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The kernel stamps boot time; events carry wall time. */
static int64_t boot_to_unix_ns(uint64_t boot_ns)
{
	return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME) +
	       (int64_t)boot_ns;
}

static const char *cgroup_path(struct events *e, uint64_t id)
{
	const char *path = cgroup__path(e->cgroups, id);
	int64_t now = clock_ns(CLOCK_MONOTONIC);
	struct cgroup_index *fresh;

	if (path || now - e->last_rescan_ns < CGROUP_RESCAN_NS)
		return path;
	e->last_rescan_ns = now;
	fresh = cgroup__scan(e->id.cgroup_mount);
	if (!fresh)
		return NULL;
	cgroup__free(e->cgroups);
	e->cgroups = fresh;
	return cgroup__path(e->cgroups, id);
}

void events__split_argv(struct event_process *p, char *buf, size_t len,
			int truncated)
{
	size_t start = 0;

	p->argc = 0;
	p->argv_truncated = truncated;
	buf[len] = '\0';
	while (start < len && p->argc < EVENT_ARGV_MAX) {
		p->argv[p->argc++] = &buf[start];
		start += strlen(&buf[start]) + 1;
	}
	if (start < len)
		p->argv_truncated = 1;
}

static void describe_rule(const struct policy *pol,
			  const struct vouch_exec_event *r, const char *scope,
			  char *buf, size_t len)
{
	const struct policy_rule *rule = policy__rule(pol, r->rule_id);

	switch (r->reason) {
	case VOUCH_REASON_DENY_PATH:
	case VOUCH_REASON_DENY_INODE:
		break;
	case VOUCH_REASON_DIRECT_LOADER:
		snprintf(buf, len, "%s/deny_direct_loader", scope);
		return;
	case VOUCH_REASON_ANONYMOUS:
		snprintf(buf, len, "%s/deny_anonymous", scope);
		return;
	case VOUCH_REASON_PATH_TOO_LONG:
		snprintf(buf, len, "%s/path_limit", scope);
		return;
	case VOUCH_REASON_NOT_ALLOWED:
		if (r->kind != VOUCH_EVENT_EXCEPTION) {
			snprintf(buf, len, "%s/exec.allow", scope);
			return;
		}
		break;
	default:
		break;
	}
	if (rule)
		snprintf(buf, len, "%s/%s:%s", rule->scope ? rule->scope : "node",
			 rule->list, rule->path);
	else
		snprintf(buf, len, "%s/unknown-rule-%u", scope, r->rule_id);
}

static void describe_reason(const struct policy *pol,
			    const struct vouch_exec_event *r,
			    const char *exe, const char *scope,
			    char *buf, size_t len)
{
	const struct policy_rule *rule = policy__rule(pol, r->rule_id);
	const char *what = r->kind == VOUCH_EVENT_SCRIPT ? "script" : "executable";

	if (r->kind == VOUCH_EVENT_EXCEPTION && rule && rule->exception) {
		snprintf(buf, len, "%s %s allowed by exception (owner %s): %s",
			 what, exe, rule->exception->owner,
			 rule->exception->reason);
		return;
	}
	switch (r->reason) {
	case VOUCH_REASON_NOT_ALLOWED:
		snprintf(buf, len, "%s %s is not on the allow-list of scope '%s'",
			 what, exe, scope);
		break;
	case VOUCH_REASON_DENY_PATH:
		snprintf(buf, len, "%s %s matches deny entry '%s'", what, exe,
			 rule ? rule->path : "?");
		break;
	case VOUCH_REASON_DENY_INODE:
		snprintf(buf, len, "%s %s is the same file as denied '%s'",
			 what, exe, rule ? rule->path : "?");
		break;
	case VOUCH_REASON_DIRECT_LOADER:
		snprintf(buf, len, "the dynamic loader %s was executed directly",
			 exe);
		break;
	case VOUCH_REASON_ANONYMOUS:
		snprintf(buf, len, "%s %s has no path (memfd or detached file)",
			 what, exe);
		break;
	case VOUCH_REASON_PATH_TOO_LONG:
		snprintf(buf, len, "%s path is too long or too deep to match a rule",
			 what);
		break;
	default:
		snprintf(buf, len, "%s %s: reason %u", what, exe, r->reason);
	}
}

static void fill_process(struct event_process *p,
			 const struct vouch_exec_event *r, char *argv_buf,
			 char *parent_exe)
{

	p->pid = r->tgid;
	p->tid = r->pid;
	p->ppid = r->ppid;
	p->uid = r->uid;
	p->gid = r->gid;
	memcpy(p->comm, r->comm, VOUCH_COMM_LEN);
	p->comm[VOUCH_COMM_LEN] = '\0';
	p->dev = r->dev;
	p->ino = r->ino;
	p->exe_flags = r->flags;
	memcpy(argv_buf, r->argv, VOUCH_ARGV_MAX);
	events__split_argv(p, argv_buf,
			   r->argv_len < VOUCH_ARGV_MAX ? r->argv_len : VOUCH_ARGV_MAX,
			   !!(r->flags & VOUCH_ARGV_TRUNCATED));
	memcpy(parent_exe, r->parent_path, VOUCH_PARENT_PATH_MAX);
	parent_exe[VOUCH_PARENT_PATH_MAX - 1] = '\0';
	p->parent_exe = parent_exe[0] ? parent_exe : NULL;
}

/* Into the spool before anything is sent: at-least-once starts here. */
static int spool_event(struct events *e, const struct event *ev)
{
	size_t len = 0;
	uint8_t *buf = encode__event(ev, &len);
	int err = buf ? spool__append(e->spool, ev->seq, buf, len) : -ENOMEM;

	free(buf);
	if (err && !e->spool_errors++)
		log_error("events: failed to spool event %llu: %s",
			  (unsigned long long)ev->seq, strerror(-err));
	return err;
}

/* A decision made under an attested list names its serial and key. */
static void name_bundle(struct events *e, struct event *ev)
{
	const struct policy *pol;

	if (!ev->policy_gen || ev->bundle_serial)
		return;
	pol = kernel__policy(e->kernel, ev->policy_gen);
	if (!pol || !pol->bundle)
		return;
	ev->bundle_serial = pol->bundle->serial;
	ev->key_id = pol->bundle->n_key_ids ? pol->bundle->key_ids[0] : NULL;
}

static int ship(struct events *e, struct event *ev)
{
	int err;

	ev->agent_id = e->id.agent_id;
	ev->node = e->id.node;
	ev->seq = ++e->seq;
	name_bundle(e, ev);
	/* spool first: a local line is never ahead of what will be sent */
	if (e->spool)
		spool_event(e, ev);
	err = e->sink ? sink__write(e->sink, ev) : 0;
	if (err && !e->write_errors_logged++)
		log_error("events: failed to write event %llu: %s",
			  (unsigned long long)ev->seq, strerror(-err));
	e->shipped++;
	metrics__count_event(e->metrics, ev->kind, ev->verdict);
	return err;
}

/* Makes the drained events durable, then tells the shipper. */
static void flush(struct events *e)
{
	if (e->sink)
		sink__flush(e->sink);
	if (!e->spool)
		return;
	if (spool__sync(e->spool) == 0 && e->shipper)
		shipper__kick(e->shipper);
}

static void report_loss(struct events *e, const char *kind, uint64_t count,
			const char *why)
{
	struct event ev = { 0 };

	/* every kind gets its series, at 0 until something is lost */
	metrics__count_loss(e->metrics, kind, count);
	if (!count)
		return;
	e->lost += count;
	ev.time_ns = clock_ns(CLOCK_REALTIME);
	ev.kind = "loss";
	ev.reason = why;
	ev.loss_kind = kind;
	ev.loss_count = count;
	ship(e, &ev);
}

/*
 * Where numbering starts. A spool that remembers nothing (new, or its
 * state and segments lost) starts from the time in microseconds: larger
 * than any seq this agent can have used before, as long as it has sent
 * fewer than a million events a second, so the collector's deduplication
 * never swallows new events as old ones.
 */
static uint64_t first_seq(struct spool *spool)
{
	uint64_t last = spool__last_seq(spool);

	if (last)
		return last;
	return (uint64_t)clock_ns(CLOCK_REALTIME) / 1000;
}

/* Damage found when the spool was opened: logged once, and a loss. */
static void report_spool_damage(struct events *e)
{
	struct spool_stats st;

	spool__stats(e->spool, &st);
	if (!st.corrupt_skipped && !st.torn_truncated)
		return;
	log_warn("spool: %llu damaged stretches skipped, %llu torn tails cut",
		 (unsigned long long)st.corrupt_skipped,
		 (unsigned long long)st.torn_truncated);
	report_loss(e, "spool-damage", st.corrupt_skipped + st.torn_truncated,
		    "damaged spool records were skipped (count: stretches, not events)");
}

void events__ship_to(struct events *e, struct spool *spool,
		     struct shipper *shipper)
{
	e->spool = spool;
	e->shipper = shipper;
	e->seq = first_seq(spool);
	e->reported_spool_drops = spool__dropped(spool);
	report_spool_damage(e);
}

static void fill_workload(struct events *e, struct event_workload *w,
			  uint64_t cgroup_id, uint32_t scope_id)
{
	w->kind = scope_id == VOUCH_SCOPE_HOST ? "host" : "cgroup";
	w->cgroup_id = cgroup_id;
	w->cgroup_path = cgroup_path(e, cgroup_id);
	if (!containers__fill_workload(e->containers, cgroup_id,
				       w->cgroup_path, w))
		units__fill_workload(e->units, w->cgroup_path, w);
}

static int handle_exec(struct events *e, const struct vouch_exec_event *r)
{
	const struct policy *pol = kernel__policy(e->kernel, r->policy_gen);
	const char *scope = policy__scope_name(pol, r->scope_id);
	char exe[VOUCH_PATH_MAX + 1], argv_buf[VOUCH_ARGV_MAX + 1];
	char parent_exe[VOUCH_PARENT_PATH_MAX], rule[VOUCH_PATH_MAX + 128];
	char reason[2 * VOUCH_PATH_MAX + 256];
	struct event ev = { 0 };

	memcpy(exe, r->path, VOUCH_PATH_MAX);
	exe[VOUCH_PATH_MAX] = '\0';
	if (!scope)
		scope = r->scope_id == VOUCH_SCOPE_HOST ? "host" : "unknown";
	ev.time_ns = boot_to_unix_ns(r->boot_ns);
	ev.kind = kind_names[r->kind];
	ev.verdict = r->verdict == VOUCH_VERDICT_DENY ? "deny" : "allow";
	ev.action = r->action <= VOUCH_ACTION_HELD ? action_names[r->action] :
		    "unknown";
	ev.mode = r->mode < 3 ? mode_names[r->mode] : "unknown";
	describe_rule(pol, r, scope, rule, sizeof(rule));
	describe_reason(pol, r, exe, scope, reason, sizeof(reason));
	ev.rule = rule;
	ev.reason = reason;
	ev.has_process = 1;
	fill_process(&ev.process, r, argv_buf, parent_exe);
	ev.process.exe = exe;
	fill_workload(e, &ev.workload, r->cgroup_id, r->scope_id);
	ev.workload.scope = scope;
	ev.policy_gen = r->policy_gen;
	return ship(e, &ev);
}

int events__emit_verdict(struct events *e, const struct vouch_exec_event *r,
			 const struct events_verdict *v)
{
	char exe[VOUCH_PATH_MAX + 1], argv_buf[VOUCH_ARGV_MAX + 1];
	char parent_exe[VOUCH_PARENT_PATH_MAX];
	const struct policy *pol = kernel__active(e->kernel);
	struct event ev = { 0 };
	int err;

	ev.time_ns = clock_ns(CLOCK_REALTIME);
	ev.kind = v->kind;
	ev.verdict = v->verdict;
	ev.action = v->action;
	ev.mode = v->mode;
	ev.rule = v->rule;
	ev.reason = v->reason;
	if (r) {
		memcpy(exe, r->path, VOUCH_PATH_MAX);
		exe[VOUCH_PATH_MAX] = '\0';
		ev.has_process = 1;
		fill_process(&ev.process, r, argv_buf, parent_exe);
		ev.process.exe = exe;
	}
	ev.has_workload = 1;
	fill_workload(e, &ev.workload, v->cgroup_id, VOUCH_SCOPE_HOST);
	ev.policy_gen = pol ? pol->gen : 0;
	err = ship(e, &ev);
	flush(e);
	return err;
}

void events__set_containers(struct events *e, struct containers *c)
{
	e->containers = c;
}

void events__set_units(struct events *e, struct units *u)
{
	e->units = u;
}

static int handle_connect(struct events *e,
			  const struct vouch_connect_event *r)
{
	const struct policy *pol = kernel__policy(e->kernel, r->policy_gen);
	struct connect_event_text text;
	struct event ev = { 0 };

	connect_event__fill(&ev, r, pol, "/proc", &text);
	ev.time_ns = boot_to_unix_ns(r->boot_ns);
	ev.workload.cgroup_path = cgroup_path(e, r->cgroup_id);
	if (!containers__fill_workload(e->containers, r->cgroup_id,
				       ev.workload.cgroup_path, &ev.workload))
		units__fill_workload(e->units, ev.workload.cgroup_path,
				     &ev.workload);
	return ship(e, &ev);
}

/*
 * A cgroup created after the policy was compiled gets the scope its path
 * matches. Until this runs, execs in it are judged by its nearest known
 * ancestor's scope.
 */
static void handle_cgroup(struct events *e, const struct vouch_cgroup_event *r)
{
	const struct policy *pol = kernel__active(e->kernel);
	char path[VOUCH_CGROUP_PATH_MAX + 1];
	const char *p = path;
	int scope, err;

	memcpy(path, r->path, VOUCH_CGROUP_PATH_MAX);
	path[VOUCH_CGROUP_PATH_MAX] = '\0';
	if (r->truncated) {
		e->last_rescan_ns = 0;
		p = cgroup_path(e, r->cgroup_id);
	}
	if (e->containers)
		containers__on_mkdir(e->containers, r->cgroup_id, p);
	if (!pol || !p)
		return;
	scope = policy__scope_for_cgroup(pol, p);
	if (scope <= 0)
		return;
	err = kernel__assign_cgroup(e->kernel, r->cgroup_id, (uint32_t)scope);
	if (err)
		log_warn("events: failed to assign cgroup '%s' to scope '%s': %s",
			 p, policy__scope_name(pol, (uint32_t)scope), strerror(-err));
}

/*
 * A container's exec the kernel held or, in audit mode, let run: without
 * container support it is reported as it is, so nothing goes unseen.
 */
static void handle_container(struct events *e, const struct vouch_exec_event *r)
{
	if (e->containers)
		containers__on_first_exec(e->containers, r);
	else
		handle_exec(e, r);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct events *e = ctx;
	const __u16 *kind = data;

	/* records vouchd does not know are skipped, never fatal */
	if (size >= sizeof(struct vouch_cgroup_event) &&
	    *kind == VOUCH_EVENT_CGROUP_MKDIR)
		handle_cgroup(e, data);
	else if (size >= sizeof(struct vouch_connect_event) &&
		 *kind == VOUCH_EVENT_CONNECT)
		handle_connect(e, data);
	else if (size >= sizeof(struct vouch_exec_event) && *kind > 0 &&
		 *kind < VOUCH_EVENT_CGROUP_MKDIR)
		handle_exec(e, data);
	else if (size >= sizeof(struct vouch_exec_event) &&
		 *kind == VOUCH_EVENT_CONTAINER)
		handle_container(e, data);
	return 0;
}

struct events *events__new(struct kernel *k, struct sink *sink,
			   const struct events_identity *id)
{
	struct events *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	e->kernel = k;
	e->sink = sink;
	e->id = *id;
	e->cgroups = cgroup__scan(id->cgroup_mount);
	/* what a previous vouchd reported from the same pinned counters */
	if (kernel__reported_losses(k, e->reported_losses))
		log_warn("events: failed to read the loss counts already reported; they may be reported again");
	e->rb = ring_buffer__new(kernel__events_fd(k), on_record, e, NULL);
	if (!e->rb) {
		err = -errno;
		events__free(e);
		errno = -err;
		return NULL;
	}
	return e;
}

void events__free(struct events *e)
{
	if (!e)
		return;
	ring_buffer__free(e->rb);
	cgroup__free(e->cgroups);
	free(e);
}

int events__fd(const struct events *e)
{
	return ring_buffer__epoll_fd(e->rb);
}

void events__count_in(struct events *e, struct metrics *m)
{
	e->metrics = m;
}

int events__consume(struct events *e)
{
	int n = ring_buffer__consume(e->rb);

	metrics__heartbeat(e->metrics);
	flush(e);
	return n;
}


/* Losses on the way to the collector: spool overflow, refused events. */
static void report_delivery_losses(struct events *e)
{
	struct shipper_stats st;
	uint64_t dropped, rejected;

	if (!e->spool)
		return;
	dropped = spool__dropped(e->spool);
	report_loss(e, "spool", dropped - e->reported_spool_drops,
		    "the spool was full: its oldest events were dropped");
	e->reported_spool_drops = dropped;
	if (!e->shipper)
		return;
	shipper__stats(e->shipper, &st);
	rejected = st.rejected_events + st.invalid_events;
	report_loss(e, "rejected", rejected - e->reported_rejected,
		    "the collector refused events that can never be stored");
	e->reported_rejected = rejected;
}

int events__report_losses(struct events *e)
{
	uint64_t now[VOUCH_EVENT_KIND_MAX];
	int err = kernel__read_losses(e->kernel, now);

	if (err)
		return err;
	for (int kind = 1; kind < VOUCH_EVENT_KIND_MAX; kind++) {
		uint64_t delta = now[kind] - e->reported_losses[kind];

		e->reported_losses[kind] = now[kind];
		report_loss(e, kind_names[kind], delta,
			    "the kernel ring buffer was full");
	}
	kernel__save_reported_losses(e->kernel, e->reported_losses);
	report_delivery_losses(e);
	flush(e);
	return 0;
}

int events__emit_note(struct events *e, const char *kind, const char *msg,
		      uint32_t policy_gen)
{
	struct event ev = { 0 };
	int err;

	ev.time_ns = clock_ns(CLOCK_REALTIME);
	ev.kind = kind;
	ev.reason = msg;
	ev.policy_gen = policy_gen;
	err = ship(e, &ev);
	flush(e);
	return err;
}

uint64_t events__shipped(const struct events *e)
{
	return e->shipped;
}

uint64_t events__lost(const struct events *e)
{
	return e->lost;
}
