#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Containers (issue 4): real runc containers. An attested one runs and its
# events name it; an unattested one never runs its entrypoint; an exec
# outside the image's allow-list is killed; containers from before vouchd
# are attributed; hostile metadata gets the fail action, never a crash.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
trap 'cleanup_containers; cleanup' EXIT

make_binaries
make_rootfs
container_rules enforce
write_config
# the exec path this kernel offers: under BPF LSM (make vmtest) the
# containers are held and judged through it
sed -i 's/^exec_hook: .*/exec_hook: auto/' "$W/vouchd.yaml"
P=ct-$$

# --- started before vouchd: runs unwatched, attributed once it starts
make_bundle "$P-early" "$(annotations "$DIGEST_A" deploy-early)" /bin/sleep 600
runc run -d $RUNC_ROOT_FLAGS --bundle "$W/bundles/$P-early" "$P-early" < /dev/null > /dev/null 2>&1

start_vouchd || exit 1
ev() { wait_for 8 "$1"; }

# --- an attested container runs, and its start names it
make_bundle "$P-ok" "$(annotations "$DIGEST_A")" \
	/bin/sh -c 'echo ran > /out/ok; exit 0'
run_container "$P-ok"
check "attested: the entrypoint ran" [ -e "$W/out/ok" ] ||
	{ echo "runc said:"; cat "$W/$P-ok.out"; tail -5 "$W/vouchd.log"; }
check "attested: its start is reported as allowed with its metadata" ev '
	.kind == "container" and .verdict == "allow" and
	.workload.containerId == "'$P-ok'" and .workload.kind == "container" and
	.workload.imageDigest == "'$DIGEST_A'" and .workload.service == "web" and
	.workload.version == "1.0" and .workload.deployId == "deploy-7" and
	.workload.environment == "test" and .workload.attested == true and
	.process.exe == "/bin/busybox"'

# --- an unattested image: the entrypoint never runs, every task is gone
make_bundle "$P-bad" "$(annotations "$DIGEST_B")" \
	/bin/sh -c 'echo ran > /out/bad; sleep 30'
run_container "$P-bad"
sleep 0.5
check "unattested: the marker never appears" [ ! -e "$W/out/bad" ]
check "unattested: no task is left in its cgroup" \
	[ -z "$(cat "$CG/$P-bad/cgroup.procs" 2>/dev/null)" ]
check "unattested: killed and reported with its reason" ev '
	.kind == "container" and .verdict == "deny" and .action == "killed" and
	.workload.containerId == "'$P-bad'" and
	(.reason | test("'$DIGEST_B' is not on the allow-list")) and
	.workload.attested != true'

# --- the same path is denied in one image and allowed in another
make_bundle "$P-a" "$(annotations "$DIGEST_A")" \
	/bin/sh -c '/opt/busybox sh -c "echo ran > /out/a-tool"; echo done > /out/a-done'
make_bundle "$P-c" "$(annotations "$DIGEST_C" deploy-9)" \
	/bin/sh -c '/opt/busybox sh -c "echo ran > /out/c-tool"; echo done > /out/c-done'
run_container "$P-a"
run_container "$P-c"
check "image A: its shell goes on after the denied exec" [ -e "$W/out/a-done" ]
check "image A: /opt/busybox is killed before it runs" [ ! -e "$W/out/a-tool" ]
check "image A: the kill names the container and the image" ev '
	.kind == "exec" and .action == "killed" and .process.exe == "/opt/busybox" and
	.workload.containerId == "'$P-a'" and .workload.imageDigest == "'$DIGEST_A'" and
	.workload.service == "web" and .workload.deployId == "deploy-7"'
check "image C: the same /opt/busybox runs" [ -e "$W/out/c-tool" ]
check "image C: no exec of it is reported" \
	[ "$(count_events '.kind == "exec" and .workload.containerId == "'$P-c'"')" = 0 ]

