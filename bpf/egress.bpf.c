// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vouch's kernel side for egress: every connect, and every UDP send that
 * names its destination, is judged by the address the kernel is about to
 * use, against the egress entries of the workload's scope, and refused
 * (EPERM) when the scope enforces. Attached to the cgroup v2 root, so it
 * runs for every socket on the node; the workload is the calling task's
 * cgroup, as for exec.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "vouch_abi.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define IPPROTO_MPTCP	262

/* sock_addr programs: 1 lets the call go on, 0 fails it with EPERM. */
#define VERDICT_PASS	1
#define VERDICT_REFUSE	0

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VOUCH_MAX_EGRESS_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vouch_egress_key);
	__type(value, struct vouch_egress_rule);
} egress SEC(".maps");

/* Expiry of exception rules; read only after a denial. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VOUCH_MAX_EGRESS_RULES);
	__type(key, struct vouch_rule_key);
	__type(value, __u64);
} egress_expiry SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vouch_connect_sample);
} connect_sample SEC(".maps");

struct dest {
	struct vouch_egress_key key;
	__u32 protocol;
	__u16 port;
	__u8 hook;
	__u8 pad;
};

struct verdict {
	__u32 scope_id;
	__u32 mode;
	__u32 verdict;
	__u32 reason;
	__u32 rule_id;
	__u32 exception;
};

/*
 * The decision context of the calling task, as lookup_context() finds it,
 * without a task pointer: sock_addr programs on older kernels may not read
 * one, so the cgroup's level is not known. Its own entry first, then its
 * ancestors from the root down, the deepest hit winning (the same answer
 * as exec's walk for cgroups up to 17 levels deep); cached per cgroup and
 * generation, the cache shared with exec, so a container not identified
 * yet is cached as pending here too. -1 when there is none.
 */
static __always_inline int current_context(__u32 gen,
					   const struct vouch_scope *host,
					   struct vouch_cgroup_context *ctx)
{
	struct vouch_cgroup_key key = { .gen = gen };
	struct vouch_cgroup_context *cached;
	struct vouch_cgroup_scope *cs;
	__u64 self, id;

	ctx->cs = (struct vouch_cgroup_scope){ VOUCH_SCOPE_HOST, 0, 0 };
	if (!(host->flags & VOUCH_SCOPE_POLICY_HAS_CGROUPS)) {
		ctx->scope = *host;
		return 0;
	}
	self = bpf_get_current_cgroup_id();
	key.cgroup_id = self;
	cached = bpf_map_lookup_elem(&cgroup_cache, &key);
	if (cached) {
		*ctx = *cached;
		return 0;
	}
	cs = bpf_map_lookup_elem(&cgroup_scopes, &key);
	if (cs) {
		ctx->cs = *cs;
		ctx->cs.flags &= ~VOUCH_CGROUP_CONTAINER_ROOT;
		return cache_context(gen, self, host, ctx);
	}
	for (int level = 1; level <= VOUCH_CGROUP_DEPTH_MAX; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id || id == self)
			break;
		key.cgroup_id = id;
		cs = bpf_map_lookup_elem(&cgroup_scopes, &key);
		if (!cs)
			continue;
		ctx->cs = *cs;
		if (ctx->cs.flags & VOUCH_CGROUP_CONTAINER_ROOT)
			ctx->cs.flags = VOUCH_CGROUP_PENDING;
	}
	return cache_context(gen, self, host, ctx);
}

/* Whether range r covers the destination's port and protocol. */
static __always_inline int covers(const struct vouch_egress_range *r,
				  const struct dest *d)
{
	if (r->protocol && r->protocol != d->protocol)
		return 0;
	return d->port >= r->port_lo && d->port <= r->port_hi;
}

static __always_inline void try_exception(const struct vouch_egress_rule *rule,
					  __u32 from, const struct dest *d,
					  struct verdict *v)
{
	struct vouch_rule_key rk = { .gen = d->key.gen };
	__u64 *expires;

