# SPDX-License-Identifier: GPL-2.0-only
# The runc workload of tests/bench/compare.sh: sequential container starts
# with runc (see tests/bench/workloads.sh for the interface).
#
# Each operation is a foreground `runc run` of a busybox bundle whose
# entrypoint is /bin/true: create, start, the entrypoint's exit, delete.
# runc (cgroupfs driver) puts each container in a cgroup of its own below
# RUNC_CT_ROOT, a cgroup made for this run and named in the rules as the
# containers' only root; runc itself runs in RUNC_LAUNCH_CG, which no scope
# names. So vouchd holds and judges these containers and nothing else: the
# host scope is off, and other cgroups are roots of no container.

RUNC_CT_ROOT_NAME=vouch-bench-ct-$$
RUNC_CT_PREFIX=vouch-bench-$$-
RUNC_CT_ROOT=
RUNC_LAUNCH_CG=
RUNC_TEMPLATE=
: "${BENCH_RUNC_OPS:=40}"
: "${BENCH_RUNC_WARMUP:=3}"
: "${BENCH_RUNC_STATS_OPS:=5}"

workload_runc_check() {
	command -v runc > /dev/null || { echo "missing tool 'runc'" >&2; return 1; }
	[ -x /bin/busybox ] || { echo "missing /bin/busybox" >&2; return 1; }
}

# runc_template: a bundle's config.json with @NAME@ for the container ID.
runc_template() {
	local d=$W/runc-spec

	mkdir -p "$d" && (cd "$d" && runc spec) || return 1
	jq --arg root "$ROOTFS" --arg cg "/$RUNC_CT_ROOT_NAME/@NAME@" \
	   --argjson ann "$(annotations "$DIGEST_A")" '
		.process.terminal = false |
		.process.args = ["/bin/true"] |
		.root = { path: $root, readonly: true } |
		.linux.cgroupsPath = $cg |
		.annotations = $ann
	' "$d/config.json"
}

workload_runc_setup() {
	local cgroot

	# rootfs, annotations, DIGEST_A and RUNC_ROOT_FLAGS, as the e2e tests
	. "$TOP/tests/e2e/containers.sh"
	make_rootfs || die "cannot make the container rootfs"
	RUNC_TEMPLATE=$(runc_template) || die "cannot make the bundle template"
	cgroot=$(dirname "$CG")
	RUNC_CT_ROOT=$cgroot/$RUNC_CT_ROOT_NAME
	RUNC_LAUNCH_CG=$cgroot/vouch-bench-rt-$$
	mkdir "$RUNC_CT_ROOT" "$RUNC_LAUNCH_CG" ||
		die "cannot make the runc workload's cgroups"
}

# Stops what an interrupted loop left: containers, their cgroups in every
# hierarchy (v1 ones too, on a hybrid machine), the launcher's cgroup.
workload_runc_cleanup() {
	local id d

	for id in $(runc list -q 2> /dev/null); do
		case $id in
		"$RUNC_CT_PREFIX"*) runc delete -f "$id" > /dev/null 2>&1 ;;
		esac
	done
	for d in /sys/fs/cgroup/*/"$RUNC_CT_ROOT_NAME" /sys/fs/cgroup/"$RUNC_CT_ROOT_NAME"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2> /dev/null
	done
	[ -z "$RUNC_LAUNCH_CG" ] || rmdir "$RUNC_LAUNCH_CG" 2> /dev/null
	return 0
}

workload_runc_cgroup() { echo "$RUNC_LAUNCH_CG"; }

# runc_bundles COUNT: COUNT bundles, one a container ID, made before the
# loop is timed; prints their IDs.
runc_bundles() {
	local seq i name

	seq=$(cat "$W/runc.seq" 2> /dev/null || echo 0)
	echo $((seq + $1)) > "$W/runc.seq"
	for ((i = seq; i < seq + $1; i++)); do
		name=$RUNC_CT_PREFIX$i
		mkdir -p "$W/bundles/$name" || return 1
		printf '%s\n' "${RUNC_TEMPLATE//@NAME@/$name}" \
			> "$W/bundles/$name/config.json" || return 1
		echo "$name"
	done
}

# Starts per second over the whole loop; every container must exit 0.
workload_runc_run() {
	local names name t0 t1 failed=0

	names=$(runc_bundles "$1") || return 1
	t0=$EPOCHREALTIME
	for name in $names; do
		runc run $RUNC_ROOT_FLAGS --bundle "$W/bundles/$name" "$name" \
			< /dev/null > /dev/null 2>> "$W/runc.err" || failed=$((failed + 1))
	done
	t1=$EPOCHREALTIME
	for name in $names; do rm -rf "$W/bundles/$name"; done
	[ "$failed" = 0 ] || {
		echo "runc loop: $failed of $1 containers failed: $(tail -3 "$W/runc.err")" >&2
		return 1
	}
	awk -v n="$1" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", n / (b - a) }'
}

workload_runc_hook_progs() {
	printf '%s\n' vouch_cgroup_mkdir vouch_exec vouch_exec_lsm floor_exec \
		sched_process_e
}

# The launcher's cgroup is no scope's, so the bench scope needs nothing.
workload_runc_rules() { :; }

# Containers below the bench root only, the image attested. In audit its
# allow-list matches nothing, so the container's exec is reported too.
workload_runc_top_rules() {
	local allow='"/bin/"'

	[ "$1" = audit ] && allow='"/nonexistent-vouch-bench/"'
	cat <<YAML
containers:
  mode: $1
  cgroup_roots: ["/$RUNC_CT_ROOT_NAME"]
  hold_timeout_ms: 2000
  fail_action: kill
images:
  - digest: $DIGEST_A
    service: web
    version: "1.0"
    deploy_id: deploy-7
    environment: test
    exec:
      allow: [$allow]
YAML
}

# One container event (the verdict on its start) per container.
workload_runc_events() {
	jq -c --arg p "$RUNC_CT_PREFIX" 'select(.kind == "container" and
		(.workload.containerId // "" | startswith($p)))' "$1" | wc -l
}

workload_runc_method() {
	echo "$BENCH_RUNC_OPS sequential \`runc run\` (runc $(runc --version | awk 'NR == 1 { print $3 }'), cgroupfs driver) of a busybox bundle whose entrypoint is \`/bin/true\`, each container in a cgroup of its own below a root made for the run, the only containers root in the rules; the image is attested, its first exec held until the verdict in enforce; ops/s are starts per second, creation to deletion."
}
