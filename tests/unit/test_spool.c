// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/spool.c: ordering, acknowledgement, durability
 * across reopen, recovery from torn and damaged files, overflow, rotation.
 * Each test works in its own temporary directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "spool.h"

#define PAYLOAD_LEN	40
#define REC_SIZE	(SPOOL_RECORD_HEADER + PAYLOAD_LEN)
#define BIG_MAX		(64ULL << 20)

static char dir[64];
static struct spool *sp;
static struct spool_batch batch;

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	strcpy(dir, "/tmp/vouch-spool-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	sp = NULL;
	memset(&batch, 0, sizeof(batch));
}

static void teardown(void)
{
	spool__close(sp);
	spool__batch_free(&batch);
	chmod(dir, 0700);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(spool, .init = setup, .fini = teardown, .timeout = 60);

/* A payload of len bytes that names its seq, so mixups are visible. */
static void payload(unsigned char *buf, size_t len, uint64_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(seq * 31 + i);
	if (len >= 8)
		memcpy(buf, &seq, sizeof(seq));
}

static void append_range(uint64_t from, uint64_t to, size_t len)
{
	unsigned char buf[8192];

	cr_assert(len <= sizeof(buf));
	for (uint64_t seq = from; seq <= to; seq++) {
		payload(buf, len, seq);
		cr_assert_eq(spool__append(sp, seq, buf, len), 0, "seq %llu",
			     (unsigned long long)seq);
	}
}

static void reopen(uint64_t max_bytes)
{
	spool__close(sp);
	sp = spool__open(dir, max_bytes);
	cr_assert_not_null(sp, "reopen: %s", strerror(errno));
}

/* Peeks and checks that the batch is exactly seqs first..last, intact. */
static void expect_peek(size_t max, uint64_t first, uint64_t last)
{
	unsigned char want[8192];

	cr_assert_eq(spool__peek(sp, max, SIZE_MAX, &batch), 0);
	cr_assert_eq(batch.n, last >= first ? last - first + 1 : 0,
		     "peek gave %zu records", batch.n);
	for (size_t i = 0; i < batch.n; i++) {
		const struct spool_record *r = &batch.recs[i];

		cr_assert_eq(r->seq, first + i);
		payload(want, r->len, r->seq);
		cr_assert_eq(memcmp(r->data, want, r->len), 0,
			     "payload of seq %llu differs",
			     (unsigned long long)r->seq);
	}
}

static void stats(struct spool_stats *st)
{
	spool__stats(sp, st);
}

/* The only segment file in dir; fails when there is not exactly one. */
static void only_segment(char *path, size_t len)
{
	struct dirent *de;
	int found = 0;
	DIR *d = opendir(dir);

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".seg")) {
			snprintf(path, len, "%s/%s", dir, de->d_name);
			found++;
		}
	closedir(d);
	cr_assert_eq(found, 1, "%d segment files", found);
}

static int count_segments(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".seg") != NULL;
	closedir(d);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

static void flip_byte(const char *path, off_t off)
{
	unsigned char c;
	int fd = open(path, O_RDWR);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	cr_assert_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

Test(spool, append_peek_ack_in_order)
{
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 10, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);

	expect_peek(4, 1, 4);
	expect_peek(4, 1, 4);		/* peek does not remove */
	cr_assert_eq(spool__ack(sp, 4), 0);
	expect_peek(4, 5, 8);
	cr_assert_eq(spool__ack(sp, 8), 0);
	expect_peek(100, 9, 10);
	stats(&st);
	cr_assert_eq(st.events, 2);
	cr_assert_eq(spool__ack(sp, 10), 0);
	expect_peek(100, 1, 0);
	stats(&st);
	cr_assert_eq(st.events, 0);
	cr_assert_eq(st.trimmed_seq, 10);
	cr_assert_eq(st.segments, 0);
	cr_assert_eq(count_segments(), 0);
}

Test(spool, peek_returns_only_synced_records)
{
	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 3, PAYLOAD_LEN);
	expect_peek(10, 1, 0);
	cr_assert_eq(spool__sync(sp), 0);
	append_range(4, 5, PAYLOAD_LEN);
	expect_peek(10, 1, 3);
	cr_assert_eq(spool__sync(sp), 0);
	expect_peek(10, 1, 5);
}

