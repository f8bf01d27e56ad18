// SPDX-License-Identifier: GPL-2.0-only
/* Loads vouch's BPF programs and keeps the policy maps in sync. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel.h"
#include "log.h"
#include "vouch.skel.h"

struct kernel {
	struct vouch_bpf *skel;
	struct bpf_link *links[16];
	const char *link_names[16];	/* of the program each link holds */
	int n_links;
	struct policy *active;
	/* its entries stay loaded until the next swap: a program that read
	 * the old generation just before the switch still finds them */
	struct policy *previous;
};

/* libbpf finds tracepoint ids in tracefs, which a fresh boot may lack. */
static void ensure_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
		log_warn("kernel: failed to mount tracefs: %s", strerror(errno));
}

static int attach(struct kernel *k, struct bpf_program *prog, int required)
{
	struct bpf_link *link = bpf_program__attach(prog);
	int err;

	if (!link) {
		err = -errno;
		if (required) {
			log_error("kernel: failed to attach program '%s': %s",
				  bpf_program__name(prog), strerror(-err));
			return err;
		}
		/* without it, scripts are judged only through their interpreter */
		log_warn("kernel: failed to attach program '%s': %s",
			 bpf_program__name(prog), strerror(-err));
		return 0;
	}
	k->link_names[k->n_links] = bpf_program__name(prog);
	k->links[k->n_links++] = link;
	return 0;
}

static int attach_all(struct kernel *k)
{
	struct vouch_bpf *s = k->skel;
	struct {
		struct bpf_program *prog;
		int required;
	} order[] = {
		/* fork first, so no child of a pending interpreter is missed */
		{ s->progs.vouch_cgroup_mkdir, 1 },
		{ s->progs.vouch_fork, 1 },
		{ s->progs.vouch_openat_exit, 0 },
		{ s->progs.vouch_open_exit, 0 },
		{ s->progs.vouch_openat2_exit, 0 },
		{ s->progs.vouch_exec, 1 },
	};
	int err;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		err = attach(k, order[i].prog, order[i].required);
		if (err)
			return err;
	}
	return 0;
}

static int put_global(struct kernel *k, uint32_t slot,
		      const struct vouch_globals *g)
{
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.globals), &slot, g,
				BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Makes gen the generation in force: its host-scope slot first, then the
 * active generation, each one array update. A program reads the active
 * generation once per decision and checks that the slot it then reads is
 * of the same generation.
 */
/* Adds ino to the filter unless it is there; past the size it is off. */
static void filter_add(struct vouch_globals *g, uint64_t ino)
{
	for (uint32_t i = 0; i < g->n_inodes && i < VOUCH_INODE_FILTER; i++)
		if (g->inodes[i] == ino)
			return;
	if (g->n_inodes < VOUCH_INODE_FILTER)
		g->inodes[g->n_inodes] = ino;
	if (g->n_inodes <= VOUCH_INODE_FILTER)
		g->n_inodes++;
}

static void fill_filter(struct vouch_globals *g, const struct policy *p)
{
	for (size_t i = 0; i < p->n_deny_inodes; i++)
		filter_add(g, p->deny_inodes[i].ino);
	for (size_t i = 0; i < p->n_loaders; i++)
		filter_add(g, p->loaders[i].ino);
}

static int set_globals(struct kernel *k, const struct policy *p,
		       const struct vouch_scope *host)
{
	uint32_t gen = p ? p->gen : 0;
	struct vouch_globals g = { .gen = gen };
	int err;

	if (p) {
		g.host = *host;
		fill_filter(&g, p);
		err = put_global(k, 1 + (gen & 1), &g);
		if (err)
			return err;
	}
	memset(&g, 0, sizeof(g));
	g.gen = gen;
	g.agent_tgid = (uint32_t)getpid();
	return put_global(k, VOUCH_GLOBALS_ACTIVE, &g);
}

