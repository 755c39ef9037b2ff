package symbols

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-delve/delve/pkg/dwarf/frame"
)

// objtoolReg prints an ORC base register as objtool's orc_dump.c does.
func objtoolReg(r ORCReg, off int16) string {
	switch r {
	case ORCRegUndefined:
		return "(und)"
	case ORCRegBPIndirect:
		return fmt.Sprintf("(bp%+d)", off)
	case ORCRegSPIndirect:
		return fmt.Sprintf("(sp)%+d", off)
	case ORCRegPrevSP:
		return fmt.Sprintf("prevsp%+d", off)
	}
	return fmt.Sprintf("%s%+d", r, off)
}

// TestORCMatchesObjtool decodes the 6.1 vmlinux's ORC table (layout v1,
// decided from linux_banner: 6.1 has no .orc_header) and compares entries
// with objtool's own dump of the same file.
func TestORCMatchesObjtool(t *testing.T) {
	v := openVmlinux61(t)
	tab, err := LoadORC(v, "")
	if err != nil {
		t.Fatal(err)
	}
	if tab.Version() != ORCv1 || tab.VersionEvidence() != "kernel release 6.1.192" {
		t.Errorf("layout %v from %q, want v1 from kernel release 6.1.192", tab.Version(), tab.VersionEvidence())
	}
	if tab.Len() != 118711 { // objtool --dump=orc | wc -l
		t.Errorf("%d entries, objtool dumps 118711", tab.Len())
	}
	f, err := os.Open("testdata/orc_objtool_6.1.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		idx, spec, _ := strings.Cut(line, " ")
		i, _ := strconv.Atoi(idx)
		_, e := tab.At(i)
		oldType := []string{"call", "regs", "regs (partial)", "?"}[e.Raw>>8&3]
		got := fmt.Sprintf("sp:%s bp:%s type:%s end:%d", objtoolReg(e.SPReg, e.SPOffset), objtoolReg(e.BPReg, e.BPOffset), oldType, e.Raw>>10&1)
		if got != spec {
			t.Errorf("entry %d: %s, objtool: %s", i, got, spec)
		}
		// The v3 meaning given to the v1 bits.
		want := ORCTypeCall + ORCType(e.Raw>>8&3)
		switch {
		case e.SPReg == ORCRegUndefined && e.Raw&0x400 != 0:
			want = ORCTypeEndOfStack
		case e.SPReg == ORCRegUndefined:
			want = ORCTypeUndefined
		}
		if e.Type != want || e.Signal != (oldType != "call") {
			t.Errorf("entry %d (%s): normalized to %v signal %v", i, spec, e.Type, e.Signal)
		}
		n++
	}
	if n < 1000 {
		t.Errorf("only %d objtool lines checked", n)
	}
	// The PCs: at a C function's first instruction the return address is
	// at rsp (CFA = sp+8). The entry may start earlier, at the previous
	// function's ret, which has the same state.
	for _, fn := range []string{"__schedule", "schedule", "panic", "machine_kexec", "do_syscall_64", "start_kernel"} {
		a, ok := v.Lookup(fn)
		if !ok {
			t.Fatalf("no symbol %s", fn)
		}
		e, start, ok := tab.Find(a)
		if !ok || start > a || e.SPReg != ORCRegSP || e.SPOffset != 8 || e.Type != ORCTypeCall || e.BPReg != ORCRegUndefined {
			t.Errorf("Find(%s %#x) = %v at %#x, %v; want sp:sp+8 call", fn, a, e, start, ok)
		}
	}
	// __crash_kexec is STACK_FRAME_NON_STANDARD (kernel/kexec_core.c): no
	// ORC for its whole body, an entry of type undefined at its start.
	ck, _ := v.Lookup("__crash_kexec")
	if e, start, _ := tab.Find(ck + 0x10); start != ck || e.Type != ORCTypeUndefined {
		t.Errorf("__crash_kexec+0x10: %v at %#x, want undefined from %#x", e, start, ck)
	}
	// ret_from_fork's hint: the end of a kernel thread's stack, after its
	// first instructions (UNWIND_HINT_EMPTY in entry_64.S).
	rff, _ := v.Lookup("ret_from_fork")
	if e, _, _ := tab.Find(rff); e.Type != ORCTypeEndOfStack {
		t.Errorf("ret_from_fork: %v, want end of stack", e)
	}
	if _, _, ok := tab.Find(0xffffffff80000000); ok {
		t.Error("Find answered below _stext")
	}
}

// TestCFI61 checks .debug_frame of the 6.1 vmlinux parses through delve and
// gives __schedule's entry state: CFA = rsp+8, return address at CFA-8.
func TestCFI61(t *testing.T) {
	v := openVmlinux61(t)
	u := NewUnwinder(v, "")
	if err := u.CFI(); err != nil {
		t.Fatal(err)
	}
	sched, _ := v.Lookup("__schedule")
	r, err := u.cfi.row(sched)
	if err != nil {
		t.Fatal(err)
	}
	if r.cfaReg != dwarfRSP || r.cfaOffset != 8 || r.ra.Offset != -8 || r.fdeBegin != sched {
		t.Errorf("__schedule entry row: %+v", r)
	}
}

// TestCFILazyIndex61 checks the lazy .debug_frame index against delve's
// parse of the whole section: every FDE delve finds is indexed with the
// same range, and a pc in each answers with the FDE delve's own lookup
// gives, rows alike.
func TestCFILazyIndex61(t *testing.T) {
	v := openVmlinux61(t)
	data, _, ok := v.Section(".debug_frame")
	if !ok {
		t.Skip("no .debug_frame")
	}
	all, err := frame.Parse(data, binary.LittleEndian, 0, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Begin() < all[j].Begin() })
	tab, err := parseCFI(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.offs) != len(all) {
		t.Fatalf("%d FDEs indexed, delve parsed %d", len(tab.offs), len(all))
	}
	for i, want := range all {
		if i%7 != 0 {
			continue
		}
		f := tab.sorted(i)
		if f.begin != want.Begin() || f.begin+f.size != want.End() {
			t.Fatalf("FDE %d: [%#x,%#x), delve [%#x,%#x)", i, f.begin, f.begin+f.size, want.Begin(), want.End())
		}
		for _, pc := range []uint64{want.Begin(), want.Begin() + (want.End()-want.Begin())/2} {
			w, err1 := frame.FrameDescriptionEntries(all).FDEForPC(pc)
			g, err2 := tab.fdeForPC(pc)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("pc %#x: delve %v, index %v", pc, err1, err2)
			}
			if err1 != nil {
				continue
			}
			if w.Begin() != g.Begin() || w.End() != g.End() || !bytes.Equal(w.Instructions, g.Instructions) || w.CIE.ReturnAddressRegister != g.CIE.ReturnAddressRegister || !bytes.Equal(w.CIE.InitialInstructions, g.CIE.InitialInstructions) {
				t.Fatalf("pc %#x: index FDE [%#x,%#x) differs from delve's [%#x,%#x)", pc, g.Begin(), g.End(), w.Begin(), w.End())
			}
		}
	}
}
