package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/kernel"
	"gocrash/vmcore"
)

// TestDumpAlone runs the binary on the dump given alone: the vmlinux in a
// --debuginfo-dir laid out as Debian's /usr/lib/debug/.build-id is found
// and said, a file of another build is passed over with its reason, and
// with nothing to find the one line says where gocrash looked.
func TestDumpAlone(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	dump, err := vmcore.Open(d.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	info := dump.Info()
	id := info.BuildID
	dump.Close()
	want, ok := d.Golden("rd -64 jiffies 4")
	if !ok {
		t.Fatal("no golden for rd -64 jiffies 4")
	}
	var other testbed.Dump
	entries, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name, "6.12-") {
			other = testbed.Open(t, e.Name, e.Format)
		}
	}
	if other.Vmlinux == "" {
		t.Fatal("test bed: no 6.12 dump")
	}
	symlink := func(target, path string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	wrongDir, rightDir := t.TempDir(), t.TempDir()
	rel := filepath.Join(".build-id", id[:2], id[2:]+".debug")
	wrong := symlink(other.Vmlinux, filepath.Join(wrongDir, rel))
	right := symlink(d.Vmlinux, filepath.Join(rightDir, rel))

	r := runGocrash(t, "rd -64 jiffies 4\n", runOpts{}, "--debuginfo-dir", wrongDir, "--debuginfo-dir="+rightDir, d.Vmcore)
	if r.status != 0 {
		t.Fatalf("status %d\nstderr:\n%s", r.status, r.stderr)
	}
	if !strings.Contains(r.stdout, "\nThe dump's vmlinux, found: "+right+"\n") ||
		!strings.Contains(r.stdout, "      KERNEL: "+right+"  [TAINTED]\n") || !strings.Contains(r.stdout, want) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "gocrash: not taking "+wrong+": build id ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// -s: stdout is the commands'; the file taken is said on stderr.
	r = runGocrash(t, "rd -64 jiffies 4\n", runOpts{}, "-s", "--debuginfo-dir", rightDir, d.Vmcore)
	if r.status != 0 || r.stdout != want || r.stderr != "gocrash: The dump's vmlinux, found: "+right+"\n" {
		t.Errorf("-s: status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
	}

	empty := t.TempDir()
	r = runGocrash(t, "", runOpts{}, "-s", "--debuginfo-dir", empty, d.Vmcore)
	prefix := "gocrash: " + d.Vmcore + ": no vmlinux for build id " + id + " (" + info.OSRelease + ") in " + empty + ", /usr/lib/debug/.build-id, "
	// Then the session goes on from the dump alone (nodebuginfo_test.go):
	// the one line says where gocrash looked, the next what the session
	// lacks (a kernel without BTF adds a line saying so).
	lines := strings.SplitAfter(r.stderr, "\n")
	if r.status != 0 || !strings.HasPrefix(r.stderr, prefix) || len(lines) < 3 ||
		!strings.HasSuffix(lines[0], "give it as an argument or its directory with --debuginfo-dir; going on without debuginfo (--no-debuginfo)\n") ||
		lines[1] != "WARNING: "+d.Vmcore+": "+kernel.NoDebuginfoCost+"\n" {
		t.Errorf("nothing found: status %d\nstderr:\n%s", r.status, r.stderr)
	}
}
