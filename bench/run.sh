#!/usr/bin/env bash
# Benchmark gocrash beside crash 8.0.6 and drgn on the same vmlinux and vmcore.
#
#   bench/run.sh                 the committed dump 6.1-sysrq (ELF; FORMATS="elf zlib"
#                                for more formats)
#   bench/run.sh --distro        Debian's cloud kernels (-dbg vmlinux: 5.10, 6.1,
#                                6.12, whichever exist) and their sysrq dumps
#                                made by testdata/mkdump/mkdump.sh debian-KVER
#   bench/run.sh --many          the "many" scenario (5,000 sleeping tasks)
#   bench/run.sh --scale         all of the above that exist, plus a scale table
#   bench/run.sh NAME=VMLINUX,VMCORE ...   any dumps
#
# Options: -n RUNS (default 5; RUNS= too), --tools "gocrash gocrash-cold crash drgn"
# (and gocrash-nodebug: the dump alone, --no-debuginfo, issue #17),
# --kinds "sys batch ps".
# For each dump and tool it measures, RUNS times each, on a warm page cache:
#   sys    a session that answers `sys` and quits (start-up)
#   batch  `sys; bt -a; log; ps; runq; kmem -i; set; q` (the seven core commands)
#   ps     a session that answers `ps` and quits
# each as wall time, CPU time (user + system, /usr/bin/time) and peak RSS,
# and prints min / median per tool and the ratios of the medians, as
# Markdown tables, then the issue #20 targets met or not. "gocrash" is a
# session on a vmlinux opened before (its index cache, symbols/cache.go,
# built once with `gocrash --build-index` into $OUTDIR/cache);
# "gocrash-cold" the first session on it (GOCRASH_CACHE=off: no cache read,
# none built). drgn runs bench/drgn_cmds.py, which says what stands in for
# each crash command. The machine's load (uptime) is printed before and
# after: on a shared machine the CPU times are the steadier figures.
# Every output is kept in $OUTDIR (default /tmp/gocrash-bench) for a look.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
OUTDIR=${OUTDIR:-/tmp/gocrash-bench}
RUNS=${RUNS:-5}
TOOLS=${TOOLS:-gocrash gocrash-cold crash drgn}
KINDS=${KINDS:-sys batch ps}
TX=$WORK/trixie
CRASH=("$TX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$TX/usr/lib/x86_64-linux-gnu" "$TX/usr/bin/crash")
GOCRASH=$OUTDIR/gocrash

log() { printf '== %s\n' "$*" >&2; }

inputs=()
want_default=1
scale=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) RUNS=$2; shift ;;
	--tools) TOOLS=$2; shift ;;
	--kinds) KINDS=$2; shift ;;
	--distro) inputs+=(distro); want_default=0 ;;
	--many) inputs+=(many); want_default=0 ;;
	--scale) inputs+=(committed many distro); want_default=0; scale=1 ;;
	*=*) inputs+=("$1"); want_default=0 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[ "$want_default" = 0 ] || inputs=(committed)

# setup: crash 8.0.6 the way the test bed installs it (mkdump.sh's
# install_deps: trixie's package unpacked privately), drgn and GNU time from
# Debian, gocrash built from this tree.
setup() {
	mkdir -p "$OUTDIR"
	if [[ " $TOOLS " == *" crash "* ]] && [ ! -x "$TX/usr/bin/crash" ]; then
		log "crash 8.0.6 is not in $TX: installing it with mkdump.sh's install_deps"
		# The function alone, without running the script (DEBKVER set: no
		# kernel source is needed).
		eval "$(sed -n '/^install_deps() {/,/^}/p' "$top/testdata/mkdump/mkdump.sh")"
		DEBKVER=bench VERSION=none install_deps
	fi
	local pkgs=()
	[ -x /usr/bin/time ] || pkgs+=(time)
	if [[ " $TOOLS " == *" drgn "* ]] && ! command -v drgn >/dev/null; then pkgs+=(python3-drgn); fi
	if [ ${#pkgs[@]} -gt 0 ]; then
		log "installing ${pkgs[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
	fi
	log "building gocrash"
	(cd "$top" && go build -o "$GOCRASH" ./cmd/gocrash)
	rm -rf "$OUTDIR/cache"
}

# resolve INPUT: prints "NAME VMLINUX VMCORE" lines (none when absent).
resolve() {
	case $1 in
	committed)
		for fmt in ${FORMATS:-elf}; do
			local files
			if files=$(cd "$top" && go run ./bench/locate 6.1-sysrq "$fmt"); then
				echo "6.1-sysrq.$fmt $files"
			elif [ -f "$WORK/out/6.1-sysrq/vmcore.$fmt" ]; then
				# The same dump as mkdump.sh left it, before pack.sh.
				log "using $WORK/out/6.1-sysrq instead"
				echo "6.1-sysrq.$fmt $WORK/out/6.1-sysrq/vmlinux $WORK/out/6.1-sysrq/vmcore.$fmt"
			fi
		done
		;;
	many)
		local d=$WORK/scale/6.1-many
		if [ -f "$d/vmcore.elf" ]; then
			echo "6.1-many.elf $d/vmlinux $d/vmcore.elf"
		else
			log "no $d/vmcore.elf: make it with" \
				" MEM=1024 APPEND=gocrash.many=5000 testdata/mkdump/mkdump.sh 6.1 many  (skipped)"
		fi
		;;
	distro)
		# Every Debian kernel's sysrq dump mkdump.sh made (5.10, 6.1,
		# 6.12: the newest of each).
		local d found=0
		for d in $(ls -d "$WORK"/distro/debian-*-sysrq 2>/dev/null | sort -V || true); do
			[ -f "$d/vmcore.elf" ] || continue
			echo "$(basename "$d").elf $(readlink -f "$d/vmlinux") $d/vmcore.elf"
			found=1
		done
		if [ "$found" = 0 ]; then
			log "no Debian kernel dump in $WORK/distro: make it with" \
				" MEM=512 testdata/mkdump/mkdump.sh debian-\$(apt-cache search --names-only 'linux-image-6.1.0-.*-cloud-amd64-dbg' | sort -V | tail -1 | sed 's/linux-image-\(.*\)-dbg .*/\1/') sysrq  (skipped)"
		fi
		;;
	*=*)
		local name=${1%%=*} files=${1#*=}
		echo "$name ${files%%,*} ${files#*,}"
		;;
	esac
}

