// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouchctl status: asks the running vouchd (GET /v1/status on its local
 * metrics endpoint) what it enforces, and prints it for a person or as the
 * JSON the agent sent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

#include "vouchctl.h"

#define STATUS_BODY_MAX		(16U << 20)	/* a status larger is refused */
#define STATUS_TIMEOUT_S	10L
#define DEFAULT_AGENT		"http://127.0.0.1:9470"
#define EXIT_UNHEALTHY		1
#define EXIT_USAGE		2
#define EXIT_UNREACHABLE	3

struct body {
	char *data;
	size_t len;
	int too_large;
};

static void status_usage(FILE *out)
{
	fprintf(out,
		"Usage: vouchctl status [--agent URL] [-o text|json]\n"
		"\n"
		"Shows what the running vouchd enforces: its health, the policy in\n"
		"force (mode, scopes, entries, bundle serial and expiry), the\n"
		"workloads it knows, its programs, event counts and losses.\n"
		"\n"
		"  -a, --agent URL       vouchd's metrics endpoint (default %s)\n"
		"  -o, --output FORMAT   text (default) or json (as the agent sent it)\n"
		"\n"
		"Exit status: 0 healthy, 1 unhealthy, 2 usage error, 3 the agent\n"
		"could not be asked.\n", DEFAULT_AGENT);
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t add = size * n;
	char *grown;

	if (b->len + add > STATUS_BODY_MAX) {
		b->too_large = 1;
		return 0;
	}
	grown = realloc(b->data, b->len + add + 1);
	if (!grown)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, data, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* GET URL/v1/status; the parsed object, or NULL after saying why. */
static json_t *fetch_status(const char *agent)
{
	struct body b = { 0 };
	json_error_t jerr;
	char url[2048];
	json_t *status = NULL;
	CURLcode rc;
	long code = 0;
	CURL *c;

	snprintf(url, sizeof(url), "%s/v1/status", agent);
	c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, STATUS_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		fprintf(stderr, "vouchctl status: failed to ask '%s': %s\n", url,
			b.too_large ? "the answer is too large" :
			curl_easy_strerror(rc));
	else if (code != 200)
		fprintf(stderr, "vouchctl status: '%s' answered %ld\n", url, code);
	else if (!(status = json_loadb(b.data ? b.data : "", b.len,
				       JSON_REJECT_DUPLICATES, &jerr)))
		fprintf(stderr, "vouchctl status: unreadable answer from '%s': %s\n",
			url, jerr.text);
	else if (!json_is_object(status)) {
		fprintf(stderr, "vouchctl status: '%s' did not answer an object\n",
			url);
		json_decref(status);
		status = NULL;
	}
	free(b.data);
	return status;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "?";
}

static long long num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* Unix seconds as UTC; "never" for 0. */
static const char *when(long long secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!secs || !gmtime_r(&t, &tm))
		return "never";
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void print_policy(json_t *p)
{
	json_t *lists = json_object_get(p, "lists");
	json_t *scope, *w;
	char t1[32], t2[32];
	size_t i;

	if (!json_is_object(p)) {
		printf("policy:    none loaded\n");
		return;
	}
	printf("policy:    generation %lld from %s, loaded %s\n",
	       num(p, "generation"), str(p, "source"),
	       when(num(p, "loaded"), t1, sizeof(t1)));
	printf("bundle:    serial %lld, expires %s\n", num(p, "serial"),
	       when(num(p, "expires"), t2, sizeof(t2)));
	printf("mode:      %s by default, host scope %s\n", str(p, "mode"),
	       str(p, "hostMode"));
	printf("rules:     %lld allow, %lld deny, %lld exception entries\n",
	       num(lists, "allow"), num(lists, "deny"), num(lists, "exception"));
	printf("scopes:\n");
	json_array_foreach(json_object_get(p, "scopes"), i, scope)
		printf("  %-24s %-8s %lld cgroups\n", str(scope, "name"),
		       str(scope, "mode"), num(scope, "cgroups"));
	printf("workloads: %lld\n", num(p, "workloadCount"));
	json_array_foreach(json_object_get(p, "workloads"), i, w)
		printf("  %s %s (id %lld) in scope %s\n", str(w, "kind"),
		       json_is_string(json_object_get(w, "path")) ?
		       str(w, "path") : "(path unknown)",
		       num(w, "cgroupId"), str(w, "scope"));
}

static void print_counts(json_t *s)
{
	json_t *e;
	size_t i;

	printf("events:   ");
	json_array_foreach(json_object_get(s, "events"), i, e)
		printf(" %s/%s=%lld", str(e, "kind"), str(e, "verdict"),
		       num(e, "count"));
	printf("\nlosses:   ");
	json_array_foreach(json_object_get(s, "losses"), i, e)
		printf(" %s=%lld", str(e, "kind"), num(e, "count"));
	printf("\n");
	e = json_object_get(s, "spool");
	if (json_is_object(e))
		printf("spool:     %lld events, %lld bytes, %lld dropped\n",
		       num(e, "events"), num(e, "bytes"), num(e, "dropped"));
}

static void print_programs(json_t *s)
{
	json_t *p;
	size_t i;

	printf("programs:  (run counts %s)\n",
	       num(s, "bpfStatsEnabled") == 1 ? "kept" :
	       "off: sysctl kernel.bpf_stats_enabled=1 keeps them");
	json_array_foreach(json_object_get(s, "programs"), i, p)
		printf("  %-24s %-12s runs %lld, %lld ns\n", str(p, "name"),
		       json_is_true(json_object_get(p, "attached")) ?
		       "attached" : "NOT ATTACHED", num(p, "runCount"),
		       num(p, "runTimeNs"));
}

static void print_text(json_t *s)
{
	json_t *problem;
	char t[32];
	size_t i;

	printf("vouchd %s, agent %s on node %s, up since %s\n",
	       str(s, "version"), str(s, "agentId"), str(s, "node"),
	       when(num(s, "started"), t, sizeof(t)));
	printf("health:    %s\n", json_is_true(json_object_get(s, "healthy")) ?
	       "ok" : "UNHEALTHY");
	json_array_foreach(json_object_get(s, "problems"), i, problem)
		printf("  - %s\n", json_string_value(problem));
	print_policy(json_object_get(s, "policy"));
	print_programs(s);
	print_counts(s);
}

int vouchctl__status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *agent = DEFAULT_AGENT;
	int opt, json = 0, healthy;
	json_t *status;

	while ((opt = getopt_long(argc, argv, "a:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			agent = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				status_usage(stderr);
				return EXIT_USAGE;
			}
			json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			status_usage(stdout);
			return EXIT_SUCCESS;
		default:
			status_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		status_usage(stderr);
		return EXIT_USAGE;
	}
	status = fetch_status(agent);
	if (!status)
		return EXIT_UNREACHABLE;
	healthy = json_is_true(json_object_get(status, "healthy"));
	if (json) {
		json_dumpf(status, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		print_text(status);
	}
	json_decref(status);
	return healthy ? EXIT_SUCCESS : EXIT_UNHEALTHY;
}
