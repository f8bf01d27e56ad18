// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the Kubernetes provider without a server: Pod objects
 * (recorded ones from tests/fixtures/k8s, and hostile variants of them)
 * into metadata, the cache fed with LIST pages and watch lines, and the
 * `kubernetes:` config section.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <jansson.h>

#include "k8s.h"
#include "k8s_pod.h"
#include "log.h"
#include "yamltree.h"

#define LIST_2		"tests/fixtures/k8s/served/list-2.json"
#define NODE		"k8s-e2e-node"
#define ID_FLUENT	"c9898099f6d235126d564ed38a020007ea7a6fac6e25e718de683c9dd0076c16"
#define UID_FLUENT	"e9f2963f-55f2-11e9-84c5-02e422b8a84a"
#define ID_FOO		"6b092e156aca8a2b99d4e4ad3736af2039e233bf188fef8c5065549fc83e81ce"
#define DIGEST		"sha256:7ac0fd3569af866e9a6a22eb592744200d2dbe098cf066162453f8d0b06c531f"

static FILE *logs;
static struct k8s *k;

static void setup(void)
{
	logs = tmpfile();
	cr_assert_not_null(logs);
	log__setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, logs);
}

static void teardown(void)
{
	k8s__stop(k);
	k = NULL;
	fclose(logs);
}

TestSuite(k8s, .init = setup, .fini = teardown, .timeout = 30);

/* ---- helpers ---- */

/* The recorded fluent-bit pod (CRI-O), a fresh copy. */
static json_t *fluent_pod(void)
{
	json_error_t jerr;
	json_t *list = json_load_file(LIST_2, JSON_REJECT_DUPLICATES, &jerr);
	json_t *pod;

	cr_assert_not_null(list, "%s: %s", LIST_2, jerr.text);
	pod = json_deep_copy(json_array_get(json_object_get(list, "items"), 0));
	json_decref(list);
	cr_assert_not_null(pod);
	return pod;
}

static json_t *status0(json_t *pod)
{
	return json_array_get(json_object_get(json_object_get(pod, "status"),
					      "containerStatuses"), 0);
}

static json_t *metadata(json_t *pod)
{
	return json_object_get(pod, "metadata");
}

static struct k8s_pod *parse(json_t *pod)
{
	char err[256] = "";
	struct k8s_pod *p = k8s_pod__parse(pod, err, sizeof(err));

	cr_assert_not_null(p, "parse failed: %s", err);
	return p;
}

static void assert_refused(json_t *pod, const char *reason)
{
	struct k8s_pod *p = parse(pod);

	cr_assert_not_null(p->refused, "not refused; wanted: %s", reason);
	cr_assert(strstr(p->refused, reason), "refused for '%s', wanted '%s'",
		  p->refused, reason);
	cr_assert_eq(p->n_labels, 0);
	cr_assert_null(p->deploy_id);
	k8s_pod__free(p);
	json_decref(pod);
}

static void assert_unidentified(json_t *pod, const char *reason)
{
	char err[256] = "";
	struct k8s_pod *p = k8s_pod__parse(pod, err, sizeof(err));

	cr_assert_null(p);
	cr_assert(strstr(err, reason), "error '%s', wanted '%s'", err, reason);
	json_decref(pod);
}

static struct k8s *cache(unsigned int max_pods, size_t max_object)
{
	struct k8s_config cfg;

	k8s__config_init(&cfg);
	cfg.node_name = NODE;
	if (max_pods)
		cfg.max_pods = max_pods;
	if (max_object)
		cfg.max_object_bytes = max_object;
	k = k8s__new(&cfg);
	cr_assert_not_null(k);
	return k;
}

static int feed_list_of(json_t *items, const char *rv)
{
	json_t *list = json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", "PodList",
				 "apiVersion", "v1", "metadata",
				 "resourceVersion", rv, "items", items);
	char *text = json_dumps(list, JSON_COMPACT);
	int err = k8s__feed_list(k, text, strlen(text), 1);

	free(text);
	json_decref(list);
	return err;
}

