package vmcore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// x86_64 address translation. Facts: arch/x86/include/asm/page_64_types.h
// (__START_KERNEL_map, KERNEL_IMAGE_SIZE), asm/pgtable_types.h (_PAGE_PRESENT
// bit 0, _PAGE_PSE bit 7, PTE_PFN_MASK = bits 12..51), and
// arch/x86/kernel/crash_core_64.c for the VMCOREINFO keys.
const (
	startKernelMap     = 0xffffffff80000000 // __START_KERNEL_map
	defaultImageSize   = 512 << 20          // KERNEL_IMAGE_SIZE without KASLR
	x86PageSize        = 4096
	ptePresent         = 1 << 0
	ptePSE             = 1 << 7
	pteAddrMask        = 0x000ffffffffff000 // bits 12..51
	tlbSize            = 512
	userSpaceLimitL4   = 1 << 47
	userSpaceLimitL5   = 1 << 56
	kernelSpaceStartL4 = 0xffff800000000000
	kernelSpaceStartL5 = 0xff00000000000000
)

// X86Params are the facts translation needs, normally from VMCOREINFO.
type X86Params struct {
	PhysBase     uint64 // NUMBER(phys_base): where the kernel image was loaded, minus its link address
	KernelOffset uint64 // KERNELOFFSET: the KASLR virtual slide
	InitTopPgt   uint64 // SYMBOL(init_top_pgt), a kernel text virtual address
	L5           bool   // NUMBER(pgtable_l5_enabled)=1: 5-level paging

	SMEMask         uint64 // NUMBER(sme_mask): the memory-encryption bit, cleared from entries
	KernelImageSize uint64 // NUMBER(KERNEL_IMAGE_SIZE); 0 means 512 MiB

	// RootPhys, when non-zero, is the physical address of the top-level
	// page table to walk instead of __pa(init_top_pgt): a CPU's CR3 for
	// dumps without VMCOREINFO (see ParamsFromQEMU).
	RootPhys uint64
}

// ParamsFromQEMU derives translation parameters from the vCPU state of a
// QEMU dump-guest-memory dump without VMCOREINFO: the page tables from CR3,
// 5-level paging from CR4.LA57 (bit 12), and phys_base by walking the RIP of
// a CPU that was in the kernel image. KernelOffset stays 0: the KASLR slide
// needs the vmlinux (crash compares the IDTR base, QEMUCPUState.IDT.Base,
// with the address of idt_table).
func ParamsFromQEMU(d *Dump) (X86Params, error) {
	for _, c := range d.QEMUCPUs() {
		if c.CR[3] == 0 || c.RIP < startKernelMap {
			continue
		}
		p := X86Params{RootPhys: c.CR[3] & pteAddrMask, L5: c.CR[4]&(1<<12) != 0}
		pa, err := NewKernelSpace(d, p).walk(p.RootPhys, c.RIP, "kernel virtual")
		if err != nil {
			continue
		}
		p.PhysBase = pa - (c.RIP - startKernelMap)
		return p, nil
	}
	return X86Params{}, errors.New("vmcore: no QEMU vCPU note with a kernel RIP whose page tables resolve it")
}

// ParamsFromInfo takes the translation parameters from VMCOREINFO.
func ParamsFromInfo(v *VMCoreInfo) (X86Params, error) {
	if v == nil {
		return X86Params{}, errors.New("vmcore: no VMCOREINFO in dump: cannot locate the kernel page tables")
	}
	pgt, ok := v.Symbol("init_top_pgt")
	if !ok {
		return X86Params{}, errors.New("vmcore: VMCOREINFO has no SYMBOL(init_top_pgt)")
	}
	if pgt < startKernelMap {
		return X86Params{}, fmt.Errorf("vmcore: SYMBOL(init_top_pgt)=%#x is not a kernel text address", pgt)
	}
	p := X86Params{PhysBase: v.PhysBase, KernelOffset: v.KernelOffset, InitTopPgt: pgt}
	if n, ok := v.Number("pgtable_l5_enabled"); ok && n != 0 {
		p.L5 = true
	}
	if n, ok := v.Number("sme_mask"); ok {
		p.SMEMask = uint64(n)
	}
	if n, ok := v.Number("KERNEL_IMAGE_SIZE"); ok && n > 0 {
		p.KernelImageSize = uint64(n)
	}
	return p, nil
}

// KernelSpace is the kernel virtual memory of one dump.
type KernelSpace struct {
	d       *Dump
	p       X86Params
	pgdPhys uint64
	imgEnd  uint64

	mu  sync.Mutex
	tlb [tlbSize]tlbEntry
}

type tlbEntry struct {
	root, vpn, ppn uint64
	valid          bool
}

