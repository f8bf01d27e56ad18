#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make vmtest`: the end-to-end tests on a second kernel, Debian 12's 6.1
# cloud kernel, booted under qemu with the BPF LSM active. Fetches the
# kernel package into .output/vm/ (once), builds an initramfs holding
# vouchd, the tools, the tests and every binary and library they use, taken
# from this machine, boots it, and reads the result line from the console.
#
# VM_TESTS="test_exec_enforce.sh ..." picks the tests (default: all but the
# npm interop test); VM_TIMEOUT bounds the boot in seconds; VM_KERNEL_DEB
# names a kernel package file to use instead of fetching one; VM_ACCEL=kvm
# uses KVM instead of TCG.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
OUT=${OUTPUT:-$TOP/.output}
VM=$OUT/vm
ROOT=$VM/root
VM_TIMEOUT=${VM_TIMEOUT:-3600}

# The commands the tests and init call, taken from this machine.
COMMANDS="bash sh env cat cp mv rm ln mkdir rmdir mktemp sleep seq wc tee
	tail head grep sed awk jq flock ss ip cut sort uniq tr date stat
	readlink realpath dirname basename timeout true false chmod touch ls
	printf id ps kill od sha256sum openssl sqlite3 curl bpftool mount
	umount find xargs nproc cmp diff yes expr setsid uname dd truncate
	base64 sync mkfifo nohup runc busybox bc insmod sysctl socat paste comm join"
VOUCH_BINS="vouchd vouchctl vouch-trigger vouch-collector vouch-batch vouch-connect"

mkdir -p "$VM"

# latest_kernel_package: the newest linux-image-6.1.*-cloud-amd64 the
# configured Debian mirrors offer.
latest_kernel_package() {
	apt-cache search --names-only '^linux-image-6\.1\.[0-9]+-[0-9]+-cloud-amd64$' |
		awk '{ print $1 }' | sort -V | tail -1
}

fetch_kernel() {
	local deb pkg

	deb=${VM_KERNEL_DEB:-$(ls "$VM"/linux-image-6.1*-cloud-amd64_*.deb 2> /dev/null | sort -V | tail -1 || true)}
	if [ -z "$deb" ]; then
		pkg=$(latest_kernel_package)
		if [ -z "$pkg" ]; then
			apt-get update -q > /dev/null
			pkg=$(latest_kernel_package)
		fi
		[ -n "$pkg" ] || { echo "vmtest: no linux-image-6.1 cloud package in apt's lists" >&2; return 1; }
		echo "  FETCH    $pkg"
		(cd "$VM" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
		deb=$(ls "$VM"/"$pkg"_*.deb 2> /dev/null | head -1 || true)
		[ -n "$deb" ] || { echo "vmtest: failed to download $pkg" >&2; return 1; }
	fi
	if [ ! -f "$VM/kernel/.from" ] || [ "$(cat "$VM/kernel/.from")" != "$deb" ]; then
		rm -rf "$VM/kernel"
		dpkg-deb -x "$deb" "$VM/kernel"
		echo "$deb" > "$VM/kernel/.from"
	fi
	KERNEL=$(ls "$VM"/kernel/boot/vmlinuz-* | head -1)
	# the kernel's own LSM order, with bpf at the end where it is missing
	LSMS=$(sed -n 's/^CONFIG_LSM="\(.*\)"$/\1/p' "$VM"/kernel/boot/config-* | head -1)
	case ",$LSMS," in
	*,bpf,*) ;;
	*) LSMS=${LSMS:+$LSMS,}bpf ;;
	esac
	echo "  KERNEL   $(basename "$KERNEL"), lsm=$LSMS"
}

# copy_file PATH: PATH into the root at the same place, symlinks followed.
copy_file() {
	[ -e "$ROOT$1" ] && return 0
	mkdir -p "$ROOT$(dirname "$1")"
	cp -L "$1" "$ROOT$1"
}