Test(spool, peek_bounds_bytes_but_never_starves)
{
	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 6, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);

	cr_assert_eq(spool__peek(sp, 100, 3 * PAYLOAD_LEN, &batch), 0);
	cr_assert_eq(batch.n, 3);
	cr_assert_eq(batch.bytes, 3 * PAYLOAD_LEN);
	cr_assert_eq(spool__peek(sp, 100, 1, &batch), 0);
	cr_assert_eq(batch.n, 1, "a record larger than the bound comes alone");
	cr_assert_eq(spool__peek(sp, 0, 100, &batch), -EINVAL);
}

Test(spool, ack_persists_across_reopen)
{
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 10, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	cr_assert_eq(spool__ack(sp, 6), 0);

	reopen(0);
	expect_peek(100, 7, 10);
	stats(&st);
	cr_assert_eq(st.events, 4);
	cr_assert_eq(st.trimmed_seq, 6);
	cr_assert_eq(st.corrupt_skipped + st.torn_truncated, 0);
}

Test(spool, unsynced_records_survive_a_clean_close)
{
	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 4, PAYLOAD_LEN);
	reopen(0);
	expect_peek(100, 1, 4);
}

Test(spool, last_seq_survives_reopen_even_when_all_acked)
{
	unsigned char buf[PAYLOAD_LEN] = { 0 };
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	cr_assert_eq(spool__last_seq(sp), 0);
	append_range(1, 5, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	cr_assert_eq(spool__ack(sp, 5), 0);
	cr_assert_eq(count_segments(), 0);

	reopen(0);
	cr_assert_eq(spool__last_seq(sp), 5);
	stats(&st);
	cr_assert_eq(st.events, 0);
	cr_assert_eq(spool__append(sp, 5, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(spool__append(sp, 3, buf, sizeof(buf)), -EINVAL);
	append_range(6, 7, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	expect_peek(100, 6, 7);

	reopen(0);
	cr_assert_eq(spool__last_seq(sp), 7);
}

Test(spool, ack_beyond_last_seq_is_clamped)
{
	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 3, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	cr_assert_eq(spool__ack(sp, 1000), 0);
	append_range(4, 4, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	expect_peek(100, 4, 4);
}

Test(spool, torn_payload_tail_is_truncated_and_the_rest_kept)
{
	char path[PATH_MAX];
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 5, PAYLOAD_LEN);
	spool__close(sp);
	sp = NULL;
	only_segment(path, sizeof(path));
	cr_assert_eq(file_size(path), 5 * REC_SIZE);
	cr_assert_eq(truncate(path, 5 * REC_SIZE - 10), 0);

	reopen(0);
	stats(&st);
	cr_assert_eq(st.torn_truncated, 1);
	cr_assert_eq(st.corrupt_skipped, 0);
	cr_assert_eq(st.events, 4);
	cr_assert_eq(spool__last_seq(sp), 4);
	cr_assert_eq(file_size(path), 4 * REC_SIZE);
	expect_peek(100, 1, 4);

	append_range(5, 6, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	expect_peek(100, 1, 6);
}

Test(spool, torn_header_tail_is_truncated)
{
	char path[PATH_MAX];
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 3, PAYLOAD_LEN);
	spool__close(sp);
	sp = NULL;
	only_segment(path, sizeof(path));
	cr_assert_eq(truncate(path, 2 * REC_SIZE + 7), 0);

	reopen(0);
	stats(&st);
	cr_assert_eq(st.torn_truncated, 1);
	cr_assert_eq(file_size(path), 2 * REC_SIZE);
	expect_peek(100, 1, 2);
}

Test(spool, zeroed_tail_after_a_crash_is_truncated)
{
	char path[PATH_MAX];
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 3, PAYLOAD_LEN);
	spool__close(sp);
	sp = NULL;
	only_segment(path, sizeof(path));
	cr_assert_eq(truncate(path, 3 * REC_SIZE + 4096), 0);

	reopen(0);
	stats(&st);
	cr_assert_eq(st.torn_truncated, 1);
	cr_assert_eq(file_size(path), 3 * REC_SIZE);
	expect_peek(100, 1, 3);
}

Test(spool, flipped_payload_byte_is_detected_and_skipped)
{
	char path[PATH_MAX];
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 5, PAYLOAD_LEN);
	spool__close(sp);
	sp = NULL;
	only_segment(path, sizeof(path));
	flip_byte(path, 2 * REC_SIZE + SPOOL_RECORD_HEADER + 20);

	reopen(0);
	stats(&st);
	cr_assert_eq(st.corrupt_skipped, 1);
	cr_assert_eq(st.torn_truncated, 0);
	cr_assert_eq(st.events, 4);
	cr_assert_eq(spool__peek(sp, 100, SIZE_MAX, &batch), 0);
	cr_assert_eq(batch.n, 4);
	cr_assert_eq(batch.recs[0].seq, 1);
	cr_assert_eq(batch.recs[1].seq, 2);
	cr_assert_eq(batch.recs[2].seq, 4);
	cr_assert_eq(batch.recs[3].seq, 5);

	cr_assert_eq(spool__ack(sp, 5), 0);
	stats(&st);
	cr_assert_eq(st.events, 0);
	cr_assert_eq(count_segments(), 0);
}

Test(spool, flipped_header_byte_resyncs_to_the_next_record)
{
	char path[PATH_MAX];
	struct spool_stats st;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 5, PAYLOAD_LEN);
	spool__close(sp);
	sp = NULL;
	only_segment(path, sizeof(path));
	flip_byte(path, 1 * REC_SIZE + 5);	/* length of seq 2 */

	reopen(0);
	stats(&st);
	cr_assert_eq(st.corrupt_skipped, 1);
	cr_assert_eq(st.events, 4);
	cr_assert_eq(spool__peek(sp, 100, SIZE_MAX, &batch), 0);
	cr_assert_eq(batch.n, 4);
	cr_assert_eq(batch.recs[0].seq, 1);
	cr_assert_eq(batch.recs[1].seq, 3);
	cr_assert_eq(batch.recs[3].seq, 5);
}

Test(spool, overflow_drops_oldest_and_counts)
{
	const uint64_t max = SPOOL_MIN_MAX_BYTES, n = 200;
	struct spool_stats st;
	uint64_t first;

	sp = spool__open(dir, max);
	cr_assert_not_null(sp);
	append_range(1, n, 200);
	cr_assert_eq(spool__sync(sp), 0);

	stats(&st);
	cr_assert_leq(st.bytes, max);
	cr_assert_gt(st.dropped_overflow, 0);
	cr_assert_eq(spool__dropped(sp), st.dropped_overflow);
	cr_assert_eq(st.dropped_overflow + st.events, n);
	first = n - st.events + 1;
	cr_assert_eq(spool__peek(sp, 1000, SIZE_MAX, &batch), 0);
	cr_assert_eq(batch.n, st.events);
	cr_assert_eq(batch.recs[0].seq, first, "the oldest went first");
	cr_assert_eq(batch.recs[batch.n - 1].seq, n);

	reopen(max);
	cr_assert_eq(spool__peek(sp, 1000, SIZE_MAX, &batch), 0);
	cr_assert_eq(batch.recs[0].seq, first);
	cr_assert_eq(spool__last_seq(sp), n);
}

Test(spool, overflow_after_partial_ack_counts_only_unacked)
{
	const uint64_t max = SPOOL_MIN_MAX_BYTES;
	struct spool_stats st;

	sp = spool__open(dir, max);
	cr_assert_not_null(sp);
	append_range(1, 10, 200);
	cr_assert_eq(spool__sync(sp), 0);
	cr_assert_eq(spool__ack(sp, 10), 0);
	append_range(11, 100, 200);
	stats(&st);
	cr_assert_gt(st.dropped_overflow, 0);
	cr_assert_leq(st.bytes, max);
	cr_assert_eq(st.dropped_overflow + st.events, 90);
}

Test(spool, segments_rotate_and_are_deleted_on_ack)
{
	const size_t len = 4000;
	const uint64_t n = 1000;
	struct spool_stats st;
	int before;

	sp = spool__open(dir, BIG_MAX);
	cr_assert_not_null(sp);
	append_range(1, n, len);
	cr_assert_eq(spool__sync(sp), 0);
	before = count_segments();
	cr_assert_geq(before, 4, "only %d segments", before);
	stats(&st);
	cr_assert_eq(st.segments, (uint64_t)before);
	cr_assert_eq(st.bytes, n * (SPOOL_RECORD_HEADER + len));
	cr_assert_eq(st.dropped_overflow, 0);

	cr_assert_eq(spool__ack(sp, n / 2), 0);
	cr_assert_lt(count_segments(), before);
	stats(&st);
	cr_assert_eq(st.events, n / 2);
	expect_peek(3, n / 2 + 1, n / 2 + 3);

	reopen(BIG_MAX);
	stats(&st);
	cr_assert_eq(st.events, n / 2);
	cr_assert_eq(spool__ack(sp, n), 0);
	cr_assert_eq(count_segments(), 0);
}

Test(spool, huge_record_is_refused)
{
	unsigned char *big = calloc(1, SPOOL_SEGMENT_MAX);
	struct spool_stats st;

	cr_assert_not_null(big);
	sp = spool__open(dir, BIG_MAX);
	cr_assert_not_null(sp);
	cr_assert_eq(spool__append(sp, 1, big, SPOOL_SEGMENT_MAX), -E2BIG);
	cr_assert_eq(spool__append(sp, 1, big,
				   SPOOL_SEGMENT_MAX - SPOOL_RECORD_HEADER), 0);
	spool__close(sp);

	sp = spool__open(dir, SPOOL_MIN_MAX_BYTES);
	cr_assert_not_null(sp);
	cr_assert_eq(spool__append(sp, 2, big, SPOOL_MIN_MAX_BYTES / 2),
		     -E2BIG);
	stats(&st);
	cr_assert_eq(st.last_seq, 1);
	free(big);
}

Test(spool, seq_must_increase)
{
	unsigned char buf[4] = { 1, 2, 3, 4 };

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	cr_assert_eq(spool__append(sp, 0, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(spool__append(sp, 7, buf, sizeof(buf)), 0);
	cr_assert_eq(spool__append(sp, 7, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(spool__append(sp, 6, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(spool__append(sp, 9, NULL, 0), 0);
	cr_assert_eq(spool__append(sp, 10, NULL, 3), -EINVAL);
	cr_assert_eq(spool__last_seq(sp), 9);
}

Test(spool, dir_under_a_file_gives_errno)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	strcat(path, "/spool");
	errno = 0;
	cr_assert_null(spool__open(path, 0));
	cr_assert_eq(errno, ENOTDIR);
}

/*
 * Root writes anywhere, so the permission check runs in a child that
 * first gives up root; its exit code carries errno back.
 */
Test(spool, unwritable_dir_gives_errno)
{
	char path[PATH_MAX];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/ro", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	strcat(path, "/spool");

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(100);
		errno = 0;
		_exit(spool__open(path, 0) ? 0 : errno);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), EACCES);
}

Test(spool, second_open_of_the_same_dir_is_refused)
{
	struct spool *other;

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	errno = 0;
	other = spool__open(dir, 0);
	cr_assert_null(other);
	cr_assert_eq(errno, EBUSY);
}

Test(spool, damaged_state_file_is_refused)
{
	char path[PATH_MAX];

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 2, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	cr_assert_eq(spool__ack(sp, 1), 0);
	spool__close(sp);
	sp = NULL;

	snprintf(path, sizeof(path), "%s/state", dir);
	flip_byte(path, 9);
	errno = 0;
	cr_assert_null(spool__open(dir, 0));
	cr_assert_eq(errno, EBADMSG);
}

Test(spool, bad_arguments)
{
	struct spool_stats st;

	errno = 0;
	cr_assert_null(spool__open(NULL, 0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(spool__open(dir, 100));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(spool__append(NULL, 1, "x", 1), -EINVAL);
	cr_assert_eq(spool__ack(NULL, 1), -EINVAL);
	cr_assert_eq(spool__sync(NULL), -EINVAL);
	cr_assert_eq(spool__peek(NULL, 1, 1, &batch), -EINVAL);
	cr_assert_eq(spool__last_seq(NULL), 0);
	spool__stats(NULL, &st);
	cr_assert_eq(st.events, 0);
	spool__close(NULL);
	spool__batch_free(NULL);
}

Test(spool, creates_missing_parents_0700)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/spool", dir);
	sp = spool__open(path, 0);
	cr_assert_not_null(sp);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
}

/* Each file holds events (argv among them): vouchd's alone, 0600. */
static int check_mode(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	if (flag == FTW_F)
		cr_assert_eq(st->st_mode & 07777, 0600, "%s has mode %o", path,
			     st->st_mode & 07777);
	return 0;
}

Test(spool, files_are_created_0600)
{
	mode_t old = umask(0);

	sp = spool__open(dir, 0);
	cr_assert_not_null(sp);
	append_range(1, 3, PAYLOAD_LEN);
	cr_assert_eq(spool__sync(sp), 0);
	cr_assert_eq(spool__ack(sp, 1), 0);
	umask(old);
	cr_assert_geq(count_segments(), 1);
	nftw(dir, check_mode, 16, FTW_PHYS);
}
