package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"gocrash/kernel"
)

// sys prints crash's system summary (kernel.c display_sys_stats()); the
// same block is shown before the first prompt. Each value is read the way
// crash 8.0.6 reads it, except UPTIME's HZ (see uptime).

func runSys(s *Session, args []string, w io.Writer) error {
	if len(args) == 0 {
		return WriteSys(s, w)
	}
	if args[0] == "-c" {
		return writeSyscalls(s, args[1:], w)
	}
	if args[0] == "-i" {
		return writeDMI(s, w)
	}
	if args[0] == "config" && len(args) == 1 {
		return writeConfig(s, w)
	}
	// crash's sys also has -t (taints); not here.
	return usageErr("sys", "sys takes no such argument here: %s (sys -c lists the system call table)", strings.Join(args, " "))
}

// SysInfo is the data of the sys block.
type SysInfo struct {
	Kernel, Dumpfile string
	CPUs, Offline    int
	Date             time.Time
	Uptime           string
	LoadAverage      string
	Tasks            int
	Nodename         string
	Release          string
	Version          string
	Machine          string
	MHz              uint64
	Memory           string
	Panic            string
}

// WriteSys prints the sys block. A value that cannot be read is shown as
// "(unknown: why)" and the block goes on; the error of the first such
// value is returned after the block is printed.
func WriteSys(s *Session, w io.Writer) error {
	var firstErr error
	note := func(what string, err error) string {
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", what, err)
		}
		return "(unknown: " + err.Error() + ")"
	}
	var b strings.Builder
	kernelLine := s.VmlinuxPath
	if tainted, livepatch, err := s.taints(); err == nil {
		if livepatch {
			kernelLine += "  [LIVEPATCH]"
		}
		if tainted {
			kernelLine += "  [TAINTED]"
		}
	}
	fmt.Fprintf(&b, "      KERNEL: %s\n", kernelLine)
	fmt.Fprintf(&b, "    DUMPFILE: %s%s\n", s.DumpPath, s.dumpFlags())

	if n, err := s.NumCPUs(); err != nil {
		fmt.Fprintf(&b, "        CPUS: %s\n", note("CPUS", err))
	} else {
		fmt.Fprintf(&b, "        CPUS: %d", n)
		if online, err := s.CPUMask("__cpu_online_mask"); err == nil && len(online) > 0 && n-len(online) != 0 {
			fmt.Fprintf(&b, " [OFFLINE: %d]", n-len(online))
		}
		b.WriteString("\n")
	}

	if t, err := s.DumpTime(); err != nil {
		fmt.Fprintf(&b, "        DATE: %s\n", note("DATE", err))
	} else {
		loc := s.Location
		if loc == nil {
			loc = time.Local
		}
		fmt.Fprintf(&b, "        DATE: %s\n", t.In(loc).Format("Mon Jan _2 15:04:05 MST 2006"))
	}

	if up, err := s.Uptime(); err != nil {
		fmt.Fprintf(&b, "      UPTIME: %s\n", note("UPTIME", err))
	} else {
		fmt.Fprintf(&b, "      UPTIME: %s\n", formatUptime(up))
	}

	if la, err := s.LoadAverage(); err != nil {
		fmt.Fprintf(&b, "LOAD AVERAGE: %s\n", note("LOAD AVERAGE", err))
	} else {
		fmt.Fprintf(&b, "LOAD AVERAGE: %s\n", la)
	}

	if n, err := s.CountTasks(); err != nil {
		fmt.Fprintf(&b, "       TASKS: %s\n", note("TASKS", err))
	} else {
		fmt.Fprintf(&b, "       TASKS: %d\n", n)
	}

	uts, err := s.Utsname()
	if err != nil {
		u := note("utsname", err)
		uts = kernel.Utsname{Nodename: u, Release: u, Version: u, Machine: u}
	}
	fmt.Fprintf(&b, "    NODENAME: %s\n", uts.Nodename)
	fmt.Fprintf(&b, "     RELEASE: %s\n", uts.Release)
	fmt.Fprintf(&b, "     VERSION: %s\n", uts.Version)
	fmt.Fprintf(&b, "     MACHINE: %s  ", uts.Machine)
	if mhz, err := s.CPUMHz(); err == nil && mhz != 0 {
		fmt.Fprintf(&b, "(%d Mhz)\n", mhz)
	} else {
		b.WriteString("(unknown Mhz)\n")
	}

	if m, err := s.MemorySize(); err != nil {
		fmt.Fprintf(&b, "      MEMORY: %s\n", note("MEMORY", err))
	} else {
		fmt.Fprintf(&b, "      MEMORY: %s\n", formatMemorySize(m, uint64(s.Dump.PageSize())))
	}

	msg, err := s.PanicMessage()
	if err != nil {
		msg = note("PANIC", err)
	}
	suffix := ""
	if strings.Contains(msg, "Oops: ") {
		suffix = " (check log for details)"
	}
	fmt.Fprintf(&b, "       PANIC: \"%s\"%s\n", msg, suffix)
	_, werr := io.WriteString(w, b.String())
	if firstErr != nil {
		return firstErr
	}
	return werr
}

