package kernel

import (
	"context"
	"encoding/binary"
	"fmt"

	"gocrash/symbols"
)

// Maple trees (Linux 6.1+: mm->mm_mt, sparse_irqs). Facts:
// include/linux/maple_tree.h and lib/maple_tree.c: an entry that is a node
// has its low two bits 10 and is above 4096 (xa_is_node); the node is the
// entry with its low 8 bits cleared (MAPLE_NODE_MASK), its type bits 3-6
// (MAPLE_NODE_TYPE_SHIFT/MASK: maple_dense 0, maple_leaf_64 1,
// maple_range_64 2, maple_arange_64 3). A maple_range_64 node (256 bytes)
// is a parent pointer, 15 pivots and 16 slots, the last slot holding the
// metadata (end, gap) when the node is not full; a maple_arange_64 node is
// a parent pointer, 9 pivots, 10 slots, 10 gaps and the metadata.

const (
	mapleNodeSize    = 256
	mapleNodeMask    = 255
	mapleDense       = 0
	mapleDenseSlots  = 31
	mapleLeaf64      = 1
	mapleRange64     = 2
	mapleArange64    = 3
	mapleRangeSlots  = 16
	mapleArangeSlots = 10
	mapleMaxHeight   = 31 // MAPLE_HEIGHT_MAX
	xaZeroEntry      = 0x406
	// MaxTreeEntries bounds every tree walk over a damaged tree.
	MaxTreeEntries = 1 << 24
)

// MapleEntry is one entry of a maple tree: the range it covers, its value
// and where it sits (the slot taken at each level from the root; the
// last is the entry's own slot).
type MapleEntry struct {
	First, Last uint64
	Entry       uint64
	Path        []int
	Root        bool // the tree's root entry itself, not in a node
}

// WalkMaple calls fn for each non-NULL entry of the maple tree whose
// ma_root is rootEntry, in index order, the way crash's tree -t maple
// walks it (maple_tree.c do_mt_node): each node's slots up to the first
// zero pivot after slot 0, or the pivot that reaches the node's maximum.
// Reserved entries (XA_ZERO_ENTRY) are passed on: see IsXAInternal. A
// node entry of an unknown type, a tree deeper than the kernel allows, or
// a node met twice ends the walk with an error; so does ctx.
func WalkMaple(ctx context.Context, mem symbols.Memory, rootEntry uint64, fn func(MapleEntry) error) error {
	if !isXANode(rootEntry) {
		if rootEntry != 0 {
			return fn(MapleEntry{Entry: rootEntry, Path: []int{0}, Root: true})
		}
		return nil
	}
	w := mapleWalk{ctx: ctx, mem: mem, fn: fn, seen: map[uint64]bool{}}
	max := ^uint64(0)
	if (rootEntry>>3)&0xf == mapleDense {
		max = mapleDenseSlots
	}
	return w.node(rootEntry, 0, max, nil)
}

// IsXAInternal tells an XArray/maple internal entry (a node, a retry or
// a zero entry: low bits 10) from a pointer the tree holds.
func IsXAInternal(e uint64) bool { return e&3 == 2 }

type mapleWalk struct {
	ctx  context.Context
	mem  symbols.Memory
	fn   func(MapleEntry) error
	seen map[uint64]bool
	n    int
}

func isXANode(e uint64) bool { return e&3 == 2 && e > 4096 }

func (w *mapleWalk) emit(e MapleEntry) error {
	if e.Entry == 0 {
		return nil
	}
	if w.n++; w.n > MaxTreeEntries {
		return fmt.Errorf("maple tree: more than %d entries", MaxTreeEntries)
	}
	return w.fn(e)
}

func (w *mapleWalk) node(entry, min, max uint64, path []int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if len(path) > mapleMaxHeight {
		return fmt.Errorf("maple tree: deeper than %d levels at node entry %#x", mapleMaxHeight, entry)
	}
	addr := entry &^ mapleNodeMask
	if w.seen[addr] {
		return fmt.Errorf("maple tree: node %#x is reached twice", addr)
	}
	w.seen[addr] = true
	typ := (entry >> 3) & 0xf
	var buf [mapleNodeSize]byte
	if err := w.mem.ReadVirt(buf[:], addr); err != nil {
		return fmt.Errorf("maple tree: node %#x: %w", addr, err)
	}
	le := binary.LittleEndian
	sub := func(i int) []int { return append(path[:len(path):len(path)], i) }
	var nslots, pivotsAt, slotsAt int
	switch typ {
	case mapleDense:
		for i := 0; i < mapleDenseSlots; i++ {
			if err := w.emit(MapleEntry{First: min + uint64(i), Last: min + uint64(i), Entry: le.Uint64(buf[8+8*i:]), Path: sub(i)}); err != nil {
				return err
			}
		}
		return nil
	case mapleLeaf64, mapleRange64:
		nslots, pivotsAt, slotsAt = mapleRangeSlots, 8, 8+8*(mapleRangeSlots-1)
	case mapleArange64:
		nslots, pivotsAt, slotsAt = mapleArangeSlots, 8, 8+8*(mapleArangeSlots-1)
	default:
		return fmt.Errorf("maple tree: node entry %#x has type %d, not a known maple_type", entry, typ)
	}
	leaf := typ < mapleRange64
	first := min
	for i := 0; i < nslots; i++ {
		slot := le.Uint64(buf[slotsAt+8*i:])
		last := max
		if i < nslots-1 {
			last = le.Uint64(buf[pivotsAt+8*i:])
		} else if slot == 0 && (typ == mapleArange64 || max != ^uint64(0)) {
			break
		}
		if last == 0 && i > 0 {
			break
		}
		if leaf {
			if err := w.emit(MapleEntry{First: first, Last: last, Entry: slot, Path: sub(i)}); err != nil {
				return err
			}
		} else if slot != 0 {
			// A child is an encoded node (mt_mk_node: the node, its
			// type << 3, MAPLE_ENODE_NULL); only the root also has the
			// internal bit (MAPLE_ROOT_NODE).
			if slot < KernelSpaceStart {
				return fmt.Errorf("maple tree: node %#x slot %d holds %#x, not a node", addr, i, slot)
			}
			if err := w.node(slot, first, last, sub(i)); err != nil {
				return err
			}
		}
		if last >= max {
			break
		}
		first = last + 1
	}
	return nil
}
