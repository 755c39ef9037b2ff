package commands

// Loaded modules as bt needs them: their text ranges (frames in a module
// print " [name]" after them, as crash does), their kallsyms (to name
// those frames) and their ORC tables (to unwind through them).

import (
	"debug/elf"
	"fmt"
	"sort"

	"gocrash/symbols"
)

// btModule is one loaded module.
type btModule struct {
	Addr uint64 // struct module
	Name string
	Text [][2]uint64 // core and init text, [start, end)
	syms []btModSym  // text symbols, sorted by address
}

type btModSym struct {
	addr, size uint64
	name       string
}

// maxModules and maxModSyms bound walks over a corrupt module list.
const (
	maxModules = 1 << 14
	maxModSyms = 1 << 20
)

// btModules reads the modules list (kernel/module/main.c: modules). A
// kernel built without modules has no such symbol: no modules, no error.
func (s *Session) btModules() ([]*btModule, error) {
	head, ok := s.Vmlinux.Lookup("modules")
	if !ok {
		return nil, nil
	}
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	listOff, err := t.Offset("module.list")
	if err != nil {
		return nil, err
	}
	var mods []*btModule
	err = s.walkList(head, "modules", func(node uint64) error {
		if len(mods) >= maxModules {
			return fmt.Errorf("modules: more than %d entries", maxModules)
		}
		m, err := s.btModule(node - uint64(listOff))
		if err != nil {
			return err
		}
		mods = append(mods, m)
		return nil
	})
	return mods, err
}

func (s *Session) btModule(addr uint64) (*btModule, error) {
	o, err := s.Object(addr, "module")
	if err != nil {
		return nil, err
	}
	m := &btModule{Addr: addr}
	if f, err := o.Member("name"); err == nil {
		m.Name, _ = f.CString()
	}
	text, err := symbols.ModuleText(o)
	if err != nil {
		return nil, fmt.Errorf("module %s at %#x: %w", m.Name, addr, err)
	}
	for _, r := range text {
		if r[0] != 0 && r[1] != r[0] {
			m.Text = append(m.Text, r)
		}
	}
	// crash names module text from core_kallsyms, the symbols that
	// outlive init (kernel/module/kallsyms.c), plus its own markers at
	// the start of the core and init text: an address in a running init
	// function reads "_MODULE_INIT_START_name" there, and so here. On
	// 6.4+ kernels, whose struct module keeps its memory in mem[] by type
	// (struct module_memory), crash names the markers after those types
	// instead: "_MODULE_TEXT_START_name", "_MODULE_INIT_TEXT_START_name".
	coreMarker, initMarker := "_MODULE_START_", "_MODULE_INIT_START_"
	if _, err := o.Member("mem"); err == nil {
		coreMarker, initMarker = "_MODULE_TEXT_START_", "_MODULE_INIT_TEXT_START_"
	}
	for i, r := range m.Text {
		marker := coreMarker
		if i > 0 {
			marker = initMarker
		}
		m.syms = append(m.syms, btModSym{addr: r[0], name: marker + m.Name})
	}
	defer func() {
		sort.SliceStable(m.syms, func(i, j int) bool { return m.syms[i].addr < m.syms[j].addr })
	}()
	kso, err := o.Member("core_kallsyms")
	if err != nil {
		return m, nil
	}
	kget := func(path string) uint64 {
		f, err := kso.Member(path)
		if err != nil {
			return 0
		}
		if p, err := f.Pointer(); err == nil {
			return p
		}
		v, _ := f.Uint()
		return v
	}
	symtab, n, strtab := kget("symtab"), kget("num_symtab"), kget("strtab")
	if symtab == 0 || strtab == 0 || n == 0 || n > maxModSyms {
		return m, nil
	}
	buf := make([]byte, n*elf.Sym64Size)
	if err := s.Mem.ReadVirt(buf, symtab); err != nil {
		return m, nil // the symbols' page was filtered out: frames stay unnamed
	}
	for i := uint64(1); i < n; i++ {
		sym := symbols.DecodeSym64(buf[i*elf.Sym64Size:])
		if elf.ST_TYPE(sym.Info) != elf.STT_FUNC || sym.Value == 0 {
			continue
		}
		name, err := symbols.ReadCString(s.Mem, strtab+uint64(sym.Name), ksymNameLen)
		if err != nil || name == "" {
			continue
		}
		m.syms = append(m.syms, btModSym{addr: sym.Value, size: sym.Size, name: name})
	}
	return m, nil
}

// ksymNameLen bounds a module symbol's name: KSYM_NAME_LEN, 512 since 6.1.
const ksymNameLen = 512

// inText reports whether addr is in one of the module's text ranges.
func (m *btModule) inText(addr uint64) bool {
	for _, r := range m.Text {
		if addr >= r[0] && addr < r[1] {
			return true
		}
	}
	return false
}

// symbolize names addr inside the module's text.
func (m *btModule) symbolize(addr uint64) (string, uint64, bool) {
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > addr }) - 1
	if i < 0 {
		return "", 0, false
	}
	return m.syms[i].name, addr - m.syms[i].addr, true
}

// btImage is the kernel image as bt's unwinder sees it: vmlinux, and the
// loaded modules for naming their text.
type btImage struct {
	*symbols.Vmlinux
	mods []*btModule
}

// module returns the module whose text holds addr.
func (im *btImage) module(addr uint64) *btModule {
	for _, m := range im.mods {
		if m.inText(addr) {
			return m
		}
	}
	return nil
}

// Symbolize names addr from the module whose text holds it, else from
// vmlinux.
func (im *btImage) Symbolize(addr uint64) (string, uint64, bool) {
	if m := im.module(addr); m != nil {
		return m.symbolize(addr)
	}
	return im.Vmlinux.Symbolize(addr)
}
