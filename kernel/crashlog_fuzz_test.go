package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The log is text from the dump: ParseCrashLog must take any bytes
// without panicking or looping. Seeds are the committed dumps' logs as
// makedumpfile saved them (dmesg.txt), the printk prefix taken off.
var reDmesgPrefix = regexp.MustCompile(`^\[ *\d+\.\d+\] (?:\[ *[TC]\d+\] )?`)

func seedLogs(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/dumps/*/dmesg.txt")
	if len(paths) == 0 {
		f.Fatal("no testdata/dumps/*/dmesg.txt to seed from")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			out = append(out, reDmesgPrefix.ReplaceAllString(l, ""))
		}
		f.Add(strings.Join(out, "\n"))
	}
	// And the crash kinds the dumps lack (crashlog_reports_test.go).
	reports, _ := filepath.Glob("testdata/reports/*.log")
	for _, p := range reports {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
}

func linesOf(s string) []LogLine {
	var lines []LogLine
	for i, l := range strings.Split(s, "\n") {
		lines = append(lines, LogLine{Time: time.Duration(i) * time.Millisecond, Text: l})
	}
	return lines
}

func FuzzParseCrashLog(f *testing.F) {
	seedLogs(f)
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCrashLog(linesOf(s))
		n := strings.Count(s, "\n") + 1
		for _, r := range c.Reports {
			if r.Line < 0 || r.Line >= n || len(r.Trace) > maxLogTrace {
				t.Fatalf("report %+v out of bounds (%d lines)", r, n)
			}
		}
		if c.Panic != nil && (c.Panic.Line < 0 || c.Panic.Line >= n) {
			t.Fatalf("panic line %d of %d", c.Panic.Line, n)
		}
	})
}

// TestParseCrashLogSeeds: on the committed logs the parser finds what
// the lines plainly say (each count is a grep of the same file).
func TestParseCrashLogSeeds(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/dumps/*/dmesg.txt")
	if len(paths) == 0 {
		t.Fatal("no testdata/dumps/*/dmesg.txt")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			out = append(out, reDmesgPrefix.ReplaceAllString(l, ""))
		}
		text := strings.Join(out, "\n")
		c := ParseCrashLog(linesOf(text))
		if got, want := len(c.SYNFloods), strings.Count(text, "Possible SYN flooding on port"); got != want {
			t.Errorf("%s: %d SYN floods, the file has %d", p, got, want)
		}
		kills := 0
		for _, o := range c.OOMs {
			if o.Killed != nil {
				kills++
			}
		}
		if want := strings.Count(text, "Out of memory: Killed process"); kills != want {
			t.Errorf("%s: %d OOM kills, the file has %d", p, kills, want)
		}
		if want := strings.Contains(text, "Kernel panic - not syncing:"); want != (c.Panic != nil) {
			t.Errorf("%s: panic line found %v, the file has one: %v", p, c.Panic != nil, want)
		}
		if strings.Contains(text, "Kernel panic - not syncing: sysrq triggered crash") {
			// panic()'s own task line and trace, below it.
			pl := c.Panic
			if pl == nil || !pl.HasTask || len(pl.Trace) == 0 {
				t.Errorf("%s: the sysrq panic's task line and trace: %+v", p, pl)
			} else {
				seen := false
				for _, f := range pl.Trace {
					seen = seen || f.Func == "sysrq_handle_crash"
				}
				if !seen || !strings.Contains(text, fmt.Sprintf("PID: %d Comm: %s ", pl.PID, pl.Comm)) {
					t.Errorf("%s: panic trace %+v, task %d %s", p, pl.Trace, pl.PID, pl.Comm)
				}
			}
		}
		if strings.Contains(text, "BUG: kernel NULL pointer dereference") {
			var r *LogReport
			for i := range c.Reports {
				if c.Reports[i].Kind == ReportNullDeref {
					r = &c.Reports[i]
				}
			}
			if r == nil || !r.HasErrorCode || !strings.Contains(text, fmt.Sprintf("#PF: error_code(0x%04x)", r.ErrorCode)) || !r.HasRIP || !r.HasCR2 {
				t.Errorf("%s: NULL dereference report %+v does not match the file", p, r)
			}
		}
	}
}

func BenchmarkParseCrashLog(b *testing.B) {
	raw, err := os.ReadFile("../testdata/dumps/6.1-oops/dmesg.txt")
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		out = append(out, reDmesgPrefix.ReplaceAllString(l, ""))
	}
	lines := linesOf(strings.Join(out, "\n"))
	for i := 0; i < b.N; i++ {
		ParseCrashLog(lines)
	}
}
