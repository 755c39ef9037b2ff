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
		v=$(awk -v l="$pline" -v f="$pfield" 'NR==l{print (f < 0 ? $(NF+f+1) : $f)}' "$cdir/$(crash_golden "$pcmd")" 2>/dev/null)
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
crash_session() {
	local vmlinux=$1 vmcore=$2 dir=${CRASH_CWD:-$3} log=$4
	(cd "$dir" && timeout 1800 "${CRASH[@]}" "${CRASH_OPTS[@]}" -s "$vmlinux" "$vmcore") > "$log" 2>&1 || true
}

# crash_record VMLINUX VMCORE CDIR LOG CMD...: every CMD's answer into CDIR.
crash_record() {
	local vmlinux=$1 vmcore=$2 cdir=$3 log=$4
	shift 4
	mkdir -p "$cdir"
	local c script="" pname pcmd pline pfield need=0
	for c in "$@"; do case $c in *"{"[a-z]*"}"*) need=1 ;; esac; done
	if [ $need = 1 ]; then
		while IFS=$'\t' read -r pname pcmd pline pfield; do
			script+="$pcmd > $cdir/$(crash_golden "$pcmd")"$'\n'
		done < <(crash_placeholders)
		printf '%sq\n' "$script" | crash_session "$vmlinux" "$vmcore" "$(dirname "$cdir")" "$log"
		script=""
	fi
	# crash itself can die on a command (8.0.6 does on "p runqueues:a" on
	# some dumps): the session is then run again with the commands not yet
	# answered, and the one it died on (its answer file the last one
	# created, left empty) is dropped with a note. Each round answers at
	# least one more command, or the loop ends.
	#
	# Each answer is redirected through a symlink named by a number in a
	# directory of digits: a command crash hands to gdb (ptype, gdb …) has
	# its "> FILE" cut off by strip_redirection (gdb_interface.c), which
	# looks for the command's last word rightmost in the line — found again
	# inside a golden's own name (ptype_struct_list_head.txt), it cut
	# nothing and gdb failed on the whole line.
	local r n=0 round=0 todo=("$@") left=() last k lnk
	lnk=/tmp/$$$RANDOM
	mkdir -p "$cdir/.." "$lnk"
	cdir=$(cd "$cdir" && pwd)
	while [ ${#todo[@]} -gt 0 ] && [ $round -lt 5 ]; do
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
		printf '%sq\n' "$script" | crash_session "$vmlinux" "$vmcore" "$(dirname "$cdir")" "$log.$round"
		cat "$log.$round" >> "$log" && rm -f "$log.$round"
		left=()
		local asked=0
		for i in "${!todo[@]}"; do
			c=${todo[$i]}
			[ -e "$cdir/$(crash_golden "$c")" ] && continue
			left+=("$c")
			[ -z "${resolved[$i]}" ] || asked=$((asked + 1))
		done
		[ ${#left[@]} -gt 0 ] || break
		[ ${#left[@]} -lt ${#todo[@]} ] || break
		# Only commands crash was asked and did not answer mean it died
		# (a placeholder without a value is not asked again).
		[ $asked -gt 0 ] || break
		last=$(cd "$cdir" && ls -t --time-style=+%s $(find . -type f -empty -printf '%P\n') 2>/dev/null | head -1)
		if [ -n "$last" ]; then
			echo "crashrec: crash died at $cdir/$last: dropped, $((${#left[@]})) commands again" >&2
			rm -f "$cdir/$last"
		fi
		todo=("${left[@]}")
	done
	rm -rf "$lnk"
	n=$(($# - ${#left[@]}))
	echo "crashrec: $n of $# commands recorded into $cdir" >&2
}
