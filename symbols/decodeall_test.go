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
	var want []cfiFDE
	for k := range tb.offs {
		want = append(want, tb.fde(k))
	}
	if len(want) < 20000 || !slices.IsSortedFunc(want, func(a, b cfiFDE) int { return cmp.Compare(a.off, b.off) }) {
		t.Fatalf("%d FDEs, not in section order", len(want))
	}
	byBegin := func(a, b cfiFDE) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	}
	begins := make([]uint64, len(want))
	for k, f := range want {
		begins[k] = f.begin
	}
	slices.SortFunc(want, byBegin)
	for i := range want {
		if tb.sorted(i) != want[i] || want[i].cieEnd <= want[i].cie || want[i].size == 0 {
			t.Fatalf("FDE %d in begin order: %+v, want %+v", i, tb.sorted(i), want[i])
		}
	}
	if len(sortFDEs(0, nil)) != 0 {
		t.Fatal("sortFDEs of none")
	}
	// Starts too far apart for the radix key: sorted by comparison, ties
	// in section order.
	begins[0], begins[1], begins[2] = 0, ^uint64(0), begins[3]
	order := sortFDEs(len(begins), func(k int) uint64 { return begins[k] })
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if begins[a] > begins[b] || begins[a] == begins[b] && a > b {
			t.Fatalf("wide starts: %d and %d out of order", a, b)
		}
	}
}

// TestTextIndexIsSymbolAt: SymbolAt over the text index (no decoded
// table) names every address as the search of the decoded table does: at,
// inside and just before each symbol, with and without the index cache's
// order, at two KASLR offsets.
func TestTextIndexIsSymbolAt(t *testing.T) {
	for _, cache := range []bool{true, false} {
		if !cache {
			t.Setenv("GOCRASH_CACHE", "off")
		}
		for _, off := range []uint64{0, 0x1e000000} {
			v, err := Open(realVmlinux(t))
			if err != nil {
				t.Fatal(err)
			}
			v.SetKASLR(off)
			ti := v.textIdx()
			if ti == nil || len(ti.order) < 30000 {
				t.Fatalf("text index: %v", ti)
			}
			if (v.cache != nil) != cache {
				t.Fatalf("index cache %v, want %v", v.cache != nil, cache)
			}
			n := 0
			asked := map[uint64]bool{}
			for _, s := range v.symbols() {
				if !s.inText {
					continue
				}
				a := v.reloc(s)
				for _, q := range []uint64{a - 1, a, a + 1, a + s.size/2} {
					link := q - v.kaslr
					inImage := false
					for _, sp := range v.image {
						if link >= sp.start && link < sp.end {
							inImage = true
						}
					}
					if !inImage || asked[q] {
						continue
					}
					asked[q] = true
					got, gok := v.textSymbolAt(ti, link)
					want, wok := v.symbolAtDecoded(q)
					if got != want || gok != wok {
						t.Fatalf("cache %v kaslr %#x: SymbolAt(%#x) = %+v %v by the text index, %+v %v by the table", cache, off, q, got, gok, want, wok)
					}
					n++
				}
			}
			if n < 50000 {
				t.Errorf("%d addresses compared", n)
			}
			v.Close()
		}
	}
}
