// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/diag.c: storing, printing, ordering diagnostics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "diag.h"

/* Prints d into a string the test owns. */
static char *print_to_string(const struct diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	diags__print(d, out);
	fclose(out);
	return buf;
}

Test(diag, add_keeps_every_field)
{
	struct diags d = { 0 };

	diags__add(&d, DIAG_ERROR, "a.yaml", 3, 7, "bad %s %d", "thing", 42);
	diags__add(&d, DIAG_WARNING, "b.yaml", 9, 1, "careful");

	cr_assert_eq(d.n, 2);
	cr_assert_eq(d.errors, 1);
	cr_assert_eq(d.items[0].severity, DIAG_ERROR);
	cr_assert_str_eq(d.items[0].file, "a.yaml");
	cr_assert_eq(d.items[0].line, 3);
	cr_assert_eq(d.items[0].col, 7);
	cr_assert_str_eq(d.items[0].msg, "bad thing 42");
	cr_assert_eq(d.items[1].severity, DIAG_WARNING);
	cr_assert_str_eq(d.items[1].msg, "careful");
	diags__free(&d);
}

Test(diag, print_formats_each_position_kind)
{
	struct diags d = { 0 };
	char *text;

	diags__add(&d, DIAG_ERROR, "r.yaml", 12, 5, "one");
	diags__add(&d, DIAG_WARNING, "r.yaml", 4, 2, "two");
	diags__add(&d, DIAG_ERROR, "r.yaml", 8, 0, "three");
	diags__add(&d, DIAG_ERROR, "r.yaml", 0, 0, "four");
	text = print_to_string(&d);

	cr_assert_str_eq(text, "r.yaml:12:5: error: one\n"
			       "r.yaml:4:2: warning: two\n"
			       "r.yaml:8: error: three\n"
			       "r.yaml: error: four\n");
	free(text);
	diags__free(&d);
}

Test(diag, first_error_skips_warnings)
{
	struct diags d = { 0 };
	char buf[128];

	diags__add(&d, DIAG_WARNING, "f", 1, 1, "just a warning");
	cr_assert_str_eq(diags__first_error(&d, buf, sizeof(buf)), "");
	diags__add(&d, DIAG_ERROR, "f", 2, 3, "the error");
	diags__add(&d, DIAG_ERROR, "f", 5, 1, "a later error");

	cr_assert_str_eq(diags__first_error(&d, buf, sizeof(buf)),
			 "f:2:3: error: the error");
	diags__free(&d);
}

Test(diag, first_error_truncates_to_buffer)
{
	struct diags d = { 0 };
	char buf[8];

	diags__add(&d, DIAG_ERROR, "file.yaml", 2, 3, "long message");
	cr_assert_str_eq(diags__first_error(&d, buf, sizeof(buf)), "file.ya");
	diags__free(&d);
}

Test(diag, control_characters_never_reach_the_output)
{
	struct diags d = { 0 };

	/* ESC, a newline and a UTF-8 encoded C1 CSI (U+009B). */
	diags__add(&d, DIAG_ERROR, "f", 1, 1, "key '%s'",
		   "a\x1b[2Jb\nc\xc2\x9b" "d\xc3\xa9");
	cr_assert_str_eq(d.items[0].msg, "key 'a?[2Jb?c??d\xc3\xa9'");
	diags__free(&d);
}

Test(diag, storage_is_capped_but_errors_are_counted)
{
	struct diags d = { 0 };

	for (int i = 0; i < 1500; i++)
		diags__add(&d, DIAG_ERROR, "f", i + 1, 1, "error %d", i);

	cr_assert_eq(d.errors, 1500);
	cr_assert_eq(d.n, 1000);
	cr_assert_str_eq(d.items[998].msg, "error 998");
	cr_assert_str_eq(d.items[999].msg,
			 "too many diagnostics; the rest are not shown");
	diags__free(&d);
}

Test(diag, sort_orders_by_position_and_is_stable)
{
	struct diags d = { 0 };

	diags__add(&d, DIAG_ERROR, "f", 9, 9, "untouched");
	diags__add(&d, DIAG_ERROR, "f", 5, 2, "c");
	diags__add(&d, DIAG_ERROR, "f", 3, 4, "b1");
	diags__add(&d, DIAG_ERROR, "f", 0, 0, "a");
	diags__add(&d, DIAG_WARNING, "f", 3, 4, "b2");
	diags__sort(&d, 1);

	cr_assert_str_eq(d.items[0].msg, "untouched");
	cr_assert_str_eq(d.items[1].msg, "a");
	cr_assert_str_eq(d.items[2].msg, "b1");
	cr_assert_str_eq(d.items[3].msg, "b2");
	cr_assert_str_eq(d.items[4].msg, "c");
	diags__free(&d);
}

Test(diag, free_resets_and_accepts_null)
{
	struct diags d = { 0 };

	diags__add(&d, DIAG_ERROR, "f", 1, 1, "x");
	diags__free(&d);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(d.errors, 0);
	cr_assert_null(d.items);
	diags__free(NULL);
}
