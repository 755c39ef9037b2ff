package commands

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"gocrash/vmcore"
)

// Dumps without VMCOREINFO: QEMU's dump-guest-memory of a guest whose
// kernel did not hand its VMCOREINFO to QEMU (no CONFIG_FW_CFG_SYSFS, no
// -device vmcoreinfo). The notes then carry only each vCPU's registers,
// and the facts VMCOREINFO would have given come from those and the
// vmlinux, the way crash's calc_kaslr_offset() (kaslr_helper.c) finds
// them:
//
//   - the page tables: the vCPU's CR3, without the PCID bits (0..11) and,
//     on a kernel built with page table isolation, without bit 12, which
//     selects the user half of the pair of PGD pages;
//   - 5-level paging: CR4.LA57 (bit 12);
//   - the KASLR slide: the IDT register points at the kernel's idt_table
//     (through its read-only alias in the cpu_entry_area since 4.15,
//     arch/x86/kernel/idt.c idt_map_in_cea()); vector 0 of that table is
//     the divide error handler, so the relocated handler minus the
//     vmlinux's asm_exc_divide_error (divide_error before 5.8) is the
//     slide;
//   - phys_base: the IDT's physical address minus idt_table's offset from
//     __START_KERNEL_map once relocated;
//   - a check: the dump's linux_banner must then read "Linux version".
//
// Each vCPU is tried in turn; a CPU stopped in user space or in early boot
// may fail where another succeeds.

const (
	startKernelMap = 0xffffffff80000000 // __START_KERNEL_map (arch/x86/include/asm/page_64_types.h)
	cr3PCIDMask    = 0xfff              // CR3 bits 0..11: PCID (or PWT/PCD flags)
	cr3PTIUserBit  = 1 << 12            // PTI_USER_PGTABLE_MASK (arch/x86/entry/calling.h)
	cr3AddrMask    = 0x000ffffffffff000 // CR3 bits 12..51
	cr4LA57        = 1 << 12            // X86_CR4_LA57
	idtGateSize    = 16                 // struct gate_struct (arch/x86/include/asm/desc_defs.h)
	kernelImageMax = 1 << 30            // KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE
)

// paramsWithoutInfo finds the translation parameters and the KASLR slide
// of a dump that has no VMCOREINFO, and relocates the vmlinux's symbols by
// that slide.
func (s *Session) paramsWithoutInfo() (vmcore.X86Params, error) {
	d, v := s.Dump, s.Vmlinux
	cpus := d.QEMUCPUs()
	if len(cpus) == 0 {
		return vmcore.X86Params{}, errors.New("the dump has neither a VMCOREINFO note nor QEMU vCPU notes (CR3, IDTR): cannot find the kernel's relocation (KASLR offset) and page tables")
	}
	need := func(names ...string) (uint64, error) {
		for _, n := range names {
			if a, ok := v.LookupSymbol(n); ok {
				return a.Addr - v.KASLR(), nil
			}
		}
		return 0, fmt.Errorf("vmlinux has no %s symbol: cannot find the KASLR offset of a dump without VMCOREINFO", strings.Join(names, " or "))
	}
	divideError, err := need("asm_exc_divide_error", "divide_error")
	if err != nil {
		return vmcore.X86Params{}, err
	}
	idtTable, err := need("idt_table")
	if err != nil {
		return vmcore.X86Params{}, err
	}
	banner, err := need("linux_banner")
	if err != nil {
		return vmcore.X86Params{}, err
	}
	topPgt, err := need("init_top_pgt", "init_level4_pgt")
	if err != nil {
		return vmcore.X86Params{}, err
	}
	end, err := need("_end")
	if err != nil {
		return vmcore.X86Params{}, err
	}
	pgdMask := uint64(cr3AddrMask)
	if _, ok := v.Lookup("pti_init"); ok {
		pgdMask &^= cr3PTIUserBit
	} else if _, ok := v.Lookup("kaiser_init"); ok {
		pgdMask &^= cr3PTIUserBit
	}

	var firstErr error
	for i, c := range cpus {
		p, err := kaslrFromIDT(d, c, pgdMask, divideError, idtTable, banner)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("QEMU vCPU %d: %w", i, err)
			}
			continue
		}
		// The vCPU's CR3 found the slide; from here on translate through
		// the kernel's own init_top_pgt, as with VMCOREINFO.
		p.InitTopPgt = topPgt + p.KernelOffset
		p.RootPhys = 0
		// Without NUMBER(KERNEL_IMAGE_SIZE), the direct kernel-image
		// translation covers exactly the image, up to _end.
		size := (end + p.KernelOffset - startKernelMap + 0x1fffff) &^ 0x1fffff
		if size > kernelImageMax {
			size = kernelImageMax
		}
		p.KernelImageSize = size
		v.SetKASLR(p.KernelOffset)
		return p, nil
	}
	return vmcore.X86Params{}, fmt.Errorf("no VMCOREINFO and no QEMU vCPU state that locates the kernel: %w", firstErr)
}