batch_cmds=$'sys\nbt -a\nlog\nps\nrunq\nkmem -i\nset\nq\n'

# run_one TOOL KIND VMLINUX VMCORE OUTFILE: one timed session; prints
# "WALL_SECONDS MAXRSS_KB OK CPU_SECONDS" (OK=1 when the answer looks
# complete).
run_one() {
	local tool=$1 kind=$2 vml=$3 core=$4 out=$5 input
	case $kind in
	sys) input=$'sys\nq\n' ;;
	ps) input=$'ps\nq\n' ;;
	batch) input=$batch_cmds ;;
	esac
	local cmd
	case $tool in
	gocrash) cmd=(env GOCRASH_CACHE="$OUTDIR/cache" "$GOCRASH" -s "$vml" "$core") ;;
	gocrash-cold) cmd=(env GOCRASH_CACHE=off "$GOCRASH" -s "$vml" "$core") ;;
	gocrash-nodebug) cmd=(env GOCRASH_CACHE=off "$GOCRASH" -s --no-debuginfo "$core") ;;
	crash) cmd=("${CRASH[@]}" -s "$vml" "$core") ;;
	drgn) cmd=(drgn -q -c "$core" -s "$vml" "$here/drgn_cmds.py" "$kind") ;;
	esac
	local t0 t1 rss cpu ok=1
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$out.rss" "${cmd[@]}" <<<"$input" >"$out" 2>"$out.err" || ok=0
	t1=$EPOCHREALTIME
	read -r rss cpu < <(tail -1 "$out.rss" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }')
	case $kind in
	sys) grep -q 'RELEASE' "$out" || ok=0 ;;
	batch) grep -q 'RELEASE' "$out" && [ "$(wc -l <"$out")" -gt 50 ] || ok=0 ;;
	ps) [ "$(wc -l <"$out")" -gt 10 ] || ok=0 ;;
	esac
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $rss $ok $cpu"
}

# stats FILE TOOL KIND FIELD: "min med" of a column of the results file.
stats() {
	awk -v t="$2" -v k="$3" -v f="$4" '$2 == t && $3 == k { print $f }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "- -"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print v[1], m }'
}

fails() { awk -v t="$2" '$2 == t && $7 == 0 { n++ } END { print n + 0 }' "$1"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }

fmt_s() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.2f / %.2f s", a, b }'; }
fmt_mb() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.0f / %.0f MB", a / 1024, b / 1024 }'; }

