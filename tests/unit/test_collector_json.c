// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for tools/collector/collector_json.c: the JSON form of a
 * stored event, read back with jansson.
 */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <jansson.h>

#include "collector_json.h"

static Vouch__V1__Event ev;
static Vouch__V1__Process proc;
static Vouch__V1__Workload work;
static Vouch__V1__Network net;
static Vouch__V1__Policy pol;
static Vouch__V1__Loss loss;
static json_t *doc;

static char *argv_in[] = { "/usr/bin/curl", "-s" };
static char *flags_in[] = { "deleted" };

static void setup(void)
{
	doc = NULL;
	vouch__v1__event__init(&ev);
	ev.agent_id = "agent-1";
	ev.node = "node-a";
	ev.seq = 42;
	ev.time = "2026-01-01T00:00:00.123456789Z";
	ev.kind = "exec";
	ev.verdict = "deny";
	ev.action = "killed";
	ev.mode = "enforce";
	ev.rule = "web/exec";
	ev.reason = "not on the allow-list";
}

static void teardown(void)
{
	json_decref(doc);
}

TestSuite(cjson, .init = setup, .fini = teardown, .timeout = 10);

static json_t *round_trip(int64_t id)
{
	json_error_t error;
	size_t len;
	char *line = collector_json__line(&ev, id, &len);

	cr_assert_not_null(line);
	cr_assert_eq(strlen(line), len);
	cr_assert_eq(line[len - 1], '\n');
	cr_assert_null(memchr(line, '\n', len - 1), "one line: %s", line);
	doc = json_loads(line, 0, &error);
	cr_assert_not_null(doc, "not JSON (%s): %s", error.text, line);
	free(line);
	return doc;
}

static void assert_str(const json_t *obj, const char *key, const char *want)
{
	const json_t *v = json_object_get(obj, key);

	cr_assert(json_is_string(v), "'%s' is not a string", key);
	cr_assert_str_eq(json_string_value(v), want, "key '%s'", key);
}

static void assert_int(const json_t *obj, const char *key, json_int_t want)
{
	const json_t *v = json_object_get(obj, key);

	cr_assert(json_is_integer(v), "'%s' is not an integer", key);
	cr_assert_eq(json_integer_value(v), want, "key '%s'", key);
}

static void fill_parts(void)
{
	vouch__v1__process__init(&proc);
	proc.pid = 10;
	proc.tid = 11;
	proc.ppid = 1;
	proc.uid = 33;
	proc.gid = 34;
	proc.comm = "curl";
	proc.exe = "/usr/bin/curl";
	proc.dev = (8U << 20) | 1;
	proc.inode = 123456789012ULL;
	proc.n_argv = 2;
	proc.argv = argv_in;
	proc.argv_truncated = 1;
	proc.parent_exe = "/bin/sh";
	proc.n_exe_flags = 1;
	proc.exe_flags = flags_in;
	vouch__v1__workload__init(&work);
	work.kind = "container";
	work.cgroup_id = 9876;
	work.container_id = "abc";
	work.namespace_ = "shop";
	work.image_digest = "sha256:aa";
	work.attested = 1;
	work.deploy_id = "d-7";
	work.systemd_unit = "x.service";
	vouch__v1__network__init(&net);
	net.family = "ipv4";
	net.dest_addr = "10.0.0.1";
	net.dest_port = 443;
	vouch__v1__policy__init(&pol);
	pol.generation = 3;
	pol.bundle_serial = 17;
	pol.key_id = "k1";
	vouch__v1__loss__init(&loss);
	loss.kind = "exec";
	loss.count = 5;
	ev.process = &proc;
	ev.workload = &work;
	ev.network = &net;
	ev.policy = &pol;
	ev.loss = &loss;
}

Test(cjson, top_level_fields_and_row_id)
{
	json_t *j = round_trip(7);

	assert_int(j, "id", 7);
	assert_str(j, "agentId", "agent-1");
	assert_str(j, "node", "node-a");
	assert_int(j, "seq", 42);
	assert_str(j, "time", "2026-01-01T00:00:00.123456789Z");
	assert_str(j, "kind", "exec");
	assert_str(j, "verdict", "deny");
	assert_str(j, "action", "killed");
	assert_str(j, "mode", "enforce");
	assert_str(j, "rule", "web/exec");
	assert_str(j, "reason", "not on the allow-list");
	cr_assert_eq(json_object_size(j), 11);
}

Test(cjson, nested_messages_in_lower_camel_case)
{
	json_t *j, *p, *w, *n;

	fill_parts();
	j = round_trip(1);
	p = json_object_get(j, "process");
	assert_int(p, "pid", 10);
	assert_int(p, "tid", 11);
	assert_int(p, "ppid", 1);
	assert_int(p, "uid", 33);
	assert_int(p, "gid", 34);
	assert_str(p, "comm", "curl");
	assert_int(p, "dev", (8 << 20) | 1);
	assert_int(p, "inode", 123456789012LL);
	cr_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(p, "argv"), 1)), "-s");
	cr_assert(json_is_true(json_object_get(p, "argvTruncated")));
	assert_str(p, "parentExe", "/bin/sh");
	cr_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(p, "exeFlags"), 0)),
			 "deleted");
	w = json_object_get(j, "workload");
	assert_int(w, "cgroupId", 9876);
	assert_str(w, "containerId", "abc");
	assert_str(w, "imageDigest", "sha256:aa");
	assert_str(w, "deployId", "d-7");
	assert_str(w, "systemdUnit", "x.service");
	cr_assert(json_is_true(json_object_get(w, "attested")));
	n = json_object_get(j, "network");
	assert_str(n, "destAddr", "10.0.0.1");
	assert_int(n, "destPort", 443);
	assert_int(json_object_get(j, "policy"), "bundleSerial", 17);
	assert_str(json_object_get(j, "policy"), "keyId", "k1");
	assert_int(json_object_get(j, "loss"), "count", 5);
}

Test(cjson, empty_and_zero_fields_are_omitted)
{
	json_t *j, *p;

	fill_parts();
	ev.reason = "";
	proc.pid = 0;
	proc.n_argv = 0;
	proc.argv_truncated = 0;
	work.attested = 0;
	vouch__v1__network__init(&net);
	j = round_trip(1);
	p = json_object_get(j, "process");
	cr_assert_null(json_object_get(j, "reason"));
	cr_assert_null(json_object_get(p, "pid"));
	cr_assert_null(json_object_get(p, "argv"));
	cr_assert_null(json_object_get(p, "argvTruncated"));
	cr_assert_null(json_object_get(json_object_get(j, "workload"),
				       "attested"));
	/* a present but empty message is {} in proto3 JSON */
	cr_assert_eq(json_object_size(json_object_get(j, "network")), 0);
}

Test(cjson, absent_messages_are_omitted)
{
	json_t *j = round_trip(1);

	cr_assert_null(json_object_get(j, "process"));
	cr_assert_null(json_object_get(j, "workload"));
	cr_assert_null(json_object_get(j, "loss"));
}

Test(cjson, u64_beyond_int64_keeps_its_digits)
{
	json_t *p;

	fill_parts();
	proc.inode = 18446744073709551615ULL;
	p = json_object_get(round_trip(1), "process");
	assert_str(p, "inode", "18446744073709551615");
}

Test(cjson, invalid_utf8_is_repaired_not_dropped)
{
	json_t *p;

	fill_parts();
	argv_in[1] = "a\xff" "b";
	p = json_object_get(round_trip(1), "process");
	argv_in[1] = "-s";
	cr_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(p, "argv"), 1)),
			 "a\xef\xbf\xbd" "b");
}
