package commands

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gocrash/kernel"
)

// kmem -V, -z, -h, -o: crash's dump_vm_stat / dump_vm_event_state,
// dump_zone_stats, dump_hstates and dump_per_cpu_offsets.

// writeCounters prints counters right-aligned to the longest name.
func writeCounters(w *bufio.Writer, width int, cs []kernel.Counter, unsigned bool) {
	for _, c := range cs {
		if unsigned {
			fmt.Fprintf(w, "%*s: %d\n", width, c.Name, uint64(c.Value))
		} else {
			fmt.Fprintf(w, "%*s: %d\n", width, c.Name, c.Value)
		}
	}
}

func longest(groups ...[]kernel.Counter) int {
	n := 0
	for _, g := range groups {
		for _, c := range g {
			n = max(n, len(c.Name))
		}
	}
	return n
}

func runKmemVMStat(s *Session, w *bufio.Writer) error {
	st, err := s.VMStat()
	if err != nil {
		return err
	}
	width := longest(st.Zone, st.Node, st.Numa)
	w.WriteString("  VM_ZONE_STAT:\n")
	writeCounters(w, width, st.Zone, false)
	w.WriteString("\n  VM_NODE_STAT:\n")
	writeCounters(w, width, st.Node, false)
	if len(st.Numa) > 0 {
		w.WriteString("\n  VM_NUMA_STAT:\n")
		writeCounters(w, width, st.Numa, false)
	}
	ev, err := s.VMEvents()
	if err != nil {
		return nil
	}
	w.WriteString("\n  VM_EVENT_STATES:\n")
	writeCounters(w, longest(ev), ev, true)
	return nil
}

