package kernel

import (
	"context"
	"sort"
	"testing"

	"gocrash/internal/testbed"
)

// FuzzModules walks the oops dump's modules list (struct module, its
// kallsyms and sect_attrs) with words the fuzzer chooses overwritten
// among those a clean walk reads: it must end within the read budget
// with modules or an error, never a panic or a hang.
func FuzzModules(f *testing.F) {
	d := testbed.Open(f, "6.1-oops", "zlib")
	k, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer k.Close()
	rec := &fuzzMem{base: k.Mem, record: map[uint64]bool{}, budget: 1 << 30}
	if _, err := k.WithMemory(rec).Modules(context.Background()); err != nil {
		f.Fatal(err)
	}
	var words []uint64
	for w := range rec.record {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool { return words[i] < words[j] })
	for i := 0; i < len(words); i += max(1, len(words)/32) {
		f.Add(uint32(i), uint64(0), uint32(0), uint64(0xffffffffffffffff))
		f.Add(uint32(i), words[(i+1)%len(words)], uint32(i+1), uint64(1<<20))
	}
	f.Fuzz(func(t *testing.T, i1 uint32, v1 uint64, i2 uint32, v2 uint64) {
		m := &fuzzMem{base: k.Mem, patch: map[uint64]uint64{}, budget: 200000}
		m.patch[words[int(i1)%len(words)]] = v1
		m.patch[words[int(i2)%len(words)]] = v2
		mods, _ := k.WithMemory(m).Modules(context.Background())
		for _, mod := range mods {
			if len(mod.Symbols) > maxModSyms || len(mod.Sections) > maxModSections {
				t.Fatalf("module %q: %d symbols, %d sections", mod.Name, len(mod.Symbols), len(mod.Sections))
			}
		}
	})
}
