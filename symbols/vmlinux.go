// Package symbols reads a kernel image (vmlinux): its ELF symbol table, static
// section contents, and its DWARF type information, and reads typed kernel
// objects from any Memory.
package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// A Symbol is one entry of the vmlinux symbol table.
type Symbol struct {
	Name string
	Addr uint64 // relocated by the KASLR offset unless the symbol is absolute or per-cpu
	Size uint64
	// Kind is nm's one-letter class: T/t text, D/d data, R/r read-only data,
	// B/b bss, A absolute, W/w weak; lower case means local.
	Kind byte
}

// symbol is the in-memory form; addr is the link-time value.
type symbol struct {
	name   string
	addr   uint64
	size   uint64
	kind   byte
	reloc  bool  // moves with KASLR (in an allocated section with a non-zero address)
	inText bool  // a candidate for Symbolize
	rank   uint8 // preference among symbols at one address; higher wins
	order  int32 // index in .symtab
}

// A Vmlinux is an open kernel image.
type Vmlinux struct {
	path   string
	data   []byte   // the whole file, mapped read-only
	mapped bool     // data came from mapFile
	file   *os.File // the file mapped, kept open for unit windows (nil from openBytes)
	f      *elf.File
	kaslr  uint64
	image  []span // allocated sections with a non-zero address, link-time addresses

	// The symbol table is decoded on first use, and sorted by address
	// only when an address is asked about: `sys` asks a few dozen names
	// and no address, and a distribution vmlinux has ~120k symbols
	// (decoding, sorting and hashing them was half of the start-up).
	symtab   symtabRef
	symsOnce sync.Once
	syms     []symbol // in .symtab order (entries readSymtab skips left out)

	// text answers SymbolAt without the decoded table (textindex.go).
	textOnce sync.Once
	text     *textIndex

	sortMu sync.Mutex
	sorted atomic.Pointer[symOrder]
	nameMu sync.Mutex
	names  atomic.Pointer[nameTable]

	// cache is the build-id-keyed index of this file (cache.go), nil when
	// there is none: it answers name lookups without decoding the table
	// and gives its address order without a sort.
	cache *indexCache

	secMu    sync.Mutex
	secCache map[string][]byte // decompressed SHF_COMPRESSED sections

	typesOnce sync.Once
	types     *Types
	typesErr  error

	// mem is set on an image read from the dump (memimage.go): its
	// sections' contents are the kernel's memory, its symbols kallsyms.
	mem      Memory
	memBuild string // the dump's BUILD-ID
	memErr   error  // why the image has no symbols (kallsyms unreadable)

	crashMu    sync.Mutex
	crashSyms  []Symbol // crash's symbol table (crashsyms.go)
	crashKASLR uint64   // the offset crashSyms was relocated by

	// base is the Vmlinux a Share was made from: the decoded symbol
	// table and the types are base's, and Close leaves base's mapping.
	base *Vmlinux
}

type span struct{ start, end uint64 }

// symtabRef is .symtab and its string table, in the mapping.
type symtabRef struct {
	data []byte // Elf64_Sym entries
	str  []byte // the string table, mapped
	n    int    // entries, the reserved null one included
}

// symOrder is the symbol table sorted for one KASLR offset.
type symOrder struct {
	kaslr   uint64
	order   []int32 // indexes into syms by relocated address, then rank, then .symtab order
	addrIdx []int32 // the ones usable by Symbolize (inText), in that order
}

// nameTable maps each name to the index in syms of its preferred symbol
// (preferName) for one KASLR offset. Which of several symbols of one name
// is preferred may change with the offset (a per-cpu symbol does not move,
// a relocated one does), so only those names are picked again after
// SetKASLR: byName and dups are shared by the tables of every offset.
type nameTable struct {
	kaslr  uint64
	byName *symHash           // the first symbol of each name, in .symtab order
	syms   []symbol           // what byName indexes
	dups   map[string][]int32 // the symbols of names more than one symbol has
	pick   map[string]int32   // each name in dups: its preferred symbol at kaslr
}

// lookup is the index in syms of name's preferred symbol.
func (t *nameTable) lookup(name string) (int32, bool) {
	if i, ok := t.pick[name]; ok {
		return i, true
	}
	return t.byName.find(t.syms, name)
}

// Open maps the vmlinux at path and checks its symbol table. Symbols are
// decoded when first asked for; DWARF is not touched until Types is called.
func Open(path string) (*Vmlinux, error) {
	data, file, err := mapFileKeep(path)
	if err != nil {
		return nil, err
	}
	v, err := newVmlinux(path, data)
	if err != nil {
		unmapFile(data)
		file.Close()
		return nil, err
	}
	v.mapped, v.file = true, file
	v.checked()
	v.cache = openIndexCache(v)
	return v, nil
}

