#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# systemd units as workloads (issue 4): a process in NAME.service is named
# by its unit, with the deploy metadata of DIR/NAME.service.yaml; a broken
# deploy file is logged and ignored, never fatal.
. "$(dirname "$0")/lib.sh"

# the units' cgroups go before the test cgroup itself
trap 'rmdir "$CG/shop.service" "$CG/bad.service" 2> /dev/null; cleanup' EXIT

make_binaries
write_rules enforce
write_config
mkdir -p "$W/deploy" "$CG/shop.service" "$CG/bad.service"
cat > "$W/deploy/shop.service.yaml" <<YAML
service: shop
version: "3.2.1"
deploy_id: deploy-42
environment: prod
YAML
printf 'service: [unclosed\n' > "$W/deploy/bad.service.yaml"
cat >> "$W/vouchd.yaml" <<YAML
metadata:
  deploy_dir: $W/deploy
YAML
start_vouchd || exit 1

in_unit() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$1" "$2" run \
		"$W/denied/bad" marker "$W/m-$1" > /dev/null 2>&1
}

in_unit shop.service "$T"
check "unit: the denied exec is killed" [ ! -e "$W/m-shop.service" ]
check "unit: the event names the unit and its deploy" wait_for 5 '
	.kind == "exec" and .action == "killed" and
	.workload.kind == "systemd-unit" and .workload.systemdUnit == "shop.service" and
	.workload.service == "shop" and .workload.version == "3.2.1" and
	.workload.deployId == "deploy-42" and .workload.environment == "prod"'

in_unit bad.service "$T"
check "broken deploy file: the unit is still named" wait_for 5 '
	.kind == "exec" and .workload.systemdUnit == "bad.service" and
	.workload.deployId == null'
check "broken deploy file: logged with its position" \
	grep -q "bad.service.yaml: ignored: .*bad.service.yaml:" "$W/vouchd.log"
check "vouchd is still running" kill -0 "$VOUCHD_PID"
finish