static int feed_event(const char *type, json_t *obj)
{
	json_t *ev = json_pack("{s:s, s:O}", "type", type, "object", obj);
	char *text = json_dumps(ev, JSON_COMPACT);
	int r = k8s__feed_watch(k, text, strlen(text));

	free(text);
	json_decref(ev);
	return r;
}

static int feed_text(const char *text)
{
	return k8s__feed_watch(k, text, strlen(text));
}

static int log_count(const char *needle)
{
	char line[4096];
	int n = 0;

	fflush(logs);
	rewind(logs);
	while (fgets(line, sizeof(line), logs))
		if (strstr(line, needle))
			n++;
	return n;
}

static void set_str(json_t *obj, const char *key, const char *value)
{
	cr_assert_eq(json_object_set_new(obj, key, json_string(value)), 0);
}

/* ---- a recorded pod ---- */

Test(k8s, recorded_pod_gives_every_field)
{
	json_t *pod = fluent_pod();
	struct k8s_pod *p = parse(pod);
	struct k8s_pod_meta m;

	cr_assert_null(p->refused);
	cr_assert_str_eq(p->node, NODE);
	cr_assert_str_eq(p->rv, "74466568");
	cr_assert_eq(p->n_ctrs, 1);
	cr_assert_eq(k8s_pod__meta(p, &p->ctrs[0], &m), 0);
	cr_assert_str_eq(m.namespace, "options");
	cr_assert_str_eq(m.pod_name, "use-kubelet-enabled");
	cr_assert_str_eq(m.pod_uid, UID_FLUENT);
	cr_assert_str_eq(m.service, "fluent-bit");
	cr_assert_str_eq(m.version, "1.0.6");
	cr_assert_str_eq(m.deploy_id, "deploy-fluent-bit-2019-04-03");
	cr_assert_eq(m.n_labels, 2);
	cr_assert_str_eq(m.container_id, ID_FLUENT);
	cr_assert_str_eq(m.runtime, "cri-o");
	cr_assert_str_eq(m.container_name, "fluent-bit");
	cr_assert_eq(m.kind, K8S_CONTAINER);
	cr_assert_str_eq(m.image, "docker.io/fluent/fluent-bit:latest");
	cr_assert_str_eq(m.image_ref, "docker.io/fluent/fluent-bit");
	cr_assert_str_eq(m.image_digest, DIGEST);
	cr_assert_eq(m.digest_from_repo, 1);
	k8s__meta_free(&m);
	k8s_pod__free(p);
	json_decref(pod);
}

Test(k8s, init_and_ephemeral_containers_are_indexed)
{
	json_t *pod = fluent_pod();
	json_t *status = json_object_get(pod, "status");
	json_t *init = json_deep_copy(status0(pod));
	json_t *eph = json_deep_copy(status0(pod));
	struct k8s_pod *p;

	set_str(init, "containerID", "containerd://init1");
	set_str(init, "name", "setup");
	set_str(eph, "containerID", "containerd://debug1");
	set_str(eph, "name", "debugger");
	json_object_set_new(status, "initContainerStatuses", json_pack("[o]", init));
	json_object_set_new(status, "ephemeralContainerStatuses", json_pack("[o]", eph));
	p = parse(pod);
	cr_assert_null(p->refused);
	cr_assert_eq(p->n_ctrs, 3);
	cr_assert_str_eq(p->ctrs[0].id, "init1");
	cr_assert_eq(p->ctrs[0].kind, K8S_INIT_CONTAINER);
	cr_assert_str_eq(p->ctrs[1].id, ID_FLUENT);
	cr_assert_eq(p->ctrs[1].kind, K8S_CONTAINER);
	cr_assert_str_eq(p->ctrs[2].id, "debug1");
	cr_assert_eq(p->ctrs[2].kind, K8S_EPHEMERAL_CONTAINER);
	k8s_pod__free(p);
	json_decref(pod);
}

