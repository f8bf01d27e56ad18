/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the collector accepts from an agent: an EventBatch whose every
 * event names its agent, sequence and kind, within fixed bounds.
 */
#ifndef VOUCH_COLLECTOR_VALIDATE_H
#define VOUCH_COLLECTOR_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include "vouch.pb-c.h"

#define COLLECTOR_MAX_EVENTS		10000
#define COLLECTOR_MAX_STRING		(64 * 1024)
#define COLLECTOR_MAX_ARGV		4096
#define COLLECTOR_MAX_EXE_FLAGS		64

/*
 * Unpacks and checks a batch. Returns the batch (free it with
 * vouch__v1__event_batch__free_unpacked), or NULL with errno set and a
 * message for the client in err: EBADMSG when the bytes are not an
 * EventBatch, EINVAL when an event breaks a rule, ENOMEM.
 */
Vouch__V1__EventBatch *collector_validate__decode(const uint8_t *buf,
						   size_t len, char *err,
						   size_t err_len);

/* Checks an unpacked batch: 0, or -EINVAL with a message in err. */
int collector_validate__batch(const Vouch__V1__EventBatch *batch, char *err,
			      size_t err_len);

#endif /* VOUCH_COLLECTOR_VALIDATE_H */
