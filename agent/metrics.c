// SPDX-License-Identifier: GPL-2.0-only
/* vouchd's metrics, health and status endpoint (libmicrohttpd). */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "spool.h"

#define COUNTERS_MAX		64	/* kinds x verdicts; more are folded */
#define LABEL_MAX		32
#define CONNECTIONS_MAX		8
#define CONNECTION_TIMEOUT_S	10
#define PROBLEMS_MAX		4096
#define BPF_STATS_SYSCTL	"/proc/sys/kernel/bpf_stats_enabled"
#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct counter {
	char kind[LABEL_MAX];
	char verdict[LABEL_MAX];	/* "" for losses */
	uint64_t n;
};

struct counters {
	struct counter c[COUNTERS_MAX];
	size_t n;
};

/* What the endpoint's thread reads: everything below lock. */
struct metrics {
	pthread_mutex_t lock;
	struct MHD_Daemon *daemon;
	char *agent_id;
	char *node;
	char *version;
	int stall_ms;
	int64_t started;		/* unix seconds */
	int64_t last_beat_ms;		/* CLOCK_MONOTONIC */
	struct counters events;
	struct counters losses;
	struct metrics_policy policy;
	int has_policy;
	struct metrics_link links[METRICS_LINKS_MAX];
	size_t n_links;
	struct spool *spool;
};

/* One attached program as the kernel sees it at this moment. */
struct prog_state {
	char name[64];
	uint32_t prog_id;
	uint32_t link_id;
	int attached;
	uint64_t run_cnt;
	uint64_t run_time_ns;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

struct metrics *metrics__new(const struct metrics_identity *id)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->agent_id = dup_or_empty(id->agent_id);
	m->node = dup_or_empty(id->node);
	m->version = dup_or_empty(id->version);
	m->stall_ms = id->stall_ms;
	m->started = (int64_t)time(NULL);
	m->last_beat_ms = mono_ms();
	if (!m->agent_id || !m->node || !m->version) {
		metrics__free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	free(m->policy.detail);
	free(m->agent_id);
	free(m->node);
	free(m->version);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The counter for (kind, verdict); the last slot takes what overflows. */
static struct counter *find_counter(struct counters *cs, const char *kind,
				    const char *verdict)
{
	struct counter *c;

	kind = kind ? kind : "";
	verdict = verdict ? verdict : "";
	for (size_t i = 0; i < cs->n; i++) {
		c = &cs->c[i];
		if (strcmp(c->kind, kind) == 0 && strcmp(c->verdict, verdict) == 0)
			return c;
	}
	if (cs->n == COUNTERS_MAX)
		return &cs->c[COUNTERS_MAX - 1];
	c = &cs->c[cs->n++];
	snprintf(c->kind, sizeof(c->kind), "%s", cs->n == COUNTERS_MAX ?
		 "other" : kind);
	snprintf(c->verdict, sizeof(c->verdict), "%s", cs->n == COUNTERS_MAX ?
		 "" : verdict);
	return c;
}

void metrics__count_event(struct metrics *m, const char *kind,
			  const char *verdict)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	find_counter(&m->events, kind, verdict ? verdict : "none")->n++;
	pthread_mutex_unlock(&m->lock);
}

void metrics__count_loss(struct metrics *m, const char *kind, uint64_t n)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	find_counter(&m->losses, kind, NULL)->n += n;
	pthread_mutex_unlock(&m->lock);
}

void metrics__heartbeat(struct metrics *m)
{
	if (!m)
		return;
	__atomic_store_n(&m->last_beat_ms, mono_ms(), __ATOMIC_RELAXED);
}

void metrics__set_policy(struct metrics *m, struct metrics_policy *p)
{
	char *old;

	if (!m) {
		free(p->detail);
		return;
	}
	pthread_mutex_lock(&m->lock);
	old = m->policy.detail;
	m->policy = *p;
	m->has_policy = 1;
	pthread_mutex_unlock(&m->lock);
	free(old);
}

void metrics__set_links(struct metrics *m, const struct metrics_link *links,
			size_t n)
{
	if (!m)
		return;
	if (n > METRICS_LINKS_MAX)
		n = METRICS_LINKS_MAX;
	pthread_mutex_lock(&m->lock);
	memcpy(m->links, links, n * sizeof(*links));
	m->n_links = n;
	pthread_mutex_unlock(&m->lock);
}

void metrics__set_spool(struct metrics *m, struct spool *spool)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->spool = spool;
	pthread_mutex_unlock(&m->lock);
}

/*
 * Asks the kernel, by id, whether the link still exists and still runs the
 * program vouchd put there. A link whose pin was removed while vouchd held
 * no descriptor is gone; a cgroup link detached from outside reports no
 * cgroup.
 */
