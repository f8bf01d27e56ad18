// SPDX-License-Identifier: GPL-2.0-only
/* Finding, identifying, judging, releasing or killing containers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "container_id.h"
#include "containers.h"
#include "events.h"
#include "k8s.h"
#include "log.h"
#include "oci.h"
#include "policy.h"

#define CONTAINERS_MAX		VOUCH_MAX_CGROUPS
#define CGROUP_PATH_LIMIT	4096
#define KILL_ROUNDS		20

struct container {
	uint64_t cgroup_id;
	char *path;			/* relative to the cgroup mount */
	struct container_id cid;
	int is_container;		/* the path names a container */
	struct workload_meta meta;
	int identified;			/* a provider answered */
	int decided;
	int preexisting;		/* running before vouchd started */
	int infrastructure;		/* below a root, but no container */
	int failed;			/* the fail action: 1 released, 2 killed */
	int64_t deadline_ns;		/* CLOCK_MONOTONIC; 0: none */
	struct vouch_exec_event *held;	/* the exec the kernel stopped */
	struct policy_container_verdict verdict;	/* image: NULL after */
	int attested;
	char why[320];			/* why the last lookup failed */
};

struct containers {
	struct kernel *kernel;
	struct events *events;
	struct containers_config cfg;
	struct container *items;
	size_t n;
	size_t cap;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct containers *containers__new(struct kernel *k, struct events *e,
				   const struct containers_config *cfg)
{
	struct containers *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->kernel = k;
	c->events = e;
	c->cfg = *cfg;
	return c;
}

static void container_clear(struct container *ct)
{
	free(ct->path);
	free(ct->held);
	workload__meta_clear(&ct->meta);
	memset(ct, 0, sizeof(*ct));
}

void containers__free(struct containers *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		container_clear(&c->items[i]);
	free(c->items);
	free(c);
}

static struct container *find(struct containers *c, uint64_t cgroup_id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].cgroup_id == cgroup_id)
			return &c->items[i];
	return NULL;
}

/*
 * The directory of the container's own cgroup; -1 when there is none to
 * name: no path known, the root, or one too long (cut short, it would name
 * an ancestor, whose every task a kill would take).
 */
static int cgroup_dir(const struct containers *c, const struct container *ct,
		      char *dir, size_t len)
{
	int n;

	if (!ct->path || !ct->path[0] || !strcmp(ct->path, "/"))
		return -1;
	n = snprintf(dir, len, "%s%s", c->cfg.cgroup_mount, ct->path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether the container's cgroup was removed: its runtime is done with it. */
static int cgroup_gone(const struct containers *c, const struct container *ct)
{
	char dir[PATH_MAX];

	if (cgroup_dir(c, ct, dir, sizeof(dir)))
		return 0;	/* nothing to ask about: not known to be gone */
	return access(dir, F_OK) != 0 && errno == ENOENT;
}

/* Whether the kernel ever held or reported an exec of it: worth a verdict. */
static int exec_seen(const struct container *ct)
{
	return ct->deadline_ns || ct->held;
}

/*
 * Drops containers whose cgroup is gone, to make room: decided ones, and
 * those nothing ran in that vouchd knows of (created, never started).
 */
static void forget_removed(struct containers *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct container *ct = &c->items[i];

		if ((ct->decided || !exec_seen(ct)) && cgroup_gone(c, ct)) {
			container_clear(ct);
			continue;
		}
		c->items[kept++] = *ct;
	}
	c->n = kept;
}

static struct container *add(struct containers *c, uint64_t cgroup_id,
			     const char *path)
{
	struct container *ct;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct container *bigger;

		forget_removed(c);
		if (c->n == CONTAINERS_MAX)
			return NULL;
		if (c->n < c->cap)
			goto room;
		bigger = realloc(c->items, cap * sizeof(*bigger));
		if (!bigger)
			return NULL;
		c->items = bigger;
		c->cap = cap;
	}
room:
	ct = &c->items[c->n];
	memset(ct, 0, sizeof(*ct));
	ct->cgroup_id = cgroup_id;
	ct->path = path ? strdup(path) : NULL;
	if (path && !ct->path)
		return NULL;
	c->n++;
	return ct;
}

