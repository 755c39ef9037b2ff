package kernel

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The kernel says how it died in its own log: an Oops or BUG report, a
// WARN, the lockup and hung-task detectors, the OOM killer, "Kernel panic
// - not syncing". ParseCrashLog reads those reports out of the log's lines
// into plain values. The line formats are the kernel's own printk formats
// (5.10 to 6.12), cited at each pattern; the log is text from the dump,
// so every field is parsed defensively and a line that does not fit is
// skipped, never trusted.

// A LogLine is one line of the kernel log and its record's timestamp
// (a record holding newlines gives several lines of one time).
type LogLine struct {
	Time time.Duration // printk's timestamp: since boot
	Text string
}

// ReportKind names what a report in the log is.
type ReportKind string

const (
	ReportNullDeref    ReportKind = "null-pointer-dereference" // BUG: kernel NULL pointer dereference
	ReportPageFault    ReportKind = "page-fault"               // BUG: unable to handle page fault
	ReportGPF          ReportKind = "general-protection-fault"
	ReportBUG          ReportKind = "bug"          // kernel BUG at FILE:LINE! (BUG()/BUG_ON)
	ReportWarn         ReportKind = "warning"      // WARNING: CPU: N PID: N at ...
	ReportSoftLockup   ReportKind = "soft-lockup"  // watchdog: BUG: soft lockup
	ReportHardLockup   ReportKind = "hard-lockup"  // NMI watchdog: Watchdog detected hard LOCKUP
	ReportHungTask     ReportKind = "hung-task"    // INFO: task X:N blocked for more than N seconds
	ReportRCUStall     ReportKind = "rcu-stall"    // rcu: INFO: ... stall
	ReportDoubleFault  ReportKind = "double-fault" // double fault: 0000 [#1]
	ReportStackOverrun ReportKind = "stack-overflow"
	ReportOops         ReportKind = "oops" // any other die(): "invalid opcode", "int3", ...
)

// A LogFrame is one function of a call trace or RIP line in the log:
// "func+0x13/0x1000 [module]".
type LogFrame struct {
	Func      string
	Off, Size uint64
	Module    string
	// Unreliable is the kernel's "? " mark: an address found on the
	// stack that the unwinder did not reach.
	Unreliable bool
}

func (f LogFrame) String() string {
	s := f.Func + "+0x" + strconv.FormatUint(f.Off, 16) + "/0x" + strconv.FormatUint(f.Size, 16)
	if f.Module != "" {
		s += " [" + f.Module + "]"
	}
	return s
}

// A LogReport is one Oops, BUG, WARN, lockup, hung-task or RCU-stall
// report.
type LogReport struct {
	Kind  ReportKind
	Line  int // index of its first line in the lines parsed
	Time  time.Duration
	Title string // its first line

	// Address is the faulting address a page-fault BUG line names.
	Address    uint64
	HasAddress bool
	// Access is the "#PF: supervisor write access in kernel mode" text,
	// ErrorCode the "#PF: error_code(0x0002)" value.
	Access       string
	ErrorCode    uint64
	HasErrorCode bool
	// Die is the die() line: "Oops: 0002 [#1] SMP" (its code in DieCode,
	// its count in DieCount: 1 for the first Oops since boot).
	Die      string
	DieCode  uint64
	DieCount int
	// NonCanonical is the address a GPF line says was non-canonical.
	NonCanonical    uint64
	HasNonCanonical bool
	// At is a BUG's or WARN's "FILE:LINE".
	At string

	// The task line: "CPU: 0 PID: 88 Comm: insmod ... Tainted: G O ...".
	HasTask bool
	CPU     int
	PID     int64
	Comm    string
	Tainted string // the flags after "Tainted: " ("G           O"), "" when not tainted

	// RIP is the first kernel-mode "RIP: 0010:func+off/size [mod]" line.
	RIP    LogFrame
	HasRIP bool
	// Registers are the kernel-mode registers printed after RIP, by
	// name ("RAX", "CR2", ...).
	Registers map[string]uint64
	// CR2 is the last CR2 the report prints (die() prints the page
	// fault's address again at its end: the register block's CR2 can be
	// a later fault's, taken while printing "Code:").
	CR2    uint64
	HasCR2 bool
	// Modules is the "Modules linked in:" list.
	Modules string
	// Trace is the first "Call Trace:" of the report.
	Trace []LogFrame

	// Stuck is how long a soft lockup had the cpu (StuckCPU), Blocked
	// how long a hung task had waited; Victim names the task the
	// detector reported ("insmod", 124).
	Stuck      time.Duration
	StuckCPU   int
	Blocked    time.Duration
	VictimComm string
	VictimPID  int64
	// VictimState is a hung task's "state:D".
	VictimState string
}

