package kernel

import (
	"context"
	"sort"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/symbols"
)

// TestModulesBTF: on every committed dump with BTF, opened without the
// vmlinux, each loaded module's BTF (the test module's, built with the
// kernel's CONFIG_DEBUG_INFO_BTF_MODULES) is read from btf_modules as
// split BTF on the kernel's: every type it names is found and sized, and
// its references into the kernel's types resolve to the kernel's own.
func TestModulesBTF(t *testing.T) {
	ran := 0
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			k, err := Open("", d.Vmcore, Options{})
			if err != nil {
				t.Skipf("without the vmlinux: %v", err)
			}
			defer k.Close()
			if !k.Vmlinux.HasBTF() {
				t.Skip("the kernel has no BTF")
			}
			mods, err := k.ModulesBTF(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			kt, err := k.Types()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mods {
				if m.Types == nil {
					t.Logf("%s: %v", m.Module, m.Err)
					continue
				}
				ran++
				names, err := m.Types.TypeNames("")
				if err != nil {
					t.Fatalf("%s: %v", m.Module, err)
				}
				for _, n := range names {
					typ, err := m.Types.Lookup(n)
					if err != nil {
						t.Errorf("%s: %s listed but not found: %v", m.Module, n, err)
						continue
					}
					if _, err := m.Types.Size(typ); err != nil && !strings.Contains(err.Error(), "void") {
						t.Logf("%s: sizeof %s: %v", m.Module, n, err)
					}
				}
				// A kernel type through the module: the kernel's one.
				if _, err := m.Types.Lookup("struct list_head"); err == nil {
					t.Errorf("%s: the module's own index has the kernel's struct list_head", m.Module)
				}
			}
			// Loaded into the kernel's types: a module's type names are
			// found after the kernel's, the kernel's stay its own.
			if err := k.LoadModuleTypes(context.Background()); err != nil {
				t.Fatal(err)
			}
			if kt.ModuleOf("struct list_head") != "" {
				t.Errorf("struct list_head is a module's")
			}
		})
	}
	if ran == 0 {
		t.Skip("no dump with module BTF")
	}
}

// moduleBTFSeeds opens the oops dump without the vmlinux and returns it
// with its modules' BTF.
func moduleBTFSeeds(f *testing.F) (*Kernel, *symbols.Types, [][]byte) {
	d := testbed.Open(f, "6.1-oops", "zlib")
	k, err := Open("", d.Vmcore, Options{})
	if err != nil {
		f.Skipf("without the vmlinux: %v", err)
	}
	if !k.Vmlinux.HasBTF() {
		k.Close()
		f.Skip("the kernel has no BTF")
	}
	base, err := k.Types()
	if err != nil {
		k.Close()
		f.Fatal(err)
	}
	r, err := k.reader()
	if err != nil {
		k.Close()
		f.Fatal(err)
	}
	var seeds [][]byte
	head, _ := k.Vmlinux.Lookup("btf_modules")
	off, _ := r.off("btf_module.list")
	_ = k.WalkList(context.Background(), head, "btf_modules", func(node uint64) error {
		btf, _ := r.ptr(node-off, "btf_module.btf")
		data, _ := r.ptr(btf, "btf.data")
		size, _ := r.sized(btf, "btf.data_size")
		if size > 0 && size < 1<<24 {
			b := make([]byte, size)
			if k.memory().ReadVirt(b, data) == nil {
				seeds = append(seeds, b)
			}
		}
		return nil
	})
	return k, base, seeds
}

// FuzzModuleBTF parses a module's split BTF on the kernel's (seeded with
// the oops dump's test module's): an error or types, never a panic, and
// every type it names looked up, resolved and sized.
func FuzzModuleBTF(f *testing.F) {
	k, base, seeds := moduleBTFSeeds(f)
	defer k.Close()
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		mt, err := symbols.NewModuleBTFTypes("fuzz", data, base)
		if err != nil {
			return
		}
		names, err := mt.TypeNames("")
		if err != nil {
			return
		}
		for _, n := range names {
			for _, kind := range []string{"", "struct ", "union ", "enum "} {
				typ, err := mt.Lookup(kind + n)
				if err != nil {
					continue
				}
				mt.Size(typ)
				if rt, err := mt.Resolve(typ); err == nil {
					_ = symbols.TypeName(rt)
				}
			}
		}
	})
}

// FuzzModulesBTFWalk reads the modules' BTF (btf_modules, struct btf) of
// the oops dump without the vmlinux with words the fuzzer chooses
// overwritten among those a clean walk reads: modules with types or
// reasons, or an error, within the read budget; never a panic or a hang.
func FuzzModulesBTFWalk(f *testing.F) {
	k, _, _ := moduleBTFSeeds(f)
	defer k.Close()
	rec := &fuzzMem{base: k.Mem, record: map[uint64]bool{}, budget: 1 << 30}
	if _, err := k.WithMemory(rec).readModulesBTF(context.Background()); err != nil {
		f.Fatal(err)
	}
	var words []uint64
	for w := range rec.record {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool { return words[i] < words[j] })
	if len(words) == 0 {
		f.Skip("no words read")
	}
	for i := 0; i < len(words); i += max(1, len(words)/32) {
		f.Add(uint32(i), uint64(0), uint32(0), uint64(0xffffffffffffffff))
		f.Add(uint32(i), words[(i+1)%len(words)], uint32(i+1), uint64(1<<20))
	}
	f.Fuzz(func(t *testing.T, i1 uint32, v1 uint64, i2 uint32, v2 uint64) {
		m := &fuzzMem{base: k.Mem, patch: map[uint64]uint64{}, budget: 200000}
		m.patch[words[int(i1)%len(words)]] = v1
		m.patch[words[int(i2)%len(words)]] = v2
		mods, _ := k.WithMemory(m).readModulesBTF(context.Background())
		for _, mod := range mods {
			if mod.Types == nil && mod.Err == nil {
				t.Errorf("%s: neither types nor a reason", mod.Module)
			}
		}
	})
}
