package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"gocrash/kernel"
	"gocrash/symbols"
	"gocrash/vmcore"
)

// kmem -s / -S / kmem ADDRESS over SLUB: the walker is kernel.Slab; this
// file prints crash 8.0.6's dump_kmem_cache_slub() text.

const (
	kmemCacheHdr = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n"
	slabHdr      = "SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n"
	freeInuseHdr = "FREE / [ALLOCATED]\n"
)

// sessionSlabs holds each session's slab walker (built on first use).
var sessionSlabs sync.Map // *Session -> *slabOnce

type slabOnce struct {
	once sync.Once
	slab *kernel.Slab
	err  error
}

// Slab is the session's SLUB walker.
func (s *Session) Slab() (*kernel.Slab, error) {
	v, _ := sessionSlabs.LoadOrStore(s, &slabOnce{})
	so := v.(*slabOnce)
	so.once.Do(func() { so.slab, so.err = s.newSlab(s.Mem) })
	if so.err != nil {
		return nil, so.err
	}
	return so.slab, nil
}

// pages is the page model (struct page <-> pfn <-> direct map) of the
// session, which the slab walker carries; it answers also where the slab
// allocator is not one the walker knows (SLUB_TINY).
func (s *Session) pages() (*kernel.Slab, error) {
	v, _ := sessionSlabs.LoadOrStore(s, &slabOnce{})
	so := v.(*slabOnce)
	so.once.Do(func() { so.slab, so.err = s.newSlab(s.Mem) })
	if so.slab != nil {
		return so.slab, nil
	}
	return nil, so.err
}

// newSlab builds a slab walker reading through mem (the dump's memory, or
// in tests a hostile view of it).
func (s *Session) newSlab(mem symbols.Memory) (*kernel.Slab, error) {
	t, err := s.Layouts()
	if err != nil {
		return nil, err
	}
	env := kernel.SlabEnv{Mem: mem, Types: t, Syms: s.Vmlinux, PageOffset: s.PageOffset()}
	env.PageShift = uint(bits.TrailingZeros(uint(s.Dump.PageSize())))
	_, env.PageCache = mem.(*vmcore.KernelSpace)
	ncpu, err := s.NumCPUs()
	if err != nil {
		return nil, err
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		off, err := s.PerCPUOffset(cpu)
		if err != nil {
			return nil, err
		}
		env.CPUOffsets = append(env.CPUOffsets, off)
	}
	// The struct pages: the one mem_map model (kernel's MemMap).
	env.Vmemmap = 0xffffea0000000000 // x86_64 VMEMMAP_START without KASLR (4-level)
	if mm, err := s.MemMap(); err == nil {
		env.Vmemmap, env.ValidPFN = mm.Vmemmap(), mm.ValidPFN
	}
	for _, n := range s.OnlineNodes() {
		pg, err := s.PGDat(n)
		if err != nil {
			continue
		}
		o, err := s.Object(pg, "pglist_data")
		if err != nil {
			continue
		}
		start, err1 := memberUint(o, "node_start_pfn")
		size, err2 := memberUint(o, "node_spanned_pages")
		if err1 != nil || err2 != nil {
			continue
		}
		env.Nodes = append(env.Nodes, kernel.NodeSpan{ID: n, StartPFN: start, Pages: size})
	}
	return kernel.NewSlab(env)
}

func memberUint(o interface {
	Member(string) (symbols.Object, error)
}, name string) (uint64, error) {
	m, err := o.Member(name)
	if err != nil {
		return 0, err
	}
	return m.Uint()
}

// kmemSlabOpts are kmem -s/-S's choices.
type kmemSlabOpts struct {
	verbose bool // -S
	cpus    map[int]bool
	reqname string
	addrs   []uint64
	ignore  string // -I: caches listed as [IGNORED]
	phys    bool   // -P: the addresses are physical
}

// slabPrinter prints one kmem -s/-S run.
type slabPrinter struct {
	ctx  context.Context
	s    *Session
	sl   *kernel.Slab
	w    *bufio.Writer
	cpus map[int]bool
	// ignore are the caches -I names.
	ignore map[string]bool
	// noSlab is why the slab walker is not there (kmem ADDRESS still
	// answers for what needs only the page model).
	noSlab error
}

