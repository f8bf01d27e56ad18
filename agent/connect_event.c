// SPDX-License-Identifier: GPL-2.0-only
/* From a kernel connect record to an event. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "connect_event.h"

static void format_protocol(uint8_t protocol, char *buf, size_t len)
{
	switch (protocol) {
	case 6:
		snprintf(buf, len, "tcp");
		break;
	case 17:
		snprintf(buf, len, "udp");
		break;
	case 1:
	case 58:
		snprintf(buf, len, "icmp");
		break;
	case 132:
		snprintf(buf, len, "sctp");
		break;
	default:
		snprintf(buf, len, "ip-%u", protocol);
	}
}

static void format_rule(const struct policy *pol,
			const struct vouch_connect_event *r, const char *scope,
			char *buf, size_t len)
{
	const struct policy_rule *rule = NULL;

	if (r->rule_id != VOUCH_RULE_NONE)
		rule = policy__rule(pol, r->rule_id);
	if (r->reason == VOUCH_REASON_EGRESS_NOT_ALLOWED && !r->exception)
		snprintf(buf, len, "%s/egress.allow", scope);
	else if (rule)
		snprintf(buf, len, "%s/%s:%s", rule->scope ? rule->scope : "node",
			 rule->list, rule->path);
	else if (r->rule_id == VOUCH_RULE_NONE)
		snprintf(buf, len, "%s/egress", scope);
	else
		snprintf(buf, len, "%s/unknown-rule-%u", scope, r->rule_id);
}

static void format_reason(const struct policy *pol,
			  const struct vouch_connect_event *r,
			  const char *scope, const struct connect_event_text *t,
			  char *buf, size_t len)
{
	const struct policy_rule *rule = NULL;
	const char *what = r->hook == VOUCH_HOOK_SENDMSG ? "send to" : "connect to";
	char dest[INET6_ADDRSTRLEN + 32];

	if (r->rule_id != VOUCH_RULE_NONE)
		rule = policy__rule(pol, r->rule_id);
	snprintf(dest, sizeof(dest), r->family == VOUCH_FAMILY_IPV6 ?
		 "[%s]:%u/%s" : "%s:%u/%s", t->addr, r->port, t->protocol);
	if (r->exception && rule && rule->exception)
		snprintf(buf, len, "%s %s allowed by exception (owner %s): %s",
			 what, dest, rule->exception->owner,
			 rule->exception->reason);
	else if (r->verdict == VOUCH_VERDICT_ALLOW)
		snprintf(buf, len, "%s %s allowed (sampled)", what, dest);
	else if (r->reason == VOUCH_REASON_EGRESS_DENIED)
		snprintf(buf, len, "%s %s matches egress deny entry '%s'", what,
			 dest, rule ? rule->path : "?");
	else
		snprintf(buf, len, "%s %s is not on the egress allow-list of scope '%s'",
			 what, dest, scope);
}

static void read_exe(const char *proc, uint32_t tgid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%u/exe", proc, tgid);
	n = readlink(link, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void fill_process(struct event_process *p,
			 const struct vouch_connect_event *r)
{
	p->pid = r->tgid;
	p->tid = r->pid;
	p->ppid = r->ppid;
	p->uid = r->uid;
	p->gid = r->gid;
	memcpy(p->comm, r->comm, VOUCH_COMM_LEN);
	p->comm[VOUCH_COMM_LEN] = '\0';
}

static const char *action_name(uint8_t action)
{
	switch (action) {
	case VOUCH_ACTION_REFUSED:
		return "refused";
	case VOUCH_ACTION_REPORTED:
		return "reported";
	default:
		return "none";
	}
}

static const char *mode_name(uint8_t mode)
{
	return mode == VOUCH_MODE_ENFORCE ? "enforce" :
	       mode == VOUCH_MODE_AUDIT ? "audit" : "off";
}

void connect_event__fill(struct event *ev,
			 const struct vouch_connect_event *r,
			 const struct policy *pol, const char *proc,
			 struct connect_event_text *t)
{
	const char *scope = policy__scope_name(pol, r->scope_id);
	int v6 = r->family == VOUCH_FAMILY_IPV6;

	if (!scope)
		scope = r->scope_id == VOUCH_SCOPE_HOST ? "host" : "unknown";
	inet_ntop(v6 ? AF_INET6 : AF_INET, r->addr, t->addr, sizeof(t->addr));
	format_protocol(r->protocol, t->protocol, sizeof(t->protocol));
	format_rule(pol, r, scope, t->rule, sizeof(t->rule));
	format_reason(pol, r, scope, t, t->reason, sizeof(t->reason));
	ev->kind = r->exception ? "exception" : "connect";
	ev->verdict = r->verdict == VOUCH_VERDICT_DENY && !r->exception ?
		      "deny" : "allow";
	ev->action = action_name(r->action);
	ev->mode = mode_name(r->mode);
	ev->rule = t->rule;
	ev->reason = t->reason;
	ev->has_process = 1;
	fill_process(&ev->process, r);
	read_exe(proc, r->tgid, t->exe, sizeof(t->exe));
	ev->process.exe = t->exe[0] ? t->exe : NULL;
	ev->has_workload = 1;
	ev->workload.kind = r->scope_id == VOUCH_SCOPE_HOST ? "host" : "cgroup";
	ev->workload.cgroup_id = r->cgroup_id;
	ev->workload.scope = scope;
	ev->has_network = 1;
	ev->network.family = v6 ? "ipv6" : "ipv4";
	ev->network.protocol = t->protocol;
	ev->network.dest_addr = t->addr;
	ev->network.dest_port = r->port;
	ev->policy_gen = r->policy_gen;
}
