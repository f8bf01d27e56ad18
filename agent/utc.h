/* SPDX-License-Identifier: GPL-2.0-only */
/* UTC times and durations as vouch's inputs write them. */
#ifndef VOUCH_UTC_H
#define VOUCH_UTC_H

#include <stddef.h>
#include <stdint.h>

#define UTC_TEXT_LEN	20	/* "2027-01-31T00:00:00Z" */

/*
 * Exactly YYYY-MM-DDTHH:MM:SSZ into unix seconds: 0, -EINVAL for another
 * shape, -ERANGE for a field out of range (month 13, February 30).
 */
int utc__parse(const char *s, size_t len, int64_t *out);
/* The same form; buf holds at least UTC_TEXT_LEN + 1 bytes. */
void utc__format(int64_t t, char *buf, size_t len);
/*
 * A duration: digits with an optional unit s, m, h or d ("3600", "90m",
 * "7d"); 0 or -EINVAL. Capped at 100 years so that sums cannot overflow.
 */
int utc__parse_duration(const char *s, int64_t *out);

#endif /* VOUCH_UTC_H */
