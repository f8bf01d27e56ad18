// SPDX-License-Identifier: GPL-2.0-only
/* The pods of this node from the Kubernetes API: list, watch, cache. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "k8s.h"
#include "k8s_pod.h"
#include "log.h"

#define TOKEN_MAX		16384
#define ERROR_BODY_MAX		65536
#define CONTINUE_MAX		8192
#define WATCH_LINE_SLACK	4096	/* {"type":"MODIFIED","object":...} */
#define WATCH_GRACE_S		30	/* past the server's own timeout */
#define QUICK_END_MS		1000

struct cache {
	struct k8s_pod **pods;
	size_t n;
	size_t cap;
};

struct buf {
	char *data;
	size_t len;
	size_t cap;
	int over;		/* past its bound: the rest was dropped */
};

/* One watch response as it streams in. */
struct stream {
	struct buf line;
	struct buf error;	/* the body of a non-200 answer */
	long status;
	int verdict;		/* enum k8s_feed that ended it, or -1 */
	uint64_t events;
};

enum watch_end {
	WATCH_ENDED = 0,	/* the server closed it: resume at once */
	WATCH_FAILED = 1,	/* cut or refused: back off, resume */
	WATCH_RELIST = 2,
};

struct k8s {
	struct k8s_config cfg;	/* strings owned */
	int efd;

	pthread_mutex_t lock;	/* cur, synced, st, full_logged */
	struct cache cur;
	int synced;
	struct k8s_stats st;
	int full_logged;

	/* The feeding side: the thread, or a test calling k8s__feed_*. */
	struct cache next;	/* the LIST being gathered */
	int listing;
	char rv[K8S_MAX_RV + 1];

	/* The thread. */
	pthread_t thread;
	int running;
	atomic_int stop;
	pthread_mutex_t sleep_lock;
	pthread_cond_t cond;
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	long backoff_ms;
	uint64_t rng;
	int failing;		/* failures since the last success */
	int desync;		/* a bad event asked for the re-list */
	struct buf page;
	struct stream ws;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void notify(struct k8s *k)
{
	uint64_t one = 1;

	/* a full counter already says "changed"; nothing to do on EAGAIN */
	if (write(k->efd, &one, sizeof(one)) < 0)
		return;
}

/* ---- the cache ---- */

static void cache_clear(struct cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		k8s_pod__free(c->pods[i]);
	free(c->pods);
	memset(c, 0, sizeof(*c));
}

static struct k8s_pod **cache_uid(const struct cache *c, const char *uid)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->pods[i]->uid, uid) == 0)
			return &c->pods[i];
	return NULL;
}

/* Linear: a node runs some hundred pods, and kubelet's default is 110. */
static const struct k8s_ctr *cache_ctr(const struct cache *c, const char *id,
				       const struct k8s_pod **pod)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->pods[i]->n_ctrs; j++) {
			if (strcmp(c->pods[i]->ctrs[j].id, id) == 0) {
				*pod = c->pods[i];
				return &c->pods[i]->ctrs[j];
			}
		}
	}
	return NULL;
}

static void cache_del(struct cache *c, const char *uid)
{
	struct k8s_pod **slot = cache_uid(c, uid);

	if (!slot)
		return;
	k8s_pod__free(*slot);
	*slot = c->pods[--c->n];
}

static size_t cache_containers(const struct cache *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->pods[i]->n_ctrs;
	return n;
}

/* A container ID that another pod already holds: refuse the newcomer. */
static void refuse_stolen_ids(const struct cache *c, struct k8s_pod *pod)
{
	const struct k8s_pod *owner;

	for (size_t i = 0; i < pod->n_ctrs; i++) {
		if (cache_ctr(c, pod->ctrs[i].id, &owner) &&
		    strcmp(owner->uid, pod->uid) != 0) {
			k8s_pod__refuse(pod,
					"status names container %.64s, which pod %s/%s already holds",
					pod->ctrs[i].id, owner->namespace,
					owner->name);
			return;
		}
	}
}

/* Was this refusal already reported, for this pod, in either cache? */
static int refusal_known(const struct k8s *k, const struct k8s_pod *pod)
{
	const struct cache *caches[] = { &k->cur, &k->next };
	struct k8s_pod **old;

	for (size_t i = 0; i < 2; i++) {
		old = cache_uid(caches[i], pod->uid);
		if (old && (*old)->refused &&
		    strcmp((*old)->refused, pod->refused) == 0)
			return 1;
	}
	return 0;
}