// kaslrFromIDT is calc_kaslr_offset_from_idt() for one vCPU.
func kaslrFromIDT(d *vmcore.Dump, c vmcore.QEMUCPUState, pgdMask, divideError, idtTable, banner uint64) (vmcore.X86Params, error) {
	if c.CR[3] == 0 {
		return vmcore.X86Params{}, errors.New("CR3 is 0 (paging off)")
	}
	if c.IDT.Base == 0 {
		return vmcore.X86Params{}, errors.New("IDTR base is 0")
	}
	p := vmcore.X86Params{RootPhys: c.CR[3] & pgdMask, L5: c.CR[4]&cr4LA57 != 0}
	// phys_base is not known yet; a RIP in the kernel image gives it
	// (vmcore.ParamsFromQEMU) for the rare IDTR inside the kernel image
	// mapping (kernels before the cpu_entry_area alias).
	if q, err := vmcore.ParamsFromQEMU(d); err == nil && q.RootPhys == p.RootPhys {
		p.PhysBase = q.PhysBase
	}
	ks := vmcore.NewKernelSpace(d, p)
	idtPhys, err := ks.VirtToPhys(c.IDT.Base)
	if err != nil {
		return vmcore.X86Params{}, fmt.Errorf("IDT at %#x (CR3 %#x): %w", c.IDT.Base, c.CR[3], err)
	}
	var gate [idtGateSize]byte
	if err := d.ReadPhys(gate[:], idtPhys); err != nil {
		return vmcore.X86Params{}, fmt.Errorf("IDT vector 0 at physical %#x: %w", idtPhys, err)
	}
	// struct idt_bits / gate_struct: offset_low u16, segment u16, bits u16,
	// offset_middle u16, offset_high u32, reserved u32.
	handler := uint64(binary.LittleEndian.Uint16(gate[0:])) |
		uint64(binary.LittleEndian.Uint16(gate[6:]))<<16 |
		uint64(binary.LittleEndian.Uint32(gate[8:]))<<32
	if handler < divideError || handler-divideError >= kernelImageMax {
		return vmcore.X86Params{}, fmt.Errorf("IDT vector 0 handler %#x is not a relocated divide error handler (vmlinux: %#x)", handler, divideError)
	}
	p.KernelOffset = handler - divideError
	p.PhysBase = idtPhys - (idtTable + p.KernelOffset - startKernelMap)
	// verify_kaslr_offset(): the relocated linux_banner reads as one.
	check := vmcore.NewKernelSpace(d, vmcore.X86Params{RootPhys: p.RootPhys, L5: p.L5, PhysBase: p.PhysBase})
	var b [len("Linux version")]byte
	if err := check.ReadVirt(b[:], banner+p.KernelOffset); err != nil {
		return vmcore.X86Params{}, fmt.Errorf("KASLR offset %#x: linux_banner: %w", p.KernelOffset, err)
	}
	if !bytes.Equal(b[:], []byte("Linux version")) {
		return vmcore.X86Params{}, fmt.Errorf("KASLR offset %#x: linux_banner at %#x reads %q", p.KernelOffset, banner+p.KernelOffset, b[:])
	}
	return p, nil
}
