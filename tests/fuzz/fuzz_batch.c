// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: any bytes as the body of a POST /v1/events, through
 * the collector's decoding and validation.
 */
#include <stddef.h>
#include <stdint.h>

#include "collector_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Vouch__V1__EventBatch *batch;
	char err[256];

	batch = collector_validate__decode(data, size, err, sizeof(err));
	if (batch)
		vouch__v1__event_batch__free_unpacked(batch, NULL);
	return 0;
}
