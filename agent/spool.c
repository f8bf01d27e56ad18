// SPDX-License-Identifier: GPL-2.0-only
/* The at-least-once event spool: segment files of checksummed records. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "spool.h"

#define REC_MAGIC	0x31525356U	/* "VSR1" on disk */
#define STATE_MAGIC	0x31545356U	/* "VST1" on disk */
#define STATE_SIZE	24U
#define STATE_NAME	"state"
#define STATE_TMP	"state.tmp"
#define SEG_SUFFIX	".seg"
#define SEG_DIGITS	20
#define SEG_NAME_MAX	32
/* Records are read with this bound, whatever segment size wrote them. */
#define REC_LEN_MAX	(SPOOL_SEGMENT_MAX - SPOOL_RECORD_HEADER)
#define SCRATCH_SIZE	(64U << 10)

struct seg {
	uint64_t first_seq;		/* from its name */
	uint64_t last_seq;		/* of its last valid record; 0: none */
	uint64_t live;			/* valid records above trimmed_seq */
	uint64_t size;			/* file size */
	uint64_t cursor;		/* no live record before this offset */
};

struct spool {
	pthread_mutex_t lock;
	int dirfd;
	int wfd;			/* the last segment's, for appends */
	bool wfd_dirty;			/* appended since its last fdatasync */
	bool dir_dirty;			/* a segment created since dir fsync */
	uint64_t max_bytes;
	uint32_t seg_max;
	struct seg *segs;		/* oldest first */
	size_t nsegs;
	size_t segs_cap;
	uint64_t last_seq;
	uint64_t synced_seq;
	uint64_t trimmed_seq;
	uint64_t events;
	uint64_t bytes;
	uint64_t dropped;
	uint64_t corrupt;
	uint64_t torn;
	unsigned char *scratch;		/* SCRATCH_SIZE, for checksums */
};

enum rec_status {
	REC_OK = 0,		/* header valid; payload not yet checked */
	REC_CORRUPT = 1,	/* damage up to next, then a valid header */
	REC_TORN = 2,		/* damage up to the end of the segment */
};

struct rec {
	enum rec_status status;
	uint64_t off;
	uint64_t next;
	uint64_t seq;
	uint32_t len;
	uint32_t crc;
};

static uint32_t crc_of(const void *buf, size_t len)
{
	return (uint32_t)crc32(0L, buf, (uInt)len);
}

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static void seg_name(char *buf, uint64_t first_seq)
{
	snprintf(buf, SEG_NAME_MAX, "%020llu" SEG_SUFFIX,
		 (unsigned long long)first_seq);
}

/* Full pread: 0, -EIO on a short read, -errno on failure. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* ---- state file ---- */

