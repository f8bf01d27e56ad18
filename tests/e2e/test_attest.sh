#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Attested allow-lists across independent implementations: envelopes made
# with the openssl command line verify with vouchctl verify; envelopes made
# by vouchctl attest verify with the openssl command line and, as Sigstore
# bundles, with the Sigstore project's @sigstore/verify from npm; and what
# is refused is refused with its reason, by the real CLI.
. "$(dirname "$0")/lib.sh"

SIGSTORE=$TOP/tests/interop/sigstore
if [ ! -d "$SIGSTORE/node_modules/@sigstore/verify" ]; then
	(cd "$SIGSTORE" && npm ci --no-audit --no-fund --loglevel=error) ||
		{ fail "npm ci in tests/interop/sigstore"; finish; exit 1; }
fi

A=$W/attest
mkdir -p "$A"
cd "$A" || exit 1
for k in k1 k2 k3; do
	openssl ecparam -name prime256v1 -genkey -noout -out $k.pem 2> /dev/null
	openssl ec -in $k.pem -pubout -out $k.pub 2> /dev/null
done
keyid() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
ID1=$(keyid k1.pub)
ID2=$(keyid k2.pub)
D1=$(printf 'vouch image one' | sha256sum | cut -d' ' -f1)
D2=$(printf 'vouch image two' | sha256sum | cut -d' ' -f1)
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LATER=$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)

# trust THRESHOLD: the trust config, keys k1 and k2
trust() {
	cat > trust.yaml <<YAML
version: 1
scope: e2e
threshold: $1
max_validity: 30d
keys:
  - {name: ci-old, id: $ID1, file: k1.pub}
  - {name: ci-new, file: k2.pub}
YAML
}
trust 1

# spec SERIAL DIGEST...: a description for vouchctl attest
spec() {
	local serial=$1 d
	shift
	printf 'serial: %s\nscope: e2e\nvalid_for: 7d\nimages:\n' "$serial"
	for d in "$@"; do
		cat <<YAML
  sha256:$d:
    name: registry.example/e2e
    service: e2e
    version: "1.0"
    deploy_id: d-$serial
    environment: test
    exec:
      allow: [/usr/bin/, /bin/]
    egress:
      allow: [{cidr: 127.0.0.0/8, ports: [443], protocol: tcp}]
YAML
	done
}

verify() { "$VOUCHCTL" verify --trust trust.yaml "$@"; }
refused() {
	local want=$1
	shift
	verify "$@" > /dev/null 2> err.txt
	local rc=$?
	[ "$rc" -eq 1 ] || { echo "    exit $rc, not 1"; return 1; }
	grep -qF -- "$want" err.txt || { echo "    stderr:"; sed 's/^/      /' err.txt; return 1; }
}

