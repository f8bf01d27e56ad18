// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent/k8s.c over HTTPS against tests/k8s/replay.js, a stand-in API
 * server that answers from recorded Kubernetes responses and checks every
 * request (token, fieldSelector, limit, continue, resourceVersion): a paged
 * LIST, a WATCH cut mid-event and resumed from the last resourceVersion with
 * a rotated token, a 410 ERROR event, an expired continue token, an HTTP
 * 410, and the watch after. Needs node and openssl; no root, no BPF.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <criterion/criterion.h>

#include "k8s.h"
#include "log.h"

#define NODE		"k8s-e2e-node"
#define MAIN		"tests/fixtures/k8s/scenario-main.json"
#define HOSTILE		"tests/fixtures/k8s/scenario-hostile.json"
#define WAIT_MS		60000	/* a bound on waiting, not a timing claim */

/* Container IDs as the recordings hold them (see the fixtures' README). */
#define ID_NGINX_DOCKER	"6bb0ce4231a7dd4d87b0f533e7b371174956155b100c65b5a0891c21db059395"
#define ID_NGINX_CTRD	"2137c90274ba6b98a775981fc1b18b476bcc316479b624bb32da7c8930318ed4"
#define ID_FLUENT_CRIO	"c9898099f6d235126d564ed38a020007ea7a6fac6e25e718de683c9dd0076c16"
#define ID_FOO_READY	"6b092e156aca8a2b99d4e4ad3736af2039e233bf188fef8c5065549fc83e81ce"
#define UID_FOO_NEW	"ab443c98-9783-11e9-a3c5-025000000001"
#define NGINX_DIGEST	"sha256:f7988fb6c02e0ce69257d9bd9cf37ae20a60f1df7563c3a2a6abe24160306b8d"

static char dir[64];
static char token_path[128], report_path[128];
static pid_t server = -1;
static int port;
static struct k8s *k;
static FILE *logs;

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static void make_pki(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "bash -c '. tests/tls.sh && make_test_pki %s/pki'", dir);
	cr_assert_eq(system(cmd), 0, "make_test_pki failed");
}

static void start_server(const char *scenario)
{
	char cert[128], key[128], line[32];
	int out[2];
	FILE *f;

	snprintf(cert, sizeof(cert), "%s/pki/server.crt", dir);
	snprintf(key, sizeof(key), "%s/pki/server.key", dir);
	cr_assert_eq(pipe(out), 0);
	server = fork();
	cr_assert_geq(server, 0);
	if (server == 0) {
		/* the server goes with the test, however the test ends */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		close(out[0]);
		execlp("node", "node", "tests/k8s/replay.js", "--scenario",
		       scenario, "--token-file", token_path, "--report",
		       report_path, "--cert", cert, "--key", key, NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	cr_assert_not_null(fgets(line, sizeof(line), f),
			   "the replay server did not start");
	fclose(f);
	port = atoi(line);
	cr_assert_gt(port, 0);
}

static void setup(void)
{
	FILE *f;

	logs = tmpfile();
	cr_assert_not_null(logs);
	log__setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, logs);
	strcpy(dir, "/tmp/vouch-test-k8s-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(token_path, sizeof(token_path), "%s/token", dir);
	snprintf(report_path, sizeof(report_path), "%s/report.jsonl", dir);
	f = fopen(token_path, "w");
	cr_assert_not_null(f);
	fputs("replay-token-1\n", f);
	fclose(f);
	make_pki();
}

static void teardown(void)
{
	k8s__stop(k);
	k = NULL;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	fclose(logs);
}

TestSuite(k8s_replay, .init = setup, .fini = teardown, .timeout = 120);

/* Starts the replay of scenario and fills cfg to talk to it. */
static void config(struct k8s_config *cfg, const char *scenario,
		   const char *ca)
{
	static char url[64], ca_path[128];

	start_server(scenario);
	k8s__config_init(cfg);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	snprintf(ca_path, sizeof(ca_path), "%s/pki/%s", dir, ca);
	cfg->api_url = url;
	cfg->token_file = token_path;
	cfg->ca_file = ca_path;
	cfg->node_name = NODE;
	cfg->page_size = 2;
	cfg->backoff_min_ms = 10;
	cfg->backoff_max_ms = 200;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lines of the server's report, and how many say the request matched. */
static int report_lines(int *ok)
{
	char line[4096];
	FILE *f = fopen(report_path, "r");
	int n = 0;

	*ok = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, "\"ok\":true"))
			(*ok)++;
	}
	fclose(f);
	return n;
}

typedef int (*cond_fn)(void);

