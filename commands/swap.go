package commands

import (
	"bufio"
	"fmt"
	"io"

	"gocrash/kernel"
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
    ff42bab50096f000  PARTITION   65532k      6464k     9%   -2  /dev/vda`,
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
	// crash takes no options and ignores any other argument.
	areas, err := s.SwapAreas(s.Ctx())
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if err != nil && len(areas) == 0 {
		return err
	}
	bw.WriteString(swapHdr)
	for _, r := range swapRows(areas) {
		typ := "  FILE   "
		if r.Type == "PARTITION" {
			typ = r.Type
		}
		fmt.Fprintf(bw, "%s  %s %s %s %s %s  %s\n", center(fmt.Sprintf("%x", uint64(r.SwapInfo)), 16, false), typ,
			center(fmt.Sprintf("%dk", r.SizeKB), 10, true), center(fmt.Sprintf("%dk", r.UsedKB), 10, true),
			center(fmt.Sprintf("%2d%%", r.Pct), 4, true), fmt.Sprintf("%4d", r.Priority), r.Filename)
	}
	return err
}

// SwapAreaJSON is one line of swap.
type SwapAreaJSON struct {
	SwapInfo Addr   `json:"swap_info_struct" desc:"SWAP_INFO_STRUCT: the area's struct swap_info_struct"`
	Type     string `json:"type" desc:"TYPE: PARTITION (a block device) or FILE"`
	SizeKB   uint64 `json:"size_kb" desc:"SIZE: the usable slots (swap_info_struct.pages), in KB"`
	UsedKB   uint64 `json:"used_kb" desc:"USED: inuse_pages, in KB"`
	Pct      uint64 `json:"pct" desc:"PCT: USED as a share of SIZE, in percent rounded down"`
	Priority int64  `json:"priority" desc:"PRI: prio"`
	Filename string `json:"filename" desc:"FILENAME: the path of swap_file, (unknown) without one"`
}

// swapRows is what swap prints of each area, for its text and its JSON.
func swapRows(areas []kernel.SwapArea) []SwapAreaJSON {
	out := []SwapAreaJSON{}
	// crash's dump_swap_info: pages << (PAGESHIFT() - 10), 4 KB pages.
	shift := uint(12 - 10)
	for _, a := range areas {
		r := SwapAreaJSON{SwapInfo: Addr(a.Addr), Type: "FILE", SizeKB: uint64(a.Pages) << shift, UsedKB: a.Used << shift,
			Priority: a.Prio, Filename: a.Path}
		if r.SizeKB != 0 {
			r.Pct = r.UsedKB * 100 / r.SizeKB
		}
		if a.Partition {
			r.Type = "PARTITION"
		}
		out = append(out, r)
	}
	return out
}

func swapJSON(s *Session, args []string) (any, error) {
	g := parseFlags("swap", args)
	for g.next() {
	}
	if g.err != nil {
		return nil, g.err
	}
	if len(g.rest()) > 0 {
		return nil, jsonOptionsErr("swap", args)
	}
	areas, err := s.SwapAreas(s.Ctx())
	if err != nil {
		return nil, err
	}
	return swapRows(areas), nil
}