static int state_read(struct spool *s)
{
	unsigned char buf[STATE_SIZE + 1];
	int fd, err = 0;
	ssize_t n;

	fd = openat(s->dirfd, STATE_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;

	if (n != STATE_SIZE || get_le32(buf) != STATE_MAGIC ||
	    get_le32(buf + 16) != crc_of(buf, 16))
		return -EBADMSG;
	s->trimmed_seq = get_le64(buf + 8);
	return 0;
}

static int state_write_tmp(struct spool *s, uint64_t trimmed)
{
	unsigned char buf[STATE_SIZE] = { 0 };
	int fd, err = 0;

	put_le32(buf, STATE_MAGIC);
	put_le32(buf + 4, 1);
	put_le64(buf + 8, trimmed);
	put_le32(buf + 16, crc_of(buf, 16));

	fd = openat(s->dirfd, STATE_TMP,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		err = errno ? -errno : -EIO;
	else if (fdatasync(fd))
		err = -errno;
	close(fd);
	return err;
}

/*
 * Durably records that every seq <= trimmed is gone. Written before any
 * segment is deleted: a crash in between must never leave a directory
 * whose highest seq is below one already handed out.
 */
static int state_write(struct spool *s, uint64_t trimmed)
{
	int err = state_write_tmp(s, trimmed);

	if (err)
		return err;
	if (renameat(s->dirfd, STATE_TMP, s->dirfd, STATE_NAME))
		return -errno;
	if (fsync(s->dirfd))
		return -errno;
	return 0;
}

/* ---- records ---- */

static bool hdr_valid(const unsigned char *h, uint64_t off, uint64_t size)
{
	uint32_t len = get_le32(h + 4);

	return get_le32(h) == REC_MAGIC && get_le32(h + 20) == crc_of(h, 20) &&
	       len <= REC_LEN_MAX &&
	       off + SPOOL_RECORD_HEADER + len <= size;
}

static bool hdr_at(int fd, uint64_t off, uint64_t size)
{
	unsigned char h[SPOOL_RECORD_HEADER];

	if (off + SPOOL_RECORD_HEADER > size)
		return false;
	if (read_at(fd, h, sizeof(h), off))
		return false;
	return hdr_valid(h, off, size);
}

/* Searches one chunk for a valid header; its offset, or 0 when none. */
static uint64_t resync_chunk(int fd, const unsigned char *buf, size_t n,
			     uint64_t base, uint64_t size)
{
	const unsigned char magic[4] = { 'V', 'S', 'R', '1' };
	const unsigned char *p = buf, *end = buf + n;

	while ((p = memmem(p, (size_t)(end - p), magic, sizeof(magic)))) {
		if (hdr_at(fd, base + (uint64_t)(p - buf), size))
			return base + (uint64_t)(p - buf);
		p++;
	}
	return 0;
}

/*
 * After damage at off, the next offset where a valid header starts, or
 * size when there is none. Chunks overlap by three bytes so that a magic
 * split across two reads is still seen.
 */
static uint64_t resync(struct spool *s, int fd, uint64_t off, uint64_t size)
{
	uint64_t pos = off + 1, found;
	size_t n;

	while (pos + SPOOL_RECORD_HEADER <= size) {
		n = size - pos < SCRATCH_SIZE ? size - pos : SCRATCH_SIZE;
		if (read_at(fd, s->scratch, n, pos))
			return size;
		found = resync_chunk(fd, s->scratch, n, pos, size);
		if (found)
			return found;
		pos += n - 3;
	}
	return size;
}

/* Reads the header at off; 1 with *r filled, 0 at the end, or -errno. */
static int rec_head(struct spool *s, int fd, uint64_t size, uint64_t off,
		    struct rec *r)
{
	unsigned char h[SPOOL_RECORD_HEADER];
	int err;

	if (off >= size)
		return 0;
	r->off = off;
	if (off + SPOOL_RECORD_HEADER <= size) {
		err = read_at(fd, h, sizeof(h), off);
		if (err)
			return err;
		if (hdr_valid(h, off, size)) {
			r->status = REC_OK;
			r->len = get_le32(h + 4);
			r->seq = get_le64(h + 8);
			r->crc = get_le32(h + 16);
			r->next = off + SPOOL_RECORD_HEADER + r->len;
			return 1;
		}
	}
	r->next = resync(s, fd, off, size);
	r->status = r->next < size ? REC_CORRUPT : REC_TORN;
	return 1;
}

/*
 * Reads and checks the payload of a REC_OK record, into dst, or through
 * the scratch buffer when dst is NULL; 0, -EBADMSG, or -errno.
 */
static int rec_body(struct spool *s, int fd, const struct rec *r, void *dst)
{
	uint64_t pos = r->off + SPOOL_RECORD_HEADER;
	uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0), left = r->len, n;
	unsigned char *buf;
	int err;

	while (left) {
		n = left < SCRATCH_SIZE ? left : SCRATCH_SIZE;
		buf = dst ? (unsigned char *)dst + (r->len - left) : s->scratch;
		err = read_at(fd, buf, n, pos);
		if (err)
			return err;
		crc = (uint32_t)crc32(crc, buf, n);
		pos += n;
		left -= n;
	}
	return crc == r->crc ? 0 : -EBADMSG;
}

/*
 * The record at off, fully verified; a bad payload or a seq not above
 * after_seq turns it into REC_CORRUPT (REC_TORN when it ends the file).
 * 1, 0 at the end, or -errno.
 */
static int rec_next(struct spool *s, int fd, uint64_t size, uint64_t off,
		    uint64_t after_seq, struct rec *r)
{
	int err = rec_head(s, fd, size, off, r);

	if (err <= 0 || r->status != REC_OK)
		return err;
	err = rec_body(s, fd, r, NULL);
	if (err && err != -EBADMSG)
		return err;
	if (err || r->seq <= after_seq)
		r->status = r->next < size ? REC_CORRUPT : REC_TORN;
	return 1;
}

/* ---- segment index ---- */

static int segs_push(struct spool *s, uint64_t first_seq)
{
	size_t cap = s->segs_cap ? s->segs_cap * 2 : 16;
	struct seg *segs;

	if (s->nsegs == s->segs_cap) {
		segs = realloc(s->segs, cap * sizeof(*segs));
		if (!segs)
			return -ENOMEM;
		s->segs = segs;
		s->segs_cap = cap;
	}
	memset(&s->segs[s->nsegs], 0, sizeof(s->segs[0]));
	s->segs[s->nsegs++].first_seq = first_seq;
	return 0;
}

static struct seg *seg_last(struct spool *s)
{
	return s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
}

static int seg_open(struct spool *s, const struct seg *g, int flags)
{
	char name[SEG_NAME_MAX];
	int fd;

	seg_name(name, g->first_seq);
	/* events hold argv: readable and writable by vouchd alone */
	fd = openat(s->dirfd, name, flags | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

static void wfd_close(struct spool *s)
{
	if (s->wfd >= 0)
		close(s->wfd);
	s->wfd = -1;
	s->wfd_dirty = false;
}

/*
 * Forgets segment i and deletes its file. A file that cannot be unlinked
 * only costs disk until the next open, which discards it by trimmed_seq.
 */
static void seg_remove(struct spool *s, size_t i)
{
	char name[SEG_NAME_MAX];
	struct seg *g = &s->segs[i];

	if (i == s->nsegs - 1)
		wfd_close(s);
	seg_name(name, g->first_seq);
	unlinkat(s->dirfd, name, 0);
	s->events -= g->live;
	s->bytes -= g->size;
	memmove(g, g + 1, (s->nsegs - i - 1) * sizeof(*g));
	s->nsegs--;
}

/* ---- recovery on open ---- */

static void scan_account(struct spool *s, struct seg *g, const struct rec *r)
{
	g->last_seq = r->seq;
	s->last_seq = r->seq;
	if (r->seq <= s->trimmed_seq)
		return;
	g->live++;
	s->events++;
}

static int scan_truncate(struct spool *s, int fd, uint64_t *size,
			 uint64_t off)
{
	if (ftruncate(fd, (off_t)off) || fdatasync(fd))
		return -errno;
	*size = off;
	s->torn++;
	return 0;
}

static int seg_scan_fd(struct spool *s, struct seg *g, int fd, uint64_t size)
{
	uint64_t off = 0;
	struct rec r;
	int err;

	while ((err = rec_next(s, fd, size, off, s->last_seq, &r)) > 0) {
		if (r.status == REC_TORN)
			return scan_truncate(s, fd, &g->size, off);
		if (r.status == REC_CORRUPT)
			s->corrupt++;
		else
			scan_account(s, g, &r);
		if (g->live == 0)
			g->cursor = r.next;
		off = r.next;
	}
	return err;
}

static int seg_scan(struct spool *s, struct seg *g)
{
	struct stat st;
	int fd, err;

	fd = seg_open(s, g, O_RDWR);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	g->size = (uint64_t)st.st_size;
	err = seg_scan_fd(s, g, fd, g->size);
	/*
	 * What a crashed vouchd left in the page cache is made durable
	 * before any of it can be sent: a seq the collector has seen must
	 * never vanish in a later power loss and be handed out again.
	 */
	if (!err && fdatasync(fd))
		err = -errno;
	close(fd);
	s->bytes += g->size;
	return err;
}

static bool seg_parse_name(const char *name, uint64_t *first_seq)
{
	char *end;

	if (strlen(name) != SEG_DIGITS + strlen(SEG_SUFFIX))
		return false;
	if (strcmp(name + SEG_DIGITS, SEG_SUFFIX) != 0)
		return false;
	for (int i = 0; i < SEG_DIGITS; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	errno = 0;
	*first_seq = strtoull(name, &end, 10);
	return errno == 0 && end == name + SEG_DIGITS;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static int segs_list(struct spool *s)
{
	struct dirent *de;
	uint64_t first;
	int fd, err = 0;
	DIR *d;

	fd = dup(s->dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	rewinddir(d);
	while (!err && (de = readdir(d)))
		if (seg_parse_name(de->d_name, &first))
			err = segs_push(s, first);
	closedir(d);
	if (s->nsegs)
		qsort(s->segs, s->nsegs, sizeof(s->segs[0]), seg_cmp);
	return err;
}

/* Deletes segments that hold no record still to be sent. */
static void segs_prune(struct spool *s)
{
	size_t i = 0;

	while (i < s->nsegs) {
		if (s->segs[i].live == 0)
			seg_remove(s, i);
		else
			i++;
	}
}

static int drop_oldest(struct spool *s)
{
	struct seg *g = &s->segs[0];
	int err;

	if (g->last_seq > s->trimmed_seq) {
		err = state_write(s, g->last_seq);
		if (err)
			return err;
		s->trimmed_seq = g->last_seq;
	}
	s->dropped += g->live;
	seg_remove(s, 0);
	return 0;
}

/* Drops oldest segments until need more bytes fit within max_bytes. */
static int make_room(struct spool *s, uint64_t need)
{
	int err;

	while (s->nsegs && s->bytes + need > s->max_bytes) {
		err = drop_oldest(s);
		if (err)
			return err;
	}
	return 0;
}

static int spool_recover(struct spool *s)
{
	int err = state_read(s);

	if (err)
		return err;
	err = segs_list(s);
	for (size_t i = 0; !err && i < s->nsegs; i++)
		err = seg_scan(s, &s->segs[i]);
	if (err)
		return err;
	segs_prune(s);
	err = make_room(s, 0);
	if (err)
		return err;
	if (s->last_seq < s->trimmed_seq)
		s->last_seq = s->trimmed_seq;
	s->synced_seq = s->last_seq;
	return 0;
}

/* ---- open and close ---- */

/* mkdir -p, each created level 0700. */
static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -EINVAL;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int spool_lock_dir(struct spool *s, const char *dir)
{
	int err = mkdir_parents(dir);

	if (err)
		return err;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return -errno;
	if (flock(s->dirfd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

static void spool_free(struct spool *s)
{
	wfd_close(s);
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_mutex_destroy(&s->lock);
	free(s->segs);
	free(s->scratch);
	free(s);
}

static struct spool *spool_alloc(uint64_t max_bytes)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->dirfd = -1;
	s->wfd = -1;
	s->max_bytes = max_bytes ? max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	s->seg_max = s->max_bytes / 4 < SPOOL_SEGMENT_MAX ?
		     (uint32_t)(s->max_bytes / 4) : SPOOL_SEGMENT_MAX;
	pthread_mutex_init(&s->lock, NULL);
	s->scratch = malloc(SCRATCH_SIZE);
	if (!s->scratch) {
		spool_free(s);
		return NULL;
	}
	return s;
}

struct spool *spool__open(const char *dir, uint64_t max_bytes)
{
	struct spool *s;
	int err;

	if (!dir || (max_bytes && max_bytes < SPOOL_MIN_MAX_BYTES)) {
		errno = EINVAL;
		return NULL;
	}
	s = spool_alloc(max_bytes);
	if (!s)
		return NULL;

	err = spool_lock_dir(s, dir);
	if (!err)
		err = spool_recover(s);
	if (err) {
		spool_free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

static int sync_locked(struct spool *s)
{
	if (s->wfd >= 0 && s->wfd_dirty && fdatasync(s->wfd))
		return -errno;
	s->wfd_dirty = false;
	if (s->dir_dirty && fsync(s->dirfd))
		return -errno;
	s->dir_dirty = false;
	s->synced_seq = s->last_seq;
	return 0;
}

void spool__close(struct spool *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	sync_locked(s);
	pthread_mutex_unlock(&s->lock);
	spool_free(s);
}

int spool__sync(struct spool *s)
{
	int err;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	err = sync_locked(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- append ---- */

static int seg_create(struct spool *s, uint64_t first_seq)
{
	int err = segs_push(s, first_seq);

	if (err)
		return err;
	s->wfd = seg_open(s, seg_last(s), O_WRONLY | O_CREAT | O_EXCL);
	if (s->wfd < 0) {
		err = s->wfd;
		s->wfd = -1;
		s->nsegs--;
		return err;
	}
	s->dir_dirty = true;
	return 0;
}

/* A full segment is made durable before it stops being the open one. */
static int seg_rotate(struct spool *s)
{
	if (s->wfd_dirty && fdatasync(s->wfd))
		return -errno;
	wfd_close(s);
	return 0;
}

static int writer_ready(struct spool *s, uint64_t seq, uint32_t need)
{
	struct seg *g;
	int err = make_room(s, need);

	if (err)
		return err;
	g = seg_last(s);
	if (s->wfd >= 0 && g->size + need > s->seg_max) {
		err = seg_rotate(s);
		if (err)
			return err;
	}
	if (s->wfd < 0)
		return seg_create(s, seq);
	return 0;
}

/* A failed write is cut back off, so no torn record stays behind. */
static int rec_write(struct spool *s, uint64_t seq, const void *buf,
		     uint32_t len)
{
	unsigned char h[SPOOL_RECORD_HEADER];
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)buf, .iov_len = len },
	};
	struct seg *g = seg_last(s);
	ssize_t n;
	int err;

	put_le32(h, REC_MAGIC);
	put_le32(h + 4, len);
	put_le64(h + 8, seq);
	put_le32(h + 16, crc_of(buf, len));
	put_le32(h + 20, crc_of(h, 20));

	n = pwritev(s->wfd, iov, 2, (off_t)g->size);
	if (n == (ssize_t)(sizeof(h) + len))
		return 0;
	err = n < 0 ? -errno : -ENOSPC;
	if (ftruncate(s->wfd, (off_t)g->size))
		return -errno;
	return err;
}

static void append_account(struct spool *s, uint64_t seq, uint32_t need)
{
	struct seg *g = seg_last(s);

	g->size += need;
	g->last_seq = seq;
	g->live++;
	s->bytes += need;
	s->events++;
	s->last_seq = seq;
	s->wfd_dirty = true;
}

int spool__append(struct spool *s, uint64_t seq, const void *buf,
		  size_t len)
{
	uint32_t need;
	int err;

	if (!s || (!buf && len))
		return -EINVAL;
	if (len > s->seg_max - SPOOL_RECORD_HEADER)
		return -E2BIG;
	need = (uint32_t)len + SPOOL_RECORD_HEADER;

	pthread_mutex_lock(&s->lock);
	err = seq > s->last_seq ? writer_ready(s, seq, need) : -EINVAL;
	if (!err)
		err = rec_write(s, seq, buf, (uint32_t)len);
	if (!err)
		append_account(s, seq, need);
	else if (s->wfd >= 0 && seg_last(s)->size == 0)
		seg_remove(s, s->nsegs - 1);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- peek ---- */

static int batch_reserve(struct spool_batch *b, size_t len)
{
	size_t cap = b->buf_cap ? b->buf_cap : 4096;
	unsigned char *buf;

	while (cap < b->bytes + len)
		cap *= 2;
	if (cap > b->buf_cap) {
		buf = realloc(b->buf, cap);
		if (!buf)
			return -ENOMEM;
		b->buf = buf;
		b->buf_cap = cap;
	}
	return 0;
}

static int batch_reserve_rec(struct spool_batch *b)
{
	size_t cap = b->recs_cap ? b->recs_cap * 2 : 64;
	struct spool_record *recs;

	if (b->n < b->recs_cap)
		return 0;
	recs = realloc(b->recs, cap * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	b->recs = recs;
	b->recs_cap = cap;
	return 0;
}

/* Record data points into buf only once buf stops moving. */
static void batch_fix_pointers(struct spool_batch *b)
{
	size_t off = 0;

	for (size_t i = 0; i < b->n; i++) {
		b->recs[i].data = b->buf + off;
		off += b->recs[i].len;
	}
}

struct peek_ctx {
	struct spool_batch *out;
	size_t max_events;
	size_t max_bytes;
	bool done;
};

static bool peek_full(const struct peek_ctx *c, const struct rec *r)
{
	if (c->out->n >= c->max_events)
		return true;
	return c->out->n > 0 && c->out->bytes + r->len > c->max_bytes;
}

/* 1 when added, 0 when its payload is damaged, or -errno. */
static int peek_add(struct spool *s, int fd, struct peek_ctx *c,
		    const struct rec *r)
{
	struct spool_batch *b = c->out;
	int err;

	err = batch_reserve(b, r->len);
	if (!err)
		err = batch_reserve_rec(b);
	if (!err)
		err = rec_body(s, fd, r, b->buf + b->bytes);
	if (err == -EBADMSG)
		return 0;
	if (err)
		return err;
	b->recs[b->n].seq = r->seq;
	b->recs[b->n].data = NULL;
	b->recs[b->n].len = r->len;
	b->n++;
	b->bytes += r->len;
	return 1;
}

/*
 * Judges one record for the batch: 1 to go on, 0 to leave the segment,
 * or -errno; *skip when the record holds nothing to send (damaged, or
 * trimmed already).
 */
static int peek_one(struct spool *s, int fd, struct peek_ctx *c,
		    const struct rec *r, bool *skip)
{
	int err;

	*skip = true;
	if (r->status == REC_TORN)
		return 0;
	if (r->status == REC_CORRUPT || r->seq <= s->trimmed_seq)
		return 1;
	if (r->seq > s->synced_seq || peek_full(c, r)) {
		c->done = true;
		return 0;
	}
	err = peek_add(s, fd, c, r);
	if (err < 0)
		return err;
	*skip = err == 0;
	return 1;
}

/*
 * Collects from one segment. Records at the cursor that hold nothing to
 * send move it on, so that later peeks do not read them again; damage
 * was counted when the spool was opened.
 */
static int peek_seg_fd(struct spool *s, struct seg *g, int fd,
		       struct peek_ctx *c)
{
	uint64_t off = g->cursor;
	struct rec r;
	bool skip;
	int err;

	while ((err = rec_head(s, fd, g->size, off, &r)) > 0) {
		err = peek_one(s, fd, c, &r, &skip);
		if (err <= 0)
			return err;
		if (skip && g->cursor == off)
			g->cursor = r.next;
		off = r.next;
	}
	return err;
}

static int peek_seg(struct spool *s, struct seg *g, struct peek_ctx *c)
{
	int fd, err;

	if (g->cursor >= g->size)
		return 0;
	fd = seg_open(s, g, O_RDONLY);
	if (fd < 0)
		return fd;
	err = peek_seg_fd(s, g, fd, c);
	close(fd);
	return err;
}

int spool__peek(struct spool *s, size_t max_events, size_t max_bytes,
		struct spool_batch *out)
{
	struct peek_ctx c = {
		.out = out, .max_events = max_events, .max_bytes = max_bytes,
	};
	int err = 0;

	if (!s || !out || max_events == 0)
		return -EINVAL;
	out->n = 0;
	out->bytes = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !err && !c.done && i < s->nsegs; i++)
		err = peek_seg(s, &s->segs[i], &c);
	pthread_mutex_unlock(&s->lock);

	batch_fix_pointers(out);
	return err < 0 ? err : 0;
}

void spool__batch_free(struct spool_batch *b)
{
	if (!b)
		return;
	free(b->recs);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* ---- ack ---- */

/* Moves the first segment's cursor past every record now trimmed. */
static int seg_advance_fd(struct spool *s, struct seg *g, int fd)
{
	uint64_t off = g->cursor;
	struct rec r;
	int err;

	while ((err = rec_next(s, fd, g->size, off, 0, &r)) > 0) {
		if (r.status == REC_TORN)
			return 0;
		if (r.status == REC_OK && r.seq > s->trimmed_seq)
			return 0;
		if (r.status == REC_OK && g->live) {
			g->live--;
			s->events--;
		}
		g->cursor = r.next;
		off = r.next;
	}
	return err;
}

static int seg_advance(struct spool *s, struct seg *g)
{
	int fd, err;

	fd = seg_open(s, g, O_RDONLY);
	if (fd < 0)
		return fd;
	err = seg_advance_fd(s, g, fd);
	close(fd);
	return err;
}

static int trim_locked(struct spool *s, uint64_t up_to)
{
	int err;

	if (up_to > s->last_seq)
		up_to = s->last_seq;
	if (up_to <= s->trimmed_seq)
		return 0;
	err = state_write(s, up_to);
	if (err)
		return err;
	s->trimmed_seq = up_to;

	while (s->nsegs && s->segs[0].last_seq <= up_to)
		seg_remove(s, 0);
	/*
	 * The acknowledgement holds from here on; peek skips trimmed records
	 * by itself, so a failed read only leaves the depth count high until
	 * the segment goes.
	 */
	if (s->nsegs)
		(void)seg_advance(s, &s->segs[0]);
	return 0;
}

int spool__ack(struct spool *s, uint64_t up_to_seq)
{
	int err;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	err = trim_locked(s, up_to_seq);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- introspection ---- */

uint64_t spool__last_seq(struct spool *s)
{
	uint64_t v;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	v = s->last_seq;
	pthread_mutex_unlock(&s->lock);
	return v;
}

uint64_t spool__dropped(struct spool *s)
{
	uint64_t v;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	v = s->dropped;
	pthread_mutex_unlock(&s->lock);
	return v;
}

void spool__stats(struct spool *s, struct spool_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	out->events = s->events;
	out->bytes = s->bytes;
	out->segments = s->nsegs;
	out->last_seq = s->last_seq;
	out->synced_seq = s->synced_seq;
	out->trimmed_seq = s->trimmed_seq;
	out->dropped_overflow = s->dropped;
	out->corrupt_skipped = s->corrupt;
	out->torn_truncated = s->torn;
	pthread_mutex_unlock(&s->lock);
}
