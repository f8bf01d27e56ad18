// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/policy_egress.c: egress entries per scope, and the
 * trie they become, where each prefix carries the ranges of every entry
 * covering it so that one longest-prefix lookup answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "egress.h"
#include "policy.h"

#define GEN	5

static struct diags diags;
static struct policy *pol;
static char path[64];

static void setup(void)
{
	memset(&diags, 0, sizeof(diags));
	pol = NULL;
	strcpy(path, "/tmp/vouch-test-egress-XXXXXX");
	close(mkstemp(path));
}

static void teardown(void)
{
	policy__free(pol);
	diags__free(&diags);
	unlink(path);
}

TestSuite(policy_egress, .init = setup, .fini = teardown, .timeout = 10);

static struct vouch_rules *load(const char *text)
{
	FILE *f = fopen(path, "w");
	struct vouch_rules *rules;
	char why[256];

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	rules = rules__load(path, time(NULL), &diags);
	cr_assert_not_null(rules, "rules do not load: %s",
			   diags__first_error(&diags, why, sizeof(why)));
	return rules;
}

static struct policy *compile(const char *text)
{
	pol = policy__compile(load(text), NULL, NULL, GEN);
	cr_assert_not_null(pol, "compile failed: %m");
	return pol;
}

/* The trie entry for scope and CIDR, or NULL. */
static const struct policy_egress_prefix *prefix(uint32_t scope,
						 const char *cidr)
{
	struct allowlist_egress e = { 0 };
	char why[128];
	int v4;
	uint32_t bits;

	cr_assert_eq(egress__parse_cidr(cidr, &e, why, sizeof(why)), 0, "%s", why);
	v4 = egress__is_ipv4(&e);
	bits = v4 ? e.prefix_len - 96U : e.prefix_len;
	for (size_t i = 0; i < pol->n_egress_map; i++) {
		const struct policy_egress_prefix *p = &pol->egress_map[i];

		if (p->key.scope_id != scope || p->key.gen != GEN ||
		    p->key.prefixlen != VOUCH_EGRESS_KEY_HEADER_BITS + bits ||
		    p->key.family != (v4 ? VOUCH_FAMILY_IPV4 : VOUCH_FAMILY_IPV6))
			continue;
		if (!memcmp(p->key.addr, v4 ? e.addr + 12 : e.addr, v4 ? 4 : 16))
			return p;
	}
	return NULL;
}

/* "kind:lo-hi/proto" for each range, joined by spaces. */
static const char *ranges(const struct policy_egress_prefix *p)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < p->rule.n; i++) {
		const struct vouch_egress_range *r = &p->rule.r[i];
		const char *k = r->kind == VOUCH_EGRESS_DENY ? "deny" :
				r->kind == VOUCH_EGRESS_ALLOW ? "allow" : "exc";

		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%u-%u/%u",
					i ? " " : "", k, r->port_lo, r->port_hi,
					r->protocol);
	}
	return buf;
}

Test(policy_egress, covering_ranges_are_merged_deny_first)
{
	const struct policy_egress_prefix *p;

	compile("version: 1\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: {cgroup: /web}\n"
		"    egress:\n"
		"      allow:\n"
		"        - {cidr: 10.0.0.0/8, ports: 443, protocol: tcp}\n"
		"        - {cidr: 10.1.0.0/16}\n"
		"      deny:\n"
		"        - {cidr: 10.1.2.0/24, ports: 22}\n");
	cr_assert_eq(pol->n_egress_map, 3);
	p = prefix(1, "10.0.0.0/8");
	cr_assert_not_null(p);
	cr_assert_str_eq(ranges(p), "allow:443-443/6");
	p = prefix(1, "10.1.0.0/16");
	cr_assert_not_null(p);
	cr_assert_str_eq(ranges(p), "allow:443-443/6 allow:0-65535/0");
	p = prefix(1, "10.1.2.0/24");
	cr_assert_not_null(p);
	cr_assert_str_eq(ranges(p), "deny:22-22/0 allow:443-443/6 allow:0-65535/0");
	cr_assert_eq(pol->scopes[1].flags & (VOUCH_SCOPE_EGRESS | VOUCH_SCOPE_EGRESS_ALLOWLIST),
		     VOUCH_SCOPE_EGRESS | VOUCH_SCOPE_EGRESS_ALLOWLIST);
	cr_assert_eq(pol->scopes[0].flags & VOUCH_SCOPE_EGRESS, 0,
		     "the host scope has no egress entries");
}

Test(policy_egress, siblings_do_not_inherit)
{
	compile("version: 1\n"
		"scopes:\n"
		"  - name: host\n"
		"    match: {host: true}\n"
		"    egress:\n"
		"      allow:\n"
		"        - {cidr: 10.0.0.0/9, ports: 1}\n"
		"        - {cidr: 10.128.0.0/9, ports: 2}\n"
		"        - {cidr: 10.200.0.0/16, ports: 3}\n"
		"        - {cidr: 10.64.0.0/16, ports: 4}\n");
	cr_assert_str_eq(ranges(prefix(0, "10.64.0.0/16")),
			 "allow:1-1/0 allow:4-4/0");
	cr_assert_str_eq(ranges(prefix(0, "10.200.0.0/16")),
			 "allow:2-2/0 allow:3-3/0");
}

