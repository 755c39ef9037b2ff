package symbols

// The x86_64 kernel stack unwinder: ORC first (as the kernel's own
// arch/x86/kernel/unwind_orc.c does), DWARF CFI from .debug_frame second,
// the frame-pointer chain last. It reads the stack only through Memory and
// never trusts it: every read is bounded to the stacks the caller names,
// each stack may be entered once, SP must grow within a stack, and the
// number of frames is capped.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// KernelImage is what the unwinder needs of a vmlinux; *Vmlinux provides it.
type KernelImage interface {
	Section(name string) (data []byte, addr uint64, ok bool)
	Lookup(name string) (uint64, bool)
	Symbolize(addr uint64) (name string, off uint64, ok bool)
	ReadFile(addr uint64, p []byte) error
}

// Method says how a frame was found.
type Method uint8

const (
	MethodStart Method = iota // the starting registers
	MethodORC                 // the kernel's ORC tables
	MethodCFI                 // DWARF CFI (.debug_frame)
	MethodFP                  // the frame-pointer chain (a guess)
)

func (m Method) String() string {
	switch m {
	case MethodStart:
		return "start"
	case MethodORC:
		return "orc"
	case MethodCFI:
		return "cfi"
	case MethodFP:
		return "fp"
	}
	return fmt.Sprintf("method%d", int(m))
}

// PtRegs is struct pt_regs of x86_64 (arch/x86/include/asm/ptrace.h; a
// user ABI, so the same in every kernel). Its fields are also the first 21
// of elf_prstatus.pr_reg (user_regs_struct), so NT_PRSTATUS converts 1:1.
type PtRegs struct {
	R15, R14, R13, R12, BP, BX, R11, R10, R9, R8, AX, CX, DX, SI, DI, OrigAX, IP, CS, Flags, SP, SS uint64
}

// PtRegsSize is sizeof(struct pt_regs); the iret frame (IP, CS, Flags, SP,
// SS) is its last 40 bytes, at IRET_FRAME_OFFSET 128.
const (
	PtRegsSize      = 21 * 8
	iretFrameOffset = 16 * 8
	iretFrameSize   = 5 * 8
)

// PtRegsFromWords fills PtRegs from 21 (or more) words in struct order.
func PtRegsFromWords(w []uint64) PtRegs {
	var r PtRegs
	p := r.fields()
	for i := 0; i < len(p) && i < len(w); i++ {
		*p[i] = w[i]
	}
	return r
}

func (r *PtRegs) fields() [21]*uint64 {
	return [21]*uint64{&r.R15, &r.R14, &r.R13, &r.R12, &r.BP, &r.BX, &r.R11, &r.R10, &r.R9, &r.R8,
		&r.AX, &r.CX, &r.DX, &r.SI, &r.DI, &r.OrigAX, &r.IP, &r.CS, &r.Flags, &r.SP, &r.SS}
}

// UserMode reports regs from user space (user_mode(): CS RPL 3).
func (r *PtRegs) UserMode() bool { return r.CS&3 != 0 }

// ExceptionFrame is a struct pt_regs the unwinder crossed: an interrupt,
// exception or system-call entry. crash prints it as the register block
// under a frame ("[exception RIP: ...]").
type ExceptionFrame struct {
	Addr uint64 // address of the struct pt_regs on the stack
	Full bool   // every register is valid; otherwise only IP, CS, Flags, SP, SS (ORC_TYPE_REGS_PARTIAL)
	Regs PtRegs
}

// StackKind names the stacks a kernel thread of execution can be on.
type StackKind uint8

const (
	StackUnknown StackKind = iota
	StackTask
	StackIRQ
	StackNMI
	StackDoubleFault
	StackDebug
	StackMCE
	StackVC
	StackVC2
	StackEntry
)

func (k StackKind) String() string {
	switch k {
	case StackTask:
		return "task"
	case StackIRQ:
		return "IRQ"
	case StackNMI:
		return "NMI"
	case StackDoubleFault:
		return "DOUBLEFAULT"
	case StackDebug:
		return "DEBUG"
	case StackMCE:
		return "MCE"
	case StackVC:
		return "VC"
	case StackVC2:
		return "VC2"
	case StackEntry:
		return "ENTRY_TRAMPOLINE"
	}
	return "unknown"
}

