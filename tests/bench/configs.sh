# SPDX-License-Identifier: GPL-2.0-only
# Configurations of tests/bench/compare.sh, sourced by it: what runs beside
# the workload. A configuration NAME is
#
#   config_NAME_start    starts it and returns once it is in place; sets
#                        CONFIG_PID to the process whose CPU and RSS are
#                        reported, or leaves it empty
#   config_NAME_stop     stops it; nothing of it may stay loaded
#
# and CONFIG_PROGS_NAME, an extended regex for the names of its BPF
# programs (their in-kernel time is reported). To add one, define these and
# list it in BENCH_CONFIGS.

CONFIG_PID=
CONFIG_PROGS_none='^$'
CONFIG_PROGS_floor='^floor_'
CONFIG_PROGS_enforce='^vouch_'
CONFIG_PROGS_audit='^vouch_'
# bpftrace names its programs after the probe, cut to 15 characters
CONFIG_PROGS_bpftrace='^(sched_process_e|sys_enter_conne)$'

config_none_start() { CONFIG_PID=; }
config_none_stop() { :; }

config_floor_start() {
	"$FLOOR" > "$W/floor.out" 2>&1 &
	CONFIG_PID=$!
	for _ in $(seq 100); do
		grep -q attached "$W/floor.out" && return 0
		kill -0 "$CONFIG_PID" 2> /dev/null || break
		sleep 0.05
	done
	die "vouch-floor did not attach: $(cat "$W/floor.out")"
}

config_floor_stop() {
	stop_process "$CONFIG_PID"
	CONFIG_PID=
}

# vouchd_rules MODE: rules scoped to the bench cgroup only, each workload's
# lines in the scope, then its top-level sections (the runc workload's
# containers root); the host scope is off, so nothing else on the machine
# is judged.
vouchd_rules() {
	local mode=$1 w

	{
		printf 'version: 1\nmode: off\nscopes:\n  - name: bench\n'
		printf '    match:\n      cgroup: ["/%s"]\n    mode: %s\n' \
			"$CGNAME" "$mode"
		for w in $WORKLOADS; do "workload_${w}_rules" "$mode"; done
		for w in $WORKLOADS; do
			! declare -F "workload_${w}_top_rules" > /dev/null ||
				"workload_${w}_top_rules" "$mode"
		done
	} > "$W/rules.$mode.yaml"
	cat > "$W/vouchd.$mode.yaml" <<YAML
rules: $W/rules.$mode.yaml
log: {level: info, format: text}
events: {output: $W/events.$mode.jsonl, loss_report_ms: 1000}
bpf: {pin: false}
metrics: {listen: "off"}
YAML
	"$VOUCHCTL" lint "$W/rules.$mode.yaml" > "$W/lint.out" 2>&1 ||
		die "bench rules do not lint: $(cat "$W/lint.out")"
}

start_vouchd() {
	local mode=$1 events before

	events=$W/events.$mode.jsonl
	[ -f "$W/rules.$mode.yaml" ] || vouchd_rules "$mode"
	# appended across rounds: the audit figures count every round's events
	touch "$events"
	before=$(grep -c '"reason":"vouchd started"' "$events")
	"$VOUCHD" --config "$W/vouchd.$mode.yaml" 2>> "$W/vouchd.$mode.log" &
	CONFIG_PID=$!
	for _ in $(seq 600); do
		[ "$(grep -c '"reason":"vouchd started"' "$events")" -gt "$before" ] &&
			return 0
		kill -0 "$CONFIG_PID" 2> /dev/null || break
		sleep 0.05
	done
	cat "$W/vouchd.$mode.log" >&2
	die "vouchd ($mode) did not start"
}

config_enforce_start() { start_vouchd enforce; }
config_audit_start() { start_vouchd audit; }

config_enforce_stop() {
	stop_process "$CONFIG_PID"
	CONFIG_PID=
	wait_unloaded || die "vouch programs still loaded after vouchd stopped"
}
config_audit_stop() { config_enforce_stop; }

# bpftrace printing every exec and every connect, to a file, the way its
# users watch a node: the peer vouch is compared with.
BPFTRACE_SCRIPT='tracepoint:sched:sched_process_exec {
	printf("exec %d %d %s\n", pid, uid, str(args->filename));
}
tracepoint:syscalls:sys_enter_connect {
	printf("connect %d %d %d\n", pid, uid, args->fd);
}'

config_bpftrace_start() {
	local before

	before=$(count_progs "$CONFIG_PROGS_bpftrace")
	bpftrace -o "$W/bpftrace.out" -e "$BPFTRACE_SCRIPT" \
		> "$W/bpftrace.log" 2>&1 &
	CONFIG_PID=$!
	for _ in $(seq 600); do
		[ "$(count_progs "$CONFIG_PROGS_bpftrace")" -ge $((before + 2)) ] &&
			return 0
		kill -0 "$CONFIG_PID" 2> /dev/null || break
		sleep 0.05
	done
	die "bpftrace did not attach: $(cat "$W/bpftrace.log")"
}

config_bpftrace_stop() {
	stop_process "$CONFIG_PID"
	CONFIG_PID=
}

# count_progs REGEX: loaded programs whose name matches.
count_progs() {
	bpftool prog show -j | jq --arg re "$1" '[.[] | select(.name // "" | test($re))] | length'
}