static void report_refusal(struct k8s *k, const struct k8s_pod *pod)
{
	if (refusal_known(k, pod))
		return;
	k->st.refused_pods++;
	log_warn("k8s: refused pod '%s/%s' (uid %s): %s; its containers get the fail action",
		 pod->namespace, pod->name, pod->uid, pod->refused);
}

/* Takes pod (frees it when it cannot be kept). Called with k->lock. */
static void cache_put(struct k8s *k, struct cache *c, struct k8s_pod *pod)
{
	struct k8s_pod **slot, **pods;

	refuse_stolen_ids(c, pod);
	if (pod->refused)
		report_refusal(k, pod);
	slot = cache_uid(c, pod->uid);
	if (slot) {
		k8s_pod__free(*slot);
		*slot = pod;
		return;
	}
	if (c->n >= k->cfg.max_pods) {
		if (!k->full_logged)
			log_warn("k8s: %u pods cached, the max_pods limit; pod '%s/%s' and later ones are not cached",
				 k->cfg.max_pods, pod->namespace, pod->name);
		k->full_logged = 1;
		k8s_pod__free(pod);
		return;
	}
	if (c->n == c->cap) {
		pods = realloc(c->pods, (c->cap ? c->cap * 2 : 64) *
				       sizeof(*pods));
		if (!pods) {
			log_error("k8s: out of memory; pod '%s/%s' not cached",
				  pod->namespace, pod->name);
			k8s_pod__free(pod);
			return;
		}
		c->pods = pods;
		c->cap = c->cap ? c->cap * 2 : 64;
	}
	c->pods[c->n++] = pod;
}

static void update_counts(struct k8s *k)
{
	k->st.pods = k->cur.n;
	k->st.containers = cache_containers(&k->cur);
	if (k->cur.n < k->cfg.max_pods)
		k->full_logged = 0;
}

/* ---- JSON helpers ---- */

static json_t *load(const char *what, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root;

	/* duplicate keys could hide a second, different value: refused */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		log_warn("k8s: %s is not valid JSON (line %d, column %d): %s",
			 what, jerr.line, jerr.column, jerr.text);
	return root;
}

/* A resourceVersion or continue token: printable ASCII, bounded. */
static const char *get_token(const json_t *obj, const char *key, size_t max)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;

	if (!json_is_string(v) || json_string_length(v) > max)
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return NULL;
	return s;
}

static const char *object_rv(const json_t *obj)
{
	return get_token(json_object_get(obj, "metadata"), "resourceVersion",
			 K8S_MAX_RV);
}

static int ours(const struct k8s *k, const struct k8s_pod *pod)
{
	return pod->node && strcmp(pod->node, k->cfg.node_name) == 0;
}

/* Parses an item; oversized objects are refused, not dropped. */
static struct k8s_pod *pod_from(struct k8s *k, const json_t *obj,
				const char *where)
{
	size_t size = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	struct k8s_pod *pod;
	char why[256];

	pod = k8s_pod__parse(obj, why, sizeof(why));
	if (!pod) {
		log_warn("k8s: skipped %s: %s", where, why);
		return NULL;
	}
	if (size > k->cfg.max_object_bytes)
		k8s_pod__refuse(pod, "the pod object is %zu bytes, more than max_object_kb allows (%zu)",
				size, k->cfg.max_object_bytes);
	return pod;
}

/* ---- LIST ---- */

static void list_begin(struct k8s *k)
{
	cache_clear(&k->next);
	k->listing = 1;
}

static void list_item(struct k8s *k, const json_t *item, size_t i)
{
	char where[64];
	struct k8s_pod *pod;

	snprintf(where, sizeof(where), "items[%zu] of a pod list", i);
	pod = pod_from(k, item, where);
	if (!pod)
		return;
	if (!ours(k, pod)) {
		k8s_pod__free(pod);
		return;
	}
	pthread_mutex_lock(&k->lock);
	cache_put(k, &k->next, pod);
	pthread_mutex_unlock(&k->lock);
}

/*
 * One page of a PodList into k->next; its continue token into cont ("" on
 * the last page), its resourceVersion into rv.
 */
