package kernel

import (
	"context"
	"errors"
)

// Memory blocks (drivers/base/memory.c, include/linux/memory.h): with
// memory hotplug each block of sections is a struct memory_block, a
// device on the memory bus (memory_subsys).

// MemoryBlock is one struct memory_block.
type MemoryBlock struct {
	Addr         uint64
	Name         string // its device name, "memory32"
	StartSection uint64
	// End is the last physical address of the block: from
	// memory_block_size_probed where the kernel has it, else from
	// end_section_nr; HasEnd is false when neither exists.
	End    uint64
	HasEnd bool
	Node   int
	HasNid bool
	State  uint64 // MEM_ONLINE (1), MEM_GOING_OFFLINE (2), MEM_OFFLINE (4), ...
}

// ErrNoMemoryBlocks is MemoryBlocks' answer on a kernel without memory
// hotplug.
var ErrNoMemoryBlocks = errors.New("no memory_subsys: the kernel has no memory hotplug")

// MemoryBlocks lists the memory bus's devices (memory_subsys.p, or since
// 6.3 bus_kset's "memory" subsys_private: klist_devices by
// device_private.knode_bus) as crash's dump_memory_blocks does.
func (k *Kernel) MemoryBlocks(ctx context.Context) ([]MemoryBlock, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	ms, ok := k.Vmlinux.Lookup("memory_subsys")
	if !ok || !r.has("memory_block.dev") {
		return nil, ErrNoMemoryBlocks
	}
	var priv uint64
	if r.has("bus_type.p") {
		if priv, err = r.ptr(ms, "bus_type.p"); err != nil {
			return nil, err
		}
	} else if priv, err = k.subsysPrivate(ctx, r, "bus_kset", "memory"); err != nil {
		return nil, err
	}
	if priv == 0 {
		return nil, errors.New("cannot determine subsys_private for memory")
	}
	var p tOffsets
	p.t = r.t
	kd, kl, nn, kb := p.o("subsys_private.klist_devices"), p.o("klist.k_list"), p.o("klist_node.n_node"), p.o("device_private.knode_bus")
	devOff, nameOff := p.o("memory_block.dev"), p.o("device.kobj.name")
	if p.err != nil {
		return nil, p.err
	}
	var probed uint64
	hasProbed := false
	if a, ok := k.Vmlinux.Lookup("memory_block_size_probed"); ok {
		if probed, err = r.word(a, "memory_block_size_probed"); err != nil {
			return nil, err
		}
		hasProbed = true
	}
	// section_nr_to_pfn: a section is PAGES_PER_SECTION pages.
	perSection, pageSize := uint64(1)<<15, uint64(4096)
	if mm, err := k.MemMap(); err == nil {
		perSection = mm.PagesPerSection()
	}
	if ps := k.Dump.PageSize(); ps > 0 {
		pageSize = uint64(ps)
	}
	var out []MemoryBlock
	err = k.WalkList(ctx, priv+kd+kl, "memory_subsys klist_devices", func(node uint64) error {
		dp := node - nn - kb
		dev, err := r.ptr(dp, "device_private.device")
		if err != nil {
			return err
		}
		mb := MemoryBlock{Addr: dev - devOff}
		if np, err := r.word(dev+nameOff, "device.kobj.name"); err == nil && np != 0 {
			mb.Name, _ = r.cstring(np, 64)
		}
		if mb.StartSection, err = r.ptr(mb.Addr, "memory_block.start_section_nr"); err != nil {
			return err
		}
		start := mb.StartSection * perSection * pageSize
		switch {
		case hasProbed:
			mb.End, mb.HasEnd = start+probed-1, true
		case r.has("memory_block.end_section_nr"):
			end, err := r.ptr(mb.Addr, "memory_block.end_section_nr")
			if err != nil {
				return err
			}
			mb.End, mb.HasEnd = (end+1)*perSection*pageSize-1, true
		}
		if mb.State, err = r.ptr(mb.Addr, "memory_block.state"); err != nil {
			return err
		}
		if r.has("memory_block.nid") {
			nid, err := r.member(mb.Addr, "memory_block.nid", 4)
			if err != nil {
				return err
			}
			mb.Node, mb.HasNid = int(int32(nid)), true
		}
		out = append(out, mb)
		return nil
	})
	return out, err
}
