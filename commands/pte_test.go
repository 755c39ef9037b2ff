package commands

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// pteGoldens are pte's answers recorded with crash 8.0.6 (mkdump.sh's
// CRASH_CMDS, record.sh): a kernel page's entry (vtop's), a user page's, a
// zero entry, a swap entry (type 0: the test bed's swap device) and a bad
// value.
var pteGoldens = []string{"pte 8000000000198163", "pte 0", "pte 1a0e2067", "pte 2", "pte 8000000000198163 0", "pte zz", "pte"}

// They were recorded on 6.1-sysrq by record.sh (mkdump.sh records them on
// every dump it makes): dumps without them are passed over.
func TestPteGoldens(t *testing.T) {
	compared := 0
	for _, d := range testbed.All(t) {
		if _, ok := d.Golden(pteGoldens[0]); !ok {
			continue
		}
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range pteGoldens {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				if strings.Contains(want, "pte: cannot determine swap location") && strings.HasPrefix(d.Name, "6.12") {
					// crash 8.0.6 cannot find the swap area's file on 6.12
					// (the same miss that leaves vm -p's swap name empty
					// there); gocrash names it from swap_info.
					t.Logf("%s: crash could not determine the swap location on 6.12", cmd)
					continue
				}
				compared++
				if got := runCmd(t, s, cmd); got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
	if compared == 0 {
		t.Error("no dump has crash's pte answers")
	}
}
