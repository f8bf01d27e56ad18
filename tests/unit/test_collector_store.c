// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for tools/collector/collector_store.c: schema, deduplication,
 * one transaction per batch, filters and paging of cursors, wake-ups for
 * followers, and databases it must refuse.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "collector_store.h"

#define MAX_EVENTS	1024

static char dir[64];
static char db_path[128];
static char err[512];
static struct collector_store *store;

/* A batch whose events all point into the static arrays below. */
static Vouch__V1__Event events[MAX_EVENTS];
static Vouch__V1__Event *event_ptrs[MAX_EVENTS];
static Vouch__V1__Workload workloads[MAX_EVENTS];
static Vouch__V1__EventBatch batch;

static void remove_db(void)
{
	char path[160];

	unlink(db_path);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
}

static void setup(void)
{
	strcpy(dir, "/tmp/vouch-test-cstore-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/events.db", dir);
	store = NULL;
}

static void teardown(void)
{
	collector_store__close(store);
	remove_db();
	rmdir(dir);
}

TestSuite(cstore, .init = setup, .fini = teardown, .timeout = 30);

static void open_store(void)
{
	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_not_null(store, "open: %s", err);
}

/* n events of one agent from seq `from`; fields vary with the index */
static Vouch__V1__EventBatch *make_batch(const char *agent, uint64_t from,
					 size_t n)
{
	static const char *const kinds[] = { "exec", "connect", "loss" };

	cr_assert_leq(n, MAX_EVENTS);
	for (size_t i = 0; i < n; i++) {
		Vouch__V1__Event *ev = &events[i];

		vouch__v1__event__init(ev);
		vouch__v1__workload__init(&workloads[i]);
		ev->agent_id = (char *)agent;
		ev->node = i % 2 ? "node-b" : "node-a";
		ev->seq = from + i;
		ev->time = i % 2 ? "2026-01-01T00:00:02Z" :
				   "2026-01-01T00:00:01Z";
		ev->kind = (char *)kinds[i % 3];
		ev->verdict = i % 2 ? "allow" : "deny";
		ev->action = i % 2 ? "reported" : "killed";
		ev->rule = "r1";
		workloads[i].namespace_ = "shop";
		workloads[i].image_digest = "sha256:aa";
		workloads[i].deploy_id = "d-1";
		ev->workload = &workloads[i];
		event_ptrs[i] = ev;
	}
	vouch__v1__event_batch__init(&batch);
	batch.n_events = n;
	batch.events = event_ptrs;
	return &batch;
}

static struct collector_stored insert_ok(const Vouch__V1__EventBatch *b)
{
	struct collector_stored done;

	cr_assert_eq(collector_store__insert(store, b, &done, err,
					     sizeof(err)), 0, "%s", err);
	return done;
}

/* Ids of every row the query returns, read through a cursor. */
static size_t read_ids(const struct collector_query *q, int64_t after,
		       int64_t upto, int64_t *ids, size_t max)
{
	struct collector_cursor *c;
	const void *blob;
	size_t n = 0, len;
	int64_t id;
	int ret;

	c = collector_cursor__open(store, q, after, upto, err, sizeof(err));
	cr_assert_not_null(c, "cursor: %s", err);
	while ((ret = collector_cursor__next(c, &id, &blob, &len)) == 1) {
		cr_assert_lt(n, max);
		cr_assert_gt(len, 0);
		ids[n++] = id;
	}
	cr_assert_eq(ret, 0);
	collector_cursor__close(c);
	return n;
}

static size_t count_matching(const struct collector_query *q)
{
	int64_t ids[MAX_EVENTS];

	return read_ids(q, 0, INT64_MAX, ids, MAX_EVENTS);
}