echo "-- made with the openssl command line, verified by vouchctl"
cat > statement.json <<JSON
{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"e2e","digest":{"sha256":"$D1"}}],"predicateType":"https://vouch.dev/allowlist/v1","predicate":{"serial":3,"issued":"$NOW","expires":"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)","scope":"e2e","images":{"sha256:$D1":{"service":"e2e","version":"1.0","deploy_id":"d-3","environment":"test","exec":{"allow":["/usr/bin/"]},"egress":{"allow":[]}}}}}
JSON
printf '%s' "$(cat statement.json)" > payload.bin
TYPE=application/vnd.in-toto+json
{ printf 'DSSEv1 %d %s %d ' ${#TYPE} "$TYPE" "$(stat -c %s payload.bin)"; cat payload.bin; } > pae.bin
openssl dgst -sha256 -sign k1.pem -out sig.der pae.bin
openssl dgst -sha256 -sign k1.pem -out rawsig.der payload.bin
envelope() {
	jq -n --arg p "$(base64 -w0 payload.bin)" --arg s "$(base64 -w0 "$1")" \
		--arg k "$2" '{payloadType: "application/vnd.in-toto+json", payload: $p, signatures: [{keyid: $k, sig: $s}]}'
}
envelope sig.der "$ID1" > openssl-env.json
check "openssl-made envelope verifies" verify openssl-env.json
verify openssl-env.json > out.txt 2>&1
check "vouchctl verify names serial, scope, images and key" \
	grep -qF "openssl-env.json: ok: serial 3, scope e2e, 1 image(s)" out.txt
check "the key id is the sha256 of the DER public key" grep -qF "signed by $ID1" out.txt
envelope sig.der "" > openssl-nokeyid.json
check "without a keyid, the trusted key is still found" verify openssl-nokeyid.json
envelope rawsig.der "$ID1" > openssl-raw.json
check "a signature over the payload, not the PAE, is refused" \
	refused "signed over the raw payload, not the DSSE PAE" openssl-raw.json

echo "-- made by vouchctl attest, verified by openssl and @sigstore/verify"
spec 5 "$D1" > spec5.yaml
check "vouchctl attest signs" "$VOUCHCTL" attest --key k1.pem -o env5.json spec5.yaml
jq -r .payload env5.json | base64 -d > p5.bin
{ printf 'DSSEv1 %d %s %d ' ${#TYPE} "$TYPE" "$(stat -c %s p5.bin)"; cat p5.bin; } > pae5.bin
jq -r '.signatures[0].sig' env5.json | base64 -d > sig5.der
check "openssl verifies vouchctl's signature over the PAE" \
	openssl dgst -sha256 -verify k1.pub -signature sig5.der pae5.bin
check "vouchctl's keyid is openssl's key id" [ "$(jq -r '.signatures[0].keyid' env5.json)" = "$ID1" ]
check "vouchctl verifies its own envelope" verify env5.json
"$VOUCHCTL" attest --key k1.pem --sigstore -o sb5.json spec5.yaml
check "vouchctl verifies its Sigstore bundle" verify sb5.json
node "$SIGSTORE/verify.js" sb5.json k1.pub > node.txt 2>&1
check "@sigstore/verify accepts vouchctl's Sigstore bundle" grep -qx "verified $ID1" node.txt
jq '.dsseEnvelope.payload |= (.[0:20] + (if .[20:21] == "A" then "B" else "A" end) + .[21:])' \
	sb5.json > sb5-tampered.json
node "$SIGSTORE/verify.js" sb5-tampered.json k1.pub > node.txt 2>&1
check "@sigstore/verify refuses it once the payload is changed" grep -q "^refused: SIGNATURE_ERROR" node.txt
node "$SIGSTORE/verify.js" sb5.json k3.pub > node.txt 2>&1
check "@sigstore/verify refuses it with another key" grep -q "^refused: SIGNATURE_ERROR" node.txt

echo "-- rotation: two signatures during the overlap"
trust 2
"$VOUCHCTL" attest --key k1.pem --key k2.pem -o rot.json spec5.yaml
check "two keys meet a threshold of two" verify rot.json
check "one key does not" refused "1 valid signature(s) by distinct trusted keys; the trust config requires 2" env5.json
trust 1

echo "-- refusals, each with its reason"
"$VOUCHCTL" attest --key k3.pem -o untrusted.json spec5.yaml
check "an untrusted key" refused "key not in the trust config" untrusted.json
check "an expired bundle" refused "the allow-list expired at" --time "$LATER" env5.json
cat > trust-other.yaml <<YAML
version: 1
scope: other
keys: [{file: k1.pub}]
YAML
"$VOUCHCTL" verify --trust trust-other.yaml env5.json > /dev/null 2> err.txt
check "a wrong scope" grep -qF "scope 'e2e' is not this node's scope 'other'" err.txt
ln -s env5.json link.json
check "a symlinked bundle" refused "is a symbolic link" link.json
cp env5.json ww.json && chmod 0666 ww.json
check "a world-writable bundle" refused "is writable by everyone" ww.json
head -c 5000000 /dev/zero | tr '\0' ' ' > big.json
check "an oversized bundle" refused "is 5000000 bytes; the limit is 4194304" big.json
sed 's/"payloadType"/"payloadType": "x", "payloadType"/' env5.json > dup.json
check "duplicate JSON keys" refused "duplicate object key" dup.json
jq '.signatures[0].sig |= .[0:-4] + "!!!="' env5.json > b64.json
check "invalid base64" refused "signatures[0].sig: invalid base64" b64.json

echo "-- freshness and replay, with a state directory"
mkdir -p state
check "serial 5 is accepted and recorded" verify --state state --commit env5.json
check "the state file holds serial 5" jq -e '.serial == 5' state/allowlist-e2e.state
check "the same bundle again is a reload" verify --state state env5.json
spec 4 "$D1" > spec4.yaml
"$VOUCHCTL" attest --key k1.pem -o env4.json spec4.yaml
check "a lower serial" refused "serial 4 is not above the last accepted 5" --state state env4.json
spec 5 "$D2" > spec5b.yaml
"$VOUCHCTL" attest --key k1.pem -o env5b.json spec5b.yaml
check "the same serial with other content" refused "refused as tampering" --state state env5b.json
spec 6 "$D2" > spec6.yaml
"$VOUCHCTL" attest --key k1.pem -o env6.json spec6.yaml
check "a higher serial moves on" verify --state state --commit env6.json
check "the state file holds serial 6" jq -e '.serial == 6' state/allowlist-e2e.state

echo "-- vouchctl attest checks before it signs"
printf 'serial: 7\nscope: e2e\nvalid_for: 7d\nimages:\n  sha256:%s:\n    service: e2e\n    version: "1"\n    deploy_id: x\n    environment: t\n    exec: {allow: [/bin/], allow_all: yes}\n    egress: {allow: []}\n' "$D1" > bad.yaml
"$VOUCHCTL" attest --key k1.pem -o bad.json bad.yaml 2> err.txt
check "an unknown field is refused before signing" grep -qF "exec: unknown field 'allow_all'" err.txt
check "and nothing is written" [ ! -e bad.json ]
"$VOUCHCTL" verify env5.json > /dev/null 2>&1
check "verify without --trust is a usage error" [ $? -eq 2 ]

cd "$TOP" || exit 1
finish
