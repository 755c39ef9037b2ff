package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// Memory counters: what crash's dump_kmeminfo() ("kmem -i") reads, one
// small reader a counter, each from the kernel variable crash uses.

// MemInfo is the memory summary of kmem -i, in pages.
type MemInfo struct {
	PageSize uint64

	TotalRAM uint64 // _totalram_pages
	Free     uint64 // NR_FREE_PAGES of every zone
	Shared   uint64 // pages neither reserved nor with a reference count below 2 (a mem_map walk)
	Buffers  uint64 // the page cache of every block device inode
	Cached   int64  // NR_FILE_PAGES - swap cache - buffers
	Slab     uint64 // NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B (or older names)

	HasHigh             bool // 32-bit kernels with highmem
	TotalHigh, FreeHigh uint64

	HasHuge             bool // hstates could be read (crash prints the block then)
	HugeTotal, HugeFree uint64

	HasSwap             bool // the kernel has swap (swapper_spaces)
	SwapTotal, SwapUsed uint64

	HasCommit   bool // sysctl_overcommit_memory exists ...
	CommitShown bool // ... and the limit could be computed
	CommitLimit uint64
	Committed   int64

	// Notes are crash's INFO lines, printed where crash prints them.
	CachedNote string
}

// ReadMemInfo gathers kmem -i's counters.
func (s *Session) ReadMemInfo() (*MemInfo, error) {
	m := &MemInfo{PageSize: uint64(s.Dump.PageSize())}
	if m.PageSize == 0 {
		m.PageSize = 4096
	}
	var err error
	if m.TotalRAM, err = s.totalRAMPages(); err != nil {
		return nil, err
	}
	walk, err := s.walkMemMap()
	if err != nil {
		return nil, fmt.Errorf("mem_map: %w", err)
	}
	m.Shared = walk.shared
	if m.Free, err = s.zoneFreePages(""); err != nil {
		return nil, err
	}
	if m.Slab, err = s.slabPages(walk); err != nil {
		return nil, err
	}
	if m.Buffers, err = s.bufferPages(); err != nil {
		return nil, fmt.Errorf("block device pages: %w", err)
	}
	if m.Cached, err = s.cachedPages(int64(m.Buffers)); err != nil {
		return nil, err
	}
	if m.Cached < 0 {
		m.CachedNote = fmt.Sprintf("page_cache_size went negative (%d), setting to 0", m.Cached)
		m.Cached = 0
	}
	if a, ok := s.firstSymbol("_totalhigh_pages", "totalhigh_pages"); ok {
		m.HasHigh = true
		if m.TotalHigh, err = s.ReadU64(a); err != nil {
			return nil, fmt.Errorf("totalhigh_pages at %#x: %w", a, err)
		}
		if m.FreeHigh, err = s.zoneFreePages("HighMem"); err != nil {
			return nil, err
		}
	}
	if m.HugeTotal, m.HugeFree, m.HasHuge, err = s.hugePages(); err != nil {
		return nil, fmt.Errorf("hugetlb: %w", err)
	}
	if s.HasSymbol("swapper_space") || s.HasSymbol("swapper_spaces") {
		m.HasSwap = true
		if m.SwapTotal, m.SwapUsed, err = s.swapPages(); err != nil {
			return nil, fmt.Errorf("swap: %w", err)
		}
	}
	if s.HasSymbol("sysctl_overcommit_memory") {
		m.HasCommit = true
		if err := s.commitLimit(m); err != nil {
			return nil, fmt.Errorf("committed memory: %w", err)
		}
	}
	return m, nil
}

func (s *Session) firstSymbol(names ...string) (uint64, bool) {
	for _, n := range names {
		if a, ok := s.SymbolAddr(n); ok {
			return a, true
		}
	}
	return 0, false
}

// totalRAMPages is _totalram_pages (an atomic_long_t since 5.0), or the
// older unsigned long totalram_pages.
func (s *Session) totalRAMPages() (uint64, error) {
	a, ok := s.firstSymbol("_totalram_pages", "totalram_pages")
	if !ok {
		return 0, errors.New("no _totalram_pages or totalram_pages symbol")
	}
	v, err := s.ReadU64(a)
	if err != nil {
		return 0, fmt.Errorf("totalram_pages at %#x: %w", a, err)
	}
	return v, nil
}

