// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/rules_workloads.c and its part of agent/rules.c:
 * the containers: and images: sections and the workload keys of a scope's
 * match, with every error's exact message and file:line:col.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "vouch_abi.h"
#include "rules.h"

#define NOW		1767225600	/* 2026-01-01T00:00:00Z */
#define DIGEST_A	"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define A64		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define UPPER64		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define BAD_DIGEST_MSG	" is not a digest: expected sha256: and 64 " \
			"lower-case hex digits"

struct expect {
	int line;
	int col;
	const char *msg;
};

static struct diags diags;
static char *temp_file;
static struct vouch_rules *loaded;

static void reset(void)
{
	memset(&diags, 0, sizeof(diags));
	temp_file = NULL;
	loaded = NULL;
}

static void cleanup(void)
{
	rules__free(loaded);
	diags__free(&diags);
	if (temp_file)
		unlink(temp_file);
	free(temp_file);
}

TestSuite(rules_workloads, .init = reset, .fini = cleanup, .timeout = 30);

static struct vouch_rules *load_text(const char *text)
{
	size_t len = strlen(text);
	int fd;

	temp_file = strdup("/tmp/vouch-test-rules-wl-XXXXXX");
	fd = mkstemp(temp_file);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	loaded = rules__load(temp_file, NOW, &diags);
	return loaded;
}

static struct vouch_rules *load_ok(const char *text)
{
	char why[512];

	load_text(text);
	cr_assert_not_null(loaded, "refused: %s",
			   diags__first_error(&diags, why, sizeof(why)));
	cr_assert_eq(diags.n, 0);
	return loaded;
}

