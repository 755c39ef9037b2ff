package vmcore

// Tests on the REAL test bed: kernel 6.1 (5-level paging, KASLR) booted in
// QEMU, panicked, captured by makedumpfile (-E -d 31, -c, -l, -z, -F) and by
// QEMU's dump-guest-memory. Expected values come from crash 8.0.6's output
// recorded beside each dump, or from comparing the formats with each other.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

type realDump struct {
	name, format, path string
	golden             func(cmd string) (string, bool)
}

// realDumps lists the test bed's dumps; until the packed test bed is
// committed, the mkdump.sh work directory is used.
func realDumps(t testing.TB) []realDump {
	t.Helper()
	var out []realDump
	if entries, err := testbed.List(); err == nil {
		for _, e := range entries {
			d := testbed.Open(t, e.Name, e.Format)
			out = append(out, realDump{name: d.Name, format: d.Format, path: d.Vmcore, golden: d.Golden})
		}
		return out
	} else if files, _ := filepath.Glob(filepath.Join(mkdumpOut(), "*-*", "vmcore.*")); len(files) > 0 {
		sort.Strings(files)
		for _, f := range files {
			dir := filepath.Dir(f)
			format := strings.TrimPrefix(filepath.Base(f), "vmcore.")
			out = append(out, realDump{name: filepath.Base(dir), format: format, path: f,
				golden: func(cmd string) (string, bool) {
					name := strings.ReplaceAll(cmd, " ", "_") + ".txt"
					for _, p := range []string{filepath.Join(dir, "crash-"+format, name), filepath.Join(dir, "crash", name)} {
						if b, err := os.ReadFile(p); err == nil {
							return string(b), true
						}
					}
					return "", false
				}})
		}
		return out
	} else {
		t.Fatalf("test bed: %v", err)
	}
	return nil
}

// mkdumpOut is mkdump.sh's output directory ($GOCRASH_MKDUMP_OUT overrides).
func mkdumpOut() string {
	if d := os.Getenv("GOCRASH_MKDUMP_OUT"); d != "" {
		return d
	}
	return "/var/cache/gocrash-mkdump/out"
}

func openReal(t testing.TB, rd realDump) *Dump {
	t.Helper()
	start := time.Now()
	d, err := Open(rd.path)
	if err != nil {
		t.Fatalf("%s/%s: %v", rd.name, rd.format, err)
	}
	t.Logf("%s/%s: opened in %v (%v/%v)", rd.name, rd.format, time.Since(start), d.Format(), d.InnerFormat())
	t.Cleanup(func() { d.Close() })
	return d
}

