#!/usr/bin/env bash
# How gocrash's time and memory grow with the dump, beside crash 8.0.6 on the
# same files (issue #20's scale table; #14's and #15's targets at scale):
#
#   bench/scale.sh [-r RUNS] [--tools "gocrash crash"] [--only "LABEL ..."] [--render]
#
# Each dump below that exists is measured with bench/cmdtime.sh (one session
# a tool and run, each command's CPU time and peak RSS inside the session,
# medians of RUNS, default 5), its lines kept in $OUTDIR/scale.tsv (default
# /tmp/gocrash-scale; a rerun of one dump or tool replaces its lines), then
# the tables are printed from that file (--render: print only).
#
#   6.1-sysrq.elf        the committed dump: 384 MB guest, 59 tasks, 128 KiB log,
#                        the self-built 66 MB vmlinux; also kmem ADDRESS of 1,000
#                        slab objects picked at random (seed fixed) from kmem -S
#   6.1-mem-{512,2048,16384}M  testdata/mkdump/mkdump.sh 6.1 mem with MEM=512, 2048,
#                        16384 (CRASHKERNEL=256M for 16 GiB): the workload without
#                        the memory hog, so the guests differ in memory only
#   6.1-many-5000, 6.1-many-20000   MEM=1024 APPEND="gocrash.many=5000 gocrash.hog=0"
#                        mkdump.sh 6.1 many, and MEM=4096 TAG=20000 with 20,000
#   6.1-biglog           mkdump.sh 6.1 biglog: log_buf_len=4M, 8 MiB of records
#                        written, so the ring has wrapped
#   debian-6.1           Debian's 6.1.0-56 cloud kernel (590 MB vmlinux) and its
#                        sysrq dump (mkdump.sh debian-6.1.0-56-cloud-amd64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
OUTDIR=${OUTDIR:-/tmp/gocrash-scale}
RUNS=${RUNS:-5}
TOOLS="gocrash crash"
only=
render_only=0
while [ $# -gt 0 ]; do
	case $1 in
	-r) RUNS=$2; shift 2 ;;
	--tools) TOOLS=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--render) render_only=1; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
mkdir -p "$OUTDIR"
tsv=$OUTDIR/scale.tsv
touch "$tsv"
S=$WORK/scale
DEB=$WORK/distro/debian-6.1.0-56-cloud-amd64-sysrq

# measure [-r RUNS] [-n REPEAT] LABEL DUMP CMD...: cmdtime.sh on DUMP
# (NAME:FMT or VMLINUX,VMCORE) unless it is missing or left out by --only;
# its lines replace LABEL's.
measure() {
	local runs=$RUNS repeat=${REPEAT:-2} tool
	while :; do
		case $1 in
		-r) runs=$2; shift 2 ;;
		-n) repeat=$2; shift 2 ;;
		*) break ;;
		esac
	done
	local label=$1 dump=$2
	shift 2
	[ -z "$only" ] || [[ " $only " == *" $label "* ]] || return 0
	case $dump in *,*) [ -f "${dump#*,}" ] || { echo "scale.sh: $label: no ${dump#*,} (skipped)" >&2; return 0; } ;; esac
	local new=$OUTDIR/$label.tsv
	: >"$new"
	echo "== $label ($(date -u +%H:%M), load $(cut -d' ' -f1 /proc/loadavg))" >&2
	OUTDIR=$OUTDIR/cmdtime "$here/cmdtime.sh" -r "$runs" -n "$repeat" --tools "$TOOLS" -d "$dump" --label "$label" --tsv "$new" "$@" >"$OUTDIR/$label.md" 2>"$OUTDIR/$label.err" ||
		{ echo "scale.sh: $label: cmdtime.sh failed (see $OUTDIR/$label.err)" >&2; return 0; }
	for tool in $TOOLS; do
		awk -F'\t' -v l="$label" -v t="$tool" '!($1 == l && $2 == t)' "$tsv" >"$tsv.tmp" && mv "$tsv.tmp" "$tsv"
	done
	cat "$new" >>"$tsv"
}

# slabobjs VMLINUX VMCORE FILE: "kmem ADDRESS" of 1,000 slab objects, picked
# with a fixed seed from gocrash's kmem -S (free and allocated alike).
slabobjs() {
	[ -s "$3" ] && return
	GOCRASH_CACHE=off "$OUTDIR/gocrash" -s "$1" "$2" <<<"kmem -S" 2>/dev/null |
		awk '/FREE \/ \[ALLOCATED\]/ { on = 1; next }
			on && match($0, /^ +\[?[0-9a-f]+\]?( |$)/) { a = $1; gsub(/[][]/, "", a); print a; next }
			{ on = 0 }' | sort -u |
		shuf -n 1000 --random-source=<(yes gocrash) | sed 's/^/kmem /' >"$3"
}

