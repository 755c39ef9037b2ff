package symbols

// ORC tables of loaded modules, read from kernel memory.

import "fmt"

// ModuleORC wraps a loaded module's ORC table read from kernel memory:
// mod->arch.orc_unwind_ip, mod->arch.orc_unwind and mod->arch.num_orcs
// (arch/x86/include/asm/module.h; unwind_module_init() sorted them in place
// at load time). text are the module's text ranges, outside which the
// table does not answer.
func ModuleORC(mem Memory, ipAddr, orcAddr uint64, n int, v ORCVersion, text [][2]uint64) (*ORCTable, error) {
	if n <= 0 || n > 1<<22 {
		return nil, fmt.Errorf("module ORC: implausible num_orcs %d", n)
	}
	ips := make([]byte, 4*n)
	if err := mem.ReadVirt(ips, ipAddr); err != nil {
		return nil, fmt.Errorf("module orc_unwind_ip at %#x: %w", ipAddr, err)
	}
	orcs := make([]byte, orcEntrySize*n)
	if err := mem.ReadVirt(orcs, orcAddr); err != nil {
		return nil, fmt.Errorf("module orc_unwind at %#x: %w", orcAddr, err)
	}
	t, err := ParseORC(ips, ipAddr, orcs, v)
	if err != nil {
		return nil, err
	}
	t.how = "module"
	var ranges [][2]uint64
	for _, r := range text {
		if r[0] < r[1] {
			ranges = append(ranges, r)
		}
	}
	t.SetTextRanges(ranges)
	return t, nil
}

// ModuleORCFrom reads the ORC table of the module whose struct module is at
// mod, with its text: mem[MOD_TEXT] and mem[MOD_INIT_TEXT] since 6.4,
// core_layout and init_layout before (a module oopsing in its init
// function runs from init text). v is vmlinux's layout (ORC().Version()).
func ModuleORCFrom(t *Types, mem Memory, mod uint64, v ORCVersion) (name string, tab *ORCTable, err error) {
	o, err := t.Object(mem, mod, "module")
	if err != nil {
		return "", nil, err
	}
	if f, err := o.Member("name"); err == nil {
		name, _ = f.CString()
	}
	fail := func(err error) (string, *ORCTable, error) {
		return name, nil, fmt.Errorf("module %s at %#x: %w", name, mod, err)
	}
	u := o.moduleWord
	n, err := u("arch.num_orcs")
	if err != nil {
		return fail(err)
	}
	if n == 0 {
		return name, nil, nil // built without objtool ORC data
	}
	ips, err := u("arch.orc_unwind_ip")
	if err != nil {
		return fail(err)
	}
	orcs, err := u("arch.orc_unwind")
	if err != nil {
		return fail(err)
	}
	text, err := ModuleText(o)
	if err != nil {
		return fail(err)
	}
	tab, err = ModuleORC(mem, ips, orcs, int(n), v, text)
	if err != nil {
		return fail(err)
	}
	tab.how = "module " + name
	return name, tab, nil
}

// ModuleText is the text of the loaded module o (a struct module): core
// text first, then init text, as [start, end) pairs, empty ones included.
// They are mem[MOD_TEXT] and mem[MOD_INIT_TEXT] since 6.4, core_layout and
// init_layout before (include/linux/module.h).
func ModuleText(o Object) ([][2]uint64, error) {
	t := o.Types()
	var text [][2]uint64
	if t.HasMember("module", "mem") {
		for _, e := range []string{"MOD_TEXT", "MOD_INIT_TEXT"} {
			i, err := t.Enumerator(e)
			if err != nil {
				return nil, err
			}
			base, err1 := o.moduleWord(fmt.Sprintf("mem[%d].base", i))
			size, err2 := o.moduleWord(fmt.Sprintf("mem[%d].size", i))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("mem[%s]: %v %v", e, err1, err2)
			}
			text = append(text, [2]uint64{base, base + size})
		}
		return text, nil
	}
	for _, l := range []string{"core_layout", "init_layout"} {
		base, err1 := o.moduleWord(l + ".base")
		size, err2 := o.moduleWord(l + ".text_size")
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: %v %v", l, err1, err2)
		}
		text = append(text, [2]uint64{base, base + size})
	}
	return text, nil
}

// moduleWord reads the member at path as an address: struct module keeps
// some as pointers and some as unsigned longs, depending on the kernel.
func (o Object) moduleWord(path string) (uint64, error) {
	f, err := o.Member(path)
	if err != nil {
		return 0, err
	}
	if p, err := f.Pointer(); err == nil {
		return p, nil
	}
	return f.Uint()
}
