// SPDX-License-Identifier: GPL-2.0-only
/* Deploy metadata of systemd units, read from one YAML file per unit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "units.h"
#include "yamltree.h"

static const char *const deploy_keys[] = {
	"service", "version", "deploy_id", "environment", NULL
};

struct unit_meta {
	char name[UNITS_NAME_MAX + 1];
	struct timespec mtime;		/* of the file read; 0: no file */
	int valid;
	char *fields[4];		/* in deploy_keys order */
};

struct units {
	char *dir;
	struct unit_meta *items;
	size_t n;
};

struct units *units__new(const char *deploy_dir)
{
	struct units *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->dir = strdup(deploy_dir);
	u->items = calloc(UNITS_MAX, sizeof(*u->items));
	if (!u->dir || !u->items) {
		units__free(u);
		return NULL;
	}
	return u;
}

static void clear_fields(struct unit_meta *m)
{
	for (int i = 0; i < 4; i++) {
		free(m->fields[i]);
		m->fields[i] = NULL;
	}
	m->valid = 0;
}

void units__free(struct units *u)
{
	if (!u)
		return;
	for (size_t i = 0; u->items && i < u->n; i++)
		clear_fields(&u->items[i]);
	free(u->items);
	free(u->dir);
	free(u);
}

int units__unit_of(const char *cgroup_path, char *buf, size_t len)
{
	const char *p = cgroup_path, *found = NULL, *end = NULL;

	/* the innermost "*.service" component names the unit */
	while (p && *p) {
		const char *next = strchr(p + 1, '/');
		size_t n = next ? (size_t)(next - p) : strlen(p);

		if (n > 9 && !strncmp(p + n - 8, ".service", 8)) {
			found = p + 1;
			end = p + n;
		}
		p = next;
	}
	if (!found || (size_t)(end - found) >= len ||
	    (size_t)(end - found) > UNITS_NAME_MAX)
		return -ENOENT;
	memcpy(buf, found, (size_t)(end - found));
	buf[end - found] = '\0';
	return 0;
}

static void read_deploy_file(const char *path, struct unit_meta *m)
{
	struct diags d = { 0 };
	struct ydoc *doc = ytree__load_file(path, &d);
	const struct ynode *root = doc ? doc->root : NULL;
	char why[256];

	if (root && root->type == YNODE_MAPPING &&
	    ytree__check_keys(doc, root, deploy_keys, "a deploy file", &d) == 0) {
		for (int i = 0; deploy_keys[i]; i++) {
			const struct ynode *v = ytree__get(root, deploy_keys[i]);

			if (v && v->type == YNODE_SCALAR && v->len)
				m->fields[i] = strdup(v->value);
		}
		m->valid = 1;
	}
	if (!m->valid)
		log_warn("units: %s: ignored: %s", path,
			 d.n ? diags__first_error(&d, why, sizeof(why)) :
			 "expected a mapping of service, version, deploy_id, environment");
	ytree__free(doc);
	diags__free(&d);
}

static struct unit_meta *lookup(struct units *u, const char *unit)
{
	char path[4096];
	struct unit_meta *m = NULL;
	struct stat st;

	for (size_t i = 0; i < u->n && !m; i++)
		if (!strcmp(u->items[i].name, unit))
			m = &u->items[i];
	if (!m) {
		/* a full cache starts over: units are few on a host */
		if (u->n == UNITS_MAX) {
			for (size_t i = 0; i < u->n; i++)
				clear_fields(&u->items[i]);
			u->n = 0;
		}
		m = &u->items[u->n++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", unit);
	}
	snprintf(path, sizeof(path), "%s/%s.yaml", u->dir, unit);
	if (stat(path, &st) < 0) {
		clear_fields(m);
		memset(&m->mtime, 0, sizeof(m->mtime));
		return m;
	}
	if (st.st_mtim.tv_sec == m->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == m->mtime.tv_nsec)
		return m;
	clear_fields(m);
	m->mtime = st.st_mtim;
	read_deploy_file(path, m);
	return m;
}

int units__fill_workload(struct units *u, const char *cgroup_path,
			 struct event_workload *w)
{
	char unit[UNITS_NAME_MAX + 1];
	struct unit_meta *m;

	if (!u || !cgroup_path || units__unit_of(cgroup_path, unit, sizeof(unit)))
		return 0;
	m = lookup(u, unit);
	w->kind = "systemd-unit";
	w->systemd_unit = m->name;
	if (m->valid) {
		w->service = m->fields[0];
		w->version = m->fields[1];
		w->deploy_id = m->fields[2];
		w->environment = m->fields[3];
	}
	return 1;
}
