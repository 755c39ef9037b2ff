package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"gocrash/symbols"
	"gocrash/vmcore"
)

// Backtraces: where a task's stack is, where its backtrace starts (the
// registers of a cpu's NT_PRSTATUS note, a return address into the
// panic path, or the frame a switched-out task saved) and the frames the
// kernel's ORC tables, DWARF CFI or the frame pointers find from there,
// through the IRQ and exception stacks of the cpu it ran on.

// BacktraceTask is what a backtrace needs of a task_struct.
type BacktraceTask struct {
	Addr     uint64 // task_struct
	PID      int64
	Comm     string
	CPU      int
	Stack    uint64 // task_struct.stack; 0: the task has no stack
	ThreadSP uint64 // task_struct.thread.sp: the inactive_task_frame of a switched-out task
	Kthread  bool   // PF_KTHREAD, or no mm: crash's is_kernel_thread()
}

// BacktraceOptions tune Backtrace.
type BacktraceOptions struct {
	// Registers gives a cpu's registers at the crash; nil reads the
	// dump's NT_PRSTATUS notes. (A function that finds none unwinds as
	// on a dump without notes.)
	Registers func(cpu int) (symbols.PtRegs, bool)
	// StacksOnly finds and reads the stacks but does not unwind (for
	// a search of the stacks, as bt -e does).
	StacksOnly bool
	// StartPC and StartSP start the unwind elsewhere (bt -I, -S): PC is
	// the first frame's instruction, at StartSP or else the SP the
	// trace would start at; StartSP alone starts at the first kernel
	// text return address saved at or above it. StartSP must lie on one
	// of the task's stacks (*StartOutsideError).
	StartPC, StartSP uint64
}

// StartOutsideError is Backtrace's error for a BacktraceOptions.StartSP
// on none of the task's stacks; Low and High bound its own stack.
type StartOutsideError struct {
	SP, Low, High uint64
}

func (e *StartOutsideError) Error() string {
	return fmt.Sprintf("non-process stack address for this task: %x (valid range: %x - %x)", e.SP, e.Low, e.High)
}

// A Backtrace is one task's stack and the frames found on it.
type Backtrace struct {
	Task      BacktraceTask
	Active    bool // running on CPU when the dump was taken (runqueues.curr)
	CPU       int
	TaskStack symbols.Stack
	// Stacks are the task's stack and, for an active task, the IRQ and
	// exception stacks of its cpu that could be read.
	Stacks []symbols.Stack
	// Mem reads the stacks as they were read once, and anything else
	// from the kernel's memory.
	Mem *StackMemory
	// Regs are the cpu's NT_PRSTATUS registers of an active task.
	Regs *symbols.PtRegs
	// Start is where the unwind began; How says why there: "registers"
	// and the other answers of symbols.Unwinder.ActiveStart, "panic" (a
	// return address into die or panic on the stack), "sleeping" (the
	// frame a switched-out task saved).
	Start  symbols.Start
	How    string
	Frames []symbols.Frame
	// Err is why the backtrace could not start, or why the unwind ended
	// before the end of the stacks.
	Err error
	// Diagnostics are the problems met on the way (a cpu's stacks that
	// could not be found).
	Diagnostics []Diagnostic
}

// ErrNoStack is Backtrace's error for a task without a stack (an exited
// task whose stack was freed).
var ErrNoStack = errors.New("no stack")

// StackReadError is Backtrace's error when the task's stack cannot be
// read.
type StackReadError struct {
	Stack symbols.Stack
	Err   error
}

func (e *StackReadError) Error() string {
	return fmt.Sprintf("read of stack at %x failed: %v", e.Stack.Low, e.Err)
}
func (e *StackReadError) Unwrap() error { return e.Err }

// A Backtracer unwinds the tasks of one kernel: it reads the loaded
// modules and the unwind tables once for many backtraces.
type Backtracer struct {
	k          *Kernel
	mem        symbols.Memory
	types      *symbols.Types
	img        *Image
	u          *symbols.Unwinder
	layout     symbols.TaskFrameLayout
	threadSize uint64
	irqSize    uint64
	regsPad    uint64
	modErr     error
	active     map[uint64]int // runqueues.curr of each cpu -> the cpu (crash's panic_threads[])
}