/* A side connection, as an operator's sqlite3 shell would be. */
static void side_sql(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK,
		     "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static int64_t side_int(const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t v;

	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

Test(cstore, new_database_gets_versioned_schema_in_wal_mode)
{
	open_store();
	cr_assert_eq(side_int("PRAGMA user_version"), COLLECTOR_SCHEMA_VERSION);
	cr_assert_eq(side_int("SELECT count(*) FROM sqlite_master"
			      " WHERE type = 'index' AND name LIKE 'events_by_%'"),
		     6);
	cr_assert_eq(collector_store__last_id(store), 0);
	collector_store__close(store);
	store = NULL;

	/* journal_mode=WAL is a property of the file: it stays */
	cr_assert_eq(side_int("SELECT count(*) FROM pragma_journal_mode"
			      " WHERE journal_mode = 'wal'"), 1);
}

Test(cstore, batch_is_stored_with_filter_columns)
{
	struct collector_stored done;

	open_store();
	done = insert_ok(make_batch("agent-1", 1, 3));
	cr_assert_eq(done.stored, 3);
	cr_assert_eq(done.duplicates, 0);
	cr_assert_eq(collector_store__last_id(store), 3);
	cr_assert_eq(side_int("SELECT count(*) FROM events WHERE"
			      " agent_id = 'agent-1' AND node = 'node-b' AND"
			      " seq = 2 AND kind = 'connect' AND"
			      " verdict = 'allow' AND action = 'reported' AND"
			      " rule = 'r1' AND namespace = 'shop' AND"
			      " image_digest = 'sha256:aa' AND"
			      " deploy_id = 'd-1' AND"
			      " time = '2026-01-01T00:00:02Z'"), 1);
	cr_assert_eq(side_int("SELECT time_ns FROM events WHERE seq = 2"),
		     1767225602000000000LL);
}

Test(cstore, stored_blob_is_the_packed_event)
{
	struct collector_query q;
	struct collector_cursor *c;
	Vouch__V1__Event *ev;
	const void *blob;
	size_t len;
	int64_t id;

	open_store();
	insert_ok(make_batch("agent-1", 7, 1));
	collector_query__init(&q);
	c = collector_cursor__open(store, &q, 0, INT64_MAX, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(collector_cursor__next(c, &id, &blob, &len), 1);
	ev = vouch__v1__event__unpack(NULL, len, blob);
	cr_assert_not_null(ev);
	cr_assert_str_eq(ev->agent_id, "agent-1");
	cr_assert_eq(ev->seq, 7);
	cr_assert_str_eq(ev->workload->deploy_id, "d-1");
	vouch__v1__event__free_unpacked(ev, NULL);
	collector_cursor__close(c);
}

Test(cstore, same_batch_twice_is_stored_once)
{
	struct collector_stored done;

	open_store();
	insert_ok(make_batch("agent-1", 1, 5));
	done = insert_ok(make_batch("agent-1", 1, 5));
	cr_assert_eq(done.stored, 0);
	cr_assert_eq(done.duplicates, 5);
	cr_assert_eq(side_int("SELECT count(*) FROM events"), 5);
}

Test(cstore, overlapping_batches_and_agents_dedup_by_agent_and_seq)
{
	struct collector_stored done;

	open_store();
	insert_ok(make_batch("agent-1", 1, 5));
	done = insert_ok(make_batch("agent-1", 4, 4));
	cr_assert_eq(done.stored, 2);
	cr_assert_eq(done.duplicates, 2);
	/* the same seq from another agent is another event */
	done = insert_ok(make_batch("agent-2", 1, 5));
	cr_assert_eq(done.stored, 5);
	cr_assert_eq(side_int("SELECT count(*) FROM events"), 12);
}

Test(cstore, duplicate_inside_one_batch_is_stored_once)
{
	Vouch__V1__EventBatch *b = make_batch("agent-1", 1, 3);
	struct collector_stored done;

	events[2].seq = 1;
	open_store();
	done = insert_ok(b);
	cr_assert_eq(done.stored, 2);
	cr_assert_eq(done.duplicates, 1);
}

Test(cstore, failing_batch_stores_nothing)
{
	struct collector_stored done;

	open_store();
	insert_ok(make_batch("agent-1", 1, 2));
	side_sql("CREATE TRIGGER fail BEFORE INSERT ON events"
		 " WHEN NEW.seq = 5 BEGIN SELECT RAISE(ABORT, 'injected'); END");

	cr_assert_eq(collector_store__insert(store,
					     make_batch("agent-2", 1, 8),
					     &done, err, sizeof(err)), -EIO);
	cr_assert(strstr(err, "injected"), "%s", err);
	cr_assert_eq(done.stored, 0);
	cr_assert_eq(side_int("SELECT count(*) FROM events"), 2);
	cr_assert_eq(collector_store__last_id(store), 2);

	/* the store is usable again and the retry stores it all */
	side_sql("DROP TRIGGER fail");
	done = insert_ok(make_batch("agent-2", 1, 8));
	cr_assert_eq(done.stored, 8);
}

Test(cstore, events_survive_reopen)
{
	open_store();
	insert_ok(make_batch("agent-1", 1, 4));
	collector_store__close(store);
	store = NULL;

	open_store();
	cr_assert_eq(collector_store__last_id(store), 4);
	cr_assert_eq(insert_ok(make_batch("agent-1", 1, 4)).duplicates, 4);
}

Test(cstore, filters_match_columns)
{
	struct collector_query q;

	open_store();
	insert_ok(make_batch("agent-1", 1, 6));
	insert_ok(make_batch("agent-2", 1, 6));

	collector_query__init(&q);
	cr_assert_eq(count_matching(&q), 12);
	q.match[COLLECTOR_MATCH_AGENT] = strdup("agent-2");
	cr_assert_eq(count_matching(&q), 6);
	q.match[COLLECTOR_MATCH_NODE] = strdup("node-b");
	cr_assert_eq(count_matching(&q), 3);
	q.match[COLLECTOR_MATCH_KIND] = strdup("connect");
	cr_assert_eq(count_matching(&q), 1);
	collector_query__free(&q);

	collector_query__init(&q);
	q.match[COLLECTOR_MATCH_VERDICT] = strdup("deny");
	q.match[COLLECTOR_MATCH_ACTION] = strdup("killed");
	q.match[COLLECTOR_MATCH_RULE] = strdup("r1");
	q.match[COLLECTOR_MATCH_NAMESPACE] = strdup("shop");
	q.match[COLLECTOR_MATCH_IMAGE_DIGEST] = strdup("sha256:aa");
	q.match[COLLECTOR_MATCH_DEPLOY_ID] = strdup("d-1");
	cr_assert_eq(count_matching(&q), 6);
	free(q.match[COLLECTOR_MATCH_DEPLOY_ID]);
	q.match[COLLECTOR_MATCH_DEPLOY_ID] = strdup("d-2");
	cr_assert_eq(count_matching(&q), 0);
	collector_query__free(&q);
}

Test(cstore, time_filters_since_inclusive_until_exclusive)
{
	struct collector_query q;

	open_store();
	insert_ok(make_batch("agent-1", 1, 6));
	collector_query__init(&q);
	q.has_since = 1;
	q.since_ns = 1767225602000000000LL;
	cr_assert_eq(count_matching(&q), 3);
	q.has_until = 1;
	q.until_ns = 1767225602000000000LL;
	cr_assert_eq(count_matching(&q), 0);
	q.has_since = 0;
	cr_assert_eq(count_matching(&q), 3);
}

Test(cstore, event_without_time_is_stored_but_not_time_filtered)
{
	Vouch__V1__EventBatch *b = make_batch("agent-1", 1, 2);
	struct collector_query q;

	events[0].time = "";
	open_store();
	insert_ok(b);
	cr_assert_eq(side_int("SELECT count(*) FROM events"
			      " WHERE time_ns IS NULL"), 1);
	collector_query__init(&q);
	q.has_since = 1;
	q.since_ns = 0;
	cr_assert_eq(count_matching(&q), 1);
}

Test(cstore, cursor_pages_through_many_rows_in_id_order)
{
	struct collector_query q;
	int64_t ids[1000];
	size_t n;

	open_store();
	insert_ok(make_batch("agent-1", 1, 1000));
	collector_query__init(&q);
	n = read_ids(&q, 0, INT64_MAX, ids, 1000);
	cr_assert_eq(n, 1000);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ids[i], (int64_t)i + 1);
}

Test(cstore, cursor_window_after_and_upto)
{
	struct collector_query q;
	int64_t ids[10];
	size_t n;

	open_store();
	insert_ok(make_batch("agent-1", 1, 10));
	collector_query__init(&q);
	n = read_ids(&q, 3, 7, ids, 10);
	cr_assert_eq(n, 4);
	cr_assert_eq(ids[0], 4);
	cr_assert_eq(ids[3], 7);
}

Test(cstore, cursor_sees_rows_committed_after_it_caught_up)
{
	struct collector_query q;
	struct collector_cursor *c;
	const void *blob;
	size_t len;
	int64_t id;

	open_store();
	insert_ok(make_batch("agent-1", 1, 2));
	collector_query__init(&q);
	c = collector_cursor__open(store, &q, 0, INT64_MAX, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(collector_cursor__next(c, &id, &blob, &len), 1);
	cr_assert_eq(collector_cursor__next(c, &id, &blob, &len), 1);
	cr_assert_eq(collector_cursor__next(c, &id, &blob, &len), 0);

	insert_ok(make_batch("agent-1", 3, 1));
	cr_assert_eq(collector_cursor__next(c, &id, &blob, &len), 1);
	cr_assert_eq(id, 3);
	collector_cursor__close(c);
}

struct waiter {
	int64_t after;
	int result;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->result = collector_store__wait(store, w->after, 5000);
	return NULL;
}

Test(cstore, wait_wakes_on_commit_times_out_and_stops)
{
	struct waiter w = { .after = 0 };
	pthread_t t;

	open_store();
	cr_assert_eq(collector_store__wait(store, 0, 20), 0);

	pthread_create(&t, NULL, wait_thread, &w);
	usleep(50 * 1000);
	insert_ok(make_batch("agent-1", 1, 1));
	pthread_join(t, NULL);
	cr_assert_eq(w.result, 1);
	/* already newer: no wait at all */
	cr_assert_eq(collector_store__wait(store, 0, 5000), 1);

	w.after = 1;
	pthread_create(&t, NULL, wait_thread, &w);
	usleep(50 * 1000);
	collector_store__stop_waiters(store);
	pthread_join(t, NULL);
	cr_assert_eq(w.result, -ESHUTDOWN);
}

Test(cstore, corrupt_file_is_refused_clearly)
{
	FILE *f = fopen(db_path, "w");

	cr_assert_not_null(f);
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);

	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_null(store);
	cr_assert(strstr(err, db_path), "names the file: %s", err);
	cr_assert(strstr(err, "file is not a database"), "%s", err);
}

Test(cstore, other_schema_version_is_refused)
{
	side_sql("CREATE TABLE events (x); PRAGMA user_version = 7");
	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_null(store);
	cr_assert_eq(errno, EPROTO);
	cr_assert(strstr(err, "schema version 7"), "%s", err);
}

Test(cstore, foreign_database_is_left_alone)
{
	side_sql("CREATE TABLE accounts (id INTEGER)");
	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_null(store);
	cr_assert(strstr(err, "schema version 0"), "%s", err);
	cr_assert_eq(side_int("SELECT count(*) FROM sqlite_master"
			      " WHERE name = 'events'"), 0);
}

Test(cstore, unopenable_path_is_refused)
{
	snprintf(db_path, sizeof(db_path), "%s/missing/dir/events.db", dir);
	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_null(store);
	cr_assert(strstr(err, "unable to open"), "%s", err);
}

Test(cstore, close_is_null_safe)
{
	collector_store__close(NULL);
	collector_cursor__close(NULL);
	collector_store__stop_waiters(NULL);
}
