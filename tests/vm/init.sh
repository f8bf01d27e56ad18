#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# PID 1 of the test VM (tests/vm/run.sh builds the initramfs around it):
# mounts what vouchd and the tests need, runs the end-to-end tests listed
# in /vouch/vm-tests, prints each result to the console, and powers off.
# The host reads the closing "vm: N passed, N failed" line.

export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin
export HOME=/root TMPDIR=/tmp LANG=C.UTF-8
# The suite runs on the portable exec path, as on machines without BPF LSM;
# test_exec_lsm.sh picks the path itself and must get the LSM one here.
export VOUCH_EXEC_HOOK=tracepoint VOUCH_EXPECT_EXEC_HOOK=lsm

mount_all() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2> /dev/null
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t tmpfs tmpfs /run
	mount -t bpf bpf /sys/fs/bpf
	mount -t tracefs tracefs /sys/kernel/tracing
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t securityfs securityfs /sys/kernel/security
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	ip link set lo up 2> /dev/null
	for m in /vouch/modules/*.ko; do
		[ -e "$m" ] && insmod "$m"
	done
}

power_off() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 10
}

# describe: what the kernel offers, so a failure can be read from the log.
describe() {
	echo "vm: kernel $(uname -r)"
	echo "vm: lsm $(cat /sys/kernel/security/lsm 2> /dev/null)"
	echo "vm: btf $(stat -c %s /sys/kernel/btf/vmlinux 2> /dev/null) bytes"
}

run_tests() {
	local t out p f total_pass=0 total_fail=0 ran=0 listed

	cd /vouch || return 1
	while read -r t; do
		[ -n "$t" ] || continue
		echo "== $t"
		out=$(bash "$t" < /dev/null 2>&1 | tee /dev/console | tail -1)
		p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<< "$out")
		f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<< "$out")
		if [ -z "$p" ]; then
			echo "   $t ended without a result line"
			p=0
			f=1
		fi
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
		ran=$((ran + 1))
	done < /vouch/vm-tests
	# a test that read the list as its input would end the loop early
	listed=$(grep -c . /vouch/vm-tests)
	if [ "$ran" -ne "$listed" ]; then
		echo "vm: ran $ran of $listed tests"
		total_fail=$((total_fail + listed - ran))
	fi
	echo "vm: $total_pass passed, $total_fail failed"
}

mount_all
exec > /dev/console 2>&1
describe
run_tests
power_off
