#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: what vouch costs, side by side with the floor and a peer.
# Every workload (tests/bench/workloads.sh) runs under every configuration
# (tests/bench/configs.sh) in one interleaved run: in each round every
# configuration is started, measured and stopped, in an order that rotates
# from round to round, so that drift on the machine falls on all of them.
# Workloads run in a cgroup of their own, the only one vouchd's rules
# judge (the runc workload's containers below a root of their own).
# Rewrites the overhead section of BENCHMARKS.md.
#
# Needs root. Knobs: BENCH_ROUNDS (16), BENCH_CONFIGS ("none floor enforce
# audit bpftrace"), BENCH_WORKLOADS ("exec connect runc"), BENCH_PIN
# ("1:0": the workloads' CPU, then the agents' CPUs, as taskset takes
# them; "off" pins nothing), per workload BENCH_NAME_OPS, BENCH_NAME_WARMUP
# and BENCH_NAME_STATS_OPS (defaults in tests/bench/workloads/NAME.sh),
# BENCH_DOC.

set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/process.sh"
take_bpf_lock
. "$TOP/tests/bench/doc.sh"
OUT=${OUTPUT:-$TOP/.output}
VOUCHD=$OUT/vouchd
VOUCHCTL=$OUT/vouchctl
TRIGGER=$OUT/vouch-trigger
FLOOR=$OUT/vouch-floor
STATS_AWK=$TOP/tests/bench/stats.awk
DOC=${BENCH_DOC:-$TOP/BENCHMARKS.md}
ROUNDS=${BENCH_ROUNDS:-16}
CONFIGS=${BENCH_CONFIGS:-none floor enforce audit bpftrace}
WORKLOADS=${BENCH_WORKLOADS:-exec connect runc}
PIN=${BENCH_PIN:-1:0}
PIN_WORKLOAD=
PIN_AGENT=
STATS_KEY=kernel.bpf_stats_enabled
STATS_OLD=
W=
CG=
CGNAME=vouch-bench-$$
ROUND=0

. "$TOP/tests/bench/workloads.sh"
. "$TOP/tests/bench/configs.sh"

die() {
	echo "bench: $*" >&2
	exit 1
}

cleanup() {
	local w

	[ -z "$CONFIG_PID" ] || stop_process "$CONFIG_PID"
	for w in $WORKLOADS; do
		! declare -F "workload_${w}_cleanup" > /dev/null ||
			"workload_${w}_cleanup"
	done
	[ -z "$STATS_OLD" ] || sysctl -q -w "$STATS_KEY=$STATS_OLD" > /dev/null
	[ -z "$CG" ] || rmdir "$CG" 2> /dev/null
	[ -z "$W" ] || rm -rf "$W"
}

check_prereqs() {
	local w c

	[ "$(id -u)" -eq 0 ] || die "needs root (BPF, sysctl, cgroups)"
	for f in "$VOUCHD" "$VOUCHCTL" "$TRIGGER" "$FLOOR"; do
		[ -x "$f" ] || die "missing $f; run 'make all' first"
	done
	for t in bpftool jq sysctl bpftrace taskset; do
		command -v "$t" > /dev/null || die "missing tool '$t'"
	done
	for w in $WORKLOADS; do
		declare -F "workload_${w}_run" > /dev/null || die "no workload '$w'"
		"workload_${w}_check" || die "workload '$w' cannot run"
	done
	for c in $CONFIGS; do
		declare -F "config_${c}_start" > /dev/null || die "no configuration '$c'"
	done
	[ "$(vouch_progs_loaded)" -eq 0 ] ||
		die "vouch programs are already loaded; stop the other vouchd first"
}