static void read_prog(const struct metrics_link *l, struct prog_state *st)
{
	struct bpf_prog_info pi;
	struct bpf_link_info li;
	__u32 len;
	int fd;

	memset(st, 0, sizeof(*st));
	st->prog_id = l->prog_id;
	st->link_id = l->link_id;
	/* the kernel's name is cut at 15 characters; the object's is whole */
	snprintf(st->name, sizeof(st->name), "%s", l->name);
	fd = bpf_prog_get_fd_by_id(l->prog_id);
	if (fd >= 0) {
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		if (!bpf_obj_get_info_by_fd(fd, &pi, &len)) {
			st->run_cnt = pi.run_cnt;
			st->run_time_ns = pi.run_time_ns;
		}
		close(fd);
	}
	fd = bpf_link_get_fd_by_id(l->link_id);
	if (fd < 0)
		return;
	memset(&li, 0, sizeof(li));
	len = sizeof(li);
	if (!bpf_obj_get_info_by_fd(fd, &li, &len) && li.prog_id == l->prog_id)
		st->attached = !(li.type == BPF_LINK_TYPE_CGROUP &&
				 li.cgroup.cgroup_id == 0);
	close(fd);
}

/* A consistent copy of what the endpoint reports, taken under the lock. */
struct snapshot {
	struct counters events;
	struct counters losses;
	struct metrics_policy policy;	/* detail: a copy, NULL if none */
	int has_policy;
	struct metrics_link links[METRICS_LINKS_MAX];
	size_t n_links;
	struct spool *spool;
	int64_t beat_age_ms;
	struct prog_state progs[METRICS_LINKS_MAX];
	int bpf_stats;			/* -1: unknown */
};