// A PanicLine is the "Kernel panic - not syncing: REASON" line, with the
// task line and the trace panic() prints below it (dump_stack, when no
// Oops printed one).
type PanicLine struct {
	Line   int
	Time   time.Duration
	Reason string
	// The task line: "CPU: 0 PID: 1 Comm: init ...".
	HasTask bool
	CPU     int
	PID     int64
	Comm    string
	// Trace is its "Call Trace:", innermost first.
	Trace []LogFrame
}

// parsePanicLine takes one line after the panic line; false when it is
// none of the panic's and the panic's block has ended (done).
func parsePanicLine(p *PanicLine, text string, inTrace *bool) (taken, done bool) {
	switch {
	case text == "Call Trace:":
		*inTrace = len(p.Trace) == 0
		return true, false
	case text == "</TASK>" && *inTrace:
		*inTrace = false
		return true, true
	}
	if m := matchIf(!p.HasTask && strings.HasPrefix(text, "CPU: "), reTaskLine, text); m != nil {
		p.HasTask = true
		p.CPU, _ = strconv.Atoi(m[1])
		p.PID, _ = strconv.ParseInt(m[2], 10, 64)
		p.Comm = strings.TrimSpace(m[3])
		return true, false
	}
	if *inTrace && len(p.Trace) < maxLogTrace {
		if f, ok := parseFrame(text); ok {
			p.Trace = append(p.Trace, f)
			return true, false
		}
	}
	return false, false
}

// An OOMReport is one run of the OOM killer.
type OOMReport struct {
	Line int
	Time time.Duration
	// Invoker is the task whose allocation invoked it, with its
	// gfp_mask and order (dump_header's "X invoked oom-killer: ...").
	InvokerComm string
	InvokerPID  int64
	GFPMask     string
	Order       int
	// Constraint is oom-kill's "constraint=CONSTRAINT_NONE" value;
	// MemCG its task_memcg.
	Constraint string
	MemCG      string
	// Killed is the victim, when one was killed ("Out of memory: Killed
	// process ..."); Largest is the task with the most resident pages
	// in the report's task table (the victim of a panic_on_oom, which
	// panics before choosing one).
	Killed  *OOMVictim
	Largest *OOMTask
	Tasks   int // rows in the task table
}

// An OOMVictim is the "Killed process" line: sizes in kB.
type OOMVictim struct {
	PID                              int64
	Comm                             string
	TotalVMKB, AnonKB, FileKB, ShmKB uint64
	UID                              int64
	OOMScoreAdj                      int64
}

// An OOMTask is a row of the OOM report's task table (sizes in pages).
type OOMTask struct {
	PID, TGID, UID     int64
	TotalVM, RSS, Swap uint64
	OOMScoreAdj        int64
	Comm               string
}

// A LogEvent is one line of interest with its time: a SYN flood, a
// segfault, an I/O or filesystem error, the sysrq crash trigger.
type LogEvent struct {
	Line int
	Time time.Duration
	Text string
	// What the line names: the port of a SYN flood, the task and
	// address of a segfault, the device of an I/O error.
	Port string
	// Listen is the address a SYN flood's listener is bound to, where
	// the kernel names it (6.12 prints "on port 127.0.0.1:7777", 6.1
	// "on port 7777"; IPv6 in brackets).
	Listen  string
	Comm    string
	PID     int64
	Address uint64
	Device  string
}

// CrashLog is what ParseCrashLog finds.
type CrashLog struct {
	Panic     *PanicLine
	Sysrq     *LogEvent // "sysrq: Trigger a crash" (sysrq: SysRq : before 5.x)
	Reports   []LogReport
	OOMs      []OOMReport
	SYNFloods []LogEvent
	Segfaults []LogEvent
	IOErrors  []LogEvent
	FSErrors  []LogEvent
}

