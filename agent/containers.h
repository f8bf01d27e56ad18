/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Containers as vouchd tracks them: found by their cgroup (created, or
 * holding a first exec the kernel stopped), identified through the
 * metadata providers, judged against the image allow-list, then released
 * or killed, every task of them. Their cgroup then carries the image's
 * scope, so later execs are judged in the kernel against its allow-list.
 */
#ifndef VOUCH_CONTAINERS_H
#define VOUCH_CONTAINERS_H

#include <stdint.h>
#include "event.h"
#include "kernel.h"
#include "vouch_abi.h"

struct containers;
struct events;

struct k8s;

struct containers_config {
	const char *cgroup_mount;
	const char *const *oci_locations;	/* NULL: oci_default_locations */
	struct k8s *k8s;			/* NULL: no Kubernetes provider */
};

struct containers *containers__new(struct kernel *k, struct events *e,
				   const struct containers_config *cfg);
void containers__free(struct containers *c);

/* The kernel held (or, in audit mode, reported) an exec in a container. */
void containers__on_first_exec(struct containers *c,
			       const struct vouch_exec_event *r);
/* A cgroup was created; path is NULL when the kernel could not say. */
void containers__on_mkdir(struct containers *c, uint64_t cgroup_id,
			  const char *path);
/* Containers already running when vouchd started, from the cgroup tree. */
void containers__survey(struct containers *c);
/*
 * Retries lookups; applies the fail action past the hold timeout, or at
 * once when the container's cgroup was removed meanwhile.
 */
void containers__tick(struct containers *c);
/*
 * When vouchd stops: every container whose first exec the kernel held or
 * reported, and that has no verdict yet, gets one last lookup and its
 * verdict, or else the fail action, pinned or not: a hold must not depend
 * on a next vouchd (vouch may be unloaded instead).
 */
void containers__settle(struct containers *c);
/*
 * Before a new policy goes in: judges every known container again and
 * adds its cgroup entry to p, so the swap carries them over.
 */
int containers__carry_over(struct containers *c, struct policy *p);
/* Fills w for a process in cgroup_id; 0 when it is in no container. */
int containers__fill_workload(struct containers *c, uint64_t cgroup_id,
			      const char *path, struct event_workload *w);
/* How many containers are known, and how many wait for a verdict. */
void containers__counts(const struct containers *c, unsigned int *known,
			unsigned int *pending);

#endif /* VOUCH_CONTAINERS_H */
