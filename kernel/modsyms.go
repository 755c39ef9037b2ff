package kernel

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gocrash/symbols"
)

// Module symbol tables as crash 8.0.6 builds them for kernels before 6.4
// (symbols.c store_module_symbols_v2, store_module_kallsyms_v2): for each
// module on the modules list, a _MODULE_START_name marker at
// core_layout.base, _MODULE_INIT_START_name at init_layout.base when the
// init part is still there, the exported symbols (syms, gpl_syms; struct
// kernel_symbol with 32-bit place-relative offsets on x86_64), the
// core_kallsyms symbols inside the module (their class from st_info as
// crash's Elf64_Sym_to_common reads it: 0x02 't', 0x12 'T', a printable
// byte as is, else '?'), then _MODULE_END_name and _MODULE_INIT_END_name,
// sorted by address (crash's compare_syms: a start marker before the
// symbols at its address, otherwise in that order).

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
	Name               string
	Base, Size         uint64 // core_layout
	TextSize           uint64 // core_layout.text_size
	InitBase, InitSize uint64 // init_layout (0 size once init is freed)
	InitTextSize       uint64
	Syms               []ModuleSym
}

// ErrModuleMemory says the kernel keeps module memory by type (6.4+,
// struct module_memory), whose tables crash builds differently.
var ErrModuleMemory = errors.New("module symbol tables of 6.4+ kernels (struct module_memory) are not read yet")

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
	if t.HasMember("module", "mem") {
		var n int
		k.forEachModule(ctx, func(uint64) error { n++; return nil })
		if n == 0 {
			return nil, nil
		}
		return nil, ErrModuleMemory
	}
	var out []ModuleSymTable
	err = k.forEachModule(ctx, func(addr uint64) error {
		m, err := k.moduleSymTable(addr)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out, err
}

func (k *Kernel) moduleSymTable(addr uint64) (ModuleSymTable, error) {
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
	m := ModuleSymTable{Base: get("core_layout.base"), Size: get("core_layout.size"), TextSize: get("core_layout.text_size"),
		InitBase: get("init_layout.base"), InitSize: get("init_layout.size"), InitTextSize: get("init_layout.text_size")}
	if f, err := o.Member("name"); err == nil {
		m.Name, _ = f.CString()
	}
	in := func(v uint64) bool {
		return v >= m.Base && v < m.Base+m.Size || m.InitSize > 0 && v >= m.InitBase && v < m.InitBase+m.InitSize
	}
	var syms []ModuleSym
	syms = append(syms, ModuleSym{Name: "_MODULE_START_" + m.Name, Addr: m.Base, Kind: 'm', Pseudo: true})
	if m.InitSize > 0 {
		syms = append(syms, ModuleSym{Name: "_MODULE_INIT_START_" + m.Name, Addr: m.InitBase, Kind: 'm', Pseudo: true})
	}
	var exported []ModuleSym
	for _, tab := range [][2]string{{"syms", "num_syms"}, {"gpl_syms", "num_gpl_syms"}} {
		base, n := get(tab[0]), get(tab[1])
		if base == 0 || n == 0 || n > maxModuleSymTab || !in(base) {
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
	syms = append(syms, ModuleSym{Name: "_MODULE_END_" + m.Name, Addr: m.Base + m.Size, Kind: 'm', Pseudo: true})
	if m.InitSize > 0 {
		syms = append(syms, ModuleSym{Name: "_MODULE_INIT_END_" + m.Name, Addr: m.InitBase + m.InitSize, Kind: 'm', Pseudo: true})
	}
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].Addr != syms[j].Addr {
			return syms[i].Addr < syms[j].Addr
		}
		return strings.HasPrefix(syms[i].Name, "_MODULE_START_") && !strings.HasPrefix(syms[j].Name, "_MODULE_START_")
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
