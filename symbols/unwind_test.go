package symbols

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// A hand-made kernel: a few functions with ORC entries, and stacks built
// word by word. Addresses and entries follow the kernel's conventions; the
// values are chosen to exercise one rule of unwind_next_frame() each.

const (
	fnLeaf        uint64 = 0xffffffff81000000 // sp+16, bp saved at prevsp-16
	fnMid                = 0xffffffff81000100 // sp+8
	fnEntry              = 0xffffffff81000200 // REGS at sp+0 (syscall/interrupt entry)
	fnIRQSwitch          = 0xffffffff81000300 // SP_INDIRECT+8 (call_on_irqstack)
	fnNoORC              = 0xffffffff81000400 // ORC undefined: CFI or frame pointer
	fnTop                = 0xffffffff81000500 // END_OF_STACK (ret_from_fork)
	fnPartial            = 0xffffffff81000600 // REGS_PARTIAL at sp+0
	fnBackwards          = 0xffffffff81000700 // sp+0: the stack would not grow
	fnKexec              = 0xffffffff81000800 // machine_kexec: sp+8
	fnCrashKexec         = 0xffffffff81000900 // __crash_kexec: sp+8
	fnNMICallback        = 0xffffffff81000a00 // crash_nmi_callback: sp+8
	fnR13                = 0xffffffff81000b00 // sp = r13 (needs full regs)
	fnEnd                = 0xffffffff81000c00

	orcIPAddr = 0xffffffff82000000
)

type fakeSym struct {
	name string
	addr uint64
}

type fakeImage struct {
	sections map[string][2]any // name -> {data []byte, addr uint64}
	syms     []fakeSym
}

func (f *fakeImage) Section(name string) ([]byte, uint64, bool) {
	s, ok := f.sections[name]
	if !ok {
		return nil, 0, false
	}
	return s[0].([]byte), s[1].(uint64), true
}

func (f *fakeImage) Lookup(name string) (uint64, bool) {
	for _, s := range f.syms {
		if s.name == name {
			return s.addr, true
		}
	}
	return 0, false
}

func (f *fakeImage) Symbolize(addr uint64) (string, uint64, bool) {
	i := sort.Search(len(f.syms), func(i int) bool { return f.syms[i].addr > addr })
	for i > 0 && markers[f.syms[i-1].name] {
		i-- // section markers name no code
	}
	if i == 0 || addr >= fnEnd {
		return "", 0, false
	}
	return f.syms[i-1].name, addr - f.syms[i-1].addr, true
}

var markers = map[string]bool{"_stext": true, "_text": true, "_etext": true, "__start_orc_unwind_ip": true}

func (f *fakeImage) ReadFile(addr uint64, p []byte) error {
	return fmt.Errorf("no file data at %#x", addr)
}

