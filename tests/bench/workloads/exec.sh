# SPDX-License-Identifier: GPL-2.0-only
# The exec workload of tests/bench/compare.sh: sequential fork+exec of an
# allowed binary (see tests/bench/workloads.sh for the interface).

EXEC_BIN=/usr/bin/true
: "${BENCH_EXEC_OPS:=2000}"
: "${BENCH_EXEC_WARMUP:=200}"
: "${BENCH_EXEC_STATS_OPS:=500}"

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

workload_exec_floor_pair() { echo vouch_exec floor_exec sched_process_e 8; }

# Allowed: /usr/ (where EXEC_BIN lives) and the bench's own loops, the
# trigger and vouch-connect (the connect workload runs in the same cgroup).
# In audit mode the bench scope has an allow-list that matches nothing
# instead, so every exec is recorded.
workload_exec_rules() {
	if [ "$1" = audit ]; then
		printf '    exec:\n      allow: ["/nonexistent-vouch-bench/"]\n'
	else
		printf '    exec:\n      allow: ["/usr/", "%s", "%s"]\n      deny: ["/nonexistent-vouch-bench/x"]\n' \
			"$TRIGGER" "$CONNECT"
	fi
	printf '    deny_direct_loader: true\n    deny_anonymous: true\n    check_scripts: true\n'
}

workload_exec_events() {
	jq -c --arg e "$EXEC_BIN" \
		'select(.kind == "exec" and .process.exe == $e)' "$1" | wc -l
}

workload_exec_method() {
	echo "\`vouch-trigger loop\` of $BENCH_EXEC_OPS sequential fork+execv+wait of \`$EXEC_BIN\`, allowed in enforce."
}
