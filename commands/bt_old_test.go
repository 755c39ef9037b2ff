package commands

import (
	"testing"

	"gocrash/internal/testbed"
)

// btToggleGoldens are recorded in this order at the end of a crash session
// (mkdump.sh's CRASH_CMDS): "bt -O" makes the old method bt's default,
// "bt 1" then uses it, and "bt -OO" toggles back (crash's cmd_bt returns
// at the first -O, so the second is never looked at).
var btToggleGoldens = map[string]bool{"bt -O": true, "bt 1": true, "bt -OO": true}

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
