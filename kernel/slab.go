package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"gocrash/symbols"
)

// The SLUB allocator as include/linux/slub_def.h and mm/slab.h (6.1,
// 6.12; struct page in place of struct slab before 5.17) lay it out, read
// the way crash 8.0.6's memory.c reads it (dump_kmem_cache_slub,
// get_kmem_cache_slub_data, do_slab_slub), so that the numbers match.

// SlabEnv is what the slab walker needs from the rest of the kernel model.
type SlabEnv struct {
	Mem   symbols.Memory
	Types *symbols.Types
	Syms  *symbols.Vmlinux
	// CPUOffsets are __per_cpu_offset[] of the cpus crash counts.
	CPUOffsets []uint64
	// PageOffset is the start of the direct map (page_offset_base).
	PageOffset uint64
	// Vmemmap is vmemmap_base: struct page of pfn N is at Vmemmap+N*sizeof(struct page).
	Vmemmap uint64
	// ValidPFN reports whether pfn lies in a present memory section.
	ValidPFN func(pfn uint64) bool
	// Nodes are the online memory nodes, for page_to_nid.
	Nodes []NodeSpan
	// PageShift is log2 of the page size.
	PageShift uint
	// PageCache has the walker keep the pages it reads (slabpages.go):
	// for the dump's own memory, not for a view that changes or counts
	// its reads (the fuzz tests' patched and recording views).
	PageCache bool
}

// NodeSpan is one memory node's id and pfn range (pglist_data's
// node_start_pfn and node_spanned_pages).
type NodeSpan struct {
	ID       int
	StartPFN uint64
	Pages    uint64
}

// slabLayout are the offsets the walker reads, from DWARF.
type slabLayout struct {
	cacheSize                           int64
	list, name, objSize, size, offset   int64
	oo, random, flags, redLeftPad       int64 // -1 when absent
	cpuSlab, node                       int64
	nodeLen                             int
	cpuFreelist, cpuSlabPage, cpuPartil int64
	// struct slab (or struct page before 5.17)
	slabType                           string
	inuse, freelist, slabList, next    int64
	slabCache                          int64
	objects                            symbols.Member
	inuseBits                          symbols.Member
	nNrPartial, nNrSlabs, nTotalObject int64
	nPartial, nFull                    int64
	pageSize                           uint64 // sizeof(struct page)
	// nodesRead is how many entries of kmem_cache.node[] Cache keeps.
	nodesRead int
}

// SLUB's kmem_cache.flags bits (include/linux/slab.h).
const (
	slabRedZone   = 0x00000400
	slabStoreUser = 0x00010000
)

// Slab is the slab allocator of one dump.
type Slab struct {
	env SlabEnv
	l   slabLayout
	pc  pageCache
}

// ErrNoSlab says the kernel's allocator is not one the walker knows
// (SLAB, SLOB, SLUB_TINY without the debug counters).
var ErrNoSlab = errors.New("kmem cache slab subsystem not available")