// Stack is one stack: [Low, High).
type Stack struct {
	Kind      StackKind
	Low, High uint64
}

func (s Stack) contains(addr, size uint64) bool {
	return addr >= s.Low && addr < s.High && size <= s.High-addr
}

// TaskStack is a task's stack: task_struct.stack and THREAD_SIZE
// (PAGE_SIZE << 2, << 3 with KASAN; arch/x86/include/asm/page_64_types.h).
func TaskStack(stackBase, threadSize uint64) Stack {
	return Stack{Kind: StackTask, Low: stackBase, High: stackBase + threadSize}
}

// IRQStack is a CPU's hard-IRQ stack from its per-cpu hardirq_stack_ptr
// (pcpu_hot.hardirq_stack_ptr since 6.2), which points at the top-most
// word, not past it (in_irq_stack() in arch/x86/kernel/dumpstack_64.c);
// size is IRQ_STACK_SIZE (= THREAD_SIZE on x86_64). Before 5.12 it
// pointed past the stack (irq_init_percpu_irqstack set va +
// IRQ_STACK_SIZE; Debian's 5.10): a page-aligned pointer is that end,
// since the top-most word of a stack never is.
func IRQStack(hardirqStackPtr, size uint64) Stack {
	end := hardirqStackPtr + 8
	if hardirqStackPtr&4095 == 0 {
		end = hardirqStackPtr
	}
	return Stack{Kind: StackIRQ, Low: end - size, High: end}
}

// ExceptionStacks lists a CPU's IST stacks inside its struct
// cea_exception_stacks at base (per-cpu cea_exception_stacks): member
// offsets and sizes come from DWARF, because EXCEPTION_STKSZ depends on
// KASAN and the VC stacks on SEV (arch/x86/include/asm/cpu_entry_area.h).
func ExceptionStacks(t *Types, base uint64) ([]Stack, error) {
	var out []Stack
	for _, m := range []struct {
		name string
		kind StackKind
	}{{"DF_stack", StackDoubleFault}, {"NMI_stack", StackNMI}, {"DB_stack", StackDebug},
		{"MCE_stack", StackMCE}, {"VC_stack", StackVC}, {"VC2_stack", StackVC2}} {
		mem, err := t.Member("cea_exception_stacks", m.name)
		if err != nil {
			if m.kind == StackVC || m.kind == StackVC2 {
				continue // before 5.10 there are no VC stacks
			}
			return nil, err
		}
		size, err := t.Size(mem.Type)
		if err != nil {
			return nil, fmt.Errorf("cea_exception_stacks.%s: %w", m.name, err)
		}
		if size <= 0 {
			continue // VC stacks are zero-sized without CONFIG_AMD_MEM_ENCRYPT
		}
		lo := base + uint64(mem.Offset)
		out = append(out, Stack{Kind: m.kind, Low: lo, High: lo + uint64(size)})
	}
	return out, nil
}

// Start is the register state an unwind begins from.
type Start struct {
	PC, SP, BP uint64
	// Regs is the full register set when known (NT_PRSTATUS, pt_regs); ORC
	// entries based on R10, R13, DI or DX need it.
	Regs *PtRegs
	// Signal says PC is an interrupted instruction rather than a return
	// address, so unwind data is looked up at PC instead of PC-1.
	Signal bool
	// Slot is the stack address PC was read from, if it was (Frame.Slot).
	Slot uint64
}

// StartFromRegs starts at a full register set, such as a CPU's NT_PRSTATUS
// registers (used as they are: see ActiveStart for what crash does).
func StartFromRegs(r PtRegs) Start {
	return Start{PC: r.IP, SP: r.SP, BP: r.BP, Regs: &r, Signal: true}
}

