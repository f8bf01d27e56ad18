// SPDX-License-Identifier: GPL-2.0-only
/* One Pod from the Kubernetes API, checked field by field and bounded. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_pod.h"

enum charset {
	CS_NAME = 0,	/* printable ASCII without spaces: names, keys, UIDs */
	CS_TEXT = 1,	/* any UTF-8 but control characters: images, IDs */
	CS_ID = 2,	/* letters, digits, '_', '.', '-': container IDs */
};

struct parse {
	struct k8s_pod *pod;
	int oom;
	char why[256];		/* the last violation */
};

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int char_ok(unsigned char c, enum charset cs)
{
	switch (cs) {
	case CS_NAME:
		return c > 0x20 && c < 0x7f;
	case CS_TEXT:
		return c >= 0x20 && c != 0x7f;
	default:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		       (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
		       c == '-';
	}
}

static const char *const cs_names[] = {
	[CS_NAME] = "printable ASCII without spaces",
	[CS_TEXT] = "text without control characters",
	[CS_ID] = "letters, digits, '_', '.' and '-'",
};

/* A string of at most max bytes in charset cs; -1 and ps->why if not. */
static int check_string(struct parse *ps, const json_t *v, const char *path,
			size_t max, enum charset cs)
{
	const char *s;
	size_t n;

	if (!json_is_string(v)) {
		snprintf(ps->why, sizeof(ps->why), "%s is %s, not a string",
			 path, json_kind(v));
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > max) {
		snprintf(ps->why, sizeof(ps->why),
			 "%s is %zu bytes long, more than %zu", path, n, max);
		return -1;
	}
	if (strlen(s) != n) {
		snprintf(ps->why, sizeof(ps->why), "%s holds a NUL character",
			 path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!char_ok((unsigned char)s[i], cs)) {
			snprintf(ps->why, sizeof(ps->why),
				 "%s has a character outside %s", path,
				 cs_names[cs]);
			return -1;
		}
	}
	return 0;
}

static char *dup_or_oom(struct parse *ps, const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		ps->oom = 1;
	return d;
}

/*
 * The string field key of obj, copied to *out: 0 when absent or null
 * (*out stays NULL), -1 and ps->why when it is not a valid string.
 */
static int get_string(struct parse *ps, const json_t *obj, const char *key,
		      const char *path, size_t max, enum charset cs,
		      char **out)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (check_string(ps, v, path, max, cs))
		return -1;
	*out = dup_or_oom(ps, json_string_value(v), json_string_length(v));
	return 0;
}

/* Records the first reason to refuse the pod; parsing goes on. */
static void refuse(struct parse *ps)
{
	if (!ps->pod->refused)
		ps->pod->refused = dup_or_oom(ps, ps->why, strlen(ps->why));
}

/* An optional member that must be an object when present. */
static const json_t *get_object(struct parse *ps, const json_t *obj,
				const char *key, const char *path)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		snprintf(ps->why, sizeof(ps->why), "%s is %s, not an object",
			 path, json_kind(v));
		refuse(ps);
		return NULL;
	}
	return v;
}

/* ---- identity ---- */

static int parse_identity(struct parse *ps, const json_t *meta)
{
	struct k8s_pod *pod = ps->pod;

	if (get_string(ps, meta, "uid", "metadata.uid", K8S_MAX_UID, CS_NAME,
		       &pod->uid) ||
	    get_string(ps, meta, "namespace", "metadata.namespace",
		       K8S_MAX_NAME, CS_NAME, &pod->namespace) ||
	    get_string(ps, meta, "name", "metadata.name", K8S_MAX_NAME,
		       CS_NAME, &pod->name) ||
	    get_string(ps, meta, "resourceVersion", "metadata.resourceVersion",
		       K8S_MAX_RV, CS_NAME, &pod->rv))
		return -1;
	if (!pod->uid || !pod->namespace || !pod->name) {
		snprintf(ps->why, sizeof(ps->why),
			 "metadata.%s is missing",
			 !pod->uid ? "uid" : !pod->namespace ? "namespace" :
			 "name");
		return -1;
	}
	if (!*pod->uid || !*pod->namespace || !*pod->name) {
		snprintf(ps->why, sizeof(ps->why),
			 "metadata.uid, namespace and name must not be empty");
		return -1;
	}
	return 0;
}