static struct k8s_pod *with_image_id(const char *image_id)
{
	json_t *pod = fluent_pod();
	struct k8s_pod *p;

	set_str(status0(pod), "imageID", image_id);
	p = parse(pod);
	json_decref(pod);
	return p;
}

Test(k8s, image_id_forms_of_each_runtime)
{
	struct k8s_pod *p;

	p = with_image_id("docker-pullable://nginx@" DIGEST);
	cr_assert_str_eq(p->ctrs[0].image_ref, "nginx");
	cr_assert_str_eq(p->ctrs[0].image_digest, DIGEST);
	cr_assert_eq(p->ctrs[0].digest_from_repo, 1);
	k8s_pod__free(p);

	/* no registry digest: the local image ID, flagged as such */
	p = with_image_id("docker://" DIGEST);
	cr_assert_null(p->ctrs[0].image_ref);
	cr_assert_str_eq(p->ctrs[0].image_digest, DIGEST);
	cr_assert_eq(p->ctrs[0].digest_from_repo, 0);
	k8s_pod__free(p);

	p = with_image_id(DIGEST);
	cr_assert_eq(p->ctrs[0].digest_from_repo, 0);
	k8s_pod__free(p);

	/* not pulled yet */
	p = with_image_id("");
	cr_assert_null(p->refused);
	cr_assert_null(p->ctrs[0].image_digest);
	k8s_pod__free(p);

	p = with_image_id("registry.example:5000/team/app@sha256:0123");
	cr_assert_not_null(p->refused);
	cr_assert(strstr(p->refused, "status.containerStatuses[0].imageID"));
	k8s_pod__free(p);
}

Test(k8s, container_not_started_has_no_entry)
{
	json_t *pod = fluent_pod();
	struct k8s_pod *p;

	set_str(status0(pod), "containerID", "");
	p = parse(pod);
	cr_assert_null(p->refused);
	cr_assert_eq(p->n_ctrs, 0);
	k8s_pod__free(p);
	json_decref(pod);
}

Test(k8s, bare_ids_and_schemes)
{
	cr_assert_str_eq(k8s_pod__bare_id("containerd://abc"), "abc");
	cr_assert_str_eq(k8s_pod__bare_id("cri-o://abc"), "abc");
	cr_assert_str_eq(k8s_pod__bare_id("abc"), "abc");
	cr_assert_null(k8s_pod__bare_id("containerd://"));
	cr_assert_null(k8s_pod__bare_id("containerd://a/b"));
	cr_assert_null(k8s_pod__bare_id("a://b://c"));
	cr_assert_null(k8s_pod__bare_id("Bad Scheme://abc"));
}

/* ---- missing fields and wrong types ---- */

Test(k8s, missing_identity_is_an_error_naming_the_field)
{
	json_t *pod = fluent_pod();

	json_object_del(metadata(pod), "uid");
	assert_unidentified(pod, "metadata.uid is missing");
	pod = fluent_pod();
	json_object_del(pod, "metadata");
	assert_unidentified(pod, "metadata is missing");
	assert_unidentified(json_pack("[]"), "not an object");
	pod = fluent_pod();
	json_object_set_new(metadata(pod), "uid", json_integer(7));
	assert_unidentified(pod, "metadata.uid is a number, not a string");
}

Test(k8s, missing_optional_parts_are_fine)
{
	json_t *pod = fluent_pod();
	struct k8s_pod *p;

	json_object_del(metadata(pod), "labels");
	json_object_del(metadata(pod), "annotations");
	json_object_del(pod, "status");
	p = parse(pod);
	cr_assert_null(p->refused);
	cr_assert_null(p->service);
	cr_assert_null(p->deploy_id);
	cr_assert_eq(p->n_ctrs, 0);
	k8s_pod__free(p);
	json_decref(pod);
}

