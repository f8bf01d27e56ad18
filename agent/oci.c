// SPDX-License-Identifier: GPL-2.0-only
/* Container metadata from OCI runtime state and bundle config.json. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "allowlist.h"
#include "log.h"
#include "oci.h"

#define OCI_PATH_MAX	4096

const char *const oci_default_locations[] = {
	"/run/runc/{id}/state.json",
	"/run/containerd/io.containerd.runtime.v2.task/*/{id}/config.json",
	"/run/containers/storage/overlay-containers/{id}/userdata/config.json",
	NULL
};

/* Annotations, in the order their owners are trusted: vouch's own first. */
static const struct {
	const char *key;
	size_t field;
} annotation_map[] = {
	{ "vouch.dev/image-digest", offsetof(struct workload_meta, image_digest) },
	{ "vouch.dev/deploy-id", offsetof(struct workload_meta, deploy_id) },
	{ "vouch.dev/service", offsetof(struct workload_meta, service) },
	{ "vouch.dev/version", offsetof(struct workload_meta, version) },
	{ "vouch.dev/environment", offsetof(struct workload_meta, environment) },
	{ "io.kubernetes.cri.image-name", offsetof(struct workload_meta, image_ref) },
	{ "io.kubernetes.cri.container-name", offsetof(struct workload_meta, container_name) },
	{ "io.kubernetes.cri.sandbox-namespace", offsetof(struct workload_meta, namespace_) },
	{ "io.kubernetes.cri.sandbox-name", offsetof(struct workload_meta, pod) },
	{ "io.kubernetes.cri.sandbox-uid", offsetof(struct workload_meta, pod_uid) },
	{ "io.kubernetes.cri-o.ImageName", offsetof(struct workload_meta, image_ref) },
	{ "io.kubernetes.container.name", offsetof(struct workload_meta, container_name) },
	{ "io.kubernetes.pod.namespace", offsetof(struct workload_meta, namespace_) },
	{ "io.kubernetes.pod.name", offsetof(struct workload_meta, pod) },
	{ "io.kubernetes.pod.uid", offsetof(struct workload_meta, pod_uid) },
	{ "org.opencontainers.image.ref.name", offsetof(struct workload_meta, image_ref) },
	{ "org.opencontainers.image.version", offsetof(struct workload_meta, version) },
	{ "org.opencontainers.image.title", offsetof(struct workload_meta, service) },
};

static char **field_of(struct workload_meta *m, size_t offset)
{
	return (char **)((char *)m + offset);
}

/* Reads a regular file of at most OCI_MAX_FILE_BYTES; NULL and errno. */
static char *read_small_file(const char *path, size_t *len, char *why,
			     size_t why_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	ssize_t got;

	if (fd < 0) {
		int err = errno;

		if (err != ENOENT)
			snprintf(why, why_len, "%s: %s", path, strerror(err));
		errno = err;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > OCI_MAX_FILE_BYTES) {
		snprintf(why, why_len, "%s: not a regular file of at most %u bytes",
			 path, OCI_MAX_FILE_BYTES);
		errno = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	got = read(fd, buf, (size_t)st.st_size);
	if (got < 0) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[got] = '\0';
	*len = (size_t)got;
out:
	close(fd);
	return buf;
}

static int set_annotation(struct workload_meta *m, size_t i,
			  const char *value, const char *name, char *why,
			  size_t why_len)
{
	const char *key = annotation_map[i].key;

	if (strlen(value) > OCI_MAX_ANNOTATION) {
		log_warn("oci: %s: annotation '%s' is over %d bytes; ignored",
			 name, key, OCI_MAX_ANNOTATION);
		return 0;
	}
	if (annotation_map[i].field == offsetof(struct workload_meta, image_digest) &&
	    !allowlist__valid_digest(value)) {
		snprintf(why, why_len, "%s: annotation '%s' is not a sha256 digest",
			 name, key);
		return -EINVAL;
	}
	return workload__set(field_of(m, annotation_map[i].field), value) ?
	       -ENOMEM : 0;
}

/* An image reference pinned by digest names its digest. */
static int digest_from_ref(struct workload_meta *m)
{
	const char *at;

	if (m->image_digest || !m->image_ref)
		return 0;
	at = strrchr(m->image_ref, '@');
	if (!at || !allowlist__valid_digest(at + 1))
		return 0;
	return workload__set(&m->image_digest, at + 1);
}

static int apply_annotations(json_t *obj, const char *name,
			     struct workload_meta *m, char *why, size_t why_len)
{
	const char *key;
	json_t *val;

	if (!obj)
		return 0;
	if (!json_is_object(obj)) {
		snprintf(why, why_len, "%s: 'annotations' is not an object", name);
		return -EINVAL;
	}
	json_object_foreach(obj, key, val) {
		if (!json_is_string(val)) {
			snprintf(why, why_len, "%s: annotation '%.100s' is not a string",
				 name, key);
			return -EINVAL;
		}
	}
	/* the map's order is the order of trust, whatever the file's */
	for (size_t i = 0; i < sizeof(annotation_map) / sizeof(annotation_map[0]); i++) {
		const char *value = json_string_value(json_object_get(obj,
						annotation_map[i].key));
		int err = value ? set_annotation(m, i, value, name, why,
						 why_len) : 0;

		if (err)
			return err;
	}
	return 0;
}

static json_t *load_json(const char *buf, size_t len, const char *name,
			 char *why, size_t why_len)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		snprintf(why, why_len, "%s:%d:%d: %s", name, jerr.line,
			 jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(why, why_len, "%s: not a JSON object", name);
		json_decref(root);
		return NULL;
	}
	return root;
}

