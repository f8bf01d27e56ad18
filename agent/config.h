/* SPDX-License-Identifier: GPL-2.0-only */
/* vouchd's own configuration file (YAML), documented in docs/CONFIG.md. */
#ifndef VOUCH_CONFIG_H
#define VOUCH_CONFIG_H

#include <stdint.h>
#include "diag.h"
#include "log.h"

struct vouchd_config {
	char *rules_path;	/* required */
	char *node_name;	/* default: the host name */
	char *agent_id;		/* default: /etc/machine-id, else node_name */
	enum log_level log_level;	/* default info */
	enum log_format log_format;	/* default text */
	char *events_output;	/* "stdout" (default) or a file path */
	int loss_report_ms;	/* how often loss counters are checked */
	unsigned int ring_buffer_bytes;	/* kernel to vouchd, power of two */
	/* shipping to vouch-collector: off while collector_url is NULL */
	char *collector_url;
	char *collector_ca;	/* CA bundle for https; NULL: the system's */
	char *collector_cert;	/* client certificate (PEM), optional */
	char *collector_key;
	char *spool_dir;	/* default /var/lib/vouch/spool */
	uint64_t spool_max_bytes;	/* default 256 MiB */
	char *metrics_listen;	/* "ADDR:PORT"; NULL: no endpoint */
	int pin;		/* keep programs pinned across restarts */
	char *pin_dir;		/* bpffs directory, default /sys/fs/bpf/vouch */
};

/* Relative paths in the file are taken relative to the file's directory. */
struct vouchd_config *config__load(const char *path, struct diags *diags);
void config__free(struct vouchd_config *cfg);

#endif /* VOUCH_CONFIG_H */