Test(k8s, wrong_types_refuse_the_pod)
{
	json_t *pod = fluent_pod();

	json_object_set_new(metadata(pod), "labels", json_pack("[s]", "a"));
	assert_refused(pod, "metadata.labels is an array, not an object");

	pod = fluent_pod();
	json_object_set_new(json_object_get(pod, "status"),
			    "containerStatuses", json_object());
	assert_refused(pod, "status.containerStatuses is an object, not a list");

	pod = fluent_pod();
	json_object_set_new(status0(pod), "containerID", json_integer(1));
	assert_refused(pod, "status.containerStatuses[0].containerID is a number");

	pod = fluent_pod();
	json_object_set_new(json_object_get(metadata(pod), "labels"),
			    "app.kubernetes.io/version", json_true());
	assert_refused(pod, "value is a boolean, not a string");

	pod = fluent_pod();
	json_object_set_new(json_object_get(metadata(pod), "annotations"),
			    K8S_ANNOTATION_DEPLOY_ID, json_pack("{}"));
	assert_refused(pod, "vouch.dev/deploy-id'] is an object");
}

Test(k8s, refused_pod_keeps_valid_container_ids)
{
	json_t *pod = fluent_pod();
	struct k8s_pod *p;

	json_object_set_new(metadata(pod), "labels", json_pack("[]"));
	p = parse(pod);
	cr_assert_not_null(p->refused);
	cr_assert_eq(p->n_ctrs, 1);
	cr_assert_str_eq(p->ctrs[0].id, ID_FLUENT);
	cr_assert_null(p->ctrs[0].image_digest);
	k8s_pod__free(p);
	json_decref(pod);
}

/* ---- hostile values ---- */

Test(k8s, oversized_labels_and_deploy_ids_refuse_the_pod)
{
	json_t *pod = fluent_pod(), *labels;
	char key[32], big[400];

	labels = json_object_get(metadata(pod), "labels");
	for (int i = 0; i < K8S_MAX_LABELS; i++) {
		snprintf(key, sizeof(key), "l%d", i);
		set_str(labels, key, "v");
	}
	assert_refused(pod, "labels, more than 64");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pod = fluent_pod();
	big[64] = '\0';
	set_str(json_object_get(metadata(pod), "labels"), "app", big);
	assert_refused(pod, "is 64 bytes long, more than 63");

	big[64] = 'a';
	pod = fluent_pod();
	set_str(json_object_get(metadata(pod), "annotations"),
		K8S_ANNOTATION_DEPLOY_ID, big);
	assert_refused(pod, "is 399 bytes long, more than 253");

	pod = fluent_pod();
	set_str(json_object_get(metadata(pod), "annotations"),
		K8S_ANNOTATION_DEPLOY_ID, "line\nbreak");
	assert_refused(pod, "has a character outside text without control");
}

Test(k8s, hostile_container_ids_refuse_the_pod)
{
	static const char *const bad[] = {
		"containerd://../../etc/passwd", "abc", "containerd://",
		"containerd://a b", "containerd://\xc3\xa9",
	};
	char longid[200];
	json_t *pod;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pod = fluent_pod();
		set_str(status0(pod), "containerID", bad[i]);
		assert_refused(pod, "is not RUNTIME://ID");
	}
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	memcpy(longid, "containerd://", 13);
	pod = fluent_pod();
	set_str(status0(pod), "containerID", longid);
	assert_refused(pod, "is not RUNTIME://ID");
}

Test(k8s, a_container_id_twice_in_a_pod_is_refused)
{
	json_t *pod = fluent_pod();
	json_t *list = json_object_get(json_object_get(pod, "status"),
				       "containerStatuses");

	json_array_append_new(list, json_deep_copy(status0(pod)));
	assert_refused(pod, "repeats a container ID");
}

Test(k8s, too_many_containers_refuse_the_pod)
{
	json_t *pod = fluent_pod();
	json_t *list = json_object_get(json_object_get(pod, "status"),
				       "containerStatuses");
	char id[64];

	for (int i = 0; i < K8S_MAX_CONTAINERS; i++) {
		json_t *c = json_deep_copy(status0(pod));

		snprintf(id, sizeof(id), "containerd://c%d", i);
		set_str(c, "containerID", id);
		json_array_append_new(list, c);
	}
	assert_refused(pod, "lists 65 containers, more than 64");
}

