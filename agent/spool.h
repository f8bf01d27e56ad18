/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The at-least-once event spool: every event is appended here, packed,
 * before it is sent, and trimmed only once the collector acknowledged it.
 *
 * On disk, a directory of segment files named by the first sequence number
 * they hold (00000000000000000001.seg), each a run of records: a 24-byte
 * little-endian header {magic, payload length, seq, crc32 of the payload,
 * crc32 of the header's first 20 bytes} and the payload. A small "state"
 * file, replaced atomically through rename, remembers the highest seq
 * trimmed (acknowledged, or dropped on overflow), so that acknowledged
 * records are never resent after a restart and sequence numbers are never
 * reused even when every segment has been deleted.
 *
 * Durability: spool__append() only writes; spool__sync() fdatasyncs the
 * segment being written (and the directory when a segment was created),
 * and vouchd calls it once per ring-buffer drain, not per event. Only
 * records made durable that way are returned by spool__peek(): a record is
 * never sent before it would survive a power loss, so a seq the collector
 * has seen can never be reused. An acknowledgement is durable before
 * spool__ack() returns.
 *
 * Recovery on open: every record is verified. Damage followed by a valid
 * record (a flipped byte, a bad header) is skipped and counted as
 * corrupt_skipped; damage that runs to the end of a segment (a write torn
 * by a crash) is truncated away and counted as torn_truncated. Neither is
 * fatal. A damaged state file is: the spool cannot know which seqs were
 * used, and spool__open() fails with -EBADMSG rather than guess.
 *
 * Bounds: the directory never holds more than max_bytes of segments; an
 * append that would exceed it first deletes the oldest segments, and the
 * unacknowledged events they held are counted (spool__dropped()) for
 * vouchd to report as a loss. Memory holds an index of segments only.
 *
 * Every function may be called from several threads (vouchd's event loop
 * appends and syncs, the shipper peeks and acks): one mutex guards each
 * spool. The directory is locked (flock) against a second vouchd.
 */
#ifndef VOUCH_SPOOL_H
#define VOUCH_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Default cap on the directory's size, and on one segment file. */
#define SPOOL_DEFAULT_MAX_BYTES	(256ULL << 20)
#define SPOOL_SEGMENT_MAX	(1U << 20)
/* max_bytes below this is refused: segments are a quarter of it. */
#define SPOOL_MIN_MAX_BYTES	(16U << 10)
#define SPOOL_RECORD_HEADER	24U

struct spool;

struct spool_record {
	uint64_t seq;
	const void *data;		/* points into the batch's buffer */
	size_t len;
};

/*
 * What spool__peek() fills in. Zero it before first use; each peek reuses
 * its buffers; spool__batch_free() releases them.
 */
struct spool_batch {
	struct spool_record *recs;
	size_t n;
	size_t bytes;			/* payload bytes in recs */
	size_t recs_cap;
	unsigned char *buf;
	size_t buf_cap;
};

struct spool_stats {
	uint64_t events;		/* unacknowledged records held */
	uint64_t bytes;			/* size of the segment files */
	uint64_t segments;
	uint64_t last_seq;		/* highest seq ever appended */
	uint64_t synced_seq;		/* highest seq made durable */
	uint64_t trimmed_seq;		/* highest seq acked or dropped */
	uint64_t dropped_overflow;	/* events lost to max_bytes */
	uint64_t corrupt_skipped;	/* damaged stretches skipped */
	uint64_t torn_truncated;	/* torn segment tails cut away */
};

/*
 * Opens (creating it 0700, with its parents, if missing) and recovers the
 * spool in dir, capped at max_bytes (0: SPOOL_DEFAULT_MAX_BYTES). NULL and
 * errno on failure: EINVAL, EBUSY (another process holds it), EBADMSG
 * (damaged state file), or the failing call's errno.
 */
struct spool *spool__open(const char *dir, uint64_t max_bytes);
/* Syncs what was appended, then releases everything. NULL-safe. */
void spool__close(struct spool *s);

/*
 * Appends one packed event. seq must be above spool__last_seq(): -EINVAL
 * otherwise; -E2BIG when the record cannot fit in a segment; -errno from
 * the write, which leaves the spool as it was.
 */
int spool__append(struct spool *s, uint64_t seq, const void *buf,
		  size_t len);
/* Makes every appended record durable; 0 or -errno. */
int spool__sync(struct spool *s);

/*
 * Fills out with the oldest unacknowledged durable records, in seq order,
 * without removing them: at most max_events, and at most max_bytes of
 * payload unless the first record alone is larger. 0 (out->n may be 0)
 * or -errno.
 */
int spool__peek(struct spool *s, size_t max_events, size_t max_bytes,
		struct spool_batch *out);
void spool__batch_free(struct spool_batch *b);

/*
 * Trims every record with seq <= up_to_seq (clamped to the last seq
 * appended), records that durably, and deletes segments left empty.
 * 0 or -errno; on error nothing is trimmed.
 */
int spool__ack(struct spool *s, uint64_t up_to_seq);

uint64_t spool__last_seq(struct spool *s);
/* Events dropped on overflow since open, cumulative. */
uint64_t spool__dropped(struct spool *s);
void spool__stats(struct spool *s, struct spool_stats *out);

#endif /* VOUCH_SPOOL_H */