// NewBacktracer prepares backtraces of k's tasks. When the modules list
// cannot be read the vmlinux frames still unwind (ModulesError says why).
// It is built once per Kernel and shared by every caller: the modules,
// the ORC tables and the .debug_frame index it reads do not change, and
// reading them again took longer than a foreach bt of a small dump.
func (k *Kernel) NewBacktracer(ctx context.Context) (*Backtracer, error) {
	k.btMu.Lock()
	defer k.btMu.Unlock()
	if k.bt != nil {
		return k.bt, nil
	}
	b, err := k.newBacktracer(ctx)
	if err != nil {
		return nil, err // a cancelled start is not kept
	}
	k.bt = b
	return b, nil
}

func (k *Kernel) newBacktracer(ctx context.Context) (*Backtracer, error) {
	b := &Backtracer{k: k, mem: k.memory()}
	var err error
	if b.types, err = k.Layouts(); err != nil {
		return nil, err
	}
	if b.threadSize, b.irqSize, err = symbols.StackSizes(b.types); err != nil {
		return nil, err
	}
	if b.layout, err = symbols.TaskFrameLayoutFrom(b.types); err != nil {
		b.layout = symbols.DefaultTaskFrameLayout
	}
	// The FRED entry code (arch/x86/entry/entry_64_fred.S, built only with
	// CONFIG_X86_FRED) is asked for first: proving fred_frame absent from
	// DWARF would mean indexing every compile unit.
	if _, fred := k.Vmlinux.Lookup("asm_fred_entrypoint_user"); fred {
		if _, err := b.types.SizeOf("fred_frame"); err == nil {
			// arch/x86/include/asm/thread_info.h: TOP_OF_KERNEL_STACK_PADDING
			// is 2*8 with CONFIG_X86_FRED (crash: VALID_SIZE(fred_frame)).
			b.regsPad = 16
		}
	}
	mods, err := k.Modules(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		b.modErr = err
	}
	b.img = newImage(k.Vmlinux, mods)
	b.active = map[uint64]int{}
	if n, err := k.NumCPUs(); err == nil {
		for cpu := 0; cpu < n; cpu++ {
			if t, err := k.ActiveTask(cpu); err == nil && t != 0 {
				if _, dup := b.active[t]; !dup {
					b.active[t] = cpu
				}
			}
		}
	}
	release := ""
	if info := k.Dump.Info(); info != nil {
		release = info.OSRelease
	}
	b.u = symbols.NewUnwinder(b.img, release)
	if orc, err := b.u.ORC(); err == nil {
		for _, m := range mods {
			if _, tab, err := symbols.ModuleORCFrom(b.types, k.Mem, m.Addr, orc.Version()); err == nil && tab != nil {
				b.u.AddModuleORC(tab)
			}
		}
	}
	return b, nil
}

// WithMemory is a Backtracer reading through m (a patched memory, for
// tests and fuzzing) with the same modules and unwind tables.
func (b *Backtracer) WithMemory(m symbols.Memory) *Backtracer {
	c := *b
	c.mem = m
	return &c
}

// ModulesError is why the modules list could not be read, or nil.
func (b *Backtracer) ModulesError() error { return b.modErr }

// Image is the kernel text the backtraces are named from.
func (b *Backtracer) Image() *Image { return b.img }

// Unwinder is the unwinder the backtraces use.
func (b *Backtracer) Unwinder() *symbols.Unwinder { return b.u }

// ThreadSize and IRQStackSize are THREAD_SIZE and IRQ_STACK_SIZE.
func (b *Backtracer) ThreadSize() uint64   { return b.threadSize }
func (b *Backtracer) IRQStackSize() uint64 { return b.irqSize }

// RegsPad is TOP_OF_KERNEL_STACK_PADDING: the user pt_regs of a task sit
// that far below the top of its stack.
func (b *Backtracer) RegsPad() uint64 { return b.regsPad }

// Backtrace is NewBacktracer and one Backtrace.
func (k *Kernel) Backtrace(ctx context.Context, task uint64, opt BacktraceOptions) (*Backtrace, error) {
	b, err := k.NewBacktracer(ctx)
	if err != nil {
		return nil, err
	}
	return b.Backtrace(ctx, task, opt)
}