	/*
	 * Unrolled: on kernels before 6.3 the verifier refuses a loop whose
	 * body ends in a helper call ("back-edge" after the call).
	 */
#pragma unroll
	for (__u32 i = 0; i < VOUCH_EGRESS_RANGES; i++) {
		const struct vouch_egress_range *r = &rule->r[i];

		if (i >= rule->n)
			return;
		if (i < from || !covers(r, d))
			continue;
		rk.rule_id = r->rule_id;
		expires = bpf_map_lookup_elem(&egress_expiry, &rk);
		if (!expires)
			continue;
		if (*expires && *expires < bpf_ktime_get_boot_ns())
			continue;
		v->exception = 1;
		v->rule_id = r->rule_id;
		return;
	}
}

/*
 * One LPM lookup: the longest prefix holds every range that covers the
 * destination, deny first. The first deny or allow range that matches
 * decides; none matching is a denial in an allow-list scope.
 */
static __always_inline void judge(const struct vouch_scope *sc,
				  const struct dest *d, struct verdict *v)
{
	const struct vouch_egress_rule *rule;
	__u32 i;

	v->verdict = VOUCH_VERDICT_ALLOW;
	rule = bpf_map_lookup_elem(&egress, &d->key);
	if (!rule)
		goto miss;
	for (i = 0; i < VOUCH_EGRESS_RANGES; i++) {
		const struct vouch_egress_range *r = &rule->r[i];

		if (i >= rule->n || r->kind == VOUCH_EGRESS_EXCEPTION)
			break;
		if (covers(r, d))
			break;
	}
	/* no call inside the loop above, for the same old verifiers */
	if (i < VOUCH_EGRESS_RANGES && i < rule->n &&
	    rule->r[i].kind != VOUCH_EGRESS_EXCEPTION) {
		v->rule_id = rule->r[i].rule_id;
		if (rule->r[i].kind == VOUCH_EGRESS_ALLOW)
			return;
		v->verdict = VOUCH_VERDICT_DENY;
		v->reason = VOUCH_REASON_EGRESS_DENIED;
		try_exception(rule, i, d, v);
		return;
	}
miss:
	if (!(sc->flags & VOUCH_SCOPE_EGRESS_ALLOWLIST))
		return;
	v->verdict = VOUCH_VERDICT_DENY;
	v->reason = VOUCH_REASON_EGRESS_NOT_ALLOWED;
	if (rule)
		try_exception(rule, 0, d, v);
}

static __always_inline void emit(const struct dest *d,
				 const struct verdict *v, __u8 action,
				 __u32 sock_type)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct vouch_connect_event *ev;
	__u64 pid_tgid, uid_gid;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_loss(VOUCH_EVENT_CONNECT);
		return;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	ev->kind = VOUCH_EVENT_CONNECT;
	ev->exception = v->exception;
	ev->hook = d->hook;
	ev->verdict = v->verdict;
	ev->action = action;
	ev->mode = v->mode;
	ev->reason = v->reason;
	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->pid = (__u32)pid_tgid;
	ev->tgid = pid_tgid >> 32;
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	ev->scope_id = v->scope_id;
	ev->rule_id = v->rule_id;
	ev->policy_gen = d->key.gen;
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->family = d->key.family;
	ev->protocol = d->protocol;
	ev->port = d->port;
	ev->sock_type = sock_type;
	__builtin_memcpy(ev->addr, d->key.addr, sizeof(ev->addr));
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, submit_flags(0));
}

/* Every Nth allowed connect is reported, when vouchd asks for it. */
static __always_inline int sample_allowed(void)
{
	__u32 zero = 0;
	struct vouch_connect_sample *s;

	s = bpf_map_lookup_elem(&connect_sample, &zero);
	if (!s || !s->every)
		return 0;
	if (++s->count < s->every)
		return 0;
	s->count = 0;
	return 1;
}

