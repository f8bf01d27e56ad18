// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/metrics.c: counters, the health verdict, the texts. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <criterion/criterion.h>

#include "metrics.h"

static struct metrics *m;

static void setup(void)
{
	struct metrics_identity id = {
		.agent_id = "a1", .node = "n1", .version = "9.9", .stall_ms = 60000,
	};

	m = metrics__new(&id);
	cr_assert_not_null(m);
}

static void teardown(void)
{
	metrics__free(m);
}

TestSuite(metrics, .init = setup, .fini = teardown, .timeout = 10);

static void set_policy(int64_t expires)
{
	struct metrics_policy p = {
		.gen = 7, .serial = 42, .expires = expires, .loaded = 1,
		.entries = 3, .detail = strdup("{\"mode\":\"enforce\"}"),
	};

	metrics__set_policy(m, &p);
}

static void assert_has(const char *text, const char *line)
{
	cr_assert_not_null(strstr(text, line), "missing '%s' in:\n%s", line, text);
}

Test(metrics, counters_reach_the_prometheus_text)
{
	char *text;

	for (int i = 0; i < 3; i++)
		metrics__count_event(m, "exec", "deny");
	metrics__count_event(m, "exec", "allow");
	metrics__count_event(m, "agent", NULL);
	metrics__count_loss(m, "exec", 5);
	metrics__count_loss(m, "exec", 2);
	metrics__count_loss(m, "script", 0);
	set_policy(0);
	text = metrics__prometheus(m);
	cr_assert_not_null(text);
	assert_has(text, "\nvouch_events_total{kind=\"exec\",verdict=\"deny\"} 3\n");
	assert_has(text, "\nvouch_events_total{kind=\"exec\",verdict=\"allow\"} 1\n");
	assert_has(text, "\nvouch_events_total{kind=\"agent\",verdict=\"none\"} 1\n");
	assert_has(text, "\nvouch_events_lost_total{kind=\"exec\"} 7\n");
	assert_has(text, "\nvouch_events_lost_total{kind=\"script\"} 0\n");
	assert_has(text, "\nvouch_policy_generation 7\n");
	assert_has(text, "\nvouch_policy_serial 42\n");
	assert_has(text, "\nvouch_policy_rules 3\n");
	assert_has(text, "# TYPE vouch_events_total counter\n");
	assert_has(text, "vouch_build_info{version=\"9.9\"} 1\n");
	free(text);
}

Test(metrics, label_values_are_escaped)
{
	char *text;

	metrics__count_event(m, "a\"b\\c\nd", "deny");
	text = metrics__prometheus(m);
	assert_has(text, "{kind=\"a\\\"b\\\\c\\nd\",verdict=\"deny\"} 1\n");
	free(text);
}

Test(metrics, too_many_kinds_fold_into_other)
{
	char kind[32], *text;

	for (int i = 0; i < 100; i++) {
		snprintf(kind, sizeof(kind), "k%d", i);
		metrics__count_event(m, kind, "deny");
	}
	text = metrics__prometheus(m);
	assert_has(text, "vouch_events_total{kind=\"k62\",verdict=\"deny\"} 1\n");
	assert_has(text, "vouch_events_total{kind=\"other\"} 37\n");
	cr_assert_null(strstr(text, "kind=\"k63\""));
	free(text);
}

Test(metrics, nothing_attached_and_no_policy_is_unhealthy)
{
	char why[1024];

	cr_assert_eq(metrics__healthy(m, why, sizeof(why)), 0);
	assert_has(why, "no program is attached\n");
	assert_has(why, "no policy is loaded\n");
}