// openBytes is Open over bytes already in memory (tests, fuzzing).
func openBytes(name string, data []byte) (*Vmlinux, error) {
	return newVmlinux(name, data)
}

func newVmlinux(path string, data []byte) (*Vmlinux, error) {
	if len(data) < 4 || string(data[:4]) != elf.ELFMAG {
		// debug/elf would say "bad magic number '[116 104 105 115]'".
		return nil, fmt.Errorf("%s: not an ELF file (a vmlinux was expected): magic % x", path, data[:min(len(data), 4)])
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("%s: not a 64-bit little-endian ELF file (class %v, data %v)", path, f.Class, f.Data)
	}
	v := &Vmlinux{path: path, data: data, f: f, secCache: map[string][]byte{}}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Addr != 0 && s.Size != 0 {
			v.image = append(v.image, span{s.Addr, s.Addr + s.Size})
		}
	}
	if err := v.checkSymtab(); err != nil {
		return nil, err
	}
	return v, nil
}

// release drops the pages under b, part of the file's mapping, from the
// resident set (lazyindex.go's dontNeed); nothing for bytes not mapped.
func (v *Vmlinux) release(b []byte) {
	if v.mapped {
		dontNeed(b)
	}
}

const symSize = 24 // sizeof(Elf64_Sym)

// checkSymtab finds .symtab and its string table in the mapping and checks
// every entry's name offset, so that a damaged table fails Open with the
// entry named, as when the whole table was read at once. The entries
// themselves are decoded later (loadSyms) straight from the mapping:
// debug/elf's File.Symbols would allocate a string per symbol and copy the
// table.
func (v *Vmlinux) checkSymtab() error {
	st := v.f.Section(".symtab")
	if st == nil || st.Type == elf.SHT_NOBITS {
		return fmt.Errorf("%s: no .symtab section (stripped kernel image?)", v.path)
	}
	if st.Flags&elf.SHF_COMPRESSED != 0 {
		return fmt.Errorf("%s: .symtab is compressed", v.path)
	}
	symData, err := v.rawSection(st)
	if err != nil {
		return err
	}
	if int(st.Link) >= len(v.f.Sections) || st.Link == 0 {
		return fmt.Errorf("%s: .symtab links to string table section %d of %d", v.path, st.Link, len(v.f.Sections))
	}
	strData, err := v.rawSection(v.f.Sections[st.Link])
	if err != nil {
		return err
	}
	if len(symData)%symSize != 0 {
		return fmt.Errorf("%s: .symtab size %d is not a multiple of %d", v.path, len(symData), symSize)
	}
	v.symtab = symtabRef{data: symData, str: strData, n: len(symData) / symSize}
	le := binary.LittleEndian
	for i := 1; i < v.symtab.n; i++ {
		if nameOff := le.Uint32(symData[i*symSize:]); int(nameOff) >= len(strData) {
			return fmt.Errorf("%s: .symtab entry %d: name offset %#x beyond string table (%d bytes)", v.path, i, nameOff, len(strData))
		}
	}
	return nil
}

// checked is called by Open once the file is known to be mapped: the
// check's pages of .symtab may leave the resident set (a session that
// looks up names in the index cache reads a few entries again).
func (v *Vmlinux) checked() { v.release(v.symtab.data) }

// decodeSym decodes .symtab entry i (checkSymtab checked its name offset);
// ok is false for the entries the table leaves out: section and file
// symbols, undefined and unnamed ones. The name is a substring of strtab, a
// copy of the whole string table, or when strtab is "" a copy of its own
// (names must outlive Close, which unmaps the file).
func (v *Vmlinux) decodeSym(i int, strtab string) (s symbol, ok bool) {
	if i <= 0 || i >= v.symtab.n {
		return s, false
	}
	le := binary.LittleEndian
	b := v.symtab.data[i*symSize : (i+1)*symSize]
	nameOff := le.Uint32(b[0:])
	info := b[4]
	shndx := elf.SectionIndex(le.Uint16(b[6:]))
	typ := elf.SymType(info & 0xf)
	if typ == elf.STT_SECTION || typ == elf.STT_FILE || shndx == elf.SHN_UNDEF || int(nameOff) >= len(v.symtab.str) {
		return s, false
	}
	var name string
	if strtab != "" {
		name = strtab[nameOff:]
		if j := strings.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
	} else {
		name = string(cstrAt(v.symtab.str, uint64(nameOff)))
	}
	return v.decodeSymNamed(i, name)
}

