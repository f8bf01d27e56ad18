// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: any bytes as what the Kubernetes API server sends, a
 * watch line or a page of a pod list (the first byte chooses), into the
 * provider's cache. It must refuse or apply without crashing or leaking.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "k8s.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct k8s *k;
	struct k8s_pod_meta m;
	struct k8s_config cfg;

	if (!k) {
		log__setup(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, stderr);
		k8s__config_init(&cfg);
		cfg.node_name = "fuzz-node";
		cfg.max_pods = 64;
		k = k8s__new(&cfg);
		if (!k)
			return 0;
	}
	if (size == 0)
		return 0;
	if (data[0] & 1)
		k8s__feed_list(k, (const char *)data + 1, size - 1, data[0] & 2);
	else
		k8s__feed_watch(k, (const char *)data + 1, size - 1);
	if (k8s__lookup(k, "containerd://fuzz", &m) == 0)
		k8s__meta_free(&m);
	return 0;
}
