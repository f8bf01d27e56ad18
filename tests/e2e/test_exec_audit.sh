#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Audit mode: the same violations run, and each is reported as "reported".
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules audit
write_config
start_vouchd || exit 1

run() {
	local label=$1 how=$2
	shift 2
	in_cg "$T" "$how" "$@" > "$W/out.$label" 2>&1
}
saw() { grep -qx "$2" "$W/out.$1"; }
has_marker() { [ -e "$W/m-$1" ]; }

cp "$W/denied/bad" "$W/other/copy"
printf '#!/bin/sh\n%s marker %s\n' "$T" "$W/m-script" > "$W/denied/script.sh"
chmod +x "$W/denied/script.sh"

run denied run "$W/denied/bad" marker "$W/m-denied"
check "audit: the denied binary runs" saw denied "exit 0"
check "audit: its marker is written" has_marker denied
check "audit: reported, not killed" wait_for 5 '.process.exe == "'$W'/denied/bad" and .action == "reported" and .mode == "audit" and .verdict == "deny"'

run copy run "$W/other/copy" marker "$W/m-copy"
check "audit: an unlisted copy runs" has_marker copy
check "audit: the copy is reported" wait_for 5 '.process.exe == "'$W'/other/copy" and .action == "reported"'

run memfd run-memfd "$T" marker "$W/m-memfd"
check "audit: a memfd exec runs" has_marker memfd
check "audit: the memfd exec is reported" wait_for 5 '(.process.exeFlags | index("anonymous")) != null and .action == "reported"'

run script run "$W/denied/script.sh"
check "audit: a denied script runs" has_marker script
check "audit: the script is reported as itself" wait_for 5 '.kind == "script" and .process.exe == "'$W'/denied/script.sh" and .action == "reported"'

run allowed run "$T" marker "$W/m-allowed"
check "audit: an allowed binary runs" has_marker allowed
sleep 0.3
check "audit: an allowed binary is not reported" [ "$(count_events '.process.exe == "'$T'" and .kind == "exec"')" = 0 ]

finish
