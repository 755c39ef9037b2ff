package kernel

// Loaded modules: the modules list (kernel/module/main.c), each struct
// module's name, where its memory is, its taint flags and its kallsyms
// symbols (the core_kallsyms copy that outlives init,
// kernel/module/kallsyms.c). Layouts: 6.4+ keep the memory in mem[] by
// type (struct module_memory, enum mod_mem_type); older kernels in
// core_layout and init_layout (struct module_layout).

import (
	"context"
	"debug/elf"
	"fmt"
	"sort"

	"gocrash/symbols"
)

// A Module is one loaded module.
type Module struct {
	Addr uint64 // struct module
	Name string
	// Base and Size are what crash's mod shows: core_layout.base and
	// core_layout.size before 6.4; mem[MOD_TEXT].base and the sum of the
	// mem[] sizes since (crash's TEXT_BASE column).
	Base, Size uint64
	// Core is the module's core memory, [start, end); Init its init
	// memory (zero once init has finished and freed it).
	Core, Init [2]uint64
	// Text are the core and init text ranges, [start, end), empty ones
	// left out.
	Text [][2]uint64
	// MemoryLayout is true on 6.4+ kernels (struct module_memory).
	MemoryLayout bool
	Taints       uint64
	// SrcVersion is module.srcversion (CONFIG_MODULE_SRCVERSION_ALL or a
	// module with MODULE_VERSION), empty otherwise.
	SrcVersion string
	// Sections are the addresses its ELF sections were loaded at, by
	// name (module->sect_attrs, the /sys/module/NAME/sections files);
	// empty where the kernel keeps none.
	Sections map[string]uint64
	// Symbols are the module's kallsyms symbols, sorted by address.
	Symbols []ModuleSymbol
}

// A ModuleSymbol is one kallsyms entry of a module.
type ModuleSymbol struct {
	Name string
	Addr uint64
	Size uint64
	Func bool // STT_FUNC
}

// maxModules and maxModSyms bound walks over a corrupt module list.
const (
	maxModules = 1 << 14
	maxModSyms = 1 << 20
)

// Modules reads the modules list. A kernel built without modules has no
// such list: no modules, no error.
func (k *Kernel) Modules(ctx context.Context) ([]*Module, error) {
	var mods []*Module
	err := k.forEachModule(ctx, func(addr uint64) error {
		m, err := k.module(addr)
		if err != nil {
			return err
		}
		mods = append(mods, m)
		return nil
	})
	// crash lists them by base address (symbols.c compare_mods).
	sort.SliceStable(mods, func(i, j int) bool { return mods[i].Base < mods[j].Base })
	return mods, err
}

// forEachModule calls fn with the struct module of each entry of the
// modules list, at most maxModules; a kernel without modules has none.
func (k *Kernel) forEachModule(ctx context.Context, fn func(addr uint64) error) error {
	head, ok := k.Vmlinux.Lookup("modules")
	if !ok {
		return nil
	}
	t, err := k.Layouts()
	if err != nil {
		return err
	}
	listOff, err := t.Offset("module.list")
	if err != nil {
		return err
	}
	n := 0
	return k.WalkList(ctx, head, "modules", func(node uint64) error {
		if n++; n > maxModules {
			return fmt.Errorf("modules: more than %d entries", maxModules)
		}
		return fn(node - uint64(listOff))
	})
}

// forEachKallsym calls fn with each entry but the first (the null symbol)
// of a module's core_kallsyms table: n Elf64_Sym at symtab, names in
// strtab. name reads the entry's name (KSYM_NAME_LEN is 512 since 6.1).
func forEachKallsym(mem symbols.Memory, symtab, n, strtab uint64, fn func(sym elf.Sym64, name func() (string, error))) error {
	buf := make([]byte, n*elf.Sym64Size)
	if err := mem.ReadVirt(buf, symtab); err != nil {
		return err
	}
	for i := uint64(1); i < n; i++ {
		sym := symbols.DecodeSym64(buf[i*elf.Sym64Size:])
		fn(sym, func() (string, error) { return symbols.ReadCString(mem, strtab+uint64(sym.Name), 512) })
	}
	return nil
}

// word reads the member at path as an address: struct module keeps some
// as pointers and some as unsigned longs, depending on the kernel.
func word(o symbols.Object, path string) (uint64, error) {
	f, err := o.Member(path)
	if err != nil {
		return 0, err
	}
	if p, err := f.Pointer(); err == nil {
		return p, nil
	}
	return f.Uint()
}