/* ---- labels and the deploy ID ---- */

static int add_label(struct parse *ps, const char *key, const json_t *v,
		     size_t idx)
{
	struct k8s_pod *pod = ps->pod;
	struct k8s_label *l = &pod->labels[pod->n_labels];
	json_t *kv = json_string(key);
	char path[64];
	int bad;

	snprintf(path, sizeof(path), "metadata.labels[#%zu] key", idx);
	bad = !kv || check_string(ps, kv, path, K8S_MAX_LABEL_KEY, CS_NAME);
	json_decref(kv);
	if (!bad && *key == '\0') {
		snprintf(ps->why, sizeof(ps->why), "%s is empty", path);
		bad = 1;
	}
	snprintf(path, sizeof(path), "metadata.labels[#%zu] value", idx);
	if (bad || check_string(ps, v, path, K8S_MAX_LABEL_VALUE, CS_NAME))
		return -1;
	l->key = dup_or_oom(ps, key, strlen(key));
	l->value = dup_or_oom(ps, json_string_value(v),
			      json_string_length(v));
	pod->n_labels++;
	return 0;
}

static void parse_labels(struct parse *ps, const json_t *meta)
{
	const json_t *labels = get_object(ps, meta, "labels",
					  "metadata.labels");
	struct k8s_pod *pod = ps->pod;
	const char *key;
	size_t idx = 0;
	json_t *v;

	if (!labels || json_object_size(labels) == 0)
		return;
	if (json_object_size(labels) > K8S_MAX_LABELS) {
		snprintf(ps->why, sizeof(ps->why),
			 "metadata.labels has %zu labels, more than %d",
			 json_object_size(labels), K8S_MAX_LABELS);
		refuse(ps);
		return;
	}
	pod->labels = calloc(json_object_size(labels), sizeof(*pod->labels));
	if (!pod->labels) {
		ps->oom = 1;
		return;
	}
	json_object_foreach((json_t *)labels, key, v) {
		if (add_label(ps, key, v, idx++)) {
			refuse(ps);
			return;
		}
		if (strcmp(key, K8S_LABEL_SERVICE) == 0)
			pod->service = dup_or_oom(ps, json_string_value(v),
						  json_string_length(v));
		else if (strcmp(key, K8S_LABEL_VERSION) == 0)
			pod->version = dup_or_oom(ps, json_string_value(v),
						  json_string_length(v));
	}
}

/* Only the deploy ID is kept; other annotations are never copied. */
static void parse_annotations(struct parse *ps, const json_t *meta)
{
	const json_t *ann = get_object(ps, meta, "annotations",
				       "metadata.annotations");
	char *id = NULL;

	if (!ann)
		return;
	if (get_string(ps, ann, K8S_ANNOTATION_DEPLOY_ID,
		       "metadata.annotations['" K8S_ANNOTATION_DEPLOY_ID "']",
		       K8S_MAX_DEPLOY_ID, CS_TEXT, &id)) {
		refuse(ps);
		return;
	}
	if (id && *id == '\0') {
		free(id);
		id = NULL;
	}
	ps->pod->deploy_id = id;
}

/* ---- containers ---- */

static int scheme_ok(const char *s, size_t n)
{
	if (n == 0 || n > K8S_MAX_SCHEME)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.' || s[i] == '+'))
			return 0;
	return 1;
}

/* Where the part after "scheme://" starts; s itself when no scheme. */
static const char *after_scheme(const char *s)
{
	const char *sep = strstr(s, "://");

	if (sep && scheme_ok(s, (size_t)(sep - s)))
		return sep + 3;
	return s;
}

const char *k8s_pod__bare_id(const char *s)
{
	const char *id = after_scheme(s);
	size_t n = strlen(id);

	if (strstr(id, "://") || n == 0 || n > K8S_MAX_CONTAINER_ID)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!char_ok((unsigned char)id[i], CS_ID))
			return NULL;
	return id;
}

