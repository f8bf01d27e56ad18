// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/config.c: vouchd's own YAML configuration. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "config.h"

struct expect {
	int line;
	int col;
	const char *msg;
};

static struct diags diags;
static char dir[64];
static char path[128];

static void setup(void)
{
	memset(&diags, 0, sizeof(diags));
	strcpy(dir, "/tmp/vouch-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vouchd.yaml", dir);
}

static void teardown(void)
{
	diags__free(&diags);
	unlink(path);
	rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown, .timeout = 10);

static struct vouchd_config *load_text(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return config__load(path, &diags);
}

static void assert_errors(const struct expect *want, size_t n)
{
	for (size_t i = 0; i < diags.n && i < n; i++) {
		const struct diag *got = &diags.items[i];

		cr_assert_str_eq(got->msg, want[i].msg, "item %zu", i);
		cr_assert_eq(got->line, want[i].line, "item %zu (%s): line %d",
			     i, got->msg, got->line);
		cr_assert_eq(got->col, want[i].col, "item %zu (%s): col %d",
			     i, got->msg, got->col);
	}
	cr_assert_eq(diags.n, n, "got %zu diagnostics, want %zu", diags.n, n);
	cr_assert_eq(diags.errors, n);
}

#define ASSERT_ERRORS(...)						\
	do {								\
		static const struct expect want_[] = { __VA_ARGS__ };	\
		assert_errors(want_, sizeof(want_) / sizeof(want_[0]));	\
	} while (0)

static void assert_joined(const char *got, const char *name)
{
	char want[256];

	snprintf(want, sizeof(want), "%s/%s", dir, name);
	cr_assert_str_eq(got, want);
}

Test(config, full_file_sets_every_field)
{
	struct vouchd_config *cfg = load_text(
		"rules: rules.yaml\n"
		"node_name: node-a\n"
		"agent_id: abc123\n"
		"log:\n  level: debug\n  format: json\n"
		"events:\n  output: out/events.jsonl\n  loss_report_ms: 250\n");

	cr_assert_not_null(cfg);
	cr_assert_eq(diags.n, 0);
	assert_joined(cfg->rules_path, "rules.yaml");
	cr_assert_str_eq(cfg->node_name, "node-a");
	cr_assert_str_eq(cfg->agent_id, "abc123");
	cr_assert_eq(cfg->log_level, LOG_LEVEL_DEBUG);
	cr_assert_eq(cfg->log_format, LOG_FORMAT_JSON);
	assert_joined(cfg->events_output, "out/events.jsonl");
	cr_assert_eq(cfg->loss_report_ms, 250);
	config__free(cfg);
}

static void expected_agent_id(const char *node_name, char *buf, size_t len)
{
	FILE *f = fopen("/etc/machine-id", "r");

	snprintf(buf, len, "%s", node_name);
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0])
		snprintf(buf, len, "%s", node_name);
	fclose(f);
}

Test(config, defaults_fill_what_is_absent)
{
	struct vouchd_config *cfg = load_text("rules: /etc/vouch/rules.yaml\n");
	char host[HOST_NAME_MAX + 1] = "";
	char agent[128];

	cr_assert_not_null(cfg);
	cr_assert_str_eq(cfg->rules_path, "/etc/vouch/rules.yaml");
	gethostname(host, sizeof(host));
	cr_assert_str_eq(cfg->node_name, host);
	expected_agent_id(host, agent, sizeof(agent));
	cr_assert_str_eq(cfg->agent_id, agent);
	cr_assert_eq(cfg->log_level, LOG_LEVEL_INFO);
	cr_assert_eq(cfg->log_format, LOG_FORMAT_TEXT);
	cr_assert_str_eq(cfg->events_output, "stdout");
	cr_assert_eq(cfg->loss_report_ms, 1000);
	config__free(cfg);
}

Test(config, relative_config_path_resolves_from_cwd)
{
	struct vouchd_config *cfg;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs("rules: r.yaml\nevents: {output: stdout}\n", f);
	fclose(f);
	cr_assert_eq(chdir(dir), 0);
	cfg = config__load("vouchd.yaml", &diags);
	cr_assert_not_null(cfg);
	assert_joined(cfg->rules_path, "r.yaml");
	cr_assert_str_eq(cfg->events_output, "stdout");
	config__free(cfg);
}

Test(config, shipped_config_loads_cleanly)
{
	struct vouchd_config *cfg = config__load("packaging/vouchd.yaml",
						 &diags);

	cr_assert_not_null(cfg);
	cr_assert_eq(diags.n, 0);
	cr_assert_str_eq(cfg->rules_path, "/etc/vouch/rules.yaml");
	cr_assert_str_eq(cfg->events_output, "stdout");
	config__free(cfg);
}

Test(config, rules_is_required)
{
	cr_assert_null(load_text("node_name: a\n"));
	ASSERT_ERRORS({ 1, 1, "missing required key 'rules'" });
}

