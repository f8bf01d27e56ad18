# SPDX-License-Identifier: GPL-2.0-only
# Workloads of tests/bench/compare.sh, sourced by it. A workload NAME is
# four functions:
#
#   workload_NAME_check          fails (with a message) when it cannot run
#   workload_NAME_run COUNT      COUNT operations; prints "OPS_PER_SEC"
#   workload_NAME_hook_progs     the programs on its hot hook, one name a
#                                line: the in-kernel ns/run reported for it
#   workload_NAME_rules MODE     YAML lines appended to the bench scope of
#                                vouchd's rules (MODE enforce or audit), so
#                                that vouchd judges this workload's ops
#
# and BENCH_NAME_OPS (operations per round) with a default below. To add
# one, define these and list it in BENCH_WORKLOADS (compare.sh).
#
# Planned here, not written yet:
#  - connect: a loopback TCP connect and close loop (a small C loop beside
#    vouch-trigger, ops/s out); hook programs vouch_connect4 and the floor's
#    cgroup/connect4 no-op; rules: an egress allow entry for 127.0.0.1 and
#    its port, so enforce allows it and audit reports nothing unless asked.
#  - runc: `runc run --detach` of a minimal bundle then `runc delete -f`,
#    in a loop; hook programs vouch_cgroup_mkdir and vouch_exec (the
#    container's first exec); rules: the bundle's image digest attested.

EXEC_BIN=/usr/bin/true
: "${BENCH_EXEC_OPS:=3000}"

workload_exec_check() {
	[ -x "$EXEC_BIN" ] || { echo "missing $EXEC_BIN" >&2; return 1; }
	[ -x "$TRIGGER" ] || { echo "missing $TRIGGER" >&2; return 1; }
}

# vouch-trigger loop: sequential fork+execv+wait, mean ns per exec.
workload_exec_run() {
	local out execs ns failed

	out=$("$TRIGGER" loop "$1" "$EXEC_BIN") || return 1
	read -r _ execs _ ns _ failed <<< "$out"
	[ "$execs" = "$1" ] && [ "$failed" = 0 ] || {
		echo "exec loop went wrong: $out" >&2
		return 1
	}
	awk -v ns="$ns" 'BEGIN { printf "%.3f\n", 1e9 / ns }'
}

workload_exec_hook_progs() {
	printf '%s\n' vouch_exec vouch_exec_lsm floor_exec sched_process_e
}

# Allowed: /usr/ (where EXEC_BIN lives) and the trigger. In audit mode the bench scope has
# an allow-list that matches nothing instead, so every exec is recorded.
workload_exec_rules() {
	if [ "$1" = audit ]; then
		printf '    exec:\n      allow: ["/nonexistent-vouch-bench/"]\n'
	else
		printf '    exec:\n      allow: ["/usr/", "%s"]\n      deny: ["/nonexistent-vouch-bench/x"]\n' \
			"$TRIGGER"
	fi
	printf '    deny_direct_loader: true\n    deny_anonymous: true\n    check_scripts: true\n'
}