setup
results=$OUTDIR/results.txt
: >"$OUTDIR/inputs.txt"
: >"$results"
load_before=$(uptime)
names=()
for in in "${inputs[@]}"; do
	while read -r name vml core; do
		[ -n "$name" ] || continue
		names+=("$name")
		echo "$name $vml $core" >>"$OUTDIR/inputs.txt"
		log "$name: vmlinux $vml ($(du -mL "$vml" | cut -f1) MB), vmcore $core ($(du -m "$core" | cut -f1) MB)"
		mkdir -p "$OUTDIR/$name"
		# The index cache a second session would find (gocrash's own
		# background build, run here in the foreground).
		GOCRASH_CACHE="$OUTDIR/cache" "$GOCRASH" --build-index "$vml" 2>"$OUTDIR/$name/build-index.err" ||
			log "$name: --build-index failed: $(cat "$OUTDIR/$name/build-index.err")"
		for tool in $TOOLS; do
			# One untimed run: every tool starts on a warm page cache.
			run_one "$tool" sys "$vml" "$core" "$OUTDIR/$name/$tool.warm" >/dev/null
		done
		for r in $(seq "$RUNS"); do
			for tool in $TOOLS; do
				for kind in $KINDS; do
					set -- $(run_one "$tool" "$kind" "$vml" "$core" "$OUTDIR/$name/$tool.$kind.$r")
					echo "$name $tool $kind $r $1 $2 $3 $4" | tee -a "$results" >&2
				done
			done
		done
	done < <(resolve "$in")
done
load_after=$(uptime)

# stats FILE TOOL KIND FIELD: "min med" (field 5 wall, 6 RSS KB, 8 CPU).
med() { set -- $(stats "$@"); echo "$2"; }

label() {
	case $1 in
	sys) echo "start-up to \`sys\`" ;;
	batch) echo "batch (7 commands)" ;;
	ps) echo "\`ps\` session" ;;
	esac
}

echo
echo "Runs: $RUNS per figure, warm page cache; min / median; ratios of the medians; $(nproc) CPUs, $(date -u '+%F %H:%M') UTC."
echo "Load before: ${load_before#*load average: }; after: ${load_after#*load average: } (uptime's 1, 5, 15 minutes)."
echo "gocrash = a session that has opened the vmlinux before (index cache); gocrash-cold = the first one (GOCRASH_CACHE=off)."
for name in "${names[@]}"; do
	r=$OUTDIR/$name.results
	awk -v n="$name" '$1 == n' "$results" >"$r"
	echo
	echo "#### $name"
	echo
	echo "| figure | gocrash | gocrash-cold | crash 8.0.6 | drgn $(drgn --version 2>/dev/null | awk '{print $2}') | gocrash/crash | gocrash/drgn | cold/drgn |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	for kind in $KINDS; do
		for what in wall cpu rss; do
			case $what in
			wall) f=5 fmt=fmt_s unit="wall" ;;
			cpu) f=8 fmt=fmt_s unit="CPU" ;;
			rss) f=6 fmt=fmt_mb unit="peak RSS" ;;
			esac
			row="| $(label "$kind"), $unit |"
			declare -A m=()
			for tool in gocrash gocrash-cold crash drgn; do
				set -- $(stats "$r" "$tool" "$kind" "$f")
				cell=$($fmt "$1" "$2")
				m[$tool]=$2
				[ "$(fails "$r" "$tool")" = 0 ] || cell+=" (!)"
				row+=" $cell |"
			done
			row+=" $(ratio "${m[gocrash]}" "${m[crash]}") | $(ratio "${m[gocrash]}" "${m[drgn]}") | $(ratio "${m[gocrash-cold]}" "${m[drgn]}") |"
			echo "$row"
		done
	done
	# The targets of issue #20 (distribution kernels; printed for every dump).
	echo
	echo "| target (issue #20) | measured (medians) | |"
	echo "| --- | --- | --- |"
	target() { # TEXT VALUE LIMIT UNIT
		awk -v t="$1" -v v="$2" -v l="$3" -v u="$4" 'BEGIN {
			if (v == "-" || v == "") { printf "| %s | - | not measured |\n", t; exit }
			printf "| %s | %s%s | %s |\n", t, (u == "x" ? sprintf("%.3f", v) : (u == "MB" ? sprintf("%.0f ", v / 1024) : sprintf("%.0f ", v * 1000))), (u == "x" ? "" : (u == "MB" ? "MB" : "ms")), (v <= l ? "met" : "NOT met") }'
	}
	sw=$(med "$r" gocrash sys 5) sc=$(med "$r" gocrash-cold sys 5) sd=$(med "$r" drgn sys 5)
	bw=$(med "$r" gocrash batch 5) bd=$(med "$r" drgn batch 5) bc=$(med "$r" crash batch 5)
	swc=$(med "$r" gocrash sys 8) scc=$(med "$r" gocrash-cold sys 8) sdc=$(med "$r" drgn sys 8)
	bwc=$(med "$r" gocrash batch 8) bcc=$(med "$r" gocrash-cold batch 8) bdc=$(med "$r" drgn batch 8) bxc=$(med "$r" crash batch 8)
	target "first \`sys\`, vmlinux opened before: ≤ 50 ms (wall)" "$sw" 0.050 s
	target "first \`sys\`, vmlinux opened before: ≤ 50 ms (CPU)" "$swc" 0.050 s
	target "first \`sys\`, first time: ≤ 100 ms (wall)" "$sc" 0.100 s
	target "first \`sys\`, first time: ≤ 100 ms (CPU)" "$scc" 0.100 s
	target "\`sys\` ≤ 1/4 of drgn's (wall)" "$(ratio "$sw" "$sd")" 0.25 x
	target "\`sys\` ≤ 1/4 of drgn's (CPU)" "$(ratio "$swc" "$sdc")" 0.25 x
	target "\`sys\` first time ≤ 1/4 of drgn's (wall)" "$(ratio "$sc" "$sd")" 0.25 x
	target "\`sys\` first time ≤ 1/4 of drgn's (CPU)" "$(ratio "$scc" "$sdc")" 0.25 x
	target "batch ≤ 1/3 of drgn's (wall)" "$(ratio "$bw" "$bd")" 0.3334 x
	target "batch ≤ 1/3 of drgn's (CPU)" "$(ratio "$bwc" "$bdc")" 0.3334 x
	target "batch first time ≤ 1/3 of drgn's (CPU)" "$(ratio "$bcc" "$bdc")" 0.3334 x
	target "batch ≤ 1/60 of crash's (wall)" "$(ratio "$bw" "$bc")" 0.01667 x
	target "batch ≤ 1/60 of crash's (CPU)" "$(ratio "$bwc" "$bxc")" 0.01667 x
	target "peak RSS of \`sys\` ≤ 48 MB" "$(med "$r" gocrash sys 6)" 49152 MB
	target "peak RSS of \`sys\`, first time ≤ 48 MB" "$(med "$r" gocrash-cold sys 6)" 49152 MB
	target "peak RSS of the batch ≤ 80 MB" "$(med "$r" gocrash batch 6)" 81920 MB
	target "peak RSS of the batch, first time ≤ 80 MB" "$(med "$r" gocrash-cold batch 6)" 81920 MB
	if [[ " $TOOLS " == *" gocrash-nodebug "* ]]; then
		# Issue #17: the dump alone (kallsyms, BTF, ORC from memory)
		# against the vmlinux, opened before and the first time.
		for kind in $KINDS; do
			for f in 8 5 6; do
				case $f in 8) u=CPU ;; 5) u=wall ;; 6) u="peak RSS" ;; esac
				fm=fmt_s
				[ $f = 6 ] && fm=fmt_mb
				set -- $(stats "$r" gocrash-nodebug "$kind" "$f")
				echo "| $(label "$kind") without debuginfo, $u: $($fm "$1" "$2"); /gocrash $(ratio "$2" "$(med "$r" gocrash "$kind" "$f")"), /gocrash-cold $(ratio "$2" "$(med "$r" gocrash-cold "$kind" "$f")") | | |"
			done
		done
		target "first \`sys\` without debuginfo ≤ with the vmlinux, opened before (CPU, #17)" "$(ratio "$(med "$r" gocrash-nodebug sys 8)" "$swc")" 1 x
		target "first \`sys\` without debuginfo ≤ with the vmlinux, first time (CPU, #17)" "$(ratio "$(med "$r" gocrash-nodebug sys 8)" "$scc")" 1 x
	fi
