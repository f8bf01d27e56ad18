// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouchctl events: reads events from vouch-collector's GET /v1/events, as
 * one readable line each or as the collector's JSON lines, optionally
 * following new ones as they are stored.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>

#include "vouchctl.h"

#define LINE_MAX_BYTES	(1U << 20)	/* one event; longer lines are cut */

struct reader {
	int json;
	char *line;
	size_t len;
	int overlong;
	unsigned long printed;
};

static const char *const filters[] = {
	"since", "until", "node", "agent", "kind", "verdict", "action",
	"rule", "image-digest", "deploy-id", "namespace", "limit",
};

static void events_usage(FILE *out)
{
	fprintf(out,
		"Usage: vouchctl events --collector URL [--follow] [FILTERS] [-o text|json]\n"
		"\n"
		"Prints events stored by vouch-collector, oldest first.\n"
		"\n"
		"  -c, --collector URL   the collector, e.g. http://127.0.0.1:8080\n"
		"  -f, --follow          keep printing events as they are stored\n"
		"  -o, --output FORMAT   text (one readable line, default) or json\n"
		"                        (JSON lines, proto3 JSON field names)\n"
		"      --ca-file FILE    CA bundle for an https collector\n"
		"      --cert FILE       client certificate (PEM)\n"
		"      --key FILE        client key (PEM)\n"
		"Filters (each --NAME VALUE):\n"
		"  --since TIME --until TIME (RFC 3339), --node, --agent, --kind,\n"
		"  --verdict, --action, --rule, --image-digest, --deploy-id,\n"
		"  --namespace, --limit N\n");
}

static const char *str_at(json_t *obj, const char *path1, const char *path2)
{
	json_t *v = json_object_get(obj, path1);

	if (v && path2)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : "";
}

