package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// Interrupt descriptors (include/linux/irqdesc.h, kernel/irq/irqdesc.c):
// with CONFIG_SPARSE_IRQ they live in a tree, irq_desc_tree (a radix tree,
// that is an XArray, before 6.5) or sparse_irqs (a maple tree since), else
// in the irq_desc[] array.

// IRQTable maps irq numbers to their struct irq_desc.
type IRQTable struct {
	NrIRQs int // nr_irqs: the numbers crash looks at
	Descs  map[int]uint64
}

// IRQTable reads the descriptors.
func (k *Kernel) IRQTable(ctx context.Context) (*IRQTable, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	tab := &IRQTable{Descs: map[int]uint64{}}
	if a, ok := k.Vmlinux.Lookup("irq_desc"); ok {
		o, err := k.Var("irq_desc")
		if err != nil {
			return nil, err
		}
		n := o.Len()
		size, err := t.SizeOf("irq_desc")
		if err != nil {
			return nil, err
		}
		tab.NrIRQs = n
		for i := 0; i < n; i++ {
			tab.Descs[i] = a + uint64(i)*uint64(size)
		}
		return tab, nil
	}
	if a, ok := k.Vmlinux.Lookup("nr_irqs"); ok {
		var b [4]byte
		if err := k.memory().ReadVirt(b[:], a); err != nil {
			return nil, fmt.Errorf("nr_irqs: %w", err)
		}
		tab.NrIRQs = int(binary.LittleEndian.Uint32(b[:]))
	} else {
		tab.NrIRQs = 224
	}
	if tab.NrIRQs < 0 || tab.NrIRQs > 1<<20 {
		return nil, fmt.Errorf("nr_irqs is %d: implausible", tab.NrIRQs)
	}
	if a, ok := k.Vmlinux.Lookup("sparse_irqs"); ok {
		irqOff, err := t.Offset("irq_desc.irq_data.irq")
		if err != nil {
			return nil, err
		}
		rootOff, err := t.Offset("maple_tree.ma_root")
		if err != nil {
			return nil, err
		}
		root, err := ReadPointer(k.memory(), a+uint64(rootOff))
		if err != nil {
			return nil, fmt.Errorf("sparse_irqs: %w", err)
		}
		// crash matches irq_data.irq, not the tree's index.
		err = WalkMaple(ctx, k.memory(), root, func(e MapleEntry) error {
			var b [4]byte
			if k.memory().ReadVirt(b[:], e.Entry+uint64(irqOff)) == nil {
				n := int(binary.LittleEndian.Uint32(b[:]))
				if _, dup := tab.Descs[n]; !dup {
					tab.Descs[n] = e.Entry
				}
			}
			return nil
		})
		return tab, err
	}
	if a, ok := k.Vmlinux.Lookup("irq_desc_tree"); ok {
		ho, err := t.Offset("xarray.xa_head")
		if err != nil {
			return nil, err
		}
		l, err := k.XALayout()
		if err != nil {
			return nil, err
		}
		head, err := ReadPointer(k.memory(), a+uint64(ho))
		if err != nil {
			return nil, fmt.Errorf("irq_desc_tree: %w", err)
		}
		if head == 0 {
			return tab, nil
		}
		err = WalkXArray(ctx, k.memory(), l, head, false, func(e XAEntry) error {
			if e.Index < 1<<31 && e.Entry != 0 {
				tab.Descs[int(e.Index)] = e.Entry
			}
			return nil
		})
		return tab, err
	}
	return nil, errors.New("neither irq_desc, _irq_desc, irq_desc_ptrs, irq_desc_tree or sparse_irqs symbols exist")
}

// IRQAction is one struct irqaction of a descriptor's chain.
type IRQAction struct {
	Addr   uint64
	Name   string
	NameOK bool
}

