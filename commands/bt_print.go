package commands

// Printing a backtrace in crash's layout.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gocrash/symbols"
)

// frameLine is x86_64_print_stack_entry()'s line: " #N [rsp] name at pc".
func (tr *btTrace) frameLine(level int, rsp, pc uint64, signal bool) bool {
	name, ok := tr.symbol(pc, signal)
	if !ok {
		return false // crash: BACKTRACE_ENTRY_IGNORED
	}
	if tr.r.ref != nil {
		plain, _, _ := tr.r.img.Symbolize(pc - map[bool]uint64{true: 0, false: 1}[signal])
		tr.r.ref.entry(tr.r, pc, plain)
	}
	tag := tr.modTag(pc)
	// "%s#%d [%8x] %s at %x%s\n", appended by hand into one buffer: fmt's
	// boxing of six arguments was most of foreach bt's printing.
	b := tr.r.line[:0]
	if level < 10 {
		b = append(b, ' ')
	}
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(level), 10)
	b = append(b, " ["...)
	b = appendHexWidth(b, rsp, 8)
	b = append(b, "] "...)
	b = append(b, name...)
	b = append(b, " at "...)
	b = strconv.AppendUint(b, pc, 16)
	b = append(b, tag...)
	b = append(b, '\n')
	tr.r.w.Write(b)
	tr.r.line = b
	tr.r.js.frame(level, rsp, name, pc, tag)
	if tr.r.opt.lines {
		// crash shows the line of the return address itself, not of
		// the call before it (what gdb answers for the address).
		tr.line(pc)
	}
	return true
}

// appendHexWidth appends v in lower-case hex, right-aligned in width
// columns with spaces (fmt's %<width>x).
func appendHexWidth(b []byte, v uint64, width int) []byte {
	var d [16]byte
	h := strconv.AppendUint(d[:0], v, 16)
	for i := len(h); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, h...)
}

// fullFrame is x86_64_display_full_frame(): the stack words from just
// above the previous frame's slot up to and including this one's.
func (tr *btTrace) fullFrame(from, to uint64) {
	if from == 0 || to < from {
		return
	}
	st, ok := tr.mem.StackOf(from)
	if !ok || to >= st.High {
		return
	}
	var b strings.Builder
	for i, addr := 0, from; addr <= to; i, addr = i+1, addr+8 {
		if i&1 == 0 {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "    %x: ", addr)
		}
		v, _ := tr.mem.Word(addr)
		b.WriteString(tr.stackEntry(v) + " ")
	}
	b.WriteString("\n")
	fmt.Fprint(tr.r.w, b.String())
}

