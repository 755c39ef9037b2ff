package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// The page descriptors (struct page) of SPARSEMEM kernels: the one model
// of the mem_map that vtop, kmem -p, kmem -n, kmem -i and the slab walker
// share. Facts: include/linux/mmzone.h (struct mem_section; the flags in
// the low bits of section_mem_map: SECTION_MARKED_PRESENT bit 0,
// SECTION_HAS_MEM_MAP bit 1, ... below SECTION_MAP_LAST_BIT;
// SECTIONS_PER_ROOT = PAGE_SIZE / sizeof(struct mem_section) with
// SPARSEMEM_EXTREME; sparse_encode_mem_map() stores mem_map minus the
// section's first pfn), arch/x86/include/asm/sparsemem.h (SECTION_SIZE_BITS
// 27, MAX_PHYSMEM_BITS 46 or 52 with 5-level paging; VMCOREINFO gives
// both), arch/x86/include/asm/pgtable_64_types.h (vmemmap_base, its
// default without KASLR 0xffffea0000000000), include/trace/events/mmflags.h
// (pageflag_names, ended by a {0, NULL} entry).

const (
	defaultVmemmapBase = 0xffffea0000000000
	sectionPresent     = 1 << 0
	sectionHasMemMap   = 1 << 1
	maxPageFlagNames   = 64
)

// MemMap is the kernel's table of memory sections and the struct pages
// they map.
type MemMap struct {
	mem      symbols.Memory
	vmemmap  uint64
	pageSize uint64 // sizeof(struct page)

	roots           []uint64 // SPARSEMEM_EXTREME: the root pointers
	flat            uint64   // otherwise: the address of mem_section[0][0]
	nrRoots         uint64
	sectionsPerRoot uint64
	sectionSize     uint64 // sizeof(struct mem_section)
	mapOffset       uint64 // mem_section.section_mem_map
	pagesPerSection uint64
	mapMask         uint64 // ~(1 << SECTION_MAP_LAST_BIT - 1)

	offFlags, offMapping, offIndex, offCount uint64
	pageErr                                  error // a member Page needs is missing

	presentOnce sync.Once
	present     map[uint64]bool // section numbers marked present
}

// A Section is one present struct mem_section.
type Section struct {
	Nr     uint64 // the section number: its first pfn is Nr * PagesPerSection
	Addr   uint64 // the struct mem_section
	Raw    uint64 // section_mem_map as stored: the coded map and the flag bits
	Coded  uint64 // Raw without the flag bits (mem_map minus the first pfn's offset)
	MemMap uint64 // the struct page of the section's first pfn
}

// HasMemMap is SECTION_HAS_MEM_MAP.
func (s Section) HasMemMap() bool { return s.Raw&sectionHasMemMap != 0 }

// MemMap reads the section table (once; later calls share it).
func (k *Kernel) MemMap() (*MemMap, error) {
	k.memMapOnce.Do(func() { k.memMap, k.memMapErr = k.readMemMap() })
	return k.memMap, k.memMapErr
}

