// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/events.c. Only the argv splitter can be driven
 * without a loaded BPF object; the rest is covered by tests/e2e.
 */
#include <string.h>
#include <criterion/criterion.h>

#include "events.h"

/* Room for len bytes and the NUL the splitter writes after them. */
static char buf[1024];
static struct event_process proc;

static void setup(void)
{
	memset(buf, 'x', sizeof(buf));
	memset(&proc, 0, sizeof(proc));
	proc.argc = 99;
	proc.argv_truncated = 99;
}

TestSuite(events, .init = setup, .timeout = 10);

static void split(const char *block, size_t len, int truncated)
{
	cr_assert_lt(len, sizeof(buf));
	memcpy(buf, block, len);
	events__split_argv(&proc, buf, len, truncated);
}

static void assert_argv(const char *const *want, size_t n)
{
	cr_assert_eq(proc.argc, n, "argc %zu, want %zu", proc.argc, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(proc.argv[i], want[i], "argv[%zu]", i);
		/* pointers into the caller's buffer, not copies */
		cr_assert(proc.argv[i] >= buf && proc.argv[i] < buf + sizeof(buf));
	}
}

#define ASSERT_ARGV(...)						\
	do {								\
		static const char *const want_[] = { __VA_ARGS__ };	\
		assert_argv(want_, sizeof(want_) / sizeof(want_[0]));	\
	} while (0)

Test(events, splits_nul_separated_arguments)
{
	split("ls\0-l\0/tmp\0", 11, 0);
	ASSERT_ARGV("ls", "-l", "/tmp");
	cr_assert_eq(proc.argv_truncated, 0);
	cr_assert_eq(proc.argv[0], buf);
	cr_assert_eq(proc.argv[2], buf + 6);
}

Test(events, keeps_empty_arguments)
{
	split("printf\0\0x\0", 10, 0);
	ASSERT_ARGV("printf", "", "x");
}

Test(events, empty_block_has_no_arguments)
{
	split("", 0, 0);
	cr_assert_eq(proc.argc, 0);
	cr_assert_eq(proc.argv_truncated, 0);
	cr_assert_eq(buf[0], '\0');
}

Test(events, missing_final_nul_is_added)
{
	split("sh\0-c\0echo hi", 13, 0);
	ASSERT_ARGV("sh", "-c", "echo hi");
	cr_assert_eq(buf[13], '\0');
	cr_assert_eq(proc.argv_truncated, 0);
}

/* n arguments "a0", "a1", ... laid out as the kernel copies them. */
static size_t many_args(int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "a%d", i) + 1;
	return len;
}

Test(events, exactly_the_maximum_is_not_truncated)
{
	size_t len = many_args(EVENT_ARGV_MAX);

	events__split_argv(&proc, buf, len, 0);
	cr_assert_eq(proc.argc, EVENT_ARGV_MAX);
	cr_assert_str_eq(proc.argv[EVENT_ARGV_MAX - 1], "a63");
	cr_assert_eq(proc.argv_truncated, 0);
}

Test(events, more_than_the_maximum_sets_truncated)
{
	size_t len = many_args(EVENT_ARGV_MAX + 6);

	events__split_argv(&proc, buf, len, 0);
	cr_assert_eq(proc.argc, EVENT_ARGV_MAX);
	cr_assert_str_eq(proc.argv[0], "a0");
	cr_assert_str_eq(proc.argv[EVENT_ARGV_MAX - 1], "a63");
	cr_assert_eq(proc.argv_truncated, 1);
}

Test(events, truncated_flag_from_the_kernel_passes_through)
{
	split("cat\0/etc/pa", 11, 1);
	ASSERT_ARGV("cat", "/etc/pa");
	cr_assert_eq(proc.argv_truncated, 1);
}
