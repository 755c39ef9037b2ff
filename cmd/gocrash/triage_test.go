package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocrash/commands"
	"gocrash/internal/testbed"
)

// TestTriageSamples: triage over every committed dump gives one line a
// dump with explain's cause and signature, in order, and a summary that
// groups them by signature; --json gives the same as JSON Lines.
func TestTriageSamples(t *testing.T) {
	dumps := testbed.All(t)
	code, out, errs := runCLI(t, "", "triage", "--json", "--samples")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(dumps)+1 {
		t.Fatalf("%d lines for %d dumps:\n%s", len(lines), len(dumps), out)
	}
	bySig := map[string]int{}
	for i, d := range dumps {
		var r commands.TriageResult
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, lines[i])
		}
		if r.Dump != d.Vmcore || r.Error != "" {
			t.Errorf("line %d: %+v, want %s without error", i, r, d.Vmcore)
			continue
		}
		s, err := commands.Open(d.Vmlinux, d.Vmcore, commands.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ex, err := s.Explain(context.Background())
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != ex.Cause.Kind || r.Signature != ex.Signature || r.Release != ex.Release || ex.Task == nil || r.PID != ex.Task.PID {
			t.Errorf("%s/%s: triage %+v, explain %s %s %s", d.Name, d.Format, r, ex.Cause.Kind, ex.Signature, ex.Release)
		}
		bySig[r.Signature]++
	}
	var sum struct {
		Summary commands.TriageSummary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Summary.Dumps != len(dumps) || sum.Summary.Failed != 0 || len(sum.Summary.Groups) != len(bySig) {
		t.Errorf("summary %+v, want %d dumps in %d groups", sum.Summary, len(dumps), len(bySig))
	}
	for _, g := range sum.Summary.Groups {
		if g.Count != bySig[g.Signature] || len(g.Dumps) != g.Count {
			t.Errorf("group %+v: %d dumps have its signature", g, bySig[g.Signature])
		}
	}
	t.Logf("%d dumps in %.2f s (%.1f dumps/s)", sum.Summary.Dumps, sum.Summary.Seconds, sum.Summary.DumpsPerSec)
}

// TestTriageBadInput: a file that is no dump, a missing file and a
// directory without dumps are lines with their reason; the run goes on
// with the good dump and exits 1.
func TestTriageBadInput(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	dir := t.TempDir()
	junk := filepath.Join(dir, "vmcore")
	if err := os.WriteFile(junk, []byte("not a dump at all, just text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	// A truncated copy of a real dump's first megabyte.
	b, err := os.ReadFile(d.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.vmcore")
	if err := os.WriteFile(cut, b[:1<<20], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "", "triage", "--vmlinux-dir", filepath.Dir(d.Vmlinux), junk, filepath.Join(dir, "missing"), empty, cut, d.Vmcore)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{junk + "  ERROR  " + junk + ": not a dump", filepath.Join(dir, "missing") + "  ERROR  ", empty + "  ERROR  ", cut + "  ERROR  ", d.Vmcore + "  "}
	if len(lines) < len(want) {
		t.Fatalf("output:\n%s", out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start %q", i, lines[i], w)
		}
	}
	if strings.Contains(lines[4], "ERROR") {
		t.Errorf("the good dump failed: %s", lines[4])
	}
}

// BenchmarkTriage reports dumps per second over every committed dump,
// read two at a time.
func BenchmarkTriage(b *testing.B) {
	var list []triageJob
	for _, d := range testbed.All(b) {
		list = append(list, triageJob{dump: d.Vmcore, vmlinux: d.Vmlinux})
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for _, r := range triageAll(context.Background(), list, 2, func(commands.TriageResult) {}) {
			if r.Error != "" {
				b.Fatal(r.Error)
			}
		}
	}
	b.ReportMetric(float64(len(list)*b.N)/time.Since(start).Seconds(), "dumps/s")
}

// TestTriageDumpAlone: a dump whose vmlinux is nowhere to be found is
// read alone (kallsyms, BTF, ORC), its line says so, and its signature is
// the one the vmlinux gives — also on the 6.12 test-bed kernel, which has
// no BTF (the trace is then the one panic() printed in the log).
func TestTriageDumpAlone(t *testing.T) {
	for _, name := range []string{"6.1-oops", "6.12-sysrq"} {
		var d testbed.Dump
		for _, x := range testbed.All(t) {
			if x.Name == name {
				d = x
			}
		}
		if d.Vmcore == "" {
			t.Fatalf("no committed %s dump", name)
		}
		with := commands.TriageDump(context.Background(), nil, d.Vmlinux, d.Vmcore)
		code, out, errs := runCLI(t, "", "triage", "--json", d.Vmcore)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s%s", name, code, out, errs)
		}
		var r commands.TriageResult
		if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &r); err != nil {
			t.Fatal(err)
		}
		if r.DumpAlone == "" || r.Vmlinux != "" || r.Error != "" {
			t.Errorf("%s: %+v, want it read alone", name, r)
		}
		if r.Signature != with.Signature || r.Kind != with.Kind || r.Release != with.Release || r.PID != with.PID || r.CPU != with.CPU {
			t.Errorf("%s alone: %s %s %s PID %d CPU %d; with the vmlinux: %s %s %s PID %d CPU %d", name,
				r.Signature, r.Kind, r.Release, r.PID, r.CPU, with.Signature, with.Kind, with.Release, with.PID, with.CPU)
		}
	}
}
