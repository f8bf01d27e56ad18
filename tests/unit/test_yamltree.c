// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/yamltree.c: the tree, its positions and its limits. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "yamltree.h"

static struct diags diags;

static void reset(void)
{
	memset(&diags, 0, sizeof(diags));
}

static void cleanup(void)
{
	diags__free(&diags);
}

TestSuite(yamltree, .init = reset, .fini = cleanup, .timeout = 10);

static struct ydoc *parse(const char *text)
{
	return ytree__load_buffer("t.yaml", text, strlen(text), &diags);
}

/* The parse failed with exactly one error, at line:col, saying msg. */
static void assert_one_error(struct ydoc *doc, int line, int col,
			     const char *msg)
{
	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1, "errors: %zu, first: %s", diags.errors,
		     diags.n ? diags.items[0].msg : "-");
	cr_assert_str_eq(diags.items[0].file, "t.yaml");
	cr_assert_str_eq(diags.items[0].msg, msg);
	cr_assert_eq(diags.items[0].line, line, "line %d",
		     diags.items[0].line);
	cr_assert_eq(diags.items[0].col, col, "col %d", diags.items[0].col);
}

static char *temp_path(void)
{
	char *path = strdup("/tmp/vouch-test-yamltree-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	return path;
}

static void write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

Test(yamltree, builds_tree_with_positions)
{
	struct ydoc *doc = parse("a: 1\nb:\n  - x\n  - 'y'\nc: {d: e}\n");
	const struct ynode *b, *c;

	cr_assert_not_null(doc);
	cr_assert_str_eq(doc->file, "t.yaml");
	cr_assert_eq(doc->root->type, YNODE_MAPPING);
	cr_assert_eq(doc->root->n_kids, 6);
	b = ytree__get(doc->root, "b");
	cr_assert_eq(b->type, YNODE_SEQUENCE);
	cr_assert_eq(b->n_kids, 2);
	cr_assert_str_eq(b->kids[0]->value, "x");
	cr_assert_eq(b->kids[0]->line, 3);
	cr_assert_eq(b->kids[0]->col, 5);
	cr_assert_eq(b->kids[0]->quoted, 0);
	cr_assert_str_eq(b->kids[1]->value, "y");
	cr_assert_eq(b->kids[1]->quoted, 1);
	c = ytree__get(doc->root, "c");
	cr_assert_eq(c->type, YNODE_MAPPING);
	cr_assert_eq(c->line, 5);
	cr_assert_eq(c->col, 4);
	cr_assert_str_eq(ytree__get(c, "d")->value, "e");
	cr_assert_eq(ytree__get(c, "d")->len, 1);
	cr_assert_null(ytree__get(doc->root, "missing"));
	cr_assert_null(ytree__get(b, "x"));
	ytree__free(doc);
}

Test(yamltree, empty_input_is_a_document_without_root)
{
	struct ydoc *doc = parse("");

	cr_assert_not_null(doc);
	cr_assert_null(doc->root);
	ytree__free(doc);
	doc = parse("# only a comment\n");
	cr_assert_not_null(doc);
	cr_assert_null(doc->root);
	ytree__free(doc);
	cr_assert_eq(diags.errors, 0);
}

Test(yamltree, syntax_error_has_libyaml_position)
{
	assert_one_error(parse("a: b\n  c: d\n"), 2, 4,
			 "mapping values are not allowed in this context");
}

Test(yamltree, unclosed_flow_names_its_start)
{
	assert_one_error(parse("x: 1\nk: [a\n"), 3, 1,
			 "did not find expected ',' or ']' "
			 "(while parsing a flow sequence at line 2)");
}

Test(yamltree, duplicate_key_points_at_the_second)
{
	assert_one_error(parse("a: 1\nb: 2\nc:\n  x: 1\na: 3\n"), 5, 1,
			 "duplicate key 'a' (first at line 1)");
}

Test(yamltree, duplicate_keys_are_all_reported_in_order)
{
	struct ydoc *doc = parse("{b: 1, a: 2, b: 3, a: 4, b: 5}");

	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 3);
	cr_assert_str_eq(diags.items[0].msg, "duplicate key 'b' (first at line 1)");
	cr_assert_eq(diags.items[0].col, 14);
	cr_assert_str_eq(diags.items[1].msg, "duplicate key 'a' (first at line 1)");
	cr_assert_eq(diags.items[1].col, 20);
	cr_assert_eq(diags.items[2].col, 26);
}

