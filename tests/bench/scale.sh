#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Policy scale (issue 8): vouchd with 1,000, 10,000 and 100,000 allowed
# paths spread over many scopes. For each size: the time from start to
# enforcing (load), the time of a SIGHUP swap to a policy of the same
# size, the memory of vouch's maps (bpftool's memlock figure), vouchd's
# RSS, and what an exec lookup costs in the kernel (vouch_exec ns per run
# over a loop in the bench cgroup), which should stay flat as it grows.
# Rewrites the scale section of BENCHMARKS.md.
#
# Needs root. Knobs: BENCH_SCALE_SIZES ("1000 10000 100000"),
# BENCH_SCALE_SCOPES (100), BENCH_SCALE_EXECS (2000), BENCH_DOC.
#
# Extension point: 10,000 attested images. Once image allow-lists are in
# policy, gen_rules grows a bundle of that many subjects and the table a
# column for it (load and swap time, map memory, lookup at container start).

set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/process.sh"
take_bpf_lock
. "$TOP/tests/bench/doc.sh"
OUT=${OUTPUT:-$TOP/.output}
VOUCHD=$OUT/vouchd
VOUCHCTL=$OUT/vouchctl
TRIGGER=$OUT/vouch-trigger
DOC=${BENCH_DOC:-$TOP/BENCHMARKS.md}
SIZES=${BENCH_SCALE_SIZES:-1000 10000 100000}
SCOPES=${BENCH_SCALE_SCOPES:-100}
# images per allowed path: 100,000 paths come with 10,000 images
IMAGE_RATIO=${BENCH_SCALE_IMAGE_RATIO:-10}
EXECS=${BENCH_SCALE_EXECS:-2000}
EXEC_BIN=/usr/bin/true
STATS_KEY=kernel.bpf_stats_enabled
STATS_OLD=
VOUCHD_PID=
W=
CG=
CGNAME=vouch-scale-$$

die() {
	echo "bench: $*" >&2
	exit 1
}

cleanup() {
	[ -z "$VOUCHD_PID" ] || stop_process "$VOUCHD_PID"
	[ -z "$STATS_OLD" ] || sysctl -q -w "$STATS_KEY=$STATS_OLD" > /dev/null
	[ -z "$CG" ] || rmdir "$CG" 2> /dev/null
	[ -z "$W" ] || rm -rf "$W"
}

# gen_rules N SALT: N allowed paths over SCOPES scopes, and N / IMAGE_RATIO
# container images, each a scope of its own with two allowed entries. The
# first scope is the bench cgroup's, whose entries include /usr/ and the
# trigger; the others match cgroups that do not exist, so they hold entries
# and judge nothing. SALT changes every path, so that a swap replaces every
# entry.
gen_rules() {
	local n=$1 salt=$2

	awk -v n="$n" -v s="$SCOPES" -v salt="$salt" -v cg="$CGNAME" \
	    -v trig="$TRIGGER" -v images=$((n / IMAGE_RATIO)) 'BEGIN {
		print "version: 1\nmode: off\nscopes:"
		per = int(n / s)
		for (k = 0; k < s; k++) {
			printf "- name: s%d\n  match:\n    cgroup: [\"/%s%s\"]\n", k,
			       cg, k ? "-none-" k : ""
			printf "  mode: enforce\n  exec:\n    allow:\n"
			if (k == 0)
				printf "    - /usr/\n    - %s\n", trig
			m = k == s - 1 ? n - per * (s - 1) : per
			m -= k ? 0 : 2
			for (i = 0; i < m; i++)
				printf "    - /opt/%s/%d/f%d\n", salt, k, i
		}
		printf "containers:\n  mode: enforce\n  cgroup_roots: [\"/%s-none-roots\"]\n", cg
		printf "images:\n"
		for (i = 0; i < images; i++) {
			printf "- digest: sha256:%s%056x\n", salt == "a" ? "aaaaaaaa" : "bbbbbbbb", i
			printf "  service: svc%d\n  version: \"1.%d\"\n", i, i
			printf "  exec:\n    allow: [/app/%d/, /usr/bin/svc%d]\n", i, i
		}
	}'
}

start_vouchd() {
	cat > "$W/vouchd.yaml" <<YAML
rules: $W/rules.yaml
log: {level: warn, format: text}
events: {output: $W/events.jsonl, loss_report_ms: 1000}
bpf: {pin: false}
metrics: {listen: "off"}
YAML
	: > "$W/events.jsonl"
	"$VOUCHD" --config "$W/vouchd.yaml" 2>> "$W/vouchd.log" &
	VOUCHD_PID=$!
	for _ in $(seq 6000); do
		grep -q '"reason":"vouchd started"' "$W/events.jsonl" && return 0
		kill -0 "$VOUCHD_PID" 2> /dev/null || break
		sleep 0.01
	done
	cat "$W/vouchd.log" >&2
	die "vouchd did not start"
}

# swap: SIGHUP with a new rules file in place; waits for the policy event.
swap() {
	local before

	before=$(grep -c '"kind":"policy"' "$W/events.jsonl")
	kill -HUP "$VOUCHD_PID"
	for _ in $(seq 6000); do
		[ "$(grep -c '"kind":"policy"' "$W/events.jsonl")" -gt "$before" ] &&
			return 0
		sleep 0.01
	done
	die "no policy event after SIGHUP"
}