// IRQActions is the irqaction chain of the irq_desc at desc.
func (k *Kernel) IRQActions(desc uint64) ([]IRQAction, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	ao, err := t.Offset("irq_desc.action")
	if err != nil {
		return nil, err
	}
	no, err := t.Offset("irqaction.name")
	if err != nil {
		return nil, err
	}
	nx, err := t.Offset("irqaction.next")
	if err != nil {
		return nil, err
	}
	a, err := ReadPointer(k.memory(), desc+uint64(ao))
	if err != nil {
		return nil, fmt.Errorf("irq_desc %#x action: %w", desc, err)
	}
	var out []IRQAction
	seen := map[uint64]bool{}
	for a != 0 {
		if seen[a] || len(out) > 256 {
			return out, fmt.Errorf("irq_desc %#x: irqaction chain loops at %#x", desc, a)
		}
		seen[a] = true
		act := IRQAction{Addr: a}
		if np, err := ReadPointer(k.memory(), a+uint64(no)); err == nil && np != 0 {
			if s, err := symbols.ReadCString(k.memory(), np, 1500); err == nil {
				act.Name, act.NameOK = s, true
			}
		}
		out = append(out, act)
		if a, err = ReadPointer(k.memory(), a+uint64(nx)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// IRQCounts is the per-cpu interrupt counts of desc (kstat_irqs, a
// __percpu array of unsigned int) for the given per-cpu offsets.
func (k *Kernel) IRQCounts(desc uint64, offsets []uint64) ([]uint32, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	ko, err := t.Offset("irq_desc.kstat_irqs")
	if err != nil {
		return nil, err
	}
	p, err := ReadPointer(k.memory(), desc+uint64(ko))
	if err != nil {
		return nil, err
	}
	out := make([]uint32, len(offsets))
	for i, off := range offsets {
		var b [4]byte
		if err := k.memory().ReadVirt(b[:], p+off); err != nil {
			return nil, fmt.Errorf("kstat_irqs of cpu %d: %w", i, err)
		}
		out[i] = binary.LittleEndian.Uint32(b[:])
	}
	return out, nil
}

// IRQChip is the irq_data.chip->name of desc and the descriptor's name.
func (k *Kernel) IRQChip(desc uint64) (chip string, chipOK bool, name string, nameOK bool) {
	t, err := k.Layouts()
	if err != nil {
		return
	}
	if co, err := t.Offset("irq_desc.irq_data.chip"); err == nil {
		if c, err := ReadPointer(k.memory(), desc+uint64(co)); err == nil {
			if no, err := t.Offset("irq_chip.name"); err == nil {
				if np, err := ReadPointer(k.memory(), c+uint64(no)); err == nil && np != 0 {
					if s, err := symbols.ReadCString(k.memory(), np, 1500); err == nil {
						chip, chipOK = s, true
					}
				}
			}
		}
	}
	if no, err := t.Offset("irq_desc.name"); err == nil {
		if np, err := ReadPointer(k.memory(), desc+uint64(no)); err == nil && np != 0 {
			if s, err := symbols.ReadCString(k.memory(), np, 1500); err == nil {
				name, nameOK = s, true
			}
		}
	}
	return
}

// IRQAffinity is the affinity cpumask of desc (irq_common_data.affinity,
// a cpumask_var_t: a pointer with CONFIG_CPUMASK_OFFSTACK), nbytes long.
func (k *Kernel) IRQAffinity(desc uint64, nbytes int) ([]byte, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	off, err := t.Offset("irq_desc.irq_common_data.affinity")
	if err != nil {
		return nil, err
	}
	addr := desc + uint64(off)
	if m, err := t.Member("irq_common_data", "affinity"); err == nil && isPtrType(m.Type) {
		if addr, err = ReadPointer(k.memory(), addr); err != nil {
			return nil, err
		}
	}
	b := make([]byte, nbytes)
	if err := k.memory().ReadVirt(b, addr); err != nil {
		return nil, err
	}
	return b, nil
}

// isPtrType reports whether typ is a pointer once typedefs are resolved.
func isPtrType(typ godwarf.Type) bool {
	for range 16 {
		switch tt := typ.(type) {
		case *godwarf.TypedefType:
			typ = tt.Type
		case *godwarf.QualType:
			typ = tt.Type
		case *godwarf.PtrType:
			return true
		default:
			return false
		}
	}
	return false
}

// Resource is one struct resource of the I/O port or memory tree.
type Resource struct {
	Addr       uint64
	Start, End uint64
	Name       string
	NameOK     bool
	Depth      int
}

// Resources walks the resource tree under the struct resource at root
// (ioport_resource, iomem_resource) as crash's do_resource_list does:
// each entry, then its children, then its siblings.
func (k *Kernel) Resources(ctx context.Context, root uint64) ([]Resource, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	return ResourcesIn(ctx, k.memory(), t, root)
}

// ResourcesIn is Resources through the memory view mem.
func ResourcesIn(ctx context.Context, mem symbols.Memory, t *symbols.Types, root uint64) ([]Resource, error) {
	var r tOffsets
	r.t = t
	so, eo, no, co, sib := r.o("resource.start"), r.o("resource.end"), r.o("resource.name"), r.o("resource.child"), r.o("resource.sibling")
	if r.err != nil {
		return nil, r.err
	}
	var out []Resource
	seen := map[uint64]bool{}
	var walk func(entry uint64, depth int) error
	walk = func(entry uint64, depth int) error {
		for entry != 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if seen[entry] || depth > 64 || len(out) >= MaxListEntries {
				return fmt.Errorf("resource tree at %#x: entry %#x met twice or too deep: corrupt", root, entry)
			}
			seen[entry] = true
			res := Resource{Addr: entry, Depth: depth}
			var err error
			if res.Start, err = ReadPointer(mem, entry+so); err != nil {
				return fmt.Errorf("resource %#x: %w", entry, err)
			}
			res.End, _ = ReadPointer(mem, entry+eo)
			if np, err := ReadPointer(mem, entry+no); err == nil && np != 0 {
				if s, err := symbols.ReadCString(mem, np, 1500); err == nil {
					res.Name, res.NameOK = s, true
				}
			}
			out = append(out, res)
			child, _ := ReadPointer(mem, entry+co)
			if child != 0 && child != entry {
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
			if entry, err = ReadPointer(mem, entry+sib); err != nil {
				return fmt.Errorf("resource %#x sibling: %w", res.Addr, err)
			}
		}
		return nil
	}
	return out, walk(root, 0)
}
