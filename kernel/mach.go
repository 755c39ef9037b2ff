package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"gocrash/symbols"
)

// The machine data crash's "mach" shows (x86_64.c x86_64_display_machine_stats,
// x86_64_ist_init, x86_64_exception_stacks_init, x86_64_display_memmap):
// the kernel's address-space bases, its stacks and the firmware's e820 map.

// maxExceptionStacks is crash's MAX_EXCEPTION_STACKS: the seven IST slots
// of struct x86_hw_tss (arch/x86/include/asm/processor.h ist[7]).
const maxExceptionStacks = 7

// IDTGate is one gate of idt_table: its handler and its IST slot (bits
// 32-34 of the gate's first quadword, 0 for none).
type IDTGate struct {
	Handler uint64
	IST     int
}

// IDTGates reads idt_table's 256 gates (IDT's handlers with their IST).
func (k *Kernel) IDTGates() ([IDTEntries]IDTGate, error) {
	var out [IDTEntries]IDTGate
	buf, err := k.idtBytes()
	if err != nil {
		return out, err
	}
	for i := range out {
		g := buf[i*16:]
		lo := uint64(binary.LittleEndian.Uint16(g[0:2]))
		mid := uint64(binary.LittleEndian.Uint16(g[6:8]))
		hi := uint64(binary.LittleEndian.Uint32(g[8:12]))
		out[i] = IDTGate{Handler: hi<<32 | mid<<16 | lo, IST: int(binary.LittleEndian.Uint64(g[0:8]) >> 32 & 7)}
	}
	return out, nil
}

// ExceptionStackSlot is one IST slot as crash's mach lists it: its name,
// from the IDT gate that uses the slot ("(unknown)" when no gate's
// handler names it), its size (0 when crash cannot tell it by the name),
// and each cpu's stack base (the TSS's ist[] top minus the size).
type ExceptionStackSlot struct {
	Name  string
	Size  int64
	Base  []uint64 // per cpu, up to the first cpu whose slot is 0
	Avail []bool   // false: a VC stack that is not mapped
}

// MachStacks is what mach lists of the IRQ and exception stacks.
type MachStacks struct {
	IRQSize    int64
	IRQBase    []uint64 // per cpu: hardirq_stack_ptr's stack base (0 unknown)
	Exceptions []ExceptionStackSlot
}

