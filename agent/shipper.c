// SPDX-License-Identifier: GPL-2.0-only
/* Ships spooled events to vouch-collector over HTTP(S) with libcurl. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "log.h"
#include "shipper.h"
#include "spool.h"
#include "vouch.pb-c.h"

#define ENDPOINT_PATH		"/v1/events"
#define DEF_CONNECT_TIMEOUT_MS	5000
#define DEF_TIMEOUT_MS		15000
#define DEF_BATCH_EVENTS	500
#define DEF_BATCH_BYTES		(1U << 20)
#define DEF_BACKOFF_MIN_MS	100
#define DEF_BACKOFF_MAX_MS	10000
#define DEF_IDLE_MS		1000

struct shipper {
	struct spool *spool;
	struct shipper_opts opts;	/* defaults filled; strings not kept */
	char *url;			/* the endpoint, for requests and logs */
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];

	/* One batch in flight, its buffers reused from POST to POST. */
	struct spool_batch batch;
	Vouch__V1__Event **evs;
	size_t evs_cap;
	size_t nevs;
	uint64_t batch_invalid;
	unsigned char *body;
	size_t body_cap;
	size_t body_len;

	size_t cur_max_events;		/* halved on refusal, regrown */
	long backoff_ms;		/* the last delay; 0 after success */
	uint64_t streak;		/* failures since the last success */
	uint64_t rng;			/* jitter only; not for secrets */

	pthread_mutex_t lock;		/* st, kicked, running */
	pthread_cond_t cond;
	pthread_t thread;
	bool running;
	bool kicked;
	atomic_int stop;
	struct shipper_stats st;
};

int64_t shipper__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- setup ---- */

static void opts_defaults(struct shipper_opts *o)
{
	if (o->connect_timeout_ms <= 0)
		o->connect_timeout_ms = DEF_CONNECT_TIMEOUT_MS;
	if (o->timeout_ms <= 0)
		o->timeout_ms = DEF_TIMEOUT_MS;
	if (o->batch_max_events == 0)
		o->batch_max_events = DEF_BATCH_EVENTS;
	if (o->batch_max_bytes == 0)
		o->batch_max_bytes = DEF_BATCH_BYTES;
	if (o->backoff_min_ms <= 0)
		o->backoff_min_ms = DEF_BACKOFF_MIN_MS;
	if (o->backoff_max_ms < o->backoff_min_ms)
		o->backoff_max_ms = o->backoff_min_ms > DEF_BACKOFF_MAX_MS ?
				    o->backoff_min_ms : DEF_BACKOFF_MAX_MS;
	if (o->idle_ms <= 0)
		o->idle_ms = DEF_IDLE_MS;
}

/* {base}/v1/events, without doubling a trailing slash; NULL on error. */
static char *endpoint_url(const char *base)
{
	size_t len;
	char *url;

	if (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0) {
		errno = EINVAL;
		return NULL;
	}
	len = strlen(base);
	while (len && base[len - 1] == '/')
		len--;
	if (asprintf(&url, "%.*s" ENDPOINT_PATH, (int)len, base) < 0)
		return NULL;
	return url;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	return size * nmemb;
}

/* Lets shipper__stop() abort a request in flight. */
static int abort_on_stop(void *ud, curl_off_t dltotal, curl_off_t dlnow,
			 curl_off_t ultotal, curl_off_t ulnow)
{
	struct shipper *sh = ud;

	return atomic_load(&sh->stop) ? 1 : 0;
}

static int curl_setup_http(struct shipper *sh)
{
	CURL *c = sh->curl;
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_URL, sh->url);
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
				CURL_HTTP_VERSION_1_1);
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, sh->headers);
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "vouchd/" VOUCH_VERSION);
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
				sh->opts.connect_timeout_ms);
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
				sh->opts.timeout_ms);
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, sh->errbuf);
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
	bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	bad |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, sh);
	return bad ? -EINVAL : 0;
}

/* The peer is always verified; only where its CA comes from is chosen. */
static int curl_setup_tls(struct shipper *sh, const struct shipper_opts *o)
{
	CURL *c = sh->curl;
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		bad |= curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->cert_file)
		bad |= curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert_file);
	if (o->key_file)
		bad |= curl_easy_setopt(c, CURLOPT_SSLKEY, o->key_file);
	return bad ? -EINVAL : 0;
}

