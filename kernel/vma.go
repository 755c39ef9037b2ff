package kernel

import (
	"context"
	"fmt"
)

// VMA is one vm_area_struct of an address space.
type VMA struct {
	Addr       uint64 // the vm_area_struct
	Start, End uint64 // vm_start, vm_end
}

// VMAs calls fn for each vm_area_struct of the mm_struct at mm, in address
// order: from the mm_mt maple tree (6.1+), or the mmap list before it
// (vm_next; include/linux/mm_types.h).
func (k *Kernel) VMAs(ctx context.Context, mm uint64, fn func(VMA) error) error {
	t, err := k.Layouts()
	if err != nil {
		return err
	}
	start, err := t.Offset("vm_area_struct.vm_start")
	if err != nil {
		return err
	}
	end, err := t.Offset("vm_area_struct.vm_end")
	if err != nil {
		return err
	}
	vma := func(addr uint64) error {
		s, err := ReadPointer(k.memory(), addr+uint64(start))
		if err != nil {
			return fmt.Errorf("vm_area_struct %#x: %w", addr, err)
		}
		e, err := ReadPointer(k.memory(), addr+uint64(end))
		if err != nil {
			return fmt.Errorf("vm_area_struct %#x: %w", addr, err)
		}
		return fn(VMA{Addr: addr, Start: s, End: e})
	}
	if off, err := t.Offset("mm_struct.mm_mt.ma_root"); err == nil {
		root, err := ReadPointer(k.memory(), mm+uint64(off))
		if err != nil {
			return fmt.Errorf("mm_struct %#x: mm_mt: %w", mm, err)
		}
		return WalkMaple(ctx, k.memory(), root, func(e MapleEntry) error {
			if IsXAInternal(e.Entry) {
				return nil // XA_ZERO_ENTRY: a reserved range, no VMA
			}
			return vma(e.Entry)
		})
	}
	mmap, err := t.Offset("mm_struct.mmap")
	if err != nil {
		return err
	}
	next, err := t.Offset("vm_area_struct.vm_next")
	if err != nil {
		return err
	}
	p, err := ReadPointer(k.memory(), mm+uint64(mmap))
	seen := map[uint64]bool{}
	for ; err == nil && p != 0; p, err = ReadPointer(k.memory(), p+uint64(next)) {
		if seen[p] || len(seen) > MaxListEntries {
			return fmt.Errorf("mm_struct %#x: the mmap list loops at %#x", mm, p)
		}
		seen[p] = true
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if verr := vma(p); verr != nil {
			return verr
		}
	}
	if err != nil {
		return fmt.Errorf("mm_struct %#x: mmap list: %w", mm, err)
	}
	return nil
}
