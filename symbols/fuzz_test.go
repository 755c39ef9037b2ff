package symbols

import (
	"fmt"
	"os"
	"testing"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// sliceMemory is memory holding data at base and nothing else.
type sliceMemory struct {
	base uint64
	data []byte
}

func (m sliceMemory) ReadVirt(p []byte, addr uint64) error {
	if addr < m.base || addr-m.base > uint64(len(m.data)) || uint64(len(p)) > uint64(len(m.data))-(addr-m.base) {
		return fmt.Errorf("address %#x (+%d) not in test memory", addr, len(p))
	}
	copy(p, m.data[addr-m.base:])
	return nil
}

// FuzzObject reads every member of struct sample (following pointers a few
// levels) over fuzzed memory: typed reads must fail cleanly, never panic.
func FuzzObject(f *testing.F) {
	v, err := Open(buildFixture(f))
	if err != nil {
		f.Fatal(err)
	}
	defer v.Close()
	ty, err := v.Types()
	if err != nil {
		f.Fatal(err)
	}
	addr, _ := v.Lookup("sample")
	size, err := ty.SizeOf("sample")
	if err != nil {
		f.Fatal(err)
	}
	// Seed: the real initialised bytes of sample and what follows it.
	seed := make([]byte, size)
	if err := v.ReadFile(addr, seed); err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:size/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := sliceMemory{base: addr, data: data}
		o, err := ty.Object(mem, addr, "struct sample")
		if err != nil {
			t.Fatal(err)
		}
		explore(ty, o, 0)
		if l, err := o.Load(); err == nil {
			explore(ty, l, 0)
		}
	})
}

// explore exercises every accessor on o and its members.
func explore(ty *Types, o Object, depth int) {
	if depth > 4 {
		return
	}
	o.Uint()
	o.Int()
	o.Bool()
	o.Pointer()
	o.CString()
	o.Bytes()
	o.Size()
	rt, err := ty.resolve(o.Type)
	if err != nil {
		return
	}
	switch tt := rt.(type) {
	case *godwarf.StructType:
		for _, f := range tt.Field {
			if f.Name == "" {
				continue
			}
			if m, err := o.Member(f.Name); err == nil {
				explore(ty, m, depth+1)
			}
		}
	case *godwarf.ArrayType:
		for i := 0; i <= o.Len(); i++ {
			if e, err := o.Index(i); err == nil {
				explore(ty, e, depth+1)
			}
		}
	case *godwarf.PtrType:
		if d, err := o.Deref(); err == nil {
			explore(ty, d, depth+2)
		}
		o.Index(1)
	}
}

// FuzzOpen opens fuzzed ELF images and uses their symbols and DWARF.
func FuzzOpen(f *testing.F) {
	path := buildFixture(f)
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:64])
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := openBytes("fuzz", data)
		if err != nil {
			return
		}
		defer v.Close()
		for _, s := range v.Symbols() {
			v.Symbolize(s.Addr + 1)
			v.Lookup(s.Name)
			v.ReadFile(s.Addr, make([]byte, 8))
		}
		v.BuildID()
		v.Section(".rodata")
		ty, err := v.Types()
		if err != nil {
			return
		}
		for _, name := range []string{"sample", "struct other", "flags", "sample_t"} {
			typ, err := ty.Lookup(name)
			if err != nil {
				continue
			}
			ty.Size(typ)
			ty.Offset(name + ".nest.arr[2]")
			explore(ty, ty.ObjectOf(sliceMemory{}, 0x1000, typ, name), 0)
		}
		ty.Enumerator("BLUE")
		ty.VarType("sample_ptr")
	})
}
