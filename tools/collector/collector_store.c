// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite store. One writer connection, serialised by write_lock, so a
 * batch is always one transaction of its own. Readers open their own
 * connections: WAL lets them read while a batch is being written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "collector_store.h"
#include "collector_time.h"

/* Long enough for a checkpoint, short enough to answer the agent. */
#define BUSY_TIMEOUT_MS		5000
/* Rows a reader takes per statement; it holds a read snapshot that long. */
#define PAGE_ROWS		256

struct collector_store {
	sqlite3 *db;
	sqlite3_stmt *insert;
	char *path;
	uint8_t *pack_buf;
	size_t pack_cap;
	pthread_mutex_t write_lock;
	/* last_id and stopping, for followers */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int64_t last_id;
	int stopping;
};

struct collector_cursor {
	sqlite3 *db;
	sqlite3_stmt *page;
	int64_t pos;
	int rows_in_page;
	int running;
};

static const char schema_sql[] =
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" agent_id TEXT NOT NULL,"
	" node TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" time TEXT NOT NULL,"
	" time_ns INTEGER,"
	" kind TEXT NOT NULL,"
	" verdict TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" rule TEXT NOT NULL,"
	" image_digest TEXT NOT NULL,"
	" deploy_id TEXT NOT NULL,"
	" namespace TEXT NOT NULL,"
	" received_ns INTEGER NOT NULL,"
	" event BLOB NOT NULL,"
	" UNIQUE (agent_id, seq));"
	/*
	 * Each index ends in the rowid, so "col = ? ORDER BY id" walks it.
	 * Only selective columns are indexed: every index is work on every
	 * insert (about 60% of the collector's CPU was B-tree work with one
	 * per filter), and kind, verdict and action split the rows in a few
	 * large groups that a scan in id order filters as fast. The agent is
	 * served by the UNIQUE (agent_id, seq) index.
	 */
	"CREATE INDEX events_by_time ON events (time_ns);"
	"CREATE INDEX events_by_node ON events (node);"
	"CREATE INDEX events_by_rule ON events (rule);"
	"CREATE INDEX events_by_image_digest ON events (image_digest);"
	"CREATE INDEX events_by_deploy_id ON events (deploy_id);"
	"CREATE INDEX events_by_namespace ON events (namespace);"
	"PRAGMA user_version = 1;";

static const char insert_sql[] =
	"INSERT OR IGNORE INTO events (agent_id, node, seq, time, time_ns,"
	" kind, verdict, action, rule, image_digest, deploy_id, namespace,"
	" received_ns, event)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static int db_error(sqlite3 *db, const char *path, char *err, size_t err_len)
{
	snprintf(err, err_len, "database '%s': %s", path, sqlite3_errmsg(db));
	return -EIO;
}

static int run(struct collector_store *s, const char *sql, char *err,
	       size_t err_len)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s->db, s->path, err, err_len);
	return 0;
}

/* The single integer a statement such as a PRAGMA answers. */
static int query_int(struct collector_store *s, const char *sql,
		     int64_t *out, char *err, size_t err_len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, s->path, err, err_len);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(s->db, s->path, err, err_len);
	return 0;
}

static int set_wal(struct collector_store *s, char *err, size_t err_len)
{
	sqlite3_stmt *st;
	const char *mode;
	int ok;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return db_error(s->db, s->path, err, err_len);
	ok = sqlite3_step(st) == SQLITE_ROW;
	mode = ok ? (const char *)sqlite3_column_text(st, 0) : NULL;
	ok = mode && strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		snprintf(err, err_len,
			 "database '%s': cannot use write-ahead logging",
			 s->path);
		return -EIO;
	}
	return 0;
}

/*
 * A new file gets the schema; a file of ours must have our version; a
 * database holding anything else is left alone.
 */
static int check_schema(struct collector_store *s, char *err,
			size_t err_len)
{
	int64_t version, tables;
	int ret;

	ret = query_int(s, "PRAGMA user_version", &version, err, err_len);
	if (!ret)
		ret = query_int(s, "SELECT count(*) FROM sqlite_master",
				&tables, err, err_len);
	if (ret)
		return ret;
	if (version == COLLECTOR_SCHEMA_VERSION)
		return 0;
	if (version != 0 || tables != 0) {
		snprintf(err, err_len,
			 "database '%s': schema version %lld is not vouch-collector's (%d)",
			 s->path, (long long)version, COLLECTOR_SCHEMA_VERSION);
		return -EPROTO;
	}
	ret = run(s, "BEGIN IMMEDIATE", err, err_len);
	if (!ret)
		ret = run(s, schema_sql, err, err_len);
	if (!ret)
		ret = run(s, "COMMIT", err, err_len);
	if (ret)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/*
 * synchronous=FULL: WAL is synced at every commit, so a batch answered
 * with 200 survives a power cut as well as a killed collector.
 */
static int setup_db(struct collector_store *s, char *err, size_t err_len)
{
	int64_t version;
	int ret;

	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		return db_error(s->db, s->path, err, err_len);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);

	/* the first read: a file that is no database fails here */
	ret = query_int(s, "PRAGMA user_version", &version, err, err_len);
	if (!ret)
		ret = set_wal(s, err, err_len);
	if (!ret)
		ret = run(s, "PRAGMA synchronous=FULL", err, err_len);
	if (!ret)
		ret = check_schema(s, err, err_len);
	if (!ret)
		ret = query_int(s, "SELECT coalesce(max(id), 0) FROM events",
				&s->last_id, err, err_len);
	if (!ret && sqlite3_prepare_v2(s->db, insert_sql, -1, &s->insert,
				       NULL) != SQLITE_OK)
		ret = db_error(s->db, s->path, err, err_len);
	return ret;
}