// NewSlab prepares the walker: the layout comes from DWARF.
func NewSlab(env SlabEnv) (*Slab, error) {
	t := env.Types
	if t == nil || env.Mem == nil || env.Syms == nil {
		return nil, errors.New("slab: no types or memory")
	}
	off := func(path string) int64 {
		o, err := t.Offset(path)
		if err != nil {
			return -1
		}
		return o
	}
	var l slabLayout
	if env.PageShift == 0 {
		env.PageShift = 12
	}
	if !t.HasMember("kmem_cache", "cpu_slab") || !t.HasMember("kmem_cache_node", "partial") {
		// SLUB_TINY, SLAB, SLOB: the page model (IsPagePtr, PageOf)
		// still answers.
		ps, err := t.SizeOf("page")
		if err != nil || ps <= 0 || ps > 4096 {
			return nil, ErrNoSlab
		}
		l.pageSize = uint64(ps)
		return &Slab{env: env, l: l}, ErrNoSlab
	}
	n, err := t.SizeOf("kmem_cache")
	if err != nil {
		return nil, err
	}
	l.cacheSize = n
	l.list, l.name, l.size, l.offset = off("kmem_cache.list"), off("kmem_cache.name"), off("kmem_cache.size"), off("kmem_cache.offset")
	l.objSize = off("kmem_cache.object_size")
	if l.objSize < 0 {
		l.objSize = off("kmem_cache.objsize")
	}
	l.oo, l.random, l.flags, l.redLeftPad = off("kmem_cache.oo"), off("kmem_cache.random"), off("kmem_cache.flags"), off("kmem_cache.red_left_pad")
	l.cpuSlab, l.node = off("kmem_cache.cpu_slab"), off("kmem_cache.node")
	if m, err := t.Member("kmem_cache", "node"); err == nil {
		if sz, err := t.Size(m.Type); err == nil {
			l.nodeLen = int(sz / 8)
		}
	}
	l.cpuFreelist, l.cpuPartil = off("kmem_cache_cpu.freelist"), off("kmem_cache_cpu.partial")
	l.cpuSlabPage = off("kmem_cache_cpu.slab")
	if l.cpuSlabPage < 0 {
		l.cpuSlabPage = off("kmem_cache_cpu.page")
	}
	l.slabType = "slab"
	if !t.HasMember("slab", "slab_cache") {
		l.slabType = "page"
	}
	st := l.slabType
	l.inuse, l.freelist, l.next, l.slabCache = off(st+".inuse"), off(st+".freelist"), off(st+".next"), off(st+".slab_cache")
	l.slabList = off(st + ".slab_list")
	if l.slabList < 0 {
		l.slabList = off(st + ".lru")
	}
	if l.objects, err = t.Member(st, "objects"); err != nil {
		return nil, fmt.Errorf("slab: %s has no objects count: %w", st, err)
	}
	if l.inuseBits, err = t.Member(st, "inuse"); err != nil {
		return nil, fmt.Errorf("slab: %s has no inuse count: %w", st, err)
	}
	l.nNrPartial, l.nNrSlabs, l.nTotalObject = off("kmem_cache_node.nr_partial"), off("kmem_cache_node.nr_slabs"), off("kmem_cache_node.total_objects")
	l.nPartial, l.nFull = off("kmem_cache_node.partial"), off("kmem_cache_node.full")
	ps, err := t.SizeOf("page")
	if err != nil {
		return nil, err
	}
	l.pageSize = uint64(ps)
	for name, v := range map[string]int64{"kmem_cache.list": l.list, "kmem_cache.name": l.name, "kmem_cache.size": l.size,
		"kmem_cache.offset": l.offset, "kmem_cache.object_size": l.objSize, "kmem_cache.oo": l.oo, "kmem_cache.cpu_slab": l.cpuSlab,
		"kmem_cache.node": l.node, "kmem_cache_cpu.freelist": l.cpuFreelist, "kmem_cache_cpu.slab": l.cpuSlabPage,
		st + ".inuse": l.inuse, st + ".freelist": l.freelist, st + ".slab_cache": l.slabCache, st + ".slab_list": l.slabList,
		"kmem_cache_node.nr_partial": l.nNrPartial, "kmem_cache_node.partial": l.nPartial} {
		if v < 0 {
			return nil, fmt.Errorf("slab: the kernel's types lack %s", name)
		}
	}
	if l.pageSize == 0 || l.pageSize > 4096 || l.cacheSize <= 0 || l.cacheSize > 1<<16 {
		return nil, fmt.Errorf("slab: implausible sizes (struct page %d, struct kmem_cache %d)", l.pageSize, l.cacheSize)
	}
	// kmem_cache.node[] has MAX_NUMNODES entries (1,024 on Debian's
	// kernels: an 8 KB struct) of which only the online nodes' are asked
	// for (nodePtr): Cache keeps those, not a slice of 1,024 grown entry
	// by entry for every cache (two fifths of kmem -s there).
	l.nodesRead = 1
	for _, n := range env.Nodes {
		l.nodesRead = max(l.nodesRead, n.ID+1)
	}
	l.nodesRead = min(l.nodesRead, max(l.nodeLen, 1))
	return &Slab{env: env, l: l}, nil
}

// HasNodeCounters reports whether kmem_cache_node counts its slabs
// (CONFIG_SLUB_DEBUG): crash's kmem -s needs nr_slabs.
func (s *Slab) HasNodeCounters() bool { return s.l.nNrSlabs >= 0 }

// TracksFull reports whether kmem_cache_node has the full list.
func (s *Slab) tracksFull() bool { return s.l.nFull >= 0 }

// A Cache is one struct kmem_cache.
type Cache struct {
	Addr       uint64
	Name       string
	ObjSize    uint32 // object_size: what kmem -s shows as OBJSIZE
	Size       uint32 // size: the stride of objects in a slab
	Offset     uint32 // where the free pointer lies in a free object
	Objects    uint32 // objects per slab of the cache's order (oo)
	Order      uint32
	Random     uint64 // CONFIG_SLAB_FREELIST_HARDENED's key
	Hardened   bool   // the kernel has kmem_cache.random
	Flags      uint64
	RedLeftPad uint32
	CPUSlab    uint64   // the __percpu struct kmem_cache_cpu pointer
	Nodes      []uint64 // kmem_cache.node[]
}

// SlabSize is the bytes of one slab (PAGE_SIZE << order).
func (c *Cache) SlabSize(pageShift uint) uint64 { return uint64(1) << (pageShift + uint(c.Order)) }

func le64(b []byte, off int64) uint64 {
	if off < 0 || off+8 > int64(len(b)) {
		return 0
	}
	return binary.LittleEndian.Uint64(b[off:])
}

func le32(b []byte, off int64) uint32 {
	if off < 0 || off+4 > int64(len(b)) {
		return 0
	}
	return binary.LittleEndian.Uint32(b[off:])
}

func (s *Slab) readU64(addr uint64) (uint64, error) {
	if b, ok := s.view(addr, 8); ok {
		v := binary.LittleEndian.Uint64(b)
		s.pc.mu.Unlock()
		return v, nil
	}
	return s.readU64Mem(addr)
}

