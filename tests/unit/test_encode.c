// SPDX-License-Identifier: GPL-2.0-only
/* encode__event: every field survives a pack and an unpack. */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "encode.h"
#include "vouch.pb-c.h"
#include "vouch_abi.h"

static struct event sample(void)
{
	struct event ev = {
		.agent_id = "agent-1", .node = "node-a", .seq = 42,
		.time_ns = 1764779390496462312LL, .kind = "exec",
		.verdict = "deny", .action = "killed", .mode = "enforce",
		.rule = "e2e/exec.allow", .reason = "not on the allow-list",
		.has_process = 1, .policy_gen = 7,
	};

	ev.process.pid = 100;
	ev.process.tid = 101;
	ev.process.ppid = 99;
	ev.process.uid = 1000;
	ev.process.gid = 1001;
	strcpy(ev.process.comm, "bad");
	ev.process.exe = "/tmp/bad";
	ev.process.dev = 259 << 20 | 1;
	ev.process.ino = 123456789012ULL;
	ev.process.argv[0] = "/tmp/bad";
	ev.process.argv[1] = "--flag";
	ev.process.argc = 2;
	ev.process.argv_truncated = 1;
	ev.process.parent_exe = "/usr/bin/bash";
	ev.process.exe_flags = VOUCH_EXE_DELETED | VOUCH_EXE_VIA_SCRIPT;
	ev.workload.kind = "cgroup";
	ev.workload.cgroup_id = 4242;
	ev.workload.cgroup_path = "/system.slice/x.service";
	ev.workload.scope = "e2e";
	return ev;
}

static Vouch__V1__Event *roundtrip(const struct event *ev)
{
	size_t len = 0;
	uint8_t *buf = encode__event(ev, &len);
	Vouch__V1__Event *m;

	cr_assert_not_null(buf);
	m = vouch__v1__event__unpack(NULL, len, buf);
	free(buf);
	cr_assert_not_null(m);
	return m;
}

Test(encode, every_field_survives_a_roundtrip)
{
	struct event ev = sample();
	Vouch__V1__Event *m = roundtrip(&ev);

	cr_assert_str_eq(m->agent_id, "agent-1");
	cr_assert_str_eq(m->node, "node-a");
	cr_assert_eq(m->seq, 42);
	cr_assert_str_eq(m->time, "2025-12-03T16:29:50.496462312Z");
	cr_assert_str_eq(m->kind, "exec");
	cr_assert_str_eq(m->verdict, "deny");
	cr_assert_str_eq(m->action, "killed");
	cr_assert_str_eq(m->mode, "enforce");
	cr_assert_str_eq(m->rule, "e2e/exec.allow");
	cr_assert_str_eq(m->reason, "not on the allow-list");
	cr_assert_eq(m->process->pid, 100);
	cr_assert_eq(m->process->tid, 101);
	cr_assert_eq(m->process->ppid, 99);
	cr_assert_eq(m->process->uid, 1000);
	cr_assert_eq(m->process->gid, 1001);
	cr_assert_str_eq(m->process->comm, "bad");
	cr_assert_str_eq(m->process->exe, "/tmp/bad");
	cr_assert_eq(m->process->dev, (259 << 20) | 1);
	cr_assert_eq(m->process->inode, 123456789012ULL);
	cr_assert_eq(m->process->n_argv, 2);
	cr_assert_str_eq(m->process->argv[1], "--flag");
	cr_assert(m->process->argv_truncated);
	cr_assert_str_eq(m->process->parent_exe, "/usr/bin/bash");
	cr_assert_eq(m->process->n_exe_flags, 2);
	cr_assert_str_eq(m->process->exe_flags[0], "deleted");
	cr_assert_str_eq(m->process->exe_flags[1], "script-interpreter");
	cr_assert_str_eq(m->workload->kind, "cgroup");
	cr_assert_eq(m->workload->cgroup_id, 4242);
	cr_assert_str_eq(m->workload->cgroup_path, "/system.slice/x.service");
	cr_assert_str_eq(m->workload->scope, "e2e");
	cr_assert_eq(m->policy->generation, 7);
	cr_assert_null(m->loss);
	vouch__v1__event__free_unpacked(m, NULL);
}

Test(encode, a_loss_event_has_no_process)
{
	struct event ev = {
		.agent_id = "a", .seq = 3, .kind = "loss",
		.loss_kind = "exec", .loss_count = 1942,
	};
	Vouch__V1__Event *m = roundtrip(&ev);

	cr_assert_null(m->process);
	cr_assert_null(m->workload);
	cr_assert_str_eq(m->loss->kind, "exec");
	cr_assert_eq(m->loss->count, 1942);
	vouch__v1__event__free_unpacked(m, NULL);
}

Test(encode, bytes_that_are_not_utf8_are_repaired)
{
	struct event ev = sample();
	Vouch__V1__Event *m;

	ev.process.exe = "/tmp/\xff";
	ev.process.argv[0] = "x\xc3";
	m = roundtrip(&ev);
	cr_assert_str_eq(m->process->exe, "/tmp/\xef\xbf\xbd");
	cr_assert_str_eq(m->process->argv[0], "x\xef\xbf\xbd");
	vouch__v1__event__free_unpacked(m, NULL);
}