static int init_sync(struct collector_store *s)
{
	pthread_condattr_t attr;
	int ret;

	ret = pthread_condattr_init(&attr);
	if (ret)
		return -ret;
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&s->changed, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		return -ret;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	return 0;
}

struct collector_store *collector_store__open(const char *path, char *err,
					      size_t err_len)
{
	struct collector_store *s = calloc(1, sizeof(*s));
	int ret;

	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(err, err_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ret = init_sync(s);
	if (ret) {
		snprintf(err, err_len, "%s", strerror(-ret));
		free(s->path);
		free(s);
		errno = -ret;
		return NULL;
	}

	ret = setup_db(s, err, err_len);
	if (ret) {
		collector_store__close(s);
		errno = -ret;
		return NULL;
	}
	return s;
}

void collector_store__close(struct collector_store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_close(s->db);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->write_lock);
	free(s->pack_buf);
	free(s->path);
	free(s);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static int pack_event(struct collector_store *s, const Vouch__V1__Event *ev,
		      size_t *len)
{
	size_t need = vouch__v1__event__get_packed_size(ev);

	if (need > s->pack_cap) {
		uint8_t *buf = realloc(s->pack_buf, need);

		if (!buf)
			return -ENOMEM;
		s->pack_buf = buf;
		s->pack_cap = need;
	}
	*len = vouch__v1__event__pack(ev, s->pack_buf);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int col, const char *value)
{
	sqlite3_bind_text(st, col, or_empty(value), -1, SQLITE_STATIC);
}

static void bind_event(sqlite3_stmt *st, const Vouch__V1__Event *ev,
		       int64_t now_ns)
{
	const Vouch__V1__Workload *w = ev->workload;
	int64_t ns;

	bind_text(st, 1, ev->agent_id);
	bind_text(st, 2, ev->node);
	sqlite3_bind_int64(st, 3, (int64_t)ev->seq);
	bind_text(st, 4, ev->time);
	if (ev->time && collector_time__parse(ev->time, &ns) == 0)
		sqlite3_bind_int64(st, 5, ns);
	else
		sqlite3_bind_null(st, 5);
	bind_text(st, 6, ev->kind);
	bind_text(st, 7, ev->verdict);
	bind_text(st, 8, ev->action);
	bind_text(st, 9, ev->rule);
	bind_text(st, 10, w ? w->image_digest : NULL);
	bind_text(st, 11, w ? w->deploy_id : NULL);
	bind_text(st, 12, w ? w->namespace_ : NULL);
	sqlite3_bind_int64(st, 13, now_ns);
}

static int insert_event(struct collector_store *s,
			const Vouch__V1__Event *ev, int64_t now_ns,
			struct collector_stored *out, int64_t *last_id,
			char *err, size_t err_len)
{
	size_t len;
	int rc;

	if (pack_event(s, ev, &len)) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	sqlite3_reset(s->insert);
	bind_event(s->insert, ev, now_ns);
	sqlite3_bind_blob(s->insert, 14, s->pack_buf, (int)len,
			  SQLITE_STATIC);
	rc = sqlite3_step(s->insert);
	sqlite3_reset(s->insert);
	if (rc != SQLITE_DONE)
		return db_error(s->db, s->path, err, err_len);

	if (sqlite3_changes(s->db) == 0) {
		out->duplicates++;
		return 0;
	}
	out->stored++;
	*last_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void publish(struct collector_store *s, int64_t last_id)
{
	pthread_mutex_lock(&s->lock);
	if (last_id > s->last_id)
		s->last_id = last_id;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

/* Runs under write_lock: the whole batch, then COMMIT, or nothing. */
static int insert_locked(struct collector_store *s,
			 const Vouch__V1__EventBatch *batch,
			 struct collector_stored *out, int64_t *last_id,
			 char *err, size_t err_len)
{
	int64_t now = now_ns();
	int ret;

	ret = run(s, "BEGIN IMMEDIATE", err, err_len);
	for (size_t i = 0; !ret && i < batch->n_events; i++)
		ret = insert_event(s, batch->events[i], now, out, last_id,
				   err, err_len);
	if (!ret)
		ret = run(s, "COMMIT", err, err_len);
	if (ret && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int collector_store__insert(struct collector_store *s,
			    const Vouch__V1__EventBatch *batch,
			    struct collector_stored *out, char *err,
			    size_t err_len)
{
	int64_t last_id = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->write_lock);
	ret = insert_locked(s, batch, out, &last_id, err, err_len);
	pthread_mutex_unlock(&s->write_lock);
	if (ret) {
		memset(out, 0, sizeof(*out));
		return ret;
	}
	if (last_id)
		publish(s, last_id);
	return 0;
}

int64_t collector_store__last_id(struct collector_store *s)
{
	int64_t id;

	pthread_mutex_lock(&s->lock);
	id = s->last_id;
	pthread_mutex_unlock(&s->lock);
	return id;
}

static struct timespec deadline_after(int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int collector_store__wait(struct collector_store *s, int64_t after_id,
			  int timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms);
	int ret;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping && s->last_id <= after_id)
		if (pthread_cond_timedwait(&s->changed, &s->lock,
					   &deadline) == ETIMEDOUT)
			break;
	ret = s->stopping ? -ESHUTDOWN : s->last_id > after_id;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void collector_store__stop_waiters(struct collector_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

/* "... AND col = ?N" for each filter given, in the order bind_query binds */
static int build_select(const struct collector_query *q, char *sql,
			size_t len)
{
	size_t n;

	n = snprintf(sql, len,
		     "SELECT id, event FROM events WHERE id > ?1 AND id <= ?2");
	for (int m = 0; m < COLLECTOR_MATCH_COUNT && n < len; m++)
		if (q->match[m])
			n += snprintf(sql + n, len - n, " AND %s = ?",
				      collector_query__column(m));
	if (q->has_since && n < len)
		n += snprintf(sql + n, len - n, " AND time_ns >= ?");
	if (q->has_until && n < len)
		n += snprintf(sql + n, len - n, " AND time_ns < ?");
	if (n < len)
		n += snprintf(sql + n, len - n, " ORDER BY id LIMIT %d",
			      PAGE_ROWS);
	return n < len ? 0 : -ENAMETOOLONG;
}

static void bind_query(sqlite3_stmt *st, const struct collector_query *q,
		       int64_t upto)
{
	int col = 3;

	sqlite3_bind_int64(st, 2, upto);
	/* SQLITE_TRANSIENT: the cursor may outlive the query's strings */
	for (int m = 0; m < COLLECTOR_MATCH_COUNT; m++)
		if (q->match[m])
			sqlite3_bind_text(st, col++, q->match[m], -1,
					  SQLITE_TRANSIENT);
	if (q->has_since)
		sqlite3_bind_int64(st, col++, q->since_ns);
	if (q->has_until)
		sqlite3_bind_int64(st, col++, q->until_ns);
}

static int open_reader(struct collector_cursor *c, const char *path,
		       const struct collector_query *q, char *err,
		       size_t err_len)
{
	char sql[1024];

	if (build_select(q, sql, sizeof(sql))) {
		snprintf(err, err_len, "query too long");
		return -EINVAL;
	}
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READONLY |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return db_error(c->db, path, err, err_len);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(c->db, sql, -1, &c->page, NULL) != SQLITE_OK)
		return db_error(c->db, path, err, err_len);
	return 0;
}

struct collector_cursor *collector_cursor__open(struct collector_store *s,
						const struct collector_query *q,
						int64_t after, int64_t upto,
						char *err, size_t err_len)
{
	struct collector_cursor *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		snprintf(err, err_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ret = open_reader(c, s->path, q, err, err_len);
	if (ret) {
		collector_cursor__close(c);
		errno = -ret;
		return NULL;
	}
	bind_query(c->page, q, upto);
	c->pos = after;
	return c;
}

int collector_cursor__next(struct collector_cursor *c, int64_t *id,
			   const void **blob, size_t *len)
{
	int rc;

	for (;;) {
		if (!c->running) {
			sqlite3_bind_int64(c->page, 1, c->pos);
			c->running = 1;
			c->rows_in_page = 0;
		}
		rc = sqlite3_step(c->page);
		if (rc == SQLITE_ROW) {
			c->rows_in_page++;
			c->pos = sqlite3_column_int64(c->page, 0);
			*id = c->pos;
			*blob = sqlite3_column_blob(c->page, 1);
			*len = (size_t)sqlite3_column_bytes(c->page, 1);
			return 1;
		}
		/* the reset ends the read snapshot: the next page is fresh */
		sqlite3_reset(c->page);
		c->running = 0;
		if (rc != SQLITE_DONE)
			return -EIO;
		if (c->rows_in_page < PAGE_ROWS)
			return 0;
	}
}

void collector_cursor__close(struct collector_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->page);
	sqlite3_close(c->db);
	free(c);
}