// maxLogTrace bounds a report's call trace (a hostile log could make
// every line a frame).
const maxLogTrace = 64

var (
	// arch/x86/mm/fault.c show_fault_oops.
	reNullDeref = regexp.MustCompile(`^BUG: kernel NULL pointer dereference, address: ([0-9a-f]+)`)
	rePageFault = regexp.MustCompile(`^BUG: unable to handle (?:page fault for address|kernel paging request at|kernel NULL pointer dereference at)(?: address)?:? ([0-9a-f]+)`)
	rePFAccess  = regexp.MustCompile(`^#PF: ((?:supervisor|user) .* in (?:kernel|user) mode)`)
	rePFCode    = regexp.MustCompile(`^#PF: error_code\(0x([0-9a-f]+)\)`)
	// arch/x86/kernel/dumpstack.c __die_header: "%s: %04lx [#%d]",
	// prefixed "Oops: " since 6.10.
	reDie = regexp.MustCompile(`^(?:Oops: )?(.+?): ([0-9a-f]{4}) \[#(\d+)\]`)
	// arch/x86/kernel/traps.c: "general protection fault, probably for
	// non-canonical address 0x%lx".
	reNonCanonical = regexp.MustCompile(`non-canonical address 0x([0-9a-f]+)`)
	// lib/bug.c report_bug: "kernel BUG at %s:%u!".
	reBUG = regexp.MustCompile(`^kernel BUG at (\S+)!`)
	// kernel/panic.c __warn: "WARNING: CPU: %d PID: %d at %pS" (a file
	// and line before the function when known).
	reWarn = regexp.MustCompile(`^WARNING: CPU: (\d+) PID: (\d+) at (\S+)`)
	// kernel/watchdog.c: "BUG: soft lockup - CPU#%d stuck for %us! [%s:%d]".
	reSoftLockup = regexp.MustCompile(`BUG: soft lockup - CPU#(\d+) stuck for (\d+)s! \[(.*):(\d+)\]`)
	// kernel/watchdog_perf.c (watchdog_hld.c before 6.6).
	reHardLockup = regexp.MustCompile(`Watchdog detected hard LOCKUP on cpu (\d+)`)
	// kernel/hung_task.c: "INFO: task %s:%d blocked for more than %ld seconds.".
	reHung      = regexp.MustCompile(`^INFO: task (.*):(\d+) blocked for more than (\d+) seconds\.`)
	reHungState = regexp.MustCompile(`^task:\S* +state:(\S)`)
	// kernel/rcu/tree_stall.h.
	reRCU = regexp.MustCompile(`^(?:rcu: )?INFO: rcu_\w+ (?:self-)?detected (?:expedited )?stalls?`)
	// arch/x86/kernel/traps.c handle_stack_overflow.
	reStackGuard = regexp.MustCompile(`^BUG: (?:\w+ )?stack guard page was hit at`)
	// lib/dump_stack.c dump_stack_print_info: "CPU: %d PID: %d Comm:
	// %.20s %s%s %s %.*s" ("CPU: 0 UID: 0 PID: ..." since 6.11).
	reTaskLine = regexp.MustCompile(`^CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (.{1,16}?) (?:Kdump: loaded )?(Not tainted|Tainted: ([A-Z ]*[A-Z]))`)
	reFrame    = regexp.MustCompile(`^(\? )?([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([A-Za-z0-9_]+)\])?$`)
	// arch/x86/kernel/process_64.c __show_regs / show_ip: "RIP: %04x:%pS".
	reRIP   = regexp.MustCompile(`^RIP: ([0-9a-f]{4}):(.*)$`)
	reRegs  = regexp.MustCompile(`\b(R[A-Z0-9]{1,2}|CR[0-4]): ([0-9a-f]{16})\b`)
	rePanic = regexp.MustCompile(`^Kernel panic - not syncing: ?(.*)$`)
	// drivers/tty/sysrq.c sysrq_handle_crash's op message.
	reSysrq = regexp.MustCompile(`^(?:sysrq: |SysRq : )Trigger a crash`)
	// mm/oom_kill.c dump_header, dump_oom_summary, __oom_kill_process,
	// dump_task.
	reOOMInvoked    = regexp.MustCompile(`^(.*) invoked oom-killer: gfp_mask=(\S+?),? order=(-?\d+)`)
	reOOMConstraint = regexp.MustCompile(`^oom-kill:constraint=(\w+),.*?task_memcg=([^,]*),`)
	reOOMKilled     = regexp.MustCompile(`^(?:Memory cgroup )?[Oo]ut of memory(?: \(oom_kill_allocating_task\))?: Killed process (\d+) \((.*)\) (.*)$`)
	reOOMTask       = regexp.MustCompile(`^\[ *(\d+)\] +(\d+) +(\d+) +(\d+) +(\d+) +\d+ +(\d+) +(-?\d+) (.*)$`)
	reKV            = regexp.MustCompile(`([\w-]+):(-?\d+)(kB)?`)
	// net/ipv4/tcp_input.c tcp_syn_flood_action: "%s: Possible SYN
	// flooding on port %s. %s.  Check SNMP counters." (the port is
	// "ADDR:PORT" since 6.9).
	reSYN = regexp.MustCompile(`Possible SYN flooding on port (\S+?)\. `)
	// arch/x86/mm/fault.c show_signal_msg: "%s%s[%d]: segfault at %lx".
	reSegfault = regexp.MustCompile(`^(.*)\[(\d+)\]: segfault at ([0-9a-f]+)`)
	// block/blk-mq.c blk_print_req_error ("I/O error, dev %s, sector
	// %llu"), fs/buffer.c ("Buffer I/O error on dev %pg").
	reIOError = regexp.MustCompile(`I/O error,? (?:on )?dev ([^, ]+)`)
	reFSError = regexp.MustCompile(`^(EXT[234]-fs (?:error|\(.*\): error)|XFS \(.*\): (?:.*[Cc]orruption|.*[Ss]hut(?:ting)? ?down)|BTRFS (?:error|critical)|F2FS-fs .*error)`)
)

