// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON lines out of the store. A line that does not fit in the buffer
 * MHD hands over stays pending and goes out over the next calls.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector_json.h"
#include "collector_stream.h"

struct collector_stream {
	struct collector_store *store;
	struct collector_cursor *cursor;
	/* last_id when the cursor last started reading: wake-ups after it */
	int64_t seen;
	unsigned long limit;		/* 0: no end */
	unsigned long sent;
	unsigned long skipped;
	int follow;
	int heartbeat_ms;
	int error;			/* sticky: a row may have been lost */
	char *line;
	size_t line_len;
	size_t line_off;
};

static void drop_line(struct collector_stream *st)
{
	free(st->line);
	st->line = NULL;
	st->line_len = 0;
	st->line_off = 0;
}

/* Copies what fits of the pending line; frees it once all of it went. */
static size_t take_line(struct collector_stream *st, char *buf, size_t max)
{
	size_t n;

	if (!st->line)
		return 0;
	n = st->line_len - st->line_off;
	if (n > max)
		n = max;
	memcpy(buf, st->line + st->line_off, n);
	st->line_off += n;
	if (st->line_off == st->line_len)
		drop_line(st);
	return n;
}

/* The next matching event as the pending line: 1, 0 when none for now. */
static int load_next(struct collector_stream *st)
{
	Vouch__V1__Event *ev;
	const void *blob;
	size_t len;
	int64_t id;
	int ret;

	for (;;) {
		ret = collector_cursor__next(st->cursor, &id, &blob, &len);
		if (ret <= 0)
			return ret;
		ev = vouch__v1__event__unpack(NULL, len, blob);
		if (ev)
			break;
		/* written by us after validation: only a damaged file */
		st->skipped++;
	}
	st->line = collector_json__line(ev, id, &st->line_len);
	vouch__v1__event__free_unpacked(ev, NULL);
	if (!st->line)
		return -ENOMEM;
	st->line_off = 0;
	st->sent++;
	return 1;
}

/* 1: something was committed since the cursor last looked; 0: timeout. */
static int wait_for_more(struct collector_stream *st)
{
	int ret = collector_store__wait(st->store, st->seen, st->heartbeat_ms);

	/* taken before the cursor's next query, so no commit slips by */
	st->seen = collector_store__last_id(st->store);
	return ret;
}

static int limit_reached(const struct collector_stream *st)
{
	return st->limit && st->sent >= st->limit;
}

ssize_t collector_stream__read(struct collector_stream *st, char *buf,
			       size_t max)
{
	size_t n = 0;
	int ret;

	if (st->error)
		return st->error;
	for (;;) {
		n += take_line(st, buf + n, max - n);
		if (st->line || limit_reached(st))
			return n;
		ret = load_next(st);
		if (ret > 0)
			continue;
		/* after an error, the bytes already copied still go out */
		if (ret < 0)
			st->error = ret;
		if (ret < 0 || n || !st->follow)
			return n ? (ssize_t)n : ret;
		ret = wait_for_more(st);
		if (ret < 0)
			return 0;
		if (ret == 0) {
			buf[0] = '\n';
			return 1;
		}
	}
}

static void set_window(struct collector_stream *st,
		       const struct collector_query *q, int64_t *after,
		       int64_t *upto)
{
	st->follow = q->follow;
	*after = q->after;
	*upto = INT64_MAX;
	if (q->follow) {
		st->limit = q->limit;
		if (!q->has_after)
			*after = st->seen;
		return;
	}
	st->limit = q->limit ? q->limit : COLLECTOR_LIMIT_DEFAULT;
	*upto = st->seen;
}

struct collector_stream *collector_stream__open(struct collector_store *s,
						const struct collector_query *q,
						int heartbeat_ms, char *err,
						size_t err_len)
{
	struct collector_stream *st = calloc(1, sizeof(*st));
	int64_t after, upto;

	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	st->store = s;
	st->heartbeat_ms = heartbeat_ms;
	st->seen = collector_store__last_id(s);
	set_window(st, q, &after, &upto);

	st->cursor = collector_cursor__open(s, q, after, upto, err, err_len);
	if (!st->cursor) {
		int saved = errno;

		free(st);
		errno = saved;
		return NULL;
	}
	return st;
}

unsigned long collector_stream__skipped(const struct collector_stream *st)
{
	return st->skipped;
}

void collector_stream__close(struct collector_stream *st)
{
	if (!st)
		return;
	collector_cursor__close(st->cursor);
	free(st->line);
	free(st);
}