int oci__parse_config(const char *buf, size_t len, const char *name,
		      struct workload_meta *m, char *why, size_t why_len)
{
	json_t *root = load_json(buf, len, name, why, why_len);
	int err;

	if (!root)
		return -EINVAL;
	err = apply_annotations(json_object_get(root, "annotations"), name, m,
				why, why_len);
	json_decref(root);
	if (!err)
		err = digest_from_ref(m);
	if (!err && workload__set(&m->source, name))
		err = -ENOMEM;
	return err;
}

static int parse_file(const char *path, struct workload_meta *m, char *why,
		      size_t why_len)
{
	size_t len = 0;
	char *buf = read_small_file(path, &len, why, why_len);
	int err;

	if (!buf)
		return errno == ENOENT ? -ENOENT : -errno;
	err = oci__parse_config(buf, len, path, m, why, why_len);
	free(buf);
	return err;
}

/*
 * runc's state.json: config.labels holds "key=value" strings, the bundle
 * among them; its config.json is the source, the labels a fallback.
 */
static int parse_runc_state(const char *path, struct workload_meta *m,
			    char *why, size_t why_len)
{
	char bundle[OCI_PATH_MAX];
	size_t len = 0, i;
	char *buf = read_small_file(path, &len, why, why_len);
	json_t *root, *labels, *label;
	int err = 0;

	if (!buf)
		return errno == ENOENT ? -ENOENT : -errno;
	root = load_json(buf, len, path, why, why_len);
	free(buf);
	if (!root)
		return -EINVAL;
	bundle[0] = '\0';
	labels = json_object_get(json_object_get(root, "config"), "labels");
	json_array_foreach(labels, i, label) {
		const char *s = json_string_value(label);

		/* runc writes it absolute; nothing else means anything */
		if (s && !strncmp(s, "bundle=/", 8) &&
		    strlen(s + 7) + sizeof("/config.json") < sizeof(bundle))
			snprintf(bundle, sizeof(bundle), "%s/config.json", s + 7);
	}
	json_decref(root);
	if (!bundle[0]) {
		snprintf(why, why_len, "%s: names no bundle", path);
		return -EINVAL;
	}
	err = parse_file(bundle, m, why, why_len);
	return err == -ENOENT ? -ENOENT : err;
}

static int expand(const char *pattern, const char *id, char *out, size_t len)
{
	const char *at = strstr(pattern, "{id}");
	int n;

	/* an ID is pasted into a glob: none of its characters may be special */
	if (!at || !*id || strpbrk(id, "*?[]\\/") || !strcmp(id, ".") ||
	    !strcmp(id, ".."))
		return -EINVAL;
	n = snprintf(out, len, "%.*s%s%s", (int)(at - pattern), pattern, id,
		     at + 4);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int try_location(const char *pattern, const char *id,
			struct workload_meta *m, char *why, size_t why_len)
{
	char path[OCI_PATH_MAX];
	glob_t g;
	int err = expand(pattern, id, path, sizeof(path));

	if (err)
		return err;
	if (glob(path, GLOB_NOSORT, NULL, &g) != 0)
		return -ENOENT;
	err = -ENOENT;
	for (size_t i = 0; err == -ENOENT && i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');

		if (base && !strcmp(base, "/state.json"))
			err = parse_runc_state(g.gl_pathv[i], m, why, why_len);
		else
			err = parse_file(g.gl_pathv[i], m, why, why_len);
	}
	globfree(&g);
	return err;
}

int oci__lookup(const char *const *locations, const char *id,
		struct workload_meta *m, char *why, size_t why_len)
{
	int err = -ENOENT;

	if (!locations)
		locations = oci_default_locations;
	for (size_t i = 0; err == -ENOENT && locations[i]; i++)
		err = try_location(locations[i], id, m, why, why_len);
	if (err == -ENOENT)
		snprintf(why, why_len, "no OCI state or config.json for container %s",
			 id);
	return err;
}
