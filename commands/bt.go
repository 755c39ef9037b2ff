package commands

// bt: crash's back trace. The frames come from symbols' ORC/CFI/frame
// pointer unwinder; this file picks the tasks, finds where each backtrace
// starts and prints the frames in crash's layout (x86_64.c:
// x86_64_low_budget_back_trace_cmd, x86_64_print_stack_entry,
// x86_64_exception_frame).

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "bt",
		Summary:  "backtrace",
		Synopsis: "[-a|-c cpu(s)|-g|-r|-t|-T|-l|-e|-E|-f|-[F]F|-o|-O|-v|-p] [-R ref] [-s [-x|d]]\n     [-I ip] [-S sp] [-n idle] [pid | task]",
		Description: `  Display a kernel stack backtrace.  With no argument, the backtrace of the
  current context is shown: at start-up the task that panicked.`,
		Flags: []Flag{
			{Name: "a", Help: "show the stack traces of the active task on each CPU."},
			{Name: "c", Arg: "cpus", Help: `show the stack traces of the active task on the CPUs listed: "3", "1,8,9", "1-23" or "1,8,9-14" ("a" or "all": every CPU).`},
			{Name: "t", Help: "display all text symbols found from the last known stack location to the top of the stack."},
			{Name: "T", Help: "display all text symbols found from just above the task_struct or thread_info to the top of the stack."},
			{Name: "f", Help: "display all stack data contained in a frame."},
			{Name: "l", Help: "show file and line number of each stack trace text location."},
			{Name: "e", Help: "search the stack for possible kernel and user mode exception frames."},
			{Name: "s", Help: "display the symbol name plus its offset."},
			{Name: "x", Help: "when displaying a symbol offset with the -s option, override the default output format with hexadecimal format."},
			{Name: "d", Help: "when displaying a symbol offset with the -s option, override the default output format with decimal format."},
			{Name: "g", Help: "display the stack traces of all threads in the thread group of the target task; the thread group leader will be displayed first."},
			{Name: "r", Help: "display raw stack data, consisting of a memory dump of the two pages of memory containing the task_union structure."},
			{Name: "v", Help: "check the kernel stack of all tasks for evidence of stack overflows: the STACK_END_MAGIC value at the bottom of each stack."},
			{Name: "p", Help: "display the stack trace of the panic task only (the default context may have been changed with set)."},
			{Name: "R", Arg: "ref", Help: "display stack trace only if there is a reference to this symbol or text address."},
			{Name: "E", Help: "search the IRQ stacks and the exception stacks of each CPU (of those -c lists) for possible exception frames; all other arguments except for -c are ignored."},
			{Name: "n", Arg: "idle", Help: "filter the stack of idle tasks: an idle task stopped by the crash NMI shows its header only."},
			{Name: "A", Help: "crash's S390X option (all the registers); on x86_64 crash's refusal.", Hidden: true},
			{Name: "D", Arg: "form", Help: "crash's framesize debugging: \"clear\" (and level-N) answer \"framesize caches cleared\"; \"orc -I ip\" dumps the kernel's ORC entries from the one covering ip to the function's last; \"validate -I ip\" is silent where an ORC entry gives the size; seek, noseek, novalidate and a size do nothing visible.  gocrash keeps no framesize cache: \"dump\", \"framepointer\" and \"noframepointer\" say so.", Hidden: true},
			{Name: "I", Arg: "ip", Help: "use ip (an address or symbol) as the starting text location, at the -S stack address or where the trace would start."},
			{Name: "S", Arg: "sp", Help: "use sp as the starting stack frame address: the trace starts at the first kernel text return address saved there or above."},
			{Name: "o", Help: "use the old backtrace method, which dumps potentially stale kernel text return addresses found on the stack."},
			{Name: "O", Help: "use the old backtrace method by default; subsequent usage of this option toggles the backtrace method."},
			{Name: "F", Help: "similar to -f, except that the stack data is displayed symbolically when appropriate; if the stack data references a slab cache object, the name of the slab cache will be displayed in brackets; with -FF, the slab object address is shown with it."},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"task", "a hexadecimal task_struct pointer."},
		},
		Notes: `  crash 8.0.6 itself dies on a valid -I or -S (fixed in crash 9.0.0), and
  stops bt -E at the MCE exception stack, which it calls "(unknown)":
  gocrash starts where they say and searches every stack.

  The frames are found with the kernel's ORC unwind tables, as the kernel's
  own unwinder does; where ORC has no answer DWARF CFI (.debug_frame) and
  then the frame-pointer chain are used, and a note line after the backtrace
  says which frames came from them.`,
		Examples: `  Display the stack trace of the task that panicked:

    crash> bt
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
     #0 [ff5ed7c980013c88] machine_kexec at ffffffff8ca2ea4b
     #1 [ff5ed7c980013cd8] __crash_kexec at ffffffff8ca9b8e5
     #2 [ff5ed7c980013d90] panic at ffffffff8cda8596
     ...
     #9 [ff5ed7c980013f50] entry_SYSCALL_64_after_hwframe at ffffffff8ce000af
        RIP: 000000000047b7a0  RSP: 00007fff30603b78  RFLAGS: 00000202
        ...

  Display the stack traces of the active task on each CPU:

    crash> bt -a

  Display the stack trace of PID 2, with every frame's stack words:

    crash> bt -f 2

  Display the panic task's stack trace with the old method, which shows every
  kernel text return address above where the trace starts, stale ones too
  (here the return address into __crash_kexec left by an earlier call):

    crash> bt -o
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
     #0 [ff5ed7c980013c88] machine_kexec at ffffffff8ca2ea4b
     #1 [ff5ed7c980013cd8] __crash_kexec at ffffffff8ca9b8e5
     #2 [ff5ed7c980013d60] __crash_kexec at ffffffff8ca9b8c4
     #3 [ff5ed7c980013d90] panic at ffffffff8cda8596
    ...

  Make the old method bt's default, and the new one again:

    crash> bt -O
    bt: use old bt method by default
    crash> bt -O
    bt: use new bt method by default

  Start the trace of PID 2 at a stack address of your choice, the first
  kernel text return address saved there or above (-I names the first
  frame's instruction instead):

    crash> bt -S ff5ed7c98001bf10 2
    PID: 2        TASK: ff42bab500199500  CPU: 0    COMMAND: "kthreadd"
     #0 [ff5ed7c98001bf10] schedule at ffffffff8cdb08fc
     #1 [ff5ed7c98001bf30] kthreadd at ffffffff8ca514cd
     #2 [ff5ed7c98001bf50] ret_from_fork at ffffffff8ca011df

  Search the IRQ and exception stacks of CPU 1 for exception frames:

    crash> bt -E -c 1
    CPU 1 IRQ STACK:
    (none found)

    CPU 1 DOUBLEFAULT EXCEPTION STACK:
    (none found)

    CPU 1 NMI EXCEPTION STACK:

      USER-MODE EXCEPTION FRAME AT: fffffe0000048f58
        RIP: 0000000000455120  RSP: 00007ffee1908c68  RFLAGS: 00000246
    ...

  Show only the stacks that went through panic():

    crash> foreach bt -R panic
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
     #0 [ff5ed7c980013c88] machine_kexec at ffffffff8ca2ea4b
     #1 [ff5ed7c980013cd8] __crash_kexec at ffffffff8ca9b8e5
     #2 [ff5ed7c980013d90] panic at ffffffff8cda8596
    ...

  The kernel's ORC entries for schedule(), from the one covering its
  first instruction (crash's framesize debugging, -D orc):

    crash> bt -D orc -I schedule
    orc_dump: ffffffff8cdb087f / schedule+0
    --------
    ip: ffffffff8d94fe18 -> ffffffff8cdb087e / __schedule+1038 -> orc: ffffffff8d9fa72c  spo: 8 bpo: 0 spr: 5 bpr: 0 type: 0 end: 0
    ip: ffffffff8d94fe1c -> ffffffff8cdb0880 / schedule+1 -> orc: ffffffff8d9fa732  spo: 16 bpo: -16 spr: 5 bpr: 1 type: 0 end: 0
    ...`,
		Run: runBt,
	})
}