static int list_page(struct k8s *k, const char *body, size_t len,
		     char *cont, char *rv)
{
	const json_t *items, *meta, *cv;
	const char *c, *v;
	json_t *root = load("a pod list", body, len);

	if (!root)
		return -EBADMSG;
	items = json_object_get(root, "items");
	meta = json_object_get(root, "metadata");
	v = get_token(meta, "resourceVersion", K8S_MAX_RV);
	cv = json_object_get(meta, "continue");
	c = get_token(meta, "continue", CONTINUE_MAX);
	if (!json_is_array(items) || !v || (cv && !json_is_null(cv) && !c)) {
		log_warn("k8s: a pod list lacks items, metadata.resourceVersion or a valid continue token");
		json_decref(root);
		return -EBADMSG;
	}
	strcpy(rv, v);
	strcpy(cont, c ? c : "");
	for (size_t i = 0; i < json_array_size(items); i++)
		list_item(k, json_array_get(items, i), i);
	json_decref(root);
	return 0;
}

/* Swaps the gathered pages in; how many pods they hold. */
static size_t list_finish(struct k8s *k, const char *rv)
{
	struct cache old;
	size_t n;

	pthread_mutex_lock(&k->lock);
	old = k->cur;
	k->cur = k->next;
	memset(&k->next, 0, sizeof(k->next));
	k->synced = 1;
	k->st.lists++;
	snprintf(k->st.resource_version, sizeof(k->st.resource_version), "%s",
		 rv);
	update_counts(k);
	n = k->cur.n;
	pthread_mutex_unlock(&k->lock);
	snprintf(k->rv, sizeof(k->rv), "%s", rv);
	k->listing = 0;
	cache_clear(&old);
	notify(k);
	return n;
}

int k8s__feed_list(struct k8s *k, const char *body, size_t len, int last)
{
	char cont[CONTINUE_MAX + 1], rv[K8S_MAX_RV + 1];
	int err;

	if (!k->listing)
		list_begin(k);
	err = list_page(k, body, len, cont, rv);
	if (err)
		return err;
	if (last)
		list_finish(k, rv);
	return 0;
}

/* ---- WATCH events ---- */

/* Called with k->lock, so that readers see it with the change it names. */
static void set_rv_locked(struct k8s *k, const char *rv)
{
	if (!rv)
		return;
	snprintf(k->rv, sizeof(k->rv), "%s", rv);
	snprintf(k->st.resource_version, sizeof(k->st.resource_version), "%s",
		 rv);
}

static void set_rv(struct k8s *k, const char *rv)
{
	pthread_mutex_lock(&k->lock);
	set_rv_locked(k, rv);
	pthread_mutex_unlock(&k->lock);
}

static int on_error_event(struct k8s *k, const json_t *obj)
{
	const json_t *code = json_object_get(obj, "code");
	const json_t *msg = json_object_get(obj, "message");
	const char *text = json_is_string(msg) ? json_string_value(msg) : "";

	if (json_is_integer(code) && json_integer_value(code) == 410) {
		log_info("k8s: resourceVersion %s expired (410 Gone: %.200s); re-listing",
			 k->rv, text);
		return K8S_FEED_RELIST;
	}
	log_warn("k8s: the watch ended with an error (code %lld: %.200s); watching again",
		 json_is_integer(code) ? (long long)json_integer_value(code) :
		 0LL, text);
	return K8S_FEED_RECONNECT;
}

static void on_pod_event(struct k8s *k, const json_t *obj, int deleted)
{
	struct k8s_pod *pod = pod_from(k, obj, "a watch event");

	if (!pod) {
		set_rv(k, object_rv(obj));
		return;
	}
	pthread_mutex_lock(&k->lock);
	set_rv_locked(k, object_rv(obj));
	if (deleted || !ours(k, pod)) {
		cache_del(&k->cur, pod->uid);
		k8s_pod__free(pod);
	} else {
		cache_put(k, &k->cur, pod);
	}
	k->st.events++;
	update_counts(k);
	pthread_mutex_unlock(&k->lock);
	notify(k);
}

