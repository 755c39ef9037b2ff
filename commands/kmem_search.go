package commands

import (
	"fmt"
	"strings"
	"sync"

	"gocrash/kernel"
	"gocrash/symbols"
)

// kmem ADDRESS: what an address is, crash's kmem_search (memory.c). In
// crash's order: the kernel or module symbol it falls in; for a vmalloc
// address the task whose stack it is and the vmalloc area holding it (and
// then only its page); for a physical address the vmalloc area mapping it;
// the slab cache and object, or the slab of a struct page; the free block
// of the buddy allocator holding its page; the task whose task_struct or
// stack it is; and last the struct page of its page.

// search answers one address.
func (p *slabPrinter) search(caches []uint64, addr uint64) error {
	s := p.s
	w := p.w
	po := s.PageOffset()
	kv := addr >= po
	vaddr, bad := addr, false
	if !kv {
		if hm, ok := s.highMemory(); ok && addr < hm-po {
			vaddr = po + addr
		} else {
			bad = true
		}
	}
	st := s.symTable()
	if !bad {
		lo, _ := s.Vmlinux.Lookup("_stext")
		end, _ := s.Vmlinux.Lookup("_end")
		mod := st.moduleOf(addr) >= 0
		if vaddr >= lo && vaddr <= end || mod {
			if r, off, ok := st.search(vaddr); ok {
				var b strings.Builder
				_, symAddr, _ := st.sym(r)
				st.show(&b, r, off, true, st.moduleOf(symAddr) >= 0)
				w.WriteString(b.String() + "\n")
			}
		}
	}
	physMode := !kv
	if kv && s.isVmallocAddr(addr) {
		if t, ok := s.stackTask(vaddr); ok {
			if err := s.writeTaskContext(w, t); err != nil {
				return err
			}
		}
		if pa, err := s.Mem.VirtToPhys(addr); err == nil {
			areas, _ := s.VmapAreas(s.Ctx())
			for _, a := range areas {
				if addr >= a.Start && addr < a.End {
					w.WriteString(vmapHdr)
					fmt.Fprintf(w, "%-16x  %-16x  %16x - %-16x  %7d\n\n", a.Addr, a.VM, a.Start, a.End, a.End-a.Start)
					return p.memMap(pa, true)
				}
			}
		}
	}
	if physMode {
		if va, a, ok := s.physToVmalloc(addr); ok {
			if t, ok := s.stackTask(va); ok {
				if err := s.writeTaskContext(w, t); err != nil {
					return err
				}
			}
			if r, off, ok := st.search(va); ok && st.inRange(va) {
				var b strings.Builder
				st.show(&b, r, off, true, false)
				w.WriteString(b.String() + "\n")
			}
			w.WriteString(vmapHdr)
			fmt.Fprintf(w, "%-16x  %-16x  %16x - %-16x  %7d\n\n", a.Addr, a.VM, a.Start, a.End, a.End-a.Start)
			return p.memMap(addr, true)
		}
	}
	if !bad {
		if kv && !p.sl.IsPagePtr(addr) {
			if _, err := s.Mem.VirtToPhys(addr); err != nil {
				// crash's vaddr_to_kmem_cache warns of an unmapped
				// address.
				fmt.Fprintf(w, "WARNING: cannot make virtual-to-physical translation: %x\n", addr)
			}
		}
		if p.noSlab != nil {
			// No slab table (crash --no_kmem_cache, SLUB_TINY): crash's
			// vaddr_to_kmem_cache says so for a slab page.
			if _, ok := s.slabPageOf(p.sl, vaddr, true); ok {
				w.WriteString("kmem: kmem cache slab subsystem not available\n")
			}
		} else {
			if _, ok := s.slabPageOf(p.sl, vaddr, true); ok {
				p.dumpAddress(caches, vaddr, false, "")
				w.WriteString("\n")
			}
			if p.sl.IsPagePtr(vaddr) {
				if _, ok := s.slabPageOf(p.sl, vaddr, false); ok {
					p.dumpAddress(caches, vaddr, true, "")
					w.WriteString("\n")
				}
			}
		}
	}
	// The buddy allocator's free lists.
	fphys, fok := addr, physMode
	if kv {
		if pfn, ok := p.sl.PagePFN(addr); ok {
			fphys, fok = pfn<<12, true
		} else if pa, err := s.Mem.VirtToPhys(addr); err == nil {
			fphys, fok = pa, true
		}
	}
	if fok {
		if _, ok := p.sl.PageOf(po + fphys&^0xfff); !ok {
			fmt.Fprintf(w, "kmem: cannot determine page for %x\n", addr)
		} else {
			h, _, err := s.freePageOf(fphys)
			if err != nil {
				return err
			}
			if h != nil {
				s.writeFreeHit(w, h, addr, physMode)
				w.WriteString("\n")
			}
		}
	}
	if !bad {
		if t, ok := s.taskStructTask(vaddr); ok {
			if err := s.writeTaskContext(w, t); err != nil {
				return err
			}
		} else if t, ok := s.stackTask(vaddr); ok {
			if err := s.writeTaskContext(w, t); err != nil {
				return err
			}
		}
	}
	if bad {
		fmt.Fprintf(w, "%x: physical address not found in mem map\n", addr)
		return nil
	}
	return p.memMap(addr, physMode)
}