// Backtrace finds task's stacks and unwinds them. The error is for a
// task that cannot be read (its Backtrace is nil), one without a stack
// (ErrNoStack) and a stack that cannot be read (*StackReadError), with the
// Backtrace as far as it got; a backtrace that starts but ends early
// says why in its Err.
func (b *Backtracer) Backtrace(ctx context.Context, task uint64, opt BacktraceOptions) (*Backtrace, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ti, err := b.taskInfo(task)
	if err != nil {
		return nil, err
	}
	bt := &Backtrace{Task: ti, CPU: -1}
	if ti.Stack == 0 {
		return bt, ErrNoStack
	}
	mem := &StackMemory{mem: b.mem, k: b.k}
	// crash reads the whole stack first (fill_stackbuf) and gives up on
	// the task when it cannot; on an ELF dump a stack page makedumpfile
	// left out as all zeroes reads as zeroes there, so the trace goes on.
	bt.TaskStack = symbols.TaskStack(ti.Stack, b.threadSize)
	bt.Mem = mem
	if err := mem.load(bt.TaskStack); err != nil {
		return bt, &StackReadError{Stack: bt.TaskStack, Err: err}
	}
	bt.Stacks = []symbols.Stack{bt.TaskStack}
	if cpu, ok := b.active[task]; ok {
		bt.Active, bt.CPU = true, cpu
	}
	if bt.Active {
		if off, err := b.k.PerCPUOffset(bt.CPU); err == nil {
			cs, err := symbols.CPUStacks(b.img, b.types, b.mem, off, b.irqSize)
			if err != nil {
				bt.Diagnostics = append(bt.Diagnostics, Diagnostic{Severity: Warning, Text: fmt.Sprintf("cpu %d: %v", bt.CPU, err)})
			}
			for _, st := range cs {
				if mem.load(st) == nil {
					bt.Stacks = append(bt.Stacks, st)
				}
			}
		}
	}
	if opt.StacksOnly {
		return bt, nil
	}
	if opt.StartSP != 0 {
		if _, ok := bt.Mem.StackOf(opt.StartSP); !ok {
			return bt, &StartOutsideError{SP: opt.StartSP, Low: bt.TaskStack.Low, High: bt.TaskStack.High}
		}
	}
	regs := opt.Registers
	if regs == nil {
		regs = func(cpu int) (symbols.PtRegs, bool) { return CPURegs(b.k.Dump, cpu) }
	}
	b.start(bt, regs)
	if opt.StartPC != 0 || opt.StartSP != 0 {
		b.startAt(bt, opt.StartPC, opt.StartSP)
	}
	return bt, nil
}

// startAt unwinds again from where bt -I/-S say (BacktraceOptions).
func (b *Backtracer) startAt(bt *Backtrace, pc, sp uint64) {
	st := symbols.Start{PC: pc, SP: sp, Slot: sp, Signal: true}
	switch {
	case pc != 0 && sp == 0:
		if bt.Start.SP == 0 {
			return // no default start to take the SP from: bt.Err says why
		}
		st.SP, st.Slot, st.BP = bt.Start.SP, bt.Start.SP, bt.Start.BP
	case pc == 0:
		// The first return address at or above sp: a word of kernel
		// text that is not a symbol's first byte (crash's
		// x86_64_print_stack_entry keeps those only).
		stack, _ := bt.Mem.StackOf(sp)
		found := false
		for slot := sp &^ 7; slot+8 <= stack.High; slot += 8 {
			w, ok := bt.Mem.Word(slot)
			if !ok || !b.img.IsText(w) {
				continue
			}
			if _, off, ok := b.img.Symbolize(w); ok && off != 0 {
				st, found = symbols.Start{PC: w, SP: slot + 8, Slot: slot}, true
				// RBP is unknown here; a callee that kept a frame
				// pointer saved its caller's just below the return
				// address (ORC entries based on RBP need it).
				if slot > stack.Low {
					st.BP, _ = bt.Mem.Word(slot - 8)
				}
				break
			}
		}
		if !found {
			bt.Start, bt.How, bt.Frames = symbols.Start{SP: sp}, "given", nil
			bt.Err = fmt.Errorf("no kernel text return address on the stack from %#x to %#x", sp, stack.High)
			return
		}
	}
	bt.Start, bt.How = st, "given"
	bt.Frames, bt.Err = b.u.Unwind(bt.Mem, st, symbols.Options{Stacks: bt.Stacks})
}

