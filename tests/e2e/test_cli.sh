#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The command lines a newcomer types: help, version, bad configs, lint.
. "$(dirname "$0")/lib.sh"

check "vouchd --help shows usage" sh -c "'$VOUCHD' --help | grep -q -- '--config'"
check "vouchd --version" sh -c "'$VOUCHD' --version | grep -q '^vouchd '"
"$VOUCHD" > /dev/null 2> "$W/usage"; rc=$?
check "vouchd without --config fails" [ $rc -eq 2 ]
check "vouchd without --config prints usage" grep -q Usage "$W/usage"
check "vouchctl --version" sh -c "'$VOUCHCTL' --version | grep -q '^vouchctl '"

printf 'rules: r.yaml\nlog:\n  level: loud\n' > "$W/bad.yaml"
"$VOUCHD" --config "$W/bad.yaml" > /dev/null 2> "$W/err" ; rc=$?
check "bad config: vouchd exits non-zero" [ $rc -ne 0 ]
check "bad config: error names file:line:col" grep -q "bad.yaml:3:10" "$W/err"

check "lint: the shipped example rules are valid" "$VOUCHCTL" lint "$TOP/rules/example.yaml"
printf 'version: 1\nmode: enforced\nscopes:\n  - name: a\n    match: {host: true}\n    exec: {allow: [relative/path]}\n' > "$W/bad-rules.yaml"
"$VOUCHCTL" lint "$W/bad-rules.yaml" > /dev/null 2> "$W/lint"; rc=$?
check "lint: exits non-zero on errors" [ $rc -ne 0 ]
check "lint: reports the mode error at 2:7" grep -q "bad-rules.yaml:2:7:" "$W/lint"
check "lint: reports the path error at 6:20" grep -q "bad-rules.yaml:6:20:" "$W/lint"
check "lint: reports every error (2)" [ "$(grep -c ': error:' "$W/lint")" -ge 2 ]

printf 'rules: %s\n' "$TOP/rules/example.yaml" > "$W/example.yaml"
check "vouchd --check accepts the example rules" "$VOUCHD" --check --config "$W/example.yaml"

finish
