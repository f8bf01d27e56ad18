# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the benchmarks: each keeps its own section of BENCHMARKS.md,
# between "<!-- NAME:start -->" and "<!-- NAME:end -->", and leaves the
# others as they are.

bench_doc_new() {
	cat <<EOF_DOC
# vouch benchmarks

Measurements of what vouch costs the node it runs on, one section per
benchmark. \`make bench\` reruns them on the current machine; each script
rewrites only its own section, between its marker comments. Numbers from
different machines are not comparable; each section names its machine.
EOF_DOC
}

# bench_doc_update DOC NAME SECTION_FILE: puts the section in place, adding
# the markers (and creating DOC) where they are missing. 0, or 1 when the
# markers in DOC do not pair up.
bench_doc_update() {
	local doc=$1 start="<!-- $2:start -->" end="<!-- $2:end -->"
	local section=$3 starts ends

	[ -f "$doc" ] || bench_doc_new > "$doc"
	starts=$(grep -cxF "$start" "$doc")
	ends=$(grep -cxF "$end" "$doc")
	if [ "$starts" != "$ends" ] || [ "$starts" -gt 1 ]; then
		echo "bench: $doc: $2 markers do not pair up; fix them by hand" >&2
		return 1
	fi
	[ "$starts" = 1 ] || printf '\n%s\n%s\n' "$start" "$end" >> "$doc"
	awk -v s="$start" -v e="$end" -v f="$section" '
		$0 == s { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$doc" > "$doc.new" && cat "$doc.new" > "$doc"
	rm -f "$doc.new"
}