// btOptions are bt's flags.
type btOptions struct {
	all      bool   // -a
	text     bool   // -t
	textAll  bool   // -T
	full     bool   // -f
	lines    bool   // -l
	eframes  bool   // -e
	offsets  bool   // -s
	radix    int    // -x 16, -d 10; 0 = crash's default (10)
	cpus     string // -c: a cpu list, "" = none
	raw      bool   // -r
	group    bool   // -g
	verify   bool   // -v
	panic    bool   // -p
	slab     int    // -F 1, -FF 2: -f with symbols and slab caches named
	ref      string // -R: only the traces that reference this symbol or address
	refs     int    // how many -R were given (crash takes the first)
	old      bool   // -o: crash's old method (bt_old.go)
	startPC  uint64 // -I: the first frame's instruction
	startSP  uint64 // -S: where on the stack the trace starts
	skipIdle bool   // -n idle: no trace for the idle tasks an NMI stopped
	estacks  bool   // -E: search every CPU's IRQ and exception stacks
	toggle   bool   // -O: change bt's default method, and nothing else
	taskArgs []string

	frameDebug bool  // -D: crash's framesize debugging (bt_debug.go)
	frameForm  int64 // its form, as crash's hook.esp encodes it
	frameDone  bool  // -D seek, noseek: crash returns at once
}