// memMap is crash's dump_mem_map for one address, with its "not found in
// mem map" line.
func (p *slabPrinter) memMap(addr uint64, physical bool) error {
	if !physical {
		return p.s.memMapLine(p.w, p.sl, addr)
	}
	if _, ok := p.sl.PageOf(p.s.PageOffset() + addr&^0xfff); !ok {
		fmt.Fprintf(p.w, "%x: physical address not found in mem map\n", addr)
		return nil
	}
	return p.s.memMapPhys(p.w, p.sl, addr)
}

// highMemory is the value of high_memory: the end of the direct map.
func (s *Session) highMemory() (uint64, bool) {
	o, err := s.Var("high_memory")
	if err != nil {
		return 0, false
	}
	v, err := o.Pointer()
	return v, err == nil
}

// isVmallocAddr is crash's x86_64_IS_VMALLOC_ADDR, in one range: from
// vmalloc_base (the vmalloc area, the vmemmap, the cpu_entry_area and,
// with 5-level paging, the gap between them) to the end of the module
// area, the kernel image's own mapping excluded.
func (s *Session) isVmallocAddr(addr uint64) bool {
	const kernelMap, modulesStart, modulesEnd = 0xffffffff80000000, 0xffffffffa0000000, 0xffffffffff5fffff
	base := uint64(0xffffc90000000000)
	if o, err := s.Var("vmalloc_base"); err == nil {
		if v, err := o.Uint(); err == nil && v != 0 {
			base = v
		}
	}
	return addr >= base && addr < kernelMap || addr >= modulesStart && addr <= modulesEnd
}

// stackTask is crash's stkptr_to_task: the task (in the task table's
// order) whose kernel stack, [task->stack, +THREAD_SIZE), holds addr.
func (s *Session) stackTask(addr uint64) (uint64, bool) {
	st := s.taskStacks()
	for _, t := range st.tasks {
		if addr >= t.base && addr < t.base+st.size {
			return t.task, true
		}
	}
	return 0, false
}

type taskStack struct{ task, base uint64 }

type taskStackTable struct {
	tasks []taskStack
	size  uint64
}

var (
	sessionStacksMu sync.Mutex
	sessionStacks   = map[*Session]*taskStackTable{}
)

// taskStacks reads each task's task->stack once per session.
func (s *Session) taskStacks() *taskStackTable {
	sessionStacksMu.Lock()
	st := sessionStacks[s]
	sessionStacksMu.Unlock()
	if st != nil {
		return st
	}
	st = &taskStackTable{size: 16384}
	tt, err := s.Tasks(s.Ctx())
	if err != nil {
		return st
	}
	t, err := s.Layouts()
	if err != nil {
		return st
	}
	so, err := t.Offset("task_struct.stack")
	if err != nil {
		return st
	}
	// crash's STACKSIZE(): THREAD_SIZE (symbols.StackSizes: the types'
	// answer, without a full DWARF scan for union thread_union).
	if v, _, err := symbols.StackSizes(t); err == nil && v > 0 {
		st.size = v
	}
	for _, task := range tt.All() {
		if s.Ctx().Err() != nil {
			return st
		}
		base, err := s.ReadU64(task.Addr + uint64(so))
		if err != nil || base == 0 {
			continue
		}
		st.tasks = append(st.tasks, taskStack{task.Addr, base})
	}
	sessionStacksMu.Lock()
	sessionStacks[s] = st
	sessionStacksMu.Unlock()
	return st
}

// taskStructTask is crash's vaddr_in_task_struct: the task whose struct
// task_struct holds addr.
func (s *Session) taskStructTask(addr uint64) (uint64, bool) {
	tt, err := s.Tasks(s.Ctx())
	if err != nil {
		return 0, false
	}
	size, err := s.LayoutSize("task_struct")
	if err != nil {
		return 0, false
	}
	for _, task := range tt.All() {
		if addr >= task.Addr && addr < task.Addr+uint64(size) {
			return task.Addr, true
		}
	}
	return 0, false
}

// writeTaskContext prints crash's show_context block and a blank line.
func (s *Session) writeTaskContext(w interface{ WriteString(string) (int, error) }, task uint64) error {
	c, err := s.contextOf(task)
	if err != nil {
		return err
	}
	w.WriteString(formatContext(c, 0) + "\n")
	return nil
}

// physToVmalloc is dump_vmlist's GET_PHYS_TO_VMALLOC: the first page of a
// vmalloc area (in area order) that maps the physical address phys, as
// the virtual address of phys there, and the area.
func (s *Session) physToVmalloc(phys uint64) (uint64, kernel.VmapArea, bool) {
	areas, _ := s.VmapAreas(s.Ctx())
	for _, a := range areas {
		// A vmap_area claiming more than 64 GiB is corrupt: its pages
		// are not walked (a hostile va_end would take hours).
		if a.End < a.Start || a.End-a.Start > 1<<36 {
			continue
		}
		for va := a.Start; va < a.End; va += 4096 {
			if s.Ctx().Err() != nil {
				return 0, kernel.VmapArea{}, false
			}
			pa, err := s.Mem.VirtToPhys(va)
			if err != nil {
				continue
			}
			if phys>>12 == pa>>12 {
				return va + phys&0xfff, a, true
			}
		}
	}
	return 0, kernel.VmapArea{}, false
}