// print prints the frames as bt does.
func (tr *btTrace) print() {
	r, w := tr.r, tr.r.w
	frames := tr.frames
	if len(frames) == 0 {
		if tr.err != nil {
			r.fail(tr.err)
		}
		return
	}
	level := 0
	var frameptr uint64 // -f: the first word not yet shown
	emit := func(rsp, pc uint64, signal bool) {
		if r.img.Module(pc) != nil && !r.isText(pc) {
			// module text crash does not count as text after mod -s
			// (loadedModuleText): its stack walk passes the word by
			return
		}
		if r.opt.full {
			tr.fullFrame(frameptr, rsp)
		}
		frameptr = rsp + 8
		if tr.frameLine(level, rsp, pc, signal) {
			level++
		}
	}
	fallback := map[symbols.Method][]int{}
	userShown := false
	first := 0
	if tr.how == "registers" && tr.regs != nil {
		// No frame below the saved registers was found (a QEMU dump):
		// crash shows the registers as an exception frame and walks the
		// stack from their RSP.
		if tr.regs.UserMode() {
			fmt.Fprintf(w, "    [exception RIP: user space]\n")
			tr.r.js.regs(tr.regs, "user space")
			writeRegs(w, tr.regs)
			return
		}
		tr.exceptionBlock(tr.regs)
		first = 1
	}
	for i := first; i < len(frames); i++ {
		f := frames[i]
		if f.Method == symbols.MethodCFI || f.Method == symbols.MethodFP {
			fallback[f.Method] = append(fallback[f.Method], level)
		}
		if f.NoReturnCall {
			// A call to a function that never returns was the
			// caller's last instruction: crash's stack walk steps
			// over that slot, and so does its output.
			continue
		}
		if i == 0 {
			emit(f.Slot, f.PC, f.Signal)
			continue
		}
		prev := frames[i-1]
		if f.Exception != nil {
			regs := &f.Exception.Regs
			if f.User {
				tr.exceptionBlock(regs)
				userShown = true
				break
			}
			tr.exceptionBlock(regs)
			if isExceptionStack(prev.Stack.Kind) && f.Stack.Kind != prev.Stack.Kind {
				// Leaving an IST stack: crash names it and starts
				// again at the interrupted instruction, with the
				// interrupted RSP in brackets.
				fmt.Fprintf(w, "--- <%s> ---\n", stackName(prev.Stack.Kind))
				frameptr = 0
				emit(f.SP, f.PC, true)
			}
			// Otherwise the interrupted function shows only in the
			// "[exception RIP: ...]" line and the walk goes on with
			// its caller.
			continue
		}
		if prev.Stack.Kind == symbols.StackIRQ && f.Stack.Kind != symbols.StackIRQ {
			fmt.Fprintf(w, "--- <%s> ---\n", stackName(symbols.StackIRQ))
			frameptr = 0
			if slot, pc, ok := tr.irqEntrySlot(frames, i); ok {
				emit(slot, pc, f.Signal)
				continue
			}
		}
		emit(f.Slot, f.PC, f.Signal)
	}
	if !userShown && !tr.ti.Kthread && tr.endsOnTaskStack() {
		// crash shows the user-mode registers at the top of the stack of
		// every user task whose walk ends on its process stack, whether
		// or not the walk got there.
		if regs, ok := tr.readRegs(tr.userRegsAddr()); ok {
			tr.r.js.regs(regs, "")
			writeRegs(w, regs)
		}
	}
	tr.note(fallback)
	if tr.err != nil {
		r.fail(fmt.Errorf("backtrace stopped: %s", trimErr(tr.err)))
	}
}

// irqEntrySlot is how crash shows the interrupt entry frame the walk comes
// back to from the IRQ stack (frames[i], whose caller frames[i+1] holds the
// interrupt's pt_regs): x86_64_low_budget_back_trace_cmd prints it as an
// exception frame, whose "[rsp]" is the pt_regs' own address (bt->stkptr),
// with the PC of the word just below it (the entry code's return address,
// kernels with asm_common_interrupt, 5.8 and later). The unwinder's slot is
// that lower word, 8 bytes below crash's; bt -f shows no stack words
// before this frame and goes on from the word above its "[rsp]".
func (tr *btTrace) irqEntrySlot(frames []symbols.Frame, i int) (slot, pc uint64, ok bool) {
	if i+1 >= len(frames) || frames[i+1].Exception == nil {
		return 0, 0, false
	}
	if _, common := tr.r.s.Vmlinux.Lookup("asm_common_interrupt"); !common {
		return 0, 0, false
	}
	slot = frames[i+1].Exception.Addr
	pc, ok = tr.mem.Word(slot - 8)
	if !ok || !tr.r.isText(pc) {
		return 0, 0, false
	}
	return slot, pc, true
}

// endsOnTaskStack reports whether the last frame is on the task's stack.
func (tr *btTrace) endsOnTaskStack() bool {
	if len(tr.frames) == 0 {
		return false
	}
	return tr.frames[len(tr.frames)-1].Stack.Kind == symbols.StackTask
}

