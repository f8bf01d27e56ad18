// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/rules.c. Run from the repository root: fixtures are
 * read from tests/fixtures/rules/.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "vouch_abi.h"
#include "rules.h"

#define FIXTURES	"tests/fixtures/rules/"
#define NOW		1767225600	/* 2026-01-01T00:00:00Z */

struct expect {
	int line;
	int col;
	const char *msg;
};

static struct diags diags;
static char *temp_file;

static void reset(void)
{
	memset(&diags, 0, sizeof(diags));
	temp_file = NULL;
}

static void cleanup(void)
{
	diags__free(&diags);
	if (temp_file)
		unlink(temp_file);
	free(temp_file);
}

TestSuite(rules, .init = reset, .fini = cleanup, .timeout = 10);

static struct vouch_rules *load_fixture(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	return rules__load(path, NOW, &diags);
}

static struct vouch_rules *load_text(const char *text)
{
	int fd;

	temp_file = strdup("/tmp/vouch-test-rules-XXXXXX");
	fd = mkstemp(temp_file);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return rules__load(temp_file, NOW, &diags);
}

/* Exactly these errors, in this order, and no warnings. */
static void assert_errors(const struct expect *want, size_t n)
{
	for (size_t i = 0; i < diags.n && i < n; i++) {
		const struct diag *got = &diags.items[i];

		cr_assert_eq(got->severity, DIAG_ERROR, "item %zu: %s", i,
			     got->msg);
		cr_assert_str_eq(got->msg, want[i].msg, "item %zu", i);
		cr_assert_eq(got->line, want[i].line, "item %zu (%s): line %d",
			     i, got->msg, got->line);
		cr_assert_eq(got->col, want[i].col, "item %zu (%s): col %d",
			     i, got->msg, got->col);
	}
	cr_assert_eq(diags.n, n, "got %zu diagnostics, want %zu", diags.n, n);
	cr_assert_eq(diags.errors, n);
}

#define ASSERT_ERRORS(...)						\
	do {								\
		static const struct expect want_[] = { __VA_ARGS__ };	\
		assert_errors(want_, sizeof(want_) / sizeof(want_[0]));	\
	} while (0)

