# SPDX-License-Identifier: GPL-2.0-only
# The BENCHMARKS.md section of tests/bench/compare.sh, sourced by it, from
# the files its rounds leave in $W: ops.W.C ("ROUND OPS_PER_SEC"), proc.W.C
# ("ROUND CPU_NS WALL_NS RSS_KB") and progs.W.C ("ROUND NAME NS RUNS").

# The target of issue 8 at the syscall level, in percent: the median
# overhead under it, and the width of its confidence interval too.
TARGET_PCT=2

# summarize FILE COLUMN: stats.awk's summary of one column.
summarize() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk -f "$STATS_AWK"
}

# overhead_pairs W C BASE: per round, percent more time per op under C than
# under BASE in the same round.
overhead_pairs() {
	join "$W/ops.$1.$3" "$W/ops.$1.$2" 2> /dev/null |
		awk '{ printf "%.6f\n", ($2 / $3 - 1) * 100 }'
}

# overhead_stats W C BASE: stats.awk's summary of the paired overheads;
# empty when there is no BASE or C is BASE.
overhead_stats() {
	[ -f "$W/ops.$1.$2" ] && [ -f "$W/ops.$1.$3" ] && [ "$2" != "$3" ] ||
		return 0
	overhead_pairs "$1" "$2" "$3" | sort -g | awk -f "$STATS_AWK"
}

# pct_summary W C BASE: "median% (CI lo to hi)"; the interval's level is
# named when too few rounds give it 95%.
pct_summary() {
	local s

	s=$(overhead_stats "$@")
	[ -n "$s" ] || { echo "-"; return; }
	awk '{ printf "%+.1f%% (%+.1f to %+.1f", $2, $7, $8
	       if ($9 < 0.95) printf ", %.0f%% CI", $9 * 100
	       printf ")" }' <<< "$s"
}

# hook_ns W C: ns per run of each of C's programs on the workload's hooks,
# over the statistics runs of every round; "-" when none ran.
hook_ns() {
	local names

	names=$("workload_${1}_hook_progs" | paste -sd '|')
	[ -f "$W/progs.$1.$2" ] || { echo "-"; return; }
	awk -v re="^($names)\$" '$2 ~ re { if (!($2 in t)) o[n++] = $2; t[$2] += $3; c[$2] += $4 }
		END { for (i = 0; i < n; i++)
			if (c[o[i]]) s = s sprintf("%s%.0f ns (%s)", s == "" ? "" : ", ",
						   t[o[i]] / c[o[i]], o[i])
		      print s == "" ? "-" : s }' "$W/progs.$1.$2"
}

# prog_ns W C PROG: ns per run of one program over every round, or empty.
prog_ns() {
	[ -f "$W/progs.$1.$2" ] || return 0
	awk -v p="$3" '$2 == p { t += $3; c += $4 }
		END { if (c) printf "%.0f\n", t / c }' "$W/progs.$1.$2"
}

# all_progs W C: every program of C with its ns per run.
all_progs() {
	[ -s "$W/progs.$1.$2" ] || { echo "-"; return; }
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

# floor_ratios W: the workload's hook program against its no-op floor,
# per configuration, and the target; empty for a workload with none.
floor_ratios() {
	local vouch floor peer target f c a

	declare -F "workload_${1}_floor_pair" > /dev/null || return 0
	read -r vouch floor peer target <<< "$("workload_${1}_floor_pair")"
	f=$(prog_ns "$1" floor "$floor")
	[ -n "$f" ] || { echo "Hook against its floor: not measured."; return; }
	printf 'Hook against its floor (%s, %s ns per run): ' "$floor" "$f"
	for c in enforce audit; do
		a=$(prog_ns "$1" "$c" "$vouch")
		[ -z "$a" ] || awk -v c="$c" -v p="$vouch" -v a="$a" -v f="$f" \
			'BEGIN { printf "%s %s %.1f times, ", c, p, a / f }'
	done
	a=$(prog_ns "$1" bpftrace "$peer")
	[ -z "$a" ] || awk -v p="$peer" -v a="$a" -v f="$f" \
		'BEGIN { printf "bpftrace %s %.1f times, ", p, a / f }'
	echo "against a target of $target times for vouchd."
}

# target_line W: whether vouchd's overhead against no agent meets the
# target: median under TARGET_PCT and a confidence interval narrower.
target_line() {
	local c s

	printf 'Syscall-level target (under %s%% of no agent, 95%% CI narrower than %s points): ' \
		"$TARGET_PCT" "$TARGET_PCT"
	for c in enforce audit; do
		s=$(overhead_stats "$1" "$c" none)
		[ -n "$s" ] || continue
		awk -v c="$c" -v t="$TARGET_PCT" '{
			w = $8 - $7
			printf "%s %+.1f%%, CI width %.1f: %s; ", c, $2, w,
			       ($2 < t && w < t) ? "met" : ($2 < t ? "median under, spread too wide" : "not met")
		}' <<< "$s"
	done
	echo
}