/* The cgroup v2 path of a live process, from /proc; NULL if unreadable. */
static char *path_of_pid(uint32_t pid, char *why, size_t why_len)
{
	char file[64], line[CGROUP_PATH_LIMIT + 8];
	char *path = NULL;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	f = fopen(file, "re");
	if (!f) {
		snprintf(why, why_len, "process %u is gone", pid);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		if (strncmp(line, "0::", 3))
			continue;
		if (len && line[len - 1] != '\n') {
			snprintf(why, why_len, "cgroup path of process %u is over %d bytes",
				 pid, CGROUP_PATH_LIMIT);
			break;
		}
		line[len - 1] = '\0';
		path = strdup(line + 3);
		break;
	}
	fclose(f);
	if (!path && !why[0])
		snprintf(why, why_len, "process %u has no cgroup v2 path", pid);
	return path;
}

/* Whether some ancestor of path is a container root of the policy. */
static int below_root(const struct policy *p, const char *path)
{
	char prefix[CGROUP_PATH_LIMIT + 1];
	size_t len = strlen(path);

	if (!p || len > CGROUP_PATH_LIMIT)
		return 0;
	memcpy(prefix, path, len + 1);
	for (char *slash = strrchr(prefix, '/'); slash && slash != prefix;
	     slash = strrchr(prefix, '/')) {
		*slash = '\0';
		if (policy__is_container_root(p, prefix))
			return 1;
	}
	return 0;
}

/* Copies a pod's metadata; the OCI provider fills what it leaves out. */
static int adopt_pod(struct workload_meta *m, const struct k8s_pod_meta *pm)
{
	int err = 0;

	err |= workload__set(&m->namespace_, pm->namespace);
	err |= workload__set(&m->pod, pm->pod_name);
	err |= workload__set(&m->pod_uid, pm->pod_uid);
	err |= workload__set(&m->container_name, pm->container_name);
	err |= workload__set(&m->service, pm->service);
	err |= workload__set(&m->version, pm->version);
	err |= workload__set(&m->deploy_id, pm->deploy_id);
	err |= workload__set(&m->image_ref, pm->image_ref ? pm->image_ref :
			     pm->image);
	/* a runtime's local image ID is not a digest an attestation names */
	if (pm->digest_from_repo)
		err |= workload__set(&m->image_digest, pm->image_digest);
	if (pm->n_labels && !m->labels) {
		m->labels = calloc(pm->n_labels, sizeof(*m->labels));
		for (size_t i = 0; m->labels && i < pm->n_labels; i++, m->n_labels++) {
			m->labels[i].key = strdup(pm->labels[i].key);
			m->labels[i].value = strdup(pm->labels[i].value);
		}
	}
	err |= workload__set(&m->source, "kubernetes");
	return err ? -ENOMEM : 0;
}

/* The Kubernetes provider: 0, -ENOENT (not yet), or -EBADMSG (refused). */
static int ask_kubernetes(struct containers *c, struct container *ct)
{
	struct k8s_pod_meta pm = { 0 };
	int err;

	if (!c->cfg.k8s)
		return -ENOENT;
	err = k8s__lookup(c->cfg.k8s, ct->cid.id, &pm);
	if (err == -EAGAIN)
		err = -ENOENT;
	if (err == -EBADMSG)
		snprintf(ct->why, sizeof(ct->why),
			 "the API server's pod for container %s was refused (see the log)",
			 ct->cid.id);
	if (!err)
		err = adopt_pod(&ct->meta, &pm);
	k8s__meta_free(&pm);
	return err;
}

/*
 * Asks the providers, Kubernetes first, then the OCI config.json for
 * what it leaves out. 0 when identified; -ENOENT when nothing is known
 * yet (worth retrying); another error when what is there is unusable.
 */