// NewKernelSpace sets up translation for d.
func NewKernelSpace(d *Dump, p X86Params) *KernelSpace {
	size := p.KernelImageSize
	if size == 0 {
		size = defaultImageSize
	}
	root := p.InitTopPgt - startKernelMap + p.PhysBase // __pa_symbol(init_top_pgt)
	if p.RootPhys != 0 {
		root = p.RootPhys
	}
	return &KernelSpace{d: d, p: p, pgdPhys: root, imgEnd: startKernelMap + size}
}

// Dump is the dump this address space reads from.
func (k *KernelSpace) Dump() *Dump { return k.d }

// Params are the translation parameters in use.
func (k *KernelSpace) Params() X86Params { return k.p }

// VirtToPhys translates a kernel virtual address: the kernel image mapping
// directly (__pa_symbol), anything else by walking init_top_pgt.
func (k *KernelSpace) VirtToPhys(va uint64) (uint64, error) {
	if va >= startKernelMap && va < k.imgEnd {
		return va - startKernelMap + k.p.PhysBase, nil
	}
	if !k.isKernel(va) {
		return 0, &AddrError{Addr: va, Space: "kernel virtual", Err: ErrBadAddress, Detail: "not a canonical kernel address"}
	}
	return k.translate(k.pgdPhys, va, "kernel virtual")
}

func (k *KernelSpace) isKernel(va uint64) bool {
	if k.p.L5 {
		return va >= kernelSpaceStartL5
	}
	return va >= kernelSpaceStartL4
}

// UserVirtToPhys translates a user address with the page tables of an mm
// (pgd is mm->pgd, a kernel virtual address).
func (k *KernelSpace) UserVirtToPhys(pgd, va uint64) (uint64, error) {
	limit := uint64(userSpaceLimitL4)
	if k.p.L5 {
		limit = userSpaceLimitL5
	}
	if va >= limit {
		return 0, &AddrError{Addr: va, Space: "user virtual", Err: ErrBadAddress, Detail: "not a user space address"}
	}
	root, err := k.VirtToPhys(pgd)
	if err != nil {
		return 0, &AddrError{Addr: va, Space: "user virtual", Err: errorKind(err), Detail: fmt.Sprintf("pgd %#x: %s", pgd, detail(err))}
	}
	return k.translate(root&pteAddrMask, va, "user virtual")
}

func (k *KernelSpace) translate(root, va uint64, space string) (uint64, error) {
	vpn := va / x86PageSize
	slot := &k.tlb[vpn%tlbSize]
	k.mu.Lock()
	e := *slot
	k.mu.Unlock()
	if e.valid && e.vpn == vpn && e.root == root {
		return e.ppn*x86PageSize | va%x86PageSize, nil
	}
	pa, err := k.walk(root, va, space)
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	*slot = tlbEntry{root: root, vpn: vpn, ppn: pa / x86PageSize, valid: true}
	k.mu.Unlock()
	return pa, nil
}

var levelNames5 = []string{"PGD", "P4D", "PUD", "PMD", "PTE"}

// walk follows the page tables from root (a physical address).
func (k *KernelSpace) walk(root, va uint64, space string) (uint64, error) {
	names := levelNames5[1:]
	shift := uint(39)
	if k.p.L5 {
		names = levelNames5
		shift = 48
	}
	table := root
	var buf [8]byte
	for lvl, name := range names {
		if lvl == 0 {
			name = "PGD"
		}
		idx := (va >> shift) & 511
		at := table + idx*8
		if err := k.d.ReadPhys(buf[:], at); err != nil {
			return 0, &AddrError{Addr: va, Space: space, Err: errorKind(err), Detail: fmt.Sprintf("reading %s entry: %s", name, detail(err))}
		}
		entry := binary.LittleEndian.Uint64(buf[:])
		if entry&ptePresent == 0 {
			return 0, &AddrError{Addr: va, Space: space, Err: ErrBadAddress, Detail: fmt.Sprintf("%s entry %#x at physical %#x not present", name, entry, at)}
		}
		addr := entry & pteAddrMask &^ k.p.SMEMask
		if shift == 12 {
			return addr | va&(x86PageSize-1), nil
		}
		if entry&ptePSE != 0 && (shift == 30 || shift == 21) { // 1 GiB PUD or 2 MiB PMD page
			mask := uint64(1)<<shift - 1
			return addr&^mask | va&mask, nil
		}
		table = addr
		shift -= 9
	}
	return 0, &AddrError{Addr: va, Space: space, Err: ErrBadAddress, Detail: "page table walk did not end"}
}

// errorKind is the sentinel behind err, ErrBadAddress if none.
func errorKind(err error) error {
	for _, s := range []error{ErrNotInDump, ErrExcluded, ErrTruncated, ErrCorrupt, ErrBadAddress} {
		if errors.Is(err, s) {
			return s
		}
	}
	return ErrBadAddress
}

// ReadVirt reads kernel virtual memory, translating page by page.
func (k *KernelSpace) ReadVirt(p []byte, va uint64) error {
	return k.read(p, va, "kernel virtual", k.VirtToPhys)
}