Test(config, unknown_keys_are_reported)
{
	cr_assert_null(load_text("rules: r\nrule: r\nlog:\n  levle: info\n"
				 "events:\n  outptu: x\n"));
	ASSERT_ERRORS(
		{ 2, 1, "unknown key 'rule' in the vouchd config; valid keys: "
			"rules, node_name, agent_id, log, events, collector, "
			"metadata, kubernetes, exec_hook, metrics, bpf" },
		{ 4, 3, "unknown key 'levle' in log; valid keys: level, format" },
		{ 6, 3, "unknown key 'outptu' in events; valid keys: output, "
			"loss_report_ms, ring_buffer_kb, sample_allowed_connects" });
}

Test(config, wrong_types_and_values_are_all_reported)
{
	cr_assert_null(load_text(
		"rules: [a]\n"
		"node_name: has space\n"
		"agent_id: ''\n"
		"log:\n  level: loud\n  format: [json]\n"
		"events: stdout\n"));
	ASSERT_ERRORS(
		{ 1, 8, "expected a string for 'rules', got a list" },
		{ 2, 12, "'node_name' must be 1 to 253 printable characters "
			 "without spaces" },
		{ 3, 11, "'agent_id' must not be empty" },
		{ 5, 10, "unknown log level 'loud'; expected error|warn|info|debug" },
		{ 6, 11, "expected a string for 'format', got a list" },
		{ 7, 9, "expected a mapping with 'output', got a string" });
}

