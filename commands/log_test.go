package commands

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// The log commands compared with crash 8.0.6 on every committed dump and
// format. logGoldens must have been recorded; logExtraGoldens are compared
// where they were (they were added to mkdump.sh's CRASH_CMDS later).
var (
	logGoldens      = []string{"log", "log -T", "log -m"}
	logExtraGoldens = []string{"log -t", "log -d", "log -c", "log -a", "log -s"}
)

func TestLogGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range append(append([]string(nil), logGoldens...), logExtraGoldens...) {
				want, ok := d.Golden(cmd)
				if !ok {
					if strings.Contains(strings.Join(logGoldens, "|"), cmd) {
						t.Errorf("%s: crash's output was not recorded", cmd)
					}
					continue
				}
				got := runCmd(t, s, cmd)
				if cmd == "log -T" {
					got, want = logTDifference(t, s, d, got, want)
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

// logTDifference handles the one deliberate difference of "log -T": crash
// 8.0.6 derives the boot time with HZ=1000 where it cannot find the
// kernel's HZ (6.12), gocrash with the kernel's HZ. Where crash did, the
// test checks gocrash's formatting against crash's with crash's boot time,
// and gocrash's own boot time against DATE - uptime.
func logTDifference(t *testing.T, s *Session, d testbed.Dump, got, want string) (string, string) {
	sysGolden, _ := d.Golden("sys")
	if !crashUsedWrongHZ(t, s, sysGolden) {
		return got, want
	}
	date, err := s.DumpTime()
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Var("jiffies_64")
	if err != nil {
		t.Fatal(err)
	}
	j, err := o.Uint()
	if err != nil {
		t.Fatal(err)
	}
	crashBoot := date.Add(-time.Duration(crashUptimeJiffies(j, 1000)/1000) * time.Second)
	l, err := s.Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	lo := logOutput{flags: logFlags{ctime: true}, boot: crashBoot.Unix(), loc: time.UTC, pidChars: pidCharsDefault}
	for i := range l.Records {
		lo.record(w, &l.Records[i])
	}
	w.Flush()
	if b.String() != want {
		t.Errorf("log -T with crash's HZ=1000 boot time differs from crash:\n%s", lineDiff(want, b.String()))
	}
	boot, err := s.BootTime()
	if err != nil {
		t.Fatal(err)
	}
	up, _ := s.Uptime()
	if !boot.Equal(date.Add(-up)) {
		t.Errorf("boot time %v is not DATE %v - uptime %v", boot, date, up)
	}
	return "(differs: crash assumed HZ=1000)", "(differs: crash assumed HZ=1000)"
}

// crashUptimeJiffies is crash's get_uptime() for a given HZ.
func crashUptimeJiffies(j, hz uint64) uint64 {
	if wrapped := j & 0xffffffff00000000; wrapped != 0 {
		return (j & 0xffffffff) | (wrapped - 0x100000000) + 300*hz
	}
	return j - uint64(uint32(-300*int64(hz)))
}

// TestLogMatchesDumpDmesg compares the records with makedumpfile's own
// reading of the same ring buffer (dmesg.txt, "makedumpfile --dump-dmesg"),
// an oracle independent of crash: its lines are crash's "log -c" lines
// with the caller id in an 8-wide column.
func TestLogMatchesDumpDmesg(t *testing.T) {
	for _, name := range dumpNames(t) {
		if primaryFormat(t, name) == "qemu" {
			// QEMU's dump-guest-memory is the scenario's only capture:
			// makedumpfile never ran, so there is no dmesg.txt (crash's
			// log goldens still cover that dump).
			continue
		}
		d := testbed.Open(t, name, primaryFormat(t, name))
		want, err := os.ReadFile(filepath.Join(d.Dir, "dmesg.txt"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		s := openTestbed(t, d)
		l, err := s.Log(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		lo := logOutput{flags: logFlags{caller: true}, pidChars: 8}
		for i := range l.Records {
			lo.record(w, &l.Records[i])
		}
		w.Flush()
		if b.String() != string(want) {
			t.Errorf("%s: log records differ from makedumpfile's dmesg:\n%s", name, lineDiff(string(want), b.String()))
		}
		if len(l.Notes) != 0 {
			t.Errorf("%s: a healthy ring gave notes: %q", name, l.Notes)
		}
		s.Close()
	}
}

// dumpNames lists each committed dump once.
func dumpNames(t testing.TB) []string {
	entries, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if len(names) == 0 || names[len(names)-1] != e.Name {
			names = append(names, e.Name)
		}
	}
	return names
}

// primaryFormat is the format crash/ was recorded from: elf, or qemu where
// there is no elf.
func primaryFormat(t testing.TB, name string) string {
	entries, _ := testbed.List()
	f := ""
	for _, e := range entries {
		if e.Name == name && (e.Format == "elf" || f == "") {
			f = e.Format
		}
	}
	return f
}

// grep is "| grep -i pattern".
func grep(out, pattern string) []string {
	re := regexp.MustCompile("(?i)" + pattern)
	var hits []string
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			hits = append(hits, l)
		}
	}
	return hits
}

// TestLogFindsTheIncidents: the reports the test bed's workload provoked
// are in the log: the OOM kill and the SYN flood on every 6.1 dump (on the
// oom dump the OOM killer panics instead of killing: vm.panic_on_oom), the
// Oops of the oops scenario.
func TestLogFindsTheIncidents(t *testing.T) {
	for _, name := range dumpNames(t) {
		d := testbed.Open(t, name, primaryFormat(t, name))
		s := openTestbed(t, d)
		out := runCmd(t, s, "log")
		s.Close()
		check := func(pattern, want string) {
			for _, l := range grep(out, pattern) {
				if strings.Contains(l, want) {
					return
				}
			}
			t.Errorf("%s: log | grep -i %q has no line with %q", name, pattern, want)
		}
		if d.Version() == "6.1" {
			if strings.HasSuffix(name, "-oom") {
				check("oom", "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled")
			} else {
				check("oom", "Out of memory: Killed process")
			}
			check("syn flooding", "Possible SYN flooding on port")
		}
		if strings.HasSuffix(name, "-oops") {
			check("oops", "Oops: 0002 [#1]")
			check("BUG:", "BUG: kernel NULL pointer dereference")
		}
	}
}

// BenchmarkLog is "log" on the largest committed dump, from the ring's
// bytes to the formatted text.
func BenchmarkLog(b *testing.B) {
	entries, err := testbed.List()
	if err != nil {
		b.Fatal(err)
	}
	var largest testbed.Dump
	var size int64
	for _, e := range entries {
		d := testbed.Open(b, e.Name, e.Format)
		if st, err := os.Stat(d.Vmcore); err == nil && st.Size() > size {
			largest, size = d, st.Size()
		}
	}
	s := openTestbed(b, largest)
	defer s.Close()
	if err := Run(s, "log", io.Discard); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Run(s, "log", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
