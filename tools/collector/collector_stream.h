/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The body of GET /v1/events: stored events as JSON lines, read from a
 * cursor a buffer at a time, then, with follow, new events as they are
 * committed. Memory stays at one event's line whatever the result size.
 */
#ifndef VOUCH_COLLECTOR_STREAM_H
#define VOUCH_COLLECTOR_STREAM_H

#include <stddef.h>
#include <sys/types.h>
#include "collector_query.h"
#include "collector_store.h"

struct collector_stream;

/*
 * Without follow: the rows that match q and exist now, after q->after,
 * at most q->limit (default 1000). With follow: the rows after q->after
 * (default: from now on), then new ones, without end unless q->limit is
 * given; a "\n" every heartbeat_ms without an event keeps the connection
 * alive. NULL with errno set and a message in err.
 */
struct collector_stream *collector_stream__open(struct collector_store *s,
						const struct collector_query *q,
						int heartbeat_ms, char *err,
						size_t err_len);
/*
 * Fills buf with up to max bytes: the count (> 0), 0 at the end of the
 * stream, -EIO or -ENOMEM. A follow stream blocks up to heartbeat_ms.
 */
ssize_t collector_stream__read(struct collector_stream *st, char *buf,
			       size_t max);
/* Events skipped because their stored bytes no longer decode. */
unsigned long collector_stream__skipped(const struct collector_stream *st);
void collector_stream__close(struct collector_stream *st);

#endif /* VOUCH_COLLECTOR_STREAM_H */
