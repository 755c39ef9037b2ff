#!/usr/bin/env bash
# Write testdata/mkdump/pending: the commands of mkdump.sh's CRASH_CMDS
# whose crash answers are not recorded on a regenerated dump (NAME...:
# the dumps to look at, default every committed one), one "NAME<TAB>COMMAND" a
# line. Tests log a pending command instead of failing on it
# (internal/sample's Dump.Pending); record.sh -d NAME records them, and
# running this again shrinks the list.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
eval "$(sed -n '/^CRASH_CMDS=(/,/^)/p' "$here/mkdump.sh")"
. "$here/crashrec.sh"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(cd "$here/../dumps" && ls -d *-*))
{
	echo "# Commands of CRASH_CMDS whose crash 8.0.6 answers are not recorded yet on"
	echo "# the regenerated dumps (written by pending.sh; TODO(testbed): record"
	echo "# them with record.sh -d NAME, then run pending.sh again)."
	for name in "${names[@]}"; do
		have=$(crash_answers "$here/../dumps/$name" | grep '^crash/' || true)
		for c in "${CRASH_CMDS[@]}"; do
			grep -qxF -- "crash/$(crash_golden "$c")" <<< "$have" || printf '%s\t%s\n' "$name" "$c"
		done | sort -u
	done
} > "$here/pending"
echo "pending: $(grep -vc '^#' "$here/pending") answers" >&2