static int curl_setup(struct shipper *sh, const struct shipper_opts *o)
{
	struct curl_slist *h;
	int err;

	sh->curl = curl_easy_init();
	if (!sh->curl)
		return -ENOMEM;
	sh->headers = curl_slist_append(NULL,
					"Content-Type: application/x-protobuf");
	if (!sh->headers)
		return -ENOMEM;
	/* No "Expect: 100-continue" round trip before large batches. */
	h = curl_slist_append(sh->headers, "Expect:");
	if (!h)
		return -ENOMEM;

	err = curl_setup_http(sh);
	if (!err)
		err = curl_setup_tls(sh, o);
	return err;
}

static struct shipper *shipper_alloc(const struct shipper_opts *opts,
				     struct spool *spool)
{
	struct shipper *sh = calloc(1, sizeof(*sh));
	pthread_condattr_t attr;

	if (!sh)
		return NULL;
	sh->spool = spool;
	sh->opts = *opts;
	opts_defaults(&sh->opts);
	sh->cur_max_events = sh->opts.batch_max_events;
	sh->rng = (uint64_t)shipper__now_ms() ^ (uintptr_t)sh;
	atomic_init(&sh->stop, 0);
	pthread_mutex_init(&sh->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sh->cond, &attr);
	pthread_condattr_destroy(&attr);
	return sh;
}

struct shipper *shipper__new(const struct shipper_opts *opts,
			     struct spool *spool)
{
	struct shipper *sh;
	int err;

	if (!opts || !opts->url || !spool) {
		errno = EINVAL;
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errno = ENOMEM;
		return NULL;
	}
	sh = shipper_alloc(opts, spool);
	if (!sh) {
		curl_global_cleanup();
		return NULL;
	}

	sh->url = endpoint_url(opts->url);
	err = sh->url ? curl_setup(sh, opts) : -errno;
	if (err) {
		shipper__free(sh);
		errno = -err;
		return NULL;
	}
	return sh;
}

static void events_free(struct shipper *sh)
{
	for (size_t i = 0; i < sh->nevs; i++)
		vouch__v1__event__free_unpacked(sh->evs[i], NULL);
	sh->nevs = 0;
}

void shipper__free(struct shipper *sh)
{
	if (!sh)
		return;
	shipper__stop(sh);
	events_free(sh);
	curl_easy_cleanup(sh->curl);
	curl_slist_free_all(sh->headers);
	curl_global_cleanup();
	spool__batch_free(&sh->batch);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->lock);
	free(sh->evs);
	free(sh->body);
	free(sh->url);
	free(sh);
}

/* ---- one batch ---- */

static int evs_reserve(struct shipper *sh, size_t n)
{
	Vouch__V1__Event **evs;

	if (n <= sh->evs_cap)
		return 0;
	evs = realloc(sh->evs, n * sizeof(*evs));
	if (!evs)
		return -ENOMEM;
	sh->evs = evs;
	sh->evs_cap = n;
	return 0;
}

/* Decodes the peeked records; those that do not decode are left out. */
static int batch_decode(struct shipper *sh)
{
	const struct spool_record *r;
	Vouch__V1__Event *ev;
	int err = evs_reserve(sh, sh->batch.n);

	if (err)
		return err;
	sh->batch_invalid = 0;
	for (size_t i = 0; i < sh->batch.n; i++) {
		r = &sh->batch.recs[i];
		ev = vouch__v1__event__unpack(NULL, r->len, r->data);
		if (ev)
			sh->evs[sh->nevs++] = ev;
		else
			sh->batch_invalid++;
	}
	return 0;
}

static int body_pack(struct shipper *sh)
{
	Vouch__V1__EventBatch eb = VOUCH__V1__EVENT_BATCH__INIT;
	unsigned char *body;
	size_t len;

	eb.n_events = sh->nevs;
	eb.events = sh->evs;
	len = vouch__v1__event_batch__get_packed_size(&eb);
	if (len > sh->body_cap) {
		body = realloc(sh->body, len);
		if (!body)
			return -ENOMEM;
		sh->body = body;
		sh->body_cap = len;
	}
	sh->body_len = vouch__v1__event_batch__pack(&eb, sh->body);
	return 0;
}

static int body_build(struct shipper *sh)
{
	int err = batch_decode(sh);

	if (!err && sh->nevs)
		err = body_pack(sh);
	events_free(sh);
	return err;
}

