# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the end-to-end tests: results, one line each, and the closing
# "N passed, N failed" line that tests/e2e/run.sh and CI read.
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@" > /dev/null; then pass "$name"; else fail "$name"; return 1; fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