static int read_bpf_stats(void)
{
	FILE *f = fopen(BPF_STATS_SYSCTL, "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static struct snapshot *take_snapshot(struct metrics *m)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_lock(&m->lock);
	s->events = m->events;
	s->losses = m->losses;
	s->policy = m->policy;
	s->policy.detail = m->policy.detail ? strdup(m->policy.detail) : NULL;
	s->has_policy = m->has_policy;
	memcpy(s->links, m->links, sizeof(s->links));
	s->n_links = m->n_links;
	s->spool = m->spool;
	pthread_mutex_unlock(&m->lock);
	s->beat_age_ms = mono_ms() -
			 __atomic_load_n(&m->last_beat_ms, __ATOMIC_RELAXED);
	for (size_t i = 0; i < s->n_links; i++)
		read_prog(&s->links[i], &s->progs[i]);
	s->bpf_stats = read_bpf_stats();
	return s;
}

static void free_snapshot(struct snapshot *s)
{
	if (!s)
		return;
	free(s->policy.detail);
	free(s);
}

/* Appends one problem line to why; returns 0 so callers can count. */
static int problem(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int problem(char *why, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(why, len);
	va_list ap;

	if (used + 1 >= len)
		return 0;
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
	used = strnlen(why, len);
	if (used + 1 < len) {
		why[used] = '\n';
		why[used + 1] = '\0';
	}
	return 0;
}

static int judge(const struct metrics *m, const struct snapshot *s,
		 char *why, size_t len)
{
	int64_t now = (int64_t)time(NULL);
	int healthy = 1;

	why[0] = '\0';
	if (s->n_links == 0)
		healthy = problem(why, len, "no program is attached");
	for (size_t i = 0; i < s->n_links; i++)
		if (!s->progs[i].attached)
			healthy = problem(why, len,
					  "program %s (id %u) is not attached: link %u is gone or detached",
					  s->progs[i].name, s->progs[i].prog_id,
					  s->progs[i].link_id);
	if (s->beat_age_ms > m->stall_ms)
		healthy = problem(why, len,
				  "the ring buffer consumer has stalled: last pass %lld ms ago",
				  (long long)s->beat_age_ms);
	if (!s->has_policy)
		healthy = problem(why, len, "no policy is loaded");
	else if (s->policy.expires && now >= s->policy.expires)
		healthy = problem(why, len, "the policy expired %lld s ago",
				  (long long)(now - s->policy.expires));
	return healthy;
}

int metrics__healthy(struct metrics *m, char *why, size_t len)
{
	struct snapshot *s = take_snapshot(m);
	int healthy;

	if (!s) {
		snprintf(why, len, "out of memory\n");
		return 0;
	}
	healthy = judge(m, s, why, len);
	free_snapshot(s);
	return healthy;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_head(FILE *f, const char *name, const char *type,
		     const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_counters(FILE *f, const struct counters *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++) {
		fprintf(f, "%s{kind=\"", name);
		put_label(f, cs->c[i].kind);
		if (cs->c[i].verdict[0]) {
			fputs("\",verdict=\"", f);
			put_label(f, cs->c[i].verdict);
		}
		fprintf(f, "\"} %llu\n", (unsigned long long)cs->c[i].n);
	}
}

static void put_gauge(FILE *f, const char *name, const char *help,
		      long long v)
{
	put_head(f, name, "gauge", help);
	fprintf(f, "%s %lld\n", name, v);
}

static void put_policy(FILE *f, const struct snapshot *s)
{
	const struct metrics_policy *p = &s->policy;

	put_gauge(f, "vouch_policy_loaded", "1 when a policy is in force",
		  s->has_policy);
	put_gauge(f, "vouch_policy_generation",
		  "generation number of the policy in force", p->gen);
	put_gauge(f, "vouch_policy_serial",
		  "serial of the attested bundle in force (0: none)",
		  (long long)p->serial);
	put_gauge(f, "vouch_policy_expiry_timestamp_seconds",
		  "when the policy in force expires, unix time (0: never)",
		  p->expires);
	put_gauge(f, "vouch_policy_loaded_timestamp_seconds",
		  "when the policy in force was loaded, unix time", p->loaded);
	put_gauge(f, "vouch_policy_rules",
		  "allow, deny and exception entries loaded into the kernel",
		  (long long)p->entries);
}

static void put_programs(FILE *f, const struct snapshot *s)
{
	static const struct {
		const char *name, *type, *help;
	} heads[] = {
		{ "vouch_bpf_program_attached", "gauge",
		  "1 while the program's link exists and runs it" },
		{ "vouch_bpf_program_runs_total", "counter",
		  "times the program ran (needs kernel.bpf_stats_enabled=1)" },
		{ "vouch_bpf_program_run_seconds_total", "counter",
		  "time spent in the program (needs kernel.bpf_stats_enabled=1)" },
	};

	put_gauge(f, "vouch_bpf_stats_enabled",
		  "kernel.bpf_stats_enabled: 1 when run counts and times are kept",
		  s->bpf_stats);
	for (size_t h = 0; h < 3; h++) {
		put_head(f, heads[h].name, heads[h].type, heads[h].help);
		for (size_t i = 0; i < s->n_links; i++) {
			const struct prog_state *p = &s->progs[i];

			fprintf(f, "%s{program=\"", heads[h].name);
			put_label(f, p->name);
			if (h == 0)
				fprintf(f, "\"} %d\n", p->attached);
			else if (h == 1)
				fprintf(f, "\"} %llu\n",
					(unsigned long long)p->run_cnt);
			else
				fprintf(f, "\"} %.9f\n", p->run_time_ns / 1e9);
		}
	}
}

static void put_spool(FILE *f, const struct snapshot *s)
{
	struct spool_stats st = { 0 };

	if (!s->spool)
		return;
	spool__stats(s->spool, &st);
	put_gauge(f, "vouch_spool_events",
		  "events in the spool not yet acknowledged by the collector",
		  (long long)st.events);
	put_gauge(f, "vouch_spool_bytes", "size of the spool's segment files",
		  (long long)st.bytes);
}

static void put_prometheus(FILE *f, struct metrics *m, struct snapshot *s)
{
	char why[PROBLEMS_MAX];

	put_head(f, "vouch_build_info", "gauge", "vouchd's version");
	fputs("vouch_build_info{version=\"", f);
	put_label(f, m->version);
	fputs("\"} 1\n", f);
	put_head(f, "vouch_events_total", "counter",
		 "events vouchd emitted, by kind and verdict");
	put_counters(f, &s->events, "vouch_events_total");
	put_head(f, "vouch_events_lost_total", "counter",
		 "events lost, by kind (ring buffer full, spool overflow, refused)");
	put_counters(f, &s->losses, "vouch_events_lost_total");
	put_spool(f, s);
	put_policy(f, s);
	put_programs(f, s);
	put_gauge(f, "vouch_ringbuf_poll_age_seconds",
		  "seconds since the ring buffer consumer last passed its loop",
		  s->beat_age_ms / 1000);
	put_gauge(f, "vouch_healthy", "1 when /healthz answers 200",
		  judge(m, s, why, sizeof(why)));
}

char *metrics__prometheus(struct metrics *m)
{
	struct snapshot *s = take_snapshot(m);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!s)
		return NULL;
	f = open_memstream(&text, &len);
	if (f) {
		put_prometheus(f, m, s);
		if (fclose(f)) {
			free(text);
			text = NULL;
		}
	}
	free_snapshot(s);
	return text;
}

static json_t *problems_json(const char *why)
{
	json_t *arr = json_array();
	const char *nl;

	while (arr && *why && (nl = strchr(why, '\n'))) {
		json_array_append_new(arr, json_stringn(why, (size_t)(nl - why)));
		why = nl + 1;
	}
	return arr;
}

static json_t *counters_json(const struct counters *cs, int verdicts)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < cs->n; i++) {
		json_t *o = json_pack("{s:s, s:I}", "kind", cs->c[i].kind,
				      "count", (json_int_t)cs->c[i].n);

		if (o && verdicts)
			json_object_set_new(o, "verdict",
					    json_string(cs->c[i].verdict));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *programs_json(const struct snapshot *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < s->n_links; i++) {
		const struct prog_state *p = &s->progs[i];

		json_array_append_new(arr, json_pack(
			"{s:s, s:I, s:I, s:b, s:I, s:I}", "name", p->name,
			"progId", (json_int_t)p->prog_id,
			"linkId", (json_int_t)p->link_id,
			"attached", p->attached,
			"runCount", (json_int_t)p->run_cnt,
			"runTimeNs", (json_int_t)p->run_time_ns));
	}
	return arr;
}

static json_t *policy_json(const struct snapshot *s)
{
	const struct metrics_policy *p = &s->policy;
	json_t *o;

	if (!s->has_policy)
		return json_null();
	o = p->detail ? json_loads(p->detail, 0, NULL) : json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "generation", json_integer(p->gen));
	json_object_set_new(o, "serial", json_integer((json_int_t)p->serial));
	json_object_set_new(o, "expires", json_integer(p->expires));
	json_object_set_new(o, "loaded", json_integer(p->loaded));
	json_object_set_new(o, "entries", json_integer((json_int_t)p->entries));
	return o;
}

