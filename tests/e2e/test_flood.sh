#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# 2,000 denied execs as fast as this machine forks: every one is killed and
# every one is either reported or counted as a loss. Then the same while the
# rules are reloaded over and over: no exec sees a gap between policies.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce
write_config
start_vouchd || exit 1

N=2000
in_cg "$T" flood $N "$W/denied/bad" marker "$W/m-flood" > "$W/out.flood"
read -r _ started _ killed _ exited _ other < "$W/out.flood"
check "flood: all $N started" [ "$started" = $N ]
check "flood: all $N killed (got $killed, exited $exited, other $other)" [ "$killed" = $N ]
check "flood: no marker" [ ! -e "$W/m-flood" ]

sum_seen() {
	local events losses
	events=$(count_events '.kind == "exec" and .process.exe == "'$W'/denied/bad"')
	losses=$(jq -s '[.[] | select(.kind == "loss") | .loss.count] | add // 0' "$W/events.jsonl")
	echo $((events + losses))
}
for _ in $(seq 100); do
	[ "$(sum_seen)" -ge $N ] && break
	sleep 0.1
done
check "flood: reported + lost = $N (got $(sum_seen))" [ "$(sum_seen)" = $N ]

echo "flood: rules reloaded every 20 ms during 2,000 denied execs"
: > "$W/events.jsonl"
( while :; do kill -HUP "$VOUCHD_PID" 2>/dev/null || exit 0; sleep 0.02; done ) &
HUPPER=$!
in_cg "$T" flood $N "$W/denied/bad" marker "$W/m-flood2" > "$W/out.flood2"
kill "$HUPPER"; wait "$HUPPER" 2>/dev/null
read -r _ started _ killed _ exited _ other < "$W/out.flood2"
reloads=$(count_events '.kind == "policy" and (.reason | test("loaded"))')
check "reloads happened during the flood ($reloads)" [ "$reloads" -ge 5 ]
check "flood during reloads: all $N killed (got $killed, exited $exited)" [ "$killed" = $N ]
in_cg "$T" run "$T" marker "$W/m-ok" > "$W/out.ok"
check "after the reloads, allowed binaries still run" grep -qx "exit 0" "$W/out.ok"

finish
