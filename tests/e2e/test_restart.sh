#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Restart without a gap, on the real kernel. While a denied exec is fired
# every 10 ms, vouchd is killed with SIGKILL, started again (taking over the
# pinned maps and links), then stopped and replaced by an upgraded build
# (the same sources built apart with another version). Not one denied exec
# may run, the events the
# kernel buffered while no vouchd ran must be delivered, and enforcement
# ends only with an explicit `vouchd --unload`.

# The upgrade: the same sources built apart, with another version, before
# the BPF lock is taken.
# Where nothing can be built (make vmtest), the image carries one built
# beforehand as .output/vouchd-upgrade.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
UPGRADE=$(mktemp -d /tmp/vouch-upgrade.XXXXXX)
UP_VERSION="$(cat "$TOP/VERSION")+upgrade"
if [ -x "$TOP/.output/vouchd-upgrade" ] && ! command -v make > /dev/null; then
	cp "$TOP/.output/vouchd-upgrade" "$UPGRADE/vouchd"
else
	make -C "$TOP" --no-print-directory OUTPUT="$UPGRADE" VERSION="$UP_VERSION" \
		"$UPGRADE/vouchd" > "$UPGRADE/build.log" 2>&1 ||
		{ cat "$UPGRADE/build.log"; echo "0 passed, 1 failed"; exit 1; }
fi
. "$(dirname "$0")/lib.sh"
trap 'cleanup; rm -rf "$UPGRADE"' EXIT

make_binaries
write_rules enforce
PIN_DIR=/sys/fs/bpf/vouch-e2e-$$-$RANDOM
write_config
# room for the events of a restart's gap, not for a flood of 3,000
printf '  ring_buffer_kb: 1024\n' >> "$W/vouchd.yaml"
PORT=$(free_port) || { fail "no free port"; finish; exit 1; }
printf 'metrics:\n  listen: 127.0.0.1:%s\n' "$PORT" >> "$W/vouchd.yaml"
URL=http://127.0.0.1:$PORT
LOOP=

