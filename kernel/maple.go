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
// and where it sits (the slot taken at each level from the root).
type MapleEntry struct {
	First, Last uint64
	Entry       uint64
	Path        []int
}

// WalkMaple calls fn for each entry of the maple tree whose ma_root
// pointer is at root (the address of struct maple_tree's ma_root, or of
// the maple_tree when ma_root is its last word: pass the member's
// address), in index order. A node entry that is not a node of a known
// type, a tree deeper than the kernel allows, or a node met twice ends
// the walk with an error.
func WalkMaple(ctx context.Context, mem symbols.Memory, rootEntry uint64, fn func(MapleEntry) error) error {
	if !isXANode(rootEntry) {
		if rootEntry != 0 {
			return fn(MapleEntry{First: 0, Last: 0, Entry: rootEntry})
		}
		return nil
	}
	w := mapleWalk{ctx: ctx, mem: mem, fn: fn, seen: map[uint64]bool{}}
	return w.node(rootEntry, 0, ^uint64(0), nil)
}

type mapleWalk struct {
	ctx  context.Context
	mem  symbols.Memory
	fn   func(MapleEntry) error
	seen map[uint64]bool
	n    int
}

func isXANode(e uint64) bool { return e&3 == 2 && e > 4096 }

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
	var pivots, slots []uint64
	var end int
	switch typ {
	case mapleLeaf64, mapleRange64:
		for i := 0; i < mapleRangeSlots-1; i++ {
			pivots = append(pivots, le.Uint64(buf[8+8*i:]))
		}
		for i := 0; i < mapleRangeSlots; i++ {
			slots = append(slots, le.Uint64(buf[8+8*15+8*i:]))
		}
		switch last := pivots[len(pivots)-1]; {
		case last == 0:
			end = int(buf[mapleNodeSize-8]) // meta.end, in the last slot
		case last == max:
			end = len(pivots) - 1
		default:
			end = len(pivots)
		}
	case mapleArange64:
		for i := 0; i < mapleArangeSlots-1; i++ {
			pivots = append(pivots, le.Uint64(buf[8+8*i:]))
		}
		for i := 0; i < mapleArangeSlots; i++ {
			slots = append(slots, le.Uint64(buf[8+8*9+8*i:]))
		}
		end = int(buf[8+8*9+8*10+8*10]) // meta.end after the gaps
	default:
		return fmt.Errorf("maple tree: node entry %#x has type %d, not a known maple_type", entry, typ)
	}
	if end >= len(slots) {
		return fmt.Errorf("maple tree: node %#x: end %d beyond its %d slots", addr, end, len(slots))
	}
	leaf := typ < mapleRange64
	prev := min
	for i := 0; i <= end; i++ {
		hi := max
		if i < end {
			hi = pivots[i]
		}
		slot := slots[i]
		p := append(path[:len(path):len(path)], i)
		if leaf {
			if slot != 0 && slot != xaZeroEntry {
				if w.n++; w.n > MaxTreeEntries {
					return fmt.Errorf("maple tree: more than %d entries", MaxTreeEntries)
				}
				if err := w.fn(MapleEntry{First: prev, Last: hi, Entry: slot, Path: p}); err != nil {
					return err
				}
			}
		} else if slot != 0 {
			// A child is an encoded node (mt_mk_node(): the node with
			// its type in bits 3-6), not an xarray-internal entry: only
			// the root pointer carries xa_mk_node's 2 (mte_mk_root).
			if slot < KernelSpaceStart {
				return fmt.Errorf("maple tree: node %#x slot %d holds %#x, not a node", addr, i, slot)
			}
			if err := w.node(slot, prev, hi, p); err != nil {
				return err
			}
		}
		if hi == max && i < end {
			break
		}
		prev = hi + 1
	}
	return nil
}