// MachineStacks gathers the IRQ and exception stacks of cpus cpus as
// crash's x86_64_per_cpu_init and x86_64_ist_init do.
func (k *Kernel) MachineStacks(cpus int) (*MachStacks, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	ms := &MachStacks{IRQSize: 16384}
	if sz, err := t.SizeOf("irq_stack"); err == nil && sz > 0 {
		ms.IRQSize = sz // MEMBER_SIZE("irq_stack", "stack"): the struct is that array
	}
	// IRQ stacks: hardirq_stack_ptr (pcpu_hot's since 6.2) points at the
	// stack's top word; crash adds 8 unless it is page aligned.
	hard, ok := k.Vmlinux.Lookup("hardirq_stack_ptr")
	if !ok {
		if hot, ok2 := k.Vmlinux.Lookup("pcpu_hot"); ok2 {
			if off, err := t.Offset("pcpu_hot.hardirq_stack_ptr"); err == nil {
				hard, ok = hot+uint64(off), true
			}
		}
	}
	ms.IRQBase = make([]uint64, cpus)
	for c := 0; c < cpus && ok; c++ {
		off, err := k.PerCPUOffset(c)
		if err != nil {
			break
		}
		var b [8]byte
		if k.memory().ReadVirt(b[:], hard+off) != nil {
			continue
		}
		p := binary.LittleEndian.Uint64(b[:])
		if p != p&^4095 {
			p += 8
		}
		ms.IRQBase[c] = p - uint64(ms.IRQSize)
	}

	names := [maxExceptionStacks]string{}
	for i := range names {
		names[i] = "(unknown)"
	}
	if gates, err := k.IDTGates(); err == nil {
		for _, g := range gates {
			if g.IST == 0 {
				continue
			}
			name, off, ok := k.Vmlinux.Symbolize(g.Handler)
			if !ok {
				continue
			}
			if off != 0 {
				name = fmt.Sprintf("%s+%d", name, off)
			}
			// crash's order: a later match wins.
			for _, m := range []struct{ sub, name string }{{"nmi", "NMI"}, {"debug", "DEBUG"}, {"stack", "STACKFAULT"},
				{"double", "DOUBLEFAULT"}, {"machine", "MCE"}, {"vmm", "VC"}} {
				if strings.Contains(name, m.sub) {
					names[g.IST-1] = m.name
				}
			}
		}
	}

	// Each cpu's TSS ist[] (cpu_tss_rw.x86_tss.ist, the stack tops).
	tss, ok := k.Vmlinux.Lookup("cpu_tss_rw")
	if !ok {
		if tss, ok = k.Vmlinux.Lookup("cpu_tss"); !ok {
			tss, ok = k.Vmlinux.Lookup("init_tss")
		}
	}
	if !ok {
		return ms, errors.New("cpu_tss_rw: symbol does not exist")
	}
	istOff, err := t.Offset("tss_struct.ist")
	if err != nil {
		a, err1 := t.Offset("tss_struct.x86_tss")
		b, err2 := t.Offset("x86_hw_tss.ist")
		if err1 != nil || err2 != nil {
			return ms, fmt.Errorf("tss_struct: no ist member: %w", errors.Join(err1, err2))
		}
		istOff = a + b
	}
	var tops [][maxExceptionStacks]uint64
	for c := 0; c < cpus; c++ {
		off, err := k.PerCPUOffset(c)
		if err != nil || off == 0 && cpus > 1 {
			break
		}
		var b [8 * maxExceptionStacks]byte
		if err := k.memory().ReadVirt(b[:], tss+off+uint64(istOff)); err != nil {
			return ms, fmt.Errorf("tss_struct ist array of cpu %d: %w", c, err)
		}
		var ist [maxExceptionStacks]uint64
		for i := range ist {
			ist[i] = binary.LittleEndian.Uint64(b[i*8:])
		}
		tops = append(tops, ist)
		if ist[0] == 0 {
			break
		}
	}
	// The sizes, by name, from the cpu entry area's layout (or the
	// stacks' own storage before it had guard pages).
	sizeOf := func(member string) int64 {
		for _, st := range []string{"cea_exception_stacks", "exception_stacks"} {
			if m, err := t.Member(st, member); err == nil {
				if sz, err := t.Size(m.Type); err == nil {
					return sz
				}
			}
		}
		return 0
	}
	for i := 0; i < maxExceptionStacks; i++ {
		if len(tops) == 0 || tops[0][i] == 0 {
			break
		}
		slot := ExceptionStackSlot{Name: names[i]}
		switch names[i] {
		case "DEBUG":
			slot.Size = sizeOf("DB_stack")
		case "NMI":
			slot.Size = sizeOf("NMI_stack")
		case "DOUBLEFAULT":
			slot.Size = sizeOf("DF_stack")
		case "MCE":
			slot.Size = sizeOf("MCE_stack")
		case "VC":
			slot.Size = sizeOf("VC_stack")
		}
		for c := range tops {
			if tops[c][i] == 0 {
				break
			}
			base := tops[c][i] - uint64(slot.Size)
			avail := true
			if slot.Name == "VC" {
				var b [1]byte
				avail = k.memory().ReadVirt(b[:], base) == nil
			}
			slot.Base = append(slot.Base, base)
			slot.Avail = append(slot.Avail, avail)
		}
		ms.Exceptions = append(ms.Exceptions, slot)
	}
	return ms, nil
}

// AddressBases are the bases of the kernel's address space that mach
// shows: the direct map, vmalloc, vmemmap (0 without SPARSEMEM_VMEMMAP),
// the kernel image mapping and the modules area.
type AddressBases struct {
	PageOffset, Vmalloc, Vmemmap, StartKernelMap, Modules uint64
}