func parseBt(s *Session, args []string) (btOptions, error) {
	var o btOptions
	g := parseFlags("bt", args)
	for g.next() {
		switch g.flag {
		case "c":
			o.cpus = g.val
		case "a":
			o.all = true
		case "A":
			// crash: S390X only (option_not_supported, at once).
			return o, errors.New("-A option not supported or applicable on this architecture or kernel")
		case "D":
			form, done, err := parseFramesizeDebug(g.val)
			if err != nil {
				return o, err
			}
			if done {
				o.frameDone = true
				return o, nil
			}
			o.frameDebug, o.frameForm = true, form
		case "t":
			o.text = true
		case "T":
			o.text, o.textAll = true, true
		case "f":
			o.full = true
		case "l":
			o.lines = true
		case "e":
			o.eframes = true
		case "E":
			o.estacks = true
		case "s":
			o.offsets = true
		case "r":
			o.raw = true
		case "g":
			o.group = true
		case "v":
			o.verify = true
		case "p":
			o.panic = true
		case "R":
			if o.refs++; o.refs == 1 {
				o.ref = g.val
			}
		case "o":
			o.old = true
		case "I":
			v, err := EvalAddress(g.val, func(name string) (uint64, bool) {
				if s == nil || s.Vmlinux == nil {
					return 0, false
				}
				return s.Vmlinux.Lookup(name)
			})
			if err != nil {
				return o, fmt.Errorf("cannot convert \"%s\"", g.val)
			}
			o.startPC = v
		case "S":
			v, err := parseHex(g.val)
			if err != nil {
				return o, err
			}
			if v == 0 {
				return o, errors.New("invalid stack address for this task: 0")
			}
			o.startSP = v
		case "n":
			// crash takes -n idle on x86_64 only.
			if g.val != "idle" {
				return o, errors.New("-n option not supported or applicable on this architecture or kernel")
			}
			o.skipIdle = true
		case "O":
			// crash's cmd_bt returns as soon as it meets -O: what
			// follows is not looked at.
			o.toggle = true
			return o, nil
		case "F":
			o.full = true
			if o.slab < 2 {
				o.slab++
			}
		case "x":
			if err := setRadix(&o.radix, 16); err != nil {
				return o, err
			}
		case "d":
			if err := setRadix(&o.radix, 10); err != nil {
				return o, err
			}
		}
	}
	if g.err != nil {
		return o, g.err
	}
	o.taskArgs = g.rest()
	return o, nil
}