static int bad_event(struct k8s *k, const char *why)
{
	pthread_mutex_lock(&k->lock);
	k->st.bad_events++;
	pthread_mutex_unlock(&k->lock);
	k->desync = 1;
	log_warn("k8s: %s; re-listing, since an update may be lost", why);
	return K8S_FEED_RELIST;
}

int k8s__feed_watch(struct k8s *k, const char *line, size_t len)
{
	json_t *ev = load("a watch event", line, len);
	const json_t *type, *obj;
	const char *t;
	int ret = K8S_FEED_APPLIED;

	if (!ev)
		return bad_event(k, "a watch event did not parse");
	type = json_object_get(ev, "type");
	obj = json_object_get(ev, "object");
	if (!json_is_string(type) || !json_is_object(obj)) {
		json_decref(ev);
		return bad_event(k, "a watch event lacks its type or object");
	}
	t = json_string_value(type);
	if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0 ||
	    strcmp(t, "DELETED") == 0) {
		on_pod_event(k, obj, t[0] == 'D');
	} else if (strcmp(t, "BOOKMARK") == 0) {
		set_rv(k, object_rv(obj));
	} else if (strcmp(t, "ERROR") == 0) {
		ret = on_error_event(k, obj);
	} else {
		ret = bad_event(k, "a watch event has an unknown type");
	}
	json_decref(ev);
	return ret;
}

/* ---- lookups ---- */

static int miss(struct k8s *k)
{
	return k->synced ? -ENOENT : -EAGAIN;
}

int k8s__lookup(struct k8s *k, const char *container_id,
		struct k8s_pod_meta *out)
{
	const char *id = container_id ? k8s_pod__bare_id(container_id) : NULL;
	const struct k8s_pod *pod;
	const struct k8s_ctr *ctr;
	int err;

	memset(out, 0, sizeof(*out));
	if (!id)
		return -ENOENT;
	pthread_mutex_lock(&k->lock);
	ctr = cache_ctr(&k->cur, id, &pod);
	if (!ctr)
		err = miss(k);
	else if (pod->refused)
		err = -EBADMSG;
	else
		err = k8s_pod__meta(pod, ctr, out);
	pthread_mutex_unlock(&k->lock);
	return err;
}

int k8s__lookup_pod(struct k8s *k, const char *pod_uid,
		    struct k8s_pod_meta *out)
{
	char uid[K8S_MAX_UID + 1];
	struct k8s_pod **pod;
	int err;

	memset(out, 0, sizeof(*out));
	if (!pod_uid || strlen(pod_uid) > K8S_MAX_UID)
		return -ENOENT;
	/* kubepods-pod<uid>.slice spells the UID's dashes as underscores */
	for (size_t i = 0; i <= strlen(pod_uid); i++)
		uid[i] = pod_uid[i] == '_' ? '-' : pod_uid[i];
	pthread_mutex_lock(&k->lock);
	pod = cache_uid(&k->cur, uid);
	if (!pod)
		err = miss(k);
	else if ((*pod)->refused)
		err = -EBADMSG;
	else
		err = k8s_pod__meta(*pod, NULL, out);
	pthread_mutex_unlock(&k->lock);
	return err;
}

int k8s__synced(struct k8s *k)
{
	int synced;

	pthread_mutex_lock(&k->lock);
	synced = k->synced;
	pthread_mutex_unlock(&k->lock);
	return synced;
}

int k8s__eventfd(struct k8s *k)
{
	return k->efd;
}

void k8s__stats(struct k8s *k, struct k8s_stats *out)
{
	pthread_mutex_lock(&k->lock);
	*out = k->st;
	pthread_mutex_unlock(&k->lock);
}

/* ---- HTTP ---- */

static int buf_add(struct buf *b, const char *p, size_t n, size_t max)
{
	char *data;
	size_t cap;

	if (b->len + n > max) {
		b->over = 1;
		return -E2BIG;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		data = realloc(b->data, cap);
		if (!data)
			return -ENOMEM;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static void buf_reset(struct buf *b)
{
	b->len = 0;
	b->over = 0;
}

static int stopping(struct k8s *k)
{
	return atomic_load(&k->stop);
}

static int abort_on_stop(void *ud, curl_off_t dltotal, curl_off_t dlnow,
			 curl_off_t ultotal, curl_off_t ulnow)
{
	return stopping(ud) ? 1 : 0;
}

/*
 * The token file, read again for every request since kubelet rotates it.
 * It goes into a header, so anything but printable ASCII is refused.
 */
static int read_token(const char *path, char *tok, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, tok, len);
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n == len)
		return -EFBIG;
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' ||
			 tok[n - 1] == ' ' || tok[n - 1] == '\t'))
		n--;
	tok[n] = '\0';
	if (n == 0)
		return -ENODATA;
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)tok[i] <= 0x20 ||
		    (unsigned char)tok[i] >= 0x7f)
			return -EBADMSG;
	return 0;
}

