package commands

import (
	"bytes"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// The commands compared with crash 8.0.6's recorded output on every
// committed dump and format; every other recorded rd_*.txt is compared
// too.
var goldenCommands = []string{
	"sys",
	"rd linux_banner 8",
	"rd -a linux_banner",
	"rd -64 jiffies 4",
}

// Allowed differences from crash's output, each with its reason. Lines
// matching a rule are compared after the rule's rewrite of both sides.
var allowedDiffs = []struct {
	re     *regexp.Regexp
	repl   string
	reason string
}{
	{regexp.MustCompile(`(?m)^(      KERNEL|    DUMPFILE): \S+`), "$1: PATH",
		"crash was run on the test bed's copies; the paths differ, the flags after them must not"},
}

// uptimeDiff: crash 8.0.6 finds HZ through mq-deadline's write_expire and
// falls back to 1000 where that fails (6.12); gocrash derives HZ from
// tick_nsec. Where crash used the wrong HZ its UPTIME is not compared.
var uptimeLine = regexp.MustCompile(`(?m)^      UPTIME: .*$`)

func normalize(s string) string {
	for _, a := range allowedDiffs {
		s = a.re.ReplaceAllString(s, a.repl)
	}
	return s
}

func goldenList(d testbed.Dump) []string {
	cmds := append([]string(nil), goldenCommands...)
	seen := map[string]bool{}
	for _, c := range cmds {
		seen[c] = true
	}
	for _, dir := range []string{filepath.Join(d.Dir, "crash"), filepath.Join(d.Dir, "crash-"+d.Format)} {
		files, _ := filepath.Glob(filepath.Join(dir, "rd_*.txt"))
		for _, f := range files {
			c := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(f), ".txt"), "_", " ")
			if !seen[c] {
				seen[c] = true
				cmds = append(cmds, c)
			}
		}
	}
	sort.Strings(cmds[len(goldenCommands):])
	return cmds
}

func openTestbed(t testing.TB, d testbed.Dump) *Session {
	t.Helper()
	s, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		t.Fatalf("Open(%s, %s): %v", d.Vmlinux, d.Vmcore, err)
	}
	s.Location = time.UTC // the goldens were recorded with TZ unset
	return s
}

func TestGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range goldenList(d) {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				var b bytes.Buffer
				if err := Run(s, cmd, &b); err != nil && !Printed(err) {
					// crash prints a failed command's message where
					// its output goes ("rd: seek error: ...").
					b.WriteString(err.Error() + "\n")
				}
				got, exp := normalize(b.String()), normalize(want)
				if cmd == "sys" && crashUsedWrongHZ(t, s, want) {
					got = uptimeLine.ReplaceAllString(got, "      UPTIME: (differs: crash assumed HZ=1000)")
					exp = uptimeLine.ReplaceAllString(exp, "      UPTIME: (differs: crash assumed HZ=1000)")
				}
				if got != exp {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(exp, got))
				}
			}
		})
	}
}

// crashUsedWrongHZ tells whether crash's UPTIME was computed with HZ=1000
// on a kernel whose HZ is not 1000.
func crashUsedWrongHZ(t *testing.T, s *Session, golden string) bool {
	hz, err := s.HZ()
	if err != nil || hz == 1000 {
		return false
	}
	up, err := s.Uptime()
	if err != nil {
		return false
	}
	// What crash prints when dividing jiffies by 1000.
	wrong := formatUptime(up * time.Duration(hz) / 1000)
	return strings.Contains(golden, "      UPTIME: "+wrong+"\n")
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("  crash:   " + strings.ReplaceAll(wl, " ", "·") + "\n")
			b.WriteString("  gocrash: " + strings.ReplaceAll(gl, " ", "·") + "\n")
		}
	}
	return b.String()
}

// BenchmarkStartupSys measures what a user waits for: opening the dump and
// the vmlinux and printing the sys block.
func BenchmarkStartupSys(b *testing.B) {
	d := testbed.Open(b, testbed.DefaultName, testbed.DefaultFormat)
	for i := 0; i < b.N; i++ {
		s, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteSys(s, io.Discard); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

