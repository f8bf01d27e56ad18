# SPDX-License-Identifier: GPL-2.0-only
# The BENCHMARKS.md section of tests/bench/compare.sh, sourced by it, from
# the files its rounds leave in $W: ops.W.C ("ROUND OPS_PER_SEC"), proc.W.C
# ("ROUND CPU_NS WALL_NS RSS_KB") and progs.W.C ("ROUND NAME NS RUNS").

# summarize FILE COLUMN: "N MEDIAN MIN MAX Q1 Q3" of one column.
summarize() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk -f "$STATS_AWK"
}

# overhead_pairs W C BASE: per round, percent more time per op under C than
# under BASE in the same round.
overhead_pairs() {
	join "$W/ops.$1.$3" "$W/ops.$1.$2" 2> /dev/null |
		awk '{ printf "%.6f\n", ($2 / $3 - 1) * 100 }'
}

# pct_summary W C BASE: "median% (Q1% to Q3%)" of the overhead pairs.
pct_summary() {
	[ -f "$W/ops.$1.$3" ] && [ "$2" != "$3" ] || { echo "-"; return; }
	overhead_pairs "$1" "$2" "$3" > "$W/pairs"
	sort -g "$W/pairs" | awk -f "$STATS_AWK" |
		awk '{ printf "%+.1f%% (%+.1f to %+.1f)", $2, $5, $6 }'
}

# hook_ns W C: ns per run of the workload's hook program under C, over all
# rounds, and its name; "-" when none of C's programs is on that hook.
hook_ns() {
	local names

	names=$("workload_${1}_hook_progs" | paste -sd '|')
	[ -f "$W/progs.$1.$2" ] || { echo "-"; return; }
	awk -v re="^($names)\$" '$2 ~ re { t += $3; c += $4; n = $2 }
		END { if (c) printf "%.0f ns (%s)", t / c, n; else print "-" }' \
		"$W/progs.$1.$2"
}

# all_progs W C: every program of C with its ns per run.
all_progs() {
	[ -s "$W/progs.$1.$2" ] || return 0
	awk '{ if (!($2 in t)) o[n++] = $2; t[$2] += $3; c[$2] += $4 }
	     END { for (i = 0; i < n; i++)
			printf "%s%s %s", (i ? ", " : ""), o[i],
			       c[o[i]] ? sprintf("%.0f ns x %d", t[o[i]] / c[o[i]], c[o[i]]) : "not run" }' \
		"$W/progs.$1.$2"
}

# agent_use W C: CPU (share of one CPU during the timed runs) and RSS.
agent_use() {
	[ -f "$W/proc.$1.$2" ] || { echo "-"; return; }
	awk '{ cpu += $2; wall += $3; if ($4 > rss) rss = $4 }
	     END { if (rss == 0) { print "-"; exit }
		   printf "%.1f%% CPU, %.1f MB RSS", cpu / wall * 100, rss / 1024 }' \
		"$W/proc.$1.$2"
}

workload_rows() {
	local w=$1 c s

	for c in $CONFIGS; do
		[ -f "$W/ops.$w.$c" ] || continue
		s=$(summarize "$W/ops.$w.$c" 2)
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$w" "$c" \
			"$(awk '{ printf "%.0f (%.0f to %.0f)", $2, $5, $6 }' <<< "$s")" \
			"$(pct_summary "$w" "$c" none)" "$(pct_summary "$w" "$c" floor)" \
			"$(hook_ns "$w" "$c")" "$(agent_use "$w" "$c")"
	done
}

# ratio_to_floor W C: the hook program's ns/run over the floor's.
ratio_to_floor() {
	local a b

	a=$(hook_ns "$1" "$2" | awk '{ print $1 }')
	b=$(hook_ns "$1" floor | awk '{ print $1 }')
	awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "?" }'
}

# audit_delivery W: exec events vouchd stored in audit mode against the
# execs the workload made, and the loss it reported.
audit_delivery() {
	local events=$W/events.audit.jsonl made stored lost

	[ -f "$events" ] || { echo "not measured (no audit configuration)"; return; }
	made=$(( ROUNDS * (WARMUP + $(ops "$1")) ))
	stored=$(jq -c --arg e "$EXEC_BIN" 'select(.kind == "exec" and .process.exe == $e)' "$events" | wc -l)
	lost=$(jq -s '[.[] | select(.kind == "loss") | .loss.count] | add // 0' "$events")
	echo "$stored of $made execs of $EXEC_BIN stored as events ($(awk -v s="$stored" -v m="$made" 'BEGIN { printf "%.2f", s / m * 100 }')%), $lost reported lost; one event per exec, so events reached the file at the audit rate above, median $(summarize "$W/ops.$1.audit" 2 | awk '{ printf "%.0f", $2 }') per second"
}

write_report() {
	local cpu w

	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	cat <<EOF_R
## Overhead against no agent, the floor and bpftrace (issue 8)

Run on $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`make bench\` (tests/bench/compare.sh),
$ROUNDS rounds. Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r).

**Method.** Each round starts, measures and stops every configuration in
turn, the order rotating by one each round. Configurations: \`none\` (no
BPF program of ours), \`floor\` (vouch-floor: no-op programs on vouch's
hooks), \`enforce\` (vouchd enforcing an allow-list on the bench cgroup),
\`audit\` (vouchd in audit mode with an allow-list that matches nothing, so
that every exec is recorded as an event), \`bpftrace\` (bpftrace printing
every exec and connect to a file, from the sched_process_exec and
sys_enter_connect tracepoints; kprobes are not used, as they do not load on
every machine vouch targets). Workloads run in a cgroup of their own, the
only one vouchd's rules judge, after $WARMUP untimed operations. The exec
workload is \`vouch-trigger loop\` of $(ops exec) sequential fork+execv+wait
of \`$EXEC_BIN\`. Overheads are per round, against the configuration
measured in the same round: the extra time per operation, median (Q1 to
Q3). In-kernel time: \`$STATS_KEY=1\` during each timed run only, the
difference in \`run_time_ns\` and \`run_cnt\` of the configuration's
programs across it (other work on the machine meanwhile is counted too).
Agent CPU is the process's user and system time over the timed runs'
wall time; RSS is the highest VmRSS seen at the end of a run.

| workload | configuration | ops/s median (Q1 to Q3) | overhead vs none | overhead vs floor | in-kernel per hook run | agent CPU, RSS |
|---|---|---|---|---|---|---|
$(for w in $WORKLOADS; do workload_rows "$w"; done)

EOF_R
	for w in $WORKLOADS; do
		cat <<EOF_W
**$w.** Hook program against its floor: enforce $(ratio_to_floor "$w" enforce)
times, audit $(ratio_to_floor "$w" audit) times, bpftrace $(ratio_to_floor "$w" bpftrace)
times. Audit delivery: $(audit_delivery "$w"). Every program, ns per run x runs:
enforce: $(all_progs "$w" enforce). audit: $(all_progs "$w" audit).
floor: $(all_progs "$w" floor). bpftrace: $(all_progs "$w" bpftrace).
Per-round ops/s: $(for c in $CONFIGS; do [ -f "$W/ops.$w.$c" ] && printf '%s %s; ' "$c" "$(awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $2 }' "$W/ops.$w.$c")"; done)

EOF_W
	done
	cat <<EOF_T
Targets (issue 8): in-kernel time per exec hook run within 8 times the
floor, per connect hook run within 3 times; syscall-level overhead under
2% of no agent with a spread smaller than that; vouchd under 50 MB RSS
with the large policy (see the policy scale section).
EOF_T
}
