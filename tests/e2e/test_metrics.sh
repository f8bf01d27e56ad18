#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vouchd's metrics endpoint on the real kernel: its counters move with real
# denied execs, losses and reloads; per-program run counts come from the
# kernel; vouchctl status shows the policy in force; and the health check
# turns unhealthy when a program is detached from outside.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce
PIN_DIR=/sys/fs/bpf/vouch-e2e-$$-$RANDOM
PIN=$PIN_DIR
write_config
PORT=$(free_port) || { fail "no free port"; finish; exit 1; }
cat >> "$W/vouchd.yaml" <<YAML
  ring_buffer_kb: 64
metrics:
  listen: 127.0.0.1:$PORT
YAML
URL=http://127.0.0.1:$PORT
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
teardown() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	cleanup
}
trap teardown EXIT
sysctl -qw kernel.bpf_stats_enabled=1

start_vouchd || exit 1

# metric NAME_WITH_LABELS: its value in a fresh scrape, 0 when absent.
metric() {
	curl -sf "$URL/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
# wait_metric NAME_WITH_LABELS MIN: until the value reaches MIN.
wait_metric() {
	for _ in $(seq 100); do
		[ "$(metric "$1")" -ge "$2" ] 2> /dev/null && return 0
		sleep 0.05
	done
	return 1
}
DENY='vouch_events_total{kind="exec",verdict="deny"}'
EXEC_RUNS='vouch_bpf_program_runs_total{program="vouch_exec"}'

echo "metrics: the endpoint serves Prometheus text"
check "GET /metrics answers 200 with the text format" \
	sh -c "curl -sf -D - '$URL/metrics' -o /dev/null | grep -qi 'content-type: text/plain; version=0.0.4'"
check "policy generation 1 is reported" [ "$(metric vouch_policy_generation)" = 1 ]
check "the policy's rule entries are counted" [ "$(metric vouch_policy_rules)" -ge 3 ]
check "bpf stats are reported on" [ "$(metric vouch_bpf_stats_enabled)" = 1 ]
check "every program is reported attached" \
	sh -c "curl -sf '$URL/metrics' | awk '/^vouch_bpf_program_attached/ { n++; s += \$2 } END { exit !(n >= 3 && s == n) }'"
check "POST is refused with 405" [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" = 405 ]
check "an unknown path is 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" = 404 ]

echo "metrics: counters move with real events"
before=$(metric "$DENY")
runs_before=$(metric "$EXEC_RUNS")
for i in 1 2 3; do in_cg "$T" run "$W/denied/bad" marker "$W/m$i" > /dev/null; done
check "three denied execs: the deny counter rose by 3" wait_metric "$DENY" $((before + 3))
check "no more than 3 either" [ "$(metric "$DENY")" = $((before + 3)) ]
check "events in the JSON lines agree" [ "$(count_events '.kind == "exec" and .verdict == "deny"')" = $((before + 3)) ]
check "vouch_exec's kernel run count moved ($runs_before -> $(metric "$EXEC_RUNS"))" \
	[ "$(metric "$EXEC_RUNS")" -gt "$runs_before" ]
check "vouch_exec's run time is above 0" \
	sh -c "curl -sf '$URL/metrics' | awk '\$1 == \"vouch_bpf_program_run_seconds_total{program=\\\"vouch_exec\\\"}\" { exit !(\$2 > 0) }'"

echo "metrics: losses are counted by kind"
N=2000
kill -STOP "$VOUCHD_PID"
in_cg "$T" flood $N "$W/denied/bad" marker "$W/m-flood" > "$W/out.flood"
kill -CONT "$VOUCHD_PID"
losses() { jq -s '[.[] | select(.kind == "loss" and .loss.kind == "exec") | .loss.count] | add // 0' "$W/events.jsonl"; }
for _ in $(seq 100); do [ "$(losses)" -gt 0 ] && break; sleep 0.05; done
l=$(losses)
check "the flood overflowed the 64 KiB ring buffer ($l lost)" [ "$l" -gt 0 ]
check "vouch_events_lost_total{kind=\"exec\"} equals the loss events' sum" \
	wait_metric 'vouch_events_lost_total{kind="exec"}' "$l"
check "the deny counter took what was delivered" \
	[ $(($(metric "$DENY") + $(metric 'vouch_events_lost_total{kind="exec"}'))) = $((before + 3 + N)) ]

echo "metrics: a reload is seen"
reload
check "policy generation 2 after SIGHUP" [ "$(metric vouch_policy_generation)" = 2 ]
check "policy events are counted" [ "$(metric 'vouch_events_total{kind="policy",verdict="none"}')" -ge 1 ]

echo "status: vouchctl status shows what the agent enforces"
"$VOUCHCTL" status --agent "$URL" > "$W/status.txt"
check "vouchctl status exits 0 while healthy" [ $? = 0 ]
check "text: health ok" grep -q '^health: *ok' "$W/status.txt"
check "text: the e2e scope enforces" grep -Eq '^  e2e +enforce' "$W/status.txt"
check "text: the test cgroup is a known workload" grep -q "cgroup /$CGNAME (id" "$W/status.txt"
"$VOUCHCTL" status --agent "$URL" -o json > "$W/status.json"
check "json: generation 2, rules file named" jq -e --arg r "$W/rules.yaml" '.policy.generation == 2 and .policy.source == $r' "$W/status.json"
check "json: exec losses as counted" jq -e --argjson l "$l" '.losses[] | select(.kind == "exec") | .count == $l' "$W/status.json"
check "vouchctl status exits 3 when no agent answers" \
	sh -c "'$VOUCHCTL' status --agent http://127.0.0.1:1 2> /dev/null; [ \$? = 3 ]"

echo "health: true while attached, false once a program is detached"
check "/healthz answers 200 ok" [ "$(curl -s "$URL/healthz")" = ok ]
LINK=$(ls "$PIN/links" | grep -x vouch_fork)
check "the fork program's link is pinned" [ -n "$LINK" ]
# Tracing links refuse BPF_LINK_DETACH (bpftool link detach); but vouchd
# holds no descriptor of a pinned link, so removing the pin, its last
# reference, detaches the program, as a careless rm -r would.
rm -f "$PIN/links/vouch_fork"
# the kernel frees a link whose last reference went from a work queue
for _ in $(seq 100); do
	code=$(curl -s -o "$W/health.txt" -w '%{http_code}' "$URL/healthz")
	[ "$code" = 503 ] && break
	sleep 0.05
done
check "/healthz answers 503 once the link is gone ($code)" [ "$code" = 503 ]
check "the reason names the program" grep -q 'vouch_fork.*not attached' "$W/health.txt"
check "vouch_healthy is 0" [ "$(metric vouch_healthy)" = 0 ]
check "vouch_bpf_program_attached for vouch_fork is 0" [ "$(metric 'vouch_bpf_program_attached{program="vouch_fork"}')" = 0 ]
"$VOUCHCTL" status --agent "$URL" > "$W/status2.txt"
check "vouchctl status exits 1 and says why" [ $? = 1 ]
check "text: NOT ATTACHED shown" grep -q 'vouch_fork.*NOT ATTACHED' "$W/status2.txt"

echo "cleanup: unloading leaves nothing"
stop_vouchd
"$VOUCHD" --config "$W/vouchd.yaml" --unload > /dev/null 2>&1
check "vouchd --unload removed the pin directory" [ ! -e "$PIN" ]
check "no vouch program is left loaded" wait_unloaded

finish
