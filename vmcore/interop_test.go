package vmcore

// Interoperability with the real makedumpfile: a SYNTHETIC memory image
// (hand-built page tables, VMCOREINFO and a PRSTATUS note in an ELF core) is
// converted by the makedumpfile binary into each of its output formats, and
// every format must read back the same bytes. Skipped without makedumpfile.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// synthMemory is 4 MiB of physical memory with page tables mapping the
// kernel image and the direct map, an init_uts_ns and a mem_map pointer (the
// minimum makedumpfile needs to accept a FLATMEM dump), and VMCOREINFO.
func synthMemory(t testing.TB) (mem []byte, vmci string) {
	b := &ptBuilder{mem: make([]byte, 4<<20), next: 0x100000}
	for i := 0; i < 1024; i++ {
		if i%5 != 0 && (i < 256 || i >= 300) {
			copy(b.mem[i*4096:], pattern(byte(i), 4096)[:1024+i])
		}
	}
	root := b.alloc()
	for pa := uint64(0); pa < 4<<20; pa += 2 << 20 {
		b.mapVA(root, startKernelMap+pa, pa, 21, 0)
		b.mapVA(root, 0xffff888000000000+pa, pa, 21, 0)
	}
	uts := uint64(0x200000)
	clear(b.mem[uts : uts+400])
	copy(b.mem[uts+4:], "Linux")
	copy(b.mem[uts+4+130:], "6.1.0-test")
	copy(b.mem[uts+4+260:], "x86_64")
	le.PutUint64(b.mem[0x201000:], 0xffff888000300000)
	vmci = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n" +
		"SIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\nOFFSET(page.mapping)=24\n" +
		fmt.Sprintf("SYMBOL(mem_map)=%x\nSYMBOL(init_uts_ns)=%x\nOFFSET(uts_namespace.name)=4\n", uint64(startKernelMap+0x201000), startKernelMap+uts) +
		fmt.Sprintf("NUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=%x\nNUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=0\nCRASHTIME=1700000000\n", startKernelMap+root)
	return b.mem, vmci
}

func synthELF(t testing.TB) []byte {
	mem, vmci := synthMemory(t)
	notes := append(buildNote("CORE", ntPRSTATUS, prstatus(1, 0x100)), buildNote("VMCOREINFO", 0, []byte(vmci))...)
	return buildELF(notes, []testSeg{{paddr: 0, data: mem}})
}

func TestMakedumpfileInterop(t *testing.T) {
	mdf, err := exec.LookPath("makedumpfile")
	if err != nil {
		t.Skip("makedumpfile not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "source.elf")
	if err := os.WriteFile(src, synthELF(t), 0o644); err != nil {
		t.Fatal(err)
	}
	ref, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for _, tc := range []struct {
		name  string
		args  []string
		flat  bool
		inner Format
	}{
		{"zlib", []string{"-c", "-d", "1"}, false, FormatKdump},
		{"lzo", []string{"-l", "-d", "1"}, false, FormatKdump},
		{"snappy", []string{"-p", "-d", "1"}, false, FormatKdump},
		{"zstd", []string{"-z", "-d", "1"}, false, FormatKdump},
		{"elf", []string{"-E", "-d", "1"}, false, FormatELF},
		{"flat-kdump", []string{"-F", "-l", "-d", "1"}, true, FormatKdump},
		{"flat-elf", []string{"-F", "-E", "-d", "1"}, true, FormatELF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "vmcore."+tc.name)
			var cmd *exec.Cmd
			if tc.flat {
				cmd = exec.Command(mdf, append(tc.args, src)...)
				f, err := os.Create(out)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdout = f
			} else {
				cmd = exec.Command(mdf, append(tc.args, src, out)...)
			}
			var msg bytes.Buffer
			cmd.Stderr = &msg
			if !tc.flat {
				cmd.Stdout = &msg
			}
			if err := cmd.Run(); err != nil {
				t.Skipf("makedumpfile %v: %v\n%s", tc.args, err, msg.Bytes())
			}
			d, err := Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.InnerFormat() != tc.inner || (d.Format() == FormatFlattened) != tc.flat {
				t.Errorf("format %v/%v", d.Format(), d.InnerFormat())
			}
			if len(d.CPUs()) != 1 || d.CPUs()[0].PID != 1 || d.CPUs()[0].Regs.RIP != 0x110 {
				t.Errorf("CPUs %+v", d.CPUs())
			}
			if d.Info() == nil || d.Info().OSRelease != "6.1.0-test" {
				t.Fatalf("VMCOREINFO %v", d.Info())
			}
			if h := d.KdumpHeader(); h != nil && (h.Utsname.Release != "6.1.0-test" || h.DumpLevel != 1 || h.MaxMapnr != 1024) {
				t.Errorf("kdump header %+v", h)
			}
			a, b := make([]byte, 4096), make([]byte, 4096)
			for pfn := uint64(0); pfn < 1024; pfn++ {
				if err := ref.ReadPhys(a, pfn*4096); err != nil {
					t.Fatal(err)
				}
				if err := d.ReadPhys(b, pfn*4096); err != nil {
					t.Fatalf("pfn %d: %v", pfn, err)
				}
				if !bytes.Equal(a, b) {
					t.Fatalf("pfn %d differs from the source ELF", pfn)
				}
			}
			// The kernel's own view: init_uts_ns through the page tables.
			p, err := ParamsFromInfo(d.Info())
			if err != nil {
				t.Fatal(err)
			}
			k := NewKernelSpace(d, p)
			uts, _ := d.Info().Symbol("init_uts_ns")
			off, _ := d.Info().Offset("uts_namespace.name")
			name := make([]byte, 5)
			if err := k.ReadVirt(name, uts+uint64(off)); err != nil || string(name) != "Linux" {
				t.Errorf("init_uts_ns sysname %q, %v", name, err)
			}
			// And through the direct map (a 2 MiB page walk).
			if err := k.ReadVirt(name, 0xffff888000000000+uts-startKernelMap+uint64(off)); err != nil || string(name) != "Linux" {
				t.Errorf("direct map sysname %q, %v", name, err)
			}
		})
	}
}