func newFakeImage(withCFI bool) *fakeImage {
	call := func(off int16) []byte { return v3(ORCRegSP, off, ORCRegUndefined, 0, ORCTypeCall, false) }
	rows := []orcRow{
		{fnLeaf, v3(ORCRegSP, 16, ORCRegPrevSP, -16, ORCTypeCall, false)},
		{fnMid, call(8)},
		{fnEntry, v3(ORCRegSP, 0, ORCRegUndefined, 0, ORCTypeRegs, true)},
		{fnIRQSwitch, v3(ORCRegSPIndirect, 8, ORCRegUndefined, 0, ORCTypeCall, false)},
		{fnNoORC, v3(ORCRegUndefined, 0, ORCRegUndefined, 0, ORCTypeUndefined, false)},
		{fnTop, v3(ORCRegUndefined, 0, ORCRegUndefined, 0, ORCTypeEndOfStack, false)},
		{fnPartial, v3(ORCRegSP, 0, ORCRegUndefined, 0, ORCTypeRegsPartial, true)},
		{fnBackwards, call(0)},
		{fnKexec, call(8)},
		{fnCrashKexec, call(8)},
		{fnNMICallback, call(8)},
		{fnR13, v3(ORCRegR13, 8, ORCRegUndefined, 0, ORCTypeCall, false)},
		{fnEnd, v3(ORCRegUndefined, 0, ORCRegUndefined, 0, ORCTypeUndefined, false)},
	}
	ips, orcs := buildORC(orcIPAddr, rows)
	hdr := []byte{0xfe, 0x5d, 0x32, 0xbf, 0x58, 0x1b, 0xd6, 0x3b, 0x2c, 0xa9, 0xa5, 0xc6, 0x5b, 0xa5, 0xa6, 0x25, 0xea, 0xb3, 0xfe, 0x24}
	img := &fakeImage{
		sections: map[string][2]any{
			".orc_unwind_ip": {ips, uint64(orcIPAddr)},
			".orc_unwind":    {orcs, uint64(orcIPAddr + 0x100000)},
			".orc_header":    {hdr, uint64(orcIPAddr + 0x200000)},
			".text":          {[]byte{}, uint64(fnLeaf)},
		},
		syms: []fakeSym{
			{"_stext", fnLeaf}, {"_text", fnLeaf}, {"leaf", fnLeaf}, {"mid", fnMid}, {"entry_asm", fnEntry},
			{"irq_switch", fnIRQSwitch}, {"no_orc", fnNoORC}, {"ret_from_fork", fnTop}, {"partial_entry", fnPartial},
			{"backwards", fnBackwards}, {"machine_kexec", fnKexec}, {"__crash_kexec", fnCrashKexec},
			{"crash_nmi_callback", fnNMICallback}, {"r13_based", fnR13}, {"_etext", fnEnd},
			{"__start_orc_unwind_ip", orcIPAddr},
		},
	}
	sort.SliceStable(img.syms, func(i, j int) bool { return img.syms[i].addr < img.syms[j].addr })
	if withCFI {
		img.sections[".debug_frame"] = [2]any{debugFrameForNoORC(), uint64(0)}
	}
	return img
}

// debugFrameForNoORC is a DWARF 1 .debug_frame with one CIE (CFA = rsp+8,
// return address at CFA-8) and one FDE for no_orc: after its first byte
// (push %rbp) CFA = rsp+16 and rbp is saved at CFA-16.
func debugFrameForNoORC() []byte {
	cie := []byte{
		0xff, 0xff, 0xff, 0xff, // CIE_id
		1,          // version
		0,          // augmentation ""
		1,          // code alignment
		0x78,       // data alignment -8
		16,         // return address register
		0x0c, 7, 8, // DW_CFA_def_cfa rsp 8
		0x90, 1, // DW_CFA_offset r16 at cfa-8
		0, 0, 0, // padding (DW_CFA_nop)
	}
	var fde []byte
	fde = binary.LittleEndian.AppendUint32(fde, 0) // CIE pointer
	fde = binary.LittleEndian.AppendUint64(fde, fnNoORC)
	fde = binary.LittleEndian.AppendUint64(fde, 0x100)
	fde = append(fde,
		0x41,     // DW_CFA_advance_loc 1
		0x0e, 16, // DW_CFA_def_cfa_offset 16
		0x86, 2, // DW_CFA_offset rbp at cfa-16
		0, 0, 0)
	var out []byte
	out = binary.LittleEndian.AppendUint32(out, uint32(len(cie)))
	out = append(out, cie...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(fde)))
	return append(out, fde...)
}

// fakeMem is sparse kernel memory: 8-byte words at addresses.
type fakeMem map[uint64]uint64

func (m fakeMem) ReadVirt(p []byte, addr uint64) error {
	for i := 0; i < len(p); i++ {
		a := addr + uint64(i)
		w, ok := m[a&^7]
		if !ok {
			return fmt.Errorf("address %#x not in dump", a)
		}
		p[i] = byte(w >> (8 * (a & 7)))
	}
	return nil
}

