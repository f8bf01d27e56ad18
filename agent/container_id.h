/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A container's ID and runtime, read from its cgroup v2 path, for the
 * layouts of containerd, CRI-O, Docker and Podman under the systemd and
 * cgroupfs drivers, kubepods, and plain runc.
 */
#ifndef VOUCH_CONTAINER_ID_H
#define VOUCH_CONTAINER_ID_H

#include <stddef.h>

#define CONTAINER_ID_MAX	128	/* runc allows more; nothing uses it */
#define CONTAINER_POD_UID_MAX	64

struct container_id {
	char id[CONTAINER_ID_MAX + 1];
	const char *runtime;	/* containerd, cri-o, docker, podman, runc */
	char pod_uid[CONTAINER_POD_UID_MAX + 1];	/* "" outside kubepods */
};

/*
 * Parses path (relative to the cgroup mount). With below_root set, a leaf
 * that no runtime's pattern names is taken as a plain runc ID. Returns 0,
 * or -ENOENT when path names no container (a pod slice, a conmon scope).
 */
int container_id__parse(const char *path, int below_root,
			struct container_id *out);

/*
 * Whether the cgroup is one runtimes and kubelet make that holds no
 * container: pod and QoS slices, conmon scopes, systemd scopes.
 */
int container_id__is_infrastructure(const char *path);

#endif /* VOUCH_CONTAINER_ID_H */