# setup_pinning: this script on the agents' CPUs, so that every agent it
# starts inherits them, and the workloads on their own (in_bench_cg), when
# BENCH_PIN asks for it and the machine has two CPUs or more.
setup_pinning() {
	[ "$PIN" != off ] && [ "$(nproc)" -ge 2 ] || { PIN=off; return 0; }
	PIN_WORKLOAD=${PIN%%:*}
	PIN_AGENT=${PIN#*:}
	[ -n "$PIN_WORKLOAD" ] && [ -n "$PIN_AGENT" ] && [ "$PIN_AGENT" != "$PIN" ] ||
		die "BENCH_PIN is WORKLOAD_CPUS:AGENT_CPUS or off, not '$PIN'"
	taskset -pc "$PIN_AGENT" $$ > /dev/null || die "cannot pin to CPUs $PIN_AGENT"
}

# count NAME KIND: a workload's BENCH_NAME_KIND (OPS, WARMUP, STATS_OPS).
count() {
	local var="BENCH_${1^^}_$2"

	echo "${!var}"
}

# in_bench_cg WORKLOAD COUNT: runs the workload in its cgroup, pinned.
in_bench_cg() {
	local cg=$CG

	! declare -F "workload_${1}_cgroup" > /dev/null || cg=$("workload_${1}_cgroup")
	(
		echo "$BASHPID" > "$cg/cgroup.procs" || exit 1
		[ -z "$PIN_WORKLOAD" ] ||
			taskset -pc "$PIN_WORKLOAD" "$BASHPID" > /dev/null || exit 1
		"workload_${1}_run" "$2"
	)
}

# Programs of the running configuration: "ID NAME RUN_TIME_NS RUN_CNT".
prog_snapshot() {
	bpftool prog show -j | jq -r --arg re "$1" '.[] |
		select(.name // "" | test($re)) |
		"\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# cpu_ticks PID: user + system clock ticks of the process so far.
cpu_ticks() {
	[ -n "$1" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null ||
		echo 0
}

rss_kb() {
	[ -n "$1" ] && awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2> /dev/null ||
		echo 0
}

# stats_run CONFIG WORKLOAD: an untimed run with the kernel's BPF
# statistics on, which cost each program run two clock reads; appends the
# runs and run time of the configuration's programs during it.
stats_run() {
	local re_var="CONFIG_PROGS_$1" n

	[ "${!re_var}" != '^$' ] || return 0
	n=$(count "$2" STATS_OPS)
	prog_snapshot "${!re_var}" > "$W/before"
	sysctl -q -w "$STATS_KEY=1" > /dev/null || die "cannot set $STATS_KEY"
	in_bench_cg "$2" "$n" > /dev/null || die "$2 statistics run under $1 failed"
	sysctl -q -w "$STATS_KEY=$STATS_OLD" > /dev/null
	prog_snapshot "${!re_var}" > "$W/after"
	awk -v r="$ROUND" 'NR == FNR { t[$1] = $3; c[$1] = $4; next }
		{ printf "%s %s %d %d\n", r, $2, $3 - t[$1], $4 - c[$1] }' \
		"$W/before" "$W/after" >> "$W/progs.$2.$1"
}

# measure CONFIG WORKLOAD: one timed run, statistics off; appends its ops/s
# and the agent's CPU time and RSS.
measure() {
	local n t0 t1 c0 c1 ops_s

	n=$(count "$2" OPS)
	c0=$(cpu_ticks "$CONFIG_PID")
	t0=$(date +%s%N)
	ops_s=$(in_bench_cg "$2" "$n") || die "$2 under $1 failed"
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$CONFIG_PID")
	echo "$ROUND $ops_s" >> "$W/ops.$2.$1"
	echo "$ROUND $(( (c1 - c0) * 1000000000 / CLK_TCK )) $((t1 - t0)) $(rss_kb "$CONFIG_PID")" \
		>> "$W/proc.$2.$1"
}

# rotate ROUND WORDS...: the words, starting at position ROUND mod count.
rotate() {
	local r=$1
	shift
	local n=$# i

	for ((i = 0; i < n; i++)); do
		echo "${@:$(( (r + i) % n + 1 )):1}"
	done
}

run_rounds() {
	local cfg w

	for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
		printf '  round %2d/%d:' "$ROUND" "$ROUNDS"
		for cfg in $(rotate "$ROUND" $CONFIGS); do
			"config_${cfg}_start"
			printf ' %s' "$cfg"
			for w in $WORKLOADS; do
				in_bench_cg "$w" "$(count "$w" WARMUP)" > /dev/null ||
					die "$w warm-up under $cfg failed"
				stats_run "$cfg" "$w"
				measure "$cfg" "$w"
				printf ' %.0f' "$(tail -1 "$W/ops.$w.$cfg" | cut -d ' ' -f 2)"
			done
			"config_${cfg}_stop"
		done
		echo
	done
}

setup_workloads() {
	local w

	for w in $WORKLOADS; do
		! declare -F "workload_${w}_setup" > /dev/null ||
			"workload_${w}_setup"
	done
}

. "$TOP/tests/bench/report.sh"

main() {
	local t0=$SECONDS

	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	check_prereqs
	STATS_OLD=$(sysctl -n "$STATS_KEY") || die "cannot read $STATS_KEY"
	CLK_TCK=$(getconf CLK_TCK)
	W=$(mktemp -d) || die "cannot make a work directory"
	CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)/$CGNAME
	mkdir "$CG" || die "cannot make cgroup $CG"
	setup_pinning
	setup_workloads

	echo "bench: $ROUNDS rounds of [$WORKLOADS] under [$CONFIGS], ops/s; pinning: $PIN"
	run_rounds
	RUN_SECONDS=$((SECONDS - t0))
	write_report > "$W/section.md"
	bench_doc_update "$DOC" overhead-bench "$W/section.md" || exit 1
	echo
	sed -n '/^| workload/,/^$/p' "$W/section.md"
	echo "bench: done in $((SECONDS - t0)) s; results in $DOC"
}

main "$@"
