package kernel

import (
	"context"
	"errors"
	"fmt"

	"gocrash/symbols"
)

// The buddy allocator's free lists (include/linux/mmzone.h): each zone
// has free_area[NR_PAGE_ORDERS] (MAX_ORDER before 6.4), each a struct
// free_area with one list_head per migrate type, free_list[MIGRATE_TYPES],
// linking the first struct page of each free block of 2^order pages by
// page.lru (the buddy_list member of the same union since 6.1).

// FreeList is one free_area[order].free_list[type] of a zone.
type FreeList struct {
	Order int
	Type  int    // the migrate type: the list's index in free_list[]
	Addr  uint64 // the list_head
	// Blocks are the struct page of each free block, in list order.
	Blocks []uint64
	// Err ends a list that loops (a *DuplicateEntryError naming the
	// link met twice) or cannot be read; Blocks holds what was read.
	Err error
}

// FreeAreaShape is the geometry of a zone's free_area[]: the number of
// orders and of migrate types.
type FreeAreaShape struct {
	Orders, Types int
	areaSize      uint64
	lruOffset     uint64
}

// FreeAreaShape reads the geometry from the types.
func (k *Kernel) FreeAreaShape() (FreeAreaShape, error) {
	t, err := k.Layouts()
	if err != nil {
		return FreeAreaShape{}, err
	}
	var s FreeAreaShape
	zsize, err := t.SizeOf("zone.free_area")
	if err != nil {
		return s, err
	}
	asize, err := t.SizeOf("free_area")
	if err != nil {
		return s, err
	}
	lsize, err := t.SizeOf("free_area.free_list")
	if err != nil {
		return s, err
	}
	lru, err := t.Offset("page.lru")
	if err != nil {
		return s, err
	}
	if asize <= 0 || lsize < 16 || zsize%asize != 0 {
		return s, fmt.Errorf("struct free_area of %d bytes, free_list of %d: unexpected layout", asize, lsize)
	}
	s.Orders, s.Types, s.areaSize, s.lruOffset = int(zsize/asize), int(lsize/16), uint64(asize), uint64(lru)
	return s, nil
}

// FreeLists walks every free list of the zone whose free_area[] is at
// freeArea, order by order, type by type, as crash's dump_zone_free_area
// does (its do_list: a list ends at its head, on NULL, on a link pointing
// to itself or back to the first; a link met twice is corruption).
func (k *Kernel) FreeLists(ctx context.Context, freeArea uint64) ([]FreeList, error) {
	s, err := k.FreeAreaShape()
	if err != nil {
		return nil, err
	}
	return FreeListsIn(ctx, k.memory(), s, freeArea)
}

// FreeListsIn is FreeLists through the memory view mem.
func FreeListsIn(ctx context.Context, mem symbols.Memory, s FreeAreaShape, freeArea uint64) ([]FreeList, error) {
	var out []FreeList
	for o := 0; o < s.Orders; o++ {
		for m := 0; m < s.Types; m++ {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			head := freeArea + uint64(o)*s.areaSize + uint64(m)*16
			fl := FreeList{Order: o, Type: m, Addr: head}
			first, err := ReadPointer(mem, head)
			if err != nil {
				return out, fmt.Errorf("free_area[%d].free_list[%d] at %x: %w", o, m, head, err)
			}
			if first != head {
				fl.Err = FollowList(ctx, mem, FollowSpec{Start: first, End: head}, func(link uint64) error {
					fl.Blocks = append(fl.Blocks, link-s.lruOffset)
					return nil
				})
				if errors.Is(fl.Err, context.Canceled) || errors.Is(fl.Err, context.DeadlineExceeded) {
					return out, fl.Err
				}
			}
			out = append(out, fl)
		}
	}
	return out, nil
}