static void assert_list(const struct rules_list *list, const char *const *want,
			size_t n)
{
	cr_assert_eq(list->n, n, "list has %zu items, want %zu", list->n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(list->items[i], want[i]);
}

#define ASSERT_LIST(list, ...)						\
	do {								\
		static const char *const want_[] = { __VA_ARGS__ };	\
		assert_list(list, want_, sizeof(want_) / sizeof(want_[0])); \
	} while (0)

Test(rules, full_file_loads_every_field)
{
	struct vouch_rules *r = load_fixture("good_full.yaml");
	const struct rules_scope *s;

	cr_assert_not_null(r);
	cr_assert_eq(diags.n, 0);
	cr_assert_str_eq(r->source, FIXTURES "good_full.yaml");
	cr_assert_eq(r->mode, VOUCH_MODE_ENFORCE);
	ASSERT_LIST(&r->loaders, "/lib64/ld-linux-x86-64.so.2");
	ASSERT_LIST(&r->deny, "/tmp/", "/usr/bin/nc");
	cr_assert_eq(r->n_scopes, 3);

	s = &r->scopes[0];
	cr_assert_str_eq(s->name, "node");
	cr_assert_eq(s->host, 1);
	cr_assert_eq(s->cgroups.n, 0);
	cr_assert_eq(s->mode, VOUCH_MODE_ENFORCE);
	cr_assert_eq(s->has_allowlist, 0);
	ASSERT_LIST(&s->deny, "/opt/unsafe/");
	cr_assert_eq(s->deny_direct_loader + s->deny_anonymous +
		     s->check_scripts, 3);

	s = &r->scopes[1];
	cr_assert_str_eq(s->name, "payments");
	cr_assert_eq(s->host, 0);
	ASSERT_LIST(&s->cgroups, "/system.slice/payments*.service",
		    "/kubepods.slice/pay*");
	cr_assert_eq(s->mode, VOUCH_MODE_AUDIT);
	cr_assert_eq(s->has_allowlist, 1);
	ASSERT_LIST(&s->allow, "/usr/lib/payments/", "/usr/bin/python3");
	ASSERT_LIST(&s->deny, "/usr/lib/payments/debug/");
	cr_assert_eq(s->deny_direct_loader, 0);
	cr_assert_eq(s->deny_anonymous, 1);
	cr_assert_eq(s->check_scripts, 0);

	s = &r->scopes[2];
	cr_assert_str_eq(s->name, "batch.jobs-1");
	ASSERT_LIST(&s->cgroups, "/system.slice/batch.service");
	cr_assert_eq(s->has_allowlist, 1);
	cr_assert_eq(s->allow.n, 0);
	cr_assert_eq(s->mode, VOUCH_MODE_ENFORCE);
	rules__free(r);
}

Test(rules, full_file_exceptions)
{
	struct vouch_rules *r = load_fixture("good_full.yaml");
	const struct rules_exception *e;

	cr_assert_not_null(r);
	cr_assert_eq(r->n_exceptions, 3);
	e = &r->exceptions[0];
	cr_assert_str_eq(e->scope, "payments");
	cr_assert_str_eq(e->path, "/usr/bin/curl");
	cr_assert_str_eq(e->reason, "health probe until the sidecar ships");
	cr_assert_str_eq(e->owner, "alice@example.com");
	cr_assert_eq(e->expires, 4073500800LL);
	e = &r->exceptions[1];
	cr_assert_null(e->scope);
	cr_assert_str_eq(e->path, "/tmp/build/");
	cr_assert_eq(e->expires, 4070908799LL);
	/* "host" means the host scope, whatever the file named it. */
	e = &r->exceptions[2];
	cr_assert_str_eq(e->scope, "node");
	cr_assert_eq(e->expires, 4022137800LL);
	rules__free(r);
}

Test(rules, scope_index_finds_by_name)
{
	struct vouch_rules *r = load_fixture("good_full.yaml");

	cr_assert_not_null(r);
	cr_assert_eq(rules__scope_index(r, "node"), 0);
	cr_assert_eq(rules__scope_index(r, "host"), 0);
	cr_assert_eq(rules__scope_index(r, "payments"), 1);
	cr_assert_eq(rules__scope_index(r, "batch.jobs-1"), 2);
	cr_assert_eq(rules__scope_index(r, "pay"), -1);
	cr_assert_eq(rules__scope_index(NULL, "host"), -1);
	rules__free(r);
}

Test(rules, minimal_file_gets_every_default)
{
	struct vouch_rules *r = load_fixture("good_minimal.yaml");
	const struct rules_scope *host;

	cr_assert_not_null(r);
	cr_assert_eq(diags.n, 0);
	cr_assert_eq(r->mode, VOUCH_MODE_AUDIT);
	ASSERT_LIST(&r->loaders, "/lib64/ld-linux-x86-64.so.2",
		    "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux.so.2",
		    "/lib/ld-musl-x86_64.so.1");
	cr_assert_eq(r->deny.n, 0);
	cr_assert_eq(r->n_scopes, 1);
	cr_assert_eq(r->n_exceptions, 0);
	host = &r->scopes[0];
	cr_assert_str_eq(host->name, "host");
	cr_assert_eq(host->host, 1);
	cr_assert_eq(host->mode, VOUCH_MODE_AUDIT);
	cr_assert_eq(host->has_allowlist, 0);
	cr_assert_eq(host->deny_direct_loader, 1);
	cr_assert_eq(host->deny_anonymous, 1);
	cr_assert_eq(host->check_scripts, 1);
	cr_assert_eq(rules__scope_index(r, "host"), 0);
	rules__free(r);
}

Test(rules, implicit_host_takes_top_level_mode)
{
	struct vouch_rules *r = load_text("version: 1\nmode: \"off\"\n"
					  "scopes:\n  - name: a\n"
					  "    match: {cgroup: /a}\n");

	cr_assert_not_null(r);
	cr_assert_eq(r->n_scopes, 2);
	cr_assert_str_eq(r->scopes[0].name, "host");
	cr_assert_eq(r->scopes[0].mode, VOUCH_MODE_OFF);
	cr_assert_str_eq(r->scopes[1].name, "a");
	cr_assert_eq(r->scopes[1].mode, VOUCH_MODE_OFF);
	rules__free(r);
}

Test(rules, shipped_example_loads_cleanly)
{
	struct vouch_rules *r = rules__load("rules/example.yaml", NOW, &diags);
	const struct rules_scope *host;

	cr_assert_not_null(r);
	cr_assert_eq(diags.n, 0, "first: %s", diags.n ? diags.items[0].msg : "");
	cr_assert_eq(r->n_scopes, 1);
	host = &r->scopes[0];
	cr_assert_eq(host->mode, VOUCH_MODE_ENFORCE);
	cr_assert_eq(host->has_allowlist, 0);
	cr_assert_eq(host->deny_direct_loader, 1);
	cr_assert_eq(host->deny_anonymous, 1);
	cr_assert_eq(host->check_scripts, 1);
	ASSERT_LIST(&r->deny, "/tmp/", "/var/tmp/", "/dev/shm/");
	cr_assert_eq(r->n_exceptions, 1);
	cr_assert_str_eq(r->exceptions[0].path, "/tmp/vouch-demo-allowed");
	cr_assert_eq(r->exceptions[0].expires, 1893456000LL);
	rules__free(r);
}

Test(rules, expired_exception_is_a_warning_and_kept)
{
	struct vouch_rules *r = load_fixture("expired_exception.yaml");

	cr_assert_not_null(r);
	cr_assert_eq(diags.errors, 0);
	cr_assert_eq(diags.n, 1);
	cr_assert_eq(diags.items[0].severity, DIAG_WARNING);
	cr_assert_eq(diags.items[0].line, 7);
	cr_assert_eq(diags.items[0].col, 14);
	cr_assert_str_eq(diags.items[0].msg,
			 "exception expired at 2020-01-01T00:00:00Z; "
			 "vouchd ignores it");
	cr_assert_eq(r->n_exceptions, 1);
	cr_assert_eq(r->exceptions[0].expires, 1577836800LL);
	rules__free(r);
}

Test(rules, exception_not_yet_expired_gives_no_warning)
{
	struct vouch_rules *r;

	r = rules__load(FIXTURES "expired_exception.yaml", 1577836799LL,
			&diags);
	cr_assert_not_null(r);
	cr_assert_eq(diags.n, 0);
	rules__free(r);
}

Test(rules, syntax_error)
{
	cr_assert_null(load_fixture("bad_syntax.yaml"));
	ASSERT_ERRORS({ 6, 9, "did not find expected ',' or '}' "
			      "(while parsing a flow mapping at line 5)" });
}

Test(rules, wrong_types_are_all_reported)
{
	cr_assert_null(load_fixture("bad_types.yaml"));
	ASSERT_ERRORS(
		{ 3, 7, "expected a mode (enforce, audit or off), got a list" },
		{ 4, 10, "expected a list of paths, got a string" },
		{ 7, 5, "expected a list of paths, got a mapping" },
		{ 11, 15, "expected a list of cgroup patterns, got a mapping" },
		{ 14, 9, "expected a list of paths, got a mapping" },
		{ 15, 21, "expected true or false, got a quoted string" },
		{ 16, 20, "expected true or false, got 'yes'" },
		{ 17, 13, "expected a list of exceptions, got a string" });
}

Test(rules, unknown_keys_name_the_valid_ones)
{
	cr_assert_null(load_fixture("bad_unknown_keys.yaml"));
	ASSERT_ERRORS(
		{ 3, 1, "unknown key 'node' in the rule file; valid keys: "
			"version, mode, loaders, deny, scopes, exceptions, "
			"containers, images, attestation" },
		{ 8, 7, "unknown key 'label' in match; valid keys: "
			"host, cgroup, namespace, service, image_digest, "
			"container_name, pod_labels" },
		{ 11, 7, "unknown key 'permit' in exec; valid keys: "
			 "allow, deny" },
		{ 12, 5, "unknown key 'colour' in a scope; valid keys: name, "
			 "match, mode, exec, deny_direct_loader, "
			 "deny_anonymous, check_scripts, egress" });
}

Test(rules, duplicate_key_points_at_the_second)
{
	cr_assert_null(load_fixture("bad_duplicate_key.yaml"));
	ASSERT_ERRORS({ 5, 1, "duplicate key 'mode' (first at line 3)" });
}

Test(rules, alias_bomb_is_refused_at_the_first_anchor, .timeout = 2)
{
	cr_assert_null(load_fixture("bad_alias_bomb.yaml"));
	ASSERT_ERRORS({ 2, 4, "aliases and anchors are not allowed" });
}

Test(rules, invalid_utf8_is_refused)
{
	cr_assert_null(load_fixture("bad_invalid_utf8.yaml"));
	ASSERT_ERRORS({ 5, 19, "invalid leading UTF-8 octet (byte 0xff)" });
}

Test(rules, nul_byte_is_refused)
{
	cr_assert_null(load_fixture("bad_nul.yaml"));
	ASSERT_ERRORS({ 5, 17, "control characters are not allowed (byte 0x00)" });
}

Test(rules, deep_nesting_is_refused)
{
	cr_assert_null(load_fixture("bad_deep.yaml"));
	ASSERT_ERRORS({ 35, 65, "nesting deeper than 32 levels" });
}

Test(rules, bad_paths_are_all_reported)
{
	cr_assert_null(load_fixture("bad_paths.yaml"));
	ASSERT_ERRORS(
		{ 5, 7, "path 'usr/bin/nc' is not absolute" },
		{ 6, 7, "path '/usr/../bin/sh' has a '.' or '..' component" },
		{ 7, 7, "path '/usr/bin/./sh' has a '.' or '..' component" },
		{ 8, 7, "path '/usr//bin/sh' contains '//'" },
		{ 10, 7, "duplicate entry '/opt/' (first at line 9)" },
		{ 11, 7, "path is 248 bytes, the limit is 247" },
		{ 15, 16, "cgroup pattern 'system.slice' must start with '/'" },
		{ 17, 26, "'/usr/sbin/ss' conflicts with deny at line 18" },
		{ 20, 5, "'/lib64/' is a directory; a file is expected here" });
}

Test(rules, longest_matchable_path_is_accepted)
{
	char text[512], path[VOUCH_PATH_MATCH_MAX + 1];
	struct vouch_rules *r;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(text, sizeof(text), "version: 1\ndeny:\n  exec: [%s]\n", path);
	r = load_text(text);
	cr_assert_not_null(r);
	cr_assert_eq(strlen(r->deny.items[0]), VOUCH_PATH_MATCH_MAX);
	rules__free(r);
}

Test(rules, control_characters_in_paths_are_refused)
{
	cr_assert_null(load_text("version: 1\ndeny:\n"
				 "  exec: [\"/usr/bin/a\\tb\", \"/x\\u0085\"]\n"));
	ASSERT_ERRORS(
		{ 3, 10, "path contains a control character or bad UTF-8" },
		{ 3, 27, "path contains a control character or bad UTF-8" });
}

Test(rules, utf8_paths_are_accepted)
{
	struct vouch_rules *r;

	r = load_text("version: 1\ndeny:\n  exec: [/opt/caf\xc3\xa9/]\n");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->deny.items[0], "/opt/caf\xc3\xa9/");
	rules__free(r);
}