func (k *Kernel) readMemMap() (*MemMap, error) {
	info := k.Dump.Info()
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	m := &MemMap{mem: k.memory(), vmemmap: defaultVmemmapBase}
	if o, err := k.Var("vmemmap_base"); err == nil {
		if v, err := o.Uint(); err == nil && v != 0 {
			m.vmemmap = v
		}
	}
	ps, err := k.LayoutSize("page")
	if err != nil {
		return nil, fmt.Errorf("struct page: %w", err)
	}
	m.pageSize = uint64(ps)
	for _, f := range []struct {
		dst     *uint64
		members []string
	}{
		{&m.offFlags, []string{"flags"}},
		{&m.offMapping, []string{"mapping"}},
		{&m.offIndex, []string{"index"}},
		{&m.offCount, []string{"_refcount", "_count"}},
	} {
		var ferr error
		for _, mb := range f.members {
			off, err := k.LayoutOffset("page", mb)
			if err == nil {
				*f.dst, ferr = uint64(off), nil
				break
			}
			ferr = err
		}
		if ferr != nil && m.pageErr == nil {
			m.pageErr = ferr
		}
	}
	m.sectionSize = 16
	if n, err := k.LayoutSize("mem_section"); err == nil {
		m.sectionSize = uint64(n)
	}
	if o, err := k.LayoutOffset("mem_section", "section_mem_map"); err == nil {
		m.mapOffset = uint64(o)
	}
	dumpPage := uint64(k.Dump.PageSize())
	if dumpPage == 0 {
		dumpPage = 4096
	}
	pageShift := uint64(bits.TrailingZeros64(dumpPage))
	// SECTION_SIZE_BITS and MAX_PHYSMEM_BITS are macros: VMCOREINFO has
	// them (5.x+); else the x86_64 values.
	sectionBits, physBits := int64(27), int64(46)
	if info != nil {
		if v, ok := info.Number("SECTION_SIZE_BITS"); ok {
			sectionBits = v
		}
		if v, ok := info.Number("MAX_PHYSMEM_BITS"); ok {
			physBits = v
		} else if v, ok := info.Number("pgtable_l5_enabled"); ok && v != 0 {
			physBits = 52
		}
	}
	if sectionBits <= int64(pageShift) || physBits <= sectionBits || physBits > 64 || m.sectionSize == 0 {
		return nil, fmt.Errorf("implausible SPARSEMEM geometry (SECTION_SIZE_BITS %d, MAX_PHYSMEM_BITS %d)", sectionBits, physBits)
	}
	m.pagesPerSection = 1 << (uint64(sectionBits) - pageShift)
	nrSections := uint64(1) << uint64(physBits-sectionBits)
	m.mapMask = ^uint64(1<<5 - 1) // crash's SECTION_MAP_LAST_BIT (1<<5)
	if v, err := t.Enumerator("SECTION_MAP_LAST_BIT"); err == nil && v > 0 && v < 12 {
		m.mapMask = ^uint64(1<<uint(v) - 1)
	}
	sym, ok := k.SymbolAddr("mem_section")
	if !ok {
		return nil, errors.New("no mem_section symbol: only SPARSEMEM kernels are supported")
	}
	typ, terr := t.VarType("mem_section")
	extreme, isPtr := true, false
	if terr == nil {
		switch tt := resolved(t, typ).(type) {
		case *godwarf.PtrType:
			isPtr = true
		case *godwarf.ArrayType:
			if _, inner := resolved(t, tt.Type).(*godwarf.ArrayType); inner {
				extreme = false
			}
		}
	}
	if !extreme {
		m.sectionsPerRoot = 1
		m.nrRoots = nrSections
		m.flat = sym
		return m, nil
	}
	m.sectionsPerRoot = dumpPage / m.sectionSize
	m.nrRoots = (nrSections + m.sectionsPerRoot - 1) / m.sectionsPerRoot
	if info != nil {
		if v, ok := info.Length("mem_section"); ok && v > 0 {
			m.nrRoots = uint64(v)
		}
	}
	if m.nrRoots > 1<<24 {
		return nil, fmt.Errorf("implausible number of mem_section roots %d", m.nrRoots)
	}
	base := sym
	if isPtr {
		// Since 4.15 the root table is allocated at boot (mem_section is
		// a pointer); VMCOREINFO's SYMBOL(mem_section) is then the table
		// itself.
		v, ok := uint64(0), false
		if info != nil {
			v, ok = info.Symbol("mem_section")
		}
		if ok {
			base = v
		} else if base, err = k.ReadU64(sym); err != nil {
			return nil, fmt.Errorf("mem_section pointer at %#x: %w", sym, err)
		}
	}
	// Unused parts of the table are zero pages, which makedumpfile leaves
	// out of ELF dumps (beyond a segment's p_filesz, where ELF means
	// zeroes): read them as the absent roots they are.
	// The table is kept up to its last root present: the roots past it
	// are absent (sectionAddr), and a guest's memory is held by the first
	// few of them. The 5-level kernels' table has 131,072 roots (1 MB,
	// mostly left out of the dump as zero pages): reading it whole into
	// fresh memory, and walking every root of it for the present
	// sections, was most of kmem -s's first answer.
	m.roots = []uint64{}
	var raw [4096]byte
	for i := uint64(0); i < m.nrRoots; {
		n := min(m.nrRoots-i, uint64(len(raw))/8)
		k.readZeroFill(raw[:n*8], base+i*8)
		for j := uint64(0); j < n; j++ {
			if v := binary.LittleEndian.Uint64(raw[j*8:]); v != 0 {
				if need := int(i + j + 1); need > len(m.roots) {
					m.roots = slices.Grow(m.roots, need-len(m.roots))[:need]
				}
				m.roots[i+j] = v
			}
		}
		i += n
	}
	return m, nil
}