Test(metrics, a_link_the_kernel_does_not_have_is_not_attached)
{
	struct metrics_link l = {
		.link_id = 0x7ffffff0, .prog_id = 0x7ffffff1, .name = "vouch_exec",
	};
	char why[1024], *text;

	metrics__set_links(m, &l, 1);
	set_policy(0);
	cr_assert_eq(metrics__healthy(m, why, sizeof(why)), 0);
	assert_has(why, "program vouch_exec (id 2147483633) is not attached");
	text = metrics__prometheus(m);
	assert_has(text, "vouch_bpf_program_attached{program=\"vouch_exec\"} 0\n");
	assert_has(text, "\nvouch_healthy 0\n");
	free(text);
}

Test(metrics, an_expired_policy_is_unhealthy)
{
	char why[1024];

	set_policy((int64_t)time(NULL) - 10);
	metrics__healthy(m, why, sizeof(why));
	assert_has(why, "the policy expired ");
	set_policy((int64_t)time(NULL) + 3600);
	metrics__healthy(m, why, sizeof(why));
	cr_assert_null(strstr(why, "expired"));
}

Test(metrics, a_stalled_consumer_is_unhealthy)
{
	struct metrics_identity id = { .stall_ms = -1 };
	struct metrics *stalled = metrics__new(&id);
	char why[1024];

	cr_assert_not_null(stalled);
	metrics__healthy(stalled, why, sizeof(why));
	assert_has(why, "the ring buffer consumer has stalled");
	metrics__healthy(m, why, sizeof(why));
	cr_assert_null(strstr(why, "stalled"));
	metrics__free(stalled);
}

Test(metrics, problems_are_cut_not_overrun)
{
	char why[16];

	memset(why, 'x', sizeof(why));
	metrics__healthy(m, why, sizeof(why));
	cr_assert(memchr(why, '\0', sizeof(why)) != NULL);
}

Test(metrics, status_json_carries_policy_counts_and_problems)
{
	json_t *o, *policy;
	char *text;

	set_policy(0);
	metrics__count_event(m, "exec", "deny");
	metrics__count_loss(m, "exec", 4);
	text = metrics__status_json(m);
	cr_assert_not_null(text);
	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	cr_assert_not_null(o, "%s", text);
	cr_assert(json_is_false(json_object_get(o, "healthy")));
	cr_assert_str_eq(json_string_value(json_object_get(o, "agentId")), "a1");
	policy = json_object_get(o, "policy");
	cr_assert_eq(json_integer_value(json_object_get(policy, "generation")), 7);
	cr_assert_str_eq(json_string_value(json_object_get(policy, "mode")),
			 "enforce");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(
		json_object_get(o, "losses"), 0), "count")), 4);
	cr_assert_str_eq(json_string_value(json_array_get(
		json_object_get(o, "problems"), 0)), "no program is attached");
	json_decref(o);
	free(text);
}

Test(metrics, addresses_are_numeric_with_a_port)
{
	struct sockaddr_storage sa;

	cr_assert_eq(metrics__parse_addr("127.0.0.1:9470", &sa), 0);
	cr_assert_eq(sa.ss_family, AF_INET);
	cr_assert_eq(metrics__parse_addr("[::1]:9470", &sa), 0);
	cr_assert_eq(sa.ss_family, AF_INET6);
	cr_assert_eq(metrics__parse_addr("localhost:9470", &sa), -EINVAL);
	cr_assert_eq(metrics__parse_addr("127.0.0.1", &sa), -EINVAL);
	cr_assert_eq(metrics__parse_addr("127.0.0.1:", &sa), -EINVAL);
	cr_assert_eq(metrics__parse_addr("[::1:9470", &sa), -EINVAL);
	cr_assert_eq(metrics__parse_addr("127.0.0.1:http", &sa), -EINVAL);
	cr_assert_eq(metrics__parse_addr(":9470", &sa), -EINVAL);
}

Test(metrics, null_is_safe)
{
	struct metrics_policy p = { .detail = strdup("{}") };

	metrics__count_event(NULL, "exec", "deny");
	metrics__count_loss(NULL, "exec", 1);
	metrics__heartbeat(NULL);
	metrics__set_policy(NULL, &p);
	metrics__set_links(NULL, NULL, 0);
	metrics__free(NULL);
}