/* ---- the cache, fed by hand ---- */

Test(k8s, lookups_wait_for_the_first_list)
{
	struct k8s_pod_meta m;

	cache(0, 0);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), -EAGAIN);
	cr_assert_eq(k8s__lookup_pod(k, UID_FLUENT, &m), -EAGAIN);
	cr_assert_not(k8s__synced(k));
	cr_assert_eq(feed_list_of(json_pack("[o]", fluent_pod()), "10"), 0);
	cr_assert(k8s__synced(k));
	cr_assert_eq(k8s__lookup(k, "cri-o://" ID_FLUENT, &m), 0);
	cr_assert_str_eq(m.pod_name, "use-kubelet-enabled");
	k8s__meta_free(&m);
	cr_assert_eq(k8s__lookup_pod(k, "e9f2963f_55f2_11e9_84c5_02e422b8a84a",
				     &m), 0, "the systemd cgroup form of the UID");
	cr_assert_str_eq(m.pod_uid, UID_FLUENT);
	cr_assert_null(m.container_id);
	k8s__meta_free(&m);
	cr_assert_eq(k8s__lookup(k, ID_FOO, &m), -ENOENT);
	cr_assert_eq(k8s__lookup(k, NULL, &m), -ENOENT);
	cr_assert_eq(k8s__lookup(k, "not an id", &m), -ENOENT);
}

Test(k8s, watch_events_change_the_cache_and_wake_the_caller)
{
	struct pollfd pfd;
	struct k8s_pod_meta m;
	struct k8s_stats st;
	json_t *pod = fluent_pod();
	uint64_t n;

	cache(0, 0);
	cr_assert_eq(feed_list_of(json_array(), "10"), 0);
	pfd = (struct pollfd){ .fd = k8s__eventfd(k), .events = POLLIN };
	cr_assert_eq(read(pfd.fd, &n, sizeof(n)), sizeof(n));
	cr_assert_eq(poll(&pfd, 1, 0), 0);

	cr_assert_eq(feed_event("ADDED", pod), K8S_FEED_APPLIED);
	cr_assert_eq(poll(&pfd, 1, 0), 1, "no wake-up after ADDED");
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), 0);
	cr_assert_str_eq(m.version, "1.0.6");
	k8s__meta_free(&m);

	set_str(json_object_get(metadata(pod), "labels"),
		"app.kubernetes.io/version", "1.0.7");
	set_str(metadata(pod), "resourceVersion", "12");
	cr_assert_eq(feed_event("MODIFIED", pod), K8S_FEED_APPLIED);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), 0);
	cr_assert_str_eq(m.version, "1.0.7");
	k8s__meta_free(&m);

	cr_assert_eq(feed_text("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
			       "\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
			       "{\"resourceVersion\":\"20\"}}}"),
		     K8S_FEED_APPLIED);
	k8s__stats(k, &st);
	cr_assert_str_eq(st.resource_version, "20");

	cr_assert_eq(feed_event("DELETED", pod), K8S_FEED_APPLIED);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), -ENOENT);
	cr_assert_eq(k8s__lookup_pod(k, UID_FLUENT, &m), -ENOENT);
	k8s__stats(k, &st);
	cr_assert_eq(st.events, 3);
	cr_assert_eq(st.pods, 0);
	json_decref(pod);
}

