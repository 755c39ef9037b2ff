package kernel

import (
	"context"
	"fmt"
)

// The pages of a VMA as crash's vm -p shows them (memory.c
// vm_area_page_dump(), x86_64.c x86_64_uvtop_level4(), swap_location(),
// vma_file_offset()): each page's physical address when its page table
// entry maps it; else the swap device and offset its swap entry names;
// else, for a file mapping, the file and the offset in it; else nothing.

// A VMAPage is one page of a VMA.
type VMAPage struct {
	VA     uint64
	Mapped bool   // a present (or PROTNONE) entry maps it
	Phys   uint64 // when Mapped: the page's physical address
	// A swap entry (not present, not zero): its type's device and the
	// offset in it. SwapPath is "(unknown swap location)" when the
	// swap_info slot is empty.
	Swap       bool
	SwapPath   string
	SwapOffset uint64
	// A file mapping's page that is not mapped: the offset in File.
	File       string
	FileOffset uint64
}

// Swap entries since 4.18.1 (L1TF: arch/x86/include/asm/pgtable_64.h):
// the type in the top five bits, the offset inverted below it, from bit 9.
func swpType(pte uint64) uint64   { return pte >> 59 }
func swpOffset(pte uint64) uint64 { return (^pte << 5) >> 14 }

// VMAPages calls fn for each page of the VMA v in the address space whose
// page directory is pgd (mm->pgd), in address order.
func (k *Kernel) VMAPages(ctx context.Context, pgd uint64, v VMAInfo, fn func(VMAPage) error) error {
	if v.End < v.Start || (v.End-v.Start)>>12 > maxVMAPages {
		return fmt.Errorf("vm_area_struct %x: %x-%x is not a user address range", v.Addr, v.Start, v.End)
	}
	var swapPaths map[uint64]string
	for va := v.Start &^ 0xfff; va < v.End; va += 0x1000 {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := VMAPage{VA: va}
		w, err := k.Mem.WalkUser(pgd, va)
		if err != nil {
			return fmt.Errorf("vm_area_struct %x, page %x: %w", v.Addr, va, err)
		}
		var pte uint64
		if n := len(w.Steps); n > 0 && w.Steps[n-1].Level == "PTE" {
			pte = w.Steps[n-1].Entry
		}
		switch {
		case w.Mapped:
			p.Mapped, p.Phys = true, w.Phys
		case pte != 0:
			if swapPaths == nil {
				swapPaths = k.swapPaths(ctx)
			}
			p.Swap, p.SwapOffset = true, swpOffset(pte)
			p.SwapPath = "(unknown swap location)"
			if s, ok := swapPaths[swpType(pte)]; ok {
				p.SwapPath = s
			}
		case v.File != 0 && v.Path != "":
			p.File = v.Path
			p.FileOffset = ((va-v.Start)>>12 + v.PgOff) << 12
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// maxVMAPages bounds one VMA's walk (a 128 TiB user address space).
const maxVMAPages = 1 << 35

// swapPaths names each swap_info[] slot in use by its file (crash's
// get_swapdev()), by swap type.
func (k *Kernel) swapPaths(ctx context.Context) map[uint64]string {
	out := map[uint64]string{}
	arr, ok := k.Vmlinux.Lookup("swap_info")
	if !ok {
		return out
	}
	areas, _ := k.SwapAreas(ctx)
	for i := uint64(0); i < 64; i++ {
		si, err := ReadPointer(k.memory(), arr+8*i)
		if err != nil {
			break
		}
		for _, a := range areas {
			if a.Addr == si && si != 0 {
				out[i] = a.Path
			}
		}
	}
	return out
}

// SwapLocation is where a swap entry (a PTE that is not present and not
// zero) points: the swap area's file by the entry's type (swap_info[],
// crash's get_swapdev) and the page's offset in it; ok is false when no
// swap area in use has that type.
func (k *Kernel) SwapLocation(ctx context.Context, pte uint64) (path string, offset uint64, ok bool) {
	path, ok = k.swapPaths(ctx)[swpType(pte)]
	return path, swpOffset(pte), ok
}
