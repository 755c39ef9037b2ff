#!/usr/bin/env bash
# Pack mkdump.sh's results into testdata/dumps/ (zstd), the layout that
# internal/testbed reads:
#   testdata/dumps/VERSION/vmlinux.zst
#   testdata/dumps/VERSION-SCENARIO/{vmcore.FMT.zst,dmesg.txt,serial.log,crash/,crash-FMT/}
# FORMATS limits which dump formats are packed for a scenario, as
# SCENARIO=fmt,fmt pairs (the 80 MB budget of the repository): by default
# every format of the sysrq scenario and elf+zlib of the others.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
DEST=${DEST:-$here/../dumps}
LEVEL=${LEVEL:-19}

formats_for() {
	case $1 in
	*-sysrq) echo "elf zlib lzo zstd flat" ;;
	*-qemu) echo "qemu" ;;
	*) echo "elf zlib" ;;
	esac
}

for dir in "$WORK"/out/*-*; do
	name=$(basename "$dir")
	version=${name%%-*}
	[ -f "$dir/vmlinux" ] || continue
	mkdir -p "$DEST/$version" "$DEST/$name"
	# Only what changed since the last pack is compressed again.
	pack() { [ "$2" -nt "$1" ] || zstd -q -f -T0 --long=27 -"$LEVEL" "$1" -o "$2"; }
	pack "$dir/vmlinux" "$DEST/$version/vmlinux.zst"
	for fmt in $(formats_for "$name"); do
		[ -f "$dir/vmcore.$fmt" ] || continue
		pack "$dir/vmcore.$fmt" "$DEST/$name/vmcore.$fmt.zst"
	done
	cp "$dir/dmesg.txt" "$DEST/$name/" 2>/dev/null || true
	cp "$dir/serial.log" "$DEST/$name/" 2>/dev/null || true
	rm -rf "$DEST/$name"/crash "$DEST/$name"/crash-*
	for c in "$dir"/crash "$dir"/crash-*; do
		[ -d "$c" ] || continue
		f=${c##*/crash-}
		if [ "$c" = "$dir/crash" ] || [[ " $(formats_for "$name") " == *" $f "* ]]; then
			cp -r "$c" "$DEST/$name/"
		fi
	done
done
du -sh "$DEST"