/* Exactly these errors, in this order, and no warnings. */
static void assert_errors(const struct expect *want, size_t n)
{
	int same = diags.n == n;

	cr_assert_null(loaded, "the file was accepted");
	for (size_t i = 0; same && i < n; i++)
		same = !strcmp(diags.items[i].msg, want[i].msg) &&
		       diags.items[i].line == want[i].line &&
		       diags.items[i].col == want[i].col;
	/* the whole list, to see at once what differs */
	for (size_t i = 0; !same && i < diags.n; i++)
		fprintf(stderr, "  got %d:%d: %s\n", diags.items[i].line,
			diags.items[i].col, diags.items[i].msg);
	for (size_t i = 0; i < diags.n && i < n; i++) {
		const struct diag *got = &diags.items[i];

		cr_assert_eq(got->severity, DIAG_ERROR, "item %zu: %s", i,
			     got->msg);
		cr_assert_str_eq(got->msg, want[i].msg, "item %zu", i);
		cr_assert_str_eq(got->file, temp_file, "item %zu", i);
		cr_assert_eq(got->line, want[i].line, "item %zu (%s): line %d",
			     i, got->msg, got->line);
		cr_assert_eq(got->col, want[i].col, "item %zu (%s): col %d",
			     i, got->msg, got->col);
	}
	cr_assert_eq(diags.n, n, "got %zu diagnostics, want %zu%s%s", diags.n,
		     n, diags.n ? "; first: " : "",
		     diags.n ? diags.items[0].msg : "");
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

/* ---- containers: ---- */

Test(rules_workloads, containers_section_every_field)
{
	struct vouch_rules *r = load_ok(
		"version: 1\n"
		"mode: audit\n"
		"containers:\n"
		"  mode: enforce\n"
		"  cgroup_roots: [/kubepods.slice, \"/vouch-*\"]\n"
		"  hold_timeout_ms: 500\n"
		"  fail_action: release\n"
		"  deny_direct_loader: false\n"
		"  deny_anonymous: false\n"
		"  check_scripts: false\n");
	const struct rules_containers *c = &r->containers;

	cr_assert_eq(c->declared, 1);
	cr_assert_eq(c->mode, VOUCH_MODE_ENFORCE);
	ASSERT_LIST(&c->roots, "/kubepods.slice", "/vouch-*");
	cr_assert_eq(c->hold_timeout_ms, 500);
	cr_assert_eq(c->fail_action, RULES_FAIL_RELEASE);
	cr_assert_eq(c->deny_direct_loader, 0);
	cr_assert_eq(c->deny_anonymous, 0);
	cr_assert_eq(c->check_scripts, 0);
	cr_assert_eq(r->mode, VOUCH_MODE_AUDIT);
	cr_assert_null(r->images);
}

Test(rules_workloads, empty_containers_section_takes_the_defaults)
{
	struct vouch_rules *r = load_ok("version: 1\nmode: enforce\n"
					"containers: {}\n");
	const struct rules_containers *c = &r->containers;

	cr_assert_eq(c->declared, 1);
	/* the file's mode, as for scopes */
	cr_assert_eq(c->mode, VOUCH_MODE_ENFORCE);
	ASSERT_LIST(&c->roots, "/kubepods", "/kubepods.slice", "/docker",
		    "/machine.slice");
	cr_assert_eq(c->hold_timeout_ms, 2000);
	cr_assert_eq(c->fail_action, RULES_FAIL_KILL);
	cr_assert_eq(c->deny_direct_loader, 1);
	cr_assert_eq(c->deny_anonymous, 1);
	cr_assert_eq(c->check_scripts, 1);
}

Test(rules_workloads, containers_mode_follows_the_file_mode_wherever_written)
{
	struct vouch_rules *r = load_ok("version: 1\ncontainers: {}\n"
					"mode: off\n");

	cr_assert_eq(r->containers.mode, VOUCH_MODE_OFF);
}

Test(rules_workloads, no_containers_section_declares_nothing)
{
	struct vouch_rules *r = load_ok("version: 1\n");

	cr_assert_eq(r->containers.declared, 0);
	cr_assert_eq(r->containers.roots.n, 0);
	cr_assert_null(r->images);
}

Test(rules_workloads, one_root_as_a_string)
{
	struct vouch_rules *r = load_ok("version: 1\ncontainers:\n"
					"  cgroup_roots: /runc-root\n");

	ASSERT_LIST(&r->containers.roots, "/runc-root");
}

Test(rules_workloads, hold_timeout_range)
{
	static const char *const good[] = { "1", "60000", "2000", "\"750\"" };
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "0", "'hold_timeout_ms' must be 1 to 60000, got '0'" },
		{ "60001", "'hold_timeout_ms' must be 1 to 60000, got '60001'" },
		{ "-5", "'hold_timeout_ms' must be 1 to 60000, got '-5'" },
		{ "1.5", "'hold_timeout_ms' must be 1 to 60000, got '1.5'" },
		{ "2s", "'hold_timeout_ms' must be 1 to 60000, got '2s'" },
		{ "0x10", "'hold_timeout_ms' must be 1 to 60000, got '0x10'" },
		{ "\"\"", "'hold_timeout_ms' must be 1 to 60000, got ''" },
		{ "99999999999999999999999",
		  "'hold_timeout_ms' must be 1 to 60000, got "
		  "'99999999999999999999999'" },
		{ "[1]", "expected a number of milliseconds, got a list" },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "version: 1\ncontainers:\n"
			 "  hold_timeout_ms: %s\n", good[i]);
		cleanup();
		reset();
		load_ok(text);
	}
	cr_assert_eq(loaded->containers.hold_timeout_ms, 750);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct expect want = { 3, 20, bad[i].msg };

		snprintf(text, sizeof(text), "version: 1\ncontainers:\n"
			 "  hold_timeout_ms: %s\n", bad[i].text);
		cleanup();
		reset();
		load_text(text);
		assert_errors(&want, 1);
	}
}

Test(rules_workloads, fail_action_is_kill_or_release)
{
	load_text("version: 1\ncontainers:\n  fail_action: KILL\n"
		  "  mode: block\n  deny_anonymous: yes\n");
	ASSERT_ERRORS(
		{ 3, 16, "unknown fail_action 'KILL'; expected kill or release" },
		{ 4, 9, "unknown mode 'block'; expected enforce, audit or off" },
		{ 5, 19, "expected true or false, got 'yes'" });
}

Test(rules_workloads, fail_action_shape)
{
	load_text("version: 1\ncontainers:\n  fail_action: [kill]\n");
	ASSERT_ERRORS({ 3, 16, "expected kill or release, got a list" });
}

Test(rules_workloads, containers_must_be_a_mapping)
{
	load_text("version: 1\ncontainers: enforce\n");
	ASSERT_ERRORS({ 2, 13, "expected a mapping for 'containers', got a "
			       "string" });
	cleanup();
	reset();
	load_text("version: 1\ncontainers: [/kubepods]\n");
	ASSERT_ERRORS({ 2, 13, "expected a mapping for 'containers', got a "
			       "list" });
}

