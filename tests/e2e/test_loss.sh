#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Enforcement never depends on delivery, and nothing is lost silently:
# with vouchd stopped (SIGSTOP) and a small ring buffer, 2,000 denied execs
# are all still killed, and once vouchd runs again the events it reports
# plus the losses it counts add up to exactly 2,000.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce
write_config
printf '  ring_buffer_kb: 64\n' >> "$W/vouchd.yaml"
start_vouchd || exit 1

N=2000
kill -STOP "$VOUCHD_PID"
in_cg "$T" flood $N "$W/denied/bad" marker "$W/m-loss" > "$W/out.loss"
kill -CONT "$VOUCHD_PID"
read -r _ started _ killed _ exited _ other < "$W/out.loss"
check "consumer stopped: all $N still killed (got $killed)" [ "$killed" = $N ]

events() { count_events '.kind == "exec" and .process.exe == "'$W'/denied/bad"'; }
losses() { jq -s '[.[] | select(.kind == "loss" and .loss.kind == "exec") | .loss.count] | add // 0' "$W/events.jsonl"; }
for _ in $(seq 100); do
	[ $(($(events) + $(losses))) -ge $N ] && break
	sleep 0.1
done
e=$(events)
l=$(losses)
echo "  reported $e, counted lost $l"
check "the ring buffer overflowed (losses counted: $l)" [ "$l" -gt 0 ]
check "some events still arrived ($e)" [ "$e" -gt 0 ]
check "reported + lost = $N exactly ($((e + l)))" [ $((e + l)) = $N ]
check "each loss event names its kind and reason" jq -e -s 'map(select(.kind == "loss")) | all(.loss.kind == "exec" and (.reason | length) > 0)' "$W/events.jsonl"

finish