// note says which frames a fallback unwinder found. crash has no such
// line, so it is printed only with "set unwind_notes on", and only when
// ORC could not answer.
func (tr *btTrace) note(fallback map[symbols.Method][]int) {
	if len(fallback) == 0 || !tr.r.s.Settings().On(UnwindNotes) {
		return
	}
	var parts []string
	for _, m := range []symbols.Method{symbols.MethodCFI, symbols.MethodFP} {
		lv := fallback[m]
		if len(lv) == 0 {
			continue
		}
		var nums []string
		for _, l := range lv {
			nums = append(nums, fmt.Sprintf("#%d", l))
		}
		how := "DWARF CFI (.debug_frame)"
		if m == symbols.MethodFP {
			how = "the frame-pointer chain"
		}
		parts = append(parts, fmt.Sprintf("%s found with %s", strings.Join(nums, " "), how))
	}
	fmt.Fprintf(tr.r.w, "    (ORC could not unwind: %s)\n", strings.Join(parts, "; "))
}

// printText is bt -t and -T: every text address on the stacks the walk
// crosses, from the starting stack slot (-T: from the stack's bottom) to
// the top of each stack.
func (tr *btTrace) printText() {
	r, w := tr.r, tr.r.w
	startSP := tr.st.Slot
	if tr.how == "sleeping" {
		startSP = tr.ti.ThreadSP
	}
	if tr.how == "registers" || startSP == 0 {
		startSP = tr.st.SP
	}
	if !r.opt.textAll {
		name := "(unknown)"
		if n, _, ok := r.img.Symbolize(tr.st.PC); ok {
			name = n
		}
		fmt.Fprintf(w, "              START: %s at %x\n", name, tr.st.PC)
	}
	// The stacks in the order the walk visits them.
	var order []symbols.Stack
	seen := map[symbols.Stack]bool{}
	for _, f := range tr.frames {
		if f.Stack.Kind == symbols.StackUnknown || seen[f.Stack] {
			continue
		}
		seen[f.Stack] = true
		order = append(order, f.Stack)
	}
	if len(order) == 0 {
		if st, ok := tr.mem.StackOf(startSP); ok {
			order = append(order, st)
		}
	}
	if r.opt.textAll {
		order = []symbols.Stack{tr.taskStack}
		startSP = tr.taskStack.Low
	}
	for i, st := range order {
		from := st.Low
		if i == 0 && startSP >= st.Low && startSP < st.High {
			from = startSP
		}
		if i > 0 && order[i-1].Kind == symbols.StackIRQ {
			// Back from the IRQ stack, crash shows the interrupt's entry
			// frame and its pt_regs, and goes on above them (a user-mode
			// pt_regs ends the trace there).
			if regs, slot, pc, ok := tr.irqEntry(st); ok {
				name, _ := tr.symbol(pc, true)
				fmt.Fprintf(w, "  [%16x] %s at %x%s\n", slot, name, pc, tr.modTag(pc))
				tr.exceptionBlock(&regs.Regs)
				if regs.Regs.UserMode() {
					return
				}
				from = regs.Addr + symbols.PtRegsSize
			}
		}
		top := st.High
		if isExceptionStack(st.Kind) {
			top -= symbols.PtRegsSize
		}
		for addr := from &^ 7; addr < top; addr += 8 {
			v, ok := tr.mem.Word(addr)
			if !ok || !r.isText(v) {
				continue
			}
			// crash names each word by the symbol containing it
			// (a return address after a call to a noreturn function
			// names the next function, unlike the frame lines).
			name, ok := tr.symbol(v, true)
			if !ok {
				continue
			}
			fmt.Fprintf(w, "  [%16x] %s at %x%s\n", addr, name, v, tr.modTag(v))
		}
		if st.Kind != symbols.StackTask {
			fmt.Fprintf(w, "--- <%s> ---\n", stackName(st.Kind))
		}
	}
	if !tr.ti.Kthread && (len(order) == 0 || order[len(order)-1].Kind == symbols.StackTask) {
		if regs, ok := tr.readRegs(tr.userRegsAddr()); ok {
			writeRegs(w, regs)
		}
	}
}

