// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP side of the collector. libmicrohttpd runs a thread per
 * connection, bounded by the connection limit: a client that trickles its
 * bytes holds only its own thread until the connection timeout, and a
 * follow stream may block in its content callback while it waits for the
 * next commit.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <jansson.h>

#include "collector_server.h"
#include "collector_stream.h"
#include "collector_validate.h"
#include "log.h"
#include "utf8.h"

#define EVENTS_PATH		"/v1/events"
#define PROTOBUF_TYPE		"application/x-protobuf"
/* headers, URL and read buffer of one connection */
#define CONNECTION_MEMORY	(64 * 1024)
/* what MHD asks of a stream at a time */
#define STREAM_BLOCK		(32 * 1024)
/*
 * Bodies of all connections together; past it a POST gets 503. Without
 * it, the connection limit times the batch limit would be the bound.
 */
#define BODY_BUDGET_MIN		(64 * 1024 * 1024)
/*
 * A chunked body that outgrows the batch limit is read on, to answer 413
 * when it ends, but only this much further: then the connection is cut.
 */
#define DISCARD_MAX		(16 * 1024 * 1024)

struct collector_server {
	struct MHD_Daemon *daemon;
	struct collector_store *store;
	struct collector_server_config cfg;
	size_t body_budget;
	size_t body_held;		/* atomic */
	int started;			/* atomic: MHD's messages demoted */
	int store_failing;		/* atomic: log the change, not each */
	struct collector_server_stats stats;	/* atomic fields */
};

/* A POST in progress. */
struct upload {
	uint8_t *body;
	size_t len;
	size_t cap;
	size_t reserved;		/* of body_budget */
	size_t discarded;
	unsigned int refuse;		/* status to answer once read */
};

static void count(unsigned long *counter, unsigned long n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static enum MHD_Result queue_json(struct MHD_Connection *conn,
				  unsigned int status, json_t *obj)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;

	text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					"GET, POST");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* {"error": why}; the message may quote the client's bytes. */
static enum MHD_Result reply_error(struct collector_server *srv,
				   struct MHD_Connection *conn,
				   unsigned int status, const char *why)
{
	char *text = utf8__repair(why);
	json_t *obj;

	count(status >= 500 ? &srv->stats.failed : &srv->stats.rejected, 1);
	obj = json_pack("{s:s}", "error", text ? text : "out of memory");
	free(text);
	return queue_json(conn, status, obj);
}

static int peer_trusted(struct collector_server *srv,
			struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(conn,
				       MHD_CONNECTION_INFO_GNUTLS_SESSION);
	/* no way to verify is no trust */
	return info && info->tls_session && srv->cfg.verify_peer &&
	       srv->cfg.verify_peer(info->tls_session) == 0;
}