Test(k8s, error_events_ask_for_a_relist_or_a_reconnect)
{
	cache(0, 0);
	/* the line recorded in clux/shipcat, verbatim */
	cr_assert_eq(feed_text("{\"type\":\"ERROR\",\"object\":{\"kind\":"
			       "\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			       "\"status\":\"Failure\",\"message\":\"too old "
			       "resource version: 185325401 (185325402)\","
			       "\"reason\":\"Gone\",\"code\":410}}"),
		     K8S_FEED_RELIST);
	cr_assert_eq(log_count("expired (410 Gone: too old resource version"), 1);
	cr_assert_eq(feed_text("{\"type\":\"ERROR\",\"object\":{\"kind\":"
			       "\"Status\",\"code\":500,\"message\":"
			       "\"etcd unavailable\"}}"),
		     K8S_FEED_RECONNECT);
	cr_assert_eq(feed_text("{\"type\":\"SURPRISE\",\"object\":{}}"),
		     K8S_FEED_RELIST);
}

Test(k8s, a_pod_of_another_node_is_not_kept)
{
	json_t *pod = fluent_pod();
	struct k8s_pod_meta m;

	cache(0, 0);
	cr_assert_eq(feed_list_of(json_pack("[O]", pod), "10"), 0);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), 0);
	k8s__meta_free(&m);
	set_str(json_object_get(pod, "spec"), "nodeName", "elsewhere");
	cr_assert_eq(feed_event("MODIFIED", pod), K8S_FEED_APPLIED);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), -ENOENT);
	json_decref(pod);
}

Test(k8s, unparseable_watch_lines_relist_and_leave_the_cache_alone)
{
	static const char *const bad[] = {
		/* duplicate keys */
		"{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}",
		/* not UTF-8 */
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"\xff\xfe\"}}}",
		/* NUL inside a string */
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":\"a\\u0000b\"}}}",
		/* truncated, as when a connection is cut */
		"{\"type\":\"ADDED\",\"object\":{\"metad",
		"",
		"[1, 2, 3]",
	};
	struct k8s_pod_meta m;
	struct k8s_stats st;

	cache(0, 0);
	cr_assert_eq(feed_list_of(json_pack("[o]", fluent_pod()), "10"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(feed_text(bad[i]), K8S_FEED_RELIST, "line %zu", i);
	k8s__stats(k, &st);
	cr_assert_eq(st.bad_events, sizeof(bad) / sizeof(bad[0]));
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), 0);
	k8s__meta_free(&m);
}

Test(k8s, deep_nesting_is_an_error_not_a_crash)
{
	size_t depth = 100000, len = 2 * depth + 64;
	char *text = malloc(len);
	size_t n;

	cr_assert_not_null(text);
	n = (size_t)snprintf(text, len, "{\"type\":\"ADDED\",\"object\":");
	memset(text + n, '[', depth);
	memset(text + n + depth, ']', depth);
	text[n + 2 * depth] = '}';
	cache(0, 0);
	cr_assert_eq(k8s__feed_watch(k, text, n + 2 * depth + 1), K8S_FEED_RELIST);
	free(text);
}

Test(k8s, huge_annotations_refuse_the_pod_with_one_log_line)
{
	size_t huge = 3U << 20;
	char *value = malloc(huge + 1);
	json_t *pod = fluent_pod();
	struct k8s_pod_meta m;
	struct k8s_stats st;

	cr_assert_not_null(value);
	memset(value, 'x', huge);
	value[huge] = '\0';
	set_str(json_object_get(metadata(pod), "annotations"),
		"example.com/blob", value);
	free(value);
	cache(0, 1 << 20);
	cr_assert_eq(feed_list_of(json_array(), "10"), 0);
	cr_assert_eq(feed_event("ADDED", pod), K8S_FEED_APPLIED);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), -EBADMSG);
	cr_assert_eq(k8s__lookup_pod(k, UID_FLUENT, &m), -EBADMSG);
	/* the same refusal again is counted once, logged once */
	cr_assert_eq(feed_event("MODIFIED", pod), K8S_FEED_APPLIED);
	k8s__stats(k, &st);
	cr_assert_eq(st.refused_pods, 1);
	cr_assert_eq(log_count("refused pod 'options/use-kubelet-enabled' (uid "
			       UID_FLUENT "): the pod object is"), 1);
	cr_assert_eq(log_count("its containers get the fail action"), 1);
	json_decref(pod);
}

