package commands

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

func init() {
	register(Command{
		Name:    "kmem",
		Usage:   "kmem -i",
		Summary: "kernel memory",
		Help:    kmemHelp,
		Options: []string{"-i"},
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
        COMMITTED     8109      31.7 MB   17% of TOTAL LIMIT`

func runKmem(s *Session, args []string, w io.Writer) error {
	info := false
	for _, a := range args {
		if len(a) < 2 || a[0] != '-' {
			return usageErr("kmem", "")
		}
		for _, c := range a[1:] {
			if c != 'i' {
				return usageErr("kmem", "invalid option -- '%c'", c)
			}
			info = true
		}
	}
	if !info {
		return usageErr("kmem", "")
	}
	m, err := s.ReadMemInfo()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	writeKmemInfo(bw, m)
	return bw.Flush()
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
