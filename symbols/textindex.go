package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"slices"
	"sort"
)

// textIndex answers SymbolAt, the name of a code or data address, without
// the decoded symbol table: the first backtrace of a session names a few
// hundred return addresses, and decoding 58,000 symbols (120,000 on a
// distribution kernel), copying their names and putting them in the
// KASLR offset's order was most of its time. The index holds what the
// search needs of the symbols SymbolAt may answer with (symbol.inText),
// read from .symtab in the mapping: their link-time addresses and ranks,
// in the order SymbolAt's binary search wants them (cmpSym's). They all
// move with the KASLR offset, so one order serves every offset; the index
// cache's order at offset 0, or a sort, gives it. The symbol found is
// decoded alone (decodeSymNamed), the same symbol the whole table holds.
type textIndex struct {
	txt   []textEnt // in .symtab order
	order []int32   // txt by link address, then rank, then .symtab order
}

// ent is the i-th symbol in the index's order.
func (t *textIndex) ent(i int) textEnt { return t.txt[t.order[i]] }

// textEnt is one symbol of the text index.
type textEnt struct {
	addr uint64 // link-time address
	idx  int32  // .symtab entry
	rank uint8
}

// textIdx is v's text index, built on first use; nil when v's symbols do
// not come from a mapped .symtab (an image read from the dump, a table
// given whole), or v is closed: SymbolAt then searches the decoded table.
func (v *Vmlinux) textIdx() *textIndex {
	if v.base != nil {
		if v.data == nil {
			return nil
		}
		return v.base.textIdx()
	}
	if v.f == nil || v.symtab.n == 0 || v.data == nil {
		return nil
	}
	v.textOnce.Do(func() { v.text = v.buildTextIndex() })
	return v.text
}

// buildTextIndex reads .symtab once: which entries the decoded table keeps
// (decodeSym's choice, names looked at only for being empty), which of
// those are inText, and puts the latter in order.
func (v *Vmlinux) buildTextIndex() *textIndex {
	le := binary.LittleEndian
	data, str := v.symtab.data, v.symtab.str
	// A section's entries are in the table (its index is below
	// SHN_LORESERVE and names a section) and move with KASLR.
	secText := make([]bool, len(v.f.Sections))
	for i, sec := range v.f.Sections {
		secText[i] = sec.Flags&elf.SHF_ALLOC != 0 && sec.Addr != 0
	}
	// keptText[k] is the place in txt of the k-th kept symbol (the
	// decoded table's index k) when it is inText, else -1; txt is in
	// table order, read in one pass over .symtab. Whether a name is empty
	// (decodeSym leaves those out) is a look into the string table at
	// random, a third of the pass: a first pass takes the names at offset
	// 0 alone as empty (the string table's first byte is its NUL), which
	// keeps every symbol the decoded table does and perhaps more, and the
	// count of the decoded table (the index cache's) tells whether it kept
	// more; if it may have, the pass is made again looking at each name.
	keptText := make([]int32, 0, v.symtab.n)
	txt := make([]textEnt, 0, v.symtab.n)
	pass := func(lookAtNames bool) {
		keptText, txt = keptText[:0], txt[:0]
		for i := 1; i < v.symtab.n; i++ {
			b := data[i*symSize : (i+1)*symSize]
			nameOff := le.Uint32(b[0:])
			typ := elf.SymType(b[4] & 0xf)
			shndx := elf.SectionIndex(le.Uint16(b[6:]))
			if typ == elf.STT_SECTION || typ == elf.STT_FILE || shndx == elf.SHN_UNDEF || int(nameOff) >= len(str) {
				continue
			}
			if lookAtNames && str[nameOff] == 0 || !lookAtNames && nameOff == 0 {
				continue
			}
			switch {
			case shndx == elf.SHN_ABS, shndx == elf.SHN_COMMON:
				keptText = append(keptText, -1)
			case shndx < elf.SHN_LORESERVE && int(shndx) < len(secText):
				if secText[shndx] && (typ == elf.STT_FUNC || typ == elf.STT_OBJECT || typ == elf.STT_NOTYPE) {
					keptText = append(keptText, int32(len(txt)))
					txt = append(txt, textEnt{addr: le.Uint64(b[8:]), idx: int32(i),
						rank: symRank(typ, elf.SymBind(b[4]>>4), le.Uint64(b[16:]))})
				} else {
					keptText = append(keptText, -1)
				}
			}
		}
	}
	quick := len(str) > 0 && str[0] == 0 && v.cache != nil
	pass(!quick)
	if quick && len(keptText) != v.cache.nsyms {
		pass(true)
	}
	t := &textIndex{txt: txt}
	var order0 []int32
	if v.cache != nil {
		order0 = v.cache.symOrder(len(keptText))
	}
	if order0 != nil {
		t.order = make([]int32, 0, len(txt))
		for _, k := range order0 {
			if j := keptText[k]; j >= 0 {
				t.order = append(t.order, j)
			}
		}
	} else {
		// cmpSym's order: address, rank, .symtab order.
		t.order = make([]int32, len(txt))
		for j := range t.order {
			t.order[j] = int32(j)
		}
		slices.SortFunc(t.order, func(x, y int32) int {
			a, b := &txt[x], &txt[y]
			if c := cmpU64(a.addr, b.addr); c != 0 {
				return c
			}
			if c := int(a.rank) - int(b.rank); c != 0 {
				return c
			}
			return int(a.idx - b.idx)
		})
	}
	v.release(data)
	return t
}

// nameOf is .symtab entry i's name as the decoded table has it (a copy).
func (v *Vmlinux) nameOf(i int32) string {
	off := binary.LittleEndian.Uint32(v.symtab.data[int(i)*symSize:])
	return string(v.nameBytes(off))
}

func (v *Vmlinux) nameBytes(off uint32) []byte {
	if int(off) >= len(v.symtab.str) {
		return nil
	}
	b := v.symtab.str[off:]
	if j := bytes.IndexByte(b, 0); j >= 0 {
		return b[:j]
	}
	return b
}

// textSymbolAt is SymbolAt's search over the text index; link is the
// address less the KASLR offset.
func (v *Vmlinux) textSymbolAt(t *textIndex, link uint64) (Symbol, bool) {
	// First entry whose address is above link; the one before is the
	// answer (the highest-ranked of equal addresses, ranks ascending).
	i := sort.Search(len(t.order), func(n int) bool { return t.ent(n).addr > link })
	if i == 0 {
		return Symbol{}, false
	}
	// Of equally ranked symbols at one address, the last by name (as
	// SymbolAt over the decoded table).
	best := t.ent(i - 1)
	var bestName []byte
	for j := i - 2; j >= 0 && t.ent(j).addr == best.addr && t.ent(j).rank == best.rank; j-- {
		if bestName == nil {
			bestName = v.nameBytes(binary.LittleEndian.Uint32(v.symtab.data[int(best.idx)*symSize:]))
		}
		e := t.ent(j)
		if n := v.nameBytes(binary.LittleEndian.Uint32(v.symtab.data[int(e.idx)*symSize:])); string(n) > string(bestName) {
			best, bestName = e, n
		}
	}
	s, ok := v.decodeSymNamed(int(best.idx), v.nameOf(best.idx))
	if !ok {
		return Symbol{}, false
	}
	return v.export(s), true
}
