package vmcore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
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

// StartKernelMap is x86_64's __START_KERNEL_map, the link address the
// kernel image's virtual addresses count from
// (arch/x86/include/asm/page_64_types.h).
const StartKernelMap = startKernelMap

const (
	cr3PTIUserBit  = 1 << 12 // PTI_USER_PGTABLE_MASK (arch/x86/entry/calling.h)
	cr4LA57        = 1 << 12 // X86_CR4_LA57
	idtGateSize    = 16      // struct gate_struct (arch/x86/include/asm/desc_defs.h)
	kernelImageMax = 1 << 30 // KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE
)

// IDTSymbols are the vmlinux facts ParamsFromIDT needs: link-time
// (unrelocated) addresses of the kernel's symbols, and whether the kernel
// was built with page table isolation.
type IDTSymbols struct {
	DivideError uint64 // asm_exc_divide_error (divide_error before 5.8)
	IDTTable    uint64 // idt_table
	LinuxBanner uint64 // linux_banner
	InitTopPgt  uint64 // init_top_pgt (init_level4_pgt before 4.13)
	End         uint64 // _end
	PTI         bool   // pti_init or kaiser_init exists: CR3 bit 12 selects the user PGD
}

// ParamsFromIDT finds the translation parameters and the KASLR slide of a
// QEMU dump that has no VMCOREINFO, from its vCPUs' CR3, CR4 and IDTR and
// the vmlinux facts in sym. The result translates through the kernel's
// own init_top_pgt, as with VMCOREINFO.
func ParamsFromIDT(d *Dump, sym IDTSymbols) (X86Params, error) {
	cpus := d.QEMUCPUs()
	if len(cpus) == 0 {
		return X86Params{}, errors.New("the dump has neither a VMCOREINFO note nor QEMU vCPU notes (CR3, IDTR): cannot find the kernel's relocation (KASLR offset) and page tables")
	}
	pgdMask := uint64(pteAddrMask)
	if sym.PTI {
		pgdMask &^= cr3PTIUserBit
	}
	var firstErr error
	for i, c := range cpus {
		p, err := kaslrFromIDT(d, c, pgdMask, sym)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("QEMU vCPU %d: %w", i, err)
			}
			continue
		}
		// The vCPU's CR3 found the slide; from here on translate through
		// the kernel's own init_top_pgt, as with VMCOREINFO.
		p.InitTopPgt = sym.InitTopPgt + p.KernelOffset
		p.RootPhys = 0
		// Without NUMBER(KERNEL_IMAGE_SIZE), the direct kernel-image
		// translation covers exactly the image, up to _end.
		size := (sym.End + p.KernelOffset - startKernelMap + 0x1fffff) &^ 0x1fffff
		if size > kernelImageMax {
			size = kernelImageMax
		}
		p.KernelImageSize = size
		return p, nil
	}
	return X86Params{}, fmt.Errorf("no VMCOREINFO and no QEMU vCPU state that locates the kernel: %w", firstErr)
}

// kaslrFromIDT is calc_kaslr_offset_from_idt() for one vCPU.
func kaslrFromIDT(d *Dump, c QEMUCPUState, pgdMask uint64, sym IDTSymbols) (X86Params, error) {
	if c.CR[3] == 0 {
		return X86Params{}, errors.New("CR3 is 0 (paging off)")
	}
	if c.IDT.Base == 0 {
		return X86Params{}, errors.New("IDTR base is 0")
	}
	p := X86Params{RootPhys: c.CR[3] & pgdMask, L5: c.CR[4]&cr4LA57 != 0}
	// phys_base is not known yet; a RIP in the kernel image gives it
	// (ParamsFromQEMU) for the rare IDTR inside the kernel image mapping
	// (kernels before the cpu_entry_area alias).
	if q, err := ParamsFromQEMU(d); err == nil && q.RootPhys == p.RootPhys {
		p.PhysBase = q.PhysBase
	}
	ks := NewKernelSpace(d, p)
	idtPhys, err := ks.VirtToPhys(c.IDT.Base)
	if err != nil {
		return X86Params{}, fmt.Errorf("IDT at %#x (CR3 %#x): %w", c.IDT.Base, c.CR[3], err)
	}
	var gate [idtGateSize]byte
	if err := d.ReadPhys(gate[:], idtPhys); err != nil {
		return X86Params{}, fmt.Errorf("IDT vector 0 at physical %#x: %w", idtPhys, err)
	}
	// struct idt_bits / gate_struct: offset_low u16, segment u16, bits u16,
	// offset_middle u16, offset_high u32, reserved u32.
	handler := uint64(binary.LittleEndian.Uint16(gate[0:])) |
		uint64(binary.LittleEndian.Uint16(gate[6:]))<<16 |
		uint64(binary.LittleEndian.Uint32(gate[8:]))<<32
	if handler < sym.DivideError || handler-sym.DivideError >= kernelImageMax {
		return X86Params{}, fmt.Errorf("IDT vector 0 handler %#x is not a relocated divide error handler (vmlinux: %#x)", handler, sym.DivideError)
	}
	p.KernelOffset = handler - sym.DivideError
	p.PhysBase = idtPhys - (sym.IDTTable + p.KernelOffset - startKernelMap)
	// verify_kaslr_offset(): the relocated linux_banner reads as one.
	check := NewKernelSpace(d, X86Params{RootPhys: p.RootPhys, L5: p.L5, PhysBase: p.PhysBase})
	var b [len("Linux version")]byte
	if err := check.ReadVirt(b[:], sym.LinuxBanner+p.KernelOffset); err != nil {
		return X86Params{}, fmt.Errorf("KASLR offset %#x: linux_banner: %w", p.KernelOffset, err)
	}
	if !bytes.Equal(b[:], []byte("Linux version")) {
		return X86Params{}, fmt.Errorf("KASLR offset %#x: linux_banner at %#x reads %q", p.KernelOffset, sym.LinuxBanner+p.KernelOffset, b[:])
	}
	return p, nil
}