// btRun is one bt command: what every task's backtrace shares.
type btRun struct {
	s    *Session
	w    io.Writer
	opt  btOptions
	mem  symbols.Memory                       // kernel memory (s.Mem; tests put faults in)
	regs func(cpu int) (symbols.PtRegs, bool) // a CPU's NT_PRSTATUS registers (kernel.CPURegs; tests take them away)
	bk   *kernel.Backtracer
	img  *kernel.Image
	tb   *btTable
	syms *symTable // crash's symbol table, for the words bt -r and -F name (wordName)

	threadSize, irqSize uint64
	regsPad             uint64 // TOP_OF_KERNEL_STACK_PADDING: 16 with FRED (struct fred_frame), else 0

	lines    *symbols.LineTable
	linesErr error

	st     *symTable // -F: crash's symbol table with the modules', made on first use
	modsOK bool

	js      *btJSON // --json (json_bt.go): the values of each line printed
	ref     *btRef  // -R: the reference looked for in the trace being printed
	printed int     // task headers printed (a blank line goes before the next)
	line    []byte  // frameLine's buffer, reused line after line
	failed  error   // the last per-task failure, already printed
	fatal   bool    // a failure that ends the command (crash's error(FATAL))
}

func runBt(s *Session, args []string, w io.Writer) error {
	opt, err := parseBt(s, args)
	if ue := (*UsageError)(nil); errors.As(err, &ue) && ue.Reason == "option requires an argument -- 'D'" {
		// crash: getopt's complaint, then the -D usage instead of bt's.
		fmt.Fprintf(s.diag(w), "bt: %s\n", ue.Reason)
		_, err := io.WriteString(w, framesizeDebugMessage)
		return err
	}
	if err != nil {
		return err
	}
	if opt.frameDone {
		return nil
	}
	if opt.frameDebug {
		ip := opt.startPC
		for _, a := range opt.taskArgs {
			if ip != 0 {
				_, err := io.WriteString(w, framesizeDebugMessage)
				return err
			}
			v, err := EvalAddress(a, s.lookupFunc())
			if err != nil {
				return fmt.Errorf("cannot convert \"%s\"", a)
			}
			ip = v
		}
		opt.taskArgs = nil
		r, err := newBtRun(s, opt, w)
		if err != nil {
			return err
		}
		return r.framesizeDebug(opt.frameForm, ip)
	}
	if opt.toggle {
		// crash: error(INFO, "use %s bt method by default\n", ...).
		s.btOld = !s.btOld
		how := "new"
		if s.btOld {
			how = "old"
		}
		fmt.Fprintf(w, "bt: use %s bt method by default\n", how)
		return nil
	}
	if s.btOld {
		opt.old = true
	}
	r, err := newBtRun(s, opt, w)
	if err != nil {
		return err
	}
	return r.run()
}