static int identify(struct containers *c, struct container *ct)
{
	const struct policy *p = kernel__active(c->kernel);
	int err, oci;

	if (!ct->path)
		return -ENOENT;
	if (!ct->is_container &&
	    container_id__parse(ct->path, below_root(p, ct->path), &ct->cid)) {
		if (container_id__is_infrastructure(ct->path))
			return -ECHILD;
		snprintf(ct->why, sizeof(ct->why),
			 "cgroup '%.200s' names no container", ct->path);
		return -EINVAL;
	}
	ct->is_container = 1;
	workload__meta_clear(&ct->meta);
	err = ask_kubernetes(c, ct);
	if (err && err != -ENOENT)
		return err;
	oci = oci__lookup(c->cfg.oci_locations, ct->cid.id, &ct->meta, ct->why,
			  sizeof(ct->why));
	if (err == 0 && oci == -ENOENT)
		oci = 0;
	if (oci)
		return oci;
	ct->meta.runtime = ct->cid.runtime;
	err = workload__set(&ct->meta.container_id, ct->cid.id);
	if (!err && ct->cid.pod_uid[0])
		err = workload__set(&ct->meta.pod_uid, ct->cid.pod_uid);
	if (!err)
		ct->identified = 1;
	return err;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Sends sig to every process of the cgroup; how many, or -errno. */
static int signal_cgroup(const char *dir, int sig)
{
	char file[PATH_MAX];
	unsigned long pid;
	int n = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%lu", &pid) == 1)
		if (pid > 1 && kill((pid_t)pid, sig) == 0)
			n++;
	fclose(f);
	return n;
}

/*
 * cgroup.kill takes every task at once, forks included (Linux 5.14+).
 * Without a cgroup to name, only the task the kernel held.
 */
static void kill_container(struct containers *c, const struct container *ct)
{
	char dir[PATH_MAX], file[PATH_MAX + 16];

	if (cgroup_dir(c, ct, dir, sizeof(dir))) {
		if (ct->held)
			kill((pid_t)ct->held->tgid, SIGKILL);
		return;
	}
	snprintf(file, sizeof(file), "%s/cgroup.kill", dir);
	if (write_file(file, "1") == 0)
		return;
	for (int i = 0; i < KILL_ROUNDS && signal_cgroup(dir, SIGKILL) > 0; i++)
		usleep(1000);
}

static void release_container(struct containers *c, const struct container *ct)
{
	char dir[PATH_MAX];

	if (!cgroup_dir(c, ct, dir, sizeof(dir)))
		signal_cgroup(dir, SIGCONT);
	else if (ct->held)
		kill((pid_t)ct->held->tgid, SIGCONT);
}

static const char *mode_name(unsigned int mode)
{
	static const char *const names[] = { "off", "audit", "enforce" };

	return mode < 3 ? names[mode] : "unknown";
}

/* How long the kernel has held the exec, for the record. */
static double held_ms(const struct container *ct)
{
	struct timespec ts;
	int64_t now;

	if (!ct->held)
		return 0;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return (double)(now - (int64_t)ct->held->boot_ns) / 1e6;
}

static void report(struct containers *c, const struct container *ct,
		   const char *verdict, const char *action, unsigned int mode,
		   const char *rule, const char *reason)
{
	struct events_verdict v = {
		.kind = "container", .verdict = verdict, .action = action,
		.mode = mode_name(mode), .rule = rule, .reason = reason,
		.cgroup_id = ct->cgroup_id,
	};
	char text[640];

	if (ct->held && ct->held->action == VOUCH_ACTION_HELD) {
		snprintf(text, sizeof(text), "%s (first exec held %.3f ms)",
			 reason, held_ms(ct));
		v.reason = text;
	}
	events__emit_verdict(c->events, ct->held, &v);
}

/* The exec the kernel held is judged too: it is the workload's first. */
static int held_exec_allowed(struct containers *c, struct container *ct)
{
	const struct policy *p = kernel__active(c->kernel);
	char exe[VOUCH_PATH_MAX + 1], reason[VOUCH_PATH_MAX + 128];
	uint32_t rule_id;
	struct events_verdict v = { .kind = "exec", .verdict = "deny" };

	if (!ct->held || !p)
		return 1;
	memcpy(exe, ct->held->path, VOUCH_PATH_MAX);
	exe[VOUCH_PATH_MAX] = '\0';
	if (policy__path_allowed(p, ct->verdict.scope_id, exe, &rule_id))
		return 1;
	v.mode = mode_name(ct->verdict.mode);
	v.action = ct->verdict.mode == VOUCH_MODE_ENFORCE ? "killed" : "reported";
	v.rule = policy__scope_name(p, ct->verdict.scope_id);
	snprintf(reason, sizeof(reason),
		 "executable %s is not on the allow-list of scope '%s'", exe,
		 policy__scope_name(p, ct->verdict.scope_id));
	v.reason = reason;
	v.cgroup_id = ct->cgroup_id;
	if (ct->verdict.mode == VOUCH_MODE_ENFORCE)
		kill((pid_t)ct->held->tgid, SIGKILL);
	events__emit_verdict(c->events, ct->held, &v);
	return 0;
}

static void set_entry(struct containers *c, struct container *ct,
		      uint32_t scope_id, unsigned int mode)
{
	struct policy_cgroup e = {
		.cgroup_id = ct->cgroup_id, .scope_id = scope_id,
		.mode = (uint16_t)mode, .flags = VOUCH_CGROUP_MODE,
	};
	int err = kernel__set_cgroup(c->kernel, &e);

	if (err)
		log_warn("containers: failed to set the scope of %s: %s",
			 ct->cid.id[0] ? ct->cid.id : ct->path, strerror(-err));
}

/* What the attestation says about the image, where metadata is silent. */
static void adopt_attested(struct workload_meta *m,
			   const struct allowlist_image *img)
{
	if (workload__set(&m->service, img->service) ||
	    workload__set(&m->version, img->version) ||
	    workload__set(&m->deploy_id, img->deploy_id) ||
	    workload__set(&m->environment, img->environment))
		log_warn("containers: out of memory copying attested metadata");
}

static void decide(struct containers *c, struct container *ct)
{
	const struct policy *p = kernel__active(c->kernel);
	struct policy_container_verdict *v = &ct->verdict;
	int enforce;

	if (!p)
		return;
	policy__judge_container(p, &ct->meta, v);
	ct->attested = !v->violation;
	if (v->image)
		adopt_attested(&ct->meta, v->image);
	set_entry(c, ct, v->scope_id, v->mode);
	ct->decided = 1;
	ct->deadline_ns = 0;
	if (v->mode == VOUCH_MODE_OFF) {
		release_container(c, ct);
		return;
	}
	enforce = v->mode == VOUCH_MODE_ENFORCE && !ct->preexisting;
	if (v->violation && enforce) {
		kill_container(c, ct);
		report(c, ct, "deny", "killed", v->mode, v->rule, v->reason);
	} else if (v->violation) {
		release_container(c, ct);
		report(c, ct, "deny", "reported", v->mode, v->rule, v->reason);
	} else {
		held_exec_allowed(c, ct);
		release_container(c, ct);
		report(c, ct, "allow", "none", v->mode, v->rule, v->reason);
	}
	free(ct->held);
	ct->held = NULL;
	/* it points into this policy, which a reload frees */
	v->image = NULL;
}

/*
 * No verdict in time, or metadata that cannot be used: the fail action.
 * A container already gone is only reported: nothing is left to act on.
 */
static void fail(struct containers *c, struct container *ct, const char *what,
		 int gone)
{
	const struct policy *p = kernel__active(c->kernel);
	const struct rules_containers *rc = p ? &p->rules->containers : NULL;
	unsigned int mode = rc ? (unsigned int)rc->mode : VOUCH_MODE_AUDIT;
	int kill_it = rc && rc->fail_action == RULES_FAIL_KILL &&
		      mode == VOUCH_MODE_ENFORCE && !ct->preexisting && !gone;
	char reason[512];

	snprintf(reason, sizeof(reason), "container not identified (%s): %s",
		 what, ct->why);
	log_warn("containers: cgroup %.200s: %s; %s", ct->path ? ct->path : "?",
		 reason, kill_it ? "killing it" : gone ? "gone" : "releasing it");
	if (p)
		set_entry(c, ct, kill_it ? p->unattested_scope : p->containers_scope,
			  mode);
	ct->decided = 1;
	ct->failed = kill_it ? 2 : 1;
	ct->deadline_ns = 0;
	if (kill_it)
		kill_container(c, ct);
	else if (!gone)
		release_container(c, ct);
	report(c, ct, "deny", kill_it ? "killed" : "reported", mode,
	       "containers/fail_action", reason);
	free(ct->held);
	ct->held = NULL;
}

/*
 * A cgroup below a root that holds a runtime's helper, not a container
 * (conmon, a pod slice): judged as the containers scope, with no hold.
 */
static void not_a_container(struct containers *c, struct container *ct)
{
	const struct policy *p = kernel__active(c->kernel);

	log_debug("containers: cgroup %.200s holds no container; released",
		  ct->path);
	ct->infrastructure = 1;
	if (p)
		set_entry(c, ct, p->containers_scope,
			  (unsigned int)p->rules->containers.mode);
	ct->decided = 1;
	ct->deadline_ns = 0;
	release_container(c, ct);
	free(ct->held);
	ct->held = NULL;
}

/* last: vouchd stops, so there is no later try; the fail action now. */
static void try_decide(struct containers *c, struct container *ct, int last)
{
	int err = identify(c, ct);

	if (!err)
		decide(c, ct);
	else if (err == -ECHILD)
		not_a_container(c, ct);
	else if (err != -ENOENT)
		fail(c, ct, "unusable metadata", 0);
	else if (cgroup_gone(c, ct))
		/* a brief one, unheld in audit mode: its metadata went with it */
		fail(c, ct, "removed before its metadata was read", 1);
	else if (last)
		fail(c, ct, "vouchd stopping", 0);
	else if (ct->deadline_ns && now_ns() >= ct->deadline_ns)
		fail(c, ct, "hold timeout", 0);
}

static int64_t hold_deadline(const struct containers *c)
{
	const struct policy *p = kernel__active(c->kernel);
	int ms = p ? p->rules->containers.hold_timeout_ms : 2000;

	return now_ns() + (int64_t)ms * 1000000LL;
}

void containers__on_first_exec(struct containers *c,
			       const struct vouch_exec_event *r)
{
	struct container *ct = find(c, r->cgroup_id);
	char why[320] = "";
	char *path = NULL;

	if (!ct) {
		path = path_of_pid(r->tgid, why, sizeof(why));
		ct = add(c, r->cgroup_id, path);
		free(path);
		if (!ct) {
			log_error("containers: no room to track cgroup %llu",
				  (unsigned long long)r->cgroup_id);
			return;
		}
		snprintf(ct->why, sizeof(ct->why), "%s", why);
	}
	if (!ct->held) {
		ct->held = malloc(sizeof(*r));
		if (ct->held)
			memcpy(ct->held, r, sizeof(*r));
	}
	if (ct->decided && ct->infrastructure) {
		not_a_container(c, ct);
		return;
	}
	if (ct->decided && ct->failed) {
		/* an exec between the fail action and its entry: the same */
		if (ct->failed == 2)
			kill_container(c, ct);
		else
			release_container(c, ct);
		free(ct->held);
		ct->held = NULL;
		return;
	}
	if (ct->decided) {
		/* an exec between the verdict and its entry: same verdict */
		ct->decided = 0;
		decide(c, ct);
		return;
	}
	if (!ct->deadline_ns)
		ct->deadline_ns = hold_deadline(c);
	if (!ct->path) {
		fail(c, ct, "no cgroup path", 0);
		return;
	}
	try_decide(c, ct, 0);
}

void containers__on_mkdir(struct containers *c, uint64_t cgroup_id,
			  const char *path)
{
	const struct policy *p = kernel__active(c->kernel);
	struct container_id cid;
	struct container *ct;

	if (!p || !path || find(c, cgroup_id))
		return;
	if (policy__is_container_root(p, path)) {
		struct policy_cgroup e = {
			.cgroup_id = cgroup_id, .scope_id = p->containers_scope,
			.flags = VOUCH_CGROUP_CONTAINER_ROOT,
		};

		kernel__set_cgroup(c->kernel, &e);
		return;
	}
	if (container_id__parse(path, below_root(p, path), &cid))
		return;
	ct = add(c, cgroup_id, path);
	if (!ct)
		return;
	ct->cid = cid;
	ct->is_container = 1;
	/* the runtime writes its state after the cgroup: no verdict yet */
	if (identify(c, ct) == 0)
		decide(c, ct);
}

void containers__survey(struct containers *c)
{
	const struct policy *p = kernel__active(c->kernel);
	struct cgroup_index *idx;

	if (!p || p->containers_scope == POLICY_NO_SCOPE)
		return;
	idx = cgroup__scan(c->cfg.cgroup_mount);
	for (size_t i = 0; idx && i < idx->n; i++) {
		const char *path = idx->entries[i].path;
		struct container_id cid;
		struct container *ct;

		if (container_id__parse(path, below_root(p, path), &cid) ||
		    find(c, idx->entries[i].id))
			continue;
		ct = add(c, idx->entries[i].id, path);
		if (!ct)
			break;
		ct->cid = cid;
		ct->is_container = 1;
		ct->preexisting = 1;
		if (identify(c, ct) == 0)
			decide(c, ct);
		else
			fail(c, ct, "running before vouchd started", 0);
	}
	cgroup__free(idx);
}

void containers__tick(struct containers *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct container *ct = &c->items[i];

		if (!ct->decided && ct->deadline_ns)
			try_decide(c, ct, 0);
	}
}