// ---- vm_stat counters ----

// vmStat is the global value of one vm_stat item (crash's dump_vm_stat()):
// the enumerator's enum tells which array holds it (zone_stat_item:
// vm_zone_stat, node_stat_item: vm_node_stat, numa_stat_item:
// vm_numa_stat; a single vm_stat before 4.8). ok is false when the kernel
// has no such item.
func (s *Session) vmStat(item string) (v int64, ok bool, err error) {
	t, err := s.Types()
	if err != nil {
		return 0, false, err
	}
	for _, e := range []struct{ enum, array, fallback string }{
		{"zone_stat_item", "vm_zone_stat", "vm_stat"},
		{"node_stat_item", "vm_node_stat", ""},
		{"numa_stat_item", "vm_numa_stat", ""},
	} {
		typ, err := t.Lookup("enum " + e.enum)
		if err != nil {
			continue
		}
		et, isEnum := typ.(*godwarf.EnumType)
		if !isEnum {
			continue
		}
		idx := int64(-1)
		for _, ev := range et.Val {
			if ev.Name == item {
				idx = ev.Val
			}
		}
		if idx < 0 {
			continue
		}
		array := e.array
		if !s.HasSymbol(array) && e.fallback != "" {
			array = e.fallback
		}
		o, err := s.Var(array)
		if err != nil {
			return 0, false, nil
		}
		if n := o.Len(); n > 0 && idx >= int64(n) {
			return 0, false, nil
		}
		el, err := o.Index(int(idx))
		if err != nil {
			return 0, false, err
		}
		b, err := el.Bytes()
		if err != nil {
			return 0, false, err
		}
		if len(b) < 8 {
			return 0, false, fmt.Errorf("%s[%d] is %d bytes, want an atomic_long_t", array, idx, len(b))
		}
		return int64(binary.LittleEndian.Uint64(b)), true, nil
	}
	return 0, false, nil
}

// slabPages is crash's choice of slab counter: NR_SLAB, then
// NR_SLAB_RECLAIMABLE(+_UNRECLAIMABLE), then the byte-named 5.9+ pair
// (counted in pages in the global vm_node_stat); without vm_stat, the
// pages the mem_map walk found with PG_slab.
func (s *Session) slabPages(walk *memMapCounts) (uint64, error) {
	for _, pair := range [][2]string{
		{"NR_SLAB", ""},
		{"NR_SLAB_RECLAIMABLE", "NR_SLAB_UNRECLAIMABLE"},
		{"NR_SLAB_RECLAIMABLE_B", "NR_SLAB_UNRECLAIMABLE_B"},
	} {
		v, ok, err := s.vmStat(pair[0])
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if pair[1] != "" {
			if u, ok, err := s.vmStat(pair[1]); err != nil {
				return 0, err
			} else if ok {
				v += u
			}
		}
		return uint64(v), nil
	}
	return walk.slab, nil
}

// onlineNodes is node_states[N_ONLINE], or node 0 on kernels without it.
func (s *Session) onlineNodes() []int {
	t, err := s.Types()
	if err != nil {
		return []int{0}
	}
	ns, err := s.Var("node_states")
	if err != nil {
		return []int{0}
	}
	n, err := t.Enumerator("N_ONLINE")
	if err != nil {
		return []int{0}
	}
	m, err := ns.Index(int(n))
	if err != nil {
		return []int{0}
	}
	b, err := m.Bytes()
	if err != nil {
		return []int{0}
	}
	var nodes []int
	for i, c := range b {
		for ; c != 0; c &= c - 1 {
			nodes = append(nodes, i*8+bits.TrailingZeros8(c))
		}
	}
	if len(nodes) == 0 {
		return []int{0}
	}
	return nodes
}

// pgdat is node n's pglist_data: node_data[n] (NUMA) or contig_page_data.
func (s *Session) pgdat(n int) (uint64, error) {
	if nd, err := s.Var("node_data"); err == nil {
		el, err := nd.Index(n)
		if err != nil {
			return 0, err
		}
		return el.Pointer()
	}
	if n != 0 {
		return 0, fmt.Errorf("node %d is online but there is no node_data array", n)
	}
	a, ok := s.SymbolAddr("contig_page_data")
	if !ok {
		return 0, errors.New("neither node_data nor contig_page_data")
	}
	return a, nil
}

