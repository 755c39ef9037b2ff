package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// A kernel image read from the dump itself, for a session without the
// vmlinux: the symbols are the kernel's kallsyms, the "sections" the
// ranges of the running image its boundary symbols delimit (_text.._etext,
// __start_rodata.., __start_orc_unwind_ip.., __start_BTF..__stop_BTF), and
// their contents the kernel's memory. It is a *Vmlinux like any other, so
// symbol lookups, the ORC unwinder (the same one bt uses with a vmlinux:
// .orc_unwind_ip and .orc_unwind are the kernel's own tables) and Types
// (from the in-memory .BTF) work unchanged; what needs DWARF (source
// lines, CFI) says it is missing.

// MemoryImageLayout is what OpenMemoryImage needs besides the memory.
type MemoryImageLayout struct {
	Kallsyms KallsymsAddrs
	// KASLR is the dump's KERNELOFFSET: kallsyms holds relocated
	// addresses, the image's link-time ones are those minus it.
	KASLR   uint64
	BuildID string // VMCOREINFO's BUILD-ID, for BuildID
}

// memSectionDefs are the image ranges made into sections: name, start and
// end symbols, flags. The first of a name whose symbols exist wins.
var memSectionDefs = []struct {
	name       string
	start, end string
	flags      elf.SectionFlag
	typ        elf.SectionType
}{
	{".text", "_text", "_etext", elf.SHF_ALLOC | elf.SHF_EXECINSTR, elf.SHT_PROGBITS},
	{".rodata", "__start_rodata", "__end_rodata", elf.SHF_ALLOC, elf.SHT_PROGBITS},
	{".data", "_sdata", "_edata", elf.SHF_ALLOC | elf.SHF_WRITE, elf.SHT_PROGBITS},
	{".init.text", "_sinittext", "_einittext", elf.SHF_ALLOC | elf.SHF_EXECINSTR, elf.SHT_PROGBITS},
	{".init.data", "_einittext", "__init_end", elf.SHF_ALLOC | elf.SHF_WRITE, elf.SHT_PROGBITS},
	{".data_nosave", "__init_end", "__bss_start", elf.SHF_ALLOC | elf.SHF_WRITE, elf.SHT_PROGBITS},
	{".bss", "__bss_start", "__bss_stop", elf.SHF_ALLOC | elf.SHF_WRITE, elf.SHT_NOBITS},
	{".brk", "__bss_stop", "_end", elf.SHF_ALLOC | elf.SHF_WRITE, elf.SHT_NOBITS},
	// Tables inside the ranges above, by name only (not SHF_ALLOC: they
	// would count twice in the image's section list).
	{".orc_unwind_ip", "__start_orc_unwind_ip", "__stop_orc_unwind_ip", 0, elf.SHT_PROGBITS},
	{".orc_unwind", "__start_orc_unwind", "__stop_orc_unwind", 0, elf.SHT_PROGBITS},
	{".orc_header", "__start_orc_header", "__stop_orc_header", 0, elf.SHT_PROGBITS},
	{".BTF", "__start_BTF", "__stop_BTF", 0, elf.SHT_PROGBITS},
}

// maxMemSection bounds a section read whole from the dump (.BTF is ~5 MB on
// a distribution kernel, the ORC tables ~2 MB).
const maxMemSection = 64 << 20

// OpenMemoryImage builds the kernel image from the dump's memory: kallsyms
// for the symbols (an error when they cannot be read), the rest on demand.
func OpenMemoryImage(name string, mem Memory, l MemoryImageLayout) (*Vmlinux, error) {
	ks, err := readKallsymsTable(mem, l.Kallsyms)
	if err != nil {
		return nil, err
	}
	v := newMemImage(name, mem, l)
	v.kaslr = l.KASLR
	// The first address of each name the sections are bounded by (a
	// map of every name would cost as much as reading them).
	byName := make(map[string]uint64, 2*len(memSectionDefs))
	want := make(map[string]bool, 2*len(memSectionDefs))
	for _, d := range memSectionDefs {
		want[d.start], want[d.end] = true, true
	}
	for i := range ks.len() {
		s := ks.symbol(i)
		if s.Absolute || len(s.Name) < 4 || (s.Name[0] != '_' && s.Name[0] != '.') || !want[s.Name] {
			continue
		}
		if _, dup := byName[s.Name]; !dup {
			byName[s.Name] = s.Addr - l.KASLR
		}
	}
	for _, d := range memSectionDefs {
		lo, ok1 := byName[d.start]
		hi, ok2 := byName[d.end]
		if !ok1 || !ok2 || hi <= lo || v.f.Section(d.name) != nil {
			continue
		}
		sec := &elf.Section{SectionHeader: elf.SectionHeader{Name: d.name, Type: d.typ, Flags: d.flags, Addr: lo, Size: hi - lo, FileSize: hi - lo}}
		v.f.Sections = append(v.f.Sections, sec)
		if d.flags&elf.SHF_ALLOC != 0 {
			v.image = append(v.image, span{lo, hi})
		}
	}
	if len(v.image) == 0 {
		return nil, fmt.Errorf("kallsyms: no _text/_etext symbols: cannot place the kernel image")
	}
	v.syms = make([]symbol, 0, ks.len())
	for i := range ks.len() {
		s := ks.symbol(i)
		sym := symbol{name: s.Name, kind: s.Type, order: int32(i)}
		if s.Absolute {
			sym.addr = s.Addr
		} else {
			sym.addr = s.Addr - l.KASLR
			sym.reloc = true
			sym.inText = true
		}
		sym.rank = kallsymsRank(s.Type)
		if linkerLabel(s.Name) {
			sym.rank = 0
		}
		v.syms = append(v.syms, sym)
	}
	v.sizeSymbols()
	// The address order is built on first use (order), as a vmlinux's:
	// sys needs none.
	return v, nil
}

