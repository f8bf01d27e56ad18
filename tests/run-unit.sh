#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs each Criterion unit test binary from the repository root (the tests
# read their fixtures by relative path) and sums the results.
set -u
cd "$(dirname "$0")/.."
fail=0
for t in "$@"; do
	"$t" --jobs 1 || fail=1
done
exit $fail