# start BINARY: starts a vouchd and waits for its "started" event; the
# events file is kept, so what a restart delivers adds to it.
start() {
	local before
	before=$(count_events '.kind == "agent" and .reason == "vouchd started"')
	"$1" --config "$W/vouchd.yaml" 2>> "$W/vouchd.log" &
	VOUCHD_PID=$!
	for _ in $(seq 600); do
		[ "$(count_events '.kind == "agent" and .reason == "vouchd started"')" -gt "$before" ] && return 0
		sleep 0.05
	done
	cat "$W/vouchd.log" >&2
	return 1
}
# phase NAME: tags the attempts made from now on.
phase() { echo "$1" > "$W/phase"; }
attempts() { wc -l < "$W/attempts"; }
# wait_attempts N: until N more attempts were made.
wait_attempts() {
	local until=$(($(attempts) + $1))
	for _ in $(seq 1000); do
		[ "$(attempts)" -ge "$until" ] && return 0
		sleep 0.01
	done
	return 1
}
prog_ids() { bpftool -j link show 2> /dev/null | jq -r --argjson ids "$(link_ids)" '.[] | select(.id as $i | $ids | index($i)) | .prog_id' | sort -n | paste -sd,; }
link_ids() {
	local ids="" f
	for f in "$PIN_DIR"/links/*; do
		ids="$ids,$(bpftool -j link show pinned "$f" 2> /dev/null | jq .id)"
	done
	echo "[${ids#,}]"
}

: > "$W/events.jsonl"
: > "$W/attempts"
phase first
start "$VOUCHD" || { fail "vouchd starts"; finish; exit 1; }

# The firing loop: bash and sleep are under /usr/, allowed; the denied
# binary would write its marker if it ever ran one instruction.
in_cg bash -c 'i=0
while [ ! -e "$1/stop" ]; do
	i=$((i + 1))
	read -r ph < "$1/phase"
	"$1/denied/bad" marker "$1/m-$i" 2> /dev/null
	echo "$i $? $ph" >> "$1/attempts"
	sleep 0.01
done' loop "$W" 2> "$W/loop.err" &
LOOP=$!
trap 'touch "$W/stop"; wait $LOOP 2> /dev/null; cleanup; rm -rf "$UPGRADE"' EXIT

echo "restart: a running vouchd enforces"
check "denied execs are killed while vouchd runs" wait_attempts 20
progs_first=$(prog_ids)

echo "restart: SIGKILL, and nothing runs while vouchd is down"
kill -KILL "$VOUCHD_PID"
wait "$VOUCHD_PID" 2> /dev/null
VOUCHD_PID=
phase down
check "the links stay pinned after SIGKILL" [ "$(ls "$PIN_DIR/links" | wc -l)" -ge 3 ]
check "denied execs go on being killed with no vouchd at all" wait_attempts 30

echo "restart: a new vouchd takes the pinned state over"
phase second
start "$VOUCHD" || fail "vouchd restarts"
check "it says it took the pinned maps over" grep -q 'took over the maps pinned' "$W/vouchd.log"
check "it runs on" wait_attempts 20
progs_second=$(prog_ids)
check "its own programs replaced the old ones ($progs_first -> $progs_second)" \
	[ -n "$progs_second" ] && [ "$progs_first" != "$progs_second" ]
check "the old programs are gone: one set loaded" \
	sh -c "for _ in \$(seq 100); do [ \$(bpftool prog show | grep -c 'name vouch_') = $(ls "$PIN_DIR/links" | wc -l) ] && exit 0; sleep 0.1; done; exit 1"
gen_second=$(curl -sf "$URL/metrics" | awk '$1 == "vouch_policy_generation" { print $2 }')
check "its policy generation follows the one it found (2: $gen_second)" [ "$gen_second" = 2 ]
gens() { bpftool -j map dump pinned "$PIN_DIR/maps/scopes" | jq -c '[.[].formatted.key.gen] | unique'; }
check "the first vouchd's generation is still in the maps" [ "$(gens)" = "[1,2]" ]
reload
check "a reload makes generation 3" [ "$(curl -sf "$URL/metrics" | awk '$1 == "vouch_policy_generation" { print $2 }')" = 3 ]
check "and clears what the first vouchd left (generations $(gens))" [ "$(gens)" = "[2,3]" ]

echo "restart: an upgraded build ($UP_VERSION) takes over from a stopped one"
phase stopped
stop_vouchd
check "after SIGTERM the programs stay attached" [ "$(ls "$PIN_DIR/links" | wc -l)" -ge 3 ]
check "denied execs are killed between stop and upgrade" wait_attempts 10
phase upgraded
start "$UPGRADE/vouchd" || fail "the upgraded vouchd starts"
check "the running agent is the upgrade" \
	[ "$(curl -sf "$URL/metrics" | awk '$1 == "vouch_build_info{version=\"'"$UP_VERSION"'\"}" { print $2 }')" = 1 ]
check "the upgraded build runs on" wait_attempts 20
progs_third=$(prog_ids)
check "the upgrade's programs replaced the old ones" \
	[ -n "$progs_third" ] && [ "$progs_second" != "$progs_third" ]
gen_third=$(curl -sf "$URL/metrics" | awk '$1 == "vouch_policy_generation" { print $2 }')
check "its policy generation follows (4: $gen_third)" [ "$gen_third" = 4 ]
check "the upgraded vouchd is healthy" [ "$(curl -s "$URL/healthz")" = ok ]
"$VOUCHD" --config "$W/vouchd.yaml" > /dev/null 2> "$W/second.log"
rc=$?
check "a second vouchd on the same pins is refused ($rc)" \
	sh -c "[ $rc != 0 ] && grep -q 'another vouchd runs on' '$W/second.log'"
"$VOUCHD" --config "$W/vouchd.yaml" --unload 2> "$W/busy.log"
rc=$?
check "--unload is refused while a vouchd runs ($rc)" [ $rc = 1 ]
check "and the pins are still there" [ "$(ls "$PIN_DIR/links" | wc -l)" -ge 3 ]
check "the running vouchd is still healthy" [ "$(curl -s "$URL/healthz")" = ok ]

touch "$W/stop"
wait "$LOOP"
LOOP=

echo "restart: the count"
total=$(attempts)
killed=$(awk '$2 == 137' "$W/attempts" | wc -l)
down=$(awk '$3 == "down" || $3 == "stopped"' "$W/attempts" | wc -l)
echo "  $total attempts, $killed killed, $down while no vouchd ran"
check "every one of $total denied execs was killed" [ "$killed" = "$total" ]
check "not one marker was written" [ -z "$(ls "$W" | grep '^m-')" ]
# every attempt's marker argument names it in its event
want=$(awk '{ print $1 }' "$W/attempts" | sort -n | paste -sd,)
have_ids() {
	jq -r --arg w "$W/m-" 'select(.kind == "exec" and .action == "killed") | .process.argv[2] // empty | select(startswith($w)) | ltrimstr($w)' "$W/events.jsonl" | sort -nu | paste -sd,
}
for _ in $(seq 100); do [ "$(have_ids)" = "$want" ] && break; sleep 0.1; done
have=$(have_ids)
check "an event for every attempt: $(tr ',' '\n' <<< "$have" | grep -c .) of $total" [ "$have" = "$want" ]
gap=$(awk '$3 == "down" { print $1 }' "$W/attempts" | sort -n | paste -sd,)
check "the attempts made while vouchd was dead were delivered after the restart" \
	[ -n "$gap" ] && [ "$(comm -12 <(tr ',' '\n' <<< "$gap" | sort) <(tr ',' '\n' <<< "$have" | sort) | wc -l)" = "$(tr ',' '\n' <<< "$gap" | wc -l)" ]
check "nothing was lost" [ "$(count_events '.kind == "loss" and .loss.kind == "exec"')" = 0 ]

echo "restart: losses are reported once, across a takeover"
# a flood into a stopped vouchd overflows the ring buffer; the losses are
# reported once by the vouchd that takes over, and never again by the next
kill -STOP "$VOUCHD_PID"
in_cg "$T" flood 3000 "$W/denied/bad" marker "$W/m-flood" > "$W/out.flood"
kill -KILL "$VOUCHD_PID"
kill -CONT "$VOUCHD_PID" 2> /dev/null
wait "$VOUCHD_PID" 2> /dev/null
VOUCHD_PID=
lost_sum() { jq -s '[.[] | select(.kind == "loss" and .loss.kind == "exec") | .loss.count] | add // 0' "$W/events.jsonl"; }
flood_events() { count_events '.kind == "exec" and (.process.argv[2] // "") == "'$W'/m-flood"'; }
start "$VOUCHD" || fail "vouchd restarts after the flood"
for _ in $(seq 100); do
	[ $(($(lost_sum) + $(flood_events))) -ge 3000 ] && break
	sleep 0.05
done
first_sum=$(lost_sum)
echo "  flood: $(flood_events) delivered, $first_sum lost"
check "the flood's events and losses add up to 3000 or more (duplicates allowed)" \
	[ $((first_sum + $(flood_events))) -ge 3000 ]
stop_vouchd
start "$VOUCHD" || fail "vouchd restarts once more"
# its first loss check has run once the loss series are served
for _ in $(seq 100); do
	curl -sf "$URL/metrics" | grep -q '^vouch_events_lost_total{kind="exec"}' && break
	sleep 0.05
done
check "the next vouchd does not report the same losses again" [ "$(lost_sum)" = "$first_sum" ]

echo "restart: enforcement ends only when unloaded"
stop_vouchd
in_cg "$T" run "$W/denied/bad" marker "$W/m-after-stop" > "$W/out.after-stop"
check "stopped, but pinned: still killed" grep -qx 'signal 9' "$W/out.after-stop"
"$VOUCHD" --config "$W/vouchd.yaml" --unload 2> "$W/unload.log"
check "vouchd --unload succeeds" [ $? = 0 ]
check "the pin directory is gone" [ ! -e "$PIN_DIR" ]
check "no vouch program is left loaded" wait_unloaded
in_cg "$T" run "$W/denied/bad" marker "$W/m-after-unload" > "$W/out.after-unload"
check "after unload the denied binary runs" grep -qx 'exit 0' "$W/out.after-unload"

echo "restart: a first start that fails leaves nothing pinned"
printf 'version: 1\nmode: bogus\n' > "$W/rules.yaml"
"$VOUCHD" --config "$W/vouchd.yaml" > /dev/null 2> "$W/bad.log"
check "vouchd refuses broken rules" [ $? = 1 ]
check "and removes the pins it had just made" [ ! -e "$PIN_DIR" ]
check "no vouch program is left loaded" wait_unloaded

# on failure, what the endpoint said of itself
[ "$FAILED" = 0 ] || grep -E "metrics:|error" "$W/vouchd.log" | sed "s/^/    log: /"
finish
