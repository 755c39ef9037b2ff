package kernel

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"gocrash/symbols"
)

// Module symbol tables as crash 8.0.6 builds them (symbols.c
// store_module_symbols_v2 before 6.4, store_module_symbols_6_4 since,
// store_module_kallsyms_v2 for both). Before 6.4: for each
// module on the modules list, a _MODULE_START_name marker at
// core_layout.base, _MODULE_INIT_START_name at init_layout.base when the
// init part is still there, the exported symbols (syms, gpl_syms; struct
// kernel_symbol with 32-bit place-relative offsets on x86_64), the
// core_kallsyms symbols inside the module (their class from st_info as
// crash's Elf64_Sym_to_common reads it: 0x02 't', 0x12 'T', a printable
// byte as is, else '?'), then _MODULE_END_name and _MODULE_INIT_END_name,
// sorted by address (crash's compare_syms: a start marker before the
// symbols at its address, otherwise in that order). On 6.4+ kernels the
// module's memory is in mem[] by type (struct module_memory, enum
// mod_mem_type: MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT,
// MOD_INIT_TEXT, MOD_INIT_DATA, MOD_INIT_RODATA): each type with a size
// gets _MODULE_<TYPE>_START_name and _MODULE_<TYPE>_END_name markers
// ("MODULE TEXT START" in sym's listing), a symbol belongs to the module
// when it lies in one of them, and only _MODULE_TEXT_START_ sorts before
// the symbols at its address.

// ModuleSym is one entry of a module's table; Pseudo marks crash's
// _MODULE_*_ markers.
type ModuleSym struct {
	Name   string
	Addr   uint64
	Kind   byte
	Pseudo bool
}

// ModuleSymTable is one module's table.
type ModuleSymTable struct {
	Name string
	// Base and Size: core_layout before 6.4; mem[MOD_TEXT].base and the
	// sizes of the core types added up since (crash's mod_base, mod_size).
	Base, Size uint64
	TextSize   uint64 // core_layout.text_size; mem[MOD_TEXT].size
	// InitBase, InitSize: init_layout before 6.4, mem[MOD_INIT_TEXT] since
	// (0 size once init is freed).
	InitBase, InitSize uint64
	InitTextSize       uint64
	// Regions are the parts of the table between a start marker and its
	// end marker, in crash's order: core then init before 6.4, one per
	// memory type with a size since.
	Regions []ModuleRegion
	Syms    []ModuleSym
	// MemoryLayout is true on 6.4+ kernels (struct module_memory).
	MemoryLayout bool
}

// A ModuleRegion is one of a module's memory areas with the markers that
// bound its symbols in the table.
type ModuleRegion struct {
	Start, End         string // the markers' names ("_MODULE_START_name")
	StartText, EndText string // sym's words for them ("MODULE START")
	Base, Size         uint64
	TextEnd            uint64 // where its text ends (Base when it holds none)
	Init               bool
}

// Contains is crash's IN_MODULE || IN_MODULE_INIT: v lies in one of the
// module's memory areas.
func (m *ModuleSymTable) Contains(v uint64) bool {
	for _, r := range m.Regions {
		if v >= r.Base && v < r.Base+r.Size {
			return true
		}
	}
	return false
}

// InText is crash's IN_MODULE_TEXT: v lies in the module's (core or
// init) text.
func (m *ModuleSymTable) InText(v uint64) bool {
	for _, r := range m.Regions {
		if v >= r.Base && v < r.TextEnd {
			return true
		}
	}
	return false
}

// moduleMemTags are crash's module_tag[] names of enum mod_mem_type.
var moduleMemTags = []string{"TEXT", "DATA", "RODATA", "RO_AFTER_INIT", "INIT_TEXT", "INIT_DATA", "INIT_RODATA"}

// moduleInitText is MOD_INIT_TEXT, the first init type.
const moduleInitText = 4

const maxModuleSymTab = 1 << 20

