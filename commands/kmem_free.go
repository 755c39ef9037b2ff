package commands

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"gocrash/kernel"
)

// kmem -f / -F / -f ADDRESS: the buddy allocator's free lists, crash's
// dump_free_pages_zones_v2 and dump_zone_free_area (memory.c).

const (
	freeZoneHdr = "ZONE  NAME        SIZE    FREE"
	freeAreaHdr = "AREA    SIZE  FREE_AREA_STRUCT\n"
	freeAreaSum = "AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n"
)

// freeZone is one zone as kmem -f shows it.
type freeZone struct {
	node, nodeID int
	z            kernel.Zone
	free         uint64 // vm_stat[NR_FREE_PAGES]
	memMap       uint64 // the struct page of the zone's first pfn (0 for an empty zone)
	mapnr        uint64 // its index from the node's mem_map
	nodeStart    uint64 // the node's first physical address
	nodeEnd      uint64
}

// freeZones reads every zone of every online node.
func (s *Session) freeZones() ([]freeZone, error) {
	pg, err := s.pages()
	if err != nil {
		return nil, err
	}
	pageAt := func(pfn uint64) uint64 {
		p, _ := pg.PageOf(s.PageOffset() + pfn<<12)
		return p
	}
	var out []freeZone
	for n, id := range s.OnlineNodes() {
		pgdat, err := s.PGDat(id)
		if err != nil {
			return out, err
		}
		o, err := s.Object(pgdat, "pglist_data")
		if err != nil {
			return out, err
		}
		start, err := memberUint(o, "node_start_pfn")
		if err != nil {
			return out, err
		}
		size, err := memberUint(o, "node_spanned_pages")
		if err != nil {
			return out, err
		}
		nodeMap := pageAt(start)
		zones, err := s.Zones(n, pgdat)
		for _, z := range zones {
			fz := freeZone{node: n, nodeID: id, z: z, nodeStart: start << 12, nodeEnd: (start + size) << 12}
			for _, c := range z.Stat {
				if c.Name == "NR_FREE_PAGES" {
					fz.free = uint64(c.Value)
				}
			}
			if z.Spanned != 0 {
				fz.memMap = pageAt(z.ZoneStartPFN)
			}
			if fz.memMap != 0 && nodeMap != 0 {
				ps, _ := s.LayoutSize("page")
				if ps > 0 {
					fz.mapnr = (fz.memMap - nodeMap) / uint64(ps)
				}
			}
			out = append(out, fz)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// writeFreeZoneHeader prints a zone's header and line.
func writeFreeZoneHeader(w *bufio.Writer, fz *freeZone, first bool) {
	if !first {
		w.WriteString("\n")
	}
	fmt.Fprintf(w, "%s  %s  START_PADDR  START_MAPNR\n", freeZoneHdr, center("MEM_MAP", 16, false))
	w.WriteString(freeZoneLine(fz) + "\n")
}

func freeZoneLine(fz *freeZone) string {
	name := "(unknown) "
	if fz.z.NameOK {
		name = fmt.Sprintf("%-9s ", fz.z.Name)
	}
	return fmt.Sprintf("%3d   %s%6d  %6d  %s  %s  %s", fz.z.Index, name, fz.z.Spanned, fz.free,
		center(fmt.Sprintf("%x", fz.memMap), 16, false), center(fmt.Sprintf("%x", fz.z.ZoneStartPFN<<12), 11, true),
		center(strconv.FormatUint(fz.mapnr, 10), 11, true))
}

// freeAreaLine is the start of an area line: order, block size and the
// free list's address.
func freeAreaLine(fl *kernel.FreeList, pageSize uint64) string {
	return fmt.Sprintf("%3d  %7s  %s  ", fl.Order, fmt.Sprintf("%dk", (uint64(1)<<fl.Order)*pageSize/1024), center(fmt.Sprintf("%x", fl.Addr), 16, false))
}

// runKmemFree is kmem -f (each zone's free lists: blocks and pages) and
// kmem -F (every free block's struct page).
func runKmemFree(s *Session, verbose bool, w *bufio.Writer) error {
	zones, err := s.freeZones()
	if err != nil && len(zones) == 0 {
		return err
	}
	ps := uint64(s.Dump.PageSize())
	multi := len(s.OnlineNodes()) > 1
	var sum, found uint64
	for i := range zones {
		fz := &zones[i]
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		if fz.z.Index == 0 && multi {
			if fz.node > 0 {
				w.WriteString("\n" + strings.Repeat("-", 74) + "\n")
			}
			nl := ""
			if fz.node > 0 {
				nl = "\n"
			}
			fmt.Fprintf(w, "%sNODE\n %2d\n", nl, fz.nodeID)
		}
		writeFreeZoneHeader(w, fz, fz.z.Index == 0)
		sum += fz.free
		if fz.free == 0 {
			continue
		}
		lists, err := s.FreeLists(s.Ctx(), fz.z.FreeArea)
		if !verbose {
			w.WriteString(freeAreaSum)
		}
		for j := range lists {
			fl := &lists[j]
			if verbose {
				w.WriteString(freeAreaHdr)
			}
			w.WriteString(freeAreaLine(fl, ps))
			if len(fl.Blocks) == 0 && fl.Err == nil {
				if verbose {
					w.WriteString("\n")
				} else {
					fmt.Fprintf(w, "%6d %6d\n", 0, 0)
				}
				continue
			}
			if verbose {
				w.WriteString("\n")
				for _, b := range fl.Blocks {
					fmt.Fprintf(w, "%x\n", b)
				}
			}
			if fl.Err != nil {
				return freeListError(w, fl, fz)
			}
			if !verbose {
				fmt.Fprintf(w, "%6d %6d\n", len(fl.Blocks), len(fl.Blocks)<<fl.Order)
			}
			found += uint64(len(fl.Blocks)) << fl.Order
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nnr_free_pages: %d  ", sum)
	if sum == found {
		w.WriteString("(verified)\n")
	} else {
		fmt.Fprintf(w, "(found %d)\n", found)
	}
	return err
}

// freeListError is crash's answer to a free list that loops (do_list's
// "duplicate list entry", then "corrupted free list") or cannot be read.
func freeListError(w *bufio.Writer, fl *kernel.FreeList, fz *freeZone) error {
	var dup *kernel.DuplicateEntryError
	if errors.As(fl.Err, &dup) {
		fmt.Fprintf(w, "\nkmem: duplicate list entry: %x\n", dup.Addr)
		return fmt.Errorf("corrupted free list %d from free_area struct: %x", fl.Type, fl.Addr-uint64(fl.Type)*16)
	}
	return fmt.Errorf("zone %s free_area[%d].free_list[%d] at %x: %w", fz.z.Name, fl.Order, fl.Type, fl.Addr, fl.Err)
}

// freePageOf is the free block holding the page at phys, as crash's
// dump_free_pages_zones_v2 finds it for kmem -f ADDRESS and kmem ADDRESS:
// the zones of the node holding phys are walked list by list until a
// block's struct page range holds the page. crash's callback takes the
// range as [first, first + 2^order pages] — one page past the block — and
// then checks the physical range [start, start + 2^order pages): a page
// right after a block stops the walk there and is reported as not free.
type freeHit struct {
	zone   *freeZone
	list   kernel.FreeList
	block  uint64 // the block's struct page
	offset uint64 // the page's index inside the block
}

// freeLists are a session's zones and free lists, read once: kmem ADDRESS
// looks at them for every address (the dump does not change).
type freeLists struct {
	zones []freeZone
	lists [][]kernel.FreeList
}

var (
	sessionFreeMu sync.Mutex
	sessionFree   = map[*Session]*freeLists{}
)

func (s *Session) freeIndex() (*freeLists, error) {
	sessionFreeMu.Lock()
	idx := sessionFree[s]
	sessionFreeMu.Unlock()
	if idx != nil {
		return idx, nil
	}
	zones, err := s.freeZones()
	if err != nil && len(zones) == 0 {
		return nil, err
	}
	idx = &freeLists{zones: zones, lists: make([][]kernel.FreeList, len(zones))}
	for i := range zones {
		if zones[i].free == 0 {
			continue
		}
		if idx.lists[i], err = s.FreeLists(s.Ctx(), zones[i].z.FreeArea); err != nil {
			return nil, err
		}
	}
	sessionFreeMu.Lock()
	sessionFree[s] = idx
	sessionFreeMu.Unlock()
	return idx, nil
}

func (s *Session) freePageOf(phys uint64) (*freeHit, bool, error) {
	pg, err := s.pages()
	if err != nil {
		return nil, false, err
	}
	searchPage, ok := pg.PageOf(s.PageOffset() + phys&^0xfff)
	if !ok {
		return nil, false, nil
	}
	idx, err := s.freeIndex()
	if err != nil {
		return nil, false, err
	}
	psz, err := s.LayoutSize("page")
	if err != nil {
		return nil, false, err
	}
	for i := range idx.zones {
		fz := &idx.zones[i]
		if fz.free == 0 || phys < fz.nodeStart || phys >= fz.nodeEnd {
			continue
		}
		for _, fl := range idx.lists[i] {
			for _, b := range fl.Blocks {
				chunk := uint64(1) << fl.Order
				if searchPage < b || searchPage > b+chunk*uint64(psz) {
					continue
				}
				pfn, ok := pg.PagePFN(b)
				if !ok {
					return nil, true, nil
				}
				start := pfn << 12
				if phys < start || phys >= start+chunk<<12 {
					return nil, true, nil
				}
				return &freeHit{zone: fz, list: fl, block: b, offset: (phys - start) >> 12}, true, nil
			}
		}
	}
	return nil, false, nil
}

// writeFreeHit prints where a free page is: its zone, its free area and
// its block ("(ADDR is 3rd of 8 pages)" for a page inside a larger block).
func (s *Session) writeFreeHit(w *bufio.Writer, h *freeHit, addr uint64, physical bool) {
	if len(s.OnlineNodes()) > 1 {
		fmt.Fprintf(w, "NODE\n %2d\n", h.zone.nodeID)
	}
	fmt.Fprintf(w, "%s  %s  START_PADDR  START_MAPNR\n", freeZoneHdr, center("MEM_MAP", 16, false))
	w.WriteString(freeZoneLine(h.zone) + "\n")
	w.WriteString(freeAreaHdr)
	w.WriteString(freeAreaLine(&h.list, uint64(s.Dump.PageSize())) + "\n")
	fmt.Fprintf(w, "%x  ", h.block)
	if h.list.Order > 0 {
		if physical {
			in := ""
			if addr&0xfff != 0 {
				in = "in "
			}
			fmt.Fprintf(w, "(%x is %s", addr, in)
		} else {
			fmt.Fprintf(w, "(%x is ", addr)
		}
		fmt.Fprintf(w, "%s of %d pages)", ordinal(h.offset+1), uint64(1)<<h.list.Order)
	}
	w.WriteString("\n")
}

// ordinal is crash's ordinal(): the number and the suffix its last digit
// takes ("11st", "12nd" as crash writes them).
func ordinal(v uint64) string {
	s := strconv.FormatUint(v, 10)
	switch s[len(s)-1] {
	case '1':
		return s + "st"
	case '2':
		return s + "nd"
	case '3':
		return s + "rd"
	}
	return s + "th"
}

// runKmemFreeSearch is kmem -f ADDRESS: the free block holding the page of
// a kernel virtual address, a struct page or (-P, or a value outside the
// kernel's space) a physical address.
func runKmemFreeSearch(s *Session, addrs []uint64, physical bool, w *bufio.Writer) error {
	pg, err := s.pages()
	if err != nil {
		return err
	}
	for i, a := range addrs {
		if i > 0 {
			w.WriteString("\n")
		}
		phys, isPhys := a, physical || a < 0xff00000000000000
		if !isPhys {
			if pfn, ok := pg.PagePFN(a); ok {
				phys = pfn << 12
			} else if p, err := s.Mem.VirtToPhys(a); err == nil {
				phys = p
			} else {
				continue
			}
		}
		if _, ok := pg.PageOf(s.PageOffset() + phys&^0xfff); !ok {
			fmt.Fprintf(w, "kmem: cannot determine page for %x\n", a)
			continue
		}
		h, _, err := s.freePageOf(phys)
		if err != nil {
			return err
		}
		if h != nil {
			s.writeFreeHit(w, h, a, isPhys)
		}
	}
	return nil
}