static int hex_run(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int digest_ok(const char *s)
{
	if (strncmp(s, "sha256:", 7) == 0)
		return hex_run(s + 7, 64);
	if (strncmp(s, "sha512:", 7) == 0)
		return hex_run(s + 7, 128);
	return 0;
}

/*
 * imageID comes as "REF@sha256:HEX" (containerd, CRI-O), with a
 * "docker-pullable://" scheme (dockershim), or as a bare local image ID
 * "sha256:HEX" (with or without "docker://") when no registry digest is
 * known. Anything else is refused.
 */
static int parse_image_id(struct parse *ps, const char *s, const char *path,
			  struct k8s_ctr *c)
{
	const char *at;

	if (*s == '\0')
		return 0;
	s = after_scheme(s);
	at = strrchr(s, '@');
	if (at && at > s && digest_ok(at + 1)) {
		c->image_ref = dup_or_oom(ps, s, (size_t)(at - s));
		c->image_digest = dup_or_oom(ps, at + 1, strlen(at + 1));
		c->digest_from_repo = 1;
		return 0;
	}
	if (!at && digest_ok(s)) {
		c->image_digest = dup_or_oom(ps, s, strlen(s));
		return 0;
	}
	snprintf(ps->why, sizeof(ps->why),
		 "%s is neither NAME@sha256:HEX nor sha256:HEX", path);
	return -1;
}

static int parse_container_id(struct parse *ps, const char *s,
			      const char *path, struct k8s_ctr *c)
{
	const char *sep = strstr(s, "://");
	const char *id = k8s_pod__bare_id(s);

	if (!sep || !id || id != sep + 3) {
		snprintf(ps->why, sizeof(ps->why),
			 "%s is not RUNTIME://ID (ID of 1 to %d letters, digits, '_', '.', '-')",
			 path, K8S_MAX_CONTAINER_ID);
		return -1;
	}
	c->runtime = dup_or_oom(ps, s, (size_t)(sep - s));
	c->id = dup_or_oom(ps, id, strlen(id));
	return 0;
}

static int id_taken(const struct k8s_pod *pod, const char *id)
{
	for (size_t i = 0; i < pod->n_ctrs; i++)
		if (strcmp(pod->ctrs[i].id, id) == 0)
			return 1;
	return 0;
}

static void ctr_free(struct k8s_ctr *c)
{
	free(c->id);
	free(c->runtime);
	free(c->name);
	free(c->image);
	free(c->image_ref);
	free(c->image_digest);
	memset(c, 0, sizeof(*c));
}

/* The image fields; -1 and ps->why when one is malformed. */
static int parse_image(struct parse *ps, const json_t *st, const char *base,
		       struct k8s_ctr *c)
{
	char path[96];
	char *image_id = NULL;
	int err;

	snprintf(path, sizeof(path), "%s.image", base);
	if (get_string(ps, st, "image", path, K8S_MAX_IMAGE, CS_TEXT,
		       &c->image))
		return -1;
	snprintf(path, sizeof(path), "%s.imageID", base);
	if (get_string(ps, st, "imageID", path, K8S_MAX_IMAGE, CS_TEXT,
		       &image_id))
		return -1;
	err = image_id ? parse_image_id(ps, image_id, path, c) : 0;
	free(image_id);
	return err;
}

/*
 * One entry of a *ContainerStatuses list. A container without an ID has
 * not started yet and is left out; a malformed one refuses the pod, but
 * its ID is still kept when the ID itself is valid.
 */
static void parse_status(struct parse *ps, const json_t *st,
			 const char *base, enum k8s_container_kind kind)
{
	struct k8s_pod *pod = ps->pod;
	struct k8s_ctr c = { .kind = kind };
	char path[96], *cid = NULL;

	snprintf(path, sizeof(path), "%s.containerID", base);
	if (!json_is_object(st)) {
		snprintf(ps->why, sizeof(ps->why), "%s is %s, not an object",
			 base, json_kind(st));
		goto refused;
	}
	if (get_string(ps, st, "containerID", path, K8S_MAX_IMAGE, CS_TEXT,
		       &cid))
		goto refused;
	if (!cid || *cid == '\0')
		goto out;
	if (parse_container_id(ps, cid, path, &c))
		goto refused;
	if (id_taken(pod, c.id)) {
		snprintf(ps->why, sizeof(ps->why),
			 "%s repeats a container ID of the pod", path);
		goto refused;
	}

	snprintf(path, sizeof(path), "%s.name", base);
	if (get_string(ps, st, "name", path, K8S_MAX_NAME, CS_NAME, &c.name) ||
	    parse_image(ps, st, base, &c))
		refuse(ps);
	pod->ctrs[pod->n_ctrs++] = c;
	free(cid);
	return;

refused:
	refuse(ps);
out:
	ctr_free(&c);
	free(cid);
}

static const struct {
	const char *key;
	enum k8s_container_kind kind;
} status_lists[] = {
	{ "initContainerStatuses", K8S_INIT_CONTAINER },
	{ "containerStatuses", K8S_CONTAINER },
	{ "ephemeralContainerStatuses", K8S_EPHEMERAL_CONTAINER },
};

#define N_STATUS_LISTS	(sizeof(status_lists) / sizeof(status_lists[0]))

/* The three lists, or refuses the pod when one is not a list. */
static size_t status_arrays(struct parse *ps, const json_t *status,
			    const json_t *arrays[N_STATUS_LISTS])
{
	size_t total = 0;
	const json_t *v;

	for (size_t i = 0; i < N_STATUS_LISTS; i++) {
		arrays[i] = NULL;
		v = json_object_get(status, status_lists[i].key);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_array(v)) {
			snprintf(ps->why, sizeof(ps->why),
				 "status.%s is %s, not a list",
				 status_lists[i].key, json_kind(v));
			refuse(ps);
			continue;
		}
		arrays[i] = v;
		total += json_array_size(v);
	}
	return total;
}

