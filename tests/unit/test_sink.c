// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for agent/sink.c: the JSON form of events, read back with
 * jansson, and where sinks write it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <jansson.h>

#include "vouch_abi.h"
#include "sink.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

static char dir[64];
static char out_path[128];
static char stdout_path[128];
static json_t *doc;

static void setup(void)
{
	doc = NULL;
	strcpy(dir, "/tmp/vouch-test-sink-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out_path, sizeof(out_path), "%s/events.jsonl", dir);
	snprintf(stdout_path, sizeof(stdout_path), "%s/stdout", dir);
}

static void teardown(void)
{
	json_decref(doc);
	unlink(out_path);
	unlink(stdout_path);
	rmdir(dir);
}

TestSuite(sink, .init = setup, .fini = teardown, .timeout = 10);

static const char *const exec_argv[] = { "/usr/bin/curl", "-s", "x.test" };

static struct event exec_event(void)
{
	struct event ev = {
		.agent_id = "agent-1",
		.node = "node-a",
		.seq = 42,
		.time_ns = 1767225600123456789LL,
		.kind = "exec",
		.verdict = "deny",
		.action = "killed",
		.mode = "enforce",
		.rule = "web/exec.allow",
		.reason = "executable /usr/bin/curl is not on the allow-list",
		.has_process = 1,
		.process = {
			.pid = 1001, .tid = 1002, .ppid = 1000,
			.uid = 33, .gid = 34,
			.comm = "curl",
			.exe = "/usr/bin/curl",
			.dev = (8U << 20) | 1, .ino = 123456789012ULL,
			.argc = 3, .argv_truncated = 1,
			.parent_exe = "/bin/bash",
			.exe_flags = VOUCH_EXE_ANONYMOUS | VOUCH_EXE_DELETED |
				     VOUCH_EXE_TRUNCATED | VOUCH_EXE_VIA_SCRIPT,
		},
		.workload = {
			.kind = "cgroup",
			.cgroup_id = 9876,
			.cgroup_path = "/web/app",
			.scope = "web",
		},
		.policy_gen = 7,
	};

	for (size_t i = 0; i < ev.process.argc; i++)
		ev.process.argv[i] = exec_argv[i];
	return ev;
}

/* Formats ev and parses it back; the result is freed in teardown. */
static json_t *round_trip(const struct event *ev)
{
	json_error_t error;
	char *text = sink__format_json(ev);

	cr_assert_not_null(text);
	cr_assert_null(strchr(text, '\n'), "one line: %s", text);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		cr_assert_lt(*c, 0x80, "non-ASCII byte in %s", text);
	json_decref(doc);
	doc = json_loads(text, 0, &error);
	cr_assert_not_null(doc, "not JSON (%s): %s", error.text, text);
	cr_assert(json_is_object(doc));
	free(text);
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
	cr_assert_eq(json_integer_value(v), want, "key '%s': %lld", key,
		     (long long)json_integer_value(v));
}

static void assert_strings(const json_t *arr, const char *const *want,
			   size_t n)
{
	cr_assert(json_is_array(arr));
	cr_assert_eq(json_array_size(arr), n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(json_string_value(json_array_get(arr, i)),
				 want[i], "item %zu", i);
}

Test(sink, exec_event_has_every_top_level_field)
{
	struct event ev = exec_event();
	json_t *j = round_trip(&ev);

	assert_str(j, "agentId", "agent-1");
	assert_str(j, "node", "node-a");
	assert_int(j, "seq", 42);
	assert_str(j, "time", "2026-01-01T00:00:00.123456789Z");
	assert_str(j, "kind", "exec");
	assert_str(j, "verdict", "deny");
	assert_str(j, "action", "killed");
	assert_str(j, "mode", "enforce");
	assert_str(j, "rule", "web/exec.allow");
	assert_str(j, "reason",
		   "executable /usr/bin/curl is not on the allow-list");
	assert_int(json_object_get(j, "policy"), "generation", 7);
	cr_assert_null(json_object_get(j, "loss"));
	cr_assert_eq(json_object_size(j), 13);
}

Test(sink, exec_event_process_and_workload)
{
	static const char *const flags[] = {
		"anonymous", "deleted", "truncated", "script-interpreter",
	};
	struct event ev = exec_event();
	json_t *proc = json_object_get(round_trip(&ev), "process");
	json_t *wl = json_object_get(doc, "workload");

	cr_assert(json_is_object(proc));
	assert_int(proc, "pid", 1001);
	assert_int(proc, "tid", 1002);
	assert_int(proc, "ppid", 1000);
	assert_int(proc, "uid", 33);
	assert_int(proc, "gid", 34);
	assert_str(proc, "comm", "curl");
	assert_str(proc, "exe", "/usr/bin/curl");
	assert_int(proc, "dev", (8 << 20) | 1);
	assert_int(proc, "inode", 123456789012LL);
	assert_strings(json_object_get(proc, "argv"), exec_argv, 3);
	cr_assert(json_is_true(json_object_get(proc, "argvTruncated")));
	assert_str(proc, "parentExe", "/bin/bash");
	assert_strings(json_object_get(proc, "exeFlags"), flags, 4);

	cr_assert(json_is_object(wl));
	assert_str(wl, "kind", "cgroup");
	assert_int(wl, "cgroupId", 9876);
	assert_str(wl, "cgroupPath", "/web/app");
	assert_str(wl, "scope", "web");
}

Test(sink, absent_optional_fields_are_left_out)
{
	struct event ev = exec_event();
	json_t *proc;

	ev.process.argv_truncated = 0;
	ev.process.parent_exe = NULL;
	ev.process.exe_flags = 0;
	ev.workload.cgroup_path = NULL;
	ev.rule = NULL;
	proc = json_object_get(round_trip(&ev), "process");
	cr_assert_null(json_object_get(doc, "rule"));
	cr_assert_null(json_object_get(proc, "argvTruncated"));
	cr_assert_null(json_object_get(proc, "parentExe"));
	cr_assert_eq(json_array_size(json_object_get(proc, "exeFlags")), 0);
	cr_assert_null(json_object_get(json_object_get(doc, "workload"),
				       "cgroupPath"));
}

Test(sink, loss_event_has_kind_and_count_only)
{
	struct event ev = {
		.agent_id = "agent-1",
		.node = "node-a",
		.seq = 9,
		.time_ns = 1000000000LL,
		.kind = "loss",
		.reason = "the kernel ring buffer was full",
		.loss_kind = "exec",
		.loss_count = 5000000000ULL,
	};
	json_t *j = round_trip(&ev);
	json_t *loss = json_object_get(j, "loss");

	assert_str(j, "kind", "loss");
	assert_int(j, "seq", 9);
	assert_str(j, "time", "1970-01-01T00:00:01.000000000Z");
	assert_str(j, "reason", "the kernel ring buffer was full");
	cr_assert(json_is_object(loss));
	assert_str(loss, "kind", "exec");
	assert_int(loss, "count", 5000000000LL);
	cr_assert_eq(json_object_size(loss), 2);
	cr_assert_null(json_object_get(j, "process"));
	cr_assert_null(json_object_get(j, "workload"));
	cr_assert_null(json_object_get(j, "policy"));
	cr_assert_null(json_object_get(j, "verdict"));
}

Test(sink, invalid_utf8_becomes_replacement_characters)
{
	static const char *const bad_argv[] = {
		"\xff",			/* never valid */
		"ok\xc3",		/* cut short by the NUL */
		"caf\xc3\xa9",		/* valid, kept */
		"\xed\xa0\x80",		/* a surrogate */
	};
	static const char *const want_argv[] = {
		REPLACEMENT,
		"ok" REPLACEMENT,
		"caf\xc3\xa9",
		REPLACEMENT REPLACEMENT REPLACEMENT,
	};
	struct event ev = exec_event();
	json_t *proc;

	ev.process.argc = 4;
	for (size_t i = 0; i < 4; i++)
		ev.process.argv[i] = bad_argv[i];
	/* an overlong encoding of '/' */
	ev.process.exe = "/bin/\xe0\x80\xafx";
	strcpy(ev.process.comm, "a\x80z");
	proc = json_object_get(round_trip(&ev), "process");
	assert_strings(json_object_get(proc, "argv"), want_argv, 4);
	assert_str(proc, "exe", "/bin/" REPLACEMENT REPLACEMENT REPLACEMENT "x");
	assert_str(proc, "comm", "a" REPLACEMENT "z");
}

static size_t read_lines(const char *path, char lines[][1024], size_t max)
{
	FILE *f = fopen(path, "re");
	size_t n = 0;

	cr_assert_not_null(f, "open %s: %m", path);
	while (n < max && fgets(lines[n], sizeof(lines[n]), f))
		n++;
	fclose(f);
	return n;
}

static void assert_seq_line(const char *line, json_int_t seq)
{
	json_t *j = json_loads(line, 0, NULL);

	cr_assert_not_null(j, "not JSON: %s", line);
	assert_int(j, "seq", seq);
	json_decref(j);
}

static void write_events(const char *where, uint64_t first, int n)
{
	struct sink *s = sink__open(where);
	struct event ev = exec_event();

	cr_assert_not_null(s, "open %s: %m", where);
	for (int i = 0; i < n; i++) {
		ev.seq = first + (uint64_t)i;
		cr_assert_eq(sink__write(s, &ev), 0);
	}
	cr_assert_eq(sink__flush(s), 0);
	sink__close(s);
}

Test(sink, file_sink_appends_one_line_per_event)
{
	char lines[8][1024];
	FILE *f = fopen(out_path, "w");

	cr_assert_not_null(f);
	fputs("earlier\n", f);
	fclose(f);
	write_events(out_path, 1, 2);
	write_events(out_path, 3, 1);

	cr_assert_eq(read_lines(out_path, lines, 8), 4);
	cr_assert_str_eq(lines[0], "earlier\n");
	for (int i = 1; i < 4; i++) {
		cr_assert_eq(lines[i][strlen(lines[i]) - 1], '\n');
		assert_seq_line(lines[i], i);
	}
}

Test(sink, stdout_sink_writes_to_standard_output)
{
	char lines[4][1024];
	int saved = dup(STDOUT_FILENO);
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(saved, 0);
	cr_assert_geq(fd, 0);
	fflush(stdout);
	cr_assert_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	/* from inside dir, a sink that took "stdout" for a path would show */
	cr_assert_eq(chdir(dir), 0);
	write_events("stdout", 5, 2);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	cr_assert_eq(access(stdout_path, F_OK), -1, "a file named stdout");
	cr_assert_eq(read_lines(out_path, lines, 4), 2);
	assert_seq_line(lines[0], 5);
	assert_seq_line(lines[1], 6);
}

Test(sink, open_fails_with_errno_for_a_bad_path)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/missing/events.jsonl", dir);
	errno = 0;
	cr_assert_null(sink__open(path));
	cr_assert_eq(errno, ENOENT);
	sink__close(NULL);
}
