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
TX=$WORK/trixie
CRASH=("$TX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$TX/usr/lib/x86_64-linux-gnu" "$TX/usr/bin/crash")
[ -x "$TX/usr/bin/crash" ] || { echo "record.sh: no crash 8.0.6 at $TX (run mkdump.sh's install step first)" >&2; exit 1; }
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
	opts=()
	grep -q -- '--no_kmem_cache' "$dir/crash/VERSION" 2>/dev/null && opts=(--no_kmem_cache)
	# First the commands placeholders are taken from, then the rest with
	# each {name} replaced by its value on this dump.
	script=""
	while IFS=$'\t' read -r pname pcmd pline pfield; do
		[ -n "$pname" ] && [ "${pname#\#}" = "$pname" ] || continue
		script+="$pcmd > $dir/crash/${pcmd// /_}.txt"$'\n'
	done < "$here/placeholders"
	printf '%sq\n' "$script" | (cd "$dir" && timeout 900 "${CRASH[@]}" "${opts[@]}" -s "$vmlinux" "$vmcore") > /dev/null 2>&1 || true
	script=""
	for c in "${cmds[@]}"; do
		r=$c
		while IFS=$'\t' read -r pname pcmd pline pfield; do
			[ -n "$pname" ] && [ "${pname#\#}" = "$pname" ] || continue
			case $r in *"{$pname}"*) ;; *) continue ;; esac
			v=$(awk -v l="$pline" -v f="$pfield" 'NR==l{print (f < 0 ? $(NF+f+1) : $f)}' "$dir/crash/${pcmd// /_}.txt")
			[ -n "$v" ] || { echo "record.sh: $name: no value for {$pname}" >&2; continue 2; }
			r=${r//\{$pname\}/$v}
		done < "$here/placeholders"
		script+="$r > $dir/crash/${c// /_}.txt"$'\n'
	done
	echo "== $name ($fmt): ${#cmds[@]} commands" >&2
	printf '%sq\n' "$script" | (cd "$dir" && timeout 900 "${CRASH[@]}" "${opts[@]}" -s "$vmlinux" "$vmcore") > /tmp/record-$name.log 2>&1 || true
done
