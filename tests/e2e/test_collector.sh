#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vouch-collector end to end: the real binary on 127.0.0.1, a temporary
# SQLite file, curl as the client and vouch-batch for protobuf bodies.
# Needs no root and no BPF.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/process.sh"
. "$TOP/tests/tls.sh"
. "$TOP/tests/e2e/check.sh"
OUT=${OUTPUT:-$TOP/.output}
COLLECTOR=$OUT/vouch-collector
BATCH=$OUT/vouch-batch
PB=application/x-protobuf
PIDS=()
TRICKLE_FDS=()
W=$(mktemp -d /tmp/vouch-e2e-collector.XXXXXX)

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_process "$pid"
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



# Built by the Makefile when it has the rule; by hand otherwise.
if [ ! -x "$BATCH" ]; then
	BATCH=$W/vouch-batch
	${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$OUT/proto" \
		"$TOP/tools/vouch-batch.c" "$OUT/proto/vouch.pb-c.c" \
		-lprotobuf-c -o "$BATCH" || { echo "cannot build vouch-batch"; exit 1; }
fi

# start_collector NAME ARGS...: starts it on a free port of 127.0.0.1 and
# sets PID and PORT; its log is $W/NAME.log.
start_collector() {
	local name=$1 i
	shift
	"$COLLECTOR" --listen 127.0.0.1:0 "$@" 2> "$W/$name.log" &
	PID=$!
	PIDS+=("$PID")
	PORT=
	for i in $(seq 100); do
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
			"$W/$name.log")
		[ -n "$PORT" ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "collector $name did not start; its log:" >&2
	cat "$W/$name.log" >&2
	return 1
}

# post FILE [CURL_ARGS...]: POSTs FILE as a batch (Content-Type $CTYPE,
# by default protobuf); prints "STATUS BODY".
post() {
	local file=$1
	shift
	curl -sS -m 10 -o "$W/body" -w '%{http_code}' \
		-H "Content-Type: ${CTYPE:-$PB}" \
		--data-binary @"$file" "$@" "$URL"
	printf ' %s\n' "$(cat "$W/body" 2>/dev/null)"
}

# status_is WANT OUTPUT_OF_POST
status_is() { [ "${2%% *}" = "$1" ]; }

# elapsed_ms COMMAND...: runs it, prints how long it took in ms
elapsed_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" > /dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}


echo "-- command line"
check "--help shows usage" sh -c "'$COLLECTOR' --help | grep -q -- '--listen ADDR:PORT'"
check "--version" sh -c "'$COLLECTOR' --version | grep -q '^vouch-collector '"
"$COLLECTOR" --db "$W/x.db" > /dev/null 2>&1; rc=$?
check "without --listen exits 2" [ $rc -eq 2 ]
head -c 4096 /dev/urandom > "$W/corrupt.db"
"$COLLECTOR" --listen 127.0.0.1:0 --db "$W/corrupt.db" 2> "$W/corrupt.log"; rc=$?
check "a corrupt database is refused (exit 1)" [ $rc -eq 1 ]
check "... with a clear message" grep -q "corrupt.db': file is not a database" "$W/corrupt.log"

echo "-- store and serve"
start_collector main --db "$W/events.db" --timeout 2 || { finish; exit 1; }
URL=http://127.0.0.1:$PORT/v1/events
MAIN_PID=$PID
"$BATCH" --agent a1 --node n1 --seq-from 1 --count 3 --kind exec \
	--exe /usr/bin/curl --namespace shop --image-digest sha256:aa \
	--deploy-id d-7 --rule web/exec --time 2026-01-02T03:04:05Z > "$W/b1.pb"
"$BATCH" --agent a2 --node n2 --seq-from 1 --count 2 --kind connect \
	--verdict allow --action reported > "$W/b2.pb"
out=$(post "$W/b1.pb")
check "a batch is stored: 200" status_is 200 "$out"
check "... and counted: stored 3" [ "${out#* }" = '{"stored":3,"duplicates":0}' ]
out=$(post "$W/b1.pb")
check "the same batch again: 200" status_is 200 "$out"
check "... stored once: 3 duplicates" [ "${out#* }" = '{"stored":0,"duplicates":3}' ]
out=$(post "$W/b2.pb")
check "a second agent's batch: 200" status_is 200 "$out"

curl -sS -m 10 -D "$W/hdr" "$URL" > "$W/all.jsonl"
check "GET answers JSON lines" grep -qi '^content-type: application/x-ndjson' "$W/hdr"
check "GET returns the 5 distinct events" [ "$(wc -l < "$W/all.jsonl")" -eq 5 ]
curl -sS -m 10 "$URL?agent=a1&kind=exec&namespace=shop" > "$W/f.jsonl"
check "filters: agent, kind, namespace" [ "$(wc -l < "$W/f.jsonl")" -eq 3 ]
check "values come back in proto3 JSON names" jq -e -s '
	.[0].agentId == "a1" and .[0].node == "n1" and .[0].seq == 1 and
	.[0].time == "2026-01-02T03:04:05Z" and .[0].kind == "exec" and
	.[0].verdict == "deny" and .[0].action == "killed" and
	.[0].rule == "web/exec" and .[0].process.exe == "/usr/bin/curl" and
	.[0].process.argv == ["/usr/bin/curl", "-x"] and
	.[0].workload.namespace == "shop" and
	.[0].workload.imageDigest == "sha256:aa" and
	.[0].workload.deployId == "d-7" and (.[0].id | type) == "number" and
	([.[].seq] == [1, 2, 3])' "$W/f.jsonl"
check "empty fields are left out" jq -e -s '.[0] | has("reason") | not' "$W/f.jsonl"
n=$(curl -sS -m 10 "$URL?verdict=allow&action=reported&node=n2" | wc -l)
check "filters: verdict, action, node" [ "$n" -eq 2 ]
n=$(curl -sS -m 10 "$URL?image_digest=sha256:aa&deploy_id=d-7&rule=web/exec" | wc -l)
check "filters: image_digest, deploy_id, rule" [ "$n" -eq 3 ]
n=$(curl -sS -m 10 "$URL?since=2026-01-02T03:04:05Z&until=2026-01-02T03:04:06Z" | wc -l)
check "filters: since (inclusive), until" [ "$n" -eq 3 ]
n=$(curl -sS -m 10 "$URL?since=2026-01-02T04:04:05%2B01:00" | wc -l)
check "filters: since with a UTC offset" [ "$n" -eq 3 ]
third=$(sed -n 3p "$W/all.jsonl" | jq .id)
curl -sS -m 10 "$URL?after=$third&limit=1" > "$W/page.jsonl"
check "after + limit: the next page" [ "$(wc -l < "$W/page.jsonl")" -eq 1 ]
check "... starts after the cursor" [ "$(jq .id "$W/page.jsonl")" -gt "$third" ]
code=$(curl -sS -m 10 -o "$W/body" -w '%{http_code}' "$URL?colour=red")
check "an unknown filter: 400" [ "$code" = 400 ]
check "... naming it" grep -q "'colour'" "$W/body"
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL?since=yesterday")
check "a bad time: 400" [ "$code" = 400 ]
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL?limit=10001")
check "limit over 10000: 400" [ "$code" = 400 ]

echo "-- bad requests"
printf '\xff\xff\xff\xff garbage' > "$W/garbage.pb"
out=$(post "$W/garbage.pb")
check "garbage: 400" status_is 400 "$out"
head -c 40 "$W/b1.pb" > "$W/truncated.pb"
out=$(post "$W/truncated.pb")
check "a truncated batch: 400" status_is 400 "$out"
"$BATCH" --seq-from 0 > "$W/seq0.pb"
out=$(post "$W/seq0.pb")
check "seq 0: 400" status_is 400 "$out"
check "... saying what is wrong" grep -q 'event 0: seq must be > 0' <<< "$out"
"$BATCH" --agent '' > "$W/noagent.pb"
out=$(post "$W/noagent.pb")
check "empty agent_id: 400" grep -q '^400 .*agent_id is empty' <<< "$out"
"$BATCH" --count 10001 > "$W/many.pb"
out=$(post "$W/many.pb")
check "10001 events: 400" grep -q '^400 .*at most 10000' <<< "$out"
: > "$W/empty.pb"
out=$(post "$W/empty.pb")
check "an empty body: 400" status_is 400 "$out"
out=$(CTYPE=application/json post "$W/b1.pb")
check "wrong content type: 415" status_is 415 "$out"
head -c 5000000 /dev/zero > "$W/big.pb"
ms=$(elapsed_ms post "$W/big.pb")
out=$(post "$W/big.pb")
check "over 4 MiB: 413" status_is 413 "$out"
check "... answered fast (${ms} ms)" [ "$ms" -lt 2000 ]
out=$(post "$W/big.pb" -H 'Transfer-Encoding: chunked')
check "over 4 MiB, chunked: 413" status_is 413 "$out"
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X DELETE "$URL")
check "wrong method: 405" [ "$code" = 405 ]
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/x")
check "unknown path: 404" [ "$code" = 404 ]
n=$(curl -sS -m 10 "$URL" | wc -l)
check "nothing bad was stored" [ "$n" -eq 5 ]

