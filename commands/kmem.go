package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:        "kmem",
		Summary:     "kernel memory",
		Synopsis:    "[-f|-F|-c|-C|-i|-v|-V|-n|-z|-o|-h] [-p | -m member[,member]]\n       [[-s|-S|-S=cpu[s]|-r] [slab] [-I slab[,slab]]] [-g [flags]] [[-P] address]]",
		Description: `  This command displays information about the use of kernel memory.`,
		Flags: []Flag{
			{Name: "f", Help: "each zone's free lists of the buddy allocator (free_area[order].free_list[migrate type]): the blocks and pages on each, and whether their sum equals the zones' NR_FREE_PAGES (verified). With an address (a struct page, a kernel virtual or a physical address), the free block holding its page, if it is free."},
			{Name: "F", Help: "the same as -f, with the struct page of every free block on each list."},
			{Name: "c", Help: "the page hash table of 2.4 kernels: crash's \"option not supported\" on later ones."},
			{Name: "C", Help: "the same as -c, with every page in the table."},
			{Name: "i", Help: "general memory usage: the pages of RAM, free, used, shared (not reserved, referenced more than once), buffers (the page cache of block devices), cached (the file page cache less the swap cache and the buffers), slab, huge pages, swap and the overcommit limit, each with its size and its share of the total, from the counters crash reads."},
			{Name: "v", Help: "each vmalloc area that has a vm_struct (vmap_area_list, or each vmap_node's busy list since 6.9): vmap_area, vm_struct, range, size. With an address, the area holding it."},
			{Name: "V", Help: "the vm_zone_stat and vm_node_stat counters (and vm_numa_stat, and the vm_event_states summed over the cpus where the kernel counts events), each by its enum name."},
			{Name: "n", Help: "each memory node (pglist_data, its zones, mem_map and start), the zones' sizes and starts, then every present memory section (mem_section: its coded mem_map, mem_map, state P/M/O/E/D, first pfn), then the memory blocks of memory_subsys where the kernel has memory hotplug."},
			{Name: "z", Help: "each zone of each node: size, present pages, the min/low/high watermarks and the zone's vm_stat counters."},
			{Name: "o", Help: "each cpu's per-cpu offset (__per_cpu_offset[]): added to a per-cpu symbol's value, the cpu's copy."},
			{Name: "h", Help: "each huge page size (hstates[]): size, free and total pages, name."},
			{Name: "p", Help: "every struct page of every present memory section (mem_map): its address, the physical address of its page, MAPPING, INDEX, CNT (_refcount) and FLAGS. With an address (a struct page itself, a kernel virtual or a physical address), that page only."},
			{Name: "m", Arg: "member[,member]", Help: "the same as -p, with the named struct page members instead of crash's columns: each page's address, then each member (a member path such as lru.next may be given). Pointers are shown in hex, flags in hex, integers, _count and _mapcount in decimal, a struct as its 8-byte (else 4-byte, printed with no spaces after them, as crash does) words in hex; crash's \"unsupported page member reference\" for unions, arrays and enums."},
			{Name: "s", Help: "each slab cache (SLUB): the kmem_cache address, object size, objects allocated and in total, slabs, slab size and name. With a cache name, that cache only; \"kmem -s list\" lists the caches' addresses and names. With an address, the cache and slab holding it and whether the object there is free or [allocated]."},
			{Name: "S", Help: "the same as -s with every slab of each cache: each cpu's kmem_cache_cpu, its active slab with every object, free or [ALLOCATED] (\"cpu N cache\": on that cpu's lockless freelist), its partial slabs, then each node's kmem_cache_node counters and partial list. -S=cpus limits the per-cpu part to the listed cpus (-S=1, -S=0-2,5, -S=all)."},
			{Name: "r", Help: "the accumulated data of each root slab cache and its memcg children (slab_root_caches, kernels before 5.9): crash's \"option not supported\" on later ones."},
			{Name: "I", Arg: "slab[,slab]", Help: "with -s or -S, the caches named are listed as [IGNORED] instead of walked."},
			{Name: "g", Help: "the page flags of enum pageflags (bit and value); with a flags value, the flags set in it."},
			{Name: "P", Help: "the address that follows is physical."},
			{Name: "l", Arg: "a|i|ic|id", Hidden: true, Help: "the active or inactive page lists of 2.4 kernels: crash's message that they do not exist on later ones."},
			{Name: "L", Arg: "a|i|ic|id", Hidden: true, Help: "the same as -l, with every page on the list."},
		},
		Operands: []Operand{
			{"slab", "with -s or -S, that cache only; \"list\": the caches' addresses and names."},
			{"address", "with no option, what the address is, searched as crash does: the kernel or module symbol it is in (with the source line for text); the task whose kernel stack it is and the vmalloc area holding it; the vmalloc area mapping a physical address; the slab cache, slab and object holding it, or the whole slab of a slab's struct page; the free block of the buddy allocator holding its page; the task whose task_struct holds it; and last its struct page. With -s/-S, -f, -p, -v, -g: as that option says."},
		},
		Notes: `  Freelist pointers are decoded as the kernel stores them: with
  CONFIG_SLAB_FREELIST_HARDENED each is ptr ^ kmem_cache.random ^
  swab(its own address). A freelist that loops, or a pointer that cannot be
  read, ends that slab's listing with one line naming the cache, the slab
  and the object; the listing goes on with the next slab or cache. A buddy
  free list that loops ends kmem -f with crash's "duplicate list entry"
  and "corrupted free list" lines.`,
		Examples: `  Display general memory usage information:

    crash> kmem -i
                     PAGES        TOTAL      PERCENTAGE
        TOTAL MEM    59749     233.4 MB         ----
             FREE    53215     207.9 MB   89% of TOTAL MEM
             USED     6534      25.5 MB   10% of TOTAL MEM
           SHARED      778         3 MB    1% of TOTAL MEM
          BUFFERS        8        32 KB    0% of TOTAL MEM
           CACHED     3926      15.3 MB    6% of TOTAL MEM
             SLAB     1592       6.2 MB    2% of TOTAL MEM

       TOTAL HUGE        0            0         ----
        HUGE FREE        0            0    0% of TOTAL HUGE

       TOTAL SWAP    16383        64 MB         ----
        SWAP USED     1616       6.3 MB    9% of TOTAL SWAP
        SWAP FREE    14767      57.7 MB   90% of TOTAL SWAP

     COMMIT LIMIT    46257     180.7 MB         ----
        COMMITTED    11448      44.7 MB   24% of TOTAL LIMIT

  The kmalloc-64 cache:

    crash> kmem -s kmalloc-64
    CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME
    ff42bab500134500       64        362       448      7     4k  kmalloc-64

  What an address in a slab is:

    crash> kmem ff42bab500943044
    CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME
    ff42bab500134500       64        362       448      7     4k  kmalloc-64
      SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE
      ffcc70a0400250c0  ff42bab500943000     0     64         52    12
      FREE / [ALLOCATED]
      [ff42bab500943040]

          PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
    ffcc70a0400250c0   943000 ff42bab500134500 ff42bab500943a80  1 200 slab

  What a kernel data address is:

    crash> kmem ffffffff8d8079c0
    ffffffff8d8079c0 (D) jiffies

          PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
    ffcc70a0403581c0  d607000                0        0  1 1000 reserved

  The free lists of the buddy allocator:

    crash> kmem -f
    ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR
      0   DMA32      98265   53215  ffcc70a040000040      1000          0
    AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES
      0       4k  ffffffff8d8cd7c0      24     24
      0       4k  ffffffff8d8cd7d0     261    261
    ...
    nr_free_pages: 53215  (verified)

  Chosen members of every struct page:

    crash> kmem -m flags,_mapcount,mapping
          PAGE        flags  _mapcount  mapping
    ffcc70a040000000  0000000000001000  -1  0000000000000000
    ffcc70a040000040  0000000000001000  -1  0000000000000000
    ...

  The caches' addresses and names:

    crash> kmem -s list
    ff42bab500ad0300 ext4_groupinfo_1k
    ff42bab500ad0200 p9_req_t
    ...`,
		Columns: []Column{
			{"TOTAL MEM", "totalram_pages: RAM the kernel manages (less than installed: firmware, the crashkernel reservation, kernel image)"},
			{"FREE", "NR_FREE_PAGES summed over the zones"},
			{"USED", "TOTAL MEM - FREE"},
			{"SHARED", "pages whose struct page has a reference count above 1 (a walk of mem_map)"},
			{"BUFFERS", "page cache of block devices (their inodes' nrpages)"},
			{"CACHED", "NR_FILE_PAGES - swap cache - BUFFERS: file data kept in memory"},
			{"SLAB", "reclaimable + unreclaimable slab pages (NR_SLAB_*)"},
			{"SWAP", "swap_info[] totals and nr_swap_pages"},
			{"COMMIT LIMIT", "swap + RAM x overcommit_ratio / 100: what the kernel promises under strict overcommit"},
			{"COMMITTED", "vm_committed_as: address space promised to processes"},
		},
		Run: runKmem,
	})
}

