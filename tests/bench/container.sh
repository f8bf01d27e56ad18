#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Container start benchmark (issue 4): what holding a container's first
# exec until its verdict costs a container start, and how long the verdict
# takes.
#
# Runs `runc run` of an attested image whose entrypoint is /bin/true, in
# rounds alternating between no agent and vouchd enforcing on the
# containers (its host scope off). Start latency is the wall time of the
# whole `runc run`; time to verdict is from just before `runc run` to the
# time on vouchd's container event. Rewrites the container section of
# BENCHMARKS.md.
#
# Needs root and runc. Knobs: BENCH_ROUNDS (7), BENCH_STARTS (starts per
# round and configuration, 10), BENCH_DOC.

set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/process.sh"
take_bpf_lock
. "$TOP/tests/bench/doc.sh"
OUT=${OUTPUT:-$TOP/.output}
VOUCHD=$OUT/vouchd
STATS_AWK=$TOP/tests/bench/stats.awk
DOC=${BENCH_DOC:-$TOP/BENCHMARKS.md}
ROUNDS=${BENCH_ROUNDS:-7}
STARTS=${BENCH_STARTS:-10}

VOUCHD_PID=
W=$(mktemp -d /tmp/vouch-bench-ct.XXXXXX)
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
CGNAME=vouch-bench-$$
CG=$CGROOT/$CGNAME
mkdir "$CG"
. "$TOP/tests/e2e/containers.sh"

cleanup() {
	[ -n "$VOUCHD_PID" ] && stop_process "$VOUCHD_PID"
	cleanup_containers
	rmdir "$CG" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

setup() {
	make_rootfs
	container_rules enforce
	cat > "$W/vouchd.yaml" <<YAML
rules: $W/rules.yaml
node_name: bench
agent_id: bench
log:
  level: warn
events:
  output: $W/events.jsonl
bpf: {pin: false}
metrics: {listen: "off"}
YAML
}

start_vouchd() {
	: > "$W/events.jsonl"
	"$VOUCHD" --config "$W/vouchd.yaml" 2>> "$W/vouchd.log" &
	VOUCHD_PID=$!
	for _ in $(seq 200); do
		grep -q '"vouchd started"' "$W/events.jsonl" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: vouchd did not start" >&2
	exit 1
}

# one_round CONFIG ROUND: STARTS container starts, one line each in
# $W/CONFIG.ms; with vouchd, the time to each verdict in $W/verdict.ms.
one_round() {
	local cfg=$1 round=$2 i name t0 t1 v
	for ((i = 0; i < STARTS; i++)); do
		name=ct-$$-$cfg-$round-$i
		make_bundle "$name" "$(annotations "$DIGEST_A")" /bin/true
		t0=$(now_ns)
		runc run $RUNC_ROOT_FLAGS --bundle "$W/bundles/$name" "$name" < /dev/null > /dev/null 2>&1 ||
			echo "bench: $name failed" >&2
		t1=$(now_ns)
		echo "$(((t1 - t0) / 1000)) / 1000" | bc -l >> "$W/$cfg.ms"
		rm -rf "$W/bundles/$name"
		[ "$cfg" = vouchd ] || continue
		for _ in $(seq 100); do
			v=$(jq -r 'select(.kind == "container" and
				.workload.containerId == "'$name'") | .time' \
				"$W/events.jsonl" 2>/dev/null | head -1)
			[ -n "$v" ] && break
			sleep 0.02
		done
		[ -n "$v" ] && echo "($(date -d "$v" +%s%N) - $t0) / 1000000" | bc -l \
			>> "$W/verdict.ms"
		jq -r 'select(.kind == "container" and
			.workload.containerId == "'$name'") | .reason' \
			"$W/events.jsonl" | sed -n 's/.*first exec held \([0-9.]*\) ms.*/\1/p' |
			head -1 >> "$W/held.ms"
	done
}

summary() {
	sort -g "$W/$1.ms" | awk -f "$STATS_AWK"
}

write_doc() {
	local none=$1 with=$2 verdict=$3 held=$4 section=$W/section.md
	local n_med w_med
	n_med=$(cut -d' ' -f2 <<< "$none")
	w_med=$(cut -d' ' -f2 <<< "$with")
	cat > "$section" <<EOF
## Container start (issue 4)

\`tests/bench/container.sh\`, $(date -u +%Y-%m-%d) on $(nproc --all) CPUs, kernel
$(uname -r), runc $(runc --version | awk 'NR == 1 { print $3 }').

Method: \`runc run\` of a bundle whose entrypoint is \`/bin/true\`, image
attested in the rules, $ROUNDS rounds of $STARTS starts per configuration,
the configurations alternating: no agent, then vouchd enforcing on
containers (the container's first exec held until the verdict, host scope
off). Start latency is the wall time of \`runc run\`, creation to exit.
Time to verdict runs from just before \`runc run\` to the time on vouchd's
\`container\` event (decided, written to the cgroup entry, released); the
held time is vouchd's own account, from the kernel's timestamp on the held
exec to the release, as the event's reason gives it.

| | starts | median ms | Q1 | Q3 | min | max |
|---|---|---|---|---|---|---|
| no agent | $(awk '{ printf "%d | %.1f | %.1f | %.1f | %.1f | %.1f", $1, $2, $5, $6, $3, $4 }' <<< "$none") |
| vouchd enforcing | $(awk '{ printf "%d | %.1f | %.1f | %.1f | %.1f | %.1f", $1, $2, $5, $6, $3, $4 }' <<< "$with") |
| time to verdict | $(awk '{ printf "%d | %.1f | %.1f | %.1f | %.1f | %.1f", $1, $2, $5, $6, $3, $4 }' <<< "$verdict") |
| first exec held | $(awk '{ printf "%d | %.2f | %.2f | %.2f | %.2f | %.2f", $1, $2, $5, $6, $3, $4 }' <<< "$held") |

Median start latency with vouchd: $(echo "($w_med - $n_med) / $n_med * 100" | bc -l | xargs printf '%+.1f')% against no agent.
EOF
	bench_doc_update "$DOC" container "$section"
	cat "$section"
}

setup
for ((r = 0; r < ROUNDS; r++)); do
	one_round none "$r"
	start_vouchd
	one_round vouchd "$r"
	stop_process "$VOUCHD_PID"
	VOUCHD_PID=
done
write_doc "$(summary none)" "$(summary vouchd)" "$(summary verdict)" \
	"$(summary held)"
