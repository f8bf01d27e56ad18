# SPDX-License-Identifier: GPL-2.0-only
# Workloads of tests/bench/compare.sh, sourced by it; each is a file in
# tests/bench/workloads/. A workload NAME is these functions:
#
#   workload_NAME_check          fails (with a message) when it cannot run
#   workload_NAME_setup          once before the rounds, $W made; optional
#   workload_NAME_cleanup        on exit, after a failure or an interrupt
#                                too; nothing of the workload may stay;
#                                optional
#   workload_NAME_cgroup         the cgroup directory its loop runs in;
#                                optional, the bench cgroup $CG by default
#   workload_NAME_run COUNT      COUNT operations; prints "OPS_PER_SEC"
#   workload_NAME_hook_progs     the programs on its hot hooks, one name a
#                                line: the in-kernel ns/run reported
#   workload_NAME_floor_pair     "VOUCH_PROG FLOOR_PROG BPFTRACE_PROG TARGET":
#                                the hook whose in-kernel time has a target
#                                of TARGET times its no-op floor; optional
#   workload_NAME_rules MODE     YAML lines appended to the bench scope of
#                                vouchd's rules (MODE enforce or audit)
#   workload_NAME_top_rules MODE top-level YAML sections of those rules;
#                                optional
#   workload_NAME_events FILE    how many events in vouchd's events FILE
#                                record one of its operations (audit: one
#                                an operation)
#   workload_NAME_method         a sentence for the method text
#
# and three counts, each with a default in its file: BENCH_NAME_OPS (timed
# operations per round), BENCH_NAME_WARMUP (untimed, before) and
# BENCH_NAME_STATS_OPS (untimed, in-kernel statistics on). To add one,
# write its file and list it in BENCH_WORKLOADS (compare.sh).

for f in "$TOP"/tests/bench/workloads/*.sh; do
	. "$f"
done
unset f