// ReadUser reads user memory of the mm whose pgd is given.
func (k *KernelSpace) ReadUser(pgd uint64, p []byte, va uint64) error {
	return k.read(p, va, "user virtual", func(va uint64) (uint64, error) { return k.UserVirtToPhys(pgd, va) })
}

func (k *KernelSpace) read(p []byte, va uint64, space string, xlate func(uint64) (uint64, error)) error {
	for len(p) > 0 {
		n := int(min(uint64(len(p)), x86PageSize-va%x86PageSize))
		pa, err := xlate(va)
		if err != nil {
			return err
		}
		if err := k.d.ReadPhys(p[:n], pa); err != nil {
			return &AddrError{Addr: va, Space: space, Err: errorKind(err), Detail: detail(err)}
		}
		p = p[n:]
		va += uint64(n)
		if va == 0 && len(p) > 0 {
			return &AddrError{Addr: va, Space: space, Err: ErrBadAddress, Detail: "read wraps around the address space"}
		}
	}
	return nil
}

// PTStep is one page-table entry a walk read.
type PTStep struct {
	Level string // PGD, P4D, PUD, PMD or PTE
	Addr  uint64 // physical address of the entry
	Entry uint64 // its value, the memory-encryption bit cleared
}

// PTWalk is the page-table walk of one virtual address, as vtop shows it.
type PTWalk struct {
	Root     uint64   // physical address of the top-level table
	Steps    []PTStep // the entries read, top level first
	Mapped   bool     // the last entry maps a page
	Phys     uint64   // the physical address, when Mapped
	PageSize uint64   // 4 KiB, 2 MiB (PMD) or 1 GiB (PUD), when Mapped
}

// Facts for the walk: arch/x86/include/asm/pgtable_types.h.
const (
	ptePROTNONE = 1 << 8 // _PAGE_PROTNONE (= _PAGE_GLOBAL), meaningful without _PAGE_PRESENT
)

// FiveLevel reports whether the dump's kernel uses 5-level paging (LA57).
func (k *KernelSpace) FiveLevel() bool { return k.p.L5 }

// KernelRoot is the physical address of the kernel's top-level page table
// (__pa(init_top_pgt), or the CR3 of a dump without VMCOREINFO).
func (k *KernelSpace) KernelRoot() uint64 { return k.pgdPhys }

// WalkKernel walks the kernel page tables for va, recording each entry.
// A page the walk cannot read is an error; a missing mapping is not
// (Mapped is false, the last step the entry that is not present).
func (k *KernelSpace) WalkKernel(va uint64) (PTWalk, error) {
	return k.walkSteps(k.pgdPhys, va, false)
}

// WalkUser walks the page tables of an mm (pgd is mm->pgd, a kernel
// virtual address) for the user address va. A user walk accepts a PMD or
// PTE that is PROTNONE (mprotect(PROT_NONE)) as crash's uvtop does.
func (k *KernelSpace) WalkUser(pgd, va uint64) (PTWalk, error) {
	root, err := k.VirtToPhys(pgd)
	if err != nil {
		return PTWalk{}, &AddrError{Addr: va, Space: "user virtual", Err: errorKind(err), Detail: fmt.Sprintf("pgd %#x: %s", pgd, detail(err))}
	}
	return k.walkSteps(root&pteAddrMask, va, true)
}

func (k *KernelSpace) walkSteps(root, va uint64, user bool) (PTWalk, error) {
	w := PTWalk{Root: root}
	names := levelNames5[1:]
	shift := uint(39)
	if k.p.L5 {
		names = levelNames5
		shift = 48
	}
	if !k.p.L5 {
		names = []string{"PGD", "PUD", "PMD", "PTE"}
	}
	table := root
	var buf [8]byte
	for _, name := range names {
		at := table + ((va>>shift)&511)*8
		if err := k.d.ReadPhys(buf[:], at); err != nil {
			return w, &AddrError{Addr: va, Space: "virtual", Err: errorKind(err), Detail: fmt.Sprintf("reading %s entry at physical %#x: %s", name, at, detail(err))}
		}
		entry := binary.LittleEndian.Uint64(buf[:]) &^ k.p.SMEMask
		w.Steps = append(w.Steps, PTStep{Level: name, Addr: at, Entry: entry})
		present := uint64(ptePresent)
		if user && (shift == 21 || shift == 12) {
			present |= ptePROTNONE
		}
		if entry&present == 0 {
			return w, nil
		}
		addr := entry & pteAddrMask
		switch {
		case shift == 12:
			w.Mapped, w.Phys, w.PageSize = true, addr|va&(x86PageSize-1), x86PageSize
			return w, nil
		case entry&ptePSE != 0 && (shift == 30 || shift == 21):
			mask := uint64(1)<<shift - 1
			w.Mapped, w.Phys, w.PageSize = true, addr&^mask|va&mask, mask+1
			return w, nil
		}
		table = addr
		shift -= 9
	}
	return w, nil
}