// forEachZone calls fn with the address of every zone of every online
// node (the kernel's for_each_zone(): pglist_data.node_zones of each
// node's pgdat, populated or not), stopping at fn's first error.
func (s *Session) forEachZone(fn func(node int, z int64, zone uint64) error) error {
	t, err := s.Types()
	if err != nil {
		return err
	}
	zonesOff, err := t.Offset("pglist_data.node_zones")
	if err != nil {
		return err
	}
	zoneSize, err := t.SizeOf("zone")
	if err != nil {
		return err
	}
	m, err := t.Member("pglist_data", "node_zones")
	if err != nil {
		return err
	}
	nzones := int64(0)
	if at, ok := m.Type.(*godwarf.ArrayType); ok {
		nzones = at.Count
	}
	if nzones <= 0 || nzones > 16 {
		return fmt.Errorf("pglist_data.node_zones has %d zones", nzones)
	}
	for _, n := range s.onlineNodes() {
		pg, err := s.pgdat(n)
		if err != nil {
			return err
		}
		for z := int64(0); z < nzones; z++ {
			if err := fn(n, z, pg+uint64(zonesOff+z*zoneSize)); err != nil {
				return err
			}
		}
	}
	return nil
}

// zoneFreePages sums zone.vm_stat[NR_FREE_PAGES] over every zone of every
// online node (crash's dump_free_pages_zones_v2() with GET_FREE_PAGES), or
// over the zones with the given name only.
func (s *Session) zoneFreePages(name string) (uint64, error) {
	t, err := s.Types()
	if err != nil {
		return 0, err
	}
	nrFree, err := t.Enumerator("NR_FREE_PAGES")
	if err != nil {
		return 0, err
	}
	vmStat, err := t.Offset("zone.vm_stat")
	if err != nil {
		return 0, err
	}
	nameOff, err := t.Offset("zone.name")
	if err != nil && name != "" {
		return 0, err
	}
	var sum uint64
	err = s.forEachZone(func(n int, z int64, zone uint64) error {
		if name != "" {
			p, err := s.ReadU64(zone + uint64(nameOff))
			if err != nil {
				return fmt.Errorf("zone %d of node %d: name at %#x: %w", z, n, zone+uint64(nameOff), err)
			}
			if zn, _ := symbols.ReadCString(s.Mem, p, 32); zn != name {
				return nil
			}
		}
		v, err := s.ReadU64(zone + uint64(vmStat+nrFree*8))
		if err != nil {
			return fmt.Errorf("zone %d of node %d at %#x: %w", z, n, zone, err)
		}
		sum += v
		return nil
	})
	if err != nil {
		return 0, err
	}
	return sum, nil
}

// ---- the mem_map walk ----

// memMapCounts is what crash's dump_mem_map(GET_ALL) tallies.
type memMapCounts struct {
	pages, reserved, shared, slab uint64
}

// sparseMem describes the kernel's SPARSEMEM section table
// (include/linux/mmzone.h): section roots of sectionsPerRoot struct
// mem_section each (SPARSEMEM_EXTREME), or one flat two-dimensional array.
type sparseMem struct {
	roots           []uint64 // EXTREME: the root pointers
	flat            uint64   // otherwise: the address of mem_section[0][0]
	nrRoots         uint64
	sectionsPerRoot uint64
	sectionSize     uint64 // sizeof(struct mem_section)
	mapOffset       uint64 // mem_section.section_mem_map
	pagesPerSection uint64
	mapMask         uint64 // SECTION_MAP_MASK
}

// Section flags in the low bits of section_mem_map (include/linux/mmzone.h).
const sectionMarkedPresent = 1

