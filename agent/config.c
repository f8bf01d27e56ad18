// SPDX-License-Identifier: GPL-2.0-only
/* vouchd's configuration file (docs/CONFIG.md), checked as strictly as rules. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fspath.h"
#include "config.h"
#include "metrics.h"
#include "yamltree.h"

#define CONFIG_NAME_MAX		253	/* a DNS name, as Kubernetes node names */
#define CONFIG_LOSS_MS_MIN	10
#define CONFIG_LOSS_MS_MAX	60000
#define CONFIG_LOSS_MS_DEFAULT	1000
#define CONFIG_RINGBUF_KB_MIN	16
#define CONFIG_RINGBUF_KB_MAX	(1024 * 1024)
#define CONFIG_RINGBUF_KB_DEFAULT	8192
#define CONFIG_SPOOL_MB_DEFAULT	256
#define CONFIG_SPOOL_MB_MAX	(1024 * 1024)
#define CONFIG_SPOOL_DIR_DEFAULT	"/var/lib/vouch/spool"
#define CONFIG_URL_MAX		2048
#define MACHINE_ID_PATH		"/etc/machine-id"
#define CONFIG_PIN_DIR_DEFAULT	"/sys/fs/bpf/vouch"

static const char *const top_keys[] = {
	"rules", "node_name", "agent_id", "log", "events", "collector",
	"metadata", "kubernetes", "exec_hook", "metrics", "bpf", NULL
};
static const char *const metadata_keys[] = {
	"deploy_dir", "oci_locations", NULL
};
static const char *const metrics_keys[] = { "listen", NULL };
static const char *const bpf_keys[] = { "pin", "pin_dir", NULL };
static const char *const collector_keys[] = {
	"url", "ca_file", "client_cert", "client_key", "spool_dir",
	"spool_max_mb", NULL
};
static const char *const log_keys[] = { "level", "format", NULL };
static const char *const events_keys[] = {
	"output", "loss_report_ms", "ring_buffer_kb", "sample_allowed_connects",
	NULL
};

struct cfg_loader {
	const struct ydoc *doc;
	struct diags *diags;
	struct vouchd_config *cfg;
	char *dir;		/* absolute directory of the config file */
};