static long long int_at(json_t *obj, const char *path1, const char *path2)
{
	json_t *v = json_object_get(obj, path1);

	if (v && path2)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* One line a person can read; the JSON form keeps every field. */
static void print_text(json_t *ev)
{
	const char *kind = str_at(ev, "kind", NULL);

	printf("%s %s/%s #%lld %s", str_at(ev, "time", NULL),
	       str_at(ev, "node", NULL), str_at(ev, "agentId", NULL),
	       int_at(ev, "seq", NULL), kind);
	if (json_object_get(ev, "process"))
		printf(" %s %s pid=%lld ppid=%lld uid=%lld parent=%s",
		       str_at(ev, "action", NULL), str_at(ev, "process", "exe"),
		       int_at(ev, "process", "pid"), int_at(ev, "process", "ppid"),
		       int_at(ev, "process", "uid"),
		       str_at(ev, "process", "parentExe"));
	if (json_object_get(ev, "workload"))
		printf(" workload=%s:%s", str_at(ev, "workload", "kind"),
		       str_at(ev, "workload", "cgroupPath"));
	if (json_object_get(ev, "loss"))
		printf(" lost=%lld %s", int_at(ev, "loss", "count"),
		       str_at(ev, "loss", "kind"));
	if (*str_at(ev, "rule", NULL))
		printf(" rule=%s", str_at(ev, "rule", NULL));
	printf(" -- %s\n", str_at(ev, "reason", NULL));
}

static void emit_line(struct reader *r)
{
	json_error_t jerr;
	json_t *ev;

	r->line[r->len] = '\0';
	if (r->len == 0)
		return;
	if (r->json) {
		puts(r->line);
	} else {
		ev = json_loads(r->line, 0, &jerr);
		if (!ev) {
			fprintf(stderr, "vouchctl: unreadable event line: %s\n",
				jerr.text);
			return;
		}
		print_text(ev);
		json_decref(ev);
	}
	fflush(stdout);
	r->printed++;
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct reader *r = ctx;
	size_t total = size * n;

	for (size_t i = 0; i < total; i++) {
		if (data[i] == '\n') {
			if (!r->overlong)
				emit_line(r);
			r->len = 0;
			r->overlong = 0;
			continue;
		}
		if (r->len == LINE_MAX_BYTES) {
			r->overlong = 1;
			continue;
		}
		r->line[r->len++] = data[i];
	}
	return total;
}

/* Appends "&name=value" with value escaped; 0 or -1. */
static int add_param(CURL *curl, char **url, const char *name,
		     const char *value)
{
	char *escaped = curl_easy_escape(curl, value, 0);
	char *grown = NULL;
	int ok;

	if (!escaped)
		return -1;
	ok = asprintf(&grown, "%s%s%s=%s", *url,
		      strchr(*url, '?') ? "&" : "?", name, escaped) >= 0;
	curl_free(escaped);
	if (!ok)
		return -1;
	free(*url);
	*url = grown;
	return 0;
}

struct events_args {
	const char *collector;
	const char *values[sizeof(filters) / sizeof(filters[0])];
	const char *ca_file;
	const char *cert;
	const char *key;
	int follow;
	int json;
};

static char *build_url(CURL *curl, const struct events_args *a)
{
	char *url = NULL;

	if (asprintf(&url, "%s/v1/events", a->collector) < 0)
		return NULL;
	for (size_t i = 0; url && i < sizeof(filters) / sizeof(filters[0]); i++) {
		char name[32];

		if (!a->values[i])
			continue;
		/* the collector's names use '_' where options use '-' */
		snprintf(name, sizeof(name), "%s", filters[i]);
		for (char *c = name; *c; c++)
			if (*c == '-')
				*c = '_';
		if (add_param(curl, &url, name, a->values[i])) {
			free(url);
			return NULL;
		}
	}
	if (url && a->follow && add_param(curl, &url, "follow", "1")) {
		free(url);
		return NULL;
	}
	return url;
}

static int fetch(const struct events_args *a)
{
	struct reader r = { .json = a->json };
	CURL *curl = curl_easy_init();
	char *url = NULL;
	long status = 0;
	CURLcode rc;
	int err = 1;

	r.line = malloc(LINE_MAX_BYTES + 1);
	if (!curl || !r.line)
		goto out;
	url = build_url(curl, a);
	if (!url)
		goto out;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	if (a->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, a->ca_file);
	if (a->cert)
		curl_easy_setopt(curl, CURLOPT_SSLCERT, a->cert);
	if (a->key)
		curl_easy_setopt(curl, CURLOPT_SSLKEY, a->key);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vouchctl: failed to read %s: %s\n", url,
			curl_easy_strerror(rc));
	} else if (status != 200) {
		fprintf(stderr, "vouchctl: %s answered %ld\n", url, status);
	} else {
		if (r.len && !r.overlong)
			emit_line(&r);
		err = 0;
	}
out:
	free(url);
	free(r.line);
	curl_easy_cleanup(curl);
	return err;
}

static int parse_events_args(int argc, char **argv, struct events_args *a)
{
	enum { OPT_CA = 256, OPT_CERT, OPT_KEY, OPT_FILTER };
	static struct option opts[8 + sizeof(filters) / sizeof(filters[0])] = {
		{ "collector", required_argument, NULL, 'c' },
		{ "follow", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "help", no_argument, NULL, 'h' },
	};
	int c, idx;

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		opts[7 + i] = (struct option){ filters[i], required_argument,
					       NULL, OPT_FILTER + (int)i };
	while ((c = getopt_long(argc, argv, "c:fo:h", opts, &idx)) != -1) {
		if (c == 'c')
			a->collector = optarg;
		else if (c == 'f')
			a->follow = 1;
		else if (c == 'o' && (!strcmp(optarg, "json") || !strcmp(optarg, "text")))
			a->json = !strcmp(optarg, "json");
		else if (c == OPT_CA)
			a->ca_file = optarg;
		else if (c == OPT_CERT)
			a->cert = optarg;
		else if (c == OPT_KEY)
			a->key = optarg;
		else if (c >= OPT_FILTER)
			a->values[c - OPT_FILTER] = optarg;
		else if (c == 'h')
			return 1;
		else
			return -1;
	}
	return optind < argc || !a->collector ? -1 : 0;
}

int vouchctl__events(int argc, char **argv)
{
	struct events_args a = { 0 };
	int rc = parse_events_args(argc, argv, &a);

	if (rc) {
		events_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = fetch(&a);
	curl_global_cleanup();
	return rc;
}
