#!/usr/bin/env bash
# search -k over a whole dump beside `cat vmcore > /dev/null`, both on a
# warm page cache: issue #12's "search -k runs at >= 50 % of the speed of
# cat" (speed: the same dump file in less time, so the ratio is cat's time
# over search's).
#
#   bench/search.sh [-r RUNS] [-d NAME[:FORMAT] | -d VMLINUX,VMCORE] [VALUE]
#
# VALUE (default ffffffffdeadbeef) must occur nowhere, so that the whole
# kernel memory is searched and nothing printed; an answer that is not
# empty is reported and the run refused. RUNS (default 7) rounds, each a
# `cat` of the vmcore and a gocrash session, interleaved so that both see
# the same load. The session answers `sys` (start-up is not measured), then
# marks (`!sh mark.sh $PPID`: the wall clock and gocrash's CPU time so far,
# the sum of /proc/PID/task/*/schedstat) around the first `search -k VALUE`
# and around four more ("next": their mean); an empty mark pair measured
# first is taken off. The figures are medians over the rounds: wall time of
# cat, of the first and the next searches, gocrash's CPU time (user +
# system, every thread) for them, cat's CPU time (perf stat's task-clock,
# when perf is there), and cat's wall time over the searches' (the target:
# >= 0.50). On a loaded machine the wall times are the scheduler's: the CPU
# times say what each costs. The file is read once before the first round
# (the page cache warm); the load average before and after is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RUNS=${RUNS:-7}
dump=6.1-sysrq:elf
value=ffffffffdeadbeef
while [ $# -gt 0 ]; do
	case $1 in
	-r) RUNS=$2; shift 2 ;;
	-d) dump=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) value=$1; shift ;;
	esac
done
[ "$RUNS" -ge 5 ] || { echo "search.sh: -r RUNS must be at least 5 (medians)" >&2; exit 2; }
case $dump in
*,*) vmlinux=${dump%%,*} vmcore=${dump#*,} name=$(basename "$vmcore") ;;
*)
	name=${dump%%:*} fmt=${dump#*:}
	[ "$fmt" != "$dump" ] || fmt=elf
	read -r vmlinux vmcore < <(cd "$top" && go run ./bench/locate "$name" "$fmt")
	name=$name.$fmt
	;;
esac
OUTDIR=${OUTDIR:-/tmp/gocrash-search}/$name
mkdir -p "$OUTDIR"
if [ -n "${GOCRASH_BIN:-}" ]; then cp "$GOCRASH_BIN" "$OUTDIR/gocrash"; else (cd "$top" && go build -o "$OUTDIR/gocrash" ./cmd/gocrash); fi
GOCRASH_CACHE=$OUTDIR/cache "$OUTDIR/gocrash" --build-index "$vmlinux" 2>/dev/null || true
export GOCRASH_CACHE=$OUTDIR/cache

cat >"$OUTDIR/mark.sh" <<'EOF'
p=$1 s=0
for f in /proc/$p/task/*/schedstat; do read -r a b c <"$f" && s=$((s + a)); done
echo "@@mark $2 $s $(date +%s%N)"
EOF
mark() { printf '!sh %s $PPID %s\n' "$OUTDIR/mark.sh" "$1"; }
{
	echo sys
	mark c0
	mark c1
	mark s0
	echo "search -k $value"
	mark s1
	for _ in 1 2 3 4; do echo "search -k $value"; done
	mark s2
	echo q
} >"$OUTDIR/script.txt"

now() { date +%s%N; }
cat "$vmcore" >/dev/null
"$OUTDIR/gocrash" -s "$vmlinux" "$vmcore" <"$OUTDIR/script.txt" >/dev/null 2>&1 || true
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
res=$OUTDIR/results.txt
: >"$res"
for r in $(seq "$RUNS"); do
	t0=$(now)
	cat "$vmcore" >/dev/null
	t1=$(now)
	catcpu=0
	if command -v perf >/dev/null; then
		catcpu=$(perf stat -x, -e task-clock -- cat "$vmcore" 2>&1 >/dev/null | awk -F, '/task-clock/ { printf "%.0f", $1 * 1e6 }')
	fi
	out=$OUTDIR/gocrash.$r.out
	"$OUTDIR/gocrash" -s "$vmlinux" "$vmcore" <"$OUTDIR/script.txt" >"$out" 2>&1 || true
	# the answers: nothing between the marks
	if awk '/^@@mark s0 /{p=1; next} /^@@mark s2 /{p=0} p && !/^@@mark/' "$out" | grep -q .; then
		echo "search.sh: $value occurs in $name (or the search failed): see $out" >&2
		exit 1
	fi
	awk -v cat=$((t1 - t0)) -v catcpu="$catcpu" '
		$1 == "@@mark" { c[$2] = $3; w[$2] = $4 }
		END {
			cw = w["c1"] - w["c0"]; cc = c["c1"] - c["c0"]
			printf "%d %d %d %d %d %d\n", cat, w["s1"] - w["s0"] - cw, (w["s2"] - w["s1"]) / 4 - cw, c["s1"] - c["s0"] - cc, (c["s2"] - c["s1"]) / 4 - cc, catcpu
		}' "$out" >>"$res"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

med() { awk -v f="$1" '{ print $f }' "$res" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cat_=$(med 1) first=$(med 2) second=$(med 3) cpu1=$(med 4) cpu2=$(med 5) catcpu=$(med 6)
size=$(stat -L -c %s "$vmcore")
echo "dump $name: $vmcore ($((size / 1048576)) MB); $RUNS rounds, medians of wall time (CPU: gocrash's user + system over its threads); $(nproc) CPUs, load $load_before before, $load_after after; $(date -u '+%F %H:%M') UTC"
echo
echo "| dump | \`cat vmcore > /dev/null\` wall (CPU) | \`search -k $value\` first / next | their CPU first / next | cat / search wall (first, next) | >= 0.50 |"
echo "| --- | --- | --- | --- | --- | --- |"
awk -v n="$name" -v mb="$((size / 1048576))" -v a="$cat_" -v ac="$catcpu" -v f="$first" -v s="$second" -v c1="$cpu1" -v c2="$cpu2" 'BEGIN {
	printf "| %s (%d MB) | %.1f ms (%s) | %.1f / %.1f ms | %.1f / %.1f ms | %.2f, %.2f | %s |\n", n, mb, a / 1e6, (ac > 0 ? sprintf("%.1f ms", ac / 1e6) : "-"), f / 1e6, s / 1e6, c1 / 1e6, c2 / 1e6, a / f, a / s, (a / f >= 0.5 ? "met" : "NOT met")
}'