# --- egress by image: A may reach nothing, C may reach loopback TCP
# (each container has a network namespace of its own, loopback only)
probe='nc -w 1 127.0.0.1 9 < /dev/null 2> /out/nc-$0; echo "rc=$?" >> /out/nc-$0'
make_bundle "$P-na" "$(annotations "$DIGEST_A")" /bin/sh -c "$probe" A
make_bundle "$P-nc" "$(annotations "$DIGEST_C" deploy-9)" /bin/sh -c "$probe" C
run_container "$P-na"
run_container "$P-nc"
check "egress: image A's connect is refused (EPERM)" \
	grep -qi "not permitted" "$W/out/nc-A"
check "egress: image C's connect reaches the network (refused by no listener)" \
	grep -qi "refused" "$W/out/nc-C"
check "egress: the refusal names the container and its image" ev '
	.kind == "connect" and .action == "refused" and
	.workload.containerId == "'$P-na'" and .workload.imageDigest == "'$DIGEST_A'" and
	.network.destAddr == "127.0.0.1" and .network.destPort == 9'

# --- a fork without exec keeps its container: its denied exec names it
make_bundle "$P-fork" "$(annotations "$DIGEST_A")" \
	/bin/sh -c '( sleep 0.1; /opt/busybox true ) & wait; echo done > /out/fork-done'
run_container "$P-fork"
check "fork: the forked child's exec is judged as the container's" ev '
	.kind == "exec" and .action == "killed" and .process.exe == "/opt/busybox" and
	.workload.containerId == "'$P-fork'"'

# --- the early container: attributed, and judged by its image now
check "before vouchd: its container is known, attested" ev '
	.kind == "container" and .workload.containerId == "'$P-early'" and
	.verdict == "allow" and .workload.deployId == "deploy-early"'
runc exec "$P-early" /opt/busybox sh -c 'echo ran > /out/early-tool' < /dev/null > /dev/null 2>&1
runc exec "$P-early" /bin/sh -c 'echo ran > /out/early-sh' < /dev/null > "$W/early-sh.out" 2>&1
check "before vouchd: an exec outside its allow-list is killed" [ ! -e "$W/out/early-tool" ]
check "before vouchd: an allowed exec runs" [ -e "$W/out/early-sh" ] ||
	{ echo "runc exec said:"; cat "$W/early-sh.out"; }
check "before vouchd: the kill names it" ev '
	.kind == "exec" and .action == "killed" and
	.workload.containerId == "'$P-early'" and .workload.imageDigest == "'$DIGEST_A'"'
runc delete -f "$P-early" > /dev/null 2>&1

# --- metadata that disagrees with the attestation is a violation
make_bundle "$P-liar" "$(jq -n --arg d "$DIGEST_A" \
	'{"vouch.dev/image-digest": $d, "vouch.dev/service": "payments"}')" \
	/bin/sh -c 'echo ran > /out/liar'
run_container "$P-liar"
check "disagreeing metadata: the entrypoint never runs" [ ! -e "$W/out/liar" ]
check "disagreeing metadata: killed, the field named" ev '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "'$P-liar'" and
	(.reason | test("service .payments. disagrees with the attested .web."))'

# --- a scope matched by service sets the mode of that workload only
container_rules enforce '
scopes:
  - name: web-audit
    match:
      service: web
    mode: audit'
reload || fail "reload with a workload scope"
make_bundle "$P-wa" "$(annotations "$DIGEST_A")" \
	/bin/sh -c '/opt/busybox sh -c "echo ran > /out/wa-tool"'
make_bundle "$P-wc" "$(annotations "$DIGEST_B")" \
	/bin/sh -c 'echo ran > /out/wc'
run_container "$P-wa"
run_container "$P-wc"
check "workload scope: web's denied exec runs, audited" [ -e "$W/out/wa-tool" ]
check "workload scope: reported under its scope" ev '
	.kind == "exec" and .action == "reported" and .mode == "audit" and
	.workload.containerId == "'$P-wa'"'
check "workload scope: other workloads still enforce" [ ! -e "$W/out/wc" ]
container_rules enforce
reload || fail "reload back"

