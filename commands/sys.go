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
	// crash's getopt string "ctip:", permuted as glibc's getopt does:
	// -t and -i answer as soon as they are met.
	g := newGetopt("sys", args)
	g.permute = true
	calls := false
	for {
		c, ok := g.next()
		if !ok {
			break
		}
		switch c {
		case 'c':
			calls = true
		case 't':
			return writeTaints(s, w)
		case 'i':
			return writeDMI(s, w)
		case 'p':
			v, err := g.arg()
			if err != nil {
				return err
			}
			if v == "anic" {
				return fmt.Errorf("cannot panic a dumpfile!")
			}
			return usageErr("sys", "")
		default:
			return usageErr("sys", "invalid option -- '%c'", c)
		}
	}
	ops := g.rest()
	if calls {
		return writeSyscalls(s, ops, w)
	}
	if len(ops) == 0 {
		return WriteSys(s, w)
	}
	// Each operand in turn: config shows the kernel's configuration,
	// anything else crash's usage, which ends the command.
	for _, a := range ops {
		if a != "config" {
			return usageErr("sys", "")
		}
		if err := writeConfig(s, w); err != nil {
			return err
		}
	}
	return nil
}

// WriteSys prints the sys block from kernel's Sys. A value that could not
// be read is shown as "(unknown: why)" and the block goes on; the error of
// the first such value is returned after the block is printed.
func WriteSys(s *Session, w io.Writer) error {
	sys, err := s.Sys(s.Ctx())
	if err != nil {
		return err
	}
	var firstErr error
	unknown := func(field, what string) (string, bool) {
		err := sys.Err(field)
		if err == nil {
			return "", false
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", what, err)
		}
		return "(unknown: " + err.Error() + ")", true
	}
	var b strings.Builder
	kernelLine := sys.Vmlinux
	if s.NoDebuginfo() {
		// No file to name: where the symbols came from instead.
		kernelLine = "(no vmlinux: kallsyms, BTF and ORC from the dump)"
	}
	if sys.Livepatch() {
		kernelLine += "  [LIVEPATCH]"
	}
	if sys.TaintedMask != 0 {
		kernelLine += "  [TAINTED]"
	}
	fmt.Fprintf(&b, "      KERNEL: %s\n", kernelLine)
	partial := ""
	if sys.Partial {
		partial = "  [PARTIAL DUMP]"
	}
	fmt.Fprintf(&b, "    DUMPFILE: %s%s\n", sys.Dump, partial)

	if u, ok := unknown("CPUS", "CPUS"); ok {
		fmt.Fprintf(&b, "        CPUS: %s\n", u)
	} else {
		fmt.Fprintf(&b, "        CPUS: %d", sys.CPUs)
		if sys.OfflineCPUs != 0 {
			fmt.Fprintf(&b, " [OFFLINE: %d]", sys.OfflineCPUs)
		}
		b.WriteString("\n")
	}

	if u, ok := unknown("DATE", "DATE"); ok {
		fmt.Fprintf(&b, "        DATE: %s\n", u)
	} else {
		loc := s.Location
		if loc == nil {
			loc = time.Local
		}
		fmt.Fprintf(&b, "        DATE: %s\n", sys.Date.In(loc).Format("Mon Jan _2 15:04:05 MST 2006"))
	}

	if u, ok := unknown("UPTIME", "UPTIME"); ok {
		fmt.Fprintf(&b, "      UPTIME: %s\n", u)
	} else {
		fmt.Fprintf(&b, "      UPTIME: %s\n", formatUptime(sys.Uptime))
	}

	if u, ok := unknown("LOAD AVERAGE", "LOAD AVERAGE"); ok {
		fmt.Fprintf(&b, "LOAD AVERAGE: %s\n", u)
	} else {
		fmt.Fprintf(&b, "LOAD AVERAGE: %s\n", formatLoadAverage(sys.LoadAverage))
	}

	if u, ok := unknown("TASKS", "TASKS"); ok {
		fmt.Fprintf(&b, "       TASKS: %s\n", u)
	} else {
		fmt.Fprintf(&b, "       TASKS: %d\n", sys.Tasks)
	}

	uts := sys.Utsname
	if u, ok := unknown("utsname", "utsname"); ok {
		uts = kernel.Utsname{Nodename: u, Release: u, Version: u, Machine: u}
	}
	fmt.Fprintf(&b, "    NODENAME: %s\n", uts.Nodename)
	fmt.Fprintf(&b, "     RELEASE: %s\n", uts.Release)
	fmt.Fprintf(&b, "     VERSION: %s\n", uts.Version)
	fmt.Fprintf(&b, "     MACHINE: %s  ", uts.Machine)
	if sys.MHz != 0 {
		fmt.Fprintf(&b, "(%d Mhz)\n", sys.MHz)
	} else {
		b.WriteString("(unknown Mhz)\n")
	}

	if u, ok := unknown("MEMORY", "MEMORY"); ok {
		fmt.Fprintf(&b, "      MEMORY: %s\n", u)
	} else {
		fmt.Fprintf(&b, "      MEMORY: %s\n", formatMemorySize(sys.MemorySize, sys.PageSize))
	}

	msg := sys.Panic
	if u, ok := unknown("PANIC", "PANIC"); ok {
		msg = u
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

// formatLoadAverage is avenrun[] (kernel's LoadAverage) in crash's
// format: fixed point with FSHIFT 11 bits, rounded at the second decimal
// (kernel/sched/loadavg.c LOAD_INT / LOAD_FRAC plus FIXED_1/200).
func formatLoadAverage(avg [3]uint64) string {
	const fixed1 = 1 << kernel.FShift
	parts := make([]string, 3)
	for i, v := range avg {
		a := v + fixed1/200
		parts[i] = fmt.Sprintf("%d.%02d", a>>kernel.FShift, ((a&(fixed1-1))*100)>>kernel.FShift)
	}
	return strings.Join(parts, ", ")
}

// LoadAverage is avenrun[] in crash's format (formatLoadAverage).
func (s *Session) LoadAverage() (string, error) {
	avg, err := s.Kernel.LoadAverage()
	if err != nil {
		return "", err
	}
	return formatLoadAverage(avg), nil
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

// writeTaints is crash's sys -t: tainted_mask and the letters of the
// kernel's taint_flags[] table for it.
func writeTaints(s *Session, w io.Writer) error {
	table, err := s.TaintTable()
	if err != nil {
		if !s.HasSymbol("taint_flags") {
			return fmt.Errorf("-t option not supported or applicable on this architecture or kernel")
		}
		return err
	}
	mask, err := s.TaintedMask()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "TAINTED_MASK: %x  %s\n", mask, kernel.TaintTableString(table, mask))
	return nil
}