// start finds where the backtrace begins and unwinds.
func (b *Backtracer) start(bt *Backtrace, cpuRegs func(cpu int) (symbols.PtRegs, bool)) {
	switch regs, hasRegs := cpuRegs(bt.CPU); {
	case bt.Active && hasRegs:
		bt.Regs = &regs
		bt.Start, bt.How = b.u.ActiveStart(bt.Mem, regs, bt.Stacks)
		if bt.How == "registers" {
			if st, ok := b.panicStart(bt, regs.BP); ok {
				bt.Start, bt.How = st, "panic"
			}
		}
	case bt.Active:
		st, how, ok := b.u.ActiveStartNoRegs(bt.Mem, bt.Stacks)
		if !ok {
			st, ok = b.panicStart(bt, 0)
			how = "panic"
		}
		if !ok {
			// thread.sp was saved at the task's last switch, long
			// before the crash: unwinding from it would show a stale
			// stack as if it were the crash's.
			bt.Err = fmt.Errorf("the dump has no NT_PRSTATUS note for CPU %d, and none of its stacks holds a return address into machine_kexec, crash_nmi_callback, die or panic: where PID %d was running is unknown", bt.CPU, bt.Task.PID)
			return
		}
		bt.Start, bt.How = st, how
	default:
		st, err := b.u.SleepingStart(bt.Mem, bt.Task.ThreadSP, b.layout)
		if err != nil {
			bt.Err = err
			return
		}
		bt.Start, bt.How = st, "sleeping"
	}
	bt.Frames, bt.Err = b.u.Unwind(bt.Mem, bt.Start, symbols.Options{Stacks: bt.Stacks})
}

// panicStart is crash's start for the panic task of a dump no kdump
// kernel wrote (QEMU dump-guest-memory: the vCPU stopped wherever panic()
// was spinning, e.g. in mdelay()): x86_64_get_dumpfile_stack_frame()
// scans the whole task stack upwards and starts at the first return
// address into die(), else at the last one into panic(); the frames below
// (the registers' own function) are not shown.
func (b *Backtracer) panicStart(bt *Backtrace, bp uint64) (symbols.Start, bool) {
	if p, err := b.k.PanicTask(); err != nil || p != bt.Task.Addr {
		return symbols.Start{}, false
	}
	var st symbols.Start
	found := false
	for slot := bt.TaskStack.Low; slot+8 <= bt.TaskStack.High; slot += 8 {
		w, ok := bt.Mem.Word(slot)
		if !ok {
			break
		}
		name, _, ok := b.img.Symbolize(w)
		if !ok || name != "panic" && name != "die" {
			continue
		}
		// RBP is still the frame pointer of the caller of the
		// registers' function (panic keeps one: ORC may need it).
		st, found = symbols.Start{PC: w, SP: slot + 8, BP: bp, Slot: slot}, true
		if name == "die" {
			break
		}
	}
	return st, found
}

// taskInfo reads what a backtrace needs of the task_struct at task.
func (b *Backtracer) taskInfo(task uint64) (BacktraceTask, error) {
	bt := BacktraceTask{Addr: task}
	o, err := b.types.Object(b.mem, task, "task_struct")
	if err != nil {
		return bt, err
	}
	// Members are read one by one, not the whole task_struct: its tail
	// may lie on a page makedumpfile left out.
	get := func(path string) (uint64, error) {
		m, err := o.Member(path)
		if err != nil {
			return 0, err
		}
		if p, err := m.Pointer(); err == nil {
			return p, nil
		}
		return m.Uint()
	}
	pid, err := o.Member("pid")
	if err != nil {
		return bt, err
	}
	if bt.PID, err = pid.Int(); err != nil {
		return bt, err
	}
	comm, err := o.Member("comm")
	if err != nil {
		return bt, err
	}
	if bt.Comm, err = comm.CString(); err != nil {
		return bt, err
	}
	// The cpu moved from thread_info into task_struct and back over the
	// years (include/linux/sched.h; arch/x86/include/asm/thread_info.h).
	cpuPath := "cpu"
	if !b.types.HasMember("task_struct", "cpu") {
		cpuPath = "thread_info.cpu"
	}
	cpu, err := get(cpuPath)
	if err != nil {
		return bt, err
	}
	bt.CPU = int(cpu)
	if bt.Stack, err = get("stack"); err != nil {
		return bt, err
	}
	if bt.ThreadSP, err = get("thread.sp"); err != nil {
		return bt, err
	}
	flags, err := get("flags")
	if err != nil {
		return bt, err
	}
	mm, err := get("mm")
	if err != nil {
		return bt, err
	}
	bt.Kthread = flags&PFKThread != 0 || mm == 0
	return bt, nil
}

