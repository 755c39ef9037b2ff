package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
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

	// CachedNegative is the page cache count when it came out below zero
	// (crash then says so in an INFO line and shows 0); 0 otherwise.
	CachedNegative int64
}

// MemInfo gathers kmem -i's counters (crash's dump_kmeminfo()).
func (k *Kernel) MemInfo(ctx context.Context) (*MemInfo, error) {
	m := &MemInfo{PageSize: uint64(k.Dump.PageSize())}
	if m.PageSize == 0 {
		m.PageSize = 4096
	}
	var err error
	if m.TotalRAM, err = k.totalRAMPages(); err != nil {
		return nil, err
	}
	walk, err := k.walkMemMap(ctx)
	if err != nil {
		return nil, fmt.Errorf("mem_map: %w", err)
	}
	m.Shared = walk.shared
	if m.Free, err = k.zoneFreePages(""); err != nil {
		return nil, err
	}
	if m.Slab, err = k.slabPages(walk); err != nil {
		return nil, err
	}
	if m.Buffers, err = k.bufferPages(ctx); err != nil {
		return nil, fmt.Errorf("block device pages: %w", err)
	}
	if m.Cached, err = k.cachedPages(int64(m.Buffers)); err != nil {
		return nil, err
	}
	if m.Cached < 0 {
		m.CachedNegative, m.Cached = m.Cached, 0
	}
	if a, ok := k.firstSymbol("_totalhigh_pages", "totalhigh_pages"); ok {
		m.HasHigh = true
		if m.TotalHigh, err = k.ReadU64(a); err != nil {
			return nil, fmt.Errorf("totalhigh_pages at %#x: %w", a, err)
		}
		if m.FreeHigh, err = k.zoneFreePages("HighMem"); err != nil {
			return nil, err
		}
	}
	if m.HugeTotal, m.HugeFree, m.HasHuge, err = k.hugePages(); err != nil {
		return nil, fmt.Errorf("hugetlb: %w", err)
	}
	if k.HasSymbol("swapper_space") || k.HasSymbol("swapper_spaces") {
		m.HasSwap = true
		if m.SwapTotal, m.SwapUsed, err = k.swapPages(); err != nil {
			return nil, fmt.Errorf("swap: %w", err)
		}
	}
	if k.HasSymbol("sysctl_overcommit_memory") {
		m.HasCommit = true
		if err := k.commitLimit(m); err != nil {
			return nil, fmt.Errorf("committed memory: %w", err)
		}
	}
	return m, nil
}

func (k *Kernel) firstSymbol(names ...string) (uint64, bool) {
	for _, n := range names {
		if a, ok := k.SymbolAddr(n); ok {
			return a, true
		}
	}
	return 0, false
}

// totalRAMPages is _totalram_pages (an atomic_long_t since 5.0), or the
// older unsigned long totalram_pages.
func (k *Kernel) totalRAMPages() (uint64, error) {
	a, ok := k.firstSymbol("_totalram_pages", "totalram_pages")
	if !ok {
		return 0, errors.New("no _totalram_pages or totalram_pages symbol")
	}
	v, err := k.ReadU64(a)
	if err != nil {
		return 0, fmt.Errorf("totalram_pages at %#x: %w", a, err)
	}
	return v, nil
}

// ---- vm_stat counters ----