Test(rules, exception_errors_are_all_reported)
{
	cr_assert_null(load_fixture("bad_exceptions.yaml"));
	ASSERT_ERRORS(
		{ 7, 5, "missing required key 'owner' in an exception" },
		{ 11, 12, "exception names scope 'api', which is not declared" },
		{ 17, 13, "'reason' must not be empty" },
		{ 19, 14, "'2099-02-30T00:00:00Z' is not a valid date and time" },
		{ 23, 14, "expected a UTC time such as 2027-01-31T00:00:00Z, "
			  "got '2099-01-01 00:00:00'" });
}

Test(rules, exception_times_are_checked_strictly)
{
	cr_assert_null(load_text(
		"version: 1\nexceptions:\n"
		"  - {exec: /a, reason: r, owner: o, expires: 2099-13-01T00:00:00Z}\n"
		"  - {exec: /b, reason: r, owner: o, expires: 2099-01-01T24:00:00Z}\n"
		"  - {exec: /c, reason: r, owner: o, expires: 2099-01-01T00:00:60Z}\n"
		"  - {exec: /d, reason: r, owner: o, expires: 2099-01-01T00:00:00+00:00}\n"
		"  - {exec: /e, reason: r, owner: o, expires: 2100-02-29T00:00:00Z}\n"
		"  - {exec: /f, reason: r, owner: o, expires: 2096-02-29T00:00:00Z}\n"));
	ASSERT_ERRORS(
		{ 3, 46, "'2099-13-01T00:00:00Z' is not a valid date and time" },
		{ 4, 46, "'2099-01-01T24:00:00Z' is not a valid date and time" },
		{ 5, 46, "'2099-01-01T00:00:60Z' is not a valid date and time" },
		{ 6, 46, "expected a UTC time such as 2027-01-31T00:00:00Z, "
			 "got '2099-01-01T00:00:00+00:00'" },
		{ 7, 46, "'2100-02-29T00:00:00Z' is not a valid date and time" });
}

