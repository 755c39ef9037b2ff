package commands

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// The commands compared with crash 8.0.6's recorded output on every
// committed dump and format. A golden file's name is the command with
// spaces as '_', which cannot be turned back into the command (symbols hold
// '_'), hence the list. The test bed records the first ten
// (testdata/mkdump/mkdump.sh); the rd variants after them were recorded
// with the same crash on the same dumps.
var goldenCommands = []string{
	"sys", "sys -c",
	"rd linux_banner 8", "rd -a linux_banner", "rd -64 jiffies 4",
	"rd -32 jiffies 8", "rd -16 linux_banner 16", "rd -8 linux_banner 32",
	"rd -s init_task 8", "rd -d jiffies 4", "rd -x linux_banner 8",

	"rd -8 linux_banner 40", "rd -16 linux_banner 20", "rd -32 linux_banner 10",
	"rd -64 linux_banner 5", "rd linux_banner 1", "rd linux_banner 3",
	"rd -D jiffies 4", "rd -d -32 linux_banner 6", "rd -D -32 linux_banner 6",
	"rd -d -16 linux_banner 9", "rd -D -16 linux_banner 9", "rd -d -8 linux_banner 20",
	"rd -x linux_banner 4", "rd -x -8 linux_banner 20",
	"rd -s init_task 32", "rd -s sys_call_table 8", "rd -s -32 sys_call_table 8", "rd -s -x init_task 8",
	"rd -N -32 linux_banner 4", "rd -N -16 linux_banner 4",
	"rd -R linux_banner 4", "rd -o 8 linux_banner 2",
	"rd -a linux_banner 200", "rd -a -x linux_banner 20",
	"rd ffffffffdeadbeef", "rd -32 ffffffffdeadbeef 4",
	"rd -p 0 4", "rd -p 1000 4", "rd -p fffffff000 2",
	"rd -8 init_uts_ns 64", "rd -a init_uts_ns 400",
	"rd jiffies", "rd -64 jiffies_64 1", "rd -d avenrun 3",
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

func openTestbed(t testing.TB, d testbed.Dump) *Session {
	t.Helper()
	s, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		t.Fatalf("Open(%s, %s): %v", d.Vmlinux, d.Vmcore, err)
	}
	s.Location = time.UTC // the goldens were recorded with TZ unset
	return s
}

// runCmd runs one command line the way the golden harness does: a failed
// command's message goes where its output goes, as crash prints it ("rd:
// seek error: ...").
func runCmd(t testing.TB, s *Session, line string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Run(s, line, &b); err != nil && !Printed(err) {
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// checkGoldens runs each of cmds on every committed dump and format and
// compares its output with crash's recorded there, after fix (nil: none)
// has rewritten gocrash's output (got) and crash's (want) for the allowed
// differences. A command whose output was not recorded fails.
func checkGoldens(t *testing.T, cmds func(testbed.Dump) []string, fix func(t *testing.T, s *Session, cmd, got, want string) (string, string)) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range cmds(d) {
				want, ok := recorded(t, d, cmd)
				if !ok {
					continue
				}
				got := runCmd(t, s, cmd)
				if fix != nil {
					got, want = fix(t, s, cmd, got, want)
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

func TestGoldens(t *testing.T) {
	checkGoldens(t, func(testbed.Dump) []string { return goldenCommands }, func(t *testing.T, s *Session, cmd, got, want string) (string, string) {
		wrongHZ := cmd == "sys" && crashUsedWrongHZ(t, s, want)
		got, want = normalize(got), normalize(want)
		if strings.HasPrefix(cmd, "rd -s") {
			got = sectionSymbols(want, got)
		}
		if wrongHZ {
			got = uptimeLine.ReplaceAllString(got, "      UPTIME: (differs: crash assumed HZ=1000)")
			want = uptimeLine.ReplaceAllString(want, "      UPTIME: (differs: crash assumed HZ=1000)")
		}
		return got, want
	})
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
	// What crash prints when dividing jiffies by 1000; its get_uptime()
	// also takes INITIAL_JIFFIES to be -300*1000, adding 300*(1000-HZ)
	// jiffies (kernel.c). Either form is crash's HZ mistake.
	wrong := formatUptime(up * time.Duration(hz) / 1000)
	offset := formatUptime((up*time.Duration(hz) + time.Duration(300*(1000-hz))*time.Second) / 1000)
	return strings.Contains(golden, "      UPTIME: "+wrong+"\n") || strings.Contains(golden, "      UPTIME: "+offset+"\n")
}

// sectionSymbols accepts one difference in rd -s: where crash names a
// value by an ELF section symbol (".data": crash sorts equal addresses by
// name, and section symbols sort first), gocrash names the first object or
// function there (init_thread_union); the symbols package keeps no section
// symbols. got's word is replaced by crash's where that is the only
// difference on the line; the columns stay compared.
func sectionSymbols(crash, got string) string {
	c, g := strings.Split(crash, "\n"), strings.Split(got, "\n")
	for i := range g {
		if i >= len(c) || c[i] == g[i] {
			continue
		}
		cw, gw := strings.Fields(c[i]), strings.Fields(g[i])
		if len(cw) != len(gw) {
			continue
		}
		same := true
		for j := range cw {
			if cw[j] != gw[j] && !strings.HasPrefix(cw[j], ".") {
				same = false
			}
		}
		if same {
			g[i] = c[i]
		}
	}
	return strings.Join(g, "\n")
}

// TestStartup compares what is printed before the first prompt with
// crash's, from the KERNEL line on (crash's copyright, gdb banner and
// "please wait" progress lines are not reproduced: a deliberate difference).
func TestStartup(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			want, ok := d.Golden("startup")
			if !ok {
				t.Fatal("crash's start-up output was not recorded")
			}
			i := strings.Index(want, "      KERNEL: ")
			j := strings.LastIndex(want, "crash> ")
			if i < 0 || j < i {
				t.Fatalf("start-up golden has no KERNEL line and prompt:\n%s", want)
			}
			want = strings.TrimSuffix(want[i:j], "\n")
			s := openTestbed(t, d)
			defer s.Close()
			var b bytes.Buffer
			if err := WriteStartup(s, &b); err != nil {
				t.Fatal(err)
			}
			got, exp := normalize(b.String()), normalize(want)
			if crashUsedWrongHZ(t, s, want) {
				got = uptimeLine.ReplaceAllString(got, "      UPTIME: (differs)")
				exp = uptimeLine.ReplaceAllString(exp, "      UPTIME: (differs)")
			}
			if got != exp {
				t.Errorf("start-up block differs from crash:\n%s", lineDiff(exp, got))
			}
		})
	}
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

// recorded is crash's answer to cmd on d. Without one it reports why and
// says false: a command still pending in testdata/mkdump/pending is logged,
// one never recorded is an error.
func recorded(t *testing.T, d testbed.Dump, cmd string) (string, bool) {
	t.Helper()
	if want, ok := d.Golden(cmd); ok {
		return want, true
	}
	if why, pending := d.Pending(cmd); pending {
		t.Logf("%s: %s", cmd, why)
		return "", false
	}
	t.Errorf("%s: crash's output was not recorded", cmd)
	return "", false
}