func (p *slabPrinter) info(msg string) { fmt.Fprintf(p.w, "kmem: %s\n", msg) }

// cacheLine is DUMP_KMEM_CACHE_INFO.
func (p *slabPrinter) cacheLine(c *kernel.Cache, st kernel.CacheStats, ok bool) {
	if !ok {
		p.info(c.Name + ": cannot gather relevant slab data")
	}
	fmt.Fprintf(p.w, "%-16x %8d  ", c.Addr, c.ObjSize)
	if !ok {
		fmt.Fprintf(p.w, "%9s  %8s  %5s  ", "?", "?", "?")
	} else {
		fmt.Fprintf(p.w, "%9d  %8d  %5d  ", st.Allocated, st.Total, st.Slabs)
	}
	fmt.Fprintf(p.w, "%4dk  %s\n", c.SlabSize(12)/1024, c.Name)
}

func runKmemSlab(s *Session, o kmemSlabOpts, bw *bufio.Writer) error {
	sl, err := s.Slab()
	if err != nil {
		if errors.Is(err, kernel.ErrNoSlab) {
			return err
		}
		return fmt.Errorf("kmem cache slab subsystem not available: %w", err)
	}
	if !sl.HasNodeCounters() {
		fmt.Fprintf(bw, "kmem: option requires kmem_cache_node.nr_slabs member!\n(the kernel must be built with CONFIG_SLUB_DEBUG)\n")
		return nil
	}
	p := &slabPrinter{ctx: s.Ctx(), s: s, sl: sl, w: bw, cpus: o.cpus}
	addrs, err := sl.CacheAddrs(p.ctx)
	if err != nil {
		return err
	}
	if o.reqname == "list" {
		for _, a := range addrs {
			c, err := sl.Cache(a)
			if err != nil {
				return err
			}
			fmt.Fprintf(bw, "%x %s\n", a, c.Name)
		}
		return nil
	}
	if len(o.addrs) > 0 {
		po := s.PageOffset()
		for i, a := range o.addrs {
			if i > 0 {
				bw.WriteString("\n")
			}
			// crash: a physical address (-P, or not a kernel one) is
			// looked at through the direct map where that holds it.
			if o.phys || a < po {
				if hm, ok := s.highMemory(); ok && a < hm-po {
					a += po
				} else {
					fmt.Fprintf(bw, "WARNING: cannot make virtual-to-physical translation: %x\n", a)
				}
			}
			if isCache(addrs, a) {
				c, err := sl.Cache(a)
				if err != nil {
					return err
				}
				p.dumpCaches(addrs, c.Name, o.verbose)
				continue
			}
			p.dumpAddress(addrs, a, o.verbose, o.reqname)
		}
		return nil
	}
	p.ignore = ignoreSet(o.ignore)
	p.dumpCaches(addrs, o.reqname, o.verbose)
	return nil
}

// ignoreSet is crash's ignore_cache list: names split at commas and
// blanks.
func ignoreSet(list string) map[string]bool {
	if list == "" {
		return nil
	}
	m := map[string]bool{}
	for _, n := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		m[n] = true
	}
	return m
}

func isCache(addrs []uint64, a uint64) bool {
	for _, c := range addrs {
		if c == a {
			return true
		}
	}
	return false
}

// dumpCaches is dump_kmem_cache_slub without an address: every cache, or
// the first one named reqname.
func (p *slabPrinter) dumpCaches(addrs []uint64, reqname string, verbose bool) {
	if reqname == "" {
		p.w.WriteString(kmemCacheHdr)
	}
	for i, a := range addrs {
		if p.ctx.Err() != nil {
			return
		}
		c, err := p.sl.Cache(a)
		if err != nil {
			if reqname != "" {
				continue
			}
			continue
		}
		if reqname != "" {
			if c.Name != reqname {
				continue
			}
			p.w.WriteString(kmemCacheHdr)
		}
		if p.ignore[c.Name] {
			fmt.Fprintf(p.w, "%x %-43s  %s\n", a, "[IGNORED]", c.Name)
			if reqname != "" {
				break
			}
			continue
		}
		st, ok := p.sl.Stats(p.ctx, c, p.info)
		p.cacheLine(c, st, ok)
		if ok && verbose {
			p.cacheDetail(c)
			if reqname == "" && i+1 < len(addrs) {
				p.w.WriteString(kmemCacheHdr)
			}
		}
		if reqname != "" {
			break
		}
	}
}

