// SPDX-License-Identifier: GPL-2.0-only
/* Loads and attaches the egress programs, and writes their trie. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cgroup.h"
#include "egress_kernel.h"
#include "log.h"
#include "pin.h"
#include "egress.skel.h"

struct egress_kernel {
	struct egress_bpf *skel;
	struct bpf_link *links[4];
	const char *names[4];		/* of the program each link holds */
	int n_links;
};

/* The maps both objects declare through bpf/common.bpf.h. */
static const char *const shared_maps[] = {
	"globals", "cgroup_scopes", "scopes", "cgroup_cache", "events",
	"losses", NULL,
};

static int share_maps(struct egress_kernel *ek, struct bpf_object *exec_obj)
{
	struct bpf_map *mine, *theirs;
	int err;

	for (int i = 0; shared_maps[i]; i++) {
		theirs = bpf_object__find_map_by_name(exec_obj, shared_maps[i]);
		mine = bpf_object__find_map_by_name(ek->skel->obj,
						    shared_maps[i]);
		if (!theirs || !mine)
			return -ENOENT;
		err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
		if (err)
			return err;
	}
	return 0;
}

static int attach_root(struct egress_kernel *ek)
{
	struct bpf_program *progs[] = {
		ek->skel->progs.vouch_connect4, ek->skel->progs.vouch_connect6,
		ek->skel->progs.vouch_sendmsg4, ek->skel->progs.vouch_sendmsg6,
	};
	char root[PATH_MAX];
	int fd, err;

	err = cgroup__find_mount(root, sizeof(root));
	if (err)
		return err;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_link *link = bpf_program__attach_cgroup(progs[i], fd);

		if (!link) {
			err = -errno;
			log_error("kernel: failed to attach program '%s' to '%s': %s",
				  bpf_program__name(progs[i]), root,
				  strerror(-err));
			break;
		}
		ek->names[ek->n_links] = bpf_program__name(progs[i]);
		ek->links[ek->n_links++] = link;
	}
	close(fd);
	return err;
}

static int is_shared(const char *name)
{
	for (int i = 0; shared_maps[i]; i++)
		if (!strcmp(shared_maps[i], name))
			return 1;
	return 0;
}

/* The egress trie and its companions, pinned beside the exec maps. */
static int set_map_pins(struct egress_kernel *ek, const char *pin_dir)
{
	char path[PIN_PATH_MAX];
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, ek->skel->obj) {
		if (bpf_map__is_internal(map) || is_shared(bpf_map__name(map)))
			continue;
		err = pin__path(path, sizeof(path), pin_dir, "maps",
				bpf_map__name(map));
		if (!err)
			err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

struct bpf_object *egress_kernel__object(const struct egress_kernel *ek)
{
	return ek ? ek->skel->obj : NULL;
}

int egress_kernel__take_links(struct egress_kernel *ek, struct bpf_link **links,
			      const char **names, int max)
{
	int n = 0;

	for (int i = 0; i < ek->n_links && n < max; i++) {
		links[n] = ek->links[i];
		names[n++] = ek->names[i];
		ek->links[i] = NULL;
	}
	ek->n_links = 0;
	return n;
}

struct egress_kernel *egress_kernel__open(struct bpf_object *exec_obj,
					  const char *pin_dir)
{
	struct egress_kernel *ek = calloc(1, sizeof(*ek));
	int err;

	if (!ek)
		return NULL;
	ek->skel = egress_bpf__open();
	if (!ek->skel) {
		err = -errno;
		log_error("kernel: failed to open the egress BPF object: %s",
			  strerror(-err));
		goto err_free;
	}
	err = share_maps(ek, exec_obj);
	if (!err && pin_dir)
		err = set_map_pins(ek, pin_dir);
	if (err) {
		log_error("kernel: failed to share maps with the egress object: %s",
			  strerror(-err));
		goto err_free;
	}
	err = egress_bpf__load(ek->skel);
	if (err) {
		log_error("kernel: failed to load the egress programs: %s",
			  strerror(-err));
		goto err_free;
	}
	err = attach_root(ek);
	if (err)
		goto err_free;
	return ek;

err_free:
	egress_kernel__close(ek);
	errno = -err;
	return NULL;
}

void egress_kernel__close(struct egress_kernel *ek)
{
	if (!ek)
		return;
	for (int i = ek->n_links - 1; i >= 0; i--)
		bpf_link__destroy(ek->links[i]);
	egress_bpf__destroy(ek->skel);
	free(ek);
}

static int put(int fd, const void *key, const void *value, int remove)
{
	if (remove) {
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			return -errno;
		return 0;
	}
	return bpf_map_update_elem(fd, key, value, BPF_ANY) ? -errno : 0;
}

/* Exception expiry first, then the trie that refers to it. */
int egress_kernel__entries(struct egress_kernel *ek, const struct policy *p,
			   int remove)
{
	int trie = bpf_map__fd(ek->skel->maps.egress);
	int expiry = bpf_map__fd(ek->skel->maps.egress_expiry);
	int err = 0;

	for (size_t i = 0; !err && i < p->n_egress; i++) {
		const struct policy_egress *pe = &p->egress[i];
		struct vouch_rule_key key = {
			.gen = p->gen, .rule_id = pe->rule_id,
		};

		if (pe->kind == VOUCH_EGRESS_EXCEPTION)
			err = put(expiry, &key, &pe->expires_boot_ns, remove);
	}
	for (size_t i = 0; !err && i < p->n_egress_map; i++)
		err = put(trie, &p->egress_map[i].key, &p->egress_map[i].rule,
			  remove);
	return err;
}

int egress_kernel__sample(struct egress_kernel *ek, uint64_t every)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vouch_connect_sample *v;
	uint32_t zero = 0;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++)
		v[c].every = every;
	if (bpf_map_update_elem(bpf_map__fd(ek->skel->maps.connect_sample),
				&zero, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}
