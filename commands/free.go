package commands

import (
	"fmt"
	"io"
	"strings"
)

// free: gocrash's own command (crash has none) for people who come from
// the live system's procps free(1): the same table, from the dump's
// counters. The numbers are /proc/meminfo's as the kernel computes them
// (fs/proc/meminfo.c meminfo_proc_show()), read through the walkers kmem
// -i uses, and laid out as procps-ng 4.0's free prints them.

func init() {
	register(Command{
		Name:     "free",
		Summary:  "memory in free(1)'s layout (gocrash's own command)",
		Synopsis: "[-b|-k|-m|-g] [-w] [-t]",
		Description: `  gocrash's own command: crash has no "free".  It prints the dump's memory
  as procps's free(1) prints a live system's, from the same counters as
  "kmem -i" and with the kernel's own formulas (fs/proc/meminfo.c):

        total  totalram_pages
         used  total - available
         free  NR_FREE_PAGES
       shared  NR_SHMEM (kmem -i's SHARED counts pages differently)
   buff/cache  Buffers + Cached + SReclaimable (the block-device page cache,
               the file pages less the swap cache, reclaimable slab)
    available  MemAvailable: si_mem_available() of the kernel, from the free
               pages, the file LRU lists, the reclaimable slab, the low
               watermarks and totalreserve_pages
   Swap        total, used and free swap (kmem -i's TOTAL SWAP, SWAP USED)

  Sizes are in KiB unless an option says otherwise.`,
		Flags: []Flag{
			{Name: "b", Help: "show sizes in bytes."},
			{Name: "k", Help: "show sizes in KiB (the default)."},
			{Name: "m", Help: "show sizes in MiB."},
			{Name: "g", Help: "show sizes in GiB."},
			{Name: "w", Help: "wide: buffers and cache in two columns."},
			{Name: "t", Help: "add a line with the totals of memory and swap."},
		},
		Examples: `  The sample dump's memory:

    crash> free
                   total        used        free      shared  buff/cache   available
    Mem:          238996       28528      212860       15704       16512      210468
    Swap:          65532        6464       59068

  In MiB, with buffers and cache apart:

    crash> free -m -w
                   total        used        free      shared     buffers       cache   available
    Mem:             233          27         207          15           0          16         205
    Swap:             63           6          57`,
		Run: runFree,
	})
}

// FreeInfo is what free(1) shows, in bytes.
// Cache is Cached + SReclaimable, without the buffers (free -w's
// "cache" column).
type FreeInfo struct {
	Total, Free, Shared, Buffers, Cache, Available uint64
	HasSwap                                        bool
	SwapTotal, SwapFree                            uint64
}

// ReadFree gathers free(1)'s numbers from the dump.
func (s *Session) ReadFree() (*FreeInfo, error) {
	m, err := s.MemInfo(s.Ctx())
	if err != nil {
		return nil, err
	}
	ps := m.PageSize
	f := &FreeInfo{Total: m.TotalRAM * ps, Free: m.Free * ps, Buffers: m.Buffers * ps}
	cached := m.Cached
	if cached < 0 {
		cached = 0
	}
	f.Cache = uint64(cached) * ps
	if v, ok, err := s.VMStatItem("NR_SHMEM"); err != nil {
		return nil, err
	} else if ok && v > 0 {
		f.Shared = uint64(v) * ps
	}
	reclaimable, err := s.slabReclaimablePages()
	if err != nil {
		return nil, err
	}
	f.Cache += reclaimable * ps
	avail, err := s.memAvailablePages(m.Free)
	if err != nil {
		return nil, err
	}
	f.Available = avail * ps
	if m.HasSwap {
		f.HasSwap = true
		f.SwapTotal = m.SwapTotal * ps
		if m.SwapUsed <= m.SwapTotal {
			f.SwapFree = (m.SwapTotal - m.SwapUsed) * ps
		}
	}
	return f, nil
}

// slabReclaimablePages is SReclaimable: NR_SLAB_RECLAIMABLE_B (5.9+, kept
// in pages in the global vm_node_stat) or NR_SLAB_RECLAIMABLE.
func (s *Session) slabReclaimablePages() (uint64, error) {
	for _, item := range []string{"NR_SLAB_RECLAIMABLE_B", "NR_SLAB_RECLAIMABLE"} {
		v, ok, err := s.VMStatItem(item)
		if err != nil {
			return 0, err
		}
		if ok {
			if v < 0 {
				v = 0
			}
			return uint64(v), nil
		}
	}
	return 0, nil
}

