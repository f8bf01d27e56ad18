/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An event as vouchd ships it: the kernel's record enriched with names and
 * the agent's identity. Field names follow include/vouch.proto's JSON form.
 */
#ifndef VOUCH_EVENT_H
#define VOUCH_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_ARGV_MAX	64

struct event_process {
	uint32_t pid;
	uint32_t tid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t gid;
	char comm[17];
	const char *exe;
	uint32_t dev;
	uint64_t ino;
	const char *argv[EVENT_ARGV_MAX];
	size_t argc;
	int argv_truncated;
	const char *parent_exe;
	uint32_t exe_flags;		/* VOUCH_EXE_* */
};

struct event_workload {
	const char *kind;		/* host, cgroup, container, systemd-unit */
	uint64_t cgroup_id;
	const char *cgroup_path;
	const char *scope;
	const char *container_id;
	const char *pod;
	const char *namespace_;
	const char *image_ref;
	const char *image_digest;
	int attested;
	const char *service;
	const char *version;
	const char *deploy_id;
	const char *environment;
	const char *systemd_unit;
};

struct event_network {
	const char *family;		/* "ipv4", "ipv6" */
	const char *protocol;		/* "tcp", "udp" */
	const char *dest_addr;
	uint32_t dest_port;
};

/* The attested allow-list behind a decision, when one is in force. */
struct event_policy {
	uint32_t generation;
	uint64_t bundle_serial;
	const char *key_id;
};

struct event {
	const char *agent_id;
	const char *node;
	uint64_t seq;
	int64_t time_ns;		/* unix time */
	const char *kind;		/* exec, script, exception, loss, agent,
					 * policy */
	const char *verdict;		/* "deny", "allow", NULL */
	const char *action;		/* "killed", "reported", "none", NULL */
	const char *mode;
	const char *rule;
	const char *reason;
	int has_process;
	struct event_process process;
	int has_workload;		/* set with has_process, or alone */
	struct event_workload workload;
	int has_network;
	struct event_network network;
	uint32_t policy_gen;
	uint64_t bundle_serial;		/* 0: no attested bundle */
	const char *key_id;
	const char *loss_kind;		/* kind == "loss" */
	uint64_t loss_count;
};

#endif /* VOUCH_EVENT_H */