// Bases reads them as crash's x86_64_init does on a kernel with
// CONFIG_RANDOMIZE_MEMORY (page_offset_base, vmalloc_base, vmemmap_base;
// the modules above a 1 GB kernel image), else the fixed 4-level layout
// of 4.20 and later (arch/x86/include/asm/pgtable_64_types.h).
func (k *Kernel) Bases() AddressBases {
	b := AddressBases{PageOffset: k.PageOffset(), Vmalloc: 0xffffc90000000000, StartKernelMap: startKernelMap, Modules: 0xffffffffa0000000}
	read := func(name string) (uint64, bool) {
		o, err := k.Var(name)
		if err != nil {
			return 0, false
		}
		v, err := o.Uint()
		return v, err == nil
	}
	if v, ok := read("vmalloc_base"); ok {
		b.Vmalloc = v
		b.Modules = startKernelMap + 1<<30
	}
	if v, ok := read("vmemmap_base"); ok {
		b.Vmemmap = v
	} else if _, ok := k.Vmlinux.Lookup("vmemmap_populate"); ok {
		b.Vmemmap = defaultVmemmapBase
	}
	return b
}

// E820Entry is one range of the firmware's memory map (e820_table).
type E820Entry struct {
	Addr, Size uint64
	Type       uint32
}

// E820 reads e820_table (e820 before 4.14: the table itself, or a pointer
// to it): nr_entries then the entries, as crash's x86_64_display_memmap.
func (k *Kernel) E820() ([]E820Entry, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	var addr uint64
	tableType := "e820_table"
	if o, err := k.Var("e820_table"); err == nil {
		if addr, err = o.Pointer(); err != nil {
			return nil, err
		}
	} else if _, ok := k.Vmlinux.Lookup("e820_table"); ok {
		return nil, err // the symbol without its type (no debuginfo)
	} else if a, ok := k.Vmlinux.Lookup("e820"); ok {
		addr, tableType = a, "e820map"
		if o, err := k.Var("e820"); err == nil {
			if p, err := o.Pointer(); err == nil {
				addr = p
			}
		}
	} else {
		return nil, errors.New("neither e820 or e820_table symbols exist")
	}
	if addr == 0 {
		return nil, errors.New("e820_table is NULL")
	}
	obj, err := t.Object(k.memory(), addr, tableType)
	if err != nil {
		return nil, err
	}
	var nr symbols.Object
	if nr, err = obj.Member("nr_entries"); err != nil {
		if nr, err = obj.Member("nr_map"); err != nil {
			return nil, err
		}
	}
	n, err := nr.Uint()
	if err != nil {
		return nil, err
	}
	entries, err := obj.Member("entries")
	if err != nil {
		if entries, err = obj.Member("map"); err != nil {
			return nil, err
		}
	}
	if l := entries.Len(); l > 0 && n > uint64(l) {
		return nil, fmt.Errorf("e820 table has %d entries, more than its %d slots", n, l)
	}
	var out []E820Entry
	for i := 0; i < int(n); i++ {
		e, err := entries.Index(i)
		if err != nil {
			return out, err
		}
		var ent E820Entry
		for _, f := range []struct {
			name string
			dst  *uint64
		}{{"addr", &ent.Addr}, {"size", &ent.Size}} {
			m, err := e.Member(f.name)
			if err != nil {
				return out, err
			}
			if *f.dst, err = m.Uint(); err != nil {
				return out, err
			}
		}
		m, err := e.Member("type")
		if err != nil {
			return out, err
		}
		ty, err := m.Uint()
		if err != nil {
			return out, err
		}
		ent.Type = uint32(ty)
		out = append(out, ent)
	}
	return out, nil
}

// Hypervisor is crash's kt->hypervisor (kernel.c hypervisor_init):
// pv_info.name, else x86_hyper's name ("bare hardware" for none), else
// "(undetermined)".
func (k *Kernel) Hypervisor() string {
	if o, err := k.Var("pv_info"); err == nil {
		if m, err := o.Member("name"); err == nil {
			if p, err := m.Pointer(); err == nil && p != 0 {
				if s, err := symbols.ReadCString(k.memory(), p, 511); err == nil {
					return s
				}
			}
		}
	}
	if o, err := k.Var("x86_hyper"); err == nil {
		if p, err := o.Pointer(); err == nil {
			if p == 0 {
				return "bare hardware"
			}
			if h, err := o.Deref(); err == nil {
				if m, err := h.Member("name"); err == nil {
					if np, err := m.Pointer(); err == nil {
						if s, err := symbols.ReadCString(k.memory(), np, 511); err == nil {
							return s
						}
					}
				}
			}
		}
	}
	return "(undetermined)"
}