// decodeSymNamed is decodeSym with entry i's name given.
func (v *Vmlinux) decodeSymNamed(i int, name string) (s symbol, ok bool) {
	le := binary.LittleEndian
	b := v.symtab.data[i*symSize : (i+1)*symSize]
	info := b[4]
	shndx := elf.SectionIndex(le.Uint16(b[6:]))
	typ := elf.SymType(info & 0xf)
	bind := elf.SymBind(info >> 4)
	if name == "" {
		return s, false
	}
	s = symbol{name: name, addr: le.Uint64(b[8:]), size: le.Uint64(b[16:]), order: int32(i)}
	var sec *elf.Section
	switch {
	case shndx == elf.SHN_ABS:
		s.kind = 'A'
	case shndx == elf.SHN_COMMON:
		s.kind = 'C'
	case shndx < elf.SHN_LORESERVE && int(shndx) < len(v.f.Sections):
		sec = v.f.Sections[shndx]
		s.kind = sectionKind(sec)
	default:
		return s, false
	}
	s.kind = bindKind(s.kind, bind)
	if sec != nil && sec.Flags&elf.SHF_ALLOC != 0 && sec.Addr != 0 {
		// Per-cpu symbols live in a section linked at address 0: their
		// values are offsets into each cpu's area and do not move.
		s.reloc = true
		s.inText = typ == elf.STT_FUNC || typ == elf.STT_OBJECT || typ == elf.STT_NOTYPE
	}
	s.rank = symRank(typ, bind, s.size)
	return s, true
}

// symbols returns the decoded table, in .symtab order.
func (v *Vmlinux) symbols() []symbol {
	v.symsOnce.Do(func() {
		if v.base != nil {
			v.syms = v.base.symbols()
			return
		}
		if v.f == nil || v.symtab.n == 0 {
			return // a table given whole (tests, images from memory)
		}
		v.syms = v.decodeAll()
		// Decoded and copied: the mapping's pages of both tables may
		// leave the resident set (7 MB on a distribution kernel; an entry
		// read again, from the index cache, faults its page back in).
		v.release(v.symtab.data)
		v.release(v.symtab.str)
	})
	return v.syms
}

// decodeAll is decodeSym of every entry, the kept ones in .symtab order:
// the same symbols, decoded with each section's kind and flags looked up
// once instead of per entry, into a table made at its size (58,000 entries
// on the test bed's vmlinux, 120,000 on a distribution kernel's: the first
// address asked of a session waits for them).
func (v *Vmlinux) decodeAll() []symbol {
	type secInfo struct {
		kind  byte
		reloc bool
		ok    bool
	}
	secs := make([]secInfo, len(v.f.Sections))
	for i, sec := range v.f.Sections {
		secs[i] = secInfo{kind: sectionKind(sec), reloc: sec.Flags&elf.SHF_ALLOC != 0 && sec.Addr != 0, ok: true}
	}
	strtab := string(v.symtab.str) // one copy; names are substrings of it
	le := binary.LittleEndian
	data := v.symtab.data
	n := 0
	for i := 1; i < v.symtab.n; i++ {
		b := data[i*symSize : (i+1)*symSize]
		typ, shndx := elf.SymType(b[4]&0xf), elf.SectionIndex(le.Uint16(b[6:]))
		if typ != elf.STT_SECTION && typ != elf.STT_FILE && shndx != elf.SHN_UNDEF {
			n++
		}
	}
	syms := make([]symbol, n)
	k := 0
	for i := 1; i < v.symtab.n && k < n; i++ {
		b := data[i*symSize : (i+1)*symSize]
		nameOff := le.Uint32(b[0:])
		info := b[4]
		shndx := elf.SectionIndex(le.Uint16(b[6:]))
		typ := elf.SymType(info & 0xf)
		bind := elf.SymBind(info >> 4)
		if typ == elf.STT_SECTION || typ == elf.STT_FILE || shndx == elf.SHN_UNDEF || int(nameOff) >= len(strtab) {
			continue
		}
		name := strtab[nameOff:]
		if j := strings.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		if name == "" {
			continue
		}
		s := &syms[k]
		var sec secInfo
		switch {
		case shndx == elf.SHN_ABS:
			s.kind = 'A'
		case shndx == elf.SHN_COMMON:
			s.kind = 'C'
		case shndx < elf.SHN_LORESERVE && int(shndx) < len(secs):
			sec = secs[shndx]
			s.kind = sec.kind
		default:
			continue
		}
		s.name, s.addr, s.size, s.order = name, le.Uint64(b[8:]), le.Uint64(b[16:]), int32(i)
		s.kind = bindKind(s.kind, bind)
		if sec.ok && sec.reloc {
			s.reloc = true
			s.inText = typ == elf.STT_FUNC || typ == elf.STT_OBJECT || typ == elf.STT_NOTYPE
		}
		s.rank = symRank(typ, bind, s.size)
		k++
	}
	return syms[:k:k]
}

