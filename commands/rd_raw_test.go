package commands

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestRdRaw: rd -r copies memory into a file, and never into the dump or
// the vmlinux, whatever name the user gives them: the session runs on a
// copy of the dump, so a failure here costs a temp file, not the fixture.
func TestRdRaw(t *testing.T) {
	d := testbed.Open(t, "6.1-oops", "zlib") // a kdump-compressed dump
	dir := t.TempDir()
	dump := filepath.Join(dir, "vmcore")
	copyFile(t, d.Vmcore, dump)
	if err := os.Link(dump, filepath.Join(dir, "hardlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dump, filepath.Join(dir, "symlink")); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(d.Vmlinux, dump, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	out := filepath.Join(dir, "banner.raw")
	addr, _ := s.Vmlinux.Lookup("linux_banner")
	if got, want := runCmd(t, s, "rd -r "+out+" linux_banner 64"), fmt.Sprintf("64 bytes copied from 0x%x to %s\n", addr, out); got != want {
		t.Errorf("rd -r: %q, want %q", got, want)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 64)
	if err := s.Vmlinux.ReadFile(addr, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("rd -r wrote %q, want linux_banner %q", raw, want)
	}

	for _, name := range []string{dump, filepath.Join(dir, "hardlink"), filepath.Join(dir, "symlink"), filepath.Join(dir, ".", "vmcore"), d.Vmlinux} {
		got := runCmd(t, s, "rd -r "+name+" linux_banner 64")
		if !strings.HasPrefix(got, "rd: will not write to "+name+": it is the ") {
			t.Errorf("rd -r %s: %q, want a refusal", name, got)
		}
	}
	after, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the dump changed")
	}
}
