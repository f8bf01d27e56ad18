/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vouchd's local HTTP endpoint: Prometheus metrics (GET /metrics), a health
 * check (GET /healthz) and the agent's status as JSON (GET /v1/status, what
 * `vouchctl status` shows). The main thread records counts and state here;
 * the endpoint's own thread reads them under one mutex and asks the kernel
 * itself whether the programs are still attached.
 */
#ifndef VOUCH_METRICS_H
#define VOUCH_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <sys/socket.h>

#define METRICS_DEFAULT_LISTEN	"127.0.0.1:9470"
#define METRICS_LINKS_MAX	32

struct metrics;
struct spool;

/* A program vouchd attached, as the kernel names it. */
struct metrics_link {
	uint32_t link_id;
	uint32_t prog_id;
	char name[64];		/* the program's name in the BPF object */
};

/* The policy in force, as the endpoint reports it. */
struct metrics_policy {
	uint32_t gen;
	uint64_t serial;	/* bundle serial; 0 while no bundle is loaded */
	int64_t expires;	/* unix seconds; 0: does not expire */
	int64_t loaded;		/* unix seconds */
	uint64_t entries;	/* map entries loaded (allow, deny, exception) */
	/* taken: the "policy" object of /v1/status, as compact JSON text; as
	 * a jansson tree, a policy of 10,000 image scopes held 6.6 MB */
	char *detail;
};

struct metrics_identity {
	const char *agent_id;
	const char *node;
	const char *version;
	int stall_ms;		/* no loop pass for this long: stalled */
};

/* NULL and errno on failure; nothing listens until metrics__serve(). */
struct metrics *metrics__new(const struct metrics_identity *id);
/*
 * Serves on addr ("IPV4:PORT" or "[IPV6]:PORT", numeric); 0 or -errno.
 * Requests are answered on the endpoint's own thread.
 */
int metrics__serve(struct metrics *m, const char *addr);
/* "IPV4:PORT" or "[IPV6]:PORT", numeric only; 0 or -EINVAL. */
int metrics__parse_addr(const char *addr, struct sockaddr_storage *out);
/* Stops serving (waiting for requests in flight) and frees. NULL-safe. */
void metrics__free(struct metrics *m);

/* Counting, from the thread that handles events. NULL-safe. */
void metrics__count_event(struct metrics *m, const char *kind,
			  const char *verdict);
void metrics__count_loss(struct metrics *m, const char *kind, uint64_t n);
/* The ring buffer consumer passed through its loop. */
void metrics__heartbeat(struct metrics *m);

/* State, from the main thread. NULL-safe; p->detail is taken either way. */
void metrics__set_policy(struct metrics *m, struct metrics_policy *p);
void metrics__set_links(struct metrics *m, const struct metrics_link *links,
			size_t n);
/* The spool whose depth is reported; it must outlive m's serving. */
void metrics__set_spool(struct metrics *m, struct spool *spool);

/*
 * The health check itself: 1 when healthy, else 0 with one line per
 * problem in why (NUL-terminated, possibly cut at len). Exposed for tests.
 */
int metrics__healthy(struct metrics *m, char *why, size_t len);
/* The texts the endpoint serves; malloc'd, NULL on failure. */
char *metrics__prometheus(struct metrics *m);
char *metrics__status_json(struct metrics *m);

#endif /* VOUCH_METRICS_H */