# --- a runtime's helper below the root (conmon) is no container: it runs
conmon=libpod-conmon-$(printf 'e%.0s' $(seq 64)).scope
mkdir "$CG/$conmon"
spawn_in_cgroup "$CG/$conmon" "$W/m-conmon"
wait $!
check "conmon scope: released, not killed" [ -e "$W/m-conmon" ]
check "conmon scope: no container verdict about it" \
	[ "$(count_events '.kind == "container" and (.workload.cgroupPath // "" | test("conmon"))')" = 0 ]
rmdir "$CG/$conmon"

# --- hostile metadata: the fail action (kill), a clear log line, no crash
make_bundle "$P-garbage" "$(annotations "$DIGEST_A")" \
	/bin/sh -c 'echo ran > /out/garbage'
runc create $RUNC_ROOT_FLAGS --bundle "$W/bundles/$P-garbage" "$P-garbage" < /dev/null > /dev/null 2>&1
printf '{"ociVersion": "1.0", "annotations": {"a": ' > "$W/bundles/$P-garbage/config.json"
runc start "$P-garbage" > /dev/null 2>&1
sleep 0.5
check "unparseable config.json: the entrypoint never runs" [ ! -e "$W/out/garbage" ]
check "unparseable config.json: the log names the file and the position" \
	grep -q "unusable metadata.*bundles/$P-garbage/config.json:1:" "$W/vouchd.log"
check "unparseable config.json: killed by the fail action" ev '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "'$P-garbage'" and .rule == "containers/fail_action"'
runc delete -f "$P-garbage" > /dev/null 2>&1

make_bundle "$P-huge" "$(jq -n --arg d "$DIGEST_A" \
	'{"vouch.dev/deploy-id": ("x" * 300000), "vouch.dev/image-digest": $d}')" \
	/bin/sh -c 'echo ran > /out/huge'
run_container "$P-huge"
check "huge annotation: logged and ignored" \
	grep -q "annotation 'vouch.dev/deploy-id' is over 4096 bytes; ignored" "$W/vouchd.log"
check "huge annotation: judged on the rest (attested image runs)" [ -e "$W/out/huge" ]

# a cgroup path of about 4,000 characters below the root, no runtime
deep=$CG
for i in $(seq 16); do deep=$deep/$(printf 'd%.0s' $(seq 240)); done
mkdir -p "$deep"
spawn_in_cgroup "$deep" "$W/m-deep"
wait $!
check "4,000-character cgroup path: the process never runs" [ ! -e "$W/m-deep" ]
check "4,000-character cgroup path: fail action reported" ev '
	.kind == "container" and .rule == "containers/fail_action" and
	.action == "killed" and (.reason | test("names no container"))'
find "$CG/$(printf 'd%.0s' $(seq 240))" -depth -type d -exec rmdir {} \; 2>/dev/null

# a container whose metadata never comes: held, then the fail action
mkdir "$CG/mute-$$"
spawn_in_cgroup "$CG/mute-$$" "$W/m-mute"
check "no metadata: killed once the hold times out" wait_state $! '^Z?$'
check "no metadata: the process never runs" [ ! -e "$W/m-mute" ]
check "no metadata: the timeout is logged" \
	grep -q "mute-$$: container not identified (hold timeout)" "$W/vouchd.log"
rmdir "$CG/mute-$$"

# a container that goes away while vouchd waits for its metadata (a hold
# timeout far off: the verdict must not wait for it)
sed -i 's/hold_timeout_ms: .*/hold_timeout_ms: 60000/' "$W/rules.yaml"
reload || fail "reload with a long hold timeout"
mkdir "$CG/ghost-$$"
spawn_in_cgroup "$CG/ghost-$$" "$W/m-ghost"
ghost=$!
sleep 0.3
kill -9 "$ghost" 2>/dev/null
wait "$ghost" 2>/dev/null
rmdir "$CG/ghost-$$"
check "exits during lookup: reported without waiting for the timeout" ev '
	.kind == "container" and .rule == "containers/fail_action" and
	.workload.containerId == "ghost-'$$'" and
	(.reason | test("removed before its metadata was read"))'
check "exits during lookup: vouchd is still running" kill -0 "$VOUCHD_PID"

