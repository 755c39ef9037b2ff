#!/usr/bin/env bash
# Pack mkdump.sh's results into testdata/dumps/ (zstd), the layout that
# internal/testbed reads:
#   testdata/dumps/VERSION/vmlinux.zst
#   testdata/dumps/VERSION/gocrash_oops.ko.zst     (the test module, with DWARF)
#   testdata/dumps/VERSION-SCENARIO/{vmcore.FMT.zst,dmesg.txt,serial.log,crash/,crash-FMT/}
# committed.txt says which dumps and formats are packed (the repository's
# 150 MB budget for test data); a dump it does not name is left out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
DEST=${DEST:-$here/../dumps}
LEVEL=${LEVEL:-19}

formats_for() {
	awk -v n="$1" '$1 == n { $1 = ""; print }' "$here/committed.txt"
}

for dir in "$WORK"/out/*-*; do
	name=$(basename "$dir")
	version=${name%%-*}
	[ -f "$dir/vmlinux" ] || continue
	[ -n "$(formats_for "$name")" ] || continue
	mkdir -p "$DEST/$version" "$DEST/$name"
	# Only what changed since the last pack is compressed again.
	# (zstd gives its output the input's mtime, hence "not older".)
	# Written beside and renamed over, so tests never read a half-written fixture.
	pack() {
		{ [ -f "$2" ] && ! [ "$2" -ot "$1" ]; } && return
		zstd -q -f -T0 --long=27 -"$LEVEL" "$1" -o "$2.part" && mv -f "$2.part" "$2"
	}
	pack "$dir/vmlinux" "$DEST/$version/vmlinux.zst"
	# The test module, with its DWARF: crash's mod -s and gocrash's module
	# debuginfo read it (internal/testbed's Dump.Module).
	[ -f "$dir/gocrash_oops.ko" ] && pack "$dir/gocrash_oops.ko" "$DEST/$version/gocrash_oops.ko.zst"
	for z in "$DEST/$name"/vmcore.*.zst; do
		[ -f "$z" ] || continue
		f=${z##*/vmcore.}
		[[ " $(formats_for "$name") " == *" ${f%.zst} "* ]] || rm -f "$z"
	done
	for fmt in $(formats_for "$name"); do
		[ -f "$dir/vmcore.$fmt" ] || continue
		pack "$dir/vmcore.$fmt" "$DEST/$name/vmcore.$fmt.zst"
	done
	cp "$dir/dmesg.txt" "$DEST/$name/" 2>/dev/null || true
	# The serial console is kept where no makedumpfile dmesg.txt exists
	# (QEMU's own dumps): its "Kernel Offset:" line checks gocrash's KASLR.
	if [ ! -f "$dir/dmesg.txt" ]; then
		cp "$dir/serial.log" "$DEST/$name/" 2>/dev/null || true
	else
		rm -f "$DEST/$name/serial.log"
	fi
	rm -rf "$DEST/$name"/crash "$DEST/$name"/crash-*
	for c in "$dir"/crash "$dir"/crash-*; do
		[ -d "$c" ] || continue
		f=${c##*/crash-}
		if [ "$c" = "$dir/crash" ] || [[ " $(formats_for "$name") " == *" $f "* ]]; then
			cp -r "$c" "$DEST/$name/"
		fi
	done
	# crash's own session logs (its stderr, every command's) are not answers.
	rm -f "$DEST/$name"/crash*/session*.log
done
du -sh "$DEST"
