package commands

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"

	"gocrash/internal/gdbasm"
	"gocrash/kernel"
	"gocrash/symbols"
)

// explain: how the kernel died, gathered from the dump into plain values
// (Explanation) that the text printer (explain.go), the JSON output and
// triage share. Every finding carries the lines of the dump that show it
// and the crash command that shows them, so that a reader can check it.

// Cause kinds, the Explanation's Cause.Kind.
const (
	CauseSysrq        = "sysrq"
	CauseNullDeref    = string(kernel.ReportNullDeref)
	CausePageFault    = string(kernel.ReportPageFault)
	CauseGPF          = string(kernel.ReportGPF)
	CauseBUG          = string(kernel.ReportBUG)
	CauseSoftLockup   = string(kernel.ReportSoftLockup)
	CauseHardLockup   = string(kernel.ReportHardLockup)
	CauseHungTask     = string(kernel.ReportHungTask)
	CauseRCUStall     = string(kernel.ReportRCUStall)
	CauseDoubleFault  = string(kernel.ReportDoubleFault)
	CauseStackOverrun = string(kernel.ReportStackOverrun)
	CauseOops         = string(kernel.ReportOops)
	CauseWarnPanic    = "panic-on-warn"
	CauseOOMPanic     = "oom-panic"
	CausePanic        = "panic" // an explicit panic() with its own reason
	CauseUnknown      = "unknown"
)

// An Explanation is explain's answer for one dump.
type Explanation struct {
	Release string `json:"release" desc:"utsname release"`
	// Panic is crash's PANIC line (sys).
	Panic string    `json:"panic" desc:"crash's PANIC line"`
	Cause Cause     `json:"cause" desc:"how the kernel died"`
	Fault *Fault    `json:"fault,omitempty" desc:"the fault behind an Oops; absent otherwise"`
	Task  *TaskNote `json:"task,omitempty" desc:"task_struct"`
	CPUs  []CPUNote `json:"cpus" desc:"the task each cpu ran"`
	Trace []string  `json:"trace" desc:"the panic task's frames without the panic and kexec plumbing, innermost first (\"func [module]\")"`
	// TraceFromLog: no backtrace could be read, Trace is the one panic()
	// printed in the log.
	TraceFromLog bool      `json:"trace_from_log,omitempty" desc:"no backtrace could be read: trace is the log's, below the panic line"`
	Taint        TaintNote `json:"taint" desc:"tainted_mask decoded"`
	Before       []Finding `json:"before" desc:"what the log reported before the crash, oldest first"` // the log's reports before the crash
	State        []Finding `json:"state" desc:"ps state (RU, IN, UN, ...)"`                            // memory, blocked tasks, runqueues
	Signature    string    `json:"signature" desc:"12 hex digits: a hash of signature_of"`
	// SignatureOf is what the signature hashes, readable.
	SignatureOf string   `json:"signature_of" desc:"what the signature hashes: kind|module|top frames"`
	Next        []string `json:"next" desc:"commands to look at next"`
	// Problems are what could not be read (the rest is still shown).
	Problems []string `json:"problems,omitempty" desc:"what could not be read"`
}

// A Cause is how the kernel died.
type Cause struct {
	Kind    string  `json:"kind" desc:"sysrq, null-pointer-dereference, page-fault, general-protection-fault, bug, soft-lockup, hard-lockup, hung-task, rcu-stall, double-fault, stack-overflow, oops, panic-on-warn, oom-panic, panic or unknown"`
	Summary string  `json:"summary" desc:"one sentence"`
	Detail  Finding `json:"detail" desc:"the finding with its evidence"`
	// Module is the module the crash happened in, when it did.
	Module string `json:"module,omitempty" desc:"the module it happened in"`
	// Function is the function that faulted, locked up or called panic.
	Function string `json:"function,omitempty" desc:"the function that faulted or locked up"`
}

// A Finding is one statement with its evidence and the command showing it.
type Finding struct {
	Topic    string   `json:"topic" desc:"what the finding is about (oom-kill, syn-flood, warning, ...)"`
	Text     string   `json:"text" desc:"the finding, one or more lines"`
	Evidence []string `json:"evidence,omitempty" desc:"the log lines that show it, with their timestamps"`
	Command  string   `json:"command,omitempty" desc:"the crash command that shows it"`
	// Time is when the log recorded it, seconds since boot (< 0: none).
	Time float64 `json:"time" desc:"seconds since boot of the log line; -1 when none"`
}

// A Fault is the page fault or protection fault behind an Oops.
type Fault struct {
	ErrorCode    uint64         `json:"error_code" desc:"the page-fault error code"`
	HasErrorCode bool           `json:"has_error_code" desc:"the log gave one"`
	Bits         []kernel.PFBit `json:"bits,omitempty" desc:"the error code bit by bit"`
	Access       string         `json:"access,omitempty" desc:"the kernel's own reading (#PF: ...)"`            // the kernel's own reading
	Address      Addr           `json:"address" desc:"CR2 of a page fault, the non-canonical address of a GPF"` // CR2 (page fault) or the non-canonical address (GPF)
	HasAddress   bool           `json:"has_address" desc:"address is known"`
	// Function+Offset [Module] is where it happened (the exception RIP).
	IP       Addr   `json:"ip" desc:"the exception RIP"`
	Function string `json:"function" desc:"the function that faulted or locked up"`
	Offset   uint64 `json:"offset" desc:"the RIP's offset in function"`
	Module   string `json:"module,omitempty" desc:"the module it happened in"`
	// Instruction is the faulting instruction disassembled from the
	// dump's memory; Operand says what its memory operand was made of
	// and Culprit which register made it fault ("" when the address was
	// a constant in the instruction).
	Instruction string          `json:"instruction,omitempty" desc:"the faulting instruction, disassembled from the dump's memory"`
	Write       bool            `json:"write" desc:"the instruction stores to memory"`
	Operand     string          `json:"operand,omitempty" desc:"its memory operand's parts"`
	Culprit     string          `json:"culprit,omitempty" desc:"the register whose value made it fault; empty when the address is a constant"`
	Registers   map[string]Addr `json:"registers,omitempty" desc:"the exception frame's registers"`
	Findings    []Finding       `json:"findings" desc:"the fault's findings in order"`
}

// A TaskNote is the task that died.
type TaskNote struct {
	PID     int64  `json:"pid" desc:"PID"`
	Command string `json:"command" desc:"the task's command (comm)"`
	Task    Addr   `json:"task" desc:"task_struct; 0 when from_log"`
	CPU     int    `json:"cpu" desc:"cpu"`
	State   string `json:"state" desc:"ps state (RU, IN, UN, ...)"`
	Kthread bool   `json:"kernel_thread" desc:"a kernel thread"`
	// Ran is how long it had been on its cpu (runq -m: rq->clock less
	// its last arrival), "" when unknown.
	Ran   string `json:"ran,omitempty" desc:"how long it had run on its cpu at the crash, as runq -m shows it"`
	RanNs uint64 `json:"ran_ns" desc:"the same in nanoseconds (0 when unknown)"`
	// FromLog: the task table could not be read, and the panic's task
	// line in the log named it (no task_struct, state or run time).
	FromLog bool `json:"from_log,omitempty" desc:"the task table could not be read: PID, command and cpu are the log's panic task line"`
}

