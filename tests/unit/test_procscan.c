// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/procscan.c: the real /proc for this process, and a
 * fake proc root in a temporary directory for what /proc rarely shows.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "cgroup.h"
#include "procscan.h"

static const unsigned int fake_pids[] = { 123, 124, 125, 126 };

static char cg_mount[256];
static char own[1024];			/* this process's cgroup v2 path */
static char root[64];			/* the fake proc root */

static void read_own_cgroup(void)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1100];

	cr_assert_not_null(f);
	own[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (strlen(line + 3) < sizeof(own))
			strcpy(own, line + 3);
		break;
	}
	fclose(f);
	cr_assert_eq(own[0], '/', "no 0:: line in /proc/self/cgroup");
}

static void setup(void)
{
	char path[128];

	cr_assert_eq(cgroup__find_mount(cg_mount, sizeof(cg_mount)), 0);
	read_own_cgroup();
	strcpy(root, "/tmp/vouch-test-proc-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(fake_pids) / sizeof(fake_pids[0]); i++) {
		snprintf(path, sizeof(path), "%s/%u", root, fake_pids[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
}

static void teardown(void)
{
	char path[128];

	for (size_t i = 0; i < sizeof(fake_pids) / sizeof(fake_pids[0]); i++) {
		snprintf(path, sizeof(path), "%s/%u/stat", root, fake_pids[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%u/cgroup", root, fake_pids[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%u", root, fake_pids[i]);
		rmdir(path);
	}
	rmdir(root);
}

TestSuite(procscan, .init = setup, .fini = teardown, .timeout = 10);

static void fake_file(unsigned int pid, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/%s", root, pid, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "create %s: %m", path);
	fputs(text, f);
	fclose(f);
}

static uint64_t own_cgroup_id(void)
{
	char dir[1400];

	snprintf(dir, sizeof(dir), "%s%s", cg_mount,
		 strcmp(own, "/") == 0 ? "" : own);
	return cgroup__id_of(dir);
}

static void fake_own_cgroup(unsigned int pid)
{
	char text[1100];

	snprintf(text, sizeof(text), "4:memory:/elsewhere\n0::%s\n", own);
	fake_file(pid, "cgroup", text);
}

Test(procscan, reads_this_process)
{
	struct proc_info info;
	uint64_t want = own_cgroup_id();

	memset(&info, 0xa5, sizeof(info));
	cr_assert_eq(procscan__read("/proc", cg_mount, (uint32_t)getpid(),
				    &info), 0);
	cr_assert_eq(info.tgid, (uint32_t)getpid());
	cr_assert_eq(info.ppid, (uint32_t)getppid());
	cr_assert_neq(want, 0);
	cr_assert_eq(info.cgroup_id, want);
}

Test(procscan, missing_pid_is_a_negative_errno)
{
	struct proc_info info;
	unsigned long pid_max = 0;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu", &pid_max), 1);
	fclose(f);
	cr_assert_eq(procscan__read("/proc", cg_mount, (uint32_t)pid_max + 1,
				    &info), -ENOENT);
}

Test(procscan, comm_with_spaces_and_parentheses)
{
	struct proc_info info = { 0 };

	fake_file(123, "stat",
		  "123 (a) b) S 77 123 123 0 -1 4194560 100 0 0 0\n");
	fake_own_cgroup(123);
	cr_assert_eq(procscan__read(root, cg_mount, 123, &info), 0);
	cr_assert_eq(info.tgid, 123);
	cr_assert_eq(info.ppid, 77);
	cr_assert_eq(info.cgroup_id, own_cgroup_id());
}

Test(procscan, comm_that_imitates_the_fields_after_it)
{
	struct proc_info info = { 0 };

	fake_file(124, "stat", "124 (x) S 12 () R 4242 124 124 0 -1\n");
	fake_own_cgroup(124);
	cr_assert_eq(procscan__read(root, cg_mount, 124, &info), 0);
	cr_assert_eq(info.ppid, 4242);
}

Test(procscan, stat_without_comm_is_invalid)
{
	struct proc_info info;

	fake_file(125, "stat", "125 nothing here\n");
	fake_own_cgroup(125);
	cr_assert_eq(procscan__read(root, cg_mount, 125, &info), -EINVAL);
}

Test(procscan, cgroup_without_v2_line_or_cgroup_is_enoent)
{
	struct proc_info info;

	fake_file(126, "stat", "126 (sh) S 1 126 126 0 -1\n");
	fake_file(126, "cgroup", "1:cpu:/\n4:memory:/\n");
	cr_assert_eq(procscan__read(root, cg_mount, 126, &info), -ENOENT);
	fake_file(126, "cgroup", "0::/vouch-test-no-such-cgroup\n");
	cr_assert_eq(procscan__read(root, cg_mount, 126, &info), -ENOENT);
}
