package commands

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// onePerDump is every committed dump in one format (the first listed):
// the commands checked with it read memory only, which no format changes.
func onePerDump(t *testing.T) []testbed.Dump {
	seen := map[string]bool{}
	var out []testbed.Dump
	for _, d := range testbed.All(t) {
		if !seen[d.Name] {
			seen[d.Name] = true
			out = append(out, d)
		}
	}
	return out
}

// machGoldens are crash 8.0.6's answers recorded on every committed dump
// (record.sh, and mkdump.sh's CRASH_CMDS) for the machine commands: mach
// and its options, ipcs, fuser, and wr and extend, which gocrash refuses where crash
// does (wr on a dump file) or has nothing to list (extend).
var machGoldens = []string{"mach", "mach -c", "mach -m", "mach -x", "mach -c -x", "mach -c -m", "mach -x -d", "mach -q",
	"wr jiffies 0", "wr", "extend",
	"ipcs", "ipcs -s", "ipcs -m", "ipcs -M", "ipcs -q", "ipcs -n 1", "ipcs 0",
	"fuser /", "fuser /dev/console", "fuser /bin/busybox", "fuser /nonexistent", "fuser", "fuser xyz"}

func TestMachGoldens(t *testing.T) {
	compared := 0
	for _, d := range onePerDump(t) {
		if _, ok := d.Golden("mach"); !ok {
			t.Errorf("%s: crash's mach was not recorded", d.Name)
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range machGoldens {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				compared++
				got := runCmd(t, s, cmd)
				if strings.HasSuffix(cmd, " -q") {
					// getopt's complaint goes to crash's stderr, which
					// the recording does not keep.
					got = strings.TrimPrefix(got, "mach: invalid option -- 'q'\n")
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
	if compared == 0 {
		t.Error("no dump has crash's mach answers")
	}
}

// TestExtendRefused: crash's extend loads a C shared object into itself
// (its answer for a file that does not exist is dlopen's "not an ELF
// format object file", recorded as extend /nonexistent.so); gocrash can
// load none, for any file, and says so in one line instead.
func TestExtendRefused(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	want, ok := d.Golden("extend /nonexistent.so")
	if !ok || !strings.HasPrefix(want, "extend: /nonexistent.so: ") {
		t.Fatalf("crash's extend /nonexistent.so is not recorded as its error: %q", want)
	}
	s := openTestbed(t, d)
	defer s.Close()
	for _, cmd := range []string{"extend /nonexistent.so", "extend -u", "extend -s"} {
		got := runCmd(t, s, cmd)
		if got != "extend: gocrash cannot load crash extension libraries (C shared objects that call into crash itself)\n" {
			t.Errorf("%s: %q", cmd, got)
		}
	}
}