# audit_delivery W: events vouchd stored in audit mode against the
# operations the workload made, and the loss it reported.
audit_delivery() {
	local events=$W/events.audit.jsonl rounds made stored lost

	[ -f "$events" ] || { echo "not measured (no audit configuration)"; return; }
	rounds=$(wc -l < "$W/ops.$1.audit")
	made=$((rounds * ($(count "$1" WARMUP) + $(count "$1" STATS_OPS) + $(count "$1" OPS))))
	stored=$("workload_${1}_events" "$events")
	lost=$(jq -s '[.[] | select(.kind == "loss") | .loss.count] | add // 0' "$events")
	awk -v s="$stored" -v m="$made" -v l="$lost" \
		'BEGIN { printf "%d events for %d operations (%.2f%%); %d reported lost (all workloads)", s, m, s / m * 100, l }'
}

per_round_ops() {
	local c

	for c in $CONFIGS; do
		[ -f "$W/ops.$1.$c" ] || continue
		printf '%s %s; ' "$c" "$(awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $2 }' "$W/ops.$1.$c")"
	done
}

workload_notes() {
	cat <<EOF_W
**$1.** $("workload_${1}_method") Per round: $(count "$1" WARMUP) operations
of warm-up, $(count "$1" STATS_OPS) with statistics on. $(floor_ratios "$1")
$(target_line "$1")
Audit delivery: $(audit_delivery "$1"). Every program, ns per run x runs:
enforce: $(all_progs "$1" enforce). audit: $(all_progs "$1" audit).
floor: $(all_progs "$1" floor). bpftrace: $(all_progs "$1" bpftrace).
Per-round ops/s: $(per_round_ops "$1")

EOF_W
}

pinning_text() {
	if [ "$PIN" = off ]; then
		echo "Nothing is pinned to a CPU."
	else
		echo "The workloads run on CPU $PIN_WORKLOAD, the agents (and this script) on CPU $PIN_AGENT (\`BENCH_PIN=$PIN\`, taskset), so that an agent's own work (reading events, bpftrace printing) does not take the loop's CPU; in-kernel program time still falls on the loop. In trial runs on a shared 2-CPU machine, pinned rounds had the narrower spread of paired overheads in three of five workload comparisons (exec 6.4 against 13.0 points between the 2nd and 9th of 10 rounds, connect 6.2 against 8.7), the wider in one; \`BENCH_PIN=off\` pins nothing."
	fi
}

write_report() {
	local cpu w

	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	cat <<EOF_R
## Overhead against no agent, the floor and bpftrace (issue 8)

Run on $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`make bench\` (tests/bench/compare.sh),
$ROUNDS rounds in ${RUN_SECONDS:-?} s. Machine: $(nproc --all) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r).

**Method.** Each round starts every configuration in turn, runs every
workload under it and stops it, the order of configurations rotating by
one each round, so that drift on the machine falls on all of them.
Configurations: \`none\` (no BPF program of ours), \`floor\` (vouch-floor:
no-op programs on vouch's hooks), \`enforce\` (vouchd enforcing allow-lists
the workloads keep to), \`audit\` (vouchd in audit mode with allow-lists
that match nothing, so that every exec, connect and container start is
recorded as an event), \`bpftrace\` (bpftrace printing every exec and
connect to a file, from the sched_process_exec and sys_enter_connect
tracepoints; kprobes are not used, as they do not load on every machine
vouch targets). The exec and connect workloads run in a cgroup of their
own, the only one vouchd's rules judge; the runc workload's containers in
cgroups below a root of their own, the rules' only containers root. Each
workload runs untimed operations first (warm-up), then a run with
\`$STATS_KEY=1\` for the in-kernel time (the difference in \`run_time_ns\`
and \`run_cnt\` of the configuration's programs across it; other work on
the machine meanwhile is counted too), then the timed run with the
statistics off, as they add two clock reads to every program run.
$(pinning_text) Overheads are per round, against the configuration
measured in the same round: the extra time per operation, median and its
distribution-free 95% confidence interval (order statistics of the
per-round values; with few rounds the interval is min to max and its
level lower, as noted). Agent CPU is the process's user and system time
over the timed runs' wall time; RSS is the highest VmRSS seen at the end
of a timed run.

| workload | configuration | ops/s median (Q1 to Q3) | overhead vs none (95% CI) | overhead vs floor (95% CI) | in-kernel per hook run | agent CPU, RSS |
|---|---|---|---|---|---|---|
$(for w in $WORKLOADS; do workload_rows "$w"; done)

EOF_R
	for w in $WORKLOADS; do workload_notes "$w"; done
	cat <<EOF_T
Targets (issue 8): in-kernel time per exec hook run within 8 times the
floor, per connect hook run within 3 times; syscall-level overhead under
2% of no agent with a spread smaller than that; vouchd under 50 MB RSS
with the large policy (see the policy scale section).
EOF_T
}