// resolved is typ without typedefs and qualifiers (Types.Resolve), or
// typ itself when it cannot be resolved.
func resolved(t *symbols.Types, typ godwarf.Type) godwarf.Type {
	if r, err := t.Resolve(typ); err == nil {
		return r
	}
	return typ
}

// readZeroFill reads p at addr, leaving zeroes where pages cannot be read.
func (k *Kernel) readZeroFill(p []byte, addr uint64) {
	mem := k.memory()
	if mem.ReadVirt(p, addr) == nil {
		return
	}
	ps := uint64(k.Dump.PageSize())
	if ps == 0 {
		ps = 4096
	}
	for off := uint64(0); off < uint64(len(p)); {
		chunk := min(ps-(addr+off)%ps, uint64(len(p))-off)
		if mem.ReadVirt(p[off:off+chunk], addr+off) != nil {
			clear(p[off : off+chunk])
		}
		off += chunk
	}
}

// PagesPerSection is PAGES_PER_SECTION.
func (m *MemMap) PagesPerSection() uint64 { return m.pagesPerSection }

// PageSize is sizeof(struct page).
func (m *MemMap) PageSize() uint64 { return m.pageSize }

// Vmemmap is the struct page of pfn 0 (vmemmap_base).
func (m *MemMap) Vmemmap() uint64 { return m.vmemmap }

// sectionAddr is the address of struct mem_section number nr, 0 if its
// root is absent or nr is beyond the table.
func (m *MemMap) sectionAddr(nr uint64) uint64 {
	if m.roots == nil {
		if nr >= m.nrRoots {
			return 0
		}
		return m.flat + nr*m.sectionSize
	}
	root := nr / m.sectionsPerRoot
	if root >= uint64(len(m.roots)) || m.roots[root] == 0 {
		return 0
	}
	return m.roots[root] + nr%m.sectionsPerRoot*m.sectionSize
}

// section reads section nr; ok is false when it is absent or not marked
// present.
func (m *MemMap) section(nr uint64) (Section, bool, error) {
	addr := m.sectionAddr(nr)
	if addr == 0 {
		return Section{}, false, nil
	}
	v, err := ReadPointer(m.mem, addr+m.mapOffset)
	if err != nil {
		return Section{}, false, fmt.Errorf("mem_section %d: %w", nr, err)
	}
	if v&sectionPresent == 0 {
		return Section{}, false, nil
	}
	coded := v & m.mapMask
	return Section{Nr: nr, Addr: addr, Raw: v, Coded: coded, MemMap: coded + nr*m.pagesPerSection*m.pageSize}, true, nil
}