Test(rules, exception_for_every_scope_and_for_host)
{
	struct vouch_rules *r = load_text(
		"version: 1\nexceptions:\n"
		"  - {exec: /a, reason: r, owner: o, expires: 2099-01-01T00:00:00Z}\n"
		"  - {scope: host, exec: /b/, reason: r, owner: o,"
		" expires: '2099-01-01T00:00:00Z'}\n");

	cr_assert_not_null(r);
	cr_assert_null(r->exceptions[0].scope);
	cr_assert_str_eq(r->exceptions[1].scope, "host");
	cr_assert_str_eq(r->exceptions[1].path, "/b/");
	rules__free(r);
}

Test(rules, exception_needs_every_field)
{
	cr_assert_null(load_text("version: 1\nexceptions:\n  - scope: host\n"
				 "  - 42\n"));
	ASSERT_ERRORS(
		{ 3, 5, "missing required key 'exec' or 'egress' in an exception" },
		{ 3, 5, "missing required key 'reason' in an exception" },
		{ 3, 5, "missing required key 'owner' in an exception" },
		{ 3, 5, "missing required key 'expires' in an exception" },
		{ 4, 5, "expected an exception (a mapping), got a string" });
}

Test(rules, two_host_scopes_are_refused)
{
	cr_assert_null(load_fixture("bad_two_hosts.yaml"));
	ASSERT_ERRORS({ 8, 7, "a second host scope; the first is declared "
			      "at line 4" });
}