func runKmemZones(s *Session, w *bufio.Writer) error {
	for n, id := range s.OnlineNodes() {
		pg, err := s.PGDat(id)
		if err != nil {
			return err
		}
		zones, err := s.Zones(n, pg)
		for _, z := range zones {
			name := "(unknown) "
			if z.NameOK {
				name = z.Name
			}
			fmt.Fprintf(w, "NODE: %d  ZONE: %d  ADDR: %x  NAME: \"%s\"\n", n, z.Index, z.Addr, name)
			if z.Spanned == 0 {
				w.WriteString("  [unpopulated]\n\n")
				continue
			}
			fmt.Fprintf(w, "  SIZE: %d", z.Spanned)
			if z.Present < z.Spanned {
				fmt.Fprintf(w, "  PRESENT: %d", z.Present)
			}
			fmt.Fprintf(w, "  MIN/LOW/HIGH: %d/%d/%d", z.Min, z.Low, z.High)
			w.WriteString("\n  VM_STAT:\n")
			writeCounters(w, longest(z.Stat), z.Stat, false)
			w.WriteString("\n\n")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func runKmemHStates(s *Session, w *bufio.Writer) error {
	hs, err := s.HStates()
	if err != nil {
		fmt.Fprintf(w, "kmem: %v\n", err)
		return fmt.Errorf("-h option not supported or applicable on this architecture or kernel")
	}
	w.WriteString("     HSTATE        SIZE    FREE   TOTAL  NAME\n")
	ps := uint64(s.Dump.PageSize())
	for _, h := range hs {
		size := strings.Replace(pagesToSize(uint64(1)<<h.Order, ps), " ", "", 1)
		fmt.Fprintf(w, "%x  %5s  %6d  %6d  %s\n", h.Addr, size, h.Free, h.Total, h.Name)
	}
	return nil
}

func runKmemOffsets(s *Session, w *bufio.Writer) error {
	n, err := s.NumCPUs()
	if err != nil {
		return err
	}
	w.WriteString("PER-CPU OFFSET VALUES:\n")
	for cpu := 0; cpu < n; cpu++ {
		off, err := s.PerCPUOffset(cpu)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%7s: %x\n", fmt.Sprintf("CPU %d", cpu), off)
	}
	return nil
}

const vmapHdr = "   VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE\n"

// runKmemVmalloc is kmem -v [ADDRESS]: crash's dump_vmap_area.
func runKmemVmalloc(s *Session, addrs []uint64, w *bufio.Writer) error {
	areas, err := s.VmapAreas(s.Ctx())
	if err != nil && len(areas) == 0 {
		return err
	}
	line := func(a kernel.VmapArea) {
		fmt.Fprintf(w, "%-16x  %-16x  %16x - %-16x  %7d\n", a.Addr, a.VM, a.Start, a.End, a.End-a.Start)
	}
	if len(addrs) == 0 {
		if len(areas) > 0 {
			w.WriteString(vmapHdr)
		}
		for _, a := range areas {
			line(a)
		}
		return err
	}
	// crash prints the header before it looks at the first area, found
	// or not (dump_vmap_area), once per command.
	if len(areas) > 0 {
		w.WriteString(vmapHdr)
	}
	for _, v := range addrs {
		for _, a := range areas {
			if v >= a.Start && v < a.End {
				line(a)
			}
		}
	}
	return err
}

// runKmemNodes is kmem -n: crash's dump_memory_nodes (each node, its
// zones) and dump_mem_sections (each present memory section).
func runKmemNodes(s *Session, w *bufio.Writer) error {
	pg, err := s.pages()
	if err != nil {
		return err
	}
	pageAt := func(pfn uint64) uint64 {
		p, ok := pg.PageOf(s.PageOffset() + pfn<<12)
		if !ok {
			return 0
		}
		return p
	}
	for n, id := range s.OnlineNodes() {
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		pgdat, err := s.PGDat(id)
		if err != nil {
			return err
		}
		o, err := s.Object(pgdat, "pglist_data")
		if err != nil {
			return err
		}
		nid, _ := memberUint(o, "node_id")
		start, err := memberUint(o, "node_start_pfn")
		if err != nil {
			return err
		}
		size, err := memberUint(o, "node_spanned_pages")
		if err != nil {
			return err
		}
		zones, zerr := s.Zones(n, pgdat)
		if n > 0 {
			w.WriteString("\n" + strings.Repeat("-", len(nodeZoneHdr)) + "\n\n")
		}
		fmt.Fprintf(w, "NODE  %s  %s  %s  %s\n", center("SIZE", 8, false), center("PGLIST_DATA", 16, false),
			center("BOOTMEM_DATA", 16, false), center("NODE_ZONES", 16, false))
		nodeZones := pgdat
		if len(zones) > 0 {
			nodeZones = zones[0].Addr
		}
		fmt.Fprintf(w, " %2d   %s  %-16x  %s  %-16x\n", int(nid), center(fmt.Sprint(size), 8, false), pgdat, center("----", 16, false), nodeZones)
		for _, z := range zones[min(1, len(zones)):] {
			fmt.Fprintf(w, "%s%x\n", strings.Repeat(" ", 52), z.Addr)
		}
		fmt.Fprintf(w, "%s     START_PADDR    START_MAPNR\n", center("MEM_MAP", 16, false))
		fmt.Fprintf(w, "%16x  %s  %s\n", pageAt(start), center(fmt.Sprintf("%x", start<<12), 16, true), center(fmt.Sprint(start), 11, true))
		fmt.Fprintf(w, "\n%s\n", nodeZoneHdr)
		for _, z := range zones {
			var mm, mapnr uint64
			if z.Spanned != 0 {
				mm, mapnr = pageAt(z.ZoneStartPFN), z.ZoneStartPFN
			}
			name := "(unknown) "
			if z.NameOK {
				name = z.Name
			}
			fmt.Fprintf(w, " %2d   %-9s %7d  %16x  %11x  %11d\n", z.Index, name, z.Spanned, mm, z.ZoneStartPFN<<12, mapnr)
		}
		if zerr != nil {
			return zerr
		}
	}
	mm, err := s.MemMap()
	if err != nil {
		return err
	}
	w.WriteString("\n" + strings.Repeat("-", 67) + "\n\n")
	fmt.Fprintf(w, "NR  %s  %s  %s  %s PFN\n", center("SECTION", 16, false), center("CODED_MEM_MAP", 16, false), center("MEM_MAP", 16, false), "STATE")
	err = mm.Sections(s.Ctx(), func(sec kernel.Section) error {
		pfn := sec.Nr * mm.PagesPerSection()
		state := ""
		for i, c := range "PMOED" {
			if sec.Raw&(1<<i) != 0 {
				state += string(c)
			}
		}
		fmt.Fprintf(w, "%2d  %16x  %16x  %16x  %s %-16d\n", sec.Nr, sec.Addr, sec.Coded, sec.MemMap, center(state, 5, false), pfn)
		return nil
	})
	if err != nil {
		return err
	}
	return writeMemoryBlocks(s, w)
}

// writeMemoryBlocks is crash's dump_memory_blocks: each memory block of a
// kernel with memory hotplug (nothing without).
func writeMemoryBlocks(s *Session, w *bufio.Writer) error {
	blocks, err := s.MemoryBlocks(s.Ctx())
	if errors.Is(err, kernel.ErrNoMemoryBlocks) {
		return nil
	}
	pw := s.paddrPrlen()
	hasEnd, hasNid := false, false
	if len(blocks) > 0 {
		hasEnd, hasNid = blocks[0].HasEnd, blocks[0].HasNid
	} else if t, terr := s.Layouts(); terr == nil {
		hasNid = t.HasMember("memory_block", "nid")
		_, probed := s.Vmlinux.Lookup("memory_block_size_probed")
		hasEnd = probed || t.HasMember("memory_block", "end_section_nr")
	}
	hdr := "PHYSICAL START"
	if hasEnd {
		hdr = "PHYSICAL RANGE"
	}
	if hasNid {
		fmt.Fprintf(w, "\n%s %s   %s   %s  %-7s %-12s\n", center("MEM_BLOCK", 16, false), center("NAME", 10, false),
			center(hdr, pw*2+2, false), "NODE", "STATE", "START_SECTION_NO")
	} else {
		fmt.Fprintf(w, "\n%s %s   %s    %-7s %-12s\n", center("MEM_BLOCK", 16, false), center("NAME", 10, false),
			center(hdr, pw*2, false), "STATE", "START_SECTION_NO")
	}
	for _, b := range blocks {
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		start := b.StartSection << 27
		var rng string
		if b.HasEnd {
			rng = fmt.Sprintf("%*x - %*x", pw, start, pw, b.End)
		} else {
			rng = center(fmt.Sprintf("%x", start), pw*2+3, false)
		}
		state := memBlockState(b.State)
		sec := strconv.FormatUint(b.StartSection, 10)
		if b.HasNid {
			fmt.Fprintf(w, " %-16x %s %s %s  %-7s %-12s\n", b.Addr, center(b.Name, 12, false), rng,
				center(strconv.Itoa(b.Node), 4, false), state, sec)
		} else {
			fmt.Fprintf(w, " %-16x %s %s  %-7s %-12s\n", b.Addr, center(b.Name, 10, false), rng, state, sec)
		}
	}
	return err
}

// memBlockState names memory_block.state (include/linux/memory.h).
func memBlockState(v uint64) string {
	switch v {
	case 1 << 0:
		return "ONLINE"
	case 1 << 1:
		return "GOING_OFFLINE"
	case 1 << 2:
		return "OFFLINE"
	case 1 << 3:
		return "GOING_ONLINE"
	case 1 << 4:
		return "CANCEL_ONLINE"
	case 1 << 5:
		return "CANCEL_OFFLINE"
	}
	return "UNKNOWN"
}

// paddrPrlen is crash's PADDR_PRLEN: the hexadecimal width of the end of
// physical memory (max_pfn pages).
func (s *Session) paddrPrlen() int {
	if o, err := s.Var("max_pfn"); err == nil {
		if n, err := o.Uint(); err == nil {
			return len(fmt.Sprintf("%x", n<<12))
		}
	}
	return 8
}

// nodeZoneHdr is crash's zone table header under each node.
const nodeZoneHdr = "ZONE  NAME         SIZE       MEM_MAP      START_PADDR  START_MAPNR"

func (s *Session) hasType(name string) bool {
	t, err := s.Layouts()
	if err != nil {
		return false
	}
	_, err = t.SizeOf(name)
	return err == nil
}