/* Budget for body bytes, shared by all connections. */
static int reserve(struct collector_server *srv, struct upload *up,
		   size_t want)
{
	size_t held;

	if (want <= up->reserved)
		return 0;
	held = __atomic_add_fetch(&srv->body_held, want - up->reserved,
				  __ATOMIC_RELAXED);
	if (held > srv->body_budget) {
		__atomic_sub_fetch(&srv->body_held, want - up->reserved,
				   __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	up->reserved = want;
	return 0;
}

static void release_body(struct collector_server *srv, struct upload *up)
{
	__atomic_sub_fetch(&srv->body_held, up->reserved, __ATOMIC_RELAXED);
	up->reserved = 0;
	free(up->body);
	up->body = NULL;
	up->len = 0;
	up->cap = 0;
}

static void refuse(struct collector_server *srv, struct upload *up,
		   unsigned int status, size_t n)
{
	up->refuse = status;
	up->discarded = up->len + n;
	release_body(srv, up);
}

static int grow(struct collector_server *srv, struct upload *up, size_t need)
{
	size_t cap = up->cap ? up->cap : 64 * 1024;
	uint8_t *body;

	while (cap < need)
		cap *= 2;
	if (cap > srv->cfg.max_batch_bytes)
		cap = srv->cfg.max_batch_bytes;
	if (reserve(srv, up, cap))
		return -ENOBUFS;
	body = realloc(up->body, cap);
	if (!body)
		return -ENOMEM;
	up->body = body;
	up->cap = cap;
	return 0;
}

/* 0, or -E2BIG once a refused body has gone on for too long. */
static int append(struct collector_server *srv, struct upload *up,
		  const char *data, size_t n)
{
	if (up->refuse) {
		up->discarded += n;
		return up->discarded > srv->cfg.max_batch_bytes + DISCARD_MAX ?
		       -E2BIG : 0;
	}
	if (up->len + n > srv->cfg.max_batch_bytes) {
		refuse(srv, up, MHD_HTTP_CONTENT_TOO_LARGE, n);
		return 0;
	}
	if (up->len + n > up->cap && grow(srv, up, up->len + n)) {
		refuse(srv, up, MHD_HTTP_SERVICE_UNAVAILABLE, n);
		return 0;
	}
	memcpy(up->body + up->len, data, n);
	up->len += n;
	return 0;
}

static enum MHD_Result refuse_reply(struct collector_server *srv,
				    struct MHD_Connection *conn,
				    const struct upload *up)
{
	char why[128];

	if (up->refuse == MHD_HTTP_SERVICE_UNAVAILABLE)
		return reply_error(srv, conn, up->refuse,
				   "collector is busy receiving other batches; retry");
	snprintf(why, sizeof(why), "body exceeds %zu bytes",
		 srv->cfg.max_batch_bytes);
	return reply_error(srv, conn, up->refuse, why);
}

static void note_store_result(struct collector_server *srv, int failed,
			      const char *err)
{
	int was = __atomic_exchange_n(&srv->store_failing, failed,
				      __ATOMIC_RELAXED);

	if (failed && !was)
		log_warn("collector: failed to store a batch: %s", err);
	else if (!failed && was)
		log_info("collector: storing batches again");
}

static enum MHD_Result store_batch(struct collector_server *srv,
				   struct MHD_Connection *conn,
				   const Vouch__V1__EventBatch *batch)
{
	struct collector_stored done;
	char err[512];
	int ret;

	ret = collector_store__insert(srv->store, batch, &done, err,
				      sizeof(err));
	note_store_result(srv, ret != 0, err);
	if (ret)
		return reply_error(srv, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "failed to store the batch; nothing of it was stored");
	count(&srv->stats.batches, 1);
	count(&srv->stats.events, done.stored);
	count(&srv->stats.duplicates, done.duplicates);
	return queue_json(conn, MHD_HTTP_OK,
			  json_pack("{s:I, s:I}", "stored",
				    (json_int_t)done.stored, "duplicates",
				    (json_int_t)done.duplicates));
}

/* The whole body is in: decode, check, store, answer. */
static enum MHD_Result finish_post(struct collector_server *srv,
				   struct MHD_Connection *conn,
				   struct upload *up)
{
	Vouch__V1__EventBatch *batch;
	enum MHD_Result ret;
	char err[256];
	int why;

	if (up->refuse)
		return refuse_reply(srv, conn, up);
	batch = collector_validate__decode(up->body, up->len, err, sizeof(err));
	why = batch ? 0 : errno;
	release_body(srv, up);
	if (why == ENOMEM)
		return reply_error(srv, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "out of memory; retry");
	if (!batch)
		return reply_error(srv, conn, MHD_HTTP_BAD_REQUEST, err);
	ret = store_batch(srv, conn, batch);
	vouch__v1__event_batch__free_unpacked(batch, NULL);
	return ret;
}

/* A declared length over the limit is refused before a byte is read. */
static int declared_too_large(struct collector_server *srv,
			      struct MHD_Connection *conn)
{
	const char *len;
	unsigned long long n;
	char *end;

	len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!len)
		return 0;
	errno = 0;
	n = strtoull(len, &end, 10);
	return errno || *end || n > srv->cfg.max_batch_bytes;
}

static enum MHD_Result begin_post(struct collector_server *srv,
				  struct MHD_Connection *conn, void **req_cls)
{
	const char *type;
	struct upload *up;
	char why[128];

	type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!type || strcmp(type, PROTOBUF_TYPE) != 0)
		return reply_error(srv, conn,
				   MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				   "Content-Type must be " PROTOBUF_TYPE);
	if (declared_too_large(srv, conn)) {
		snprintf(why, sizeof(why), "body exceeds %zu bytes",
			 srv->cfg.max_batch_bytes);
		return reply_error(srv, conn, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	up = calloc(1, sizeof(*up));
	if (!up)
		return MHD_NO;
	*req_cls = up;
	return MHD_YES;
}

struct arg_walk {
	struct collector_query *q;
	char err[256];
	int ret;
};

static enum MHD_Result take_arg(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct arg_walk *walk = cls;

	walk->ret = collector_query__set(walk->q, key, value, walk->err,
					 sizeof(walk->err));
	return walk->ret ? MHD_NO : MHD_YES;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	ssize_t n = collector_stream__read(cls, buf, max);

	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
	collector_stream__close(cls);
}

static enum MHD_Result queue_stream(struct MHD_Connection *conn,
				    struct collector_stream *st)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
						 STREAM_BLOCK, stream_read,
						 st, stream_free);
	if (!resp) {
		collector_stream__close(st);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/x-ndjson");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result serve_get(struct collector_server *srv,
				 struct MHD_Connection *conn)
{
	struct arg_walk walk = { 0 };
	struct collector_query q;
	struct collector_stream *st;
	int heartbeat_ms;

	collector_query__init(&q);
	walk.q = &q;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, take_arg,
				  &walk);
	if (walk.ret) {
		collector_query__free(&q);
		return walk.ret == -ENOMEM ? MHD_NO :
		       reply_error(srv, conn, MHD_HTTP_BAD_REQUEST, walk.err);
	}
	/* a quiet stream says something before the connection times out */
	heartbeat_ms = (int)srv->cfg.timeout_s * 1000 / 2;
	st = collector_stream__open(srv->store, &q, heartbeat_ms, walk.err,
				    sizeof(walk.err));
	collector_query__free(&q);
	if (!st) {
		/* the path and SQLite's words are for the operator only */
		log_debug("collector: failed to open a reader: %s", walk.err);
		return reply_error(srv, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "failed to read the database");
	}
	return queue_stream(conn, st);
}