/* The HTTP status, or 0 when no answer came (errbuf says why). */
static long post(struct shipper *sh)
{
	CURLcode rc;
	long status = 0;

	sh->errbuf[0] = '\0';
	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDS, sh->body);
	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)sh->body_len);
	rc = curl_easy_perform(sh->curl);
	if (rc != CURLE_OK) {
		if (!sh->errbuf[0])
			snprintf(sh->errbuf, sizeof(sh->errbuf), "%s",
				 curl_easy_strerror(rc));
		return 0;
	}
	curl_easy_getinfo(sh->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* ---- outcomes ---- */

static uint64_t batch_last_seq(const struct shipper *sh)
{
	return sh->batch.recs[sh->batch.n - 1].seq;
}

static int on_stored(struct shipper *sh, long status)
{
	if (sh->streak)
		log_info("shipper: '%s' takes events again, after %llu failures",
			 sh->url, (unsigned long long)sh->streak);
	sh->streak = 0;
	sh->backoff_ms = 0;
	sh->cur_max_events *= 2;
	if (sh->cur_max_events > sh->opts.batch_max_events)
		sh->cur_max_events = sh->opts.batch_max_events;

	pthread_mutex_lock(&sh->lock);
	sh->st.batches_sent++;
	sh->st.events_sent += sh->batch.n - sh->batch_invalid;
	sh->st.invalid_events += sh->batch_invalid;
	sh->st.last_status = status;
	sh->st.next_attempt_ms = 0;
	sh->st.last_error[0] = '\0';
	pthread_mutex_unlock(&sh->lock);
	return spool__ack(sh->spool, batch_last_seq(sh));
}

static int64_t backoff_next(struct shipper *sh)
{
	long b = sh->backoff_ms ? sh->backoff_ms * 2 : sh->opts.backoff_min_ms;

	if (b > sh->opts.backoff_max_ms)
		b = sh->opts.backoff_max_ms;
	sh->backoff_ms = b;
	sh->rng ^= sh->rng << 13;
	sh->rng ^= sh->rng >> 7;
	sh->rng ^= sh->rng << 17;
	return b / 2 + (int64_t)(sh->rng % (uint64_t)(b / 2 + 1));
}

static void set_error(struct shipper *sh, long status)
{
	if (status)
		snprintf(sh->st.last_error, sizeof(sh->st.last_error),
			 "HTTP %ld", status);
	else
		snprintf(sh->st.last_error, sizeof(sh->st.last_error), "%s",
			 sh->errbuf);
}

/* Logs the first failure of a run only; the rest are counted. */
static int on_failed(struct shipper *sh, long status, int64_t now_ms)
{
	int64_t delay = backoff_next(sh);
	char why[sizeof(sh->st.last_error)];

	pthread_mutex_lock(&sh->lock);
	sh->st.failures++;
	sh->st.last_status = status;
	sh->st.next_attempt_ms = now_ms + delay;
	set_error(sh, status);
	memcpy(why, sh->st.last_error, sizeof(why));
	pthread_mutex_unlock(&sh->lock);
	if (sh->streak++ == 0)
		log_warn("shipper: failed to send events to '%s': %s; retrying",
			 sh->url, why);
	return SHIPPER_RETRY;
}

static int ack_dropped(struct shipper *sh)
{
	int err = spool__ack(sh->spool, batch_last_seq(sh));

	return err ? err : SHIPPER_REJECTED;
}

static int on_refused(struct shipper *sh, long status)
{
	enum log_level lvl;

	if (sh->batch.n > 1) {
		sh->cur_max_events = sh->batch.n / 2;
		return SHIPPER_SPLIT;
	}
	pthread_mutex_lock(&sh->lock);
	lvl = sh->st.rejected_batches ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN;
	sh->st.rejected_batches++;
	sh->st.rejected_events++;
	sh->st.last_status = status;
	set_error(sh, status);
	pthread_mutex_unlock(&sh->lock);
	log__msg(lvl, "shipper: '%s' refused event %llu (HTTP %ld): dropped",
		 sh->url, (unsigned long long)batch_last_seq(sh), status);
	return ack_dropped(sh);
}

/* Nothing in the batch decoded: nothing to send, nothing worth keeping. */
static int on_all_invalid(struct shipper *sh)
{
	bool first;

	pthread_mutex_lock(&sh->lock);
	first = sh->st.invalid_events == 0;
	sh->st.invalid_events += sh->batch_invalid;
	pthread_mutex_unlock(&sh->lock);
	if (first)
		log_warn("shipper: dropped spooled records that are not events");
	return ack_dropped(sh);
}

static int judge(struct shipper *sh, long status, int64_t now_ms)
{
	int err;

	if (status >= 200 && status < 300) {
		err = on_stored(sh, status);
		return err ? err : SHIPPER_SENT;
	}
	if (status == 400 || status == 413)
		return on_refused(sh, status);
	/* Aborted by shipper__stop(): not the collector's failure. */
	if (status == 0 && atomic_load(&sh->stop))
		return SHIPPER_RETRY;
	return on_failed(sh, status, now_ms);
}

int shipper__step(struct shipper *sh, int64_t now_ms)
{
	int64_t due;
	int err;

	if (!sh)
		return -EINVAL;
	pthread_mutex_lock(&sh->lock);
	due = sh->st.next_attempt_ms;
	pthread_mutex_unlock(&sh->lock);
	if (now_ms < due)
		return SHIPPER_WAITING;

	err = spool__peek(sh->spool, sh->cur_max_events,
			  sh->opts.batch_max_bytes, &sh->batch);
	if (err)
		return err;
	if (sh->batch.n == 0)
		return SHIPPER_IDLE;
	err = body_build(sh);
	if (err)
		return err;
	if (sh->batch_invalid == sh->batch.n)
		return on_all_invalid(sh);
	return judge(sh, post(sh), now_ms);
}

/* ---- the thread ---- */

static struct timespec abs_time(int64_t ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000,
	};

	return ts;
}