# --- audit mode: an unattested container runs, reported
container_rules audit
reload || fail "reload to audit"
make_bundle "$P-audit" "$(annotations "$DIGEST_B")" \
	/bin/sh -c 'echo ran > /out/audit'
run_container "$P-audit"
check "audit: an unattested container runs" [ -e "$W/out/audit" ]
check "audit: and is reported" ev '
	.kind == "container" and .verdict == "deny" and .action == "reported" and
	.workload.containerId == "'$P-audit'"'
# attested or not, gone before vouchd would drain the ring buffer on its
# timer: the kernel wakes it for a container's first exec, held or not
for i in 1 2 3 4 5 6; do
	make_bundle "$P-brief$i" "$(annotations "$([ $i -le 3 ] && echo "$DIGEST_A" || echo "$DIGEST_B")")" /bin/true
	run_container "$P-brief$i"
done
for i in 1 2 3 4 5 6; do
	check "audit: container $i of 6 that exits at once is named" ev '
		.kind == "container" and
		.workload.containerId == "'$P-brief$i'"'
done
# gone, state and all, before a busy vouchd reads its metadata: still
# reported, at once, by its ID (its image cannot be known any more), once
# for all of its execs
make_bundle "$P-missed" "$(annotations "$DIGEST_A")" /bin/sh -c '/bin/true; /bin/true'
kill -STOP "$VOUCHD_PID"
run_container "$P-missed"
kill -CONT "$VOUCHD_PID"
check "audit: a container gone before vouchd looked is reported by its ID" ev '
	.kind == "container" and .verdict == "deny" and .action == "reported" and
	.workload.containerId == "'$P-missed'" and
	(.reason | test("removed before its metadata was read"))'
sleep 0.3
check "audit: and only once, with one verdict" \
	[ "$(count_events '.kind == "container" and .workload.containerId == "'$P-missed'"')" = 1 ]

# --- vouchd stops while a container is held: none is left stopped
container_rules enforce
sed -i 's/hold_timeout_ms: .*/hold_timeout_ms: 60000/' "$W/rules.yaml"
reload || fail "reload to enforce"
mkdir "$CG/held-$$"
spawn_in_cgroup "$CG/held-$$" "$W/m-held"
held=$!
check "stop: the container's first exec is held" wait_state "$held" '^T$'

check "vouchd survived all of it" kill -0 "$VOUCHD_PID"
stop_vouchd
# killed: a zombie until this shell reaps it, or gone
check "stop: the held container gets the fail action, not a stop forever" \
	wait_state "$held" '^Z?$'
check "stop: its entrypoint never ran" [ ! -e "$W/m-held" ]
check "stop: and it is reported" [ "$(count_events '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "held-'$$'" and
	(.reason | test("vouchd stopping"))')" = 1 ]
kill -9 "$held" 2>/dev/null
rmdir "$CG/held-$$" 2>/dev/null

# --- pinned, the programs outlive vouchd: a container started while no
# vouchd runs is held, and the next vouchd judges it as a start (its
# record is read before the cgroup tree), so an unattested one is killed
PIN_DIR=/sys/fs/bpf/vouch-e2e-$$-$RANDOM
write_config
sed -i 's/^exec_hook: .*/exec_hook: auto/' "$W/vouchd.yaml"
start_vouchd || fail "pinned start"
stop_vouchd
make_bundle "$P-gap" "$(annotations "$DIGEST_B")" /bin/sh -c 'echo ran > /out/gap'
runc run -d $RUNC_ROOT_FLAGS --bundle "$W/bundles/$P-gap" "$P-gap" \
	< /dev/null > "$W/$P-gap.out" 2>&1
sleep 0.3
check "no vouchd: the pinned programs hold the container" [ ! -e "$W/out/gap" ]
start_vouchd || fail "pinned restart"
check "next vouchd: the container held meanwhile is killed as unattested" ev '
	.kind == "container" and .action == "killed" and
	.workload.containerId == "'$P-gap'" and
	(.reason | test("'$DIGEST_B' is not on the allow-list"))'
sleep 0.3
check "next vouchd: its entrypoint never ran" [ ! -e "$W/out/gap" ]
runc delete -f "$P-gap" > /dev/null 2>&1
finish