Test(rules_workloads, containers_unknown_key)
{
	load_text("version: 1\ncontainers:\n  timeout: 5\n");
	ASSERT_ERRORS({ 3, 3, "unknown key 'timeout' in containers; valid keys: "
			      "mode, cgroup_roots, hold_timeout_ms, fail_action, "
			      "deny_direct_loader, deny_anonymous, "
			      "check_scripts, runtimes" });
}

Test(rules_workloads, bad_roots_are_refused)
{
	load_text("version: 1\n"
		  "containers:\n"
		  "  cgroup_roots:\n"
		  "    - kubepods\n"
		  "    - /docker\n"
		  "    - /docker\n"
		  "    - [/x]\n");
	ASSERT_ERRORS(
		{ 4, 7, "cgroup pattern 'kubepods' must start with '/'" },
		{ 6, 7, "duplicate cgroup pattern '/docker' (first at line 5)" },
		{ 7, 7, "expected a cgroup pattern, got a list" });
}

/* BUG (minor): the message names 'cgroup', the scope key, not this one. */
Test(rules_workloads, empty_roots_are_refused_by_their_name)
{
	load_text("version: 1\ncontainers:\n  cgroup_roots: []\n");
	ASSERT_ERRORS({ 3, 17, "'cgroup_roots' needs at least one pattern" });
}

Test(rules_workloads, a_root_is_no_scope_pattern)
{
	load_text("version: 1\n"
		  "containers:\n"
		  "  cgroup_roots: [/docker]\n"
		  "scopes:\n"
		  "  - name: d\n"
		  "    match: { cgroup: /docker }\n");
	ASSERT_ERRORS({ 6, 22, "cgroup pattern '/docker' is already used by "
			       "scope 'containers' (line 3)" });
}

/*
 * BUG: "/" as a container root puts every cgroup of the machine below a
 * root: the kernel holds every first exec of every service as a pending
 * container, which vouchd then fails (kills, in enforce mode).
 */
Test(rules_workloads, the_root_cgroup_is_no_container_root)
{
	load_text("version: 1\ncontainers:\n  cgroup_roots: [/]\n");
	cr_assert_null(loaded, "cgroup_roots: [/] accepted");
	cr_assert_geq(diags.errors, 1);
}

/* ---- images: ---- */

Test(rules_workloads, images_every_field)
{
	struct vouch_rules *r = load_ok(
		"version: 1\n"
		"images:\n"
		"  - digest: " DIGEST_A "\n"
		"    service: web\n"
		"    version: \"1.4\"\n"
		"    deploy_id: deploy-7\n"
		"    environment: prod\n"
		"    namespace: shop\n"
		"    exec:\n"
		"      allow: [/bin/, /usr/local/bin/web]\n"
		"      deny: [/bin/nc]\n"
		"  - digest: " DIGEST_B "\n");
	const struct allowlist *al = r->images;
	const struct allowlist_image *img;

	cr_assert_not_null(al);
	cr_assert_eq(al->n_images, 2);
	cr_assert_eq(al->attested, 0);
	cr_assert_str_eq(al->source, temp_file);
	img = &al->images[0];
	cr_assert_str_eq(img->digest, DIGEST_A);
	cr_assert_str_eq(img->service, "web");
	cr_assert_str_eq(img->version, "1.4");
	cr_assert_str_eq(img->deploy_id, "deploy-7");
	cr_assert_str_eq(img->environment, "prod");
	cr_assert_str_eq(img->namespace_, "shop");
	cr_assert_eq(img->n_exec_allow, 2);
	cr_assert_str_eq(img->exec_allow[0].path, "/bin/");
	cr_assert_str_eq(img->exec_allow[1].path, "/usr/local/bin/web");
	cr_assert_eq(img->exec_allow[1].has_sha256, 0);
	cr_assert_eq(img->n_exec_deny, 1);
	cr_assert_str_eq(img->exec_deny[0].path, "/bin/nc");
	img = &al->images[1];
	cr_assert_str_eq(img->digest, DIGEST_B);
	cr_assert_null(img->service);
	cr_assert_null(img->namespace_);
	cr_assert_eq(img->n_exec_allow, 0);
	cr_assert_eq(allowlist__find(al, DIGEST_B), img);
	cr_assert_null(allowlist__find(al, "sha256:0123"));
}

