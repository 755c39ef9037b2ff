package commands

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"gocrash/kernel"
	"gocrash/symbols"
)

// One struct page the way crash's dump_mem_map() prints it for an
// address (kmem ADDRESS, kmem -p ADDRESS).

const memMapHdr = "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n"

// pageFlagName is one entry of the kernel's pageflag_names[] (mm/debug.c,
// struct trace_print_flags {mask, name}): crash's translate_page_flags
// table.
type pageFlagName struct {
	mask uint64
	name string
}

var sessionPageFlags sync.Map // *Session -> []pageFlagName

// pageFlagNames reads pageflag_names[] up to its {0, NULL} end.
func (s *Session) pageFlagNames() []pageFlagName {
	if v, ok := sessionPageFlags.Load(s); ok {
		return v.([]pageFlagName)
	}
	var out []pageFlagName
	if o, err := s.Var("pageflag_names"); err == nil {
		for i := 0; i < o.Len(); i++ {
			el, err := o.Index(i)
			if err != nil {
				break
			}
			mask, err1 := memberUint(el, "mask")
			nm, err2 := el.Member("name")
			if err1 != nil || err2 != nil {
				break
			}
			np, err := nm.Pointer()
			if err != nil || np == 0 {
				break
			}
			name, err := symbols.ReadCString(s.Mem, np, 64)
			if err != nil {
				break
			}
			out = append(out, pageFlagName{mask: mask, name: name})
		}
	}
	sessionPageFlags.Store(s, out)
	return out
}

// pageFlagsText is translate_page_flags: the flags in hex, then the name
// of each flag set.
func (s *Session) pageFlagsText(flags uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%x", flags)
	if flags != 0 {
		n := 0
		for _, f := range s.pageFlagNames() {
			if flags&f.mask != 0 {
				if n == 0 {
					b.WriteByte(' ')
				} else {
					b.WriteByte(',')
				}
				b.WriteString(f.name)
				n++
			}
		}
	}
	return b.String()
}

// PageLine is the fields crash prints for one struct page.
type pageLine struct {
	page, phys, mapping, index uint64
	count                      int32
	flags                      uint64
}

func (s *Session) readPageLine(page, phys uint64) (pageLine, error) {
	pl := pageLine{page: page, phys: phys}
	ps, err := s.layoutSize("page")
	if err != nil {
		return pl, err
	}
	var r layoutReader
	r.s = s
	fo, mo, io_ := r.off("page", "flags"), r.off("page", "mapping"), r.off("page", "index")
	co, cerr := s.layoutOffset("page", "_refcount")
	if cerr != nil {
		co, cerr = s.layoutOffset("page", "_count")
	}
	if r.err != nil {
		return pl, r.err
	}
	if cerr != nil {
		return pl, cerr
	}
	b := make([]byte, ps)
	if err := s.Mem.ReadVirt(b, page); err != nil {
		return pl, err
	}
	le := binary.LittleEndian
	pl.flags = le.Uint64(b[fo:])
	pl.mapping = le.Uint64(b[mo:])
	pl.index = le.Uint64(b[io_:])
	pl.count = int32(le.Uint32(b[co:]))
	return pl, nil
}

func (s *Session) writePageLine(w *bufio.Writer, pl pageLine) {
	fmt.Fprintf(w, "%-16x %8x %16x %8x %2d %s\n", pl.page, pl.phys, pl.mapping, pl.index, pl.count, s.pageFlagsText(pl.flags))
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
	pl, err := s.readPageLine(page, phys)
	if err != nil {
		return err
	}
	w.WriteString(memMapHdr)
	s.writePageLine(w, pl)
	return nil
}
