package symbols

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// buildFixture compiles testdata/fixture/*.c with gcc into a static
// executable and returns its path. Builds are shared by the whole test
// binary (TestMain removes them).
func buildFixture(tb testing.TB, extra ...string) string {
	tb.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		tb.Skip("gcc not installed; the DWARF fixture is built with it")
	}
	fixtures.Lock()
	defer fixtures.Unlock()
	key := strings.Join(extra, " ")
	if p, ok := fixtures.built[key]; ok {
		return p
	}
	if fixtures.dir == "" {
		if fixtures.dir, err = os.MkdirTemp("", "symbols-fixture"); err != nil {
			tb.Fatal(err)
		}
	}
	out := filepath.Join(fixtures.dir, fmt.Sprintf("fixture%d", len(fixtures.built)))
	args := []string{"-g", "-O0", "-fno-pic", "-no-pie", "-static", "-nostdlib", "-Wl,-e,func_a", "-o", out}
	args = append(args, extra...)
	args = append(args, filepath.Join("testdata", "fixture", "a.c"), filepath.Join("testdata", "fixture", "b.c"))
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		tb.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	fixtures.built[key] = out
	return out
}

var fixtures = struct {
	sync.Mutex
	dir   string
	built map[string]string
}{built: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtures.dir != "" {
		os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

func buildObject(tb testing.TB) string {
	tb.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		tb.Skip("gcc not installed; the DWARF fixture is built with it")
	}
	out := filepath.Join(tb.TempDir(), "a.o")
	if b, err := exec.Command(gcc, "-g", "-O0", "-c", "-o", out, filepath.Join("testdata", "fixture", "a.c")).CombinedOutput(); err != nil {
		tb.Fatalf("gcc -c: %v\n%s", err, b)
	}
	return out
}

// fileMemory reads "memory" from the image's section contents, which is
// what the fixture's initialised globals are.
type fileMemory struct{ v *Vmlinux }

func (m fileMemory) ReadVirt(p []byte, addr uint64) error { return m.v.ReadFile(addr, p) }

func openFixture(t *testing.T, extra ...string) (*Vmlinux, *Types) {
	t.Helper()
	return openWithTypes(t, buildFixture(t, extra...))
}

// openWithTypes opens the ELF file at path, closes it when the test ends,
// and returns it with its DWARF types.
func openWithTypes(t *testing.T, path string) (*Vmlinux, *Types) {
	t.Helper()
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ty, err := v.Types()
	if err != nil {
		t.Fatal(err)
	}
	return v, ty
}

// The paths listed in the same order as expected[] in a.c.
var expectedPaths = []string{
	"sample.list", "sample.list.prev", "sample.ul", "sample.hi", "sample.nest.in.y", "sample.nest.arr[2]",
	"sample.ins[2].y", "sample.name", "sample.fl", "sample.big", "sample.grid[1][2]", "sample.self",
	"sizeof sample", "sizeof flags", "sizeof inner", "sizeof plain3",
}

func checkLayout(t *testing.T, v *Vmlinux, ty *Types) {
	t.Helper()
	addr, ok := v.Lookup("expected")
	if !ok {
		t.Fatal("no symbol expected")
	}
	raw := make([]byte, 8*len(expectedPaths))
	if err := v.ReadFile(addr, raw); err != nil {
		t.Fatal(err)
	}
	for i, p := range expectedPaths {
		want := int64(binary.LittleEndian.Uint64(raw[8*i:]))
		var got int64
		var err error
		if name, ok := strings.CutPrefix(p, "sizeof "); ok {
			got, err = ty.SizeOf(name)
		} else {
			got, err = ty.Offset(p)
		}
		if err != nil || got != want {
			t.Errorf("%s = %d, %v; gcc says %d", p, got, err, want)
		}
	}
}

func TestFixtureLayout(t *testing.T) {
	v, ty := openFixture(t)
	checkLayout(t, v, ty)
}

func TestCompressedDWARF(t *testing.T) {
	for _, gz := range []string{"zlib", "zstd"} {
		t.Run(gz, func(t *testing.T) {
			v, err := Open(buildFixtureOrSkip(t, "-gz="+gz))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if _, _, err := v.SectionErr(".debug_info"); err != nil {
				t.Fatal(err)
			}
			ty, err := v.Types()
			if err != nil {
				t.Fatal(err)
			}
			checkLayout(t, v, ty)
		})
	}
}

// buildFixtureOrSkip is buildFixture that skips when the toolchain lacks
// an option (zstd debug compression needs binutils 2.40).
func buildFixtureOrSkip(t *testing.T, flag string) string {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed")
	}
	probe := filepath.Join(t.TempDir(), "probe")
	src := filepath.Join(t.TempDir(), "p.c")
	os.WriteFile(src, []byte("int x;\n"), 0o644)
	if b, err := exec.Command(gcc, "-g", flag, "-c", "-o", probe, src).CombinedOutput(); err != nil {
		t.Skipf("gcc %s unsupported here: %s", flag, b)
	}
	return buildFixture(t, flag)
}

