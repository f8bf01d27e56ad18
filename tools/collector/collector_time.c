// SPDX-License-Identifier: GPL-2.0-only
/*
 * RFC 3339 timestamps. strptime alone is too lenient (it skips blanks and
 * takes one-digit fields), so the shape is checked first and the calendar
 * afterwards, by converting back.
 */
#include <ctype.h>
#include <errno.h>
#include <time.h>

#include "collector_time.h"

#define NSEC_PER_SEC	1000000000LL

/* 'd' stands for a digit; every other byte must match itself. */
static const char date_time_shape[] = "dddd-dd-ddTdd:dd:dd";

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int match_shape(const char *s)
{
	for (size_t i = 0; i < sizeof(date_time_shape) - 1; i++) {
		char want = date_time_shape[i];

		if (want == 'd' && !isdigit((unsigned char)s[i]))
			return -EINVAL;
		if (want == 'T' && s[i] != 'T' && s[i] != 't')
			return -EINVAL;
		if (want != 'd' && want != 'T' && s[i] != want)
			return -EINVAL;
	}
	return 0;
}

/* Seconds since the epoch of the date and time fields, UTC. */
static int civil_seconds(const char *s, int64_t *secs)
{
	struct tm tm = {
		.tm_year = digits(s, 4) - 1900,
		.tm_mon = digits(s + 5, 2) - 1,
		.tm_mday = digits(s + 8, 2),
		.tm_hour = digits(s + 11, 2),
		.tm_min = digits(s + 14, 2),
		.tm_sec = digits(s + 17, 2),
	};
	struct tm check;
	time_t t;

	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse what moved */
	if (!gmtime_r(&t, &check) || check.tm_mday != digits(s + 8, 2) ||
	    check.tm_mon != digits(s + 5, 2) - 1 ||
	    check.tm_hour != digits(s + 11, 2) ||
	    check.tm_min != digits(s + 14, 2) ||
	    check.tm_sec != digits(s + 17, 2))
		return -EINVAL;
	*secs = t;
	return 0;
}

/* ".123" → 123000000; up to nine digits. Advances *s past it. */
static int fraction(const char **s, int64_t *ns)
{
	const char *p = *s;
	int64_t scale = NSEC_PER_SEC;
	int n = 0;

	*ns = 0;
	if (*p != '.')
		return 0;
	for (p++; isdigit((unsigned char)*p); p++, n++) {
		if (n == 9)
			return -EINVAL;
		scale /= 10;
		*ns += (*p - '0') * scale;
	}
	if (n == 0)
		return -EINVAL;
	*s = p;
	return 0;
}

/* "Z" → 0, "+02:00" → 7200, "-05:30" → -19800. */
static int utc_offset(const char *s, int64_t *secs)
{
	int sign;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*secs = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -EINVAL;
	sign = s[0] == '-' ? -1 : 1;
	if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
	    s[3] != ':' || !isdigit((unsigned char)s[4]) ||
	    !isdigit((unsigned char)s[5]) || s[6] != '\0')
		return -EINVAL;
	if (digits(s + 1, 2) > 23 || digits(s + 4, 2) > 59)
		return -EINVAL;
	*secs = sign * (digits(s + 1, 2) * 3600 + digits(s + 4, 2) * 60);
	return 0;
}

int collector_time__parse(const char *s, int64_t *ns)
{
	int64_t secs, frac, offset, total;
	const char *rest;
	int err;

	/* a shorter string fails on its terminating NUL */
	err = match_shape(s);
	if (err)
		return err;
	err = civil_seconds(s, &secs);
	if (err)
		return err;
	rest = s + sizeof(date_time_shape) - 1;
	err = fraction(&rest, &frac);
	if (err)
		return err;
	err = utc_offset(rest, &offset);
	if (err)
		return err;

	secs -= offset;
	if (__builtin_mul_overflow(secs, NSEC_PER_SEC, &total) ||
	    __builtin_add_overflow(total, frac, &total))
		return -ERANGE;
	*ns = total;
	return 0;
}
