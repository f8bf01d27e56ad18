/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collector's HTTP API on libmicrohttpd: POST /v1/events stores a
 * batch, GET /v1/events reads or follows the stored events.
 */
#ifndef VOUCH_COLLECTOR_SERVER_H
#define VOUCH_COLLECTOR_SERVER_H

#include <stddef.h>
#include <sys/socket.h>
#include "collector_store.h"

#define COLLECTOR_MAX_BATCH_BYTES	(4 * 1024 * 1024)
#define COLLECTOR_MAX_CONNECTIONS	256
#define COLLECTOR_TIMEOUT_S		10

struct collector_server;

struct collector_server_config {
	const struct sockaddr *addr;
	size_t max_batch_bytes;
	unsigned int max_connections;
	unsigned int timeout_s;
	/* PEM text, kept alive by the caller while the server runs */
	const char *tls_cert;		/* NULL: plain HTTP */
	const char *tls_key;
	const char *client_ca;		/* NULL: no client certificates */
	/*
	 * With client_ca: gets the connection's gnutls_session_t, returns 0
	 * when the peer showed a certificate that verifies against it.
	 */
	int (*verify_peer)(void *tls_session);
};

struct collector_server_stats {
	unsigned long batches;		/* stored with 200 */
	unsigned long events;		/* new rows */
	unsigned long duplicates;
	unsigned long rejected;		/* answered 4xx */
	unsigned long failed;		/* answered 5xx */
};

/*
 * "127.0.0.1:8443" or "[::1]:8443" into a socket address; port 0 asks the
 * kernel for a free one. 0 or -EINVAL.
 */
int collector_server__parse_addr(const char *s, struct sockaddr_storage *ss);

/* Starts serving; NULL when it cannot (libmicrohttpd logs why). */
struct collector_server *
collector_server__start(const struct collector_server_config *cfg,
			struct collector_store *store);
/* The port bound, useful after asking for port 0. */
unsigned int collector_server__port(const struct collector_server *srv);
void collector_server__stats(const struct collector_server *srv,
			     struct collector_server_stats *out);
/* Ends follow streams, closes every connection, stops. NULL-safe. */
void collector_server__stop(struct collector_server *srv);

#endif /* VOUCH_COLLECTOR_SERVER_H */
