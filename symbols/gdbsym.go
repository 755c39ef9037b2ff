package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Resolve strips typedefs and qualifiers from typ and replaces a struct or
// union declaration by its complete definition.
func (t *Types) Resolve(typ godwarf.Type) (godwarf.Type, error) { return t.resolve(typ) }

// gdbSymtab is the symbol table the way gdb's minimal symbols see it: per
// allocated section, the symbols in it sorted by address and, at one
// address, by name (gdb's compare_minimal_symbols).
type gdbSymtab struct {
	secs []gdbSection
}

type gdbSection struct {
	start, end uint64 // link-time
	text       bool
	syms       []gdbSym
}

type gdbSym struct {
	addr, size uint64 // link-time
	name       string
	order      int // index in .symtab
}

var gdbSymOnce sync.Map // *Vmlinux -> *gdbSymtab (built once per image)

func (v *Vmlinux) gdbSymbols() *gdbSymtab {
	if x, ok := gdbSymOnce.Load(v); ok {
		return x.(*gdbSymtab)
	}
	g := &gdbSymtab{}
	secIdx := make([]int, len(v.f.Sections)) // section index -> g.secs index+1
	for i, s := range v.f.Sections {
		// The per-cpu section is linked at 0 and is not where any pointer
		// in the dump points: gdb, relocated by crash, finds no symbol
		// for small values.
		if s.Flags&elf.SHF_ALLOC == 0 || s.Addr == 0 || s.Size == 0 {
			continue
		}
		secIdx[i] = len(g.secs) + 1
		g.secs = append(g.secs, gdbSection{start: s.Addr, end: s.Addr + s.Size, text: s.Flags&elf.SHF_EXECINSTR != 0})
	}
	st := v.f.Section(".symtab")
	if st != nil && st.Type != elf.SHT_NOBITS && int(st.Link) < len(v.f.Sections) && st.Link != 0 {
		symData, err1 := v.rawSection(st)
		strData, err2 := v.rawSection(v.f.Sections[st.Link])
		if err1 == nil && err2 == nil {
			strtab := string(strData)
			le := binary.LittleEndian
			// sec is the symbol's g.secs index, or -1
			sec := func(b []byte) int {
				typ := elf.SymType(b[4] & 0xf)
				if typ == elf.STT_SECTION || typ == elf.STT_FILE {
					return -1
				}
				if k := int(le.Uint16(b[6:])); k < len(secIdx) {
					return secIdx[k] - 1
				}
				return -1
			}
			// counted first: each section's slice is made once
			counts := make([]int, len(g.secs))
			for i := 1; (i+1)*24 <= len(symData); i++ {
				if j := sec(symData[i*24 : (i+1)*24]); j >= 0 {
					counts[j]++
				}
			}
			for j := range g.secs {
				g.secs[j].syms = make([]gdbSym, 0, counts[j])
			}
			for i := 1; (i+1)*24 <= len(symData); i++ {
				b := symData[i*24 : (i+1)*24]
				j := sec(b)
				if j < 0 {
					continue
				}
				off := le.Uint32(b[0:])
				if int(off) >= len(strtab) {
					continue
				}
				name := strtab[off:]
				if k := strings.IndexByte(name, 0); k >= 0 {
					name = name[:k]
				}
				if name == "" {
					continue
				}
				g.secs[j].syms = append(g.secs[j].syms, gdbSym{addr: le.Uint64(b[8:]), size: le.Uint64(b[16:]), name: name, order: i})
			}
		}
	}
	if v.mem != nil {
		// An image in memory: kallsyms, sized by sizeSymbols.
		for _, sym := range v.syms {
			if !sym.reloc {
				continue
			}
			for j := range g.secs {
				if sym.addr >= g.secs[j].start && sym.addr < g.secs[j].end {
					g.secs[j].syms = append(g.secs[j].syms, gdbSym{addr: sym.addr, size: sym.size, name: sym.name, order: int(sym.order)})
					break
				}
			}
		}
	}
	for i := range g.secs {
		s := g.secs[i].syms
		// sorted through 16-byte keys (the symbols are 48 bytes: moving
		// them was most of the first struct command's symbol cost)
		type key struct {
			addr uint64
			i    int32
		}
		keys := make([]key, len(s))
		for j := range s {
			keys[j] = key{s[j].addr, int32(j)}
		}
		slices.SortFunc(keys, func(a, b key) int {
			if a.addr != b.addr {
				return cmpU64(a.addr, b.addr)
			}
			return strings.Compare(s[a.i].name, s[b.i].name)
		})
		sorted := make([]gdbSym, len(s))
		for j, k := range keys {
			sorted[j] = s[k.i]
		}
		g.secs[i].syms = slices.CompactFunc(sorted, func(a, b gdbSym) bool { return a.addr == b.addr && a.name == b.name })
	}
	x, _ := gdbSymOnce.LoadOrStore(v, g)
	return x.(*gdbSymtab)
}