// run prints the backtraces the options ask for.
func (r *btRun) run() error {
	s, opt, w := r.s, r.opt, r.w
	if opt.estacks {
		return r.searchCPUStacks()
	}
	if done, err := r.runMore(); done {
		return err
	}
	var tasks []uint64
	switch {
	case opt.all || opt.cpus != "":
		var cpus map[int]bool // nil: every cpu (-a)
		if opt.cpus != "" {
			// crash's bt -c: the active task of each cpu listed, in
			// cpu order; task arguments are not looked at.
			var err error
			if cpus, err = parseCPUList(opt.cpus, r.tb.cpus); err != nil {
				return err
			}
			opt.taskArgs = nil
		}
		for cpu := 0; cpu < r.tb.cpus; cpu++ {
			if cpus != nil && !cpus[cpu] {
				continue
			}
			t, err := s.ActiveTask(cpu)
			if err != nil {
				r.fail(fmt.Errorf("cannot determine active task on cpu %d: %w", cpu, err))
				continue
			}
			if r.tb.byTask[t] {
				tasks = append(tasks, t)
			}
		}
	case len(opt.taskArgs) == 0:
		t, err := s.Context()
		if err != nil {
			return err
		}
		if opt.panic {
			if t, err = s.PanicTask(); err != nil {
				return errors.New("no panic task found!")
			}
		}
		tasks = append(tasks, r.group(t)...)
	}
	ctx := s.Ctx()
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.fatal {
			break
		}
		r.task(t)
	}
	for _, a := range opt.taskArgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.fatal {
			break
		}
		ts := r.tb.resolve(a)
		if ts == nil {
			// crash: error(INFO, "%sinvalid task or pid value: %s\n", subsequent++ ? "\n" : "", ...)
			if r.printed > 0 {
				io.WriteString(w, "\n")
			}
			r.printed++
			r.fail(fmt.Errorf("%w: %s", ErrNoTask, a))
			continue
		}
		if opt.group && len(ts) == 1 {
			ts = r.group(ts[0])
		}
		for _, t := range ts {
			if !r.fatal {
				r.task(t)
			}
		}
	}
	if r.failed != nil {
		return &printedError{err: r.failed}
	}
	return nil
}

func newBtRun(s *Session, opt btOptions, w io.Writer) (*btRun, error) {
	r := &btRun{s: s, w: w, opt: opt, mem: s.Mem}
	r.regs = func(cpu int) (symbols.PtRegs, bool) { return kernel.CPURegs(s.Dump, cpu) }
	var err error
	if r.bk, err = s.NewBacktracer(s.Ctx()); err != nil {
		return nil, err
	}
	r.img = r.bk.Image()
	r.threadSize, r.irqSize, r.regsPad = r.bk.ThreadSize(), r.bk.IRQStackSize(), r.bk.RegsPad()
	if r.tb, err = s.btTaskTable(); err != nil {
		return nil, err
	}
	if err := r.bk.ModulesError(); err != nil {
		// Without modules the vmlinux frames still unwind; a module
		// frame then stops the unwind with its own message.
		fmt.Fprintf(w, "bt: WARNING: %v\n", err)
	}
	return r, nil
}

// fail prints a per-task failure as crash does ("bt: ...") and goes on
// with the next task.
func (r *btRun) fail(err error) {
	fmt.Fprintf(r.w, "bt: %v\n", err)
	r.failed = err
	r.js.fail(err)
}

// header is crash's print_task_header().
func (r *btRun) header(t btTask) {
	nl := ""
	if r.printed > 0 {
		nl = "\n"
	}
	r.printed++
	fmt.Fprintf(r.w, "%sPID: %-7d  TASK: %-16x  CPU: %-3d  COMMAND: \"%s\"\n", nl, t.PID, t.Addr, t.CPU, t.Comm)
	r.js.task(t)
}

