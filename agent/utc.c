// SPDX-License-Identifier: GPL-2.0-only
/* UTC times and durations: one strict form each, no locale, no time zone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utc.h"

#define UTC_DURATION_MAX	(100LL * 366 * 86400)

static int days_in_month(int year, int month)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[month - 1] + (month == 2 && leap);
}

/* strptime alone accepts far too much: spaces, one-digit fields. */
static int shape_ok(const char *s, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

	if (len != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
				      s[i] != shape[i])
			return 0;
	}
	return 1;
}

int utc__parse(const char *s, size_t len, int64_t *out)
{
	struct tm tm = { 0 };
	char copy[UTC_TEXT_LEN + 1];
	const char *end;

	if (!shape_ok(s, len))
		return -EINVAL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	/* The shape is right, so strptime only fails on a field's range. */
	end = strptime(copy, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -ERANGE;
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 59 ||
	    tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon + 1))
		return -ERANGE;
	*out = (int64_t)timegm(&tm);
	return 0;
}

void utc__format(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

int utc__parse_duration(const char *s, int64_t *out)
{
	size_t digits = strspn(s, "0123456789");
	long long v, unit = 1;
	char *end;

	if (digits == 0 || digits > 12)
		return -EINVAL;
	switch (s[digits]) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -EINVAL;
	}
	if (s[digits] && s[digits + 1])
		return -EINVAL;
	v = strtoll(s, &end, 10);
	if (v <= 0 || v > UTC_DURATION_MAX / unit)
		return -EINVAL;
	*out = v * unit;
	return 0;
}
