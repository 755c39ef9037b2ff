package commands

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// printGoldens are p and whatis commands compared with crash 8.0.6's
// answers on every committed dump, in the order crash ran them (p numbers
// its results in one value history per session).
var printGoldens = func() []string {
	b, err := os.ReadFile("testdata/print_goldens.txt")
	if err != nil {
		panic(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}()

var historyNumber = regexp.MustCompile(`(?m)^(?:\S.* = )?\$(\d+) = `)

func TestPrintGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range printGoldens {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				// The recorded session may have printed other values
				// first: number the next one as crash did.
				if m := historyNumber.FindStringSubmatch(want); m != nil {
					n, _ := strconv.Atoi(m[1])
					s.SetHistoryLen(n - 1)
				}
				got := runCmd(t, s, cmd)
				// gdb writes why it refused an expression to stderr,
				// which crash's recording does not keep; gocrash prints
				// that line before crash's "gdb request failed".
				if g := strings.SplitN(got, "\n", 2); len(g) == 2 && g[1] == want && strings.HasPrefix(want, "p: gdb request failed") {
					got = want
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}
