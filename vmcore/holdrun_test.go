package vmcore

import (
	"testing"

	"gocrash/internal/testbed"
)

// TestMayHoldRun: on every ELF dump of the test bed, with and without
// excluded pages reading as zeroes, MayHoldRun's answer at each page is
// MayHold's, and MayHold gives that answer at every page up to the run's
// end; the physical range walked goes past the last segment.
func TestMayHoldRun(t *testing.T) {
	entries, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Format != "elf" {
			continue
		}
		n++
		d := openReal(t, realDump{name: e.Name, format: e.Format, path: testbed.Open(t, e.Name, e.Format).Vmcore})
		var top uint64
		for _, s := range d.elf.segs {
			top = max(top, s.paddr+s.memsz)
		}
		for _, zero := range []bool{false, true} {
			d.SetZeroExcluded(zero)
			runs, heldPages := 0, 0
			var end uint64
			held := false
			for p := uint64(0); p < top+1<<20; p += 4096 {
				if p >= end {
					h, re := d.MayHoldRun(p)
					if re <= p {
						t.Fatalf("%s zero=%v: MayHoldRun(%#x) ends at %#x", e.Name, zero, p, re)
					}
					held, end = h, re
					runs++
				}
				if got := d.MayHold(p); got != held {
					t.Fatalf("%s zero=%v: MayHold(%#x) = %v inside a run of %v", e.Name, zero, p, got, held)
				}
				if held {
					heldPages++
				}
			}
			t.Logf("%s zero=%v: %d runs, %d pages held", e.Name, zero, runs, heldPages)
			if heldPages == 0 {
				t.Errorf("%s zero=%v: no page held", e.Name, zero)
			}
		}
	}
	if n == 0 {
		t.Fatal("no ELF dump in the test bed")
	}
}