// GDBSymbol names addr the way gdb prints "<name+off>" after a pointer:
// only addresses inside one of the image's allocated sections have one;
// of the symbols at or below addr in that section, the nearest with a
// size that covers addr, else the nearest sized-zero symbol above that
// one (a label); a data label of size zero names nothing (gdb's
// lookup_minimal_symbol_by_pc_section and build_address_symbolic).
func (v *Vmlinux) GDBSymbol(addr uint64) (name string, off uint64, ok bool) {
	link := addr - v.kaslr
	g := v.gdbSymbols()
	var sec *gdbSection
	for i := range g.secs {
		if link >= g.secs[i].start && link < g.secs[i].end {
			sec = &g.secs[i]
			break
		}
	}
	if sec == nil {
		return "", 0, false
	}
	syms := sec.syms
	hi, _ := slices.BinarySearchFunc(syms, link, func(s gdbSym, a uint64) int {
		if s.addr <= a {
			return -1
		}
		return 1
	})
	hi--
	zero := -1
	for hi >= 0 && syms[hi].size == 0 {
		if zero < 0 {
			zero = hi
		}
		hi--
	}
	if zero >= 0 && hi < 0 {
		hi = zero
	}
	if hi < 0 {
		return "", 0, false
	}
	if syms[hi].size != 0 && link >= syms[hi].addr+syms[hi].size {
		if zero < 0 {
			return "", 0, false
		}
		hi = zero
	}
	s := syms[hi]
	if s.size == 0 && !sec.text {
		return "", 0, false
	}
	if sec.text {
		// In text gdb names the DWARF function (find_pc_sect_function)
		// before the minimal symbol: of aliases at one address
		// (__do_sys_getpid and its __x64_sys_getpid), the static
		// function the compiler described, first in .symtab.
		for i := hi - 1; i >= 0 && syms[i].addr == s.addr; i-- {
			if syms[i].order < s.order && syms[i].size == s.size {
				s = syms[i]
			}
		}
		for i := hi + 1; i < len(syms) && syms[i].addr == s.addr; i++ {
			if syms[i].order < s.order && syms[i].size == s.size {
				s = syms[i]
			}
		}
	}
	return s.name, link - s.addr, true
}

// TypeAt decodes the type whose DIE is at off (a DW_AT_type reference).
func (t *Types) TypeAt(off dwarf.Offset) (godwarf.Type, error) {
	if t.dwarf != nil {
		return t.dwarf.readType(off)
	}
	return t.readType(off)
}

// FuncType is the C type of the function named name that starts at pc
// (relocated by KASLR: kaslr is subtracted to find its DWARF): its return
// type and its parameters' types, read from the function's
// DW_TAG_subprogram in the unit that holds pc.
func (t *Types) FuncType(pc, kaslr uint64, name string) (*godwarf.FuncType, error) {
	if t.dwarf != nil {
		return t.dwarf.FuncType(pc, kaslr, name)
	}
	if t.btf != nil {
		return t.btf.funcType(name)
	}
	d, err := t.fullData()
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fmt.Errorf("no DWARF for %s", name)
	}
	r := d.Reader()
	if t.vm != nil {
		cu, err := r.SeekPC(pc - kaslr)
		if err != nil || cu == nil {
			return nil, fmt.Errorf("no debug information for function %s", name)
		}
	}
	// A module's object file (no vmlinux): its sections all start at 0,
	// so the function is found by its name alone, in every unit.
	for {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil || (e.Tag == 0 && t.vm != nil) {
			break
		}
		if e.Tag == 0 || e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			continue
		}
		if e.Tag != dwarf.TagSubprogram {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		n, _ := e.Val(dwarf.AttrName).(string)
		spec := e
		if n == "" {
			// A definition completing an earlier declaration.
			for _, a := range []dwarf.Attr{dwarf.AttrSpecification, dwarf.AttrAbstractOrigin} {
				if off, ok := e.Val(a).(dwarf.Offset); ok {
					sr := d.Reader()
					sr.Seek(off)
					if se, err := sr.Next(); err == nil && se != nil {
						n, _ = se.Val(dwarf.AttrName).(string)
						spec = se
					}
					break
				}
			}
		}
		low, _ := e.Val(dwarf.AttrLowpc).(uint64)
		if n != name || (low != 0 && low != pc-kaslr && t.vm != nil) {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		ft := &godwarf.FuncType{}
		ft.ByteSize = 1
		if off, ok := spec.Val(dwarf.AttrType).(dwarf.Offset); ok {
			if ft.ReturnType, err = t.readType(off); err != nil {
				return nil, err
			}
		} else {
			ft.ReturnType = &godwarf.VoidType{}
		}
		// Parameters are the children of the entry that has them.
		pr := r
		if spec != e {
			pr = d.Reader()
			pr.Seek(spec.Offset)
			if _, err := pr.Next(); err != nil {
				return nil, err
			}
			if !spec.Children {
				return ft, nil
			}
		} else if !e.Children {
			return ft, nil
		}
		for {
			k, err := pr.Next()
			if err != nil {
				return nil, err
			}
			if k == nil || k.Tag == 0 {
				break
			}
			switch k.Tag {
			case dwarf.TagFormalParameter:
				off, ok := k.Val(dwarf.AttrType).(dwarf.Offset)
				if !ok {
					break
				}
				pt, err := t.readType(off)
				if err != nil {
					return nil, err
				}
				ft.ParamType = append(ft.ParamType, pt)
			case dwarf.TagUnspecifiedParameters:
				ft.ParamType = append(ft.ParamType, &godwarf.DotDotDotType{})
			}
			if k.Children {
				pr.SkipChildren()
			}
		}
		return ft, nil
	}
	return nil, fmt.Errorf("no debug information for function %s", name)
}

