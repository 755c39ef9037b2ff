#!/usr/bin/env bash
# Benchmark gocrash beside crash 8.0.6 and drgn on the same vmlinux and vmcore.
#
#   bench/run.sh                 the committed dump 6.1-sysrq (ELF; FORMATS="elf zlib"
#                                for more formats)
#   bench/run.sh --distro        Debian's 6.1 cloud kernel (-dbg vmlinux) and
#                                its dump made by testdata/mkdump/mkdump.sh
#   bench/run.sh --many          the "many" scenario (5,000 sleeping tasks)
#   bench/run.sh --scale         all of the above that exist, plus a scale table
#   bench/run.sh NAME=VMLINUX,VMCORE ...   any dumps
#
# Options: -n RUNS (default 3; RUNS= too), --tools "gocrash crash drgn".
# For each dump and tool it measures, RUNS times each, on a warm page cache:
#   sys    wall time of a session that answers `sys` and quits (start-up)
#   batch  wall time of `sys; bt -a; log; ps; runq; kmem -i; q`
#   ps     wall time of a session that answers `ps` and quits
#   rss    peak RSS of the batch session (/usr/bin/time's maximum resident set)
# and prints min / median per tool and the ratios of the medians
# gocrash/crash and gocrash/drgn, as a Markdown table. drgn runs
# bench/drgn_cmds.py, which says what stands in for each crash command.
# Every output is kept in $OUTDIR (default /tmp/gocrash-bench) for a look.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
WORK=${WORK:-/var/cache/gocrash-mkdump}
OUTDIR=${OUTDIR:-/tmp/gocrash-bench}
RUNS=${RUNS:-3}
TOOLS=${TOOLS:-gocrash crash drgn}
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
		local d
		d=$(ls -d "$WORK"/distro/debian-6.1.*-sysrq 2>/dev/null | tail -1 || true)
		if [ -n "$d" ] && [ -f "$d/vmcore.elf" ]; then
			echo "$(basename "$d").elf $(readlink -f "$d/vmlinux") $d/vmcore.elf"
		else
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

batch_cmds=$'sys\nbt -a\nlog\nps\nrunq\nkmem -i\nq\n'

# run_one TOOL KIND VMLINUX VMCORE OUTFILE: one timed session; prints
# "WALL_SECONDS MAXRSS_KB OK" (OK=1 when the answer looks complete).
run_one() {
	local tool=$1 kind=$2 vml=$3 core=$4 out=$5 input
	case $kind in
	sys) input=$'sys\nq\n' ;;
	ps) input=$'ps\nq\n' ;;
	batch) input=$batch_cmds ;;
	esac
	local cmd
	case $tool in
	gocrash) cmd=("$GOCRASH" -s "$vml" "$core") ;;
	crash) cmd=("${CRASH[@]}" -s "$vml" "$core") ;;
	drgn) cmd=(drgn -q -c "$core" -s "$vml" "$here/drgn_cmds.py" "$kind") ;;
	esac
	local t0 t1 rss ok=1
	t0=$EPOCHREALTIME
	/usr/bin/time -f %M -o "$out.rss" "${cmd[@]}" <<<"$input" >"$out" 2>"$out.err" || ok=0
	t1=$EPOCHREALTIME
	rss=$(tail -1 "$out.rss")
	case $kind in
	sys) grep -q 'RELEASE' "$out" || ok=0 ;;
	batch) grep -q 'RELEASE' "$out" && [ "$(wc -l <"$out")" -gt 50 ] || ok=0 ;;
	ps) [ "$(wc -l <"$out")" -gt 10 ] || ok=0 ;;
	esac
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $rss $ok"
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
names=()
for in in "${inputs[@]}"; do
	while read -r name vml core; do
		[ -n "$name" ] || continue
		names+=("$name")
		echo "$name $vml $core" >>"$OUTDIR/inputs.txt"
		log "$name: vmlinux $vml ($(du -m "$vml" | cut -f1) MB), vmcore $core ($(du -m "$core" | cut -f1) MB)"
		mkdir -p "$OUTDIR/$name"
		for tool in $TOOLS; do
			# One untimed run: every tool starts on a warm page cache.
			run_one "$tool" sys "$vml" "$core" "$OUTDIR/$name/$tool.warm" >/dev/null
		done
		for r in $(seq "$RUNS"); do
			for tool in $TOOLS; do
				for kind in sys batch ps; do
					set -- $(run_one "$tool" "$kind" "$vml" "$core" "$OUTDIR/$name/$tool.$kind.$r")
					echo "$name $tool $kind $r $1 $2 $3" | tee -a "$results" >&2
				done
			done
		done
	done < <(resolve "$in")
done

# The tables: one block per dump.
echo
echo "Runs: $RUNS per figure, warm page cache; min / median; ratios of the medians; $(nproc) CPUs, $(date -u +%F)."
echo
echo "| dump | figure | gocrash | crash 8.0.6 | drgn $(drgn --version 2>/dev/null | awk '{print $2}') | gocrash/crash | gocrash/drgn |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for name in "${names[@]}"; do
	r=$OUTDIR/$name.results
	awk -v n="$name" '$1 == n' "$results" >"$r"
	for kind in sys batch ps rss; do
		row="| $name | "
		case $kind in
		sys) row+="start-up to \`sys\`" ;;
		batch) row+="batch (sys … kmem -i)" ;;
		ps) row+="\`ps\` session" ;;
		rss) row+="peak RSS (batch)" ;;
		esac
		row+=" |"
		declare -A med=()
		for tool in gocrash crash drgn; do
			if [ "$kind" = rss ]; then
				set -- $(stats "$r" "$tool" batch 6)
				cell=$(fmt_mb "$1" "$2")
			else
				set -- $(stats "$r" "$tool" "$kind" 5)
				cell=$(fmt_s "$1" "$2")
			fi
			med[$tool]=$2
			[ "$(fails "$r" "$tool")" = 0 ] || cell+=" (!)"
			row+=" $cell |"
		done
		row+=" $(ratio "${med[gocrash]}" "${med[crash]}") | $(ratio "${med[gocrash]}" "${med[drgn]}") |"
		echo "$row"
	done
done
echo
echo "(!) = some run failed or printed an incomplete answer: see $OUTDIR/DUMP/TOOL.KIND.N{,.err}"

if [ "$scale" = 1 ] || [ ${#names[@]} -gt 1 ]; then
	echo
	echo "Scale: medians (gocrash | crash | drgn)"
	echo
	echo "| dump | vmcore MB | vmlinux MB | tasks | sys s | batch s | ps s | peak RSS MB |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	while read -r name vml core; do
		r=$OUTDIR/$name.results
		tasks=$(grep -m1 'TASKS:' "$OUTDIR/$name/gocrash.sys.1" 2>/dev/null | awk '{print $2}')
		cells=()
		for kind in sys batch ps rss; do
			c=""
			for tool in gocrash crash drgn; do
				if [ "$kind" = rss ]; then
					set -- $(stats "$r" "$tool" batch 6)
					v=$(awk -v a="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.0f", a / 1024 }')
				else
					set -- $(stats "$r" "$tool" "$kind" 5)
					v=$(awk -v a="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.2f", a }')
				fi
				c+="${c:+ | }$v"
			done
			cells+=("$c")
		done
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(du -m "$core" | cut -f1)" "$(du -mL "$vml" | cut -f1)" \
			"${tasks:--}" "${cells[0]// | / \/ }" "${cells[1]// | / \/ }" "${cells[2]// | / \/ }" "${cells[3]// | / \/ }"
	done <"$OUTDIR/inputs.txt"
fi