if [ "$render_only" = 0 ]; then
	(cd "$here/.." && go build -o "$OUTDIR/gocrash" ./cmd/gocrash)
	read -r cv cc < <(cd "$here/.." && go run ./bench/locate 6.1-sysrq elf)
	slabobjs "$cv" "$cc" "$OUTDIR/kmem1000.txt"
	measure 6.1-sysrq.elf 6.1-sysrq:elf "ps" "foreach bt" "log" "bt -a" "struct task_struct {task1}" "p runqueues:a" \
		"dis dev_ethtool" "kmem -i" "kmem -s" "files 1" "foreach files" "foreach vm" "search -k ffffffffdeadbeef" "mod"
	measure 6.1-many-5000 "$S/6.1-many/vmlinux,$S/6.1-many/vmcore.elf" "ps" "foreach bt" "foreach files" "foreach vm"
	for m in 512 2048; do
		measure "6.1-mem-${m}M" "$S/6.1-mem-${m}M/vmlinux,$S/6.1-mem-${m}M/vmcore.elf" "kmem -i" "kmem -s" "search -k ffffffffdeadbeef" "ps"
	done
	measure 6.1-biglog "$S/6.1-biglog/vmlinux,$S/6.1-biglog/vmcore.elf" "log"
	measure debian-6.1 "$DEB/vmlinux,$DEB/vmcore.elf" "ps" "bt -a" "log" "struct task_struct {task1}" "kmem -i" "kmem -s"
	# crash takes 30 s of CPU for the thousand (minutes here): once a
	# session, three sessions.
	measure -r 3 -n 1 6.1-sysrq.kmem1000 6.1-sysrq:elf "kmem -s" "<$OUTDIR/kmem1000.txt"
	# The big ones: three sessions (crash's share of a machine busy with
	# kernel builds made five too long for one sitting).
	measure -r "${BIG_RUNS:-3}" 6.1-many-20000 "$S/6.1-many-20000/vmlinux,$S/6.1-many-20000/vmcore.elf" "ps" "foreach bt" "foreach files" "foreach vm"
	measure -r "${BIG_RUNS:-3}" 6.1-mem-16384M "$S/6.1-mem-16384M/vmlinux,$S/6.1-mem-16384M/vmcore.elf" "kmem -i" "kmem -s" "search -k ffffffffdeadbeef" "ps"
	measure -r "${BIG_RUNS:-3}" 6.1-mem-16384M.zlib "$S/6.1-mem-16384M/vmlinux,$S/6.1-mem-16384M/vmcore.zlib" "kmem -i" "kmem -s"
fi

# The tables, from the medians in scale.tsv.
# med LABEL TOOL CMD FIELD: 5 first CPU ns, 7 peak RSS kB.
med() {
	awk -F'\t' -v l="$1" -v t="$2" -v c="$3" -v f="$4" '$1 == l && $2 == t && $3 == c { print $f }' "$tsv" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else if (v < 10e6) printf "%.2f ms", v / 1e6; else if (v < 1e9) printf "%.0f ms", v / 1e6; else printf "%.2f s", v / 1e9 }'; }
mb() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.0f MB", v / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }
same() { awk -F'\t' -v l="$1" -v c="$2" '$1 == l && $3 == c && $9 != "-" { s = $9 } END { print (s == "" ? "-" : s) }' "$tsv"; }
# row WHAT LABEL CMD: one table row.
row() {
	local g c
	g=$(med "$2" gocrash "$3" 5) c=$(med "$2" crash "$3" 5)
	local name=\`$3\`
	case $3 in "<"*) name="\`kmem ADDRESS\` of 1,000 slab objects" ;; esac
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$name" "$(ms "$g")" "$(mb "$(med "$2" gocrash "$3" 7)")" \
		"$(ms "$c")" "$(mb "$(med "$2" crash "$3" 7)")" "$(ratio "$g" "$c")" "$(same "$2" "$3")"
}
header() {
	echo
	echo "$1"
	echo
	echo "| $2 | command | gocrash CPU | gocrash peak RSS | crash CPU | crash peak RSS | gocrash/crash | same answer |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
}
echo "Medians of $RUNS sessions a tool (3 for the 20,000-task and 16 GiB dumps and the thousand kmem ADDRESS); CPU time (user+sys) of the command's first answer in a session that answered sys first; peak RSS of the process while answering it. $(nproc) CPUs; $(date -u '+%F %H:%M') UTC."
header "Guest memory (mkdump.sh 6.1 mem, MEM=512, 2048, 16384; ELF, -d 31)" "guest"
for c in "kmem -i" "kmem -s" "search -k ffffffffdeadbeef" "ps"; do
	for m in 512 2048 16384; do row "$m MB" "6.1-mem-${m}M" "$c"; done
done
for c in "kmem -i" "kmem -s"; do row "16384 MB, kdump zlib" 6.1-mem-16384M.zlib "$c"; done
header "Tasks (the committed 6.1-sysrq dump's 59; mkdump.sh 6.1 many with 5,000 and 20,000 sleepers)" "tasks"
for c in "ps" "foreach bt" "foreach files" "foreach vm"; do
	row 59 6.1-sysrq.elf "$c"
	row 5,000 6.1-many-5000 "$c"
	row 20,000 6.1-many-20000 "$c"
done
header "Log (the committed dump's 128 KiB ring; mkdump.sh 6.1 biglog's wrapped 4 MiB one)" "log"
row "128 KiB" 6.1-sysrq.elf log
row "4 MiB, wrapped" 6.1-biglog log
header "vmlinux (self-built 6.1.192, 66 MB, dwz'd DWARF; Debian's 6.1.0-56-cloud-amd64 -dbg, 590 MB)" "vmlinux"
for c in "start-up to sys" "ps" "bt -a" "log" "struct task_struct {task1}" "kmem -i" "kmem -s"; do
	row "66 MB" 6.1-sysrq.elf "$c"
	row "590 MB" debian-6.1 "$c"
done
header "Per command on the committed dump (6.1-sysrq, ELF): each ≤ 1/20 of crash's time" "dump"
for c in "struct task_struct {task1}" "p runqueues:a" "dis dev_ethtool" "foreach bt" "kmem -s" "<$OUTDIR/kmem1000.txt" \
	"files 1" "foreach files" "foreach vm" "search -k ffffffffdeadbeef" "mod" "bt -a" "log" "ps" "kmem -i"; do
	case $c in "<"*) row 6.1-sysrq 6.1-sysrq.kmem1000 "$c" ;; *) row 6.1-sysrq 6.1-sysrq.elf "$c" ;; esac
done
