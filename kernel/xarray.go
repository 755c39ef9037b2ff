package kernel

import (
	"context"
	"fmt"

	"gocrash/symbols"
)

// XArrays (include/linux/xarray.h, lib/xarray.c): xa_head is an entry, a
// node when its low two bits are 10 (XA_TAG internal); an xa_node holds its
// shift (the index bits below it) and XA_CHUNK_SIZE slots. Walked as
// crash's tree -t xarray does (tools.c do_xarray_traverse/iter): the height
// is shift / XA_CHUNK_SHIFT + 1, every non-NULL slot of the last level is
// an entry (its internal tag cleared), a head that is not a node is the
// one entry ("direct").

// XALayout is where xa_node keeps its fields, from the kernel's types.
type XALayout struct {
	SlotsOffset uint64 // offsetof(struct xa_node, slots)
	ShiftOffset uint64 // offsetof(struct xa_node, shift)
	ChunkShift  uint   // log2 of the number of slots
}

// XAEntry is one entry: its value, index and the slots taken from the
// root (nil for a direct entry).
type XAEntry struct {
	Entry, Index uint64
	Path         []int
	Direct       bool
}

// XALayoutOf reads the layout from the kernel's types.
func (k *Kernel) XALayout() (XALayout, error) {
	t, err := k.Layouts()
	if err != nil {
		return XALayout{}, err
	}
	so, err := t.Offset("xa_node.slots")
	if err != nil {
		return XALayout{}, err
	}
	sh, err := t.Offset("xa_node.shift")
	if err != nil {
		return XALayout{}, err
	}
	n, err := t.SizeOf("xa_node.slots")
	if err != nil || n < 16 {
		return XALayout{}, fmt.Errorf("cannot determine length of xa_node.slots[] array")
	}
	l := XALayout{SlotsOffset: uint64(so), ShiftOffset: uint64(sh)}
	for 8<<l.ChunkShift < n {
		l.ChunkShift++
	}
	return l, nil
}

// WalkXArray calls fn with each entry below head, an xa_head value (or,
// with node, the address of an xa_node).
func WalkXArray(ctx context.Context, mem symbols.Memory, l XALayout, head uint64, node bool, fn func(XAEntry) error) error {
	internal := head&3 == 2
	p := head &^ 3
	if !node && !internal {
		return fn(XAEntry{Entry: p, Direct: true})
	}
	var b [1]byte
	if err := mem.ReadVirt(b[:], p+l.ShiftOffset); err != nil {
		return fmt.Errorf("xa_node %#x shift: %w", p, err)
	}
	height := uint(b[0])/l.ChunkShift + 1
	if height > 64/l.ChunkShift+1 {
		return fmt.Errorf("xa_node %#x: shift %d beyond an unsigned long index", p, b[0])
	}
	w := xaWalk{ctx: ctx, mem: mem, l: l, fn: fn, seen: map[uint64]bool{}}
	return w.node(p, height, 0, nil)
}

// DuplicateTreeNodeError is an xa_node met twice (crash: "duplicate tree
// node").
type DuplicateTreeNodeError struct{ Node uint64 }

func (e *DuplicateTreeNodeError) Error() string {
	return fmt.Sprintf("duplicate tree node: %x", e.Node)
}

type xaWalk struct {
	ctx  context.Context
	mem  symbols.Memory
	l    XALayout
	fn   func(XAEntry) error
	seen map[uint64]bool
	n    int
}

func (w *xaWalk) node(p uint64, height uint, index uint64, path []int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.seen[p] {
		return &DuplicateTreeNodeError{Node: p}
	}
	w.seen[p] = true
	size := 1 << w.l.ChunkShift
	slots := make([]byte, 8*size)
	if err := w.mem.ReadVirt(slots, p+w.l.SlotsOffset); err != nil {
		return fmt.Errorf("xa_node %#x slots: %w", p, err)
	}
	shift := (height - 1) * w.l.ChunkShift
	for off := 0; off < size; off++ {
		slot := le64at(slots, 8*off)
		if slot == 0 {
			continue
		}
		if slot&3 == 2 {
			slot &^= 2
		}
		sub := append(path[:len(path):len(path)], off)
		if height == 1 {
			if w.n++; w.n > MaxTreeEntries {
				return fmt.Errorf("xarray: more than %d entries", MaxTreeEntries)
			}
			if err := w.fn(XAEntry{Entry: slot, Index: index | uint64(off), Path: sub}); err != nil {
				return err
			}
			continue
		}
		if err := w.node(slot, height-1, index|uint64(off)<<shift, sub); err != nil {
			return err
		}
	}
	return nil
}

func le64at(b []byte, i int) uint64 {
	var v uint64
	for j := 7; j >= 0; j-- {
		v = v<<8 | uint64(b[i+j])
	}
	return v
}