static int set_headers(struct k8s *k)
{
	char *tok = malloc(TOKEN_MAX + 32);
	struct curl_slist *h = NULL, *t;
	int err;

	if (!tok)
		return -ENOMEM;
	strcpy(tok, "Authorization: Bearer ");
	err = read_token(k->cfg.token_file, tok + strlen(tok), TOKEN_MAX);
	if (err) {
		snprintf(k->errbuf, sizeof(k->errbuf),
			 "cannot use the token file '%s': %s", k->cfg.token_file,
			 err == -EBADMSG ? "not printable ASCII" :
			 err == -ENODATA ? "empty" :
			 err == -EFBIG ? "too large" : strerror(-err));
		free(tok);
		return err;
	}
	h = curl_slist_append(NULL, tok);
	t = h ? curl_slist_append(h, "Accept: application/json") : NULL;
	explicit_bzero(tok, TOKEN_MAX + 32);
	free(tok);
	if (!t) {
		curl_slist_free_all(h);
		return -ENOMEM;
	}
	curl_slist_free_all(k->headers);
	k->headers = t;
	return 0;
}

static int curl_prepare(struct k8s *k)
{
	CURL *c = curl_easy_init();
	int bad = 0;

	if (!c)
		return -ENOMEM;
	k->curl = c;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "vouchd/" VOUCH_VERSION);
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
				k->cfg.connect_timeout_ms);
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, k->errbuf);
	bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	bad |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, k);
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (k->cfg.ca_file)
		bad |= curl_easy_setopt(c, CURLOPT_CAINFO, k->cfg.ca_file);
	return bad ? -EINVAL : 0;
}

/* GET url; the HTTP status, or 0 when no answer came (errbuf says why). */
static long get(struct k8s *k, const char *url, curl_write_callback cb,
		long timeout_ms)
{
	CURLcode rc;
	long status = 0;

	k->errbuf[0] = '\0';
	if (set_headers(k))
		return 0;
	curl_easy_setopt(k->curl, CURLOPT_URL, url);
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, k->headers);
	curl_easy_setopt(k->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, cb);
	curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, k);
	rc = curl_easy_perform(k->curl);
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && !k->errbuf[0])
		snprintf(k->errbuf, sizeof(k->errbuf), "%s",
			 curl_easy_strerror(rc));
	if (rc != CURLE_OK && status == 200)
		return -status;	/* the answer began, then broke off */
	return rc == CURLE_OK ? status : (status ? status : 0);
}

/* s escaped for a query string; NULL when memory runs out. */
static char *escape(struct k8s *k, const char *s)
{
	char *esc = curl_easy_escape(k->curl, s, 0);
	char *copy = esc ? strdup(esc) : NULL;

	curl_free(esc);
	return copy;
}

/* {api}/api/v1/pods?fieldSelector=spec.nodeName%3DNODE{query} */
static char *pods_url(struct k8s *k, const char *query)
{
	size_t base = strlen(k->cfg.api_url);
	char *sel = NULL, *esc, *url = NULL;

	while (base && k->cfg.api_url[base - 1] == '/')
		base--;
	if (asprintf(&sel, "spec.nodeName=%s", k->cfg.node_name) < 0)
		return NULL;
	esc = escape(k, sel);
	free(sel);
	if (esc && asprintf(&url, "%.*s/api/v1/pods?fieldSelector=%s%s",
			    (int)base, k->cfg.api_url, esc, query) < 0)
		url = NULL;
	free(esc);
	return url;
}

