package commands

// bt's -g (thread group), -p (panic task), -r (raw stack), -v (stack
// overflow check) and -R (reference): crash's kernel.c cmd_bt(),
// DO_THREAD_GROUP_BACKTRACE, back_trace()'s BT_RAW (memory.c
// raw_stack_dump()) and bt->ref, x86_64.c x86_64_do_bt_reference_check()
// and task.c check_stack_overflow().

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
	"gocrash/symbols"
)

// stackEndMagic is include/uapi/linux/magic.h's STACK_END_MAGIC, written at
// the lowest word of every task stack (end_of_stack()).
const stackEndMagic = 0x57AC6E9D

// runMore handles the options that replace the usual task loop: -v, and
// -g's conflicts with -a and -c. done says whether bt is over.
func (r *btRun) runMore() (done bool, err error) {
	opt := r.opt
	if opt.verify {
		return true, r.stackOverflow()
	}
	if opt.group && opt.cpus != "" {
		return true, errors.New("-c option cannot be used with the -g option")
	}
	if opt.group && opt.all {
		return true, errors.New("-a option cannot be used with the -g option")
	}
	if opt.panic {
		if _, err := r.s.PanicTask(); err != nil {
			return true, errors.New("no panic task found!")
		}
	}
	return false, nil
}

// group is the tasks bt shows for task: with -g and a task of a thread
// group (not an idle task), the group's leader and then its other
// threads in the task table's order; else task alone.
func (r *btRun) group(task uint64) []uint64 {
	if !r.opt.group {
		return []uint64{task}
	}
	tt, err := r.s.taskTable()
	if err != nil {
		return []uint64{task}
	}
	t := tt.byTask(task)
	if t == nil || t.PID == 0 {
		return []uint64{task}
	}
	var out []uint64
	if l := tt.byPID(t.TGID); l != nil {
		out = append(out, l.Addr)
	}
	for i := range tt.tasks {
		if x := &tt.tasks[i]; x.PID != t.TGID && x.TGID == t.TGID {
			out = append(out, x.Addr)
		}
	}
	if len(out) == 0 {
		return []uint64{task}
	}
	return out
}

// rawStack is bt -r: the task's whole stack as "rd -s" shows it, module
// addresses named from the modules' symbols as crash does.
func (r *btRun) rawStack(ti btTask) {
	read, err := r.s.reader(kvaddr)
	if err != nil {
		r.fail(err)
		return
	}
	named := func(v uint64) string {
		if name, off, ok := r.wordName(v); ok {
			if off != 0 {
				return fmt.Sprintf("%s+%d", name, off)
			}
			return name
		}
		if name, ok := r.moduleSymbol(v); ok {
			return name
		}
		return ""
	}
	req := rdRequest{mode: rd64, flag: rdHex | rdSymbolic, mem: kvaddr, addr: ti.Stack, count: int64(r.threadSize / 8)}
	if err := displayMemory(r.s.Ctx(), r.w, req, read, named, r.s.dumpFormat()); err != nil && !Printed(err) {
		r.fail(err)
	}
}

// stackOverflow is bt -v: every task whose stack's lowest word is not
// STACK_END_MAGIC (init_task's stack, the kernel's boot stack, has none),
// when the kernel writes the magic at all (one of PIDs 1-9 has it).
func (r *btRun) stackOverflow() error {
	tt, err := r.s.taskTable()
	if err != nil {
		return err
	}
	stackOf := func(t *Task) (uint64, bool) {
		o, err := r.s.Object(t.Addr, "task_struct")
		if err != nil {
			return 0, false
		}
		m, err := o.Member("stack")
		if err != nil {
			return 0, false
		}
		p, err := m.Pointer()
		return p, err == nil && p != 0
	}
	magicOK := false
	for pid := int64(1); pid < 10 && !magicOK; pid++ {
		if t := tt.byPID(pid); t != nil {
			if base, ok := stackOf(t); ok {
				if v, err := r.s.readPtr(base); err == nil && v == stackEndMagic {
					magicOK = true
				}
			}
		}
	}
	if !magicOK {
		return errors.New("-v option not supported or applicable on this architecture or kernel")
	}
	init, _ := r.s.InitTask()
	total := 0
	for i := range tt.tasks {
		if err := r.s.Ctx().Err(); err != nil {
			return err
		}
		t := &tt.tasks[i]
		base, ok := stackOf(t)
		if !ok {
			continue
		}
		magic, err := r.s.readPtr(base)
		if err != nil {
			continue // crash: RETURN_ON_ERROR, the task is skipped
		}
		if t.PID == 0 && t.Addr == init {
			continue
		}
		if magic != stackEndMagic {
			fmt.Fprintf(r.w, "%s  possible stack overflow: %x: %x != STACK_END_MAGIC\n\n", taskHeader(t), base, magic)
			total++
		}
	}
	if total == 0 {
		io.WriteString(r.w, "No stack overflows detected\n")
	}
	return nil
}

