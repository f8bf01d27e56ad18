/* SPDX-License-Identifier: GPL-2.0-only */
/* An event as a vouch.v1.Event protobuf (include/vouch.proto). */
#ifndef VOUCH_ENCODE_H
#define VOUCH_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

#define ENCODE_TIME_LEN	40

/*
 * Packs ev; returns a buffer the caller frees and its length in *len, or
 * NULL and errno. Strings that are not UTF-8 are repaired (U+FFFD), as
 * the JSON sink does, so every consumer sees the same text.
 */
uint8_t *encode__event(const struct event *ev, size_t *len);
/* RFC 3339, UTC, with nanoseconds: "2026-12-03T16:09:50.496462312Z". */
void encode__time(int64_t unix_ns, char *buf, size_t len);

#endif /* VOUCH_ENCODE_H */