// CPURegs are the registers cpu saved in its NT_PRSTATUS note.
func CPURegs(d *vmcore.Dump, cpu int) (symbols.PtRegs, bool) {
	for _, c := range d.CPUs() {
		if c.CPU == cpu {
			r := c.Regs
			return symbols.PtRegs{R15: r.R15, R14: r.R14, R13: r.R13, R12: r.R12, BP: r.RBP, BX: r.RBX,
				R11: r.R11, R10: r.R10, R9: r.R9, R8: r.R8, AX: r.RAX, CX: r.RCX, DX: r.RDX, SI: r.RSI,
				DI: r.RDI, OrigAX: r.OrigRAX, IP: r.RIP, CS: r.CS, Flags: r.EFLAGS, SP: r.RSP, SS: r.SS}, true
		}
	}
	return symbols.PtRegs{}, false
}

// StackMemory serves the stacks a backtrace read in one piece, and
// everything else from kernel memory.
type StackMemory struct {
	mem    symbols.Memory
	k      *Kernel // for crash's reading of excluded pages
	stacks []symbols.Stack
	data   [][]byte
}

func (m *StackMemory) load(st symbols.Stack) error {
	if st.High <= st.Low || st.High-st.Low > 1<<20 {
		return fmt.Errorf("implausible stack [%#x, %#x)", st.Low, st.High)
	}
	n := st.High - st.Low
	var b []byte
	if p, ok := stackBufs.Get().(*[]byte); ok && uint64(cap(*p)) >= n {
		b = (*p)[:n]
	} else {
		b = make([]byte, n)
	}
	if err := m.k.ReadAsCrash(m.mem.ReadVirt, b, st.Low); err != nil {
		return err
	}
	m.stacks = append(m.stacks, st)
	m.data = append(m.data, b)
	return nil
}

// stackBufs are the buffers of released backtraces' stacks (Release):
// foreach bt reads a stack a task, and allocating each anew was a fifth of
// its time, with the garbage collection it caused.
var stackBufs sync.Pool

// Release hands the stacks bt read back for the next Backtrace to reuse:
// bt.Mem reads kernel memory only afterwards, so nothing may use the
// stacks' words (bt.Mem.Word) once it is called.
func (bt *Backtrace) Release() {
	if bt == nil || bt.Mem == nil {
		return
	}
	for _, d := range bt.Mem.data {
		d := d
		stackBufs.Put(&d)
	}
	bt.Mem.data, bt.Mem.stacks = nil, nil
}

// ReadVirt reads from the stacks read, else from kernel memory.
func (m *StackMemory) ReadVirt(p []byte, addr uint64) error {
	for i, st := range m.stacks {
		if addr >= st.Low && addr < st.High && uint64(len(p)) <= st.High-addr {
			copy(p, m.data[i][addr-st.Low:])
			return nil
		}
	}
	return m.mem.ReadVirt(p, addr)
}

// Word reads one stack word; ok is false outside the stacks read.
func (m *StackMemory) Word(addr uint64) (uint64, bool) {
	for i, st := range m.stacks {
		if addr >= st.Low && addr+8 <= st.High {
			return binary.LittleEndian.Uint64(m.data[i][addr-st.Low:]), true
		}
	}
	return 0, false
}

// StackOf returns the stack read that holds addr.
func (m *StackMemory) StackOf(addr uint64) (symbols.Stack, bool) {
	for _, st := range m.stacks {
		if addr >= st.Low && addr < st.High {
			return st, true
		}
	}
	return symbols.Stack{}, false
}

// An Image is the kernel text as backtraces name it: vmlinux, and the
// loaded modules' text named from their kallsyms (symbols.KernelImage).
type Image struct {
	*symbols.Vmlinux
	Modules []*ImageModule
	names   *symbolCache
}

// symbolCache keeps Symbolize's recent answers, direct-mapped by address:
// foreach bt names the same few dozen return addresses thousands of times
// over (each a binary search of vmlinux's symbols, twice: the unwinder's
// frame and the printed line).
type symbolCache [1024]atomic.Pointer[symbolAnswer]

type symbolAnswer struct {
	addr, off uint64
	name      string
	ok        bool
}

// ImageModule is one loaded module's text and its names.
type ImageModule struct {
	Addr uint64 // struct module
	Name string
	Text [][2]uint64 // core and init text, [start, end)
	syms []imageSym  // text symbols, sorted by address
}

type imageSym struct {
	addr, size uint64
	name       string
}

