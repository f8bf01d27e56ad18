/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ships spooled events to vouch-collector: POST {url}/v1/events, body a
 * packed vouch.v1.EventBatch (application/x-protobuf), HTTP/1.1 over one
 * kept-alive libcurl connection, TLS with the peer always verified and an
 * optional client certificate.
 *
 * Threading: shipper__start() runs the shipping loop in its own thread,
 * so that vouchd's ring-buffer consumer never waits on the network; it
 * only appends and syncs the spool (which has its own lock) and may call
 * shipper__kick() after a sync to have new records sent at once. Without
 * the thread, shipper__step() does the same work one POST at a time; never
 * call it while the thread runs.
 *
 * What an answer does to the batch (its records stay in the spool until
 * the last line of this list or an acknowledgement removes them):
 * - 2xx: the collector stored it; acknowledged (trimmed from the spool).
 * - connect error, timeout, 5xx, and every 4xx not named below (401, 403,
 *   404, 408, 429, 415...): kept, and retried after an exponential
 *   backoff, backoff_min_ms doubling up to backoff_max_ms, with jitter so
 *   that agents do not return in step. These are faults of the network,
 *   the collector or the configuration (415 says the endpoint is not a
 *   vouch collector), which an operator can fix without losing events.
 * - 400 or 413 for a batch of several events: the batch limit is halved
 *   and the next POST sent at once, so that one bad event cannot take its
 *   neighbours down with it; the limit grows back on success.
 * - 400 or 413 for a single event: that event can never be stored, and
 *   retrying it would block every event behind it forever. It is dropped
 *   (acknowledged), counted in rejected_events for vouchd to report as a
 *   loss, and logged once (later ones at debug level).
 * - A spooled record that does not decode as a vouch.v1.Event is left out
 *   of the body, acknowledged with its batch and counted in
 *   invalid_events.
 */
#ifndef VOUCH_SHIPPER_H
#define VOUCH_SHIPPER_H

#include <stddef.h>
#include <stdint.h>

struct spool;
struct shipper;

struct shipper_opts {
	const char *url;		/* http:// or https://host[:port] */
	const char *ca_file;		/* PEM bundle; NULL: the system's */
	const char *cert_file;		/* client certificate, PEM; or NULL */
	const char *key_file;		/* its private key, PEM; or NULL */
	long connect_timeout_ms;	/* 0: 5000 */
	long timeout_ms;		/* whole request; 0: 15000 */
	size_t batch_max_events;	/* 0: 500 */
	size_t batch_max_bytes;		/* payload bytes; 0: 1 MiB */
	long backoff_min_ms;		/* 0: 100 */
	long backoff_max_ms;		/* 0: 10000 */
	long idle_ms;			/* thread: look again after; 0: 1000 */
};

enum shipper_result {
	SHIPPER_IDLE = 0,		/* nothing to send */
	SHIPPER_WAITING = 1,		/* backing off; nothing done */
	SHIPPER_SENT = 2,		/* a batch was stored and trimmed */
	SHIPPER_RETRY = 3,		/* transient failure; records kept */
	SHIPPER_SPLIT = 4,		/* refused; next batch is halved */
	SHIPPER_REJECTED = 5,		/* refused event(s) dropped, counted */
};

struct shipper_stats {
	uint64_t batches_sent;
	uint64_t events_sent;
	uint64_t failures;		/* transient failures */
	uint64_t rejected_batches;	/* single-event batches refused */
	uint64_t rejected_events;	/* dropped as refused: a loss */
	uint64_t invalid_events;	/* undecodable records: a loss */
	long last_status;		/* last HTTP status; 0: none */
	int64_t next_attempt_ms;	/* CLOCK_MONOTONIC ms; 0: now */
	char last_error[256];		/* "" when the last POST succeeded */
};

/*
 * Checks opts (a url is required) and prepares the connection; ships from
 * spool, which must outlive the shipper. NULL and errno on failure.
 */
struct shipper *shipper__new(const struct shipper_opts *opts,
			     struct spool *spool);
/* Stops the thread if running, then frees. NULL-safe. */
void shipper__free(struct shipper *sh);

/*
 * At most one POST, if one is due at now_ms (CLOCK_MONOTONIC, ms); blocks
 * for at most the request timeout. A shipper_result, or -errno when the
 * spool could not be read or memory ran out.
 */
int shipper__step(struct shipper *sh, int64_t now_ms);

/* Starts the shipping thread; 0 or -errno (-EALREADY when running). */
int shipper__start(struct shipper *sh);
/* Wakes the thread to look at the spool now (backoff still applies). */
void shipper__kick(struct shipper *sh);
/*
 * Stops the thread, aborting a POST in flight (its records stay in the
 * spool); returns once the thread has ended. NULL-safe, idempotent.
 */
void shipper__stop(struct shipper *sh);

void shipper__stats(struct shipper *sh, struct shipper_stats *out);

/* CLOCK_MONOTONIC in milliseconds, the clock shipper__step() expects. */
int64_t shipper__now_ms(void);

#endif /* VOUCH_SHIPPER_H */