Test(rules_workloads, empty_images_list)
{
	struct vouch_rules *r = load_ok("version: 1\nimages: []\n");

	cr_assert_not_null(r->images);
	cr_assert_eq(r->images->n_images, 0);
}

Test(rules_workloads, digests_are_validated)
{
	load_text("version: 1\n"
		  "images:\n"
		  "  - digest: sha256:abc\n"
		  "  - digest: SHA256:" A64 "\n"
		  "  - digest: sha256:" UPPER64 "\n"
		  "  - digest: " DIGEST_A "0\n"
		  "  - digest: sha512:" A64 "\n"
		  "  - digest: [" DIGEST_A "]\n"
		  "  - service: web\n"
		  "  - digest: \"\"\n");
	ASSERT_ERRORS(
		{ 3, 13, "'sha256:abc'" BAD_DIGEST_MSG },
		{ 4, 13, "'SHA256:" A64 "'" BAD_DIGEST_MSG },
		{ 5, 13, "'sha256:" UPPER64 "'" BAD_DIGEST_MSG },
		{ 6, 13, "'" DIGEST_A "0'" BAD_DIGEST_MSG },
		{ 7, 13, "'sha512:" A64 "'" BAD_DIGEST_MSG },
		{ 8, 13, "expected a digest such as sha256:<64 hex>, got a list" },
		{ 9, 5, "missing required key 'digest' in an image" },
		{ 10, 13, "''" BAD_DIGEST_MSG });
}

Test(rules_workloads, duplicate_digest_names_both_lines)
{
	load_text("version: 1\n"
		  "images:\n"
		  "  - digest: " DIGEST_A "\n"
		  "    service: web\n"
		  "  - digest: " DIGEST_B "\n"
		  "  - service: web\n"
		  "    digest: " DIGEST_A "\n");
	ASSERT_ERRORS({ 7, 13, "duplicate image digest '" DIGEST_A "' (first "
			       "at line 3)" });
}

Test(rules_workloads, image_unknown_keys)
{
	load_text("version: 1\n"
		  "images:\n"
		  "  - digest: " DIGEST_A "\n"
		  "    ingress: []\n"
		  "    exec:\n"
		  "      run: [/bin/sh]\n");
	ASSERT_ERRORS(
		{ 4, 5, "unknown key 'ingress' in an image; valid keys: digest, "
			"service, version, deploy_id, environment, namespace, "
			"exec, egress" },
		{ 6, 7, "unknown key 'run' in exec; valid keys: allow, deny" });
}

Test(rules_workloads, image_shapes)
{
	load_text("version: 1\n"
		  "images:\n"
		  "  - " DIGEST_A "\n"
		  "  - digest: " DIGEST_B "\n"
		  "    exec: [/bin/sh]\n");
	ASSERT_ERRORS(
		{ 3, 5, "expected an image (a mapping with 'digest'), got a "
			"string" },
		{ 5, 11, "expected a mapping with 'allow' and/or 'deny', got a "
			 "list" });
	cleanup();
	reset();
	load_text("version: 1\nimages:\n  digest: " DIGEST_A "\n");
	ASSERT_ERRORS({ 3, 3, "expected a list of images, got a mapping" });
}

Test(rules_workloads, image_exec_paths_are_checked_like_rule_paths)
{
	load_text("version: 1\n"
		  "images:\n"
		  "  - digest: " DIGEST_A "\n"
		  "    exec:\n"
		  "      allow: [bin/sh, /usr//bin/, /usr/../bin/sh, /bin/sh, "
		  "/bin/sh]\n"
		  "      deny: /bin/nc\n");
	ASSERT_ERRORS(
		{ 5, 15, "path 'bin/sh' is not absolute" },
		{ 5, 23, "path '/usr//bin/' contains '//'" },
		{ 5, 35, "path '/usr/../bin/sh' has a '.' or '..' component" },
		{ 5, 60, "duplicate entry '/bin/sh' (first at line 5)" },
		{ 6, 13, "expected a list of paths, got a string" });
}

/*
 * BUG (minor): a scope's exec refuses a path both allowed and denied
 * ("a mistake either way"); an image's exec takes it silently.
 */
