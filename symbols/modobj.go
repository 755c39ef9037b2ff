package symbols

// A module's object file (NAME.ko, or its separate debuginfo) loaded the
// way crash's "mod -s" has gdb load it (add-symbol-file with each
// section at the address the module's section was loaded at): an ET_REL
// ELF file whose DWARF and symbols mean nothing until each relocation of
// its debug sections is applied with the section addresses of the loaded
// module (x86-64 psABI relocation types; the addresses from
// module->sect_attrs). debug/elf applies relocations too, but with every
// section at 0, which leaves .text and .init.text addresses overlapping.

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// ModuleObject is a loaded module's object file, relocated.
type ModuleObject struct {
	Path string
	// Name is the module name the file carries
	// (.gnu.linkonce.this_module's struct module name, else .modinfo's
	// name=).
	Name string
	// BuildID is the file's NT_GNU_BUILD_ID as hex ("" without one).
	BuildID string
	// SrcVersion is .modinfo's srcversion= ("" without one).
	SrcVersion string
	// Symbols are the file's functions and objects at their loaded
	// addresses, sorted by address; Kind as in Symbol.
	Symbols []Symbol

	lines *LineTable
	// what PlaceLikeCrash needs: the file, its symbols in symbol-table
	// order (name, section, value) and its sections
	data     []byte
	raw      []objSym
	sections []objSection
	// crashText: set by PlaceLikeCrash, the code sections as crash's
	// is_kernel_text() sees them
	crashText [][2]uint64
	gdbAddr   map[string]uint64
	placed    bool

	types *Types
}

type objSym struct {
	name, section string
	value         uint64
}

type objSection struct {
	name string
	size uint64
	code bool
}

// Types are the module's own types and variables, from its DWARF (nil
// without one): what gdb knows after crash's mod -s loads the file
// (add-symbol-file), for p, whatis and struct on the module's variables.
func (o *ModuleObject) Types() *Types { return o.types }

// Lookup is the loaded address of the module's function or object name.
func (o *ModuleObject) Lookup(name string) (Symbol, bool) {
	for _, s := range o.Symbols {
		if s.Name == name {
			return s, true
		}
	}
	return Symbol{}, false
}

// ErrNotELF is returned for a file that is not an ELF file.
var ErrNotELF = errors.New("not an ELF format object file")

// maxModuleObject bounds the file read (a debuginfo .ko of a large
// driver is tens of MB).
const maxModuleObject = 1 << 30

// OpenModuleObject reads the module object at path, relocated for the
// section addresses in sections (by section name).
func OpenModuleObject(path string, sections map[string]uint64) (*ModuleObject, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxModuleObject {
		return nil, fmt.Errorf("%s: %d bytes: too large for a module object", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseModuleObject(path, data, sections)
}

func parseModuleObject(path string, data []byte, sections map[string]uint64) (*ModuleObject, error) {
	if len(data) < 4 || string(data[:4]) != elf.ELFMAG {
		return nil, fmt.Errorf("%s: %w", path, ErrNotELF)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_REL {
		return nil, fmt.Errorf("%s: not an x86_64 relocatable object (class %v, machine %v, type %v)", path, f.Class, f.Machine, f.Type)
	}
	o := &ModuleObject{Path: path}
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("%s: symbols: %w", path, err)
	}
	secAddr := func(i elf.SectionIndex) uint64 {
		if int(i) <= 0 || int(i) >= len(f.Sections) {
			return 0
		}
		return sections[f.Sections[i].Name]
	}
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if typ != elf.STT_FUNC && typ != elf.STT_OBJECT || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || s.Name == "" {
			continue
		}
		sec := f.Sections[s.Section]
		base, ok := sections[sec.Name]
		if !ok {
			continue // a section the module did not keep
		}
		kind := sectionKind(sec)
		if elf.ST_BIND(s.Info) == elf.STB_LOCAL && kind >= 'A' && kind <= 'Z' {
			kind += 'a' - 'A'
		}
		o.Symbols = append(o.Symbols, Symbol{Name: s.Name, Addr: base + s.Value, Size: s.Size, Kind: kind})
	}
	sort.SliceStable(o.Symbols, func(i, j int) bool { return o.Symbols[i].Addr < o.Symbols[j].Addr })
	o.data = data
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || s.Name == "" || int(s.Section) >= len(f.Sections) {
			continue
		}
		o.raw = append(o.raw, objSym{s.Name, f.Sections[s.Section].Name, s.Value})
	}
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NULL || sec.Type == elf.SHT_RELA || sec.Type == elf.SHT_REL || sec.Type == elf.SHT_SYMTAB || sec.Type == elf.SHT_STRTAB {
			continue
		}
		o.sections = append(o.sections, objSection{sec.Name, sec.Size, sec.Flags&elf.SHF_EXECINSTR != 0})
	}
	o.readInfo(f)

	// The debug sections, relocated.
	dbg := map[string][]byte{}
	for i, sec := range f.Sections {
		if !strings.HasPrefix(sec.Name, ".debug_") || sec.Type == elf.SHT_NOBITS {
			continue
		}
		b, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, sec.Name, err)
		}
		b = append([]byte(nil), b...)
		if err := relocate(f, i, b, syms, secAddr); err != nil {
			return nil, fmt.Errorf("%s: relocating %s: %w", path, sec.Name, err)
		}
		dbg[sec.Name] = b
	}
	if dbg[".debug_info"] == nil {
		return o, nil // symbols only: no line numbers
	}
	d, err := dwarf.New(dbg[".debug_abbrev"], dbg[".debug_aranges"], dbg[".debug_frame"], dbg[".debug_info"],
		dbg[".debug_line"], dbg[".debug_pubnames"], dbg[".debug_ranges"], dbg[".debug_str"])
	if err != nil {
		return nil, fmt.Errorf("%s: DWARF: %w", path, err)
	}
	for _, n := range []string{".debug_addr", ".debug_line_str", ".debug_str_offsets", ".debug_rnglists", ".debug_loclists"} {
		if b := dbg[n]; b != nil {
			if err := d.AddSection(n, b); err != nil {
				return nil, fmt.Errorf("%s: DWARF %s: %w", path, n, err)
			}
		}
	}
	o.types = newTypesFromData(path, d)
	if dbg[".debug_line"] != nil {
		lt, err := newLineTable(&Vmlinux{path: path}, d, dbg)
		if err == nil {
			o.lines = lt
		}
	}
	return o, nil
}

