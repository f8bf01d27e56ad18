// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/pin.c: paths, pruning and unloading of pin trees. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "pin.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/vouch-test-pin-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	pin__unload(dir);
	rmdir(dir);
}

TestSuite(pin, .init = setup, .fini = teardown, .timeout = 10);

/* A plain file stands in for a pin: unlinking is the same act. */
static void touch(const char *sub, const char *name)
{
	char path[PIN_PATH_MAX];
	int fd;

	pin__path(path, sizeof(path), dir, sub, NULL);
	mkdir(path, 0700);
	pin__path(path, sizeof(path), dir, sub, name);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
}

static int exists(const char *sub, const char *name)
{
	char path[PIN_PATH_MAX];

	pin__path(path, sizeof(path), dir, sub, name);
	return access(path, F_OK) == 0;
}

Test(pin, paths_are_joined_and_bounded)
{
	char buf[32], big[PIN_PATH_MAX + 8];

	cr_assert_eq(pin__path(buf, sizeof(buf), "/a", "links", "x"), 0);
	cr_assert_str_eq(buf, "/a/links/x");
	cr_assert_eq(pin__path(buf, sizeof(buf), "/a", NULL, NULL), 0);
	cr_assert_str_eq(buf, "/a");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(pin__path(buf, sizeof(buf), big, "maps", "m"),
		     -ENAMETOOLONG);
}

Test(pin, unload_removes_links_maps_and_the_directory)
{
	touch("links", "vouch_exec");
	touch("maps", "events");
	cr_assert(pin__has_maps(dir));
	cr_assert_eq(pin__unload(dir), 0);
	cr_assert_neq(access(dir, F_OK), 0);
	cr_assert_eq(pin__unload(dir), 0, "an absent directory is no error");
	mkdir(dir, 0700);
}

Test(pin, prune_keeps_only_the_named_links)
{
	const char *keep[] = { "vouch_exec", "vouch_fork" };

	touch("links", "vouch_exec");
	touch("links", "vouch_fork");
	touch("links", "vouch_gone");
	cr_assert_eq(pin__prune_links(dir, keep, 2), 0);
	cr_assert(exists("links", "vouch_exec"));
	cr_assert(exists("links", "vouch_fork"));
	cr_assert(!exists("links", "vouch_gone"));
}

Test(pin, no_maps_means_nothing_to_adopt)
{
	cr_assert(!pin__has_maps(dir));
	touch("links", "vouch_exec");
	cr_assert(!pin__has_maps(dir));
}

Test(pin, prepare_refuses_a_directory_outside_bpffs)
{
	char sub[96];

	snprintf(sub, sizeof(sub), "%s/pins", dir);
	cr_assert_eq(pin__prepare(sub), -ENOTSUP);
}