// memAvailablePages is the kernel's si_mem_available() (mm/page_alloc.c
// in 6.1, mm/show_mem.c in 6.12): the free pages less totalreserve_pages,
// plus the file LRU pages and the reclaimable kernel memory, each less
// the smaller of its half and the sum of the zones' low watermarks.
func (s *Session) memAvailablePages(free uint64) (uint64, error) {
	wmarkLow, err := s.lowWatermarks()
	if err != nil {
		return 0, err
	}
	reserve := uint64(0)
	if a, ok := s.SymbolAddr("totalreserve_pages"); ok {
		if reserve, err = s.ReadU64(a); err != nil {
			return 0, fmt.Errorf("totalreserve_pages at %#x: %w", a, err)
		}
	}
	stat := func(items ...string) (uint64, error) {
		var sum int64
		for _, it := range items {
			v, _, err := s.VMStatItem(it)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		if sum < 0 {
			return 0, nil
		}
		return uint64(sum), nil
	}
	pagecache, err := stat("NR_ACTIVE_FILE", "NR_INACTIVE_FILE")
	if err != nil {
		return 0, err
	}
	reclaimable, err := s.slabReclaimablePages()
	if err != nil {
		return 0, err
	}
	misc, err := stat("NR_KERNEL_MISC_RECLAIMABLE")
	if err != nil {
		return 0, err
	}
	reclaimable += misc
	avail := int64(free) - int64(reserve)
	avail += int64(pagecache - min(pagecache/2, wmarkLow))
	avail += int64(reclaimable - min(reclaimable/2, wmarkLow))
	if avail < 0 {
		avail = 0
	}
	return uint64(avail), nil
}

// lowWatermarks sums low_wmark_pages() (zone._watermark[WMARK_LOW] +
// zone.watermark_boost; zone.watermark before 5.0, without a boost) over
// every zone of every online node, as for_each_zone() does.
func (s *Session) lowWatermarks() (uint64, error) {
	zones, err := s.AllZones()
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, z := range zones {
		sum += z.Low + z.Boost
	}
	return sum, nil
}

func runFree(s *Session, args []string, w io.Writer) error {
	g := parseFlags("free", args)
	unit, wide, totals := uint64(1024), false, false
	for g.next() {
		switch g.flag {
		case "b":
			unit = 1
		case "k":
			unit = 1024
		case "m":
			unit = 1 << 20
		case "g":
			unit = 1 << 30
		case "w":
			wide = true
		case "t":
			totals = true
		}
	}
	if g.err != nil {
		return g.err
	}
	if len(g.rest()) > 0 {
		return usageErr("free", "unexpected argument: %s", g.rest()[0])
	}
	f, err := s.ReadFree()
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, formatFree(f, unit, wide, totals))
	return err
}

// formatFree lays the table out as procps-ng 4.0's free does: a label in
// 8 columns, then each number right-aligned in 12.
func formatFree(f *FreeInfo, unit uint64, wide, totals bool) string {
	var b strings.Builder
	n := func(v uint64) string { return fmt.Sprintf("%12d", v/unit) }
	if wide {
		b.WriteString("               total        used        free      shared     buffers       cache   available\n")
	} else {
		b.WriteString("               total        used        free      shared  buff/cache   available\n")
	}
	used := uint64(0)
	if f.Total > f.Available {
		used = f.Total - f.Available
	}
	b.WriteString("Mem:    " + n(f.Total) + n(used) + n(f.Free) + n(f.Shared))
	if wide {
		b.WriteString(n(f.Buffers) + n(f.Cache))
	} else {
		b.WriteString(n(f.Buffers + f.Cache))
	}
	b.WriteString(n(f.Available) + "\n")
	swapUsed := f.SwapTotal - f.SwapFree
	b.WriteString("Swap:   " + n(f.SwapTotal) + n(swapUsed) + n(f.SwapFree) + "\n")
	if totals {
		b.WriteString("Total:  " + n(f.Total+f.SwapTotal) + n(used+swapUsed) + n(f.Free+f.SwapFree) + "\n")
	}
	return b.String()
}