// irqEntry finds, on st (the stack an interrupt came from), the pt_regs
// the walk crossed back from the IRQ stack with, and crash's entry frame
// just below it (irqEntrySlot).
func (tr *btTrace) irqEntry(st symbols.Stack) (*symbols.ExceptionFrame, uint64, uint64, bool) {
	for i := 1; i < len(tr.frames); i++ {
		f := tr.frames[i]
		if tr.frames[i-1].Stack.Kind != symbols.StackIRQ || f.Stack != st {
			continue
		}
		if slot, pc, ok := tr.irqEntrySlot(tr.frames, i); ok {
			return tr.frames[i+1].Exception, slot, pc, true
		}
		return nil, 0, 0, false
	}
	return nil, 0, 0, false
}

// eframeSearch is bt -e: every place on the task's stack that holds a
// plausible struct pt_regs (x86_64_eframe_search, x86_64_eframe_verify).
func (tr *btTrace) eframeSearch() { tr.searchEframes(tr.taskStack) }

// searchEframes prints the plausible pt_regs on st and returns how many.
func (tr *btTrace) searchEframes(st symbols.Stack) int {
	w := tr.r.w
	var found []uint64
	for addr := st.Low; addr+symbols.PtRegsSize <= st.High; addr += 8 {
		regs, ok := tr.readRegs(addr)
		if !ok {
			continue
		}
		if tr.plausibleRegs(addr, regs) {
			found = append(found, addr)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i] < found[j] })
	for _, addr := range found {
		regs, _ := tr.readRegs(addr)
		mode := "KERNEL"
		if regs.UserMode() {
			mode = "USER"
		}
		fmt.Fprintf(w, "\n  %s-MODE EXCEPTION FRAME AT: %x\n", mode, addr)
		tr.exceptionBlock(regs)
	}
	return len(found)
}

// The x86_64 segment selectors of kernel and user code and stack
// (arch/x86/include/asm/segment.h: __KERNEL_CS, __KERNEL_DS, __USER_CS,
// __USER_DS).
const (
	kernelCS = 0x10
	kernelSS = 0x18
	userCS   = 0x33
	userSS   = 0x2b
)

// rflagsRAZ are the RFLAGS bits that read as zero (crash's RAZ_MASK).
const rflagsRAZ = 0xffffffffffc08028

// plausibleRegs is the part of crash's x86_64_eframe_verify() that applies
// to a task stack: sane RFLAGS, kernel selectors with a text RIP and a
// kernel RSP, or user selectors with user RIP and RSP.
func (tr *btTrace) plausibleRegs(addr uint64, r *symbols.PtRegs) bool {
	if r.Flags&rflagsRAZ != 0 || r.Flags&2 == 0 {
		return false
	}
	// The canonical halves: 47-bit with 4-level paging, 56-bit with
	// 5-level (whose direct map, page_offset_base, lies below the 4-level
	// kernel half; arch/x86/include/asm/page_64_types.h).
	kernelLow, uTop := uint64(0xffff800000000000), uint64(userTop)
	if tr.r.s.PageOffset() < kernelLow {
		kernelLow, uTop = 0xff00000000000000, 0x0100000000000000
	}
	isKV := func(a uint64) bool { return a >= kernelLow }
	isUV := func(a uint64) bool { return a < uTop }
	switch {
	case r.CS == kernelCS && r.SS == kernelSS:
		if tr.r.isText(r.IP) && isKV(r.SP) {
			return true
		}
		return addr+symbols.PtRegsSize == r.SP
	case r.CS == kernelCS:
		return tr.r.isText(r.IP) && isKV(r.SP) &&
			(r.SP == addr+symbols.PtRegsSize+8 || r.SP == addr+symbols.PtRegsSize)
	case r.CS == userCS && r.SS == userSS:
		return isUV(r.IP) && isUV(r.SP)
	}
	return false
}

// line prints "    file: line" for pc (bt -l).
func (tr *btTrace) line(pc uint64) {
	file, line, ok := tr.r.lineOf(pc)
	if ok {
		fmt.Fprintf(tr.r.w, "    %s: %d\n", file, line)
	}
}
