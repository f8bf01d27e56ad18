#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Attested allow-lists in vouchd (issue 5): containers are judged against
# a signed bundle; a new bundle loaded with SIGHUP stops a new container
# of the image it dropped, and events name the serial and the key. A
# refused bundle leaves the policy in force untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
trap 'cleanup_containers; cleanup' EXIT

make_binaries
make_rootfs
P=ct-$$
mkdir -p "$W/keys" "$W/state"
openssl ecparam -name prime256v1 -genkey -noout -out "$W/keys/ci.pem" 2>/dev/null
openssl ec -in "$W/keys/ci.pem" -pubout -out "$W/keys/ci.pub" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$W/keys/rogue.pem" 2>/dev/null
KEY_ID=$(openssl pkey -pubin -in "$W/keys/ci.pub" -outform DER | sha256sum | cut -d' ' -f1)
cat > "$W/trust.yaml" <<YAML
version: 1
scope: e2e
keys:
  - name: ci
    file: $W/keys/ci.pub
YAML

# spec SERIAL DIGEST...: an allow-list for the images, each may run /bin/
spec() {
	local serial=$1 d
	shift
	printf 'serial: %s\nscope: e2e\nvalid_for: %s\nimages:\n' "$serial" "${VALID_FOR:-1d}"
	for d in "$@"; do
		printf '  %s:\n    service: web\n    version: "1.0"\n    environment: test\n' "$d"
		printf '    deploy_id: deploy-%s\n    exec:\n      allow: [/bin/]\n' "$serial"
		printf '    egress:\n      allow: []\n'
	done
}

# sign SERIAL KEY DIGEST...: writes the bundle vouchd loads
sign() {
	local serial=$1 key=$2
	shift 2
	spec "$serial" "$@" > "$W/spec.yaml"
	"$VOUCHCTL" attest --key "$W/keys/$key.pem" -o "$W/bundle.new" "$W/spec.yaml" &&
		chmod 0644 "$W/bundle.new" && mv "$W/bundle.new" "$W/bundle.json"
}

cat > "$W/rules.yaml" <<YAML
version: 1
mode: off
containers:
  mode: enforce
  cgroup_roots: ["/$CGNAME"]
  hold_timeout_ms: 1500
attestation:
  trust: $W/trust.yaml
  bundle: $W/bundle.json
  state_dir: $W/state/
YAML
write_config
sign 1 ci "$DIGEST_A" "$DIGEST_C" || { fail "vouchctl attest"; finish; exit 1; }
start_vouchd || exit 1
ev() { wait_for 8 "$1"; }

make_bundle "$P-1" "$(annotations "$DIGEST_A" deploy-1)" /bin/sh -c 'echo ran > /out/one'
run_container "$P-1"
check "serial 1: an attested container runs" [ -e "$W/out/one" ]
check "serial 1: its start names the serial and the key" ev '
	.kind == "container" and .verdict == "allow" and
	.workload.containerId == "'$P-1'" and .policy.bundleSerial == 1 and
	.policy.keyId == "'$KEY_ID'" and .workload.deployId == "deploy-1"'
check "serial 1 is recorded only once in force" grep -q . "$W/state/allowlist-e2e.state"

# refused bundles: each leaves serial 1 in force
refuse() {
	local what=$1
	reload || fail "$what: reload answered"
	check "$what: refused, the previous policy stays" ev '
		.kind == "policy" and (.reason | test("reload refused"))'
	make_bundle "$P-r$2" "$(annotations "$DIGEST_A")" \
		/bin/sh -c "echo ran > /out/r$2"
	run_container "$P-r$2"
	check "$what: the attested image still runs" [ -e "$W/out/r$2" ]
	: > "$W/events.jsonl"
}
cp "$W/bundle.json" "$W/bundle.good"
sign 2 rogue "$DIGEST_A"
refuse "a bundle signed by an untrusted key" 1
sign 1 ci "$DIGEST_A"
refuse "the same serial with other content" 2
sed 's/"payload": *"e/"payload": "f/' "$W/bundle.good" > "$W/bundle.json"
refuse "a tampered payload" 3
cp "$W/bundle.good" "$W/bundle.json"
chmod 0666 "$W/bundle.json"
refuse "a world-writable bundle file" 4
grep -q "world-writable\|writable by" "$W/vouchd.log" && pass "the log names why" ||
	fail "the log names why"

# serial 2 drops image A: a new container of it is stopped
sign 2 ci "$DIGEST_C" || fail "vouchctl attest serial 2"
reload || fail "reload with serial 2"
check "serial 2: loaded" ev '.kind == "policy" and (.reason | test("serial 2"))'
make_bundle "$P-2" "$(annotations "$DIGEST_A")" /bin/sh -c 'echo ran > /out/two'
run_container "$P-2"
check "serial 2: the dropped image's new container never runs" [ ! -e "$W/out/two" ]
check "serial 2: killed, and the event names the new serial" ev '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "'$P-2'" and .policy.bundleSerial == 2 and
	(.reason | test("not on the allow-list"))'
make_bundle "$P-3" "$(annotations "$DIGEST_C")" /bin/sh -c 'echo ran > /out/three'
run_container "$P-3"
check "serial 2: an image it lists runs" [ -e "$W/out/three" ]

# a lower serial after that is a replay
sign 1 ci "$DIGEST_A" "$DIGEST_C"
reload || fail "reload with serial 1 again"
check "a lower serial is refused as a replay" ev '
	.kind == "policy" and (.reason | test("reload refused.*serial"))'

# expiry: the list stays in force for what runs, is reported once, and
# new containers are denied (on_expiry: deny, the default)
VALID_FOR=3s sign 3 ci "$DIGEST_C" || fail "vouchctl attest serial 3"
reload || fail "reload with serial 3"
check "serial 3: loaded" ev '.kind == "policy" and (.reason | test("serial 3"))'
check "serial 3: its expiry is reported" wait_for 10 '
	.kind == "policy" and (.reason | test("serial 3 expired"))'
make_bundle "$P-4" "$(annotations "$DIGEST_C")" /bin/sh -c 'echo ran > /out/four'
run_container "$P-4"
check "after expiry: a new container of a listed image is denied" [ ! -e "$W/out/four" ]
check "after expiry: the event says the list expired" ev '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "'$P-4'" and (.reason | test("has expired"))'

check "vouchd survived all of it" kill -0 "$VOUCHD_PID"
finish