/* The message of a Kubernetes Status body, for logs; "" when none. */
static void status_message(const struct buf *b, char *out, size_t len)
{
	json_t *root = b->len ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	const json_t *msg = json_object_get(root, "message");

	snprintf(out, len, "%s", json_is_string(msg) ?
		 json_string_value(msg) : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	json_decref(root);
}

static void log_refused(struct k8s *k, const char *what, long status,
			const struct buf *body)
{
	char msg[256];

	status_message(body, msg, sizeof(msg));
	if (status == 401 || status == 403)
		log_error("k8s: refused to %s pods: HTTP %ld %s; RBAC must allow get, list, watch",
			  what, status, msg);
	else if (k->failing == 0)
		log_warn("k8s: failed to %s pods at '%s': HTTP %ld %s; retrying",
			 what, k->cfg.api_url, status, msg);
}

static void count_failure(struct k8s *k, const char *what, long status)
{
	pthread_mutex_lock(&k->lock);
	k->st.failures++;
	if (status > 0)
		snprintf(k->st.last_error, sizeof(k->st.last_error),
			 "%s: HTTP %ld", what, status);
	else
		snprintf(k->st.last_error, sizeof(k->st.last_error),
			 "%s: %.200s", what, k->errbuf);
	pthread_mutex_unlock(&k->lock);
}

static void fail(struct k8s *k, const char *what, long status,
		 const struct buf *body)
{
	count_failure(k, what, status);
	if (status > 0)
		log_refused(k, what, status, body);
	else if (k->failing == 0)
		log_warn("k8s: failed to %s pods at '%s': %s; retrying", what,
			 k->cfg.api_url, k->errbuf);
	k->failing++;
}

/* ---- backoff ---- */

static void sleep_ms(struct k8s *k, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&k->sleep_lock);
	while (!stopping(k) &&
	       pthread_cond_timedwait(&k->cond, &k->sleep_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&k->sleep_lock);
}

/* Exponential, with jitter so that a fleet of agents does not align. */
static void back_off(struct k8s *k)
{
	long b = k->backoff_ms ? k->backoff_ms * 2 : k->cfg.backoff_min_ms;

	if (b > k->cfg.backoff_max_ms)
		b = k->cfg.backoff_max_ms;
	k->backoff_ms = b;
	k->rng ^= k->rng << 13;
	k->rng ^= k->rng >> 7;
	k->rng ^= k->rng << 17;
	sleep_ms(k, b / 2 + (long)(k->rng % (uint64_t)(b / 2 + 1)));
}

static void succeeded(struct k8s *k)
{
	if (k->failing)
		log_info("k8s: the API server answers again, after %d failures",
			 k->failing);
	k->failing = 0;
	k->backoff_ms = 0;
}

/* ---- the list ---- */

static size_t on_page_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct k8s *k = ud;

	return buf_add(&k->page, p, size * nmemb, k->cfg.max_page_bytes) ?
	       0 : size * nmemb;
}

/* One page: 0 and the next token; 1 to ask again smaller; -errno. */
static int list_one(struct k8s *k, unsigned int limit, char *cont, char *rv)
{
	char *esc = cont[0] ? escape(k, cont) : NULL;
	char *query = NULL, *url = NULL;
	long status;
	int err;

	if (asprintf(&query, "&limit=%u%s%s", limit, esc ? "&continue=" : "",
		     esc ? esc : "") >= 0)
		url = pods_url(k, query);
	free(query);
	free(esc);
	if (!url)
		return -ENOMEM;
	buf_reset(&k->page);
	status = get(k, url, on_page_data, k->cfg.request_timeout_ms);
	free(url);
	if (stopping(k))
		return -ECANCELED;
	if (k->page.over && limit > 1)
		return 1;
	if (status == 410 && cont[0]) {
		log_info("k8s: the list's continue token expired (410 Gone); listing again from the start");
		return -ESTALE;
	}
	if (status != 200 || k->page.over) {
		if (k->page.over)
			snprintf(k->errbuf, sizeof(k->errbuf),
				 "one pod is more than max_page_mb");
		fail(k, "list", k->page.over ? 0 : status, &k->page);
		return -EIO;
	}
	err = list_page(k, k->page.data, k->page.len, cont, rv);
	if (err)
		fail(k, "list", 0, &k->page);
	return err;
}