// ParseCrashLog finds the reports of a kernel log.
func ParseCrashLog(lines []LogLine) *CrashLog {
	c := &CrashLog{}
	var cur *LogReport
	var oom *OOMReport
	var pan *PanicLine // the first panic line, while its block lasts
	panTrace := false
	inTrace := false
	regsDone := false
	ripLine := -1
	finish := func() {
		if cur != nil {
			c.Reports = append(c.Reports, *cur)
			cur = nil
		}
		inTrace, regsDone, ripLine = false, false, -1
	}
	open := func(kind ReportKind, i int, l LogLine, text string) {
		finish()
		cur = &LogReport{Kind: kind, Line: i, Time: l.Time, Title: text, CPU: -1, StuckCPU: -1}
	}
	for i, l := range lines {
		text := strings.TrimSpace(l.Text)
		if text == "" {
			continue
		}
		// Openers of a new report.
		switch {
		case strings.Contains(text, "soft lockup") && reSoftLockup.MatchString(text):
			m := reSoftLockup.FindStringSubmatch(text)
			open(ReportSoftLockup, i, l, text)
			cur.StuckCPU, _ = strconv.Atoi(m[1])
			secs, _ := strconv.ParseInt(m[2], 10, 32)
			cur.Stuck = time.Duration(secs) * time.Second
			cur.VictimComm = m[3]
			cur.VictimPID, _ = strconv.ParseInt(m[4], 10, 64)
			continue
		case strings.Contains(text, "hard LOCKUP") && reHardLockup.MatchString(text):
			m := reHardLockup.FindStringSubmatch(text)
			open(ReportHardLockup, i, l, text)
			cur.StuckCPU, _ = strconv.Atoi(m[1])
			continue
		case strings.HasPrefix(text, "BUG: ") && reNullDeref.MatchString(text):
			m := reNullDeref.FindStringSubmatch(text)
			open(ReportNullDeref, i, l, text)
			cur.Address, cur.HasAddress = parseHex(m[1])
			continue
		case strings.HasPrefix(text, "BUG: ") && rePageFault.MatchString(text):
			m := rePageFault.FindStringSubmatch(text)
			open(ReportPageFault, i, l, text)
			cur.Address, cur.HasAddress = parseHex(m[1])
			continue
		case strings.HasPrefix(text, "BUG: ") && reStackGuard.MatchString(text):
			open(ReportStackOverrun, i, l, text)
			continue
		case strings.HasPrefix(text, "kernel BUG") && reBUG.MatchString(text):
			open(ReportBUG, i, l, text)
			cur.At = reBUG.FindStringSubmatch(text)[1]
			continue
		case strings.HasPrefix(text, "WARNING: ") && reWarn.MatchString(text):
			m := reWarn.FindStringSubmatch(text)
			open(ReportWarn, i, l, text)
			cur.CPU, _ = strconv.Atoi(m[1])
			cur.PID, _ = strconv.ParseInt(m[2], 10, 64)
			if strings.Contains(m[3], ":") && !strings.Contains(m[3], "+0x") {
				cur.At = m[3]
			}
			continue
		case strings.HasPrefix(text, "INFO: task ") && reHung.MatchString(text):
			m := reHung.FindStringSubmatch(text)
			open(ReportHungTask, i, l, text)
			cur.VictimComm = m[1]
			cur.VictimPID, _ = strconv.ParseInt(m[2], 10, 64)
			secs, _ := strconv.ParseInt(m[3], 10, 32)
			cur.Blocked = time.Duration(secs) * time.Second
			continue
		case strings.Contains(text, "INFO: rcu_") && reRCU.MatchString(text):
			open(ReportRCUStall, i, l, text)
			continue
		}
		if m := matchIf(strings.Contains(text, " [#"), reDie, text); m != nil && !strings.HasPrefix(text, "CPU:") {
			// A die() line: part of the report a BUG line opened,
			// or a report of its own (GPF, double fault, invalid
			// opcode without a BUG line).
			code, _ := parseHex(m[2])
			count, _ := strconv.Atoi(m[3])
			if cur == nil || cur.Die != "" || cur.Kind == ReportWarn || cur.Kind == ReportHungTask || cur.Kind == ReportSoftLockup || cur.Kind == ReportRCUStall {
				kind := ReportOops
				switch {
				case strings.HasPrefix(m[1], "general protection fault"):
					kind = ReportGPF
				case m[1] == "double fault":
					kind = ReportDoubleFault
				}
				open(kind, i, l, text)
			}
			cur.Die, cur.DieCode, cur.DieCount = text, code, count
			if n := reNonCanonical.FindStringSubmatch(text); n != nil {
				cur.NonCanonical, cur.HasNonCanonical = parseHex(n[1])
			}
			continue
		}
		if m := matchIf(strings.HasPrefix(text, "Kernel panic"), rePanic, text); m != nil {
			finish()
			if c.Panic == nil {
				c.Panic = &PanicLine{Line: i, Time: l.Time, Reason: m[1]}
				pan = c.Panic
			}
			continue
		}
		if pan != nil {
			taken, done := parsePanicLine(pan, text, &panTrace)
			if done || i > pan.Line+maxLogTrace+40 {
				pan = nil
			}
			if taken {
				continue
			}
		}
		if c.Sysrq == nil && strings.Contains(text, "Trigger a crash") && reSysrq.MatchString(text) {
			c.Sysrq = &LogEvent{Line: i, Time: l.Time, Text: text}
			continue
		}
		if strings.HasPrefix(text, "---[ end trace") {
			finish()
			continue
		}
		// The OOM killer: a report of its own, beside the others.
		if m := matchIf(strings.Contains(text, "invoked oom-killer"), reOOMInvoked, text); m != nil {
			finish()
			c.OOMs = append(c.OOMs, OOMReport{Line: i, Time: l.Time, InvokerComm: m[1], GFPMask: m[2], InvokerPID: -1})
			oom = &c.OOMs[len(c.OOMs)-1]
			oom.Order, _ = strconv.Atoi(m[3])
			continue
		}
		if oom != nil {
			if parseOOMLine(oom, text) {
				continue
			}
		}
		if m := matchIf(strings.Contains(text, "Killed process"), reOOMKilled, text); m != nil {
			v := &OOMVictim{Comm: m[2]}
			v.PID, _ = strconv.ParseInt(m[1], 10, 64)
			for _, kv := range reKV.FindAllStringSubmatch(m[3], -1) {
				n, _ := strconv.ParseInt(kv[2], 10, 64)
				switch kv[1] {
				case "total-vm":
					v.TotalVMKB = uint64(n)
				case "anon-rss":
					v.AnonKB = uint64(n)
				case "file-rss":
					v.FileKB = uint64(n)
				case "shmem-rss":
					v.ShmKB = uint64(n)
				case "UID":
					v.UID = n
				case "oom_score_adj":
					v.OOMScoreAdj = n
				}
			}
			if oom == nil || oom.Killed != nil {
				// A kill whose report is not in the log (it
				// wrapped away): a report of its own.
				c.OOMs = append(c.OOMs, OOMReport{Line: i, Time: l.Time, InvokerPID: -1})
				oom = &c.OOMs[len(c.OOMs)-1]
			}
			oom.Killed = v
			oom = nil
			continue
		}
		if m := matchIf(strings.Contains(text, "SYN flooding"), reSYN, text); m != nil {
			ev := LogEvent{Line: i, Time: l.Time, Text: text, Port: m[1]}
			if j := strings.LastIndexByte(m[1], ':'); j > 0 {
				ev.Listen, ev.Port = strings.TrimSuffix(strings.TrimPrefix(m[1][:j], "["), "]"), m[1][j+1:]
			}
			c.SYNFloods = append(c.SYNFloods, ev)
			continue
		}
		if m := matchIf(strings.Contains(text, "segfault at"), reSegfault, text); m != nil {
			e := LogEvent{Line: i, Time: l.Time, Text: text, Comm: m[1]}
			e.PID, _ = strconv.ParseInt(m[2], 10, 64)
			e.Address, _ = parseHex(m[3])
			c.Segfaults = append(c.Segfaults, e)
			continue
		}
		if m := matchIf(strings.Contains(text, "I/O error"), reIOError, text); m != nil {
			c.IOErrors = append(c.IOErrors, LogEvent{Line: i, Time: l.Time, Text: text, Device: m[1]})
			continue
		}
		if (strings.Contains(text, "-fs ") || strings.Contains(text, "XFS (") || strings.Contains(text, "BTRFS ")) && reFSError.MatchString(text) {
			c.FSErrors = append(c.FSErrors, LogEvent{Line: i, Time: l.Time, Text: text})
			continue
		}
		if cur == nil {
			continue
		}
		parseReportLine(cur, text, i, &inTrace, &regsDone, &ripLine)
	}
	finish()
	return c
}