/* Waits on the cache's eventfd until cond holds, within WAIT_MS. */
static int wait_for(cond_fn cond)
{
	struct pollfd pfd = { .fd = k8s__eventfd(k), .events = POLLIN };
	int64_t end = now_ms() + WAIT_MS;
	uint64_t n;

	while (!cond()) {
		if (now_ms() > end)
			return 0;
		if (poll(&pfd, 1, 50) > 0 && read(pfd.fd, &n, sizeof(n)) < 0)
			return 0;
	}
	return 1;
}

static int scenario_done(void)
{
	struct k8s_pod_meta m;
	int ok, n = report_lines(&ok);
	int gone = k8s__lookup(k, ID_NGINX_DOCKER, &m) == -ENOENT;

	k8s__meta_free(&m);
	return n == 12 && ok == 12 && gone;
}

static void assert_label(const struct k8s_pod_meta *m, const char *key,
			 const char *value)
{
	for (size_t i = 0; i < m->n_labels; i++)
		if (strcmp(m->labels[i].key, key) == 0) {
			cr_assert_str_eq(m->labels[i].value, value);
			return;
		}
	cr_assert_fail("label %s missing", key);
}

static void assert_containerd_nginx(void)
{
	struct k8s_pod_meta m;

	cr_assert_eq(k8s__lookup(k, "containerd://" ID_NGINX_CTRD, &m), 0);
	cr_assert_str_eq(m.namespace, "default");
	cr_assert_str_eq(m.pod_name, "nginx-deployment-9456bbbf9-ln28l");
	cr_assert_str_eq(m.pod_uid, "dc365fc1-d596-459d-afb5-769f2f7b3f01");
	cr_assert_str_eq(m.container_id, ID_NGINX_CTRD);
	cr_assert_str_eq(m.runtime, "containerd");
	cr_assert_str_eq(m.container_name, "nginx");
	cr_assert_eq(m.kind, K8S_CONTAINER);
	cr_assert_str_eq(m.image, "docker.io/library/nginx:1.14.2");
	cr_assert_str_eq(m.image_ref, "docker.io/library/nginx");
	cr_assert_str_eq(m.image_digest, NGINX_DIGEST);
	cr_assert_eq(m.digest_from_repo, 1);
	cr_assert_null(m.service);
	cr_assert_null(m.version);
	cr_assert_null(m.deploy_id);
	cr_assert_eq(m.n_labels, 2);
	assert_label(&m, "app", "nginx");
	assert_label(&m, "pod-template-hash", "9456bbbf9");
	k8s__meta_free(&m);
}

static void assert_crio_fluent_bit(void)
{
	struct k8s_pod_meta m;

	cr_assert_eq(k8s__lookup(k, ID_FLUENT_CRIO, &m), 0);
	cr_assert_str_eq(m.namespace, "options");
	cr_assert_str_eq(m.pod_name, "use-kubelet-enabled");
	cr_assert_str_eq(m.pod_uid, "e9f2963f-55f2-11e9-84c5-02e422b8a84a");
	cr_assert_str_eq(m.runtime, "cri-o");
	cr_assert_str_eq(m.container_name, "fluent-bit");
	cr_assert_str_eq(m.image_ref, "docker.io/fluent/fluent-bit");
	cr_assert_str_eq(m.image_digest,
			 "sha256:7ac0fd3569af866e9a6a22eb592744200d2dbe098cf066162453f8d0b06c531f");
	cr_assert_str_eq(m.service, "fluent-bit");
	cr_assert_str_eq(m.version, "1.0.6");
	cr_assert_str_eq(m.deploy_id, "deploy-fluent-bit-2019-04-03");
	k8s__meta_free(&m);
}

static void assert_new_foo(void)
{
	struct k8s_pod_meta m;

	/* known by pod UID while its container has no ID yet */
	cr_assert_eq(k8s__lookup_pod(k, UID_FOO_NEW, &m), 0);
	cr_assert_str_eq(m.namespace, "default");
	cr_assert_str_eq(m.pod_name, "foo");
	cr_assert_null(m.container_id);
	assert_label(&m, "app.kubernetes.io/managed-by", "pulumi");
	k8s__meta_free(&m);
}

