package kernel

import (
	"context"
	"fmt"
	"sort"
)

// vmalloc areas (mm/vmalloc.c): the busy struct vmap_area list,
// vmap_area_list before 6.9, each vmap_node's busy.head list since.

// VmapArea is one busy vmap_area with a vm_struct.
type VmapArea struct {
	Addr       uint64 // struct vmap_area
	VM         uint64 // its struct vm_struct
	Start, End uint64
}

// VmapAreas lists the vmap_areas that have a vm_struct, in address order
// (crash's dump_vmap_area).
func (k *Kernel) VmapAreas(ctx context.Context) ([]VmapArea, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	var r tOffsets
	r.t = t
	listOff, vmOff, startOff, endOff := r.o("vmap_area.list"), r.o("vmap_area.vm"), r.o("vmap_area.va_start"), r.o("vmap_area.va_end")
	if r.err != nil {
		return nil, r.err
	}
	var heads []uint64
	if nodes, ok := k.Vmlinux.Lookup("vmap_nodes"); ok {
		nrAddr, ok := k.Vmlinux.Lookup("nr_vmap_nodes")
		if !ok {
			return nil, fmt.Errorf("vmap_nodes without nr_vmap_nodes")
		}
		var b [4]byte
		if err := k.Mem.ReadVirt(b[:], nrAddr); err != nil {
			return nil, err
		}
		nr := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		if nr < 0 || nr > 1<<12 {
			return nil, fmt.Errorf("nr_vmap_nodes is %d: implausible", nr)
		}
		base, err := ReadPointer(k.Mem, nodes)
		if err != nil {
			return nil, err
		}
		size, err := t.SizeOf("vmap_node")
		if err != nil {
			return nil, err
		}
		bo, err := t.Offset("vmap_node.busy.head")
		if err != nil {
			return nil, err
		}
		for i := 0; i < nr; i++ {
			heads = append(heads, base+uint64(i)*uint64(size)+uint64(bo))
		}
	} else if h, ok := k.Vmlinux.Lookup("vmap_area_list"); ok {
		heads = append(heads, h)
	} else {
		return nil, fmt.Errorf("neither vmap_area_list nor vmap_nodes exist in this kernel")
	}
	var out []VmapArea
	for _, h := range heads {
		err := WalkList(ctx, k.Mem, h, "vmap_area list", func(node uint64) error {
			va := node - listOff
			b := make([]byte, max(vmOff, startOff, endOff)+8)
			if err := k.Mem.ReadVirt(b, va); err != nil {
				return fmt.Errorf("vmap_area at %#x: %w", va, err)
			}
			a := VmapArea{Addr: va, VM: le64(b, int64(vmOff)), Start: le64(b, int64(startOff)), End: le64(b, int64(endOff))}
			if a.VM != 0 {
				out = append(out, a)
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("invalid/corrupt vmap_area list: %w", err)
		}
	}
	if len(heads) > 1 {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	}
	return out, nil
}
