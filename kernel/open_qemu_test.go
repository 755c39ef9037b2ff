package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/symbols"
	"gocrash/vmcore"
)

// TestOpenQEMUWithoutVMCOREINFO opens every committed QEMU dump that has no
// VMCOREINFO note: the KASLR offset found from the IDT must be the one the
// kernel itself printed on the serial console at panic ("Kernel Offset:
// 0x... from 0xffffffff81000000", arch/x86/kernel/setup.c
// dump_kernel_offset()).
func TestOpenQEMUWithoutVMCOREINFO(t *testing.T) {
	n := 0
	for _, d := range testbed.All(t) {
		if d.Format != "qemu" {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			s, err := Open(d.Vmlinux, d.Vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Dump.Info() != nil {
				t.Skip("this QEMU dump carries VMCOREINFO")
			}
			n++
			want, ok := serialKernelOffset(t, filepath.Join(d.Dir, "serial.log"))
			if !ok {
				t.Fatal("serial.log has no \"Kernel Offset:\" line")
			}
			if got := s.Vmlinux.KASLR(); got != want {
				t.Errorf("KASLR offset %#x, the kernel printed %#x", got, want)
			}
			// phys_base: the kernel image mapping and a walk of the
			// page tables must agree on where the banner is.
			p := s.Mem.Params()
			banner, _ := s.Vmlinux.Lookup("linux_banner")
			fast, err := s.Mem.VirtToPhys(banner)
			if err != nil || fast != banner-vmcore.StartKernelMap+p.PhysBase {
				t.Fatalf("linux_banner %#x -> %#x, %v", banner, fast, err)
			}
			q := p
			q.KernelImageSize = 1 // no kernel-image shortcut: walk init_top_pgt
			if walked, err := vmcore.NewKernelSpace(s.Dump, q).VirtToPhys(banner); err != nil || walked != fast {
				t.Errorf("linux_banner: page tables give %#x, %v; phys_base %#x gives %#x", walked, err, p.PhysBase, fast)
			}
		})
	}
	t.Logf("%d QEMU dumps without VMCOREINFO", n)
}

var kernelOffsetLine = regexp.MustCompile(`Kernel Offset: (0x[0-9a-f]+) from`)