// symRank orders symbols sharing an address: a sized function or object
// beats an assembler label, a global beats a local.
func symRank(typ elf.SymType, bind elf.SymBind, size uint64) uint8 {
	var r uint8
	switch typ {
	case elf.STT_FUNC:
		r = 8
	case elf.STT_OBJECT:
		r = 6
	}
	if size != 0 {
		r += 2
	}
	if bind == elf.STB_GLOBAL {
		r++
	}
	return r
}

func sectionKind(s *elf.Section) byte {
	switch {
	case s.Flags&elf.SHF_EXECINSTR != 0:
		return 'T'
	case s.Type == elf.SHT_NOBITS:
		return 'B'
	case s.Flags&elf.SHF_WRITE != 0:
		return 'D'
	case s.Flags&elf.SHF_ALLOC != 0:
		return 'R'
	}
	return 'N'
}

// cmpSym orders symbols by relocated address, then rank, then symbol table
// order.
func (v *Vmlinux) cmpSym(a, b *symbol) int {
	if c := cmpU64(v.reloc(*a), v.reloc(*b)); c != 0 {
		return c
	}
	if c := int(a.rank) - int(b.rank); c != 0 {
		return c
	}
	return int(a.order) - int(b.order)
}

// order returns the table sorted for the current KASLR offset, sorting it
// on first use after Open or SetKASLR. With the index cache no sort is
// needed: the cache holds the order at offset 0, and an offset moves every
// relocated symbol alike, so the relocated and the fixed (absolute,
// per-cpu) symbols each stay in order and one merge of the two runs gives
// the order at any offset.
func (v *Vmlinux) order() *symOrder {
	if o := v.sorted.Load(); o != nil && o.kaslr == v.kaslr {
		return o
	}
	v.sortMu.Lock()
	defer v.sortMu.Unlock()
	if o := v.sorted.Load(); o != nil && o.kaslr == v.kaslr {
		return o
	}
	syms := v.symbols()
	// The flags the passes below ask of each symbol in address order, read
	// once in table order: 60 KB, where the symbols are 2.3 MB visited at
	// random.
	flags := make([]uint8, len(syms))
	n := 0
	for i := range syms {
		if syms[i].reloc {
			flags[i] |= flagReloc
		}
		if syms[i].inText {
			flags[i] |= flagInText
			n++
		}
	}
	var order []int32
	if v.cache != nil {
		order = v.cache.symOrder(len(syms))
	}
	if order != nil {
		order = v.mergeRuns(syms, flags, order)
	} else {
		order = v.sortByAddr(syms)
	}
	o := &symOrder{kaslr: v.kaslr, order: order}
	o.addrIdx = make([]int32, 0, n)
	for _, i := range order {
		if flags[i]&flagInText != 0 {
			o.addrIdx = append(o.addrIdx, i)
		}
	}
	v.sorted.Store(o)
	return o
}

// sortByAddr is cmpSym's order of syms, sorted on keys made once (the
// relocated address; rank and .symtab order in one word) rather than by
// comparing symbols: 116,000 symbols in a third of the time.
func (v *Vmlinux) sortByAddr(syms []symbol) []int32 {
	type key struct {
		addr, tie uint64
		i         int32
	}
	keys := make([]key, len(syms))
	for i := range syms {
		s := &syms[i]
		keys[i] = key{v.reloc(*s), uint64(s.rank)<<32 | uint64(uint32(s.order)^1<<31), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmpU64(a.addr, b.addr); c != 0 {
			return c
		}
		return cmpU64(a.tie, b.tie)
	})
	order := make([]int32, len(keys))
	for i, k := range keys {
		order[i] = k.i
	}
	return order
}

// The flags order reads of each symbol.
const (
	flagReloc  = 1 << 0 // symbol.reloc
	flagInText = 1 << 1 // symbol.inText
)

// mergeRuns turns the order at KASLR offset 0 into the order at v.kaslr;
// flags are each symbol's (flagReloc).
func (v *Vmlinux) mergeRuns(syms []symbol, flags []uint8, order0 []int32) []int32 {
	if v.kaslr == 0 {
		return order0
	}
	moved := make([]int32, 0, len(order0))
	var fixed []int32 // absolute and per-cpu symbols: a few thousand
	for _, i := range order0 {
		if flags[i]&flagReloc != 0 {
			moved = append(moved, i)
		} else {
			fixed = append(fixed, i)
		}
	}
	// Each fixed symbol goes after the moved ones not above it: found by
	// a binary search of the moved run rather than a comparison per symbol.
	out := make([]int32, 0, len(order0))
	for _, f := range fixed {
		j := sort.Search(len(moved), func(j int) bool { return v.cmpSym(&syms[f], &syms[moved[j]]) < 0 })
		out = append(out, moved[:j]...)
		out = append(out, f)
		moved = moved[j:]
	}
	return append(out, moved...)
}

