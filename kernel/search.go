package kernel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
)

// The memory crash's search reads (memory.c cmd_search, search_virtual,
// search_physical; x86_64.c x86_64_get_kvaddr_ranges): the kernel's
// virtual ranges in address order - the direct map up to high_memory, the
// vmalloc areas of vmap_area_list (those with a vm_struct), the vmemmap
// array of struct pages, the kernel image mapping from __START_KERNEL_map
// to _end - and, for a physical search, the nodes' spanned pages. A page
// is read when it translates and a struct page describes it
// (phys_to_page), and when the dump holds it.

// RangeKind is the kind of a kernel virtual range.
type RangeKind int

const (
	RangeUnity   RangeKind = iota // KVADDR_UNITY_MAP: the direct map
	RangeVmalloc                  // KVADDR_VMALLOC
	RangeVmemmap                  // KVADDR_VMEMMAP
	RangeImage                    // KVADDR_START_MAP: the kernel image
)

// VirtRange is one kernel virtual range, [Start, End).
type VirtRange struct {
	Kind       RangeKind
	Start, End uint64
}

// SearchRanges returns crash's kernel virtual ranges, sorted by start.
func (k *Kernel) SearchRanges(ctx context.Context) ([]VirtRange, []VmapArea, error) {
	po := k.PageOffset()
	hm := uint64(0)
	if o, err := k.Var("high_memory"); err == nil {
		hm, _ = o.Pointer()
	}
	if hm == 0 {
		return nil, nil, errors.New("high_memory: cannot read the end of the direct map")
	}
	end, ok := k.Vmlinux.Lookup("_end")
	if !ok {
		return nil, nil, errors.New("no _end symbol")
	}
	rs := []VirtRange{{RangeUnity, po, hm}, {RangeImage, 0xffffffff80000000, end}}
	areas, err := k.VmapAreas(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(areas) > 0 {
		vs := uint64(0)
		if o, err := k.Var("vmalloc_base"); err == nil {
			vs, _ = o.Uint()
		}
		if vs == 0 {
			vs = areas[0].Start
		}
		rs = append(rs, VirtRange{RangeVmalloc, vs, areas[len(areas)-1].End})
	}
	if mm, err := k.MemMap(); err == nil {
		if nodes, err := k.Nodes(); err == nil && len(nodes) > 0 {
			last := nodes[len(nodes)-1]
			vend := mm.vmemmap + (last.StartPFN+last.Pages)*mm.pageSize
			if !inAreas(areas, mm.vmemmap) {
				rs = append(rs, VirtRange{RangeVmemmap, mm.vmemmap, vend})
			}
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	return rs, areas, nil
}

func inAreas(areas []VmapArea, v uint64) bool {
	for _, a := range areas {
		if v >= a.Start && v < a.End {
			return true
		}
	}
	return false
}

// Node is one memory node: its first page frame and spanned pages.
type Node struct{ StartPFN, Pages uint64 }

// Nodes reads the memory nodes (node_data[] with NUMA, contig_page_data
// without): node_start_pfn and node_spanned_pages.
func (k *Kernel) Nodes() ([]Node, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	so, err := t.Offset("pglist_data.node_start_pfn")
	if err != nil {
		return nil, err
	}
	sp, err := t.Offset("pglist_data.node_spanned_pages")
	if err != nil {
		return nil, err
	}
	read := func(pg uint64) (Node, error) {
		s, err := ReadPointer(k.Mem, pg+uint64(so))
		if err != nil {
			return Node{}, err
		}
		n, err := ReadPointer(k.Mem, pg+uint64(sp))
		return Node{s, n}, err
	}
	if a, ok := k.Vmlinux.Lookup("contig_page_data"); ok {
		n, err := read(a)
		return []Node{n}, err
	}
	o, err := k.Var("node_data")
	if err != nil {
		return nil, err
	}
	var out []Node
	for i := 0; i < o.Len(); i++ {
		e, err := o.Index(i)
		if err != nil {
			return out, err
		}
		p, err := e.Pointer()
		if err != nil || p == 0 {
			continue
		}
		n, err := read(p)
		if err != nil {
			return out, err
		}
		out = append(out, n)
	}
	return out, nil
}

// SearchPage is one page a search reads.
type SearchPage struct {
	Addr uint64 // virtual (or, in a physical search, physical) address
	Data []byte // 4096 bytes
	// Found is what the walk's Scan function returned for the page, run
	// by the reading goroutine (so pages are scanned in parallel).
	Found []byte
}

// Scan, when not nil, is run on each page by the goroutine that read it;
// its answer reaches fn as SearchPage.Found. It must not keep the page.
type Scan func(SearchPage) []byte

// KVToP is crash's kvtop for x86_64: the direct map and the kernel
// image translate by arithmetic (x86_64_VTOP), anything else (vmalloc,
// vmemmap, modules, fixmap: IS_VMALLOC_ADDR) by walking the page tables.
func (k *Kernel) KVToP(va uint64) (uint64, bool) { return k.kvtop()(va) }

// kvtop prepares KVToP's facts once, for loops over many pages.
func (k *Kernel) kvtop() func(uint64) (uint64, bool) {
	po := k.PageOffset()
	vmallocBase := uint64(0)
	if o, err := k.Var("vmalloc_base"); err == nil {
		vmallocBase, _ = o.Uint()
	}
	imgSize := uint64(1 << 30) // KERNEL_IMAGE_SIZE with KASLR
	if info := k.Dump.Info(); info != nil {
		if n, ok := info.Number("KERNEL_IMAGE_SIZE"); ok && n > 0 {
			imgSize = uint64(n)
		}
	}
	return func(va uint64) (uint64, bool) {
		if va >= po && vmallocBase > po && va < vmallocBase {
			return va - po, true
		}
		if va >= startKernelMap && va < startKernelMap+imgSize {
			pa, err := k.Mem.VirtToPhys(va)
			return pa, err == nil
		}
		w, err := k.Mem.WalkKernel(va)
		if err != nil || !w.Mapped {
			return 0, false
		}
		return w.Phys, true
	}
}

const startKernelMap = 0xffffffff80000000

// pageCand is a page to read: its address and where it is.
type pageCand struct{ addr, phys uint64 }

// SearchVirt reads every page crash's search_virtual would read in
// [start, end) of range r, calling fn for each in address order (from one
// goroutine; scan, if set, runs on the readers). As crash, it goes page
// by page while pages translate; a page that does not (or that no struct
// page describes) moves on as next_kpage does for the range's kind: the
// next page of a node of the direct map, the next vmalloc area, the next
// page elsewhere. A page the dump lacks is passed over.
func (k *Kernel) SearchVirt(ctx context.Context, r VirtRange, areas []VmapArea, start, end uint64, scan Scan, fn func(SearchPage) error) error {
	mm, err := k.MemMap()
	if err != nil {
		return err
	}
	var nodes []Node
	if r.Kind == RangeUnity {
		nodes, _ = k.Nodes()
	}
	po := k.PageOffset()
	nextK := func(pp uint64) (uint64, bool) {
		v := pp&^4095 + 4096
		if v < pp {
			return 0, false
		}
		switch r.Kind {
		case RangeUnity:
			pa := v - po
			for _, n := range nodes {
				s, e := n.StartPFN<<12, (n.StartPFN+n.Pages)<<12
				if pa >= e {
					continue
				}
				if pa < s {
					return s + po, true
				}
				return v, true
			}
			return 0, false
		case RangeVmalloc:
			for _, a := range areas {
				if v <= a.Start {
					return a.Start, true
				}
				if v < a.End {
					return v, true
				}
			}
			return 0, false
		}
		return v, true
	}
	pp := start &^ 4095
	kvtop := k.kvtop()
	described := mm.Describes()
	gen := func() (pageCand, bool) {
		for pp < end {
			if ctx.Err() != nil {
				return pageCand{}, false
			}
			cur := pp
			pa, ok := kvtop(cur)
			if ok {
				if described(pa) {
					pp = cur + 4096
					if pp < cur {
						pp = end
					}
					return pageCand{cur, pa &^ 4095}, true
				}
			}
			next, ok := nextK(cur)
			if !ok {
				pp = end
				break
			}
			pp = next
		}
		return pageCand{}, false
	}
	return k.searchPages(ctx, gen, scan, fn)
}

// SearchPhys reads every page of the nodes in [start, end) that a struct
// page describes and the dump holds, as search_physical does.
func (k *Kernel) SearchPhys(ctx context.Context, start, end uint64, scan Scan, fn func(SearchPage) error) error {
	mm, err := k.MemMap()
	if err != nil {
		return err
	}
	pp := start &^ 4095
	described := mm.Describes()
	gen := func() (pageCand, bool) {
		for pp < end {
			cur := pp
			pp += 4096
			if described(cur) {
				return pageCand{cur, cur}, true
			}
		}
		return pageCand{}, false
	}
	return k.searchPages(ctx, gen, scan, fn)
}

// searchPages reads the pages gen yields in batches, several at once, and
// hands them to fn in order. A page outside the dump's file data is
// passed over without a read; the batch's buffers are reused (fn must not
// keep Data).
func (k *Kernel) searchPages(ctx context.Context, gen func() (pageCand, bool), scan Scan, fn func(SearchPage) error) error {
	const batch = 512
	workers := runtime.GOMAXPROCS(0)
	type slot = searchSlot
	slots := make([]slot, 0, batch)
	// bufs hold the pages read by copy: none of an ELF dump's, which are
	// scanned where they are mapped (viewScan).
	var bufs []byte
	var bufsOnce sync.Once
	buf := func(i int) []byte {
		bufsOnce.Do(func() { bufs = make([]byte, batch*4096) })
		return bufs[i*4096 : (i+1)*4096]
	}
	// The dump's answer for a run of addresses, asked once a run.
	var runStart, runEnd uint64
	held := false
	mayHold := func(p uint64) bool {
		if p < runStart || p >= runEnd {
			runStart = p
			held, runEnd = k.Dump.MayHoldRun(p)
		}
		return held
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		slots = slots[:0]
		for len(slots) < batch {
			c, ok := gen()
			if !ok {
				break
			}
			if mayHold(c.phys) {
				slots = append(slots, slot{pageCand: c})
			}
		}
		if len(slots) == 0 {
			return ctx.Err()
		}
		var wg sync.WaitGroup
		per := (len(slots) + workers - 1) / workers
		for w := 0; w < len(slots); w += per {
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				// Pages of an ELF dump are scanned where the file is
				// mapped, not copied: a fault there (the file cut short
				// underneath) becomes a panic of this goroutine, and
				// the page is read again with ReadPhys, which says why.
				old := debug.SetPanicOnFault(true)
				defer debug.SetPanicOnFault(old)
				for i := lo; i < hi; i++ {
					s := &slots[i]
					if scan != nil {
						if v, ok := k.Dump.ViewPhys(s.phys, 4096); ok && viewScan(s, v, scan) {
							continue
						}
					}
					buf := buf(i)
					if err := k.Dump.ReadPhys(buf, s.phys); err != nil {
						continue
					}
					s.ok, s.data = true, buf
					if scan != nil {
						s.found = scan(SearchPage{Addr: s.addr, Data: buf})
					}
				}
			}(w, min(w+per, len(slots)))
		}
		wg.Wait()
		for _, s := range slots {
			if !s.ok {
				continue
			}
			if err := fn(SearchPage{Addr: s.addr, Data: s.data, Found: s.found}); err != nil {
				return err
			}
		}
	}
}

// searchSlot is one page of a batch: where it is, whether it was read, its
// bytes (the mapped dump's, or a copy) and what the scan found there.
type searchSlot struct {
	pageCand
	ok    bool
	data  []byte
	found []byte
}

// viewScan scans a page in place in the mapped dump; false when reading it
// faulted (the caller reads it again with ReadPhys). Only with a Scan: the
// page's reader is the one guarded goroutine that touches it (fn gets the
// same bytes, and needs only Found).
func viewScan(s *searchSlot, v []byte, scan Scan) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	s.found = scan(SearchPage{Addr: s.addr, Data: v})
	s.ok, s.data = true, v
	return true
}

// ErrSearchStopped is returned by a search callback to end the walk early.
var ErrSearchStopped = fmt.Errorf("search stopped")
