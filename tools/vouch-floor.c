// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouch-floor: attaches do-nothing programs to vouch's hooks and holds them
 * until SIGTERM or SIGINT, for benchmarks (make bench). Prints "attached"
 * once they are in place. Links die with the process: nothing is pinned.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "floor.skel.h"

/*
 * The connect programs go on the cgroup v2 root, which the skeleton cannot
 * find by itself: the first cgroup2 mount in /proc/self/mounts.
 */
static int attach_cgroup_root(struct floor_bpf *skel)
{
	char dev[64], dir[4096], type[64];
	int fd = -1, err = -ENOENT;
	FILE *f = fopen("/proc/self/mounts", "r");

	while (f && fscanf(f, "%63s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0) {
			fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			break;
		}
	}
	if (f)
		fclose(f);
	if (fd < 0)
		return err;
	skel->links.floor_connect4 =
		bpf_program__attach_cgroup(skel->progs.floor_connect4, fd);
	skel->links.floor_connect6 =
		bpf_program__attach_cgroup(skel->progs.floor_connect6, fd);
	err = skel->links.floor_connect4 && skel->links.floor_connect6 ? 0 : -errno;
	close(fd);
	return err;
}

int main(void)
{
	struct floor_bpf *skel;
	sigset_t mask;
	int sig, err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "vouch-floor: failed to load: %s\n",
			strerror(errno));
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (!err)
		err = attach_cgroup_root(skel);
	if (err) {
		fprintf(stderr, "vouch-floor: failed to attach: %s\n",
			strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	sigwait(&mask, &sig);
	floor_bpf__destroy(skel);
	return 0;
}