// sortSymbols sorts the table now (for a table given whole).
func (v *Vmlinux) sortSymbols() {
	v.sorted.Store(nil)
	v.names.Store(nil)
	v.order()
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (v *Vmlinux) reloc(s symbol) uint64 {
	if s.reloc {
		return s.addr + v.kaslr
	}
	return s.addr
}

// Close unmaps the file. Slices returned by Section are invalid afterwards.
func (v *Vmlinux) Close() error {
	// gdb's symbol table is kept beside, keyed by v: dropped here, or every
	// image ever opened in the process stays reachable through it.
	gdbSymOnce.Delete(v)
	if v.base != nil {
		v.data = nil
		return nil // the mapping, the file and the index cache are base's
	}
	d := v.data
	v.data = nil
	v.cache.close()
	if v.file != nil {
		v.file.Close()
		v.file = nil
	}
	if !v.mapped {
		return nil
	}
	v.mapped = false
	return unmapFile(d)
}

// Share returns a second handle on v for another dump of the same kernel
// build (gocrash triage reads many dumps of one vmlinux): it shares v's
// mapping, its index cache, its decoded symbol table and its DWARF types
// — what does not depend on the KASLR offset, and what a session spends
// most of its start-up on (on the 6.1.192 test-bed vmlinux, whose dwz'd
// units refer to each other, the first variable read builds the whole
// .debug_info's dwarf.Data: 150 ms) — and has its own offset (SetKASLR),
// address order and crash symbol table. Closing a share releases nothing
// of v's; v must stay open until its shares are closed. Share may be
// called from several goroutines; an image read from a dump is not
// shared.
func (v *Vmlinux) Share() (*Vmlinux, error) {
	if v.mem != nil {
		return nil, fmt.Errorf("%s: an image read from the dump cannot be shared", v.path)
	}
	if v.base != nil {
		return v.base.Share()
	}
	if v.data == nil {
		return nil, fmt.Errorf("%s: closed", v.path)
	}
	return &Vmlinux{path: v.path, data: v.data, f: v.f, image: v.image, symtab: v.symtab,
		cache: v.cache, secCache: map[string][]byte{}, base: v}, nil
}

// Path is the file name given to Open.
func (v *Vmlinux) Path() string { return v.path }

// SetKASLR relocates every text and data symbol by offset, the dump's
// KERNELOFFSET (VMCOREINFO). Absolute and per-cpu symbols stay put. It is
// called once, before the symbols are shared between goroutines.
func (v *Vmlinux) SetKASLR(offset uint64) {
	v.kaslr = offset
}

// KASLR is the offset given to SetKASLR.
func (v *Vmlinux) KASLR() uint64 { return v.kaslr }

// Lookup returns the relocated address of the named symbol. When several
// symbols share the name (static functions of different files), a global one
// is preferred, then the lowest address.
func (v *Vmlinux) Lookup(name string) (uint64, bool) {
	s, ok := v.LookupSymbol(name)
	return s.Addr, ok
}

// LookupSymbol is Lookup returning the whole symbol.
func (v *Vmlinux) LookupSymbol(name string) (Symbol, bool) {
	if v.cache != nil && v.names.Load() == nil {
		if s, ok, answered := v.cache.lookupSym(v, name); answered {
			return s, ok
		}
	}
	t := v.nameTable()
	i, ok := t.lookup(name)
	if !ok {
		return Symbol{}, false
	}
	return v.export(v.syms[i]), true
}

func (v *Vmlinux) nameTable() *nameTable {
	if t := v.names.Load(); t != nil && t.kaslr == v.kaslr {
		return t
	}
	v.nameMu.Lock()
	defer v.nameMu.Unlock()
	if t := v.names.Load(); t != nil && t.kaslr == v.kaslr {
		return t
	}
	syms := v.symbols()
	var byName *symHash
	var dups map[string][]int32
	if old := v.names.Load(); old != nil {
		byName, dups = old.byName, old.dups
	} else {
		dups = map[string][]int32{}
		byName = newSymHash(syms, func(first, i int32) {
			name := syms[i].name
			if len(dups[name]) == 0 {
				dups[name] = append(dups[name], first)
			}
			dups[name] = append(dups[name], i)
		})
	}
	pick := make(map[string]int32, len(dups))
	for name, idx := range dups {
		best := idx[0]
		for _, i := range idx[1:] {
			if v.preferName(&syms[i], &syms[best]) {
				best = i
			}
		}
		pick[name] = best
	}
	t := &nameTable{kaslr: v.kaslr, byName: byName, syms: syms, dups: dups, pick: pick}
	v.names.Store(t)
	return t
}

// preferName reports whether a is the symbol to name rather than b (both of
// one name): a global one, then the first in address order.
func (v *Vmlinux) preferName(a, b *symbol) bool {
	if ga, gb := isGlobalKind(a.kind), isGlobalKind(b.kind); ga != gb {
		return ga
	}
	return v.cmpSym(a, b) < 0
}

func isGlobalKind(k byte) bool { return k >= 'A' && k <= 'Z' }

func (v *Vmlinux) export(s symbol) Symbol {
	return Symbol{Name: s.name, Addr: v.reloc(s), Size: s.size, Kind: s.kind}
}

// Symbolize returns the text or data symbol at or before addr (relocated) and
// the distance from it. Addresses outside the kernel image's allocated
// sections do not symbolize.
func (v *Vmlinux) Symbolize(addr uint64) (name string, off uint64, ok bool) {
	s, ok := v.SymbolAt(addr)
	if !ok {
		return "", 0, false
	}
	return s.Name, addr - s.Addr, true
}

// SymbolAt is Symbolize returning the whole symbol.
func (v *Vmlinux) SymbolAt(addr uint64) (Symbol, bool) {
	link := addr - v.kaslr
	inImage := false
	for _, sp := range v.image {
		if link >= sp.start && link < sp.end {
			inImage = true
			break
		}
	}
	if !inImage {
		return Symbol{}, false
	}
	if t := v.textIdx(); t != nil {
		return v.textSymbolAt(t, link)
	}
	return v.symbolAtDecoded(addr)
}

// symbolAtDecoded is SymbolAt's search of the decoded table (addr inside
// the image's sections).
func (v *Vmlinux) symbolAtDecoded(addr uint64) (Symbol, bool) {
	o := v.order()
	// First index whose address is > addr; the one before is the answer
	// (the highest-ranked among equal addresses, as ranks sort ascending).
	i, _ := slices.BinarySearchFunc(o.addrIdx, addr, func(j int32, a uint64) int {
		if v.reloc(v.syms[j]) <= a {
			return -1
		}
		return 1
	})
	if i == 0 {
		return Symbol{}, false
	}
	// Of equally ranked symbols at one address, the last by name, as
	// crash's value_search (its table sorted by value, then strcmp) and
	// gdb's msymbol lookup take it: __x64_sys_pause, not its alias
	// __ia32_sys_pause, on Debian's IA32_EMULATION kernels.
	best := o.addrIdx[i-1]
	for j := i - 2; j >= 0; j-- {
		c := o.addrIdx[j]
		if v.reloc(v.syms[c]) != v.reloc(v.syms[best]) || v.syms[c].rank != v.syms[best].rank {
			break
		}
		if v.syms[c].name > v.syms[best].name {
			best = c
		}
	}
	return v.export(v.syms[best]), true
}

// SymbolBelow is SymbolAt for any address from the lowest symbol to the
// highest, inside the image's allocated sections or not: crash's
// value_search names an address of the padding between two sections (past
// _etext, before __start_rodata) by the symbol below it, <_etext+2>,
// where SymbolAt, which names what the image holds, has none.
func (v *Vmlinux) SymbolBelow(addr uint64) (Symbol, bool) {
	o := v.order()
	if len(o.addrIdx) == 0 || addr > v.reloc(v.syms[o.addrIdx[len(o.addrIdx)-1]]) {
		return Symbol{}, false
	}
	i, _ := slices.BinarySearchFunc(o.addrIdx, addr, func(j int32, a uint64) int {
		if v.reloc(v.syms[j]) <= a {
			return -1
		}
		return 1
	})
	if i == 0 {
		return Symbol{}, false
	}
	return v.export(v.syms[o.addrIdx[i-1]]), true
}

// SymbolStartingAt returns the symbol whose address is exactly addr
// (relocated). Of several there, it is the first in .symtab (locals come
// before globals: __do_sys_getpid before its alias __x64_sys_getpid), which
// is the one crash's value_symbol() names; an assembler alias crash skips
// (SyS_*, compat_SyS_*, .text.*, *_text_start) gives way to the next.
// SymbolAt, which names the code at an address inside a function, prefers
// the last instead, as crash does for an offset.
func (v *Vmlinux) SymbolStartingAt(addr uint64) (Symbol, bool) {
	o := v.order()
	i, _ := slices.BinarySearchFunc(o.addrIdx, addr, func(j int32, a uint64) int {
		if v.reloc(v.syms[j]) < a {
			return -1
		}
		return 1
	})
	var at []symbol
	for ; i < len(o.addrIdx) && v.reloc(v.syms[o.addrIdx[i]]) == addr; i++ {
		at = append(at, v.syms[o.addrIdx[i]])
	}
	if len(at) == 0 {
		return Symbol{}, false
	}
	slices.SortFunc(at, func(a, b symbol) int { return int(a.order - b.order) })
	best := at[0]
	if len(at) > 1 && (strings.HasPrefix(best.name, "SyS_") || strings.HasPrefix(best.name, "compat_SyS_") ||
		strings.HasPrefix(best.name, ".text.") || strings.HasSuffix(best.name, "_text_start")) {
		best = at[1]
	}
	return v.export(best), true
}

// SymbolAfter returns the first symbol above addr (relocated): where the
// function or object at addr ends at the latest.
func (v *Vmlinux) SymbolAfter(addr uint64) (Symbol, bool) {
	o := v.order()
	i, _ := slices.BinarySearchFunc(o.addrIdx, addr, func(j int32, a uint64) int {
		if v.reloc(v.syms[j]) <= a {
			return -1
		}
		return 1
	})
	if i == len(o.addrIdx) {
		return Symbol{}, false
	}
	return v.export(v.syms[o.addrIdx[i]]), true
}

// Symbols returns every symbol, sorted by address.
func (v *Vmlinux) Symbols() []Symbol {
	o := v.order()
	out := make([]Symbol, len(o.order))
	for i, j := range o.order {
		out[i] = v.export(v.syms[j])
	}
	return out
}

// SymbolsWithPrefix returns the symbols whose names start with prefix, in
// address order: one pass over the table without copying all of it (dis's
// look-up of a name and its clones, "foo" and "foo.isra.0").
func (v *Vmlinux) SymbolsWithPrefix(prefix string) []Symbol {
	var out []Symbol
	if prefix == "" {
		for _, j := range v.order().order {
			out = append(out, v.export(v.syms[j]))
		}
		return out
	}
	// the first byte before the comparison: most names differ there
	// (dis's symbol_search asks this of ~150k names)
	c := prefix[0]
	for _, j := range v.order().order {
		if s := &v.syms[j]; len(s.name) >= len(prefix) && s.name[0] == c && s.name[:len(prefix)] == prefix {
			out = append(out, v.export(*s))
		}
	}
	return out
}

// ReadFile copies the vmlinux's static contents at addr into p, e.g.
// linux_banner to compare against the dump. addr is a relocated address
// (Lookup's, a return address on a stack); one that is no relocated
// address in the file is read as a link-time one. The relocated reading
// comes first: with a small KASLR slide (0x600000 on the 6.12-oops test
// dump) a relocated address is often also a link-time address inside
// another section, and read as such gave another object's bytes.
func (v *Vmlinux) ReadFile(addr uint64, p []byte) error {
	if v.kaslr == 0 {
		return v.readFile(addr, p)
	}
	err := v.readFile(addr-v.kaslr, p)
	if err == nil {
		return nil
	}
	if err2 := v.readFile(addr, p); err2 == nil {
		return nil
	}
	return err
}

func (v *Vmlinux) readFile(addr uint64, p []byte) error {
	if v.mem != nil {
		return v.readMem(addr, p)
	}
	for _, s := range v.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Addr == 0 || addr < s.Addr || addr-s.Addr >= s.Size {
			continue
		}
		off := addr - s.Addr
		if uint64(len(p)) > s.Size-off {
			return fmt.Errorf("%s: read of %d bytes at %#x runs past the end of section %s (%#x-%#x)", v.path, len(p), addr, s.Name, s.Addr, s.Addr+s.Size)
		}
		if s.Type == elf.SHT_NOBITS {
			return fmt.Errorf("%s: address %#x is in %s, which has no contents in the file", v.path, addr, s.Name)
		}
		data, err := v.sectionData(s)
		if err != nil {
			return err
		}
		copy(p, data[off:])
		return nil
	}
	return fmt.Errorf("%s: address %#x is not in any allocated section", v.path, addr)
}

