package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"slices"
	"strings"
)

// The symbol table as crash 8.0.6 builds it (symbols.c symtab_init,
// store_symbols; x86_64.c x86_64_verify_symbol), for the commands that
// print it (sym -l, sym -q, sym NAME): crash reads every defined symbol
// through bfd, sorts them by link-time value and then by name (its
// numeric_forward), and then keeps, until the first of _text or _stext,
// only __per_cpu_start and, after it, per-cpu symbols (names starting
// "per_cpu", __per_cpu_end, or of class V, d or D); from _text on it keeps
// everything. A value inside the kernel image's sections moves with KASLR,
// absolute ones included. The class letter is bfd's (bfd/syms.c
// decode_section_type): a section that is not allocated reads 'b' if it
// has no contents, 'N' for debugging sections, 'n' when read-only, else
// '?'.

// CrashSymbols returns the symbol table in crash's order and selection
// (see above), built on first use. The slice is shared: do not modify it.
func (v *Vmlinux) CrashSymbols() []Symbol {
	v.crashMu.Lock()
	defer v.crashMu.Unlock()
	if v.crashSyms == nil || v.crashKASLR != v.kaslr {
		v.crashSyms, v.crashKASLR = v.buildCrashSymbols(), v.kaslr
	}
	return v.crashSyms
}

type crashSym struct {
	name string
	link uint64
	kind byte
}

func (v *Vmlinux) buildCrashSymbols() []Symbol {
	if v.mem != nil {
		return v.crashSymbolsFromKallsyms()
	}
	st := v.f.Section(".symtab")
	if st == nil || int(st.Link) >= len(v.f.Sections) || st.Link == 0 {
		return nil
	}
	symData, err := v.rawSection(st)
	if err != nil {
		return nil
	}
	strData, err := v.rawSection(v.f.Sections[st.Link])
	if err != nil {
		return nil
	}
	var lo, hi uint64 = ^uint64(0), 0
	for _, s := range v.f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Addr != 0 {
			lo = min(lo, s.Addr)
			hi = max(hi, s.Addr+s.Size)
		}
	}
	const symSize = 24
	le := binary.LittleEndian
	var all []crashSym
	for i := 1; i+1 <= len(symData)/symSize; i++ {
		b := symData[i*symSize : (i+1)*symSize]
		nameOff := le.Uint32(b[0:])
		info := b[4]
		shndx := elf.SectionIndex(le.Uint16(b[6:]))
		value := le.Uint64(b[8:])
		typ := elf.SymType(info & 0xf)
		bind := elf.SymBind(info >> 4)
		if shndx == elf.SHN_UNDEF || typ == elf.STT_FILE || int(nameOff) >= len(strData) {
			continue
		}
		nb := strData[nameOff:]
		if j := bytes.IndexByte(nb, 0); j >= 0 {
			nb = nb[:j]
		}
		name := string(nb)
		if name == "" && typ == elf.STT_SECTION && shndx < elf.SHN_LORESERVE && int(shndx) < len(v.f.Sections) {
			// bfd names a section symbol by its section (Debian's vmlinux
			// keeps them: ".rodata", "__ksymtab", ".data" in crash's sym -l).
			name = v.f.Sections[shndx].Name
		}
		if name == "" {
			continue
		}
		var kind byte
		switch {
		case shndx == elf.SHN_ABS:
			kind = 'a'
		case shndx == elf.SHN_COMMON:
			kind = 'c'
		case shndx < elf.SHN_LORESERVE && int(shndx) < len(v.f.Sections):
			kind = bfdSectionClass(v.f.Sections[shndx])
		default:
			continue
		}
		switch {
		case bind == elf.STB_WEAK && typ == elf.STT_OBJECT:
			kind = 'V'
		case bind == elf.STB_WEAK:
			kind = 'W'
		case bind == elf.STB_GLOBAL && kind >= 'a' && kind <= 'z':
			kind -= 'a' - 'A'
		}
		all = append(all, crashSym{name: name, link: value, kind: kind})
	}
	return v.crashSelect(all, lo, hi)
}

