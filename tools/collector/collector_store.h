/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collector's SQLite store: one writer that stores whole batches in
 * one transaction each, deduplicated by (agent_id, seq); cursors that read
 * events back in row id order through connections of their own; and a
 * wake-up for followers after every commit.
 */
#ifndef VOUCH_COLLECTOR_STORE_H
#define VOUCH_COLLECTOR_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "vouch.pb-c.h"
#include "collector_query.h"

#define COLLECTOR_SCHEMA_VERSION	1

struct collector_store;
struct collector_cursor;

struct collector_stored {
	unsigned int stored;
	unsigned int duplicates;
};

/*
 * Opens or creates the database: WAL, synchronous=FULL, schema checked.
 * NULL with errno set and a message naming the file in err when it is not
 * a database, holds another schema or cannot be opened.
 */
struct collector_store *collector_store__open(const char *path, char *err,
					      size_t err_len);
void collector_store__close(struct collector_store *s);

/*
 * Stores every event of a validated batch, or none: 0 once committed,
 * -EIO with SQLite's message in err when anything failed (rolled back).
 */
int collector_store__insert(struct collector_store *s,
			    const Vouch__V1__EventBatch *batch,
			    struct collector_stored *out, char *err,
			    size_t err_len);

/* The highest row id committed so far. */
int64_t collector_store__last_id(struct collector_store *s);
/*
 * Waits until a row after after_id is committed (1), timeout_ms passes
 * (0) or the store is stopping (-ESHUTDOWN).
 */
int collector_store__wait(struct collector_store *s, int64_t after_id,
			  int timeout_ms);
/* Wakes every waiter for good: shutdown. */
void collector_store__stop_waiters(struct collector_store *s);

/*
 * A reader over the rows that match q, after row id `after` and up to row
 * id `upto`, in id order. NULL with errno set and a message in err.
 */
struct collector_cursor *collector_cursor__open(struct collector_store *s,
						const struct collector_query *q,
						int64_t after, int64_t upto,
						char *err, size_t err_len);
/*
 * The next row: 1 with *id, *blob and *len set (valid until the next
 * call), 0 when no row is left for now, -EIO on error. After 0, a later
 * call sees rows committed since.
 */
int collector_cursor__next(struct collector_cursor *c, int64_t *id,
			   const void **blob, size_t *len);
void collector_cursor__close(struct collector_cursor *c);

#endif /* VOUCH_COLLECTOR_STORE_H */
