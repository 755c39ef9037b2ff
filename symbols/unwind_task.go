package symbols

// Where a task's backtrace starts: the frame __switch_to_asm() saved for a
// task that is not running, or the registers its CPU left in the dump.

import (
	"encoding/binary"
	"fmt"
)

// TaskFrameLayout places the fields of struct inactive_task_frame (the
// frame at task->thread.sp of a switched-out task; arch/x86/include/asm/switch_to.h).
type TaskFrameLayout struct {
	Size    int64 // sizeof(struct inactive_task_frame)
	BP      int64 // offsetof(bp)
	RetAddr int64 // offsetof(ret_addr)
}

// DefaultTaskFrameLayout is x86_64's inactive_task_frame in 6.1 and 6.12
// (r15 r14 r13 r12 bx bp ret_addr), for a vmlinux without DWARF.
var DefaultTaskFrameLayout = TaskFrameLayout{Size: 7 * 8, BP: 5 * 8, RetAddr: 6 * 8}

// TaskFrameLayoutFrom reads the layout from DWARF.
func TaskFrameLayoutFrom(t *Types) (TaskFrameLayout, error) {
	var l TaskFrameLayout
	var err error
	if l.Size, err = t.SizeOf("inactive_task_frame"); err != nil {
		return l, err
	}
	if l.BP, err = t.Offset("inactive_task_frame.bp"); err != nil {
		return l, err
	}
	if l.RetAddr, err = t.Offset("inactive_task_frame.ret_addr"); err != nil {
		return l, err
	}
	if l.Size <= 0 || l.BP+8 > l.Size || l.RetAddr+8 > l.Size {
		return l, fmt.Errorf("inactive_task_frame: implausible layout %+v", l)
	}
	return l, nil
}

// SleepingStart is where a task that is not running resumes: threadSP is
// its task_struct.thread.sp (__unwind_start() for a task other than
// current). Frame 0 is the return address into __schedule (or
// ret_from_fork for a task that never ran), and its Slot is where that
// address is saved, as crash prints it.
func (u *Unwinder) SleepingStart(mem Memory, threadSP uint64, l TaskFrameLayout) (Start, error) {
	if l.Size <= 0 || l.Size > 4096 || l.BP < 0 || l.RetAddr < 0 || l.BP+8 > l.Size || l.RetAddr+8 > l.Size {
		return Start{}, fmt.Errorf("inactive_task_frame: implausible layout %+v", l)
	}
	buf := make([]byte, l.Size)
	if err := mem.ReadVirt(buf, threadSP); err != nil {
		return Start{}, fmt.Errorf("inactive_task_frame at thread.sp %#x: %w", threadSP, err)
	}
	s := Start{
		PC:   binary.LittleEndian.Uint64(buf[l.RetAddr:]),
		BP:   binary.LittleEndian.Uint64(buf[l.BP:]),
		SP:   threadSP + uint64(l.Size),
		Slot: threadSP + uint64(l.RetAddr),
	}
	for _, a := range u.retFromFork {
		if s.PC == a {
			s.Signal = true // ret_from_fork's ORC applies at its first instruction
		}
	}
	return s, nil
}

// ActiveStart is where to start the backtrace of a task that was running
// on a CPU when the dump was taken, from that CPU's NT_PRSTATUS registers
// and the stacks the CPU may be on. Like crash, it starts at the deepest
// frame the dump still holds:
//
//   - the CPU that ran kdump saved its registers in __crash_kexec()
//     (crash_setup_regs), but the stack below still holds machine_kexec()'s
//     return address; the backtrace starts there if unwinding from it
//     leads back to the saved registers.
//   - the other CPUs saved the registers their NMI interrupted
//     (crash_nmi_callback); the backtrace starts at crash_nmi_callback (on
//     the NMI stack, or the task stack for an NMI from user mode) if
//     unwinding from there crosses a pt_regs equal to the saved registers.
//
// Otherwise (a QEMU dump-guest-memory dump, or nothing found) it starts at
// the registers themselves. how names the choice: "machine_kexec",
// "crash_nmi_callback" or "registers".
func (u *Unwinder) ActiveStart(mem Memory, r PtRegs, stacks []Stack) (s Start, how string) {
	opt := Options{Stacks: stacks, MaxFrames: 64}
	if !r.UserMode() {
		lo, hi := r.SP-u.scanWindow(), r.SP
		if st, ok := stackFor(stacks, r.SP); ok {
			lo = st.Low
		}
		if s, ok := u.scanFor(mem, lo, hi, "machine_kexec", r.BP, opt, func(f Frame, _ int) bool {
			return f.SP == r.SP && u.sameFunc(f.PC, r.IP)
		}); ok {
			return s, "machine_kexec"
		}
	}
	if s, ok := u.scanNMI(mem, stacks, opt, func(f Frame, _ int) bool {
		return f.Exception != nil && f.Exception.Regs.IP == r.IP && f.Exception.Regs.SP == r.SP
	}); ok {
		return s, "crash_nmi_callback"
	}
	return StartFromRegs(r), "registers"
}

