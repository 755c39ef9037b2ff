package kernel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestModules reads the oops dump's test module: crash's mod shows its
// MODULE, BASE and SIZE (testdata/dumps/6.1-oops/crash/mod.txt), which the
// walker must give; its .exit.text holds gocrash_oops_exit alone (crash's
// sym -m gives its address), and .init.text starts its init memory.
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
	syms, ok := d.Golden("sym -m gocrash_oops")
	if !ok {
		t.Fatal("crash's sym -m gocrash_oops was not recorded")
	}
	var exit uint64
	for _, l := range strings.Split(syms, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[1] == "(t)" && f[2] == "gocrash_oops_exit" {
			fmt.Sscanf(f[0], "%x", &exit)
		}
	}
	if exit == 0 || m.Sections[".exit.text"] != exit {
		t.Errorf(".exit.text at %#x, crash's sym -m: gocrash_oops_exit at %#x", m.Sections[".exit.text"], exit)
	}
	if m.Init[0] == 0 || m.Sections[".init.text"] != m.Init[0] {
		t.Errorf(".init.text at %#x, init memory at %#x", m.Sections[".init.text"], m.Init[0])
	}
}
