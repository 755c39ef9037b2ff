package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// pte: crash's memory.c cmd_pte, each argument through x86_64.c's
// x86_64_translate_pte (writePTE, vtop.go), a swap entry through
// swap_location.

func init() {
	register(Command{
		Name:     "pte",
		Summary:  "translate a page table entry",
		Synopsis: "contents ...",
		Description: `  This command translates the hexadecimal contents of a PTE into its physical
  page address and page bit settings.  If the PTE references a swap
  location, the swap device and offset are displayed.`,
		Operands: []Operand{{"contents", "a page table entry's value, in hexadecimal."}},
		Examples: `  A kernel page's entry, as vtop shows it:

    crash> pte 8000000000198163
          PTE         PHYSICAL  FLAGS
    8000000000198163   198000   (PRESENT|RW|ACCESSED|DIRTY|GLOBAL|NX)

  A swap entry (type 0, the swap area on /dev/vda):

    crash> pte 2
    PTE    SWAP         OFFSET
     2   /dev/vda  1125899906842623`,
		Run: runPte,
	})
}

func runPte(s *Session, args []string, w io.Writer) error {
	g := newGetopt("pte", args)
	for {
		if _, ok := g.next(); !ok {
			break
		}
		return &UsageError{Cmd: "pte"}
	}
	for _, a := range g.rest() {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(a, "0x"), "0X"), 16, 64)
		if err != nil {
			return fmt.Errorf("invalid input: \"%s\"", a)
		}
		var b strings.Builder
		if v != 0 && v&(ptePresentBit|pteProtNone) == 0 {
			if err := writeSwapPTE(s, &b, v); err != nil {
				io.WriteString(w, b.String())
				return err
			}
		} else {
			writePTE(&b, v)
		}
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// writeSwapPTE is x86_64_translate_pte for a swap entry: its device and
// offset (swap_location), or crash's error when the entry's type names no
// swap area in use (get_swapdev's "(unknown swap location)" is not the
// one word crash's parse of it expects).
func writeSwapPTE(s *Session, b *strings.Builder, pte uint64) error {
	ptes := fmt.Sprintf("%x", pte)
	l1 := max(len(ptes), len("PTE"))
	fmt.Fprintf(b, "%s  ", center("PTE", l1, false))
	path, off, ok := s.Kernel.SwapLocation(context.Background(), pte)
	if !ok || strings.ContainsAny(path, " \t") {
		return fmt.Errorf("cannot determine swap location")
	}
	offs := strconv.FormatUint(off, 10)
	l2, l3 := max(len(path), len("SWAP")), max(len(offs), len("OFFSET"))
	fmt.Fprintf(b, "%s  %s\n", center("SWAP", l2, false), center("OFFSET", l3, false))
	fmt.Fprintf(b, "%s  %s  %s\n", center(ptes, l1, true), center(path, l2, true), center(offs, l3, true))
	return nil
}
