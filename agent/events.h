/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event path in vouchd: reads the kernel's ring buffer, enriches each
 * record (cgroup path, parent executable, rule and scope names), numbers
 * it, and hands it to the sink. Losses are read from the kernel's counters
 * and reported as events of their own.
 */
#ifndef VOUCH_EVENTS_H
#define VOUCH_EVENTS_H

#include <stdint.h>
#include "kernel.h"
#include "sink.h"

struct events;

struct events_identity {
	const char *agent_id;
	const char *node;
	const char *cgroup_mount;
};

struct events *events__new(struct kernel *k, struct sink *sink,
			   const struct events_identity *id);
struct spool;
struct shipper;
/*
 * From now on every event is also appended to spool (synced once per
 * drain) for shipper to send; numbering continues after the spool's last
 * seq, so a restarted agent never reuses one. Both must outlive e.
 */
void events__ship_to(struct events *e, struct spool *spool,
		     struct shipper *shipper);
void events__free(struct events *e);
struct metrics;
/* From now on every event and loss is also counted in m (may be NULL). */
void events__count_in(struct events *e, struct metrics *m);

/* A descriptor that becomes readable when records are waiting. */
int events__fd(const struct events *e);
/* Ships every record waiting in the ring buffer; count or -errno. */
int events__consume(struct events *e);
/* Emits one loss event per kind whose counter moved; 0 or -errno. */
int events__report_losses(struct events *e);
/* Emits an agent event (kind "agent" or "policy") with a message. */
int events__emit_note(struct events *e, const char *kind, const char *msg,
		      uint32_t policy_gen);
/* A verdict vouchd reached itself, on a container or its held exec. */
struct events_verdict {
	const char *kind;		/* "container", "exec" */
	const char *verdict;
	const char *action;
	const char *mode;
	const char *rule;
	const char *reason;
	uint64_t cgroup_id;
};

/* Emits v, with the process of r when there is one (r may be NULL). */
int events__emit_verdict(struct events *e, const struct vouch_exec_event *r,
			 const struct events_verdict *v);
struct containers;
/* Container records go to c, and events name the container. */
void events__set_containers(struct events *e, struct containers *c);
struct units;
/* Processes of systemd units are named by their unit, with its metadata. */
void events__set_units(struct events *e, struct units *u);

/* Events shipped so far, and events the kernel reported lost. */
uint64_t events__shipped(const struct events *e);
uint64_t events__lost(const struct events *e);

/* Splits a NUL-separated argv block into ev->argv; exposed for tests. */
void events__split_argv(struct event_process *p, char *buf, size_t len,
			int truncated);

#endif /* VOUCH_EVENTS_H */
