package commands

// bt -o and -O: crash's "old" x86_64 backtrace, which shows every kernel
// text return address on the stack from where the trace starts, stale ones
// included. In crash (x86_64.c) it is x86_64_low_budget_back_trace_cmd with
// BT_OLD_BACK_TRACE set, which makes x86_64_get_framesize() answer 0: the
// walk never steps over a frame, so each word of the stack that is kernel
// text is a candidate, and x86_64_print_stack_entry() decides which are
// shown (not a symbol's first byte, that is not a return address; an
// exception entry function is followed by its pt_regs when one verifies).
// The stacks it crosses and where it enters each are the same as the new
// method's (the frames the unwinder found), so only the walk within a
// stack differs.

import (
	"fmt"
	"strings"

	"gocrash/symbols"
)

// oldExceptionFunctions are the entry functions after whose return address
// crash looks for a pt_regs (x86_64.c: exception_functions_5_8, used when
// the kernel has asm_exc_divide_error; the kernels gocrash reads, 5.8+).
var oldExceptionFunctions = map[string]bool{
	"asm_exc_invalid_tss": true, "asm_exc_segment_not_present": true, "asm_exc_alignment_check": true,
	"asm_exc_general_protection": true, "asm_exc_page_fault": true, "asm_exc_divide_error": true,
	"asm_exc_overflow": true, "asm_exc_bounds": true, "asm_exc_invalid_op": true,
	"asm_exc_device_not_available": true, "asm_exc_coproc_segment_overrun": true,
	"asm_exc_spurious_interrupt_bug": true, "asm_exc_coprocessor_error": true,
	"asm_exc_simd_coprocessor_error": true, "asm_exc_debug": true, "xen_asm_exc_stack_segment": true,
	"xen_asm_exc_xen_hypervisor_callback": true, "xen_asm_exc_int3": true,
}

// oldTrace is one -o walk being printed.
type oldTrace struct {
	tr         *btTrace
	level      int
	frameptr   uint64 // -f: the first word not yet shown
	lastEframe uint64 // the last pt_regs shown on the task stack (crash's last_process_stack_eframe)
}

// entry is x86_64_print_stack_entry() for the old method: the frame line
// of the text word v found at slot, and whether it was shown.
func (o *oldTrace) entry(slot, v uint64, start bool) bool {
	tr := o.tr
	r := tr.r
	name, off, ok := r.img.Symbolize(v)
	if !ok {
		return false
	}
	if off == 0 && !start && name != "error_exit" {
		return false // a symbol's address, not a return address
	}
	if r.opt.full {
		tr.fullFrame(o.frameptr, slot)
	}
	o.frameptr = slot + 8
	label, _ := tr.symbol(v, true)
	if r.ref != nil {
		r.ref.entry(r, v, name)
	}
	sp := " "
	if o.level >= 10 {
		sp = ""
	}
	fmt.Fprintf(r.w, "%s#%d [%8x] %s at %x%s\n", sp, o.level, slot, label, v, tr.modTag(v))
	r.js.frame(o.level, slot, label, v, tr.modTag(v))
	if r.opt.lines {
		tr.line(v)
	}
	o.level++
	return true
}

// scan walks st from the slot from up to limit as crash's loop does.
func (o *oldTrace) scan(st symbols.Stack, from, limit uint64) {
	tr := o.tr
	for addr := from &^ 7; addr+8 <= limit; addr += 8 {
		if err := tr.r.s.Ctx().Err(); err != nil {
			return
		}
		v, ok := tr.mem.Word(addr)
		if !ok || !tr.r.isText(v) {
			continue
		}
		name, off, _ := tr.r.img.Symbolize(v)
		if !o.entry(addr, v, false) {
			continue
		}
		// The pt_regs an exception entry pushed sits just above its
		// return address; on an IRQ stack an "_interrupt" function's is
		// looked for at the return address itself.
		check := int64(-1)
		switch {
		case name == "error_exit" || off != 0 && oldExceptionFunctions[name]:
			check = 8
		case st.Kind == symbols.StackIRQ && strings.Contains(name, "_interrupt"):
			check = 0
		}
		if check < 0 {
			continue
		}
		at := addr + uint64(check)
		regs, ok := tr.readRegs(at)
		if !ok || !tr.plausibleRegs(at, regs) {
			continue
		}
		tr.exceptionBlock(regs)
		if st.Kind == symbols.StackTask {
			o.lastEframe = at
		}
		addr += symbols.PtRegsSize
	}
}

