package commands

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestSysCallFilters checks sys -c's name and number arguments against
// the lines of crash's whole table (crash/sys_-c.txt), picked the way
// crash's dump_sys_call_table() picks them: a name matches the lines whose
// function contains it, a number its one line, and the header comes once,
// before the first line of the first argument.
func TestSysCallFilters(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	full, ok := d.Golden("sys -c")
	if !ok {
		t.Fatal("sys -c: crash's output was not recorded")
	}
	lines := strings.SplitAfter(full, "\n")
	header, table := lines[0], lines[1:]
	pick := func(keep func(f []string) bool, one bool) string {
		var b strings.Builder
		for _, l := range table {
			if f := strings.Fields(l); len(f) >= 2 && keep(f) {
				b.WriteString(l)
				if one {
					break
				}
			}
		}
		return b.String()
	}
	byName := func(n string) string {
		return pick(func(f []string) bool { return strings.Contains(f[1], n) }, false)
	}
	byNum := func(n string) string { return pick(func(f []string) bool { return f[0] == n }, true) }

	s := openTestbed(t, d)
	defer s.Close()
	for _, c := range []struct{ cmd, want string }{
		{"sys -c open", header + byName("open")},
		{"sys -c 1", header + byNum("1")},
		{"sys -c 0x10 15", header + byNum("16") + byNum("15")},
		{"sys -c fork 1a", header + byName("fork") + byNum("26")},
		// The header belongs to the first argument: none when it
		// matches nothing (crash's hdr_printed starts at the
		// argument's index).
		{"sys -c nosuchcall read", byName("read")},
		{"sys -c 99999", ""},
	} {
		if got := runCmd(t, s, c.cmd); got != c.want {
			t.Errorf("%s:\n%s", c.cmd, lineDiff(c.want, got))
		}
	}
}
