// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

void workload__meta_clear(struct workload_meta *m)
{
	free(m->container_id);
	free(m->pod);
	free(m->pod_uid);
	free(m->namespace_);
	free(m->container_name);
	free(m->image_ref);
	free(m->image_digest);
	free(m->service);
	free(m->version);
	free(m->deploy_id);
	free(m->environment);
	for (size_t i = 0; i < m->n_labels; i++) {
		free(m->labels[i].key);
		free(m->labels[i].value);
	}
	free(m->labels);
	free(m->source);
	memset(m, 0, sizeof(*m));
}

int workload__set(char **field, const char *value)
{
	if (*field || !value || !*value)
		return 0;
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}