Test(k8s, a_stolen_container_id_is_refused)
{
	json_t *thief = fluent_pod();
	struct k8s_pod_meta m;

	set_str(metadata(thief), "uid", "11111111-2222-3333-4444-555555555555");
	set_str(metadata(thief), "name", "thief");
	cache(0, 0);
	cr_assert_eq(feed_list_of(json_pack("[o]", fluent_pod()), "10"), 0);
	cr_assert_eq(feed_event("ADDED", thief), K8S_FEED_APPLIED);
	cr_assert_eq(k8s__lookup(k, ID_FLUENT, &m), 0);
	cr_assert_str_eq(m.pod_name, "use-kubelet-enabled");
	k8s__meta_free(&m);
	cr_assert_eq(k8s__lookup_pod(k, "11111111-2222-3333-4444-555555555555",
				     &m), -EBADMSG);
	cr_assert_eq(log_count("which pod options/use-kubelet-enabled already holds"), 1);
	json_decref(thief);
}

Test(k8s, the_cache_stops_at_max_pods)
{
	json_t *second = fluent_pod();
	struct k8s_pod_meta m;
	struct k8s_stats st;

	set_str(metadata(second), "uid", "second");
	set_str(status0(second), "containerID", "containerd://second");
	cache(1, 0);
	cr_assert_eq(feed_list_of(json_pack("[oo]", fluent_pod(), second), "10"), 0);
	k8s__stats(k, &st);
	cr_assert_eq(st.pods, 1);
	cr_assert_eq(k8s__lookup(k, "second", &m), -ENOENT);
	cr_assert_eq(log_count("the max_pods limit"), 1);
}

