// SPDX-License-Identifier: GPL-2.0-only
/* The `kubernetes:` section of vouchd's config, and its defaults. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s.h"

#define DEF_CONNECT_TIMEOUT_MS	5000
#define DEF_REQUEST_TIMEOUT_MS	30000
#define DEF_WATCH_TIMEOUT_S	300
#define DEF_BACKOFF_MIN_MS	200
#define DEF_BACKOFF_MAX_MS	30000
#define DEF_PAGE_SIZE		100
#define DEF_MAX_PODS		1024
#define DEF_MAX_OBJECT_BYTES	(2U << 20)	/* etcd stores at most 1.5 MiB */
#define DEF_MAX_PAGE_BYTES	(16U << 20)
#define URL_MAX			2048

static const char *const k8s_keys[] = {
	"enabled", "api_url", "token_file", "ca_file", "node_name",
	"connect_timeout_ms", "request_timeout_ms", "watch_timeout_s",
	"backoff_min_ms", "backoff_max_ms", "page_size", "max_pods",
	"max_object_kb", "max_page_mb", NULL
};

void k8s__config_init(struct k8s_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = DEF_CONNECT_TIMEOUT_MS;
	cfg->request_timeout_ms = DEF_REQUEST_TIMEOUT_MS;
	cfg->watch_timeout_s = DEF_WATCH_TIMEOUT_S;
	cfg->backoff_min_ms = DEF_BACKOFF_MIN_MS;
	cfg->backoff_max_ms = DEF_BACKOFF_MAX_MS;
	cfg->page_size = DEF_PAGE_SIZE;
	cfg->max_pods = DEF_MAX_PODS;
	cfg->max_object_bytes = DEF_MAX_OBJECT_BYTES;
	cfg->max_page_bytes = DEF_MAX_PAGE_BYTES;
}

void k8s__config_free(struct k8s_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->api_url);
	free(cfg->token_file);
	free(cfg->ca_file);
	free(cfg->node_name);
	cfg->api_url = cfg->token_file = cfg->ca_file = cfg->node_name = NULL;
}

/* ---- defaults from the environment ---- */

/* The in-cluster address kubelet gives every pod; IPv6 in brackets. */
static char *env_api_url(void)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *url = NULL;
	int v6;

	if (!host || !*host)
		return NULL;
	if (!port || !*port)
		port = "443";
	v6 = strchr(host, ':') != NULL;
	if (asprintf(&url, "https://%s%s%s:%s", v6 ? "[" : "", host,
		     v6 ? "]" : "", port) < 0)
		return NULL;
	return url;
}

static char *default_node_name(void)
{
	const char *env = getenv("NODE_NAME");
	char name[HOST_NAME_MAX + 1];

	if (env && *env)
		return strdup(env);
	if (gethostname(name, sizeof(name)))
		return strdup("localhost");
	name[HOST_NAME_MAX] = '\0';
	return strdup(name);
}

static int fill_string(char **field, char *value)
{
	if (*field)
		return 0;
	*field = value;
	return value ? 0 : -ENOMEM;
}

int k8s__config_fill(struct k8s_config *cfg)
{
	int err = 0;

	if (!cfg->api_url) {
		cfg->api_url = env_api_url();
		if (!cfg->api_url)
			return getenv("KUBERNETES_SERVICE_HOST") ? -ENOMEM :
			       -ENXIO;
	}
	if (!cfg->token_file)
		err = fill_string(&cfg->token_file,
				  strdup(K8S_SA_DIR "/token"));
	if (!err && !cfg->ca_file)
		err = fill_string(&cfg->ca_file, strdup(K8S_SA_DIR "/ca.crt"));
	if (!err && !cfg->node_name)
		err = fill_string(&cfg->node_name, default_node_name());
	return err;
}

/* ---- the YAML section ---- */

struct k8s_loader {
	const struct ydoc *doc;
	struct diags *diags;
	const char *dir;
	struct k8s_config *cfg;
	int errors;
};