struct kernel *kernel__open(unsigned int ringbuf_bytes)
{
	struct kernel *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return NULL;
	ensure_tracefs();
	k->skel = vouch_bpf__open();
	if (!k->skel) {
		err = -errno;
		log_error("kernel: failed to open BPF object: %s", strerror(-err));
		goto err_free;
	}
	if (ringbuf_bytes)
		bpf_map__set_max_entries(k->skel->maps.events, ringbuf_bytes);
	err = vouch_bpf__load(k->skel);
	if (err) {
		log_error("kernel: failed to load BPF programs: %s", strerror(-err));
		goto err_free;
	}
	err = set_globals(k, NULL, NULL);
	if (err)
		goto err_free;
	err = attach_all(k);
	if (err)
		goto err_free;
	return k;

err_free:
	kernel__close(k);
	errno = -err;
	return NULL;
}

void kernel__close(struct kernel *k)
{
	if (!k)
		return;
	for (int i = k->n_links - 1; i >= 0; i--)
		bpf_link__destroy(k->links[i]);
	vouch_bpf__destroy(k->skel);
	policy__free(k->active);
	policy__free(k->previous);
	free(k);
}

typedef int (*entry_op)(int fd, const void *key, const void *value);

static int op_update(int fd, const void *key, const void *value)
{
	return bpf_map_update_elem(fd, key, value, BPF_ANY) ? -errno : 0;
}

static int op_delete(int fd, const void *key, const void *value)
{
	/* the same key may be listed twice, e.g. node-wide and scope deny */
	if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

static int each_path(const struct policy *p, enum policy_list list, int fd,
		     entry_op op)
{
	struct vouch_path_key key;
	struct vouch_path_rule rule;
	int err;

	for (size_t i = 0; i < p->n_paths[list]; i++) {
		const struct policy_path *e = &p->paths[list][i];
		size_t len = strlen(e->path);
		int dir = e->path[len - 1] == '/';

		memset(&key, 0, sizeof(key));
		key.gen = p->gen;
		key.scope_id = e->scope_id;
		memcpy(key.path, e->path, len);
		/* an exact entry includes its NUL so it matches only itself */
		key.prefixlen = (uint32_t)(8 + len + (dir ? 0 : 1)) * 8;
		memset(&rule, 0, sizeof(rule));
		rule.rule_id = e->rule_id;
		rule.expires_boot_ns = e->expires_boot_ns;
		err = op(fd, &key, &rule);
		if (err)
			return err;
	}
	return 0;
}

static int put_inode(const struct policy *p, uint32_t scope_id,
		     const struct policy_inode *e, uint32_t kind, int fd,
		     entry_op op)
{
	struct vouch_inode_key key = {
		.gen = p->gen, .scope_id = scope_id, .dev = e->dev, .ino = e->ino,
	};
	struct vouch_inode_rule rule = { .kind = kind, .rule_id = e->rule_id };

	return op(fd, &key, &rule);
}

/*
 * Loaders first, deny entries second: a file that is both is denied, and
 * on update the later write wins.
 */
static int each_inode(const struct policy *p, int fd, entry_op op)
{
	int err = 0;

	for (size_t s = 0; !err && s < p->n_scopes; s++) {
		if (!(p->scopes[s].flags & VOUCH_SCOPE_DENY_LOADER))
			continue;
		for (size_t i = 0; !err && i < p->n_loaders; i++)
			err = put_inode(p, (uint32_t)s, &p->loaders[i],
					VOUCH_INODE_LOADER, fd, op);
	}
	for (size_t i = 0; !err && i < p->n_deny_inodes; i++)
		err = put_inode(p, p->deny_inodes[i].scope_id,
				&p->deny_inodes[i], VOUCH_INODE_DENY, fd, op);
	return err;
}

/* A scope's map value; the host's also says whether to look further. */
static struct vouch_scope scope_value(const struct policy *p, size_t i)
{
	struct vouch_scope val = {
		.mode = p->scopes[i].mode, .flags = p->scopes[i].flags,
	};

	if (i == VOUCH_SCOPE_HOST && p->n_scopes > 1)
		val.flags |= VOUCH_SCOPE_POLICY_HAS_CGROUPS;
	return val;
}

static int each_scope(const struct policy *p, int fd, entry_op op)
{
	for (size_t i = 0; i < p->n_scopes; i++) {
		struct vouch_scope_key key = {
			.gen = p->gen, .scope_id = (uint32_t)i,
		};
		struct vouch_scope val = scope_value(p, i);
		int err = op(fd, &key, &val);

		if (err)
			return err;
	}
	return 0;
}

static int each_cgroup(const struct policy *p, int fd, entry_op op)
{
	for (size_t i = 0; i < p->n_cgroups; i++) {
		struct vouch_cgroup_key key = {
			.gen = p->gen, .cgroup_id = p->cgroups[i].cgroup_id,
		};
		struct vouch_cgroup_scope val = {
			.scope_id = p->cgroups[i].scope_id,
		};
		int err = op(fd, &key, &val);

		if (err)
			return err;
	}
	return 0;
}

/* Runs op over every map entry of p; scopes last, so that on update no
 * scope is visible before its lists (the generation is not active yet
 * anyway, but this keeps a half-written one inert). */
static int each_entry(struct kernel *k, const struct policy *p, entry_op op)
{
	struct vouch_bpf *s = k->skel;
	int err;

	err = each_path(p, POLICY_ALLOW, bpf_map__fd(s->maps.allow_paths), op);
	if (!err)
		err = each_path(p, POLICY_DENY,
				bpf_map__fd(s->maps.deny_paths), op);
	if (!err)
		err = each_path(p, POLICY_EXCEPTION,
				bpf_map__fd(s->maps.exception_paths), op);
	if (!err)
		err = each_inode(p, bpf_map__fd(s->maps.inodes), op);
	if (!err)
		err = each_cgroup(p, bpf_map__fd(s->maps.cgroup_scopes), op);
	if (!err)
		err = each_scope(p, bpf_map__fd(s->maps.scopes), op);
	return err;
}

int kernel__apply(struct kernel *k, struct policy *p)
{
	struct vouch_scope host;
	int err;

	if (k->previous) {
		err = each_entry(k, k->previous, op_delete);
		if (err)
			log_warn("kernel: failed to clear policy generation %u: %s",
				 k->previous->gen, strerror(-err));
		policy__free(k->previous);
		k->previous = NULL;
	}
	err = each_entry(k, p, op_update);
	if (err) {
		each_entry(k, p, op_delete);
		return err;
	}
	/* the switch: programs read the generation once per decision */
	host = scope_value(p, VOUCH_SCOPE_HOST);
	err = set_globals(k, p, &host);
	if (err) {
		each_entry(k, p, op_delete);
		return err;
	}
	k->previous = k->active;
	k->active = p;
	return 0;
}

const struct policy *kernel__policy(const struct kernel *k, uint32_t gen)
{
	if (k->active && k->active->gen == gen)
		return k->active;
	if (k->previous && k->previous->gen == gen)
		return k->previous;
	return NULL;
}

const struct policy *kernel__active(const struct kernel *k)
{
	return k->active;
}

size_t kernel__links(const struct kernel *k, struct kernel_link *out,
		     size_t max)
{
	struct bpf_link_info info;
	size_t n = 0;
	__u32 len;

	for (int i = 0; i < k->n_links && n < max; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_link__fd(k->links[i]), &info,
					   &len))
			continue;
		out[n].link_id = info.id;
		out[n].prog_id = info.prog_id;
		out[n].name = k->link_names[i];
		n++;
	}
	return n;
}