func (m fakeMem) regs(addr uint64, r PtRegs) {
	for i, p := range r.fields() {
		m[addr+uint64(8*i)] = *p
	}
}

// zeroStack makes every word of a stack readable.
func (m fakeMem) zeroStack(s Stack) {
	for a := s.Low; a < s.High; a += 8 {
		m[a] = 0
	}
}

const (
	taskLow uint64 = 0xffffc90000010000
	irqLow  uint64 = 0xffffc90000100000
	nmiLow  uint64 = 0xfffffe0000010000
	stackSz uint64 = 0x4000
)

var (
	taskStack = TaskStack(taskLow, stackSz)
	irqStack  = IRQStack(irqLow+stackSz-8, stackSz)
	nmiStack  = Stack{Kind: StackNMI, Low: nmiLow, High: nmiLow + 0x2000}
)

func funcs(frames []Frame) string {
	var s []string
	for _, f := range frames {
		n := f.Func
		if f.User {
			n = "user"
		}
		s = append(s, fmt.Sprintf("%s/%s", n, f.Method))
	}
	return strings.Join(s, " ")
}

func newFakeUnwinder(t *testing.T, withCFI bool) *Unwinder {
	t.Helper()
	u := NewUnwinder(newFakeImage(withCFI), "")
	if tab, err := u.ORC(); err != nil || tab.Version() != ORCv3 {
		t.Fatalf("ORC: %v %v", tab, err)
	}
	return u
}

// A syscall: leaf <- mid <- entry_asm, whose pt_regs at the top of the task
// stack hold user registers: the end of the kernel stack.
func TestUnwindSyscallToUser(t *testing.T) {
	u := newFakeUnwinder(t, false)
	m := fakeMem{}
	m.zeroStack(taskStack)
	regsAt := taskStack.High - PtRegsSize
	sp := regsAt - 24
	m[sp] = 0xbbbb0000 // leaf's saved rbp (prevsp-16)
	m[sp+8] = fnMid + 0x20
	m[sp+16] = fnEntry + 0x10
	user := PtRegs{IP: 0x401000, CS: 0x33, SP: 0x7ffd1000, SS: 0x2b, BP: 0x7ffd2000, OrigAX: 1}
	m.regs(regsAt, user)
	start := StartFromRegs(PtRegs{IP: fnLeaf + 0x10, SP: sp, BP: 0x1234, CS: 0x10})
	frames, err := u.Unwind(m, start, Options{Stacks: []Stack{taskStack}})
	if err != nil {
		t.Fatalf("%v (frames %s)", err, funcs(frames))
	}
	if got, want := funcs(frames), "leaf/start mid/orc entry_asm/orc user/orc"; got != want {
		t.Fatalf("frames %s, want %s", got, want)
	}
	f := frames
	if f[0].CFA != sp+16 || f[1].SP != sp+16 || f[1].Slot != sp+8 || f[1].BP != 0xbbbb0000 || f[1].Off != 0x20 {
		t.Errorf("frame 1: %+v (frame 0 CFA %#x)", f[1], f[0].CFA)
	}
	if f[2].PC != fnEntry+0x10 || f[2].SP != sp+24 || f[2].CFA != regsAt || f[2].Stack.Kind != StackTask {
		t.Errorf("frame 2: %+v", f[2])
	}
	e := f[3].Exception
	if e == nil || !e.Full || e.Addr != regsAt || e.Regs != user || !f[3].User || f[3].PC != user.IP || f[3].SP != user.SP || f[3].BP != user.BP {
		t.Errorf("user frame: %+v exception %+v", f[3], e)
	}
}