func (s *Session) sparseMemOf() (*sparseMem, error) {
	info := s.Dump.Info()
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	sm := &sparseMem{}
	sm.sectionSize = 16
	if n, err := s.LayoutSize("mem_section"); err == nil {
		sm.sectionSize = uint64(n)
	}
	if o, err := s.LayoutOffset("mem_section", "section_mem_map"); err == nil {
		sm.mapOffset = uint64(o)
	}
	pageShift := uint64(bits.TrailingZeros(uint(s.Dump.PageSize())))
	// SECTION_SIZE_BITS and MAX_PHYSMEM_BITS are macros: VMCOREINFO has
	// them (5.x+); else the x86_64 values (arch/x86/include/asm/sparsemem.h).
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
	if sectionBits <= int64(pageShift) || physBits <= sectionBits || physBits > 64 || sm.sectionSize == 0 {
		return nil, fmt.Errorf("implausible SPARSEMEM geometry (SECTION_SIZE_BITS %d, MAX_PHYSMEM_BITS %d)", sectionBits, physBits)
	}
	sm.pagesPerSection = 1 << (uint64(sectionBits) - pageShift)
	nrSections := uint64(1) << uint64(physBits-sectionBits)
	sm.mapMask = ^uint64(1<<5 - 1) // crash's SECTION_MAP_LAST_BIT (1<<5)
	if v, err := t.Enumerator("SECTION_MAP_LAST_BIT"); err == nil && v > 0 && v < 12 {
		sm.mapMask = ^uint64(1<<uint(v) - 1)
	}
	sym, ok := s.SymbolAddr("mem_section")
	if !ok {
		return nil, errors.New("no mem_section symbol: only SPARSEMEM kernels are supported")
	}
	typ, terr := t.VarType("mem_section")
	extreme, isPtr := true, false
	if terr == nil {
		switch tt := resolveType(typ).(type) {
		case *godwarf.PtrType:
			isPtr = true
		case *godwarf.ArrayType:
			if _, inner := resolveType(tt.Type).(*godwarf.ArrayType); inner {
				extreme = false
			}
		}
	}
	if extreme {
		sm.sectionsPerRoot = uint64(s.Dump.PageSize()) / sm.sectionSize
		sm.nrRoots = (nrSections + sm.sectionsPerRoot - 1) / sm.sectionsPerRoot
		if info != nil {
			if v, ok := info.Length("mem_section"); ok && v > 0 {
				sm.nrRoots = uint64(v)
			}
		}
		if sm.nrRoots > 1<<24 {
			return nil, fmt.Errorf("implausible number of mem_section roots %d", sm.nrRoots)
		}
		base := sym
		if isPtr {
			// Since 4.15 the root table is allocated at boot
			// (mem_section is a pointer); VMCOREINFO's SYMBOL(mem_section)
			// is then the table itself.
			v, ok := uint64(0), false
			if info != nil {
				v, ok = info.Symbol("mem_section")
			}
			if ok {
				base = v
			} else if base, err = s.ReadU64(sym); err != nil {
				return nil, fmt.Errorf("mem_section pointer at %#x: %w", sym, err)
			}
		}
		// Unused parts of the table are zero pages, which makedumpfile
		// leaves out of ELF dumps (beyond a segment's p_filesz, where ELF
		// means zeroes): read them as the absent roots they are.
		raw := make([]byte, sm.nrRoots*8)
		s.readZeroFill(raw, base)
		sm.roots = make([]uint64, sm.nrRoots)
		for i := range sm.roots {
			sm.roots[i] = binary.LittleEndian.Uint64(raw[i*8:])
		}
	} else {
		sm.sectionsPerRoot = 1
		sm.nrRoots = nrSections
		sm.flat = sym
	}
	return sm, nil
}

func resolveType(t godwarf.Type) godwarf.Type {
	for range 16 {
		switch tt := t.(type) {
		case *godwarf.TypedefType:
			t = tt.Type
		case *godwarf.QualType:
			t = tt.Type
		default:
			return t
		}
	}
	return t
}

// sectionAddr is the address of struct mem_section number nr, 0 if its
// root is absent.
func (sm *sparseMem) sectionAddr(nr uint64) uint64 {
	if sm.roots == nil {
		return sm.flat + nr*sm.sectionSize
	}
	root := nr / sm.sectionsPerRoot
	if root >= uint64(len(sm.roots)) || sm.roots[root] == 0 {
		return 0
	}
	return sm.roots[root] + nr%sm.sectionsPerRoot*sm.sectionSize
}

