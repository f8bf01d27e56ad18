// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouch-collector: receives event batches from vouchd agents over HTTP(S),
 * stores them in SQLite and serves them back, filtered or followed.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>

#include "collector_server.h"
#include "collector_store.h"
#include "log.h"

/* PEM files larger than this are not certificates or keys */
#define PEM_MAX		(1024 * 1024)

struct collector {
	const char *listen;
	const char *db_path;
	const char *cert_path;
	const char *key_path;
	const char *ca_path;
	struct sockaddr_storage addr;
	struct collector_server_config cfg;
	char *cert;
	char *key;
	char *ca;
	struct collector_store *store;
	struct collector_server *server;
	sigset_t stop_signals;
};

static const char usage[] =
"Usage: vouch-collector --listen ADDR:PORT --db FILE [options]\n"
"\n"
"Receives vouchd's event batches (POST /v1/events, application/x-protobuf),\n"
"stores them in SQLite, and serves them back as JSON lines\n"
"(GET /v1/events, with filters and follow=1). See docs/COLLECTOR.md.\n"
"\n"
"  -l, --listen ADDR:PORT     address to serve on, e.g. 127.0.0.1:8443 or\n"
"                             [::1]:8443; port 0 picks a free port\n"
"  -d, --db FILE              SQLite database, created when missing\n"
"      --tls-cert FILE        serve HTTPS with this certificate (PEM)...\n"
"      --tls-key FILE         ...and this private key (PEM)\n"
"      --client-ca FILE       require client certificates signed by this CA\n"
"      --max-batch-bytes N    largest POST body accepted (default 4194304)\n"
"      --max-connections N    connections at once (default 256)\n"
"      --timeout SECONDS      idle connection timeout, 2..3600 (default 10)\n"
"      --log-level LEVEL      error, warn, info (default) or debug\n"
"      --log-format FORMAT    text (default) or json\n"
"  -h, --help                 show this help\n"
"  -V, --version              show the version\n"
"\n"
"Signals: SIGTERM or SIGINT stops it cleanly.\n";

enum {
	OPT_TLS_CERT = 256,
	OPT_TLS_KEY,
	OPT_CLIENT_CA,
	OPT_MAX_BATCH,
	OPT_MAX_CONN,
	OPT_TIMEOUT,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
};

static int parse_size(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static int set_logging(const char *level, const char *format)
{
	int lvl = level ? log__parse_level(level) : LOG_LEVEL_INFO;
	int fmt = format ? log__parse_format(format) : LOG_FORMAT_TEXT;

	if (lvl < 0 || fmt < 0)
		return -EINVAL;
	log__setup(lvl, fmt, stderr);
	return 0;
}

static int set_option(struct collector *c, int opt, const char *arg)
{
	unsigned long long n;

	switch (opt) {
	case 'l':
		c->listen = arg;
		return 0;
	case 'd':
		c->db_path = arg;
		return 0;
	case OPT_TLS_CERT:
		c->cert_path = arg;
		return 0;
	case OPT_TLS_KEY:
		c->key_path = arg;
		return 0;
	case OPT_CLIENT_CA:
		c->ca_path = arg;
		return 0;
	case OPT_MAX_BATCH:
		if (parse_size(arg, 1024, 1ULL << 30, &n))
			return -EINVAL;
		c->cfg.max_batch_bytes = n;
		return 0;
	case OPT_MAX_CONN:
		if (parse_size(arg, 1, 65536, &n))
			return -EINVAL;
		c->cfg.max_connections = n;
		return 0;
	case OPT_TIMEOUT:
		if (parse_size(arg, 2, 3600, &n))
			return -EINVAL;
		c->cfg.timeout_s = n;
		return 0;
	}
	return -EINVAL;
}

static int check_args(struct collector *c)
{
	if (!c->listen || !c->db_path) {
		fputs("vouch-collector: --listen and --db are required\n",
		      stderr);
		return -EINVAL;
	}
	if (!c->cert_path != !c->key_path) {
		fputs("vouch-collector: --tls-cert and --tls-key go together\n",
		      stderr);
		return -EINVAL;
	}
	if (c->ca_path && !c->cert_path) {
		fputs("vouch-collector: --client-ca needs --tls-cert and --tls-key\n",
		      stderr);
		return -EINVAL;
	}
	if (collector_server__parse_addr(c->listen, &c->addr)) {
		fprintf(stderr,
			"vouch-collector: --listen '%s' is not ADDR:PORT with a numeric address\n",
			c->listen);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct collector *c)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "client-ca", required_argument, NULL, OPT_CLIENT_CA },
		{ "max-batch-bytes", required_argument, NULL, OPT_MAX_BATCH },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *level = NULL, *format = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "l:d:hV", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (opt == 'V') {
			printf("vouch-collector %s\n", VOUCH_VERSION);
			exit(0);
		}
		if (opt == OPT_LOG_LEVEL || opt == OPT_LOG_FORMAT) {
			*(opt == OPT_LOG_LEVEL ? &level : &format) = optarg;
			continue;
		}
		if (set_option(c, opt, optarg))
			goto bad;
	}
	if (optind < argc || set_logging(level, format))
		goto bad;
	return check_args(c);
