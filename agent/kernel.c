// SPDX-License-Identifier: GPL-2.0-only
/* Loads vouch's BPF programs and keeps the policy maps in sync. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "egress_kernel.h"
#include "kernel.h"
#include "log.h"
#include "pin.h"
#include "vouch.skel.h"

struct kernel {
	struct vouch_bpf *skel;
	struct bpf_link *links[16];
	const char *link_names[16];	/* of the program each link holds */
	struct kernel_link link_ids[16];
	int n_links;
	struct egress_kernel *egress;	/* connect programs, same maps */
	int lsm_exec;		/* exec judged by the BPF LSM program */
	char *pin_dir;			/* NULL: nothing pinned */
	uint32_t adopted_gen;		/* found in pinned maps, 0: none */
	/* entries of generations other than the active one may be left in
	 * adopted maps: removed at the next swap, as a previous one is */
	int sweep_stale;
	int reported_fd;		/* pinned: losses reported so far */
	int lock_fd;			/* holds pin_dir for this process */
	int adopting;			/* pinned maps were there at start */
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

static struct kernel_link link_ids_of(struct bpf_link *link, const char *name)
{
	struct kernel_link ids = { .name = name };
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len)) {
		ids.link_id = info.id;
		ids.prog_id = info.prog_id;
	}
	return ids;
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
	k->link_ids[k->n_links] = link_ids_of(link, bpf_program__name(prog));
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
		for (size_t i = 0; i < p->n_runtimes; i++) {
			g.runtimes[i].dev = p->runtimes[i].dev;
			g.runtimes[i].ino = p->runtimes[i].ino;
		}
		g.n_runtimes = (uint32_t)p->n_runtimes;
		err = put_global(k, 1 + (gen & 1), &g);
		if (err)
			return err;
	}
	memset(&g, 0, sizeof(g));
	g.gen = gen;
	g.agent_tgid = (uint32_t)getpid();
	return put_global(k, VOUCH_GLOBALS_ACTIVE, &g);
}

/* The egress object, loaded after this one so that it takes its maps. */
static int open_egress(struct kernel *k)
{
	struct bpf_link *links[4];
	const char *names[4];
	int n;

	k->egress = egress_kernel__open(k->skel->obj, k->pin_dir);
	if (!k->egress)
		return -errno;
	/* its links join the exec ones: pinned, and detached, together */
	n = egress_kernel__take_links(k->egress, links, names,
				      16 - k->n_links);
	for (int i = 0; i < n; i++) {
		k->link_names[k->n_links] = names[i];
		k->link_ids[k->n_links] = link_ids_of(links[i], names[i]);
		k->links[k->n_links++] = links[i];
	}
	return 0;
}

/* The max_entries of a pinned map, or 0 when there is none. */
static __u32 pinned_max_entries(const char *path)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

/*
 * Every map of the object (not libbpf's own .rodata and .bss, which belong
 * to one build) is pinned under DIR/maps; libbpf reuses a pin that is
 * there, so an earlier vouchd's policy and ring buffer carry on. The ring
 * buffer keeps its pinned size: a new size needs an unload.
 */
static int set_map_pins(struct kernel *k, unsigned int ringbuf_bytes)
{
	char path[PIN_PATH_MAX];
	struct bpf_map *map;
	__u32 pinned;
	int err;

	bpf_object__for_each_map(map, k->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		err = pin__path(path, sizeof(path), k->pin_dir, "maps",
				bpf_map__name(map));
		if (!err)
			err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	pin__path(path, sizeof(path), k->pin_dir, "maps",
		  bpf_map__name(k->skel->maps.events));
	pinned = pinned_max_entries(path);
	if (pinned && ringbuf_bytes && pinned != ringbuf_bytes)
		log_warn("kernel: keeping the pinned ring buffer of %u KiB, not %u KiB",
			 pinned / 1024, ringbuf_bytes / 1024);
	if (pinned)
		bpf_map__set_max_entries(k->skel->maps.events, pinned);
	return 0;
}

static int read_active_gen(struct kernel *k, uint32_t *gen)
{
	struct vouch_globals g;
	uint32_t slot = VOUCH_GLOBALS_ACTIVE;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.globals), &slot, &g))
		return -errno;
	*gen = g.gen;
	return 0;
}