// forEachSection calls fn with the number and decoded mem_map address (the
// struct page of the section's first pfn) of every present section.
func (s *Session) forEachSection(sm *sparseMem, pageSize uint64, fn func(nr, memMap uint64) error) error {
	total := sm.nrRoots * sm.sectionsPerRoot
	for nr := uint64(0); nr < total; nr++ {
		if sm.roots != nil && sm.roots[nr/sm.sectionsPerRoot] == 0 {
			nr += sm.sectionsPerRoot - 1 - nr%sm.sectionsPerRoot
			continue
		}
		addr := sm.sectionAddr(nr)
		if addr == 0 {
			continue
		}
		v, err := s.ReadU64(addr + sm.mapOffset)
		if err != nil || v&sectionMarkedPresent == 0 {
			continue
		}
		// The stored map is mem_map minus the section's first pfn
		// (sparse_encode_mem_map()).
		memMap := (v & sm.mapMask) + nr*sm.pagesPerSection*pageSize
		if err := fn(nr, memMap); err != nil {
			return err
		}
	}
	return nil
}

// pageFlagBit is a PG_* bit from DWARF's enum pageflags, else VMCOREINFO.
func (s *Session) pageFlagBit(name string) (uint, bool) {
	if t, err := s.Types(); err == nil {
		if v, err := t.Enumerator(name); err == nil && v >= 0 && v < 64 {
			return uint(v), true
		}
	}
	if info := s.Dump.Info(); info != nil {
		if v, ok := info.Number(name); ok && v >= 0 && v < 64 {
			return uint(v), true
		}
	}
	return 0, false
}

// memMapChunk is how many struct pages are read at once.
const memMapChunk = 1024

// walkMemMap is crash's dump_mem_map() with GET_ALL on a SPARSEMEM kernel:
// every struct page of every present section; a page is reserved with
// PG_reserved set, shared when not reserved and its _refcount is above 1.
// Unreadable struct pages count as zero, like crash's zero-filled cache.
func (s *Session) walkMemMap() (*memMapCounts, error) {
	sm, err := s.sparseMemOf()
	if err != nil {
		return nil, err
	}
	pageSize, err := s.LayoutSize("page")
	if err != nil {
		return nil, err
	}
	flagsOff, err := s.LayoutOffset("page", "flags")
	if err != nil {
		return nil, err
	}
	countOff, err := s.LayoutOffset("page", "_refcount")
	if err != nil {
		if countOff, err = s.LayoutOffset("page", "_count"); err != nil {
			return nil, err
		}
	}
	if pageSize < 8 || pageSize > 1024 || flagsOff+8 > pageSize || countOff+4 > pageSize {
		return nil, fmt.Errorf("implausible struct page layout (size %d, flags at %d, count at %d)", pageSize, flagsOff, countOff)
	}
	reservedBit, ok := s.pageFlagBit("PG_reserved")
	if !ok {
		return nil, errors.New("cannot determine PG_reserved")
	}
	slabBit, hasSlab := s.pageFlagBit("PG_slab")
	reserved, slab := uint64(1)<<reservedBit, uint64(0)
	if hasSlab {
		slab = uint64(1) << slabBit
	}
	ps := uint64(pageSize)
	c := &memMapCounts{}
	buf := make([]byte, memMapChunk*ps)
	le := binary.LittleEndian
	err = s.forEachSection(sm, ps, func(nr, memMap uint64) error {
		for i := uint64(0); i < sm.pagesPerSection; i += memMapChunk {
			n := min(memMapChunk, sm.pagesPerSection-i)
			b := buf[:n*ps]
			s.readZeroFill(b, memMap+i*ps)
			for p := uint64(0); p < n; p++ {
				pg := b[p*ps:]
				flags := le.Uint64(pg[flagsOff:])
				c.pages++
				if flags&slab != 0 {
					c.slab++
				}
				if flags&reserved != 0 {
					c.reserved++
				} else if int32(le.Uint32(pg[countOff:])) > 1 {
					c.shared++
				}
			}
		}
		return nil
	})
	return c, err
}

// readZeroFill reads p at addr, leaving zeroes where pages cannot be read.
func (s *Session) readZeroFill(p []byte, addr uint64) {
	if s.Mem.ReadVirt(p, addr) == nil {
		return
	}
	ps := uint64(s.Dump.PageSize())
	for off := uint64(0); off < uint64(len(p)); {
		chunk := min(ps-(addr+off)%ps, uint64(len(p))-off)
		if s.Mem.ReadVirt(p[off:off+chunk], addr+off) != nil {
			clear(p[off : off+chunk])
		}
		off += chunk
	}
}