static int do_list(struct k8s *k)
{
	char cont[CONTINUE_MAX + 1] = "", rv[K8S_MAX_RV + 1] = "";
	unsigned int limit = k->cfg.page_size;
	size_t n;
	int err;

	list_begin(k);
	for (;;) {
		err = list_one(k, limit, cont, rv);
		if (err == 1) {		/* the page was too big: ask for less */
			limit = limit / 2 ? limit / 2 : 1;
			continue;
		}
		if (err == -ESTALE) {	/* the continue token expired */
			list_begin(k);
			cont[0] = '\0';
			continue;
		}
		if (err < 0)
			return err;
		if (!cont[0])
			break;
	}

	n = list_finish(k, rv);
	succeeded(k);
	log_info("k8s: listed %zu pods of node '%s' at resourceVersion %s", n,
		 k->cfg.node_name, rv);
	return 0;
}

/* ---- the watch ---- */

/* A complete line; stops the stream when it asks for more than applying. */
static int line_done(struct k8s *k)
{
	struct stream *ws = &k->ws;
	int r;

	if (ws->line.len == 0)
		return 0;
	r = k8s__feed_watch(k, ws->line.data, ws->line.len);
	buf_reset(&ws->line);
	ws->events++;
	if (r == K8S_FEED_APPLIED) {
		succeeded(k);
		return 0;
	}
	ws->verdict = r;
	return -1;
}

static int split_lines(struct k8s *k, const char *p, size_t n)
{
	size_t max = k->cfg.max_object_bytes + WATCH_LINE_SLACK;
	const char *nl;
	size_t take;

	while (n) {
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;
		if (buf_add(&k->ws.line, p, take, max)) {
			bad_event(k, "a watch event is larger than max_object_kb");
			k->ws.verdict = K8S_FEED_RELIST;
			return -1;
		}
		if (nl) {
			if (line_done(k))
				return -1;
			take++;
		}
		p += take;
		n -= take;
	}
	return 0;
}

static size_t on_watch_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct k8s *k = ud;
	size_t n = size * nmemb;

	if (!k->ws.status)
		curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE,
				  &k->ws.status);
	if (k->ws.status != 200) {
		/* only for the log line: the rest is dropped */
		buf_add(&k->ws.error, p, n, ERROR_BODY_MAX);
		return n;
	}
	return split_lines(k, p, n) ? 0 : n;
}

static char *watch_url(struct k8s *k)
{
	char *rv = escape(k, k->rv), *query = NULL, *url = NULL;

	if (rv && asprintf(&query, "&resourceVersion=%s&watch=1"
			   "&allowWatchBookmarks=true&timeoutSeconds=%ld",
			   rv, k->cfg.watch_timeout_s) >= 0)
		url = pods_url(k, query);
	free(query);
	free(rv);
	return url;
}

static int watch_outcome(struct k8s *k, long status, int64_t began)
{
	struct stream *ws = &k->ws;

	if (ws->verdict == K8S_FEED_RELIST)
		return WATCH_RELIST;
	if (ws->verdict == K8S_FEED_RECONNECT)
		return WATCH_FAILED;
	if (status == 410) {
		log_info("k8s: resourceVersion %s expired (HTTP 410 Gone); re-listing",
			 k->rv);
		return WATCH_RELIST;
	}
	if (status < 0 || status == 0) {
		if (ws->events)
			log_debug("k8s: the watch was cut after %llu events (%s); resuming from resourceVersion %s",
				  (unsigned long long)ws->events, k->errbuf,
				  k->rv);
		else
			fail(k, "watch", 0, &ws->error);
		return WATCH_FAILED;
	}
	if (status != 200) {
		fail(k, "watch", status, &ws->error);
		return WATCH_FAILED;
	}
	/* ended by the server; an empty quick end would spin */
	if (!ws->events && now_ms() - began < QUICK_END_MS)
		return WATCH_FAILED;
	return WATCH_ENDED;
}

static int do_watch(struct k8s *k)
{
	char *url = watch_url(k);
	int64_t began = now_ms();
	long status;

	if (!url)
		return WATCH_FAILED;
	buf_reset(&k->ws.line);
	buf_reset(&k->ws.error);
	k->ws.status = 0;
	k->ws.verdict = -1;
	k->ws.events = 0;
	pthread_mutex_lock(&k->lock);
	k->st.watches++;
	pthread_mutex_unlock(&k->lock);
	status = get(k, url, on_watch_data,
		     (k->cfg.watch_timeout_s + WATCH_GRACE_S) * 1000);
	free(url);
	if (stopping(k))
		return WATCH_ENDED;
	return watch_outcome(k, status, began);
}

