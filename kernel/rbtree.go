package kernel

import (
	"context"
	"fmt"

	"gocrash/symbols"
)

// Red-black trees (include/linux/rbtree_types.h: struct rb_node is
// __rb_parent_color, rb_right, rb_left; struct rb_root its rb_node), walked
// as crash's tree -t rbtree walks them (tools.c rbtree_iteration): each
// node, then its left subtree, then its right (in order with Linear: left,
// node, right). A child pointer whose rb_left cannot be read is reported
// to Corrupt and not followed; a node met twice ends the walk.

const (
	rbRight = 8
	rbLeft  = 16
	// rbMaxDepth bounds the recursion: a red-black tree of n nodes is at
	// most 2*log2(n+1) deep, 128 for far more nodes than memory holds.
	rbMaxDepth = 128
)

// RBWalk says how to walk one tree.
type RBWalk struct {
	Linear bool
	// Visit is called for each node with its position from the root, a
	// string of 'l' and 'r'.
	Visit func(node uint64, path []byte) error
	// Corrupt, if set, is told of a child pointer that does not lead to a
	// readable node (crash: "rb_node: N: corrupted rb_left pointer: C").
	Corrupt func(node, child uint64, right bool)
}

// DuplicateTreeEntryError is a node met twice.
type DuplicateTreeEntryError struct{ Node uint64 }

func (e *DuplicateTreeEntryError) Error() string {
	return fmt.Sprintf("duplicate tree entry: %x", e.Node)
}

// WalkRBTree walks the tree whose top node is root (0: an empty tree).
func WalkRBTree(ctx context.Context, mem symbols.Memory, root uint64, wk RBWalk) error {
	w := rbWalk{ctx: ctx, mem: mem, wk: wk, seen: map[uint64]bool{}}
	return w.node(root, nil)
}

type rbWalk struct {
	ctx  context.Context
	mem  symbols.Memory
	wk   RBWalk
	seen map[uint64]bool
}

// child reads node's child at off, and whether it may be followed.
func (w *rbWalk) child(node uint64, off uint64) (uint64, bool) {
	c, err := ReadPointer(w.mem, node+off)
	if err != nil || c == 0 {
		return 0, false
	}
	if _, err := ReadPointer(w.mem, c+rbLeft); err != nil {
		if w.wk.Corrupt != nil {
			w.wk.Corrupt(node, c, off == rbRight)
		}
		return 0, false
	}
	return c, true
}

func (w *rbWalk) node(n uint64, path []byte) error {
	if n == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.seen[n] {
		return &DuplicateTreeEntryError{Node: n}
	}
	if len(w.seen) >= MaxTreeEntries {
		return fmt.Errorf("red-black tree: more than %d nodes", MaxTreeEntries)
	}
	if len(path) > rbMaxDepth {
		return fmt.Errorf("red-black tree: deeper than %d levels at node %#x", rbMaxDepth, n)
	}
	w.seen[n] = true
	sub := func(c byte) []byte { return append(path[:len(path):len(path)], c) }
	if w.wk.Linear {
		if l, ok := w.child(n, rbLeft); ok {
			if err := w.node(l, sub('l')); err != nil {
				return err
			}
		}
	}
	if err := w.wk.Visit(n, path); err != nil {
		return err
	}
	if !w.wk.Linear {
		if l, ok := w.child(n, rbLeft); ok {
			if err := w.node(l, sub('l')); err != nil {
				return err
			}
		}
	}
	if r, ok := w.child(n, rbRight); ok {
		return w.node(r, sub('r'))
	}
	return nil
}
