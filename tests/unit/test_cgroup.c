// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/cgroup.c, against this machine's real cgroup v2
 * tree. Needs root: each test creates its own child cgroup and removes it
 * in teardown, whatever the test's outcome.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "cgroup.h"

static char cg_mount[256];
static char child[128];		/* relative to the mount */
static char grandchild[160];
static char tmpdir[64];
static struct cgroup_index *idx;

static void full_path(char *buf, size_t len, const char *rel)
{
	int n = snprintf(buf, len, "%s%s", cg_mount,
			 strcmp(rel, "/") == 0 ? "" : rel);

	cr_assert(n > 0 && (size_t)n < len, "path too long: %s%s", cg_mount,
		  rel);
}

static void setup(void)
{
	char path[PATH_MAX];
	struct timespec ts;

	idx = NULL;
	child[0] = grandchild[0] = tmpdir[0] = '\0';
	cr_assert_eq(cgroup__find_mount(cg_mount, sizeof(cg_mount)), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(child, sizeof(child), "/vouch-test-%d-%ld", (int)getpid(),
		 (long)ts.tv_nsec);
	full_path(path, sizeof(path), child);
	cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %m", path);
	snprintf(grandchild, sizeof(grandchild), "%s/sub", child);
	full_path(path, sizeof(path), grandchild);
	cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %m", path);
}

static void teardown(void)
{
	char path[PATH_MAX];

	cgroup__free(idx);
	if (grandchild[0]) {
		full_path(path, sizeof(path), grandchild);
		rmdir(path);
	}
	if (child[0]) {
		full_path(path, sizeof(path), child);
		rmdir(path);
	}
	if (tmpdir[0])
		rmdir(tmpdir);
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 30);

/* The first cgroup2 mount point listed in /proc/self/mounts. */
static void mounts_cgroup2(char *buf, size_t len)
{
	char line[4096], dev[256], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	cr_assert_not_null(f);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) != 3)
			continue;
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(buf, len, "%s", dir);
			break;
		}
	}
	fclose(f);
	cr_assert_neq(buf[0], '\0', "no cgroup2 in /proc/self/mounts");
}

/* This process's cgroup v2 path, from the "0::" line. */
static void own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX + 8];

	cr_assert_not_null(f);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (strlen(line + 3) < len)
			strcpy(buf, line + 3);
		break;
	}
	fclose(f);
	cr_assert_eq(buf[0], '/', "no 0:: line in /proc/self/cgroup");
}

static uint64_t id_of_rel(const char *rel)
{
	char path[PATH_MAX];

	full_path(path, sizeof(path), rel);
	return cgroup__id_of(path);
}

/* The index entry for path; fails the test when there is none. */
static const struct cgroup_entry *entry_for(const char *path)
{
	for (size_t i = 0; i < idx->n; i++)
		if (strcmp(idx->entries[i].path, path) == 0)
			return &idx->entries[i];
	cr_assert_fail("'%s' is not in the index of %zu cgroups", path,
		       idx->n);
	return NULL;
}

static void scan(void)
{
	idx = cgroup__scan(cg_mount);
	cr_assert_not_null(idx, "scan of %s: %m", cg_mount);
	cr_assert_str_eq(idx->mount, cg_mount);
}

Test(cgroup, find_mount_matches_proc_mounts)
{
	char want[PATH_MAX];

	mounts_cgroup2(want, sizeof(want));
	cr_assert_str_eq(cg_mount, want);
}

Test(cgroup, find_mount_refuses_a_short_buffer)
{
	char small[4];

	cr_assert_eq(cgroup__find_mount(small, sizeof(small)), -ENAMETOOLONG);
}

Test(cgroup, id_of_mount_root_and_children_is_nonzero_and_distinct)
{
	uint64_t root = cgroup__id_of(cg_mount);
	uint64_t kid = id_of_rel(child);

	cr_assert_neq(root, 0);
	cr_assert_neq(kid, 0);
	cr_assert_neq(kid, root);
	cr_assert_eq(id_of_rel(child), kid, "ids are stable");
}

Test(cgroup, id_of_a_missing_dir_is_zero)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/no-such-cgroup", child);
	cr_assert_eq(id_of_rel(path), 0);
}

Test(cgroup, id_of_a_non_cgroup_dir_is_zero)
{
	uint64_t id;

	strcpy(tmpdir, "/tmp/vouch-test-cgroup-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	id = cgroup__id_of(tmpdir);
	cr_assert_eq(id, 0,
		     "cgroup__id_of(%s) = %llu: the file handle of a directory "
		     "on another file system was taken for a cgroup id", tmpdir,
		     (unsigned long long)id);
}

Test(cgroup, scan_holds_the_root_and_this_process)
{
	const struct cgroup_entry *e;
	char own[PATH_MAX];

	scan();
	e = entry_for("/");
	cr_assert_eq(e->id, cgroup__id_of(cg_mount));
	own_cgroup(own, sizeof(own));
	e = entry_for(own);
	cr_assert_eq(e->id, id_of_rel(own));
	cr_assert_neq(e->id, 0);
}

Test(cgroup, scan_entries_are_sorted_by_id)
{
	scan();
	cr_assert_geq(idx->n, 3, "root, child and grandchild at least");
	for (size_t i = 1; i < idx->n; i++)
		cr_assert_lt(idx->entries[i - 1].id, idx->entries[i].id,
			     "entries %zu and %zu out of order", i - 1, i);
}

Test(cgroup, scan_finds_a_new_child_by_its_path)
{
	const struct cgroup_entry *e;

	scan();
	e = entry_for(child);
	cr_assert_eq(e->id, id_of_rel(child));
	e = entry_for(grandchild);
	cr_assert_eq(e->id, id_of_rel(grandchild));
}

Test(cgroup, path_lookup_hits_and_misses)
{
	uint64_t max = 0;

	scan();
	cr_assert_str_eq(cgroup__path(idx, cgroup__id_of(cg_mount)), "/");
	cr_assert_str_eq(cgroup__path(idx, id_of_rel(child)), child);
	cr_assert_str_eq(cgroup__path(idx, id_of_rel(grandchild)), grandchild);
	for (size_t i = 0; i < idx->n; i++) {
		cr_assert_eq(cgroup__path(idx, idx->entries[i].id),
			     idx->entries[i].path, "entry %zu", i);
		if (idx->entries[i].id > max)
			max = idx->entries[i].id;
	}
	cr_assert_null(cgroup__path(idx, 0));
	cr_assert_null(cgroup__path(idx, max + 1));
	cr_assert_null(cgroup__path(NULL, 1));
}

Test(cgroup, removed_child_leaves_the_next_scan)
{
	char path[PATH_MAX];
	uint64_t gone = id_of_rel(grandchild);

	full_path(path, sizeof(path), grandchild);
	cr_assert_eq(rmdir(path), 0);
	grandchild[0] = '\0';
	scan();
	cr_assert_null(cgroup__path(idx, gone));
	entry_for(child);
}

Test(cgroup, free_accepts_null)
{
	cgroup__free(NULL);
}
