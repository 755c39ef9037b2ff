#!/usr/bin/env bash
# Record crash 8.0.6's answers for more commands on the committed dumps,
# without rebuilding or booting anything: the dumps under testdata/dumps are
# decompressed into the test-bed cache (go run ./bench/locate) and crash is
# run once per dump, each command's output redirected to its golden file.
#
#   testdata/mkdump/record.sh [-d NAME[,NAME]] 'cmd 1' 'cmd 2' ...
#   testdata/mkdump/record.sh -f cmds.txt            # one command a line
#
# A command may name a value of the dump that changes with every
# regeneration (a task's address, a slab object's) by a placeholder such as
# {task1}: testdata/mkdump/placeholders says which recorded answer it comes
# from (command, line, field), and internal/testbed resolves it the same way
# for the tests. The golden file keeps the placeholder in its name.
#
# The answers go to testdata/dumps/NAME/crash/CMD.txt (spaces as '_'), the
# primary format's place: memory reads do not depend on the format. Every
# command recorded here must also be in mkdump.sh's CRASH_CMDS, so that a
# regeneration of the test bed records it again. crash 8.0.6 comes from
# Debian trixie, unpacked privately by mkdump.sh's install step (run
# `testdata/mkdump/mkdump.sh VERSION` once, or its install_deps).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
. "$here/crashrec.sh"
crash_setup "$WORK/trixie"
[ -x "$WORK/trixie/usr/bin/crash" ] || { echo "record.sh: no crash 8.0.6 at $WORK/trixie (run mkdump.sh's install step first)" >&2; exit 1; }
dumps=
cmds=()
while [ $# -gt 0 ]; do
	case $1 in
	-d) dumps=${2//,/ }; shift 2 ;;
	-f) while IFS= read -r l; do [ -n "$l" ] && [ "${l#\#}" = "$l" ] && cmds+=("$l"); done < "$2"; shift 2 ;;
	*) cmds+=("$1"); shift ;;
	esac
done
[ ${#cmds[@]} -gt 0 ] || { echo "usage: record.sh [-d NAME,...] CMD... | -f FILE" >&2; exit 2; }
# Each committed dump with the format crash's primary answers came from
# (ELF where it is committed, else the one format there is).
if [ -z "$dumps" ]; then
	dumps=$(cd "$top/testdata/dumps" && ls -d *-* )
fi
for name in $dumps; do
	dir=$top/testdata/dumps/$name
	fmt=
	for f in elf qemu zlib zstd lzo flat; do
		[ -f "$dir/vmcore.$f.zst" ] && { fmt=$f; break; }
	done
	[ -n "$fmt" ] || { echo "record.sh: no dump in $dir" >&2; continue; }
	read -r vmlinux vmcore < <(cd "$top" && go run ./bench/locate "$name" "$fmt")
	CRASH_OPTS=()
	grep -q -- '--no_kmem_cache' "$dir/crash/VERSION" 2>/dev/null && CRASH_OPTS=(--no_kmem_cache)
	# crash finds the test module beside the vmlinux (bench/locate, that is
	# internal/sample, puts it there), as in mkdump.sh's out/NAME/; it also
	# runs where it is ./gocrash_oops.ko, as mkdump.sh runs it.
	CRASH_CWD=$(mktemp -d)
	ko=$top/testdata/dumps/${name%%-*}/gocrash_oops.ko.zst
	[ -f "$ko" ] && zstd -q -d "$ko" -o "$CRASH_CWD/gocrash_oops.ko"
	echo "== $name ($fmt): ${#cmds[@]} commands" >&2
	crash_record "$vmlinux" "$vmcore" "$dir/crash" "/tmp/record-$name.$$.log" "${cmds[@]}"
	rm -rf "$CRASH_CWD"
done
