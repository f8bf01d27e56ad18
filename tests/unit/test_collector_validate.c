// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for tools/collector/collector_validate.c and collector_time.c:
 * which batches the collector accepts, and the reason it gives for each
 * one it refuses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "collector_time.h"
#include "collector_validate.h"

#define N_EVENTS	(COLLECTOR_MAX_EVENTS + 1)

static Vouch__V1__Event events[N_EVENTS];
static Vouch__V1__Event *event_ptrs[N_EVENTS];
static Vouch__V1__Process process;
static Vouch__V1__Network network;
static Vouch__V1__EventBatch batch;
static char err[256];
static char *long_string;

static void setup(void)
{
	long_string = NULL;
	err[0] = '\0';
}

static void teardown(void)
{
	free(long_string);
}

TestSuite(cvalidate, .init = setup, .fini = teardown, .timeout = 10);

static Vouch__V1__EventBatch *make_batch(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		vouch__v1__event__init(&events[i]);
		events[i].agent_id = "agent-1";
		events[i].node = "node-1";
		events[i].seq = i + 1;
		events[i].time = "2026-01-01T00:00:00.5Z";
		events[i].kind = "exec";
		event_ptrs[i] = &events[i];
	}
	vouch__v1__event_batch__init(&batch);
	batch.n_events = n;
	batch.events = event_ptrs;
	return &batch;
}

/* A string of n bytes of 'a', freed in teardown. */
static char *string_of(size_t n)
{
	free(long_string);
	long_string = malloc(n + 1);
	cr_assert_not_null(long_string);
	memset(long_string, 'a', n);
	long_string[n] = '\0';
	return long_string;
}

static void assert_refused(const Vouch__V1__EventBatch *b, const char *why)
{
	cr_assert_eq(collector_validate__batch(b, err, sizeof(err)), -EINVAL,
		     "accepted; expected '%s'", why);
	cr_assert_str_eq(err, why);
}

static void assert_accepted(const Vouch__V1__EventBatch *b)
{
	cr_assert_eq(collector_validate__batch(b, err, sizeof(err)), 0,
		     "refused: %s", err);
}

Test(cvalidate, well_formed_batch_is_accepted)
{
	assert_accepted(make_batch(3));
}

Test(cvalidate, batch_of_exactly_the_maximum_is_accepted)
{
	assert_accepted(make_batch(COLLECTOR_MAX_EVENTS));
}

Test(cvalidate, empty_batch_is_refused)
{
	assert_refused(make_batch(0), "batch has no events");
}

Test(cvalidate, too_many_events_are_refused)
{
	assert_refused(make_batch(N_EVENTS),
		       "batch has 10001 events, at most 10000");
}

Test(cvalidate, reasons_name_the_event_and_the_rule)
{
	Vouch__V1__EventBatch *b = make_batch(5);

	events[3].seq = 0;
	assert_refused(b, "event 3: seq must be > 0");
	events[3].seq = 4;
	events[2].agent_id = "";
	assert_refused(b, "event 2: agent_id is empty");
	events[2].agent_id = "agent-1";
	events[4].kind = "";
	assert_refused(b, "event 4: kind is empty");
}

Test(cvalidate, seq_beyond_signed_64_bits_is_refused)
{
	Vouch__V1__EventBatch *b = make_batch(1);

	events[0].seq = (uint64_t)INT64_MAX;
	assert_accepted(b);
	events[0].seq = (uint64_t)INT64_MAX + 1;
	assert_refused(b, "event 0: seq must be < 2^63");
}

Test(cvalidate, bad_time_is_refused_and_empty_time_is_not)
{
	Vouch__V1__EventBatch *b = make_batch(2);

	events[1].time = "yesterday";
	assert_refused(b, "event 1: time 'yesterday' is not an RFC 3339 time");
	events[1].time = "";
	assert_accepted(b);
}

Test(cvalidate, strings_are_bounded_at_64_kib)
{
	Vouch__V1__EventBatch *b = make_batch(2);

	events[1].reason = string_of(COLLECTOR_MAX_STRING);
	assert_accepted(b);
	events[1].reason = string_of(COLLECTOR_MAX_STRING + 1);
	assert_refused(b, "event 1: reason is longer than 65536 bytes");
}

Test(cvalidate, nested_strings_are_named)
{
	Vouch__V1__EventBatch *b = make_batch(1);

	vouch__v1__network__init(&network);
	events[0].network = &network;
	network.dest_addr = string_of(COLLECTOR_MAX_STRING + 1);
	assert_refused(b, "event 0: network.dest_addr is longer than 65536 bytes");
}