// VMStatItem is the global value of one vm_stat item (crash's dump_vm_stat()):
// the enumerator's enum tells which array holds it (zone_stat_item:
// vm_zone_stat, node_stat_item: vm_node_stat, numa_stat_item:
// vm_numa_stat; a single vm_stat before 4.8). ok is false when the kernel
// has no such item.
func (k *Kernel) VMStatItem(item string) (v int64, ok bool, err error) {
	t, err := k.Layouts()
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
		if !k.HasSymbol(array) && e.fallback != "" {
			array = e.fallback
		}
		o, err := k.Var(array)
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
func (k *Kernel) slabPages(walk *memMapCounts) (uint64, error) {
	for _, pair := range [][2]string{
		{"NR_SLAB", ""},
		{"NR_SLAB_RECLAIMABLE", "NR_SLAB_UNRECLAIMABLE"},
		{"NR_SLAB_RECLAIMABLE_B", "NR_SLAB_UNRECLAIMABLE_B"},
	} {
		v, ok, err := k.VMStatItem(pair[0])
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if pair[1] != "" {
			if u, ok, err := k.VMStatItem(pair[1]); err != nil {
				return 0, err
			} else if ok {
				v += u
			}
		}
		return uint64(v), nil
	}
	return walk.slab, nil
}

// OnlineNodes is node_states[N_ONLINE], or node 0 on kernels without it.
func (k *Kernel) OnlineNodes() []int {
	t, err := k.Layouts()
	if err != nil {
		return []int{0}
	}
	ns, err := k.Var("node_states")
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

// PGDat is node n's pglist_data: node_data[n] (NUMA) or contig_page_data.
func (k *Kernel) PGDat(n int) (uint64, error) {
	if nd, err := k.Var("node_data"); err == nil {
		el, err := nd.Index(n)
		if err != nil {
			return 0, err
		}
		return el.Pointer()
	}
	if n != 0 {
		return 0, fmt.Errorf("node %d is online but there is no node_data array", n)
	}
	a, ok := k.SymbolAddr("contig_page_data")
	if !ok {
		return 0, errors.New("neither node_data nor contig_page_data")
	}
	return a, nil
}

// AllZones is every zone of every online node, populated or not (the
// kernel's for_each_zone(): pglist_data.node_zones of each node's pgdat).
func (k *Kernel) AllZones() ([]Zone, error) {
	var out []Zone
	for _, n := range k.OnlineNodes() {
		pg, err := k.PGDat(n)
		if err != nil {
			return out, err
		}
		zs, err := k.Zones(n, pg)
		out = append(out, zs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// StatItem is the zone's vm_stat counter named item, false when it has none.
func (z *Zone) StatItem(item string) (int64, bool) {
	for _, c := range z.Stat {
		if c.Name == item {
			return c.Value, true
		}
	}
	return 0, false
}

// zoneFreePages sums zone.vm_stat[NR_FREE_PAGES] over every zone of every
// online node (crash's dump_free_pages_zones_v2() with GET_FREE_PAGES), or
// over the zones with the given name only.
func (k *Kernel) zoneFreePages(name string) (uint64, error) {
	zones, err := k.AllZones()
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, z := range zones {
		if name != "" && z.Name != name {
			continue
		}
		v, ok := z.StatItem("NR_FREE_PAGES")
		if !ok {
			return 0, fmt.Errorf("zone %d of node %d at %#x has no NR_FREE_PAGES counter", z.Index, z.Node, z.Addr)
		}
		sum += uint64(v)
	}
	return sum, nil
}

// ---- the mem_map walk ----

// memMapCounts is what crash's dump_mem_map(GET_ALL) tallies.
type memMapCounts struct {
	pages, reserved, shared, slab uint64
}

// PageFlagBit is a PG_* bit from DWARF's enum pageflags, else VMCOREINFO.
func (k *Kernel) PageFlagBit(name string) (uint, bool) {
	if t, err := k.Layouts(); err == nil {
		if v, err := t.Enumerator(name); err == nil && v >= 0 && v < 64 {
			return uint(v), true
		}
	}
	if info := k.Dump.Info(); info != nil {
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
func (k *Kernel) walkMemMap(ctx context.Context) (*memMapCounts, error) {
	mm, err := k.MemMap()
	if err != nil {
		return nil, err
	}
	pageSize, err := k.LayoutSize("page")
	if err != nil {
		return nil, err
	}
	flagsOff, err := k.LayoutOffset("page", "flags")
	if err != nil {
		return nil, err
	}
	countOff, err := k.LayoutOffset("page", "_refcount")
	if err != nil {
		if countOff, err = k.LayoutOffset("page", "_count"); err != nil {
			return nil, err
		}
	}
	if pageSize < 8 || pageSize > 1024 || flagsOff+8 > pageSize || countOff+4 > pageSize {
		return nil, fmt.Errorf("implausible struct page layout (size %d, flags at %d, count at %d)", pageSize, flagsOff, countOff)
	}
	reservedBit, ok := k.PageFlagBit("PG_reserved")
	if !ok {
		return nil, errors.New("cannot determine PG_reserved")
	}
	slabBit, hasSlab := k.PageFlagBit("PG_slab")
	reserved, slab := uint64(1)<<reservedBit, uint64(0)
	if hasSlab {
		slab = uint64(1) << slabBit
	}
	ps := uint64(pageSize)
	pps := mm.PagesPerSection()
	var maps []uint64
	if err := mm.Sections(ctx, func(sec Section) error {
		maps = append(maps, sec.MemMap)
		return nil
	}); err != nil {
		return nil, err
	}
	// The sections are independent: a worker per CPU walks every n-th
	// one. The mem_map of a 16 GiB guest is 256 MB of struct pages
	// (BenchmarkMemMapWalk, bench/README.md's scale figure).
	workers := max(1, min(runtime.GOMAXPROCS(0), 8, len(maps)))
	counts := make([]memMapCounts, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := &counts[w]
			buf := make([]byte, memMapChunk*ps)
			le := binary.LittleEndian
			for j := w; j < len(maps) && ctx.Err() == nil; j += workers {
				for i := uint64(0); i < pps; i += memMapChunk {
					n := min(memMapChunk, pps-i)
					b := buf[:n*ps]
					k.readZeroFill(b, maps[j]+i*ps)
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
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &memMapCounts{}
	for _, w := range counts {
		c.pages += w.pages
		c.slab += w.slab
		c.reserved += w.reserved
		c.shared += w.shared
	}
	return c, nil
}

// ---- buffers and the page cache ----

// bufferPages is crash's BUFFERS: buffermem_pages or buffermem (2.4), or,
// for kernels with nr_blockdev_pages(), its sum of the page cache of every
// block device inode.
func (k *Kernel) bufferPages(ctx context.Context) (uint64, error) {
	if a, ok := k.SymbolAddr("buffermem_pages"); ok {
		v, err := k.ReadU32(a)
		return uint64(v), err
	}
	if a, ok := k.SymbolAddr("buffermem"); ok {
		v, err := k.ReadU32(a)
		return uint64(v) / uint64(k.Dump.PageSize()), err
	}
	if !k.HasSymbol("nr_blockdev_pages") {
		return 0, nil
	}
	nrpages, err := k.LayoutOffset("address_space", "nrpages")
	if err != nil {
		return 0, err
	}
	iMapping, err := k.LayoutOffset("inode", "i_mapping")
	if err != nil {
		return 0, err
	}
	var sum uint64
	addInode := func(inode uint64) error {
		mapping, err := k.ReadU64(inode + uint64(iMapping))
		if err != nil {
			return fmt.Errorf("inode at %#x: %w", inode, err)
		}
		n, err := k.ReadU64(mapping + uint64(nrpages))
		if err != nil {
			return fmt.Errorf("address_space at %#x: %w", mapping, err)
		}
		sum += n
		return nil
	}
	if head, ok := k.SymbolAddr("all_bdevs"); ok {
		// Before 5.9: every block_device on all_bdevs.
		bdList, err := k.LayoutOffset("block_device", "bd_list")
		if err != nil {
			return 0, err
		}
		bdInode, err := k.LayoutOffset("block_device", "bd_inode")
		if err != nil {
			return 0, err
		}
		err = k.WalkList(ctx, head, "all_bdevs", func(node uint64) error {
			inode, err := k.ReadU64(node - uint64(bdList) + uint64(bdInode))
			if err != nil {
				return err
			}
			return addInode(inode)
		})
		return sum, err
	}
	// 5.9+: the inodes of the bdev pseudo file system's super block.
	sbSym, ok := k.SymbolAddr("blockdev_superblock")
	if !ok {
		return 0, errors.New("nr_blockdev_pages without all_bdevs or blockdev_superblock")
	}
	sb, err := k.ReadU64(sbSym)
	if err != nil {
		return 0, fmt.Errorf("blockdev_superblock at %#x: %w", sbSym, err)
	}
	sInodes, err := k.LayoutOffset("super_block", "s_inodes")
	if err != nil {
		return 0, err
	}
	iSbList, err := k.LayoutOffset("inode", "i_sb_list")
	if err != nil {
		return 0, err
	}
	err = k.WalkList(ctx, sb+uint64(sInodes), "blockdev_superblock->s_inodes", func(node uint64) error {
		return addInode(node - uint64(iSbList))
	})
	return sum, err
}

// cachedPages is crash's CACHED: page_cache_size or nr_pagecache (old
// kernels) less the buffers, else NR_FILE_PAGES less the swap cache and the
// buffers. The swap cache is NR_SWAPCACHE (5.13+), else the nrpages of the
// swapper address spaces.
func (k *Kernel) cachedPages(buffers int64) (int64, error) {
	for _, name := range []string{"page_cache_size", "nr_pagecache"} {
		a, ok := k.SymbolAddr(name)
		if !ok {
			continue
		}
		var v int64
		if t, err := k.Layouts(); err == nil {
			if typ, err := t.VarType(name); err == nil && typ.Size() == 8 {
				u, err := k.ReadU64(a)
				if err != nil {
					return 0, err
				}
				return int64(u) - buffers, nil
			}
		}
		u, err := k.ReadU32(a)
		if err != nil {
			return 0, err
		}
		v = int64(int32(u))
		return v - buffers, nil
	}
	file, ok, err := k.VMStatItem("NR_FILE_PAGES")
	if err != nil || !ok {
		return 0, err
	}
	swapCache, ok, err := k.VMStatItem("NR_SWAPCACHE")
	if err != nil {
		return 0, err
	}
	if !ok {
		if swapCache, err = k.swapperSpacePages(); err != nil {
			return 0, err
		}
	}
	return file - swapCache - buffers, nil
}

// swapperSpacePages sums nrpages of the swap cache address spaces: banks
// of nr_swapper_spaces[i] spaces at swapper_spaces[i] (4.11+), an array
// swapper_spaces[] (3.x-4.10), or the one swapper_space.
func (k *Kernel) swapperSpacePages() (int64, error) {
	nrpages, err := k.LayoutOffset("address_space", "nrpages")
	if err != nil {
		return 0, err
	}
	asSize, err := k.LayoutSize("address_space")
	if err != nil {
		return 0, err
	}
	var sum int64
	read := func(a uint64) {
		if v, err := k.ReadU64(a + uint64(nrpages)); err == nil {
			sum += int64(v)
		}
	}
	if nr, err := k.Var("nr_swapper_spaces"); err == nil {
		sp, err := k.Var("swapper_spaces")
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
	if sp, err := k.Var("swapper_spaces"); err == nil && sp.Len() > 0 {
		for i := 0; i < sp.Len(); i++ {
			read(sp.Addr + uint64(i)*uint64(asSize))
		}
		return sum, nil
	}
	if a, ok := k.SymbolAddr("swapper_space"); ok {
		read(a)
	}
	return sum, nil
}

// ---- huge pages, swap, overcommit ----

// hugePages sums the huge pages of every hstate, in base pages (crash's
// get_hugetlb_total_pages()). ok is false when hstates exists but cannot
// be read, which is when crash prints no HUGE lines and no commit limit.
func (k *Kernel) hugePages() (total, free uint64, ok bool, err error) {
	if hs, verr := k.Var("hstates"); verr == nil {
		t, _ := k.Layouts()
		size, e1 := t.SizeOf("hstate")
		oOrder, e2 := t.Offset("hstate.order")
		oNr, e3 := t.Offset("hstate.nr_huge_pages")
		oFree, e4 := t.Offset("hstate.free_huge_pages")
		if errors.Join(e1, e2, e3, e4) != nil {
			return 0, 0, false, nil
		}
		for i := 0; i < hs.Len(); i++ {
			a := hs.Addr + uint64(int64(i)*size)
			order, err := k.ReadU32(a + uint64(oOrder))
			if err != nil {
				return 0, 0, false, err
			}
			if order == 0 || order >= 64 {
				continue
			}
			nr, err := k.ReadU64(a + uint64(oNr))
			if err != nil {
				return 0, 0, false, err
			}
			fr, err := k.ReadU64(a + uint64(oFree))
			if err != nil {
				return 0, 0, false, err
			}
			total += nr << order
			free += fr << order
		}
		return total, free, true, nil
	}
	if a, found := k.SymbolAddr("nr_huge_pages"); found {
		// One huge page size of 2 MB (x86_64's HPAGE_SHIFT 21).
		per := uint64(1<<21) / uint64(k.Dump.PageSize())
		nr, err := k.ReadU64(a)
		if err != nil {
			return 0, 0, false, err
		}
		var fr uint64
		if b, found := k.SymbolAddr("free_huge_pages"); found {
			if fr, err = k.ReadU64(b); err != nil {
				return 0, 0, false, err
			}
		}
		return nr * per, fr * per, true, nil
	}
	return 0, 0, true, nil
}

// swapPages is crash's dump_swap_info() totals: the pages and inuse_pages
// of every swap_info entry in use, up to nr_swapfiles.
func (k *Kernel) swapPages() (total, used uint64, err error) {
	nrSym, ok := k.SymbolAddr("nr_swapfiles")
	if !ok {
		return 0, 0, errors.New("nr_swapfiles doesn't exist in this kernel")
	}
	nr, err := k.ReadU32(nrSym)
	if err != nil {
		return 0, 0, fmt.Errorf("nr_swapfiles at %#x: %w", nrSym, err)
	}
	si, err := k.Var("swap_info")
	if err != nil {
		return 0, 0, err
	}
	t, _ := k.Layouts()
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
		if at, ok := resolved(t, si.Type).(*godwarf.ArrayType); ok {
			_, p := resolved(t, at.Type).(*godwarf.PtrType)
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
		flags, err := k.readSized(p+uint64(flagsM.Offset), flagsM.Type.Size())
		if err != nil || flags&swpUsed == 0 {
			continue
		}
		pages, err := k.ReadU32(p + uint64(pagesOff))
		if err != nil {
			return 0, 0, fmt.Errorf("swap_info[%d] at %#x: %w", i, p, err)
		}
		total += uint64(int64(int32(pages)))
		if inuseErr == nil {
			u, err := k.readSized(p+uint64(inuse.Offset), inuse.Type.Size())
			if err != nil {
				return 0, 0, fmt.Errorf("swap_info[%d] at %#x: %w", i, p, err)
			}
			used += u
		}
	}
	return total, used, nil
}

// readSized reads an unsigned integer of 4 or 8 bytes.
func (k *Kernel) readSized(addr uint64, size int64) (uint64, error) {
	if size == 8 {
		return k.ReadU64(addr)
	}
	v, err := k.ReadU32(addr)
	return uint64(v), err
}

// commitLimit is crash's COMMIT LIMIT and COMMITTED: sysctl_overcommit_kbytes
// if set, else (totalram - huge pages) * sysctl_overcommit_ratio / 100, plus
// the swap; committed is vm_committed_as.count (the percpu counter's
// central value, as crash reads it), or vm_committed_space before 2.6.28.
func (k *Kernel) commitLimit(m *MemInfo) error {
	var allowed uint64
	var kbytes uint64
	if a, ok := k.SymbolAddr("sysctl_overcommit_kbytes"); ok {
		v, err := k.ReadU64(a)
		if err != nil {
			return err
		}
		kbytes = v
	}
	if kbytes != 0 {
		allowed = kbytes >> (uint(bits.TrailingZeros64(m.PageSize)) - 10)
	} else {
		a, ok := k.SymbolAddr("sysctl_overcommit_ratio")
		if !ok {
			return errors.New("no sysctl_overcommit_ratio")
		}
		ratio, err := k.ReadU32(a)
		if err != nil {
			return err
		}
		if !m.HasHuge {
			return nil
		}
		allowed = (m.TotalRAM - m.HugeTotal) * uint64(int64(int32(ratio))) / 100
	}
	if a, ok := k.SymbolAddr("vm_committed_as"); ok {
		off, err := k.LayoutOffset("percpu_counter", "count")
		if err != nil {
			return nil
		}
		v, err := k.ReadU64(a + uint64(off))
		if err != nil {
			return err
		}
		m.Committed = max(int64(v), 0)
	} else if a, ok := k.SymbolAddr("vm_committed_space"); ok {
		v, err := k.ReadU32(a)
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