// crashSymbolsFromKallsyms is the table from an image in memory: kallsyms'
// type letters are nm's, which are bfd's classes.
func (v *Vmlinux) crashSymbolsFromKallsyms() []Symbol {
	var lo, hi uint64 = ^uint64(0), 0
	for _, s := range v.f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Addr != 0 {
			lo = min(lo, s.Addr)
			hi = max(hi, s.Addr+s.Size)
		}
	}
	// Per-cpu symbols: scripts/kallsyms.c's --absolute-percpu types them
	// 'A', losing the class crash lists them with (bfd's D or d, from
	// .data..percpu); BTF's per-cpu VARs give it by their linkage, and the
	// linker's __per_cpu_start/__per_cpu_end are globals. A per-cpu
	// symbol BTF does not know (an assembler one) is left out rather
	// than misclassed.
	types, _ := v.Types()
	all := make([]crashSym, 0, len(v.syms))
	for _, s := range v.syms {
		if !s.reloc {
			global, ok := types.VarLinkage(s.name)
			switch {
			case s.name == "__per_cpu_start" || s.name == "__per_cpu_end":
				s.kind = 'D'
			case ok && global:
				s.kind = 'D'
			case ok:
				s.kind = 'd'
			case knownPerCPU[s.name]:
				// A kernel whose BTF has no per-cpu VARs (Debian's
				// 5.10): the ones gocrash knows are globals.
				s.kind = 'D'
			default:
				continue
			}
		}
		if s.reloc {
			// kallsyms' addresses are the running kernel's: every one
			// moves with KASLR, also those past the image's sections
			// (__init_scratch_begin/end, beyond _end: left at their
			// link addresses, the last symbols of the table put every
			// kernel address out of sym's range).
			lo, hi = min(lo, s.addr), max(hi, s.addr)
		}
		all = append(all, crashSym{name: s.name, link: s.addr, kind: s.kind})
	}
	return v.crashSelect(all, lo, hi)
}

// crashSelect sorts and selects as crash does (see CrashSymbols).
func (v *Vmlinux) crashSelect(all []crashSym, lo, hi uint64) []Symbol {
	slices.SortStableFunc(all, func(a, b crashSym) int {
		if c := cmpU64(a.link, b.link); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]Symbol, 0, len(all))
	started, percpu := false, false
	for _, s := range all {
		if !started {
			switch {
			case s.name == "_text" || s.name == "_stext":
				started = true
			case s.name == "__per_cpu_start":
				percpu = true
			case percpu && (strings.HasPrefix(s.name, "per_cpu") || s.name == "__per_cpu_end" ||
				s.kind == 'V' || s.kind == 'd' || s.kind == 'D'):
			default:
				continue
			}
		}
		// crash's strip_symbol_end, after the sort by the full name.
		for _, cut := range []string{".isra.", ".part.", ".llvm."} {
			if i := strings.Index(s.name, cut); i >= 0 {
				s.name = s.name[:i]
				break
			}
		}
		addr := s.link
		if addr >= lo && addr <= hi {
			addr += v.kaslr
		}
		out = append(out, Symbol{Name: s.name, Addr: addr, Kind: s.kind})
	}
	return out
}

// bfdSectionClass is bfd's lower-case class of a symbol in section s.
func bfdSectionClass(s *elf.Section) byte {
	switch {
	case s.Flags&elf.SHF_EXECINSTR != 0 && s.Flags&elf.SHF_ALLOC != 0:
		return 't'
	case s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS:
		if s.Flags&elf.SHF_WRITE == 0 {
			return 'r'
		}
		return 'd'
	case s.Type == elf.SHT_NOBITS:
		return 'b'
	case strings.HasPrefix(s.Name, ".debug") || strings.HasPrefix(s.Name, ".stab"):
		return 'N'
	case s.Flags&elf.SHF_WRITE == 0:
		return 'n'
	}
	return '?'
}

// TextRanges are the kernel image's executable sections, relocated: what
// crash's is_kernel_text calls text.
func (v *Vmlinux) TextRanges() [][2]uint64 {
	var out [][2]uint64
	for _, s := range v.f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Flags&elf.SHF_EXECINSTR != 0 && s.Addr != 0 {
			out = append(out, [2]uint64{s.Addr + v.kaslr, s.Addr + s.Size + v.kaslr})
		}
	}
	return out
}

// BFDSectionName is crash 8.0.6's get_section for a kernel address: the
// name of the first of the vmlinux's sections as bfd lists them (every
// section but the null one, the symbol and string tables and relocations)
// whose link-time range holds addr, or "". crash compares the relocated
// address with the link-time ranges: under KASLR only the sections linked
// at 0 (.data..percpu, the per-cpu offsets) still hold what they should.
func (v *Vmlinux) BFDSectionName(addr uint64) string {
	if v == nil || v.f == nil {
		return ""
	}
	for _, s := range v.f.Sections {
		switch s.Type {
		case elf.SHT_NULL, elf.SHT_SYMTAB, elf.SHT_STRTAB, elf.SHT_RELA, elf.SHT_REL:
			continue
		}
		if addr >= s.Addr && addr-s.Addr < s.Size {
			return s.Name
		}
	}
	return ""
}
