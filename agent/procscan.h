/* SPDX-License-Identifier: GPL-2.0-only */
/* Processes that existed before vouchd started, read from /proc. */
#ifndef VOUCH_PROCSCAN_H
#define VOUCH_PROCSCAN_H

#include <stdint.h>
#include "kernel.h"

struct proc_info {
	uint32_t tgid;
	uint32_t ppid;
	uint64_t cgroup_id;
};

/* Reads one process; 0, or -errno when it is gone or unreadable. */
int procscan__read(const char *proc_root, const char *cgroup_mount,
		   uint32_t tgid, struct proc_info *out);
/* Records every running process in the kernel's task map; count or -errno. */
int procscan__seed(struct kernel *k, const char *cgroup_mount);

#endif /* VOUCH_PROCSCAN_H */