// ActiveStartNoRegs is ActiveStart for a CPU whose NT_PRSTATUS note is
// missing (zeroed, cut off, or a dump tool that wrote none): the same two
// return addresses are looked for, on the given stacks only, and accepted
// when the unwind from them goes on (machine_kexec: through at least two
// more frames, as __crash_kexec and panic or crash_kexec follow) or
// crosses the NMI's exception frame (crash_nmi_callback). crash finds the
// same starts by scanning (x86_64_get_dumpfile_stack_frame), so a dump
// without notes still gets crash's backtrace. ok is false when neither is
// found: a task whose registers are unknown has no trustworthy start.
func (u *Unwinder) ActiveStartNoRegs(mem Memory, stacks []Stack) (s Start, how string, ok bool) {
	opt := Options{Stacks: stacks, MaxFrames: 64}
	// The task stack first, then the IRQ stack, as crash's stages: a panic
	// from an interrupt (the soft-lockup watchdog's timer) called
	// machine_kexec on the IRQ stack.
	for _, kind := range []StackKind{StackTask, StackIRQ} {
		for _, st := range stacks {
			if st.Kind != kind {
				continue
			}
			if s, ok := u.scanFor(mem, st.Low, st.High, "machine_kexec", 0, opt, func(_ Frame, depth int) bool {
				return depth >= 2
			}); ok {
				return s, "machine_kexec", true
			}
		}
	}
	if s, ok := u.scanNMI(mem, stacks, opt, func(f Frame, _ int) bool { return f.Exception != nil }); ok {
		return s, "crash_nmi_callback", true
	}
	return Start{}, "", false
}

// scanNMI looks for crash_nmi_callback's return address. An NMI from user
// mode runs on the task stack (entry_64.S copies its iret frame there), one
// from the kernel on the NMI stack: look on the NMI stacks first, then on
// the others.
func (u *Unwinder) scanNMI(mem Memory, stacks []Stack, opt Options, want func(f Frame, depth int) bool) (Start, bool) {
	ordered := make([]Stack, 0, len(stacks))
	for _, st := range stacks {
		if st.Kind == StackNMI {
			ordered = append(ordered, st)
		}
	}
	for _, st := range stacks {
		if st.Kind != StackNMI {
			ordered = append(ordered, st)
		}
	}
	for _, st := range ordered {
		if s, ok := u.scanFor(mem, st.Low, st.High, "crash_nmi_callback", 0, opt, want); ok {
			return s, true
		}
	}
	return Start{}, false
}

// scanWindow bounds the machine_kexec search when the stacks are unknown.
func (u *Unwinder) scanWindow() uint64 { return 16 << 10 }

func stackFor(stacks []Stack, addr uint64) (Stack, bool) {
	for _, st := range stacks {
		if addr >= st.Low && addr < st.High {
			return st, true
		}
	}
	return Stack{}, false
}

// sameFunc reports whether a (an interrupted PC or a return address) and
// b lie in the same function.
func (u *Unwinder) sameFunc(a, b uint64) bool {
	na, _, ok1 := u.img.Symbolize(a - 1)
	nb, _, ok2 := u.img.Symbolize(b)
	if ok1 && ok2 && na == nb {
		return true
	}
	na, _, ok1 = u.img.Symbolize(a)
	return ok1 && ok2 && na == nb
}