static void err(struct k8s_loader *ld, const struct ynode *node,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err(struct k8s_loader *ld, const struct ynode *node,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree__verror(ld->doc, ld->diags, node, fmt, ap);
	va_end(ap);
	ld->errors++;
}

static int printable(const char *s, int allow_space)
{
	for (; *s; s++)
		if ((unsigned char)*s < (allow_space ? 0x20 : 0x21) ||
		    (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static const char *get_string(struct k8s_loader *ld, const struct ynode *n,
			      const char *key)
{
	if (n->type != YNODE_SCALAR) {
		err(ld, n, "expected a string for 'kubernetes.%s', got %s",
		    key, ytree__describe(n));
		return NULL;
	}
	if (n->len == 0 || (!n->quoted && (strcmp(n->value, "~") == 0 ||
					   strcmp(n->value, "null") == 0))) {
		err(ld, n, "'kubernetes.%s' must not be empty", key);
		return NULL;
	}
	return n->value;
}

static void set_string(struct k8s_loader *ld, const struct ynode *n,
		       const char *key, char **out, char *value)
{
	if (!value) {
		err(ld, n, "out of memory");
		return;
	}
	free(*out);
	*out = value;
}

static void set_path(struct k8s_loader *ld, const struct ynode *n,
		     const char *key, char **out)
{
	const char *v = get_string(ld, n, key);
	char *joined = NULL;

	if (!v)
		return;
	if (n->len >= PATH_MAX || !printable(v, 1)) {
		err(ld, n,
		    "'kubernetes.%s' must be a path under %d bytes, without control characters",
		    key, PATH_MAX);
		return;
	}
	if (v[0] == '/')
		joined = strdup(v);
	else if (asprintf(&joined, "%s/%s", ld->dir, v) < 0)
		joined = NULL;
	set_string(ld, n, key, out, joined);
}

static void set_url(struct k8s_loader *ld, const struct ynode *n)
{
	const char *v = get_string(ld, n, "api_url");

	if (!v)
		return;
	if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) ||
	    n->len > URL_MAX || !printable(v, 0)) {
		err(ld, n,
		    "'kubernetes.api_url' must start with https:// or http:// and be at most %d bytes",
		    URL_MAX);
		return;
	}
	set_string(ld, n, "api_url", &ld->cfg->api_url, strdup(v));
}

static void set_node(struct k8s_loader *ld, const struct ynode *n)
{
	const char *v = get_string(ld, n, "node_name");

	if (!v)
		return;
	if (n->len > 253 || !printable(v, 0)) {
		err(ld, n,
		    "'kubernetes.node_name' must be 1 to 253 printable characters without spaces");
		return;
	}
	set_string(ld, n, "node_name", &ld->cfg->node_name, strdup(v));
}

static void set_enabled(struct k8s_loader *ld, const struct ynode *n)
{
	if (n->type == YNODE_SCALAR && !n->quoted &&
	    (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0)) {
		ld->cfg->enabled = strcmp(n->value, "true") == 0;
		return;
	}
	err(ld, n, "expected true or false for 'kubernetes.enabled'");
}

static const struct {
	const char *key;
	long min;
	long max;
	long scale;
} numbers[] = {
	{ "connect_timeout_ms", 100, 600000, 1 },
	{ "request_timeout_ms", 1000, 600000, 1 },
	{ "watch_timeout_s", 10, 3600, 1 },
	{ "backoff_min_ms", 10, 60000, 1 },
	{ "backoff_max_ms", 100, 600000, 1 },
	{ "page_size", 1, 5000, 1 },
	{ "max_pods", 1, 65536, 1 },
	{ "max_object_kb", 64, 65536, 1024 },
	{ "max_page_mb", 1, 4096, 1 << 20 },
};

/* An unquoted whole number in [min, max]; -1 after an error. */
static int get_number(struct k8s_loader *ld, const struct ynode *n,
		      size_t i, long *out)
{
	char *end;
	long v;

	if (n->type != YNODE_SCALAR || n->quoted || n->len == 0 ||
	    strspn(n->value, "0123456789") != n->len) {
		err(ld, n, "expected a number (%ld..%ld) for 'kubernetes.%s'",
		    numbers[i].min, numbers[i].max, numbers[i].key);
		return -1;
	}
	errno = 0;
	v = strtol(n->value, &end, 10);
	if (errno || *end || v < numbers[i].min || v > numbers[i].max) {
		err(ld, n,
		    "'kubernetes.%s' is %s; it must be between %ld and %ld",
		    numbers[i].key, n->value, numbers[i].min, numbers[i].max);
		return -1;
	}
	*out = v * numbers[i].scale;
	return 0;
}

static void store_number(struct k8s_config *cfg, size_t i, long v)
{
	switch (i) {
	case 0: cfg->connect_timeout_ms = v; break;
	case 1: cfg->request_timeout_ms = v; break;
	case 2: cfg->watch_timeout_s = v; break;
	case 3: cfg->backoff_min_ms = v; break;
	case 4: cfg->backoff_max_ms = v; break;
	case 5: cfg->page_size = (unsigned int)v; break;
	case 6: cfg->max_pods = (unsigned int)v; break;
	case 7: cfg->max_object_bytes = (size_t)v; break;
	default: cfg->max_page_bytes = (size_t)v; break;
	}
}

static void parse_numbers(struct k8s_loader *ld, const struct ynode *map)
{
	const struct ynode *n;
	long v;

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		n = ytree__get(map, numbers[i].key);
		if (n && get_number(ld, n, i, &v) == 0)
			store_number(ld->cfg, i, v);
	}
	n = ytree__get(map, "backoff_max_ms");
	if (n && ld->cfg->backoff_max_ms < ld->cfg->backoff_min_ms)
		err(ld, n,
		    "'kubernetes.backoff_max_ms' must not be below backoff_min_ms");
}

int k8s__config_parse(const struct ydoc *doc, const struct ynode *node,
		      const char *dir, struct k8s_config *cfg,
		      struct diags *diags)
{
	struct k8s_loader ld = {
		.doc = doc, .diags = diags, .dir = dir, .cfg = cfg,
	};
	const struct ynode *n;

	cfg->enabled = 1;
	/* `kubernetes:` alone turns the provider on with every default */
	if (node->type == YNODE_SCALAR && node->len == 0 && !node->quoted)
		return 0;
	if (node->type != YNODE_MAPPING) {
		err(&ld, node, "expected a mapping for 'kubernetes', got %s",
		    ytree__describe(node));
		return ld.errors;
	}
	ld.errors += ytree__check_keys(doc, node, k8s_keys, "kubernetes",
				       diags);
	n = ytree__get(node, "enabled");
	if (n)
		set_enabled(&ld, n);
	n = ytree__get(node, "api_url");
	if (n)
		set_url(&ld, n);
	n = ytree__get(node, "token_file");
	if (n)
		set_path(&ld, n, "token_file", &cfg->token_file);
	n = ytree__get(node, "ca_file");
	if (n)
		set_path(&ld, n, "ca_file", &cfg->ca_file);
	n = ytree__get(node, "node_name");
	if (n)
		set_node(&ld, n);
	parse_numbers(&ld, node);
	return ld.errors;
}
