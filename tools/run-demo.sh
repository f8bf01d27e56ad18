#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make run`: vouchd enforcing rules/example.yaml on this machine, its
# violations shown as they happen, one readable line each. Ctrl-C stops it
# and detaches every program.
set -u
cd "$(dirname "$0")/.."
OUT=${OUTPUT:-.output}
RULES=${RULES:-rules/example.yaml}
dir=$(mktemp -d /run/vouch-demo.XXXXXX)
vouchd_pid=

stop() {
	[ -n "$vouchd_pid" ] && kill -TERM "$vouchd_pid" 2>/dev/null && wait "$vouchd_pid"
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 0' INT TERM

cat > "$dir/vouchd.yaml" <<YAML
rules: $PWD/$RULES
log:
  level: info
  format: text
events:
  output: $dir/events.jsonl
YAML
: > "$dir/events.jsonl"

"$OUT/vouchctl" lint "$RULES" || exit 1
"$OUT/vouchd" --config "$dir/vouchd.yaml" &
vouchd_pid=$!

# One line per event; the full JSON stays in the events file.
tail --pid="$vouchd_pid" -n +1 -F "$dir/events.jsonl" 2>/dev/null | jq --unbuffered -r '
	if .kind == "exec" or .kind == "script" or .kind == "exception" then
		"\(.time[11:23]) \(.kind) \(.action | ascii_upcase) \(.process.exe) pid=\(.process.pid) ppid=\(.process.ppid) parent=\(.process.parentExe // "?") cgroup=\(.workload.cgroupPath // "?") rule=\(.rule) -- \(.reason)"
	elif .kind == "loss" then
		"\(.time[11:23]) LOSS \(.loss.count) \(.loss.kind) events: \(.reason)"
	else
		"\(.time[11:23]) \(.kind): \(.reason)"
	end' &

for _ in $(seq 100); do
	grep -q '"vouchd started"' "$dir/events.jsonl" 2>/dev/null && break
	kill -0 "$vouchd_pid" 2>/dev/null || exit 1
	sleep 0.1
done
cat <<MSG

vouchd is enforcing $RULES on this machine (events: $dir/events.jsonl).
A first violation follows: a copy of /usr/bin/true run from /tmp/.
Try your own, e.g.:  cp /usr/bin/id /tmp/x && /tmp/x
Ctrl-C stops vouchd and detaches everything.

MSG
demo=/tmp/vouch-demo-$$
cp /usr/bin/true "$demo" && "$demo"
echo "(the shell saw exit status $? from $demo: 137 means SIGKILL)"
rm -f "$demo"
wait "$vouchd_pid"
