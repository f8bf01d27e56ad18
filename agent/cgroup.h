/* SPDX-License-Identifier: GPL-2.0-only */
/* The cgroup v2 tree: where it is mounted and which id names which path. */
#ifndef VOUCH_CGROUP_H
#define VOUCH_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define CGROUP_SCAN_MAX		65536	/* cgroups indexed at most */
#define CGROUP_DEPTH_MAX	32

struct cgroup_entry {
	uint64_t id;
	char *path;		/* relative to the mount, "/" for the root */
};

struct cgroup_index {
	char *mount;		/* e.g. /sys/fs/cgroup/unified */
	struct cgroup_entry *entries;	/* sorted by id */
	size_t n;
};

/* Finds the cgroup v2 mount point in /proc/self/mountinfo; 0 or -errno. */
int cgroup__find_mount(char *buf, size_t len);
/* The id of a cgroup directory (the kernel's cgroup id), or 0. */
uint64_t cgroup__id_of(const char *dir);
/* Walks the whole tree below mount; NULL and errno on failure. */
struct cgroup_index *cgroup__scan(const char *mount);
/* The path of id, or NULL when the index does not know it. */
const char *cgroup__path(const struct cgroup_index *idx, uint64_t id);
void cgroup__free(struct cgroup_index *idx);

#endif /* VOUCH_CGROUP_H */
