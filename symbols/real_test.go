package symbols

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"gocrash/internal/testbed"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// realVmlinux is the 6.1.192 test-bed kernel (DWARF 5, KASLR, ORC). Until the
// committed test bed lands, the kernel build's own output is used.
func realVmlinux(tb testing.TB) string {
	tb.Helper()
	if d, err := testbed.Locate("6.1-sysrq", "elf"); err == nil {
		return d.Vmlinux
	} else if p := "/var/cache/gocrash-mkdump/linux-source-6.1/vmlinux"; fileExists(p) {
		return p
	} else {
		tb.Fatalf("test bed: %v", err)
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func openReal(t *testing.T) (*Vmlinux, *Types) {
	t.Helper()
	return openWithTypes(t, realVmlinux(t))
}

// Values recorded from the committed 6.1.192 vmlinux itself (the test bed's
// decompressed testdata/dumps/6.1/vmlinux.zst): `nm -S vmlinux`,
// `pahole -F btf -C <struct> vmlinux` (pahole 1.24 cannot read the dwz DWARF; the
// .BTF is made from the same DWARF before dwz) and `gdb -batch -ex 'p ...' vmlinux`.
func TestRealSymbols(t *testing.T) {
	v, _ := openReal(t)
	for name, want := range map[string]Symbol{ // nm -S
		"init_task":    {Addr: 0xffffffff81e11600, Size: 0x1a40, Kind: 'D'},
		"linux_banner": {Addr: 0xffffffff81869ca0, Size: 0x94, Kind: 'D'},
		"startup_64":   {Addr: 0xffffffff81000000, Size: 0x5e, Kind: 'T'},
		"runqueues":    {Addr: 0x21d80, Size: 0xc00, Kind: 'D'}, // per-cpu: an offset
		"jiffies":      {Addr: 0xffffffff81e079c0, Kind: 'D'},
	} {
		got, ok := v.LookupSymbol(name)
		want.Name = name
		if !ok || got != want {
			t.Errorf("%s = %+v, %v; nm says %+v", name, got, ok, want)
		}
	}
	// _stext, _text and startup_64 share an address; the sized function wins.
	if name, off, ok := v.Symbolize(0xffffffff81000005); !ok || name != "startup_64" || off != 5 {
		t.Errorf("Symbolize(startup_64+5) = %s+%d, %v", name, off, ok)
	}
	// An assembler label (NOTYPE) in text: bt needs these.
	if name, off, ok := v.Symbolize(0xffffffff81400064 + 2); !ok || name != "entry_SYSCALL_64_after_hwframe" || off != 2 {
		t.Errorf("Symbolize(entry_SYSCALL_64_after_hwframe+2) = %s+%d, %v", name, off, ok)
	}
	if _, _, ok := v.Symbolize(0xffff888000000000); ok {
		t.Error("a direct-map address symbolized")
	}
	banner := make([]byte, 0x94)
	if err := v.ReadFile(0xffffffff81869ca0, banner); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(banner), "Linux version 6.1.") {
		t.Errorf("linux_banner = %q", banner)
	}
	const slide = 0x2e000000
	v.SetKASLR(slide)
	defer v.SetKASLR(0)
	if a, _ := v.Lookup("init_task"); a != 0xffffffff81e11600+slide {
		t.Errorf("relocated init_task = %#x", a)
	}
	if a, _ := v.Lookup("runqueues"); a != 0x21d80 {
		t.Errorf("per-cpu runqueues moved with KASLR: %#x", a)
	}
	if err := v.ReadFile(0xffffffff81869ca0+slide, banner); err != nil {
		t.Errorf("ReadFile at the relocated linux_banner: %v", err)
	}
	if id := v.BuildID(); len(id) != 40 {
		t.Errorf("BuildID = %q", id)
	}
	for _, sec := range []string{".orc_unwind", ".orc_unwind_ip", ".debug_frame"} {
		if d, _, ok := v.Section(sec); !ok || len(d) == 0 {
			t.Errorf("Section(%s) missing", sec)
		}
	}
}

func TestRealTypes(t *testing.T) {
	_, ty := openReal(t)
	offsets := map[string]int64{
		// pahole -C task_struct
		"task_struct.__state":            24,
		"task_struct.stack":              32,
		"task_struct.tasks":              800,
		"task_struct.mm":                 880,
		"task_struct.pid":                1024,
		"task_struct.comm":               1512,
		"task_struct.signal":             1600,
		"task_struct.se":                 128,
		"task_struct.thread":             2304,
		"task_struct.se.vruntime":        128 + 80, // pahole -C sched_entity: vruntime at 80
		"task_struct.thread.sp":          2304 + 24,
		"struct mm_struct.pgd":           56,
		"mm_struct.rss_stat":             696,
		"mm_struct.rss_stat.count[1]":    696 + 8, // pahole -C mm_rss_stat: atomic_long_t count[4]
		"page.flags":                     0,
		"page.lru":                       8, // inside anonymous struct in anonymous union
		"page.mapping":                   24,
		"page.index":                     32,
		"page.private":                   40,
		"page.compound_head":             8,
		"page._refcount":                 52,
		"rq.curr":                        0x920, // gdb: p &((struct rq*)0)->curr
		"task_struct.thread_info":        0,
		"task_struct.cpus_mask":          728,
		"struct list_head.prev":          8,
		"task_struct.tasks.prev":         808,
		"mm_struct.rss_stat.count[3]":    696 + 24,
		"task_struct.comm[15]":           1512 + 15,
		"struct task_struct.se.vruntime": 208,
	}
	for p, want := range offsets {
		if got, err := ty.Offset(p); err != nil || got != want {
			t.Errorf("Offset(%s) = %d, %v; want %d", p, got, err, want)
		}
	}
	sizes := map[string]int64{
		"task_struct":      6720, // pahole; also nm -S init_task = 0x1a40
		"sched_entity":     256,
		"thread_struct":    4416,
		"mm_struct":        920,
		"page":             64,
		"rq":               3072, // gdb: p sizeof(struct rq); also nm -S runqueues = 0xc00
		"task_struct.comm": 16,
	}
	for name, want := range sizes {
		if got, err := ty.SizeOf(name); err != nil || got != want {
			t.Errorf("SizeOf(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
	// pahole: sched_reset_on_fork:1 at 948:0, in_execve:1 at 952:2.
	for name, bit := range map[string]int64{"sched_reset_on_fork": 948*8 + 0, "in_execve": 952*8 + 2} {
		m, err := ty.Member("task_struct", name)
		if err != nil || m.BitSize != 1 || m.Offset*8+m.BitOffset != bit {
			t.Errorf("task_struct.%s = %+v, %v; want bit %d", name, m, err, bit)
		}
	}
	// gdb -batch -ex 'p (int)NR_FREE_PAGES' ...
	for name, want := range map[string]int64{"NR_FREE_PAGES": 0, "NR_VM_ZONE_STAT_ITEMS": 10, "TASK_COMM_LEN": 16, "PG_slab": 9, "PIDTYPE_MAX": 4} {
		if got, err := ty.Enumerator(name); err != nil || got != want {
			t.Errorf("Enumerator(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
	// gdb whatis
	for name, want := range map[string]string{"init_task": "struct task_struct", "jiffies": "volatile unsigned long", "runqueues": "struct rq"} {
		typ, err := ty.VarType(name)
		if err != nil || strings.ReplaceAll(TypeName(typ), "long unsigned int", "unsigned long") != want {
			t.Errorf("VarType(%s) = %s, %v; gdb says %s", name, TypeName(typ), err, want)
		}
	}
	// `extern const char linux_banner[]` in headers, defined with its size
	// in init/version.c: the definition must win (nm -S: 0x94).
	if typ, err := ty.VarType("linux_banner"); err != nil {
		t.Error(err)
	} else if n, err := ty.Size(typ); err != nil || n != 0x94 {
		t.Errorf("sizeof linux_banner = %d, %v", n, err)
	}
	// 6.1 renamed task_struct.state to __state (5.14) and has no pcpu_hot
	// (6.2).
	if !ty.HasMember("task_struct", "__state") || ty.HasMember("task_struct", "state") {
		t.Error("HasMember(task_struct, __state/state) wrong")
	}
	if _, err := ty.Lookup("struct pcpu_hot"); err == nil {
		t.Error("6.1 has a struct pcpu_hot?")
	}
}

// Every sized global data symbol whose name is unique and that DWARF
// describes must have the size of its DWARF type: a broad check of the
// index (definitions over declarations) and of Size.
func TestRealVarSizesMatchSymbols(t *testing.T) {
	if testing.Short() {
		t.Skip("reads thousands of types")
	}
	v, ty := openReal(t)
	idx, err := ty.index()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range v.Symbols() {
		count[s.Name]++
	}
	n, bad := 0, 0
	for _, s := range v.Symbols() {
		if s.Size == 0 || s.Kind != 'D' && s.Kind != 'B' && s.Kind != 'R' || count[s.Name] != 1 {
			continue
		}
		if r, ok := idx.vars[s.Name]; !ok || r.decl {
			continue // defined in assembly or by the linker: DWARF has only the extern
		}
		typ, err := ty.VarType(s.Name)
		if err != nil {
			t.Errorf("VarType(%s): %v", s.Name, err)
			continue
		}
		n++
		sz, err := ty.Size(typ)
		if err == nil && uint64(sz) < s.Size && endsInFlexibleArray(ty, typ) {
			continue // init_mm, init_struct_pid: initialisers fill the flexible array
		}
		if err != nil || uint64(sz) != s.Size {
			bad++
			if bad < 20 {
				t.Errorf("%s: DWARF %s has size %d (%v), symbol size %d", s.Name, TypeName(typ), sz, err, s.Size)
			}
		}
	}
	// The same selection made with binutils on the committed vmlinux: sized
	// D/B/R symbols of unique name in `nm -S`, whose depth-1
	// DW_TAG_variable in `readelf --debug-dump=info --dwarf-depth=2` is a
	// definition (no DW_AT_declaration), named directly or through
	// DW_AT_specification (some of them in dwz partial units): 1508 on the
	// 6.1.176 vmlinux, 1648 on 6.1.192.
	if n != 1648 {
		t.Errorf("%d variables checked, nm and readelf find 1648", n)
	}
}

func endsInFlexibleArray(ty *Types, typ godwarf.Type) bool {
	rt, err := ty.resolve(typ)
	if err != nil {
		return false
	}
	st, ok := rt.(*godwarf.StructType)
	if !ok || len(st.Field) == 0 {
		return false
	}
	last, err := ty.resolve(st.Field[len(st.Field)-1].Type)
	if err != nil {
		return false
	}
	at, ok := last.(*godwarf.ArrayType)
	return ok && at.Count <= 0
}

// The hand-written scanner and debug/dwarf must build the same index on the
// real kernel.
func TestRealFastIndexMatchesDebugDWARF(t *testing.T) {
	if testing.Short() {
		t.Skip("debug/dwarf needs seconds to scan the kernel")
	}
	_, ty := openReal(t)
	fast, err := fastIndex(*ty.sec)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := buildIndex(fullData(t, ty))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name       string
		fast, slow map[string]dieRef
	}{{"structs", fast.structs, slow.structs}, {"unions", fast.unions, slow.unions}, {"enums", fast.enums, slow.enums},
		{"typedefs", fast.typedefs, slow.typedefs}, {"bases", fast.bases, slow.bases}, {"vars", fast.vars, slow.vars}} {
		if len(p.fast) != len(p.slow) {
			t.Errorf("%s: %d names fast, %d with debug/dwarf", p.name, len(p.fast), len(p.slow))
		}
		diff := 0
		for k, r := range p.slow {
			if p.fast[k] != r {
				if diff++; diff < 5 {
					t.Errorf("%s %s: fast %+v, debug/dwarf %+v", p.name, k, p.fast[k], r)
				}
			}
		}
	}
	if len(fast.enumerators) != len(slow.enumerators) {
		t.Errorf("enumerators: %d fast, %d with debug/dwarf", len(fast.enumerators), len(slow.enumerators))
	}
	for k, v := range slow.enumerators {
		if fast.enumerators[k] != v {
			t.Errorf("enumerator %s: fast %d, debug/dwarf %d", k, fast.enumerators[k], v)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	path := realVmlinux(b)
	for b.Loop() {
		v, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

// BenchmarkFirstTypeLookup is the cost of the first DWARF question: the
// parallel name index plus reading struct task_struct.
func BenchmarkFirstTypeLookup(b *testing.B) {
	path := realVmlinux(b)
	v, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "workers")
	for b.Loop() {
		d, sec, err := v.dwarfData()
		if err != nil {
			b.Fatal(err)
		}
		ty := newTypesFromData(path, d)
		ty.sec = sec
		if _, err := ty.Offset("task_struct.se.vruntime"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSymbolize(b *testing.B) {
	v, err := Open(realVmlinux(b))
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	for b.Loop() {
		v.Symbolize(0xffffffff81400066)
	}
}