// scanFor looks in [lo, hi) for a return address into fn from which the
// unwind reaches a frame accepted by want, highest slot first; depth counts
// the frames from the one after the start (1).
func (u *Unwinder) scanFor(mem Memory, lo, hi uint64, fn string, bp uint64, opt Options, want func(f Frame, depth int) bool) (Start, bool) {
	if lo >= hi || hi-lo > 1<<20 {
		return Start{}, false
	}
	lo = (lo + 7) &^ 7
	buf := make([]byte, hi-lo)
	if err := mem.ReadVirt(buf, lo); err != nil {
		return Start{}, false
	}
	for off := int(hi-lo) - 8; off >= 0; off -= 8 {
		w := binary.LittleEndian.Uint64(buf[off:])
		name, o, ok := u.img.Symbolize(w)
		if !ok || name != fn || o == 0 {
			continue
		}
		slot := lo + uint64(off)
		s := Start{PC: w, SP: slot + 8, BP: bp, Slot: slot}
		frames, _ := u.Unwind(mem, s, opt)
		for i, f := range frames[1:] {
			if want(f, i+1) {
				return s, true
			}
		}
	}
	return Start{}, false
}

// StackSizes reads THREAD_SIZE and IRQ_STACK_SIZE from DWARF: the size of
// struct irq_stack (char stack[IRQ_STACK_SIZE]). On x86_64 both are
// PAGE_SIZE << (2 + KASAN_STACK_ORDER) (arch/x86/include/asm/page_64_types.h),
// so the IRQ stack's size is THREAD_SIZE too. (union thread_union is not
// asked for: x86_64 kernels have no definition of it in DWARF, and proving a
// type absent means indexing every compile unit.)
func StackSizes(t *Types) (thread, irq uint64, err error) {
	is, err := t.SizeOf("irq_stack")
	if err != nil {
		return 0, 0, err
	}
	ts := is
	if ts <= 0 || is <= 0 || ts&4095 != 0 || is&4095 != 0 {
		return 0, 0, fmt.Errorf("implausible stack sizes: thread_union %d, irq_stack %d", ts, is)
	}
	return uint64(ts), uint64(is), nil
}

// CPUStacks lists one CPU's IRQ stack and exception (IST) stacks. perCPU is
// that CPU's __per_cpu_offset; the per-cpu variables are hardirq_stack_ptr
// (pcpu_hot.hardirq_stack_ptr since 6.2) and cea_exception_stacks. A CPU
// whose IRQ stack was never set up (offline) has none.
func CPUStacks(img KernelImage, t *Types, mem Memory, perCPU, irqStackSize uint64) ([]Stack, error) {
	var stacks []Stack
	ptr, ok := img.Lookup("hardirq_stack_ptr")
	if !ok {
		hot, ok := img.Lookup("pcpu_hot")
		if !ok {
			return nil, fmt.Errorf("neither hardirq_stack_ptr nor pcpu_hot in vmlinux")
		}
		off, err := t.Offset("pcpu_hot.hardirq_stack_ptr")
		if err != nil {
			return nil, err
		}
		ptr = hot + uint64(off)
	}
	var b [8]byte
	if err := mem.ReadVirt(b[:], ptr+perCPU); err != nil {
		return nil, fmt.Errorf("hardirq_stack_ptr at %#x: %w", ptr+perCPU, err)
	}
	if top := binary.LittleEndian.Uint64(b[:]); top != 0 {
		stacks = append(stacks, IRQStack(top, irqStackSize))
	}
	cea, ok := img.Lookup("cea_exception_stacks")
	if !ok {
		return stacks, nil // before 5.2 the IST stacks were not in cpu_entry_area
	}
	if err := mem.ReadVirt(b[:], cea+perCPU); err != nil {
		return nil, fmt.Errorf("cea_exception_stacks at %#x: %w", cea+perCPU, err)
	}
	if base := binary.LittleEndian.Uint64(b[:]); base != 0 {
		ex, err := ExceptionStacks(t, base)
		if err != nil {
			return nil, err
		}
		stacks = append(stacks, ex...)
	}
	return stacks, nil
}