// ---- buffers and the page cache ----

// bufferPages is crash's BUFFERS: buffermem_pages or buffermem (2.4), or,
// for kernels with nr_blockdev_pages(), its sum of the page cache of every
// block device inode.
func (s *Session) bufferPages() (uint64, error) {
	if a, ok := s.SymbolAddr("buffermem_pages"); ok {
		v, err := s.ReadU32(a)
		return uint64(v), err
	}
	if a, ok := s.SymbolAddr("buffermem"); ok {
		v, err := s.ReadU32(a)
		return uint64(v) / uint64(s.Dump.PageSize()), err
	}
	if !s.HasSymbol("nr_blockdev_pages") {
		return 0, nil
	}
	nrpages, err := s.LayoutOffset("address_space", "nrpages")
	if err != nil {
		return 0, err
	}
	iMapping, err := s.LayoutOffset("inode", "i_mapping")
	if err != nil {
		return 0, err
	}
	var sum uint64
	addInode := func(inode uint64) error {
		mapping, err := s.ReadU64(inode + uint64(iMapping))
		if err != nil {
			return fmt.Errorf("inode at %#x: %w", inode, err)
		}
		n, err := s.ReadU64(mapping + uint64(nrpages))
		if err != nil {
			return fmt.Errorf("address_space at %#x: %w", mapping, err)
		}
		sum += n
		return nil
	}
	if head, ok := s.SymbolAddr("all_bdevs"); ok {
		// Before 5.9: every block_device on all_bdevs.
		bdList, err := s.LayoutOffset("block_device", "bd_list")
		if err != nil {
			return 0, err
		}
		bdInode, err := s.LayoutOffset("block_device", "bd_inode")
		if err != nil {
			return 0, err
		}
		err = s.walkList(head, "all_bdevs", func(node uint64) error {
			inode, err := s.ReadU64(node - uint64(bdList) + uint64(bdInode))
			if err != nil {
				return err
			}
			return addInode(inode)
		})
		return sum, err
	}
	// 5.9+: the inodes of the bdev pseudo file system's super block.
	sbSym, ok := s.SymbolAddr("blockdev_superblock")
	if !ok {
		return 0, errors.New("nr_blockdev_pages without all_bdevs or blockdev_superblock")
	}
	sb, err := s.ReadU64(sbSym)
	if err != nil {
		return 0, fmt.Errorf("blockdev_superblock at %#x: %w", sbSym, err)
	}
	sInodes, err := s.LayoutOffset("super_block", "s_inodes")
	if err != nil {
		return 0, err
	}
	iSbList, err := s.LayoutOffset("inode", "i_sb_list")
	if err != nil {
		return 0, err
	}
	err = s.walkList(sb+uint64(sInodes), "blockdev_superblock->s_inodes", func(node uint64) error {
		return addInode(node - uint64(iSbList))
	})
	return sum, err
}

// cachedPages is crash's CACHED: page_cache_size or nr_pagecache (old
// kernels) less the buffers, else NR_FILE_PAGES less the swap cache and the
// buffers. The swap cache is NR_SWAPCACHE (5.13+), else the nrpages of the
// swapper address spaces.
func (s *Session) cachedPages(buffers int64) (int64, error) {
	for _, name := range []string{"page_cache_size", "nr_pagecache"} {
		a, ok := s.SymbolAddr(name)
		if !ok {
			continue
		}
		var v int64
		if t, err := s.Types(); err == nil {
			if typ, err := t.VarType(name); err == nil && typ.Size() == 8 {
				u, err := s.ReadU64(a)
				if err != nil {
					return 0, err
				}
				return int64(u) - buffers, nil
			}
		}
		u, err := s.ReadU32(a)
		if err != nil {
			return 0, err
		}
		v = int64(int32(u))
		return v - buffers, nil
	}
	file, ok, err := s.vmStat("NR_FILE_PAGES")
	if err != nil || !ok {
		return 0, err
	}
	swapCache, ok, err := s.vmStat("NR_SWAPCACHE")
	if err != nil {
		return 0, err
	}
	if !ok {
		if swapCache, err = s.swapperSpacePages(); err != nil {
			return 0, err
		}
	}
	return file - swapCache - buffers, nil
}

