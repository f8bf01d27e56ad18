/* SPDX-License-Identifier: GPL-2.0-only */
/* Processes that existed before vouchd started, read from /proc. */
#ifndef VOUCH_PROCSCAN_H
#define VOUCH_PROCSCAN_H

#include <stddef.h>
#include <stdint.h>

struct proc_info {
	uint32_t tgid;
	uint32_t ppid;
	uint64_t cgroup_id;
};

/* Reads one process; 0, or -errno when it is gone or unreadable. */
int procscan__read(const char *proc_root, const char *cgroup_mount,
		   uint32_t tgid, struct proc_info *out);
struct procscan_summary {
	size_t processes;	/* attributed to a cgroup */
	size_t cgroups;		/* distinct cgroups among them */
	size_t unreadable;	/* gone or unreadable while we looked */
};

/*
 * Attributes every running process to its cgroup v2 id. The kernel side
 * needs no seeding (an exec is judged by the cgroup it happens in); this
 * is vouchd's own view of the workloads that were there before it.
 */
int procscan__survey(const char *proc_root, const char *cgroup_mount,
		     struct procscan_summary *out);

#endif /* VOUCH_PROCSCAN_H */
