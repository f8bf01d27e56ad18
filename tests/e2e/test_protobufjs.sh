#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What vouchd sends decodes, with protobufjs from npm, to the same values
# vouchd wrote to its local JSON lines: an independent implementation of
# protobuf reads the batches exactly as protobuf-c wrote them.
. "$(dirname "$0")/lib.sh"

INTEROP=$TOP/tests/interop
if [ ! -d "$INTEROP/node_modules/protobufjs" ]; then
	(cd "$INTEROP" && npm ci --no-audit --no-fund --loglevel=error) ||
		{ fail "npm ci in tests/interop"; finish; exit 1; }
fi

make_binaries
write_rules enforce
write_config
node "$INTEROP/capture.js" "$TOP/include/vouch.proto" "$W/decoded.jsonl" \
	> "$W/port" 2> "$W/capture.log" &
CAPTURE=$!
trap 'stop_process $CAPTURE; cleanup' EXIT
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
cat >> "$W/vouchd.yaml" <<YAML
collector:
  url: http://127.0.0.1:$(cat "$W/port")
  spool_dir: $W/spool
YAML
start_vouchd || exit 1

in_cg "$T" run "$W/denied/bad" marker "$W/m" "an arg" > "$W/out"
check "the denied exec was killed" grep -qx "signal 9" "$W/out"
decoded() { jq -c 'select(.kind == "exec")' "$W/decoded.jsonl" 2>/dev/null | head -1; }
for _ in $(seq 100); do [ -n "$(decoded)" ] && break; sleep 0.1; done
got=$(decoded)
check "protobufjs decoded an exec event from vouchd's batch" [ -n "$got" ]
seq=$(jq -r .seq <<< "$got")
want=$(jq -c "select(.seq == $seq)" "$W/events.jsonl")
check "the local JSON line has the same seq" [ -n "$want" ]

# protobufjs leaves out fields at their default (0, "", false, []).
same() {
	local path=$1 a b
	a=$(jq -c "$path // null | if . == 0 or . == \"\" or . == false or . == [] then null else . end" <<< "$got")
	b=$(jq -c "$path // null | if . == 0 or . == \"\" or . == false or . == [] then null else . end" <<< "$want")
	[ "$a" = "$b" ] || { echo "    $path: protobufjs $a, local $b"; return 1; }
}
for f in .agentId .node .seq .time .kind .verdict .action .mode .rule .reason \
	.process.pid .process.tid .process.ppid .process.uid .process.gid \
	.process.comm .process.exe .process.dev .process.inode .process.argv \
	.process.parentExe .process.exeFlags .workload.kind .workload.cgroupId \
	.workload.cgroupPath .workload.scope .policy.generation; do
	check "same value: $f" same "$f"
done
check "argv decoded whole, spaces and all" jq -e '.process.argv[-1] == "an arg"' <<< "$got"

finish
