#!/usr/bin/env bash
# CPU time and peak RSS of single commands in gocrash and crash 8.0.6, on
# the same dump, start-up left out: the per-command targets of issues #12-#15
# and #20 (each new command at most 1/20 of crash's time).
#
#   bench/cmdtime.sh [-r RUNS] [-n REPEAT] [-d NAME[:FORMAT] | -d VMLINUX,VMCORE]
#                    [--tools "gocrash crash"] [--tsv FILE] [--label NAME] ['CMD' ...]
#
# Each tool runs RUNS sessions (default 5) on the dump (a committed test-bed
# dump by name, default 6.1-sysrq:elf, or any VMLINUX,VMCORE). A session
# answers `sys` first (start-up is not what is measured), then for each CMD:
# a mark, CMD once, a mark, CMD REPEAT-1 more times (REPEAT default 3), a
# mark. A mark is a shell escape, `!sh mark.sh $PPID` (both tools run `!`
# through /bin/sh -c, so $PPID is the tool itself), printing the tool's CPU
# time so far (the sum over its threads of /proc/PID/task/*/schedstat: ns on
# a CPU, user and system; /proc/PID/stat's ticks as a check for threads
# that exited), its wall clock, and its peak RSS since the previous mark
# (VmHWM, then reset with clear_refs 5). "first" is the CPU time between the
# first two marks (what a user who asks once waits for), "next" the mean of
# the REPEAT-1 answers after it (caches warm); each less the cost of an empty
# mark pair, measured at the start of every session. The figures are the
# medians over the RUNS sessions (and "start-up to sys" the CPU time and peak
# RSS at the first mark, after sys); peak RSS is the process's, the largest of
# the command's marks (what the session holds while answering it). The two
# tools' first answers are compared (a note says when they differ; the
# answers are kept in $OUTDIR, default /tmp/gocrash-cmdtime/NAME). A
# {placeholder} in a command is resolved from crash's recorded answers
# (testdata/mkdump/placeholders), as the tests do, else from gocrash's own
# answer to the placeholder's command (a dump with no recorded answers).
# A CMD '<FILE' is the commands of FILE, one a line, measured as one (e.g.
# kmem ADDRESS of a thousand slab objects).
# --tsv appends one line a tool, command and session to FILE: label tool
# command run first_ns next_ns rss_kb first_wall_ns same.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
TX=$WORK/trixie
CRASH=("$TX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$TX/usr/lib/x86_64-linux-gnu" "$TX/usr/bin/crash")
RUNS=${RUNS:-5}
N=${REPEAT:-3}
TOOLS="gocrash crash"
dump=6.1-sysrq:elf
tsv=
label=
cmds=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-r) RUNS=$2; shift 2 ;;
	-d) dump=$2; shift 2 ;;
	--tools) TOOLS=$2; shift 2 ;;
	--tsv) tsv=$2; shift 2 ;;
	--label) label=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) cmds+=("$1"); shift ;;
	esac
