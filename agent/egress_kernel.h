/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The egress programs (bpf/egress.bpf.c) as vouchd drives them: loaded
 * after the exec object and sharing its policy maps, ring buffer and loss
 * counters, attached to the cgroup v2 root through BPF links, and fed the
 * egress trie of each policy generation.
 */
#ifndef VOUCH_EGRESS_KERNEL_H
#define VOUCH_EGRESS_KERNEL_H

#include <stdint.h>
#include <bpf/libbpf.h>
#include "policy.h"

struct egress_kernel;

/*
 * Loads the egress object with the shared maps of exec_obj and attaches it
 * to the root of the cgroup v2 hierarchy; NULL and errno on failure.
 */
struct egress_kernel *egress_kernel__open(struct bpf_object *exec_obj,
					  const char *pin_dir);
/*
 * Hands the links over to the caller, who pins or destroys them with the
 * exec links; names are the programs'. How many were taken.
 */
/* Its BPF object, for the maps a takeover sweeps; NULL-safe. */
struct bpf_object *egress_kernel__object(const struct egress_kernel *ek);
int egress_kernel__take_links(struct egress_kernel *ek, struct bpf_link **links,
			      const char **names, int max);
/* Detaches and frees. NULL-safe. */
void egress_kernel__close(struct egress_kernel *ek);
/* Writes (remove = 0) or removes p's egress entries; 0 or -errno. */
int egress_kernel__entries(struct egress_kernel *ek, const struct policy *p,
			   int remove);
/* Reports every Nth allowed connect (0: none); 0 or -errno. */
int egress_kernel__sample(struct egress_kernel *ek, uint64_t every);

#endif /* VOUCH_EGRESS_KERNEL_H */