Test(yamltree, duplicate_keys_in_a_huge_mapping_are_fast)
{
	size_t n = 90000, len = 0;
	char *buf = malloc(n * 16);
	struct ydoc *doc;

	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "k%zu: v\n", i % (n - 1));
	doc = ytree__load_buffer("t.yaml", buf, len, &diags);
	free(buf);
	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1);
	cr_assert_str_eq(diags.items[0].msg, "duplicate key 'k0' (first at line 1)");
	cr_assert_eq(diags.items[0].line, (int)n);
}

Test(yamltree, anchor_is_refused)
{
	assert_one_error(parse("a: &x 1\nb: 2\n"), 1, 4,
			 "aliases and anchors are not allowed");
}

Test(yamltree, alias_is_refused)
{
	/* An alias without its anchor still parses as an event in libyaml. */
	assert_one_error(parse("a: 1\nb: *x\n"), 2, 4,
			 "aliases and anchors are not allowed");
}

Test(yamltree, billion_laughs_stops_at_first_anchor, .timeout = 2)
{
	struct ydoc *doc = ytree__load_file("tests/fixtures/rules/"
					    "bad_alias_bomb.yaml", &diags);

	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1);
	cr_assert_eq(diags.items[0].line, 2);
	cr_assert_eq(diags.items[0].col, 4);
	cr_assert_str_eq(diags.items[0].msg,
			 "aliases and anchors are not allowed");
}

Test(yamltree, second_document_is_refused)
{
	assert_one_error(parse("a: b\n---\nc: d\n"), 2, 1,
			 "more than one document; a file holds exactly one");
}

static char *nested(int levels)
{
	char *buf = malloc((size_t)levels * 2 + 8);
	int n = 0;

	for (int i = 0; i < levels; i++)
		buf[n++] = '[';
	for (int i = 0; i < levels; i++)
		buf[n++] = ']';
	buf[n] = '\0';
	return buf;
}

Test(yamltree, nesting_at_the_limit_is_accepted)
{
	char *text = nested(YTREE_MAX_DEPTH);
	struct ydoc *doc = parse(text);

	free(text);
	cr_assert_not_null(doc);
	ytree__free(doc);
}

Test(yamltree, nesting_past_the_limit_is_refused)
{
	char *text = nested(YTREE_MAX_DEPTH + 1);
	struct ydoc *doc = parse(text);

	free(text);
	assert_one_error(doc, 1, YTREE_MAX_DEPTH + 1,
			 "nesting deeper than 32 levels");
}

Test(yamltree, deep_block_nesting_fixture_is_refused)
{
	struct ydoc *doc = ytree__load_file("tests/fixtures/rules/bad_deep.yaml",
					    &diags);

	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1);
	cr_assert_str_eq(diags.items[0].msg, "nesting deeper than 32 levels");
	cr_assert_eq(diags.items[0].line, 35);
	cr_assert_eq(diags.items[0].col, 65);
}

Test(yamltree, too_many_nodes_is_refused)
{
	size_t n = YTREE_MAX_NODES + 10, len = 0;
	char *buf = malloc(n * 2 + 8);
	struct ydoc *doc;

	buf[len++] = '[';
	for (size_t i = 0; i < n; i++) {
		buf[len++] = '1';
		buf[len++] = ',';
	}
	buf[len - 1] = ']';
	doc = ytree__load_buffer("t.yaml", buf, len, &diags);
	free(buf);
	/* The sequence is node 1, so item i is node i + 2. */
	assert_one_error(doc, 1, 2 + 2 * (YTREE_MAX_NODES - 1),
			 "more than 500000 nodes");
}

Test(yamltree, scalar_length_limit)
{
	char *text = malloc(YTREE_MAX_SCALAR + 16);
	struct ydoc *doc;

	strcpy(text, "a: ");
	memset(text + 3, 'x', YTREE_MAX_SCALAR);
	text[3 + YTREE_MAX_SCALAR] = '\0';
	doc = parse(text);
	cr_assert_not_null(doc);
	cr_assert_eq(ytree__get(doc->root, "a")->len, YTREE_MAX_SCALAR);
	ytree__free(doc);

	strcat(text, "x");
	doc = parse(text);
	free(text);
	assert_one_error(doc, 1, 4, "scalar is 4097 bytes, the limit is 4096");
}