done
[ "$N" -ge 1 ] || { echo "cmdtime.sh: -n REPEAT must be at least 1" >&2; exit 2; }
[ ${#cmds[@]} -gt 0 ] || cmds=("struct task_struct {task1}" "p runqueues:a" "dis dev_ethtool" "foreach bt"
	"kmem -s" "files 1" "search -k ffffffffdeadbeef" "mod")
cdir=
case $dump in
*,*)
	vmlinux=${dump%%,*} vmcore=${dump#*,}
	name=${label:-$(basename "$(dirname "$vmcore")").${vmcore##*.}}
	[ -d "$(dirname "$vmcore")/crash" ] && cdir=$(dirname "$vmcore")/crash
	;;
*)
	name=${dump%%:*} fmt=${dump#*:}
	[ "$fmt" != "$dump" ] || fmt=elf
	read -r vmlinux vmcore < <(cd "$top" && go run ./bench/locate "$name" "$fmt")
	cdir=$top/testdata/dumps/$name/crash
	name=${label:-$name.$fmt}
	;;
esac
OUTDIR=${OUTDIR:-/tmp/gocrash-cmdtime}/$name
mkdir -p "$OUTDIR"
# GOCRASH_BIN: a gocrash built elsewhere (another commit), instead of this tree's.
if [ -n "${GOCRASH_BIN:-}" ]; then cp "$GOCRASH_BIN" "$OUTDIR/gocrash"; else (cd "$top" && go build -o "$OUTDIR/gocrash" ./cmd/gocrash); fi
# The index cache a session on a vmlinux opened before finds (bench/run.sh's).
GOCRASH_CACHE=$OUTDIR/cache "$OUTDIR/gocrash" --build-index "$vmlinux" 2>/dev/null || true
export GOCRASH_CACHE=$OUTDIR/cache
. "$top/testdata/mkdump/crashrec.sh"

cat >"$OUTDIR/mark.sh" <<'EOF'
# mark.sh PID ID: PID's CPU ns (schedstat, every thread), its stat ticks
# (utime+stime, dead threads too), the wall clock and VmHWM; then VmHWM reset.
p=$1 s=0
for f in /proc/$p/task/*/schedstat; do read -r a b c <"$f" && s=$((s + a)); done
t=$(sed 's/^.*) //' /proc/$p/stat | awk '{ print $12 + $13 }')
h=$(awk '/^VmHWM/ { print $2 }' /proc/$p/status)
echo 5 >/proc/$p/clear_refs
echo "@@mark $2 $s $t $(date +%s%N) $h"
EOF
mark() { printf '!sh %s $PPID %s\n' "$OUTDIR/mark.sh" "$1"; }

# resolve CMD: {name} replaced from crash's answers, else gocrash's.
resolve() {
	local c=$1 pname pcmd pline pfield v
	if [ -n "$cdir" ] && c=$(crash_resolve "$cdir" "$1" 2>/dev/null); then
		printf '%s' "$c"
		return
	fi
	c=$1
	while IFS=$'\t' read -r pname pcmd pline pfield; do
		case $c in *"{$pname}"*) ;; *) continue ;; esac
		v=$("$OUTDIR/gocrash" -s "$vmlinux" "$vmcore" <<<"$pcmd" 2>/dev/null |
			awk -v l="$pline" -v f="$pfield" '
				BEGIN { re = ""; if (l ~ /^\/.*\/$/) re = substr(l, 2, length(l) - 2) }
				(re == "" && NR == l) || (re != "" && $0 ~ re) { print (f < 0 ? $(NF+f+1) : $f); exit }')
		[ -n "$v" ] || { echo "cmdtime.sh: no value for {$pname} ($pcmd) from gocrash" >&2; return 1; }
		c=${c//\{$pname\}/$v}
	done < <(crash_placeholders)
	printf '%s' "$c"
}

resolved=()
for c in "${cmds[@]}"; do
	case $c in
	"<"*) [ -f "${c#<}" ] || { echo "cmdtime.sh: no file ${c#<}" >&2; exit 2; }; resolved+=("$(cat "${c#<}")") ;;
	*) resolved+=("$(resolve "$c")") ;;
	esac
done
script="sys"$'\n'"$(mark cal0)"$'\n'"$(mark cal1)"$'\n'
for k in "${!resolved[@]}"; do
	script+="$(mark "$k.0")"$'\n'"${resolved[$k]}"$'\n'"$(mark "$k.1")"$'\n'
	for _ in $(seq $((N - 1))); do script+="${resolved[$k]}"$'\n'; done
	script+="$(mark "$k.2")"$'\n'
done
script+=$'q\n'
printf '%s' "$script" >"$OUTDIR/script.txt"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$RUNS"); do
	for tool in $TOOLS; do
		out=$OUTDIR/$tool.$r.out
		case $tool in
		gocrash) "$OUTDIR/gocrash" -s "$vmlinux" "$vmcore" <"$OUTDIR/script.txt" >"$out" 2>&1 || true ;;
		crash) "${CRASH[@]}" -s "$vmlinux" "$vmcore" <"$OUTDIR/script.txt" >"$out" 2>&1 || true ;;
		esac
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Per session: "k first_ns next_ns rss_kb first_wall_ns" for each command k.
# An interval's CPU is schedstat's unless stat's ticks say more (a thread
# that exited took its schedstat with it), less the empty pair's.
measure() {
	awk -v n="$N" '
	$1 == "@@mark" { id = $2; s[id] = $3; t[id] = $4 * 10000000; w[id] = $5; h[id] = $6; ids[++m] = id }
	function cpu(a, b,   x, y) { x = s[b] - s[a]; y = t[b] - t[a]; return (y > x + 20000000) ? y : x }
	END {
		cal = cpu("cal0", "cal1"); if (cal < 0) cal = 0
		# S: start-up to the first answer (sys), from the process start.
		if ("cal0" in s) printf "S %.0f 0 %d 0\n", (t["cal0"] > s["cal0"] + 20000000 ? t["cal0"] : s["cal0"]), h["cal0"]
		for (k = 0; ("" k ".2") in s; k++) {
			f = cpu(k ".0", k ".1") - cal
			nx = (n > 1) ? (cpu(k ".1", k ".2") - cal) / (n - 1) : -1
			rss = h[k ".1"] > h[k ".2"] ? h[k ".1"] : h[k ".2"]
			printf "%d %.0f %s %d %.0f\n", k, (f < 0 ? 0 : f), (n > 1 ? sprintf("%.0f", nx < 0 ? 0 : nx) : "-"), rss, w[k ".1"] - w[k ".0"]
		}
	}' "$1"
}

# answer FILE K: the first answer to command K in a session's output.
answer() { awk -v a="@@mark $2.0 " -v b="@@mark $2.1 " 'index($0, b) == 1 { exit } p { print } index($0, a) == 1 { p = 1 }' "$1"; }

res=$OUTDIR/results.txt
: >"$res"
for r in $(seq "$RUNS"); do
	for tool in $TOOLS; do
		measure "$OUTDIR/$tool.$r.out" | sed "s/^/$tool $r /" >>"$res"
	done
done
declare -A same=()
for k in "${!resolved[@]}"; do
	g=$(crash_golden "${cmds[$k]}" | tr '/' '_')
	for tool in $TOOLS; do answer "$OUTDIR/$tool.1.out" "$k" >"$OUTDIR/$tool.$g"; done
	same[$k]=-
	if [[ " $TOOLS " == *" crash "* && " $TOOLS " == *" gocrash "* ]]; then
		if cmp -s "$OUTDIR/crash.$g" "$OUTDIR/gocrash.$g"; then same[$k]=yes; else
			same[$k]=no
			echo "note: \`${resolved[$k]}\`: the answers differ (diff $OUTDIR/crash.$g $OUTDIR/gocrash.$g)" >&2
		fi
	fi
done

# med TOOL K FIELD: the median of a column (4 first, 5 next, 6 RSS, 7 wall).
med() {
	awk -v t="$1" -v k="$2" -v f="$3" '$1 == t && $3 == k && $f != "-" { print $f }' "$res" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else if (v < 10e6) printf "%.2f ms", v / 1e6; else if (v < 1e9) printf "%.0f ms", v / 1e6; else printf "%.2f s", v / 1e9 }'; }
mb() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.0f MB", v / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.4f", a / b }'; }

echo "dump $name: $vmcore ($(du -m "$vmcore" | cut -f1) MB), vmlinux $(du -mL "$vmlinux" | cut -f1) MB; $RUNS sessions a tool, each command once then $((N - 1)) more times a session; medians of CPU time (user+sys, schedstat); $(nproc) CPUs, load $load_before before, $load_after after; $(date -u '+%F %H:%M') UTC"
echo
echo "| command | gocrash first / next | crash 8.0.6 first / next | gocrash/crash first (next) | ≤ 1/20 | peak RSS gocrash / crash | same answer |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '| start-up to `sys` | %s | %s | %s | | %s / %s | |\n' "$(ms "$(med gocrash S 4)")" "$(ms "$(med crash S 4)")" \
	"$(ratio "$(med gocrash S 4)" "$(med crash S 4)")" "$(mb "$(med gocrash S 6)")" "$(mb "$(med crash S 6)")"
if [ -n "$tsv" ]; then
	awk -v l="$name" 'BEGIN { OFS = "\t" } $3 == "S" { print l, $1, "start-up to sys", $2, $4, $5, $6, $7, "-" }' "$res" >>"$tsv"
fi
for k in "${!resolved[@]}"; do
	gf=$(med gocrash "$k" 4) gn=$(med gocrash "$k" 5) cf=$(med crash "$k" 4) cn=$(med crash "$k" 5)
	rf=$(ratio "$gf" "$cf") rn=$(ratio "$gn" "$cn")
	met=$(awk -v r="$rf" 'BEGIN { if (r == "-") print "-"; else print (r <= 0.05 ? "met" : "NOT met") }')
	printf '| `%s` | %s / %s | %s / %s | %s (%s) | %s | %s / %s | %s |\n' "${cmds[$k]}" "$(ms "$gf")" "$(ms "$gn")" \
		"$(ms "$cf")" "$(ms "$cn")" "$rf" "$rn" "$met" "$(mb "$(med gocrash "$k" 6)")" "$(mb "$(med crash "$k" 6)")" "${same[$k]}"
	if [ -n "$tsv" ]; then
		awk -v l="$name" -v k="$k" -v c="${cmds[$k]}" -v s="${same[$k]}" 'BEGIN { OFS = "\t" } $3 == k { print l, $1, c, $2, $4, $5, $6, $7, s }' "$res" >>"$tsv"
	fi
done