/*
 * The new links replace the pinned ones, each in one rename, after the
 * new program is attached: for a moment both run (an exec may be judged,
 * and reported, twice), never neither. Pins of programs this build no
 * longer has go last. Our descriptors are closed: the pins alone hold the
 * links, so removing a pin detaches its program, and the health check
 * sees it.
 */
static int pin_links(struct kernel *k)
{
	const char *names[16];
	int err;

	for (int i = 0; i < k->n_links; i++) {
		names[i] = k->link_names[i];
		err = pin__replace_link(k->links[i], k->pin_dir, names[i]);
		if (err) {
			log_error("kernel: failed to pin link of '%s' in '%s': %s",
				  names[i], k->pin_dir, strerror(-err));
			return err;
		}
	}
	err = pin__prune_links(k->pin_dir, names, (size_t)k->n_links);
	if (err)
		log_warn("kernel: failed to remove stale links in '%s': %s",
			 k->pin_dir, strerror(-err));
	/* for a link with a pin, libbpf's detach only closes descriptors
	 * (the link's, and a tracepoint's perf event): the pin holds it */
	for (int i = 0; i < k->n_links; i++) {
		bpf_link__destroy(k->links[i]);
		k->links[i] = NULL;
	}
	return 0;
}

#define REPORTED_PIN	"reported_losses"

/*
 * A map of vouchd's own, never seen by a program: the loss counts already
 * reported. The kernel's counters outlive a vouchd in the pinned maps; with
 * this beside them the next one reports only what is new, not everything
 * again. A pin of another size (an upgrade with more event kinds) is
 * replaced: its counts are reported once more rather than misread.
 */
static int open_reported(struct kernel *k)
{
	__u32 vsz = sizeof(uint64_t) * VOUCH_EVENT_KIND_MAX;
	char path[PIN_PATH_MAX];
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, err;

	err = pin__path(path, sizeof(path), k->pin_dir, "maps", REPORTED_PIN);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.value_size == vsz) {
			k->reported_fd = fd;
			return 0;
		}
		close(fd);
		unlink(path);
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vouch_reported", sizeof(__u32),
			    vsz, 1, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd);
		return err;
	}
	k->reported_fd = fd;
	return 0;
}

int kernel__reported_losses(const struct kernel *k,
			    uint64_t out[VOUCH_EVENT_KIND_MAX])
{
	__u32 zero = 0;

	memset(out, 0, sizeof(uint64_t) * VOUCH_EVENT_KIND_MAX);
	if (k->reported_fd < 0)
		return 0;
	return bpf_map_lookup_elem(k->reported_fd, &zero, out) ? -errno : 0;
}

int kernel__save_reported_losses(struct kernel *k,
				 const uint64_t in[VOUCH_EVENT_KIND_MAX])
{
	__u32 zero = 0;

	if (k->reported_fd < 0)
		return 0;
	return bpf_map_update_elem(k->reported_fd, &zero, in, BPF_ANY) ?
	       -errno : 0;
}

static int take_pin_dir(struct kernel *k)
{
	k->lock_fd = pin__lock(k->pin_dir);
	if (k->lock_fd >= 0)
		return 0;
	if (k->lock_fd == -EBUSY)
		log_error("kernel: another vouchd runs on '%s'; stop it first",
			  k->pin_dir);
	else
		log_error("kernel: failed to lock '%s': %s", k->pin_dir,
			  strerror(-k->lock_fd));
	return k->lock_fd;
}

/*
 * Opens and loads the object, its maps pinned under pin_dir when there is
 * one; with lsm, the BPF LSM exec program too, and the tracepoint told to
 * leave exec to it. Callers say what failed: a failure is expected while
 * trying the LSM program.
 */