// Frame is one frame of a backtrace, innermost first.
type Frame struct {
	PC uint64 // the frame's instruction: a return address unless Signal
	SP uint64 // RSP while at PC
	BP uint64 // RBP while at PC, as far as known
	// CFA is the caller's SP after this frame returns: the frame's stack
	// words are [SP, CFA) (what bt -f shows). 0 for the outermost frame.
	CFA uint64
	// Slot is the stack address PC was read from (0 for the first frame and
	// for frames whose PC came from a pt_regs).
	Slot   uint64
	Method Method // how this frame was found from the one before it
	Signal bool   // PC was interrupted (not a return address)
	Stack  Stack  // the stack SP is on (Kind StackUnknown if none of the given)
	// Exception is set when this frame's registers came from a pt_regs on the
	// stack: the frame is the interrupted context of that exception.
	Exception *ExceptionFrame
	// User is set when Exception holds user-mode registers: the kernel
	// stack ends here, PC and SP are user addresses.
	User bool
	// Func and Off name PC (the symbol containing PC-1 for return
	// addresses, so a call at the end of a function names that function).
	Func string
	Off  uint64
	// NoReturnCall is set when PC, a return address, is the first byte of
	// the next function: the call to a function that never returns was the
	// caller's last instruction (sysrq_handle_crash calling panic). crash's
	// bt leaves such frames out.
	NoReturnCall bool
}

// Options tune one unwind.
type Options struct {
	// Stacks are the stacks the thread may be on (its task stack, and for a
	// task running on a CPU that CPU's IRQ and exception stacks). Reads
	// outside them stop the unwind, and each stack is entered once. Empty:
	// no bounds, and SP must only grow.
	Stacks []Stack
	// MaxFrames caps the backtrace (default DefaultMaxFrames).
	MaxFrames int
	// Disable some methods (tests, and `bt` options that want one method).
	NoORC, NoCFI, NoFP bool
}

// DefaultMaxFrames bounds a backtrace; real kernel stacks stay far below it.
const DefaultMaxFrames = 256

// ErrMaxFrames is returned (wrapped) when an unwind hits Options.MaxFrames.
var ErrMaxFrames = errors.New("too many frames")

// Unwinder unwinds kernel stacks of one kernel image. It is safe for
// concurrent use after the AddModuleORC calls.
type Unwinder struct {
	img     KernelImage
	orc     *ORCTable
	orcErr  error
	modules []*ORCTable

	cfiOnce sync.Once
	cfi     *cfiTable
	cfiErr  error

	retFromFork []uint64
	textLo      uint64
	textHi      uint64
}

// NewUnwinder prepares an unwinder for img. release (VMCOREINFO OSRELEASE,
// e.g. "6.1.176") decides the ORC layout when vmlinux has no .orc_header;
// "" reads linux_banner instead. A vmlinux without usable ORC still
// unwinds with CFI and frame pointers; ORC tells why ORC is not used.
func NewUnwinder(img KernelImage, release string) *Unwinder {
	u := &Unwinder{img: img}
	u.orc, u.orcErr = LoadORC(img, release)
	for _, name := range []string{"ret_from_fork", "ret_from_fork_asm"} {
		if a, ok := img.Lookup(name); ok {
			u.retFromFork = append(u.retFromFork, a)
		}
	}
	u.textLo, _ = img.Lookup("_stext")
	u.textHi, _ = img.Lookup("_etext")
	return u
}

// ORC returns vmlinux's ORC table, or why there is none.
func (u *Unwinder) ORC() (*ORCTable, error) { return u.orc, u.orcErr }

// CFI reports whether .debug_frame is usable (parsing it on first call).
func (u *Unwinder) CFI() error {
	u.loadCFI()
	return u.cfiErr
}

// AddModuleORC registers a loaded module's ORC table (ModuleORC,
// ModuleORCFrom); it answers for the text ranges set on it. Not safe
// concurrently with Unwind.
func (u *Unwinder) AddModuleORC(t *ORCTable) {
	if t != nil && len(t.ranges) > 0 {
		u.modules = append(u.modules, t)
	}
}