done
echo
echo "(!) = some run failed or printed an incomplete answer: see $OUTDIR/DUMP/TOOL.KIND.N{,.err}"

if [ "$scale" = 1 ] || [ ${#names[@]} -gt 1 ]; then
	echo
	echo "Scale: wall-time medians (gocrash | gocrash-cold | crash | drgn)"
	echo
	echo "| dump | vmcore MB | vmlinux MB | tasks | sys s | batch s | ps s | peak RSS MB (batch) |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	while read -r name vml core; do
		r=$OUTDIR/$name.results
		tasks=$(grep -m1 'TASKS:' "$OUTDIR/$name/gocrash.sys.1" 2>/dev/null | awk '{print $2}')
		cells=()
		for kind in sys batch ps rss; do
			c=""
			for tool in gocrash gocrash-cold crash drgn; do
				if [ "$kind" = rss ]; then
					v=$(awk -v a="$(med "$r" "$tool" batch 6)" 'BEGIN { if (a == "-") print "-"; else printf "%.0f", a / 1024 }')
				else
					v=$(awk -v a="$(med "$r" "$tool" "$kind" 5)" 'BEGIN { if (a == "-") print "-"; else printf "%.2f", a }')
				fi
				c+="${c:+ / }$v"
			done
			cells+=("$c")
		done
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(du -m "$core" | cut -f1)" "$(du -mL "$vml" | cut -f1)" \
			"${tasks:--}" "${cells[0]}" "${cells[1]}" "${cells[2]}" "${cells[3]}"
	done <"$OUTDIR/inputs.txt"
fi
