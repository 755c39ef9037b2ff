package commands

import (
	"bytes"
	"testing"

	"gocrash/internal/testbed"
)

// The runq variants compared with crash 8.0.6 on every committed dump and
// format (goldens recorded by testdata/mkdump/mkdump.sh). Every one must
// have been recorded: a missing golden fails.
var runqGoldenCommands = []string{
	"runq", "runq -t", "runq -c 1", "runq -g", "runq -d", "runq -m", "runq -T",
}

// runqAllowedDiffs lists where gocrash deliberately differs from crash
// 8.0.6's runq output. None applies to a sound runqueue: the only
// differences are on corrupt ones (crash prints "WARNING: duplicate CFS
// runqueue node" and goes on with the next cpu, or loops in do_list with
// FAULT_ON_ERROR; gocrash stops the command with one line naming the
// structure and the address, see TestRunqCorrupt*).
var runqAllowedDiffs = []struct{ cmd, reason string }{}

func TestRunqGoldens(t *testing.T) {
	checkGoldens(t, func(testbed.Dump) []string { return runqGoldenCommands }, nil)
}

// Usage errors print what crash prints.
func TestRunqUsage(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(t, d)
	defer s.Close()
	for _, c := range []struct{ cmd, want string }{
		// Recorded from crash 8.0.6 on 6.1-sysrq.
		{"runq -x", "runq: invalid option -- 'x'\nUsage:\n  runq [-t] [-T] [-m] [-g] [-c cpu(s)]\nEnter \"help runq\" for details.\n"},
		{"runq -c 1 -c 0", "runq: only one -c option allowed\nUsage:\n  runq [-t] [-T] [-m] [-g] [-c cpu(s)]\nEnter \"help runq\" for details.\n"},
		{"runq -c 5", "runq: invalid cpu specification: 5\n"},
	} {
		var b bytes.Buffer
		err := Run(s, c.cmd, &b)
		if err == nil {
			t.Errorf("%s: no error", c.cmd)
			continue
		}
		if !Printed(err) {
			b.WriteString(err.Error() + "\n")
		}
		if b.String() != c.want {
			t.Errorf("%s:\n%s", c.cmd, lineDiff(c.want, b.String()))
		}
	}
	// "runq -c a" and "-c 0,1" select every cpu of a 2-cpu dump, as in
	// crash.
	var all, a, list bytes.Buffer
	for _, x := range []struct {
		cmd string
		b   *bytes.Buffer
	}{{"runq", &all}, {"runq -c a", &a}, {"runq -c 0,1", &list}, {"runq -c0-1", &list}} {
		if err := Run(s, x.cmd, x.b); err != nil {
			t.Fatalf("%s: %v", x.cmd, err)
		}
	}
	if a.String() != all.String() || list.String() != all.String()+all.String() {
		t.Errorf("cpu lists do not select every cpu:\nrunq:\n%s\nrunq -c a:\n%s", all.String(), a.String())
	}
}
