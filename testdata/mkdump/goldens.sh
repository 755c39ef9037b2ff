#!/usr/bin/env bash
# List the recorded answers under testdata/dumps/*/crash that no command of
# mkdump.sh's CRASH_CMDS makes: a regeneration would lose them, and the test
# reading them would fail. Run it before regenerating (it exits 1 when any
# is missing), and add each command it names to CRASH_CMDS.
#
#   testdata/mkdump/goldens.sh            # what a regeneration would lose
#   testdata/mkdump/goldens.sh -l         # the golden file names CRASH_CMDS makes
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# CRASH_CMDS and MODLOAD_CMDS (the session after it) as mkdump.sh
# declares them (the arrays only, nothing is run).
eval "$(sed -n '/^CRASH_CMDS=(/,/^)/p' "$here/mkdump.sh")"
eval "$(sed -n '/^MODLOAD_CMDS=(/,/")$/p' "$here/mkdump.sh")"
. "$here/crashrec.sh"
# The commands placeholders are read from (testdata/mkdump/placeholders)
# are recorded too.
want=$({
	for c in "${CRASH_CMDS[@]}" "${MODLOAD_CMDS[@]}"; do crash_golden "$c"; echo; done
	crash_placeholders | while IFS=$'\t' read -r _ c _ _; do crash_golden "$c"; echo; done
} | sort -u)
if [ "${1:-}" = -l ]; then
	echo "$want"
	exit 0
fi
missing=0
for d in "$here"/../dumps/*-*; do
	[ -d "$d/crash" ] || [ -f "$d/crash.tar.zst" ] || continue
	while IFS= read -r f; do
		case $f in VERSION | startup.txt | *.log) continue ;; esac
		if ! grep -qxF -- "$f" <<< "$want"; then
			echo "$(basename "$d"): $f"
			missing=1
		fi
	done < <(crash_answers "$d" | sed -n 's|^crash/||p')
done
exit $missing
