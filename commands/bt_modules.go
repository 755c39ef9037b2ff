package commands

// Loaded modules as bt needs them: their text ranges (frames in a module
// print " [name]" after them, as crash does), their kallsyms (to name
// those frames) and their ORC tables (to unwind through them).

import (
	"sort"

	"gocrash/kernel"
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

// btModules are the loaded modules (kernel.Modules) as bt names their
// text.
func (s *Session) btModules() ([]*btModule, error) {
	kms, err := s.Modules(s.Ctx())
	mods := make([]*btModule, 0, len(kms))
	for _, km := range kms {
		mods = append(mods, newBtModule(km))
	}
	return mods, err
}

func newBtModule(km *kernel.Module) *btModule {
	m := &btModule{Addr: km.Addr, Name: km.Name, Text: km.Text}
	// crash names module text from core_kallsyms, the symbols that
	// outlive init (kernel/module/kallsyms.c), plus its own markers at
	// the start of the core and init text: an address in a running init
	// function reads "_MODULE_INIT_START_name" there, and so here. On
	// 6.4+ kernels, whose struct module keeps its memory in mem[] by type
	// (struct module_memory), crash names the markers after those types
	// instead: "_MODULE_TEXT_START_name", "_MODULE_INIT_TEXT_START_name".
	coreMarker, initMarker := "_MODULE_START_", "_MODULE_INIT_START_"
	if km.MemoryLayout {
		coreMarker, initMarker = "_MODULE_TEXT_START_", "_MODULE_INIT_TEXT_START_"
	}
	for i, r := range m.Text {
		marker := coreMarker
		if i > 0 {
			marker = initMarker
		}
		m.syms = append(m.syms, btModSym{addr: r[0], name: marker + m.Name})
	}
	for _, sym := range km.Symbols {
		if sym.Func {
			m.syms = append(m.syms, btModSym{addr: sym.Addr, size: sym.Size, name: sym.Name})
		}
	}
	sort.SliceStable(m.syms, func(i, j int) bool { return m.syms[i].addr < m.syms[j].addr })
	return m
}

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