static __always_inline int decide(struct bpf_sock_addr *ctx, struct dest *d)
{
	struct verdict v = { .rule_id = VOUCH_RULE_NONE };
	struct vouch_cgroup_context context;
	struct vouch_scope *sc;
	__u8 action = VOUCH_ACTION_REPORTED;
	__u32 mode;

	sc = host_scope(d->key.gen, gen_slot(d->key.gen));
	if (!sc || current_context(d->key.gen, sc, &context))
		return VERDICT_PASS;
	sc = &context.scope;
	/* a container's workload scope may set its mode */
	mode = context_mode(&context);
	/* a scope without egress entries does not judge egress */
	if (mode == VOUCH_MODE_OFF || !(sc->flags & VOUCH_SCOPE_EGRESS))
		return VERDICT_PASS;
	d->key.scope_id = context.cs.scope_id;
	d->protocol = ctx->protocol == IPPROTO_MPTCP ? IPPROTO_TCP : ctx->protocol;
	d->port = bpf_ntohs((__u16)ctx->user_port);
	v.scope_id = context.cs.scope_id;
	v.mode = mode;
	judge(sc, d, &v);
	if (v.verdict == VOUCH_VERDICT_ALLOW) {
		if (sample_allowed())
			emit(d, &v, VOUCH_ACTION_NONE, ctx->type);
		return VERDICT_PASS;
	}
	if (v.exception) {
		emit(d, &v, VOUCH_ACTION_NONE, ctx->type);
		return VERDICT_PASS;
	}
	if (v.mode == VOUCH_MODE_ENFORCE)
		action = VOUCH_ACTION_REFUSED;
	emit(d, &v, action, ctx->type);
	return action == VOUCH_ACTION_REFUSED ? VERDICT_REFUSE : VERDICT_PASS;
}

static __always_inline int check_ipv4(struct bpf_sock_addr *ctx, __u8 hook)
{
	struct dest d = { .hook = hook };

	d.key.gen = active_gen();
	if (!d.key.gen)
		return VERDICT_PASS;
	d.key.prefixlen = VOUCH_EGRESS_KEY_HEADER_BITS + 32;
	d.key.family = VOUCH_FAMILY_IPV4;
	*(__u32 *)d.key.addr = ctx->user_ip4;
	return decide(ctx, &d);
}

/* ::ffff:a.b.c.d is IPv4 to the kernel, and so to the rules. */
static __always_inline int check_ipv6(struct bpf_sock_addr *ctx, __u8 hook)
{
	struct dest d = { .hook = hook };
	__u32 *a = (__u32 *)d.key.addr;

	d.key.gen = active_gen();
	if (!d.key.gen)
		return VERDICT_PASS;
	a[0] = ctx->user_ip6[0];
	a[1] = ctx->user_ip6[1];
	a[2] = ctx->user_ip6[2];
	a[3] = ctx->user_ip6[3];
	if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0x0000ffff)) {
		d.key.prefixlen = VOUCH_EGRESS_KEY_HEADER_BITS + 32;
		d.key.family = VOUCH_FAMILY_IPV4;
		a[0] = a[3];
		a[2] = 0;
		a[3] = 0;
	} else {
		d.key.prefixlen = VOUCH_EGRESS_KEY_HEADER_BITS + 128;
		d.key.family = VOUCH_FAMILY_IPV6;
	}
	return decide(ctx, &d);
}

SEC("cgroup/connect4")
int vouch_connect4(struct bpf_sock_addr *ctx)
{
	return check_ipv4(ctx, VOUCH_HOOK_CONNECT);
}

SEC("cgroup/connect6")
int vouch_connect6(struct bpf_sock_addr *ctx)
{
	return check_ipv6(ctx, VOUCH_HOOK_CONNECT);
}

SEC("cgroup/sendmsg4")
int vouch_sendmsg4(struct bpf_sock_addr *ctx)
{
	return check_ipv4(ctx, VOUCH_HOOK_SENDMSG);
}

SEC("cgroup/sendmsg6")
int vouch_sendmsg6(struct bpf_sock_addr *ctx)
{
	return check_ipv6(ctx, VOUCH_HOOK_SENDMSG);
}
