// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for tools/collector/collector_stream.c: the body of
 * GET /v1/events, read through buffers smaller than a line, with limits,
 * follow wake-ups, heartbeats and shutdown.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "collector_stream.h"

#define MAX_EVENTS	1200

static char dir[64];
static char db_path[128];
static char err[512];
static struct collector_store *store;
static struct collector_stream *stream;
static struct collector_query query;

static Vouch__V1__Event events[MAX_EVENTS];
static Vouch__V1__Event *event_ptrs[MAX_EVENTS];
static Vouch__V1__EventBatch batch;

static void setup(void)
{
	strcpy(dir, "/tmp/vouch-test-cstream-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/events.db", dir);
	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_not_null(store, "%s", err);
	stream = NULL;
	collector_query__init(&query);
}

static void teardown(void)
{
	char path[160];

	collector_stream__close(stream);
	collector_store__close(store);
	collector_query__free(&query);
	unlink(db_path);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
	rmdir(dir);
}

TestSuite(cstream, .init = setup, .fini = teardown, .timeout = 30);

static void insert(const char *kind, uint64_t from, size_t n)
{
	struct collector_stored done;

	cr_assert_leq(n, MAX_EVENTS);
	for (size_t i = 0; i < n; i++) {
		vouch__v1__event__init(&events[i]);
		events[i].agent_id = "agent-1";
		events[i].seq = from + i;
		events[i].kind = (char *)kind;
		events[i].reason = "a reason long enough to need several reads";
		event_ptrs[i] = &events[i];
	}
	vouch__v1__event_batch__init(&batch);
	batch.n_events = n;
	batch.events = event_ptrs;
	cr_assert_eq(collector_store__insert(store, &batch, &done, err,
					     sizeof(err)), 0, "%s", err);
}

static void open_stream(int heartbeat_ms)
{
	stream = collector_stream__open(store, &query, heartbeat_ms, err,
					sizeof(err));
	cr_assert_not_null(stream, "%s", err);
}

/* Reads until the end of the stream, `chunk` bytes at a time. */
static char *read_all(size_t chunk, size_t *total)
{
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	char *buf = malloc(chunk);
	ssize_t n;

	while ((n = collector_stream__read(stream, buf, chunk)) > 0) {
		cr_assert_leq((size_t)n, chunk);
		if (len + n + 1 > cap)
			out = realloc(out, cap *= 2);
		memcpy(out + len, buf, n);
		len += n;
	}
	cr_assert_eq(n, 0);
	out[len] = '\0';
	free(buf);
	*total = len;
	return out;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(cstream, lines_split_across_small_buffers_come_out_whole)
{
	size_t len;
	char *text;

	insert("exec", 1, 3);
	open_stream(1000);
	text = read_all(7, &len);
	cr_assert_eq(count_lines(text), 3);
	cr_assert(strncmp(text, "{\"id\":1,\"agentId\":\"agent-1\"", 27) == 0,
		  "%s", text);
	cr_assert(strstr(text, "\"seq\":3"), "%s", text);
	free(text);
}

Test(cstream, default_limit_is_1000_and_limit_is_kept)
{
	size_t len;
	char *text;

	insert("exec", 1, 1100);
	open_stream(1000);
	text = read_all(32 * 1024, &len);
	cr_assert_eq(count_lines(text), 1000);
	free(text);
	collector_stream__close(stream);

	query.limit = 5;
	query.after = 1000;
	query.has_after = 1;
	open_stream(1000);
	text = read_all(32 * 1024, &len);
	cr_assert_eq(count_lines(text), 5);
	cr_assert(strncmp(text, "{\"id\":1001,", 11) == 0, "%s", text);
	free(text);
}

Test(cstream, snapshot_stream_ignores_rows_committed_after_it_opened)
{
	size_t len;
	char *text;

	insert("exec", 1, 2);
	open_stream(1000);
	insert("exec", 3, 2);
	text = read_all(1024, &len);
	cr_assert_eq(count_lines(text), 2);
	free(text);
}

Test(cstream, filters_apply)
{
	size_t len;
	char *text;

	insert("exec", 1, 2);
	insert("connect", 3, 2);
	query.match[COLLECTOR_MATCH_KIND] = strdup("connect");
	open_stream(1000);
	text = read_all(1024, &len);
	cr_assert_eq(count_lines(text), 2);
	cr_assert_null(strstr(text, "\"exec\""));
	free(text);
}

Test(cstream, idle_follow_sends_a_heartbeat)
{
	char buf[64];

	insert("exec", 1, 2);
	query.follow = 1;
	open_stream(50);
	/* from now on: the two stored events are not replayed */
	cr_assert_eq(collector_stream__read(stream, buf, sizeof(buf)), 1);
	cr_assert_eq(buf[0], '\n');
}

Test(cstream, follow_from_a_cursor_replays_then_follows)
{
	char buf[4096];
	ssize_t n;

	insert("exec", 1, 3);
	query.follow = 1;
	query.after = 1;
	query.has_after = 1;
	open_stream(50);
	n = collector_stream__read(stream, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_eq(count_lines(buf), 2, "%s", buf);
	cr_assert(strncmp(buf, "{\"id\":2,", 8) == 0, "%s", buf);
}

static void *insert_later(void *arg)
{
	usleep(100 * 1000);
	insert("connect", 10, 1);
	return NULL;
}

Test(cstream, follow_wakes_on_a_commit)
{
	char buf[4096];
	pthread_t t;
	ssize_t n;

	query.follow = 1;
	open_stream(5000);
	pthread_create(&t, NULL, insert_later, NULL);
	n = collector_stream__read(stream, buf, sizeof(buf) - 1);
	pthread_join(t, NULL);
	cr_assert_gt(n, 1);
	buf[n] = '\0';
	cr_assert(strstr(buf, "\"seq\":10"), "%s", buf);
}

Test(cstream, follow_with_limit_ends)
{
	char buf[4096];

	query.follow = 1;
	query.limit = 1;
	open_stream(5000);
	insert("exec", 1, 2);
	cr_assert_gt(collector_stream__read(stream, buf, sizeof(buf)), 1);
	cr_assert_eq(collector_stream__read(stream, buf, sizeof(buf)), 0);
}

static void *stop_later(void *arg)
{
	usleep(100 * 1000);
	collector_store__stop_waiters(store);
	return NULL;
}

Test(cstream, shutdown_ends_a_follow)
{
	char buf[64];
	pthread_t t;

	query.follow = 1;
	open_stream(5000);
	pthread_create(&t, NULL, stop_later, NULL);
	cr_assert_eq(collector_stream__read(stream, buf, sizeof(buf)), 0);
	pthread_join(t, NULL);
}

Test(cstream, close_is_null_safe)
{
	collector_stream__close(NULL);
}
