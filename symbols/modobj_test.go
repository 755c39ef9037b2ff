package symbols

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestModuleObjectRelocated compiles a two-function object as kbuild
// compiles a module (one section a function, DWARF 5), places the two
// sections at different addresses as a module loader does, and checks each
// function's loaded address and source line against binutils' addr2line
// reading the same object section by section.
func TestModuleObjectRelocated(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc")
	}
	a2l, err := exec.LookPath("addr2line")
	if err != nil {
		t.Skip("no addr2line")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "m.c")
	os.WriteFile(src, []byte("int v;\n\nint f1(int x)\n{\n\treturn x * 3;\n}\n\nint f2(int x)\n{\n\tv = x;\n\treturn x + 1;\n}\n"), 0o644)
	obj := filepath.Join(dir, "m.o")
	if out, err := exec.Command(gcc, "-g", "-gdwarf-5", "-O2", "-ffunction-sections", "-c", src, "-o", obj).CombinedOutput(); err != nil {
		t.Skipf("gcc: %v %s", err, out)
	}
	secs := map[string]uint64{".text.f1": 0xffffffffc0001000, ".text.f2": 0xffffffffc0005000, ".bss": 0xffffffffc0009000}
	o, err := OpenModuleObject(obj, secs)
	if err != nil {
		t.Fatal(err)
	}
	if !o.HasLines() {
		t.Fatal("no line table")
	}
	for _, fn := range []string{"f1", "f2"} {
		var s Symbol
		for _, x := range o.Symbols {
			if x.Name == fn {
				s = x
			}
		}
		if s.Addr != secs[".text."+fn] {
			t.Fatalf("%s at %#x, want %#x", fn, s.Addr, secs[".text."+fn])
		}
		for off := uint64(0); off < s.Size; off++ {
			out, err := exec.Command(a2l, "-e", obj, "-j", ".text."+fn, "0x"+strconv.FormatUint(off, 16)).Output()
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(string(out))
			if i := strings.Index(want, " ("); i >= 0 {
				want = want[:i] // "(discriminator N)"
			}
			file, line, err := o.Line(s.Addr + off)
			if err != nil {
				t.Fatalf("%s+%d: %v", fn, off, err)
			}
			got := file + ":" + strconv.Itoa(line)
			if filepath.Clean(file) != filepath.Clean(want[:strings.LastIndex(want, ":")]) || !strings.HasSuffix(want, ":"+strconv.Itoa(line)) {
				t.Errorf("%s+%d: %s, addr2line: %s", fn, off, got, want)
			}
		}
	}
	if _, err := OpenModuleObject(src, secs); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("a C file: %v", err)
	}
}

// FuzzModuleObject: a hostile object file is an error, never a panic.
func FuzzModuleObject(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	if gcc, err := exec.LookPath("gcc"); err == nil {
		dir := f.TempDir()
		src := filepath.Join(dir, "m.c")
		os.WriteFile(src, []byte("int v;\nint f1(int x) { v = x; return x * 3; }\n"), 0o644)
		obj := filepath.Join(dir, "m.o")
		if exec.Command(gcc, "-g", "-O2", "-ffunction-sections", "-c", src, "-o", obj).Run() == nil {
			if b, err := os.ReadFile(obj); err == nil {
				f.Add(b)
			}
		}
	}
	secs := map[string]uint64{".text.f1": 0xffffffffc0001000, ".bss": 0xffffffffc0009000}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseModuleObject("fuzz.ko", b, secs)
		if err != nil {
			return
		}
		for _, s := range o.Symbols {
			o.Line(s.Addr)
		}
	})
}
