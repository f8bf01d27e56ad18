# SPDX-License-Identifier: GPL-2.0-only
# Shared setup for vouch's end-to-end tests: a private work directory, a
# test cgroup that every test rule is scoped to, a vouchd started on the
# real kernel, and cleanup that runs however the test ends.

set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/process.sh"
. "$TOP/tests/tls.sh"
. "$TOP/tests/e2e/check.sh"
take_bpf_lock
OUT=${OUTPUT:-$TOP/.output}
VOUCHD=$OUT/vouchd
VOUCHCTL=$OUT/vouchctl
TRIGGER_SRC=$OUT/vouch-trigger
VOUCHD_PID=
# A test that sets PIN_DIR (under /sys/fs/bpf) before write_config runs
# vouchd pinned there; cleanup unloads it. Otherwise vouchd pins nothing.
PIN_DIR=

CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
W=$(mktemp -d /tmp/vouch-e2e.XXXXXX)
CGNAME=vouch-e2e-$$-$RANDOM
CG=$CGROOT/$CGNAME
mkdir "$CG"

# remove_cgroup DIR: kills every task in cgroup DIR and below it (a held,
# stopped one too), then removes them all, deepest first, retrying while
# the tasks exit.
remove_cgroup() {
	local d
	for d in $(find "$1" -type d 2> /dev/null); do
		echo 1 > "$d/cgroup.kill" 2> /dev/null ||
			kill -9 $(cat "$d/cgroup.procs" 2> /dev/null) 2> /dev/null
	done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		find "$1" -depth -type d -exec rmdir {} \; 2> /dev/null
		[ -d "$1" ] || return 0
		sleep 0.1
	done
}

cleanup() {
	stop_vouchd
	stop_collector
	unload_pins
	# whatever a test left in its cgroups goes with them
	local cg
	for cg in "$CG"-* "$CG"; do
		[ -d "$cg" ] && remove_cgroup "$cg"
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



# unload_pins: what a pinned vouchd left under PIN_DIR goes: links first,
# so the programs detach, then maps.
unload_pins() {
	[ -n "$PIN_DIR" ] && [ -e "$PIN_DIR" ] || return 0
	"$VOUCHD" --config "$W/vouchd.yaml" --unload > /dev/null 2>&1 ||
		{ rm -f "$PIN_DIR"/links/* "$PIN_DIR"/maps/*; rm -rf "$PIN_DIR"; }
}

# The binaries a test runs live in $W: allowed/ is on the allow-list,
# denied/ is not.
make_binaries() {
	mkdir -p "$W/allowed" "$W/denied" "$W/other"
	cp "$TRIGGER_SRC" "$W/allowed/trigger"
	cp "$TRIGGER_SRC" "$W/denied/bad"
	T=$W/allowed/trigger
}

# write_rules MODE [EXTRA_YAML]: rules that touch nothing but the test
# cgroup; the host scope is off.
write_rules() {
	local mode=$1 extra=${2:-}
	cat > "$W/rules.yaml" <<YAML
version: 1
mode: off
scopes:
  - name: e2e
    match:
      cgroup: ["/$CGNAME"]
    mode: $mode
    exec:
      allow: ["/usr/", "$W/allowed/"]
      deny: ["$W/denied/bad"]
$extra
YAML
}

write_config() {
	local pin="pin: false"
	[ -n "$PIN_DIR" ] && pin="pin: true
  pin_dir: $PIN_DIR"
	cat > "$W/vouchd.yaml" <<YAML
rules: $W/rules.yaml
node_name: e2e-node
agent_id: e2e-agent
exec_hook: ${VOUCH_EXEC_HOOK:-auto}
log:
  level: info
  format: text
bpf:
  $pin
events:
  output: $W/events.jsonl
  loss_report_ms: 100
YAML
}

# wait_for SECONDS JQ_FILTER: waits until some event matches.
wait_for() {
	local secs=$1 filter=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		if [ -f "$W/events.jsonl" ] &&
		   jq -e -c "select($filter)" "$W/events.jsonl" 2>/dev/null |
		   grep -q .; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# count_events JQ_FILTER
count_events() {
	jq -c "select($1)" "$W/events.jsonl" 2>/dev/null | wc -l
}

start_vouchd() {
	: > "$W/events.jsonl"
	"$VOUCHD" --config "$W/vouchd.yaml" 2> "$W/vouchd.log" &
	VOUCHD_PID=$!
	if ! wait_for 30 '.kind == "agent" and .reason == "vouchd started"'; then
		echo "vouchd did not start; its log:" >&2
		cat "$W/vouchd.log" >&2
		return 1
	fi
}

stop_vouchd() {
	[ -n "$VOUCHD_PID" ] || return 0
	stop_process "$VOUCHD_PID"
	VOUCHD_PID=
}

# reload: SIGHUP, then wait for the policy event that answers it.
reload() {
	local before
	before=$(count_events '.kind == "policy"')
	kill -HUP "$VOUCHD_PID"
	for _ in $(seq 200); do
		[ "$(count_events '.kind == "policy"')" -gt "$before" ] && return 0
		sleep 0.05
	done
	return 1
}

# in_cg COMMAND...: runs COMMAND inside the test cgroup.
in_cg() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

# spawn_in_cgroup DIR MARKER: in the background, a task that joins cgroup
# DIR and execs the trigger, which writes MARKER if it ever runs; $! is
# that task.
spawn_in_cgroup() {
	sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" marker "$3"' \
		_ "$1" "$T" "$2" > /dev/null 2>&1 &
}

# proc_state PID: its state letter (T stopped, Z exited), empty once reaped.
proc_state() {
	awk '{ print $3 }' "/proc/$1/stat" 2> /dev/null
}

# wait_state PID REGEX: waits up to 5 s for proc_state PID to match REGEX.
wait_state() {
	for _ in $(seq 100); do
		[[ "$(proc_state "$1")" =~ $2 ]] && return 0
		sleep 0.05
	done
	return 1
}

# in_cg_at DIR COMMAND...: the same, from working directory DIR.
in_cg_at() {
	local dir=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && cd "$1" && shift && exec "$@"' \
		"$CG" "$dir" "$@"
}



# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	local port
	for _ in $(seq 50); do
		# below the ephemeral range (32768 up), where any process's
		# outgoing connection or port-0 listener could take it meanwhile
		port=$((20000 + RANDOM % 12000))
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return 0; }
	done
	return 1
}

COLLECTOR_PID=
# start_collector PORT DB [ARGS...]: the real vouch-collector on loopback.
start_collector() {
	local port=$1 db=$2
	shift 2
	"$OUT/vouch-collector" --listen "127.0.0.1:$port" --db "$db" "$@" \
		>> "$W/collector.log" 2>&1 &
	COLLECTOR_PID=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
		kill -0 "$COLLECTOR_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "vouch-collector did not start; its log:" >&2
	cat "$W/collector.log" >&2
	return 1
}

stop_collector() {
	[ -n "$COLLECTOR_PID" ] || return 0
	stop_process "$COLLECTOR_PID"
	COLLECTOR_PID=
}