// dumpFlags are the notes crash appends to DUMPFILE: "[PARTIAL DUMP]"
// for a filtered dump (a kdump-compressed dump with a dump level above 0;
// an ELF dump only when it says so in an NT_DISKDUMP note, which
// vmcore.Dump.Partial reports).
func (s *Session) dumpFlags() string {
	if s.Dump.Partial() {
		return "  [PARTIAL DUMP]"
	}
	return ""
}

// formatUptime is crash's convert_time(): "N days, HH:MM:SS".
func formatUptime(d time.Duration) string {
	total := uint64(d / time.Second)
	days := total / 86400
	total %= 86400
	out := ""
	if days > 0 {
		out = fmt.Sprintf("%d days, ", days)
	}
	return out + fmt.Sprintf("%02d:%02d:%02d", total/3600, total%3600/60, total%60)
}

// taints is crash's is_kernel_tainted() and the livepatch taint (K, bit
// TAINT_LIVEPATCH = 15) of is_livepatch().
func (s *Session) taints() (tainted, livepatch bool, err error) {
	v, err := s.TaintedMask()
	return v != 0, v&(1<<15) != 0, err
}

// LoadAverage is avenrun[] (kernel's LoadAverage) in crash's format:
// fixed point with FSHIFT 11 bits, rounded at the second decimal
// (kernel/sched/loadavg.c LOAD_INT / LOAD_FRAC plus FIXED_1/200).
func (s *Session) LoadAverage() (string, error) {
	avg, err := s.Kernel.LoadAverage()
	if err != nil {
		return "", err
	}
	const fixed1 = 1 << kernel.FShift
	parts := make([]string, 3)
	for i, v := range avg {
		a := v + fixed1/200
		parts[i] = fmt.Sprintf("%d.%02d", a>>kernel.FShift, ((a&(fixed1-1))*100)>>kernel.FShift)
	}
	return strings.Join(parts, ", "), nil
}

// formatMemorySize is crash's get_memory_size(): the total is rounded up
// to the next GB when within 64 MB of it, then shown by pages_to_size()
// (pagesToSize).
func formatMemorySize(total, pageSize uint64) string {
	const gb, mb = 1 << 30, 1 << 20
	if next := (total + gb - 1) / gb * gb; next != 0 && next-total <= 64*mb {
		total = next
	}
	if pageSize == 0 {
		pageSize = 4096
	}
	return pagesToSize(total/pageSize, pageSize)
}

// panicPatterns are the log lines crash takes as the panic message, in
// its order of preference (task.c panic_msg[]).
var panicPatterns = []string{
	"SysRq : Crash",
	"SysRq : Trigger a crash",
	"SysRq : Netdump",
	"Kernel panic: ",
	"Kernel panic - ",
	"Kernel BUG at",
	"kernel BUG at",
	"Unable to handle kernel paging request",
	"Unable to handle kernel NULL pointer dereference",
	"BUG: unable to handle kernel ",
	"general protection fault: ",
	"double fault: ",
	"divide error: ",
	"stack segment: ",
	"[Hardware Error]: ",
	"Bad mode in ",
	"Oops: ",
}

// panicKeywords are crash's second chance (task.c panic_keywords[]): the
// first log line holding one of them.
var panicKeywords = []string{
	"Unable to handle kernel",
	"BUG: unable to handle kernel",
	"Kernel BUG at",
	"kernel BUG at",
	"Bad mode in",
	"Oops",
	"Kernel panic",
}

// PanicMessage is crash's get_panicmsg(): the first log line (in pattern
// order) holding one of panicPatterns, else the first line holding one of
// panicKeywords; "" when none does.
func (s *Session) PanicMessage() (string, error) {
	recs, err := s.LogRecords()
	if err != nil && len(recs) == 0 {
		return "", err
	}
	lines := LogLines(recs)
	for _, p := range panicPatterns {
		for _, l := range lines {
			if strings.Contains(l, p) {
				return l, nil
			}
		}
	}
	for _, l := range lines {
		for _, k := range panicKeywords {
			if strings.Contains(l, k) {
				return l, nil
			}
		}
	}
	return "", nil
}

// WriteStartup is what crash shows before its first prompt: the sys block,
// then the current context (show_context(), indented by 5): the panic
// task's PID, COMMAND, TASK, CPU and STATE.
func WriteStartup(s *Session, w io.Writer) error {
	err := WriteSys(s, w)
	if cerr := writeContext(s, w, 5); err == nil {
		err = cerr
	}
	return err
}

// writeContext prints show_context() for the current context task.
func writeContext(s *Session, w io.Writer, indent int) error {
	task, err := s.Context()
	if err != nil {
		return err
	}
	c, err := s.contextOf(task)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, formatContext(c, indent))
	return err
}
