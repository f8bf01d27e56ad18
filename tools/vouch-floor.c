// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouch-floor: attaches do-nothing programs to vouch's hooks and holds them
 * until SIGTERM or SIGINT, for benchmarks (make bench). Prints "attached"
 * once they are in place. Links die with the process: nothing is pinned.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "floor.skel.h"

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