func newMemImage(name string, mem Memory, l MemoryImageLayout) *Vmlinux {
	return &Vmlinux{path: name, mem: mem, memBuild: l.BuildID, secCache: map[string][]byte{}, f: &elf.File{}, kaslr: l.KASLR}
}

// SymbollessMemoryImage is the image of a dump whose kallsyms cannot be
// read (why): no symbols, no sections, no types; what needs none of them
// (log, from VMCOREINFO's printk layout) still works, and everything else
// says why in one line.
func SymbollessMemoryImage(name string, mem Memory, l MemoryImageLayout, why error) *Vmlinux {
	v := newMemImage(name, mem, l)
	v.memErr = why
	return v
}

// kallsymsRank is symRank from a type letter (kallsyms has no ELF symbol
// types or sizes): code beats data, a global a local.
func kallsymsRank(t byte) uint8 {
	var r uint8
	switch t {
	case 'T', 't', 'W', 'w':
		r = 8
	case 'D', 'd', 'R', 'r', 'B', 'b', 'V', 'v':
		r = 6
	}
	if t >= 'A' && t <= 'Z' {
		r++
	}
	return r
}

// linkerLabel reports whether name is one of the linker script's boundary
// symbols (_text, _stext, __sched_text_start, __start_BTF, __init_begin,
// _end ...): in the vmlinux they are sizeless STT_NOTYPE labels that a
// function at the same address outranks (symRank); kallsyms has only
// their letter, so they are recognised by name.
func linkerLabel(name string) bool {
	switch name {
	case "_text", "_stext", "_etext", "_sinittext", "_einittext", "_sdata", "_edata", "_end", "_brk_start", "_brk_end":
		return true
	}
	if !strings.HasPrefix(name, "__") {
		return false
	}
	return strings.HasPrefix(name, "__start_") || strings.HasPrefix(name, "__stop_") || strings.HasPrefix(name, "__end_") ||
		strings.HasSuffix(name, "_start") || strings.HasSuffix(name, "_end") ||
		strings.HasSuffix(name, "_begin") || strings.HasSuffix(name, "_stop") || strings.HasSuffix(name, "_align")
}

// sizeSymbols gives each relocatable symbol the distance to the next
// higher address in its section (kallsyms has no sizes): the extent the
// symbol covers, which is what gdb's naming and an array's length need.
func (v *Vmlinux) sizeSymbols() {
	idx := make([]int, 0, len(v.syms))
	for i := range v.syms {
		if v.syms[i].reloc {
			idx = append(idx, i)
		}
	}
	// kallsyms keeps its symbols in address order (scripts/kallsyms.c
	// sorts them): sorted already, but for a damaged table.
	if !slices.IsSortedFunc(idx, func(a, b int) int { return cmpU64(v.syms[a].addr, v.syms[b].addr) }) {
		slices.SortStableFunc(idx, func(a, b int) int { return cmpU64(v.syms[a].addr, v.syms[b].addr) })
	}
	for j := 0; j < len(idx); {
		addr := v.syms[idx[j]].addr
		k := j
		for k < len(idx) && v.syms[idx[k]].addr == addr {
			k++
		}
		end := uint64(0)
		if k < len(idx) {
			end = v.syms[idx[k]].addr
		}
		if sec := v.sectionOf(addr); sec != nil && (end == 0 || end > sec.Addr+sec.Size) {
			end = sec.Addr + sec.Size
		}
		if end > addr {
			for _, i := range idx[j:k] {
				v.syms[i].size = end - addr
			}
		}
		j = k
	}
}

// sectionOf is the allocated section holding the link-time addr.
func (v *Vmlinux) sectionOf(addr uint64) *elf.Section {
	for _, s := range v.f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && addr >= s.Addr && addr-s.Addr < s.Size {
			return s
		}
	}
	return nil
}

