#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A killed exec on this machine reaches vouch-collector and its SQLite file
# and is read back with vouchctl events, every field filled.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce
write_config
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
start_collector "$PORT" "$W/events.db" || exit 1
cat >> "$W/vouchd.yaml" <<YAML
collector:
  url: $URL
  spool_dir: $W/spool
YAML
start_vouchd || exit 1

in_cg "$T" run "$W/denied/bad" marker "$W/m" "an arg" > "$W/out"
check "the denied exec was killed" grep -qx "signal 9" "$W/out"

stored() {
	"$VOUCHCTL" events --collector "$URL" --kind exec --agent e2e-agent \
		-o json 2> "$W/vouchctl.err"
}
for _ in $(seq 100); do stored | grep -q . && break; sleep 0.1; done
ev=$(stored | jq -c 'select(.process.exe == "'$W'/denied/bad")' | head -1)
check "vouchctl events shows the killed exec" [ -n "$ev" ]
field() { jq -r "$1" <<< "$ev"; }
check "collector: agent and node" [ "$(field '.agentId + "/" + .node')" = e2e-agent/e2e-node ]
check "collector: seq and time" jq -e '.seq > 0 and (.time | test("^20[0-9-]+T[0-9:.]+Z$"))' <<< "$ev"
check "collector: verdict, action, mode" [ "$(field '.verdict + "/" + .action + "/" + .mode')" = deny/killed/enforce ]
check "collector: rule and reason" jq -e '(.rule | length) > 0 and (.reason | length) > 0' <<< "$ev"
check "collector: pid, ppid" jq -e '.process.pid > 1 and .process.ppid > 1' <<< "$ev"
check "collector: exe, dev, inode" jq -e '.process.dev > 0 and .process.inode > 0' <<< "$ev"
check "collector: argv in full" [ "$(field '.process.argv | join("|")')" = "$W/denied/bad|marker|$W/m|an arg" ]
check "collector: parent exe" [ "$(field .process.parentExe)" = "$T" ]
check "collector: workload cgroup" [ "$(field .workload.cgroupPath)" = "/$CGNAME" ]
check "collector: policy generation" jq -e '.policy.generation >= 1' <<< "$ev"
check "the same event is in the SQLite file" \
	[ "$(sqlite3 "$W/events.db" "select count(*) from events where agent_id = 'e2e-agent' and kind = 'exec'")" -ge 1 ]
"$VOUCHCTL" events --collector "$URL" --kind exec > "$W/text"
check "text output: one readable line naming the exe" grep -q "killed $W/denied/bad" "$W/text"
check "a filter that matches nothing prints nothing" \
	[ -z "$("$VOUCHCTL" events --collector "$URL" --node no-such-node -o json)" ]

echo "pipeline: follow"
"$VOUCHCTL" events --collector "$URL" --kind exec --follow -o json > "$W/follow" 2>&1 &
FOLLOW=$!
sleep 0.5
in_cg "$T" run "$W/denied/bad" marker "$W/m2" followed > "$W/out2"
for _ in $(seq 100); do grep -q followed "$W/follow" && break; sleep 0.1; done
check "follow shows an event stored after it started" grep -q '"followed"' "$W/follow"
kill "$FOLLOW" 2>/dev/null; wait "$FOLLOW" 2>/dev/null

echo "pipeline: TLS with client certificates, vouchd to the collector"
stop_vouchd
stop_collector
PKI=$W/pki
make_test_pki "$PKI" || fail "make a test PKI"
PORT=$(free_port)
URL=https://127.0.0.1:$PORT
start_collector "$PORT" "$W/tls.db" --tls-cert "$PKI/server.crt" \
	--tls-key "$PKI/server.key" --client-ca "$PKI/ca.crt" || exit 1
sed -i '/^collector:/,$d' "$W/vouchd.yaml"
cat >> "$W/vouchd.yaml" <<YAML
collector:
  url: $URL
  ca_file: $PKI/ca.crt
  client_cert: $PKI/agent.crt
  client_key: $PKI/agent.key
  spool_dir: $W/spool
YAML
start_vouchd || exit 1
in_cg "$T" run "$W/denied/bad" marker "$W/m3" over-tls > /dev/null
tls_events() {
	"$VOUCHCTL" events --collector "$URL" --ca-file "$PKI/ca.crt" \
		--cert "$PKI/agent.crt" --key "$PKI/agent.key" -o json "$@" 2>/dev/null
}
for _ in $(seq 100); do tls_events | grep -q over-tls && break; sleep 0.1; done
check "over TLS with a client certificate, the killed exec is stored" \
	sh -c "sqlite3 '$W/tls.db' 'select count(*) from events' | grep -qv '^0$'"
tls_has() { tls_events | grep -q "$1"; }
check "... and read back with vouchctl over TLS" tls_has over-tls
check "a reader without a client certificate is refused" \
	sh -c "! '$VOUCHCTL' events --collector '$URL' --ca-file '$PKI/ca.crt' -o json > /dev/null 2>&1"
check "a reader with another CA's certificate is refused" \
	sh -c "! '$VOUCHCTL' events --collector '$URL' --ca-file '$PKI/ca.crt' --cert '$PKI/stranger.crt' --key '$PKI/stranger.key' -o json > /dev/null 2>&1"

finish