static void count_relist(struct k8s *k)
{
	pthread_mutex_lock(&k->lock);
	k->st.relists++;
	pthread_mutex_unlock(&k->lock);
}

static void count_resume(struct k8s *k)
{
	pthread_mutex_lock(&k->lock);
	k->st.resumes++;
	pthread_mutex_unlock(&k->lock);
}

static void *run(void *arg)
{
	struct k8s *k = arg;
	int need_list = 1;

	while (!stopping(k)) {
		if (need_list) {
			if (do_list(k) == 0)
				need_list = 0;
			else if (!stopping(k))
				back_off(k);
			continue;
		}
		switch (do_watch(k)) {
		case WATCH_RELIST:
			/* a 410 is routine; a lost event may come back at once */
			if (k->desync && !stopping(k))
				back_off(k);
			k->desync = 0;
			count_relist(k);
			need_list = 1;
			break;
		case WATCH_FAILED:
			if (!stopping(k))
				back_off(k);
			count_resume(k);
			break;
		default:
			count_resume(k);
			break;
		}
	}
	return NULL;
}

/* ---- life ---- */

static int copy_config(struct k8s_config *dst, const struct k8s_config *src)
{
	*dst = *src;
	dst->api_url = src->api_url ? strdup(src->api_url) : NULL;
	dst->token_file = src->token_file ? strdup(src->token_file) : NULL;
	dst->ca_file = src->ca_file ? strdup(src->ca_file) : NULL;
	dst->node_name = src->node_name ? strdup(src->node_name) : NULL;
	if ((src->api_url && !dst->api_url) ||
	    (src->token_file && !dst->token_file) ||
	    (src->ca_file && !dst->ca_file) ||
	    (src->node_name && !dst->node_name))
		return -ENOMEM;
	return 0;
}

struct k8s *k8s__new(const struct k8s_config *cfg)
{
	struct k8s *k = calloc(1, sizeof(*k));
	pthread_condattr_t attr;
	int err;

	if (!k)
		return NULL;
	k->efd = -1;
	err = copy_config(&k->cfg, cfg);
	if (!err && (!k->cfg.node_name || !k->cfg.max_pods))
		err = -EINVAL;
	if (err) {
		k8s__config_free(&k->cfg);
		free(k);
		errno = -err;
		return NULL;
	}
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0) {
		err = errno;
		k8s__config_free(&k->cfg);
		free(k);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_mutex_init(&k->sleep_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&k->stop, 0);
	k->rng = (uint64_t)now_ms() ^ (uintptr_t)k;
	return k;
}

struct k8s *k8s__start(const struct k8s_config *cfg)
{
	struct k8s *k;
	int err;

	if (!cfg->api_url || !cfg->token_file || !cfg->node_name) {
		errno = EINVAL;
		return NULL;
	}
	k = k8s__new(cfg);
	if (!k)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		k8s__stop(k);
		errno = ENOMEM;
		return NULL;
	}
	err = curl_prepare(k);
	if (!err)
		err = -pthread_create(&k->thread, NULL, run, k);
	if (err) {
		curl_easy_cleanup(k->curl);
		k->curl = NULL;
		curl_global_cleanup();
		k8s__stop(k);
		errno = -err;
		return NULL;
	}
	k->running = 1;
	return k;
}

void k8s__stop(struct k8s *k)
{
	if (!k)
		return;
	if (k->running) {
		pthread_mutex_lock(&k->sleep_lock);
		atomic_store(&k->stop, 1);
		pthread_cond_broadcast(&k->cond);
		pthread_mutex_unlock(&k->sleep_lock);
		pthread_join(k->thread, NULL);
		curl_easy_cleanup(k->curl);
		curl_slist_free_all(k->headers);
		curl_global_cleanup();
	}
	cache_clear(&k->cur);
	cache_clear(&k->next);
	free(k->page.data);
	free(k->ws.line.data);
	free(k->ws.error.data);
	if (k->efd >= 0)
		close(k->efd);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->sleep_lock);
	pthread_mutex_destroy(&k->lock);
	k8s__config_free(&k->cfg);
	free(k);
}
