#!/usr/bin/env bash
# foreach bt, foreach files and foreach vm beside crash 8.0.6 on the same
# vmlinux and vmcore (issue #14's goal: foreach bt on a 5,000-task dump in
# at most 1/20 of crash's time and under a second).
#
#   bench/tasks.sh                      the "many" dump (5,000 sleeping tasks),
#                                       $WORK/scale/6.1-many, else 6.1-sysrq
#   bench/tasks.sh VMLINUX VMCORE       any dump
#
# For each command and tool it runs a session answering "sys" and one
# answering "sys" then the command, RUNS times each (default 3), and takes
# the command's time as the difference of the medians: start-up (crash
# takes seconds to read its vmlinux) is left out of both. It prints the
# times, gocrash/crash, and whether both printed the same lines. Outputs
# are kept in $OUTDIR (default /tmp/gocrash-bench-tasks).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
OUTDIR=${OUTDIR:-/tmp/gocrash-bench-tasks}
RUNS=${RUNS:-3}
TX=$WORK/trixie
CRASH=("$TX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$TX/usr/lib/x86_64-linux-gnu" "$TX/usr/bin/crash")
mkdir -p "$OUTDIR"

if [ $# -eq 2 ]; then
	vmlinux=$1 vmcore=$2
elif [ -f "$WORK/scale/6.1-many/vmcore.elf" ]; then
	vmlinux=$WORK/scale/6.1-many/vmlinux vmcore=$WORK/scale/6.1-many/vmcore.elf
else
	read -r vmlinux vmcore < <(cd "$top" && go run ./bench/locate 6.1-sysrq elf)
fi
[ -x "${CRASH[2]}" ] || { echo "bench/tasks.sh: no crash 8.0.6 in $TX (testdata/mkdump/mkdump.sh installs it)" >&2; exit 1; }
(cd "$top" && go build -o "$OUTDIR/gocrash" ./cmd/gocrash)

# run TOOL NAME CMD...: one session, its wall time in seconds on stdout.
run() {
	local tool=$1 name=$2 in=$OUTDIR/$2.in out=$OUTDIR/$1-$2.out s e
	shift 2
	printf '%s\n' "$@" q > "$in"
	s=$(date +%s.%N)
	case $tool in
	gocrash) "$OUTDIR/gocrash" -s -i "$in" "$vmlinux" "$vmcore" > "$out" 2>&1 || true ;;
	crash) "${CRASH[@]}" -s "$vmlinux" "$vmcore" < "$in" > "$out" 2>&1 || true ;;
	esac
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed TOOL NAME CMD...: the median of RUNS sessions.
timed() {
	local i
	for i in $(seq "$RUNS"); do run "$@"; done | median
}

tasks=$("$OUTDIR/gocrash" -s -i <(printf 'ps\nq\n') "$vmlinux" "$vmcore" 2>/dev/null | tail -n +2 | wc -l)
echo "dump: $vmcore ($tasks tasks), $RUNS runs each, $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| command | gocrash | crash 8.0.6 | gocrash/crash | same output |"
echo "| --- | --- | --- | --- | --- |"
gs=$(timed gocrash sys sys)
cs=$(timed crash sys sys)
for cmd in "foreach bt" "foreach files" "foreach vm"; do
	n=${cmd// /_}
	g=$(timed gocrash "$n" sys "$cmd")
	c=$(timed crash "$n" sys "$cmd")
	gd=$(echo "$g - $gs" | bc) cd=$(echo "$c - $cs" | bc)
	same=no
	cmp -s "$OUTDIR/gocrash-$n.out" "$OUTDIR/crash-$n.out" && same=yes
	printf '| `%s` | %.2f s | %.2f s | %.3f | %s |\n' "$cmd" "$gd" "$cd" "$(echo "scale=4; $gd / $cd" | bc)" "$same"
done
printf '| start-up (`sys`) | %.2f s | %.2f s | %.3f | |\n' "$gs" "$cs" "$(echo "scale=4; $gs / $cs" | bc)"