/* Sleeps until wake_ms, a kick or a stop; called with sh->lock held. */
static void wait_locked(struct shipper *sh, int64_t wake_ms)
{
	struct timespec ts = abs_time(wake_ms);

	while (!sh->kicked && !atomic_load(&sh->stop) &&
	       shipper__now_ms() < wake_ms)
		if (pthread_cond_timedwait(&sh->cond, &sh->lock, &ts) ==
		    ETIMEDOUT)
			break;
	sh->kicked = false;
}

static int64_t wake_time(struct shipper *sh, int rc, int64_t now)
{
	if (rc == SHIPPER_WAITING || rc == SHIPPER_RETRY)
		return sh->st.next_attempt_ms;
	return now + sh->opts.idle_ms;
}

static void report_step_error(struct shipper *sh, int rc, int prev)
{
	if (rc < 0 && rc != prev)
		log_warn("shipper: failed to read spooled events: %s",
			 strerror(-rc));
}

static void *ship_loop(void *arg)
{
	struct shipper *sh = arg;
	int rc, prev = 0;
	int64_t now;

	while (!atomic_load(&sh->stop)) {
		now = shipper__now_ms();
		rc = shipper__step(sh, now);
		report_step_error(sh, rc, prev);
		prev = rc;
		if (rc == SHIPPER_SENT || rc == SHIPPER_SPLIT ||
		    rc == SHIPPER_REJECTED)
			continue;
		pthread_mutex_lock(&sh->lock);
		wait_locked(sh, wake_time(sh, rc, now));
		pthread_mutex_unlock(&sh->lock);
	}
	return NULL;
}

int shipper__start(struct shipper *sh)
{
	int err;

	if (!sh)
		return -EINVAL;
	pthread_mutex_lock(&sh->lock);
	if (sh->running) {
		pthread_mutex_unlock(&sh->lock);
		return -EALREADY;
	}
	atomic_store(&sh->stop, 0);
	err = -pthread_create(&sh->thread, NULL, ship_loop, sh);
	sh->running = err == 0;
	pthread_mutex_unlock(&sh->lock);
	return err;
}

void shipper__kick(struct shipper *sh)
{
	if (!sh)
		return;
	pthread_mutex_lock(&sh->lock);
	sh->kicked = true;
	pthread_cond_signal(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
}

void shipper__stop(struct shipper *sh)
{
	bool running;

	if (!sh)
		return;
	pthread_mutex_lock(&sh->lock);
	running = sh->running;
	sh->running = false;
	if (running)
		atomic_store(&sh->stop, 1);
	pthread_cond_signal(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
	if (!running)
		return;
	pthread_join(sh->thread, NULL);
	/* Direct shipper__step() calls work again after a stop. */
	atomic_store(&sh->stop, 0);
}

void shipper__stats(struct shipper *sh, struct shipper_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!sh)
		return;
	pthread_mutex_lock(&sh->lock);
	*out = sh->st;
	pthread_mutex_unlock(&sh->lock);
}