static void parse_containers(struct parse *ps, const json_t *obj)
{
	const json_t *status = get_object(ps, obj, "status", "status");
	const json_t *arrays[N_STATUS_LISTS];
	char base[64];
	size_t total;

	if (!status)
		return;
	total = status_arrays(ps, status, arrays);
	if (total == 0)
		return;
	if (total > K8S_MAX_CONTAINERS) {
		snprintf(ps->why, sizeof(ps->why),
			 "status lists %zu containers, more than %d", total,
			 K8S_MAX_CONTAINERS);
		refuse(ps);
		return;
	}
	ps->pod->ctrs = calloc(total, sizeof(*ps->pod->ctrs));
	if (!ps->pod->ctrs) {
		ps->oom = 1;
		return;
	}
	for (size_t i = 0; i < N_STATUS_LISTS; i++) {
		for (size_t j = 0; arrays[i] && j < json_array_size(arrays[i]);
		     j++) {
			snprintf(base, sizeof(base), "status.%s[%zu]",
				 status_lists[i].key, j);
			parse_status(ps, json_array_get(arrays[i], j), base,
				     status_lists[i].kind);
		}
	}
}

static void parse_node(struct parse *ps, const json_t *obj)
{
	const json_t *spec = get_object(ps, obj, "spec", "spec");

	if (spec && get_string(ps, spec, "nodeName", "spec.nodeName",
			       K8S_MAX_NAME, CS_NAME, &ps->pod->node))
		refuse(ps);
}

/* ---- the pod ---- */

static void labels_free(struct k8s_pod *pod)
{
	for (size_t i = 0; i < pod->n_labels; i++) {
		free(pod->labels[i].key);
		free(pod->labels[i].value);
	}
	free(pod->labels);
	pod->labels = NULL;
	pod->n_labels = 0;
}

/* A refused pod keeps its identity and container IDs, nothing else. */
static void strip_refused(struct k8s_pod *pod)
{
	labels_free(pod);
	free(pod->service);
	free(pod->version);
	free(pod->deploy_id);
	pod->service = pod->version = pod->deploy_id = NULL;
	for (size_t i = 0; i < pod->n_ctrs; i++) {
		free(pod->ctrs[i].image);
		free(pod->ctrs[i].image_ref);
		free(pod->ctrs[i].image_digest);
		pod->ctrs[i].image = NULL;
		pod->ctrs[i].image_ref = NULL;
		pod->ctrs[i].image_digest = NULL;
		pod->ctrs[i].digest_from_repo = 0;
	}
}

void k8s_pod__refuse(struct k8s_pod *pod, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!pod->refused)
		pod->refused = strdup(why);
	strip_refused(pod);
}