Test(rules, scope_errors_are_all_reported)
{
	cr_assert_null(load_fixture("bad_scopes.yaml"));
	ASSERT_ERRORS(
		{ 7, 11, "unknown mode 'block'; expected enforce, audit or off" },
		{ 8, 11, "duplicate scope name 'web' (first at line 5)" },
		{ 9, 22, "cgroup pattern '/web*' is already used by scope "
			 "'web' (line 6)" },
		{ 10, 11, "the name 'host' is reserved for the host scope" },
		{ 12, 11, "invalid scope name 'bad name': use 1 to 63 of "
			  "A-Z a-z 0-9 _ . -" },
		{ 13, 19, "'host' can only be true; match other workloads "
			  "by 'cgroup'" },
		{ 15, 12, "'match' takes one of 'host: true', 'cgroup' or "
			  "workload keys" },
		{ 17, 12, "'match' needs 'host: true', 'cgroup' or workload "
			  "keys (namespace, service, image_digest, "
			  "container_name, pod_labels)" },
		{ 18, 5, "missing required key 'name' in a scope" });
}

Test(rules, duplicate_cgroup_pattern_in_one_scope)
{
	cr_assert_null(load_text("version: 1\nscopes:\n  - name: a\n"
				 "    match: {cgroup: [/a, /b, /a]}\n"));
	ASSERT_ERRORS({ 4, 30, "duplicate cgroup pattern '/a' (first at line 4)" });
}