// parseReportLine takes one line inside a report.
func parseReportLine(cur *LogReport, text string, i int, inTrace, regsDone *bool, ripLine *int) {
	switch {
	case rePFAccess.MatchString(text):
		cur.Access = rePFAccess.FindStringSubmatch(text)[1]
		return
	case rePFCode.MatchString(text):
		cur.ErrorCode, cur.HasErrorCode = parseHex(rePFCode.FindStringSubmatch(text)[1])
		return
	case strings.HasPrefix(text, "Modules linked in:"):
		if cur.Modules == "" {
			cur.Modules = strings.TrimSpace(strings.TrimPrefix(text, "Modules linked in:"))
		}
		*inTrace = false
		return
	case text == "Call Trace:":
		*inTrace = len(cur.Trace) == 0
		return
	}
	if m := matchIf(!cur.HasTask && strings.HasPrefix(text, "CPU: "), reTaskLine, text); m != nil {
		cur.HasTask = true
		cur.CPU, _ = strconv.Atoi(m[1])
		cur.PID, _ = strconv.ParseInt(m[2], 10, 64)
		cur.Comm = strings.TrimSpace(m[3])
		cur.Tainted = strings.TrimSpace(m[5])
		return
	}
	if m := reHungState.FindStringSubmatch(text); m != nil && cur.Kind == ReportHungTask && cur.VictimState == "" {
		cur.VictimState = m[1]
		return
	}
	if m := matchIf(strings.HasPrefix(text, "RIP: "), reRIP, text); m != nil {
		// A kernel-mode RIP (CS 0010) opens the register block of the
		// report; a user-mode one (0033) ends it.
		if m[1] == "0010" && !cur.HasRIP {
			if f, ok := parseFrame(m[2]); ok {
				cur.RIP, cur.HasRIP = f, true
				*ripLine = i
			}
		} else if *ripLine >= 0 {
			*regsDone = true
		}
		return
	}
	if strings.HasPrefix(text, "CR2: ") && !strings.Contains(text, " CR3: ") {
		// die()'s closing "CR2: %016lx" line.
		if v, ok := parseHex(strings.TrimPrefix(text, "CR2: ")); ok {
			cur.CR2, cur.HasCR2 = v, true
		}
		return
	}
	if *ripLine >= 0 && !*regsDone {
		if ms := reRegs.FindAllStringSubmatch(text, -1); ms != nil {
			if cur.Registers == nil {
				cur.Registers = make(map[string]uint64)
			}
			for _, r := range ms {
				if _, dup := cur.Registers[r[1]]; dup {
					continue
				}
				v, _ := parseHex(r[2])
				cur.Registers[r[1]] = v
				if r[1] == "CR2" && !cur.HasCR2 {
					cur.CR2, cur.HasCR2 = v, true
				}
			}
			return
		}
	}
	if *inTrace && len(cur.Trace) < maxLogTrace {
		if f, ok := parseFrame(text); ok {
			cur.Trace = append(cur.Trace, f)
			if *ripLine >= 0 {
				*regsDone = true
			}
		}
	}
}