static enum MHD_Result route(struct collector_server *srv,
			     struct MHD_Connection *conn, const char *url,
			     const char *method, void **req_cls)
{
	if (srv->cfg.client_ca && !peer_trusted(srv, conn))
		return reply_error(srv, conn, MHD_HTTP_FORBIDDEN,
				   "a client certificate signed by the collector's CA is required");
	if (strcmp(url, EVENTS_PATH) != 0)
		return reply_error(srv, conn, MHD_HTTP_NOT_FOUND,
				   "no such endpoint; try " EVENTS_PATH);
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return begin_post(srv, conn, req_cls);
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return serve_get(srv, conn);
	return reply_error(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			   "only GET and POST are allowed on " EVENTS_PATH);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *data_size, void **req_cls)
{
	struct collector_server *srv = cls;
	struct upload *up = *req_cls;

	if (!up)
		return route(srv, conn, url, method, req_cls);
	if (*data_size == 0)
		return finish_post(srv, conn, up);
	if (append(srv, up, data, *data_size))
		return MHD_NO;
	*data_size = 0;
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct collector_server *srv = cls;
	struct upload *up = *req_cls;

	if (!up)
		return;
	release_body(srv, up);
	free(up);
	*req_cls = NULL;
}

/*
 * Once started, MHD's own messages are about single connections: debug
 * level. Before, they say why the daemon could not start.
 */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct collector_server *srv = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (__atomic_load_n(&srv->started, __ATOMIC_RELAXED))
		log_debug("collector: http: %s", msg);
	else
		log_error("collector: http: %s", msg);
}