# Bytes of every vouch map, as bpftool reports them (memlock).
map_bytes() {
	bpftool map show -j | jq '[.[] | select(.name // "" |
		test("^(allow_paths|deny_paths|exception_paths|inodes|scopes|cgroup_scopes|cgroup_cache|globals)$")) |
		.bytes_memlock // 0] | add // 0'
}

# exec_ns: vouch_exec's ns per run over EXECS execs in the bench cgroup.
exec_ns() {
	local before after

	before=$(bpftool prog show -j | jq -r '.[] | select(.name == "vouch_exec") | "\(.run_time_ns // 0) \(.run_cnt // 0)"')
	sysctl -q -w "$STATS_KEY=1" > /dev/null
	(echo "$BASHPID" > "$CG/cgroup.procs" && "$TRIGGER" loop "$EXECS" "$EXEC_BIN") > /dev/null ||
		die "exec loop failed"
	sysctl -q -w "$STATS_KEY=$STATS_OLD" > /dev/null
	after=$(bpftool prog show -j | jq -r '.[] | select(.name == "vouch_exec") | "\(.run_time_ns // 0) \(.run_cnt // 0)"')
	awk -v a="$after" -v b="$before" 'BEGIN { split(a, x); split(b, y)
		if (x[2] > y[2]) printf "%.0f", (x[1] - y[1]) / (x[2] - y[2]); else print "-" }'
}

measure_size() {
	local n=$1 t0 load swap_ms bytes rss peak ns size

	gen_rules "$n" a > "$W/rules.yaml"
	size=$(stat -c %s "$W/rules.yaml")
	"$VOUCHCTL" lint "$W/rules.yaml" > "$W/lint.out" 2>&1 ||
		die "generated rules do not lint: $(head -3 "$W/lint.out")"
	t0=$(date +%s%N)
	start_vouchd
	load=$(( ($(date +%s%N) - t0) / 1000000 ))
	ns=$(exec_ns)
	gen_rules "$n" b > "$W/rules.yaml"
	t0=$(date +%s%N)
	swap
	swap_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	# vouchd retires the previous generation two seconds after a swap
	sleep 4
	bytes=$(map_bytes)
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$VOUCHD_PID/status")
	peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$VOUCHD_PID/status")
	stop_process "$VOUCHD_PID"
	VOUCHD_PID=
	wait_unloaded || die "vouch programs still loaded"
	printf '| %d | %d | %d | %d KB | %d ms | %d ms | %.1f MB | %.1f MB | %.1f MB | %s ns |\n' \
		"$n" $((n / IMAGE_RATIO)) "$SCOPES" $((size / 1024)) "$load" "$swap_ms" \
		"$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" \
		"$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" \
		"$(awk -v r="$peak" 'BEGIN { print r / 1024 }')" "$ns"
}

write_section() {
	cat <<EOF
## Policy scale (issue 8)

Run on $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`make bench\` (tests/bench/scale.sh),
kernel $(uname -r), $(nproc --all) CPUs.

**Method.** For each size, generated rules hold that many allowed paths
over $SCOPES scopes; the bench cgroup's scope is one of them (it also allows
\`/usr/\` and the trigger), the others match cgroups that do not exist.
Load: from starting vouchd to its "vouchd started" event (BPF load and
attach included). Swap: from SIGHUP, with a file of the same size whose
every path differs, to vouchd's policy event; both generations are in the
maps meanwhile. Map memory: \`bytes_memlock\` of vouch's policy maps from
\`bpftool map show\`, 4 s after the swap. RSS: vouchd's VmRSS 4 s after
the swap (vouchd retires the previous generation 2 s after a swap), and
its peak (VmHWM), reached while two policies are held. Lookup:
\`vouch_exec\` ns per run over $EXECS execs of \`$EXEC_BIN\` in the bench
cgroup (\`$STATS_KEY\`).

| allowed paths | images | scopes | rules file | load | swap | map memory | vouchd RSS | peak RSS | exec lookup |
|---|---|---|---|---|---|---|---|---|---|
$(cat "$W/rows")

Images are container image entries (each a scope of its own with two
allowed entries, beyond the allowed paths counted in the first column), as
rule YAML or a verified bundle gives them.
EOF
}

main() {
	local n

	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	[ "$(id -u)" -eq 0 ] || die "needs root"
	[ "$(vouch_progs_loaded)" -eq 0 ] ||
		die "vouch programs are already loaded; stop the other vouchd first"
	STATS_OLD=$(sysctl -n "$STATS_KEY") || die "cannot read $STATS_KEY"
	W=$(mktemp -d) || die "cannot make a work directory"
	CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)/$CGNAME
	mkdir "$CG" || die "cannot make cgroup $CG"
	: > "$W/rows"
	for n in $SIZES; do
		echo "scale: $n allowed paths"
		measure_size "$n" | tee -a "$W/rows"
	done
	write_section > "$W/section.md"
	bench_doc_update "$DOC" scale-bench "$W/section.md" || exit 1
}

main "$@"