echo "-- hostile clients"
# the head of a POST that announces 100 bytes of body
printf -v HEAD100 'POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n%s\r\n\r\n' \
	/v1/events "$PB" 'Content-Length: 100'
# ten clients that announce 100 bytes and send 2, then nothing
for i in $(seq 10); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%s' "$HEAD100" 'ab' >&"$fd"
	TRICKLE_FDS+=("$fd")
done
"$BATCH" --agent a3 --count 1 > "$W/b3.pb"
ms=$(elapsed_ms post "$W/b3.pb")
out=$(post "$W/b3.pb")
check "trickling clients do not block a POST (${ms} ms)" [ "$ms" -lt 1000 ]
check "... which is stored" status_is 200 "$out"
# the 2 s timeout closes them: reading their socket ends
ok=1
for fd in "${TRICKLE_FDS[@]}"; do
	timeout 6 cat <&"$fd" > /dev/null || ok=0
	exec {fd}<&-
done
check "the connection timeout closes the trickling clients" [ $ok -eq 1 ]
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%s' "$HEAD100" 'abc' >&"$fd"
exec {fd}>&-
out=$(post "$W/b3.pb")
check "a client gone mid-body leaves the collector serving" status_is 200 "$out"
check "the collector logged nothing per request" [ "$(wc -l < "$W/main.log")" -le 2 ]

