#!/usr/bin/env bash
# Pack mkdump.sh's results into testdata/dumps/ (zstd), the layout that
# internal/testbed reads:
#   testdata/dumps/VERSION/vmlinux.zst
#   testdata/dumps/VERSION/gocrash_oops.ko.zst     (the test module, with DWARF)
#   testdata/dumps/VERSION-SCENARIO/{vmcore.FMT.zst,dmesg.txt,serial.log}
#   testdata/dumps/VERSION-SCENARIO/crash.tar.zst  crash's answers: crash/CMD.txt, crash-FMT/CMD.txt
#   testdata/dumps/VERSION-SCENARIO/crash/VERSION  the crash that recorded them
# committed.txt says which dumps and formats are packed (the repository's
# 150 MB budget for test data); a dump it does not name is left out. The
# answers go into one archive per dump: ~950 files of a few hundred bytes
# took ~7 MB of file-system blocks a dump, their archive ~0.6 MB.
#
#   testdata/mkdump/pack.sh              pack $WORK/out into testdata/dumps
#   testdata/mkdump/pack.sh -fold [NAME...]
#                                        move the loose answers (record.sh
#                                        writes them) into the dump's archive
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
DEST=${DEST:-$here/../dumps}
LEVEL=${LEVEL:-19}

# archive SRC OUT DIR...: SRC's answer directories DIR... into OUT, the
# same bytes for the same answers (sorted, no owners or times); crash's
# session logs (*.log) are not answers.
archive() {
	local src=$1 out=$2
	shift 2
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --exclude='*.log' \
		-C "$src" -cf - "$@" | zstd -q -f -"$LEVEL" --long=27 -o "$out.part"
	mv -f "$out.part" "$out"
}

# loose_answers DIR: the answer files under DIR/crash and DIR/crash-*.
loose_answers() {
	local x
	for x in "$1"/crash "$1"/crash-*; do
		[ ! -d "$x" ] || (cd "$1" && find "${x##*/}" -type f -name '*.txt')
	done
}

if [ "${1:-}" = -fold ]; then
	shift
	names=("$@")
	[ ${#names[@]} -gt 0 ] || names=($(cd "$DEST" && ls -d *-*))
	for name in "${names[@]}"; do
		d=$DEST/$name
		loose=$(loose_answers "$d" | wc -l)
		[ "$loose" -gt 0 ] || continue
		t=$(mktemp -d)
		[ ! -f "$d/crash.tar.zst" ] || zstd -q -d -c --long=31 "$d/crash.tar.zst" | tar -C "$t" -xf -
		loose_answers "$d" | while IFS= read -r f; do
			mkdir -p "$t/$(dirname "$f")" && cp "$d/$f" "$t/$f"
		done
		[ ! -f "$d/crash/VERSION" ] || cp "$d/crash/VERSION" "$t/crash/VERSION"
		archive "$t" "$d/crash.tar.zst" $(cd "$t" && ls -d crash crash-* 2>/dev/null)
		loose_answers "$d" | while IFS= read -r f; do rm -f "$d/$f"; done
		find "$d" -mindepth 1 -type d -empty -delete
		rm -rf "$t"
		echo "pack: $name: $loose loose answers folded into crash.tar.zst" >&2
	done
	du -sh "$DEST"
	exit 0
fi

formats_for() {
	awk -v n="$1" '$1 == n { $1 = ""; print }' "$here/committed.txt"
}

# Only what changed since the last pack is compressed again: a fixture
# whose bytes decompress to the file's is kept (decompressing takes
# seconds, compressing minutes). Times cannot tell: a fresh checkout's
# fixtures are newer than any regeneration's results.
# Written beside and renamed over, so tests never read a half-written fixture.
pack() {
	{ [ -f "$2" ] && zstd -q -d -c --long=31 "$2" 2>/dev/null | cmp -s - "$1"; } && return
	zstd -q -f -T0 --long=27 -"$LEVEL" "$1" -o "$2.part" && mv -f "$2.part" "$2"
}
# Each scenario's directory holds its own copy of the kernel's vmlinux and
# test module (copied at its boot, so each copy is newer than the last):
# they are packed once a version, from its first dump, and every other
# dump's copy must be the same file (one build; 2026-12-01 the pack
# compressed the 6.1 vmlinux seven times, a minute and a half each).
declare -A kernel_of
for dir in "$WORK"/out/*-*; do
	name=$(basename "$dir")
	version=${name%%-*}
	[ -f "$dir/vmlinux" ] || continue
	[ -n "$(formats_for "$name")" ] || continue
	mkdir -p "$DEST/$version" "$DEST/$name"
	if [ -z "${kernel_of[$version]:-}" ]; then
		kernel_of[$version]=$dir
		pack "$dir/vmlinux" "$DEST/$version/vmlinux.zst"
		# The test module, with its DWARF: crash's mod -s and gocrash's
		# module debuginfo read it (internal/testbed's Dump.Module).
		[ -f "$dir/gocrash_oops.ko" ] && pack "$dir/gocrash_oops.ko" "$DEST/$version/gocrash_oops.ko.zst"
	else
		for f in vmlinux gocrash_oops.ko; do
			[ -f "$dir/$f" ] || continue
			cmp -s "$dir/$f" "${kernel_of[$version]}/$f" ||
				{ echo "pack: $dir/$f is not ${kernel_of[$version]}/$f: the $version dumps come from different builds" >&2; exit 1; }
		done
	fi
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
	rm -rf "$DEST/$name"/crash "$DEST/$name"/crash-* "$DEST/$name/crash.tar.zst"
	dirs=()
	for c in "$dir"/crash "$dir"/crash-*; do
		[ -d "$c" ] || continue
		f=${c##*/crash-}
		if [ "$c" = "$dir/crash" ] || [[ " $(formats_for "$name") " == *" $f "* ]]; then
			dirs+=("$(basename "$c")")
		fi
	done
	if [ ${#dirs[@]} -gt 0 ]; then
		archive "$dir" "$DEST/$name/crash.tar.zst" "${dirs[@]}"
		mkdir -p "$DEST/$name/crash"
		cp "$dir/crash/VERSION" "$DEST/$name/crash/" 2>/dev/null || true
	fi
done
du -sh "$DEST"
