package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"gocrash/symbols"
)

// The page descriptors (struct page) of SPARSEMEM_VMEMMAP x86_64 kernels,
// as crash's vtop and kmem show them. Facts: include/linux/mmzone.h
// (mem_section, SECTION_MARKED_PRESENT bit 0, SECTION_HAS_MEM_MAP bit 1,
// SECTIONS_PER_ROOT = PAGE_SIZE / sizeof(struct mem_section) with
// SPARSEMEM_EXTREME), arch/x86/include/asm/sparsemem.h (SECTION_SIZE_BITS
// 27), arch/x86/include/asm/pgtable_64_types.h (vmemmap_base, its default
// without KASLR 0xffffea0000000000), include/trace/events/mmflags.h
// (pageflag_names, ended by a {0, NULL} entry).

const (
	pageShift          = 12
	sectionSizeBits    = 27
	defaultVmemmapBase = 0xffffea0000000000
	sectionPresent     = 1 << 0
	sectionHasMemMap   = 1 << 1
	maxPageFlagNames   = 64
)

// MemMap finds the struct page of a page frame.
type MemMap struct {
	k           *Kernel
	vmemmap     uint64
	pageSize    uint64 // sizeof(struct page)
	memSection  uint64 // address of mem_section
	extreme     bool   // mem_section is struct mem_section ** (SPARSEMEM_EXTREME)
	perRoot     uint64 // SECTIONS_PER_ROOT
	rootCount   uint64 // NR_SECTION_ROOTS (entries of mem_section)
	msSize      uint64 // sizeof(struct mem_section)
	msMapOffset uint64 // offsetof(struct mem_section, section_mem_map)

	offFlags, offMapping, offIndex, offCount uint64

	mu       sync.Mutex
	sections map[uint64]bool // section number → it has a mem_map
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

// MemMap prepares page lookups.
func (k *Kernel) MemMap() (*MemMap, error) {
	t, err := k.Types()
	if err != nil {
		return nil, err
	}
	m := &MemMap{k: k, vmemmap: defaultVmemmapBase}
	if o, err := k.Var("vmemmap_base"); err == nil {
		if v, err := o.Uint(); err == nil && v != 0 {
			m.vmemmap = v
		}
	}
	ps, err := t.SizeOf("page")
	if err != nil {
		return nil, fmt.Errorf("struct page: %w", err)
	}
	m.pageSize = uint64(ps)
	for _, f := range []struct {
		dst  *uint64
		path []string
	}{
		{&m.offFlags, []string{"page.flags"}},
		{&m.offMapping, []string{"page.mapping"}},
		{&m.offIndex, []string{"page.index"}},
		{&m.offCount, []string{"page._refcount", "page._count"}},
	} {
		var ferr error
		for _, p := range f.path {
			off, err := t.Offset(p)
			if err == nil {
				*f.dst, ferr = uint64(off), nil
				break
			}
			ferr = err
		}
		if ferr != nil {
			return nil, ferr
		}
	}
	ms, ok := k.Vmlinux.Lookup("mem_section")
	if !ok {
		return nil, errors.New("no mem_section symbol: not a SPARSEMEM kernel")
	}
	m.memSection = ms
	typ, err := t.VarType("mem_section")
	if err != nil {
		return nil, fmt.Errorf("mem_section: %w", err)
	}
	msz, err := t.SizeOf("mem_section")
	if err != nil || msz <= 0 {
		return nil, fmt.Errorf("struct mem_section: %v", err)
	}
	m.msSize = uint64(msz)
	mo, err := t.Offset("mem_section.section_mem_map")
	if err != nil {
		return nil, err
	}
	m.msMapOffset = uint64(mo)
	m.extreme = symbols.TypeName(typ) != "" && typ.Size() == 8
	m.perRoot = 4096 / m.msSize
	if m.extreme {
		m.rootCount = (1 << (52 - sectionSizeBits)) / m.perRoot
	} else {
		m.rootCount = uint64(typ.Size()) / (m.perRoot * m.msSize)
	}
	return m, nil
}

// PageOf returns the struct page of the physical address phys, false
// when no memory section holds it (crash's phys_to_page).
func (m *MemMap) PageOf(phys uint64) (uint64, bool, error) {
	pfn := phys >> pageShift
	nr := pfn >> (sectionSizeBits - pageShift)
	m.mu.Lock()
	valid, known := m.sections[nr]
	m.mu.Unlock()
	if !known {
		var err error
		if valid, err = m.sectionValid(nr); err != nil {
			return 0, false, err
		}
		m.mu.Lock()
		if m.sections == nil {
			m.sections = map[uint64]bool{}
		}
		m.sections[nr] = valid
		m.mu.Unlock()
	}
	if !valid {
		return 0, false, nil
	}
	return m.vmemmap + pfn*m.pageSize, true, nil
}

// sectionValid reads mem_section nr: present, with a mem_map.
func (m *MemMap) sectionValid(nr uint64) (bool, error) {
	root, idx := nr/m.perRoot, nr%m.perRoot
	if root >= m.rootCount {
		return false, nil
	}
	var base uint64
	if m.extreme {
		roots, err := ReadPointer(m.k.Mem, m.memSection)
		if err != nil || roots == 0 {
			return false, err
		}
		p, err := ReadPointer(m.k.Mem, roots+root*8)
		if err != nil {
			return false, fmt.Errorf("mem_section[%d]: %w", root, err)
		}
		if p == 0 {
			return false, nil
		}
		base = p
	} else {
		base = m.memSection + root*m.perRoot*m.msSize
	}
	coded, err := ReadPointer(m.k.Mem, base+idx*m.msSize+m.msMapOffset)
	if err != nil {
		return false, fmt.Errorf("mem_section %d: %w", nr, err)
	}
	return coded&sectionPresent != 0 && coded&sectionHasMemMap != 0, nil
}

// Page reads the struct page at addr, which describes the page at phys.
func (m *MemMap) Page(addr, phys uint64) (Page, error) {
	buf := make([]byte, m.pageSize)
	if err := m.k.Mem.ReadVirt(buf, addr); err != nil {
		return Page{}, fmt.Errorf("struct page at %#x: %w", addr, err)
	}
	u64 := func(off uint64) uint64 {
		if off+8 > uint64(len(buf)) {
			return 0
		}
		return binary.LittleEndian.Uint64(buf[off:])
	}
	p := Page{Addr: addr, Phys: phys &^ (1<<pageShift - 1), Flags: u64(m.offFlags), Mapping: u64(m.offMapping), Index: u64(m.offIndex)}
	if m.offCount+4 <= uint64(len(buf)) {
		p.Count = int32(binary.LittleEndian.Uint32(buf[m.offCount:]))
	}
	return p, nil
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