Test(policy_egress, families_stay_apart)
{
	compile("version: 1\n"
		"scopes:\n"
		"  - name: host\n"
		"    match: {host: true}\n"
		"    egress:\n"
		"      allow:\n"
		"        - {cidr: \"::/0\", ports: 443}\n"
		"        - {cidr: 0.0.0.0/0, ports: 80}\n"
		"        - {cidr: 127.0.0.1}\n");
	cr_assert_str_eq(ranges(prefix(0, "::/0")), "allow:443-443/0");
	cr_assert_str_eq(ranges(prefix(0, "0.0.0.0/0")), "allow:80-80/0");
	cr_assert_str_eq(ranges(prefix(0, "127.0.0.1/32")),
			 "allow:80-80/0 allow:0-65535/0");
}

Test(policy_egress, node_deny_reaches_every_scope)
{
	const struct policy_rule *r;
	const struct policy_egress_prefix *p;

	compile("version: 1\n"
		"deny:\n"
		"  egress:\n"
		"    - {cidr: 169.254.169.254, ports: 80, protocol: tcp}\n"
		"scopes:\n"
		"  - name: a\n"
		"    match: {cgroup: /a}\n");
	for (uint32_t s = 0; s < 2; s++) {
		p = prefix(s, "169.254.169.254/32");
		cr_assert_not_null(p, "scope %u", s);
		cr_assert_str_eq(ranges(p), "deny:80-80/6");
		cr_assert_eq(pol->scopes[s].flags & (VOUCH_SCOPE_EGRESS |
						     VOUCH_SCOPE_EGRESS_ALLOWLIST),
			     VOUCH_SCOPE_EGRESS, "deny only: a miss is allowed");
		r = policy__rule(pol, p->rule.r[0].rule_id);
		cr_assert_null(r->scope);
		cr_assert_str_eq(r->list, "deny.egress");
		cr_assert_str_eq(r->path, "169.254.169.254/32 80/tcp");
	}
}

Test(policy_egress, exceptions_where_egress_is_judged)
{
	const struct policy_egress_prefix *p;
	const struct policy_rule *r;

	compile("version: 1\n"
		"scopes:\n"
		"  - name: a\n"
		"    match: {cgroup: /a}\n"
		"    egress: {allow: []}\n"
		"  - name: b\n"
		"    match: {cgroup: /b}\n"
		"exceptions:\n"
		"  - egress: {cidr: 192.0.2.7, ports: 22, protocol: tcp}\n"
		"    reason: debugging\n"
		"    owner: ops@example.com\n"
		"    expires: 2099-01-01T00:00:00Z\n"
		"  - egress: {cidr: 192.0.2.8}\n"
		"    reason: old\n"
		"    owner: ops@example.com\n"
		"    expires: 2001-01-01T00:00:00Z\n");
	cr_assert_eq(pol->n_egress_map, 1, "only scope a judges egress");
	p = prefix(1, "192.0.2.7/32");
	cr_assert_not_null(p);
	cr_assert_str_eq(ranges(p), "exc:22-22/6");
	r = policy__rule(pol, p->rule.r[0].rule_id);
	cr_assert_str_eq(r->list, "exception");
	cr_assert_str_eq(r->exception->owner, "ops@example.com");
	cr_assert_gt(pol->egress[0].expires_boot_ns, 0);
	cr_assert_eq(pol->scopes[1].flags & VOUCH_SCOPE_EGRESS_ALLOWLIST,
		     VOUCH_SCOPE_EGRESS_ALLOWLIST, "an empty allow-list allows nothing");
}

Test(policy_egress, too_many_ranges_for_one_prefix)
{
	char text[2048] = "version: 1\nscopes:\n  - name: host\n"
			  "    match: {host: true}\n    egress:\n      allow:\n"
			  "        - {cidr: 10.0.0.0/8, ports: [";

	for (int i = 1; i <= VOUCH_EGRESS_RANGES + 1; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%s%d", i > 1 ? ", " : "", i);
	strcat(text, "]}\n");
	pol = policy__compile(load(text), NULL, NULL, GEN);
	cr_assert_null(pol);
	cr_assert_eq(errno, E2BIG);
}

Test(policy_egress, image_entries_plug_in)
{
	struct allowlist_egress e = { .port_lo = 53, .port_hi = 53,
				      .protocol = ALLOWLIST_PROTO_UDP };
	char why[64];

	compile("version: 1\nscopes:\n  - name: img\n    match: {cgroup: /img}\n");
	cr_assert_eq(egress__parse_cidr("10.96.0.10", &e, why, sizeof(why)), 0);
	cr_assert_eq(policy__add_egress(pol, 1, VOUCH_EGRESS_ALLOW, &e, 1,
					"img", "image.egress", NULL), 0);
	cr_assert_eq(policy__build_egress(pol), 0);
	cr_assert_str_eq(ranges(prefix(1, "10.96.0.10/32")), "allow:53-53/17");
	cr_assert(pol->scopes[1].flags & VOUCH_SCOPE_EGRESS_ALLOWLIST);
}
