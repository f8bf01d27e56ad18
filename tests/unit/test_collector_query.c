// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for tools/collector/collector_query.c: the query parameters
 * of GET /v1/events and the errors for wrong ones.
 */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>

#include "collector_query.h"

static struct collector_query q;
static char err[256];

static void setup(void)
{
	collector_query__init(&q);
	err[0] = '\0';
}

static void teardown(void)
{
	collector_query__free(&q);
}

TestSuite(cquery, .init = setup, .fini = teardown, .timeout = 10);

static void set_ok(const char *key, const char *value)
{
	cr_assert_eq(collector_query__set(&q, key, value, err, sizeof(err)),
		     0, "%s=%s: %s", key, value, err);
}

static void set_bad(const char *key, const char *value, const char *why)
{
	cr_assert_eq(collector_query__set(&q, key, value, err, sizeof(err)),
		     -EINVAL, "%s=%s accepted", key, value ? value : "(null)");
	cr_assert_str_eq(err, why);
}

Test(cquery, defaults_are_empty)
{
	for (int m = 0; m < COLLECTOR_MATCH_COUNT; m++)
		cr_assert_null(q.match[m]);
	cr_assert_eq(q.limit, 0);
	cr_assert_eq(q.follow, 0);
	cr_assert_eq(q.has_after + q.has_since + q.has_until, 0);
}

Test(cquery, every_match_filter_maps_to_its_column)
{
	static const char *const params[] = {
		"node", "agent", "kind", "verdict", "action", "rule",
		"image_digest", "deploy_id", "namespace",
	};
	static const char *const columns[] = {
		"node", "agent_id", "kind", "verdict", "action", "rule",
		"image_digest", "deploy_id", "namespace",
	};

	for (int m = 0; m < COLLECTOR_MATCH_COUNT; m++) {
		set_ok(params[m], "v");
		cr_assert_str_eq(q.match[m], "v");
		cr_assert_str_eq(collector_query__column(m), columns[m]);
	}
}

Test(cquery, times_cursor_limit_and_follow)
{
	set_ok("since", "2026-01-01T00:00:00Z");
	set_ok("until", "2026-01-01T00:00:01.5+00:00");
	set_ok("after", "42");
	set_ok("limit", "10000");
	set_ok("follow", "1");
	cr_assert(q.has_since && q.has_until && q.has_after);
	cr_assert_eq(q.since_ns, 1767225600000000000LL);
	cr_assert_eq(q.until_ns, 1767225601500000000LL);
	cr_assert_eq(q.after, 42);
	cr_assert_eq(q.limit, 10000);
	cr_assert_eq(q.follow, 1);
	set_bad("follow", "yes", "query parameter 'follow': must be 1, 0, true or false");
}

Test(cquery, unknown_parameter_is_refused)
{
	set_bad("colour", "red", "query parameter 'colour': unknown");
}

Test(cquery, repeated_parameter_is_refused)
{
	set_ok("node", "a");
	set_bad("node", "b", "query parameter 'node': given twice");
	set_ok("limit", "5");
	set_bad("limit", "6", "query parameter 'limit': given twice");
}

Test(cquery, malformed_values_are_refused)
{
	set_bad("limit", "0", "query parameter 'limit': must be 1..10000");
	set_bad("limit", "10001", "query parameter 'limit': must be 1..10000");
	set_bad("limit", "-1", "query parameter 'limit': must be 1..10000");
	set_bad("limit", "5x", "query parameter 'limit': must be 1..10000");
	set_bad("after", "-3", "query parameter 'after': not a row id");
	set_bad("after", "99999999999999999999",
		"query parameter 'after': not a row id");
	set_bad("since", "2026-01-01", "query parameter 'since': not an RFC 3339 time");
	set_bad("kind", NULL, "query parameter 'kind': has no value");
}
