#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vouchd speaks systemd's notify protocol (Type=notify) as the unit
# expects: READY=1 once its programs are attached and its policy loaded,
# STATUS= naming the policy, WATCHDOG=1 at least twice per watchdog period
# even when losses are checked less often, RELOADING=1 and READY=1 around a
# SIGHUP, STOPPING=1 on SIGTERM. socat stands in for systemd's socket.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce
write_config
# losses checked every 5 s; a 400 ms watchdog must still be fed
sed -i 's/loss_report_ms: 100/loss_report_ms: 5000/' "$W/vouchd.yaml"
SOCK=$W/notify.sock
socat -u UNIX-RECV:"$SOCK" - > "$W/notify.log" 2> "$W/socat.err" &
SOCAT=$!
trap 'stop_process $SOCAT; cleanup' EXIT
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done

: > "$W/events.jsonl"
# WATCHDOG_PID must be vouchd's own: the shell's, which exec makes vouchd's
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=400000 sh -c \
	'WATCHDOG_PID=$$ exec "$0" --config "$1"' "$VOUCHD" "$W/vouchd.yaml" \
	2> "$W/vouchd.log" &
VOUCHD_PID=$!
# said N TEXT: waits until TEXT was received N times (socat writes the
# datagrams one after the other, without separators)
said() {
	for _ in $(seq 200); do
		[ "$(grep -o "$2" "$W/notify.log" | wc -l)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

echo "notify: ready once enforcing"
check "READY=1 arrives" said 1 'READY=1'
check "by then the policy is in force" grep -q 'policy: generation 1 in force' "$W/vouchd.log"
check "and the exec program is loaded" [ "$(vouch_progs_loaded)" -ge 3 ]
in_cg "$T" run "$W/denied/bad" marker "$W/m" > "$W/out"
check "and a denied exec is killed" grep -qx 'signal 9' "$W/out"
check "STATUS= names the policy" said 1 'STATUS=policy generation 1: '

echo "notify: the watchdog is fed faster than losses are checked"
check "WATCHDOG=1, again and again" said 5 'WATCHDOG=1'

echo "notify: reload and stop"
kill -HUP "$VOUCHD_PID"
check "RELOADING=1 on SIGHUP" said 1 'RELOADING=1'
check "then READY=1 again" said 2 'READY=1'
check "STATUS= names generation 2" said 1 'STATUS=policy generation 2: '
kill -TERM "$VOUCHD_PID"
check "STOPPING=1 on SIGTERM" said 1 'STOPPING=1'
wait "$VOUCHD_PID"
check "vouchd exits 0" [ $? = 0 ]
VOUCHD_PID=

finish