// cacheDetail is do_kmem_cache_slub: each cpu's slab and partial list,
// then each node's lists.
func (p *slabPrinter) cacheDetail(c *kernel.Cache) {
	nodes := p.sl.Nodes()
	perCPU := make([]uint64, max(len(nodes), 1))
	for cpu := 0; cpu < p.sl.CPUs(); cpu++ {
		if p.cpus != nil && !p.cpus[cpu] {
			continue
		}
		kc, _ := p.sl.CPUSlab(c, cpu)
		fmt.Fprintf(p.w, "CPU %d KMEM_CACHE_CPU:\n  %x\n", cpu, kc.KmemCacheCPU)
		fmt.Fprintf(p.w, "CPU %d SLAB:\n", cpu)
		if kc.Slab == 0 {
			p.w.WriteString("  (empty)\n")
		} else {
			if pfn, ok := p.sl.PagePFN(kc.Slab); ok {
				if n := p.sl.NodeOf(pfn); n >= 0 {
					perCPU[n]++
				} else {
					p.info(fmt.Sprintf("page_to_nid: cannot determine node for pages: %x", kc.Slab))
				}
			} else {
				p.info(fmt.Sprintf("page_to_nid: invalid page: %x", kc.Slab))
			}
			if !p.slab(c, kc.Slab, true, 0, false) {
				continue
			}
		}
		fmt.Fprintf(p.w, "CPU %d PARTIAL:\n", cpu)
		if kc.Partial == 0 {
			p.w.WriteString("  (empty)\n")
		}
		err := p.sl.CPUPartial(p.ctx, c, kc.Partial, func(page uint64) error {
			if !p.slab(c, page, true, 0, false) {
				return errStop
			}
			return nil
		})
		var se *kernel.SlabError
		if errors.As(err, &se) {
			p.info(se.Error())
		}
	}
	for n := range nodes {
		nc, err := p.sl.Node(c, n)
		if err != nil {
			break
		}
		p.w.WriteString("KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n")
		fmt.Fprintf(p.w, "%x  ", nc.Addr)
		fmt.Fprintf(p.w, "%4d  %5d  %7d  %7d\n", n, int64(nc.NrSlabs), int64(nc.NrPartial), perCPU[n])
		if nc.Addr != 0 {
			p.nodeLists(c, nc.Addr, n)
		}
	}
	p.w.WriteString("\n")
}

// nodeLists is do_node_lists_slub.
func (p *slabPrinter) nodeLists(c *kernel.Cache, node uint64, n int) {
	for _, full := range []bool{false, true} {
		label := "PARTIAL"
		if full {
			label = "FULL"
		}
		empty, tracked, err := p.sl.NodeListHead(c, node, full)
		if !tracked {
			fmt.Fprintf(p.w, "NODE %d FULL:\n  (not tracked)\n", n)
			return
		}
		if err != nil {
			return
		}
		fmt.Fprintf(p.w, "NODE %d %s:\n", n, label)
		if empty {
			p.w.WriteString("  (empty)\n")
			continue
		}
		p.w.WriteString("  " + slabHdr)
		stopped := false
		p.sl.NodeList(p.ctx, c, node, full, func(sp *kernel.SlabPage) error {
			if !p.slab(c, sp.Page, false, 0, false) {
				stopped = true
				return errStop
			}
			return nil
		}, p.info)
		if stopped {
			return
		}
	}
}