// swapperSpacePages sums nrpages of the swap cache address spaces: banks
// of nr_swapper_spaces[i] spaces at swapper_spaces[i] (4.11+), an array
// swapper_spaces[] (3.x-4.10), or the one swapper_space.
func (s *Session) swapperSpacePages() (int64, error) {
	nrpages, err := s.LayoutOffset("address_space", "nrpages")
	if err != nil {
		return 0, err
	}
	asSize, err := s.LayoutSize("address_space")
	if err != nil {
		return 0, err
	}
	var sum int64
	read := func(a uint64) {
		if v, err := s.ReadU64(a + uint64(nrpages)); err == nil {
			sum += int64(v)
		}
	}
	if nr, err := s.Var("nr_swapper_spaces"); err == nil {
		sp, err := s.Var("swapper_spaces")
		if err != nil {
			return 0, err
		}
		for i := 0; i < nr.Len(); i++ {
			el, err := nr.Index(i)
			if err != nil {
				continue
			}
			banks, err := el.Uint()
			if err != nil || banks == 0 || banks > 1<<20 {
				continue
			}
			pe, err := sp.Index(i)
			if err != nil {
				continue
			}
			base, err := pe.Pointer()
			if err != nil || base == 0 {
				continue
			}
			for j := uint64(0); j < banks; j++ {
				read(base + j*uint64(asSize))
			}
		}
		return sum, nil
	}
	if sp, err := s.Var("swapper_spaces"); err == nil && sp.Len() > 0 {
		for i := 0; i < sp.Len(); i++ {
			read(sp.Addr + uint64(i)*uint64(asSize))
		}
		return sum, nil
	}
	if a, ok := s.SymbolAddr("swapper_space"); ok {
		read(a)
	}
	return sum, nil
}

// ---- huge pages, swap, overcommit ----

// hugePages sums the huge pages of every hstate, in base pages (crash's
// get_hugetlb_total_pages()). ok is false when hstates exists but cannot
// be read, which is when crash prints no HUGE lines and no commit limit.
func (s *Session) hugePages() (total, free uint64, ok bool, err error) {
	if hs, verr := s.Var("hstates"); verr == nil {
		t, _ := s.Types()
		size, e1 := t.SizeOf("hstate")
		oOrder, e2 := t.Offset("hstate.order")
		oNr, e3 := t.Offset("hstate.nr_huge_pages")
		oFree, e4 := t.Offset("hstate.free_huge_pages")
		if errors.Join(e1, e2, e3, e4) != nil {
			return 0, 0, false, nil
		}
		for i := 0; i < hs.Len(); i++ {
			a := hs.Addr + uint64(int64(i)*size)
			order, err := s.ReadU32(a + uint64(oOrder))
			if err != nil {
				return 0, 0, false, err
			}
			if order == 0 || order >= 64 {
				continue
			}
			nr, err := s.ReadU64(a + uint64(oNr))
			if err != nil {
				return 0, 0, false, err
			}
			fr, err := s.ReadU64(a + uint64(oFree))
			if err != nil {
				return 0, 0, false, err
			}
			total += nr << order
			free += fr << order
		}
		return total, free, true, nil
	}
	if a, found := s.SymbolAddr("nr_huge_pages"); found {
		// One huge page size of 2 MB (x86_64's HPAGE_SHIFT 21).
		per := uint64(1<<21) / uint64(s.Dump.PageSize())
		nr, err := s.ReadU64(a)
		if err != nil {
			return 0, 0, false, err
		}
		var fr uint64
		if b, found := s.SymbolAddr("free_huge_pages"); found {
			if fr, err = s.ReadU64(b); err != nil {
				return 0, 0, false, err
			}
		}
		return nr * per, fr * per, true, nil
	}
	return 0, 0, true, nil
}

// swpUsed is SWP_USED in swap_info_struct.flags (include/linux/swap.h).
const swpUsed = 1

