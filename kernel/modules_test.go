package kernel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestModules reads the oops dump's test module: crash's mod shows it at
// MODULE ffffffffc00c8040, BASE ffffffffc00c6000, SIZE 16384
// (testdata/dumps/6.1-oops/crash/mod.txt), which the walker must give;
// its first section is .exit.text at the base (crash's sym -m shows
// gocrash_oops_exit there), and .init.text starts its init memory.
func TestModules(t *testing.T) {
	d := testbed.Open(t, "6.1-oops", "zlib")
	k, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	mods, err := k.Modules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, ok := d.Golden("mod")
	if !ok {
		t.Fatal("crash's mod was not recorded")
	}
	if len(mods) != 1 {
		t.Fatalf("%d modules, crash shows:\n%s", len(mods), want)
	}
	m := mods[0]
	if !strings.Contains(want, fmt.Sprintf("%016x  %s  %016x  %d ", m.Addr, m.Name, m.Base, m.Size)) {
		t.Errorf("module %s at %#x base %#x size %d, crash:\n%s", m.Name, m.Addr, m.Base, m.Size, want)
	}
	if m.Sections[".exit.text"] != m.Base {
		t.Errorf(".exit.text at %#x, module base %#x", m.Sections[".exit.text"], m.Base)
	}
	if m.Init[0] == 0 || m.Sections[".init.text"] != m.Init[0] {
		t.Errorf(".init.text at %#x, init memory at %#x", m.Sections[".init.text"], m.Init[0])
	}
}
