/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kubernetes metadata provider: the pods of this node, from the API server,
 * kept in a cache keyed by container ID (and by pod UID).
 *
 * A thread of its own LISTs /api/v1/pods?fieldSelector=spec.nodeName=NODE
 * (paged with limit/continue), then WATCHes from the list's resourceVersion
 * with bookmarks. A watch that ends or is cut resumes from the last
 * resourceVersion seen; a 410 Gone (HTTP status, or an ERROR event with code
 * 410) re-lists. The service account token is read again on every request,
 * since kubelet rotates it. Errors back off exponentially.
 *
 * What the API server sends is hostile input: every object is bounded in
 * size, every field is type-checked, and a pod that breaks a limit (too
 * many labels, a huge deploy ID, a malformed container ID...) is refused as
 * a whole: logged once, counted, and its containers answer -EBADMSG, so the
 * caller applies its fail action. A re-list builds a new cache and swaps it
 * in at once; until then lookups see the previous one.
 *
 * Threading: k8s__lookup*, k8s__synced and k8s__stats may be called from
 * any thread. The eventfd from k8s__eventfd() becomes readable whenever the
 * cache changed, so a caller holding a container whose status is not
 * posted yet can wait for it in its epoll loop.
 */
#ifndef VOUCH_K8S_H
#define VOUCH_K8S_H

#include <stddef.h>
#include <stdint.h>
#include "diag.h"
#include "yamltree.h"

#define K8S_SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define K8S_LABEL_SERVICE	"app.kubernetes.io/name"
#define K8S_LABEL_VERSION	"app.kubernetes.io/version"
#define K8S_ANNOTATION_DEPLOY_ID "vouch.dev/deploy-id"

struct k8s_config {
	int enabled;		/* set by k8s__config_parse() */
	char *api_url;		/* https://host:port; default from the env */
	char *token_file;	/* default K8S_SA_DIR/token */
	char *ca_file;		/* default K8S_SA_DIR/ca.crt */
	char *node_name;	/* default $NODE_NAME, else the host name */
	long connect_timeout_ms;	/* default 5000 */
	long request_timeout_ms;	/* one LIST page; default 30000 */
	long watch_timeout_s;	/* asked of the server; default 300 */
	long backoff_min_ms;	/* default 200 */
	long backoff_max_ms;	/* default 30000 */
	unsigned int page_size;	/* LIST limit; default 100 */
	unsigned int max_pods;	/* cache bound; default 1024 */
	size_t max_object_bytes;	/* one pod or watch event; 2 MiB */
	size_t max_page_bytes;	/* one LIST page; default 16 MiB */
};

/*
 * Sets every default that does not depend on the environment; enabled
 * stays 0 until a `kubernetes:` section is parsed.
 */
void k8s__config_init(struct k8s_config *cfg);
/*
 * Fills what is still unset from the environment: api_url from
 * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, node_name from
 * NODE_NAME or the host name, the token and CA paths. -ENXIO when no API
 * server is configured and none is in the environment; -ENOMEM.
 */
int k8s__config_fill(struct k8s_config *cfg);
void k8s__config_free(struct k8s_config *cfg);
/*
 * Reads the `kubernetes:` mapping of vouchd's config (docs/CONFIG.md) into
 * cfg, which k8s__config_init() prepared. Relative paths are joined to dir.
 * Every error goes to diags as FILE:LINE:COL; returns how many were added.
 */
int k8s__config_parse(const struct ydoc *doc, const struct ynode *node,
		      const char *dir, struct k8s_config *cfg,
		      struct diags *diags);

enum k8s_container_kind {
	K8S_CONTAINER = 0,
	K8S_INIT_CONTAINER = 1,
	K8S_EPHEMERAL_CONTAINER = 2,
};

struct k8s_label {
	char *key;
	char *value;
};

