// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/connect_event.c: a kernel record as an event. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "connect_event.h"

static struct diags diags;
static struct policy *pol;
static char path[64];

static void setup(void)
{
	const char *text =
		"version: 1\n"
		"scopes:\n"
		"  - name: web\n"
		"    match: {cgroup: /web}\n"
		"    egress:\n"
		"      allow: [{cidr: 10.0.0.0/8, ports: 443, protocol: tcp}]\n"
		"      deny: [{cidr: \"2001:db8::/32\"}]\n"
		"exceptions:\n"
		"  - scope: web\n"
		"    egress: {cidr: 192.0.2.1}\n"
		"    reason: vendor probe\n"
		"    owner: ops@example.com\n"
		"    expires: 2099-01-01T00:00:00Z\n";
	struct vouch_rules *rules;
	FILE *f;

	memset(&diags, 0, sizeof(diags));
	strcpy(path, "/tmp/vouch-test-connect-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	rules = rules__load(path, time(NULL), &diags);
	cr_assert_not_null(rules);
	pol = policy__compile(rules, NULL, NULL, 2);
	cr_assert_not_null(pol);
}

static void teardown(void)
{
	policy__free(pol);
	diags__free(&diags);
	unlink(path);
}

TestSuite(connect_event, .init = setup, .fini = teardown, .timeout = 10);

static struct vouch_connect_event record(void)
{
	struct vouch_connect_event r = {
		.kind = VOUCH_EVENT_CONNECT, .hook = VOUCH_HOOK_CONNECT,
		.verdict = VOUCH_VERDICT_DENY, .action = VOUCH_ACTION_REFUSED,
		.mode = VOUCH_MODE_ENFORCE,
		.reason = VOUCH_REASON_EGRESS_NOT_ALLOWED,
		.pid = 101, .tgid = 100, .ppid = 1, .uid = 1000, .gid = 1000,
		.scope_id = 1, .rule_id = VOUCH_RULE_NONE, .policy_gen = 2,
		.cgroup_id = 77, .family = VOUCH_FAMILY_IPV4, .protocol = 6,
		.port = 8080, .addr = { 10, 1, 2, 3 }, .comm = "curl",
	};
	return r;
}

Test(connect_event, refused_ipv4)
{
	struct vouch_connect_event r = record();
	struct connect_event_text t;
	struct event ev = { 0 };

	connect_event__fill(&ev, &r, pol, "/nonexistent-proc", &t);
	cr_assert_str_eq(ev.kind, "connect");
	cr_assert_str_eq(ev.verdict, "deny");
	cr_assert_str_eq(ev.action, "refused");
	cr_assert_str_eq(ev.mode, "enforce");
	cr_assert_str_eq(ev.rule, "web/egress.allow");
	cr_assert_str_eq(ev.reason,
			 "connect to 10.1.2.3:8080/tcp is not on the "
			 "egress allow-list of scope 'web'");
	cr_assert_str_eq(ev.network.family, "ipv4");
	cr_assert_str_eq(ev.network.protocol, "tcp");
	cr_assert_str_eq(ev.network.dest_addr, "10.1.2.3");
	cr_assert_eq(ev.network.dest_port, 8080);
	cr_assert_eq(ev.process.pid, 100);
	cr_assert_eq(ev.process.tid, 101);
	cr_assert_str_eq(ev.process.comm, "curl");
	cr_assert_null(ev.process.exe, "no /proc entry: no exe");
	cr_assert_str_eq(ev.workload.scope, "web");
	cr_assert_eq(ev.workload.cgroup_id, 77);
	cr_assert_eq(ev.policy_gen, 2);
}

Test(connect_event, deny_entry_ipv6_send)
{
	struct vouch_connect_event r = record();
	struct connect_event_text t;
	struct event ev = { 0 };
	const struct policy_egress *deny = NULL;

	for (size_t i = 0; i < pol->n_egress; i++)
		if (pol->egress[i].kind == VOUCH_EGRESS_DENY)
			deny = &pol->egress[i];
	cr_assert_not_null(deny);
	r.family = VOUCH_FAMILY_IPV6;
	r.protocol = 17;
	r.hook = VOUCH_HOOK_SENDMSG;
	r.action = VOUCH_ACTION_REPORTED;
	r.mode = VOUCH_MODE_AUDIT;
	r.reason = VOUCH_REASON_EGRESS_DENIED;
	r.rule_id = deny->rule_id;
	memcpy(r.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x35", 16);
	r.port = 53;
	connect_event__fill(&ev, &r, pol, "/proc", &t);
	cr_assert_str_eq(ev.rule, "web/egress.deny:2001:db8::/32 any/any");
	cr_assert_str_eq(ev.reason,
			 "send to [2001:db8::35]:53/udp matches egress "
			 "deny entry '2001:db8::/32 any/any'");
	cr_assert_str_eq(ev.network.family, "ipv6");
	cr_assert_str_eq(ev.action, "reported");
	cr_assert_str_eq(ev.mode, "audit");
}

Test(connect_event, exception_use)
{
	struct vouch_connect_event r = record();
	struct connect_event_text t;
	struct event ev = { 0 };

	r.exception = 1;
	r.action = VOUCH_ACTION_NONE;
	r.rule_id = pol->egress[pol->n_egress - 1].rule_id;
	r.tgid = (uint32_t)getpid();
	connect_event__fill(&ev, &r, pol, "/proc", &t);
	cr_assert_str_eq(ev.kind, "exception");
	cr_assert_str_eq(ev.verdict, "allow");
	cr_assert_str_eq(ev.action, "none");
	cr_assert_str_eq(ev.rule, "web/exception:192.0.2.1/32 any/any");
	cr_assert_str_eq(ev.reason,
			 "connect to 10.1.2.3:8080/tcp allowed by exception "
			 "(owner ops@example.com): vendor probe");
	cr_assert_not_null(ev.process.exe, "a live process has an exe");
}