int kernel__events_fd(const struct kernel *k)
{
	return bpf_map__fd(k->skel->maps.events);
}

int kernel__read_losses(const struct kernel *k,
			uint64_t out[VOUCH_EVENT_KIND_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(k->skel->maps.losses);
	uint64_t *per_cpu;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (uint32_t kind = 0; kind < VOUCH_EVENT_KIND_MAX; kind++) {
		out[kind] = 0;
		if (bpf_map_lookup_elem(fd, &kind, per_cpu))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[kind] += per_cpu[c];
	}
	free(per_cpu);
	return 0;
}

int kernel__assign_cgroup(struct kernel *k, uint64_t cgroup_id,
			  uint32_t scope_id)
{
	struct vouch_cgroup_key key = { .cgroup_id = cgroup_id };
	struct vouch_cgroup_scope val = { .scope_id = scope_id };
	int err;

	if (!k->active)
		return -ENOENT;
	key.gen = k->active->gen;
	err = policy__add_cgroup(k->active, cgroup_id, scope_id);
	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.cgroup_scopes),
				&key, &val, BPF_ANY))
		return -errno;
	/* an exec that came first may have cached the ancestor's answer */
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.cgroup_cache),
				&key, &val, BPF_ANY))
		return -errno;
	return 0;
}
