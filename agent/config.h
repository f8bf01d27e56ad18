/* SPDX-License-Identifier: GPL-2.0-only */
/* vouchd's own configuration file (YAML), documented in docs/CONFIG.md. */
#ifndef VOUCH_CONFIG_H
#define VOUCH_CONFIG_H

#include <stdint.h>
#include "diag.h"
#include "log.h"
#include "k8s.h"

/* Which program judges exec; see docs/CONFIG.md. */
enum config_exec_hook {
	CONFIG_EXEC_HOOK_AUTO = 0,	/* BPF LSM where it loads, else tracepoint */
	CONFIG_EXEC_HOOK_LSM = 1,	/* BPF LSM or refuse to start */
	CONFIG_EXEC_HOOK_TRACEPOINT = 2,
};

struct vouchd_config {
	char *rules_path;	/* required */
	char *node_name;	/* default: the host name */
	char *agent_id;		/* default: /etc/machine-id, else node_name */
	enum log_level log_level;	/* default info */
	enum log_format log_format;	/* default text */
	char *events_output;	/* "stdout" (default) or a file path */
	int loss_report_ms;	/* how often loss counters are checked */
	unsigned int ring_buffer_bytes;	/* kernel to vouchd, power of two */
	uint64_t sample_allowed_connects;	/* 0: off; else 1 in N */
	enum config_exec_hook exec_hook;	/* default auto */
	/* shipping to vouch-collector: off while collector_url is NULL */
	char *collector_url;
	char *collector_ca;	/* CA bundle for https; NULL: the system's */
	char *collector_cert;	/* client certificate (PEM), optional */
	char *collector_key;
	char *spool_dir;	/* default /var/lib/vouch/spool */
	uint64_t spool_max_bytes;	/* default 256 MiB */
	/* where workload metadata comes from */
	char *deploy_dir;	/* per systemd unit; default /etc/vouch/deploy */
	char **oci_locations;	/* NULL-terminated; NULL: the built-in list */
	struct k8s_config k8s;	/* pods on this node, when enabled */
	char *metrics_listen;	/* "ADDR:PORT"; NULL: no endpoint */
	int pin;		/* keep programs pinned across restarts */
	char *pin_dir;		/* bpffs directory, default /sys/fs/bpf/vouch */
};

#define CONFIG_OCI_LOCATIONS_MAX	16
#define CONFIG_DEPLOY_DIR_DEFAULT	"/etc/vouch/deploy"

/* Relative paths in the file are taken relative to the file's directory. */
struct vouchd_config *config__load(const char *path, struct diags *diags);
void config__free(struct vouchd_config *cfg);

#endif /* VOUCH_CONFIG_H */