Test(yamltree, raw_nul_byte_is_refused)
{
	static const char text[] = "a: b\nc: d\0e\n";

	assert_one_error(ytree__load_buffer("t.yaml", text, sizeof(text) - 1,
					    &diags),
			 2, 5, "control characters are not allowed (byte 0x00)");
}

Test(yamltree, escaped_nul_in_scalar_is_refused)
{
	assert_one_error(parse("a: b\nc: \"x\\0y\"\n"), 2, 4,
			 "scalar contains a NUL byte");
}

Test(yamltree, invalid_utf8_is_refused_at_its_byte)
{
	assert_one_error(parse("a: b\nc: caf\xff\n"), 2, 7,
			 "invalid leading UTF-8 octet (byte 0xff)");
}

Test(yamltree, column_counts_characters_not_bytes)
{
	assert_one_error(parse("a: \xc3\xa9\xc3\xa9 \xff\n"), 1, 7,
			 "invalid leading UTF-8 octet (byte 0xff)");
}

Test(yamltree, non_scalar_key_is_refused)
{
	assert_one_error(parse("a: 1\n? [x, y]\n: 2\n"), 2, 3,
			 "mapping keys must be scalars");
}

Test(yamltree, core_tags_are_accepted)
{
	struct ydoc *doc = parse("a: !!str true\nb: !!int 3\nc: !!seq [x]\n");

	cr_assert_not_null(doc);
	cr_assert_eq(ytree__get(doc->root, "a")->quoted, 1);
	cr_assert_eq(ytree__get(doc->root, "b")->quoted, 0);
	ytree__free(doc);
}

Test(yamltree, other_tags_are_refused)
{
	assert_one_error(parse("a: b\nc: !custom d\n"), 2, 4,
			 "tag '!custom' is not allowed; only YAML core tags are");
}

Test(yamltree, redefined_core_prefix_is_refused)
{
	assert_one_error(parse("%TAG !! tag:evil.example,2024:\n---\na: !!str b\n"),
			 3, 4,
			 "tag 'tag:evil.example,2024:str' is not allowed; "
			 "only YAML core tags are");
}

Test(yamltree, collection_tag_must_match_its_kind)
{
	assert_one_error(parse("a: !!map [x]\n"), 1, 4,
			 "tag 'tag:yaml.org,2002:map' is not allowed; "
			 "only YAML core tags are");
}

Test(yamltree, buffer_over_the_limit_is_refused)
{
	char *buf = calloc(1, YTREE_MAX_FILE_BYTES + 1);
	struct ydoc *doc;

	doc = ytree__load_buffer("t.yaml", buf, YTREE_MAX_FILE_BYTES + 1,
				 &diags);
	free(buf);
	assert_one_error(doc, 0, 0, "input is 8388609 bytes, the limit is 8388608");
}

Test(yamltree, file_loads_and_keeps_its_name)
{
	char *path = temp_path();
	struct ydoc *doc;

	write_file(path, "k: v\n", 5);
	doc = ytree__load_file(path, &diags);
	unlink(path);
	cr_assert_not_null(doc);
	cr_assert_str_eq(doc->file, path);
	cr_assert_str_eq(ytree__get(doc->root, "k")->value, "v");
	ytree__free(doc);
	free(path);
}

Test(yamltree, symlink_is_followed)
{
	char *path = temp_path();
	char link_path[64];
	struct ydoc *doc;

	snprintf(link_path, sizeof(link_path), "%s.link", path);
	write_file(path, "k: v\n", 5);
	cr_assert_eq(symlink(path, link_path), 0);
	doc = ytree__load_file(link_path, &diags);
	unlink(link_path);
	unlink(path);
	free(path);
	cr_assert_not_null(doc);
	ytree__free(doc);
}

Test(yamltree, huge_sparse_file_is_refused_by_size, .timeout = 2)
{
	char *path = temp_path();
	int fd = open(path, O_WRONLY);
	struct ydoc *doc;
	char expect[128];

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 100 << 20), 0);
	close(fd);
	doc = ytree__load_file(path, &diags);
	unlink(path);
	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1);
	snprintf(expect, sizeof(expect), "file is %d bytes, the limit is %u",
		 100 << 20, YTREE_MAX_FILE_BYTES);
	cr_assert_str_eq(diags.items[0].msg, expect);
	cr_assert_eq(diags.items[0].line, 0);
	free(path);
}