// An interrupt taken on the IRQ stack: irq_switch's SP_INDIRECT rule leads
// back to the task stack through the word at the IRQ stack's top.
func TestUnwindIRQStackSwitch(t *testing.T) {
	u := newFakeUnwinder(t, false)
	m := fakeMem{}
	m.zeroStack(taskStack)
	m.zeroStack(irqStack)
	top := irqStack.High - 8 // hardirq_stack_ptr: holds the task's sp
	sp0 := top - 16
	m[sp0+8] = fnIRQSwitch + 0x10
	x := taskLow + 0x3000
	m[top] = x
	m[x] = fnMid + 0x20
	m[x+8] = fnTop + 0x4
	stacks := []Stack{taskStack, irqStack}
	frames, err := u.Unwind(m, Start{PC: fnLeaf + 0x10, SP: sp0, Signal: true}, Options{Stacks: stacks})
	if err != nil {
		t.Fatalf("%v (frames %s)", err, funcs(frames))
	}
	if got, want := funcs(frames), "leaf/start irq_switch/orc mid/orc ret_from_fork/orc"; got != want {
		t.Fatalf("frames %s, want %s", got, want)
	}
	kinds := []StackKind{StackIRQ, StackIRQ, StackTask, StackTask}
	for i, f := range frames {
		if f.Stack.Kind != kinds[i] {
			t.Errorf("frame %d on %v stack, want %v", i, f.Stack.Kind, kinds[i])
		}
	}
	if frames[2].SP != x+8 || frames[2].Slot != x {
		t.Errorf("frame after the switch: %+v", frames[2])
	}

	// The task stack must not lead back onto the IRQ stack (visit mask).
	m[x+8] = fnIRQSwitch + 0x10
	m[x+16] = irqStack.Low + 0x100
	frames, err = u.Unwind(m, Start{PC: fnLeaf + 0x10, SP: sp0, Signal: true}, Options{Stacks: stacks})
	if err == nil || !strings.Contains(err.Error(), "not on the task's stacks") {
		t.Errorf("re-entering the IRQ stack: err %v, frames %s", err, funcs(frames))
	}

	// Without stacks the same walk is bounded by SP growth only: the jump
	// down from the IRQ stack to the task stack is refused.
	m[x+8] = fnTop + 4
	_, err = u.Unwind(m, Start{PC: fnLeaf + 0x10, SP: sp0, Signal: true}, Options{})
	if err == nil || !strings.Contains(err.Error(), "wrong direction") {
		t.Errorf("unbounded walk: err %v", err)
	}
}

// Code ORC marks undefined: DWARF CFI when vmlinux has .debug_frame,
// the frame-pointer chain otherwise.
func TestUnwindFallbacks(t *testing.T) {
	m := fakeMem{}
	m.zeroStack(taskStack)
	sp := taskLow + 0x2000
	bp := sp + 0x40
	// CFI view: no_orc pushed rbp; CFA = sp+16, rbp at sp, return at sp+8.
	m[sp] = bp
	m[sp+8] = fnMid + 0x20
	m[sp+16] = fnTop + 4 // mid's caller
	// Frame-pointer view: rbp -> {saved rbp, return address}.
	m[bp] = 0
	m[bp+8] = fnTop + 4
	start := Start{PC: fnNoORC + 0x10, SP: sp, BP: bp, Signal: true}
	opt := Options{Stacks: []Stack{taskStack}}

	frames, err := newFakeUnwinder(t, true).Unwind(m, start, opt)
	if err != nil {
		t.Fatalf("cfi: %v (%s)", err, funcs(frames))
	}
	if got, want := funcs(frames), "no_orc/start mid/cfi ret_from_fork/orc"; got != want {
		t.Errorf("cfi: frames %s, want %s", got, want)
	}
	if frames[1].BP != bp || frames[1].SP != sp+16 || frames[0].CFA != sp+16 {
		t.Errorf("cfi frame: %+v", frames[1])
	}

	frames, err = newFakeUnwinder(t, false).Unwind(m, start, opt)
	if err != nil {
		t.Fatalf("fp: %v (%s)", err, funcs(frames))
	}
	if got, want := funcs(frames), "no_orc/start ret_from_fork/fp"; got != want {
		t.Errorf("fp: frames %s, want %s", got, want)
	}
	if frames[1].SP != bp+16 || frames[1].Slot != bp+8 {
		t.Errorf("fp frame: %+v", frames[1])
	}

	// Every method off, or a broken chain: an error naming each method.
	_, err = newFakeUnwinder(t, false).Unwind(m, Start{PC: fnNoORC + 0x10, SP: sp, BP: 0x10, Signal: true}, opt)
	if err == nil || !strings.Contains(err.Error(), "orc:") || !strings.Contains(err.Error(), "fp:") {
		t.Errorf("broken chain: %v", err)
	}
}

