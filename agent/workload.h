/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What vouchd knows about a workload: a container's identity and the
 * deploy metadata its providers (Kubernetes API, OCI config.json) gave.
 */
#ifndef VOUCH_WORKLOAD_H
#define VOUCH_WORKLOAD_H

#include <stddef.h>
#include "rules.h"

struct workload_meta {
	char *container_id;
	const char *runtime;		/* runc, containerd, cri-o, docker, podman */
	char *pod;
	char *pod_uid;
	char *namespace_;
	char *container_name;
	char *image_ref;
	char *image_digest;		/* "sha256:..." */
	char *service;
	char *version;
	char *deploy_id;
	char *environment;
	struct rules_label *labels;	/* pod labels */
	size_t n_labels;
	char *source;			/* where the metadata came from */
};

void workload__meta_clear(struct workload_meta *m);
/* Sets *field to a copy of value unless it is already set; 0 or -ENOMEM. */
int workload__set(char **field, const char *value);

#endif /* VOUCH_WORKLOAD_H */