static int load(struct kernel *k, unsigned int ringbuf_bytes, int lsm)
{
	int err;

	k->skel = vouch_bpf__open();
	if (!k->skel) {
		err = -errno;
		log_error("kernel: failed to open BPF object: %s", strerror(-err));
		return err;
	}
	if (ringbuf_bytes)
		bpf_map__set_max_entries(k->skel->maps.events, ringbuf_bytes);
	bpf_program__set_autoload(k->skel->progs.vouch_exec_lsm, lsm);
	k->skel->rodata->lsm_exec = lsm;
	if (k->pin_dir) {
		err = pin__prepare(k->pin_dir);
		if (!err && k->lock_fd < 0)
			err = take_pin_dir(k);
		if (!err)
			err = set_map_pins(k, ringbuf_bytes);
		if (!err && k->reported_fd < 0)
			err = open_reported(k);
		if (err)
			return err;
	}
	err = vouch_bpf__load(k->skel);
	if (err)
		return err;
	if (!k->adopting)
		return set_globals(k, NULL, NULL);
	/* the policy in the pinned maps stays in force until ours replaces it */
	err = read_active_gen(k, &k->adopted_gen);
	k->sweep_stale = 1;
	if (!err)
		log_info("kernel: took over the maps pinned in '%s', policy generation %u in force",
			 k->pin_dir, k->adopted_gen);
	return err;
}

/* While trying the LSM program, libbpf's complaints are expected. */
static int libbpf_print_debug(enum libbpf_print_level level, const char *fmt,
			      va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("%s", line);
	return 0;
}

/*
 * Whether the kernel runs BPF LSM programs: the LSM exec program alone is
 * loaded and attached, then let go. Kernels built without it, or booted
 * without "bpf" among their LSMs, refuse it at load or at attach; trying
 * it alone spares them a second verification of every other program.
 */
static int probe_lsm(void)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	struct vouch_bpf *skel;
	int err;

	skel = vouch_bpf__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.vouch_exec_lsm);
	bpf_map__set_max_entries(skel->maps.events, (uint32_t)getpagesize());
	err = vouch_bpf__load(skel);
	if (!err) {
		link = bpf_program__attach(skel->progs.vouch_exec_lsm);
		err = link ? 0 : -errno;
		bpf_link__destroy(link);
	}
	vouch_bpf__destroy(skel);
	return err;
}

/*
 * Loads with the BPF LSM exec program and attaches it, where the kernel
 * runs BPF LSM programs; 0 when it is in place.
 */
static int try_lsm(struct kernel *k, unsigned int ringbuf_bytes)
{
	libbpf_print_fn_t old = libbpf_set_print(libbpf_print_debug);
	int err = probe_lsm();

	libbpf_set_print(old);
	if (!err)
		err = load(k, ringbuf_bytes, 1);
	if (!err)
		err = attach(k, k->skel->progs.vouch_exec_lsm, 1);
	if (!err) {
		k->lsm_exec = 1;
		log_info("kernel: exec judged in lsm/bprm_check_security (EPERM)");
		return 0;
	}
	log_info("kernel: BPF LSM programs do not run here: %s", strerror(-err));
	for (int i = k->n_links - 1; i >= 0; i--)
		bpf_link__destroy(k->links[i]);
	k->n_links = 0;
	vouch_bpf__destroy(k->skel);
	k->skel = NULL;
	return err;
}

/* The exec path: BPF LSM where it runs (and hook allows), else the tracepoint. */
static int load_exec_path(struct kernel *k, unsigned int ringbuf_bytes,
			  enum config_exec_hook hook)
{
	int err = -EOPNOTSUPP;

	if (hook != CONFIG_EXEC_HOOK_TRACEPOINT)
		err = try_lsm(k, ringbuf_bytes);
	if (err && hook == CONFIG_EXEC_HOOK_LSM) {
		log_error("kernel: exec_hook is lsm, and BPF LSM programs do not run here: %s",
			  strerror(-err));
		return err;
	}
	if (!err)
		return 0;
	log_info("kernel: exec judged in tp_btf/sched_process_exec (SIGKILL)");
	err = load(k, ringbuf_bytes, 0);
	if (err && k->adopting)
		log_error("kernel: failed to load BPF programs on the maps pinned in '%s': %s",
			  k->pin_dir, strerror(-err));
	else if (err)
		log_error("kernel: failed to load BPF programs: %s", strerror(-err));
	return err;
}