// ModuleFuncType is the type of a module's function from the modules'
// BTF (SetModuleTypes; BTF has a module's functions as it has the
// kernel's), or an error.
func (t *Types) ModuleFuncType(name string) (*godwarf.FuncType, error) {
	for _, mt := range t.moduleTypeList() {
		if mt.btf == nil {
			continue
		}
		if ft, err := mt.btf.funcType(name); err == nil {
			return ft, nil
		}
	}
	return nil, fmt.Errorf("no module function %s in the modules' BTF", name)
}

// EnumOf returns the enumeration type that declares the enumerator name.
func (t *Types) EnumOf(name string) (*godwarf.EnumType, error) {
	var v enumVal
	ok := false
	err := t.query("enumerator "+name, name, func(x *nameIndex) bool {
		v, ok = x.enumerators[name]
		return ok
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no enumerator %q in the kernel's DWARF", name)
	}
	if t.btf != nil {
		// The index keeps the enumeration's type ID.
		typ, err := t.readType(v.off)
		if err != nil {
			return nil, err
		}
		et, ok := typ.(*godwarf.EnumType)
		if !ok {
			return nil, fmt.Errorf("enumerator %s: its BTF type is a %T", name, typ)
		}
		return et, nil
	}
	// The enumerator's DIE is a child of its enumeration type: find the
	// parent by reading the unit's entries up to it.
	d, err := t.fullData()
	if err != nil || d == nil {
		return nil, fmt.Errorf("no DWARF for enumerator %s", name)
	}
	r := d.Reader()
	var parent dwarf.Offset
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return nil, fmt.Errorf("enumerator %s: its type not found", name)
		}
		if e.Tag == dwarf.TagEnumerationType {
			parent = e.Offset
		}
		if e.Offset == v.off {
			break
		}
		if e.Offset > v.off {
			return nil, fmt.Errorf("enumerator %s: its type not found", name)
		}
		if e.Tag != dwarf.TagEnumerationType && e.Tag != dwarf.TagCompileUnit && e.Tag != dwarf.TagPartialUnit && e.Children {
			r.SkipChildren()
		}
	}
	typ, err := t.readType(parent)
	if err != nil {
		return nil, err
	}
	et, ok := typ.(*godwarf.EnumType)
	if !ok {
		return nil, fmt.Errorf("enumerator %s: parent is a %T", name, typ)
	}
	return et, nil
}

// DeclaredVarType is the type gdb gives a global variable: that of its
// first definition, even one that takes an array of unknown size from its
// declaration (`const char linux_banner[] __weak;` before the sized one in
// a later unit); a variable only declared has its declaration's type.
func (t *Types) DeclaredVarType(name string) (godwarf.Type, error) {
	if t.dwarf != nil {
		return t.dwarf.DeclaredVarType(name)
	}
	var d firstDef
	ok := false
	if err := t.query("variable "+name, name, func(x *nameIndex) bool {
		// Batches of units merge in order: the first definition found
		// is the first of all.
		d, ok = x.varDefs[name]
		return ok
	}); err != nil {
		return nil, err
	}
	if !ok {
		return t.VarType(name)
	}
	return t.readType(d.ref.off)
}

// firstDef is a variable's definition: its DIE's offset, and its type.
type firstDef struct {
	die dwarf.Offset
	ref dieRef
}

func putFirstDef(m map[string]firstDef, name string, die dwarf.Offset, r dieRef) {
	if old, ok := m[name]; !ok || die < old.die {
		m[name] = firstDef{die, r}
	}
}