Test(rules, empty_cgroup_list_is_refused)
{
	cr_assert_null(load_text("version: 1\nscopes:\n  - name: a\n"
				 "    match: {cgroup: []}\n"));
	ASSERT_ERRORS({ 4, 21, "'cgroup' needs at least one pattern" });
}

Test(rules, empty_file_is_refused)
{
	cr_assert_null(load_text(""));
	ASSERT_ERRORS({ 0, 0, "the file is empty; a rule file starts with "
			      "'version: 1'" });
}

Test(rules, comment_only_file_is_refused)
{
	cr_assert_null(load_fixture("empty.yaml"));
	ASSERT_ERRORS({ 0, 0, "the file is empty; a rule file starts with "
			      "'version: 1'" });
}

Test(rules, list_document_is_refused)
{
	cr_assert_null(load_fixture("bad_list_root.yaml"));
	ASSERT_ERRORS({ 2, 1, "expected a mapping at the top level, got a list" });
}

Test(rules, second_document_is_refused)
{
	cr_assert_null(load_fixture("bad_multi_doc.yaml"));
	ASSERT_ERRORS({ 3, 1, "more than one document; a file holds exactly one" });
}

Test(rules, version_is_required)
{
	cr_assert_null(load_fixture("bad_version.yaml"));
	ASSERT_ERRORS({ 2, 1, "missing required key 'version' (use version: 1)" });
}

Test(rules, version_must_be_the_number_one)
{
	cr_assert_null(load_text("version: '1'\n"));
	ASSERT_ERRORS({ 1, 10, "expected the number 1, got a quoted string" });
	diags__free(&diags);
	unlink(temp_file);
	free(temp_file);
	cr_assert_null(load_text("version: 2\n"));
	ASSERT_ERRORS({ 1, 10, "unsupported version '2'; this vouch reads "
			       "version 1" });
}

Test(rules, modes_accept_quotes_and_map_to_the_abi)
{
	struct vouch_rules *r = load_text(
		"version: 1\nmode: 'enforce'\nscopes:\n"
		"  - {name: a, match: {cgroup: /a}, mode: audit}\n"
		"  - {name: b, match: {cgroup: /b}, mode: \"off\"}\n"
		"  - {name: c, match: {cgroup: /c}}\n");

	cr_assert_not_null(r);
	cr_assert_eq(r->mode, VOUCH_MODE_ENFORCE);
	cr_assert_eq(r->scopes[1].mode, VOUCH_MODE_AUDIT);
	cr_assert_eq(r->scopes[2].mode, VOUCH_MODE_OFF);
	cr_assert_eq(r->scopes[3].mode, VOUCH_MODE_ENFORCE);
	rules__free(r);
}

Test(rules, empty_value_is_not_a_list)
{
	cr_assert_null(load_text("version: 1\nscopes:\n  - name: a\n"
				 "    match: {cgroup: /a}\n    exec:\n"
				 "      allow:\n"));
	ASSERT_ERRORS({ 6, 13, "expected a list of paths, got an empty value" });
}

Test(rules, too_many_scopes_are_refused)
{
	size_t cap = 1001 * 48, len = 0;
	char *text = malloc(cap);
	struct vouch_rules *r;

	len += (size_t)snprintf(text, cap, "version: 1\nscopes:\n");
	for (int i = 0; i < 1001; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"- {name: s%d, match: {cgroup: /s%d}}\n",
					i, i);
	r = load_text(text);
	free(text);
	cr_assert_null(r);
	ASSERT_ERRORS({ 1003, 3, "more than 1000 scopes" });
}

