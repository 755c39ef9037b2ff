package commands

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// btToggleGoldens are recorded in this order at the end of a crash session
// (mkdump.sh's CRASH_CMDS): "bt -O" makes the old method bt's default,
// "bt 1" then uses it, and "bt -OO" toggles back (crash's cmd_bt returns
// at the first -O, so the second is never looked at).
var btToggleGoldens = map[string]bool{"bt -O": true, "bt 1": true, "bt -OO": true,
	// and bt -E, compared up to where crash stops (TestBtSearchCPUStacks)
	"bt -E": true, "bt -E -c 1": true}

// TestBtOldMethodToggle runs bt -O, bt 1 and bt -OO in crash's order on
// every dump, and then checks that plain bt is the new method again.
func TestBtOldMethodToggle(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range []string{"bt -O", "bt 1", "bt -OO", "bt"} {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Logf("%s: crash's output was not recorded on this dump", cmd)
					continue
				}
				got := crashStackFailures(want, btNormalize(runCmd(t, s, cmd)))
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

// TestBtSearchCPUStacks compares bt -E with crash 8.0.6 up to the line
// where crash gives up: it names the fourth IST stack of 6.x kernels, the
// MCE stack, "(unknown)" and ends the command with "unrecognized stack
// address for this task" (its exception stack table predates that stack's
// place in cea_exception_stacks). gocrash names that stack and searches it
// and the stacks after it, so its answer goes on past crash's.
func TestBtSearchCPUStacks(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range []string{"bt -E", "bt -E -c 1"} {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Logf("%s: crash's output was not recorded on this dump", cmd)
					continue
				}
				got := runCmd(t, s, cmd)
				if i := strings.Index(want, " (unknown) EXCEPTION STACK:\n"); i >= 0 {
					cut := strings.LastIndex(want[:i], "\n") + 1
					if !strings.HasPrefix(want[cut:], "CPU ") || !strings.Contains(want[i:], "bt: unrecognized stack address for this task: ") {
						t.Fatalf("%s: crash's answer does not end as expected:\n%s", cmd, want[cut:])
					}
					want = want[:cut]
					if len(got) > len(want) && strings.HasPrefix(got, want) {
						if !strings.HasPrefix(got[len(want):], "CPU ") {
							t.Errorf("%s: gocrash goes on with %q", cmd, got[len(want):])
						}
						got = want
					}
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

// TestBtStartSP checks bt -S, which crash 8.0.6 cannot answer (it dies on
// a valid -S: x86_64_get_stack_frame reads through the NULL pointer
// cmd_bt passes for the given value; crash 9.0.0 fixed it): started at the
// slot of the second frame of crash's "bt 2", the trace is crash's from
// that frame on, renumbered from #0.
func TestBtStartSP(t *testing.T) {
	frame := regexp.MustCompile(`^ *#(\d+) \[([0-9a-f]+)\] (.*)$`)
	for _, d := range testbed.All(t) {
		want, ok := d.Golden("bt 2")
		if !ok {
			continue
		}
		lines := strings.Split(want, "\n")
		if len(lines) < 4 {
			continue
		}
		m := frame.FindStringSubmatch(lines[2])
		if m == nil {
			t.Fatalf("%s: bt 2's second frame line: %q", d.Name, lines[2])
		}
		var exp strings.Builder
		exp.WriteString(lines[0] + "\n")
		n := 0
		for _, l := range lines[2:] {
			if fm := frame.FindStringSubmatch(l); fm != nil {
				l = fmt.Sprintf("%s#%d [%s] %s", map[bool]string{true: " ", false: ""}[n < 10], n, fm[2], fm[3])
				n++
			}
			exp.WriteString(l + "\n")
		}
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			got := runCmd(t, s, "bt -S "+m[2]+" 2")
			if w := strings.TrimSuffix(exp.String(), "\n"); got != w {
				t.Errorf("bt -S %s 2:\n%s", m[2], lineDiff(w, got))
			}
		})
	}
}