static void err(struct cfg_loader *ld, const struct ynode *node,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err(struct cfg_loader *ld, const struct ynode *node, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree__verror(ld->doc, ld->diags, node, fmt, ap);
	va_end(ap);
}

/* Names: printable ASCII without spaces. */
static int name_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Paths: anything but control characters. */
static int path_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* A non-empty string value; NULL (with an error) for anything else. */
static const char *get_string(struct cfg_loader *ld, const struct ynode *node,
			      const char *key)
{
	if (node->type != YNODE_SCALAR) {
		err(ld, node, "expected a string for '%s', got %s", key,
		    ytree__describe(node));
		return NULL;
	}
	if (node->len == 0) {
		err(ld, node, "'%s' must not be empty", key);
		return NULL;
	}
	/* YAML's null, written out; quoted, these are ordinary strings */
	if (!node->quoted && (strcmp(node->value, "~") == 0 ||
			      strcmp(node->value, "null") == 0 ||
			      strcmp(node->value, "Null") == 0 ||
			      strcmp(node->value, "NULL") == 0)) {
		err(ld, node, "expected a string for '%s', got null", key);
		return NULL;
	}
	return node->value;
}

/* Absolute paths stay; relative ones are joined to the config's directory. */
static void set_path(struct cfg_loader *ld, const struct ynode *node,
		     const char *key, char **out)
{
	const char *value = get_string(ld, node, key);
	char *joined = NULL;

	if (!value)
		return;
	if (node->len >= PATH_MAX || !path_ok(value)) {
		err(ld, node,
		    "'%s' must be a path under %d bytes, without control characters",
		    key, PATH_MAX);
		return;
	}
	if (value[0] == '/')
		joined = strdup(value);
	else if (asprintf(&joined, "%s/%s", ld->dir, value) < 0)
		joined = NULL;
	if (!joined)
		err(ld, node, "out of memory");
	free(*out);
	*out = joined;
}

static void set_name(struct cfg_loader *ld, const struct ynode *node,
		     const char *key, char **out)
{
	const char *value = get_string(ld, node, key);

	if (!value)
		return;
	if (node->len > CONFIG_NAME_MAX || !name_ok(value)) {
		err(ld, node,
		    "'%s' must be 1 to %d printable characters without spaces",
		    key, CONFIG_NAME_MAX);
		return;
	}
	*out = strdup(value);
	if (!*out)
		err(ld, node, "out of memory");
}

static void parse_log(struct cfg_loader *ld, const struct ynode *node)
{
	const struct ynode *level, *format;
	int v;

	if (node->type != YNODE_MAPPING) {
		err(ld, node,
		    "expected a mapping with 'level' and 'format', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, log_keys, "log", ld->diags);
	level = ytree__get(node, "level");
	format = ytree__get(node, "format");
	if (level && get_string(ld, level, "level")) {
		v = log__parse_level(level->value);
		if (v < 0)
			err(ld, level,
			    "unknown log level '%s'; expected error|warn|info|debug",
			    level->value);
		else
			ld->cfg->log_level = (enum log_level)v;
	}
	if (format && get_string(ld, format, "format")) {
		v = log__parse_format(format->value);
		if (v < 0)
			err(ld, format,
			    "unknown log format '%s'; expected text or json",
			    format->value);
		else
			ld->cfg->log_format = (enum log_format)v;
	}
}

/* An unquoted whole number in [min, max]; 0 or -1 after an error. */
static int parse_number(struct cfg_loader *ld, const struct ynode *node,
			const char *key, long min, long max, long *out)
{
	char *end;
	long v;

	if (node->type != YNODE_SCALAR || node->quoted || node->len == 0 ||
	    strspn(node->value, "0123456789") != node->len) {
		err(ld, node, "expected a number (%ld..%ld) for '%s'", min, max,
		    key);
		return -1;
	}
	errno = 0;
	v = strtol(node->value, &end, 10);
	if (errno || *end || v < min || v > max) {
		err(ld, node, "'%s' is %s; it must be between %ld and %ld", key,
		    node->value, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void parse_loss_ms(struct cfg_loader *ld, const struct ynode *node)
{
	long v;

	if (parse_number(ld, node, "loss_report_ms", CONFIG_LOSS_MS_MIN,
			 CONFIG_LOSS_MS_MAX, &v) == 0)
		ld->cfg->loss_report_ms = (int)v;
}

/* The kernel wants a ring buffer of a power-of-two number of pages. */
static void parse_ringbuf_kb(struct cfg_loader *ld, const struct ynode *node)
{
	long v;

	if (parse_number(ld, node, "ring_buffer_kb", CONFIG_RINGBUF_KB_MIN,
			 CONFIG_RINGBUF_KB_MAX, &v))
		return;
	if (v & (v - 1)) {
		err(ld, node, "'ring_buffer_kb' is %ld; it must be a power of two",
		    v);
		return;
	}
	ld->cfg->ring_buffer_bytes = (unsigned int)v * 1024;
}

/* 0: no allowed connect is reported; N: one in every N, per CPU. */
static void parse_sample(struct cfg_loader *ld, const struct ynode *node)
{
	long v;

	if (node && parse_number(ld, node, "sample_allowed_connects", 0,
				 1000000000L, &v) == 0)
		ld->cfg->sample_allowed_connects = (uint64_t)v;
}

static void parse_events(struct cfg_loader *ld, const struct ynode *node)
{
	const struct ynode *output, *loss, *ringbuf;

	if (node->type != YNODE_MAPPING) {
		err(ld, node, "expected a mapping with 'output', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, events_keys, "events", ld->diags);
	output = ytree__get(node, "output");
	loss = ytree__get(node, "loss_report_ms");
	if (output && output->type == YNODE_SCALAR &&
	    strcmp(output->value, "stdout") == 0)
		output = NULL;	/* the default already says stdout */
	if (output)
		set_path(ld, output, "output", &ld->cfg->events_output);
	if (loss)
		parse_loss_ms(ld, loss);
	ringbuf = ytree__get(node, "ring_buffer_kb");
	if (ringbuf)
		parse_ringbuf_kb(ld, ringbuf);
	parse_sample(ld, ytree__get(node, "sample_allowed_connects"));
}

static void parse_exec_hook(struct cfg_loader *ld, const struct ynode *node)
{
	static const char *const names[] = { "auto", "lsm", "tracepoint" };
	const char *value = get_string(ld, node, "exec_hook");

	if (!value)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(value, names[i]) == 0) {
			ld->cfg->exec_hook = (enum config_exec_hook)i;
			return;
		}
	}
	err(ld, node, "unknown exec_hook '%s'; expected auto, lsm or tracepoint",
	    value);
}

/* http:// or https://, printable, bounded: libcurl does the rest. */
static void set_url(struct cfg_loader *ld, const struct ynode *node)
{
	const char *value = get_string(ld, node, "url");

	if (!value)
		return;
	if ((strncmp(value, "http://", 7) != 0 &&
	     strncmp(value, "https://", 8) != 0) ||
	    node->len > CONFIG_URL_MAX || !path_ok(value)) {
		err(ld, node,
		    "'url' must start with http:// or https:// and be at most %d bytes",
		    CONFIG_URL_MAX);
		return;
	}
	free(ld->cfg->collector_url);
	ld->cfg->collector_url = strdup(value);
	if (!ld->cfg->collector_url)
		err(ld, node, "out of memory");
}

static void parse_collector(struct cfg_loader *ld, const struct ynode *node)
{
	static const struct {
		const char *key;
		size_t offset;
	} paths[] = {
		{ "ca_file", offsetof(struct vouchd_config, collector_ca) },
		{ "client_cert", offsetof(struct vouchd_config, collector_cert) },
		{ "client_key", offsetof(struct vouchd_config, collector_key) },
		{ "spool_dir", offsetof(struct vouchd_config, spool_dir) },
	};
	const struct ynode *v;
	long mb;

	if (node->type != YNODE_MAPPING) {
		err(ld, node, "expected a mapping with 'url', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, collector_keys, "collector",
			  ld->diags);
	v = ytree__get(node, "url");
	if (v)
		set_url(ld, v);
	else
		err(ld, node, "missing required key 'url'");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		v = ytree__get(node, paths[i].key);
		if (v)
			set_path(ld, v, paths[i].key,
				 (char **)((char *)ld->cfg + paths[i].offset));
	}
	v = ytree__get(node, "spool_max_mb");
	if (v && parse_number(ld, v, "spool_max_mb", 1, CONFIG_SPOOL_MB_MAX,
			      &mb) == 0)
		ld->cfg->spool_max_bytes = (uint64_t)mb << 20;
}

static void parse_oci_locations(struct cfg_loader *ld, const struct ynode *node)
{
	size_t n;

	if (node->type != YNODE_SEQUENCE || node->n_kids == 0 ||
	    node->n_kids > CONFIG_OCI_LOCATIONS_MAX) {
		err(ld, node, "'oci_locations' takes a list of 1 to %d paths",
		    CONFIG_OCI_LOCATIONS_MAX);
		return;
	}
	n = node->n_kids;
	ld->cfg->oci_locations = calloc(n + 1, sizeof(char *));
	if (!ld->cfg->oci_locations) {
		err(ld, node, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *kid = node->kids[i];
		const char *v = get_string(ld, kid, "oci_locations");

		if (!v)
			continue;
		if (v[0] != '/' || !strstr(v, "{id}") || strlen(v) > 1024) {
			err(ld, kid,
			    "an OCI location is an absolute path with {id} for the container ID, got '%s'",
			    v);
			continue;
		}
		ld->cfg->oci_locations[i] = strdup(v);
	}
}

static void parse_metadata(struct cfg_loader *ld, const struct ynode *node)
{
	const struct ynode *v;

	if (node->type != YNODE_MAPPING) {
		err(ld, node, "expected a mapping for 'metadata', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, metadata_keys, "metadata", ld->diags);
	v = ytree__get(node, "deploy_dir");
	if (v)
		set_path(ld, v, "deploy_dir", &ld->cfg->deploy_dir);
	v = ytree__get(node, "oci_locations");
	if (v)
		parse_oci_locations(ld, v);
}

/* "off", or a numeric ADDR:PORT the endpoint can bind. */
static void parse_metrics(struct cfg_loader *ld, const struct ynode *node)
{
	struct sockaddr_storage sa;
	const struct ynode *v;

	if (node->type != YNODE_MAPPING) {
		err(ld, node, "expected a mapping with 'listen', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, metrics_keys, "metrics", ld->diags);
	v = ytree__get(node, "listen");
	if (!v || !get_string(ld, v, "listen"))
		return;
	free(ld->cfg->metrics_listen);
	ld->cfg->metrics_listen = NULL;
	if (strcmp(v->value, "off") == 0)
		return;
	if (metrics__parse_addr(v->value, &sa)) {
		err(ld, v,
		    "'listen' must be off, IPV4:PORT or [IPV6]:PORT with a numeric address, got '%s'",
		    v->value);
		return;
	}
	ld->cfg->metrics_listen = strdup(v->value);
	if (!ld->cfg->metrics_listen)
		err(ld, v, "out of memory");
}

/* An unquoted true or false; 0 or -1 after an error. */
static int parse_bool(struct cfg_loader *ld, const struct ynode *node,
		      const char *key, int *out)
{
	if (node->type == YNODE_SCALAR && !node->quoted &&
	    (strcmp(node->value, "true") == 0 ||
	     strcmp(node->value, "false") == 0)) {
		*out = node->value[0] == 't';
		return 0;
	}
	err(ld, node, "expected true or false for '%s', got %s", key,
	    ytree__describe(node));
	return -1;
}

static void parse_bpf(struct cfg_loader *ld, const struct ynode *node)
{
	const struct ynode *v;

	if (node->type != YNODE_MAPPING) {
		err(ld, node, "expected a mapping with 'pin' and 'pin_dir', got %s",
		    ytree__describe(node));
		return;
	}
	ytree__check_keys(ld->doc, node, bpf_keys, "bpf", ld->diags);
	v = ytree__get(node, "pin");
	if (v)
		parse_bool(ld, v, "pin", &ld->cfg->pin);
	v = ytree__get(node, "pin_dir");
	if (v)
		set_path(ld, v, "pin_dir", &ld->cfg->pin_dir);
}

static void parse_top(struct cfg_loader *ld, const struct ynode *root)
{
	const struct ynode *node;

	if (!root) {
		err(ld, NULL, "the file is empty; it needs at least 'rules: FILE'");
		return;
	}
	if (root->type != YNODE_MAPPING) {
		err(ld, root, "expected a mapping at the top level, got %s",
		    ytree__describe(root));
		return;
	}
	ytree__check_keys(ld->doc, root, top_keys, "the vouchd config",
			  ld->diags);
	node = ytree__get(root, "rules");
	if (node)
		set_path(ld, node, "rules", &ld->cfg->rules_path);
	else
		err(ld, root, "missing required key 'rules'");
	node = ytree__get(root, "node_name");
	if (node)
		set_name(ld, node, "node_name", &ld->cfg->node_name);
	node = ytree__get(root, "agent_id");
	if (node)
		set_name(ld, node, "agent_id", &ld->cfg->agent_id);
	node = ytree__get(root, "log");
	if (node)
		parse_log(ld, node);
	node = ytree__get(root, "events");
	if (node)
		parse_events(ld, node);
	node = ytree__get(root, "exec_hook");
	if (node)
		parse_exec_hook(ld, node);
	node = ytree__get(root, "collector");
	if (node)
		parse_collector(ld, node);
	node = ytree__get(root, "metadata");
	if (node)
		parse_metadata(ld, node);
	node = ytree__get(root, "kubernetes");
	if (node)
		k8s__config_parse(ld->doc, node, ld->dir, &ld->cfg->k8s,
				  ld->diags);
	node = ytree__get(root, "metrics");
	if (node)
		parse_metrics(ld, node);
	node = ytree__get(root, "bpf");
	if (node)
		parse_bpf(ld, node);
}

static char *default_node_name(void)
{
	char name[HOST_NAME_MAX + 1];

	if (gethostname(name, sizeof(name)))
		return strdup("localhost");
	name[HOST_NAME_MAX] = '\0';
	return strdup(name);
}

/* The first line of /etc/machine-id, or NULL when there is none. */
static char *read_machine_id(void)
{
	char line[128];
	FILE *f = fopen(MACHINE_ID_PATH, "re");
	size_t n;

	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0 || !name_ok(line))
		return NULL;
	return strdup(line);
}

static int fill_defaults(struct vouchd_config *cfg)
{
	if (!cfg->node_name)
		cfg->node_name = default_node_name();
	if (!cfg->node_name)
		return -ENOMEM;
	if (!cfg->agent_id)
		cfg->agent_id = read_machine_id();
	if (!cfg->agent_id)
		cfg->agent_id = strdup(cfg->node_name);
	if (!cfg->events_output)
		cfg->events_output = strdup("stdout");
	if (cfg->collector_url && !cfg->spool_dir)
		cfg->spool_dir = strdup(CONFIG_SPOOL_DIR_DEFAULT);
	if (!cfg->agent_id || !cfg->events_output ||
	    (cfg->collector_url && !cfg->spool_dir))
		return -ENOMEM;
	return 0;
}

static struct vouchd_config *config_new(void)
{
	struct vouchd_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->loss_report_ms = CONFIG_LOSS_MS_DEFAULT;
	cfg->ring_buffer_bytes = CONFIG_RINGBUF_KB_DEFAULT * 1024;
	cfg->spool_max_bytes = (uint64_t)CONFIG_SPOOL_MB_DEFAULT << 20;
	k8s__config_init(&cfg->k8s);
	cfg->metrics_listen = strdup(METRICS_DEFAULT_LISTEN);
	cfg->pin = 1;
	cfg->pin_dir = strdup(CONFIG_PIN_DIR_DEFAULT);
	if (!cfg->metrics_listen || !cfg->pin_dir) {
		config__free(cfg);
		return NULL;
	}
	return cfg;
}

struct vouchd_config *config__load(const char *path, struct diags *diags)
{
	size_t errors = diags->errors, first = diags->n;
	struct cfg_loader ld = { .diags = diags };
	struct ydoc *doc;

	doc = ytree__load_file(path, diags);
	if (!doc)
		return NULL;
	ld.doc = doc;
	ld.cfg = config_new();
	ld.dir = fspath__dir_of(path);
	if (!ld.cfg || !ld.dir)
		err(&ld, NULL, "out of memory");
	else
		parse_top(&ld, doc->root);
	if (ld.cfg && diags->errors == errors && fill_defaults(ld.cfg))
		err(&ld, NULL, "out of memory");

	free(ld.dir);
	ytree__free(doc);
	diags__sort(diags, first);
	if (diags->errors == errors)
		return ld.cfg;
	config__free(ld.cfg);
	return NULL;
}

void config__free(struct vouchd_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->rules_path);
	free(cfg->node_name);
	free(cfg->agent_id);
	free(cfg->events_output);
	free(cfg->collector_url);
	free(cfg->collector_ca);
	free(cfg->collector_cert);
	free(cfg->collector_key);
	free(cfg->spool_dir);
	free(cfg->deploy_dir);
	k8s__config_free(&cfg->k8s);
	for (size_t i = 0; cfg->oci_locations && cfg->oci_locations[i]; i++)
		free(cfg->oci_locations[i]);
	free(cfg->oci_locations);
	free(cfg->metrics_listen);
	free(cfg->pin_dir);
	free(cfg);
}