// stackEntry is crash's format_stack_entry(): a stack word as bt -f shows
// it, and with -F a symbol ("name+off") or the slab cache holding it
// ("[kmalloc-64]", with -FF "[addr:kmalloc-64]") for a readable address.
func (tr *btTrace) stackEntry(v uint64) string {
	if tr.r.opt.slab == 0 {
		return fmt.Sprintf("%016x", v)
	}
	if !tr.r.accessible(v) {
		return fmt.Sprintf("%016x", v)
	}
	if name, off, ok := tr.r.wordName(v); ok {
		if off != 0 {
			name = fmt.Sprintf("%s+%d", name, off)
		}
		return fmt.Sprintf("%-16s", name)
	}
	if name, ok := tr.r.moduleSymbol(v); ok {
		return fmt.Sprintf("%-16s", name)
	}
	if cache, ok := tr.r.s.SlabCacheOf(v); ok {
		if tr.r.opt.slab > 1 {
			return fmt.Sprintf("%-16s", fmt.Sprintf("[%x:%s]", v, cache))
		}
		return fmt.Sprintf("%-16s", "["+cache+"]")
	}
	return fmt.Sprintf("%016x", v)
}

// moduleSymbol names an address inside a module's memory as crash's
// value_search does for a module (data symbols too: every memory type of
// a 6.4+ module, where __this_module is in MOD_DATA, not the text that
// Core spans), as "name" or "name+off".
func (r *btRun) moduleSymbol(v uint64) (string, bool) {
	if !r.modsOK {
		r.modsOK = true
		r.st = r.s.symTable()
	}
	if r.st.moduleOf(v) < 0 {
		return "", false
	}
	ref, off, ok := r.st.search(v)
	if !ok {
		return "", false
	}
	name, _, _ := r.st.sym(ref)
	if off != 0 {
		return fmt.Sprintf("%s+%d", name, off), true
	}
	return name, true
}

// accessible is crash's accessible(): the word at v can be read, as
// crash reads it (on an ELF dump a page makedumpfile left out reads as
// zeroes).
func (r *btRun) accessible(v uint64) bool {
	var w [8]byte
	return v >= 4096 && r.s.ReadAsCrash(r.s.Mem.ReadVirt, w[:], v) == nil
}

// btRef is bt -R: crash's struct reference for a backtrace. A reference
// that can be evaluated ("schedule+16") or is hexadecimal is a value
// (BT_REF_HEXVAL), anything else a symbol name (BT_REF_SYMBOL).
type btRef struct {
	str   string
	isHex bool
	hex   uint64
	found bool
}

func (r *btRun) newRef() *btRef {
	ref := &btRef{str: r.opt.ref}
	switch {
	case strings.ContainsAny(ref.str, "+-*/%&|^<>"):
		if v, err := evalParen("("+ref.str+")", r.s.lookupFunc()); err == nil {
			ref.isHex, ref.hex = true, v
		}
	case isHexWord(ref.str):
		if v, err := parseHex(ref.str); err == nil {
			ref.isHex, ref.hex = true, v
		}
	}
	return ref
}

// check is crash's x86_64_do_bt_reference_check(): text is a value
// (0: none), name a symbol name ("": none).
func (ref *btRef) check(r *btRun, text uint64, name string) {
	var symName string
	var symValue, off uint64
	haveSym := false
	switch {
	case name == "":
		if n, o, ok := r.img.Symbolize(text); ok {
			symName, off, haveSym = n, o, true
			symValue = text - o
		}
	case text == 0:
		if v, ok := r.s.Vmlinux.Lookup(name); ok {
			symName, symValue, haveSym = name, v, true
		}
	}
	if !ref.isHex {
		if name != "" {
			ref.found = ref.found || name == ref.str
		} else {
			ref.found = ref.found || haveSym && off == 0 && symName == ref.str
		}
		return
	}
	switch {
	case text != 0:
		ref.found = ref.found || ref.hex == text
	case haveSym:
		ref.found = ref.found || ref.hex == symValue
	case name == "" && text == 0:
		ref.found = ref.found || ref.hex == 0
	}
}

