# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the container tests and benchmarks, after lib.sh: real runc
# containers from bundles built here, every one of them in a cgroup below
# the test cgroup, which the rules name as the containers' root.

ROOTFS=$W/rootfs
mkdir -p "$W/out" "$W/bundles"
chmod 0777 "$W/out"

# pivot_root cannot leave an initramfs (make vmtest): runc moves instead
RUNC_ROOT_FLAGS=
case $(stat -f -c %T /) in
ramfs | tmpfs) RUNC_ROOT_FLAGS=--no-pivot ;;
esac

DIGEST_A=sha256:$(printf 'a%.0s' $(seq 64))
DIGEST_B=sha256:$(printf 'b%.0s' $(seq 64))
DIGEST_C=sha256:$(printf 'c%.0s' $(seq 64))

# make_rootfs: busybox as /bin/*, and a second copy of it in /opt.
make_rootfs() {
	local d
	for d in bin opt out proc dev sys tmp; do
		mkdir -p "$ROOTFS/$d"
	done
	cp /bin/busybox "$ROOTFS/bin/busybox"
	cp /bin/busybox "$ROOTFS/opt/busybox"
	for d in sh echo sleep cat true nc; do
		ln -sf busybox "$ROOTFS/bin/$d"
	done
}

# make_bundle NAME ANNOTATIONS_JSON ARGS...: a bundle whose container runs
# ARGS, with /out bound to $W/out.
make_bundle() {
	local name=$1 annotations=$2 dir=$W/bundles/$1 arg
	shift 2
	mkdir -p "$dir"
	(cd "$dir" && runc spec)
	printf '%s' "$annotations" > "$dir/annotations.json"
	for arg in "$@"; do printf '%s' "$arg" | jq -Rs .; done |
		jq -s . > "$dir/args.json"
	jq --arg root "$ROOTFS" --arg out "$W/out" --arg cg "/$CGNAME/$name" \
	   --slurpfile ann "$dir/annotations.json" \
	   --slurpfile args "$dir/args.json" '
		.process.terminal = false |
		.process.args = $args[0] |
		.root = { path: $root, readonly: false } |
		.linux.cgroupsPath = $cg |
		.annotations = $ann[0] |
		.mounts += [{ destination: "/out", type: "bind", source: $out,
			      options: ["rbind", "rw"] }]
	' < "$dir/config.json" > "$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# annotations DIGEST [DEPLOY_ID]: what a runtime would pass for an image.
annotations() {
	jq -n --arg d "$1" --arg deploy "${2:-deploy-7}" \
		'{ "vouch.dev/image-digest": $d, "vouch.dev/deploy-id": $deploy,
		   "org.opencontainers.image.ref.name": ("registry.test/web@" + $d) }'
}

# run_container NAME: runs it in the foreground; its output in $W/NAME.out.
run_container() {
	timeout 20 runc run $RUNC_ROOT_FLAGS --bundle "$W/bundles/$1" "$1" \
		< /dev/null > "$W/$1.out" 2>&1
}

# The containers' cgroups, v1 hierarchies included, go with the test (the
# test cgroup itself, with all below it, goes in lib.sh's cleanup).
cleanup_containers() {
	local id d
	for id in $(runc list -q 2>/dev/null); do
		case $id in
		ct-$$-*) runc delete -f "$id" > /dev/null 2>&1 ;;
		esac
	done
	for d in /sys/fs/cgroup/*/"$CGNAME"; do
		[ "$d" = "$CG" ] && continue
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2> /dev/null
	done
}

# container_rules MODE [EXTRA]: host off, containers below the test
# cgroup in MODE, images A (may run /bin/) and C (/bin/ and /opt/).
container_rules() {
	local mode=$1 extra=${2:-}
	cat > "$W/rules.yaml" <<YAML
version: 1
mode: off
containers:
  mode: $mode
  cgroup_roots: ["/$CGNAME"]
  hold_timeout_ms: 1500
images:
  - digest: $DIGEST_A
    service: web
    version: "1.0"
    deploy_id: deploy-7
    environment: test
    exec:
      allow: ["/bin/"]
    egress:
      allow: []
  - digest: $DIGEST_C
    service: tools
    version: "2.1"
    deploy_id: deploy-9
    exec:
      allow: ["/bin/", "/opt/"]
    egress:
      allow:
        - {cidr: 127.0.0.1/32, ports: 1-65535, protocol: tcp}
$extra
YAML
}