// readInfo takes the module's name, srcversion and build ID from the file.
func (o *ModuleObject) readInfo(f *elf.File) {
	if sec := f.Section(".modinfo"); sec != nil {
		if b, err := sec.Data(); err == nil {
			for _, kv := range bytes.Split(b, []byte{0}) {
				k, v, ok := strings.Cut(string(kv), "=")
				switch {
				case !ok:
				case k == "name" && o.Name == "":
					o.Name = v
				case k == "srcversion":
					o.SrcVersion = v
				}
			}
		}
	}
	// struct module's name[] is the first member after state and list
	// in every kernel since 2.6; its offset is not known here, so the
	// name from .modinfo is preferred, and this only fills a gap.
	if o.Name == "" {
		if sec := f.Section(".gnu.linkonce.this_module"); sec != nil {
			if b, err := sec.Data(); err == nil && len(b) > 24 {
				if i := bytes.IndexByte(b[24:], 0); i > 0 {
					o.Name = string(b[24 : 24+i])
				}
			}
		}
	}
	if sec := f.Section(".note.gnu.build-id"); sec != nil {
		if b, err := sec.Data(); err == nil {
			if id, ok := findBuildID(b); ok {
				o.BuildID = fmt.Sprintf("%x", id)
			}
		}
	}
}

// relocate applies the SHT_RELA section targeting section target to b.
func relocate(f *elf.File, target int, b []byte, syms []elf.Symbol, secAddr func(elf.SectionIndex) uint64) error {
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_RELA || int(rs.Info) != target {
			continue
		}
		rb, err := rs.Data()
		if err != nil {
			return err
		}
		if len(rb)%24 != 0 {
			return fmt.Errorf("%s: size %d is not a multiple of 24", rs.Name, len(rb))
		}
		le := binary.LittleEndian
		for i := 0; i+24 <= len(rb); i += 24 {
			off := le.Uint64(rb[i:])
			info := le.Uint64(rb[i+8:])
			addend := int64(le.Uint64(rb[i+16:]))
			symIdx, typ := info>>32, elf.R_X86_64(info&0xffffffff)
			var s uint64
			if symIdx != 0 {
				// debug/elf's Symbols drops the null symbol 0.
				if symIdx-1 >= uint64(len(syms)) {
					return fmt.Errorf("%s: entry %d: symbol %d of %d", rs.Name, i/24, symIdx, len(syms))
				}
				sym := syms[symIdx-1]
				s = secAddr(sym.Section) + sym.Value
			}
			v := uint64(int64(s) + addend)
			switch typ {
			case elf.R_X86_64_NONE:
			case elf.R_X86_64_64:
				if off+8 > uint64(len(b)) {
					return fmt.Errorf("%s: offset %#x beyond the section", rs.Name, off)
				}
				le.PutUint64(b[off:], v)
			case elf.R_X86_64_32, elf.R_X86_64_32S:
				if off+4 > uint64(len(b)) {
					return fmt.Errorf("%s: offset %#x beyond the section", rs.Name, off)
				}
				le.PutUint32(b[off:], uint32(v))
			case elf.R_X86_64_PC32:
				if off+4 > uint64(len(b)) {
					return fmt.Errorf("%s: offset %#x beyond the section", rs.Name, off)
				}
				le.PutUint32(b[off:], uint32(v-off))
			default:
				return fmt.Errorf("%s: entry %d: relocation type %v", rs.Name, i/24, typ)
			}
		}
	}
	return nil
}