// ModuleSymbolTables reads every loaded module's symbol table. A kernel
// without modules has none.
func (k *Kernel) ModuleSymbolTables(ctx context.Context) ([]ModuleSymTable, error) {
	if _, ok := k.Vmlinux.Lookup("modules"); !ok {
		return nil, nil
	}
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	memLayout := t.HasMember("module", "mem")
	var out []ModuleSymTable
	err = k.forEachModule(ctx, func(addr uint64) error {
		m, err := k.moduleSymTable(addr, memLayout)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out, err
}

func (k *Kernel) moduleSymTable(addr uint64, memLayout bool) (ModuleSymTable, error) {
	o, err := k.Object(addr, "module")
	if err != nil {
		return ModuleSymTable{}, err
	}
	get := func(path string) uint64 {
		f, err := o.Member(path)
		if err != nil {
			return 0
		}
		if p, err := f.Pointer(); err == nil {
			return p
		}
		v, _ := f.Uint()
		return v
	}
	m := ModuleSymTable{MemoryLayout: memLayout}
	if f, err := o.Member("name"); err == nil {
		m.Name, _ = f.CString()
	}
	if memLayout {
		// crash reads MOD_MEM_NUM_TYPES entries of mem[]: base a long,
		// size an unsigned int.
		for i, tag := range moduleMemTags {
			base := get(fmt.Sprintf("mem[%d].base", i))
			size := get(fmt.Sprintf("mem[%d].size", i)) & 0xffffffff
			if i < moduleInitText {
				m.Size += size
			}
			switch i {
			case 0:
				m.Base, m.TextSize = base, size
			case moduleInitText:
				m.InitBase, m.InitSize, m.InitTextSize = base, size, size
			}
			if size == 0 {
				continue
			}
			r := ModuleRegion{Start: "_MODULE_" + tag + "_START_" + m.Name, End: "_MODULE_" + tag + "_END_" + m.Name,
				StartText: "MODULE " + tag + " START", EndText: "MODULE " + tag + " END",
				Base: base, Size: size, TextEnd: base, Init: i >= moduleInitText}
			if i == 0 || i == moduleInitText {
				r.TextEnd = base + size
			}
			m.Regions = append(m.Regions, r)
		}
	} else {
		m.Base, m.Size, m.TextSize = get("core_layout.base"), get("core_layout.size"), get("core_layout.text_size")
		m.InitBase, m.InitSize, m.InitTextSize = get("init_layout.base"), get("init_layout.size"), get("init_layout.text_size")
		m.Regions = append(m.Regions, ModuleRegion{Start: "_MODULE_START_" + m.Name, End: "_MODULE_END_" + m.Name,
			StartText: "MODULE START", EndText: "MODULE END", Base: m.Base, Size: m.Size, TextEnd: m.Base + m.TextSize})
		if m.InitSize > 0 {
			m.Regions = append(m.Regions, ModuleRegion{Start: "_MODULE_INIT_START_" + m.Name, End: "_MODULE_INIT_END_" + m.Name,
				StartText: "MODULE INIT START", EndText: "MODULE INIT END", Base: m.InitBase, Size: m.InitSize,
				TextEnd: m.InitBase + m.InitTextSize, Init: true})
		}
	}
	if len(m.Regions) == 0 {
		return m, nil // no memory of any type (a module being torn down): no symbols
	}
	in := m.Contains
	// crash's exported symbols must lie in the core memory (IN_MODULE)
	inCore := func(v uint64) bool {
		for _, r := range m.Regions {
			if !r.Init && v >= r.Base && v < r.Base+r.Size {
				return true
			}
		}
		return false
	}
	if !memLayout {
		inCore = in
	}
	var syms []ModuleSym
	for _, r := range m.Regions {
		syms = append(syms, ModuleSym{Name: r.Start, Addr: r.Base, Kind: 'm', Pseudo: true})
	}
	var exported []ModuleSym
	for _, tab := range [][2]string{{"syms", "num_syms"}, {"gpl_syms", "num_gpl_syms"}} {
		base, n := get(tab[0]), get(tab[1])
		if base == 0 || n == 0 || n > maxModuleSymTab || !inCore(base) {
			continue
		}
		const ksymSize = 12 // struct kernel_symbol: value_offset, name_offset, namespace_offset
		buf := make([]byte, n*ksymSize)
		if err := k.Mem.ReadVirt(buf, base); err != nil {
			return m, fmt.Errorf("module %s: %s: %w", m.Name, tab[0], err)
		}
		for i := uint64(0); i < n; i++ {
			at := base + i*ksymSize
			value := at + uint64(int64(int32(binary.LittleEndian.Uint32(buf[i*ksymSize:]))))
			nameAt := at + 4 + uint64(int64(int32(binary.LittleEndian.Uint32(buf[i*ksymSize+4:]))))
			name, err := symbols.ReadCString(k.Mem, nameAt, 512)
			if err != nil || name == "" {
				continue
			}
			exported = append(exported, ModuleSym{Name: stripModuleSymbolEnd(name), Addr: value, Kind: '?'})
		}
	}
	// Where the exported ones start: the kallsyms appended after them
	// must not move the index the merge below looks them up by.
	exp0 := len(syms)
	syms = append(syms, exported...)
	symtab, n, strtab := get("core_kallsyms.symtab"), get("core_kallsyms.num_symtab"), get("core_kallsyms.strtab")
	if symtab != 0 && n > 0 && n <= maxModuleSymTab && in(symtab) && in(strtab) {
		err := forEachKallsym(k.Mem, symtab, n, strtab, func(sym elf.Sym64, nameOf func() (string, error)) {
			info, value := sym.Info, sym.Value
			if !in(value) || sym.Shndx == 0 || !in(strtab+uint64(sym.Name)) {
				return
			}
			name, err := nameOf()
			if err != nil || name == "" {
				return
			}
			name = stripSymbolEnd(name)
			kind := byte('?')
			switch {
			case info >= ' ' && info < 0x7f:
				kind = info
			case info == 0x02:
				kind = 't'
			case info == 0x12:
				kind = 'T'
			}
			for j := range exported {
				if e := &syms[exp0+j]; e.Addr == value && e.Name == name && !e.Pseudo {
					if e.Kind == '?' {
						e.Kind = kind
					}
					return
				}
			}
			syms = append(syms, ModuleSym{Name: name, Addr: value, Kind: kind})
		})
		if err != nil {
			return m, fmt.Errorf("module %s: core_kallsyms.symtab: %w", m.Name, err)
		}
	}
	for _, r := range m.Regions {
		syms = append(syms, ModuleSym{Name: r.End, Addr: r.Base + r.Size, Kind: 'm', Pseudo: true})
	}
	first := m.Regions[0].Start // _MODULE_START_name or _MODULE_TEXT_START_name
	if memLayout {
		first = "_MODULE_TEXT_START_" + m.Name
	}
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].Addr != syms[j].Addr {
			return syms[i].Addr < syms[j].Addr
		}
		return syms[i].Pseudo && syms[i].Name == first && !(syms[j].Pseudo && syms[j].Name == first)
	})
	m.Syms = syms
	return m, nil
}

// stripSymbolEnd is crash's strip_symbol_end: the name up to the first of
// ".isra.", ".part." or ".llvm.".
func stripSymbolEnd(name string) string {
	for _, cut := range []string{".isra.", ".part.", ".llvm."} {
		if i := strings.Index(name, cut); i >= 0 {
			return name[:i]
		}
	}
	return name
}

// stripModuleSymbolEnd is crash's strip_module_symbol_end: an exported
// name's "_R<hex>" version suffix (or "_Rsmp_...") goes.
func stripModuleSymbolEnd(name string) string {
	r := strings.LastIndexByte(name, 'R')
	if r < 1 || name[r-1] != '_' {
		return name
	}
	if strings.HasPrefix(name[r-1:], "_Rsmp_") {
		return name[:r-1]
	}
	rest := name[r+1:]
	if rest == "" || strings.Trim(rest, "0123456789abcdefABCDEFxX") != "" {
		return name
	}
	return name[:r-1]
}