// Section returns the contents and link-time address of the named section,
// decompressed if it is SHF_COMPRESSED. Uncompressed contents alias the
// file mapping: do not modify them, and do not use them after Close.
func (v *Vmlinux) Section(name string) (data []byte, addr uint64, ok bool) {
	s := v.f.Section(name)
	if s == nil || s.Type == elf.SHT_NOBITS {
		return nil, 0, false
	}
	d, err := v.sectionData(s)
	if err != nil {
		return nil, 0, false
	}
	return d, s.Addr, true
}

// SectionErr is Section reporting why a section could not be read.
func (v *Vmlinux) SectionErr(name string) (data []byte, addr uint64, err error) {
	s := v.f.Section(name)
	if s == nil {
		return nil, 0, fmt.Errorf("%s: no section %s", v.path, name)
	}
	if s.Type == elf.SHT_NOBITS {
		return nil, 0, fmt.Errorf("%s: section %s has no contents in the file", v.path, name)
	}
	d, err := v.sectionData(s)
	return d, s.Addr, err
}

func (v *Vmlinux) rawSection(s *elf.Section) ([]byte, error) {
	if v.mem != nil {
		return v.memSection(s)
	}
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if s.Offset > uint64(len(v.data)) || s.FileSize > uint64(len(v.data))-s.Offset {
		return nil, fmt.Errorf("%s: section %s (file offset %#x, %d bytes) extends past the end of the file (%d bytes)", v.path, s.Name, s.Offset, s.FileSize, len(v.data))
	}
	return v.data[s.Offset : s.Offset+s.FileSize : s.Offset+s.FileSize], nil
}