// swapPages is crash's dump_swap_info() totals: the pages and inuse_pages
// of every swap_info entry in use, up to nr_swapfiles.
func (s *Session) swapPages() (total, used uint64, err error) {
	nrSym, ok := s.SymbolAddr("nr_swapfiles")
	if !ok {
		return 0, 0, errors.New("nr_swapfiles doesn't exist in this kernel")
	}
	nr, err := s.ReadU32(nrSym)
	if err != nil {
		return 0, 0, fmt.Errorf("nr_swapfiles at %#x: %w", nrSym, err)
	}
	si, err := s.Var("swap_info")
	if err != nil {
		return 0, 0, err
	}
	t, _ := s.Types()
	flagsM, err := t.Member("swap_info_struct", "flags")
	if err != nil {
		return 0, 0, err
	}
	pagesOff, err := t.Offset("swap_info_struct.pages")
	if err != nil {
		return 0, 0, err
	}
	inuse, inuseErr := t.Member("swap_info_struct", "inuse_pages")
	structSize, err := t.SizeOf("swap_info_struct")
	if err != nil {
		return 0, 0, err
	}
	_, arrayOfPtrs := func() (godwarf.Type, bool) {
		if at, ok := resolveType(si.Type).(*godwarf.ArrayType); ok {
			_, p := resolveType(at.Type).(*godwarf.PtrType)
			return at, p
		}
		return nil, false
	}()
	if int(nr) > si.Len() && si.Len() > 0 {
		nr = uint32(si.Len())
	}
	for i := 0; i < int(nr); i++ {
		var p uint64
		if arrayOfPtrs {
			el, err := si.Index(i)
			if err != nil {
				continue
			}
			if p, err = el.Pointer(); err != nil || p == 0 {
				continue
			}
		} else {
			p = si.Addr + uint64(int64(i)*structSize)
		}
		flags, err := s.readSized(p+uint64(flagsM.Offset), flagsM.Type.Size())
		if err != nil || flags&swpUsed == 0 {
			continue
		}
		pages, err := s.ReadU32(p + uint64(pagesOff))
		if err != nil {
			return 0, 0, fmt.Errorf("swap_info[%d] at %#x: %w", i, p, err)
		}
		total += uint64(int64(int32(pages)))
		if inuseErr == nil {
			u, err := s.readSized(p+uint64(inuse.Offset), inuse.Type.Size())
			if err != nil {
				return 0, 0, fmt.Errorf("swap_info[%d] at %#x: %w", i, p, err)
			}
			used += u
		}
	}
	return total, used, nil
}

// readSized reads an unsigned integer of 4 or 8 bytes.
func (s *Session) readSized(addr uint64, size int64) (uint64, error) {
	if size == 8 {
		return s.ReadU64(addr)
	}
	v, err := s.ReadU32(addr)
	return uint64(v), err
}

// commitLimit is crash's COMMIT LIMIT and COMMITTED: sysctl_overcommit_kbytes
// if set, else (totalram - huge pages) * sysctl_overcommit_ratio / 100, plus
// the swap; committed is vm_committed_as.count (the percpu counter's
// central value, as crash reads it), or vm_committed_space before 2.6.28.
func (s *Session) commitLimit(m *MemInfo) error {
	var allowed uint64
	var kbytes uint64
	if a, ok := s.SymbolAddr("sysctl_overcommit_kbytes"); ok {
		v, err := s.ReadU64(a)
		if err != nil {
			return err
		}
		kbytes = v
	}
	if kbytes != 0 {
		allowed = kbytes >> (uint(bits.TrailingZeros64(m.PageSize)) - 10)
	} else {
		a, ok := s.SymbolAddr("sysctl_overcommit_ratio")
		if !ok {
			return errors.New("no sysctl_overcommit_ratio")
		}
		ratio, err := s.ReadU32(a)
		if err != nil {
			return err
		}
		if !m.HasHuge {
			return nil
		}
		allowed = (m.TotalRAM - m.HugeTotal) * uint64(int64(int32(ratio))) / 100
	}
	if a, ok := s.SymbolAddr("vm_committed_as"); ok {
		off, err := s.LayoutOffset("percpu_counter", "count")
		if err != nil {
			return nil
		}
		v, err := s.ReadU64(a + uint64(off))
		if err != nil {
			return err
		}
		m.Committed = max(int64(v), 0)
	} else if a, ok := s.SymbolAddr("vm_committed_space"); ok {
		v, err := s.ReadU32(a)
		if err != nil {
			return err
		}
		m.Committed = int64(int32(v))
	} else {
		return nil
	}
	m.CommitLimit = allowed + m.SwapTotal
	m.CommitShown = true
	return nil
}