// sysField is a "  NAME: value" line of crash's sys output.
func sysField(sys, name string) (string, bool) {
	m := regexp.MustCompile(`(?m)^\s*` + name + `:\s*(.*?)\s*$`).FindStringSubmatch(sys)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func TestRealDumps(t *testing.T) {
	for _, rd := range realDumps(t) {
		t.Run(rd.name+"/"+rd.format, func(t *testing.T) {
			d := openReal(t, rd)
			wantFormat := map[string]Format{"elf": FormatELF, "qemu": FormatELF, "flat": FormatFlattened}[rd.format]
			if wantFormat == 0 {
				wantFormat = FormatKdump
			}
			if got := d.InnerFormat(); wantFormat == FormatFlattened && d.Format() != wantFormat || wantFormat != FormatFlattened && got != wantFormat {
				t.Errorf("format %v/%v, want %v", d.Format(), got, wantFormat)
			}
			if w := d.Warnings(); len(w) > 0 {
				t.Errorf("warnings: %v", w)
			}
			sys, ok := rd.golden("sys")
			if !ok {
				t.Fatal("no crash sys output recorded")
			}
			// "CPUS: 2 [OFFLINE: 1]": offline CPUs still have a note.
			if cpus, ok := sysField(sys, "CPUS"); !ok || strings.Fields(cpus)[0] != strconv.Itoa(len(d.CPUs())) {
				t.Errorf("%d CPU notes, crash says CPUS: %s", len(d.CPUs()), cpus)
			}
			if file, ok := sysField(sys, "DUMPFILE"); ok && strings.Contains(file, "[PARTIAL DUMP]") != d.Partial() {
				t.Errorf("Partial() = %v, crash says DUMPFILE: %s", d.Partial(), file)
			}
			v := d.Info()
			if v == nil && len(d.QEMUCPUs()) > 0 {
				// The test-bed kernel has no CONFIG_FW_CFG_SYSFS, so QEMU
				// gets no VMCOREINFO: translate from the vCPU state.
				checkQEMUTranslation(t, d)
				return
			}
			if v == nil {
				t.Fatal("no VMCOREINFO")
			}
			if rel, ok := sysField(sys, "RELEASE"); !ok || v.OSRelease != rel {
				t.Errorf("OSRELEASE %q, crash says RELEASE %q", v.OSRelease, rel)
			}
			if v.PageSize != 4096 || d.PageSize() != 4096 {
				t.Errorf("page size %d/%d", v.PageSize, d.PageSize())
			}
			for _, c := range d.CPUs() {
				if c.Regs.RSP == 0 || c.Regs.RIP == 0 {
					t.Errorf("cpu %d: empty registers %+v", c.CPU, c.Regs)
				}
			}
			if h := d.KdumpHeader(); h != nil {
				if h.Utsname.Release != v.OSRelease || h.Utsname.Machine != "x86_64" || h.BlockSize != 4096 {
					t.Errorf("kdump header utsname %+v", h.Utsname)
				}
				if h.DumpLevel != 31 {
					t.Errorf("dump level %d, mkdump.sh uses -d 31", h.DumpLevel)
				}
				if node, ok := sysField(sys, "NODENAME"); ok && h.Utsname.Nodename != node {
					t.Errorf("nodename %q, crash says %q", h.Utsname.Nodename, node)
				}
			}
			checkRealTranslation(t, d, sys)
		})
	}
}

// checkRealTranslation reads init_uts_ns (VMCOREINFO gives its address and
// the offset of its name) by the kernel-image fast path and by walking the
// page tables, and follows a pointer into the direct map.
func checkRealTranslation(t *testing.T, d *Dump, sys string) {
	v := d.Info()
	p, err := ParamsFromInfo(v)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKernelSpace(d, p)
	uts, ok := v.Symbol("init_uts_ns")
	off, ok2 := v.Offset("uts_namespace.name")
	if !ok || !ok2 {
		t.Fatal("VMCOREINFO lacks SYMBOL(init_uts_ns) or OFFSET(uts_namespace.name)")
	}
	name := make([]byte, 6*65)
	if err := k.ReadVirt(name, uts+uint64(off)); err != nil {
		t.Fatal(err)
	}
	if got := cstr(name[:65]); got != "Linux" {
		t.Errorf("init_uts_ns.name.sysname = %q", got)
	}
	if got := cstr(name[130:195]); got != v.OSRelease {
		t.Errorf("init_uts_ns.name.release = %q, VMCOREINFO says %q", got, v.OSRelease)
	}
	if node, ok := sysField(sys, "NODENAME"); ok && cstr(name[65:130]) != node {
		t.Errorf("init_uts_ns.name.nodename = %q, crash says %q", cstr(name[65:130]), node)
	}
	// The page-table walk must agree with __pa_symbol for kernel text.
	fast, _ := k.VirtToPhys(uts)
	walked, err := k.walk(k.pgdPhys, uts, "kernel virtual")
	if err != nil || walked != fast {
		t.Errorf("walk(init_uts_ns %#x) = %#x, %v; __pa_symbol gives %#x (L5=%v)", uts, walked, err, fast, p.L5)
	}
	// SYMBOL(mem_section) is a pointer variable (SPARSEMEM_EXTREME) whose value
	// lives in the direct map: reading through it needs a real walk.
	ms, ok := v.Symbol("mem_section")
	if !ok {
		t.Fatal("no SYMBOL(mem_section)")
	}
	var ptr [8]byte
	if err := k.ReadVirt(ptr[:], ms); err != nil {
		t.Fatal(err)
	}
	root := le.Uint64(ptr[:])
	if root < 0xff00000000000000 || root >= startKernelMap {
		t.Fatalf("mem_section = %#x: not a direct-map address", root)
	}
	pa, err := k.VirtToPhys(root)
	if err != nil {
		t.Fatalf("mem_section root %#x: %v", root, err)
	}
	t.Logf("init_uts_ns %#x -> %#x, mem_section root %#x -> %#x, L5=%v", uts, fast, root, pa, p.L5)
	if err := k.ReadVirt(make([]byte, 64), root); err != nil {
		t.Errorf("reading mem_section root: %v", err)
	}
}

// checkQEMUTranslation walks every vCPU's kernel RIP from its CR3: all must
// agree with the kernel-image mapping ParamsFromQEMU derived.
func checkQEMUTranslation(t *testing.T, d *Dump) {
	p, err := ParamsFromQEMU(d)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKernelSpace(d, p)
	n := 0
	for _, c := range d.QEMUCPUs() {
		if c.RIP < startKernelMap {
			continue
		}
		fast, _ := k.VirtToPhys(c.RIP)
		walked, err := k.walk(c.CR[3]&pteAddrMask, c.RIP, "kernel virtual")
		if err != nil || walked != fast {
			t.Errorf("RIP %#x: walk from CR3 %#x gives %#x, %v; phys_base mapping gives %#x", c.RIP, c.CR[3], walked, err, fast)
		}
		n++
	}
	if n == 0 {
		t.Error("no vCPU was in the kernel")
	}
}

// TestRealCrossFormat reads the same physical pages from every format of a
// scenario: where two formats both hold a page, the bytes must be identical.
func TestRealCrossFormat(t *testing.T) {
	byName := map[string][]realDump{}
	for _, rd := range realDumps(t) {
		byName[rd.name] = append(byName[rd.name], rd)
	}
	for name, rds := range byName {
		if len(rds) < 2 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var dumps []*Dump
			for _, rd := range rds {
				dumps = append(dumps, openReal(t, rd))
			}
			ref := dumps[0]
			bufs := make([][]byte, len(dumps))
			for i := range bufs {
				bufs[i] = make([]byte, 4096)
			}
			compared, pages := 0, 0
			for _, r := range ref.PhysRanges() {
				for pa := r.Start &^ 4095; pa < r.End; pa += 4096 * 7 {
					pages++
					have := -1
					for i, d := range dumps {
						if d.ReadPhys(bufs[i], pa) != nil {
							continue
						}
						if have >= 0 && !bytes.Equal(bufs[have], bufs[i]) {
							t.Fatalf("physical %#x: %s and %s differ", pa, rds[have].format, rds[i].format)
						}
						if have >= 0 {
							compared++
						}
						have = i
					}
				}
			}
			t.Logf("%s: %d pages sampled, %d pairwise comparisons across %d formats", name, pages, compared, len(dumps))
			if compared < 1000 {
				t.Errorf("only %d comparisons", compared)
			}
		})
	}
}

