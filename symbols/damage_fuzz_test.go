package symbols

// Fuzz targets seeded from the test bed's real kernel: the DWARF CFI parser
// over (pieces of) its .debug_frame, and the unwinder with the real ORC and
// CFI tables over stacks that start as the real crash-time stacks of the
// dump's CPUs and are then mutated.

import (
	"encoding/binary"
	"sync"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/vmcore"
)

func FuzzParseCFI(f *testing.F) {
	v, err := Open(testbed.Open(f, "6.1-sysrq", "elf").Vmlinux)
	if err != nil {
		f.Fatal(err)
	}
	defer v.Close()
	data, _, ok := v.Section(".debug_frame")
	if !ok || len(data) == 0 {
		f.Fatal("the test-bed vmlinux has no .debug_frame")
	}
	// The first CIE and its FDEs, and a cut through the middle (which
	// starts inside an entry).
	f.Add(append([]byte(nil), data[:min(len(data), 16<<10)]...))
	mid := len(data) / 2
	f.Add(append([]byte(nil), data[mid:min(len(data), mid+4096)]...))
	f.Add(append([]byte(nil), data[:min(len(data), 256)]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := parseCFI(b, 0)
		if err != nil {
			return
		}
		for i := range min(len(tab.order), 16) {
			fde := tab.sorted(i)
			tab.row(fde.begin)
			tab.row(fde.begin + fde.size/2)
		}
	})
}

// stackMemory is the dump's kernel memory with the stack words the fuzzer
// wrote over [base, base+len(words)*8).
type stackMemory struct {
	base  uint64
	words []uint64
	real  Memory
}

func (m *stackMemory) ReadVirt(p []byte, addr uint64) error {
	if err := m.real.ReadVirt(p, addr); err != nil && (addr+uint64(len(p)) <= m.base || addr >= m.base+8*uint64(len(m.words))) {
		return err
	}
	for i := range p {
		a := addr + uint64(i)
		if a >= m.base && a < m.base+8*uint64(len(m.words)) {
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], m.words[(a-m.base)/8])
			p[i] = w[(a-m.base)%8]
		}
	}
	return nil
}

type unwindBed struct {
	u    *Unwinder
	mem  Memory
	cpus []vmcore.CPUState
}

var (
	unwindBedOnce sync.Once
	unwindBedV    *unwindBed
	unwindBedErr  error
)

func openUnwindBed(f *testing.F) *unwindBed {
	tb := testbed.Open(f, "6.1-sysrq", "elf")
	unwindBedOnce.Do(func() {
		d, err := vmcore.Open(tb.Vmcore)
		if err != nil {
			unwindBedErr = err
			return
		}
		info := d.Info()
		params, err := vmcore.ParamsFromInfo(info)
		if err != nil {
			unwindBedErr = err
			return
		}
		v, err := Open(tb.Vmlinux)
		if err != nil {
			unwindBedErr = err
			return
		}
		v.SetKASLR(info.KernelOffset)
		u := NewUnwinder(v, info.OSRelease)
		if _, err := u.ORC(); err != nil {
			unwindBedErr = err
			return
		}
		unwindBedV = &unwindBed{u: u, mem: vmcore.NewKernelSpace(d, params), cpus: d.CPUs()}
	})
	if unwindBedErr != nil {
		f.Fatal(unwindBedErr)
	}
	return unwindBedV
}

// FuzzUnwindReal: the real kernel's unwind tables over a mutated copy of a
// crash-time stack. data is the stack from SP up; pc, sp, bp start the
// unwind (seeded with the CPU's NT_PRSTATUS registers).
func FuzzUnwindReal(f *testing.F) {
	b := openUnwindBed(f)
	for _, c := range b.cpus {
		// The stack up to its end (the next page may be a guard page).
		var stack []byte
		for a := c.Regs.RSP &^ 7; len(stack) < 8192; a += 8 {
			var w [8]byte
			if b.mem.ReadVirt(w[:], a) != nil {
				break
			}
			stack = append(stack, w[:]...)
		}
		if len(stack) == 0 {
			f.Logf("cpu %d: no stack at rsp %#x", c.CPU, c.Regs.RSP)
			continue
		}
		f.Add(stack, c.Regs.RIP, c.Regs.RSP, c.Regs.RBP, uint8(0))
		f.Add(stack, c.Regs.RIP, c.Regs.RSP, c.Regs.RBP, uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, pc, sp, bp uint64, mode uint8) {
		words := make([]uint64, min(len(data)/8, 1<<12))
		for i := range words {
			words[i] = binary.LittleEndian.Uint64(data[8*i:])
		}
		mem := &stackMemory{base: sp &^ 7, words: words, real: b.mem}
		opt := Options{MaxFrames: 64, NoORC: mode&2 != 0, NoCFI: mode&4 != 0, NoFP: mode&8 != 0}
		start := Start{PC: pc, SP: sp, BP: bp, Signal: mode&16 != 0}
		if mode&1 != 0 {
			start = StartFromRegs(PtRegs{IP: pc, SP: sp, BP: bp, CS: 0x10})
		}
		frames, _ := b.u.Unwind(mem, start, opt)
		if len(frames) > 64 {
			t.Fatalf("%d frames past the cap of 64", len(frames))
		}
	})
}