# copy_program PATH: the program and every library ldd says it loads.
copy_program() {
	local lib

	copy_file "$1"
	for lib in $(ldd "$1" 2> /dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		copy_file "$lib"
	done
}

build_root() {
	local c path t

	rm -rf "$ROOT"
	mkdir -p "$ROOT"/usr/{bin,sbin,lib,lib64} "$ROOT"/{proc,sys,dev,tmp,run,root,etc}
	for d in bin sbin lib lib64; do ln -s "usr/$d" "$ROOT/$d"; done
	for c in $COMMANDS; do
		path=$(type -P "$c") || { echo "vmtest: $c not found on this machine" >&2; return 1; }
		copy_program "$(readlink -f "$path")"
		[ "$(readlink -f "$path")" = "$path" ] || ln -sf "$(readlink -f "$path")" "$ROOT$path"
	done
	# glibc loads libgcc_s when a thread exits or is cancelled
	copy_file "$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ { print $NF; exit }')"
	for f in /etc/passwd /etc/group /usr/lib/ssl/openssl.cnf; do
		copy_file "$f"
	done
	printf '127.0.0.1 localhost\n::1 localhost\n' > "$ROOT/etc/hosts"
	printf 'passwd: files\ngroup: files\nhosts: files\n' > "$ROOT/etc/nsswitch.conf"

	mkdir -p "$ROOT/vouch/.output"
	for b in $VOUCH_BINS; do
		cp "$OUT/$b" "$ROOT/vouch/.output/"
		copy_program "$OUT/$b"
	done
	# test_restart.sh's upgraded build, made here: the VM has no compiler
	make -C "$TOP" --no-print-directory OUTPUT="$VM/upgrade" \
		VERSION="$(cat VERSION)+upgrade" "$VM/upgrade/vouchd" > "$VM/upgrade.log" 2>&1 ||
		{ cat "$VM/upgrade.log" >&2; return 1; }
	cp "$VM/upgrade/vouchd" "$ROOT/vouch/.output/vouchd-upgrade"
	cp -r tests rules include packaging VERSION "$ROOT/vouch/"
	rm -rf "$ROOT/vouch/tests/interop/node_modules"
	cp tests/vm/init.sh "$ROOT/init"
	# the cloud kernel builds veth as a module: the egress test needs it
	mkdir -p "$ROOT/vouch/modules"
	find "$VM/kernel/lib/modules" -name veth.ko -exec cp {} "$ROOT/vouch/modules/" \;
	if [ -n "${VM_TESTS:-}" ]; then
		for t in $VM_TESTS; do echo "tests/e2e/$t"; done
	else
		# on the host only: the tests that need npm clients, and
		# the package's (dpkg and systemd are not in the VM)
		ls tests/e2e/test_*.sh |
			grep -v 'test_protobufjs.sh\|test_k8s_containers.sh\|test_attest.sh\|test_deb.sh\|test_k8s_manifests.sh'
	fi > "$ROOT/vouch/vm-tests"
}

build_initramfs() {
	build_root
	# uncompressed: under TCG, unpacking costs more than reading
	(cd "$ROOT" && find . -print0 | cpio -o -0 -H newc --quiet) > "$VM/initramfs.cpio"
	echo "  INITRD   $VM/initramfs.cpio ($(du -m "$VM/initramfs.cpio" | cut -f1) MB)"
}

boot() {
	# KVM, where offered, may be nested and fail on what TCG runs fine
	local accel=${VM_ACCEL:-tcg} cpu=max

	[ "$accel" = kvm ] && cpu=host
	echo "  QEMU     accel=$accel, console in $VM/console.log"
	timeout "$VM_TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-smp 2 -m 2G -display none -monitor none -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$VM/initramfs.cpio" \
		-append "console=ttyS0 lsm=$LSMS panic=-1 loglevel=4" \
		< /dev/null | sed -u 's/\r$//' | tee "$VM/console.log"
}

fetch_kernel
build_initramfs
start=$(date +%s)
boot || true
echo "  VMTEST   $(( $(date +%s) - start )) s"
result=$(grep -a '^vm: [0-9]* passed, [0-9]* failed$' "$VM/console.log" | tail -1)
if [ -z "$result" ]; then
	echo "vmtest: the VM ended without a result line, see $VM/console.log" >&2
	exit 1
fi
echo "$result"
[ "$(sed 's/.* passed, \([0-9]*\) failed$/\1/' <<< "$result")" -eq 0 ]
