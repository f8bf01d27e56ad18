#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Kubernetes manifests in packaging/kubernetes, checked against
# Kubernetes' own resource schemas (kubernetes-models from npm), and shown
# to be able to fail: broken copies are refused, naming the field. The
# ConfigMap's configuration and rules pass vouch's own checks, RBAC grants
# reading pods and nothing else, and every mount and capability of the
# DaemonSet is documented.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/e2e/check.sh"
OUT=${OUTPUT:-$TOP/.output}
K8S=$TOP/tests/interop/k8s
MAN=$TOP/packaging/kubernetes
W=$(mktemp -d /tmp/vouch-k8s.XXXXXX)
trap 'rm -rf "$W"' EXIT

if [ ! -d "$K8S/node_modules/kubernetes-models" ]; then
	(cd "$K8S" && npm ci --no-audit --no-fund --loglevel=error) ||
		{ fail "npm ci in tests/interop/k8s"; finish; exit 1; }
fi
validate() { (cd "$K8S" && node validate.js "$@"); }
# as_json FILE...: every document as one JSON line
as_json() {
	(cd "$K8S" && node --input-type=module -e '
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
for (const f of process.argv.slice(1))
	for (const d of parseAllDocuments(readFileSync(f, "utf8")))
		console.log(JSON.stringify(d.toJS()));' "$@")
}

echo "k8s: every manifest against the schemas"
validate "$MAN"/*.yaml > "$W/valid.out"
rc=$?
sed 's/^/    /' "$W/valid.out"
check "every document is valid" [ $rc = 0 ]
as_json "$MAN"/*.yaml > "$W/all.jsonl"
for kind in Namespace DaemonSet ServiceAccount ClusterRole ClusterRoleBinding \
	ConfigMap Secret Deployment Service PersistentVolumeClaim; do
	check "a $kind is there" jq -e -s --arg k "$kind" 'any(.kind == $k)' "$W/all.jsonl"
done
check "as many documents validated as there are" \
	[ "$(grep -c '^ok' "$W/valid.out")" = "$(grep -c . "$W/all.jsonl")" ]

echo "k8s: broken manifests are refused"
# break NAME JQ: a copy of the DaemonSet changed by JQ must be refused
broken() {
	local name=$1 filter=$2 want=$3
	jq -c 'select(.kind == "DaemonSet" and .metadata.name == "vouchd") | '"$filter" \
		"$W/all.jsonl" > "$W/$name.yaml"	# JSON is YAML
	validate "$W/$name.yaml" > "$W/$name.out"
	local rc=$?
	check "$name: refused" [ $rc = 1 ]
	check "$name: the message names $want" grep -qF "$want" "$W/$name.out"
}
broken hostpid-string '.spec.template.spec.hostPID = "yes"' '/spec/template/spec/hostPID must be boolean'
broken no-container-name 'del(.spec.template.spec.containers[0].name)' '/spec/template/spec/containers/0 must have required property name'
broken port-as-text '.spec.template.spec.containers[0].livenessProbe.periodSeconds = "often"' 'periodSeconds must be integer'
broken volumes-not-a-list '.spec.template.spec.volumes = {"bpffs": "/sys/fs/bpf"}' '/spec/template/spec/volumes must be array'
printf 'apiVersion: apps/v1\nkind: DaemonSett\nmetadata: {name: x}\n' > "$W/kind.yaml"
validate "$W/kind.yaml" > "$W/kind.out"
check "an unknown kind is refused" [ $? = 1 ]
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n' > "$W/dup.yaml"
validate "$W/dup.yaml" > "$W/dup.out"
check "a duplicate key is refused" [ $? = 1 ]

echo "k8s: RBAC reads pods and nothing else"
role=$(jq -c 'select(.kind == "ClusterRole" and .metadata.name == "vouchd") | .rules' "$W/all.jsonl")
check "ClusterRole vouchd: get, list, watch on pods, nothing more" \
	[ "$role" = '[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list","watch"]}]' ]
check "no Role or other ClusterRole grants anything" \
	[ "$(jq -s '[.[] | select(.kind == "Role" or .kind == "ClusterRole")] | length' "$W/all.jsonl")" = 1 ]
check "the binding gives it to the vouchd ServiceAccount only" \
	jq -e -s '[.[] | select(.kind == "ClusterRoleBinding")] | length == 1 and .[0].subjects == [{"kind":"ServiceAccount","name":"vouchd","namespace":"vouch-system"}]' "$W/all.jsonl"
check "the DaemonSet runs as that ServiceAccount" \
	jq -e -s 'any(.kind == "DaemonSet" and .metadata.name == "vouchd" and .spec.template.spec.serviceAccountName == "vouchd")' "$W/all.jsonl"
check "the collector has no API token" \
	jq -e -s 'any(.kind == "Deployment" and .spec.template.spec.automountServiceAccountToken == false)' "$W/all.jsonl"

echo "k8s: the ConfigMap's configuration and rules pass vouch's checks"
mkdir "$W/etc"
(cd "$K8S" && node extract.js "$MAN/configmap.yaml" "$W/etc") > "$W/keys"
check "it holds vouchd.yaml, rules.yaml and trust.yaml" \
	[ "$(sort "$W/keys" | paste -sd,)" = "rules.yaml,trust.yaml,vouchd.yaml" ]
check "vouchctl lint accepts its rules" "$OUT/vouchctl" lint "$W/etc/rules.yaml"
sed -i "s|/etc/vouch/rules.yaml|$W/etc/rules.yaml|" "$W/etc/vouchd.yaml"
check "vouchd --check accepts its configuration" "$OUT/vouchd" --check --config "$W/etc/vouchd.yaml"
check "its rules start in audit mode" grep -qx 'mode: audit' "$W/etc/rules.yaml"

echo "k8s: every mount and capability is documented"
DOC=$TOP/docs/KUBERNETES.md
ds='select(.kind == "DaemonSet" and .metadata.name == "vouchd") | .spec.template.spec'
for m in $(jq -r "$ds | .containers[0].volumeMounts[].mountPath" "$W/all.jsonl"); do
	check "mount $m is explained" grep -qF "\`$m\`" "$DOC"
done
for c in $(jq -r "$ds | .containers[0].securityContext.capabilities.add[]" "$W/all.jsonl"); do
	check "CAP_$c is explained" grep -qF "CAP_$c" "$DOC"
done
check "hostPID and hostNetwork are explained" sh -c "grep -qF hostPID '$DOC' && grep -qF hostNetwork '$DOC'"

finish
