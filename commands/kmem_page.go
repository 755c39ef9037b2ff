package commands

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/kernel"
)

// One struct page the way crash's dump_mem_map() prints it for an
// address (kmem ADDRESS, kmem -p ADDRESS).

const memMapHdr = "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n"

// pageFlagsText is translate_page_flags: the flags in hex, then the name
// of each flag set in the kernel's pageflag_names.
func (s *Session) pageFlagsText(flags uint64, names []kernel.PageFlag) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%x", flags)
	if flags != 0 {
		n := 0
		for _, f := range names {
			if flags&f.Mask != 0 {
				if n == 0 {
					b.WriteByte(' ')
				} else {
					b.WriteByte(',')
				}
				b.WriteString(f.Name)
				n++
			}
		}
	}
	return b.String()
}

// writePage prints one struct page as dump_mem_map does.
func (s *Session) writePage(w *bufio.Writer, page, phys uint64) error {
	mm, err := s.MemMap()
	if err != nil {
		return err
	}
	p, err := mm.Page(page, phys)
	if err != nil {
		return err
	}
	names, _ := s.PageFlags()
	w.WriteString(memMapHdr)
	fmt.Fprintf(w, "%-16x %8x %16x %8x %2d %s\n", p.Addr, p.Phys, p.Mapping, p.Index, p.Count, s.pageFlagsText(p.Flags, names))
	return nil
}

// memMapLine prints the header and the struct page of addr: addr itself
// when it is a struct page, else the page holding the memory at addr.
// crash's "ADDR: kernel virtual address not found in mem map" otherwise.
func (s *Session) memMapLine(w *bufio.Writer, sl *kernel.Slab, addr uint64) error {
	var page, phys uint64
	if pfn, ok := sl.PagePFN(addr); ok {
		page, phys = addr, pfn<<12
	} else {
		p, err := s.Mem.VirtToPhys(addr)
		if err != nil {
			fmt.Fprintf(w, "%x: kernel virtual address not found in mem map\n", addr)
			return nil
		}
		phys = p &^ 0xfff
		pg, ok := sl.PageOf(s.PageOffset() + phys)
		if !ok {
			fmt.Fprintf(w, "%x: kernel virtual address not found in mem map\n", addr)
			return nil
		}
		page = pg
	}
	return s.writePage(w, page, phys)
}

// memMapPhys prints the header and the struct page of the physical
// address phys (crash: nothing when no present section holds it).
func (s *Session) memMapPhys(w *bufio.Writer, sl *kernel.Slab, phys uint64) error {
	base := phys &^ 0xfff
	page, ok := sl.PageOf(s.PageOffset() + base)
	if !ok {
		return nil
	}
	return s.writePage(w, page, base)
}

// runKmemPage is kmem -p / -P ADDRESS: one struct page. A kernel address
// is a struct page itself or memory in the page shown; any other value
// (and every value with -P) is a physical address.
func runKmemPage(s *Session, addrs []uint64, physical bool, w *bufio.Writer) error {
	sl, err := s.pages()
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !physical && a >= 0xff00000000000000 {
			if _, ok := sl.PagePFN(a); ok {
				if err := s.memMapLine(w, sl, a); err != nil {
					return err
				}
				continue
			}
			p, err := s.Mem.VirtToPhys(a)
			if err != nil {
				continue
			}
			a = p
		}
		if err := s.memMapPhys(w, sl, a); err != nil {
			return err
		}
	}
	return nil
}

// writePageFlagTable is crash's dump_page_flags: enum pageflags' PG_
// names, bits and values; with flags, the ones set in it.
func (s *Session) writePageFlagTable(w *bufio.Writer, flags uint64) error {
	t, err := s.Types()
	if err != nil {
		return err
	}
	typ, err := t.Lookup("enum pageflags")
	if err != nil {
		return fmt.Errorf("enum pageflags does not exist in this kernel")
	}
	et, ok := typ.(*godwarf.EnumType)
	if !ok {
		return fmt.Errorf("enum pageflags does not exist in this kernel")
	}
	longest, largest := 0, int64(0)
	for _, v := range et.Val {
		longest = max(longest, len(v.Name))
		if strings.Contains(v.Name, "PG_") && v.Val > largest {
			largest = v.Val
		}
	}
	digits := int((largest+1)/4 + 1)
	indent := ""
	if flags != 0 {
		fmt.Fprintf(w, "FLAGS: %x\n", flags)
		indent = "  "
	}
	fmt.Fprintf(w, "%s%-*s BIT  VALUE\n", indent, longest, "PAGE-FLAG")
	found := 0
	for _, v := range et.Val {
		if !strings.Contains(v.Name, "PG_") || v.Val < 0 || v.Val > 63 {
			continue
		}
		bit := uint64(1) << uint(v.Val)
		if flags == 0 || flags&bit != 0 {
			fmt.Fprintf(w, "%s%-*s  %2d  %0*x\n", indent, longest, v.Name, v.Val, digits, bit)
			if flags&bit != 0 {
				found++
			}
		}
	}
	if flags != 0 && found == 0 {
		w.WriteString("  (none found)\n")
	}
	return nil
}
