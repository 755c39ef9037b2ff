package symbols

import (
	"debug/elf"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/internal/testbed"
	"gocrash/vmcore"
)

// memImagePair opens a test-bed dump twice over: the image read from its
// memory (kallsyms, .BTF, ORC), and the vmlinux file it came from, which
// is the oracle here — everything the memory image says must be what the
// vmlinux says.
type memImagePair struct {
	name     string
	mem      Memory
	file     *Vmlinux
	fromMem  *Vmlinux
	info     *vmcore.VMCoreInfo
	kallsyms KallsymsAddrs
}

func openMemImagePairs(t *testing.T) []memImagePair {
	t.Helper()
	out := openMemImagePairsF(t)
	if len(out) == 0 {
		t.Skip("no test-bed dump with kallsyms in its VMCOREINFO")
	}
	return out
}

// openMemImagePairsF is openMemImagePairs for fuzz seeds: none is no skip.
func openMemImagePairsF(t testing.TB) []memImagePair {
	t.Helper()
	var out []memImagePair
	seen := map[string]bool{}
	for _, tb := range testbed.All(t) {
		if seen[tb.Vmlinux] {
			continue // one format of each kernel is enough
		}
		seen[tb.Vmlinux] = true
		p, ok := openMemImagePair(t, tb.Name+"/"+tb.Format, tb.Vmlinux, tb.Vmcore)
		if ok {
			out = append(out, p)
		}
	}
	if extra := os.Getenv("GOCRASH_NODEBUG_DUMP"); extra != "" {
		// A dump outside the test bed: VMLINUX:VMCORE.
		if vml, vmc, ok := strings.Cut(extra, ":"); ok {
			if p, ok := openMemImagePair(t, "extra", vml, vmc); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

func openMemImagePair(t testing.TB, name, vmlinuxPath, vmcorePath string) (memImagePair, bool) {
	t.Helper()
	d, err := vmcore.Open(vmcorePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	info := d.Info()
	if info == nil {
		t.Logf("%s: no VMCOREINFO", name)
		return memImagePair{}, false
	}
	params, err := vmcore.ParamsFromInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	mem := vmcore.NewKernelSpace(d, params)
	sym := func(n string) uint64 { a, _ := info.Symbol(n); return a }
	ka := KallsymsAddrs{Names: sym("kallsyms_names"), NumSyms: sym("kallsyms_num_syms"), TokenTable: sym("kallsyms_token_table"),
		TokenIndex: sym("kallsyms_token_index"), Offsets: sym("kallsyms_offsets"), RelativeBase: sym("kallsyms_relative_base")}
	if !ka.Complete() {
		// A kernel before 6.0: the arrays are found in the image.
		var err error
		if ka, err = FindKallsyms(mem, imageStart(info)); err != nil {
			t.Logf("%s: VMCOREINFO has no kallsyms (a kernel before 6.0), and the image none found: %v", name, err)
			return memImagePair{}, false
		}
	}
	file, err := Open(vmlinuxPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	file.SetKASLR(info.KernelOffset)
	fromMem, err := OpenMemoryImage(vmcorePath, mem, MemoryImageLayout{Kallsyms: ka, KASLR: info.KernelOffset, BuildID: info.BuildID})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return memImagePair{name: name, mem: mem, file: file, fromMem: fromMem, info: info, kallsyms: ka}, true
}

// TestKallsymsAreTheSymtab: every symbol of the dump's kallsyms is a
// symbol of the vmlinux's .symtab, at the same (relocated) address and of
// the same nm class; per-cpu symbols, which scripts/kallsyms.c's
// --absolute-percpu retypes 'A', at the same per-cpu offset.
func TestKallsymsAreTheSymtab(t *testing.T) {
	for _, p := range openMemImagePairs(t) {
		ks, err := ReadKallsyms(p.mem, p.kallsyms)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		byName := map[string][]Symbol{}
		for _, s := range p.file.Symbols() {
			byName[s.Name] = append(byName[s.Name], s)
		}
		bad := 0
		for _, k := range ks {
			found := false
			for _, s := range byName[k.Name] {
				// The ELF reader leaves a symbol of a section linked at 0
				// (__init_begin, __per_cpu_load in .data..percpu's
				// neighbourhood) unrelocated: compare it relocated.
				// kallsyms types a few linker symbols '?'.
				if (s.Addr == k.Addr || s.Addr+p.info.KernelOffset == k.Addr) &&
					(k.Absolute || k.Type == '?' || kindClass(s.Kind) == kindClass(k.Type)) {
					found = true
					break
				}
			}
			if !found {
				if bad++; bad <= 10 {
					t.Errorf("%s: kallsyms %c %s at %#x: not so in the vmlinux (%v)", p.name, k.Type, k.Name, k.Addr, byName[k.Name])
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d kallsyms symbols differ from the vmlinux", p.name, bad, len(ks))
		}
		if len(ks) < 1000 {
			t.Errorf("%s: only %d kallsyms symbols", p.name, len(ks))
		}
	}
}

// kindClass folds the weak classes into text/data for the comparison
// (kallsyms says W/V, the ELF reader W/V or the section's letter).
func kindClass(k byte) byte {
	switch k {
	case 'W', 'w':
		return 'T'
	case 'V', 'v':
		return 'D'
	}
	if k >= 'a' && k <= 'z' {
		k -= 'a' - 'A'
	}
	return k
}

// TestMemImageSymbolizes: an address names the same function from the
// dump's kallsyms as from the vmlinux, at every function start and inside
// each function — what bt, dis and rd -s print.
func TestMemImageSymbolizes(t *testing.T) {
	for _, p := range openMemImagePairs(t) {
		bad, n, aliases := 0, 0, 0
		for _, s := range p.file.Symbols() {
			if s.Kind != 'T' && s.Kind != 't' || s.Size == 0 {
				continue
			}
			for _, a := range []uint64{s.Addr, s.Addr + s.Size/2} {
				n++
				fn, fo, fok := p.file.Symbolize(a)
				mn, mo, mok := p.fromMem.Symbolize(a)
				if fn != mn && fok && mok && fo == mo && namedAt(p.file, a-fo, mn) {
					// Identical functions folded into one body, or a
					// label at a function's start: the same address has
					// both names in the vmlinux, and the ELF file's
					// symbol order, which picks one, is not in kallsyms.
					aliases++
					continue
				}
				if fn != mn || fo != mo || fok != mok {
					if bad++; bad <= 20 {
						t.Errorf("%s: %#x: vmlinux %s+%#x (%v), kallsyms %s+%#x (%v)", p.name, a, fn, fo, fok, mn, mo, mok)
					}
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d addresses named differently", p.name, bad, n)
		}
		t.Logf("%s: %d addresses, %d named by another alias of the same address", p.name, n, aliases)
	}
}

// namedAt reports whether v has a symbol called name at exactly addr.
func namedAt(v *Vmlinux, addr uint64, name string) bool {
	for _, s := range v.SymbolsAt(addr) {
		if s.Name == name {
			return true
		}
	}
	return false
}

// TestBTFLayoutsAreDWARF: every struct and union the kernel's in-memory
// BTF describes has the vmlinux DWARF's layout — size, member names,
// offsets, bit fields and member types — which is what struct, p and
// every walker read objects by.
func TestBTFLayoutsAreDWARF(t *testing.T) {
	for _, p := range openMemImagePairs(t) {
		if !p.fromMem.HasBTF() {
			t.Logf("%s: the kernel has no BTF", p.name)
			continue
		}
		bt, err := p.fromMem.Types()
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		dw, err := p.file.Types()
		if err != nil {
			t.Fatal(err)
		}
		names, err := bt.TypeNames("")
		if err != nil {
			t.Fatal(err)
		}
		defs := map[string]int{} // struct and union definitions of each name
		if err := btfScan(bt.btf.data, func(r btfRecord) {
			if r.kind == btfKindStruct || r.kind == btfKindUnion {
				defs[r.name()]++
			}
		}); err != nil {
			t.Fatal(err)
		}
		checked, bad := 0, 0
		for _, name := range names {
			for _, kind := range []string{"struct ", "union "} {
				b, err1 := bt.Lookup(kind + name)
				d, err2 := dw.Lookup(kind + name)
				if err1 != nil || err2 != nil {
					continue // a tag of the other kind
				}
				if defs[name] > 1 {
					// Several definitions of the name (a driver's private
					// struct dma_chan beside dmaengine's): which one a
					// name means is DWARF's unit order, not in BTF.
					continue
				}
				checked++
				if diff := layoutDiff(bt, dw, b, d); diff != "" {
					if bad++; bad <= 10 {
						t.Errorf("%s: %s%s: %s", p.name, kind, name, diff)
					}
				}
			}
		}
		if bad > 0 || checked < 1000 {
			t.Errorf("%s: %d of %d struct/union layouts differ", p.name, bad, checked)
		}
		t.Logf("%s: %d struct/union layouts equal in BTF and DWARF", p.name, checked)
	}
}

func layoutDiff(bt, dw *Types, b, d godwarf.Type) string {
	bs, err1 := bt.Resolve(b)
	ds, err2 := dw.Resolve(d)
	if err1 != nil || err2 != nil {
		if (err1 == nil) != (err2 == nil) {
			return fmt.Sprintf("resolve: BTF %v, DWARF %v", err1, err2)
		}
		return ""
	}
	st1, ok1 := bs.(*godwarf.StructType)
	st2, ok2 := ds.(*godwarf.StructType)
	if !ok1 || !ok2 {
		return fmt.Sprintf("BTF %T, DWARF %T", bs, ds)
	}
	if st1.ByteSize != st2.ByteSize || len(st1.Field) != len(st2.Field) {
		return fmt.Sprintf("size %d/%d, %d/%d members", st1.ByteSize, st2.ByteSize, len(st1.Field), len(st2.Field))
	}
	for i, f := range st1.Field {
		g := st2.Field[i]
		if f.Name != g.Name || f.ByteOffset != g.ByteOffset || f.BitOffset != g.BitOffset || f.BitSize != g.BitSize {
			return fmt.Sprintf("member %d: BTF %s@%d.%d:%d, DWARF %s@%d.%d:%d", i, f.Name, f.ByteOffset, f.BitOffset, f.BitSize, g.Name, g.ByteOffset, g.BitOffset, g.BitSize)
		}
		if a, b := typeName(f.Type), typeName(g.Type); a != b && !btfArrayLimit(f.Type, g.Type) {
			return fmt.Sprintf("member %s: BTF type %s, DWARF %s", f.Name, a, b)
		}
	}
	return ""
}

// btfArrayLimit reports the two array differences BTF cannot avoid:
// pahole writes a multi-dimensional array as one flat array of the same
// size (atomic_t [2][8][3] as [48]), and one BTF array of zero elements
// stands for both x[0] and x[] (DWARF's counts 0 and -1). Printing such
// a member shows the one dimension and "[]".
func btfArrayLimit(b, d godwarf.Type) bool {
	ba, ok1 := b.(*godwarf.ArrayType)
	da, ok2 := d.(*godwarf.ArrayType)
	if !ok1 || !ok2 {
		return false
	}
	if ba.Count == -1 && da.Count == 0 {
		return typeName(ba.Type) == typeName(da.Type)
	}
	n, elem := da.Count, da.Type
	for {
		inner, ok := elem.(*godwarf.ArrayType)
		if !ok {
			break
		}
		n, elem = n*inner.Count, inner.Type
	}
	return n == ba.Count && typeName(elem) == typeName(ba.Type)
}

// knownVarsExtent are the declarations sized by a #define (MAX_SWAPFILES,
// MAX_NUMNODES, HUGE_MAX_HSTATE, NR_CPUS, TAINT_FLAGS_COUNT) or whose last
// entry may be zero (pageflag_names' terminator on 6.1, not on 6.12): without DWARF their length is kallsyms' extent,
// padding included, so at least DWARF's.
var knownVarsExtent = map[string]bool{"swap_info": true, "swapper_spaces": true, "nr_swapper_spaces": true,
	"node_data": true, "hstates": true, "__per_cpu_offset": true, "taint_flags": true, "pageflag_names": true}

// TestKnownVarsAreDWARF: the declarations gocrash gives the global
// variables BTF has no types for (knownVars) are the vmlinux's: the same
// type name and size as DWARF's for each variable the kernel has.
func TestKnownVarsAreDWARF(t *testing.T) {
	for _, p := range openMemImagePairs(t) {
		if !p.fromMem.HasBTF() {
			continue
		}
		bt, err := p.fromMem.Types()
		if err != nil {
			t.Fatal(err)
		}
		dw, err := p.file.Types()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for name := range knownVars {
			d, err := dw.VarType(name)
			if err != nil {
				continue // not in this kernel's configuration
			}
			b, err := bt.VarType(name)
			if err != nil {
				t.Errorf("%s: %s: %v (DWARF: %s)", p.name, name, err, typeName(d))
				continue
			}
			n++
			sb, _ := bt.Size(b)
			sd, _ := dw.Size(d)
			if knownVarsExtent[name] && sb >= sd {
				q, isQual := b.(*godwarf.QualType)
				inner := b
				if isQual {
					inner = q.Type
				}
				if ba, ok := inner.(*godwarf.ArrayType); ok {
					b = &godwarf.ArrayType{Type: ba.Type, Count: sd / (sb / max(ba.Count, 1))}
					if isQual {
						b = &godwarf.QualType{Qual: q.Qual, Type: b}
					}
					sb = sd
				}
			}
			if typeName(b) != typeName(d) || sb != sd {
				t.Errorf("%s: %s: BTF+knownVars %s (%d bytes), DWARF %s (%d bytes)", p.name, name, typeName(b), sb, typeName(d), sd)
			}
		}
		t.Logf("%s: %d declared variables checked", p.name, n)
	}
}

// TestMemImageWithoutORC: a kernel image whose ORC tables are absent (an
// image without the __start_orc_unwind_ip range) gives the unwinder an
// error naming what is missing, and unwinding still ends, by the other
// methods, without a panic.
func TestMemImageWithoutORC(t *testing.T) {
	p := openMemImagePairs(t)[0]
	v := p.fromMem
	var kept []*elf.Section
	for _, s := range v.f.Sections {
		if !strings.HasPrefix(s.Name, ".orc") {
			kept = append(kept, s)
		}
	}
	v.f.Sections = kept
	if v.HasORC() {
		t.Fatal("HasORC after removing the ORC sections")
	}
	u := NewUnwinder(v, p.info.OSRelease)
	if _, err := u.ORC(); err == nil || !strings.Contains(err.Error(), ".orc_unwind_ip") {
		t.Errorf("ORC() error %v, want one naming .orc_unwind_ip", err)
	}
	// From schedule's first instruction with a stack of zeroes: no frame
	// can be found, and the walk ends.
	sched, _ := v.Lookup("schedule")
	mem := sliceMemory{base: 0xffffc90000000000, data: make([]byte, 8192)}
	frames, _ := u.Unwind(mem, Start{PC: sched, SP: mem.base + 4096}, Options{})
	if len(frames) > 4 {
		t.Errorf("%d frames from a zeroed stack", len(frames))
	}
}

// imageStart is where FindKallsyms starts looking: VMCOREINFO's _stext, else
// x86_64's default _text moved by KASLR.
func imageStart(info *vmcore.VMCoreInfo) uint64 {
	if a, ok := info.Symbol("_stext"); ok {
		return a
	}
	return 0xffffffff81000000 + info.KernelOffset
}

// TestFindKallsyms: the kallsyms arrays found in the image by their
// structure are those VMCOREINFO names, on every dump of a kernel that
// names them.
func TestFindKallsyms(t *testing.T) {
	n := 0
	for _, p := range openMemImagePairs(t) {
		sym := func(n string) uint64 { a, _ := p.info.Symbol(n); return a }
		want := KallsymsAddrs{Names: sym("kallsyms_names"), NumSyms: sym("kallsyms_num_syms"), TokenTable: sym("kallsyms_token_table"),
			TokenIndex: sym("kallsyms_token_index"), Offsets: sym("kallsyms_offsets"), RelativeBase: sym("kallsyms_relative_base")}
		if !want.Complete() {
			continue
		}
		n++
		got, err := FindKallsyms(p.mem, imageStart(p.info))
		if err != nil || got != want {
			t.Errorf("%s: found %+v, %v; VMCOREINFO says %+v", p.name, got, err, want)
		}
		// Down from a .data variable (the session's way), and from a
		// bound below the table (then up from the start).
		for _, upper := range []uint64{sym("init_uts_ns"), imageStart(p.info) + 4096} {
			if got, err := FindKallsymsBelow(p.mem, imageStart(p.info), upper); err != nil || got != want {
				t.Errorf("%s: below %#x: found %+v, %v; VMCOREINFO says %+v", p.name, upper, got, err, want)
			}
		}
	}
	if n == 0 {
		t.Skip("no dump with kallsyms in its VMCOREINFO")
	}
}