// PlaceLikeCrash places the object's sections where crash 8.0.6's mod -s
// tells gdb they are, for the line numbers, and as crash's own
// is_kernel_text() sees them, for IsCrashText. crash cannot read the
// section addresses of module_sect_attrs since 5.8 (its
// add_symbol_file_kallsyms wants module_sect_attr.mattr and .name, which
// became a bin_attribute), so it takes the fallback of add_symbol_file:
// a section's address is known ("found") only where one of the module's
// kallsyms symbols (ksyms, in address order) has a namesake in the
// object (the first in symbol-table order) in that section, at the
// kallsyms address less the object symbol's value (symbols.c's
// calculate_load_order_v2 and _6_4). gdb then gets (the gdb patch's
// gdb_add_symbol_file): with .text found, every found section where it
// was found; without .text, .text at base (mod_base) and only .data,
// .bss and .rodata where they were found. Any other section stays
// unplaced: gdb has no line for its code and cannot read its variables
// (the 6.1 test module's functions, all in .text.unlikely, have no lines
// in crash, and its __this_module is unreadable there). crash's own
// text test takes each code section at its found address, an unfound one
// at base before 6.4 and at 0 since, so an init function that no
// kallsyms symbol names (crash reads the symbols that outlive init) is
// no text once mod -s loaded the object.
func (o *ModuleObject) PlaceLikeCrash(ksyms []Symbol, base uint64, memoryLayout bool) error {
	secStart := map[string]uint64{}
	known := map[string]bool{}
	for _, sec := range o.sections {
		known[sec.name] = true
	}
	first := map[string]objSym{}
	for _, r := range o.raw {
		if _, ok := first[r.name]; !ok {
			first[r.name] = r
		}
	}
	for _, k := range ksyms {
		if strings.HasPrefix(k.Name, "_MODULE_") {
			continue
		}
		inFound := false
		for name, start := range secStart {
			if k.Addr >= start && k.Addr-start < o.sectionSize(name) {
				inFound = true
				break
			}
		}
		if inFound {
			continue
		}
		r, ok := first[k.Name]
		if !ok || !known[r.section] {
			continue
		}
		if _, done := secStart[r.section]; done {
			continue
		}
		secStart[r.section] = k.Addr - r.value
	}
	gdb := map[string]uint64{}
	if t, ok := secStart[".text"]; ok {
		gdb[".text"] = t
		for name, start := range secStart {
			gdb[name] = start
		}
	} else {
		gdb[".text"] = base
		for _, name := range []string{".data", ".bss", ".rodata"} {
			if start, ok := secStart[name]; ok {
				gdb[name] = start
			}
		}
	}
	o.crashText = nil
	for _, sec := range o.sections {
		if !sec.code {
			continue
		}
		start, ok := secStart[sec.name]
		switch {
		case ok:
		case memoryLayout:
			start = 0
		default:
			start = base
		}
		o.crashText = append(o.crashText, [2]uint64{start, start + sec.size})
	}
	o.placed = true
	o.gdbAddr = map[string]uint64{}
	for _, r := range o.raw {
		if _, ok := o.gdbAddr[r.name]; ok {
			continue
		}
		// an unplaced section is where gdb lays out a relocatable
		// file's sections itself, from 0: no kernel address
		o.gdbAddr[r.name] = gdb[r.section] + r.value
	}
	placed, err := parseModuleObject(o.Path, o.data, gdb)
	if err != nil {
		return err
	}
	o.lines = placed.lines
	return nil
}

func (o *ModuleObject) sectionSize(name string) uint64 {
	for _, sec := range o.sections {
		if sec.name == name {
			return sec.size
		}
	}
	return 0
}

// IsCrashText is crash's is_kernel_text() for an address of the module
// once PlaceLikeCrash placed the object; ok is false before.
func (o *ModuleObject) IsCrashText(addr uint64) (text, ok bool) {
	if !o.placed {
		return false, false
	}
	for _, r := range o.crashText {
		if addr >= r[0] && addr < r[1] {
			return true, true
		}
	}
	return false, true
}

// GDBAddr is the address gdb gives the object's symbol name: where
// PlaceLikeCrash placed its section, else where it was loaded.
func (o *ModuleObject) GDBAddr(name string) (uint64, bool) {
	if o.placed {
		a, ok := o.gdbAddr[name]
		return a, ok
	}
	sym, ok := o.Lookup(name)
	return sym.Addr, ok
}

// Line returns the source file and line of the loaded address pc, as gdb
// finds them in the module's line table.
func (o *ModuleObject) Line(pc uint64) (string, int, error) {
	if o.lines == nil {
		return "", 0, fmt.Errorf("%s: no line numbers", o.Path)
	}
	return o.lines.Line(pc)
}

// HasLines reports whether the object has a line table.
func (o *ModuleObject) HasLines() bool { return o.lines != nil }

// FindBuildID returns the descriptor of the first NT_GNU_BUILD_ID note in
// b (the bytes of a .note.gnu.build-id section, in a file or in memory).
func FindBuildID(b []byte) ([]byte, bool) { return findBuildID(b) }

// CompDir is the compilation directory of the unit holding pc.
func (o *ModuleObject) CompDir(pc uint64) (string, error) {
	if o.lines == nil {
		return "", fmt.Errorf("%s: no line numbers", o.Path)
	}
	return o.lines.CompDir(pc)
}
