package commands

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func init() {
	register(Command{
		Name:    "kmem",
		Usage:   "kmem [-f|-F|-c|-C|-i|-v|-V|-n|-z|-o|-h] [-p | -m member[,member]]\n       [[-s|-S|-S=cpu[s]|-r] [slab] [-I slab[,slab]]] [-g [flags]] [[-P] address]]",
		Summary: "kernel memory",
		Help:    kmemHelp,
		Options: []string{"-i", "-s", "-S", "-V", "-z", "-n", "-v", "-h", "-o", "-g", "-p", "-P", "-c", "-C"},
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

const kmemHelp = `  This command displays information about the use of kernel memory.

        -i  displays general memory usage information: the pages of RAM, free,
            used, shared (not reserved, referenced more than once), buffers
            (the page cache of block devices), cached (the file page cache
            less the swap cache and the buffers), slab, huge pages, swap and
            the overcommit limit, each with its size and its share of the
            total, from the same kernel counters crash reads.
        -s  displays basic information about each slab cache (SLUB): the
            kmem_cache address, object size, objects allocated and in total,
            slabs, slab size and name. With a cache name, that cache only;
            "kmem -s list" lists the caches' addresses and names. With an
            address, the cache and slab that hold it and whether the object
            there is free or [allocated].
        -S  the same with every slab of each cache: each cpu's kmem_cache_cpu,
            its active slab with every object, free or [ALLOCATED] ("cpu N
            cache": on that cpu's lockless freelist), its partial slabs, then
            each node's kmem_cache_node counters and partial list.
  -S=cpus  as -S, for the listed cpus only (-S=1, -S=0-2,5).
        -V  the vm_zone_stat and vm_node_stat counters (and vm_numa_stat,
            and the vm_event_states summed over the cpus where the kernel
            counts events), each by its enum name.
        -z  each zone of each node: size, present pages, the min/low/high
            watermarks and the zone's vm_stat counters.
        -n  each memory node (pglist_data, its zones, mem_map and start),
            the zones' sizes and starts, then every present memory section
            (mem_section: its coded mem_map, mem_map, state, first pfn).
        -v  each vmalloc area that has a vm_struct (vmap_area_list, or each
            vmap_node's busy list since 6.9): vmap_area, vm_struct, range,
            size. With an address, the area holding it.
        -h  each huge page size (hstates[]): size, free and total pages.
        -o  each cpu's per-cpu offset (__per_cpu_offset[]).
  -g [flags]  the page flags of enum pageflags (bit and value); with a
            value, the flags set in it.
  -p address  the struct page of an address: a struct page itself, a kernel
            virtual address or a physical address (-P: always physical),
            as PAGE, PHYSICAL, MAPPING, INDEX, CNT (_refcount), FLAGS.
     -c -C  the page hash table of 2.4 kernels: crash's "option not
            supported" on later kernels.
   address  with no option: what the address is. For memory in a slab, the
            cache, the slab and the object holding it, then the struct page
            of its page (PAGE, PHYSICAL, MAPPING, INDEX, CNT, FLAGS). For a
            slab's struct page, the whole slab.

  Freelist pointers are decoded as the kernel stores them: with
  CONFIG_SLAB_FREELIST_HARDENED each is ptr ^ kmem_cache.random ^
  swab(its own address). A freelist that loops, or a pointer that cannot be
  read, ends that slab's listing with one line naming the cache, the slab
  and the object; the listing goes on with the next slab or cache.

EXAMPLES
  Display general memory usage information:

    crash> kmem -i
                     PAGES        TOTAL      PERCENTAGE
        TOTAL MEM    60381     235.9 MB         ----
             FREE    54535       213 MB   90% of TOTAL MEM
             USED     5846      22.8 MB    9% of TOTAL MEM
           SHARED      769         3 MB    1% of TOTAL MEM
          BUFFERS        2         8 KB    0% of TOTAL MEM
           CACHED     3640      14.2 MB    6% of TOTAL MEM
             SLAB     1410       5.5 MB    2% of TOTAL MEM

       TOTAL HUGE        0            0         ----
        HUGE FREE        0            0    0% of TOTAL HUGE

       TOTAL SWAP    16383        64 MB         ----
        SWAP USED     1562       6.1 MB    9% of TOTAL SWAP
        SWAP FREE    14821      57.9 MB   90% of TOTAL SWAP

     COMMIT LIMIT    46573     181.9 MB         ----
        COMMITTED     8109      31.7 MB   17% of TOTAL LIMIT

  The kmalloc-64 cache:

    crash> kmem -s kmalloc-64
    CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME
    ff2c138f00134500       64        330       512      8     4k  kmalloc-64

  What an address in a slab is:

    crash> kmem ff2c138f178b7404
    CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME
    ff2c138f00134500       64        330       512      8     4k  kmalloc-64
      SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE
      ffb424d4005e2dc0  ff2c138f178b7000     0     64         20    44
      FREE / [ALLOCATED]
       ff2c138f178b7400  (cpu 0 cache)

          PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
    ffb424d4005e2dc0 178b7000 ff2c138f00134500 ff2c138f178b7980  1 200 slab

  The caches' addresses and names:

    crash> kmem -s list
    ff2c138f00159d00 p9_req_t
    ff2c138f00159c00 bio-96
    ...`

// kmemOptions is crash 8.0.6's getopt string for kmem
// ("gI:sS::rFfm:pvczCinl:L:PVoh"): which letters take an argument.
var kmemArgOpts = map[byte]bool{'I': true, 'm': true, 'l': true, 'L': true}

// kmemFlags are the options that select what kmem shows; crash allows one.
const kmemFlags = "sSpfFVovCcilLghr"

func runKmem(s *Session, args []string, w io.Writer) error {
	set := map[byte]bool{}
	var spec kmemSlabOpts
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
				if v[0] != '=' {
					return fmt.Errorf("CPU-specific slab data to be displayed must be written as expected only e.g. -S=1,45.")
				}
				ncpu, err := s.NumCPUs()
				if err != nil {
					return err
				}
				cpus, err := parseCPUList(v[1:], ncpu)
				if err != nil {
					return err
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
			if _, err := g.arg(); err != nil {
				return err
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
	if set['z'] {
		n++
	}
	if set['n'] {
		n++
	}
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
	for _, c := range "IrmlL" {
		if set[byte(c)] {
			return fmt.Errorf("option -%c is not available in gocrash yet", c)
		}
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
	if pflag && len(spec.addrs) == 0 {
		return fmt.Errorf("kmem -p without an address (every struct page) is not in gocrash yet")
	}
	if len(spec.addrs) > 0 && (set['z'] || set['n'] || set['i'] || set['V'] || set['o'] || set['h'] || set['F'] || set['C']) {
		io.WriteString(w, "kmem: no address arguments allowed with this option\n")
		return usageErr("kmem", "")
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	switch {
	case set['g']:
		var flags uint64
		if len(spec.addrs) > 0 {
			for i, f := range spec.addrs {
				if i > 0 {
					bw.WriteString("\n")
				}
				if err := s.writePageFlagTable(bw, f); err != nil {
					return err
				}
			}
			return nil
		}
		return s.writePageFlagTable(bw, flags)
	case set['f'] && len(spec.addrs) > 0:
		return runKmemFreeSearch(s, spec.addrs, set['P'], bw)
	case set['f'], set['F']:
		return runKmemFree(s, set['F'], bw)
	case pflag && len(spec.addrs) > 0:
		return runKmemPage(s, spec.addrs, set['P'], bw)
	case slab:
		return runKmemSlab(s, spec, bw)
	case len(spec.addrs) > 0:
		return runKmemSearch(s, spec.addrs, bw)
	case set['v']:
		return runKmemVmalloc(s, spec.addrs, bw)
	case set['n']:
		return runKmemNodes(s, bw)
	case set['V']:
		return runKmemVMStat(s, bw)
	case set['z']:
		return runKmemZones(s, bw)
	case set['h']:
		return runKmemHStates(s, bw)
	case set['o']:
		return runKmemOffsets(s, bw)
	case set['i']:
		m, err := s.ReadMemInfo()
		if err != nil {
			return err
		}
		writeKmemInfo(bw, m)
		return nil
	}
	return usageErr("kmem", "")
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
func writeKmemInfo(w *bufio.Writer, m *MemInfo) {
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
	if m.CachedNote != "" {
		fmt.Fprintf(w, "kmem: %s\n", m.CachedNote)
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
