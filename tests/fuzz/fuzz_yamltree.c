// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: any bytes as a YAML document (rules and vouchd config
 * both go through ytree__load_buffer). It must refuse or accept without
 * crashing, leaking or running away.
 */
#include <stddef.h>
#include <stdint.h>

#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct ydoc *doc;

	doc = ytree__load_buffer("fuzz.yaml", (const char *)data, size, &d);
	ytree__free(doc);
	diags__free(&d);
	return 0;
}
