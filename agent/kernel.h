/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel side as vouchd sees it: the loaded and attached BPF programs,
 * their maps, and the policy in them. Policy swaps are atomic: entries for
 * the new generation are written next to the old ones, then one store of
 * the active generation switches every later decision at once.
 */
#ifndef VOUCH_KERNEL_H
#define VOUCH_KERNEL_H

#include <stdint.h>
#include "config.h"
#include "policy.h"
#include "vouch_abi.h"

struct kernel;

/*
 * Opens, loads and attaches the programs, with a ring buffer of
 * ringbuf_bytes (a power of two, 0 for the default) and exec judged where
 * hook says; NULL and errno on failure.
 */
struct kernel *kernel__open(unsigned int ringbuf_bytes,
			    enum config_exec_hook hook);
/*
 * The same, pinned under the bpffs directory pin_dir (docs/OPERATIONS.md):
 * maps an earlier vouchd pinned there are taken over as they are (the
 * policy in them stays in force, the ring buffer keeps what it holds),
 * each program is attached anew and its pin replaced, and only then is the
 * earlier program let go. kernel__close() leaves the pins in place.
 */
struct kernel *kernel__open_pinned(unsigned int ringbuf_bytes,
				   const char *pin_dir,
				   enum config_exec_hook hook);
/* The active generation found in pinned maps; 0 when nothing was taken. */
uint32_t kernel__adopted_gen(const struct kernel *k);
/* Removes what vouchd pinned under pin_dir: enforcement ends. 0 or -errno. */
int kernel__unload(const char *pin_dir);
/* Detaches everything and frees the maps, unless pinned. NULL-safe. */
void kernel__close(struct kernel *k);
/*
 * Detaches the programs now, unless pinned (the pins hold them), and
 * waits for runs already under way to end, so that the kernel decides
 * nothing more that vouchd would not read. NULL-safe.
 */
void kernel__detach(struct kernel *k);

/*
 * Makes p the policy in force, taking ownership of it on success. On
 * failure the policy in force is untouched and p stays the caller's.
 */
int kernel__apply(struct kernel *k, struct policy *p);
/*
 * Removes the generation that was in force before the last swap and frees
 * it, once no program can still be deciding with it (vouchd waits a
 * second): a large policy is then held once, not twice.
 */
void kernel__retire_previous(struct kernel *k);
/* The policy of generation gen, while its entries are still loaded. */
const struct policy *kernel__policy(const struct kernel *k, uint32_t gen);
const struct policy *kernel__active(const struct kernel *k);
/*
 * Whether exec is judged by the BPF LSM program (refused with EPERM)
 * rather than the exec tracepoint (killed with SIGKILL).
 */
int kernel__lsm_exec(const struct kernel *k);

/* The kernel's ids of one attached program and of the link holding it. */
struct kernel_link {
	uint32_t link_id;
	uint32_t prog_id;
	const char *name;	/* the program's full name; lives as long as k */
};
/* The links vouchd attached or took over; the count written to out. */
size_t kernel__links(const struct kernel *k, struct kernel_link *out,
		     size_t max);

int kernel__events_fd(const struct kernel *k);
/* Reports every Nth allowed connect as an event (0: none); 0 or -errno. */
int kernel__sample_connects(struct kernel *k, uint64_t every);
/* Sums the per-CPU loss counters into out[kind]; 0 or -errno. */
int kernel__read_losses(const struct kernel *k,
			uint64_t out[VOUCH_EVENT_KIND_MAX]);
/*
 * Loss counts already reported as events, kept beside the pinned counters
 * so that a vouchd taking over reports only new losses; zeros (and saving
 * does nothing) when nothing is pinned. 0 or -errno.
 */
int kernel__reported_losses(const struct kernel *k,
			    uint64_t out[VOUCH_EVENT_KIND_MAX]);
int kernel__save_reported_losses(struct kernel *k,
				 const uint64_t in[VOUCH_EVENT_KIND_MAX]);
/* Assigns a cgroup created after the policy was compiled. */
int kernel__assign_cgroup(struct kernel *k, uint64_t cgroup_id,
			  uint32_t scope_id);
/* The same with a container's mode and flags; recorded in the policy. */
int kernel__set_cgroup(struct kernel *k, const struct policy_cgroup *e);

#endif /* VOUCH_KERNEL_H */
