// SPDX-License-Identifier: GPL-2.0-only
/* Pins under a bpffs directory, and their removal. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "log.h"
#include "pin.h"

#define BPFFS_DEFAULT	"/sys/fs/bpf"

int pin__path(char *buf, size_t len, const char *dir, const char *sub,
	      const char *name)
{
	int n = snprintf(buf, len, "%s%s%s%s%s", dir, sub ? "/" : "",
			 sub ? sub : "", name ? "/" : "", name ? name : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int on_bpffs(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
}

/* The directory that holds dir must be bpffs; /sys/fs/bpf is mounted. */
static int ensure_bpffs(const char *dir)
{
	char parent[PIN_PATH_MAX];
	char *slash;

	if (pin__path(parent, sizeof(parent), dir, NULL, NULL))
		return -ENAMETOOLONG;
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EINVAL;
	*slash = '\0';
	if (on_bpffs(parent))
		return 0;
	if (strcmp(parent, BPFFS_DEFAULT) != 0)
		return -ENOTSUP;
	if (mount("bpf", BPFFS_DEFAULT, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700"))
		return -errno;
	log_info("pin: mounted bpffs on %s", BPFFS_DEFAULT);
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	/* an existing one is made root's alone too */
	if (chmod(path, 0700))
		return -errno;
	return 0;
}

int pin__prepare(const char *dir)
{
	char path[PIN_PATH_MAX];
	int err = ensure_bpffs(dir);

	if (err) {
		log_error("pin: failed to find bpffs for '%s': %s", dir,
			  strerror(-err));
		return err;
	}
	err = make_dir(dir);
	if (!err)
		err = pin__path(path, sizeof(path), dir, "maps", NULL);
	if (!err)
		err = make_dir(path);
	if (!err)
		err = pin__path(path, sizeof(path), dir, "links", NULL);
	if (!err)
		err = make_dir(path);
	if (err)
		log_error("pin: failed to make '%s': %s", dir, strerror(-err));
	return err;
}

int pin__lock(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pin__replace_link(struct bpf_link *link, const char *dir, const char *name)
{
	char tmp[PIN_PATH_MAX], final[PIN_PATH_MAX], tmpname[NAME_MAX];
	int err;

	/* bpffs refuses names with a dot */
	snprintf(tmpname, sizeof(tmpname), "new-%s-%d", name, (int)getpid());
	err = pin__path(tmp, sizeof(tmp), dir, "links", tmpname);
	if (!err)
		err = pin__path(final, sizeof(final), dir, "links", name);
	if (err)
		return err;
	unlink(tmp);
	if (bpf_obj_pin(bpf_link__fd(link), tmp))
		return -errno;
	if (rename(tmp, final)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

static int kept(const char *name, const char *const *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, keep[i]) == 0)
			return 1;
	return 0;
}

/* Removes the entries of DIR/SUB, all of them or those not kept. */
static int remove_pins(const char *dir, const char *sub,
		       const char *const *keep, size_t n)
{
	char path[PIN_PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	if (pin__path(path, sizeof(path), dir, sub, NULL))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (keep && kept(de->d_name, keep, n))
			continue;
		if (pin__path(path, sizeof(path), dir, sub, de->d_name) ||
		    unlink(path))
			err = err ? err : -errno;
	}
	closedir(d);
	return err;
}

int pin__prune_links(const char *dir, const char *const *keep, size_t n)
{
	return remove_pins(dir, "links", keep, n);
}

int pin__has_maps(const char *dir)
{
	char path[PIN_PATH_MAX];
	struct dirent *de;
	int found = 0;
	DIR *d;

	if (pin__path(path, sizeof(path), dir, "maps", NULL))
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		found = de->d_name[0] != '.';
	closedir(d);
	return found;
}

int pin__unload(const char *dir)
{
	char path[PIN_PATH_MAX];
	int err;

	int lock;

	if (access(dir, F_OK) && errno == ENOENT)
		return 0;
	lock = pin__lock(dir);
	if (lock < 0)
		return lock;
	err = remove_pins(dir, "links", NULL, 0);
	if (!err)
		err = remove_pins(dir, "maps", NULL, 0);
	if (!err && !pin__path(path, sizeof(path), dir, "links", NULL))
		rmdir(path);
	if (!err && !pin__path(path, sizeof(path), dir, "maps", NULL))
		rmdir(path);
	if (!err && rmdir(dir) && errno != ENOENT)
		err = -errno;
	close(lock);
	return err;
}