// Sections calls fn with every present section in order, stopping at fn's
// first error. A section whose mem_section cannot be read is passed over.
func (m *MemMap) Sections(ctx context.Context, fn func(Section) error) error {
	total := m.nrRoots * m.sectionsPerRoot
	if m.roots != nil {
		total = uint64(len(m.roots)) * m.sectionsPerRoot // the roots past them are absent
	}
	for nr := uint64(0); nr < total; nr++ {
		if m.roots != nil && m.roots[nr/m.sectionsPerRoot] == 0 {
			nr += m.sectionsPerRoot - 1 - nr%m.sectionsPerRoot
			continue
		}
		if nr%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s, ok, err := m.section(nr)
		if err != nil || !ok {
			continue
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// ValidPFN tells whether pfn lies in a present section (crash's
// kvtop-for-slab check).
func (m *MemMap) ValidPFN(pfn uint64) bool {
	m.presentOnce.Do(func() {
		m.present = map[uint64]bool{}
		m.Sections(context.Background(), func(s Section) error {
			m.present[s.Nr] = true
			return nil
		})
	})
	return m.present[pfn/m.pagesPerSection]
}

// PageOf returns the struct page of the physical address phys, false
// when no memory section with a mem_map holds it (crash's phys_to_page).
func (m *MemMap) PageOf(phys uint64) (uint64, bool, error) {
	pfn := phys / 4096
	s, ok, err := m.section(pfn / m.pagesPerSection)
	if err != nil || !ok || !s.HasMemMap() {
		return 0, false, err
	}
	return m.vmemmap + pfn*m.pageSize, true, nil
}

// Describes is PageOf's answer alone (a struct page describes the page
// at phys), for a loop over many pages in address order: the section's
// answer is kept while the pages stay in it (search -k asks of every page
// of the direct map, and reading mem_section for each was two fifths of
// its time). Not safe for concurrent use.
func (m *MemMap) Describes() func(phys uint64) bool {
	last, lastOK := ^uint64(0), false
	return func(phys uint64) bool {
		nr := phys / 4096 / m.pagesPerSection
		if nr != last {
			s, ok, err := m.section(nr)
			last, lastOK = nr, err == nil && ok && s.HasMemMap()
		}
		return lastOK
	}
}

// Page is what crash's mem_map line shows of one page.
type Page struct {
	Addr    uint64 // the struct page
	Phys    uint64 // the page's physical address
	Flags   uint64 // page->flags
	Mapping uint64 // page->mapping
	Index   uint64 // page->index
	Count   int32  // page->_refcount
}

// PageFlag is one entry of the kernel's pageflag_names table.
type PageFlag struct {
	Mask uint64
	Name string
}

// Page reads the struct page at addr, which describes the page at phys.
func (m *MemMap) Page(addr, phys uint64) (Page, error) {
	if m.pageErr != nil {
		return Page{}, m.pageErr
	}
	ps, err := m.ReadPageStruct(addr, phys)
	if err != nil {
		return Page{}, err
	}
	return m.decode(ps.Addr, ps.Phys, ps.Raw), nil
}

// decode picks the mem_map line's members out of a struct page's bytes.
func (m *MemMap) decode(addr, phys uint64, buf []byte) Page {
	u64 := func(off uint64) uint64 {
		if off+8 > uint64(len(buf)) {
			return 0
		}
		return binary.LittleEndian.Uint64(buf[off:])
	}
	p := Page{Addr: addr, Phys: phys &^ (4096 - 1), Flags: u64(m.offFlags), Mapping: u64(m.offMapping), Index: u64(m.offIndex)}
	if m.offCount+4 <= uint64(len(buf)) {
		p.Count = int32(binary.LittleEndian.Uint32(buf[m.offCount:]))
	}
	return p
}

// PageFlags reads the kernel's pageflag_names (struct trace_print_flags
// {mask, name}), the names crash gives the bits of page->flags.
func (k *Kernel) PageFlags() ([]PageFlag, error) {
	o, err := k.Var("pageflag_names")
	if err != nil {
		return nil, err
	}
	n := o.Len()
	if n <= 0 || n > maxPageFlagNames {
		n = maxPageFlagNames
	}
	var out []PageFlag
	for i := 0; i < n; i++ {
		e, err := o.Index(i)
		if err != nil {
			return out, err
		}
		mo, err := e.Member("mask")
		if err != nil {
			return out, err
		}
		mask, err := mo.Uint()
		if err != nil {
			return out, err
		}
		no, err := e.Member("name")
		if err != nil {
			return out, err
		}
		name, err := no.Pointer()
		if err != nil {
			return out, err
		}
		if name == 0 {
			break
		}
		s, err := symbols.ReadCString(k.Mem, name, 64)
		if err != nil {
			return out, fmt.Errorf("pageflag_names[%d].name: %w", i, err)
		}
		out = append(out, PageFlag{Mask: mask, Name: s})
	}
	return out, nil
}
