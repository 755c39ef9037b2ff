package vmcore

import (
	"testing"

	"gocrash/internal/testbed"
)

// FuzzPageTableWalk walks the page tables from any physical page of the
// sample dump as if it were a top-level table, for any address: the
// entries are then whatever the dump holds there (hostile tables). The
// walk must end without a panic, its steps must follow the levels in
// order, and a mapped result must lie in the page the last entry names.
func FuzzPageTableWalk(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	dump, err := Open(d.Vmcore)
	if err != nil {
		f.Fatal(err)
	}
	defer dump.Close()
	p, err := ParamsFromInfo(dump.Info())
	if err != nil {
		f.Fatal(err)
	}
	ks := NewKernelSpace(dump, p)
	f.Add(ks.KernelRoot(), uint64(0xffffffff81000000)+p.KernelOffset, false)
	f.Add(ks.KernelRoot(), uint64(0xffffffffdeadbeef), true)
	f.Add(uint64(0x1000), uint64(0x400000), true)
	f.Add(uint64(0), uint64(0), false)
	f.Fuzz(func(t *testing.T, root, va uint64, user bool) {
		w, err := ks.walkSteps(root&pteAddrMask, va, user)
		if err != nil {
			return
		}
		if len(w.Steps) == 0 || len(w.Steps) > 5 {
			t.Fatalf("walk of %#x from %#x: %d steps", va, root, len(w.Steps))
		}
		if w.Mapped {
			last := w.Steps[len(w.Steps)-1]
			base := last.Entry & pteAddrMask &^ (w.PageSize - 1)
			if w.Phys < base || w.Phys >= base+w.PageSize {
				t.Fatalf("walk of %#x: physical %#x outside the %#x page at %#x", va, w.Phys, w.PageSize, base)
			}
		}
	})
}
