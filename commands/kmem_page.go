package commands

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/kernel"
)

// One struct page the way crash's dump_mem_map() prints it for an
// address (kmem ADDRESS, kmem -p ADDRESS).

// memMapHeader is dump_mem_map's header: PHYSICAL is as wide as the
// highest physical address (PADDR_PRLEN), at least 8.
func (s *Session) memMapHeader() string {
	return fmt.Sprintf("%s %*s %s %sCNT FLAGS\n", center("PAGE", 16, false), s.physWidth(), "PHYSICAL",
		center("MAPPING", 16, true), center("INDEX", 8, true))
}

// physWidth is MAX(PADDR_PRLEN, strlen("PHYSICAL")).
func (s *Session) physWidth() int { return max(8, s.paddrPrlen()) }

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
	w.WriteString(s.memMapHeader())
	fmt.Fprintf(w, "%-16x %*x %16x %8x %2d %s\n", p.Addr, s.physWidth(), p.Phys, p.Mapping, p.Index, p.Count, s.pageFlagsText(p.Flags, names))
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
	t, err := s.Layouts()
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

// runKmemPageAll is kmem -p without an address: crash's dump_mem_map over
// every page of every present memory section, in section order (holes
// inside a section included, as crash lists them).
func runKmemPageAll(s *Session, w *bufio.Writer) error {
	mm, err := s.MemMap()
	if err != nil {
		return err
	}
	ps, err := s.LayoutSize("page")
	if err != nil {
		return err
	}
	var offs [4]uint64
	for i, m := range [][]string{{"flags"}, {"mapping"}, {"index"}, {"_refcount", "_count"}} {
		var oerr error
		for _, name := range m {
			var o int64
			if o, oerr = s.LayoutOffset("page", name); oerr == nil {
				offs[i] = uint64(o)
				break
			}
		}
		if oerr != nil {
			return oerr
		}
	}
	if ps < 8 || ps > 1024 || offs[0]+8 > uint64(ps) || offs[1]+8 > uint64(ps) || offs[2]+8 > uint64(ps) || offs[3]+4 > uint64(ps) {
		return fmt.Errorf("implausible struct page layout (size %d)", ps)
	}
	names, _ := s.PageFlags()
	pw := s.physWidth()
	pps := mm.PagesPerSection()
	pageSize := uint64(s.Dump.PageSize())
	const chunk = 1024
	buf := make([]byte, chunk*uint64(ps))
	hdr := false
	le := binary.LittleEndian
	ctx := s.Ctx()
	return mm.Sections(ctx, func(sec kernel.Section) error {
		if !hdr {
			w.WriteString(s.memMapHeader())
			hdr = true
		}
		phys := sec.Nr * pps * pageSize
		for i := uint64(0); i < pps; i += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(chunk, pps-i)
			b := buf[:n*uint64(ps)]
			base := sec.MemMap + i*uint64(ps)
			// crash fills its page cache with zeroes where the read fails.
			if err := s.Mem.ReadVirt(b, base); err != nil {
				clear(b)
				for p := uint64(0); p < n; p++ {
					s.Mem.ReadVirt(b[p*uint64(ps):(p+1)*uint64(ps)], base+p*uint64(ps))
				}
			}
			for p := uint64(0); p < n; p++ {
				pg := b[p*uint64(ps):]
				flags := le.Uint64(pg[offs[0]:])
				fmt.Fprintf(w, "%-16x %*x %16x %8x %2d %s\n", base+p*uint64(ps), pw, phys+(i+p)*pageSize,
					le.Uint64(pg[offs[1]:]), le.Uint64(pg[offs[2]:]), int32(le.Uint32(pg[offs[3]:])), s.pageFlagsText(flags, names))
			}
		}
		return nil
	})
}
