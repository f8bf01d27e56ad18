#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The exec path vouchd picks at start: the BPF LSM program where the kernel
# runs BPF LSM programs (a denied exec fails with EPERM in its caller, and
# nothing of the file runs), else the exec tracepoint (SIGKILL). Both
# report the same events; the action says which happened.
#
# VOUCH_EXPECT_EXEC_HOOK=lsm|tracepoint says which path this kernel must
# get; `make vmtest` sets lsm. Unset, a kernel that does not list bpf among
# its LSMs must get the tracepoint.
. "$(dirname "$0")/lib.sh"

VOUCH_EXEC_HOOK=auto
expect=${VOUCH_EXPECT_EXEC_HOOK:-}
if [ -z "$expect" ] && ! grep -qw bpf /sys/kernel/security/lsm 2> /dev/null; then
	expect=tracepoint
fi

make_binaries
write_rules enforce
write_config
start_vouchd || exit 1

hook=$(sed -n 's|.*kernel: exec judged in \([a-z_]*\)/.*|\1|p' "$W/vouchd.log")
case $hook in
lsm) hook=lsm ;;
tp_btf) hook=tracepoint ;;
esac
echo "exec path: ${hook:-none}"
check "vouchd logs the one exec path it chose" [ "$(grep -c 'kernel: exec judged in' "$W/vouchd.log")" = 1 ]
[ -z "$expect" ] || check "the exec path is $expect on $(uname -r)" [ "$hook" = "$expect" ]

run() {
	local label=$1
	shift
	in_cg "$T" run "$@" > "$W/out.$label" 2>&1
}
refused() { grep -q "failed to exec .*: Operation not permitted" "$W/out.$1" && grep -qx "exit 127" "$W/out.$1"; }
no_marker() { [ ! -e "$W/m-$1" ]; }
event() { wait_for 5 "$1"; }

if [ "$hook" = tracepoint ]; then
	echo "tracepoint path: a denied exec is killed, and said to be"
	run denied "$W/denied/bad" marker "$W/m-denied"
	check "the denied exec is killed" grep -qx "signal 9" "$W/out.denied"
	check "nothing of it ran" no_marker denied
	check "event: action killed" event '.kind == "exec" and .process.exe == "'$W'/denied/bad" and .action == "killed"'
	finish
	exit
fi

echo "lsm path: a denied exec fails with EPERM in its caller"
run denied "$W/denied/bad" marker "$W/m-denied" arg2
check "execve fails with EPERM in the caller" refused denied
check "nothing of the binary ran (no marker)" no_marker denied
F='.kind == "exec" and .process.exe == "'$W'/denied/bad" and .action == "refused"'
check "event: exec refused" event "$F"
ev=$(jq -c "select($F)" "$W/events.jsonl" | head -1)
field() { jq -r "$1" <<< "$ev"; }
check "event: verdict deny, mode enforce" [ "$(field '.verdict + "/" + .mode')" = deny/enforce ]
check "event: argv as the caller asked" [ "$(field '.process.argv | join(" ")')" = "$W/denied/bad marker $W/m-denied arg2" ]
check "event: comm is the new image's name" [ "$(field .process.comm)" = bad ]
check "event: parent exe is the trigger" [ "$(field .process.parentExe)" = "$T" ]
check "event: rule names the deny entry" [ "$(field .rule)" = "e2e/exec.deny:$W/denied/bad" ]
check "event: cgroup path" [ "$(field .workload.cgroupPath)" = "/$CGNAME" ]

echo "lsm path: scripts and interpreters"
cp /bin/sh "$W/denied/interp"
printf '#!/bin/sh\n%s marker %s\n' "$T" "$W/m-script" > "$W/denied/script.sh"
printf '#!%s\n%s marker %s\n' "$W/denied/interp" "$T" "$W/m-interp" > "$W/allowed/via-interp.sh"
printf '#!/bin/sh\n%s marker %s\n' "$T" "$W/m-ok" > "$W/allowed/ok.sh"
chmod +x "$W/denied/script.sh" "$W/allowed/via-interp.sh" "$W/allowed/ok.sh"
run script "$W/denied/script.sh"
check "a denied script is refused" refused script
check "script: nothing of it ran" no_marker script
check "script: judged as itself" event '.kind == "script" and .process.exe == "'$W'/denied/script.sh" and .action == "refused"'
run interp "$W/allowed/via-interp.sh"
check "an allowed script with a denied interpreter is refused" refused interp
check "interpreter: nothing ran" no_marker interp
check "interpreter: judged as the script's interpreter" event '.kind == "exec" and .process.exe == "'$W'/denied/interp" and (.process.exeFlags | index("script-interpreter")) != null and .action == "refused"'
run ok "$W/allowed/ok.sh"
check "an allowed script runs" grep -qx "exit 0" "$W/out.ok"
check "allowed script: its marker is written" [ -e "$W/m-ok" ]

echo "lsm path: the file that really runs"
in_cg "$T" run-memfd "$T" marker "$W/m-memfd" > "$W/out.memfd" 2>&1
check "memfd exec is refused" refused memfd
check "memfd: reported as anonymous" event '(.process.exeFlags | index("anonymous")) != null and .action == "refused"'
in_cg "$T" run-execveat "$W/denied/bad" marker "$W/m-execveat" > "$W/out.execveat" 2>&1
check "execveat(AT_EMPTY_PATH) is refused" refused execveat
check "execveat: argv read from execveat's arguments" event '.process.exe == "'$W'/denied/bad" and (.process.argv | index("'$W'/m-execveat")) != null'

echo "both paths report the same event, but for the action"
# what an event says, without what differs by run (pid, seq, time) and the
# action, which says how the exec was stopped
same() {
	jq -c --arg m "$W/m-same-$1" 'select(.kind == "exec" and
		(.process.argv | index($m)) != null) |
		[.verdict, .mode, .rule, .reason, .process.exe, .process.exeFlags,
		 (.process.argv | length), .process.comm, .process.uid,
		 .process.parentExe, .workload.cgroupPath]' "$W/events.jsonl"
}
run same-lsm "$W/denied/bad" marker "$W/m-same-lsm"
event "(.process.argv | index(\"$W/m-same-lsm\")) != null" > /dev/null
same lsm > "$W/same.lsm"
stop_vouchd
VOUCH_EXEC_HOOK=tracepoint
write_config
start_vouchd || exit 1
run same-tp "$W/denied/bad" marker "$W/m-same-tp"
event "(.process.argv | index(\"$W/m-same-tp\")) != null" > /dev/null
same tp > "$W/same.tp"
check "the tracepoint path kills the same exec" grep -qx "signal 9" "$W/out.same-tp"
same_fields() { [ -s "$W/same.lsm" ] && cmp -s "$W/same.lsm" "$W/same.tp"; }
check "both events carry the same fields" same_fields
same_fields || echo "   lsm: $(cat "$W/same.lsm")  tracepoint: $(cat "$W/same.tp")"
VOUCH_EXEC_HOOK=auto
write_config

echo "lsm path: audit mode reports and lets it run"
stop_vouchd
write_rules audit
start_vouchd || exit 1
run audit "$W/denied/bad" marker "$W/m-audit"
check "audit: the denied binary runs" grep -qx "exit 0" "$W/out.audit"
check "audit: reported, not refused" event '.process.exe == "'$W'/denied/bad" and .action == "reported" and .mode == "audit"'
check "audit: reported once, not by both paths" [ "$(count_events '.process.exe == "'$W'/denied/bad" and (.process.argv | index("'$W'/m-audit")) != null')" = 1 ]
finish
