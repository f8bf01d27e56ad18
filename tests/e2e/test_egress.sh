#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Egress on the real kernel: connects and sends from the test cgroup are
# judged by their real destination against the scope's egress entries,
# refused with EPERM in enforce mode, let through and reported in audit
# mode. Servers listen on loopback and in a network namespace made here.
. "$(dirname "$0")/lib.sh"

make_binaries
cp "$OUT/vouch-connect" "$W/allowed/connect"
C=$W/allowed/connect
NS=vouch-e2e-$$
VH=veg$$h
VN=veg$$n
# a /30 on a veth pair into our own namespace: nothing is routed beyond it
NET=10.233.$((RANDOM % 250))
SERVERS=()

egress_cleanup() {
	stop_servers
	rmdir "$CG/child" 2>/dev/null
	ip link del "$VH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	cleanup
}
trap egress_cleanup EXIT

# unused_port: below the ephemeral range, with no socket of any kind on it
unused_port() {
	local p
	for _ in $(seq 100); do
		p=$((10000 + RANDOM % 22000))
		[[ " ${ports[*]} " == *" $p "* ]] && continue
		ss -Hantu "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# serve ARGS...: a vouch-connect server, outside the test cgroup; waits
# until it listens (a port taken meanwhile makes it fail)
serve() {
	local out=$W/serve.${#SERVERS[@]}
	"$@" > "$out" 2>&1 &
	SERVERS+=($!)
	for _ in $(seq 100); do
		grep -q listening "$out" && return 0
		kill -0 "${SERVERS[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

stop_servers() {
	local pid
	for pid in "${SERVERS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	SERVERS=()
}

# pick_ports: six ports, and servers on four of them on loopback
pick_ports() {
	local p
	ports=()
	for _ in 1 2 3 4 5 6; do
		p=$(unused_port) || return 1
		ports+=("$p")
	done
	P_OK=${ports[0]}	# allowed on 127.0.0.1 and ::1
	P_NO=${ports[1]}	# on no allow entry
	P_DENY=${ports[2]}	# on an egress.deny entry
	P_EXC=${ports[3]}	# waived by an exception
	P_NODE=${ports[4]}	# on the node-wide deny list
	P_NS=${ports[5]}	# allowed to the namespace's address
	for p in "$P_OK" "$P_NO" "$P_DENY" "$P_NODE"; do
		serve "$C" serve tcp :: "$p" && serve "$C" serve udp :: "$p" || return 1
	done
}
for try in 1 2 3 4 5; do
	pick_ports && break
	stop_servers
	[ "$try" = 5 ] && { fail "servers could not listen"; finish; exit 1; }
done

ip netns add "$NS" || { fail "ip netns add"; finish; exit 1; }
ip link add "$VH" type veth peer name "$VN"
ip link set "$VN" netns "$NS"
ip addr add "$NET.1/30" dev "$VH"
ip link set "$VH" up
ip -n "$NS" addr add "$NET.2/30" dev "$VN"
ip -n "$NS" link set "$VN" up
ip -n "$NS" link set lo up
for p in "$P_OK" "$P_NO" "$P_NS"; do
	serve ip netns exec "$NS" "$C" serve tcp 0.0.0.0 "$p" ||
		fail "a server in the namespace listens on $p"
done

egress_rules() {
	write_rules "$1" "    egress:
      allow:
        - {cidr: 127.0.0.1/32, ports: [$P_OK, $P_DENY]}
        - {cidr: \"::1/128\", ports: $P_OK, protocol: tcp}
        - {cidr: $NET.2/32, ports: [$P_OK, $P_NS], protocol: tcp}
      deny:
        - {cidr: 127.0.0.0/8, ports: $P_DENY}
exceptions:
  - scope: e2e
    egress: {cidr: 127.0.0.1, ports: $P_EXC, protocol: tcp}
    reason: \"the e2e test shows an egress exception\"
    owner: \"e2e@example.com\"
    expires: 2099-01-01T00:00:00Z"
	# the node-wide list, at the top level: a second 'deny' key is not
	# allowed, so it goes in by sed under a deny mapping of its own
	sed -i "s|^mode: off|mode: off\ndeny:\n  egress:\n    - {cidr: 0.0.0.0/0, ports: $P_NODE, protocol: tcp}|" "$W/rules.yaml"
}

egress_rules enforce
write_config
printf '  sample_allowed_connects: 1\n' >> "$W/vouchd.yaml"
check "the rules lint" "$VOUCHCTL" lint "$W/rules.yaml"
printf 'version: 1\nscopes:\n  - name: x\n    match: {host: true}\n    egress:\n      allow: [{cidr: 10.0.0.1/8, ports: 70000}]\n' > "$W/bad.yaml"
"$VOUCHCTL" lint "$W/bad.yaml" > "$W/lint.bad" 2>&1
check "lint refuses a bad egress entry" [ $? -ne 0 ]
check "lint names file:line:col" grep -q "^$W/bad.yaml:6:22: error: '10.0.0.1/8' has bits set past its prefix length" "$W/lint.bad"
start_vouchd || exit 1

# conn LABEL ARGS...: runs vouch-connect in the test cgroup
conn() {
	local label=$1
	shift
	in_cg "$C" "$@" > "$W/out.$label" 2>&1
}
# said LABEL LINE: the output was LINE; otherwise shows what it was
said() {
	grep -qx "$2" "$W/out.$1" && return 0
	echo "    $1 said: $(cat "$W/out.$1")" >&2
	return 1
}
ev() { jq -c "select($1)" "$W/events.jsonl" | head -1; }
# more_than N FILTER: waits until more than N events match
more_than() {
	for _ in $(seq 100); do
		[ "$(count_events "$2")" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
dest() { echo ".kind == \"connect\" and .network.destAddr == \"$1\" and .network.destPort == $2"; }

echo "enforce: allowed and denied TCP connects"
conn ok tcp 127.0.0.1 "$P_OK"
check "an allowed connect succeeds" said ok "ok"
# held open until its event is in, so that vouchd finds its executable
in_cg "$C" hold tcp 127.0.0.1 "$P_NO" > "$W/out.no" 2>&1 &
HELD=$!
F="$(dest 127.0.0.1 "$P_NO") and .action == \"refused\""
check "the refusal is reported" wait_for 5 "$F"
check "a connect on no allow entry fails with EPERM" said no "error EPERM"
kill "$HELD"
wait "$HELD" 2>/dev/null
e=$(ev "$F")
field() { jq -r "$1" <<< "$e"; }
check "event: verdict deny, mode enforce" [ "$(field '.verdict + "/" + .mode')" = deny/enforce ]
check "event: family ipv4, protocol tcp" [ "$(field '.network.family + "/" + .network.protocol')" = ipv4/tcp ]
check "event: rule is the scope's allow-list" [ "$(field .rule)" = e2e/egress.allow ]
check "event: reason names destination and scope" grep -q "connect to 127.0.0.1:$P_NO/tcp is not on the egress allow-list of scope 'e2e'" <<< "$(field .reason)"
check "event: workload is the test cgroup" [ "$(field '.workload.cgroupPath + " " + .workload.scope')" = "/$CGNAME e2e" ]
check "event: process pid, comm, uid" [ "$(field '"\(.process.pid > 1) \(.process.comm) \(.process.uid)"')" = "true connect 0" ]
check "event: process exe" [ "$(field .process.exe)" = "$C" ]
check "an allowed connect is sampled when asked" wait_for 5 "$(dest 127.0.0.1 "$P_OK") and .verdict == \"allow\" and .rule == \"e2e/egress.allow:127.0.0.1/32 $P_OK/any\""

conn deny tcp 127.0.0.1 "$P_DENY"
check "a deny entry wins over an allow entry" said deny "error EPERM"
check "event names the deny entry" wait_for 5 "$(dest 127.0.0.1 "$P_DENY") and .rule == \"e2e/egress.deny:127.0.0.0/8 $P_DENY/any\""
conn node tcp 127.0.0.1 "$P_NODE"
check "the node-wide deny list applies" said node "error EPERM"
check "event names the node-wide entry" wait_for 5 "$(dest 127.0.0.1 "$P_NODE") and .rule == \"node/deny.egress:0.0.0.0/0 $P_NODE/tcp\""

echo "enforce: judged by the real destination"
conn m-ok tcp ::ffff:127.0.0.1 "$P_OK"
check "::ffff:127.0.0.1 on an allowed port succeeds (matched as IPv4)" said m-ok "ok"
F="$(dest 127.0.0.1 "$P_NO") and .network.family == \"ipv4\""
before=$(count_events "$F")
conn m-no tcp ::ffff:127.0.0.1 "$P_NO"
check "::ffff:127.0.0.1 on another port: EPERM" said m-no "error EPERM"
check "the mapped destination is reported as IPv4 127.0.0.1" more_than "$before" "$F"
conn v6-ok tcp ::1 "$P_OK"
check "::1 on its allowed port succeeds" said v6-ok "ok"
conn v6-no tcp ::1 "$P_NO"
check "::1 elsewhere: EPERM" said v6-no "error EPERM"
check "the IPv6 refusal is reported" wait_for 5 "$(dest ::1 "$P_NO") and .network.family == \"ipv6\""
conn v6-udp udp ::1 "$P_OK"
check "::1 allows TCP only: a UDP connect is refused" said v6-udp "error EPERM"

for how in sendto sendmsg udp; do
	conn "$how-ok" "$how" 127.0.0.1 "$P_OK"
	check "UDP $how to an allowed port succeeds" said "$how-ok" "ok"
	conn "$how-no" "$how" 127.0.0.1 "$P_NO"
	check "UDP $how elsewhere: EPERM" said "$how-no" "error EPERM"
done
check "an unconnected UDP send is reported as udp" wait_for 5 "$(dest 127.0.0.1 "$P_NO") and .network.protocol == \"udp\" and (.reason | startswith(\"send to\"))"
conn m-sendto sendto ::ffff:127.0.0.1 "$P_NO"
check "UDP sendto ::ffff:127.0.0.1: EPERM" said m-sendto "error EPERM"

conn tfo-ok tfo 127.0.0.1 "$P_OK"
check "TCP fast open to an allowed port succeeds" said tfo-ok "ok"
conn tfo-no tfo 127.0.0.1 "$P_NO"
check "TCP fast open elsewhere: EPERM" said tfo-no "error EPERM"
for how in uring uring-async uring-sqpoll; do
	conn "$how-ok" "$how" 127.0.0.1 "$P_OK"
	check "IORING_OP_CONNECT ($how) to an allowed port succeeds" said "$how-ok" "ok"
	conn "$how-no" "$how" 127.0.0.1 "$P_NO"
	check "IORING_OP_CONNECT ($how) elsewhere: EPERM" said "$how-no" "error EPERM"
done

conn fork fork tcp 127.0.0.1 "$P_NO"
check "a forked child's connect: EPERM" grep -q 'error EPERM' "$W/out.fork"
child=$(awk '{ print $2 }' "$W/out.fork")
check "the event names the child ($child)" wait_for 5 "$(dest 127.0.0.1 "$P_NO") and .process.pid == ${child:-0}"
conn thread thread tcp 127.0.0.1 "$P_NO"
check "a thread's connect: EPERM" grep -q 'error EPERM' "$W/out.thread"
tid=$(awk '{ print $2 }' "$W/out.thread")
check "the event names the thread ($tid)" wait_for 5 "$(dest 127.0.0.1 "$P_NO") and .process.tid == ${tid:-0} and .process.pid != .process.tid"

mkdir "$CG/child"
sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/child" "$C" tcp 127.0.0.1 "$P_NO" > "$W/out.child" 2>&1
check "a child cgroup is judged by its ancestor's scope: EPERM" said child "error EPERM"
check "reported with the child's cgroup path" wait_for 5 "$(dest 127.0.0.1 "$P_NO") and .workload.cgroupPath == \"/$CGNAME/child\" and .workload.scope == \"e2e\""

echo "enforce: from and to a network namespace"
in_cg ip netns exec "$NS" "$C" tcp 127.0.0.1 "$P_OK" > "$W/out.ns-ok" 2>&1
check "inside the namespace, its loopback on an allowed port" said ns-ok "ok"
in_cg ip netns exec "$NS" "$C" tcp 127.0.0.1 "$P_NO" > "$W/out.ns-no" 2>&1
check "inside the namespace, elsewhere: EPERM" said ns-no "error EPERM"
conn veth-ok tcp "$NET.2" "$P_NS"
check "to the namespace's address on its allowed port" said veth-ok "ok"
conn veth-no tcp "$NET.2" "$P_NO"
check "to the namespace's address elsewhere: EPERM" said veth-no "error EPERM"
check "reported with the namespace's address" wait_for 5 "$(dest "$NET.2" "$P_NO")"

echo "outside the test cgroup nothing is judged"
"$C" tcp 127.0.0.1 "$P_NO" > "$W/out.host" 2>&1
check "a host process connects where the test cgroup may not" said host "ok"

echo "exceptions"
conn exc tcp 127.0.0.1 "$P_EXC"
check "a waived connect is not refused (nothing listens: ECONNREFUSED)" said exc "error ECONNREFUSED"
check "its use is reported as an exception" wait_for 5 ".kind == \"exception\" and .network.destPort == $P_EXC and .action == \"none\" and (.reason | contains(\"e2e@example.com\"))"

echo "audit: the same connects go through and are reported"
egress_rules audit
check "reload to audit" reload
conn a-no tcp 127.0.0.1 "$P_NO"
check "audit: the connect succeeds" said a-no "ok"
check "audit: reported, not refused" wait_for 5 "$(dest 127.0.0.1 "$P_NO") and .action == \"reported\" and .mode == \"audit\" and .verdict == \"deny\""
conn a-sendto sendto 127.0.0.1 "$P_NO"
check "audit: a UDP send goes through" said a-sendto "ok"

echo "20,000 connects: every denied one refused, reported or counted lost"
stop_vouchd
egress_rules enforce
write_config
printf '  ring_buffer_kb: 64\n' >> "$W/vouchd.yaml"
start_vouchd || exit 1
N=20000
kill -STOP "$VOUCHD_PID"
in_cg "$C" loop $N 127.0.0.1 "$P_OK" "$P_NO" > "$W/out.loop"
kill -CONT "$VOUCHD_PID"
read -r _ denied _ refused _ not_refused _ wrongly < "$W/out.loop"
check "all $denied denied connects refused ($refused)" [ "$refused" = $((N / 2)) ]
check "no allowed connect refused ($wrongly)" [ "$wrongly" = 0 ]
events() { count_events "$(dest 127.0.0.1 "$P_NO") and .action == \"refused\""; }
losses() { jq -s '[.[] | select(.kind == "loss" and .loss.kind == "connect") | .loss.count] | add // 0' "$W/events.jsonl"; }
for _ in $(seq 100); do
	[ $(($(events) + $(losses))) -ge $((N / 2)) ] && break
	sleep 0.1
done
e=$(events)
l=$(losses)
echo "  reported $e, counted lost $l"
check "the ring buffer overflowed (losses counted: $l)" [ "$l" -gt 0 ]
check "reported + lost = $((N / 2)) exactly ($((e + l)))" [ $((e + l)) = $((N / 2)) ]

stop_vouchd
check "no vouch program stays loaded" wait_unloaded
finish