// kmemOptions is crash 8.0.6's getopt string for kmem
// ("gI:sS::rFfm:pvczCinl:L:PVoh"): which letters take an argument.
var kmemArgOpts = map[byte]bool{'I': true, 'm': true, 'l': true, 'L': true}

// kmemFlags are the options that select what kmem shows; crash allows one.
const kmemFlags = "sSpfFVovCcilLghr"

func runKmem(s *Session, args []string, w io.Writer) error {
	set := map[byte]bool{}
	var spec kmemSlabOpts
	lists := ""
	var members []kernel.PageMember
	g := newGetopt("kmem", args)
	for {
		c, ok := g.next()
		if !ok {
			break
		}
		switch {
		case c == 'S':
			// -S=cpus: getopt's optional argument, the rest of the word.
			if a := g.args[g.i]; g.j < len(a) {
				v := a[g.j:]
				g.i, g.j = g.i+1, 0
				if spec.cpus != nil {
					return fmt.Errorf("only one -S option allowed")
				}
				if v[0] != '=' {
					return fmt.Errorf("CPU-specific slab data to be displayed must be written as expected only e.g. -S=1,45.")
				}
				ncpu, err := s.NumCPUs()
				if err != nil {
					return err
				}
				cpus := map[int]bool{}
				// crash's make_cpumask of a list without a cpu ("-S=")
				// sets none: no cpu's slabs are shown.
				if strings.Trim(v[1:], ",") != "" {
					if cpus, err = parseCPUList(v[1:], ncpu); err != nil {
						return err
					}
				}
				spec.cpus = cpus
			}
			set['S'], set['s'] = true, false
		case c == 's':
			set['s'], set['S'] = true, false
		case c == 'f':
			set['f'], set['F'] = true, false
		case c == 'F':
			set['F'], set['f'] = true, false
		case c == 'c':
			set['c'], set['C'] = true, false
		case c == 'C':
			set['C'], set['c'] = true, false
		case kmemArgOpts[c]:
			v, err := g.arg()
			if err != nil {
				return err
			}
			switch c {
			case 'I':
				spec.ignore = v
			case 'm':
				// crash collects the members at once (an unknown one
				// ends the command before any other check) and takes
				// -m for -p.
				names, err := kernel.ParsePageMembers(v)
				if err != nil {
					return err
				}
				members = members[:0] // a second -m replaces the first's list
				for _, name := range names {
					pm, err := s.PageMember(name)
					if err != nil {
						if errors.Is(err, kernel.ErrNoPageMember) {
							return fmt.Errorf("invalid page struct member: %s", name)
						}
						return err
					}
					members = append(members, pm)
				}
				set['p'] = true
			case 'l', 'L':
				if v != "a" && v != "i" && v != "ic" && v != "id" {
					return usageErr("kmem", "")
				}
				lists = v
			}
			set[c] = true
		case strings.IndexByte("gIsrFfmpvczCinlLPVoh", c) >= 0:
			set[c] = true
		default:
			return usageErr("kmem", "invalid option -- '%c'", c)
		}
	}
	n := 0
	for i := 0; i < len(kmemFlags); i++ {
		if set[kmemFlags[i]] {
			n++
		}
	}
	// crash does not count -z and -n: with another option each is shown
	// after it, in cmd_kmem's order (see the switch below).
	if n > 1 {
		io.WriteString(w, "kmem: only one flag allowed!\n")
		return usageErr("kmem", "")
	}
	if set['c'] || set['C'] {
		if _, ok := s.Vmlinux.Lookup("page_hash_table"); !ok {
			c := 'c'
			if set['C'] {
				c = 'C'
			}
			return fmt.Errorf("-%c option not supported or applicable on this architecture or kernel", c)
		}
	}
	pflag := set['p'] || set['P']
	if set['r'] {
		// slab_root_caches went with the memcg slab rework of 5.9.
		if _, ok := s.Vmlinux.Lookup("slab_root_caches"); !ok {
			return fmt.Errorf("-r option not supported or applicable on this architecture or kernel")
		}
		return fmt.Errorf("kmem -r: the memcg root caches of kernels before 5.9 are not read by gocrash")
	}
	slab := set['s'] || set['S']
	spec.verbose = set['S']
	for _, a := range g.rest() {
		if v, ok := parseHexArg(a); ok {
			spec.addrs = append(spec.addrs, v)
			continue
		}
		if spec.reqname != "" {
			return fmt.Errorf("only one kmem_cache reference is allowed")
		}
		spec.reqname = strings.TrimPrefix(a, "\\")
		if !slab {
			return usageErr("kmem", "")
		}
	}
	if pflag && len(spec.addrs) == 0 && set['P'] {
		return usageErr("kmem", "")
	}
	if len(spec.addrs) > 0 && (set['z'] || set['n'] || set['i'] || set['V'] || set['o'] || set['h'] || set['F'] || set['C']) {
		io.WriteString(w, "kmem: no address arguments allowed with this option\n")
		return usageErr("kmem", "")
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	pageLists := func() error {
		// The page lists of 2.4 kernels (crash's dump_page_lists).
		switch lists {
		case "a":
			return fmt.Errorf("active_list does not exist in this kernel")
		case "i":
			return fmt.Errorf("inactive_list does not exist in this kernel")
		case "id":
			return fmt.Errorf("inactive_dirty_list does not exist in this kernel")
		}
		return fmt.Errorf("inactive_clean_list(s) do not exist in this kernel")
	}
	if len(spec.addrs) > 0 {
		switch {
		case set['g']:
			for i, f := range spec.addrs {
				if i > 0 {
					bw.WriteString("\n")
				}
				if err := s.writePageFlagTable(bw, f); err != nil {
					return err
				}
			}
			return nil
		case set['f']:
			return runKmemFreeSearch(s, spec.addrs, set['P'], bw)
		case set['p']:
			return runKmemPage(s, spec.addrs, set['P'], members, bw)
		case slab:
			spec.phys = set['P']
			return runKmemSlab(s, spec, bw)
		case set['P'] && !set['v'] && !set['l'] && !set['L']:
			return runKmemPage(s, spec.addrs, true, members, bw)
		case set['v']:
			return runKmemVmalloc(s, spec.addrs, bw)
		case set['l'] || set['L']:
			return pageLists()
		}
		return runKmemSearch(s, spec.addrs, bw)
	}
	// Without an address, what each option shows in cmd_kmem's order:
	// at most one of them, but -n and -z (which crash does not count)
	// after it.
	steps := []struct {
		on  bool
		run func() error
	}{
		{set['i'], func() error {
			m, err := s.MemInfo(s.Ctx())
			if err != nil {
				return err
			}
			writeKmemInfo(bw, m)
			return nil
		}},
		{set['p'], func() error { return runKmemPageAll(s, members, bw) }},
		{set['f'] || set['F'], func() error { return runKmemFree(s, set['F'], bw) }},
		{set['h'], func() error { return runKmemHStates(s, bw) }},
		{slab, func() error { return runKmemSlab(s, spec, bw) }},
		{set['v'], func() error { return runKmemVmalloc(s, nil, bw) }},
		{set['n'], func() error { return runKmemNodes(s, bw) }},
		{set['z'], func() error { return runKmemZones(s, bw) }},
		{set['l'] || set['L'], pageLists},
		{set['V'], func() error { return runKmemVMStat(s, bw) }},
		{set['o'], func() error { return runKmemOffsets(s, bw) }},
		{set['g'], func() error { return s.writePageFlagTable(bw, 0) }},
	}
	ran := false
	for _, st := range steps {
		if !st.on {
			continue
		}
		ran = true
		if err := st.run(); err != nil {
			return err
		}
	}
	if !ran {
		return usageErr("kmem", "")
	}
	return nil
}

// parseHexArg is crash's hexadecimal() test and htoll(): a word of hex
// digits, with or without 0x.
func parseHexArg(a string) (uint64, bool) {
	h := strings.TrimPrefix(strings.TrimPrefix(a, "0x"), "0X")
	if h == "" || len(h) > 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(h, 16, 64)
	return v, err == nil
}

// writeKmemInfo prints crash's dump_kmeminfo() table.
//
// The layout is crash's printf formats ("%13s  %7ld  %11s  %3ld%% of
// TOTAL MEM"), not github.com/olekukonko/tablewriter: tablewriter sizes a
// column by its widest cell and pads every row to it, while crash's widths
// are minimums per row (a PAGES figure wider than 7 digits, 38 GB of
// 4 KB pages, shifts only its own row), its header is a fixed string that
// does not sit over the columns ("PERCENTAGE" starts two columns into the
// last one), and its group separators are empty lines with no padding.
// Tablewriter renders none of these byte for byte.
func writeKmemInfo(w *bufio.Writer, m *kernel.MemInfo) {
	ps := m.PageSize
	total := func(label string, pages uint64) {
		fmt.Fprintf(w, "%13s  %7d  %11s         ----\n", label, int64(pages), pagesToSize(pages, ps))
	}
	share := func(label string, pages, of uint64, ofName string) {
		var pct uint64
		if of != 0 {
			pct = pages * 100 / of
		}
		fmt.Fprintf(w, "%13s  %7d  %11s  %3d%% of %s\n", label, int64(pages), pagesToSize(pages, ps), int64(pct), ofName)
	}
	w.WriteString("                 PAGES        TOTAL      PERCENTAGE\n")
	total("TOTAL MEM", m.TotalRAM)
	share("FREE", m.Free, m.TotalRAM, "TOTAL MEM")
	share("USED", m.TotalRAM-m.Free, m.TotalRAM, "TOTAL MEM")
	share("SHARED", m.Shared, m.TotalRAM, "TOTAL MEM")
	share("BUFFERS", m.Buffers, m.TotalRAM, "TOTAL MEM")
	if m.CachedNegative < 0 {
		fmt.Fprintf(w, "kmem: page_cache_size went negative (%d), setting to 0\n", m.CachedNegative)
	}
	share("CACHED", uint64(m.Cached), m.TotalRAM, "TOTAL MEM")
	share("SLAB", m.Slab, m.TotalRAM, "TOTAL MEM")
	if m.HasHigh {
		w.WriteString("\n")
		share("TOTAL HIGH", m.TotalHigh, m.TotalRAM, "TOTAL MEM")
		share("FREE HIGH", m.FreeHigh, m.TotalHigh, "TOTAL HIGH")
		low := m.TotalRAM - m.TotalHigh
		share("TOTAL LOW", low, m.TotalRAM, "TOTAL MEM")
		share("FREE LOW", m.Free-m.FreeHigh, low, "TOTAL LOW")
	}
	if m.HasHuge {
		w.WriteString("\n")
		total("TOTAL HUGE", m.HugeTotal)
		share("HUGE FREE", m.HugeFree, m.HugeTotal, "TOTAL HUGE")
	}
	w.WriteString("\n")
	if m.HasSwap {
		total("TOTAL SWAP", m.SwapTotal)
		share("SWAP USED", m.SwapUsed, m.SwapTotal, "TOTAL SWAP")
		share("SWAP FREE", m.SwapTotal-m.SwapUsed, m.SwapTotal, "TOTAL SWAP")
	}
	if m.HasCommit {
		w.WriteString("\n")
		if m.CommitShown {
			total("COMMIT LIMIT", m.CommitLimit)
			if m.CommitLimit != 0 {
				share("COMMITTED", uint64(m.Committed), m.CommitLimit, "TOTAL LIMIT")
			} else {
				total("COMMITTED", uint64(m.Committed))
			}
		}
	}
}

// pagesToSize is crash's pages_to_size(): "%.1f GB", "%.1f MB" or
// "%ld KB" with a ".0" before the unit dropped; "0" for no pages.
func pagesToSize(pages, pageSize uint64) string {
	if pages == 0 {
		return "0"
	}
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	t := float64(pages) * float64(pageSize)
	var out string
	switch {
	case t >= gb:
		out = fmt.Sprintf("%.1f GB", t/gb)
	case t >= mb:
		out = fmt.Sprintf("%.1f MB", t/mb)
	default:
		return fmt.Sprintf("%d KB", uint64(t/kb))
	}
	return strings.Replace(out, ".0 ", " ", 1)
}