/* "HOST:PORT" or "[HOST]:PORT": host copied out, port checked. */
static int split_addr(const char *s, char *host, size_t host_len,
		      unsigned short *port)
{
	const char *colon = strrchr(s, ':');
	unsigned long n;
	size_t len;
	char *end;

	if (!colon || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(colon + 1, &end, 10);
	if (errno || *end || n > 65535)
		return -EINVAL;
	len = colon - s;
	if (len >= 2 && s[0] == '[' && colon[-1] == ']') {
		s++;
		len -= 2;
	} else if (memchr(s, ':', len)) {
		/* "::1:80" is ambiguous: IPv6 goes in brackets */
		return -EINVAL;
	}
	if (len == 0 || len >= host_len)
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	*port = (unsigned short)n;
	return 0;
}

int collector_server__parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
	};
	struct addrinfo *res;
	unsigned short port;
	char host[64];
	int ok;

	if (split_addr(s, host, sizeof(host), &port) ||
	    getaddrinfo(host, NULL, &hints, &res))
		return -EINVAL;
	ok = res->ai_addrlen <= sizeof(*ss);
	if (ok)
		memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (!ok)
		return -EINVAL;
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	return 0;
}

static size_t add_tls_options(const struct collector_server_config *cfg,
			      struct MHD_OptionItem *opt)
{
	size_t n = 0;

	if (!cfg->tls_cert)
		return 0;
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
					    (void *)cfg->tls_cert };
	opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
					    (void *)cfg->tls_key };
	/* MHD then asks every client for a certificate; route() checks it */
	if (cfg->client_ca)
		opt[n++] = (struct MHD_OptionItem){
			MHD_OPTION_HTTPS_MEM_TRUST, 0,
			(void *)cfg->client_ca };
	return n;
}

static struct MHD_Daemon *start_daemon(struct collector_server *srv)
{
	const struct collector_server_config *cfg = &srv->cfg;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			     MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opt[] = {
		/* first, or MHD prints what comes before on its own */
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, srv },
		{ MHD_OPTION_SOCK_ADDR, 0, (void *)cfg->addr },
		{ MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY,
		  NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv },
		/* room for the TLS options, and the end */
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	add_tls_options(cfg, &opt[sizeof(opt) / sizeof(opt[0]) - 4]);
	if (cfg->addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
				MHD_OPTION_ARRAY, opt, MHD_OPTION_END);
}

struct collector_server *
collector_server__start(const struct collector_server_config *cfg,
			struct collector_store *store)
{
	struct collector_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->cfg = *cfg;
	srv->store = store;
	srv->body_budget = cfg->max_batch_bytes > BODY_BUDGET_MIN ?
			   cfg->max_batch_bytes : BODY_BUDGET_MIN;
	srv->daemon = start_daemon(srv);
	if (!srv->daemon) {
		free(srv);
		errno = EIO;
		return NULL;
	}
	__atomic_store_n(&srv->started, 1, __ATOMIC_RELAXED);
	return srv;
}

unsigned int collector_server__port(const struct collector_server *srv)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

void collector_server__stats(const struct collector_server *srv,
			     struct collector_server_stats *out)
{
	out->batches = __atomic_load_n(&srv->stats.batches, __ATOMIC_RELAXED);
	out->events = __atomic_load_n(&srv->stats.events, __ATOMIC_RELAXED);
	out->duplicates = __atomic_load_n(&srv->stats.duplicates,
					  __ATOMIC_RELAXED);
	out->rejected = __atomic_load_n(&srv->stats.rejected,
					__ATOMIC_RELAXED);
	out->failed = __atomic_load_n(&srv->stats.failed, __ATOMIC_RELAXED);
}

void collector_server__stop(struct collector_server *srv)
{
	if (!srv)
		return;
	/* follow streams end first, or MHD would wait for their threads */
	collector_store__stop_waiters(srv->store);
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
