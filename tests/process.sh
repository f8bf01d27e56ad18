# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the e2e tests and the benchmarks.

# take_bpf_lock: one BPF-loading test or benchmark at a time on this
# machine, even from several checkouts; held until the shell exits.
take_bpf_lock() {
	exec 9>/run/vouch-bpf-tests.lock
	flock 9
}

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

# vouch programs loaded anywhere on this machine, attached or not.
vouch_progs_loaded() {
	bpftool prog show 2>/dev/null | grep -c 'name vouch_'
}

# The kernel frees a detached program only after its last reference goes,
# which can lag vouchd's exit by a moment: waits up to 10 s for none.
wait_unloaded() {
	for _ in $(seq 100); do
		[ "$(vouch_progs_loaded)" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}
