# Recording crash 8.0.6's answers: the one implementation that mkdump.sh
# (a regenerated dump, every command of CRASH_CMDS) and record.sh (more
# commands on the committed dumps) share. Sourced, not run:
#
#   . testdata/mkdump/crashrec.sh
#   crash_setup "$WORK/trixie"            # CRASH=(loader ... crash)
#   CRASH_OPTS=(--no_kmem_cache)          # or ()
#   crash_record VMLINUX VMCORE CDIR LOG 'cmd 1' 'cmd {task1}' ...
#
# Each command's answer goes to CDIR/CMD.txt (spaces as '_', as
# internal/testbed's Dump.Golden reads it). A command may name a value of the
# dump that changes with each regeneration by a placeholder, {name}:
# testdata/mkdump/placeholders says which recorded answer it is taken from
# (command, line, field); internal/testbed's Dump.Resolve reads the same file
# the same way. The commands placeholders come from are recorded first, in
# a short session of their own; then every command in one session (crash
# takes seconds to start), each command's output redirected by crash itself.

crashrec_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# crash_setup TX: crash 8.0.6 run through trixie's own loader and libraries,
# unpacked under TX, so that they never touch the host's.
crash_setup() {
	local tx=$1
	CRASH=("$tx/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$tx/usr/lib/x86_64-linux-gnu" "$tx/usr/bin/crash")
	CRASH_OPTS=()
}

# crash_golden CMD: the file name of CMD's answer.
crash_golden() {
	local c=$1
	printf '%s.txt' "${c// /_}"
}

# Where answers are kept: mkdump.sh writes them as files, DUMP/crash/CMD.txt
# and DUMP/crash-FMT/CMD.txt; pack.sh commits each dump's answers as one
# archive, DUMP/crash.tar.zst (members crash/CMD.txt, crash-FMT/CMD.txt: a
# thousand files of a few hundred bytes cost more in blocks than their text
# compressed), and record.sh adds loose files beside it, which win over the
# archive's (internal/sample's Dump.Answer reads them the same way).

# crash_answer DUMP REL: the answer REL ("crash/sys.txt") of the dump whose
# directory is DUMP, from its loose file, else from DUMP/crash.tar.zst.
crash_answer() {
	local dump=$1 rel=$2
	if [ -f "$dump/$rel" ]; then
		cat "$dump/$rel"
	elif [ -f "$dump/crash.tar.zst" ]; then
		zstd -q -d -c --long=31 "$dump/crash.tar.zst" | tar -xOf - --no-wildcards --no-unquote "$rel" 2>/dev/null
	else
		return 1
	fi
}

# crash_answers DUMP: every answer REL of the dump, loose or archived, sorted.
crash_answers() {
	local dump=$1
	{
		(cd "$dump" && find crash crash-* -type f 2>/dev/null) || true
		[ ! -f "$dump/crash.tar.zst" ] || zstd -q -d -c --long=31 "$dump/crash.tar.zst" | tar -tf - --quoting-style=literal | grep -v '/$'
	} | sort -u
}

# crash_placeholders: NAME<TAB>COMMAND<TAB>LINE<TAB>FIELD lines, comments dropped.
crash_placeholders() {
	grep -v '^#' "$crashrec_here/placeholders" | grep -v '^$' || true
}

# crash_resolve CDIR CMD: CMD with every {name} replaced by its value in
# CDIR's recorded answers; fails (and says which) when a value is missing.
crash_resolve() {
	local cdir=$1 r=$2 pname pcmd pline pfield v
	while IFS=$'\t' read -r pname pcmd pline pfield; do
		case $r in *"{$pname}"*) ;; *) continue ;; esac
		# LINE is a line number, or /ERE/: the first line matching it.
		v=$({ crash_answer "$(dirname "$cdir")" "$(basename "$cdir")/$(crash_golden "$pcmd")" 2>/dev/null || true; } |
			awk -v l="$pline" -v f="$pfield" '
				BEGIN { re = ""; if (l ~ /^\/.*\/$/) re = substr(l, 2, length(l) - 2) }
				(re == "" && NR == l) || (re != "" && $0 ~ re) { print (f < 0 ? $(NF+f+1) : $f); exit }')
		if [ -z "$v" ]; then
			echo "crashrec: no value for {$pname} ($pcmd, line $pline, field $pfield) in $cdir" >&2
			return 1
		fi
		r=${r//\{$pname\}/$v}
	done < <(crash_placeholders)
	case $r in *"{"[a-z]*"}"*) echo "crashrec: $2: a placeholder not in testdata/mkdump/placeholders" >&2; return 1 ;; esac
	printf '%s' "$r"
}