Test(k8s_replay, list_watch_cut_resume_410_relist)
{
	struct k8s_config cfg;
	struct k8s_pod_meta m;
	struct k8s_stats st;

	config(&cfg, MAIN, "ca.crt");
	k = k8s__start(&cfg);
	cr_assert_not_null(k);
	cr_assert(wait_for(scenario_done), "the scenario did not complete");

	cr_assert(k8s__synced(k));
	assert_containerd_nginx();
	assert_crio_fluent_bit();
	assert_new_foo();
	/* deleted by the first watch, absent from the re-lists */
	cr_assert_eq(k8s__lookup(k, "docker://" ID_FOO_READY, &m), -ENOENT);
	/* deleted by the last watch */
	cr_assert_eq(k8s__lookup(k, ID_NGINX_DOCKER, &m), -ENOENT);

	k8s__stats(k, &st);
	cr_assert_eq(st.lists, 3, "lists %llu", (unsigned long long)st.lists);
	cr_assert_eq(st.relists, 2);
	cr_assert_eq(st.bad_events, 0);
	cr_assert_eq(st.refused_pods, 0);
	cr_assert_eq(st.pods, 3);
	cr_assert_eq(st.containers, 2);
	cr_assert_str_eq(st.resource_version, "411570");
}

/* Everything before the cut was applied, and nothing after it. */
Test(k8s_replay, resumes_from_last_event_before_the_cut)
{
	struct k8s_config cfg;
	char line[4096];
	FILE *f;
	int found = 0;

	config(&cfg, MAIN, "ca.crt");
	k = k8s__start(&cfg);
	cr_assert_not_null(k);
	cr_assert(wait_for(scenario_done));
	f = fopen(report_path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "resumed from the last event") &&
		    strstr(line, "resourceVersion=411517") &&
		    strstr(line, "\"ok\":true"))
			found = 1;
	fclose(f);
	cr_assert(found, "the resumed watch did not ask for 411517");
}

static struct k8s_stats last;

static int failed_once(void)
{
	k8s__stats(k, &last);
	return last.failures >= 1;
}

Test(k8s_replay, a_server_outside_the_ca_is_never_trusted)
{
	struct k8s_config cfg;
	struct k8s_pod_meta m;
	int ok;

	config(&cfg, MAIN, "other-ca.crt");
	k = k8s__start(&cfg);
	cr_assert_not_null(k);
	cr_assert(wait_for(failed_once));
	cr_assert_not(k8s__synced(k));
	cr_assert_eq(k8s__lookup(k, ID_NGINX_CTRD, &m), -EAGAIN);
	cr_assert(strstr(last.last_error, "list") != NULL, "%s",
		  last.last_error);
	cr_assert_eq(report_lines(&ok), 0, "a request got through TLS");
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
	fseek(logs, 0, SEEK_END);
	return n;
}

static int hostile_done(void)
{
	struct k8s_pod_meta m;
	int ok, n = report_lines(&ok);
	int back = k8s__lookup(k, ID_FLUENT_CRIO, &m) == 0;

	k8s__meta_free(&m);
	return n == 4 && ok == 4 && back;
}

/*
 * A 3 MiB pod in a LIST is refused alone; a 3 MiB watch event makes the
 * client re-list; the pod comes back once the server sends it small.
 */
Test(k8s_replay, hostile_sizes_refuse_the_pod_then_relist)
{
	struct k8s_config cfg;
	struct k8s_pod_meta m;
	struct k8s_stats st;

	config(&cfg, HOSTILE, "ca.crt");
	cfg.max_object_bytes = 1 << 20;
	k = k8s__start(&cfg);
	cr_assert_not_null(k);
	cr_assert(wait_for(hostile_done), "the scenario did not complete");

	k8s__stats(k, &st);
	cr_assert_eq(st.refused_pods, 1);
	cr_assert_eq(st.bad_events, 1);
	cr_assert_eq(st.relists, 1);
	cr_assert_eq(st.lists, 2);
	cr_assert_eq(log_count("refused pod 'options/use-kubelet-enabled' (uid "
			       "e9f2963f-55f2-11e9-84c5-02e422b8a84a): "
			       "the pod object is"), 1);
	cr_assert_eq(log_count("a watch event is larger than max_object_kb; re-listing"), 1);
	/* the other pod of the page was never affected */
	cr_assert_eq(k8s__lookup(k, ID_FOO_READY, &m), 0);
	cr_assert_str_eq(m.pod_name, "foo");
	k8s__meta_free(&m);
}

/* Without a readable token nothing is sent, and the reason is kept. */
Test(k8s_replay, a_missing_token_file_sends_nothing)
{
	struct k8s_config cfg;
	char missing[160];
	int ok;

	config(&cfg, MAIN, "ca.crt");
	snprintf(missing, sizeof(missing), "%s/no-such-token", dir);
	cfg.token_file = missing;
	k = k8s__start(&cfg);
	cr_assert_not_null(k);
	cr_assert(wait_for(failed_once));
	cr_assert(strstr(last.last_error, "cannot use the token file"), "%s",
		  last.last_error);
	cr_assert_not(k8s__synced(k));
	cr_assert_eq(report_lines(&ok), 0);
}