// FromMemory reports whether the image was read from the dump (no vmlinux).
func (v *Vmlinux) FromMemory() bool { return v != nil && v.mem != nil }

// arrayLen is the length of a global array declared without one, from
// its symbol's extent (the distance to the next kallsyms symbol, an upper
// bound: alignment pads it, and kallsyms lacks the compiler's labels):
// a char array is its string and the NUL (linux_banner), a pointer array
// ends at its last non-NULL entry (sys_call_table, task_state_array);
// other arrays keep the extent. From a vmlinux file the symbol's size is
// the array's, exactly.
func (v *Vmlinux) arrayLen(t *Types, name string, elem godwarf.Type, elemSize int64) int64 {
	sym, ok := v.LookupSymbol(name)
	if !ok || sym.Size == 0 || elemSize <= 0 {
		return 0
	}
	n := int64(sym.Size) / elemSize
	if elem == nil || v.mem == nil {
		// A vmlinux file's .symtab gives the array's own size, not an
		// extent: nothing to trim (Layouts' BTF-backed types).
		return n
	}
	rt, err := t.Resolve(elem)
	if err != nil || n <= 0 || sym.Size > 1<<20 && elemSize != 1 {
		return n
	}
	switch rt.(type) {
	case *godwarf.CharType, *godwarf.UcharType:
		buf := make([]byte, min(sym.Size, 1<<16))
		if v.mem.ReadVirt(buf, sym.Addr) == nil {
			if i := bytes.IndexByte(buf, 0); i >= 0 {
				return int64(i) + 1
			}
		}
	case *godwarf.PtrType:
		buf := make([]byte, 8*n)
		if v.mem.ReadVirt(buf, sym.Addr) == nil {
			for n > 0 && binary.LittleEndian.Uint64(buf[8*(n-1):]) == 0 {
				n--
			}
		}
	}
	return n
}

// HasBTF reports whether an image in memory has a .BTF range (a vmlinux
// file: whether it has a .BTF section).
func (v *Vmlinux) HasBTF() bool { return v != nil && v.f.Section(".BTF") != nil }

// HasORC reports whether an image in memory has the ORC tables' ranges.
func (v *Vmlinux) HasORC() bool {
	return v != nil && v.f.Section(".orc_unwind_ip") != nil && v.f.Section(".orc_unwind") != nil
}

// readMem is readFile for an image in memory: the link-time or relocated
// addr must lie in one of its sections.
func (v *Vmlinux) readMem(addr uint64, p []byte) error {
	for _, s := range v.f.Sections {
		if addr < s.Addr || addr-s.Addr >= s.Size {
			continue
		}
		if uint64(len(p)) > s.Size-(addr-s.Addr) {
			return fmt.Errorf("%s: read of %d bytes at %#x runs past the end of %s (%#x-%#x)", v.path, len(p), addr, s.Name, s.Addr, s.Addr+s.Size)
		}
		return v.mem.ReadVirt(p, addr+v.kaslr)
	}
	return fmt.Errorf("%s: address %#x is not in the kernel image", v.path, addr)
}

// memSection reads a whole section from memory, once.
func (v *Vmlinux) memSection(s *elf.Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	v.secMu.Lock()
	defer v.secMu.Unlock()
	if d, ok := v.secCache[s.Name]; ok {
		return d, nil
	}
	if s.Size > maxMemSection {
		return nil, fmt.Errorf("%s: %s is %d bytes (more than %d): its boundary symbols are damaged", v.path, s.Name, s.Size, maxMemSection)
	}
	d := make([]byte, s.Size)
	if err := v.mem.ReadVirt(d, s.Addr+v.kaslr); err != nil {
		return nil, fmt.Errorf("%s: reading %s (%#x, %d bytes) from the dump: %w", v.path, s.Name, s.Addr+v.kaslr, s.Size, err)
	}
	v.secCache[s.Name] = d
	return d, nil
}

// memTypes are the types of an image in memory: its .BTF.
func (v *Vmlinux) memTypes() (*Types, error) {
	if v.memErr != nil {
		return nil, fmt.Errorf("no kernel types: %w", v.memErr)
	}
	s := v.f.Section(".BTF")
	if s == nil {
		return nil, fmt.Errorf("%s: no __start_BTF/__stop_BTF in kallsyms: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF), so no types without the vmlinux", v.path)
	}
	data, err := v.memSection(s)
	if err != nil {
		return nil, err
	}
	t, err := NewBTFTypes(v.path+": .BTF", data)
	if err != nil {
		return nil, err
	}
	t.SetArrayLen(func(name string, elem godwarf.Type, elemSize int64) int64 {
		return v.arrayLen(t, name, elem, elemSize)
	})
	return t, nil
}