# crash_session VMLINUX VMCORE DIR LOG: runs the script on stdin in one
# crash session, in $CRASH_CWD if set, else DIR (the dump's directory: the
# parent of its answers). crash looks for a module's object file ("mod -s
# gocrash_oops") in the directory tree of the vmlinux, not here: mkdump.sh's
# out/NAME/ and the test bed's cache put gocrash_oops.ko beside the vmlinux.
# A session is stopped after CRASH_TIMEOUT seconds (default 3 h: ~950
# commands took 15-60 min on a loaded 2-core machine); returns 124 then,
# else crash's exit status.
crash_session() {
	local vmlinux=$1 vmcore=$2 dir=${CRASH_CWD:-$3} log=$4 rc=0
	(cd "$dir" && timeout "${CRASH_TIMEOUT:-10800}" "${CRASH[@]}" "${CRASH_OPTS[@]}" -s "$vmlinux" "$vmcore") > "$log" 2>&1 || rc=$?
	return $rc
}

# crash_record VMLINUX VMCORE CDIR LOG CMD...: every CMD's answer into CDIR.
crash_record() {
	local vmlinux=$1 vmcore=$2 cdir=$3 log=$4
	shift 4
	mkdir -p "$cdir"
	local c script="" pname pcmd pline pfield need=0
	for c in "$@"; do case $c in *"{"[a-z]*"}"*) need=1 ;; esac; done
	if [ $need = 1 ]; then
		# A placeholder's own command may name an earlier placeholder
		# ({sbq} from "p &((struct gendisk *)0x{gendisk1})->…"): those are
		# asked in a second short session, resolved from the first's
		# answers, each under its unresolved name (internal/testbed reads it
		# so). Answers go through numbered symlinks, as below.
		local pass plnk pk pr
		plnk=/tmp/$$p$RANDOM
		mkdir -p "$plnk"
		for pass in plain nested; do
			script="" pk=0
			rm -f "$plnk"/*
			while IFS=$'\t' read -r pname pcmd pline pfield; do
				pr=plain
				case $pcmd in *"{"[a-z]*"}"*) pr=nested ;; esac
				[ "$pr" = $pass ] || continue
				pr=$pcmd
				if [ $pass = nested ]; then pr=$(crash_resolve "$cdir" "$pcmd") || continue; fi
				pk=$((pk + 1))
				ln -s "$cdir/$(crash_golden "$pcmd")" "$plnk/$pk"
				script+="$pr > $plnk/$pk"$'\n'
			done < <(crash_placeholders)
			[ $pk -gt 0 ] || continue
			printf '%sq\n' "$script" | crash_session "$vmlinux" "$vmcore" "$(dirname "$cdir")" "$log" || true
		done
		rm -rf "$plnk"
		script=""
	fi
	# crash itself can die on a command (8.0.6 does on "p runqueues:a" on
	# some dumps), or the session can run out of time: the session is then
	# run again with the commands not yet answered. crash runs the script
	# in order and opens each command's answer file before the command
	# runs, so the command it stopped in is the last one, in script order,
	# whose answer file exists (empty, or cut short): when crash died, that
	# one is dropped with a note; when the session timed out, it is asked
	# again, and dropped only if the next session times out in it too. An
	# empty answer file is an answer (crash prints its errors to stderr,
	# not into the redirection: "kmem -s bogus" is empty). Each round
	# answers at least one more command, or the loop ends.
	#
	# Each answer is redirected through a symlink named by a number in a
	# directory of digits: a command crash hands to gdb (ptype, gdb …) has
	# its "> FILE" cut off by strip_redirection (gdb_interface.c), which
	# looks for the command's last word rightmost in the line — found again
	# inside a golden's own name (ptype_struct_list_head.txt), it cut
	# nothing and gdb failed on the whole line.
	local r n=0 round=0 todo=() left=() k lnk rc stuck="" seen=" " dropped=0
	# A command named twice is asked once (its answer is one file).
	for c in "$@"; do
		case $seen in *" $(crash_golden "$c") "*) continue ;; esac
		seen+="$(crash_golden "$c") "
		todo+=("$c")
	done
	local total=${#todo[@]}
	lnk=/tmp/$$$RANDOM
	mkdir -p "$cdir/.." "$lnk"
	cdir=$(cd "$cdir" && pwd)
	while [ ${#todo[@]} -gt 0 ] && [ $round -lt 8 ]; do
		round=$((round + 1))
		script=""
		k=0
		rm -f "$lnk"/*
		# Every placeholder is resolved before any answer is removed: a
		# command recorded again ("files 1") may be the source of a later
		# one's placeholder ("files -d {dentry1}").
		local resolved=() i
		for c in "${todo[@]}"; do
			r=$(crash_resolve "$cdir" "$c") || r=
			resolved+=("$r")
		done
		for i in "${!todo[@]}"; do
			c=${todo[$i]} r=${resolved[$i]}
			[ -n "$r" ] || continue
			mkdir -p "$(dirname "$cdir/$(crash_golden "$c")")"
			rm -f "$cdir/$(crash_golden "$c")"
			k=$((k + 1))
			ln -s "$cdir/$(crash_golden "$c")" "$lnk/$k"
			script+="$r > $lnk/$k"$'\n'
		done
		rc=0
		printf '%sq\n' "$script" | crash_session "$vmlinux" "$vmcore" "$(dirname "$cdir")" "$log.$round" || rc=$?
		cat "$log.$round" >> "$log" && rm -f "$log.$round"
		left=()
		local asked=0 inprog=""
		for i in "${!todo[@]}"; do
			c=${todo[$i]}
			if [ -e "$cdir/$(crash_golden "$c")" ]; then
				inprog=$c
				continue
			fi
			left+=("$c")
			[ -z "${resolved[$i]}" ] || asked=$((asked + 1))
		done
		[ ${#left[@]} -gt 0 ] || break
		# Only commands crash was asked and did not answer mean it stopped
		# (a placeholder without a value is not asked again).
		[ $asked -gt 0 ] || break
		[ -n "$inprog" ] || { echo "crashrec: crash answered nothing in $cdir (see $log)" >&2; break; }
		if [ $rc = 124 ] && [ "$inprog" != "$stuck" ]; then
			echo "crashrec: the crash session timed out after ${CRASH_TIMEOUT:-10800} s in '$inprog' ($cdir): it and ${#left[@]} more commands again" >&2
			rm -f "$cdir/$(crash_golden "$inprog")"
			left=("$inprog" "${left[@]}")
			stuck=$inprog
		elif [ $rc = 124 ]; then
			echo "crashrec: the crash session timed out twice in '$inprog' ($cdir): dropped, ${#left[@]} commands again" >&2
			rm -f "$cdir/$(crash_golden "$inprog")"
			dropped=$((dropped + 1))
		else
			echo "crashrec: crash died (exit $rc) in '$inprog' ($cdir): dropped, ${#left[@]} commands again" >&2
			rm -f "$cdir/$(crash_golden "$inprog")"
			dropped=$((dropped + 1))
		fi
		todo=("${left[@]}")
	done
	rm -rf "$lnk"
	n=$((total - ${#left[@]} - dropped))
	echo "crashrec: $n of $total commands recorded into $cdir" >&2
}