// slab is do_slab_slub: the slab's line and, verbose, its objects (only
// the one holding addr when only is set). It reports crash's TRUE.
func (p *slabPrinter) slab(c *kernel.Cache, page uint64, verbose bool, addr uint64, only bool) bool {
	if !p.sl.IsPagePtr(page) {
		p.info(fmt.Sprintf("%s: invalid slab address: %x", c.Name, page))
		return false
	}
	if verbose {
		p.w.WriteString("  " + slabHdr)
	}
	d, err := p.sl.Detail(p.ctx, c, page)
	if err != nil {
		var se *kernel.SlabError
		if errors.As(err, &se) && se.Kind == kernel.BadObjectsCount {
			p.info(se.Error())
		}
		return false
	}
	inuse := int(d.SlabPage.Inuse)
	if verbose {
		inuse = d.Inuse
	}
	fmt.Fprintf(p.w, "  %-16x  %-16x  %4d  %5d  %9d  %4d\n", page, d.Memory, d.Node, d.SlabPage.Objects, inuse, int(d.SlabPage.Objects)-inuse)
	if !verbose {
		return true
	}
	p.w.WriteString("  " + freeInuseHdr)
	pad := uint64(0)
	if len(d.Objects) > 0 {
		pad = d.Objects[0].Addr - d.Memory
	}
	for _, o := range d.Objects {
		start := o.Addr - pad
		if only && (addr < start || addr >= start+uint64(c.Size)) {
			continue
		}
		if o.Free {
			fmt.Fprintf(p.w, "   %x  ", o.Addr)
			if d.CPU >= 0 {
				fmt.Fprintf(p.w, "(cpu %d cache)", d.CPU)
			}
			p.w.WriteString("\n")
		} else {
			fmt.Fprintf(p.w, "  [%x]\n", o.Addr)
		}
	}
	if d.Err != nil {
		p.info(d.Err.Error())
		return false
	}
	return true
}

// dumpAddress is dump_kmem_cache_slub with ADDRESS_SPECIFIED: the cache
// and slab holding addr (a slab object, or a slab's struct page).
// It reports whether addr was in the slab subsystem.
func (p *slabPrinter) dumpAddress(addrs []uint64, addr uint64, verbose bool, reqname string) bool {
	sl := p.sl
	var page uint64
	var name string
	all := verbose
	if head, ok := p.s.slabPageOf(sl, addr, false); ok && sl.IsPagePtr(addr) {
		// addr is itself a slab's struct page.
		if c, err := sl.Cache(head.cache); err == nil && isCache(addrs, head.cache) {
			name, page, all = c.Name, addr, true
		}
	}
	if name == "" {
		if !sl.IsPagePtr(addr) {
			if _, err := p.s.Mem.VirtToPhys(addr); err != nil {
				// crash's vaddr_to_kmem_cache warns of an unmapped
				// address before it finds no slab.
				fmt.Fprintf(p.w, "WARNING: cannot make virtual-to-physical translation: %x\n", addr)
			}
		}
		pg, ok := p.s.slabPageOf(sl, addr, true)
		if !ok {
			p.info(fmt.Sprintf("address is not allocated in slab subsystem: %x", addr))
			return false
		}
		c, err := sl.Cache(pg.cache)
		if err != nil || !isCache(addrs, pg.cache) {
			p.info(fmt.Sprintf("address is not allocated in slab subsystem: %x", addr))
			return false
		}
		name, page = c.Name, pg.head
	}
	if reqname != "" && reqname != name {
		p.info(fmt.Sprintf("ignoring pre-selected %s cache for address: %x", reqname, addr))
	}
	for _, a := range addrs {
		c, err := sl.Cache(a)
		if err != nil || c.Name != name {
			continue
		}
		p.w.WriteString(kmemCacheHdr)
		st, ok := sl.Stats(p.ctx, c, p.info)
		p.cacheLine(c, st, ok)
		if ok {
			p.slab(c, page, true, addr, !all)
		}
		break
	}
	return true
}

// slabHead is a slab page found from an address.
type slabHead struct {
	head, cache uint64
}

