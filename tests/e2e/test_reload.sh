#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGHUP reloads: hostile rule files are refused with a precise error while
# the rules in force keep being enforced; a valid file takes over at once.
. "$(dirname "$0")/lib.sh"

make_binaries
write_rules enforce
write_config
start_vouchd || exit 1
cp "$W/rules.yaml" "$W/good-rules.yaml"

still_enforced() {
	rm -f "$W/m-still"
	in_cg "$T" run "$W/denied/bad" marker "$W/m-still" > "$W/out.still"
	grep -qx "signal 9" "$W/out.still" && [ ! -e "$W/m-still" ]
}

check "before any reload: the denied binary is killed" still_enforced

# refused NAME WHERE_REGEX: the last policy event refuses the reload and
# names the place of the problem.
refused() {
	local last
	last=$(jq -c 'select(.kind == "policy")' "$W/events.jsonl" | tail -1)
	jq -e --arg re "$2" '.reason | test("refused") and test($re)' <<< "$last" > /dev/null
}

bad_input() {
	local name=$1 where=$2
	reload
	check "$name: reload refused, naming $where" refused "$name" "$where"
	check "$name: vouchd still running" kill -0 "$VOUCHD_PID"
	check "$name: previous rules still enforced" still_enforced
}

printf 'version: 1\nscopes: [\n  - name: x\n' > "$W/rules.yaml"
bad_input "syntax error" 'rules.yaml:[0-9]+:[0-9]+'

printf 'version: 1\nmode: [enforce]\n' > "$W/rules.yaml"
bad_input "wrong type" 'rules.yaml:2:7'

printf 'version: 1\nmoed: enforce\n' > "$W/rules.yaml"
bad_input "unknown key" "rules.yaml:2:1: .*moed"

printf 'version: 1\nmode: off\nmode: enforce\n' > "$W/rules.yaml"
bad_input "duplicate key" "rules.yaml:3:1: .*duplicate"

cat > "$W/rules.yaml" <<'YAML'
version: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
YAML
bad_input "alias bomb" 'rules.yaml:2:[0-9]+'

yes 'key: value' | head -c 100000000 > "$W/rules.yaml"
bad_input "100 MB file" 'rules.yaml.*(bytes|limit)'

printf 'version: 1\nmode: "\xff\xfe"\n' > "$W/rules.yaml"
bad_input "invalid UTF-8" 'rules.yaml:[0-9]+:[0-9]+'

printf -- '- version: 1\n' > "$W/rules.yaml"
bad_input "a list instead of a mapping" 'rules.yaml:1:1'

: > "$W/rules.yaml"
bad_input "an empty file" 'rules.yaml'

rm -f "$W/rules.yaml"
bad_input "a missing file" 'rules.yaml'

echo "reload: a valid file takes over"
sed 's/mode: enforce/mode: audit/' "$W/good-rules.yaml" > "$W/rules.yaml"
reload
check "valid reload is loaded" jq -e -s '[.[] | select(.kind == "policy")] | last | .reason | test("loaded")' "$W/events.jsonl"
rm -f "$W/m-audit"
in_cg "$T" run "$W/denied/bad" marker "$W/m-audit" > "$W/out.audit"
check "now in audit: the denied binary runs" grep -qx "exit 0" "$W/out.audit"
check "now in audit: it is reported" wait_for 5 '.process.exe == "'$W'/denied/bad" and .action == "reported"'
cp "$W/good-rules.yaml" "$W/rules.yaml"
reload
check "back to enforce" still_enforced

finish