// TestRealTruncated cuts a real kdump file in half: it must still open, and
// the pages whose data is gone must fail with ErrTruncated.
func TestRealTruncated(t *testing.T) {
	var src realDump
	for _, rd := range realDumps(t) {
		if rd.format == "zlib" {
			src = rd
			break
		}
	}
	if src.path == "" {
		t.Fatal("no zlib dump in the test bed")
	}
	in, err := os.Open(src.path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	fi, _ := in.Stat()
	cutPath := filepath.Join(t.TempDir(), "vmcore-cut")
	out, err := os.Create(cutPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(out, in, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	out.Close()
	full := openReal(t, src)
	cut, err := Open(cutPath)
	if err != nil {
		t.Fatalf("open of a dump cut in half: %v", err)
	}
	defer cut.Close()
	a, b := make([]byte, 4096), make([]byte, 4096)
	ok, truncated := 0, 0
	for _, r := range full.PhysRanges() {
		for pa := r.Start; pa < r.End; pa += 4096 * 3 {
			if full.ReadPhys(a, pa) != nil {
				continue
			}
			err := cut.ReadPhys(b, pa)
			switch {
			case err == nil:
				if !bytes.Equal(a, b) {
					t.Fatalf("physical %#x differs in the cut copy", pa)
				}
				ok++
			case errors.Is(err, ErrTruncated):
				truncated++
			default:
				t.Fatalf("physical %#x: %v", pa, err)
			}
		}
	}
	t.Logf("cut dump: %d pages read, %d truncated", ok, truncated)
	if ok == 0 || truncated == 0 {
		t.Errorf("cut dump: %d pages read, %d truncated", ok, truncated)
	}
}

func BenchmarkReadPhys(b *testing.B) {
	all := realDumps(b)
	scenario := all[0].name
	for _, rd := range all {
		if rd.name == testbed.DefaultName {
			scenario = rd.name
		}
	}
	for _, rd := range all {
		if rd.name != scenario {
			continue
		}
		d0 := openReal(b, rd)
		d0.SetCachePages(DefaultCachePages)
		d := d0
		var pages []uint64
		buf := make([]byte, 4096)
		for _, r := range d.PhysRanges() {
			for pa := r.Start &^ 4095; pa < r.End && len(pages) < 20000; pa += 4096 * 5 {
				if d.ReadPhys(buf, pa) == nil {
					pages = append(pages, pa)
				}
			}
		}
		if len(pages) == 0 {
			b.Fatalf("%s: no readable pages", rd.format)
		}
		// Random pages: with the kdump formats mostly cache misses, each a
		// descriptor read and a decompression.
		b.Run(rd.format+"/page", func(b *testing.B) {
			b.SetBytes(4096)
			for i := 0; b.Loop(); i++ {
				if err := d.ReadPhys(buf, pages[(i*7919)%len(pages)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(rd.format+"/8bytes-cached", func(b *testing.B) {
			b.SetBytes(8)
			for i := 0; b.Loop(); i++ {
				if err := d.ReadPhys(buf[:8], pages[i%16]+uint64(i%512)*8); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