// slabPageOf is crash's vaddr_to_kmem_cache (virt: addr is memory in a
// slab) or is_slab_page (addr is a struct page): the slab's head page and
// its slab_cache when the page is a slab page.
func (s *Session) slabPageOf(sl *kernel.Slab, addr uint64, virt bool) (slabHead, bool) {
	page := addr
	if virt {
		pg, ok := s.pageOfVirt(sl, addr)
		if !ok {
			return slabHead{}, false
		}
		page = pg
	} else if !sl.IsPagePtr(addr) {
		return slabHead{}, false
	}
	pf, err := s.pageFlagsOf(page)
	if err != nil {
		return slabHead{}, false
	}
	head := page
	if !pf.slab {
		if !virt {
			return slabHead{}, false
		}
		head = pf.head
		hf, err := s.pageFlagsOf(head)
		if err != nil || !hf.slab {
			return slabHead{}, false
		}
	} else if virt {
		head = pf.head
	}
	cache, _, ok := sl.CacheOfPage(head, func(p uint64) (uint64, bool) { return p, true })
	if !ok {
		return slabHead{}, false
	}
	return slabHead{head: head, cache: cache}, true
}

// pageOfVirt is the struct page of the memory at the kernel address addr
// (kvtop, then phys_to_page).
func (s *Session) pageOfVirt(sl *kernel.Slab, addr uint64) (uint64, bool) {
	phys, err := s.Mem.VirtToPhys(addr)
	if err != nil {
		return 0, false
	}
	return sl.PageOf(s.PageOffset() + phys)
}

// pageFlags is what kmem needs of one struct page.
type pageFlags struct {
	flags uint64
	slab  bool   // PG_slab, or the page type slab (6.8+)
	head  uint64 // compound_head(page)
}

func (s *Session) pageFlagsOf(page uint64) (pageFlags, error) {
	var pf pageFlags
	flagsOff, err := s.LayoutOffset("page", "flags")
	if err != nil {
		return pf, err
	}
	if pf.flags, err = s.ReadU64(page + uint64(flagsOff)); err != nil {
		return pf, err
	}
	pf.head = page
	if ch, err := s.LayoutOffset("page", "compound_head"); err == nil {
		if v, err := s.ReadU64(page + uint64(ch)); err == nil && v&1 != 0 {
			pf.head = v - 1
		}
	}
	if bit, ok := s.PageFlagBit("PG_slab"); ok {
		pf.slab = pf.flags>>bit&1 != 0
		return pf, nil
	}
	// 6.8 and later: slab pages carry a page type (include/linux/page-flags.h
	// PGTY_slab in the top byte of page_type since 6.12; PG_slab as a
	// cleared bit under PAGE_TYPE_BASE before).
	t, err := s.Layouts()
	if err != nil {
		return pf, err
	}
	ptOff, err := s.LayoutOffset("page", "page_type")
	if err != nil {
		return pf, nil
	}
	pt, err := s.ReadU32(page + uint64(ptOff))
	if err != nil {
		return pf, err
	}
	if v, err := t.Enumerator("PGTY_slab"); err == nil {
		pf.slab = pt>>24 == uint32(v)
		return pf, nil
	}
	return pf, nil
}

// runKmemSearch is crash's kmem_search for each address: what the
// address is. gocrash answers for addresses in the slab subsystem.
func runKmemSearch(s *Session, addrs []uint64, bw *bufio.Writer) error {
	pg, err := s.pages()
	if err != nil {
		return err
	}
	p := &slabPrinter{ctx: s.Ctx(), s: s, sl: pg, w: bw}
	var caches []uint64
	sl, slabErr := s.Slab()
	if slabErr == nil {
		if caches, err = sl.CacheAddrs(p.ctx); err != nil {
			return err
		}
	}
	p.noSlab = slabErr
	for i, a := range addrs {
		if i > 0 {
			bw.WriteString("\n")
		}
		if err := p.search(caches, a); err != nil {
			return err
		}
	}
	return nil
}

// SlabCacheOf is the name of the slab cache whose slab holds the kernel
// address addr (crash's vaddr_to_kmem_cache, as bt -F names stack words):
// ok is false when addr is not in a slab page of a cache on slab_caches.
func (s *Session) SlabCacheOf(addr uint64) (name string, ok bool) {
	sl, err := s.Slab()
	if err != nil {
		return "", false
	}
	h, ok := s.slabPageOf(sl, addr, true)
	if !ok {
		return "", false
	}
	c, err := sl.Cache(h.cache)
	if err != nil {
		return "", false
	}
	return c.Name, true
}