// An iret frame (REGS_PARTIAL) under an interrupt, and an ORC rule based on
// R13, which only the full registers under the partial frame can give.
func TestUnwindPartialRegs(t *testing.T) {
	u := newFakeUnwinder(t, false)
	m := fakeMem{}
	m.zeroStack(taskStack)
	sp := taskLow + 0x1000
	iret := PtRegs{IP: fnR13 + 0x8, CS: 0x10, Flags: 0x246, SP: sp + 0x200, SS: 0x18}
	m.regs(sp-iretFrameOffset, iret) // only the last 5 words are read
	r13sp := taskLow + 0x3000
	m[r13sp-8] = fnTop + 4 // ORC_REG_R13: the CFA is r13 itself, sp_offset unused
	start := StartFromRegs(PtRegs{IP: fnPartial + 4, SP: sp, R13: r13sp + 0, CS: 0x10, BP: 0x5555})
	frames, err := u.Unwind(m, start, Options{Stacks: []Stack{taskStack}})
	if err != nil {
		t.Fatalf("%v (%s)", err, funcs(frames))
	}
	if got, want := funcs(frames), "partial_entry/start r13_based/orc ret_from_fork/orc"; got != want {
		t.Fatalf("frames %s, want %s", got, want)
	}
	e := frames[1].Exception
	if e == nil || e.Full || e.Addr != sp-iretFrameOffset || e.Regs.IP != iret.IP || e.Regs.SP != iret.SP || !frames[1].Signal || frames[1].Off != 8 {
		t.Errorf("partial frame %+v exception %+v", frames[1], e)
	}
	if frames[1].BP != 0x5555 {
		t.Errorf("bp after the partial frame %#x, want the full regs' 0x5555", frames[1].BP)
	}
	if frames[2].SP != r13sp {
		t.Errorf("r13-based frame sp %#x", frames[2].SP)
	}

	// Without full registers the R13 rule cannot be followed.
	frames, err = u.Unwind(m, Start{PC: fnR13 + 8, SP: sp, Signal: true}, Options{Stacks: []Stack{taskStack}})
	if err == nil || !strings.Contains(err.Error(), "R13") {
		t.Errorf("R13 without regs: %v (%s)", err, funcs(frames))
	}
}