func (s *Slab) readU64Mem(addr uint64) (uint64, error) {
	var b [8]byte
	if err := s.env.Mem.ReadVirt(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// CacheAddrs are the kmem_cache addresses on slab_caches, in list order.
func (s *Slab) CacheAddrs(ctx context.Context) ([]uint64, error) {
	head, ok := s.env.Syms.Lookup("slab_caches")
	if !ok {
		return nil, errors.New("no slab_caches symbol")
	}
	var out []uint64
	err := WalkList(ctx, s.env.Mem, head, "slab_caches", func(node uint64) error {
		out = append(out, node-uint64(s.l.list))
		return nil
	})
	return out, err
}

// cacheBufs are Cache's buffers for struct kmem_cache.
var cacheBufs sync.Pool

// Cache reads the kmem_cache at addr.
func (s *Slab) Cache(addr uint64) (*Cache, error) {
	// The whole struct is read, as crash reads it (a cache whose tail
	// cannot be read is refused alike), into a buffer kept between calls.
	bp, _ := cacheBufs.Get().(*[]byte)
	if bp == nil || int64(cap(*bp)) < s.l.cacheSize {
		b := make([]byte, s.l.cacheSize)
		bp = &b
	}
	defer cacheBufs.Put(bp)
	b := (*bp)[:s.l.cacheSize]
	if err := s.env.Mem.ReadVirt(b, addr); err != nil {
		return nil, fmt.Errorf("kmem_cache at %#x: %w", addr, err)
	}
	l := &s.l
	c := &Cache{Addr: addr}
	name := le64(b, l.name)
	if n, err := symbols.ReadCString(s.env.Mem, name, 128); err == nil {
		c.Name = n
	} else {
		c.Name = "(unknown)"
	}
	c.ObjSize, c.Size, c.Offset = le32(b, l.objSize), le32(b, l.size), le32(b, l.offset)
	oo := le32(b, l.oo)
	// struct kmem_cache_order_objects: order in the high bits, objects in
	// the low OO_SHIFT (16) bits (mm/slub.c oo_order/oo_objects).
	c.Objects, c.Order = oo&0xffff, oo>>16
	if l.random >= 0 {
		c.Hardened, c.Random = true, le64(b, l.random)
	}
	if l.flags >= 0 {
		c.Flags = uint64(le32(b, l.flags))
	}
	if l.redLeftPad >= 0 {
		c.RedLeftPad = le32(b, l.redLeftPad)
	}
	c.CPUSlab = le64(b, l.cpuSlab)
	c.Nodes = make([]uint64, l.nodesRead)
	for i := range c.Nodes {
		c.Nodes[i] = le64(b, l.node+int64(i)*8)
	}
	return c, nil
}

// nodePtr is kmem_cache.node[id], 0 when out of range.
func (c *Cache) nodePtr(id int) uint64 {
	if id < 0 || id >= len(c.Nodes) {
		return 0
	}
	return c.Nodes[id]
}

// IsPagePtr reports whether addr is a struct page of a present section
// (crash's x86_64_is_page_ptr).
func (s *Slab) IsPagePtr(addr uint64) bool {
	_, ok := s.PagePFN(addr)
	return ok
}

// PagePFN is the pfn of the struct page at addr.
func (s *Slab) PagePFN(addr uint64) (uint64, bool) {
	if addr < s.env.Vmemmap || (addr-s.env.Vmemmap)%s.l.pageSize != 0 {
		return 0, false
	}
	pfn := (addr - s.env.Vmemmap) / s.l.pageSize
	if pfn >= 1<<(52-s.env.PageShift) {
		return 0, false
	}
	if s.env.ValidPFN != nil && !s.env.ValidPFN(pfn) {
		return 0, false
	}
	return pfn, true
}

// PageOf is the struct page of the direct-map address addr.
func (s *Slab) PageOf(addr uint64) (uint64, bool) {
	if addr < s.env.PageOffset {
		return 0, false
	}
	pfn := (addr - s.env.PageOffset) >> s.env.PageShift
	if s.env.ValidPFN != nil && !s.env.ValidPFN(pfn) {
		return 0, false
	}
	return s.env.Vmemmap + pfn*s.l.pageSize, true
}

// pageVirt is the direct-map address of the memory of the struct page at page.
func (s *Slab) pageVirt(pfn uint64) uint64 { return s.env.PageOffset + pfn<<s.env.PageShift }

// NodeOf is crash's page_to_nid: the index of the node whose span holds
// the page, -1 when none does.
func (s *Slab) NodeOf(pfn uint64) int {
	for i, n := range s.env.Nodes {
		if pfn >= n.StartPFN && pfn < n.StartPFN+n.Pages {
			return i
		}
	}
	return -1
}

// A SlabPage is one slab: its struct slab (struct page), memory and counts.
type SlabPage struct {
	Page     uint64 // the struct slab / struct page
	Memory   uint64 // its first object
	Node     int
	Objects  uint16
	Inuse    uint16
	Freelist uint64
	Next     uint64 // slab.next: the per-cpu partial list
	ListNext uint64 // slab.slab_list.next
	Cache    uint64 // slab.slab_cache
}

// SlabPage reads the slab whose struct slab is at page.
func (s *Slab) SlabPage(page uint64) (*SlabPage, error) {
	pfn, ok := s.PagePFN(page)
	if !ok {
		return nil, &SlabError{Kind: BadSlabAddr, Slab: page}
	}
	sp := &SlabPage{Page: page, Memory: s.pageVirt(pfn), Node: s.NodeOf(pfn)}
	if b, ok := s.view(page, int(s.l.pageSize)); ok {
		s.decodeSlabPage(sp, b)
		s.pc.mu.Unlock()
		return sp, nil
	}
	b := make([]byte, s.l.pageSize)
	if err := s.env.Mem.ReadVirt(b, page); err != nil {
		return nil, fmt.Errorf("struct %s at %#x: %w", s.l.slabType, page, err)
	}
	s.decodeSlabPage(sp, b)
	return sp, nil
}

// decodeSlabPage fills sp's counts and links from the struct slab's bytes.
func (s *Slab) decodeSlabPage(sp *SlabPage, b []byte) {
	sp.Inuse = uint16(bitsAt(b, s.l.inuseBits))
	sp.Objects = uint16(bitsAt(b, s.l.objects))
	sp.Freelist = le64(b, s.l.freelist)
	sp.Next = le64(b, s.l.next)
	sp.ListNext = le64(b, s.l.slabList)
	sp.Cache = le64(b, s.l.slabCache)
}

// bitsAt extracts member m (a bit field or a whole integer) from b.
func bitsAt(b []byte, m symbols.Member) uint64 {
	var raw [16]byte
	if m.Offset < 0 || m.Offset >= int64(len(b)) {
		return 0
	}
	copy(raw[:], b[m.Offset:])
	v := binary.LittleEndian.Uint64(raw[:])
	size := int64(8)
	if m.Type != nil {
		size = m.Type.Common().ByteSize
	}
	if m.BitSize > 0 {
		v >>= uint(m.BitOffset)
		return v & (1<<uint(m.BitSize) - 1)
	}
	if size > 0 && size < 8 {
		v &= 1<<(8*uint(size)) - 1
	}
	return v
}

// SlabErrorKind says what is wrong with a slab.
type SlabErrorKind int

const (
	BadSlabAddr       SlabErrorKind = iota // not a struct page
	BadFreePointer                         // a free pointer cannot be read
	DuplicateFreeObj                       // the freelist loops
	FreelistTooLong                        // more free objects than a slab can hold, no loop seen
	BadObjectsCount                        // slab.objects is 0 or -1
	BadPartialPointer                      // a partial list pointer is not a struct page
	BadPartialNext                         // a partial list's next pointer is wrong
	DuplicatePartial                       // a partial list loops
)

// A SlabError is a corrupt slab, in crash's words (Error) with the
// addresses it names.
type SlabError struct {
	Kind  SlabErrorKind
	Cache string
	Slab  uint64
	Addr  uint64 // the bad pointer or object
}

func (e *SlabError) Error() string {
	switch e.Kind {
	case BadSlabAddr:
		return fmt.Sprintf("%s: invalid slab address: %x", e.Cache, e.Slab)
	case BadFreePointer:
		return fmt.Sprintf("%s: slab: %x invalid freepointer: %x", e.Cache, e.Slab, e.Addr)
	case DuplicateFreeObj:
		return fmt.Sprintf("%s: slab: %x duplicate freelist object: %x", e.Cache, e.Slab, e.Addr)
	case FreelistTooLong:
		return fmt.Sprintf("%s: slab: %x freelist longer than %d objects", e.Cache, e.Slab, e.Addr)
	case BadObjectsCount:
		return fmt.Sprintf("%s: slab: %x invalid page.objects: -1", e.Cache, e.Slab)
	case BadPartialPointer:
		return fmt.Sprintf("%s: invalid partial list slab pointer: %x", e.Cache, e.Slab)
	case BadPartialNext:
		return fmt.Sprintf("%s: partial list slab: %x invalid page.lru.next: %x", e.Cache, e.Slab, e.Addr)
	case DuplicatePartial:
		return fmt.Sprintf("%s: partial list slab: %x duplicate slab entry: %x", e.Cache, e.Slab, e.Addr)
	}
	return fmt.Sprintf("%s: slab %x: corrupt", e.Cache, e.Slab)
}

// maxFreelist bounds a freelist walk that neither loops nor ends: no slab
// holds more objects than slab.objects (15 bits) can count.
const maxFreelist = 1 << 15

// freePointer decodes the free pointer stored at ptrAddr (mm/slub.c
// freelist_ptr_decode: with CONFIG_SLAB_FREELIST_HARDENED the stored
// value is ptr ^ s->random ^ swab(ptr_addr)). Like crash, a decoded value
// that is neither NULL nor readable is taken without the swab (the 4.14
// kernels' scheme).
func (s *Slab) freePointer(c *Cache, ptrAddr uint64) (uint64, error) {
	v, err := s.readU64(ptrAddr)
	if err != nil {
		return 0, err
	}
	if !c.Hardened {
		return v, nil
	}
	d := v ^ c.Random ^ bits.ReverseBytes64(ptrAddr)
	if d == 0 || s.accessible(d) {
		return d, nil
	}
	return v ^ c.Random ^ ptrAddr, nil
}

func (s *Slab) accessible(addr uint64) bool {
	if _, ok := s.view(addr, 1); ok {
		s.pc.mu.Unlock()
		return true
	}
	return s.accessibleMem(addr)
}

func (s *Slab) accessibleMem(addr uint64) bool {
	var b [1]byte
	return s.env.Mem.ReadVirt(b[:], addr) == nil
}

// freelistEnd says how a freelist walk ended.
type freelistEnd int

const (
	endNull freelistEnd = iota // NULL, or a pointer with bit 0 set (crash's PAGE_MAPPING_ANON stop)
	endBad                     // a free pointer could not be read
	endDup                     // an object came round again
	endLong                    // maxFreelist objects without an end
)

// freelist is one walked freelist: the objects before it ended.
type freelist struct {
	objs []uint64
	end  freelistEnd
	at   uint64 // the unreadable free pointer's address, or the duplicate
}

func (s *Slab) walkFreelist(ctx context.Context, c *Cache, head uint64) freelist {
	return s.walkFreelistInto(ctx, c, head, nil)
}

// walkFreelistInto is walkFreelist appending the objects to buf[:0]. A
// freelist that ends (NULL, or a free pointer that cannot be read) has no
// object twice: from an object seen again the walk would go round the
// same objects for ever. So the walk looks for a repeat only in a list
// that has not ended after maxFreelist objects, walking it again with a
// set of the objects seen (the set, grown object by object on every walk,
// was a fifth of kmem -s).
func (s *Slab) walkFreelistInto(ctx context.Context, c *Cache, head uint64, buf []uint64) freelist {
	fl := freelist{objs: buf[:0]}
	for q := head; q != 0; {
		if q&1 != 0 {
			return fl
		}
		if len(fl.objs) >= maxFreelist {
			return s.walkFreelistSeen(ctx, c, head, fl.objs)
		}
		if len(fl.objs)%64 == 0 && ctx.Err() != nil {
			fl.end = endLong
			return fl
		}
		fl.objs = append(fl.objs, q)
		next, err := s.freePointer(c, q+uint64(c.Offset))
		if err != nil {
			fl.end, fl.at = endBad, q+uint64(c.Offset)
			return fl
		}
		q = next
	}
	return fl
}

// walkFreelistSeen walks a freelist that did not end, stopping at the
// first object seen again.
func (s *Slab) walkFreelistSeen(ctx context.Context, c *Cache, head uint64, buf []uint64) freelist {
	fl := freelist{objs: buf[:0]}
	seen := make(map[uint64]struct{})
	for q := head; q != 0; {
		if q&1 != 0 {
			return fl
		}
		if _, dup := seen[q]; dup {
			fl.end, fl.at = endDup, q
			return fl
		}
		if len(fl.objs) >= maxFreelist || ctx.Err() != nil {
			fl.end = endLong
			return fl
		}
		seen[q] = struct{}{}
		fl.objs = append(fl.objs, q)
		next, err := s.freePointer(c, q+uint64(c.Offset))
		if err != nil {
			fl.end, fl.at = endBad, q+uint64(c.Offset)
			return fl
		}
		q = next
	}
	return fl
}

func (fl freelist) err(c *Cache, slab uint64) error {
	switch fl.end {
	case endBad:
		return &SlabError{Kind: BadFreePointer, Cache: c.Name, Slab: slab, Addr: fl.at}
	case endDup:
		return &SlabError{Kind: DuplicateFreeObj, Cache: c.Name, Slab: slab, Addr: fl.at}
	case endLong:
		return &SlabError{Kind: FreelistTooLong, Cache: c.Name, Slab: slab, Addr: maxFreelist}
	}
	return nil
}

// CPUSlab is one cpu's kmem_cache_cpu of a cache.
type CPUSlab struct {
	KmemCacheCPU uint64 // the per-cpu struct's address
	Slab         uint64 // its active slab (struct slab), 0 if none
	Freelist     uint64 // the lockless per-cpu freelist
	Partial      uint64 // the first slab of the per-cpu partial list
}

// CPUs is the number of cpus the walker looks at.
func (s *Slab) CPUs() int { return len(s.env.CPUOffsets) }

// CPUSlab reads cpu's kmem_cache_cpu of c.
func (s *Slab) CPUSlab(c *Cache, cpu int) (CPUSlab, error) {
	if cpu < 0 || cpu >= len(s.env.CPUOffsets) {
		return CPUSlab{}, fmt.Errorf("cpu %d out of range", cpu)
	}
	kc := CPUSlab{KmemCacheCPU: c.CPUSlab + s.env.CPUOffsets[cpu]}
	if c.CPUSlab == 0 {
		return kc, nil
	}
	var err error
	if kc.Freelist, err = s.readU64(kc.KmemCacheCPU + uint64(s.l.cpuFreelist)); err != nil {
		kc.Freelist = 0
	}
	if kc.Slab, err = s.readU64(kc.KmemCacheCPU + uint64(s.l.cpuSlabPage)); err != nil {
		kc.Slab = 0
	}
	if s.l.cpuPartil >= 0 {
		kc.Partial, _ = s.readU64(kc.KmemCacheCPU + uint64(s.l.cpuPartil))
	}
	return kc, nil
}

// NodeCounts is one kmem_cache_node's counters.
type NodeCounts struct {
	Addr         uint64
	NrPartial    uint64
	NrSlabs      uint64
	TotalObjects uint64
}

func (s *Slab) nodeCounts(node uint64) (NodeCounts, error) {
	nc := NodeCounts{Addr: node}
	var err error
	if nc.NrPartial, err = s.readU64(node + uint64(s.l.nNrPartial)); err != nil {
		return nc, err
	}
	if s.l.nNrSlabs >= 0 {
		if nc.NrSlabs, err = s.readU64(node + uint64(s.l.nNrSlabs)); err != nil {
			return nc, err
		}
	}
	if s.l.nTotalObject >= 0 {
		if nc.TotalObjects, err = s.readU64(node + uint64(s.l.nTotalObject)); err != nil {
			return nc, err
		}
	}
	return nc, nil
}

// Nodes are the memory nodes the walker looks at.
func (s *Slab) Nodes() []NodeSpan { return s.env.Nodes }

// Node is kmem_cache.node[] of the n-th online node (0 when absent) and its counters.
func (s *Slab) Node(c *Cache, n int) (NodeCounts, error) {
	if n < 0 || n >= len(s.env.Nodes) {
		return NodeCounts{}, fmt.Errorf("node %d out of range", n)
	}
	p := c.nodePtr(s.env.Nodes[n].ID)
	if p == 0 {
		return NodeCounts{}, nil
	}
	return s.nodeCounts(p)
}

// CacheStats are kmem -s's counts of one cache.
type CacheStats struct {
	Allocated, Total, Slabs uint64
}

// Warn is a message crash prints while it goes on ("kmem: ..."), and
// whether the cache's numbers could not be gathered.
type Warn func(msg string)

// Stats is crash's get_kmem_cache_slub_data: slabs from the node counters
// and the cpu slabs, free objects counted on the cpu slabs, the per-cpu
// partial lists and the node partial lists. ok is false when crash would
// print "cannot gather relevant slab data" (messages go to warn).
func (s *Slab) Stats(ctx context.Context, c *Cache, warn Warn) (st CacheStats, ok bool) {
	nodes := len(s.env.Nodes)
	perCPU := make([]uint64, max(nodes, 1))
	var totalSlabs, totalObjects, free uint64
	var buf []uint64 // the cpu freelists' objects, one cpu after another
	nodeTotal := s.l.nTotalObject >= 0
	for cpu := range s.env.CPUOffsets {
		if ctx.Err() != nil {
			return st, false
		}
		kc, err := s.CPUSlab(c, cpu)
		if err != nil || kc.Slab == 0 {
			continue
		}
		pfn, isPage := s.PagePFN(kc.Slab)
		node := -1
		if isPage {
			node = s.NodeOf(pfn)
		}
		if node < 0 {
			if !isPage {
				warn(fmt.Sprintf("page_to_nid: invalid page: %x", kc.Slab))
			} else {
				warn(fmt.Sprintf("page_to_nid: cannot determine node for pages: %x", kc.Slab))
			}
			return st, false
		}
		sp, err := s.SlabPage(kc.Slab)
		if err != nil {
			return st, false
		}
		objs, okObj := s.slabObjects(c, sp, warn)
		if !okObj {
			return st, false
		}
		free += uint64(int64(objs) - int64(int16(sp.Inuse)))
		fl := s.walkFreelistInto(ctx, c, kc.Freelist, buf)
		buf = fl.objs
		if fl.end == endDup {
			warn((&SlabError{Kind: DuplicateFreeObj, Cache: c.Name, Slab: kc.Slab, Addr: fl.at}).Error())
		} else if fl.end == endBad {
			warn((&SlabError{Kind: BadFreePointer, Cache: c.Name, Slab: kc.Slab, Addr: fl.at}).Error())
		}
		free += uint64(len(fl.objs))
		free += s.countCPUPartial(ctx, c, kc.Partial, warn)
		if !nodeTotal {
			totalObjects += uint64(sp.Inuse)
		}
		totalSlabs++
		perCPU[node]++
	}
	for n := 0; n < nodes; n++ {
		p := c.nodePtr(s.env.Nodes[n].ID)
		if p == 0 {
			continue
		}
		nc, err := s.nodeCounts(p)
		if err != nil {
			return st, false
		}
		inuse, err := s.countPartial(ctx, c, p, &free, warn)
		if err != nil {
			return st, false
		}
		if !nodeTotal {
			totalObjects += inuse
		}
		totalSlabs += nc.NrPartial
		full := int64(nc.NrSlabs) - int64(perCPU[n]) - int64(nc.NrPartial)
		if nodeTotal {
			totalObjects += nc.TotalObjects
		} else {
			totalObjects += uint64(full * int64(c.Objects))
		}
		totalSlabs += uint64(full)
	}
	if !nodeTotal {
		st.Allocated = totalObjects
		free = totalSlabs*uint64(c.Objects) - st.Allocated
	} else {
		st.Allocated = totalObjects - free
	}
	st.Total = st.Allocated + free
	st.Slabs = totalSlabs
	return st, true
}

// slabObjects is crash's slub_page_objects: slab.objects, refused when -1.
func (s *Slab) slabObjects(c *Cache, sp *SlabPage, warn Warn) (uint16, bool) {
	if sp.Objects == 0 {
		return 0, false
	}
	if sp.Objects == 0x7fff && s.l.objects.BitSize == 15 || sp.Objects == 0xffff {
		warn(fmt.Sprintf("%s: slab: %x invalid page.objects: -1", c.Name, sp.Page))
		return 0, false
	}
	return sp.Objects, true
}

// countCPUPartial is crash's count_cpu_partial: the free objects of the
// per-cpu partial slabs.
func (s *Slab) countCPUPartial(ctx context.Context, c *Cache, partial uint64, warn Warn) uint64 {
	var free uint64
	for n := 0; partial != 0; n++ {
		if n >= maxPartial || ctx.Err() != nil {
			return free
		}
		if !s.IsPagePtr(partial) {
			warn((&SlabError{Kind: BadPartialPointer, Cache: c.Name, Slab: partial}).Error())
			return 0
		}
		sp, err := s.SlabPage(partial)
		if err != nil || int16(sp.Inuse) == -1 {
			return 0
		}
		objs, ok := s.slabObjects(c, sp, warn)
		if !ok {
			return 0
		}
		free += uint64(int64(objs) - int64(sp.Inuse))
		partial = sp.Next
	}
	return free
}

// maxPartial bounds a partial list walk.
const maxPartial = 1 << 24

// countPartial is crash's count_partial: the objects in use on a node's
// partial list; the free ones are added to *free.
func (s *Slab) countPartial(ctx context.Context, c *Cache, node uint64, free *uint64, warn Warn) (uint64, error) {
	var inuse uint64
	err := s.walkPartial(ctx, c, node, uint64(s.l.nPartial), func(sp *SlabPage) error {
		if int16(sp.Inuse) == -1 {
			warn(fmt.Sprintf("%s: partial list slab: %x invalid page.inuse: -1", c.Name, sp.Page))
			return errStopWalk
		}
		inuse += uint64(sp.Inuse)
		objs, ok := s.slabObjects(c, sp, warn)
		if !ok {
			return errBadSlab
		}
		*free += uint64(int64(objs) - int64(sp.Inuse))
		return nil
	}, warn)
	if errors.Is(err, errStopWalk) {
		return inuse, nil
	}
	return inuse, err
}

var (
	errStopWalk = errors.New("stop")
	errBadSlab  = errors.New("bad slab")
)

// walkPartial walks the list of slabs at node+listOff (partial or full),
// checking each next pointer as crash does; messages go to warn, and a
// corrupt list ends the walk with errStopWalk.
func (s *Slab) walkPartial(ctx context.Context, c *Cache, node, listOff uint64, fn func(sp *SlabPage) error, warn Warn) error {
	head := node + listOff
	next, err := s.readU64(head)
	if err != nil {
		return err
	}
	seen := make(map[uint64]struct{})
	for n := 0; next != head; n++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		page := next - uint64(s.l.slabList)
		if !s.IsPagePtr(page) {
			warn((&SlabError{Kind: BadPartialPointer, Cache: c.Name, Slab: page}).Error())
			return errStopWalk
		}
		sp, err := s.SlabPage(page)
		if err != nil {
			return err
		}
		if err := fn(sp); err != nil {
			return err
		}
		next = sp.ListNext
		if next < 0xff00000000000000 || (next != head && !s.IsPagePtr(next-uint64(s.l.slabList))) {
			warn((&SlabError{Kind: BadPartialNext, Cache: c.Name, Slab: page, Addr: next}).Error())
			return errStopWalk
		}
		if _, dup := seen[next]; dup || n >= maxPartial {
			warn((&SlabError{Kind: DuplicatePartial, Cache: c.Name, Slab: page, Addr: next}).Error())
			return errStopWalk
		}
		seen[next] = struct{}{}
	}
	return nil
}

// SlabObject is one object of a slab and whether it is free.
type SlabObject struct {
	Addr uint64
	Free bool
}

// SlabDetail is do_slab_slub's view of one slab: its counts (corrected
// for a cpu's active slab, whose free objects are on the cpu freelist)
// and its objects. CPU is the cpu whose active slab it is, or -1. Err is
// set when the walk of its freelists failed after Objects[:len] were
// decided (crash prints those, then the message).
type SlabDetail struct {
	SlabPage
	Inuse   int
	CPU     int
	Objects []SlabObject
	Err     error
}

// Detail lists the objects of the slab at page in cache c.
func (s *Slab) Detail(ctx context.Context, c *Cache, page uint64) (*SlabDetail, error) {
	if !s.IsPagePtr(page) {
		return nil, &SlabError{Kind: BadSlabAddr, Cache: c.Name, Slab: page}
	}
	sp, err := s.SlabPage(page)
	if err != nil {
		return nil, err
	}
	d := &SlabDetail{SlabPage: *sp, Inuse: int(sp.Inuse), CPU: -1}
	objs := sp.Objects
	if objs == 0 || objs == 0xffff || (objs == 0x7fff && s.l.objects.BitSize == 15) {
		return nil, &SlabError{Kind: BadObjectsCount, Cache: c.Name, Slab: page}
	}
	var cpuFree freelist
	for cpu := range s.env.CPUOffsets {
		kc, err := s.CPUSlab(c, cpu)
		if err != nil || kc.Slab == 0 || kc.Slab != page {
			continue
		}
		d.CPU = cpu
		cpuFree = s.walkFreelist(ctx, c, kc.Freelist)
		nfree := len(cpuFree.objs)
		if sp.Freelist != 0 {
			nfree += int(objs) - int(sp.Inuse)
		}
		d.Inuse = int(objs) - nfree
		break
	}
	pageFree := s.walkFreelist(ctx, c, sp.Freelist)
	sets := []freelist{pageFree, cpuFree}
	var idx [2]map[uint64]struct{}
	for i, fl := range sets {
		idx[i] = make(map[uint64]struct{}, len(fl.objs))
		for _, o := range fl.objs {
			idx[i][o] = struct{}{}
		}
	}
	pad := uint64(0)
	if c.Flags&slabRedZone != 0 {
		pad = uint64(c.RedLeftPad)
	}
	for i := uint64(0); i < uint64(objs); i++ {
		p := sp.Memory + i*uint64(c.Size)
		free := false
		for k, fl := range sets {
			if _, ok := idx[k][p+pad]; ok {
				free = true
				break
			}
			if fl.end != endNull {
				d.Err = fl.err(c, page)
				return d, nil
			}
		}
		d.Objects = append(d.Objects, SlabObject{Addr: p + pad, Free: free})
	}
	return d, nil
}

// CPUPartial walks cpu's per-cpu partial list of c (slab.next links).
func (s *Slab) CPUPartial(ctx context.Context, c *Cache, partial uint64, fn func(page uint64) error) error {
	for n := 0; partial != 0; n++ {
		if n >= maxPartial || ctx.Err() != nil {
			return ctx.Err()
		}
		if !s.IsPagePtr(partial) {
			return &SlabError{Kind: BadPartialPointer, Cache: c.Name, Slab: partial}
		}
		if err := fn(partial); err != nil {
			return err
		}
		sp, err := s.SlabPage(partial)
		if err != nil {
			return err
		}
		partial = sp.Next
	}
	return nil
}

// NodePartial walks node n's partial list (full with full set) of c:
// fn gets each slab; crash's messages on a corrupt list go to warn.
// Tracked is false when the full list is not kept (no SLAB_STORE_USER).
func (s *Slab) NodeList(ctx context.Context, c *Cache, node uint64, full bool, fn func(sp *SlabPage) error, warn Warn) (tracked bool, err error) {
	off := s.l.nPartial
	if full {
		if s.l.nFull < 0 || c.Flags&slabStoreUser == 0 {
			return false, nil
		}
		off = s.l.nFull
	}
	err = s.walkPartial(ctx, c, node, uint64(off), fn, warn)
	if errors.Is(err, errStopWalk) {
		err = nil
	}
	return true, err
}

// NodeListHead says whether node's partial (full) list of c is empty,
// and whether the full list is kept at all.
func (s *Slab) NodeListHead(c *Cache, node uint64, full bool) (empty, tracked bool, err error) {
	off := s.l.nPartial
	if full {
		if s.l.nFull < 0 || c.Flags&slabStoreUser == 0 {
			return true, false, nil
		}
		off = s.l.nFull
	}
	head := node + uint64(off)
	next, err := s.readU64(head)
	if err != nil {
		return true, true, err
	}
	return next == head, true, nil
}

// CacheOfPage is the kmem_cache a slab page belongs to: the head page's
// slab_cache when the page (or its compound head) has PG_slab. ok is
// false when the page is not a slab page.
func (s *Slab) CacheOfPage(page uint64, isSlab func(page uint64) (head uint64, ok bool)) (cache, head uint64, ok bool) {
	head, ok = isSlab(page)
	if !ok {
		return 0, 0, false
	}
	c, err := s.readU64(head + uint64(s.l.slabCache))
	if err != nil {
		return 0, 0, false
	}
	return c, head, true
}
