/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What every vouch BPF object shares: the policy generation, the scope of
 * each cgroup, the event ring buffer and the loss counters. Each object
 * that includes this declares the maps; vouchd loads the first object and
 * hands the same maps to the others, so all of them see one policy.
 */
#ifndef VOUCH_COMMON_BPF_H
#define VOUCH_COMMON_BPF_H

#include "vouch_abi.h"

/*
 * The active generation and the host scope (see vouch_abi.h), written by
 * vouchd. A plain array rather than global variables: reading the mmapable
 * .bss page cost about 300 ns per exec on the benchmark machine, an array
 * value about 15; each cold line touched after an exec is that dear.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VOUCH_GLOBALS_SLOTS);
	__type(key, __u32);
	__type(value, struct vouch_globals);
} globals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VOUCH_MAX_CGROUPS);
	__type(key, struct vouch_cgroup_key);
	__type(value, struct vouch_cgroup_scope);
} cgroup_scopes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VOUCH_MAX_SCOPES);
	__type(key, struct vouch_scope_key);
	__type(value, struct vouch_scope);
} scopes SEC(".maps");

/*
 * Which scope each cgroup ended up in, and that scope's value, filled after
 * an ancestor walk so that the next exec or connect in that cgroup pays one
 * lookup. Keyed by generation: a swap starts afresh, and LRU drops the old
 * entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VOUCH_MAX_CGROUPS);
	__type(key, struct vouch_cgroup_key);
	__type(value, struct vouch_cgroup_context);
} cgroup_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VOUCH_RINGBUF_BYTES);
} events SEC(".maps");

/* Events the ring buffer could not take, per kind; vouchd reports them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VOUCH_EVENT_KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

/*
 * The flags to submit a record with. Waking vouchd costs the submitting
 * task about 15 us (an irq_work and a wakeup), which every audited exec
 * and connect would pay; vouchd drains the ring buffer on a timer instead,
 * and is woken only for a record something waits on (a held container, a
 * new cgroup) or when the buffer fills faster than the timer drains it.
 */
static __always_inline __u64 submit_flags(int urgent)
{
	/* its size is vouchd's choice, or an earlier vouchd's when pinned */
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	if (urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
			      size / VOUCH_RINGBUF_WAKE_FRACTION)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* The generation in force, 0 before vouchd has loaded any policy. */
static __always_inline __u32 active_gen(void)
{
	__u32 key = VOUCH_GLOBALS_ACTIVE;
	struct vouch_globals *g = bpf_map_lookup_elem(&globals, &key);

	return g ? g->gen : 0;
}

/* The slot of generation gen, or NULL when it holds another one. */
static __always_inline struct vouch_globals *gen_slot(__u32 gen)
{
	__u32 key = 1 + (gen & 1);
	struct vouch_globals *g = bpf_map_lookup_elem(&globals, &key);

	return g && g->gen == gen ? g : NULL;
}

/* The host scope of generation gen: from its slot, else the scopes hash. */
static __always_inline struct vouch_scope *
host_scope(__u32 gen, struct vouch_globals *slot)
{
	struct vouch_scope_key sk = { .gen = gen, .scope_id = VOUCH_SCOPE_HOST };

	if (slot)
		return &slot->host;
	return bpf_map_lookup_elem(&scopes, &sk);
}

static __always_inline void count_loss(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &kind);

	if (n)
		*n += 1;
}

/*
 * Completes a context found by a walk with its scope's value and caches it
 * for the cgroup. -1 when the scope is missing (its generation is being
 * retired): such a context is neither used nor cached.
 */
static __always_inline int cache_context(__u32 gen, __u64 cgroup_id,
					 const struct vouch_scope *host,
					 struct vouch_cgroup_context *ctx)
{
	struct vouch_scope_key sk = { .gen = gen, .scope_id = ctx->cs.scope_id };
	struct vouch_cgroup_key key = { .gen = gen, .cgroup_id = cgroup_id };
	const struct vouch_scope *sc = host;

	if (sk.scope_id != VOUCH_SCOPE_HOST)
		sc = bpf_map_lookup_elem(&scopes, &sk);
	if (!sc)
		return -1;
	ctx->scope = *sc;
	bpf_map_update_elem(&cgroup_cache, &key, ctx, BPF_ANY);
	return 0;
}

/*
 * The decision context of the current task: its own cgroup's entry, else
 * the nearest ancestor's (among the top VOUCH_CGROUP_DEPTH_MAX levels),
 * else the host's, with that scope's value. Below a container root, a
 * cgroup with no entry of its own is a container not yet identified:
 * PENDING. A policy without cgroup entries costs no lookup; otherwise the
 * answer is cached per cgroup and generation. -1 when there is none.
 */
static __always_inline int lookup_context(__u32 gen, struct task_struct *task,
					  const struct vouch_scope *host,
					  struct vouch_cgroup_context *ctx)
{
	struct vouch_cgroup_key key = { .gen = gen };
	struct vouch_cgroup_context *cached;
	struct vouch_cgroup_scope *cs;
	__u64 self;
	int level;

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
	/*
	 * From the top down, the deepest entry winning: entries sit near the
	 * root, so a cgroup nested deeper than the walk still finds its own
	 * container's or scope's entry rather than none.
	 */
	level = task->cgroups->dfl_cgrp->level;
	for (int l = 1; l <= VOUCH_CGROUP_DEPTH_MAX; l++) {
		if (l > level)
			break;
		key.cgroup_id = bpf_get_current_ancestor_cgroup_id(l);
		cs = bpf_map_lookup_elem(&cgroup_scopes, &key);
		if (!cs)
			continue;
		ctx->cs = *cs;
		if (ctx->cs.flags & VOUCH_CGROUP_CONTAINER_ROOT)
			ctx->cs.flags = l < level ? VOUCH_CGROUP_PENDING : 0;
	}
	if (level > VOUCH_CGROUP_DEPTH_MAX) {
		key.cgroup_id = self;
		cs = bpf_map_lookup_elem(&cgroup_scopes, &key);
		if (cs && !(cs->flags & VOUCH_CGROUP_CONTAINER_ROOT))
			ctx->cs = *cs;
	}
	return cache_context(gen, self, host, ctx);
}

/* The mode a context decides in: its container's, else its scope's. */
static __always_inline __u32 context_mode(const struct vouch_cgroup_context *ctx)
{
	return ctx->cs.flags & VOUCH_CGROUP_MODE ? ctx->cs.mode : ctx->scope.mode;
}

#endif /* VOUCH_COMMON_BPF_H */
