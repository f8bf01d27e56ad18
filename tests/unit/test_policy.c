// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/policy.c. Each test writes a rule file into its own
 * temporary directory, where '@' in the YAML stands for that directory, so
 * rules can name files whose inodes the compiler has to find.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "vouch_abi.h"
#include "policy.h"

/* The flags the rule file sets; HAS_DENY and HAS_INODES are derived. */
#define RULE_FLAGS (VOUCH_SCOPE_HAS_ALLOWLIST | VOUCH_SCOPE_DENY_LOADER | \
		    VOUCH_SCOPE_DENY_ANONYMOUS | VOUCH_SCOPE_CHECK_SCRIPTS)

#define GEN		3
#define NS		1000000000ULL
#define FAR_FUTURE	4102444800LL	/* 2100-01-01T00:00:00Z */

static struct diags diags;
static char dir[64];
static struct policy *pol;

static const char *const created[] = {
	"rules.yaml", "bin", "loader", "link",
};

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void touch(const char *name)
{
	char path[128];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot create %s", path);
	fputs("#!/bin/sh\n", f);
	fclose(f);
}

static void setup(void)
{
	char sub[128];

	memset(&diags, 0, sizeof(diags));
	pol = NULL;
	strcpy(dir, "/tmp/vouch-test-policy-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	tmp_path(sub, sizeof(sub), "sub");
	cr_assert_eq(mkdir(sub, 0755), 0);
	touch("bin");
	touch("loader");
}

static void teardown(void)
{
	char path[128];

	policy__free(pol);
	diags__free(&diags);
	for (size_t i = 0; i < sizeof(created) / sizeof(created[0]); i++) {
		tmp_path(path, sizeof(path), created[i]);
		unlink(path);
	}
	tmp_path(path, sizeof(path), "sub");
	rmdir(path);
	rmdir(dir);
}

TestSuite(policy, .init = setup, .fini = teardown, .timeout = 10);

/* Copies text with every '@' replaced by the test's directory. */
static void write_rules(const char *text, const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	for (const char *c = text; *c; c++) {
		if (*c == '@')
			fputs(dir, f);
		else
			fputc(*c, f);
	}
	fclose(f);
}

static struct policy *compile_idx(const char *text,
				  const struct cgroup_index *idx)
{
	struct vouch_rules *rules;
	char path[128], why[256];

	tmp_path(path, sizeof(path), "rules.yaml");
	write_rules(text, path);
	rules = rules__load(path, time(NULL), &diags);
	cr_assert_not_null(rules, "rules do not load: %s",
			   diags__first_error(&diags, why, sizeof(why)));
	pol = policy__compile(rules, NULL, idx, GEN);
	cr_assert_not_null(pol, "compile failed: %m");
	return pol;
}

static struct policy *compile(const char *text)
{
	return compile_idx(text, NULL);
}

/* The one entry of list for scope_id and path (with '@' expanded). */
static const struct policy_path *find_path(const struct policy *p,
					   enum policy_list list,
					   uint32_t scope_id, const char *path)
{
	const struct policy_path *hit = NULL;
	char want[256];

	if (path[0] == '@')
		snprintf(want, sizeof(want), "%s%s", dir, path + 1);
	else
		snprintf(want, sizeof(want), "%s", path);
	for (size_t i = 0; i < p->n_paths[list]; i++) {
		const struct policy_path *e = &p->paths[list][i];

		if (e->scope_id != scope_id || strcmp(e->path, want) != 0)
			continue;
		cr_assert_null(hit, "'%s' twice in scope %u", want, scope_id);
		hit = e;
	}
	return hit;
}

static const struct policy_path *must_find(const struct policy *p,
					   enum policy_list list,
					   uint32_t scope_id, const char *path)
{
	const struct policy_path *e = find_path(p, list, scope_id, path);

	cr_assert_not_null(e, "'%s' missing from list %d, scope %u", path,
			   list, scope_id);
	return e;
}

static void assert_rule(const struct policy *p, uint32_t id,
			const char *scope, const char *list, const char *path)
{
	const struct policy_rule *r = policy__rule(p, id);

	cr_assert_not_null(r, "rule %u", id);
	if (scope)
		cr_assert_str_eq(r->scope, scope, "rule %u", id);
	else
		cr_assert_null(r->scope, "rule %u names scope %s", id, r->scope);
	cr_assert_str_eq(r->list, list, "rule %u", id);
	cr_assert_str_eq(r->path, path, "rule %u", id);
}

static struct stat stat_of(const char *name)
{
	char path[128];
	struct stat st;

	tmp_path(path, sizeof(path), name);
	cr_assert_eq(stat(path, &st), 0, "stat %s: %m", path);
	return st;
}

static uint32_t expected_dev(dev_t d)
{
	return (uint32_t)(major(d) << 20) | (uint32_t)minor(d);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

Test(policy, host_is_scope_zero_and_flags_follow_yaml)
{
	struct policy *p = compile(
		"version: 1\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: { cgroup: \"/web/*\" }\n"
		"    mode: enforce\n"
		"    exec: { allow: [/usr/bin/] }\n"
		"    deny_direct_loader: false\n"
		"  - name: node\n"
		"    match: { host: true }\n"
		"    check_scripts: false\n"
		"  - name: batch\n"
		"    match: { cgroup: /batch }\n"
		"    mode: off\n"
		"    deny_anonymous: false\n"
		"    exec: { allow: [] }\n");

	cr_assert_eq(p->gen, GEN);
	cr_assert_eq(p->n_scopes, 3);
	cr_assert_str_eq(p->scopes[0].name, "node");
	cr_assert_eq(p->scopes[0].mode, VOUCH_MODE_AUDIT);
	cr_assert_eq(p->scopes[0].flags & RULE_FLAGS,
		     VOUCH_SCOPE_DENY_LOADER | VOUCH_SCOPE_DENY_ANONYMOUS);
	cr_assert_str_eq(p->scopes[1].name, "web");
	cr_assert_eq(p->scopes[1].mode, VOUCH_MODE_ENFORCE);
	cr_assert_eq(p->scopes[1].flags & RULE_FLAGS, VOUCH_SCOPE_HAS_ALLOWLIST |
		     VOUCH_SCOPE_DENY_ANONYMOUS | VOUCH_SCOPE_CHECK_SCRIPTS);
	cr_assert_str_eq(p->scopes[2].name, "batch");
	cr_assert_eq(p->scopes[2].mode, VOUCH_MODE_OFF);
	/* an empty allow-list is still an allow-list: nothing may run */
	cr_assert_eq(p->scopes[2].flags & RULE_FLAGS, VOUCH_SCOPE_HAS_ALLOWLIST |
		     VOUCH_SCOPE_DENY_LOADER | VOUCH_SCOPE_CHECK_SCRIPTS);
}

Test(policy, lookup_flags_say_which_entries_a_scope_has)
{
	struct policy *p = compile(
		"version: 1\n"
		"loaders: []\n"
		"scopes:\n"
		"  - name: plain\n"
		"    match: { cgroup: /plain }\n"
		"  - name: denying\n"
		"    match: { cgroup: /denying }\n"
		"    exec: { deny: [/opt/x/] }\n");

	/* no entries of either kind: the kernel skips both lookups */
	cr_assert_eq(p->scopes[1].flags &
		     (VOUCH_SCOPE_HAS_DENY | VOUCH_SCOPE_HAS_INODES), 0);
	/* a directory deny entry has no inode */
	cr_assert_eq(p->scopes[2].flags &
		     (VOUCH_SCOPE_HAS_DENY | VOUCH_SCOPE_HAS_INODES),
		     VOUCH_SCOPE_HAS_DENY);
}

Test(policy, implicit_host_gets_file_mode_and_every_default_flag)
{
	struct policy *p = compile("version: 1\nmode: enforce\n");

	cr_assert_eq(p->n_scopes, 1);
	cr_assert_str_eq(policy__scope_name(p, VOUCH_SCOPE_HOST), "host");
	cr_assert_eq(p->scopes[0].mode, VOUCH_MODE_ENFORCE);
	cr_assert_eq(p->scopes[0].flags & RULE_FLAGS, VOUCH_SCOPE_DENY_LOADER |
		     VOUCH_SCOPE_DENY_ANONYMOUS | VOUCH_SCOPE_CHECK_SCRIPTS);
	cr_assert_eq(p->n_rules, 0);
}

Test(policy, allow_and_deny_paths_land_in_their_lists)
{
	const struct policy_path *e;
	struct policy *p = compile(
		"version: 1\n"
		"loaders: []\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: { cgroup: /web }\n"
		"    exec:\n"
		"      allow: [/usr/bin/, /opt/app/run]\n"
		"      deny: [/usr/bin/nc]\n"
		"  - name: host\n"
		"    match: { host: true }\n"
		"    exec: { deny: [/opt/bad/] }\n");

	cr_assert_eq(p->n_paths[POLICY_ALLOW], 2);
	cr_assert_eq(p->n_paths[POLICY_DENY], 2);
	cr_assert_eq(p->n_paths[POLICY_EXCEPTION], 0);
	cr_assert_eq(p->n_rules, 4);

	e = must_find(p, POLICY_ALLOW, 1, "/usr/bin/");
	cr_assert_eq(e->expires_boot_ns, 0);
	assert_rule(p, e->rule_id, "web", "exec.allow", "/usr/bin/");
	e = must_find(p, POLICY_ALLOW, 1, "/opt/app/run");
	assert_rule(p, e->rule_id, "web", "exec.allow", "/opt/app/run");
	e = must_find(p, POLICY_DENY, 1, "/usr/bin/nc");
	assert_rule(p, e->rule_id, "web", "exec.deny", "/usr/bin/nc");
	e = must_find(p, POLICY_DENY, 0, "/opt/bad/");
	assert_rule(p, e->rule_id, "host", "exec.deny", "/opt/bad/");
	cr_assert_null(find_path(p, POLICY_ALLOW, 0, "/usr/bin/"));
}

Test(policy, node_wide_deny_reaches_every_scope_with_one_rule_id)
{
	const char *const node[] = { "/opt/node-bad/", "/usr/bin/wget" };
	uint32_t ids[2];
	struct policy *p = compile(
		"version: 1\n"
		"deny: { exec: [/opt/node-bad/, /usr/bin/wget] }\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: { cgroup: /web }\n"
		"  - name: batch\n"
		"    match: { cgroup: /batch }\n"
		"    exec: { deny: [/usr/bin/nc] }\n");

	cr_assert_eq(p->n_scopes, 3);
	cr_assert_eq(p->n_paths[POLICY_DENY], 2 * 3 + 1);
	for (int i = 0; i < 2; i++) {
		ids[i] = must_find(p, POLICY_DENY, 0, node[i])->rule_id;
		for (uint32_t s = 1; s < 3; s++)
			cr_assert_eq(must_find(p, POLICY_DENY, s, node[i])->rule_id,
				     ids[i], "%s in scope %u", node[i], s);
		assert_rule(p, ids[i], NULL, "deny.exec", node[i]);
	}
	cr_assert_neq(ids[0], ids[1]);
	must_find(p, POLICY_DENY, 2, "/usr/bin/nc");
	cr_assert_null(find_path(p, POLICY_DENY, 1, "/usr/bin/nc"));
}

Test(policy, exact_deny_of_a_regular_file_adds_its_inode)
{
	struct stat st = stat_of("bin");
	const struct policy_path *e;
	struct policy *p = compile(
		"version: 1\n"
		"scopes:\n"
		"  - name: host\n"
		"    match: { host: true }\n"
		"    exec: { deny: [@/bin, @/sub/, @/sub, @/missing] }\n");

	cr_assert_eq(p->n_paths[POLICY_DENY], 4);
	cr_assert_eq(p->n_deny_inodes, 1, "a directory or a missing file "
		     "has no inode entry, got %zu entries", p->n_deny_inodes);
	e = must_find(p, POLICY_DENY, 0, "@/bin");
	cr_assert_eq(p->deny_inodes[0].scope_id, 0);
	cr_assert_eq(p->deny_inodes[0].rule_id, e->rule_id);
	cr_assert_eq(p->deny_inodes[0].dev, expected_dev(st.st_dev));
	cr_assert_eq(p->deny_inodes[0].ino, (uint64_t)st.st_ino);
}

Test(policy, node_wide_deny_of_a_file_adds_its_inode_to_every_scope)
{
	struct stat st = stat_of("bin");
	uint32_t rule_id;
	int seen[2] = { 0 };
	struct policy *p = compile(
		"version: 1\n"
		"deny: { exec: [@/bin] }\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: { cgroup: /web }\n");

	rule_id = must_find(p, POLICY_DENY, 0, "@/bin")->rule_id;
	cr_assert_eq(p->n_deny_inodes, 2);
	for (size_t i = 0; i < p->n_deny_inodes; i++) {
		const struct policy_inode *in = &p->deny_inodes[i];

		cr_assert_lt(in->scope_id, 2);
		seen[in->scope_id]++;
		cr_assert_eq(in->rule_id, rule_id);
		cr_assert_eq(in->dev, expected_dev(st.st_dev));
		cr_assert_eq(in->ino, (uint64_t)st.st_ino);
	}
	cr_assert_eq(seen[0], 1);
	cr_assert_eq(seen[1], 1);
}

Test(policy, kernel_dev_is_major_shifted_20_or_minor)
{
	cr_assert_eq(policy__kernel_dev(makedev(0, 0)), 0);
	cr_assert_eq(policy__kernel_dev(makedev(8, 1)), 0x800001);
	cr_assert_eq(policy__kernel_dev(makedev(259, 0xabcde)),
		     (259U << 20) | 0xabcde);
	cr_assert_eq(policy__kernel_dev(makedev(0, 0xfffff)), 0xfffff);
}

Test(policy, exceptions_expand_by_scope_and_expired_ones_drop)
{
	const struct policy_path *all, *e;
	const struct policy_rule *r;
	struct policy *p = compile(
		"version: 1\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: { cgroup: /web }\n"
		"  - name: batch\n"
		"    match: { cgroup: /batch }\n"
		"exceptions:\n"
		"  - { exec: /opt/all/, reason: r1, owner: o1,\n"
		"      expires: 2100-01-01T00:00:00Z }\n"
		"  - { scope: web, exec: /opt/web-only, reason: r2, owner: o2,\n"
		"      expires: 2100-01-01T00:00:00Z }\n"
		"  - { scope: host, exec: /opt/host-only, reason: r3, owner: o3,\n"
		"      expires: 2100-01-01T00:00:00Z }\n"
		"  - { exec: /opt/old, reason: r4, owner: o4,\n"
		"      expires: 2001-01-01T00:00:00Z }\n");

	cr_assert_eq(p->n_paths[POLICY_EXCEPTION], 3 + 1 + 1);
	all = must_find(p, POLICY_EXCEPTION, 0, "/opt/all/");
	for (uint32_t s = 1; s < 3; s++) {
		e = must_find(p, POLICY_EXCEPTION, s, "/opt/all/");
		cr_assert_eq(e->rule_id, all->rule_id);
		cr_assert_eq(e->expires_boot_ns, all->expires_boot_ns);
	}
	assert_rule(p, all->rule_id, NULL, "exception", "/opt/all/");
	r = policy__rule(p, all->rule_id);
	cr_assert_not_null(r->exception);
	cr_assert_str_eq(r->exception->owner, "o1");

	e = must_find(p, POLICY_EXCEPTION, 1, "/opt/web-only");
	assert_rule(p, e->rule_id, "web", "exception", "/opt/web-only");
	e = must_find(p, POLICY_EXCEPTION, 0, "/opt/host-only");
	assert_rule(p, e->rule_id, "host", "exception", "/opt/host-only");

	for (size_t i = 0; i < p->n_rules; i++)
		cr_assert_str_neq(p->rule_table[i].path, "/opt/old",
				  "an expired exception has rule %zu", i);
	cr_assert_null(find_path(p, POLICY_EXCEPTION, 0, "/opt/old"));
}

Test(policy, exception_expiry_is_in_boot_time)
{
	uint64_t boot, want, got, slack = 5 * NS;
	int64_t now;
	struct policy *p = compile(
		"version: 1\n"
		"exceptions:\n"
		"  - { exec: /opt/x, reason: r, owner: o,\n"
		"      expires: 2100-01-01T00:00:00Z }\n");

	now = (int64_t)time(NULL);
	boot = clock_ns(CLOCK_BOOTTIME);
	got = must_find(p, POLICY_EXCEPTION, 0, "/opt/x")->expires_boot_ns;
	want = boot + (uint64_t)(FAR_FUTURE - now) * NS;
	cr_assert_gt(got, boot);
	cr_assert(got + slack > want && got < want + slack,
		  "expires_boot_ns %llu, want about %llu",
		  (unsigned long long)got, (unsigned long long)want);
}

Test(policy, loaders_that_exist_yield_their_inode)
{
	struct stat st = stat_of("loader");
	char target[128], link[128];
	struct policy *p;

	tmp_path(target, sizeof(target), "loader");
	tmp_path(link, sizeof(link), "link");
	cr_assert_eq(symlink(target, link), 0);
	p = compile("version: 1\n"
		    "loaders: [@/loader, @/missing, @/sub, @/link]\n");

	/* the symlink resolves to the file the kernel would run */
	cr_assert_eq(p->n_loaders, 2);
	for (size_t i = 0; i < p->n_loaders; i++) {
		cr_assert_eq(p->loaders[i].dev, expected_dev(st.st_dev));
		cr_assert_eq(p->loaders[i].ino, (uint64_t)st.st_ino);
	}
}

static struct cgroup_entry test_cgroups[] = {
	{ 1, "/" },
	{ 5, "/a" },
	{ 6, "/a/b" },
	{ 7, "/a/b/c" },
	{ 8, "/a/z" },
	{ 9, "/batch" },
	{ 10, "/batch/x" },
};

static const struct cgroup_index test_idx = {
	.mount = "/sys/fs/cgroup/unified",
	.entries = test_cgroups,
	.n = sizeof(test_cgroups) / sizeof(test_cgroups[0]),
};

static const char cgroup_rules[] =
	"version: 1\n"
	"scopes:\n"
	"  - name: star\n"
	"    match: { cgroup: \"/a/*\" }\n"
	"  - name: exact\n"
	"    match: { cgroup: [/a/b, /batch] }\n";

Test(policy, cgroup_patterns_match_by_path_and_first_scope_wins)
{
	struct policy *p = compile_idx(cgroup_rules, &test_idx);

	cr_assert_eq(p->n_cgroups, 3);
	/* /a/b matches both scopes; "star" comes first in the file */
	cr_assert_eq(p->cgroups[0].cgroup_id, 6);
	cr_assert_eq(p->cgroups[0].scope_id, 1);
	cr_assert_eq(p->cgroups[1].cgroup_id, 8);
	cr_assert_eq(p->cgroups[1].scope_id, 1);
	cr_assert_eq(p->cgroups[2].cgroup_id, 9);
	cr_assert_eq(p->cgroups[2].scope_id, 2);
}

Test(policy, scope_for_cgroup_uses_pathname_matching)
{
	struct policy *p = compile(cgroup_rules);

	cr_assert_eq(p->n_cgroups, 0);
	cr_assert_eq(policy__scope_for_cgroup(p, "/a/q"), 1);
	cr_assert_eq(policy__scope_for_cgroup(p, "/a/b"), 1);
	cr_assert_eq(policy__scope_for_cgroup(p, "/a/b/c"), -1);
	cr_assert_eq(policy__scope_for_cgroup(p, "/a"), -1);
	cr_assert_eq(policy__scope_for_cgroup(p, "/batch"), 2);
	cr_assert_eq(policy__scope_for_cgroup(p, "/batch/x"), -1);
	cr_assert_eq(policy__scope_for_cgroup(p, "/"), -1);
}

Test(policy, add_cgroup_appends_and_keeps_earlier_entries)
{
	struct policy *p = compile_idx(cgroup_rules, &test_idx);

	for (uint32_t i = 0; i < 20; i++)
		cr_assert_eq(policy__add_cgroup(p, 100 + i, i % 3), 0);
	cr_assert_eq(p->n_cgroups, 3 + 20);
	cr_assert_eq(p->cgroups[0].cgroup_id, 6);
	cr_assert_eq(p->cgroups[2].cgroup_id, 9);
	for (uint32_t i = 0; i < 20; i++) {
		cr_assert_eq(p->cgroups[3 + i].cgroup_id, 100 + i);
		cr_assert_eq(p->cgroups[3 + i].scope_id, i % 3);
	}
}

Test(policy, rule_and_scope_lookups_check_bounds)
{
	struct policy *p = compile(
		"version: 1\n"
		"deny: { exec: [/usr/bin/nc] }\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: { cgroup: /web }\n");

	cr_assert_str_eq(policy__scope_name(p, 1), "web");
	cr_assert_null(policy__scope_name(p, 2));
	cr_assert_null(policy__scope_name(p, UINT32_MAX));
	cr_assert_null(policy__scope_name(NULL, 0));
	cr_assert_eq(p->n_rules, 1);
	cr_assert_eq(policy__rule(p, 0), &p->rule_table[0]);
	cr_assert_null(policy__rule(p, 1));
	cr_assert_null(policy__rule(p, UINT32_MAX));
	cr_assert_null(policy__rule(NULL, 0));
}

Test(policy, unix_to_boot_ns_marks_the_past_as_expired)
{
	int64_t now = (int64_t)time(NULL);

	/* 1, not 0: 0 would mean "never expires" */
	cr_assert_eq(policy__unix_to_boot_ns(0), 1);
	cr_assert_eq(policy__unix_to_boot_ns(now - 3600), 1);
	cr_assert_eq(policy__unix_to_boot_ns(now), 1);
}

Test(policy, unix_to_boot_ns_saturates_instead_of_overflowing)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t year = policy__unix_to_boot_ns(now + 365 * 86400);
	uint64_t century = policy__unix_to_boot_ns(now + 100LL * 365 * 86400);

	cr_assert_eq(policy__unix_to_boot_ns(INT64_MAX), UINT64_MAX);
	/* the first delta whose nanoseconds no longer fit in 64 bits */
	cr_assert_eq(policy__unix_to_boot_ns(now + (int64_t)(UINT64_MAX / NS)),
		     UINT64_MAX);
	cr_assert_gt(year, clock_ns(CLOCK_BOOTTIME));
	cr_assert_gt(century, year);
	cr_assert_lt(century, UINT64_MAX);
}