func TestRelocatableObject(t *testing.T) {
	v, err := Open(buildObject(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ty, err := v.Types()
	if err != nil {
		t.Fatal(err)
	}
	// Same compiler, same source: must agree with the linked fixture.
	fv, fty := openFixture(t)
	for _, p := range []string{"sample.nest.arr[2]", "sample.hi", "sample.self", "flags.neg"} {
		got, err1 := ty.Offset(p)
		want, err2 := fty.Offset(p)
		if err1 != nil || err2 != nil || got != want {
			t.Errorf("%s: object %d (%v), executable %d (%v)", p, got, err1, want, err2)
		}
	}
	_ = fv
}

func TestSymbols(t *testing.T) {
	v, _ := openFixture(t)
	fa, ok := v.LookupSymbol("func_a")
	if !ok || fa.Kind != 'T' || fa.Size == 0 {
		t.Fatalf("func_a = %+v, %v", fa, ok)
	}
	if s, ok := v.LookupSymbol("local_helper"); !ok || s.Kind != 't' {
		t.Errorf("local_helper = %+v, %v", s, ok)
	}
	if s, ok := v.LookupSymbol("sample"); !ok || s.Kind != 'D' {
		t.Errorf("sample = %+v, %v", s, ok)
	}
	if s, ok := v.LookupSymbol("banner"); !ok || s.Kind != 'R' {
		t.Errorf("banner = %+v, %v", s, ok)
	}
	name, off, ok := v.Symbolize(fa.Addr + 3)
	if !ok || name != "func_a" || off != 3 {
		t.Errorf("Symbolize(func_a+3) = %s+%d, %v", name, off, ok)
	}
	if _, _, ok := v.Symbolize(0x1000); ok {
		t.Error("Symbolize of an address outside the image succeeded")
	}
	syms := v.Symbols()
	for i := 1; i < len(syms); i++ {
		if syms[i].Addr < syms[i-1].Addr {
			t.Fatalf("Symbols not sorted at %d: %#x after %#x", i, syms[i].Addr, syms[i-1].Addr)
		}
	}

	const slide = 0x2000000
	v.SetKASLR(slide)
	if a, _ := v.Lookup("func_a"); a != fa.Addr+slide {
		t.Errorf("relocated func_a = %#x, want %#x", a, fa.Addr+slide)
	}
	if name, off, ok := v.Symbolize(fa.Addr + slide + 3); !ok || name != "func_a" || off != 3 {
		t.Errorf("relocated Symbolize = %s+%d, %v", name, off, ok)
	}
	// ReadFile takes either address.
	b1 := make([]byte, 13)
	b2 := make([]byte, 13)
	ba, _ := v.Lookup("banner")
	if err := v.ReadFile(ba, b1); err != nil {
		t.Fatal(err)
	}
	if err := v.ReadFile(ba-slide, b2); err != nil {
		t.Fatal(err)
	}
	if string(b1) != "Linux version" || string(b2) != string(b1) {
		t.Errorf("banner reads %q and %q", b1, b2)
	}
	if err := v.ReadFile(0x10, b1); err == nil {
		t.Error("ReadFile outside every section succeeded")
	}
}

func TestBuildIDAndSection(t *testing.T) {
	v, err := Open(buildFixture(t, "-Wl,--build-id=sha1"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	id := v.BuildID()
	if len(id) != 40 {
		t.Errorf("BuildID = %q, want 40 hex digits (sha1)", id)
	}
	// Cross-check with readelf when present.
	if out, err := exec.Command("readelf", "-n", v.Path()).Output(); err == nil && !strings.Contains(string(out), id) {
		t.Errorf("readelf -n does not show build ID %s:\n%s", id, out)
	}
	data, addr, ok := v.Section(".rodata")
	if !ok || addr == 0 || len(data) == 0 {
		t.Errorf("Section(.rodata) = %d bytes at %#x, %v", len(data), addr, ok)
	}
	if _, _, ok := v.Section(".no_such_section"); ok {
		t.Error("Section of a missing section succeeded")
	}
}

func TestTypes(t *testing.T) {
	_, ty := openFixture(t)
	for _, name := range []string{"sample", "struct sample", "sample_t", "struct list_head", "enum color", "u64", "unsigned int", "struct sample *"} {
		if _, err := ty.Lookup(name); err != nil {
			t.Errorf("Lookup(%q): %v", name, err)
		}
	}
	if _, err := ty.Lookup("struct no_such"); err == nil {
		t.Error("Lookup of a missing struct succeeded")
	}
	// struct other is only declared in a.c's unit: the complete one from b.c
	// must win.
	if st, err := ty.Lookup("struct other"); err != nil || st.(*godwarf.StructType).Incomplete {
		t.Errorf("struct other: %v, %v", st, err)
	}
	for name, want := range map[string]int64{"RED": 0, "GREEN": 5, "BLUE": -3} {
		if got, err := ty.Enumerator(name); err != nil || got != want {
			t.Errorf("Enumerator(%s) = %d, %v", name, got, err)
		}
	}
	if _, err := ty.Enumerator("PURPLE"); err == nil {
		t.Error("missing enumerator found")
	}
	vt, err := ty.VarType("sample_ptr")
	if err != nil || TypeName(vt) != "sample_t *" {
		t.Errorf("VarType(sample_ptr) = %v, %v", TypeName(vt), err)
	}
	if !ty.HasMember("sample", "nest.arr") || ty.HasMember("sample", "nest.nope") {
		t.Error("HasMember wrong")
	}
	m, err := ty.Member("flags", "c")
	if err != nil || m.BitSize != 20 || m.Offset*8+m.BitOffset != 3*8+8 {
		t.Errorf("flags.c = %+v, %v", m, err)
	}
	for _, bad := range []string{"sample.", "sample.list..next", "sample.ins[3]", "sample.ins[x]", "sample.msg.x", "sample.other.v", "sample.id[0]"} {
		if _, err := ty.Offset(bad); err == nil {
			t.Errorf("Offset(%q) succeeded", bad)
		}
	}
	// godwarf zeroes u8[3] while reading struct flags; the fixup restores it.
	if n, err := ty.SizeOf("plain3.t3"); err != nil || n != 3 {
		t.Errorf("sizeof plain3.t3 = %d, %v", n, err)
	}
	if n, err := ty.SizeOf("flags.tag"); err != nil || n != 3 {
		t.Errorf("sizeof flags.tag = %d, %v", n, err)
	}
	if a, err := ContainerOf(0x1000+16, ty, "sample", "list.prev"); err != nil || a != 0x1000 {
		t.Errorf("ContainerOf = %#x, %v", a, err)
	}
}

// Every sized data symbol's DWARF type has the symbol's size.
func TestVarSizesMatchSymbols(t *testing.T) {
	v, ty := openFixture(t)
	n := 0
	for _, s := range v.Symbols() {
		if s.Size == 0 || strings.IndexByte("DdRrBb", s.Kind) < 0 {
			continue
		}
		typ, err := ty.VarType(s.Name)
		if err != nil {
			t.Errorf("VarType(%s): %v", s.Name, err)
			continue
		}
		n++
		if sz, err := ty.Size(typ); err != nil || uint64(sz) != s.Size {
			t.Errorf("%s: DWARF %s has size %d (%v), symbol size %d", s.Name, TypeName(typ), sz, err, s.Size)
		}
	}
	if n < 5 {
		t.Errorf("only %d variables checked", n)
	}
}

func TestObjects(t *testing.T) {
	// DWARF 2 has big-endian-style DW_AT_bit_offset for bit fields, 4 and 5
	// DW_AT_data_bit_offset.
	for _, flags := range []string{"-gdwarf-5", "-gdwarf-4", "-gdwarf-2"} {
		t.Run(flags, func(t *testing.T) { testObjects(t, flags) })
	}
}

func testObjects(t *testing.T, flags string) {
	v, ty := openFixture(t, flags, "-gstrict-dwarf")
	checkLayout(t, v, ty)
	mem := fileMemory{v}
	s, err := ty.Var(mem, v, "sample")
	if err != nil {
		t.Fatal(err)
	}
	// Values are the initialisers in testdata/fixture/a.c.
	for _, loaded := range []bool{false, true} {
		o := s
		if loaded {
			if o, err = s.Load(); err != nil {
				t.Fatal(err)
			}
		}
		ints := map[string]int64{
			"id": -7, "lo": 0x1234, "hi": -2, "nest.in.x": 11, "nest.arr[3]": 4, "ins[2].y": 30,
			"col": -3, "fl.a": 5, "fl.b": 17, "fl.c": 0xABCDE, "fl.s": -3, "fl.wide": 0x123456789A, "fl.neg": -100,
			"fl.tag[2]": 3, "sc": -128, "grid[1][2]": 6,
		}
		for p, want := range ints {
			m, err := o.Member(p)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if got, err := m.Int(); err != nil || got != want {
				t.Errorf("loaded=%v %s = %d, %v; want %d", loaded, p, got, err, want)
			}
		}
		if m, _ := o.Member("big"); true {
			if got, err := m.Uint(); err != nil || got != 0xfedcba9876543210 {
				t.Errorf("big = %#x, %v", got, err)
			}
		}
		if m, _ := o.Member("name"); true {
			if got, err := m.CString(); err != nil || got != "swapper/0" {
				t.Errorf("name = %q, %v", got, err)
			}
		}
		if m, _ := o.Member("msg"); true {
			if got, err := m.CString(); err != nil || got != "hello, kernel" {
				t.Errorf("msg = %q, %v", got, err)
			}
		}
		// Pointer to a type declared but not defined in this unit.
		other, err := mustMember(t, o, "other").Deref()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := mustMember(t, other, "v").Int(); err != nil || got != 42 {
			t.Errorf("other->v = %d, %v", got, err)
		}
		if got, err := mustMember(t, other, "label").CString(); err != nil || got != "other" {
			t.Errorf("other->label = %q, %v", got, err)
		}
		self, err := mustMember(t, o, "self").Deref()
		if err != nil || self.Addr != s.Addr {
			t.Errorf("self = %#x, %v", self.Addr, err)
		}
		next, _ := mustMember(t, o, "list.next").Pointer()
		if l, _ := ty.Offset("sample.list"); next != s.Addr+uint64(l) {
			t.Errorf("list.next = %#x", next)
		}
		ins := mustMember(t, o, "ins")
		if ins.Len() != 3 {
			t.Errorf("len(ins) = %d", ins.Len())
		}
		e, err := ins.Index(1)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := mustMember(t, e, "y").Uint(); got != 20 {
			t.Errorf("ins[1].y = %d", got)
		}
		if _, err := ins.Index(3); err == nil {
			t.Error("ins[3] succeeded")
		}
	}
	// Through a typedef'd pointer variable.
	sp, err := ty.Var(mem, v, "sample_ptr")
	if err != nil {
		t.Fatal(err)
	}
	d, err := sp.Deref()
	if err != nil || d.Addr != s.Addr {
		t.Fatalf("*sample_ptr = %#x, %v", d.Addr, err)
	}
	if b, err := d.Bytes(); err != nil || int64(len(b)) != d.Size() {
		t.Errorf("Bytes: %d bytes, %v; size %d", len(b), err, d.Size())
	}
	// Errors name the object and the address.
	bad := ty.ObjectOf(mem, 0x10, d.Type, "bogus")
	_, err = mustMember(t, bad, "id").Int()
	var re *ReadError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "bogus.id") || !strings.Contains(err.Error(), "0x10") {
		t.Errorf("error %q does not name bogus.id at 0x10", err)
	}
	if _, err := mustMember(t, s, "id").Deref(); err == nil {
		t.Error("Deref of an int succeeded")
	}
}

func mustMember(t *testing.T, o Object, path string) Object {
	t.Helper()
	m, err := o.Member(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// The hand-written scanner must index exactly what debug/dwarf sees.
func TestFastIndexMatchesDebugDWARF(t *testing.T) {
	for _, flags := range [][]string{nil, {"-gdwarf-4"}, {"-gdwarf-5", "-gz=zlib"}} {
		_, ty := openFixture(t, flags...)
		if ty.sec == nil {
			t.Fatal("executable fixture did not get the fast index")
		}
		fast, err := fastIndex(*ty.sec)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := buildIndex(fullData(t, ty))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%v: fast index differs:\nfast %+v\nslow %+v", flags, fast, slow)
		}
		if len(fast.structs) == 0 || len(fast.enumerators) == 0 || len(fast.vars) == 0 {
			t.Errorf("%v: index is missing names: %+v", flags, fast)
		}
	}
}