func (k *Kernel) module(addr uint64) (*Module, error) {
	o, err := k.Object(addr, "module")
	if err != nil {
		return nil, err
	}
	m := &Module{Addr: addr}
	if f, err := o.Member("name"); err == nil {
		m.Name, _ = f.CString()
	}
	fail := func(err error) (*Module, error) {
		return nil, fmt.Errorf("module %s at %#x: %w", m.Name, addr, err)
	}
	t := o.Types()
	if t.HasMember("module", "mem") {
		m.MemoryLayout = true
		// enum mod_mem_type: MOD_TEXT, MOD_DATA, MOD_RODATA,
		// MOD_RO_AFTER_INIT, MOD_INIT_TEXT, MOD_INIT_DATA,
		// MOD_INIT_RODATA (include/linux/module.h).
		mem, err := o.Member("mem")
		if err != nil {
			return fail(err)
		}
		initText, err := t.Enumerator("MOD_INIT_TEXT")
		if err != nil {
			return fail(err)
		}
		for i := 0; i < mem.Len(); i++ {
			base, err1 := word(o, fmt.Sprintf("mem[%d].base", i))
			size, err2 := word(o, fmt.Sprintf("mem[%d].size", i))
			if err1 != nil || err2 != nil {
				return fail(fmt.Errorf("mem[%d]: %v %v", i, err1, err2))
			}
			if int64(i) < int64(initText) {
				m.Size += size // crash: the core size, init not included
			}
			if i == 0 {
				m.Base = base
			}
		}
		for _, e := range []string{"MOD_TEXT", "MOD_INIT_TEXT"} {
			i, err := t.Enumerator(e)
			if err != nil {
				return fail(err)
			}
			base, _ := word(o, fmt.Sprintf("mem[%d].base", i))
			size, _ := word(o, fmt.Sprintf("mem[%d].size", i))
			if base != 0 && size != 0 {
				m.Text = append(m.Text, [2]uint64{base, base + size})
			}
			if e == "MOD_TEXT" {
				m.Core = [2]uint64{base, base + size}
			} else {
				m.Init = [2]uint64{base, base + size}
			}
		}
	} else {
		for i, l := range []string{"core_layout", "init_layout"} {
			base, err1 := word(o, l+".base")
			size, err2 := word(o, l+".size")
			text, err3 := word(o, l+".text_size")
			if err1 != nil || err2 != nil || err3 != nil {
				return fail(fmt.Errorf("%s: %v %v %v", l, err1, err2, err3))
			}
			if i == 0 {
				m.Base, m.Size = base, size
				m.Core = [2]uint64{base, base + size}
			} else if base != 0 && size != 0 {
				m.Init = [2]uint64{base, base + size}
			}
			if base != 0 && text != 0 {
				m.Text = append(m.Text, [2]uint64{base, base + text})
			}
		}
	}
	if f, err := o.Member("taints"); err == nil {
		m.Taints, _ = f.Uint()
	}
	if f, err := o.Member("srcversion"); err == nil {
		if p, err := f.Pointer(); err == nil && p != 0 {
			m.SrcVersion, _ = symbols.ReadCString(k.memory(), p, 64)
		}
	}
	m.Sections = k.moduleSections(o)
	m.Symbols = k.moduleSymbols(o)
	return m, nil
}

// maxModSections bounds sect_attrs.nsections on a corrupt module.
const maxModSections = 1 << 12

// moduleSections reads module->sect_attrs (kernel/module/sysfs.c:
// struct module_sect_attrs { grp; nsections; attrs[] }, each attr a
// bin_attribute whose attr.name is the section's name, and its address).
func (k *Kernel) moduleSections(o symbols.Object) map[string]uint64 {
	p, err := word(o, "sect_attrs")
	if err != nil || p == 0 {
		return nil
	}
	t := o.Types()
	sa, err := t.Object(k.memory(), p, "module_sect_attrs")
	if err != nil {
		return nil
	}
	nf, err := sa.Member("nsections")
	if err != nil {
		return nil
	}
	n, err := nf.Uint()
	if err != nil || n == 0 || n > maxModSections {
		return nil
	}
	attrsOff, err := t.Offset("module_sect_attrs.attrs")
	if err != nil {
		return nil
	}
	size, err := t.SizeOf("module_sect_attr")
	if err != nil || size <= 0 {
		return nil
	}
	out := map[string]uint64{}
	for i := uint64(0); i < n; i++ {
		a, err := t.Object(k.memory(), p+uint64(attrsOff)+i*uint64(size), "module_sect_attr")
		if err != nil {
			break
		}
		addr, err1 := word(a, "address")
		namep, err2 := word(a, "battr.attr.name")
		if err1 != nil || err2 != nil || namep == 0 {
			continue
		}
		name, err := symbols.ReadCString(k.memory(), namep, 256)
		if err != nil || name == "" {
			continue
		}
		out[name] = addr
	}
	return out
}

// moduleSymbols reads core_kallsyms: symtab, num_symtab, strtab. A page
// the dump lacks leaves the module without names, not without its entry.
func (k *Kernel) moduleSymbols(o symbols.Object) []ModuleSymbol {
	symtab, err1 := word(o, "core_kallsyms.symtab")
	n, err2 := word(o, "core_kallsyms.num_symtab")
	strtab, err3 := word(o, "core_kallsyms.strtab")
	if err1 != nil || err2 != nil || err3 != nil || symtab == 0 || strtab == 0 || n == 0 || n > maxModSyms {
		return nil
	}
	var out []ModuleSymbol
	err := forEachKallsym(k.memory(), symtab, n, strtab, func(sym elf.Sym64, nameOf func() (string, error)) {
		if sym.Value == 0 || elf.SectionIndex(sym.Shndx) == elf.SHN_UNDEF {
			return
		}
		if name, err := nameOf(); err == nil && name != "" {
			out = append(out, ModuleSymbol{Name: name, Addr: sym.Value, Size: sym.Size, Func: elf.ST_TYPE(sym.Info) == elf.STT_FUNC})
		}
	})
	if err != nil {
		return nil
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}