Test(rules_workloads, image_allow_and_deny_of_one_path_conflict)
{
	load_text("version: 1\n"
		  "images:\n"
		  "  - digest: " DIGEST_A "\n"
		  "    exec:\n"
		  "      allow: [/bin/sh]\n"
		  "      deny: [/bin/sh]\n");
	ASSERT_ERRORS({ 5, 15, "'/bin/sh' conflicts with deny at line 6" });
}

Test(rules_workloads, image_text_fields)
{
	char text[1024];
	char longest[254], over[255];

	memset(longest, 'v', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(over, 'v', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';
	snprintf(text, sizeof(text), "version: 1\nimages:\n"
		 "  - digest: " DIGEST_A "\n    version: %s\n", longest);
	load_ok(text);
	cr_assert_eq(strlen(loaded->images->images[0].version), 253);

	cleanup();
	reset();
	snprintf(text, sizeof(text), "version: 1\nimages:\n"
		 "  - digest: " DIGEST_A "\n"
		 "    version: %s\n"
		 "    service: \"\"\n"
		 "    namespace: \"a\\tb\"\n"
		 "    environment: [prod]\n"
		 "    deploy_id: { id: 7 }\n", over);
	load_text(text);
	ASSERT_ERRORS(
		{ 4, 14, "'version' must be 1 to 253 printable characters" },
		{ 5, 14, "'service' must be 1 to 253 printable characters" },
		{ 6, 16, "'namespace' must be 1 to 253 printable characters" },
		{ 7, 18, "expected a string, got a list" },
		{ 8, 16, "expected a string, got a mapping" });
}

Test(rules_workloads, image_count_is_limited)
{
	size_t n = 20001, len = 0, cap = n * 90 + 64;
	char *text = malloc(cap);

	cr_assert_not_null(text);
	len += (size_t)snprintf(text, cap, "version: 1\nimages:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"  - digest: sha256:%064zx\n", i);
	load_text(text);
	free(text);
	ASSERT_ERRORS({ 20003, 5, "more than 20000 images" });
}

Test(rules_workloads, image_paths_count_towards_the_file_limit)
{
	load_ok("version: 1\n"
		"deny: { exec: [/tmp/] }\n"
		"images:\n"
		"  - digest: " DIGEST_A "\n"
		"    exec: { allow: [/bin/], deny: [/sbin/] }\n");
}

/* ---- workload keys of a scope's match ---- */

Test(rules_workloads, workload_keys_fill_the_match)
{
	struct vouch_rules *r = load_ok(
		"version: 1\n"
		"scopes:\n"
		"  - name: shop-web\n"
		"    match:\n"
		"      namespace: shop\n"
		"      service: web\n"
		"      container_name: web\n"
		"      image_digest: " DIGEST_A "\n"
		"      pod_labels: { app: web, tier: frontend }\n"
		"    mode: enforce\n"
		"  - name: sidecars\n"
		"    match: { container_name: istio-proxy }\n"
		"    mode: off\n");
	const struct rules_scope *s = &r->scopes[1];

	cr_assert_eq(r->n_scopes, 3);
	cr_assert_str_eq(s->name, "shop-web");
	cr_assert_eq(s->workload, 1);
	cr_assert_eq(s->host, 0);
	cr_assert_eq(s->cgroups.n, 0);
	cr_assert_str_eq(s->wl.namespace_, "shop");
	cr_assert_str_eq(s->wl.service, "web");
	cr_assert_str_eq(s->wl.container_name, "web");
	cr_assert_str_eq(s->wl.image_digest, DIGEST_A);
	cr_assert_eq(s->wl.n_labels, 2);
	cr_assert_str_eq(s->wl.labels[0].key, "app");
	cr_assert_str_eq(s->wl.labels[0].value, "web");
	cr_assert_str_eq(s->wl.labels[1].key, "tier");
	cr_assert_str_eq(s->wl.labels[1].value, "frontend");
	cr_assert_eq(s->mode, VOUCH_MODE_ENFORCE);
	s = &r->scopes[2];
	cr_assert_eq(s->workload, 1);
	cr_assert_null(s->wl.namespace_);
	cr_assert_str_eq(s->wl.container_name, "istio-proxy");
	cr_assert_eq(s->wl.n_labels, 0);
	/* cgroup and host scopes match no workload */
	cr_assert_eq(r->scopes[0].workload, 0);
}

Test(rules_workloads, workload_keys_do_not_mix_with_host_or_cgroup)
{
	load_text("version: 1\n"
		  "scopes:\n"
		  "  - name: a\n"
		  "    match: { host: true, namespace: shop }\n"
		  "  - name: b\n"
		  "    match: { cgroup: /b, service: web }\n"
		  "  - name: c\n"
		  "    match: { cgroup: /c, pod_labels: { app: c } }\n");
	ASSERT_ERRORS(
		{ 4, 12, "'match' takes one of 'host: true', 'cgroup' or "
			 "workload keys" },
		{ 6, 12, "'match' takes one of 'host: true', 'cgroup' or "
			 "workload keys" },
		{ 8, 12, "'match' takes one of 'host: true', 'cgroup' or "
			 "workload keys" });
}

Test(rules_workloads, workload_key_values_are_checked)
{
	load_text("version: 1\n"
		  "scopes:\n"
		  "  - name: a\n"
		  "    match: { namespace: \"\", service: web }\n"
		  "  - name: b\n"
		  "    match: { image_digest: sha256:zz }\n"
		  "  - name: c\n"
		  "    match: { container_name: [web] }\n");
	ASSERT_ERRORS(
		{ 4, 25, "'namespace' must be 1 to 253 printable characters" },
		{ 6, 12, "'match' needs 'host: true', 'cgroup' or workload keys "
			 "(namespace, service, image_digest, container_name, "
			 "pod_labels)" },
		{ 6, 28, "'sha256:zz'" BAD_DIGEST_MSG },
		{ 8, 12, "'match' needs 'host: true', 'cgroup' or workload keys "
			 "(namespace, service, image_digest, container_name, "
			 "pod_labels)" },
		{ 8, 30, "expected a string, got a list" });
}

Test(rules_workloads, pod_labels_shapes_and_limits)
{
	char text[4096];
	size_t len;

	load_text("version: 1\n"
		  "scopes:\n"
		  "  - name: a\n"
		  "    match: { pod_labels: {} }\n"
		  "  - name: b\n"
		  "    match: { pod_labels: [app=web] }\n"
		  "  - name: c\n"
		  "    match: { pod_labels: { app: [web], \"\": x } }\n");
	ASSERT_ERRORS(
		{ 4, 12, "'match' needs 'host: true', 'cgroup' or workload keys "
			 "(namespace, service, image_digest, container_name, "
			 "pod_labels)" },
		{ 4, 26, "'pod_labels' takes 1 to 32 labels" },
		{ 6, 12, "'match' needs 'host: true', 'cgroup' or workload keys "
			 "(namespace, service, image_digest, container_name, "
			 "pod_labels)" },
		{ 6, 26, "expected a mapping of pod labels, got a list" },
		{ 8, 33, "expected a string, got a list" },
		{ 8, 40, "'label name' must be 1 to 253 printable characters" });

	cleanup();
	reset();
	len = (size_t)snprintf(text, sizeof(text), "version: 1\nscopes:\n"
			       "  - name: many\n    match:\n      pod_labels:\n");
	for (int i = 0; i < 33; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"        l%d: v\n", i);
	load_text(text);
	ASSERT_ERRORS(
		{ 5, 7, "'match' needs 'host: true', 'cgroup' or workload keys "
			"(namespace, service, image_digest, container_name, "
			"pod_labels)" },
		{ 6, 9, "'pod_labels' takes 1 to 32 labels" });
}

Test(rules_workloads, duplicate_pod_label_is_refused)
{
	load_text("version: 1\n"
		  "scopes:\n"
		  "  - name: a\n"
		  "    match: { pod_labels: { app: a, app: b } }\n");
	cr_assert_null(loaded);
	cr_assert_geq(diags.errors, 1);
}

Test(rules_workloads, exceptions_may_name_workload_scopes)
{
	struct vouch_rules *r = load_ok(
		"version: 1\n"
		"scopes:\n"
		"  - name: shop\n"
		"    match: { namespace: shop }\n"
		"exceptions:\n"
		"  - scope: shop\n"
		"    exec: /opt/debug/\n"
		"    reason: incident 42\n"
		"    owner: sre\n"
		"    expires: 2099-01-01T00:00:00Z\n");

	cr_assert_eq(r->n_exceptions, 1);
	cr_assert_str_eq(r->exceptions[0].scope, "shop");
	cr_assert_eq(rules__scope_index(r, "shop"), 1);
}