func (v *Vmlinux) sectionData(s *elf.Section) ([]byte, error) {
	if s.Flags&elf.SHF_COMPRESSED == 0 {
		return v.rawSection(s)
	}
	v.secMu.Lock()
	defer v.secMu.Unlock()
	if d, ok := v.secCache[s.Name]; ok {
		return d, nil
	}
	// debug/elf decompresses SHF_COMPRESSED (zlib and zstd) sections.
	d, err := io.ReadAll(s.Open())
	if err != nil {
		return nil, fmt.Errorf("%s: decompressing section %s: %w", v.path, s.Name, err)
	}
	v.secCache[s.Name] = d
	return d, nil
}

// BuildID returns the GNU build ID (NT_GNU_BUILD_ID in .note.gnu.build-id)
// as lower-case hex, or "" when the image has none.
func (v *Vmlinux) BuildID() string {
	if v.mem != nil {
		return v.memBuild
	}
	for _, s := range v.f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := v.sectionData(s)
		if err != nil {
			continue
		}
		if id, ok := findBuildID(data); ok {
			return hex.EncodeToString(id)
		}
	}
	return ""
}

// findBuildID walks ELF notes (namesz, descsz, type, name, desc; 4-byte aligned).
func findBuildID(b []byte) ([]byte, bool) {
	le := binary.LittleEndian
	for len(b) >= 12 {
		namesz, descsz, typ := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])
		b = b[12:]
		nlen, dlen := align4(uint64(namesz)), align4(uint64(descsz))
		if nlen > uint64(len(b)) || dlen > uint64(len(b))-nlen {
			return nil, false
		}
		name := b[:namesz]
		desc := b[nlen : nlen+uint64(descsz)]
		b = b[nlen+dlen:]
		if typ == 3 /* NT_GNU_BUILD_ID */ && string(bytes.TrimRight(name, "\x00")) == "GNU" {
			return desc, true
		}
	}
	return nil, false
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// Types returns the DWARF type information, indexed on first use.
func (v *Vmlinux) Types() (*Types, error) {
	v.typesOnce.Do(func() {
		if v.base != nil {
			v.types, v.typesErr = v.base.Types()
			return
		}
		if v.mem != nil {
			v.types, v.typesErr = v.memTypes()
			return
		}
		v.types, v.typesErr = newTypes(v)
	})
	return v.types, v.typesErr
}

