#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make test`: every unit test, then every end-to-end test on the real
# kernel, then the end-to-end tests again on Debian 12's 6.1 kernel under
# qemu with BPF LSM (`make vmtest`; VOUCH_SKIP_VMTEST=1 leaves it out);
# ends with one "N passed, N failed" line for the whole run.
set -u
cd "$(dirname "$0")/.."
OUT=${OUTPUT:-.output}
log=$(mktemp /tmp/vouch-test.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "== unit tests (Criterion)"
# the test programs only, not their objects and dependency files
tests/run-unit.sh $(find "$OUT/tests" -maxdepth 1 -type f -executable \
	-name 'test_*' ! -name '*.*' | sort) 2>&1 | tee "$log"
unit_pass=$(awk '/Synthesis:/ { for (i = 1; i <= NF; i++) if ($i == "Passing:") s += $(i + 1) } END { print s + 0 }' "$log")
unit_tested=$(awk '/Synthesis:/ { for (i = 1; i <= NF; i++) if ($i == "Tested:") s += $(i + 1) } END { print s + 0 }' "$log")
unit_fail=$((unit_tested - unit_pass))
[ "$unit_tested" -gt 0 ] || unit_fail=1

echo "== end-to-end tests (real BPF, real execs)"
tests/e2e/run.sh 2>&1 | tee "$log"
e2e=$(tail -1 "$log")
e2e_pass=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<< "$e2e")
e2e_fail=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<< "$e2e")
[ -n "$e2e_pass" ] || { e2e_pass=0; e2e_fail=1; }

vm_pass=0
vm_fail=0
if [ -z "${VOUCH_SKIP_VMTEST:-}" ]; then
	echo "== end-to-end tests on Debian 12's 6.1 kernel, BPF LSM on (qemu)"
	tests/vm/run.sh 2>&1 | tee "$log"
	vm=$(grep '^vm: [0-9]* passed, [0-9]* failed$' "$log" | tail -1)
	vm_pass=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<< "$vm")
	vm_fail=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<< "$vm")
	[ -n "$vm_pass" ] || { vm_pass=0; vm_fail=1; }
fi

echo "unit: $unit_pass passed, $unit_fail failed"
echo "e2e: $e2e_pass passed, $e2e_fail failed"
[ -n "${VOUCH_SKIP_VMTEST:-}" ] || echo "vm: $vm_pass passed, $vm_fail failed"
echo "$((unit_pass + e2e_pass + vm_pass)) passed, $((unit_fail + e2e_fail + vm_fail)) failed"
[ $((unit_fail + e2e_fail + vm_fail)) -eq 0 ]