bad:
	fputs(usage, stderr);
	return -EINVAL;
}

/* A whole PEM file as a string, for MHD's in-memory TLS options. */
static char *read_pem(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = f ? malloc(PEM_MAX + 1) : NULL;
	int err = f ? ENOMEM : errno;
	size_t n = 0;

	if (buf) {
		n = fread(buf, 1, PEM_MAX + 1, f);
		err = ferror(f) ? EIO : n > PEM_MAX ? EFBIG : 0;
	}
	if (f)
		fclose(f);
	if (!buf || err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int load_pem(const char *path, const char *what, char **out)
{
	int err;

	if (!path)
		return 0;
	*out = read_pem(path);
	if (!*out) {
		err = -errno;
		log_error("collector: failed to read %s '%s': %s", what, path,
			  strerror(-err));
		return err;
	}
	return 0;
}

/* The client's certificate chain verified against --client-ca. */
static int verify_peer(void *tls_session)
{
	unsigned int status = 0;

	if (gnutls_certificate_verify_peers2(tls_session, &status) < 0)
		return -EACCES;
	return status == 0 ? 0 : -EACCES;
}

static int load_tls(struct collector *c)
{
	int ret;

	ret = load_pem(c->cert_path, "TLS certificate", &c->cert);
	if (!ret)
		ret = load_pem(c->key_path, "TLS key", &c->key);
	if (!ret)
		ret = load_pem(c->ca_path, "client CA", &c->ca);
	c->cfg.tls_cert = c->cert;
	c->cfg.tls_key = c->key;
	c->cfg.client_ca = c->ca;
	c->cfg.verify_peer = verify_peer;
	return ret;
}

static int open_store(struct collector *c)
{
	char err[512];
	int ret;

	c->store = collector_store__open(c->db_path, err, sizeof(err));
	if (!c->store) {
		ret = -errno;
		log_error("collector: failed to open %s", err);
		return ret;
	}
	return 0;
}

/*
 * The stop signals are blocked before any thread starts, so every thread
 * inherits the mask and only sigwait() in main ever takes them.
 */
static int block_signals(struct collector *c)
{
	sigemptyset(&c->stop_signals);
	sigaddset(&c->stop_signals, SIGTERM);
	sigaddset(&c->stop_signals, SIGINT);
	/* a client gone mid-answer is an error to MHD, not a death */
	signal(SIGPIPE, SIG_IGN);
	return -pthread_sigmask(SIG_BLOCK, &c->stop_signals, NULL);
}

/* "127.0.0.1:8443" or "[::1]:8443", with the port actually bound. */
static const char *bound_address(struct collector *c, char *buf, size_t len)
{
	char host[64];
	unsigned int port = collector_server__port(c->server);

	if (getnameinfo((const struct sockaddr *)&c->addr, sizeof(c->addr),
			host, sizeof(host), NULL, 0, NI_NUMERICHOST))
		snprintf(host, sizeof(host), "?");
	if (c->addr.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
	return buf;
}

static int start_server(struct collector *c)
{
	char where[96];

	c->cfg.addr = (const struct sockaddr *)&c->addr;
	c->server = collector_server__start(&c->cfg, c->store);
	if (!c->server) {
		log_error("collector: failed to listen on '%s'", c->listen);
		return -EIO;
	}
	log_info("collector %s: listening on %s (%s%s), database %s",
		 VOUCH_VERSION, bound_address(c, where, sizeof(where)),
		 c->cert ? "https" : "http",
		 c->ca ? ", client certificates required" : "", c->db_path);
	return 0;
}

static void wait_for_stop(struct collector *c)
{
	int sig = 0;

	while (sigwait(&c->stop_signals, &sig) != 0)
		;
	log_info("collector: SIG%s received, stopping", sigabbrev_np(sig));
}

static void stop_all(struct collector *c)
{
	struct collector_server_stats st;

	if (c->server) {
		collector_server__stats(c->server, &st);
		collector_server__stop(c->server);
		log_info("collector: stored %lu batches: %lu events, %lu duplicates",
			 st.batches, st.events, st.duplicates);
		log_info("collector: stopped; %lu requests refused, %lu failed",
			 st.rejected, st.failed);
	}
	collector_store__close(c->store);
	free(c->cert);
	if (c->key)
		explicit_bzero(c->key, strlen(c->key));
	free(c->key);
	free(c->ca);
}

int main(int argc, char **argv)
{
	struct collector c = {
		.cfg = {
			.max_batch_bytes = COLLECTOR_MAX_BATCH_BYTES,
			.max_connections = COLLECTOR_MAX_CONNECTIONS,
			.timeout_s = COLLECTOR_TIMEOUT_S,
		},
	};
	int err;

	if (parse_args(argc, argv, &c))
		return 2;
	err = load_tls(&c);
	if (!err)
		err = block_signals(&c);
	if (!err)
		err = open_store(&c);
	if (!err)
		err = start_server(&c);
	if (!err)
		wait_for_stop(&c);
	stop_all(&c);
	return err ? 1 : 0;
}