func serialKernelOffset(t *testing.T, path string) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := kernelOffsetLine.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseUint(m[1], 0, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// fakeQEMU builds a dump-guest-memory ELF file without VMCOREINFO for the
// real test-bed vmlinux, relocated by kaslr and loaded at physBase: vCPU
// notes, the page tables mapping the IDT's cpu_entry_area alias, the IDT
// page and the linux_banner. Synthetic: it covers the failure paths no
// real dump has (layouts: QEMU target/i386/arch_dump.c QEMUCPUState,
// arch/x86/include/asm/desc_defs.h gate_struct).
type fakeQEMU struct {
	v               *symbols.Vmlinux
	kaslr, physBase uint64
	cpus            []fakeCPU
	pages           map[uint64][]byte
}

type fakeCPU struct{ cr3, cr4, idt, rip uint64 }

const (
	fakeKernelPGD = 0x2000 // user PGD (PTI) at 0x3000
	fakeCEA       = 0xfffffe0000000000
)

func newFakeQEMU(t *testing.T, v *symbols.Vmlinux, kaslr, physBase uint64) *fakeQEMU {
	f := &fakeQEMU{v: v, kaslr: kaslr, physBase: physBase, pages: map[uint64][]byte{}}
	sym := func(name string) uint64 {
		a, ok := v.Lookup(name)
		if !ok {
			t.Fatalf("vmlinux has no %s", name)
		}
		return a - v.KASLR()
	}
	idtPhys := sym("idt_table") + kaslr - vmcore.StartKernelMap + physBase
	// 4-level walk of the cpu_entry_area alias: PGD[0x1fc] -> PUD[0] ->
	// PMD[0] -> PTE[0] -> the IDT page.
	f.put64(fakeKernelPGD+0x1fc*8, 0x4000|1)
	f.page(0x3000)
	f.put64(0x4000, 0x5000|1)
	f.put64(0x5000, 0x6000|1)
	f.put64(0x6000, idtPhys|1)
	handler := sym("asm_exc_divide_error") + kaslr
	var gate [16]byte
	binary.LittleEndian.PutUint16(gate[0:], uint16(handler))
	binary.LittleEndian.PutUint16(gate[2:], 0x10)
	binary.LittleEndian.PutUint16(gate[4:], 0x8e00)
	binary.LittleEndian.PutUint16(gate[6:], uint16(handler>>16))
	binary.LittleEndian.PutUint32(gate[8:], uint32(handler>>32))
	f.write(idtPhys, gate[:])
	banner := sym("linux_banner")
	text := make([]byte, 256)
	if err := v.ReadFile(banner+v.KASLR(), text); err != nil {
		t.Fatal(err)
	}
	f.write(banner+kaslr-vmcore.StartKernelMap+physBase, text)
	f.cpus = []fakeCPU{{cr3: fakeKernelPGD, idt: fakeCEA, rip: sym("default_idle") + kaslr}}
	return f
}

func (f *fakeQEMU) page(pa uint64) []byte {
	base := pa &^ 0xfff
	p, ok := f.pages[base]
	if !ok {
		p = make([]byte, 4096)
		f.pages[base] = p
	}
	return p
}

func (f *fakeQEMU) write(pa uint64, b []byte) {
	for len(b) > 0 {
		n := copy(f.page(pa)[pa&0xfff:], b)
		b, pa = b[n:], pa+uint64(n)
	}
}

func (f *fakeQEMU) put64(pa, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	f.write(pa, b[:])
}

// file writes the ELF core: one PT_NOTE with a "QEMU" note per vCPU, one
// PT_LOAD per page.
func (f *fakeQEMU) file(t *testing.T) string {
	le := binary.LittleEndian
	var notes bytes.Buffer
	for _, c := range f.cpus {
		d := make([]byte, 432)
		le.PutUint32(d[0:], 1)
		le.PutUint32(d[4:], 432)
		le.PutUint64(d[8+16*8:], c.rip)
		le.PutUint64(d[152+24*9+16:], c.idt)
		le.PutUint64(d[392+3*8:], c.cr3)
		le.PutUint64(d[392+4*8:], c.cr4)
		var h [12]byte
		le.PutUint32(h[0:], 5)
		le.PutUint32(h[4:], uint32(len(d)))
		notes.Write(h[:])
		notes.WriteString("QEMU\x00\x00\x00\x00")
		notes.Write(d)
	}
	addrs := make([]uint64, 0, len(f.pages))
	for a := range f.pages {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	phnum := 1 + len(addrs)
	out := make([]byte, 64+56*phnum)
	copy(out, "\x7fELF\x02\x01\x01")
	le.PutUint16(out[16:], 4)  // ET_CORE
	le.PutUint16(out[18:], 62) // EM_X86_64
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[32:], 64)
	le.PutUint16(out[52:], 64)
	le.PutUint16(out[54:], 56)
	le.PutUint16(out[56:], uint16(phnum))
	ph := func(i int, typ uint32, off, paddr, size uint64) {
		p := out[64+56*i:]
		le.PutUint32(p[0:], typ)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[24:], paddr)
		le.PutUint64(p[32:], size)
		le.PutUint64(p[40:], size)
	}
	ph(0, 4, uint64(len(out)), 0, uint64(notes.Len()))
	out = append(out, notes.Bytes()...)
	for i, a := range addrs {
		ph(i+1, 1, uint64(len(out)), a, 4096)
		out = append(out, f.pages[a]...)
	}
	path := filepath.Join(t.TempDir(), "vmcore.qemu")
	if err := os.WriteFile(path, out, 0o400); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenFakeQEMU(t *testing.T) {
	tb := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	v, err := symbols.Open(tb.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, pti := v.Lookup("pti_init")
	const kaslr, physBase = 0x1e400000, 0x5200000
	ptiErr := `QEMU vCPU 0: IDT at 0xfffffe0000000000 \(CR3 0x3005\): .*PGD`
	if pti {
		ptiErr = ""
	}

	for _, tc := range []struct {
		name   string
		change func(f *fakeQEMU)
		errRe  string // "" = must open
	}{
		{"plain", nil, ""},
		{"second vCPU", func(f *fakeQEMU) {
			// A vCPU with paging off (early boot) is skipped.
			f.cpus = append([]fakeCPU{{idt: fakeCEA}}, f.cpus...)
		}, ""},
		{"PCID", func(f *fakeQEMU) { f.cpus[0].cr3 |= 0x5 }, ""},
		// In user mode with PTI, CR3 holds the user PGD (bit 12); a kernel
		// without PTI has no such pair and bit 12 is an address bit.
		{"PTI user CR3", func(f *fakeQEMU) { f.cpus[0].cr3 |= 1<<12 | 0x5 }, ptiErr},
		{"no vCPU notes", func(f *fakeQEMU) { f.cpus = nil },
			`neither a VMCOREINFO note nor QEMU vCPU notes`},
		{"IDT not mapped", func(f *fakeQEMU) { f.cpus[0].idt = fakeCEA + 0x200000 },
			`QEMU vCPU 0: IDT at 0xfffffe0000200000 .*PMD`},
		{"IDTR zero", func(f *fakeQEMU) { f.cpus[0].idt = 0 },
			`QEMU vCPU 0: IDTR base is 0`},
		{"vector 0 elsewhere", func(f *fakeQEMU) {
			idt, _ := v.Lookup("idt_table")
			f.write(idt+kaslr-vmcore.StartKernelMap+physBase, make([]byte, 16))
		}, `IDT vector 0 handler 0x0 is not a relocated divide error handler`},
		{"banner missing", func(f *fakeQEMU) {
			b, _ := v.Lookup("linux_banner")
			f.write(b+kaslr-vmcore.StartKernelMap+physBase, []byte("Linux versioN"))
		}, `linux_banner at 0x[0-9a-f]+ reads "Linux versioN"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeQEMU(t, v, kaslr, physBase)
			if tc.change != nil {
				tc.change(f)
			}
			s, err := Open(tb.Vmlinux, f.file(t), Options{})
			if tc.errRe != "" {
				if err == nil {
					s.Close()
					t.Fatalf("opened; want an error matching %s", tc.errRe)
				}
				t.Log(err)
				if !regexp.MustCompile(tc.errRe).MatchString(err.Error()) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q; want one line matching %s", err, tc.errRe)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Vmlinux.KASLR(); got != kaslr {
				t.Errorf("KASLR %#x, want %#x", got, kaslr)
			}
			p := s.Mem.Params()
			if p.PhysBase != physBase || p.RootPhys != 0 || p.L5 {
				t.Errorf("params %+v: want phys_base %#x, init_top_pgt translation, 4 levels", p, physBase)
			}
			top, _ := s.Vmlinux.Lookup("init_top_pgt")
			if p.InitTopPgt != top {
				t.Errorf("init_top_pgt %#x, want the relocated symbol %#x", p.InitTopPgt, top)
			}
		})
	}
}
