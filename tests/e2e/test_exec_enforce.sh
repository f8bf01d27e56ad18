#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Enforce mode on the real kernel: what is not allowed is killed before it
# runs, judged as the file that really runs, however it is invoked.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce "  - name: late
    match:
      cgroup: [\"/$CGNAME-late*\"]
    mode: enforce
    exec:
      allow: [\"/usr/\", \"$W/allowed/\"]
exceptions:
  - scope: e2e
    exec: $W/other/excused
    reason: \"the e2e test shows an exception\"
    owner: \"e2e@example.com\"
    expires: 2099-01-01T00:00:00Z
  - scope: e2e
    exec: $W/other/expired
    reason: \"expired long ago\"
    owner: \"e2e@example.com\"
    expires: 2001-01-01T00:00:00Z"
write_config

# A process already in the test cgroup before vouchd starts; it execs the
# denied binary once vouchd enforces (told by a file, however slow the
# start: under qemu's TCG it takes seconds).
{ in_cg sh -c "while [ ! -e $W/go-early ]; do sleep 0.1; done; exec $W/denied/bad marker $W/m-early"; } 2> /dev/null &
EARLY=$!

start_vouchd || exit 1
touch "$W/go-early"

# run LABEL HOW PATH ARGS...: runs through the trigger inside the cgroup
# and records what the parent saw.
run() {
	local label=$1 how=$2
	shift 2
	in_cg "$T" "$how" "$@" > "$W/out.$label" 2>&1
}

saw() { grep -qx "$2" "$W/out.$1"; }
no_marker() { [ ! -e "$W/m-$1" ]; }
has_marker() { [ -e "$W/m-$1" ]; }
event_for() { wait_for 5 "$1"; }

echo "enforce: allowed binaries run untouched"
run allowed run "$T" marker "$W/m-allowed"
check "allowed binary exits 0" saw allowed "exit 0"
check "allowed binary wrote its marker" has_marker allowed
cp /bin/true "$W/allowed/true-copy"
run allowed2 run "$W/allowed/true-copy"
check "an allowed copy of /bin/true runs" saw allowed2 "exit 0"

echo "enforce: a denied binary is killed before its first instruction"
run denied run "$W/denied/bad" marker "$W/m-denied" arg2
check "parent sees signal 9" saw denied "signal 9"
check "the workload never ran (no marker)" no_marker denied
F='.kind == "exec" and .process.exe == "'$W'/denied/bad" and (.process.argv | index("'$W'/m-denied")) != null'
check "violation event emitted" event_for "$F"
ev=$(jq -c "select($F)" "$W/events.jsonl" | head -1)
field() { jq -r "$1" <<< "$ev"; }
check "event: action killed" [ "$(field .action)" = killed ]
check "event: verdict deny, mode enforce" [ "$(field '.verdict + "/" + .mode')" = deny/enforce ]
check "event: pid set" [ "$(field .process.pid)" -gt 1 ]
check "event: ppid is the trigger" [ "$(field .process.ppid)" -gt 1 ]
check "event: parent exe is the trigger" [ "$(field .process.parentExe)" = "$T" ]
check "event: uid 0" [ "$(field .process.uid)" = 0 ]
check "event: argv in full" [ "$(field '.process.argv | join(" ")')" = "$W/denied/bad marker $W/m-denied arg2" ]
check "event: cgroup path" [ "$(field .workload.cgroupPath)" = "/$CGNAME" ]
check "event: cgroup id" [ "$(field .workload.cgroupId)" -gt 1 ]
check "event: rule names the deny entry" [ "$(field .rule)" = "e2e/exec.deny:$W/denied/bad" ]
check "event: reason" grep -q 'matches deny entry' <<< "$(field .reason)"
check "event: agent and node" [ "$(field '.agentId + "/" + .node')" = e2e-agent/e2e-node ]

echo "enforce: judged as the file that really runs"
cp "$W/denied/bad" "$W/other/innocent-name"
ln -s "$W/denied/bad" "$W/allowed/link"
ln "$W/denied/bad" "$W/allowed/hardlink"
cp /bin/sh "$W/denied/interp"
printf '#!/bin/sh\n%s marker %s\n' "$T" "$W/m-script" > "$W/denied/script.sh"
printf '#!%s\n%s marker %s\n' "$W/denied/interp" "$T" "$W/m-interp" > "$W/allowed/via-interp.sh"
printf '#!/bin/sh\n%s marker %s\n' "$T" "$W/m-okscript" > "$W/allowed/ok.sh"
chmod +x "$W/denied/script.sh" "$W/allowed/via-interp.sh" "$W/allowed/ok.sh"

run symlink run "$W/allowed/link" marker "$W/m-symlink"
check "symlink in an allowed dir to a denied binary: killed" saw symlink "signal 9"
check "symlink: event names the real file" event_for '.process.exe == "'$W'/denied/bad" and (.process.argv[0] == "'$W'/allowed/link")'

in_cg_at "$W/denied" "$T" run ./bad marker "$W/m-relative" > "$W/out.relative" 2>&1
check "relative path after chdir: killed" saw relative "signal 9"
check "relative: event names the full path" event_for '.process.exe == "'$W'/denied/bad" and .process.argv[0] == "./bad"'

run copy run "$W/other/innocent-name" marker "$W/m-copy"
check "a copy under another name: killed" saw copy "signal 9"
check "copy: not on the allow-list" event_for '.process.exe == "'$W'/other/innocent-name" and .rule == "e2e/exec.allow"'

run hardlink run "$W/allowed/hardlink" marker "$W/m-hardlink"
check "a hard link of a denied file in an allowed dir: killed" saw hardlink "signal 9"
check "hardlink: denied by inode" event_for '.process.exe == "'$W'/allowed/hardlink" and (.reason | test("same file as denied"))'

run execveat run-execveat "$W/denied/bad" marker "$W/m-execveat"
check "execveat(AT_EMPTY_PATH): killed" saw execveat "signal 9"
check "execveat: event names the file" event_for '.process.exe == "'$W'/denied/bad" and (.process.argv | index("'$W'/m-execveat")) != null'

run memfd run-memfd "$T" marker "$W/m-memfd"
check "memfd with fexecve (of an allowed binary's bytes): killed" saw memfd "signal 9"
check "memfd: reported as anonymous" event_for '(.process.exeFlags | index("anonymous")) != null and .rule == "e2e/deny_anonymous"'

LDSO=$(readlink -f /lib64/ld-linux-x86-64.so.2)
run ldso run /lib64/ld-linux-x86-64.so.2 "$W/denied/bad" marker "$W/m-ldso"
check "ld.so invoked directly with a denied binary: killed" saw ldso "signal 9"
check "ld.so: reported as direct loader use" event_for '.process.exe == "'$LDSO'" and .rule == "e2e/deny_direct_loader"'

run script run "$W/denied/script.sh"
check "a denied script with an allowed interpreter: killed" saw script "signal 9"
check "script: marker never written" no_marker script
check "script: judged as itself" event_for '.kind == "script" and .process.exe == "'$W'/denied/script.sh" and .action == "killed"'

run interp run "$W/allowed/via-interp.sh"
check "an allowed script with a denied interpreter: killed" saw interp "signal 9"
check "interpreter: marker never written" no_marker interp
check "interpreter: judged through its interpreter" event_for '.kind == "exec" and .process.exe == "'$W'/denied/interp" and (.process.exeFlags | index("script-interpreter")) != null'

ln -s "$W/denied/script.sh" "$W/allowed/script-link.sh"
run scriptlink run "$W/allowed/script-link.sh"
check "a symlink in an allowed dir to a denied script: killed" saw scriptlink "signal 9"
check "script symlink: the script itself is named" event_for '.kind == "script" and .process.exe == "'$W'/denied/script.sh" and (.process.argv | index("'$W'/allowed/script-link.sh")) != null'

printf '#!/bin/sh\n%s marker %s\n' "$T" "$W/m-inner" > "$W/denied/inner.sh"
printf '#!%s\n' "$W/denied/inner.sh" > "$W/allowed/outer.sh"
chmod +x "$W/denied/inner.sh" "$W/allowed/outer.sh"
run chain run "$W/allowed/outer.sh"
check "an allowed script whose #! is a denied script: killed" saw chain "signal 9"
check "chain: the inner script never ran" no_marker inner
check "chain: the inner script is named" event_for '.kind == "script" and .process.exe == "'$W'/denied/inner.sh"'

run okscript run "$W/allowed/ok.sh"
check "an allowed script with an allowed interpreter runs" saw okscript "exit 0"
check "allowed script wrote its marker" has_marker okscript

echo "enforce: exceptions and limits"
cp "$T" "$W/other/excused"
cp "$T" "$W/other/expired"
run excused run "$W/other/excused" marker "$W/m-excused"
check "an unexpired exception lets its file run" saw excused "exit 0"
check "the exception's use is reported with owner and reason" event_for '.kind == "exception" and .process.exe == "'$W'/other/excused" and (.reason | test("e2e@example.com")) and .action == "none"'
run expired run "$W/other/expired" marker "$W/m-expired"
check "an expired exception waives nothing" saw expired "signal 9"
deep=$W/allowed
while [ ${#deep} -lt 260 ]; do deep=$deep/dddddddddddddddddddd; done
mkdir -p "$deep"
cp "$T" "$deep/trigger"
run deep run "$deep/trigger" marker "$W/m-deep"
check "a path too long to match is denied even under an allowed dir" saw deep "signal 9"
check "too long: reported as path_limit" event_for '.rule == "e2e/path_limit"'

echo "enforce: processes from before vouchd started"
wait "$EARLY"
check "an earlier process's denied exec: killed" [ $? -eq 137 ]
check "earlier process: marker never written" no_marker early
check "earlier process: event carries its cgroup" event_for '(.process.argv | index("'$W'/m-early")) != null and .workload.cgroupPath == "/'$CGNAME'"'

echo "enforce: a cgroup created after vouchd started gets its scope"
mkdir "$CG-late1"
sleep 0.5
sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG-late1" \
	"$T" run "$W/denied/bad" marker "$W/m-late" > "$W/out.late" 2>&1
check "new matching cgroup: the denied binary is killed" saw late "signal 9"
check "new matching cgroup: event names scope 'late'" event_for '.workload.scope == "late" and .workload.cgroupPath == "/'$CGNAME'-late1"'

echo "enforce: nothing outside the test cgroup is touched"
"$W/denied/bad" marker "$W/m-outside"
check "the denied binary runs outside the scoped cgroup" has_marker outside

echo "enforce: stopping detaches everything"
stop_vouchd
check "no vouch program is left loaded" [ "$(vouch_progs_loaded)" = 0 ]
run after run "$W/denied/bad" marker "$W/m-after"
check "after stop, the denied binary runs" saw after "exit 0"

finish