// A CPUNote is what ran on one cpu.
type CPUNote struct {
	CPU     int    `json:"cpu" desc:"cpu"`
	PID     int64  `json:"pid" desc:"PID"`
	Command string `json:"command" desc:"the crash command that shows it"`
	Idle    bool   `json:"idle" desc:"the cpu's idle task"`
	Panic   bool   `json:"panic" desc:"crash's PANIC line"`
}

// A TaintNote is the kernel's taint decoded.
type TaintNote struct {
	Mask    uint64   `json:"mask" desc:"tainted_mask"`
	Flags   string   `json:"flags" desc:"print_tainted's columns"`        // print_tainted's columns ("G           O")
	Letters string   `json:"letters" desc:"the letters of the flags set"` // the letters of the flags set ("O")
	Meaning []string `json:"meaning,omitempty" desc:"each flag's meaning"`
	// Modules are the loaded modules that tainted the kernel, with
	// their letters ("gocrash_oops(O)").
	Modules []string `json:"modules,omitempty" desc:"the modules that tainted the kernel, with their letters"`
	// LastUnloaded is "Modules linked in"'s "[last unloaded: X]".
	LastUnloaded string `json:"last_unloaded,omitempty" desc:"the log's [last unloaded: ...]"`
	// Loading are modules whose init had not finished.
	Loading []string `json:"loading,omitempty" desc:"modules whose init had not finished"`
}

// plumbing are the functions between a fault or a panic and the dump
// being written: they are in every such trace and say nothing about the
// bug, so explain's trace and the signature leave them out.
var plumbing = map[string]bool{
	"machine_kexec": true, "__crash_kexec": true, "crash_kexec": true,
	"panic": true, "vpanic": true, "oops_end": true, "die": true, "__die": true, "die_addr": true,
	"page_fault_oops": true, "no_context": true, "kernelmode_fixup_or_oops": true,
	"__bad_area_nosemaphore": true, "bad_area_nosemaphore": true, "bad_area": true,
	"do_user_addr_fault": true, "handle_page_fault": true, "exc_page_fault": true, "asm_exc_page_fault": true,
	"do_trap": true, "do_error_trap": true, "handle_invalid_op": true, "handle_bug": true,
	"exc_invalid_op": true, "asm_exc_invalid_op": true, "exc_general_protection": true,
	"asm_exc_general_protection": true, "exc_double_fault": true, "asm_exc_double_fault": true,
	"dump_stack": true, "dump_stack_lvl": true, "show_stack": true,
	"crash_setup_regs": true, "native_machine_crash_shutdown": true,
	"watchdog_timer_fn": true, "__hrtimer_run_queues": true, "hrtimer_interrupt": true,
	"__sysvec_apic_timer_interrupt": true, "sysvec_apic_timer_interrupt": true,
	"asm_sysvec_apic_timer_interrupt": true, "check_panic_on_oom": true,
	"__warn": true, "report_bug": true, "warn_slowpath_fmt": true,
}

// sleepers are the scheduler functions at the top of a blocked task's
// stack.
var sleepers = map[string]bool{
	"__schedule": true, "schedule": true, "schedule_timeout": true, "io_schedule": true,
	"schedule_preempt_disabled": true, "__switch_to_asm": true, "__switch_to": true,
}

// lockFuncs are the functions a task is in while it takes or waits for
// a lock (kernel/locking/*.c, kernel/sched/completion.c).
var lockFuncs = map[string]string{
	"mutex_lock": "a mutex", "__mutex_lock": "a mutex", "__mutex_lock_slowpath": "a mutex",
	"mutex_lock_interruptible": "a mutex", "mutex_lock_killable": "a mutex",
	"down": "a semaphore", "__down": "a semaphore", "down_interruptible": "a semaphore", "down_killable": "a semaphore",
	"down_read": "an rw_semaphore", "down_write": "an rw_semaphore", "rwsem_down_read_slowpath": "an rw_semaphore",
	"rwsem_down_write_slowpath": "an rw_semaphore", "down_read_killable": "an rw_semaphore", "down_write_killable": "an rw_semaphore",
	"percpu_down_read": "a percpu rw_semaphore", "__percpu_down_read": "a percpu rw_semaphore",
	"percpu_rwsem_wait": "a percpu rw_semaphore", "percpu_down_write": "a percpu rw_semaphore",
	"_raw_spin_lock": "a spinlock", "_raw_spin_lock_irqsave": "a spinlock", "_raw_spin_lock_irq": "a spinlock",
	"_raw_spin_lock_bh": "a spinlock", "queued_spin_lock_slowpath": "a spinlock", "native_queued_spin_lock_slowpath": "a spinlock",
	"_raw_read_lock": "an rwlock", "_raw_write_lock": "an rwlock", "queued_read_lock_slowpath": "an rwlock", "queued_write_lock_slowpath": "an rwlock",
	"rt_mutex_slowlock": "an rt_mutex", "wait_for_completion": "a completion", "wait_for_completion_timeout": "a completion",
	"wait_for_completion_killable": "a completion", "wait_for_completion_interruptible": "a completion",
}

// locksOn names the lock functions among frames ("func [module]" or
// "func"), innermost first.
func locksOn(frames []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range frames {
		name, _, _ := strings.Cut(f, " [")
		if what, ok := lockFuncs[name]; ok && !seen[what] {
			seen[what] = true
			out = append(out, name+" ("+what+")")
		}
		if (name == "mnt_want_write" || name == "__sb_start_write" || name == "sb_start_write") && seen["a percpu rw_semaphore"] && !seen["freeze"] {
			// fs/namespace.c mnt_want_write -> sb_start_write: the
			// superblock's s_writers, held for writing while the
			// filesystem is frozen (fs/super.c freeze_super).
			seen["freeze"] = true
			out = append(out, name+" (the filesystem's freeze protection: it is frozen, as by fsfreeze --freeze)")
		}
	}
	return out
}

// signatureFrames is how many meaningful frames the signature hashes.
const signatureFrames = 4

// explainState is what explain reads once.
type explainState struct {
	s       *Session
	ctx     context.Context
	ex      *Explanation
	lines   []kernel.LogLine
	log     *kernel.CrashLog
	tt      *kernel.TaskTable
	states  *taskStates
	bter    *kernel.Backtracer
	mods    []*kernel.Module
	fatal   *kernel.LogReport // the report that killed it
	oom     *kernel.OOMReport // the OOM report of an OOM panic
	panicBT *kernel.Backtrace
	// hungFrames is the blocked task's trace of a hung-task panic.
	hungFrames []string
	opt        ExplainOptions
}

