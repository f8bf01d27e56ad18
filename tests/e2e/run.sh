#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every end-to-end test file; each prints its own "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
total_pass=0
total_fail=0
for t in tests/e2e/test_*.sh; do
	echo "== $t"
	out=$(bash "$t" 2>&1 | tee /dev/stderr | tail -1)
	p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<< "$out")
	f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<< "$out")
	if [ -z "$p" ]; then
		echo "   $t ended without a result line"
		p=0
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done
echo "e2e: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
