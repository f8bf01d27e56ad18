// SPDX-License-Identifier: GPL-2.0-only
/* Attributes processes that were running before vouchd to their cgroup. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "procscan.h"

/* The ppid is the second field after the last ')' of /proc/PID/stat,
 * since comm itself may hold spaces and parentheses. */
static int read_ppid(const char *proc_root, uint32_t tgid, uint32_t *ppid)
{
	char path[PATH_MAX], buf[1024];
	const char *close;
	unsigned int v;
	size_t n;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%u/stat", proc_root,
			     tgid) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	close = strrchr(buf, ')');
	if (!close || sscanf(close + 1, " %*c %u", &v) != 1)
		return -EINVAL;
	*ppid = v;
	return 0;
}

/* The "0::/path" line of /proc/PID/cgroup is the cgroup v2 membership. */
static int read_cgroup(const char *proc_root, const char *mount,
		       uint32_t tgid, uint64_t *id)
{
	char path[PATH_MAX], line[PATH_MAX + 8], dir[2 * PATH_MAX];
	int err = -ENOENT;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%u/cgroup", proc_root,
			     tgid) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::", 3) != 0)
			continue;
		snprintf(dir, sizeof(dir), "%s%s", mount, line + 3);
		*id = cgroup__id_of(dir);
		err = *id ? 0 : -ENOENT;
		break;
	}
	fclose(f);
	return err;
}

int procscan__read(const char *proc_root, const char *cgroup_mount,
		   uint32_t tgid, struct proc_info *out)
{
	int err;

	out->tgid = tgid;
	err = read_ppid(proc_root, tgid, &out->ppid);
	if (err)
		return err;
	return read_cgroup(proc_root, cgroup_mount, tgid, &out->cgroup_id);
}

static int by_value(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static size_t count_distinct(uint64_t *ids, size_t n)
{
	size_t distinct = 0;

	qsort(ids, n, sizeof(*ids), by_value);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			distinct++;
	return distinct;
}

int procscan__survey(const char *proc_root, const char *cgroup_mount,
		     struct procscan_summary *out)
{
	DIR *d = opendir(proc_root);
	uint64_t *ids = NULL, *grown;
	size_t cap = 0;
	struct dirent *de;

	memset(out, 0, sizeof(*out));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct proc_info info;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end ||
		    pid > UINT32_MAX)
			continue;
		/* a process that exits meanwhile is only counted */
		if (procscan__read(proc_root, cgroup_mount, (uint32_t)pid,
				   &info)) {
			out->unreadable++;
			continue;
		}
		if (out->processes == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown)
				break;
			ids = grown;
		}
		ids[out->processes++] = info.cgroup_id;
	}
	closedir(d);
	out->cgroups = count_distinct(ids, out->processes);
	free(ids);
	return 0;
}
