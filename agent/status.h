/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the running agent enforces, as the JSON object `vouchctl status`
 * shows under "policy": the default mode, every scope with its mode, and the
 * workloads (cgroups) placed in a scope. Built on the main thread, handed to
 * the metrics endpoint, which serves it as it is.
 */
#ifndef VOUCH_STATUS_H
#define VOUCH_STATUS_H

#include <jansson.h>
#include "cgroup.h"
#include "policy.h"

/* Workloads listed at most; the count is always whole. */
#define STATUS_WORKLOADS_MAX	1024

/* A new object, or NULL on allocation failure; idx may be NULL (no paths). */
json_t *status__policy(const struct policy *p, const char *source,
		       const struct cgroup_index *idx);
const char *status__mode_name(int mode);

#endif /* VOUCH_STATUS_H */
