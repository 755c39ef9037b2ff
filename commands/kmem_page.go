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

// runKmemPage is kmem -p / -P ADDRESS (and kmem -m MEMBERS ADDRESS): one
// struct page. A kernel address is a struct page itself or memory in the
// page shown; any other value (and every value with -P) is a physical
// address. crash prints the header once per command (HEADER_PRINTED).
func runKmemPage(s *Session, addrs []uint64, physical bool, members []kernel.PageMember, w *bufio.Writer) error {
	sl, err := s.pages()
	if err != nil {
		return err
	}
	l, err := s.newPageLister(members)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		var page, phys uint64
		if pfn, ok := sl.PagePFN(a); ok && !physical && a >= 0xff00000000000000 {
			page, phys = a, pfn<<12
		} else {
			if !physical && a >= 0xff00000000000000 {
				p, err := s.Mem.VirtToPhys(a)
				if err != nil {
					continue
				}
				a = p
			}
			phys = a &^ 0xfff
			pg, ok := sl.PageOf(s.PageOffset() + phys)
			if !ok {
				continue
			}
			page = pg
		}
		ps, err := l.mm.ReadPageStruct(page, phys)
		if err != nil {
			return err
		}
		if err := l.line(w, ps); err != nil {
			return err
		}
	}
	return nil
}

// pageLister prints struct pages as crash's dump_mem_map does: the mem_map
// line (PAGE PHYSICAL MAPPING INDEX CNT FLAGS) or, for kmem -m, the
// members named; its header before the first.
type pageLister struct {
	s       *Session
	mm      *kernel.MemMap
	members []kernel.PageMember
	names   []kernel.PageFlag
	pw      int
	hdr     bool
}

func (s *Session) newPageLister(members []kernel.PageMember) (*pageLister, error) {
	mm, err := s.MemMap()
	if err != nil {
		return nil, err
	}
	l := &pageLister{s: s, mm: mm, members: members, pw: s.physWidth()}
	if members == nil {
		l.names, _ = s.PageFlags()
	}
	return l, nil
}

func (l *pageLister) header(w *bufio.Writer) {
	if l.hdr {
		return
	}
	l.hdr = true
	if l.members == nil {
		w.WriteString(l.s.memMapHeader())
		return
	}
	w.WriteString(center("PAGE", 16, false))
	for _, m := range l.members {
		w.WriteString("  " + m.Name)
	}
	w.WriteString("\n")
}

func (l *pageLister) line(w *bufio.Writer, ps kernel.PageStruct) error {
	l.header(w)
	if l.members != nil {
		return writePageMembers(w, ps, l.members)
	}
	p, err := l.mm.Decode(ps)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-16x %*x %16x %8x %2d %s\n", p.Addr, l.pw, p.Phys, p.Mapping, p.Index, p.Count, l.s.pageFlagsText(p.Flags, l.names))
	return nil
}

// writePageMembers is crash's show_page_member_data: the struct page's
// address, then each member as its type class says, two spaces after
// each (crash leaves them out after a signed long shown in hex, after a
// struct of 4-byte words and after a bool above 1; gocrash does too).
// flags is shown in hex, _count and _mapcount in decimal, the rest in the
// output radix (10).
func writePageMembers(w *bufio.Writer, ps kernel.PageStruct, members []kernel.PageMember) error {
	fmt.Fprintf(w, "%x  ", ps.Addr)
	for _, m := range members {
		v, err := m.Read(ps.Raw)
		if err != nil {
			w.Flush()
			return fmt.Errorf("unsupported page member reference: page.%s", m.Name)
		}
		count := strings.HasPrefix(m.Name, "_count") || strings.HasPrefix(m.Name, "_mapcount")
		switch m.Kind {
		case kernel.PageMemberPointer:
			fmt.Fprintf(w, "%016x  ", v.Value)
		case kernel.PageMemberInt:
			hex := m.Name == "flags"
			x := v.Value
			switch {
			case m.Unsigned && hex:
				fmt.Fprintf(w, "%0*x  ", 2*m.Length, x)
			case m.Unsigned:
				fmt.Fprintf(w, "%d  ", x)
			case hex && m.Length == 8:
				fmt.Fprintf(w, "%016x", x)
			case hex:
				// printf's %x of the int the value was cast to.
				fmt.Fprintf(w, "%0*x  ", 2*m.Length, uint32(signExtend(x, m.Length)))
			default:
				fmt.Fprintf(w, "%d  ", signExtend(x, m.Length))
			}
		case kernel.PageMemberStruct:
			switch {
			case count && len(v.Words) > 0:
				fmt.Fprintf(w, "%d  ", int32(v.Words[0]))
			case count:
				w.WriteString("0  ")
			case v.WordSize == 8:
				for i, x := range v.Words {
					if i > 0 {
						w.WriteByte(',')
					}
					fmt.Fprintf(w, "%016x", x)
				}
				w.WriteString("  ")
			case v.WordSize == 4:
				for i, x := range v.Words {
					if i > 0 {
						w.WriteByte(',')
					}
					fmt.Fprintf(w, "%08x", x)
				}
			default:
				fmt.Fprintf(w, "%04x  ", v.Words[0])
			}
		case kernel.PageMemberBool:
			switch v.Value {
			case 0:
				w.WriteString("false  ")
			case 1:
				w.WriteString("true  ")
			default:
				fmt.Fprintf(w, "%d", v.Value&0xff)
			}
		}
	}
	w.WriteByte('\n')
	return nil
}

// signExtend reads the low n bytes of x as a signed integer.
func signExtend(x uint64, n int64) int64 {
	if n <= 0 || n >= 8 {
		return int64(x)
	}
	sh := uint(64 - 8*n)
	return int64(x<<sh) >> sh
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

// runKmemPageAll is kmem -p (or kmem -m MEMBERS) without an address:
// crash's dump_mem_map over every page of every present memory section, in
// section order (holes inside a section included, as crash lists them).
func runKmemPageAll(s *Session, members []kernel.PageMember, w *bufio.Writer) error {
	l, err := s.newPageLister(members)
	if err != nil {
		return err
	}
	return l.mm.ForEachPage(s.Ctx(), func(ps kernel.PageStruct) error { return l.line(w, ps) })
}
