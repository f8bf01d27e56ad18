# SPDX-License-Identifier: GPL-2.0-only
# The connect workload of tests/bench/compare.sh: sequential loopback TCP
# connect and close (see tests/bench/workloads.sh for the interface).

CONNECT=${OUT:-$TOP/.output}/vouch-connect
CONNECT_ADDR=127.0.0.1
CONNECT_PORT=
# TEST-NET-1: a documentation address nothing on this machine talks to
CONNECT_NOWHERE=192.0.2.1
: "${BENCH_CONNECT_OPS:=30000}"
: "${BENCH_CONNECT_WARMUP:=2000}"
: "${BENCH_CONNECT_STATS_OPS:=5000}"

workload_connect_check() {
	[ -x "$CONNECT" ] || { echo "missing $CONNECT" >&2; return 1; }
	command -v ss > /dev/null || { echo "missing tool 'ss'" >&2; return 1; }
}

# A port nothing listens on; vouch-connect bench listens on it itself.
workload_connect_setup() {
	for _ in $(seq 50); do
		CONNECT_PORT=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$CONNECT_PORT" | grep -q . || return 0
	done
	die "no free port for the connect workload"
}

# vouch-connect bench: a listener thread accepts and closes, the main
# thread connects and closes with an RST (no TIME_WAIT piles up); mean ns
# per connect.
workload_connect_run() {
	local out n ns failed

	out=$("$CONNECT" bench "$1" "$CONNECT_ADDR" "$CONNECT_PORT") || return 1
	read -r _ n _ ns _ failed <<< "$out"
	[ "$n" = "$1" ] && [ "$failed" = 0 ] || {
		echo "connect loop went wrong: $out" >&2
		return 1
	}
	awk -v ns="$ns" 'BEGIN { printf "%.3f\n", 1e9 / ns }'
}

workload_connect_hook_progs() {
	printf '%s\n' vouch_connect4 floor_connect4 sys_enter_conne
}

workload_connect_floor_pair() {
	echo vouch_connect4 floor_connect4 sys_enter_conne 3
}

# Enforce: the loop's destination allowed, so nothing is refused, and a
# deny entry elsewhere. Audit: an allow-list that matches nothing, so every
# connect is a violation and reported (and goes through).
workload_connect_rules() {
	if [ "$1" = audit ]; then
		printf '    egress:\n      allow:\n        - {cidr: %s/32, ports: 9, protocol: tcp}\n' \
			"$CONNECT_NOWHERE"
	else
		printf '    egress:\n      allow:\n        - {cidr: %s/32, ports: %s, protocol: tcp}\n' \
			"$CONNECT_ADDR" "$CONNECT_PORT"
		printf '      deny:\n        - {cidr: %s/32, ports: 9, protocol: tcp}\n' \
			"$CONNECT_NOWHERE"
	fi
}

workload_connect_events() {
	jq -c --argjson p "$CONNECT_PORT" \
		'select(.kind == "connect" and .network.destPort == $p)' "$1" |
		wc -l
}

workload_connect_method() {
	echo "\`vouch-connect bench\` of $BENCH_CONNECT_OPS sequential TCP connects to a listener on $CONNECT_ADDR (accepted and closed by a thread of the same program), each closed with an RST; allowed by an egress entry in enforce."
}
