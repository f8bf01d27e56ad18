#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Enforcement never depends on delivery, and nothing is lost silently:
# with vouchd stopped (SIGSTOP) and a small ring buffer, 2,000 denied execs
# are all still killed, and once vouchd runs again the events it reports
# plus the losses it counts add up to exactly 2,000. A container starting
# then is killed, not held where vouchd would never see it.
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

# --- a container's first exec with the ring buffer full: vouchd would never
# learn of a hold, so the kernel kills it (enforce) and counts the loss
stop_vouchd
# a containers root of its own, which lib.sh's cleanup removes with the test
mkdir -p "$CG-ct"
write_rules enforce "
containers:
  mode: enforce
  cgroup_roots: [\"/$CGNAME-ct\"]"
start_vouchd || exit 1
kill -STOP "$VOUCHD_PID"
in_cg "$T" flood $N "$W/denied/bad" marker "$W/m-loss2" > /dev/null
mkdir "$CG-ct/full-$$"
spawn_in_cgroup "$CG-ct/full-$$" "$W/m-full"
full=$!
# killed (a zombie, or reaped), or stopped for good
wait_state "$full" '^[ZT]?$'
state=$(proc_state "$full")
check "ring buffer full: the container's exec is not held unseen (state ${state:-gone})" \
	[ "$state" != T ]
check "ring buffer full: the container's entrypoint never ran" [ ! -e "$W/m-full" ]
kill -9 "$full" 2> /dev/null
wait "$full" 2> /dev/null
kill -CONT "$VOUCHD_PID"
check "ring buffer full: the lost container record is counted" wait_for 8 '
	.kind == "loss" and .loss.kind == "container" and .loss.count >= 1'

# with fail_action release, the same start runs unheld (the loss counted)
write_rules enforce "
containers:
  mode: enforce
  fail_action: release
  cgroup_roots: [\"/$CGNAME-ct\"]"
reload || fail "reload with fail_action release"
kill -STOP "$VOUCHD_PID"
in_cg "$T" flood $N "$W/denied/bad" marker "$W/m-loss3" > /dev/null
mkdir "$CG-ct/free-$$"
spawn_in_cgroup "$CG-ct/free-$$" "$W/m-free"
wait_state $! '^Z?$'
kill -CONT "$VOUCHD_PID"
check "ring buffer full, fail_action release: the container runs, not held" \
	[ -e "$W/m-free" ]
remove_cgroup "$CG-ct"

finish
