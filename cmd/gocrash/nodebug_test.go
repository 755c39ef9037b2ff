package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/kernel"
	"gocrash/symbols"
)

// TestLogFromDumpAlone: gocrash --log VMCORE prints crash's "log" answer,
// byte for byte, from the dump alone (VMCOREINFO's printk layout), as
// vmcore-dmesg does; nothing but warnings on stderr.
func TestLogFromDumpAlone(t *testing.T) {
	n := 0
	for _, d := range testbed.All(t) {
		want, ok := d.Golden("log")
		if !ok || d.Format == "qemu" {
			continue // QEMU's dump-guest-memory writes no VMCOREINFO
		}
		n++
		r := runGocrash(t, "", runOpts{}, "--log", d.Vmcore)
		if r.status != 0 || r.stdout != want {
			t.Errorf("%s/%s: status %d, stderr %q, stdout equal to crash's log: %v", d.Name, d.Format, r.status, r.stderr, r.stdout == want)
		}
		for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "WARNING: ") {
				t.Errorf("%s/%s: stderr line %q", d.Name, d.Format, l)
			}
		}
	}
	if n == 0 {
		t.Skip("no dump with a recorded log")
	}
}

// damagedDump writes a copy of the ELF dump d with length bytes at the
// kernel address va set to fill.
func damagedDump(t *testing.T, d testbed.Dump, dir string, va uint64, length int, fill func(b []byte)) string {
	t.Helper()
	k, err := kernel.Open(d.Vmlinux, d.Vmcore, kernel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := k.Mem.VirtToPhys(va)
	k.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, d.Vmcore)
	n := 0
	for _, p := range elfProgs(t, b) {
		// Every segment holding the page: the kernel image's and the
		// direct map's may both.
		if p.Type == elf.PT_LOAD && pa >= p.Paddr && pa+uint64(length) <= p.Paddr+p.Filesz {
			off := p.Off + (pa - p.Paddr)
			fill(b[off : off+uint64(length)])
			n++
		}
	}
	if n == 0 {
		t.Fatalf("%#x (phys %#x) is not in the ELF dump's file", va, pa)
	}
	return writeTemp(t, dir, "vmcore", b, 0o444)
}

// TestNoDebuginfoDamage: without the vmlinux, damaged kallsyms or BTF give
// one line each, and the session goes on with what still works.
func TestNoDebuginfoDamage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes copies of a real dump")
	}
	d := testbed.Open(t, "6.1-sysrq", "elf")
	if dir := os.Getenv("GOCRASH_NODEBUG_ELFDIR"); dir != "" {
		// A regenerated set's directory before it is committed (vmlinux,
		// vmcore.elf, crash/).
		d = testbed.Dump{Name: "extra", Format: "elf", Vmlinux: filepath.Join(dir, "vmlinux"), Vmcore: filepath.Join(dir, "vmcore.elf"), Dir: dir}
	}
	want, ok := d.Golden("log")
	if !ok {
		t.Skip("no recorded log")
	}
	lastLog := want[strings.LastIndexByte(strings.TrimSuffix(want, "\n"), '\n')+1:]
	v, err := symbols.Open(d.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernel.Open(d.Vmlinux, d.Vmcore, kernel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := k.Dump.Info()
	names, _ := info.Symbol("kallsyms_names")
	btfStart, hasBTF := k.Vmlinux.Lookup("__start_BTF")
	k.Close()
	v.Close()

	// kallsyms_names overwritten: no symbols, so no types and no
	// backtraces, but the log is VMCOREINFO's and still reads.
	t.Run("kallsyms", func(t *testing.T) {
		dump := damagedDump(t, d, t.TempDir(), names, 4096, func(b []byte) { clear(b) })
		r := runGocrash(t, "log | tail -1\nbt\nsym schedule\n", runOpts{}, "-s", "--no-debuginfo", dump)
		lines := strings.Split(r.stdout, "\n")
		if r.status != 1 || len(lines) < 3 || lines[0]+"\n" != lastLog ||
			!strings.HasPrefix(lines[1], "bt: no kernel types: kallsyms: symbol 0 of ") || lines[2] != "symbol not found: schedule" ||
			!strings.HasPrefix(r.stderr, "WARNING: "+dump+": kallsyms: symbol 0 of ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
		}
		r = runGocrash(t, "", runOpts{}, "--log", dump)
		if r.status != 0 || r.stdout != want {
			t.Errorf("--log: status %d, stderr %q", r.status, r.stderr)
		}
	})
	if !hasBTF {
		t.Logf("%s: the kernel has no BTF: the BTF cases need the regenerated test bed", d.Name)
		return
	}
	for _, c := range []struct {
		name string
		fill func(b []byte)
		msg  string
	}{
		{"btf-magic", func(b []byte) { b[0], b[1] = 0, 0 }, "BTF"},
		// type_len (header offset 12) far past the section: the types are cut.
		{"btf-cut", func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 0x7fffff00) }, "BTF"},
		{"btf-garbage", func(b []byte) { copy(b[24:], bytes.Repeat([]byte{0xa5}, 4000)) }, "BTF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dump := damagedDump(t, d, t.TempDir(), btfStart, 4096, c.fill)
			r := runGocrash(t, "ps\nlog | tail -1\nsym schedule\n", runOpts{}, "-s", "--no-debuginfo", dump)
			lines := strings.Split(r.stdout, "\n")
			if len(lines) != 4 || !strings.HasPrefix(lines[0], "ps: ") || !strings.Contains(lines[0], c.msg) ||
				lines[1]+"\n" != lastLog || !strings.Contains(lines[2], " (T) schedule") {
				t.Errorf("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
			}
		})
	}
}
