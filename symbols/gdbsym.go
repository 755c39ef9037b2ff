package symbols

import (
	"debug/elf"
	"encoding/binary"
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
}

var gdbSymOnce sync.Map // *Vmlinux -> *gdbSymtab (built once per image)

func (v *Vmlinux) gdbSymbols() *gdbSymtab {
	if x, ok := gdbSymOnce.Load(v); ok {
		return x.(*gdbSymtab)
	}
	g := &gdbSymtab{}
	secIdx := map[int]int{}
	for i, s := range v.f.Sections {
		// The per-cpu section is linked at 0 and is not where any pointer
		// in the dump points: gdb, relocated by crash, finds no symbol
		// for small values.
		if s.Flags&elf.SHF_ALLOC == 0 || s.Addr == 0 || s.Size == 0 {
			continue
		}
		secIdx[i] = len(g.secs)
		g.secs = append(g.secs, gdbSection{start: s.Addr, end: s.Addr + s.Size, text: s.Flags&elf.SHF_EXECINSTR != 0})
	}
	st := v.f.Section(".symtab")
	if st != nil && st.Type != elf.SHT_NOBITS && int(st.Link) < len(v.f.Sections) && st.Link != 0 {
		symData, err1 := v.rawSection(st)
		strData, err2 := v.rawSection(v.f.Sections[st.Link])
		if err1 == nil && err2 == nil {
			strtab := string(strData)
			le := binary.LittleEndian
			for i := 1; (i+1)*24 <= len(symData); i++ {
				b := symData[i*24 : (i+1)*24]
				typ := elf.SymType(b[4] & 0xf)
				if typ == elf.STT_SECTION || typ == elf.STT_FILE {
					continue
				}
				j, ok := secIdx[int(le.Uint16(b[6:]))]
				if !ok {
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
				g.secs[j].syms = append(g.secs[j].syms, gdbSym{addr: le.Uint64(b[8:]), size: le.Uint64(b[16:]), name: name})
			}
		}
	}
	for i := range g.secs {
		s := g.secs[i].syms
		slices.SortFunc(s, func(a, b gdbSym) int {
			if a.addr != b.addr {
				return cmpU64(a.addr, b.addr)
			}
			return strings.Compare(a.name, b.name)
		})
		g.secs[i].syms = slices.CompactFunc(s, func(a, b gdbSym) bool { return a.addr == b.addr && a.name == b.name })
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
	return s.name, link - s.addr, true
}