echo "-- follow"
curl -sS -N -m 10 "$URL?follow=1&agent=a4&limit=2" > "$W/follow.jsonl" &
FOLLOW=$!
sleep 0.5
"$BATCH" --agent a4 --seq-from 1 --count 1 > "$W/b4.pb"
"$BATCH" --agent a4 --seq-from 2 --count 1 > "$W/b5.pb"
post "$W/b4.pb" > /dev/null
post "$W/b5.pb" > /dev/null
for i in $(seq 50); do
	kill -0 "$FOLLOW" 2>/dev/null || break
	sleep 0.1
done
wait "$FOLLOW"; rc=$?
check "follow delivers events stored after it started" [ "$(grep -c . "$W/follow.jsonl")" -eq 2 ]
check "... in order, and ends after limit" jq -e -s '[.[].seq] == [1, 2]' "$W/follow.jsonl"
check "... cleanly (curl exit 0)" [ $rc -eq 0 ]
first=$(jq -s '.[0].id' "$W/follow.jsonl")
n=$(curl -sS -N -m 10 "$URL?follow=1&agent=a4&after=$first&limit=1" | jq -e .seq)
check "follow resumes from a cursor" [ "$n" = 2 ]
curl -sS -N -m 10 "$URL?follow=1&agent=nobody" > "$W/idle.out" &
IDLE=$!
sleep 2.5
check "an idle follow stays open past the timeout" kill -0 "$IDLE"
check "... kept alive by blank lines" grep -q '^$' "$W/idle.out"
kill "$IDLE" 2> /dev/null