func newImage(v *symbols.Vmlinux, mods []*Module) *Image {
	im := &Image{Vmlinux: v, names: new(symbolCache)}
	for _, km := range mods {
		m := &ImageModule{Addr: km.Addr, Name: km.Name, Text: km.Text}
		// crash names module text from core_kallsyms, the symbols that
		// outlive init (kernel/module/kallsyms.c), plus its own markers at
		// the start of the core and init text: an address in a running init
		// function reads "_MODULE_INIT_START_name" there, and so here. On
		// 6.4+ kernels, whose struct module keeps its memory in mem[] by type
		// (struct module_memory), crash names the markers after those types
		// instead: "_MODULE_TEXT_START_name", "_MODULE_INIT_TEXT_START_name".
		coreMarker, initMarker := "_MODULE_START_", "_MODULE_INIT_START_"
		if km.MemoryLayout {
			coreMarker, initMarker = "_MODULE_TEXT_START_", "_MODULE_INIT_TEXT_START_"
		}
		for i, r := range m.Text {
			marker := coreMarker
			if i > 0 {
				marker = initMarker
			}
			m.syms = append(m.syms, imageSym{addr: r[0], name: marker + m.Name})
		}
		for _, sym := range km.Symbols {
			if sym.Func {
				m.syms = append(m.syms, imageSym{addr: sym.Addr, size: sym.Size, name: sym.Name})
			}
		}
		sort.SliceStable(m.syms, func(i, j int) bool { return m.syms[i].addr < m.syms[j].addr })
		im.Modules = append(im.Modules, m)
	}
	return im
}

// inText reports whether addr is in one of the module's text ranges.
func (m *ImageModule) inText(addr uint64) bool {
	for _, r := range m.Text {
		if addr >= r[0] && addr < r[1] {
			return true
		}
	}
	return false
}

// symbolize names addr inside the module's text.
func (m *ImageModule) symbolize(addr uint64) (string, uint64, bool) {
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > addr }) - 1
	if i < 0 {
		return "", 0, false
	}
	return m.syms[i].name, addr - m.syms[i].addr, true
}

// Module returns the module whose text holds addr, or nil.
func (im *Image) Module(addr uint64) *ImageModule {
	for _, m := range im.Modules {
		if m.inText(addr) {
			return m
		}
	}
	return nil
}

// Symbolize names addr from the module whose text holds it, else from
// vmlinux.
func (im *Image) Symbolize(addr uint64) (string, uint64, bool) {
	var slot *atomic.Pointer[symbolAnswer]
	if im.names != nil {
		slot = &im.names[(addr^addr>>10)%uint64(len(im.names))]
		if a := slot.Load(); a != nil && a.addr == addr {
			return a.name, a.off, a.ok
		}
	}
	var name string
	var off uint64
	var ok bool
	if m := im.Module(addr); m != nil {
		name, off, ok = m.symbolize(addr)
	} else {
		// crash's symbol table holds vmlinux's names cut at .isra./.part./
		// .llvm. (strip_symbol_end in store_symbols): bt and the commands that
		// name words by it say sigsuspend where .symtab has sigsuspend.isra.0.
		name, off, ok = im.Vmlinux.Symbolize(addr)
		name = stripSymbolEnd(name)
	}
	if slot != nil {
		slot.Store(&symbolAnswer{addr: addr, off: off, name: name, ok: ok})
	}
	return name, off, ok
}

// IsText is crash's is_kernel_text(): an address in vmlinux's code or in
// a text symbol, or in a module's text.
func (im *Image) IsText(addr uint64) bool {
	if im.Module(addr) != nil {
		return true
	}
	sym, ok := im.Vmlinux.SymbolAt(addr)
	if !ok {
		return false
	}
	switch sym.Kind {
	case 'T', 't', 'W', 'w':
		return true
	}
	return false
}

// CPUStacks are cpu's IRQ stack and IST exception stacks (IRQ first, the
// exception stacks in cea_exception_stacks order), each read into the
// returned memory; a stack that cannot be read is left out.
func (b *Backtracer) CPUStacks(cpu int) ([]symbols.Stack, *StackMemory, error) {
	off, err := b.k.PerCPUOffset(cpu)
	if err != nil {
		return nil, nil, err
	}
	cs, err := symbols.CPUStacks(b.img, b.types, b.mem, off, b.irqSize)
	mem := &StackMemory{mem: b.mem, k: b.k}
	var out []symbols.Stack
	for _, st := range cs {
		if mem.load(st) == nil {
			out = append(out, st)
		}
	}
	return out, mem, err
}