// task prints one task's backtrace.
func (r *btRun) task(task uint64) {
	if r.opt.ref != "" && r.ref == nil {
		r.taskRef(task)
		return
	}
	bk := r.bk
	if r.mem != r.s.Mem {
		bk = bk.WithMemory(r.mem)
	}
	opt := kernel.BacktraceOptions{Registers: r.regs, StacksOnly: r.opt.eframes, StartPC: r.opt.startPC, StartSP: r.opt.startSP}
	bt, err := bk.Backtrace(r.s.Ctx(), task, opt)
	defer bt.Release() // nothing keeps the stacks once printed
	if bt == nil {
		if r.printed > 0 {
			io.WriteString(r.w, "\n")
		}
		r.printed++
		r.fail(fmt.Errorf("task %x: %w", task, err))
		return
	}
	r.header(bt.Task)
	if r.opt.raw {
		r.rawStack(bt.Task)
		return
	}
	var re *kernel.StackReadError
	var outside *kernel.StartOutsideError
	switch {
	case errors.As(err, &outside):
		// crash: error(FATAL, ...): the command stops here.
		fmt.Fprintf(r.w, "bt: non-process stack address for this task: %x\n    (valid range: %x - %x)\n", outside.SP, outside.Low, outside.High)
		r.failed, r.fatal = err, true
		return
	case errors.Is(err, kernel.ErrNoStack):
		io.WriteString(r.w, "(no stack)\n")
		return
	case errors.As(err, &re):
		r.fail(r.readError(re.Err, re.Stack.Low, "stack contents"))
		r.failed = fmt.Errorf("read of stack at %x failed", re.Stack.Low)
		fmt.Fprintf(r.w, "bt: %v\n", r.failed)
		return
	case err != nil:
		r.fail(err)
		return
	}
	for _, d := range bt.Diagnostics {
		fmt.Fprintf(r.w, "bt: WARNING: %s\n", d.Text)
	}
	if r.opt.skipIdle && bt.How == "crash_nmi_callback" && bt.Task.PID == 0 {
		// -n idle: crash's BT_SKIP_IDLE, kept by the dump-file search
		// only for an idle task it found stopped in crash_nmi_callback.
		return
	}
	tr := &btTrace{r: r, ti: bt.Task, mem: bt.Mem, stacks: bt.Stacks, taskStack: bt.TaskStack,
		st: bt.Start, how: bt.How, regs: bt.Regs, frames: bt.Frames, err: bt.Err}
	if r.opt.eframes {
		tr.eframeSearch()
		return
	}
	if r.opt.text {
		tr.printText()
		return
	}
	if r.opt.old {
		tr.printOld()
		return
	}
	tr.print()
}

// readError words a failed read as crash's readmem() does.
func (r *btRun) readError(err error, addr uint64, what string) error {
	return classifyReadError(err, kvaddr, addr, what, r.s.dumpFormat())
}

// btTrace is one task's backtrace being printed.
type btTrace struct {
	r         *btRun
	ti        btTask
	mem       *kernel.StackMemory
	stacks    []symbols.Stack
	taskStack symbols.Stack

	st     symbols.Start
	how    string // ActiveStart's choice, "sleeping" for a switched-out task
	regs   *symbols.PtRegs
	frames []symbols.Frame
	err    error
}

// symbol names a frame's PC as crash does: the function containing PC-1
// for a return address, PC itself for an interrupted instruction; with -s
// the offset is from PC.
func (tr *btTrace) symbol(pc uint64, signal bool) (string, bool) {
	look := pc
	if !signal && look > 0 {
		look--
	}
	name, _, ok := tr.r.img.Symbolize(look)
	if !ok {
		return "", false
	}
	if tr.r.opt.offsets {
		if _, off, ok := tr.r.img.Symbolize(look); ok {
			if !signal {
				off++
			}
			if off != 0 {
				if tr.r.opt.radix == 16 {
					name += fmt.Sprintf("+0x%x", off)
				} else {
					name += fmt.Sprintf("+%d", off)
				}
			}
		}
	}
	return name, true
}

// modTag is " [module]" for an address in a module's text.
func (tr *btTrace) modTag(pc uint64) string {
	if m := tr.r.img.Module(pc); m != nil {
		return " [" + m.Name + "]"
	}
	return ""
}

// isText is crash's is_kernel_text() (kernel.Image.IsText).
func (r *btRun) isText(addr uint64) bool {
	if m := r.img.Module(addr); m != nil {
		if text, ok := r.s.loadedModuleText(m.Name, addr); ok {
			return text
		}
	}
	return r.img.IsText(addr)
}

// exceptionRIP is crash's "[exception RIP: name+off]": the offset in the
// session's output radix (x86_64.c: *gdb_output_radix, which "set radix"
// changes, not bt -x), decimal in gocrash, which has no "set radix".
func (tr *btTrace) exceptionRIP(ip uint64) string {
	name, off, ok := tr.r.img.Symbolize(ip)
	if !ok {
		return fmt.Sprintf("unknown or invalid address")
	}
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%d", name, off)
}

