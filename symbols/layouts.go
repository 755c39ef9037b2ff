package symbols

import (
	"os"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Layouts from .BTF.
//
// A session on a vmlinux without an index cache (cache.go) would find the
// twenty variables and dozen structures `sys` reads by scanning compile
// units: runqueues is declared only in kernel/sched/'s own header, hundreds
// of units into a distribution kernel's 160 MB of DWARF; with the cache or
// without, a struct's DWARF type pulls in most of the kernel's types
// (godwarf.ReadType decodes the whole graph). The kernel's .BTF (4 MB,
// CONFIG_DEBUG_INFO_BTF, pahole's deduplicated copy of the same DWARF) has
// every struct, union, enum and typedef and the per-cpu variables, each
// decoded alone. The kernel's walkers read offsets, sizes and values only,
// which BTF gives exactly; what is printed as C (struct, p, whatis, ptype,
// dis, source lines) keeps reading DWARF, whose spelling gdb's is (BTF
// cannot tell x[0] from x[], or the declared type of a global).

// Layouts is the Types the kernel's walkers read layouts through. For a
// vmlinux with DWARF and a .BTF section, it is a BTF-backed
// Types that asks t (the DWARF) what BTF does not have: the type of a
// global variable that is not per-cpu and that knownVars does not
// declare, function types, source lines, the first definition of a
// variable. A type or enumerator BTF does not have is taken as absent:
// pahole encodes every type of every unit, and the walkers probe for
// types of other kernel versions (enum numa_stat_item on a kernel without
// NUMA), which DWARF would answer only after scanning all of it.
// Otherwise (types from BTF alone, no .BTF, or GOCRASH_LAYOUTS=dwarf) it
// is t itself. Measured on Debian's 6.1 kernel, `sys` takes 20 ms of CPU
// and 29 MB with BTF layouts and the index cache, 50 ms and 46 MB with
// DWARF layouts and the cache.
func (t *Types) Layouts() *Types {
	if t != nil && t.btf != nil && t.vm == nil && !t.btf.lazyPtrs && t.btf.base == nil && t.dwarf == nil {
		// The kernel's BTF alone (a session without the vmlinux): the
		// walkers read a lazy twin over the same index, whose pointers'
		// structs are decoded when looked into (decoding task_struct
		// for its layout decodes most of the kernel's types otherwise:
		// 6 ms of Debian 6.1's first sys); what prints C types keeps t.
		t.layoutsOnce.Do(func() { t.layouts = t.lazyTwin() })
		return t.layouts
	}
	if t == nil || t.btf != nil || t.vm == nil || t.sec == nil {
		return t
	}
	t.layoutsOnce.Do(func() { t.layouts = t.btfLayouts() })
	if t.layouts != nil {
		return t.layouts
	}
	return t
}

// btfLayouts reads the vmlinux's .BTF into a Types falling back on t, or
// returns nil (no .BTF, a damaged one: t answers everything then).
func (t *Types) btfLayouts() *Types {
	if os.Getenv("GOCRASH_LAYOUTS") == "dwarf" {
		return nil
	}
	v := t.vm
	s := v.f.Section(".BTF")
	if s == nil {
		return nil
	}
	data, err := v.sectionData(s)
	if err != nil {
		return nil
	}
	lt, err := newBTFTypes(v.path+": .BTF", data, true)
	if err != nil {
		return nil
	}
	lt.dwarf = t
	lt.SetArrayLen(func(name string, elem godwarf.Type, elemSize int64) int64 {
		return v.arrayLen(lt, name, elem, elemSize)
	})
	return lt
}

// UsesBTF reports whether layouts are read from BTF: a Types from BTF
// alone, or Layouts' BTF-backed one.
func (t *Types) UsesBTF() bool { return t != nil && t.btf != nil }

// lazyTwin is a BTF-backed Types over t's raw BTF and name index (both
// read-only once built) whose pointers to structs point to stubs
// (lazyPtrs), with its own decoded types.
func (t *Types) lazyTwin() *Types {
	b := t.btf
	nb := &btfTypes{data: b.data, types: b.types, strs: b.strs, offs: b.offs, first: b.first, base: b.base,
		lazyPtrs: true, varGlobal: b.varGlobal, charSigns: b.charSigns, arrayLen: b.arrayLen,
		conv: map[uint32]godwarf.Type{}, known: map[string]godwarf.Type{}}
	nt := newTypesFromData(t.path, nil)
	nt.btf = nb
	nt.idx = t.idx
	nt.indexOnce.Do(func() {})
	return nt
}