void containers__settle(struct containers *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct container *ct = &c->items[i];

		if (!ct->decided && exec_seen(ct))
			try_decide(c, ct, 1);
	}
}

int containers__carry_over(struct containers *c, struct policy *p)
{
	for (size_t i = 0; i < c->n; i++) {
		struct container *ct = &c->items[i];
		struct policy_container_verdict v;
		struct policy_cgroup e = {
			.cgroup_id = ct->cgroup_id, .flags = VOUCH_CGROUP_MODE,
		};
		int err;

		if (!ct->decided || p->containers_scope == POLICY_NO_SCOPE)
			continue;
		if (ct->identified) {
			policy__judge_container(p, &ct->meta, &v);
			v.image = NULL;
			e.scope_id = v.scope_id;
			e.mode = v.mode;
		} else {
			e.scope_id = p->containers_scope;
			e.mode = (uint16_t)p->rules->containers.mode;
		}
		err = policy__add_cgroup_entry(p, &e);
		if (err)
			return err;
	}
	return 0;
}

static struct container *find_for(struct containers *c, uint64_t cgroup_id,
				  const char *path)
{
	struct container *ct = find(c, cgroup_id);

	/* a cgroup the container made below its own */
	for (size_t i = 0; !ct && path && i < c->n; i++) {
		const char *cp = c->items[i].path;
		size_t len = cp ? strlen(cp) : 0;

		if (len && !strncmp(path, cp, len) && path[len] == '/')
			ct = &c->items[i];
	}
	return ct;
}

int containers__fill_workload(struct containers *c, uint64_t cgroup_id,
			      const char *path, struct event_workload *w)
{
	struct container *ct = c ? find_for(c, cgroup_id, path) : NULL;
	const struct workload_meta *m;

	if (!ct || !ct->is_container)
		return 0;
	m = &ct->meta;
	w->kind = "container";
	w->container_id = ct->cid.id;
	w->pod = m->pod;
	w->namespace_ = m->namespace_;
	w->image_ref = m->image_ref;
	w->image_digest = m->image_digest;
	w->attested = ct->decided && ct->attested;
	w->service = m->service;
	w->version = m->version;
	w->deploy_id = m->deploy_id;
	w->environment = m->environment;
	return 1;
}

void containers__counts(const struct containers *c, unsigned int *known,
			unsigned int *pending)
{
	*known = 0;
	*pending = 0;
	for (size_t i = 0; c && i < c->n; i++) {
		*known += c->items[i].is_container;
		*pending += !c->items[i].decided && c->items[i].deadline_ns;
	}
}