func TestUnwindBounds(t *testing.T) {
	u := newFakeUnwinder(t, false)
	m := fakeMem{}
	m.zeroStack(taskStack)
	sp := taskLow + 0x100
	// backwards: sp+0 leaves SP where it was.
	m[sp-8] = fnMid + 0x20
	_, err := u.Unwind(m, Start{PC: fnBackwards + 4, SP: sp, Signal: true}, Options{Stacks: []Stack{taskStack}})
	if err == nil || !strings.Contains(err.Error(), "wrong direction") {
		t.Errorf("backwards: %v", err)
	}
	// A stack full of return addresses into mid: one frame per word, until
	// the cap.
	for a := taskStack.Low; a < taskStack.High; a += 8 {
		m[a] = fnMid + 0x20
	}
	frames, err := u.Unwind(m, Start{PC: fnMid + 0x20, SP: sp}, Options{Stacks: []Stack{taskStack}, MaxFrames: 10})
	if !errors.Is(err, ErrMaxFrames) || len(frames) != 10 {
		t.Errorf("cap: %d frames, %v", len(frames), err)
	}
	// Without the cap the walk ends at the top of the stack.
	frames, err = u.Unwind(m, Start{PC: fnMid + 0x20, SP: taskStack.High - 0x200}, Options{Stacks: []Stack{taskStack}})
	if err == nil || errors.Is(err, ErrMaxFrames) || len(frames) != 0x200/8+1 {
		t.Errorf("top of stack: %d frames, %v", len(frames), err)
	}
	// A start outside every stack.
	_, err = u.Unwind(m, Start{PC: fnMid + 0x20, SP: 0x1000}, Options{Stacks: []Stack{taskStack}})
	if err == nil || !strings.Contains(err.Error(), "none of the task's stacks") {
		t.Errorf("bad start: %v", err)
	}
	// PC 0: a call through a NULL pointer (null_orc_entry).
	m[sp] = fnTop + 4
	frames, err = u.Unwind(m, Start{PC: 0, SP: sp, Signal: true}, Options{Stacks: []Stack{taskStack}})
	if err != nil || funcs(frames) != "/start ret_from_fork/orc" {
		t.Errorf("null pc: %s, %v", funcs(frames), err)
	}
}

func TestSleepingStart(t *testing.T) {
	u := newFakeUnwinder(t, false)
	m := fakeMem{}
	m.zeroStack(taskStack)
	threadSP := taskLow + 0x3000
	l := DefaultTaskFrameLayout
	m[threadSP+uint64(l.BP)] = 0xabc0
	m[threadSP+uint64(l.RetAddr)] = fnMid + 0x20
	m[threadSP+uint64(l.Size)] = fnTop + 4
	s, err := u.SleepingStart(m, threadSP, l)
	if err != nil {
		t.Fatal(err)
	}
	want := Start{PC: fnMid + 0x20, SP: threadSP + 56, BP: 0xabc0, Slot: threadSP + 48}
	if s != want {
		t.Fatalf("start %+v, want %+v", s, want)
	}
	frames, err := u.Unwind(m, s, Options{Stacks: []Stack{taskStack}})
	if err != nil || funcs(frames) != "mid/start ret_from_fork/orc" || frames[0].Slot != threadSP+48 {
		t.Errorf("%s %v", funcs(frames), err)
	}
	// A task that never ran resumes at ret_from_fork itself.
	m[threadSP+uint64(l.RetAddr)] = fnTop
	if s, err = u.SleepingStart(m, threadSP, l); err != nil || !s.Signal {
		t.Errorf("ret_from_fork start %+v %v", s, err)
	}
	if _, err = u.SleepingStart(m, 0x1000, l); err == nil {
		t.Error("unreadable thread.sp accepted")
	}
	if _, err = u.SleepingStart(m, threadSP, TaskFrameLayout{Size: 8, BP: 8, RetAddr: 0}); err == nil {
		t.Error("bad layout accepted")
	}
}

