#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make deb` builds a package that installs with dpkg on this machine: the
# binaries, a unit that systemd-analyze accepts, the configuration and
# rules as conffiles, man pages that render, and a vouchd that passes its
# self-check. The package is purged however the test ends.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/process.sh"
. "$TOP/tests/e2e/check.sh"
# removal unloads pinned programs: one BPF-touching test at a time
take_bpf_lock
OUT=${OUTPUT:-$TOP/.output}
VERSION=$(cat "$TOP/VERSION")
LOG=$(mktemp /tmp/vouch-deb.XXXXXX)

if dpkg-query -W -f='${Status}' vouch 2> /dev/null | grep -q 'ok installed'; then
	echo "the vouch package is already installed here; not touching it"
	fail "a clean machine for the install test"
	finish
	exit 1
fi
purge() {
	dpkg --purge vouch > /dev/null 2>&1
	rm -f "$LOG"
}
trap purge EXIT
trap 'exit 130' INT TERM

echo "deb: build"
make -C "$TOP" --no-print-directory deb > "$LOG" 2>&1
check "make deb succeeds" [ $? = 0 ]
DEB=$OUT/vouch_${VERSION}_$(dpkg --print-architecture).deb
check "the package exists" [ -f "$DEB" ]
field() { dpkg-deb -f "$DEB" "$1"; }
check "control: package vouch, version $VERSION" [ "$(field Package)/$(field Version)" = "vouch/$VERSION" ]
check "control: depends on the runtime libraries" sh -c "dpkg-deb -f '$DEB' Depends | grep -q libbpf1 && dpkg-deb -f '$DEB' Depends | grep -q libmicrohttpd"
check "the configuration and rules are conffiles" sh -c "dpkg-deb -I '$DEB' conffiles | grep -qx /etc/vouch/rules.yaml"

echo "deb: install with dpkg"
dpkg -i "$DEB" > "$LOG" 2>&1
rc=$?
[ $rc = 0 ] || cat "$LOG"
check "dpkg -i installs it" [ $rc = 0 ]
check "dpkg lists it installed" sh -c "dpkg-query -W -f='\${Status}' vouch | grep -q 'ok installed'"
for f in /usr/bin/vouchd /usr/bin/vouchctl /usr/bin/vouch-collector; do
	check "$f is executable" [ -x "$f" ]
done
check "installed vouchd reports version $VERSION" [ "$(/usr/bin/vouchd --version)" = "vouchd $VERSION" ]
check "every installed file is root's" [ -z "$(dpkg -L vouch | xargs -d '\n' stat -c '%U' | grep -v root)" ]

echo "deb: the unit"
UNIT=/lib/systemd/system/vouchd.service
check "the unit is installed" [ -f "$UNIT" ]
systemd-analyze verify "$UNIT" > "$LOG" 2>&1
rc=$?
[ $rc = 0 ] && [ ! -s "$LOG" ] || cat "$LOG"
check "systemd-analyze verify accepts it, without a warning" sh -c "[ $rc = 0 ] && [ ! -s '$LOG' ]"
check "Type=notify" grep -qx 'Type=notify' "$UNIT"
check "a capability bounding set" grep -q '^CapabilityBoundingSet=CAP_BPF' "$UNIT"
check "ProtectSystem=strict" grep -qx 'ProtectSystem=strict' "$UNIT"
check "restarts always" grep -qx 'Restart=always' "$UNIT"
systemd-analyze security --offline=yes "$UNIT" > "$LOG" 2>&1
echo "  systemd-analyze security: $(grep -o 'Overall exposure level.*' "$LOG")"

echo "deb: man pages"
for m in vouchd.8 vouch-collector.8 vouchctl.1; do
	page=/usr/share/man/man${m##*.}/$m.gz
	check "$m is installed" [ -f "$page" ]
	check "$m renders without a warning" sh -c "[ -z \"\$(zcat '$page' | groff -man -ww -z 2>&1)\" ]"
done
check "man finds vouchd(8)" man -w 8 vouchd

echo "deb: the installed vouchd passes its self-check"
/usr/bin/vouchd --check --config /etc/vouch/vouchd.yaml > "$LOG" 2>&1
rc=$?
[ $rc = 0 ] || cat "$LOG"
check "vouchd --check --config /etc/vouch/vouchd.yaml exits 0" [ $rc = 0 ]
check "it names the rules it checked" grep -q '^/etc/vouch/rules.yaml: ok' "$LOG"
check "vouchctl lint accepts the installed rules" /usr/bin/vouchctl lint /etc/vouch/rules.yaml

echo "deb: purge removes it"
dpkg --purge vouch > "$LOG" 2>&1
check "dpkg --purge succeeds" [ $? = 0 ]
check "the binaries are gone" [ ! -e /usr/bin/vouchd ]
check "the configuration is gone" [ ! -e /etc/vouch ]
check "nothing is left pinned" [ ! -e /sys/fs/bpf/vouch ]

finish