struct k8s_pod *k8s_pod__parse(const json_t *obj, char *err, size_t errlen)
{
	struct parse ps = { 0 };
	const json_t *meta;

	ps.pod = calloc(1, sizeof(*ps.pod));
	if (!ps.pod) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	meta = json_is_object(obj) ? json_object_get(obj, "metadata") : NULL;
	if (!json_is_object(meta)) {
		snprintf(ps.why, sizeof(ps.why),
			 json_is_object(obj) ? "metadata is missing or not an object" :
			 "the pod is not an object");
		goto bad;
	}
	if (parse_identity(&ps, meta))
		goto bad;

	parse_node(&ps, obj);
	parse_labels(&ps, meta);
	parse_annotations(&ps, meta);
	parse_containers(&ps, obj);
	if (ps.oom) {
		snprintf(ps.why, sizeof(ps.why), "out of memory");
		goto bad;
	}
	if (ps.pod->refused)
		strip_refused(ps.pod);
	return ps.pod;

bad:
	snprintf(err, errlen, "%s", ps.why);
	k8s_pod__free(ps.pod);
	return NULL;
}

void k8s_pod__free(struct k8s_pod *pod)
{
	if (!pod)
		return;
	for (size_t i = 0; i < pod->n_ctrs; i++)
		ctr_free(&pod->ctrs[i]);
	free(pod->ctrs);
	labels_free(pod);
	free(pod->uid);
	free(pod->namespace);
	free(pod->name);
	free(pod->node);
	free(pod->rv);
	free(pod->service);
	free(pod->version);
	free(pod->deploy_id);
	free(pod->refused);
	free(pod);
}

/* ---- copies for callers ---- */

static char *dup_opt(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static void copy_labels(const struct k8s_pod *pod, struct k8s_pod_meta *out,
			int *oom)
{
	if (pod->n_labels == 0)
		return;
	out->labels = calloc(pod->n_labels, sizeof(*out->labels));
	if (!out->labels) {
		*oom = 1;
		return;
	}
	out->n_labels = pod->n_labels;
	for (size_t i = 0; i < pod->n_labels; i++) {
		out->labels[i].key = dup_opt(pod->labels[i].key, oom);
		out->labels[i].value = dup_opt(pod->labels[i].value, oom);
	}
}

int k8s_pod__meta(const struct k8s_pod *pod, const struct k8s_ctr *ctr,
		  struct k8s_pod_meta *out)
{
	int oom = 0;

	memset(out, 0, sizeof(*out));
	out->namespace = dup_opt(pod->namespace, &oom);
	out->pod_name = dup_opt(pod->name, &oom);
	out->pod_uid = dup_opt(pod->uid, &oom);
	out->service = dup_opt(pod->service, &oom);
	out->version = dup_opt(pod->version, &oom);
	out->deploy_id = dup_opt(pod->deploy_id, &oom);
	copy_labels(pod, out, &oom);
	if (ctr) {
		out->container_id = dup_opt(ctr->id, &oom);
		out->runtime = dup_opt(ctr->runtime, &oom);
		out->container_name = dup_opt(ctr->name, &oom);
		out->kind = ctr->kind;
		out->image = dup_opt(ctr->image, &oom);
		out->image_ref = dup_opt(ctr->image_ref, &oom);
		out->image_digest = dup_opt(ctr->image_digest, &oom);
		out->digest_from_repo = ctr->digest_from_repo;
	}
	if (!oom)
		return 0;
	k8s__meta_free(out);
	return -ENOMEM;
}

void k8s__meta_free(struct k8s_pod_meta *meta)
{
	if (!meta)
		return;
	free(meta->namespace);
	free(meta->pod_name);
	free(meta->pod_uid);
	free(meta->service);
	free(meta->version);
	free(meta->deploy_id);
	for (size_t i = 0; i < meta->n_labels; i++) {
		free(meta->labels[i].key);
		free(meta->labels[i].value);
	}
	free(meta->labels);
	free(meta->container_id);
	free(meta->runtime);
	free(meta->container_name);
	free(meta->image);
	free(meta->image_ref);
	free(meta->image_digest);
	memset(meta, 0, sizeof(*meta));
}