func (u *Unwinder) loadCFI() {
	u.cfiOnce.Do(func() {
		data, addr, ok := u.img.Section(".debug_frame")
		if !ok {
			u.cfiErr = errors.New("vmlinux has no .debug_frame")
			return
		}
		if addr != 0 {
			u.cfiErr = errors.New(".debug_frame is not a debug section (non-zero address)")
			return
		}
		u.cfi, u.cfiErr = parseCFI(data, u.slide())
	})
}

// slide is the KASLR offset between the image's link-time addresses (what
// .debug_frame holds) and the relocated symbols: _text starts .text.
func (u *Unwinder) slide() uint64 {
	_, textSec, ok1 := u.img.Section(".text")
	text, ok2 := u.img.Lookup("_text")
	if ok1 && ok2 {
		return text - textSec
	}
	return 0
}

// findORC is orc_find(): vmlinux's table, else a module's.
func (u *Unwinder) findORC(pc uint64) (ORCEntry, bool) {
	if pc == 0 {
		// null_orc_entry: a call through a NULL function pointer.
		return ORCEntry{SPOffset: 8, SPReg: ORCRegSP, Type: ORCTypeCall}, true
	}
	if u.orc != nil {
		if e, _, ok := u.orc.Find(pc); ok {
			return e, true
		}
	}
	for _, m := range u.modules {
		if e, _, ok := m.Find(pc); ok {
			return e, true
		}
	}
	return ORCEntry{}, false
}

// state is unwind_orc.c's struct unwind_state for one walk.
type state struct {
	ip, sp, bp uint64
	signal     bool
	regs       *ExceptionFrame // the pt_regs the current frame came from (or the start registers)
	prevRegs   *ExceptionFrame // a full pt_regs under a partial one
	slot       uint64
	// bpStale: the frame was reached by the call into a function without
	// unwind data (stepCallSite), which may have used RBP for its own
	// purposes: a frame-pointer rule of the caller cannot trust bp.
	bpStale bool

	mem     Memory
	stacks  []Stack
	cur     int // index into stacks of the last access, -1 none
	visited []bool
}

// access checks that [addr, addr+size) is on a stack the walk may use,
// switching the current stack when it moves (stack_access_ok()).
func (s *state) access(addr, size uint64) bool {
	if len(s.stacks) == 0 {
		return addr+size >= addr
	}
	if s.cur >= 0 && s.stacks[s.cur].contains(addr, size) {
		return true
	}
	for i, st := range s.stacks {
		if st.contains(addr, size) {
			if s.visited[i] {
				return false // stack recursion: get_stack_info()'s visit mask
			}
			s.visited[i] = true
			s.cur = i
			return true
		}
	}
	return false
}

func (s *state) read(addr uint64, p []byte) error {
	if !s.access(addr, uint64(len(p))) {
		return fmt.Errorf("%#x is not on the task's stacks", addr)
	}
	if err := s.mem.ReadVirt(p, addr); err != nil {
		return err
	}
	return nil
}