// parseOOMLine takes one line inside an OOM report; false when the line
// is not one.
func parseOOMLine(oom *OOMReport, text string) bool {
	if m := matchIf(oom.InvokerPID < 0 && strings.HasPrefix(text, "CPU: "), reTaskLine, text); m != nil {
		oom.InvokerPID, _ = strconv.ParseInt(m[2], 10, 64)
		return true
	}
	if m := matchIf(strings.HasPrefix(text, "oom-kill:"), reOOMConstraint, text); m != nil {
		oom.Constraint, oom.MemCG = m[1], m[2]
		return true
	}
	if m := matchIf(strings.HasPrefix(text, "["), reOOMTask, text); m != nil {
		t := OOMTask{Comm: m[8]}
		t.PID, _ = strconv.ParseInt(m[1], 10, 64)
		t.UID, _ = strconv.ParseInt(m[2], 10, 64)
		t.TGID, _ = strconv.ParseInt(m[3], 10, 64)
		t.TotalVM, _ = strconv.ParseUint(m[4], 10, 64)
		t.RSS, _ = strconv.ParseUint(m[5], 10, 64)
		t.Swap, _ = strconv.ParseUint(m[6], 10, 64)
		t.OOMScoreAdj, _ = strconv.ParseInt(m[7], 10, 64)
		oom.Tasks++
		if oom.Largest == nil || t.RSS+t.Swap > oom.Largest.RSS+oom.Largest.Swap {
			oom.Largest = &t
		}
		return true
	}
	return false
}