struct kernel *kernel__open_pinned(unsigned int ringbuf_bytes,
				   const char *pin_dir,
				   enum config_exec_hook hook)
{
	struct kernel *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return NULL;
	k->reported_fd = -1;
	k->lock_fd = -1;
	ensure_tracefs();
	if (pin_dir && !(k->pin_dir = strdup(pin_dir))) {
		err = -ENOMEM;
		goto err_free;
	}
	k->adopting = k->pin_dir && pin__has_maps(k->pin_dir);
	err = load_exec_path(k, ringbuf_bytes, hook);
	if (err)
		goto err_free;
	err = attach_all(k);
	if (!err)
		err = open_egress(k);
	if (!err && k->pin_dir)
		err = pin_links(k);
	if (err)
		goto err_free;
	return k;

err_free:
	kernel__close(k);
	errno = -err;
	return NULL;
}

struct kernel *kernel__open(unsigned int ringbuf_bytes,
			    enum config_exec_hook hook)
{
	return kernel__open_pinned(ringbuf_bytes, NULL, hook);
}

uint32_t kernel__adopted_gen(const struct kernel *k)
{
	return k->adopted_gen;
}

int kernel__unload(const char *pin_dir)
{
	return pin__unload(pin_dir);
}

/*
 * A program that started before its link went may still be running on
 * another CPU: they run inside RCU read-side sections, so one grace
 * period (membarrier's global command waits for one) sees them out.
 */
static void wait_for_running_programs(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(20000);
}

void kernel__detach(struct kernel *k)
{
	int detached = 0;

	if (!k)
		return;
	/* pinned links were let go already: the pins hold them */
	for (int i = k->n_links - 1; i >= 0; i--) {
		detached |= k->links[i] != NULL;
		bpf_link__destroy(k->links[i]);
		k->links[i] = NULL;
	}
	if (detached)
		wait_for_running_programs();
}

void kernel__close(struct kernel *k)
{
	if (!k)
		return;
	/* its links are among k->links, handed over at open */
	egress_kernel__close(k->egress);
	kernel__detach(k);
	vouch_bpf__destroy(k->skel);
	if (k->reported_fd >= 0)
		close(k->reported_fd);
	if (k->lock_fd >= 0)
		close(k->lock_fd);
	free(k->pin_dir);
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
			.mode = p->cgroups[i].mode,
			.flags = p->cgroups[i].flags,
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
	if (!err && k->egress)
		err = egress_kernel__entries(k->egress, p, op == op_delete);
	if (!err)
		err = each_cgroup(p, bpf_map__fd(s->maps.cgroup_scopes), op);
	if (!err)
		err = each_scope(p, bpf_map__fd(s->maps.scopes), op);
	return err;
}

#define SWEEP_BATCH	1024

/*
 * Deletes the entries of map whose generation (a __u32 at gen_off in the
 * key) is not keep: in batches, each found by a walk from the start, since
 * deleting the key a walk stands on would restart it anyway.
 */
static int sweep_map(struct bpf_map *map, size_t gen_off, uint32_t keep)
{
	size_t ksz = bpf_map__key_size(map), n;
	int fd = bpf_map__fd(map), err = 0;
	char *keys = malloc(ksz * (SWEEP_BATCH + 1));
	char *cur, *prev;
	uint32_t gen;

	if (!keys)
		return -ENOMEM;
	do {
		n = 0;
		prev = NULL;
		cur = keys + ksz * SWEEP_BATCH;	/* the walk's own slot */
		while (n < SWEEP_BATCH && !bpf_map_get_next_key(fd, prev, cur)) {
			memcpy(&gen, cur + gen_off, sizeof(gen));
			if (gen != keep)
				memcpy(keys + ksz * n++, cur, ksz);
			prev = cur;
		}
		for (size_t i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, keys + ksz * i) &&
			    errno != ENOENT)
				err = -errno;
	} while (n == SWEEP_BATCH && !err);
	free(keys);
	return err;
}