Test(config, log_must_be_a_mapping_and_format_known)
{
	cr_assert_null(load_text("rules: r\nlog: debug\n"));
	ASSERT_ERRORS({ 2, 6, "expected a mapping with 'level' and 'format', "
			      "got a string" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\nlog: {format: xml}\n"));
	ASSERT_ERRORS({ 2, 15, "unknown log format 'xml'; expected text or json" });
}

Test(config, loss_report_ms_is_a_bounded_number)
{
	cr_assert_null(load_text("rules: r\nevents:\n  loss_report_ms: '100'\n"));
	ASSERT_ERRORS({ 3, 19, "expected a number (10..60000) for "
			       "'loss_report_ms'" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\nevents:\n  loss_report_ms: 9\n"));
	ASSERT_ERRORS({ 3, 19, "'loss_report_ms' is 9; it must be between 10 "
			       "and 60000" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\nevents:\n"
				 "  loss_report_ms: 99999999999999999999999\n"));
	ASSERT_ERRORS({ 3, 19, "'loss_report_ms' is 99999999999999999999999; "
			       "it must be between 10 and 60000" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\nevents:\n  loss_report_ms: -5\n"));
	ASSERT_ERRORS({ 3, 19, "expected a number (10..60000) for "
			       "'loss_report_ms'" });
}

Test(config, loss_report_ms_limits_are_inclusive)
{
	struct vouchd_config *cfg;

	cfg = load_text("rules: r\nevents:\n  loss_report_ms: 60000\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->loss_report_ms, 60000);
	config__free(cfg);
	cfg = load_text("rules: r\nevents:\n  loss_report_ms: 10\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->loss_report_ms, 10);
	config__free(cfg);
}

Test(config, duplicate_key_is_refused)
{
	cr_assert_null(load_text("rules: a\nrules: b\n"));
	ASSERT_ERRORS({ 2, 1, "duplicate key 'rules' (first at line 1)" });
}

Test(config, empty_file_and_list_are_refused)
{
	cr_assert_null(load_text(""));
	ASSERT_ERRORS({ 0, 0, "the file is empty; it needs at least "
			      "'rules: FILE'" });
	diags__free(&diags);
	cr_assert_null(load_text("- rules: r\n"));
	ASSERT_ERRORS({ 1, 1, "expected a mapping at the top level, "
			      "got a list" });
}

Test(config, missing_file_is_an_error)
{
	cr_assert_null(config__load("/nonexistent/vouchd.yaml", &diags));
	ASSERT_ERRORS({ 0, 0, "failed to open: No such file or directory" });
}

Test(config, free_accepts_null)
{
	config__free(NULL);
}

Test(config, ring_buffer_kb_is_a_power_of_two_in_range)
{
	struct vouchd_config *cfg;

	cfg = load_text("rules: r\nevents:\n  ring_buffer_kb: 64\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->ring_buffer_bytes, 64 * 1024);
	config__free(cfg);
	cr_assert_null(load_text("rules: r\nevents:\n  ring_buffer_kb: 100\n"));
	ASSERT_ERRORS({ 3, 19, "'ring_buffer_kb' is 100; it must be a power "
			       "of two" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\nevents:\n  ring_buffer_kb: 8\n"));
	ASSERT_ERRORS({ 3, 19, "'ring_buffer_kb' is 8; it must be between 16 "
			       "and 1048576" });
}

Test(config, ring_buffer_defaults_to_8_mib)
{
	struct vouchd_config *cfg = load_text("rules: r\n");

	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->ring_buffer_bytes, 8192 * 1024);
	config__free(cfg);
}

Test(config, exec_hook_is_auto_unless_set)
{
	struct vouchd_config *cfg = load_text("rules: r\n");

	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->exec_hook, CONFIG_EXEC_HOOK_AUTO);
	config__free(cfg);
	cfg = load_text("rules: r\nexec_hook: tracepoint\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->exec_hook, CONFIG_EXEC_HOOK_TRACEPOINT);
	config__free(cfg);
	cfg = load_text("rules: r\nexec_hook: lsm\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->exec_hook, CONFIG_EXEC_HOOK_LSM);
	config__free(cfg);
}

Test(config, exec_hook_must_be_known)
{
	cr_assert_null(load_text("rules: r\nexec_hook: kprobe\n"));
	ASSERT_ERRORS({ 2, 12, "unknown exec_hook 'kprobe'; expected auto, "
			       "lsm or tracepoint" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\nexec_hook: [lsm]\n"));
	ASSERT_ERRORS({ 2, 12, "expected a string for 'exec_hook', got a list" });
}

Test(config, a_null_rules_path_is_refused)
{
	cr_assert_null(load_text("rules: ~\n"));
	ASSERT_ERRORS({ 1, 8, "expected a string for 'rules', got null" });
}

Test(config, collector_settings_are_read_and_paths_made_absolute)
{
	struct vouchd_config *cfg = load_text(
		"rules: r\n"
		"collector:\n"
		"  url: https://collector.example:8443\n"
		"  ca_file: tls/ca.pem\n"
		"  client_cert: /etc/vouch/agent.pem\n"
		"  client_key: /etc/vouch/agent.key\n"
		"  spool_max_mb: 64\n");

	cr_assert_not_null(cfg);
	cr_assert_str_eq(cfg->collector_url, "https://collector.example:8443");
	cr_assert_eq(cfg->collector_ca[0], '/');
	cr_assert(strstr(cfg->collector_ca, "/tls/ca.pem") != NULL);
	cr_assert_str_eq(cfg->collector_cert, "/etc/vouch/agent.pem");
	cr_assert_str_eq(cfg->spool_dir, "/var/lib/vouch/spool");
	cr_assert_eq(cfg->spool_max_bytes, 64ULL << 20);
	config__free(cfg);
}

Test(config, collector_needs_an_http_url)
{
	cr_assert_null(load_text("rules: r\ncollector:\n  url: ftp://x\n"));
	ASSERT_ERRORS({ 3, 8, "'url' must start with http:// or https:// and "
			      "be at most 2048 bytes" });
	diags__free(&diags);
	cr_assert_null(load_text("rules: r\ncollector:\n  spool_max_mb: 1\n"));
	ASSERT_ERRORS({ 3, 3, "missing required key 'url'" });
}

Test(config, no_collector_means_no_spool)
{
	struct vouchd_config *cfg = load_text("rules: r\n");

	cr_assert_not_null(cfg);
	cr_assert_null(cfg->collector_url);
	cr_assert_null(cfg->spool_dir);
	config__free(cfg);
}

Test(config, connect_sampling_is_off_unless_asked)
{
	struct vouchd_config *cfg = load_text("rules: r\n");

	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->sample_allowed_connects, 0);
	config__free(cfg);
	cfg = load_text("rules: r\nevents:\n  sample_allowed_connects: 1000\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->sample_allowed_connects, 1000);
	config__free(cfg);
	cr_assert_null(load_text("rules: r\nevents:\n  sample_allowed_connects: -1\n"));
}

Test(config, metrics_and_pinning_default_to_on)
{
	struct vouchd_config *cfg = load_text("rules: r.yaml\n");

	cr_assert_not_null(cfg);
	cr_assert_str_eq(cfg->metrics_listen, "127.0.0.1:9470");
	cr_assert_eq(cfg->pin, 1);
	cr_assert_str_eq(cfg->pin_dir, "/sys/fs/bpf/vouch");
	config__free(cfg);
}

Test(config, metrics_and_pinning_are_read)
{
	struct vouchd_config *cfg = load_text(
		"rules: r.yaml\n"
		"metrics:\n  listen: \"[::1]:9999\"\n"
		"bpf:\n  pin: false\n  pin_dir: /sys/fs/bpf/other\n");

	cr_assert_not_null(cfg);
	cr_assert_str_eq(cfg->metrics_listen, "[::1]:9999");
	cr_assert_eq(cfg->pin, 0);
	cr_assert_str_eq(cfg->pin_dir, "/sys/fs/bpf/other");
	config__free(cfg);
}

Test(config, metrics_off_means_no_endpoint)
{
	struct vouchd_config *cfg = load_text(
		"rules: r.yaml\nmetrics:\n  listen: off\n");

	cr_assert_not_null(cfg);
	cr_assert_null(cfg->metrics_listen);
	config__free(cfg);
}

Test(config, bad_metrics_and_bpf_values_are_all_reported)
{
	struct vouchd_config *cfg = load_text(
		"rules: r.yaml\n"
		"metrics:\n  listen: localhost:80\n  port: 1\n"
		"bpf:\n  pin: \"yes\"\n");

	cr_assert_null(cfg);
	ASSERT_ERRORS(
		{ 3, 11, "'listen' must be off, IPV4:PORT or [IPV6]:PORT with a numeric address, got 'localhost:80'" },
		{ 4, 3, "unknown key 'port' in metrics; valid keys: listen" },
		{ 6, 8, "expected true or false for 'pin', got a string" });
}