// HasDWARF reports whether the image carries .debug_info.
func (v *Vmlinux) HasDWARF() bool {
	s := v.f.Section(".debug_info")
	if s == nil {
		s = v.f.Section(".zdebug_info")
	}
	return s != nil && s.Type != elf.SHT_NOBITS && s.Size > 0
}

var errNoDWARF = errors.New("no DWARF debug information (.debug_info)")

// SymbolsAt returns every text or data symbol whose (relocated) address is
// exactly addr, in symbol-table order.
func (v *Vmlinux) SymbolsAt(addr uint64) []Symbol {
	o := v.order()
	i, _ := slices.BinarySearchFunc(o.addrIdx, addr, func(j int32, a uint64) int {
		if v.reloc(v.syms[j]) < a {
			return -1
		}
		return 1
	})
	var out []Symbol
	for ; i < len(o.addrIdx) && v.reloc(v.syms[o.addrIdx[i]]) == addr; i++ {
		out = append(out, v.export(v.syms[o.addrIdx[i]]))
	}
	return out
}

// bindKind is nm's letter for a symbol of section letter kind and binding
// bind: a weak symbol is W (text) or V, a local one lower case.
func bindKind(kind byte, bind elf.SymBind) byte {
	if bind == elf.STB_WEAK {
		if kind == 'T' || kind == 't' {
			return 'W'
		}
		return 'V'
	}
	if bind == elf.STB_LOCAL && kind >= 'A' && kind <= 'Z' {
		return kind + 'a' - 'A'
	}
	return kind
}