// writeRegs is x86_64_exception_frame()'s register block.
func writeRegs(w io.Writer, r *symbols.PtRegs) {
	fmt.Fprintf(w, "    RIP: %016x  RSP: %016x  RFLAGS: %08x\n", r.IP, r.SP, r.Flags)
	fmt.Fprintf(w, "    RAX: %016x  RBX: %016x  RCX: %016x\n", r.AX, r.BX, r.CX)
	fmt.Fprintf(w, "    RDX: %016x  RSI: %016x  RDI: %016x\n", r.DX, r.SI, r.DI)
	fmt.Fprintf(w, "    RBP: %016x   R8: %016x   R9: %016x\n", r.BP, r.R8, r.R9)
	fmt.Fprintf(w, "    R10: %016x  R11: %016x  R12: %016x\n", r.R10, r.R11, r.R12)
	fmt.Fprintf(w, "    R13: %016x  R14: %016x  R15: %016x\n", r.R13, r.R14, r.R15)
	fmt.Fprintf(w, "    ORIG_RAX: %016x  CS: %04x  SS: %04x\n", r.OrigAX, r.CS, r.SS)
}

// exceptionBlock prints a pt_regs the way crash prints one under a frame.
func (tr *btTrace) exceptionBlock(regs *symbols.PtRegs) {
	if tr.r.ref != nil {
		tr.r.ref.regs(tr.r, regs)
	}
	w := tr.r.w
	if !regs.UserMode() {
		fmt.Fprintf(w, "    [exception RIP: %s]\n", tr.exceptionRIP(regs.IP))
		tr.r.js.regs(regs, tr.exceptionRIP(regs.IP))
	} else {
		tr.r.js.regs(regs, "")
	}
	writeRegs(w, regs)
	if tr.r.opt.lines && !regs.UserMode() {
		tr.line(regs.IP)
	}
}

// userRegsAddr is where the user-mode pt_regs of a task sits: at the top
// of its stack, below TOP_OF_KERNEL_STACK_PADDING (task_pt_regs()).
func (tr *btTrace) userRegsAddr() uint64 {
	return tr.taskStack.High - tr.r.regsPad - symbols.PtRegsSize
}

// readRegs reads a pt_regs from the stacks.
func (tr *btTrace) readRegs(addr uint64) (*symbols.PtRegs, bool) {
	var w [21]uint64
	for i := range w {
		v, ok := tr.mem.Word(addr + uint64(8*i))
		if !ok {
			return nil, false
		}
		w[i] = v
	}
	regs := symbols.PtRegsFromWords(w[:])
	return &regs, true
}

// stackName is how crash names a stack in its "--- <...> ---" lines.
func stackName(k symbols.StackKind) string {
	if k == symbols.StackIRQ {
		return "IRQ stack"
	}
	return k.String() + " exception stack"
}

func isExceptionStack(k symbols.StackKind) bool {
	return k != symbols.StackTask && k != symbols.StackIRQ && k != symbols.StackUnknown
}

// trimErr shortens an unwinder error for the one line bt prints.
func trimErr(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// lineOf is bt -l's source line of pc, from vmlinux's DWARF line tables
// (read on the first -l of the command).
func (r *btRun) lineOf(pc uint64) (string, int, bool) {
	if r.lines == nil && r.linesErr == nil {
		r.lines, r.linesErr = symbols.NewLineTable(r.s.Vmlinux)
		if r.linesErr != nil {
			fmt.Fprintf(r.w, "bt: line numbers are not available: %v\n", r.linesErr)
		}
	}
	if m := r.img.Module(pc); m != nil {
		// A module's lines come from the object file mod -s loaded.
		if o := r.s.moduleObject(m.Name); o != nil {
			file, line, err := o.Line(pc)
			return file, line, err == nil
		}
		return "", 0, false
	}
	if r.lines == nil {
		return "", 0, false
	}
	file, line, err := r.lines.Line(pc)
	return file, line, err == nil
}
