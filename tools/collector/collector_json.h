/* SPDX-License-Identifier: GPL-2.0-only */
/* Events as JSON lines, in their proto3 JSON names, built with jansson. */
#ifndef VOUCH_COLLECTOR_JSON_H
#define VOUCH_COLLECTOR_JSON_H

#include <stdint.h>
#include <jansson.h>
#include "vouch.pb-c.h"

/*
 * The JSON object of an event stored under row id `id`: proto3 JSON field
 * names, empty and zero fields left out, 64-bit integers as numbers. NULL
 * when memory runs out.
 */
json_t *collector_json__event(const Vouch__V1__Event *ev, int64_t id);
/* The same as one line of text ending in '\n'; free() it. */
char *collector_json__line(const Vouch__V1__Event *ev, int64_t id,
			   size_t *len);

#endif /* VOUCH_COLLECTOR_JSON_H */
