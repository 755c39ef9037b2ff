package symbols

import (
	"cmp"
	"slices"
	"testing"
)

// TestDecodeAllIsDecodeSym: the table decoded at once (decodeAll) is
// decodeSym's of every entry, on the test bed's vmlinux.
func TestDecodeAllIsDecodeSym(t *testing.T) {
	v, err := Open(realVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var want []symbol
	strtab := string(v.symtab.str)
	for i := 1; i < v.symtab.n; i++ {
		if s, ok := v.decodeSym(i, strtab); ok {
			want = append(want, s)
		}
	}
	got := v.decodeAll()
	if len(got) != len(want) || len(want) < 50000 {
		t.Fatalf("decodeAll: %d symbols, decodeSym %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("symbol %d: decodeAll %+v, decodeSym %+v", i, got[i], want[i])
		}
	}
}

// TestMergeRunsIsSort: the order at a KASLR offset merged from the order
// at offset 0 (what the index cache gives) is the order sorted at that
// offset.
func TestMergeRunsIsSort(t *testing.T) {
	v, err := Open(realVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	syms := v.symbols()
	order0 := v.sortByAddr(syms)
	flags := make([]uint8, len(syms))
	for i, s := range syms {
		if s.reloc {
			flags[i] = flagReloc
		}
	}
	for _, off := range []uint64{0, 0x1e000000, 0x3f200000} {
		v.SetKASLR(off)
		got, want := v.mergeRuns(syms, flags, order0), v.sortByAddr(syms)
		if len(got) != len(want) {
			t.Fatalf("kaslr %#x: %d merged, %d sorted", off, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("kaslr %#x: at %d merged %d (%+v), sorted %d (%+v)", off, i, got[i], syms[got[i]], want[i], syms[want[i]])
			}
		}
	}
}

// TestParseCFIOrder: the FDE index radix-sorted and moved in place is the
// order of sorting by start, then section offset.
func TestParseCFIOrder(t *testing.T) {
	v, err := Open(realVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	data, _, ok := v.Section(".debug_frame")
	if !ok {
		t.Fatal("no .debug_frame")
	}
	tb, err := parseCFI(data, 0x2a000000)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(tb.fdes)
	slices.SortFunc(want, func(a, b cfiFDE) int { return cmp.Compare(a.off, b.off) })
	if len(want) < 20000 || want[0].off == want[len(want)-1].off {
		t.Fatalf("%d FDEs", len(want))
	}
	sortFDEs(want[:0]) // nothing to sort
	wide := slices.Clone(want)
	slices.SortFunc(want, func(a, b cfiFDE) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	})
	if !slices.Equal(tb.fdes, want) {
		t.Fatal("parseCFI's index is not sorted by start, then offset")
	}
	// Starts too far apart for the radix key: sorted by comparison.
	wide[0].begin, wide[1].begin = 0, ^uint64(0)
	sortFDEs(wide)
	if !slices.IsSortedFunc(wide, func(a, b cfiFDE) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	}) {
		t.Fatal("wide starts: not sorted")
	}
}
