#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make run`: vouchd enforcing rules/example.yaml on this machine, shipping
# its events to a local vouch-collector, and the collector's live stream
# (vouchctl events --follow) on screen, one readable line per event.
# Ctrl-C stops everything and detaches every program.
set -u
cd "$(dirname "$0")/.."
OUT=${OUTPUT:-.output}
RULES=${RULES:-rules/example.yaml}
dir=$(mktemp -d /run/vouch-demo.XXXXXX)
pids=()

stop() {
	local i
	# vouchd first (it detaches), then the stream, then the collector
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null
		[ "$i" = 2 ] && sleep 1	# the shipper's last batch, shown
	done
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 0' INT TERM

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
port=8080
while ! port_free "$port"; do port=$((port + 1)); done
url=http://127.0.0.1:$port

cat > "$dir/vouchd.yaml" <<YAML
rules: $PWD/$RULES
log:
  level: info
  format: text
# the demo ends at Ctrl-C, and its enforcement with it: nothing pinned
bpf:
  pin: false
events:
  output: $dir/events.jsonl
collector:
  url: $url
  spool_dir: $dir/spool
YAML

"$OUT/vouchctl" lint "$RULES" || exit 1
# the collector and the stream get no Ctrl-C of their own: they are
# stopped after vouchd, so its last events still arrive and show
setsid "$OUT/vouch-collector" --listen "127.0.0.1:$port" --db "$dir/events.db" &
pids+=($!)
for _ in $(seq 100); do port_free "$port" || break; sleep 0.05; done
setsid "$OUT/vouchctl" events --collector "$url" --follow &
pids+=($!)
"$OUT/vouchd" --config "$dir/vouchd.yaml" &
pids+=($!)

for _ in $(seq 100); do
	grep -q '"vouchd started"' "$dir/events.jsonl" 2>/dev/null && break
	kill -0 "${pids[2]}" 2>/dev/null || exit 1
	sleep 0.1
done
cat <<MSG

vouchd is enforcing $RULES on this machine; its events go to vouch-collector
at $url (SQLite: $dir/events.db), shown below as they are stored.
A first violation follows: a copy of /usr/bin/true run from /tmp/.
Try your own, e.g.:  cp /usr/bin/id /tmp/x && /tmp/x
Ctrl-C stops vouchd, the collector and the stream, and detaches everything.

MSG
demo=/tmp/vouch-demo-$$
cp /usr/bin/true "$demo" && "$demo"
echo "(the shell saw exit status $? from $demo: 137 means SIGKILL)"
rm -f "$demo"
wait "${pids[2]}"
