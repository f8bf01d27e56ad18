/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One Pod object from the Kubernetes API, reduced to what vouch keeps:
 * identity, the labels and the deploy ID annotation, and per container its
 * ID, name and image. Internal to the k8s module; its own header so that
 * the unit tests can drive the parser without a cache or a server.
 */
#ifndef VOUCH_K8S_POD_H
#define VOUCH_K8S_POD_H

#include <stddef.h>
#include <jansson.h>
#include "k8s.h"

/*
 * Bounds on one pod. Kubernetes' own validation keeps real pods well
 * inside them (label values are at most 63 characters, names 253); a pod
 * past them comes from a broken or hostile API server and is refused.
 */
#define K8S_MAX_LABELS		64
#define K8S_MAX_LABEL_KEY	317	/* 253-byte prefix, '/', 63 */
#define K8S_MAX_LABEL_VALUE	63
#define K8S_MAX_DEPLOY_ID	253
#define K8S_MAX_CONTAINERS	64	/* all kinds together */
#define K8S_MAX_NAME		253
#define K8S_MAX_UID		128
#define K8S_MAX_IMAGE		4096
#define K8S_MAX_CONTAINER_ID	128
#define K8S_MAX_SCHEME		32
#define K8S_MAX_RV		63

struct k8s_ctr {
	char *id;		/* without the scheme */
	char *runtime;		/* the scheme */
	char *name;
	enum k8s_container_kind kind;
	char *image;
	char *image_ref;
	char *image_digest;
	int digest_from_repo;
};

struct k8s_pod {
	char *uid;
	char *namespace;
	char *name;
	char *node;		/* spec.nodeName, or NULL */
	char *rv;		/* metadata.resourceVersion, or NULL */
	char *service;
	char *version;
	char *deploy_id;
	struct k8s_label *labels;
	size_t n_labels;
	struct k8s_ctr *ctrs;	/* only containers that have an ID */
	size_t n_ctrs;
	/*
	 * Why the pod is refused, or NULL. A refused pod keeps its identity
	 * and the container IDs that were valid, never its labels or images.
	 */
	char *refused;
};

/*
 * Parses one Pod. NULL (and why, with the field's path, in err) when it
 * cannot even be identified: not an object, or no valid namespace, name
 * and UID. A pod that breaks a bound comes back with refused set.
 */
struct k8s_pod *k8s_pod__parse(const json_t *obj, char *err, size_t errlen);
void k8s_pod__free(struct k8s_pod *pod);
/* Refuses pod with reason (printf), dropping its labels and images. */
void k8s_pod__refuse(struct k8s_pod *pod, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A deep copy of pod's metadata, with ctr's when ctr is not NULL. */
int k8s_pod__meta(const struct k8s_pod *pod, const struct k8s_ctr *ctr,
		  struct k8s_pod_meta *out);
/* "containerd://ID" or "ID" to "ID"; NULL when s is not of that form. */
const char *k8s_pod__bare_id(const char *s);

#endif /* VOUCH_K8S_POD_H */