// matchIf runs re only when the cheap test passed (most log lines are
// none of the reports: the regexps stay off them).
func matchIf(ok bool, re *regexp.Regexp, text string) []string {
	if !ok {
		return nil
	}
	return re.FindStringSubmatch(text)
}

func parseFrame(s string) (LogFrame, bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "+0x") {
		return LogFrame{}, false
	}
	m := reFrame.FindStringSubmatch(s)
	if m == nil {
		return LogFrame{}, false
	}
	f := LogFrame{Func: m[2], Module: m[5], Unreliable: m[1] != ""}
	f.Off, _ = parseHex(m[3])
	f.Size, _ = parseHex(m[4])
	return f, true
}

func parseHex(s string) (uint64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil
}

// TimedLines is Lines with each line's record time (0 for a plain
// log_buf, which keeps none): what ParseCrashLog reads.
func (l *Log) TimedLines() []LogLine {
	if l.Format == LogPlain {
		var out []LogLine
		for _, s := range l.Lines() {
			out = append(out, LogLine{Text: s})
		}
		return out
	}
	var out []LogLine
	one := &Log{Format: l.Format, Records: make([]LogRecord, 1)}
	for _, r := range l.Records {
		one.Records[0] = r
		for _, s := range one.Lines() {
			out = append(out, LogLine{Time: time.Duration(r.TsNsec), Text: s})
		}
	}
	return out
}

// PanicMessage is Panic's Message for lines already read (Log.Lines):
// crash's get_panicmsg(), "" when no line holds one.
func PanicMessage(lines []string) string {
	if i := panicLine(lines); i >= 0 {
		return lines[i]
	}
	return ""
}