Test(k8s, a_bad_list_page_is_refused_whole)
{
	static const char *const bad[] = {
		"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1\"}}",
		"{\"kind\":\"PodList\",\"items\":[]}",
		"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1 2\"},\"items\":[]}",
		"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1\",\"continue\":7},\"items\":[]}",
		"{\"items\":[],\"items\":[]}",
		"not json",
	};

	cache(0, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(k8s__feed_list(k, bad[i], strlen(bad[i]), 1),
			     -EBADMSG, "page %zu", i);
	cr_assert_not(k8s__synced(k));
}

/* ---- config ---- */

static struct diags diags;

static struct ydoc *yaml(const char *text)
{
	struct ydoc *doc = ytree__load_buffer("vouchd.yaml", text, strlen(text),
					      &diags);

	cr_assert_not_null(doc);
	return doc;
}

static int parse_section(const char *text, struct k8s_config *cfg)
{
	struct ydoc *doc = yaml(text);
	int errors;

	k8s__config_init(cfg);
	errors = k8s__config_parse(doc, ytree__get(doc->root, "kubernetes"),
				   "/etc/vouch", cfg, &diags);
	ytree__free(doc);
	return errors;
}

Test(k8s, config_section_sets_every_key)
{
	struct k8s_config cfg;

	memset(&diags, 0, sizeof(diags));
	cr_assert_eq(parse_section(
		"kubernetes:\n"
		"  enabled: true\n"
		"  api_url: https://10.96.0.1:443\n"
		"  token_file: sa/token\n"
		"  ca_file: /run/ca.crt\n"
		"  node_name: node-a\n"
		"  connect_timeout_ms: 2000\n"
		"  request_timeout_ms: 10000\n"
		"  watch_timeout_s: 120\n"
		"  backoff_min_ms: 50\n"
		"  backoff_max_ms: 5000\n"
		"  page_size: 100\n"
		"  max_pods: 300\n"
		"  max_object_kb: 512\n"
		"  max_page_mb: 16\n", &cfg), 0);
	cr_assert(cfg.enabled);
	cr_assert_str_eq(cfg.api_url, "https://10.96.0.1:443");
	cr_assert_str_eq(cfg.token_file, "/etc/vouch/sa/token");
	cr_assert_str_eq(cfg.ca_file, "/run/ca.crt");
	cr_assert_str_eq(cfg.node_name, "node-a");
	cr_assert_eq(cfg.connect_timeout_ms, 2000);
	cr_assert_eq(cfg.request_timeout_ms, 10000);
	cr_assert_eq(cfg.watch_timeout_s, 120);
	cr_assert_eq(cfg.backoff_min_ms, 50);
	cr_assert_eq(cfg.backoff_max_ms, 5000);
	cr_assert_eq(cfg.page_size, 100);
	cr_assert_eq(cfg.max_pods, 300);
	cr_assert_eq(cfg.max_object_bytes, 512 * 1024);
	cr_assert_eq(cfg.max_page_bytes, 16 << 20);
	k8s__config_free(&cfg);
	diags__free(&diags);
}

Test(k8s, config_can_turn_it_off)
{
	struct k8s_config cfg;

	memset(&diags, 0, sizeof(diags));
	cr_assert_eq(parse_section("kubernetes:\n  enabled: false\n", &cfg), 0);
	cr_assert_not(cfg.enabled);
	diags__free(&diags);
}

Test(k8s, config_errors_name_line_and_column)
{
	struct k8s_config cfg;

	memset(&diags, 0, sizeof(diags));
	cr_assert_eq(parse_section(
		"kubernetes:\n"
		"  enabled: yes\n"
		"  api_url: ftp://x\n"
		"  page_size: \"10\"\n"
		"  max_pods: 0\n"
		"  backoff_min_ms: 500\n"
		"  backoff_max_ms: 100\n"
		"  nodename: a\n", &cfg), 6);
	diags__sort(&diags, 0);
	cr_assert_eq(diags.items[0].line, 2);
	cr_assert_eq(diags.items[0].col, 12);
	cr_assert(strstr(diags.items[0].msg, "true or false"));
	cr_assert_eq(diags.items[1].line, 3);
	cr_assert(strstr(diags.items[1].msg, "https:// or http://"));
	cr_assert_eq(diags.items[2].line, 4);
	cr_assert(strstr(diags.items[2].msg, "expected a number"));
	cr_assert_eq(diags.items[3].line, 5);
	cr_assert(strstr(diags.items[3].msg, "between 1 and 65536"));
	cr_assert_eq(diags.items[4].line, 7);
	cr_assert(strstr(diags.items[4].msg, "not be below backoff_min_ms"));
	cr_assert_eq(diags.items[5].line, 8);
	cr_assert(strstr(diags.items[5].msg, "nodename"));
	k8s__config_free(&cfg);
	diags__free(&diags);
}

Test(k8s, config_empty_section_means_defaults)
{
	struct k8s_config cfg;

	memset(&diags, 0, sizeof(diags));
	k8s__config_init(&cfg);
	cr_assert_not(cfg.enabled, "off until the section is there");
	cr_assert_eq(parse_section("kubernetes:\n", &cfg), 0);
	cr_assert(cfg.enabled);
	cr_assert_eq(cfg.max_pods, 1024);
	cr_assert_null(cfg.api_url);
	cr_assert_eq(parse_section("kubernetes: [1]\n", &cfg), 1);
	diags__free(&diags);
}

Test(k8s, config_defaults_come_from_the_pod_environment)
{
	struct k8s_config cfg;

	k8s__config_init(&cfg);
	unsetenv("KUBERNETES_SERVICE_HOST");
	cr_assert_eq(k8s__config_fill(&cfg), -ENXIO);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	setenv("NODE_NAME", "node-from-env", 1);
	cr_assert_eq(k8s__config_fill(&cfg), 0);
	cr_assert_str_eq(cfg.api_url, "https://[fd00::1]:6443");
	cr_assert_str_eq(cfg.node_name, "node-from-env");
	cr_assert_str_eq(cfg.token_file, K8S_SA_DIR "/token");
	cr_assert_str_eq(cfg.ca_file, K8S_SA_DIR "/ca.crt");
	k8s__config_free(&cfg);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("NODE_NAME");
}