Test(rules, too_many_paths_are_refused)
{
	size_t n = 120001, cap = n * 16 + 64, len = 0;
	char *text = malloc(cap);
	struct vouch_rules *r;

	len += (size_t)snprintf(text, cap, "version: 1\ndeny:\n  exec:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "  - /p/%zu\n", i);
	r = load_text(text);
	free(text);
	cr_assert_null(r);
	ASSERT_ERRORS({ 120004, 5, "more than 120000 paths in the file" });
}

Test(rules, huge_file_is_refused_by_size, .timeout = 2)
{
	int fd;

	temp_file = strdup("/tmp/vouch-test-rules-XXXXXX");
	fd = mkstemp(temp_file);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 100 << 20), 0);
	close(fd);
	cr_assert_null(rules__load(temp_file, NOW, &diags));
	ASSERT_ERRORS({ 0, 0, "file is 104857600 bytes, the limit is 8388608" });
}

Test(rules, errors_keep_earlier_diagnostics)
{
	diags__add(&diags, DIAG_WARNING, "other.yaml", 1, 1, "kept");
	cr_assert_null(load_fixture("bad_duplicate_key.yaml"));
	cr_assert_eq(diags.n, 2);
	cr_assert_str_eq(diags.items[0].msg, "kept");
	cr_assert_eq(diags.errors, 1);
}

Test(rules, free_accepts_null)
{
	rules__free(NULL);
}

Test(rules, egress_sections_load)
{
	struct vouch_rules *r = load_text(
		"version: 1\n"
		"deny:\n"
		"  egress: [{cidr: 169.254.169.254, ports: 80}]\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: {cgroup: /web}\n"
		"    egress:\n"
		"      allow: [{cidr: 10.0.0.0/8, ports: [443, 8443], protocol: tcp}]\n"
		"      deny: [{cidr: \"::/0\"}]\n"
		"exceptions:\n"
		"  - scope: web\n"
		"    egress: {cidr: 192.0.2.1, ports: 22}\n"
		"    reason: r\n"
		"    owner: o\n"
		"    expires: 2099-01-01T00:00:00Z\n");

	cr_assert_not_null(r);
	cr_assert_eq(r->deny_egress.n_deny, 1);
	cr_assert(r->scopes[1].egress.has_allowlist);
	cr_assert_eq(r->scopes[1].egress.n_allow, 2);
	cr_assert_eq(r->scopes[1].egress.n_deny, 1);
	cr_assert_eq(r->scopes[0].egress.has_allowlist, 0);
	cr_assert_null(r->exceptions[0].path);
	cr_assert_eq(r->exceptions[0].n_egress, 1);
	cr_assert_eq(r->exceptions[0].egress[0].port_lo, 22);
	rules__free(r);
}

Test(rules, egress_errors_have_places)
{
	cr_assert_null(load_text(
		"version: 1\n"
		"deny:\n"
		"  egress: {cidr: 10.0.0.0/8}\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: {cgroup: /web}\n"
		"    egress:\n"
		"      allow: [{cidr: 10.0.0.0/88}]\n"
		"      permit: []\n"
		"exceptions:\n"
		"  - exec: /usr/bin/x\n"
		"    egress: {cidr: 10.0.0.1}\n"
		"    reason: r\n"
		"    owner: o\n"
		"    expires: 2099-01-01T00:00:00Z\n"));
	ASSERT_ERRORS(
		{ 3, 11, "expected a list of egress entries, got a mapping" },
		{ 8, 22, "'10.0.0.0/88': the prefix length must be 0 to 32" },
		{ 9, 7, "unknown key 'permit' in egress; valid keys: allow, deny" },
		{ 12, 13, "an exception covers 'exec' or 'egress', not both" });
}