Test(yamltree, file_one_byte_over_the_limit_is_refused)
{
	size_t len = YTREE_MAX_FILE_BYTES + 1;
	char *buf = malloc(len);
	char *path = temp_path();
	struct ydoc *doc;

	for (size_t i = 0; i < len; i++)
		buf[i] = "a: b\n"[i % 5];
	write_file(path, buf, len);
	free(buf);
	doc = ytree__load_file(path, &diags);
	unlink(path);
	free(path);
	cr_assert_null(doc);
	cr_assert_str_eq(diags.items[0].msg,
			 "file is 8388609 bytes, the limit is 8388608");
}

Test(yamltree, missing_file_is_an_error)
{
	struct ydoc *doc = ytree__load_file("/nonexistent/vouch.yaml", &diags);

	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1);
	cr_assert_str_eq(diags.items[0].file, "/nonexistent/vouch.yaml");
	cr_assert_str_eq(diags.items[0].msg,
			 "failed to open: No such file or directory");
}

Test(yamltree, directory_is_refused)
{
	struct ydoc *doc = ytree__load_file("/tmp", &diags);

	cr_assert_null(doc);
	cr_assert_str_eq(diags.items[0].msg, "not a regular file");
}

/* Permission bits do not stop root, so use a path no one can open. */
Test(yamltree, unopenable_path_is_an_error)
{
	char *path = temp_path();
	char below[64];
	struct ydoc *doc;

	snprintf(below, sizeof(below), "%s/rules.yaml", path);
	doc = ytree__load_file(below, &diags);
	unlink(path);
	free(path);
	cr_assert_null(doc);
	cr_assert_eq(diags.errors, 1);
	cr_assert_str_eq(diags.items[0].msg, "failed to open: Not a directory");
}

Test(yamltree, describe_names_each_kind)
{
	struct ydoc *doc = parse("a: x\nb: [1]\nc: {d: 1}\ne:\nf: ''\n");

	cr_assert_not_null(doc);
	cr_assert_str_eq(ytree__describe(ytree__get(doc->root, "a")), "a string");
	cr_assert_str_eq(ytree__describe(ytree__get(doc->root, "b")), "a list");
	cr_assert_str_eq(ytree__describe(ytree__get(doc->root, "c")),
			 "a mapping");
	cr_assert_str_eq(ytree__describe(ytree__get(doc->root, "e")),
			 "an empty value");
	cr_assert_str_eq(ytree__describe(ytree__get(doc->root, "f")), "a string");
	ytree__free(doc);
}

Test(yamltree, check_keys_reports_each_unknown_key)
{
	static const char *const keys[] = { "a", "b", NULL };
	struct ydoc *doc = parse("a: 1\nzz: 2\nb: 3\nyy: 4\n");

	cr_assert_not_null(doc);
	cr_assert_eq(ytree__check_keys(doc, doc->root, keys, "the thing",
				       &diags), 2);
	cr_assert_eq(diags.errors, 2);
	cr_assert_str_eq(diags.items[0].msg,
			 "unknown key 'zz' in the thing; valid keys: a, b");
	cr_assert_eq(diags.items[0].line, 2);
	cr_assert_eq(diags.items[1].line, 4);
	ytree__free(doc);
}

Test(yamltree, utf16_with_a_bom_is_refused)
{
	static const char doc[] = "\xff\xfe" "a\0:\0 \0b\0\n\0";
	struct diags d = { 0 };
	struct ydoc *y = ytree__load_buffer("bom.yaml", doc, sizeof(doc) - 1, &d);

	cr_assert_null(y);
	cr_assert_geq(d.errors, 1);
	diags__free(&d);
}

Test(yamltree, a_utf8_bom_is_skipped)
{
	static const char doc[] = "\xef\xbb\xbf" "a: b\n";
	struct diags d = { 0 };
	struct ydoc *y = ytree__load_buffer("bom8.yaml", doc, sizeof(doc) - 1, &d);

	cr_assert_not_null(y);
	cr_assert_str_eq(ytree__get(y->root, "a")->value, "b");
	ytree__free(y);
	diags__free(&d);
}
