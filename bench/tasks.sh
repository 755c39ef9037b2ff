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
# answering "sys" then the command REPEAT times (default 5), RUNS times
# each (default 3), and takes the command's time as the difference of the
# medians divided by REPEAT: start-up (crash takes seconds to read its
# vmlinux, and that varies by more than a foreach takes) is left out of
# both. Both the wall
# time and the CPU time (user + system, from /usr/bin/time) are shown: on
# a loaded machine the wall time mostly measures the wait for a CPU. It
# prints the times, gocrash/crash, and whether both printed the same
# lines. Outputs are kept in $OUTDIR (default /tmp/gocrash-bench-tasks).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
OUTDIR=${OUTDIR:-/tmp/gocrash-bench-tasks}
RUNS=${RUNS:-3}
REPEAT=${REPEAT:-5} # times each command runs in its session (crash's start-up varies by more than its foreach takes)
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

# run TOOL NAME CMD...: one session; "WALL CPU" seconds on stdout.
run() {
	local tool=$1 name=$2 in=$OUTDIR/$2.in out=$OUTDIR/$1-$2.out t=$OUTDIR/$1-$2.time
	shift 2
	printf '%s\n' "$@" q > "$in"
	case $tool in
	gocrash) /usr/bin/time -f '%e %U %S' -o "$t" "$OUTDIR/gocrash" -s -i "$in" "$vmlinux" "$vmcore" > "$out" 2>&1 || true ;;
	crash) /usr/bin/time -f '%e %U %S' -o "$t" "${CRASH[@]}" -s "$vmlinux" "$vmcore" < "$in" > "$out" 2>&1 || true ;;
	esac
	awk '{printf "%s %.2f\n", $1, $2 + $3}' "$t"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed TOOL NAME CMD...: "WALL CPU", the medians of RUNS sessions.
timed() {
	local i runs
	runs=$(for i in $(seq "$RUNS"); do run "$@"; done)
	echo "$(echo "$runs" | cut -d' ' -f1 | median) $(echo "$runs" | cut -d' ' -f2 | median)"
}

tasks=$("$OUTDIR/gocrash" -s -i <(printf 'ps\nq\n') "$vmlinux" "$vmcore" 2>/dev/null | tail -n +2 | wc -l)
echo "dump: $vmcore ($tasks tasks), $RUNS runs each, each command $REPEAT times a session, $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| command | gocrash wall / CPU | crash 8.0.6 wall / CPU | gocrash/crash (CPU) | same output |"
echo "| --- | --- | --- | --- | --- |"
read -r gsw gsc < <(timed gocrash sys sys)
read -r csw csc < <(timed crash sys sys)
for cmd in "foreach bt" "foreach files" "foreach vm"; do
	n=${cmd// /_}
	reps=()
	for i in $(seq "$REPEAT"); do reps+=("$cmd"); done
	read -r gw gc < <(timed gocrash "$n" sys "${reps[@]}")
	read -r cw cc < <(timed crash "$n" sys "${reps[@]}")
	same=no
	cmp -s "$OUTDIR/gocrash-$n.out" "$OUTDIR/crash-$n.out" && same=yes
	gdc=$(echo "scale=3; ($gc - $gsc) / $REPEAT" | bc) cdc=$(echo "scale=3; ($cc - $csc) / $REPEAT" | bc)
	printf '| `%s` | %.2f / %.2f s | %.2f / %.2f s | %s | %s |\n' "$cmd" "$(echo "scale=3; ($gw - $gsw) / $REPEAT" | bc)" "$gdc" \
		"$(echo "scale=3; ($cw - $csw) / $REPEAT" | bc)" "$cdc" "$(echo "scale=4; $gdc / $cdc" | bc 2>/dev/null || echo -)" "$same"
done
printf '| start-up (`sys`) | %.2f / %.2f s | %.2f / %.2f s | %s | |\n' "$gsw" "$gsc" "$csw" "$csc" "$(echo "scale=4; $gsc / $csc" | bc)"
