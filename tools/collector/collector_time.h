/* SPDX-License-Identifier: GPL-2.0-only */
/* RFC 3339 timestamps, as events carry them and queries filter on them. */
#ifndef VOUCH_COLLECTOR_TIME_H
#define VOUCH_COLLECTOR_TIME_H

#include <stdint.h>

/*
 * Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" into nanoseconds
 * since the Unix epoch. Returns 0, -EINVAL when s is not of that form or
 * names no real date, -ERANGE when it falls outside 1677..2262.
 */
int collector_time__parse(const char *s, int64_t *ns);

#endif /* VOUCH_COLLECTOR_TIME_H */
