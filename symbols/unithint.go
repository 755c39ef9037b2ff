package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"slices"
	"sync"
)

// A variable is described only in the DWARF units that define or use it: a
// static one (shadow_timekeeper, kernel/time/timekeeping.c) in its file's
// unit alone, a rarely used global (tick_nsec) in a few, hundreds of units
// into .debug_info. The lazy index, scanning in order, gets there only
// after every unit before it. The symbol table says which file defines the
// variable, a function of that file where its code is, and .debug_aranges
// which unit holds that code: that one unit answers.
//
// The answer is the full index's whenever the name is unique in the symbol
// table and that unit defines the variable: a variable defined once has one
// definition DIE, which the full index prefers to every declaration.

// unitHint returns the link-time addresses of functions defined in the
// source file of the symbol name (as far as the symbol table tells), when
// no other symbol shares the name. A local symbol's file is the STT_FILE
// entry before it; a global's is guessed from the closest local symbols
// below and above it in its section (one file's data are laid out
// together). A wrong guess costs one unit's scan: the caller checks that
// the unit defines the variable.
// hintGlobals turns the neighbour guess for global symbols back on (see
// unitHint); off until its answers are shown to be the full index's.
const hintGlobals = false

func (v *Vmlinux) unitHint(name string) []uint64 {
	if v.f == nil || v.symtab.n == 0 {
		return nil
	}
	le := binary.LittleEndian
	t := v.nameTable()
	i, ok := t.byName.find(t.syms, name)
	if !ok || len(t.dups[name]) > 0 {
		return nil // no such symbol, or not unique
	}
	at := int(v.syms[i].order) // its .symtab index
	near := []int{at}
	// A global's file is only guessed from its neighbours, and on the
	// 6.1.192 test-bed vmlinux (dwz) that guess found a unit that also
	// holds a definition DIE of the name (bpf_ktime_get_coarse_ns_proto),
	// not the one the full index answers: globals go to the full index.
	if _, bind := v.symInfo(at); bind != elf.STB_LOCAL && !hintGlobals {
		return nil
	}
	if _, bind := v.symInfo(at); bind != elf.STB_LOCAL {
		b := v.symtab.data[at*symSize:]
		shndx, addr := le.Uint16(b[6:]), le.Uint64(b[8:])
		below, above := -1, -1
		var belowAddr, aboveAddr uint64
		for i := 1; i < v.symtab.n; i++ {
			c := v.symtab.data[i*symSize:]
			typ, bind := v.symInfo(i)
			if bind != elf.STB_LOCAL || le.Uint16(c[6:]) != shndx || (typ != elf.STT_OBJECT && typ != elf.STT_NOTYPE) {
				continue
			}
			switch a := le.Uint64(c[8:]); {
			case a <= addr && (below < 0 || a > belowAddr):
				below, belowAddr = i, a
			case a > addr && (above < 0 || a < aboveAddr):
				above, aboveAddr = i, a
			}
		}
		near = near[:0]
		for _, i := range []int{below, above} {
			if i >= 0 {
				near = append(near, i)
			}
		}
	}
	var out []uint64
	for _, i := range near {
		if a, ok := v.fileFunc(i); ok {
			out = append(out, a)
		}
	}
	return out
}

func (v *Vmlinux) symInfo(i int) (elf.SymType, elf.SymBind) {
	x := v.symtab.data[i*symSize+4]
	return elf.SymType(x & 0xf), elf.SymBind(x >> 4)
}

// fileFunc returns the address of a sized function among the local
// symbols of the STT_FILE group holding .symtab entry at.
func (v *Vmlinux) fileFunc(at int) (uint64, bool) {
	le := binary.LittleEndian
	first := at
	for first > 1 {
		if typ, _ := v.symInfo(first - 1); typ == elf.STT_FILE {
			break
		}
		first--
	}
	if typ, _ := v.symInfo(first - 1); typ != elf.STT_FILE {
		return 0, false // no file entry before it: no group to go by
	}
	for i := first; i < v.symtab.n; i++ {
		typ, bind := v.symInfo(i)
		if typ == elf.STT_FILE || bind != elf.STB_LOCAL {
			break
		}
		b := v.symtab.data[i*symSize:]
		shndx := int(le.Uint16(b[6:]))
		if typ == elf.STT_FUNC && le.Uint64(b[16:]) > 0 && shndx > 0 && shndx < len(v.f.Sections) &&
			v.f.Sections[shndx].Flags&elf.SHF_EXECINSTR != 0 {
			return le.Uint64(b[8:]), true
		}
	}
	return 0, false
}

