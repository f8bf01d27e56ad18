# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the e2e tests and the benchmarks.

# stop_process PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it.
stop_process() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
