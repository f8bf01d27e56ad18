// SPDX-License-Identifier: GPL-2.0-only
/* The cgroup v2 tree, indexed by the ids the kernel puts in events. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "cgroup.h"

int cgroup__find_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[4096], fstype[64];
		const char *sep = strstr(line, " - ");

		/* fields: id parent maj:min root mountpoint ... - fstype */
		if (!sep || sscanf(sep, " - %63s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (strlen(mnt) >= len) {
			err = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

static int is_cgroup2(const char *dir)
{
	struct statfs fs;

	return statfs(dir, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

uint64_t cgroup__id_of(const char *dir)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;

	/* any 8-byte file handle would do otherwise, e.g. ext4's */
	if (!is_cgroup2(dir))
		return 0;
	/* a cgroup2 file handle is the 64-bit cgroup id itself */
	if (name_to_handle_at(AT_FDCWD, dir, &h.fh, &mount_id, 0) < 0)
		return 0;
	return h.id;
}

static int add_entry(struct cgroup_index *idx, size_t *cap, uint64_t id,
		     const char *path)
{
	struct cgroup_entry *grown;

	if (idx->n == CGROUP_SCAN_MAX)
		return -E2BIG;
	if (idx->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;

		grown = realloc(idx->entries, ncap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		idx->entries = grown;
		*cap = ncap;
	}
	idx->entries[idx->n].path = strdup(path);
	if (!idx->entries[idx->n].path)
		return -ENOMEM;
	idx->entries[idx->n].id = id;
	idx->n++;
	return 0;
}

static int scan_dir(struct cgroup_index *idx, size_t *cap, const char *rel,
		    int depth)
{
	char full[PATH_MAX], child[PATH_MAX];
	struct dirent *de;
	uint64_t id;
	DIR *d;
	int err;

	snprintf(full, sizeof(full), "%s%s", idx->mount,
		 strcmp(rel, "/") == 0 ? "" : rel);
	id = cgroup__id_of(full);
	if (id) {
		err = add_entry(idx, cap, id, rel);
		if (err)
			return err;
	}
	if (depth >= CGROUP_DEPTH_MAX)
		return 0;
	d = opendir(full);
	if (!d)
		return 0;	/* removed while we walked: not an error */
	err = 0;
	while (!err && (de = readdir(d))) {
		int n;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		n = snprintf(child, sizeof(child), "%s/%s",
			     strcmp(rel, "/") == 0 ? "" : rel, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(child) ||
		    strlen(idx->mount) + (size_t)n >= PATH_MAX)
			continue;
		err = scan_dir(idx, cap, child, depth + 1);
	}
	closedir(d);
	return err;
}

static int by_id(const void *a, const void *b)
{
	const struct cgroup_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct cgroup_index *cgroup__scan(const char *mount)
{
	struct cgroup_index *idx = calloc(1, sizeof(*idx));
	size_t cap = 0;
	int err;

	if (!idx)
		return NULL;
	if (!is_cgroup2(mount)) {
		err = -ENOTDIR;
		goto err_free;
	}
	idx->mount = strdup(mount);
	if (!idx->mount) {
		err = -ENOMEM;
		goto err_free;
	}
	err = scan_dir(idx, &cap, "/", 0);
	if (err)
		goto err_free;
	qsort(idx->entries, idx->n, sizeof(idx->entries[0]), by_id);
	return idx;

err_free:
	cgroup__free(idx);
	errno = -err;
	return NULL;
}

const char *cgroup__path(const struct cgroup_index *idx, uint64_t id)
{
	struct cgroup_entry key = { .id = id }, *hit;

	if (!idx || !idx->n)
		return NULL;
	hit = bsearch(&key, idx->entries, idx->n, sizeof(key), by_id);
	return hit ? hit->path : NULL;
}

void cgroup__free(struct cgroup_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n; i++)
		free(idx->entries[i].path);
	free(idx->entries);
	free(idx->mount);
	free(idx);
}
