#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Containers identified through the Kubernetes API (issue 4). No API server
# can run here, so tests/k8s/replay.js stands in for one: it serves pod
# lists recorded from real clusters (tests/fixtures/k8s/README.md says
# where each came from) over TLS, and checks the token and the node's
# field selector. Real runc containers carry the recorded container IDs,
# and vouchd judges them by what the API says about their pods.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
REPLAY_PID=
trap '[ -n "$REPLAY_PID" ] && kill "$REPLAY_PID"; cleanup_containers; cleanup' EXIT

command -v node > /dev/null || { fail "node is needed (make deps)"; finish; exit 1; }
make_binaries
make_rootfs
make_test_pki "$W/pki" || { fail "test PKI"; finish; exit 1; }

# recorded: pod fluent-bit (CRI-O, labels name and version, deploy ID) and
# nginx pods; their container IDs and image digests
FLUENT_ID=c9898099f6d235126d564ed38a020007ea7a6fac6e25e718de683c9dd0076c16
FLUENT_DIGEST=sha256:7ac0fd3569af866e9a6a22eb592744200d2dbe098cf066162453f8d0b06c531f
NGINX_ID=2137c90274ba6b98a775981fc1b18b476bcc316479b624bb32da7c8930318ed4

mkdir -p "$W/k8s"
cp -r "$TOP/tests/fixtures/k8s/served" "$W/k8s/served"
: > "$W/k8s/served/quiet.jsonl"
cat > "$W/k8s/scenario.json" <<JSON
{ "node": "k8s-e2e-node",
  "sources": {},
  "steps": [
    { "name": "list, page 1", "request": "list", "expect": {}, "body": "list-1.json" },
    { "name": "list, page 2", "request": "list", "expect": {}, "body": "list-2.json" },
    { "name": "watch, nothing new", "request": "watch", "expect": {},
      "events": "quiet.jsonl", "end": "hold" } ] }
JSON
echo "e2e-token" > "$W/k8s/token"
node "$TOP/tests/k8s/replay.js" --scenario "$W/k8s/scenario.json" \
	--token-file "$W/k8s/token" --report "$W/k8s/report.jsonl" \
	--cert "$W/pki/server.crt" --key "$W/pki/server.key" \
	> "$W/k8s/port" 2> "$W/k8s/replay.log" &
REPLAY_PID=$!
for _ in $(seq 100); do [ -s "$W/k8s/port" ] && break; sleep 0.05; done
PORT=$(head -1 "$W/k8s/port")

container_rules enforce "
  - digest: $FLUENT_DIGEST
    service: fluent-bit
    version: 1.0.6
    namespace: options
    exec:
      allow: [/bin/]"
write_config
cat >> "$W/vouchd.yaml" <<YAML
kubernetes:
  api_url: https://127.0.0.1:$PORT
  token_file: $W/k8s/token
  ca_file: $W/pki/ca.crt
  node_name: k8s-e2e-node
YAML
start_vouchd || exit 1
for _ in $(seq 100); do
	grep -q '"watch, nothing new"' "$W/k8s/report.jsonl" 2>/dev/null && break
	sleep 0.05
done
check "the provider listed this node's pods with its token" \
	grep -q '"watch, nothing new"' "$W/k8s/report.jsonl"
ev() { wait_for 8 "$1"; }

# no annotations at all: every fact comes from the API
make_bundle "$FLUENT_ID" '{}' /bin/sh -c 'echo ran > /out/fluent'
run_container "$FLUENT_ID"
check "attested by its pod's imageID: the container runs" [ -e "$W/out/fluent" ]
check "its start carries the pod's metadata" ev '
	.kind == "container" and .verdict == "allow" and
	.workload.containerId == "'$FLUENT_ID'" and
	.workload.namespace == "options" and .workload.pod == "use-kubelet-enabled" and
	.workload.service == "fluent-bit" and .workload.version == "1.0.6" and
	.workload.deployId == "deploy-fluent-bit-2019-04-03" and
	.workload.imageDigest == "'$FLUENT_DIGEST'"'

make_bundle "$NGINX_ID" '{}' /bin/sh -c 'echo ran > /out/nginx'
run_container "$NGINX_ID"
check "an image its pod names but no attestation lists: never runs" [ ! -e "$W/out/nginx" ]
check "killed, with the pod named" ev '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "'$NGINX_ID'" and .workload.namespace == "default" and
	(.reason | test("not on the allow-list"))'
check "vouchd survived" kill -0 "$VOUCHD_PID"
finish