// entry checks one frame line: its return address and function.
func (ref *btRef) entry(r *btRun, pc uint64, name string) { ref.check(r, pc, name) }

// regs checks an exception frame's registers (x86_64_exception_frame()
// with EFRAME_PRINT): RIP, its function, then each register.
func (ref *btRef) regs(r *btRun, p *symbols.PtRegs) {
	ref.check(r, p.IP, "")
	if n, _, ok := r.img.Symbolize(p.IP); ok {
		ref.check(r, 0, n)
	}
	for _, v := range []uint64{p.SP, p.CS, p.SS, p.Flags, p.OrigAX, p.BP, p.AX, p.BX, p.CX, p.DX, p.SI, p.DI,
		p.R8, p.R9, p.R10, p.R11, p.R12, p.R13, p.R14, p.R15} {
		ref.check(r, v, "")
	}
}

// taskRef is crash's back_trace() with a reference: the trace is worked
// out without being shown, and shown (its header without the blank line
// before it, a blank line after it) only when it names the reference.
func (r *btRun) taskRef(task uint64) {
	w, printed := r.w, r.printed
	var buf bytes.Buffer
	r.w, r.printed, r.ref = &buf, 0, r.newRef()
	r.task(task)
	found := r.ref.found
	r.w, r.printed, r.ref = w, printed, nil
	if found {
		w.Write(buf.Bytes())
		io.WriteString(w, "\n")
	}
}

// searchCPUStacks is bt -E: the pt_regs on every CPU's IRQ stack, then on
// each CPU's exception stacks (x86_64_eframe_search with
// BT_EFRAME_SEARCH2), of the CPUs -c lists if given. crash 8.0.6 names the
// fourth exception stack of 6.x kernels "(unknown)" and stops the command
// there ("unrecognized stack address for this task"): its table of
// exception stack names and sizes predates the MCE stack's place in
// cea_exception_stacks. gocrash names it and searches it and the rest
// (commands/bt_old_test.go compares crash's answer up to that line).
func (r *btRun) searchCPUStacks() error {
	var cpus map[int]bool
	if r.opt.cpus != "" {
		var err error
		if cpus, err = parseCPUList(r.opt.cpus, r.tb.cpus); err != nil {
			return err
		}
	}
	type cpuStacks struct {
		cpu    int
		stacks []symbols.Stack
		mem    *kernel.StackMemory
	}
	var all []cpuStacks
	for cpu := 0; cpu < r.tb.cpus; cpu++ {
		if cpus != nil && !cpus[cpu] {
			continue
		}
		sts, mem, err := r.bk.CPUStacks(cpu)
		if err != nil && len(sts) == 0 {
			r.fail(fmt.Errorf("cpu %d: %w", cpu, err))
			continue
		}
		all = append(all, cpuStacks{cpu, sts, mem})
	}
	search := func(c cpuStacks, st symbols.Stack, title string) {
		fmt.Fprintf(r.w, "CPU %d %s:\n", c.cpu, title)
		tr := &btTrace{r: r, mem: c.mem}
		if tr.searchEframes(st) > 0 {
			io.WriteString(r.w, "\n")
		} else {
			io.WriteString(r.w, "(none found)\n\n")
		}
	}
	ctx := r.s.Ctx()
	for _, irq := range []bool{true, false} {
		for _, c := range all {
			for _, st := range c.stacks {
				if err := ctx.Err(); err != nil {
					return err
				}
				switch {
				case irq && st.Kind == symbols.StackIRQ:
					search(c, st, "IRQ STACK")
				case !irq && isExceptionStack(st.Kind):
					search(c, st, st.Kind.String()+" EXCEPTION STACK")
				}
			}
		}
	}
	if r.failed != nil {
		return &printedError{err: r.failed}
	}
	return nil
}

// wordName names a stack word as crash's value_search does: a word at a
// symbol's first byte is named by the first of the symbols there in
// crash's table (sorted by address, ties as written), which need not be
// the one gdb would take — "__key.2", not kthread_create_lock, on
// Debian's 5.10, where a lock's lockdep key shares its address.
func (r *btRun) wordName(v uint64) (string, uint64, bool) {
	name, off, ok := r.img.Symbolize(v)
	if !ok || off != 0 {
		return name, off, ok
	}
	if r.syms == nil {
		r.syms = r.s.symTable()
	}
	if r.syms.inKernelRange(v) {
		if i, o, found := r.syms.searchKernel(v); found && o == 0 {
			return r.syms.syms[i].Name, 0, true
		}
	}
	return name, off, ok
}