// limit is where crash's walk of st ends: the top of the stack, below the
// CPU-saved registers of an exception stack.
func oldLimit(st symbols.Stack) uint64 {
	if isExceptionStack(st.Kind) {
		return st.High - symbols.PtRegsSize
	}
	return st.High
}

// printOld prints the backtrace with crash's old method (bt -o).
func (tr *btTrace) printOld() {
	r, w := tr.r, tr.r.w
	o := &oldTrace{tr: tr}
	frames := tr.frames
	if len(frames) == 0 {
		if tr.err != nil {
			r.fail(tr.err)
		}
		return
	}
	cur := frames[0].Stack
	from := tr.st.Slot
	// A switched-out task: crash starts at thread_return with RSP at
	// thread.sp and steps over the inactive_task_frame to its return
	// address, the start's Slot; an active one at the slot its start was
	// found in.
	first := 0
	if tr.how == "registers" && tr.regs != nil {
		if tr.regs.UserMode() {
			fmt.Fprintf(w, "    [exception RIP: user space]\n")
			tr.r.js.regs(tr.regs, "user space")
			writeRegs(w, tr.regs)
			return
		}
		tr.exceptionBlock(tr.regs)
		from, first = tr.regs.SP, 1
		if len(frames) > 1 {
			cur = frames[1].Stack
		}
	}
	if from == 0 {
		from = frames[0].SP
	}
	userShown := false
	for i := first + 1; i < len(frames) && !userShown; i++ {
		f, prev := frames[i], frames[i-1]
		switch {
		case f.Exception != nil && isExceptionStack(prev.Stack.Kind) && f.Stack.Kind != prev.Stack.Kind:
			// Leaving an IST stack: its words up to the CPU-saved
			// registers, those registers, and the interrupted
			// instruction with the interrupted RSP in brackets.
			o.scan(cur, from, oldLimit(cur))
			tr.exceptionBlock(&f.Exception.Regs)
			if f.User {
				userShown = true
				continue
			}
			fmt.Fprintf(w, "--- <%s> ---\n", stackName(prev.Stack.Kind))
			o.frameptr = 0
			o.entry(f.SP, f.PC, true)
			cur, from = f.Stack, f.SP
		case f.Exception != nil && f.User && f.Stack != cur:
			o.scan(cur, from, oldLimit(cur))
			tr.exceptionBlock(&f.Exception.Regs)
			userShown = true
		case prev.Stack.Kind == symbols.StackIRQ && f.Stack.Kind != symbols.StackIRQ:
			o.scan(cur, from, oldLimit(cur))
			fmt.Fprintf(w, "--- <%s> ---\n", stackName(symbols.StackIRQ))
			o.frameptr = 0
			cur, from = f.Stack, f.Slot
			if slot, pc, ok := tr.irqEntrySlot(frames, i); ok {
				o.entry(slot, pc, true)
				exc := frames[i+1].Exception
				tr.exceptionBlock(&exc.Regs)
				if exc.Regs.UserMode() {
					userShown = true
					continue
				}
				from = exc.Addr + symbols.PtRegsSize
			}
		}
	}
	if userShown {
		return
	}
	o.scan(cur, from, oldLimit(cur))
	if !tr.ti.Kthread && cur == tr.taskStack && o.lastEframe < tr.taskStack.High-symbols.PtRegsSize {
		// crash shows the user-mode registers at the top of a user
		// task's stack unless the walk showed them already.
		if regs, ok := tr.readRegs(tr.userRegsAddr()); ok {
			tr.r.js.regs(regs, "")
			writeRegs(w, regs)
		}
	}
}
