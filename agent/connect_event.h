/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A connect record from the kernel as an event: the destination, the
 * process, the workload's scope and the rule, named from the policy of the
 * record's generation.
 */
#ifndef VOUCH_CONNECT_EVENT_H
#define VOUCH_CONNECT_EVENT_H

#include <arpa/inet.h>
#include <limits.h>
#include "event.h"
#include "policy.h"
#include "vouch_abi.h"

/* Where the event's strings live; the caller's, alive while ev is. */
struct connect_event_text {
	char addr[INET6_ADDRSTRLEN];
	char protocol[16];
	char rule[160];
	char reason[512];
	char exe[PATH_MAX];
};

/*
 * Fills ev from r (not the time, the agent's identity nor the cgroup
 * path). proc is where /proc is mounted: the executable is read from
 * PROC/TGID/exe while the process still exists, else left out.
 */
void connect_event__fill(struct event *ev,
			 const struct vouch_connect_event *r,
			 const struct policy *pol, const char *proc,
			 struct connect_event_text *t);

#endif /* VOUCH_CONNECT_EVENT_H */
