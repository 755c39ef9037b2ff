package commands

import (
	"bufio"
	"fmt"
	"io"
)

func init() {
	register(Command{
		Name:    "swap",
		Summary: "swap device information",
		// crash's usage line is "swap  " (help.c: an empty synopsis).
		Synopsis: " ",
		Description: `  This command displays information for each configured swap device: its
  swap_info_struct, whether it is a partition or a file, its size, the
  space in use and its share, its priority and its file name.`,
		Columns: []Column{
			{"SWAP_INFO_STRUCT", "swap_info[i]: the area's struct swap_info_struct"},
			{"TYPE", "PARTITION for a block device, FILE for a swap file"},
			{"SIZE", "pages: the usable slots, in KB"},
			{"USED", "inuse_pages, in KB"},
			{"PCT", "USED as a share of SIZE"},
			{"PRI", "prio: the order in which areas are used (negative: assigned by the kernel)"},
			{"FILENAME", "the path of swap_file"},
		},
		Examples: `  The swap disk of the sample dump:

    crash> swap
    SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME
    ff2c138f00b71400  PARTITION   65532k      6248k     9%   -2  /dev/vda`,
		Run: runSwap,
	})
}

const swapHdr = "SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n"

func runSwap(s *Session, args []string, w io.Writer) error {
	g := parseFlags("swap", args)
	for g.next() {
	}
	if g.err != nil {
		return g.err
	}
	if len(g.rest()) > 0 {
		return usageErr("swap", "")
	}
	areas, err := s.SwapAreas(s.Ctx())
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if err != nil && len(areas) == 0 {
		return err
	}
	bw.WriteString(swapHdr)
	shift := uint(12 - 10)
	for _, a := range areas {
		pages := uint64(a.Pages) << shift
		used := a.Used << shift
		var pct uint64
		if pages != 0 {
			pct = used * 100 / pages
		}
		typ := "  FILE   "
		if a.Partition {
			typ = "PARTITION"
		}
		fmt.Fprintf(bw, "%s  %s %s %s %s %s  %s\n", center(fmt.Sprintf("%x", a.Addr), 16, false), typ,
			center(fmt.Sprintf("%dk", pages), 10, true), center(fmt.Sprintf("%dk", used), 10, true),
			center(fmt.Sprintf("%2d%%", pct), 4, true), fmt.Sprintf("%4d", a.Prio), a.Path)
	}
	return err
}