Test(cvalidate, argv_is_bounded_in_count_and_length)
{
	Vouch__V1__EventBatch *b = make_batch(1);
	char *argv[COLLECTOR_MAX_ARGV + 1];

	for (size_t i = 0; i <= COLLECTOR_MAX_ARGV; i++)
		argv[i] = "x";
	vouch__v1__process__init(&process);
	process.argv = argv;
	process.n_argv = COLLECTOR_MAX_ARGV;
	events[0].process = &process;
	assert_accepted(b);

	process.n_argv = COLLECTOR_MAX_ARGV + 1;
	assert_refused(b, "event 0: process.argv has 4097 entries, at most 4096");
	process.n_argv = 2;
	argv[1] = string_of(COLLECTOR_MAX_STRING + 1);
	assert_refused(b,
		       "event 0: process.argv[1] is longer than 65536 bytes");
}

Test(cvalidate, decode_accepts_a_packed_batch)
{
	Vouch__V1__EventBatch *b = make_batch(2), *out;
	size_t len = vouch__v1__event_batch__get_packed_size(b);
	uint8_t *buf = malloc(len);

	vouch__v1__event_batch__pack(b, buf);
	out = collector_validate__decode(buf, len, err, sizeof(err));
	cr_assert_not_null(out, "%s", err);
	cr_assert_eq(out->n_events, 2);
	cr_assert_str_eq(out->events[1]->agent_id, "agent-1");
	vouch__v1__event_batch__free_unpacked(out, NULL);
	free(buf);
}

Test(cvalidate, decode_refuses_garbage_and_truncation)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x01 };
	Vouch__V1__EventBatch *b = make_batch(2);
	size_t len = vouch__v1__event_batch__get_packed_size(b);
	uint8_t *buf = malloc(len);

	cr_assert_null(collector_validate__decode(garbage, sizeof(garbage),
						  err, sizeof(err)));
	cr_assert_eq(errno, EBADMSG);
	cr_assert_str_eq(err, "body is not a vouch.v1.EventBatch protobuf");

	vouch__v1__event_batch__pack(b, buf);
	err[0] = '\0';
	cr_assert_null(collector_validate__decode(buf, len - 3, err,
						  sizeof(err)));
	cr_assert_eq(errno, EBADMSG);
	free(buf);
}

Test(cvalidate, decode_refuses_a_valid_protobuf_with_a_bad_event)
{
	Vouch__V1__EventBatch *b = make_batch(2);
	size_t len;
	uint8_t *buf;

	events[1].seq = 0;
	len = vouch__v1__event_batch__get_packed_size(b);
	buf = malloc(len);
	vouch__v1__event_batch__pack(b, buf);
	cr_assert_null(collector_validate__decode(buf, len, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_str_eq(err, "event 1: seq must be > 0");
	free(buf);
}

Test(cvalidate, empty_body_is_an_empty_batch)
{
	cr_assert_null(collector_validate__decode((const uint8_t *)"", 0, err,
						  sizeof(err)));
	cr_assert_str_eq(err, "batch has no events");
}

static int64_t parse_ok(const char *s)
{
	int64_t ns = 0;

	cr_assert_eq(collector_time__parse(s, &ns), 0, "refused '%s'", s);
	return ns;
}

Test(cvalidate, rfc3339_forms)
{
	cr_assert_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(parse_ok("2026-01-01T00:00:00Z"), 1767225600000000000LL);
	cr_assert_eq(parse_ok("2026-01-01T00:00:00.123456789Z"),
		     1767225600123456789LL);
	cr_assert_eq(parse_ok("2026-01-01T00:00:00.5Z"),
		     1767225600500000000LL);
	cr_assert_eq(parse_ok("2026-01-01t00:00:00z"), 1767225600000000000LL);
	cr_assert_eq(parse_ok("2026-01-01T02:00:00+02:00"),
		     1767225600000000000LL);
	cr_assert_eq(parse_ok("2025-12-31T19:30:00-04:30"),
		     1767225600000000000LL);
	cr_assert_eq(parse_ok("1969-12-31T23:59:59.5Z"), -500000000LL);
	cr_assert_eq(parse_ok("2024-02-29T00:00:00Z"), 1709164800000000000LL);
}

Test(cvalidate, rfc3339_rejects)
{
	static const char *const bad[] = {
		"", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
		"2026-1-01T00:00:00Z", " 2026-01-01T00:00:00Z",
		"2026-01-01T00:00:00Zjunk", "2026-01-01T00:00:00.Z",
		"2026-01-01T00:00:00.1234567891Z", "2026-02-30T00:00:00Z",
		"2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
		"2026-01-01T00:00:60Z", "2026-01-01T00:00:00+2:00",
		"2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+02:60",
		"2026-01-01T00:00:00+0200",
	};
	int64_t ns;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(collector_time__parse(bad[i], &ns), -EINVAL,
			     "accepted '%s'", bad[i]);
}

Test(cvalidate, rfc3339_out_of_range)
{
	int64_t ns;

	cr_assert_eq(collector_time__parse("2262-04-11T23:47:16Z", &ns), 0);
	cr_assert_eq(collector_time__parse("2262-04-11T23:47:17Z", &ns),
		     -ERANGE);
	cr_assert_eq(collector_time__parse("1000-01-01T00:00:00Z", &ns),
		     -ERANGE);
}
