/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * systemd units as workloads, for hosts without containers: the unit comes
 * from the cgroup path (/system.slice/NAME.service), its deploy metadata
 * from a file per unit, DIR/NAME.service.yaml (docs/CONFIG.md).
 */
#ifndef VOUCH_UNITS_H
#define VOUCH_UNITS_H

#include "event.h"

#define UNITS_MAX		1024	/* units whose metadata is cached */
#define UNITS_NAME_MAX		255

struct units;

struct units *units__new(const char *deploy_dir);
void units__free(struct units *u);
/*
 * Names the unit of cgroup_path in w, with its deploy metadata when its
 * file exists and is valid. 0 when the path is in no service unit.
 */
int units__fill_workload(struct units *u, const char *cgroup_path,
			 struct event_workload *w);
/* The unit a cgroup path belongs to, into buf; 0 or -ENOENT. */
int units__unit_of(const char *cgroup_path, char *buf, size_t len);

#endif /* VOUCH_UNITS_H */