/* Everything an earlier vouchd left but the generation in force. */
static void sweep_stale(struct kernel *k, uint32_t keep)
{
	struct vouch_bpf *s = k->skel;
	struct {
		struct bpf_map *map;
		size_t gen_off;
	} maps[] = {
		{ s->maps.allow_paths, offsetof(struct vouch_path_key, gen) },
		{ s->maps.deny_paths, offsetof(struct vouch_path_key, gen) },
		{ s->maps.exception_paths, offsetof(struct vouch_path_key, gen) },
		{ s->maps.inodes, offsetof(struct vouch_inode_key, gen) },
		{ s->maps.cgroup_scopes, offsetof(struct vouch_cgroup_key, gen) },
		{ s->maps.scopes, offsetof(struct vouch_scope_key, gen) },
	};
	struct bpf_object *eo = egress_kernel__object(k->egress);
	struct bpf_map *egress = eo ? bpf_object__find_map_by_name(eo, "egress") : NULL;
	struct bpf_map *expiry = eo ? bpf_object__find_map_by_name(eo, "egress_expiry") : NULL;
	int err;

	if (egress)
		sweep_map(egress, offsetof(struct vouch_egress_key, gen), keep);
	if (expiry)
		sweep_map(expiry, offsetof(struct vouch_rule_key, gen), keep);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = sweep_map(maps[i].map, maps[i].gen_off, keep);
		if (err)
			log_warn("kernel: failed to clear old generations from map '%s': %s",
				 bpf_map__name(maps[i].map), strerror(-err));
	}
	k->sweep_stale = 0;
}

int kernel__apply(struct kernel *k, struct policy *p)
{
	struct vouch_scope host;
	int err;

	/* as with previous below: only once ours has been in force a while */
	if (k->sweep_stale && k->active)
		sweep_stale(k, k->active->gen);
	kernel__retire_previous(k);
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

void kernel__retire_previous(struct kernel *k)
{
	int err;

	if (!k->previous)
		return;
	err = each_entry(k, k->previous, op_delete);
	if (err)
		log_warn("kernel: failed to clear policy generation %u: %s",
			 k->previous->gen, strerror(-err));
	policy__free(k->previous);
	k->previous = NULL;
}

const struct policy *kernel__policy(const struct kernel *k, uint32_t gen)
{
	if (k->active && k->active->gen == gen)
		return k->active;
	if (k->previous && k->previous->gen == gen)
		return k->previous;
	return NULL;
}

int kernel__lsm_exec(const struct kernel *k)
{
	return k->lsm_exec;
}

const struct policy *kernel__active(const struct kernel *k)
{
	return k->active;
}

int kernel__sample_connects(struct kernel *k, uint64_t every)
{
	return egress_kernel__sample(k->egress, every);
}

size_t kernel__links(const struct kernel *k, struct kernel_link *out,
		     size_t max)
{
	size_t n = 0;

	for (int i = 0; i < k->n_links && n < max; i++)
		out[n++] = k->link_ids[i];
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
	struct policy_cgroup e = { .cgroup_id = cgroup_id, .scope_id = scope_id };

	return kernel__set_cgroup(k, &e);
}

int kernel__set_cgroup(struct kernel *k, const struct policy_cgroup *e)
{
	struct vouch_cgroup_key key = { .cgroup_id = e->cgroup_id };
	struct vouch_cgroup_scope val = {
		.scope_id = e->scope_id, .mode = e->mode, .flags = e->flags,
	};
	struct vouch_cgroup_context ctx;
	int err;

	if (!k->active || e->scope_id >= k->active->n_scopes)
		return -ENOENT;
	key.gen = k->active->gen;
	err = policy__add_cgroup_entry(k->active, e);
	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.cgroup_scopes),
				&key, &val, BPF_ANY))
		return -errno;
	/*
	 * An exec that came first may have cached the ancestor's answer, or
	 * "pending" for a container; a root's own processes are not in one.
	 */
	ctx.cs = val;
	ctx.cs.flags &= (uint16_t)~VOUCH_CGROUP_CONTAINER_ROOT;
	ctx.scope = scope_value(k->active, e->scope_id);
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.cgroup_cache),
				&key, &ctx, BPF_ANY))
		return -errno;
	return 0;
}
