// SPDX-License-Identifier: GPL-2.0-only
/* utf8__repair: valid text passes unchanged, every bad byte becomes U+FFFD. */
#include <stdlib.h>
#include <criterion/criterion.h>

#include "utf8.h"

static void assert_repairs(const char *in, const char *want)
{
	char *got = utf8__repair(in);

	cr_assert_not_null(got);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(utf8, valid_text_is_unchanged)
{
	assert_repairs("", "");
	assert_repairs("/usr/bin/true", "/usr/bin/true");
	assert_repairs("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
		       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
}

Test(utf8, stray_and_truncated_bytes_become_replacement_characters)
{
	assert_repairs("a\xffz", "a\xef\xbf\xbdz");
	assert_repairs("\x80", "\xef\xbf\xbd");
	/* a lead byte at the very end: its continuation is the NUL */
	assert_repairs("x\xc3", "x\xef\xbf\xbd");
	assert_repairs("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd");
}

Test(utf8, overlong_surrogate_and_out_of_range_forms_are_refused)
{
	assert_repairs("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	assert_repairs("\xe0\x80\xaf",
		       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_repairs("\xed\xa0\x80",
		       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_repairs("\xf4\x90\x80\x80",
		       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}