// Explain gathers the explanation of the dump's crash. It does not fail
// when a part cannot be read: that part is missing and named in Problems.
func (s *Session) Explain(ctx context.Context) (*Explanation, error) {
	return s.ExplainWith(ctx, ExplainOptions{})
}

// ExplainWith is Explain with options.
func (s *Session) ExplainWith(ctx context.Context, opt ExplainOptions) (*Explanation, error) {
	e := &explainState{s: s, ctx: ctx, opt: opt, ex: &Explanation{CPUs: []CPUNote{}, Trace: []string{}, Before: []Finding{}, State: []Finding{}, Next: []string{}}}
	if u, err := s.Utsname(); err == nil {
		e.ex.Release = u.Release
	} else {
		e.problem("utsname", err)
		if info := s.Dump.Info(); info != nil {
			// The release the kernel wrote into VMCOREINFO.
			e.ex.Release = info.OSRelease
		}
	}
	lg, err := s.Log(ctx)
	if err != nil {
		e.problem("log", err)
	} else {
		if lerr := lg.Err(); lerr != nil {
			e.problem("log", lerr)
		}
		e.lines = lg.TimedLines()
	}
	e.log = kernel.ParseCrashLog(e.lines)
	texts := make([]string, len(e.lines))
	for i, l := range e.lines {
		texts[i] = l.Text
	}
	e.ex.Panic = kernel.PanicMessage(texts)
	if e.tt, err = s.Tasks(ctx); err != nil {
		e.problem("tasks", err)
	}
	if e.states, err = s.taskStates(); err != nil {
		e.problem("task states", err)
	}
	if e.bter, err = s.NewBacktracer(ctx); err != nil {
		e.problem("backtraces", err)
	}
	if e.mods, err = s.Modules(ctx); err != nil {
		e.problem("modules", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.panicTask()
	e.cause()
	e.fault()
	e.cpus()
	e.taint()
	e.before()
	e.state()
	e.signature()
	e.next()
	return e.ex, ctx.Err()
}

func (e *explainState) problem(what string, err error) {
	e.ex.Problems = append(e.ex.Problems, fmt.Sprintf("%s: %v", what, err))
}

// evidence gives the log lines [from, to) with crash's log timestamps.
func (e *explainState) evidence(from, to int) []string {
	if from < 0 {
		return nil
	}
	if to > len(e.lines) {
		to = len(e.lines)
	}
	var out []string
	for _, l := range e.lines[from:to] {
		out = append(out, fmt.Sprintf("[%5d.%06d] %s", l.Time/time.Second, (l.Time%time.Second)/time.Microsecond, l.Text))
	}
	return out
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func (e *explainState) panicTask() {
	if e.tt == nil {
		// The task table could not be read: the panic's own task line.
		if p := e.log.Panic; p != nil && p.HasTask {
			e.ex.Task = &TaskNote{PID: p.PID, Command: p.Comm, CPU: p.CPU, FromLog: true}
		}
		return
	}
	addr := e.tt.Panic()
	if addr == 0 {
		if a, err := e.s.PanicTask(); err == nil {
			addr = a
		}
	}
	t := e.tt.ByAddr(addr)
	if t == nil {
		e.problem("panic task", fmt.Errorf("no task %#x in the task table", addr))
		return
	}
	state := ""
	if e.states != nil {
		state = e.states.Short(t.State)
	}
	e.ex.Task = &TaskNote{PID: t.PID, Command: t.Comm, Task: Addr(t.Addr), CPU: t.CPU, State: state, Kthread: t.KernelThread()}
	// runq -m's arithmetic: rq->clock less the running task's last arrival.
	if rqs, err := e.s.Runqueues(e.ctx, kernel.RunqueueOptions{CPUs: map[int]bool{t.CPU: true}, LastRun: true, Clock: true}); err == nil && len(rqs) == 1 {
		rq := rqs[0]
		// CurrLastRun 0: the kernel keeps no arrival time (no
		// CONFIG_SCHED_INFO).
		if rq.Curr == t.Addr && rq.LastRunRead && rq.CurrLastRun != 0 && int64(rq.Clock-rq.CurrLastRun) > 0 {
			e.ex.Task.RanNs = rq.Clock - rq.CurrLastRun
			e.ex.Task.Ran = runqDaysHMS(e.ex.Task.RanNs)
		}
	}

	if e.bter != nil {
		bt, err := e.bter.Backtrace(e.ctx, t.Addr, kernel.BacktraceOptions{})
		if err != nil {
			e.problem("backtrace of the panic task", err)
			return
		}
		e.panicBT = bt
	}
}

// lastReport is the last report of the given kinds before line end (-1:
// anywhere).
func (e *explainState) lastReport(end int, kinds ...kernel.ReportKind) *kernel.LogReport {
	for i := len(e.log.Reports) - 1; i >= 0; i-- {
		r := &e.log.Reports[i]
		if end >= 0 && r.Line > end {
			continue
		}
		for _, k := range kinds {
			if r.Kind == k {
				return r
			}
		}
	}
	return nil
}

var dieKinds = []kernel.ReportKind{kernel.ReportNullDeref, kernel.ReportPageFault, kernel.ReportGPF,
	kernel.ReportBUG, kernel.ReportOops, kernel.ReportDoubleFault, kernel.ReportStackOverrun}

// dieReason reports whether a panic reason is the end of an Oops: oops_end's
// "Fatal exception" (panic_on_oops), or what arch/x86/kernel/traps.c
// panics with when die() returns from a kernel stack overflow
// (handle_stack_overflow: "%s stack guard hit") or a double fault
// (exc_double_fault: "Machine halted.").
func dieReason(reason string) bool {
	return strings.HasPrefix(reason, "Fatal exception") || strings.HasSuffix(reason, " stack guard hit") || reason == "Machine halted."
}

// cause decides how the kernel died: the panic line's reason names the
// detector that called panic(); without one, the kernel was dumped from
// an Oops (crash_kexec in oops_end) and the last die() report is it.
func (e *explainState) cause() {
	c := &e.ex.Cause
	c.Kind = CauseUnknown
	p := e.log.Panic
	end := -1
	if p != nil {
		end = p.Line
	}
	reason := ""
	if p != nil {
		reason = p.Reason
	}
	panicFinding := func(text string) Finding {
		f := Finding{Topic: "cause", Text: text, Command: "sys", Time: -1}
		if p != nil {
			f.Evidence = e.evidence(p.Line, p.Line+1)
			f.Time = seconds(p.Time)
		}
		return f
	}
	switch {
	case strings.HasPrefix(reason, "sysrq triggered crash") || p == nil && e.log.Sysrq != nil && len(e.log.Reports) == 0:
		c.Kind = CauseSysrq
		c.Summary = "the crash was asked for: someone wrote 'c' to /proc/sysrq-trigger (or pressed SysRq-C), and the kernel panicked on purpose"
		c.Detail = panicFinding("sysrq_handle_crash() panicked with \"sysrq triggered crash\"; nothing was wrong with the kernel")
		if e.log.Sysrq != nil {
			c.Detail.Evidence = append(e.evidence(e.log.Sysrq.Line, e.log.Sysrq.Line+1), c.Detail.Evidence...)
		}
		c.Detail.Command = "log | grep -A1 sysrq"
		c.Function = "sysrq_handle_crash"
	case strings.Contains(reason, "softlockup"):
		e.fatal = e.lastReport(end, kernel.ReportSoftLockup)
		c.Kind = CauseSoftLockup
		c.Summary = "soft lockup: a cpu ran kernel code without scheduling for longer than the watchdog allows, and softlockup_panic made the watchdog panic"
		c.Detail = panicFinding("the watchdog's timer found the cpu stuck")
	case strings.Contains(strings.ToLower(reason), "hard lockup"):
		// nmi_panic(regs, "Hard LOCKUP") (kernel/watchdog_hld.c in 6.1,
		// kernel/watchdog.c in 6.12).
		e.fatal = e.lastReport(end, kernel.ReportHardLockup)
		c.Kind = CauseHardLockup
		c.Summary = "hard lockup: a cpu stopped taking interrupts, and the NMI watchdog panicked (hardlockup_panic)"
		c.Detail = panicFinding("the NMI watchdog found the cpu stuck with interrupts off")
	case strings.Contains(reason, "hung_task"):
		e.fatal = e.lastReport(end, kernel.ReportHungTask)
		c.Kind = CauseHungTask
		c.Summary = "hung task: a task waited in D state (uninterruptible) longer than hung_task_timeout_secs, and hung_task_panic made khungtaskd panic"
		c.Detail = panicFinding("khungtaskd found a task blocked too long")
	case strings.HasPrefix(reason, "Out of memory"):
		c.Kind = CauseOOMPanic
		c.Summary = "out of memory with vm.panic_on_oom set: the OOM killer panicked instead of killing a task"
		c.Detail = panicFinding("out_of_memory() panicked: " + reason)
		for i := len(e.log.OOMs) - 1; i >= 0; i-- {
			if e.log.OOMs[i].Line < end {
				e.oom = &e.log.OOMs[i]
				break
			}
		}
	case strings.Contains(reason, "RCU Stall"):
		e.fatal = e.lastReport(end, kernel.ReportRCUStall)
		c.Kind = CauseRCUStall
		c.Summary = "RCU stall: a grace period did not end in time, and panic_on_rcu_stall made the kernel panic"
		c.Detail = panicFinding("RCU's stall detector panicked")
	case strings.HasPrefix(reason, "panic_on_warn set"):
		e.fatal = e.lastReport(end, kernel.ReportWarn)
		c.Kind = CauseWarnPanic
		c.Summary = "a WARN() fired with panic_on_warn set"
		c.Detail = panicFinding("the warning became a panic")
	case p != nil && !dieReason(reason):
		c.Kind = CausePanic
		c.Summary = "the kernel called panic(): " + reason
		c.Detail = panicFinding("panic() was called with \"" + reason + "\"")
	default:
		// An Oops: dumped by crash_kexec() from oops_end(), or
		// panicked with "Fatal exception" (panic_on_oops).
		e.fatal = e.lastReport(end, dieKinds...)
		if e.fatal == nil {
			if p != nil {
				c.Kind = CausePanic
				c.Summary = "the kernel called panic(): " + reason
				c.Detail = panicFinding("panic() was called with \"" + reason + "\"")
			} else {
				c.Summary = "the log names no cause: no panic line and no Oops report (the dump may have been taken from a running or hung machine)"
				c.Detail = Finding{Topic: "cause", Text: c.Summary, Command: "log | tail -40", Time: -1}
			}
			break
		}
		c.Kind = string(e.fatal.Kind)
		c.Summary = e.dieSummary(e.fatal)
		c.Detail = panicFinding("")
		if p == nil {
			c.Detail.Text = "no panic() line: the Oops went straight to the capture kernel (crash_kexec from oops_end), as it does when kdump is loaded"
		} else {
			c.Detail.Text = "panic_on_oops turned the Oops into a panic (\"Fatal exception\")"
			if !strings.HasPrefix(reason, "Fatal exception") {
				c.Detail.Text = fmt.Sprintf("die() came back (no panic_on_oops) and the fault handler panicked itself (%q)", reason)
			}
		}
	}
	if e.fatal != nil {
		f := e.fatal
		c.Detail.Evidence = append(e.evidence(f.Line, f.Line+1), c.Detail.Evidence...)
		if f.Die != "" && f.Die != f.Title {
			c.Detail.Evidence = append(c.Detail.Evidence, "... "+f.Die)
		}
		if f.HasRIP {
			c.Function, c.Module = f.RIP.Func, f.RIP.Module
		}
		switch f.Kind {
		case kernel.ReportSoftLockup:
			c.Detail.Text = fmt.Sprintf("CPU %d was stuck for %v in %s (PID %d); the watchdog's timer interrupt found it and panicked", f.StuckCPU, f.Stuck, f.VictimComm, f.VictimPID)
			c.Detail.Command = "log | grep -A3 'soft lockup'"
		case kernel.ReportHardLockup:
			c.Detail.Text = fmt.Sprintf("CPU %d took no timer interrupt for the watchdog threshold (it spun with interrupts off); the perf NMI found it and panicked (hardlockup_panic)", f.StuckCPU)
			c.Detail.Command = "log | grep -A20 'hard LOCKUP'"
		case kernel.ReportHungTask:
			c.Detail.Text = fmt.Sprintf("%s (PID %d) had been blocked in state %s for more than %v", f.VictimComm, f.VictimPID, orDash(f.VictimState), f.Blocked)
			c.Detail.Command = "log | grep -A4 'blocked for more than'"
			c.Function = ""
		default:
			if c.Detail.Command == "sys" {
				c.Detail.Command = "log | grep -A3 '" + firstWords(f.Title, 2) + "'"
			}
		}
	}
	if c.Kind == CauseOOMPanic && e.oom != nil {
		o := e.oom
		c.Detail.Evidence = append(e.evidence(o.Line, o.Line+1), c.Detail.Evidence...)
		c.Detail.Command = "log | grep -E 'invoked oom-killer|not syncing'"
		if o.Largest != nil {
			c.Detail.Text += fmt.Sprintf("; %s (PID %d) invoked it (gfp_mask=%s, order=%d), and the largest task was %s (PID %d): %d resident and %d swapped pages of %d",
				o.InvokerComm, o.InvokerPID, o.GFPMask, o.Order, o.Largest.Comm, o.Largest.PID, o.Largest.RSS, o.Largest.Swap, o.Largest.TotalVM)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) > n {
		w = w[:n]
	}
	return strings.ReplaceAll(strings.Join(w, " "), "'", ".")
}

func (e *explainState) dieSummary(f *kernel.LogReport) string {
	where := ""
	if f.HasRIP {
		where = " in " + f.RIP.Func
		if f.RIP.Module != "" {
			where += " (module " + f.RIP.Module + ")"
		}
	}
	switch f.Kind {
	case kernel.ReportNullDeref:
		return fmt.Sprintf("NULL pointer dereference%s: kernel code accessed address %#x, in the unmapped first page", where, f.Address)
	case kernel.ReportPageFault:
		return fmt.Sprintf("page fault%s: kernel code accessed %#x, which it may not", where, f.Address)
	case kernel.ReportGPF:
		if f.HasNonCanonical {
			return fmt.Sprintf("general protection fault%s on the non-canonical address %#x (a corrupt or poisoned pointer)", where, f.NonCanonical)
		}
		return "general protection fault" + where
	case kernel.ReportBUG:
		return "BUG()" + where + ": the kernel's own assertion at " + f.At + " failed"
	case kernel.ReportDoubleFault:
		return "double fault" + where + ": a fault while handling a fault (often a kernel stack overflow)"
	case kernel.ReportStackOverrun:
		return "kernel stack overflow" + where + ": the stack guard page was hit"
	}
	return "Oops" + where + ": " + f.Title
}

// fault explains a page fault or GPF: the error code, the address, the
// instruction at the exception RIP and the register that made it fault.
func (e *explainState) fault() {
	f := e.fatal
	if f == nil {
		return
	}
	switch f.Kind {
	case kernel.ReportNullDeref, kernel.ReportPageFault, kernel.ReportGPF, kernel.ReportOops, kernel.ReportBUG:
	default:
		return
	}
	ft := &Fault{Findings: []Finding{}}
	e.ex.Fault = ft
	if f.HasErrorCode {
		ft.ErrorCode, ft.HasErrorCode = f.ErrorCode, true
		ft.Bits = kernel.DecodePFError(f.ErrorCode)
		ft.Access = f.Access
		var bits []string
		for _, b := range ft.Bits {
			v := 0
			if b.Set {
				v = 1
			}
			bits = append(bits, fmt.Sprintf("bit %d (%s) = %d: %s", b.Bit, b.Name, v, b.Meaning))
		}
		ev := e.evidence(f.Line, f.Line+1)
		for i := f.Line; i < len(e.lines) && i < f.Line+4; i++ {
			if strings.HasPrefix(strings.TrimSpace(e.lines[i].Text), "#PF:") {
				ev = append(ev, e.evidence(i, i+1)...)
			}
		}
		ft.Findings = append(ft.Findings, Finding{Topic: "error code",
			Text:     fmt.Sprintf("error code %#04x: %s\n%s", f.ErrorCode, kernel.PFErrorSummary(f.ErrorCode, false), strings.Join(bits, "\n")),
			Evidence: ev, Command: "log | grep '#PF'", Time: seconds(f.Time)})
	}
	switch {
	case f.Kind == kernel.ReportGPF && f.HasNonCanonical:
		ft.Address, ft.HasAddress = Addr(f.NonCanonical), true
		ft.Findings = append(ft.Findings, Finding{Topic: "address",
			Text:     fmt.Sprintf("%#x is not canonical: bits 63..47 are not all equal, so no page table can map it", f.NonCanonical),
			Evidence: e.evidence(f.Line, f.Line+1), Command: "log | grep 'general protection'", Time: seconds(f.Time)})
	case f.HasCR2 && f.Kind != kernel.ReportGPF:
		ft.Address, ft.HasAddress = Addr(f.CR2), true
		text := fmt.Sprintf("CR2 = %#x: the address the faulting access used", f.CR2)
		if r, ok := f.Registers["CR2"]; ok && r != f.CR2 {
			// __show_regs (arch/x86/kernel/process_64.c) prints the
			// RIP and Code: lines first — show_opcodes reads the bytes
			// around RIP with copy_from_kernel_nofault, and when they
			// are not mapped ("Unable to access opcode bytes at") that
			// fault sets CR2 — then read_cr2(). page_fault_oops
			// (arch/x86/mm/fault.c) ends with the fault's own address,
			// its "executive summary" CR2 line.
			text += fmt.Sprintf(" (the last CR2 line; the register dump's CR2 %016x is a later fault, taken while printing the Code: line)", r)
		}
		ft.Findings = append(ft.Findings, Finding{Topic: "address",
			Text:    text,
			Command: "log | grep CR2", Time: seconds(f.Time)})
	case f.HasAddress:
		ft.Address, ft.HasAddress = Addr(f.Address), true
	}
	// The exception frame of the panic task's stack: the registers at
	// the fault, from the dump rather than from the log's text.
	var ex *symbols.ExceptionFrame
	if e.panicBT != nil {
		for i := range e.panicBT.Frames {
			fr := &e.panicBT.Frames[i]
			if fr.Exception != nil && !fr.User {
				ex = fr.Exception
				break
			}
		}
	}
	if ex == nil {
		if f.HasRIP {
			ft.Function, ft.Offset, ft.Module = f.RIP.Func, f.RIP.Off, f.RIP.Module
			ft.Registers = map[string]Addr{}
			for k, v := range f.Registers {
				ft.Registers[k] = Addr(v)
			}
		}
		return
	}
	r := ex.Regs
	ft.IP = Addr(r.IP)
	ft.Registers = map[string]Addr{}
	for k, v := range regsMap(r) {
		ft.Registers[k] = Addr(v)
	}
	if e.bter != nil {
		if name, off, ok := e.bter.Image().Symbolize(r.IP); ok {
			ft.Function, ft.Offset = name, off
		}
		if m := e.bter.Image().Module(r.IP); m != nil {
			ft.Module = m.Name
		}
	}
	if ft.Function == "" && f.HasRIP {
		ft.Function, ft.Offset, ft.Module = f.RIP.Func, f.RIP.Off, f.RIP.Module
	}
	where := ft.Function
	if ft.Offset != 0 {
		where += fmt.Sprintf("+%d", ft.Offset)
	}
	if ft.Module != "" {
		where += " [" + ft.Module + "]"
	}
	ft.Findings = append(ft.Findings, Finding{Topic: "where",
		Text:    fmt.Sprintf("the exception RIP %#x is %s", r.IP, where),
		Command: "bt", Time: -1})
	code := make([]byte, 15)
	n := len(code)
	for n > 0 && e.s.Mem.ReadVirt(code[:n], r.IP) != nil {
		n--
	}
	if n == 0 {
		ft.Findings = append(ft.Findings, Finding{Topic: "instruction",
			Text: fmt.Sprintf("the instruction at %#x is not in the dump", r.IP), Command: fmt.Sprintf("rd %x", r.IP), Time: -1})
		return
	}
	in := gdbasm.Decode(code[:n], r.IP)
	ft.Instruction = strings.Join(strings.Fields(in.Text), " ")
	ft.Write = in.Write
	text := fmt.Sprintf("the faulting instruction: %s", ft.Instruction)
	if in.Mem != nil {
		ft.Operand, ft.Culprit = operandOf(in.Mem, r)
		text += "\n" + ft.Operand
		if ft.HasAddress && f.Kind != kernel.ReportGPF {
			if ea, ok := effectiveAddr(in.Mem, r, in.PC+uint64(in.Len)); ok {
				if ea == uint64(ft.Address) {
					text += fmt.Sprintf("\nits address is %#x, the CR2 of the fault", ea)
				} else {
					text += fmt.Sprintf("\nits address is %#x (CR2 is %#x: an access of more than one byte can cross into the faulting page)", ea, ft.Address)
				}
			}
		}
		if ft.Culprit != "" {
			text += fmt.Sprintf("\n%s held %#x: that register's value made it fault", ft.Culprit, regValue(r, ft.Culprit))
		} else {
			text += "\nno register was involved: the address is a constant in the instruction itself (a NULL pointer the compiler folded in)"
		}
	}
	ft.Findings = append(ft.Findings, Finding{Topic: "instruction", Text: text,
		Command: fmt.Sprintf("dis -r %x", r.IP), Time: -1})
}

func regsMap(r symbols.PtRegs) map[string]uint64 {
	return map[string]uint64{
		"RAX": r.AX, "RBX": r.BX, "RCX": r.CX, "RDX": r.DX, "RSI": r.SI, "RDI": r.DI,
		"RBP": r.BP, "RSP": r.SP, "R8": r.R8, "R9": r.R9, "R10": r.R10, "R11": r.R11,
		"R12": r.R12, "R13": r.R13, "R14": r.R14, "R15": r.R15, "RIP": r.IP,
	}
}

// regValue reads a register by its AT&T name ("rax", "eax", "r8d").
func regValue(r symbols.PtRegs, name string) uint64 {
	n := strings.TrimPrefix(strings.ToLower(name), "%")
	full := map[string]string{"eax": "rax", "ebx": "rbx", "ecx": "rcx", "edx": "rdx", "esi": "rsi",
		"edi": "rdi", "ebp": "rbp", "esp": "rsp"}
	if f, ok := full[n]; ok {
		n = f
	}
	n = strings.TrimSuffix(n, "d")
	m := regsMap(r)
	if v, ok := m[strings.ToUpper(n)]; ok {
		if strings.HasPrefix(strings.TrimPrefix(strings.ToLower(name), "%"), "e") || strings.HasSuffix(name, "d") {
			return v & 0xffffffff
		}
		return v
	}
	return 0
}

// operandOf describes a memory operand and picks the register that made
// the access fault: the base (or index) register whose value is in the
// first page or non-canonical.
func operandOf(m *gdbasm.Mem, r symbols.PtRegs) (desc, culprit string) {
	var parts []string
	if m.Base != "" && m.Base != "rip" {
		parts = append(parts, fmt.Sprintf("base %%%s = %#x", m.Base, regValue(r, m.Base)))
	}
	if m.Index != "" {
		parts = append(parts, fmt.Sprintf("index %%%s = %#x (scale %d)", m.Index, regValue(r, m.Index), m.Scale))
	}
	parts = append(parts, fmt.Sprintf("displacement %#x", m.Disp))
	desc = "memory operand: " + strings.Join(parts, ", ")
	for _, reg := range []string{m.Base, m.Index} {
		if reg == "" || reg == "rip" {
			continue
		}
		v := regValue(r, reg)
		if v < 4096 || !kernel.Canonical(v, false) {
			return desc, "%" + reg
		}
	}
	if m.Base != "" && m.Base != "rip" {
		return desc, "%" + m.Base
	}
	return desc, ""
}

func effectiveAddr(m *gdbasm.Mem, r symbols.PtRegs, next uint64) (uint64, bool) {
	ea := uint64(m.Disp)
	switch m.Base {
	case "":
	case "rip":
		ea += next
	default:
		ea += regValue(r, m.Base)
	}
	if m.Index != "" {
		ea += regValue(r, m.Index) * uint64(m.Scale)
	}
	if m.Segment != "" && m.Segment != "ds" {
		return 0, false // %gs: per-cpu, the base is not in pt_regs
	}
	return ea, true
}

// cpus says what ran on every cpu, and cuts the panic task's trace.
func (e *explainState) cpus() {
	if e.tt != nil {
		n, err := e.s.NumCPUs()
		if err != nil {
			e.problem("cpus", err)
		}
		for cpu := 0; cpu < n; cpu++ {
			a, err := e.s.ActiveTask(cpu)
			if err != nil {
				continue
			}
			t := e.tt.ByAddr(a)
			if t == nil {
				continue
			}
			e.ex.CPUs = append(e.ex.CPUs, CPUNote{CPU: cpu, PID: t.PID, Command: t.Comm, Idle: t.Idle,
				Panic: e.ex.Task != nil && uint64(e.ex.Task.Task) == a})
		}
	}
	if e.panicBT != nil {
		// A fault's or a lockup's story starts where the exception or
		// the interrupt came in; any other panic's at its caller.
		fromException := e.fatal != nil && e.fatal.Kind != kernel.ReportHungTask && e.fatal.Kind != kernel.ReportWarn && e.fatal.Kind != kernel.ReportRCUStall
		e.ex.Trace = meaningfulFrames(e.panicBT.Frames, e.bter, fromException)
	} else if p := e.log.Panic; p != nil && len(p.Trace) > 0 && e.fatal == nil {
		// No backtrace (the task table or the stack could not be read,
		// as from a dump alone of a kernel without BTF): the trace panic()
		// printed, its reliable frames. Not for an Oops, whose log trace
		// starts at the caller of the faulting function.
		e.ex.Trace, e.ex.TraceFromLog = logFrames(p.Trace), true
	}
}

// logFrames is a log's Call Trace as explain's trace: the frames the
// unwinder reached ("? " ones left out), without the panic plumbing.
func logFrames(trace []kernel.LogFrame) []string {
	out := []string{}
	for _, f := range trace {
		if f.Unreliable || len(out) == 0 && plumbing[f.Func] {
			continue
		}
		name := f.Func
		if f.Module != "" {
			name += " [" + f.Module + "]"
		}
		out = append(out, name)
	}
	return out
}

// meaningfulFrames is a trace without the panic and kexec plumbing: with
// fromException, from the interrupted context of the first kernel
// exception frame when there is one (the fault's or the interrupt's);
// else from the first frame that is not plumbing.
func meaningfulFrames(frames []symbols.Frame, b *kernel.Backtracer, fromException bool) []string {
	start := -1
	for i := 0; fromException && i < len(frames); i++ {
		if frames[i].Exception != nil && !frames[i].User {
			start = i
			break
		}
	}
	if start < 0 {
		start = 0
		for start < len(frames) && (plumbing[frames[start].Func] || frames[start].Func == "") {
			start++
		}
		if start == len(frames) {
			start = 0
		}
	}
	out := []string{}
	for _, f := range frames[start:] {
		if f.User {
			break
		}
		name := f.Func
		if name == "" {
			name = fmt.Sprintf("%#x", f.PC)
		}
		if b != nil {
			if m := b.Image().Module(f.PC); m != nil {
				name += " [" + m.Name + "]"
			}
		}
		out = append(out, name)
	}
	return out
}

// taint decodes tainted_mask and names the modules behind it.
func (e *explainState) taint() {
	t := &e.ex.Taint
	mask, err := e.s.TaintedMask()
	if err != nil {
		e.problem("tainted_mask", err)
		return
	}
	t.Mask = mask
	t.Flags = strings.TrimRight(kernel.TaintString(mask), " ")
	flags, unknown := kernel.Taints(mask)
	for _, f := range flags {
		t.Letters += string(f.Letter)
		t.Meaning = append(t.Meaning, fmt.Sprintf("%c: %s", f.Letter, f.Meaning))
	}
	if unknown != 0 {
		t.Meaning = append(t.Meaning, fmt.Sprintf("%#x: bits this table does not know", unknown))
	}
	for _, m := range e.mods {
		if m.Taints != 0 {
			var letters []byte
			fl, _ := kernel.Taints(m.Taints)
			for _, f := range fl {
				letters = append(letters, f.Letter)
			}
			t.Modules = append(t.Modules, fmt.Sprintf("%s(%s)", m.Name, letters))
		}
		if m.Init[0] != 0 && m.Init[1] > m.Init[0] {
			t.Loading = append(t.Loading, m.Name)
		}
	}
	for _, r := range e.log.Reports {
		if i := strings.Index(r.Modules, "[last unloaded: "); i >= 0 {
			rest := r.Modules[i+len("[last unloaded: "):]
			if j := strings.IndexByte(rest, ']'); j >= 0 {
				t.LastUnloaded = rest[:j]
			}
		}
	}
}

// before lists what the log reported before the crash.
func (e *explainState) before() {
	for i := range e.log.Reports {
		r := &e.log.Reports[i]
		if r == e.fatal {
			continue
		}
		f := Finding{Topic: string(r.Kind), Evidence: e.evidence(r.Line, r.Line+1), Time: seconds(r.Time)}
		switch r.Kind {
		case kernel.ReportWarn:
			where := r.At
			if r.HasRIP {
				where = r.RIP.Func
				if r.RIP.Module != "" {
					where += " [" + r.RIP.Module + "]"
				}
				if r.At != "" {
					where += " at " + r.At
				}
			}
			f.Text = fmt.Sprintf("WARN in %s (CPU %d, PID %d %s)", where, r.CPU, r.PID, r.Comm)
			f.Command = "log | grep -A4 WARNING:"
		case kernel.ReportSoftLockup:
			f.Text = fmt.Sprintf("soft lockup on CPU %d for %v in %s (PID %d)", r.StuckCPU, r.Stuck, r.VictimComm, r.VictimPID)
			f.Command = "log | grep 'soft lockup'"
		case kernel.ReportHungTask:
			f.Text = fmt.Sprintf("%s (PID %d) blocked for more than %v", r.VictimComm, r.VictimPID, r.Blocked)
			f.Command = "log | grep 'blocked for more than'"
		case kernel.ReportRCUStall:
			f.Text = "RCU stall: " + r.Title
			f.Command = "log | grep -A5 'rcu: INFO'"
		default:
			f.Text = "earlier Oops: " + e.dieSummary(r)
			f.Command = "log | grep -A3 '" + firstWords(r.Title, 2) + "'"
		}
		e.ex.Before = append(e.ex.Before, f)
	}
	for i := range e.log.OOMs {
		o := &e.log.OOMs[i]
		if o == e.oom {
			continue
		}
		f := Finding{Topic: "oom-kill", Time: seconds(o.Time), Command: "log | grep -E 'invoked oom-killer|Killed process'"}
		if o.Killed != nil {
			v := o.Killed
			f.Text = fmt.Sprintf("the OOM killer killed %s (PID %d): anon-rss %d kB, file-rss %d kB, shmem-rss %d kB, oom_score_adj %d",
				v.Comm, v.PID, v.AnonKB, v.FileKB, v.ShmKB, v.OOMScoreAdj)
		} else {
			f.Text = "the OOM killer ran but the log shows no kill"
		}
		if o.Constraint != "" {
			f.Text += ", constraint " + o.Constraint
		}
		if o.InvokerComm != "" {
			f.Text += fmt.Sprintf("; invoked by %s (PID %d), gfp_mask=%s order=%d", o.InvokerComm, o.InvokerPID, o.GFPMask, o.Order)
		}
		f.Evidence = e.evidence(o.Line, o.Line+1)
		if o.Killed != nil {
			for j := o.Line; j < len(e.lines); j++ {
				if reKilledLine(e.lines[j].Text) {
					if j != o.Line {
						f.Evidence = append(f.Evidence, e.evidence(j, j+1)...)
					}
					break
				}
			}
		}
		e.ex.Before = append(e.ex.Before, f)
	}
	for _, s := range e.log.SYNFloods {
		on := ""
		if s.Listen != "" {
			on = " (" + s.Listen + ")"
		}
		e.ex.Before = append(e.ex.Before, Finding{Topic: "syn-flood",
			Text:     "possible SYN flood on port " + s.Port + on + ": the listener's SYN queue overflowed and the kernel sent SYN cookies",
			Evidence: e.evidence(s.Line, s.Line+1), Command: "log | grep 'SYN flooding'", Time: seconds(s.Time)})
	}
	for _, s := range e.log.Segfaults {
		e.ex.Before = append(e.ex.Before, Finding{Topic: "segfault",
			Text:     fmt.Sprintf("%s (PID %d) segfaulted at %#x", s.Comm, s.PID, s.Address),
			Evidence: e.evidence(s.Line, s.Line+1), Command: "log | grep segfault", Time: seconds(s.Time)})
	}
	for _, s := range e.log.IOErrors {
		e.ex.Before = append(e.ex.Before, Finding{Topic: "io-error", Text: "I/O error on " + s.Device,
			Evidence: e.evidence(s.Line, s.Line+1), Command: "log | grep 'I/O error'", Time: seconds(s.Time)})
	}
	for _, s := range e.log.FSErrors {
		e.ex.Before = append(e.ex.Before, Finding{Topic: "fs-error", Text: "filesystem error",
			Evidence: e.evidence(s.Line, s.Line+1), Command: "log | grep -i -E 'fs error|corruption'", Time: seconds(s.Time)})
	}
	sort.SliceStable(e.ex.Before, func(i, j int) bool { return e.ex.Before[i].Time < e.ex.Before[j].Time })
}

func reKilledLine(s string) bool { return strings.Contains(s, "Killed process ") }

// state: memory pressure, blocked tasks and runqueue lengths at the
// crash, each only when notable.
func (e *explainState) state() {
	if e.tt != nil && e.states != nil {
		var blocked []string
		for _, t := range e.tt.All() {
			if e.states.Short(t.State) == "UN" {
				blocked = append(blocked, fmt.Sprintf("%s (PID %d)", t.Comm, t.PID))
			}
		}
		if len(blocked) > 0 {
			e.ex.State = append(e.ex.State, Finding{Topic: "blocked",
				Text:    fmt.Sprintf("%d task(s) in D state (uninterruptible sleep): %s", len(blocked), strings.Join(blocked, ", ")),
				Command: "ps -S", Time: -1})
		}
	}
	if e.ex.Cause.Kind == CauseHungTask && e.fatal != nil && e.tt != nil && e.bter != nil {
		if t := e.tt.ByPID(e.fatal.VictimPID); t != nil {
			if bt, err := e.bter.Backtrace(e.ctx, t.Addr, kernel.BacktraceOptions{}); err == nil {
				var fr []string
				for _, f := range bt.Frames {
					if f.User {
						break
					}
					fr = append(fr, f.Func)
				}
				e.ex.State = append(e.ex.State, Finding{Topic: "blocked task",
					Text:    fmt.Sprintf("the blocked task %s (PID %d) waits in: %s", t.Comm, t.PID, strings.Join(fr, " < ")),
					Command: fmt.Sprintf("bt %d", t.PID), Time: -1})
				e.hungFrames = fr
				if l := locksOn(fr); len(l) > 0 {
					e.ex.State = append(e.ex.State, Finding{Topic: "locks",
						Text:    fmt.Sprintf("%s (PID %d) waits for a lock: %s", t.Comm, t.PID, strings.Join(l, "; ")),
						Command: fmt.Sprintf("bt -f %d", t.PID), Time: -1})
				}
			}
		}
	}
	if l := locksOn(e.ex.Trace); len(l) > 0 && e.ex.Task != nil {
		e.ex.State = append(e.ex.State, Finding{Topic: "locks",
			Text:    fmt.Sprintf("the panic task was in %s", strings.Join(l, ", ")),
			Command: "bt -f", Time: -1})
	}
	if e.opt.Quick {
		return
	}
	if rq, err := runqJSON(e.s, nil); err == nil {
		var parts []string
		for _, c := range rq.([]RunqCPUJSON) {
			parts = append(parts, fmt.Sprintf("CPU %d: %d queued", c.CPU, len(c.RT)+len(c.CFS)))
		}
		e.ex.State = append(e.ex.State, Finding{Topic: "runqueues",
			Text: "runqueue lengths (besides the running task): " + strings.Join(parts, ", "), Command: "runq", Time: -1})
	} else {
		e.problem("runq", err)
	}
	mi, err := e.s.MemInfo(e.s.Ctx())
	if err != nil {
		e.problem("kmem -i", err)
		return
	}
	if mi.TotalRAM > 0 {
		pct := float64(mi.Free) * 100 / float64(mi.TotalRAM)
		if pct < 5 {
			e.ex.State = append(e.ex.State, Finding{Topic: "memory",
				Text:    fmt.Sprintf("free memory was low: %d of %d pages (%.1f%%)", mi.Free, mi.TotalRAM, pct),
				Command: "kmem -i", Time: -1})
		}
		if spct := float64(mi.Slab) * 100 / float64(mi.TotalRAM); spct > 30 {
			e.ex.State = append(e.ex.State, Finding{Topic: "memory",
				Text:    fmt.Sprintf("slab held %.1f%% of memory (%d pages)", spct, mi.Slab),
				Command: "kmem -s", Time: -1})
		}
	}
	if mi.HasSwap && mi.SwapTotal > 0 {
		if spct := float64(mi.SwapUsed) * 100 / float64(mi.SwapTotal); spct > 50 {
			e.ex.State = append(e.ex.State, Finding{Topic: "memory",
				Text:    fmt.Sprintf("swap was %.1f%% used (%d of %d pages)", spct, mi.SwapUsed, mi.SwapTotal),
				Command: "kmem -i", Time: -1})
		}
	}
	if mi.CommitShown && mi.CommitLimit > 0 && mi.Committed > int64(mi.CommitLimit) {
		e.ex.State = append(e.ex.State, Finding{Topic: "memory",
			Text:    fmt.Sprintf("memory was overcommitted: %d pages committed, the limit is %d", mi.Committed, mi.CommitLimit),
			Command: "kmem -i", Time: -1})
	}
}

// signature hashes what identifies the bug: the cause, the module and
// the top meaningful frames without offsets. The release is shown beside
// it, not hashed, so the same bug matches across builds.
func (e *explainState) signature() {
	frames := e.ex.Trace
	if e.ex.Cause.Kind == CauseHungTask {
		frames = nil
		for _, f := range e.hungFrames {
			if !sleepers[f] {
				frames = append(frames, f)
			}
		}
	}
	if len(frames) > signatureFrames {
		frames = frames[:signatureFrames]
	}
	if e.ex.Cause.Function == "" && len(frames) > 0 && e.ex.Cause.Kind != CauseSysrq {
		// Where the trace that matters starts: the blocked task's wait,
		// the OOM killer's caller.
		f, _, _ := strings.Cut(frames[0], " [")
		e.ex.Cause.Function = f
	}
	parts := []string{e.ex.Cause.Kind, e.ex.Cause.Module}
	for _, f := range frames {
		// Compiler clones (.constprop.0, .isra.0) differ between
		// builds of the same source.
		if i := strings.IndexByte(f, '.'); i > 0 && !strings.HasPrefix(f, "0x") {
			rest := f[i:]
			mod := ""
			if j := strings.Index(rest, " ["); j >= 0 {
				mod = rest[j:]
			}
			f = f[:i] + mod
		}
		parts = append(parts, f)
	}
	e.ex.SignatureOf = strings.Join(parts, "|")
	sum := sha256.Sum256([]byte(e.ex.SignatureOf))
	e.ex.Signature = fmt.Sprintf("%x", sum[:6])
}

// next suggests commands to dig further.
func (e *explainState) next() {
	n := []string{"bt", "log | tail -60"}
	switch e.ex.Cause.Kind {
	case CauseNullDeref, CausePageFault, CauseGPF, CauseBUG, CauseOops:
		if e.ex.Fault != nil && e.ex.Fault.IP != 0 {
			n = append(n, fmt.Sprintf("dis -r %x", e.ex.Fault.IP), "bt -f")
		}
	case CauseSoftLockup, CauseHardLockup:
		n = append(n, "bt -a", "runq")
	case CauseHungTask:
		if e.fatal != nil {
			n = append(n, fmt.Sprintf("bt %d", e.fatal.VictimPID))
		}
		n = append(n, "ps -S", "foreach UN bt")
	case CauseOOMPanic:
		n = append(n, "kmem -i", "ps -G", "kmem -s")
	case CauseSysrq:
		n = append(n, "ps | grep '>'", "bt -a")
	}
	if e.ex.Cause.Module != "" {
		n = append(n, "mod", "mod -s "+e.ex.Cause.Module)
	}
	e.ex.Next = n
}