// arange is one address range of .debug_aranges and the unit covering it.
type arange struct {
	lo, hi uint64
	unit   uint64 // .debug_info offset of the unit
}

type aranges struct {
	once   sync.Once
	ranges []arange // sorted by lo
}

// unitOfAddr is the .debug_info offset of the unit whose code covers addr
// (link-time), from .debug_aranges.
func (t *Types) unitOfAddr(addr uint64) (uint64, bool) {
	t.aranges.once.Do(func() {
		if t.vm == nil {
			return
		}
		b, _, ok := t.vm.Section(".debug_aranges")
		if !ok {
			return
		}
		t.aranges.ranges = parseAranges(b)
	})
	r := t.aranges.ranges
	i, _ := slices.BinarySearchFunc(r, addr, func(a arange, x uint64) int {
		if a.hi <= x {
			return -1
		}
		if a.lo > x {
			return 1
		}
		return 0
	})
	if i < len(r) && r[i].lo <= addr && addr < r[i].hi {
		return r[i].unit, true
	}
	return 0, false
}

// parseAranges reads .debug_aranges (DWARF 2-5, 32-bit offsets, 8-byte
// addresses: what x86_64 kernels have); a malformed set ends the walk.
func parseAranges(b []byte) []arange {
	le := binary.LittleEndian
	var out []arange
	for len(b) >= 16 {
		length := uint64(le.Uint32(b))
		if length == 0xffffffff || length > uint64(len(b))-4 || length < 12 {
			break
		}
		set := b[4 : 4+length]
		b = b[4+length:]
		unit := uint64(le.Uint32(set[2:]))
		if set[6] != 8 || set[7] != 0 { // address size, segment selector size
			continue
		}
		// Tuples start at a multiple of their size (16) from the set's start.
		for off := uint64(16 - 4); off+16 <= uint64(len(set)); off += 16 {
			lo, n := le.Uint64(set[off:]), le.Uint64(set[off+8:])
			if lo == 0 && n == 0 {
				break
			}
			if n > 0 && lo+n > lo {
				out = append(out, arange{lo, lo + n, unit})
			}
		}
	}
	slices.SortFunc(out, func(a, b arange) int { return cmpU64(a.lo, b.lo) })
	return out
}

// hintedVar answers the variable question about name from the unit of its
// own source file (unitHint), without scanning the units before it;
// ok is false when there is no hint or that unit does not define it.
func (t *Types) hintedVar(name string) (dieRef, bool) {
	if t.lazy == nil || t.vm == nil {
		return dieRef{}, false
	}
	tried := map[uint64]bool{}
	for _, addr := range t.vm.unitHint(name) {
		off, ok := t.unitOfAddr(addr)
		if !ok || tried[off] {
			continue
		}
		tried[off] = true
		x, err := t.lazy.probe(off)
		if err != nil || x == nil {
			continue
		}
		if r, ok := x.vars[name]; ok && !r.decl {
			return r, true
		}
	}
	return dieRef{}, false
}

// probe scans the unit at .debug_info offset off alone, into an index of
// its own (the lazy index's prefix is not changed).
func (l *lazyIndex) probe(off uint64) (x *nameIndex, err error) {
	i, found := slices.BinarySearchFunc(l.units, off, func(u unitHeader, off uint64) int { return cmpU64(u.off, off) })
	if !found {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			x, err = nil, errMalformedProbe
		}
	}()
	s := &scanner{sec: l.sec, abbrevs: map[uint64]*abbrevTable{}, units: l.units, x: newNameIndex()}
	if err := s.unit(l.units[i]); err != nil {
		return nil, err
	}
	return s.x, nil
}

var errMalformedProbe = dwarf.DecodeError{Name: "info", Err: "malformed unit"}