func TestActiveStart(t *testing.T) {
	u := newFakeUnwinder(t, false)
	m := fakeMem{}
	m.zeroStack(taskStack)
	m.zeroStack(nmiStack)
	stacks := []Stack{taskStack, nmiStack}

	// kdump's CPU: registers saved in __crash_kexec at sp r; below them
	// machine_kexec's frame, and a stale machine_kexec address deeper down.
	r := taskLow + 0x2000
	m[r-8] = fnCrashKexec + 0x40 // machine_kexec's return into __crash_kexec
	m[r-16] = fnKexec + 0x20     // relocate_kernel's return into machine_kexec
	m[r-48] = fnKexec + 0x10     // stale
	m[r] = fnTop + 4
	regs := PtRegs{IP: fnCrashKexec + 0x30, SP: r, BP: 0x77, CS: 0x10}
	s, how := u.ActiveStart(m, regs, stacks)
	if how != "machine_kexec" || s.PC != fnKexec+0x20 || s.SP != r-8 || s.Slot != r-16 || s.BP != 0x77 {
		t.Fatalf("kexec start %+v %s", s, how)
	}
	frames, err := u.Unwind(m, s, Options{Stacks: stacks})
	if err != nil || funcs(frames) != "machine_kexec/start __crash_kexec/orc ret_from_fork/orc" {
		t.Errorf("%s %v", funcs(frames), err)
	}

	// Another CPU: NMI'd while in leaf; its pt_regs on the NMI stack under
	// crash_nmi_callback <- entry_asm.
	m2 := fakeMem{}
	m2.zeroStack(taskStack)
	m2.zeroStack(nmiStack)
	slot := nmiStack.High - PtRegsSize - 16
	m2[slot] = fnNMICallback + 0x10
	m2[slot+8] = fnEntry + 0x10
	tsp := taskLow + 0x2000
	interrupted := PtRegs{IP: fnLeaf + 0x10, SP: tsp, CS: 0x10, BP: 0x99}
	m2.regs(slot+16, interrupted)
	m2[tsp+8] = fnTop + 4
	s, how = u.ActiveStart(m2, interrupted, stacks)
	if how != "crash_nmi_callback" || s.PC != fnNMICallback+0x10 || s.SP != slot+8 {
		t.Fatalf("nmi start %+v %s", s, how)
	}
	frames, err = u.Unwind(m2, s, Options{Stacks: stacks})
	if err != nil || funcs(frames) != "crash_nmi_callback/start entry_asm/orc leaf/orc ret_from_fork/orc" {
		t.Errorf("%s %v", funcs(frames), err)
	}
	if frames[2].Exception == nil || frames[2].Stack.Kind != StackTask || frames[1].Stack.Kind != StackNMI {
		t.Errorf("nmi frames %+v", frames)
	}

	// Nothing to find: the registers themselves.
	s, how = u.ActiveStart(fakeMem{}, interrupted, stacks)
	if how != "registers" || s.PC != interrupted.IP || s.Regs == nil || !s.Signal {
		t.Errorf("fallback start %+v %s", s, how)
	}
	// A task in user mode.
	user := PtRegs{IP: 0x401000, SP: 0x7ff000, CS: 0x33}
	frames, err = u.Unwind(m2, StartFromRegs(user), Options{Stacks: stacks})
	if err != nil || len(frames) != 1 || !frames[0].User || frames[0].Exception == nil {
		t.Errorf("user start: %+v %v", frames, err)
	}
}

// FuzzUnwind walks garbage: any memory, any start, must end without a
// panic and within the frame cap.
func FuzzUnwind(f *testing.F) {
	f.Add([]byte{}, uint64(fnLeaf+0x10), uint64(taskLow+0x100), uint64(0), true, uint8(0))
	f.Add(make([]byte, 512), uint64(fnIRQSwitch+4), uint64(taskLow+0x3f00), uint64(taskLow+0x3f80), false, uint8(1))
	seed := make([]byte, 256)
	for i := 0; i < len(seed); i += 8 {
		binary.LittleEndian.PutUint64(seed[i:], fnMid+0x20+uint64(i))
	}
	f.Add(seed, uint64(fnEntry+8), uint64(taskLow+0x3f00), uint64(taskLow+0x3f40), true, uint8(2))
	u := NewUnwinder(newFakeImage(true), "")
	f.Fuzz(func(t *testing.T, data []byte, pc, sp, bp uint64, signal bool, mode uint8) {
		// data fills the task stack from sp down, and repeats on the IRQ stack.
		m := fakeMem{}
		base := sp &^ 7
		for i := 0; i+8 <= len(data) && i < 1<<16; i += 8 {
			w := binary.LittleEndian.Uint64(data[i:])
			m[base+uint64(i)] = w
			m[irqStack.Low+uint64(i)%stackSz] = w
		}
		opt := Options{MaxFrames: 64}
		if mode&1 != 0 {
			opt.Stacks = []Stack{TaskStack(sp&^(stackSz-1), stackSz), irqStack}
		}
		opt.NoORC, opt.NoCFI = mode&2 != 0, mode&4 != 0
		start := Start{PC: pc, SP: sp, BP: bp, Signal: signal}
		if mode&8 != 0 {
			r := PtRegsFromWords([]uint64{pc, sp, bp, pc ^ sp, bp, pc, sp, bp, 0, 0, 0, 0, 0, 0, 0, 0, pc, uint64(mode) >> 4, 0, sp, 0})
			start = StartFromRegs(r)
		}
		frames, _ := u.Unwind(m, start, opt)
		if len(frames) == 0 || len(frames) > 64 {
			t.Fatalf("%d frames", len(frames))
		}
		u.ActiveStart(m, PtRegs{IP: pc, SP: sp, BP: bp}, opt.Stacks)
		u.SleepingStart(m, sp, DefaultTaskFrameLayout)
	})
}

