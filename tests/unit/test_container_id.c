// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/container_id.c: the cgroup v2 paths the runtimes
 * really create (containerd, CRI-O, Docker, Podman under the systemd and
 * cgroupfs drivers, crun's sub-cgroup, plain runc) and hostile ones.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "container_id.h"

#define HEX_A	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX_B	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define HEX_UP	"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define HEX_63	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define HEX_65	HEX_A "0"

#define POD_UID		"1c0ad5f4-8c7a-4b1e-9d3e-5f2a7b6c8d90"
#define POD_UID_SD	"1c0ad5f4_8c7a_4b1e_9d3e_5f2a7b6c8d90"

#define K8S_SD_POD	"/kubepods.slice/kubepods-burstable.slice/" \
			"kubepods-burstable-pod" POD_UID_SD ".slice"
#define K8S_FS_POD	"/kubepods/burstable/pod" POD_UID

TestSuite(container_id, .timeout = 10);

static struct container_id cid;

/* Parses path and requires a container with this id and runtime. */
static void want(const char *path, int below_root, const char *id,
		 const char *runtime, const char *pod_uid)
{
	int rc = container_id__parse(path, below_root, &cid);

	cr_assert_eq(rc, 0, "'%s' (below_root %d): %d, want a container",
		     path, below_root, rc);
	cr_assert_str_eq(cid.id, id, "'%s'", path);
	cr_assert_not_null(cid.runtime, "'%s'", path);
	cr_assert_str_eq(cid.runtime, runtime, "'%s'", path);
	cr_assert_str_eq(cid.pod_uid, pod_uid, "'%s'", path);
}

/* Requires path to name no container, and out to be left empty. */
static void want_none(const char *path, int below_root)
{
	int rc;

	memset(&cid, 0x5a, sizeof(cid));
	rc = container_id__parse(path, below_root, &cid);
	cr_assert_eq(rc, -ENOENT,
		     "'%.200s' (below_root %d) taken as container '%s' of %s",
		     path, below_root, rc ? "" : cid.id,
		     rc || !cid.runtime ? "?" : cid.runtime);
	cr_assert_str_eq(cid.id, "");
	cr_assert_null(cid.runtime);
	cr_assert_str_eq(cid.pod_uid, "");
}

Test(container_id, containerd_systemd_driver_in_a_burstable_pod)
{
	want(K8S_SD_POD "/cri-containerd-" HEX_A ".scope", 1, HEX_A,
	     "containerd", POD_UID);
	/* the walk from the root does not change what the path says */
	want(K8S_SD_POD "/cri-containerd-" HEX_A ".scope", 0, HEX_A,
	     "containerd", POD_UID);
}

Test(container_id, containerd_systemd_driver_guaranteed_and_besteffort)
{
	want("/kubepods.slice/kubepods-pod" POD_UID_SD ".slice/cri-containerd-"
	     HEX_B ".scope", 1, HEX_B, "containerd", POD_UID);
	want("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	     POD_UID_SD ".slice/cri-containerd-" HEX_A ".scope", 1, HEX_A,
	     "containerd", POD_UID);
}

Test(container_id, containerd_cgroupfs_driver)
{
	want(K8S_FS_POD "/" HEX_A, 1, HEX_A, "containerd", POD_UID);
	want("/kubepods/pod" POD_UID "/" HEX_B, 1, HEX_B, "containerd",
	     POD_UID);
	want("/kubepods/besteffort/pod" POD_UID "/" HEX_A, 0, HEX_A,
	     "containerd", POD_UID);
}

Test(container_id, crio_systemd_driver)
{
	want(K8S_SD_POD "/crio-" HEX_A ".scope", 1, HEX_A, "cri-o", POD_UID);
	want("/kubepods.slice/kubepods-pod" POD_UID_SD ".slice/crio-" HEX_B
	     ".scope", 0, HEX_B, "cri-o", POD_UID);
}

/* conmon, CRI-O's monitor, is no container wherever it sits */
Test(container_id, crio_conmon_scope_is_not_a_container)
{
	want_none(K8S_SD_POD "/crio-conmon-" HEX_A ".scope", 0);
	want_none("/system.slice/crio-conmon-" HEX_A ".scope", 0);
}

/*
 * BUG: below a container root the conmon scope falls through to the runc
 * rule (its name is a valid runc ID) and is taken as a container.
 */
Test(container_id, crio_conmon_scope_below_root_is_not_a_container)
{
	want_none(K8S_SD_POD "/crio-conmon-" HEX_A ".scope", 1);
}

/*
 * BUG: CRI-O's cgroupfs manager names containers "crio-<id>" (no .scope)
 * and conmon "crio-conmon-<id>" next to them, below the pod cgroup.
 */
Test(container_id, crio_cgroupfs_driver)
{
	want(K8S_FS_POD "/crio-" HEX_A, 1, HEX_A, "cri-o", POD_UID);
	want_none(K8S_FS_POD "/crio-conmon-" HEX_A, 1);
}

Test(container_id, docker_systemd_and_cgroupfs)
{
	want("/system.slice/docker-" HEX_A ".scope", 0, HEX_A, "docker", "");
	want("/docker/" HEX_B, 0, HEX_B, "docker", "");
	want("/docker/" HEX_B, 1, HEX_B, "docker", "");
	/* dockershim-era kubelet with the systemd driver */
	want("/kubepods.slice/kubepods-pod" POD_UID_SD ".slice/docker-" HEX_A
	     ".scope", 1, HEX_A, "docker", POD_UID);
}

Test(container_id, podman_machine_slice)
{
	want("/machine.slice/libpod-" HEX_A ".scope", 1, HEX_A, "podman", "");
	want("/machine.slice/libpod-" HEX_A ".scope", 0, HEX_A, "podman", "");
	want_none("/machine.slice/libpod-conmon-" HEX_A ".scope", 0);
}

/* BUG: the same fall-through as CRI-O's conmon. */
Test(container_id, podman_conmon_below_root_is_not_a_container)
{
	want_none("/machine.slice/libpod-conmon-" HEX_A ".scope", 1);
}

/*
 * BUG: crun (Podman's and often CRI-O's runtime) puts the container's
 * processes in a sub-cgroup "container" of the scope; the leaf is then
 * "container", taken as a runc container of that name, so the lookup of
 * its metadata can never succeed.
 */
Test(container_id, crun_sub_cgroup_belongs_to_its_scope)
{
	want("/machine.slice/libpod-" HEX_A ".scope/container", 1, HEX_A,
	     "podman", "");
	want(K8S_SD_POD "/crio-" HEX_B ".scope/container", 1, HEX_B, "cri-o",
	     POD_UID);
}

/*
 * BUG: a cgroup a workload makes inside its own container (systemd in a
 * container, nested runtimes) is not a new runc container named after
 * the leaf: it is part of the container, or at least no container.
 */
Test(container_id, cgroup_nested_in_a_container_is_not_a_runc_container)
{
	const char *path = K8S_SD_POD "/cri-containerd-" HEX_A
			   ".scope/init.scope";
	int rc = container_id__parse(path, 1, &cid);

	cr_assert(rc == -ENOENT || (rc == 0 && !strcmp(cid.id, HEX_A)),
		  "'%s' taken as container '%s' of %s", path, cid.id,
		  cid.runtime ? cid.runtime : "?");
}

Test(container_id, plain_runc_only_below_a_root)
{
	want("/vouch-e2e/web-1", 1, "web-1", "runc", "");
	want("/vouch-e2e/my_ctr+v2.1", 1, "my_ctr+v2.1", "runc", "");
	want_none("/vouch-e2e/web-1", 0);
	want_none("/system.slice/nginx.service", 0);
	want_none("/user.slice/user-1000.slice/session-2.scope", 0);
}

Test(container_id, pod_cgroups_are_never_containers)
{
	want_none(K8S_SD_POD, 1);
	want_none(K8S_SD_POD, 0);
	want_none("/kubepods.slice/kubepods-burstable.slice", 1);
	want_none(K8S_FS_POD, 1);
	want_none("/kubepods/pod" POD_UID, 1);
}

/*
 * BUG: with the cgroupfs driver the QoS cgroups sit below the /kubepods
 * root; "burstable" is a valid runc ID, so the QoS cgroup (holding every
 * burstable pod) is taken as a container and, unidentifiable, failed.
 */
Test(container_id, cgroupfs_qos_cgroups_are_not_containers)
{
	want_none("/kubepods/burstable", 1);
	want_none("/kubepods/besteffort", 1);
}

Test(container_id, runc_ids_follow_runcs_rule)
{
	char id[CONTAINER_ID_MAX + 2], path[CONTAINER_ID_MAX + 32];

	want_none("/vouch-e2e/.", 1);
	want_none("/vouch-e2e/..", 1);
	want("/vouch-e2e/...", 1, "...", "runc", "");
	want("/vouch-e2e/a.b", 1, "a.b", "runc", "");
	want_none("/vouch-e2e/a b", 1);
	want_none("/vouch-e2e/a:b", 1);
	want_none("/vouch-e2e/a*b", 1);
	want_none("/vouch-e2e/caf\xc3\xa9", 1);
	want_none("/vouch-e2e/a\nb", 1);

	memset(id, 'r', CONTAINER_ID_MAX);
	id[CONTAINER_ID_MAX] = '\0';
	snprintf(path, sizeof(path), "/vouch-e2e/%s", id);
	want(path, 1, id, "runc", "");
	strcat(path, "r");
	want_none(path, 1);
}

Test(container_id, full_ids_are_64_lower_case_hex)
{
	want_none("/system.slice/docker-" HEX_UP ".scope", 0);
	want_none("/system.slice/docker-" HEX_63 ".scope", 0);
	want_none("/system.slice/docker-" HEX_65 ".scope", 0);
	want_none("/system.slice/docker-.scope", 0);
	want_none("/system.slice/docker-" HEX_A ".scop", 0);
	want_none("/system.slice/docker-" HEX_A, 0);
	want_none("/docker/" HEX_UP, 0);
	want_none("/docker/" HEX_63, 0);
	want_none("/docker/" HEX_65, 0);
	want_none(K8S_FS_POD "/" HEX_63, 0);
	/* below a root such a name is at most a runc ID, never docker's */
	want("/docker/" HEX_UP, 1, HEX_UP, "runc", "");
	want("/docker/" HEX_65, 1, HEX_65, "runc", "");
}

Test(container_id, empty_root_and_trailing_slash)
{
	want_none("", 0);
	want_none("", 1);
	want_none("/", 0);
	want_none("/", 1);
	want_none("//", 1);
	/* cgroup paths never end in '/': at most the component before it */
	cr_assert(container_id__parse("/docker/" HEX_A "/", 1, &cid) == -ENOENT ||
		  !strcmp(cid.id, HEX_A));
	want_none("/vouch-e2e/web-1/", 1);
}

Test(container_id, bare_leaf_without_slash)
{
	want("cri-containerd-" HEX_A ".scope", 0, HEX_A, "containerd", "");
	want(HEX_B, 0, HEX_B, "containerd", "");
	want_none("web-1", 0);
}

Test(container_id, long_paths_are_bounded)
{
	static char path[4001];
	size_t n;

	/* deep nesting above a real scope: found, no overflow */
	memset(path, 0, sizeof(path));
	while (strlen(path) + 10 < 4000 - 90)
		strcat(path, "/a.slice");
	strcat(path, "/cri-containerd-" HEX_A ".scope");
	want(path, 1, HEX_A, "containerd", "");

	/* a 4,000-byte leaf is no ID */
	path[0] = '/';
	memset(path + 1, 'x', sizeof(path) - 2);
	path[sizeof(path) - 1] = '\0';
	cr_assert_eq(strlen(path), 4000);
	want_none(path, 1);
	want_none(path, 0);

	/* 4,000 slashes */
	memset(path, '/', sizeof(path) - 1);
	want_none(path, 1);

	/* pod<hex...>: the pod UID is capped, never overflowing */
	n = (size_t)snprintf(path, sizeof(path), "/kubepods/pod");
	memset(path + n, 'a', 3000);
	snprintf(path + n + 3000, sizeof(path) - n - 3000, "/%s", HEX_A);
	cr_assert_eq(container_id__parse(path, 1, &cid), 0);
	cr_assert_eq(strlen(cid.pod_uid), CONTAINER_POD_UID_MAX);
}

Test(container_id, pod_uid_only_from_a_pod_component)
{
	/* "kubepods" itself holds "pod" after 'e': not a pod UID */
	want("/kubepods/" HEX_A, 1, HEX_A, "containerd", "");
	/* too short to be a UID */
	want("/kubepods/burstable/podabc/" HEX_A, 1, HEX_A, "containerd", "");
	/* a UID from an earlier component does not leak into another path */
	want("/docker/" HEX_A, 1, HEX_A, "docker", "");
}
