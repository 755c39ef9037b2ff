#!/usr/bin/env bash
# Time single commands in gocrash and crash 8.0.6, on the same dump, in one
# run: the commands the types and code issues (#12, #13) set targets for.
#
#   bench/cmdtime.sh [-n REPEAT] [-d NAME[:FORMAT]] ['CMD' ...]
#
# For each tool, three sessions: start-up only ("q"), the command once, and
# the command REPEAT times (default 5). The command's first answer costs
# (once - start-up), each further one (repeat - once)/(REPEAT-1); both as
# wall time and as CPU time (user+sys, steadier on a shared machine). Each
# session's output is kept in $OUTDIR (default /tmp/gocrash-cmdtime), and the
# two tools' answers to the command are compared (a line says when they
# differ). A {placeholder} in a command is resolved from crash's recorded
# answers (testdata/mkdump/placeholders), as the tests do.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
OUTDIR=${OUTDIR:-/tmp/gocrash-cmdtime}
TX=$WORK/trixie
CRASH=("$TX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$TX/usr/lib/x86_64-linux-gnu" "$TX/usr/bin/crash")
N=5
dump=6.1-sysrq:elf
cmds=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-d) dump=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) cmds+=("$1"); shift ;;
	esac
done
[ ${#cmds[@]} -gt 0 ] || cmds=("struct task_struct {task1}" "p runqueues:a" "dis dev_ethtool" "search -k ffffffffdeadbeef")
name=${dump%%:*}
fmt=${dump#*:}
[ "$fmt" != "$dump" ] || fmt=elf
mkdir -p "$OUTDIR"
read -r vmlinux vmcore < <(cd "$top" && go run ./bench/locate "$name" "$fmt")
(cd "$top" && go build -o "$OUTDIR/gocrash" ./cmd/gocrash)
cdir=$top/testdata/dumps/$name/crash
# resolve CMD: {name} replaced as crashrec.sh's crash_resolve does.
. "$top/testdata/mkdump/crashrec.sh"

# session TOOL INPUT OUT: prints "WALL CPU" of one session.
session() {
	local tool=$1 input=$2 out=$3 cmd
	case $tool in
	gocrash) cmd=("$OUTDIR/gocrash" -s "$vmlinux" "$vmcore") ;;
	crash) cmd=("${CRASH[@]}" -s "$vmlinux" "$vmcore") ;;
	esac
	/usr/bin/time -f '%e %U %S' -o "$out.time" "${cmd[@]}" <<<"$input" >"$out" 2>&1 || true
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$out.time"
}

printf '| command | tool | first wall | first CPU | next wall | next CPU |\n|---|---|---|---|---|---|\n'
for c in "${cmds[@]}"; do
	r=$(crash_resolve "$cdir" "$c")
	rep=""
	for _ in $(seq "$N"); do rep+="$r"$'\n'; done
	declare -A first=()
	for tool in crash gocrash; do
		f=$OUTDIR/$tool.$(crash_golden "$c" | tr '/ ' '__')
		read -r w0 c0 < <(session "$tool" $'q\n' "$f.0")
		read -r w1 c1 < <(session "$tool" "$r"$'\nq\n' "$f.1")
		read -r wn cn < <(session "$tool" "${rep}q"$'\n' "$f.n")
		awk -v c="$c" -v t="$tool" -v w0="$w0" -v c0="$c0" -v w1="$w1" -v c1="$c1" -v wn="$wn" -v cn="$cn" -v n="$N" 'BEGIN {
			printf "| `%s` | %s | %.3f | %.3f | %.3f | %.3f |\n", c, t, w1 - w0, c1 - c0, (wn - w1) / (n - 1), (cn - c1) / (n - 1) }'
		first[$tool]=$f.1
	done
	# crash's session prints a banner-less answer with -s; gocrash's the
	# same: compare the answers.
	cmp -s "${first[crash]}" "${first[gocrash]}" || echo "note: \`$c\`: the answers differ (diff ${first[crash]} ${first[gocrash]})" >&2
done
