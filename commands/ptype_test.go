package commands

import (
	"os"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// ptypeGoldens are the ptype commands recorded from crash 8.0.6 (gdb's
// answers) on every committed dump.
func ptypeGoldens(testbed.Dump) []string {
	b, err := os.ReadFile("testdata/ptype_goldens.txt")
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
}

func TestPtypeGoldens(t *testing.T) {
	checkGoldens(t, ptypeGoldens, func(t *testing.T, s *Session, cmd, got, want string) (string, string) {
		// crash keeps only its own "gdb request failed" line (gdb's
		// reason is not shown: GNU_RETURN_ON_ERROR); gocrash prints
		// gdb's reason before it, as p does.
		// linux_banner has two definitions (print_test.go's knownDiffs):
		// crash's gdb took the unsized one on the test bed's 6.1, gocrash
		// the sized one, crash's answer on the five other kernels.
		if cmd == "ptype linux_banner" && want == "type = const char []\n" && strings.HasPrefix(got, "type = const char [") {
			return want, want
		}
		if g := strings.SplitN(got, "\n", 2); len(g) == 2 && g[1] == want && strings.HasPrefix(want, "gdb: gdb request failed: ptype ") {
			got = want
		}
		return got, want
	})
}
