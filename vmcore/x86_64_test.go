package vmcore

// Page-table walks on a SYNTHETIC physical memory image (hand-built tables
// in an ELF file); real translations are tested in realdata_test.go.

import (
	"bytes"
	"errors"
	"testing"
)

type ptBuilder struct {
	mem  []byte
	next uint64 // next free page
	l5   bool
}

func (b *ptBuilder) alloc() uint64 {
	p := b.next
	b.next += 4096
	return p
}

func (b *ptBuilder) entry(table, idx uint64) uint64 { return le.Uint64(b.mem[table+idx*8:]) }

// mapVA installs va -> pa with a leaf at level shift (12, 21 or 30).
func (b *ptBuilder) mapVA(root, va, pa uint64, leafShift uint, extra uint64) {
	shift := uint(39)
	if b.l5 {
		shift = 48
	}
	table := root
	for ; shift > leafShift; shift -= 9 {
		idx := (va >> shift) & 511
		e := b.entry(table, idx)
		if e&ptePresent == 0 {
			e = b.alloc() | ptePresent | 2
			le.PutUint64(b.mem[table+idx*8:], e)
		}
		table = e & pteAddrMask
	}
	leaf := pa | ptePresent | extra
	if leafShift > 12 {
		leaf |= ptePSE
	}
	le.PutUint64(b.mem[table+((va>>leafShift)&511)*8:], leaf)
}

func TestSyntheticX86Walk(t *testing.T) {
	for _, l5 := range []bool{false, true} {
		b := &ptBuilder{mem: make([]byte, 64*4096), next: 0x10000, l5: l5}
		data := uint64(0x5000) // a page of recognisable bytes
		copy(b.mem[data:], pattern(9, 4096))
		root := b.alloc()
		const physBase = 0x2000 // image loaded 8 KiB above its link address
		params := X86Params{PhysBase: physBase, InitTopPgt: startKernelMap + root - physBase, L5: l5, SMEMask: 1 << 47}

		dm := uint64(0xffff888000000000)
		if l5 {
			dm = 0xff11000000000000
		}
		b.mapVA(root, dm+0x1000, data, 12, 0)
		b.mapVA(root, dm+0x2000, data|1<<47, 12, 0) // SME bit set in the entry
		b.mapVA(root, dm+0x4000, 0x7fff0000, 12, 0) // points outside the dump
		b.mapVA(root, dm+0x200000, 0, 21, 1<<12)    // 2 MiB page (with the PAT bit)
		b.mapVA(root, dm+0x40000000, 0, 30, 0)      // 1 GiB page
		userPGD := b.alloc()
		b.mapVA(userPGD, 0x400000, data, 12, 4)
		d := openBytes(t, buildELF(nil, []testSeg{{paddr: 0, data: b.mem}}))
		k := NewKernelSpace(d, params)

		for _, tc := range []struct{ va, pa uint64 }{
			{dm + 0x1010, data + 0x10},
			{dm + 0x2010, data + 0x10},
			{dm + 0x200000 + 0x5123, 0x5123},
			{dm + 0x40000000 + 0x5123, 0x5123},
			{startKernelMap + 0x3010, 0x5010}, // text mapping: va - __START_KERNEL_map + phys_base
		} {
			for range 2 { // the second time from the translation cache
				pa, err := k.VirtToPhys(tc.va)
				if err != nil || pa != tc.pa {
					t.Fatalf("l5=%v: VirtToPhys(%#x) = %#x, %v; want %#x", l5, tc.va, pa, err, tc.pa)
				}
			}
		}
		got := make([]byte, 0x30)
		if err := k.ReadVirt(got, dm+0x1ff0); err != nil || !bytes.Equal(got[:0x10], b.mem[data+0xff0:data+0x1000]) || !bytes.Equal(got[0x10:], b.mem[data:data+0x20]) {
			t.Errorf("ReadVirt across pages: %v", err)
		}
		if _, err := k.VirtToPhys(dm + 0x3000); !errors.Is(err, ErrBadAddress) {
			t.Errorf("unmapped: %v", err)
		}
		err := k.ReadVirt(got, dm+0x4000)
		var ae *AddrError
		if !errors.Is(err, ErrNotInDump) || !errors.As(err, &ae) || ae.Space != "kernel virtual" || ae.Addr != dm+0x4000 {
			t.Errorf("page outside the dump: %v", err)
		}
		if _, err := k.VirtToPhys(0x1000); !errors.Is(err, ErrBadAddress) {
			t.Errorf("user address through the kernel: %v", err)
		}
		// User space through a pgd given as a kernel (text-mapped) address.
		pgdVA := startKernelMap + userPGD - physBase
		if err := k.ReadUser(pgdVA, got, 0x400100); err != nil || !bytes.Equal(got, b.mem[data+0x100:data+0x130]) {
			t.Errorf("ReadUser: %v", err)
		}
		if _, err := k.UserVirtToPhys(pgdVA, 0x800000); !errors.Is(err, ErrBadAddress) {
			t.Errorf("unmapped user address: %v", err)
		}
	}
}

func TestParamsFromInfo(t *testing.T) {
	v := ParseVMCoreInfo("SYMBOL(init_top_pgt)=ffffffffa740a000\nNUMBER(phys_base)=-1073741824\nKERNELOFFSET=26000000\n" +
		"NUMBER(pgtable_l5_enabled)=1\nNUMBER(KERNEL_IMAGE_SIZE)=1073741824\nNUMBER(sme_mask)=0\n")
	p, err := ParamsFromInfo(v)
	if err != nil || p.InitTopPgt != 0xffffffffa740a000 || p.PhysBase != 0xffffffffc0000000 || p.KernelOffset != 0x26000000 || !p.L5 || p.KernelImageSize != 1<<30 {
		t.Errorf("%+v %v", p, err)
	}
	if _, err := ParamsFromInfo(ParseVMCoreInfo("OSRELEASE=x\n")); err == nil {
		t.Error("missing init_top_pgt accepted")
	}
	if _, err := ParamsFromInfo(nil); err == nil {
		t.Error("nil info accepted")
	}
}