echo "-- failures"
sqlite3 -cmd '.timeout 3000' "$W/events.db" \
	"CREATE TRIGGER fail_seq2 BEFORE INSERT ON events WHEN NEW.seq = 2
	 BEGIN SELECT RAISE(ABORT, 'injected'); END;"
"$BATCH" --agent a5 --seq-from 1 --count 3 > "$W/b6.pb"
out=$(post "$W/b6.pb")
check "a store failure: 500" status_is 500 "$out"
n=$(curl -sS -m 10 "$URL?agent=a5" | wc -l)
check "... and nothing of the batch is stored" [ "$n" -eq 0 ]
sqlite3 -cmd '.timeout 3000' "$W/events.db" "DROP TRIGGER fail_seq2;"
out=$(post "$W/b6.pb")
check "the retry stores all of it" [ "${out#* }" = '{"stored":3,"duplicates":0}' ]
check "one warning for the failure" [ "$(grep -c 'failed to store' "$W/main.log")" -eq 1 ]
# disowned, so that bash does not report the kill on stderr
disown "$MAIN_PID"
kill -KILL "$MAIN_PID"
for i in $(seq 100); do
	kill -0 "$MAIN_PID" 2> /dev/null || break
	sleep 0.05
done
start_collector again --db "$W/events.db" || { finish; exit 1; }
URL=http://127.0.0.1:$PORT/v1/events
n=$(curl -sS -m 10 "$URL?agent=a5" | wc -l)
check "events answered 200 survive SIGKILL" [ "$n" -eq 3 ]
check "the database is in WAL mode" [ "$(sqlite3 "$W/events.db" 'PRAGMA journal_mode')" = wal ]
check "the schema is versioned" [ "$(sqlite3 "$W/events.db" 'PRAGMA user_version')" = 1 ]

echo "-- SIGTERM"
curl -sS -N -m 10 "$URL?follow=1" > /dev/null 2>&1 &
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /v1/events HTTP/1.1\r\nHost: x\r\n' >&"$fd"
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$PID"
wait "$PID"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
exec {fd}>&-
check "SIGTERM stops it with exit 0" [ $rc -eq 0 ]
check "... within a second, follower and trickler connected (${ms} ms)" [ "$ms" -lt 1000 ]
check "... and it says so" grep -q 'stopped; ' "$W/again.log"

echo "-- TLS with client certificates"
T=$W/tls
mkdir -p "$T"
make_test_pki "$T" || { fail "make a test PKI"; finish; exit 1; }
start_collector tls --db "$W/tls.db" --tls-cert "$T/server.crt" \
	--tls-key "$T/server.key" --client-ca "$T/ca.crt" || { finish; exit 1; }
URL=https://127.0.0.1:$PORT/v1/events
out=$(post "$W/b1.pb" --cacert "$T/ca.crt" --cert "$T/agent.crt" --key "$T/agent.key")
check "HTTPS with a client certificate: 200" status_is 200 "$out"
n=$(curl -sS -m 10 --cacert "$T/ca.crt" --cert "$T/agent.crt" --key "$T/agent.key" "$URL" | wc -l)
check "... and GET over HTTPS" [ "$n" -eq 3 ]
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' --cacert "$T/ca.crt" "$URL" 2> /dev/null)
check "no client certificate: refused ($code)" [ "$code" = 403 -o "$code" = 000 ]
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' --cacert "$T/ca.crt" \
	--cert "$T/stranger.crt" --key "$T/stranger.key" "$URL" 2> /dev/null)
check "a certificate from another CA: refused ($code)" [ "$code" = 403 -o "$code" = 000 ]
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$PORT/v1/events" 2> /dev/null)
check "plain HTTP on the TLS port: no answer" [ "$code" = 000 ]
n=$(sqlite3 "$W/tls.db" 'SELECT count(*) FROM events')
check "only the trusted client stored events" [ "$n" -eq 3 ]
stop_process "$PID"

finish
