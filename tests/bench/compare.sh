#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: what vouch costs, side by side with the floor and a peer.
# Every workload (tests/bench/workloads.sh) runs under every configuration
# (tests/bench/configs.sh) in one interleaved run: in each round every
# configuration is started, measured and stopped, in an order that rotates
# from round to round, so that drift on the machine falls on all of them.
# Workloads run in a cgroup of their own, the only one vouchd's rules
# judge. Rewrites the overhead section of BENCHMARKS.md.
#
# Needs root. Knobs: BENCH_ROUNDS (10), BENCH_CONFIGS ("none floor enforce
# audit bpftrace"), BENCH_WORKLOADS ("exec"), BENCH_EXEC_OPS (3000 per
# round), BENCH_WARMUP (200), BENCH_DOC.

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
ROUNDS=${BENCH_ROUNDS:-10}
CONFIGS=${BENCH_CONFIGS:-none floor enforce audit bpftrace}
WORKLOADS=${BENCH_WORKLOADS:-exec}
WARMUP=${BENCH_WARMUP:-200}
STATS_KEY=kernel.bpf_stats_enabled
STATS_OLD=
W=
CG=
CGNAME=vouch-bench-$$

. "$TOP/tests/bench/workloads.sh"
. "$TOP/tests/bench/configs.sh"

die() {
	echo "bench: $*" >&2
	exit 1
}

cleanup() {
	[ -z "$CONFIG_PID" ] || stop_process "$CONFIG_PID"
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
	for t in bpftool jq sysctl bpftrace; do
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

# ops NAME: the per-workload operation count, BENCH_NAME_OPS.
ops() {
	local var="BENCH_${1^^}_OPS"

	echo "${!var}"
}

# in_bench_cg WORKLOAD COUNT: runs the workload inside the bench cgroup.
in_bench_cg() {
	(echo "$BASHPID" > "$CG/cgroup.procs" && "workload_${1}_run" "$2")
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

# measure ROUND CONFIG WORKLOAD: one timed run; appends to the results.
measure() {
	local round=$1 cfg=$2 w=$3 n re t0 t1 c0 c1 ops_s
	local re_var="CONFIG_PROGS_$2"

	n=$(ops "$w")
	re=${!re_var}
	prog_snapshot "$re" > "$W/before"
	sysctl -q -w "$STATS_KEY=1" > /dev/null || die "cannot set $STATS_KEY"
	c0=$(cpu_ticks "$CONFIG_PID")
	t0=$(date +%s%N)
	ops_s=$(in_bench_cg "$w" "$n") || die "$w under $cfg failed"
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$CONFIG_PID")
	sysctl -q -w "$STATS_KEY=$STATS_OLD" > /dev/null
	prog_snapshot "$re" > "$W/after"
	echo "$round $ops_s" >> "$W/ops.$w.$cfg"
	echo "$round $(( (c1 - c0) * 1000000000 / CLK_TCK )) $((t1 - t0)) $(rss_kb "$CONFIG_PID")" \
		>> "$W/proc.$w.$cfg"
	# per program: runs and run time during this timed run only
	awk -v r="$round" 'NR == FNR { t[$1] = $3; c[$1] = $4; next }
		{ printf "%s %s %d %d\n", r, $2, $3 - t[$1], $4 - c[$1] }' \
		"$W/before" "$W/after" >> "$W/progs.$w.$cfg"
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
	local round cfg w

	for ((round = 1; round <= ROUNDS; round++)); do
		printf '  round %2d/%d:' "$round" "$ROUNDS"
		for cfg in $(rotate "$round" $CONFIGS); do
			"config_${cfg}_start"
			for w in $WORKLOADS; do
				in_bench_cg "$w" "$WARMUP" > /dev/null ||
					die "$w warm-up under $cfg failed"
				measure "$round" "$cfg" "$w"
				printf ' %s %.0f' "$cfg" "$(tail -1 "$W/ops.$w.$cfg" | cut -d ' ' -f 2)"
			done
			"config_${cfg}_stop"
		done
		echo
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

	echo "bench: $ROUNDS rounds of [$WORKLOADS] under [$CONFIGS], ops/s"
	run_rounds
	write_report > "$W/section.md"
	bench_doc_update "$DOC" overhead-bench "$W/section.md" || exit 1
	echo
	sed -n '/^| workload/,/^$/p' "$W/section.md"
	echo "bench: done in $((SECONDS - t0)) s; results in $DOC"
}

main "$@"