func (s *state) word(addr uint64) (uint64, error) {
	var b [8]byte
	if err := s.read(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (s *state) stackOf(addr uint64) Stack {
	for _, st := range s.stacks {
		if addr >= st.Low && addr < st.High {
			return st
		}
	}
	return Stack{}
}

// getReg is get_reg(): a register from the current full pt_regs, or from the
// full one under a partial one.
func (s *state) getReg(f func(*PtRegs) uint64) (uint64, bool) {
	if s.regs == nil {
		return 0, false
	}
	if s.regs.Full {
		return f(&s.regs.Regs), true
	}
	if s.prevRegs != nil {
		return f(&s.prevRegs.Regs), true
	}
	return 0, false
}

// stepResult says how a step ended.
type stepResult int

const (
	stepNext stepResult = iota // a caller frame was found
	stepEnd                    // the end of the stack: a clean stop
	stepNone                   // this method has no information for the PC
	stepFail                   // the information led to a bad stack
)

// Unwind walks the stack from start. It returns the frames found and, when
// the walk did not end at a recognised end of stack (ORC end, user-mode
// pt_regs, CFI without return address), an error saying where and why it
// stopped; the frames up to there are still returned.
func (u *Unwinder) Unwind(mem Memory, start Start, opt Options) ([]Frame, error) {
	maxFrames := opt.MaxFrames
	if maxFrames <= 0 {
		maxFrames = DefaultMaxFrames
	}
	s := &state{ip: start.PC, sp: start.SP, bp: start.BP, signal: start.Signal, slot: start.Slot, mem: mem,
		stacks: opt.Stacks, cur: -1, visited: make([]bool, len(opt.Stacks))}
	if start.Regs != nil {
		s.regs = &ExceptionFrame{Full: true, Regs: *start.Regs}
	}
	// The starting stack counts as visited (__unwind_start's get_stack_info).
	if len(s.stacks) > 0 && !s.access(s.sp, 8) {
		// Maybe SP overflowed into a guard page: try the page above, as the
		// kernel does, else go on unbounded by stacks no further.
		if !s.access((s.sp+4095)&^4095, 8) && !(start.Regs != nil && start.Regs.UserMode()) {
			return []Frame{u.frame(s, MethodStart, nil)},
				fmt.Errorf("unwind: start sp %#x is on none of the task's stacks", s.sp)
		}
	}
	first := u.frame(s, MethodStart, nil)
	if start.Regs != nil && start.Regs.UserMode() {
		first.User = true
		first.Exception = s.regs
		return []Frame{first}, nil
	}
	frames := []Frame{first}
	for {
		if len(frames) >= maxFrames {
			return frames, fmt.Errorf("unwind: stopped after %d frames at pc %#x sp %#x: %w", len(frames), s.ip, s.sp, ErrMaxFrames)
		}
		if s.regs != nil && s.regs.Regs.UserMode() {
			return frames, nil // user_mode(state->regs): the end of the kernel stack
		}
		prevSP, prevStack := s.sp, s.cur
		next, method, cfa, err := u.step(s, opt)
		if err != nil {
			return frames, fmt.Errorf("unwind: frame #%d (pc %#x sp %#x): %w", len(frames)-1, s.ip, s.sp, err)
		}
		if next == nil {
			return frames, nil // end of stack
		}
		// Prevent loops on bad unwind data: within one stack SP must grow.
		sameStack := len(s.stacks) == 0 ||
			next.cur == prevStack && next.cur >= 0 && next.stacks[next.cur].contains(next.sp, 8)
		toUser := next.regs != nil && next.regs.Regs.UserMode()
		if sameStack && next.sp <= prevSP && !toUser {
			return frames, fmt.Errorf("unwind: frame #%d (pc %#x): stack going in the wrong direction (sp %#x -> %#x, %s)",
				len(frames)-1, s.ip, prevSP, next.sp, method)
		}
		frames[len(frames)-1].CFA = cfa
		var exc *ExceptionFrame
		if next.regs != nil && next.regs != s.regs {
			exc = next.regs
		}
		*s = *next
		f := u.frame(s, method, exc)
		frames = append(frames, f)
	}
}

func (u *Unwinder) frame(s *state, m Method, exc *ExceptionFrame) Frame {
	f := Frame{PC: s.ip, SP: s.sp, BP: s.bp, Slot: s.slot, Method: m, Signal: s.signal, Exception: exc, Stack: s.stackOf(s.sp)}
	if exc != nil && exc.Regs.UserMode() {
		f.User = true
		return f
	}
	look := f.PC
	if !f.Signal && look > 0 {
		look--
	}
	if name, off, ok := u.img.Symbolize(look); ok {
		f.Func, f.Off = name, off
		if !f.Signal {
			f.Off++
			if _, off, ok := u.img.Symbolize(f.PC); ok && off == 0 {
				f.NoReturnCall = true
			}
		}
	}
	return f
}

// step finds the caller of s's frame: ORC, then CFI, then frame pointers.
// next is nil at the end of the stack.
func (u *Unwinder) step(s *state, opt Options) (next *state, m Method, cfa uint64, err error) {
	var errs []error
	if !opt.NoORC {
		n, cfa, res, err := u.stepORC(s)
		switch res {
		case stepNext:
			return n, MethodORC, cfa, nil
		case stepEnd:
			return nil, MethodORC, 0, nil
		case stepFail:
			// Bad data: the kernel's unwinder gives up here, and so do we
			// (another method would only produce a plausible-looking lie).
			return nil, MethodORC, 0, fmt.Errorf("orc: %w", err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("orc: %w", err))
		}
	}
	if !opt.NoCFI {
		n, cfa, res, err := u.stepCFI(s)
		switch res {
		case stepNext:
			return n, MethodCFI, cfa, nil
		case stepEnd:
			return nil, MethodCFI, 0, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cfi: %w", err))
		}
	}
	if !opt.NoFP && u.memImage() {
		// Without the vmlinux there is no CFI for the functions objtool
		// leaves without ORC (STACK_FRAME_NON_STANDARD: __crash_kexec):
		// find the call into this function on the stack.
		n, cfa, res, err := u.stepCallSite(s)
		if res == stepNext {
			return n, MethodFP, cfa, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("call site: %w", err))
		}
	}
	if !opt.NoFP {
		n, cfa, res, err := u.stepFP(s)
		if res == stepNext {
			return n, MethodFP, cfa, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("fp: %w", err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("every unwind method is disabled"))
	}
	return nil, 0, 0, errors.Join(errs...)
}

func (s *state) clone() *state {
	n := *s
	n.visited = append([]bool(nil), s.visited...)
	return &n
}

// stepORC is unwind_next_frame() of arch/x86/kernel/unwind_orc.c.
func (u *Unwinder) stepORC(s *state) (*state, uint64, stepResult, error) {
	pc := s.ip
	if !s.signal {
		pc--
	}
	e, ok := u.findORC(pc)
	if !ok {
		return nil, 0, stepNone, fmt.Errorf("no entry for pc %#x", pc)
	}
	switch e.Type {
	case ORCTypeUndefined:
		return nil, 0, stepNone, fmt.Errorf("pc %#x: unwind information undefined", pc)
	case ORCTypeEndOfStack:
		return nil, 0, stepEnd, nil
	}
	n := s.clone()
	n.signal = e.Signal

	// An RBP-based rule after a call-site step: RBP is found again.
	bp := s.bp
	if s.bpStale && (e.SPReg == ORCRegBP || e.BPReg == ORCRegBP) && (bp < s.sp || bp > s.sp+callSiteScan) {
		if fp, ok := u.framePointerAbove(s); ok {
			bp = fp
		}
	}
	n.bpStale = s.bpStale && e.BPReg == ORCRegUndefined

	var sp uint64
	indirect := false
	regErr := func(name string) (*state, uint64, stepResult, error) {
		return nil, 0, stepFail, fmt.Errorf("pc %#x: %s value unknown (no full pt_regs)", pc, name)
	}
	switch e.SPReg {
	case ORCRegSP:
		sp = s.sp + uint64(int64(e.SPOffset))
	case ORCRegBP:
		sp = bp + uint64(int64(e.SPOffset))
	case ORCRegSPIndirect:
		sp, indirect = s.sp, true
	case ORCRegBPIndirect:
		sp, indirect = s.bp+uint64(int64(e.SPOffset)), true
	case ORCRegR10:
		if sp, ok = s.getReg(func(r *PtRegs) uint64 { return r.R10 }); !ok {
			return regErr("R10")
		}
	case ORCRegR13:
		if sp, ok = s.getReg(func(r *PtRegs) uint64 { return r.R13 }); !ok {
			return regErr("R13")
		}
	case ORCRegDI:
		if sp, ok = s.getReg(func(r *PtRegs) uint64 { return r.DI }); !ok {
			return regErr("RDI")
		}
	case ORCRegDX:
		if sp, ok = s.getReg(func(r *PtRegs) uint64 { return r.DX }); !ok {
			return regErr("RDX")
		}
	default:
		return nil, 0, stepFail, fmt.Errorf("pc %#x: unknown SP base register %d", pc, e.SPReg)
	}
	if indirect {
		v, err := n.word(sp)
		if err != nil {
			return nil, 0, stepFail, fmt.Errorf("pc %#x: indirect sp at %#x: %w", pc, sp, err)
		}
		sp = v
		if e.SPReg == ORCRegSPIndirect {
			sp += uint64(int64(e.SPOffset))
		}
	}

	switch e.Type {
	case ORCTypeCall:
		ipp := sp - 8
		ip, err := n.word(ipp)
		if err != nil {
			return nil, 0, stepFail, fmt.Errorf("pc %#x: return address at %#x: %w", pc, ipp, err)
		}
		n.ip, n.sp, n.slot = ip, sp, ipp
		n.regs, n.prevRegs = nil, nil
	case ORCTypeRegs:
		var b [PtRegsSize]byte
		if err := n.read(sp, b[:]); err != nil {
			return nil, 0, stepFail, fmt.Errorf("pc %#x: pt_regs at %#x: %w", pc, sp, err)
		}
		r := decodePtRegs(b[:])
		n.regs = &ExceptionFrame{Addr: sp, Full: true, Regs: r}
		n.prevRegs = nil
		n.ip, n.sp, n.slot = r.IP, r.SP, 0
	case ORCTypeRegsPartial:
		var b [iretFrameSize]byte
		if err := n.read(sp, b[:]); err != nil {
			return nil, 0, stepFail, fmt.Errorf("pc %#x: iret frame at %#x: %w", pc, sp, err)
		}
		var full [PtRegsSize]byte
		copy(full[iretFrameOffset:], b[:])
		r := decodePtRegs(full[:])
		if s.regs != nil && s.regs.Full {
			n.prevRegs = s.regs
		}
		n.regs = &ExceptionFrame{Addr: sp - iretFrameOffset, Full: false, Regs: r}
		n.ip, n.sp, n.slot = r.IP, r.SP, 0
	default:
		return nil, 0, stepFail, fmt.Errorf("pc %#x: unknown orc_entry type %d", pc, e.Type)
	}

	switch e.BPReg {
	case ORCRegUndefined:
		if v, ok := n.getReg(func(r *PtRegs) uint64 { return r.BP }); ok {
			n.bp = v
		}
	case ORCRegPrevSP:
		v, err := n.word(sp + uint64(int64(e.BPOffset)))
		if err != nil {
			return nil, 0, stepFail, fmt.Errorf("pc %#x: saved bp at %#x: %w", pc, sp+uint64(int64(e.BPOffset)), err)
		}
		n.bp = v
	case ORCRegBP:
		v, err := n.word(bp + uint64(int64(e.BPOffset)))
		if err != nil {
			return nil, 0, stepFail, fmt.Errorf("pc %#x: saved bp at %#x: %w", pc, bp+uint64(int64(e.BPOffset)), err)
		}
		n.bp = v
	default:
		return nil, 0, stepFail, fmt.Errorf("pc %#x: unknown BP base register %d", pc, e.BPReg)
	}
	return n, sp, stepNext, nil
}

// stepFP follows the frame-pointer chain: orc_fp_entry in unwind_orc.c
// (the caller's SP is BP+16, its return address at BP+8, its BP at BP).
func (u *Unwinder) stepFP(s *state) (*state, uint64, stepResult, error) {
	if s.bp == 0 || s.bp&7 != 0 {
		return nil, 0, stepNone, fmt.Errorf("rbp %#x is not a frame pointer", s.bp)
	}
	n := s.clone()
	sp := s.bp + 16
	ip, err := n.word(sp - 8)
	if err != nil {
		return nil, 0, stepFail, fmt.Errorf("return address at %#x: %w", sp-8, err)
	}
	bp, err := n.word(sp - 16)
	if err != nil {
		return nil, 0, stepFail, fmt.Errorf("saved rbp at %#x: %w", sp-16, err)
	}
	if !u.isText(ip) {
		return nil, 0, stepFail, fmt.Errorf("return address %#x at %#x is not kernel text", ip, sp-8)
	}
	n.ip, n.sp, n.bp, n.slot, n.signal = ip, sp, bp, sp-8, false
	n.regs, n.prevRegs = nil, nil
	return n, sp, stepNext, nil
}

// memImage reports whether the image was read from the dump (no vmlinux,
// so no .debug_frame).
func (u *Unwinder) memImage() bool {
	v, ok := u.img.(interface{ FromMemory() bool })
	return ok && v.FromMemory()
}

// callSiteScan bounds how far above SP stepCallSite looks for the return
// address: a frame holding a struct pt_regs (crash_setup_regs) and locals.
const callSiteScan = 1024

// stepCallSite finds the caller of a function that has no unwind
// information by the return address of the call into it: the first word
// above SP that follows a direct call (e8 rel32) whose target is the
// start of the current function. Unlike a frame-pointer guess it cannot
// pick up a stale return address of another call.
func (u *Unwinder) stepCallSite(s *state) (*state, uint64, stepResult, error) {
	pc := s.ip
	if !s.signal && pc > 0 {
		pc--
	}
	name, off, ok := u.img.Symbolize(pc)
	if !ok {
		return nil, 0, stepNone, fmt.Errorf("pc %#x is in no function", s.ip)
	}
	fn := pc - off
	for slot := s.sp; slot < s.sp+callSiteScan; slot += 8 {
		w, err := s.word(slot)
		if err != nil {
			break
		}
		if w < 5 || !u.isText(w) {
			continue
		}
		var call [5]byte
		if u.img.ReadFile(w-5, call[:]) != nil || call[0] != 0xe8 {
			continue
		}
		rel := int32(binary.LittleEndian.Uint32(call[1:]))
		if w+uint64(int64(rel)) != fn {
			continue
		}
		n := s.clone()
		n.ip, n.sp, n.slot, n.signal = w, slot+8, slot, false
		n.regs, n.prevRegs = nil, nil
		n.bpStale = true
		return n, slot + 8, stepNext, nil
	}
	return nil, 0, stepNone, fmt.Errorf("no call to %s found within %d bytes above sp %#x", name, callSiteScan, s.sp)
}

// framePointerAbove finds, for a frame whose ORC rule is RBP-based but
// whose RBP a callee without unwind data may have changed, where RBP must
// point: 8 bytes below the frame's return address, the first stack word
// at or above sp that follows a direct call to this frame's function.
// Debian's 5.10 panic() keeps a frame pointer, and __crash_kexec, without
// ORC, is where the dump's registers come from.
func (u *Unwinder) framePointerAbove(s *state) (uint64, bool) {
	pc := s.ip
	if !s.signal && pc > 0 {
		pc--
	}
	_, off, ok := u.img.Symbolize(pc)
	if !ok {
		return 0, false
	}
	fn := pc - off
	for slot := s.sp; slot < s.sp+callSiteScan; slot += 8 {
		w, err := s.word(slot)
		if err != nil {
			return 0, false
		}
		if w < 5 || !u.isText(w) {
			continue
		}
		var call [5]byte
		if u.img.ReadFile(w-5, call[:]) != nil || call[0] != 0xe8 {
			continue
		}
		if w+uint64(int64(int32(binary.LittleEndian.Uint32(call[1:])))) == fn {
			return slot - 8, true
		}
	}
	return 0, false
}

// isText reports a kernel or module text address (the frame-pointer
// fallback accepts nothing else, so it cannot wander through data).
func (u *Unwinder) isText(pc uint64) bool {
	if u.textLo < u.textHi && pc >= u.textLo && pc < u.textHi {
		return true
	}
	for _, m := range u.modules {
		if m.inText(pc) {
			return true
		}
	}
	if u.textLo >= u.textHi {
		_, _, ok := u.img.Symbolize(pc)
		return ok
	}
	return false
}

func decodePtRegs(b []byte) PtRegs {
	var w [21]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return PtRegsFromWords(w[:])
}