/* One container's metadata; lookups fill a deep copy. */
struct k8s_pod_meta {
	char *namespace;
	char *pod_name;
	char *pod_uid;
	char *service;		/* label app.kubernetes.io/name, or NULL */
	char *version;		/* label app.kubernetes.io/version, or NULL */
	char *deploy_id;	/* annotation vouch.dev/deploy-id, or NULL */
	struct k8s_label *labels;	/* all of the pod's labels */
	size_t n_labels;
	/* NULL in a lookup by pod UID */
	char *container_id;	/* without the runtime's scheme */
	char *runtime;		/* the scheme: "containerd", "cri-o"... */
	char *container_name;
	enum k8s_container_kind kind;
	char *image;		/* status.image, as the kubelet reports it */
	char *image_ref;	/* imageID before '@', or NULL */
	/*
	 * "sha256:..." from imageID, or NULL while the image is not known.
	 * With digest_from_repo 0 it is the runtime's local image ID (no
	 * registry digest was reported), not a manifest digest.
	 */
	char *image_digest;
	int digest_from_repo;
};

void k8s__meta_free(struct k8s_pod_meta *meta);

struct k8s_stats {
	uint64_t lists;		/* LISTs completed */
	uint64_t relists;	/* of them, after a 410 or a desync */
	uint64_t watches;	/* WATCH requests made */
	uint64_t resumes;	/* watches resumed after an end or a cut */
	uint64_t events;	/* watch events applied */
	uint64_t bad_events;	/* watch lines that did not parse */
	uint64_t refused_pods;	/* pods refused for breaking a limit */
	uint64_t failures;	/* requests that failed */
	uint64_t pods;		/* in the cache now */
	uint64_t containers;
	char resource_version[64];
	char last_error[256];
};

struct k8s;

/*
 * A cache with no thread, for tests and tools: fed by k8s__feed_list()
 * and k8s__feed_watch(). cfg is copied. NULL and errno on failure.
 */
struct k8s *k8s__new(const struct k8s_config *cfg);
/*
 * k8s__new() and the thread that lists and watches; cfg must have been
 * through k8s__config_fill() (api_url, token_file, node_name set).
 */
struct k8s *k8s__start(const struct k8s_config *cfg);
/* Stops the thread (aborting a request in flight), frees. NULL-safe. */
void k8s__stop(struct k8s *k);

/*
 * Applies one LIST page (a PodList); last says it completes the list, so
 * that the pages gathered are swapped in. 0 or -EBADMSG.
 */
int k8s__feed_list(struct k8s *k, const char *body, size_t len, int last);
enum k8s_feed {
	K8S_FEED_APPLIED = 0,	/* applied, or skipped with a log line */
	K8S_FEED_RELIST = 1,	/* 410 Gone, or an event was lost: LIST */
	K8S_FEED_RECONNECT = 2,	/* an ERROR event: back off, watch again */
};

/* Applies one watch line (one JSON event); an enum k8s_feed. */
int k8s__feed_watch(struct k8s *k, const char *line, size_t len);

/*
 * The metadata of a container by ID (bare, or with its "scheme://").
 * 0 and a deep copy in out; -ENOENT when unknown; -EAGAIN when unknown and
 * the first LIST has not completed; -EBADMSG when its pod was refused;
 * -ENOMEM.
 */
int k8s__lookup(struct k8s *k, const char *container_id,
		struct k8s_pod_meta *out);
/*
 * The pod-level metadata by pod UID, as the API writes it or as the
 * systemd cgroup driver does (underscores for dashes); the same answers.
 */
int k8s__lookup_pod(struct k8s *k, const char *pod_uid,
		    struct k8s_pod_meta *out);
/* 1 once the first LIST completed. */
int k8s__synced(struct k8s *k);
/* Readable (an 8-byte counter) after every change to the cache. */
int k8s__eventfd(struct k8s *k);
void k8s__stats(struct k8s *k, struct k8s_stats *out);

#endif /* VOUCH_K8S_H */