// A module's ORC table read from memory answers for its text only.
func TestModuleORC(t *testing.T) {
	const modText, modIP, modORC = 0xffffffffc0000000, 0xffffffffc0010000, 0xffffffffc0020000
	ips, orcs := buildORC(modIP, []orcRow{
		{modText, v3(ORCRegSP, 16, ORCRegUndefined, 0, ORCTypeCall, false)},
		{modText + 0x100, v3(ORCRegUndefined, 0, ORCRegUndefined, 0, ORCTypeUndefined, false)},
	})
	m := fakeMem{}
	put := func(addr uint64, b []byte) {
		b = append(b, make([]byte, 8)...)
		for i := 0; i+8 <= len(b); i += 8 {
			m[addr+uint64(i)] = binary.LittleEndian.Uint64(b[i:])
		}
	}
	put(modIP, ips)
	put(modORC, orcs)
	tab, err := ModuleORC(m, modIP, modORC, 2, ORCv3, [][2]uint64{{modText, modText + 0x100}})
	if err != nil {
		t.Fatal(err)
	}
	u := newFakeUnwinder(t, false)
	u.AddModuleORC(tab)
	m.zeroStack(taskStack)
	sp := taskLow + 0x1000
	m[sp+8] = fnTop + 4
	frames, err := u.Unwind(m, Start{PC: modText + 0x10, SP: sp, Signal: true}, Options{Stacks: []Stack{taskStack}})
	if err != nil || len(frames) != 2 || frames[1].Method != MethodORC || frames[1].Func != "ret_from_fork" {
		t.Errorf("through module text: %s %v", funcs(frames), err)
	}
	if _, _, ok := tab.Find(modText + 0x100); ok {
		t.Error("module table answered outside its text")
	}
	if _, err := ModuleORC(m, modIP, modORC, 0, ORCv3, nil); err == nil {
		t.Error("num_orcs 0 accepted")
	}
	if _, err := ModuleORC(m, 0x1000, modORC, 2, ORCv3, nil); err == nil {
		t.Error("unreadable table accepted")
	}
}

// TestIRQStackPointer: hardirq_stack_ptr points at the stack's top-most
// word since 5.12, past the stack before (Debian's 5.10: 0xffffb96040004000
// for the 16 KB stack at 0xffffb96040000000, as crash's mach shows it).
func TestIRQStackPointer(t *testing.T) {
	const base, size = 0xffffb96040000000, 16384
	for _, ptr := range []uint64{base + size - 8, base + size} {
		if st := IRQStack(ptr, size); st.Low != base || st.High != base+size || st.Kind != StackIRQ {
			t.Errorf("IRQStack(%#x) = [%#x, %#x) kind %v, want [%#x, %#x)", ptr, st.Low, st.High, st.Kind, uint64(base), uint64(base+size))
		}
	}
}
