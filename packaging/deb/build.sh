#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make deb`: stages the binaries, the unit, the configuration, the example
# rules and the man pages under OUTPUT/deb, writes DEBIAN/, and builds
# OUTPUT/vouch_VERSION_ARCH.deb with dpkg-deb. Depends is computed from the
# shared libraries the binaries link, as dpkg-shlibdeps would.
set -eu
OUT=$1
VERSION=$2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ARCH=$(dpkg --print-architecture)
ROOT=$OUT/deb
BINS="vouchd vouchctl vouch-collector"

rm -rf "$ROOT"
install -d "$ROOT/DEBIAN" "$ROOT/usr/bin" "$ROOT/etc/vouch" \
	"$ROOT/lib/systemd/system" "$ROOT/usr/share/man/man1" \
	"$ROOT/usr/share/man/man8" "$ROOT/usr/share/doc/vouch/examples"
for b in $BINS; do
	install -m 0755 "$OUT/$b" "$ROOT/usr/bin/$b"
done
strip --strip-unneeded "$ROOT"/usr/bin/*
install -m 0644 "$TOP/packaging/vouchd.yaml" "$ROOT/etc/vouch/vouchd.yaml"
install -m 0644 "$TOP/rules/example.yaml" "$ROOT/etc/vouch/rules.yaml"
install -m 0644 "$TOP/rules/example.yaml" "$TOP/rules/README.md" \
	"$ROOT/usr/share/doc/vouch/examples/"
install -m 0644 "$TOP/packaging/systemd/vouchd.service" \
	"$ROOT/lib/systemd/system/vouchd.service"
gzip -9n < "$TOP/packaging/man/vouchctl.1" > "$ROOT/usr/share/man/man1/vouchctl.1.gz"
for m in vouchd vouch-collector; do
	gzip -9n < "$TOP/packaging/man/$m.8" > "$ROOT/usr/share/man/man8/$m.8.gz"
done
install -m 0644 "$TOP/packaging/deb/copyright" "$ROOT/usr/share/doc/vouch/copyright"

# the package of every shared library the binaries link directly
needed_paths() {
	local b=$1
	objdump -p "$b" | awk '$1 == "NEEDED" { print $2 }' |
		while read -r so; do
			ldd "$b" | awk -v so="$so" '$1 == so && $2 == "=>" { print $3 }'
		done
}
depends=$(for b in $BINS; do needed_paths "$OUT/$b"; done | sort -u |
	while read -r lib; do
		dpkg -S "$(readlink -f "$lib")" 2> /dev/null ||
			dpkg -S "$lib" 2> /dev/null
	done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')

sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" \
	-e "s/@DEPENDS@/$depends/" \
	-e "s/@SIZE@/$(du -sk "$ROOT" | cut -f1)/" \
	"$TOP/packaging/deb/control" > "$ROOT/DEBIAN/control"
install -m 0644 "$TOP/packaging/deb/conffiles" "$ROOT/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "$TOP/packaging/deb/$s" "$ROOT/DEBIAN/$s"
done
dpkg-deb --root-owner-group -Zxz --build "$ROOT" \
	"$OUT/vouch_${VERSION}_$ARCH.deb" > /dev/null
echo "$OUT/vouch_${VERSION}_$ARCH.deb"