static json_t *spool_json(const struct snapshot *s)
{
	struct spool_stats st = { 0 };

	if (!s->spool)
		return json_null();
	spool__stats(s->spool, &st);
	return json_pack("{s:I, s:I, s:I}", "events", (json_int_t)st.events,
			 "bytes", (json_int_t)st.bytes,
			 "dropped", (json_int_t)st.dropped_overflow);
}

char *metrics__status_json(struct metrics *m)
{
	struct snapshot *s = take_snapshot(m);
	char why[PROBLEMS_MAX];
	char *text = NULL;
	json_t *o;
	int healthy;

	if (!s)
		return NULL;
	healthy = judge(m, s, why, sizeof(why));
	o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:i}",
		      "version", m->version, "agentId", m->agent_id,
		      "node", m->node, "started", (json_int_t)m->started,
		      "healthy", healthy, "problems", problems_json(why),
		      "policy", policy_json(s),
		      "events", counters_json(&s->events, 1),
		      "losses", counters_json(&s->losses, 0),
		      "spool", spool_json(s), "programs", programs_json(s),
		      "bpfStatsEnabled", s->bpf_stats);
	if (o)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free_snapshot(s);
	return text;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_health(struct metrics *m,
				    struct MHD_Connection *conn)
{
	char why[PROBLEMS_MAX];
	int healthy = metrics__healthy(m, why, sizeof(why));

	return reply(conn, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		     "text/plain; charset=utf-8",
		     strdup(healthy ? "ok\n" : why));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **req_cls)
{
	struct metrics *m = cls;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "text/plain; charset=utf-8",
			     strdup("only GET and HEAD\n"));
	/* nothing here takes a body: one that is sent is refused */
	if (*upload_len)
		return MHD_NO;
	if (strcmp(url, "/metrics") == 0)
		return reply(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE,
			     metrics__prometheus(m));
	if (strcmp(url, "/healthz") == 0)
		return reply_health(m, conn);
	if (strcmp(url, "/v1/status") == 0)
		return reply(conn, MHD_HTTP_OK, "application/json",
			     metrics__status_json(m));
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
		     strdup("not found: /metrics, /healthz, /v1/status\n"));
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("metrics: %s", msg);
}

/* Numeric only: no name lookups here. */
int metrics__parse_addr(const char *addr, struct sockaddr_storage *out)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
		.ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *res;
	char host[64];
	const char *colon = strrchr(addr, ':');
	const char *start = addr;
	size_t n;

	if (!colon || !colon[1])
		return -EINVAL;
	n = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (n < 2 || addr[n - 1] != ']')
			return -EINVAL;
		start = addr + 1;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, start, n);
	host[n] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return -EINVAL;
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int metrics__serve(struct metrics *m, const char *addr)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			     MHD_USE_ERROR_LOG;
	struct sockaddr_storage sa;
	int err = metrics__parse_addr(addr, &sa);

	if (err)
		return err;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, m,
				     MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)CONNECTIONS_MAX,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)CONNECTION_TIMEOUT_S,
				     MHD_OPTION_END);
	return m->daemon ? 0 : -EADDRNOTAVAIL;
}
