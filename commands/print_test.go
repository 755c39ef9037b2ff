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

// knownDiffs are goldens gocrash deliberately does not match, with why,
// keyed by DUMP/COMMAND or, for every dump of a kernel, VERSION/COMMAND.
var knownDiffs = map[string]string{
	// The 6.1 and 6.12 kernels both define linux_banner twice, weak and
	// unsized in init/version.c (`const char linux_banner[] __weak;`),
	// sized in init/version-timestamp.c, in the same DWARF layout; crash's
	// gdb took the sized one on the test bed's 6.12 and on Debian's 5.10,
	// 6.1.0-57 and 6.12 (commands/distro_test.go), and the unsized one on
	// the test bed's 6.1 alone: which of the two gdb meets first depends on
	// the units its session expanded before. gocrash takes the sized one
	// (symbols' DeclaredVarType), the answer of five kernels of six.
	"6.1/p linux_banner":      "linux_banner's definition",
	"6.1/whatis linux_banner": "linux_banner's definition",
	"6.1/p &linux_banner":     "linux_banner's definition",
	"6.1/p/s linux_banner":    "linux_banner's definition",
	"6.1/p/x linux_banner":    "linux_banner's definition",
}

// knownDiff says whether cmd's golden on d is one of knownDiffs.
func knownDiff(d testbed.Dump, cmd string) bool {
	version, _, _ := strings.Cut(d.Name, "-")
	_, ok := knownDiffs[d.Name+"/"+cmd]
	_, all := knownDiffs[version+"/"+cmd]
	return ok || all
}

var historyNumber = regexp.MustCompile(`(?m)^(?:\S.* = )?\$(\d+) = `)

func TestPrintGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range printGoldens {
				want, ok := recorded(t, d, cmd)
				if !ok {
					continue
				}
				if strings.HasPrefix(cmd, "p/") && strings.Contains(want, "gdb request failed: "+cmd+" > ") {
					// A recording artefact: crash hands gdb a command
					// it does not know with its redirection, and the
					// golden's path ("p/x_jiffies.txt") named a
					// directory the recording had not made.
					continue
				}
				// The recorded session may have printed other values
				// first: number the next one as crash did.
				if m := historyNumber.FindStringSubmatch(want); m != nil {
					n, _ := strconv.Atoi(m[1])
					s.SetHistoryLen(n - 1)
				}
				got := runCmd(t, s, cmd)
				if knownDiff(d, cmd) {
					continue
				}
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
