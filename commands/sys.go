package commands

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"gocrash/symbols"
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
	kernel := s.VmlinuxPath
	if tainted, livepatch, err := s.taints(); err == nil {
		if livepatch {
			kernel += "  [LIVEPATCH]"
		}
		if tainted {
			kernel += "  [TAINTED]"
		}
	}
	fmt.Fprintf(&b, "      KERNEL: %s\n", kernel)
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
		uts = map[string]string{"nodename": u, "release": u, "version": u, "machine": u}
	}
	fmt.Fprintf(&b, "    NODENAME: %s\n", uts["nodename"])
	fmt.Fprintf(&b, "     RELEASE: %s\n", uts["release"])
	fmt.Fprintf(&b, "     VERSION: %s\n", uts["version"])
	fmt.Fprintf(&b, "     MACHINE: %s  ", uts["machine"])
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

// taints is crash's is_kernel_tainted() and the livepatch taint (K, bit
// TAINT_LIVEPATCH = 15) of is_livepatch().
func (s *Session) taints() (tainted, livepatch bool, err error) {
	o, err := s.Var("tainted_mask")
	if err != nil {
		return false, false, err
	}
	v, err := o.Uint()
	if err != nil {
		return false, false, err
	}
	return v != 0, v&(1<<15) != 0, nil
}

// Utsname reads init_uts_ns.name (struct new_utsname) as field → string.
func (s *Session) Utsname() (map[string]string, error) {
	o, err := s.Var("init_uts_ns")
	if err != nil {
		return nil, err
	}
	name, err := o.Member("name")
	if err != nil {
		return nil, err
	}
	if name, err = name.Load(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range []string{"sysname", "nodename", "release", "version", "machine", "domainname"} {
		m, err := name.Member(f)
		if err != nil {
			return nil, err
		}
		if out[f], err = m.CString(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DumpTime is crash's DATE: the xtime seconds of the timekeeper
// (get_xtime(): "timekeeper", else "shadow_timekeeper", which is what
// modern kernels have as a symbol; tk_core.timekeeper is the live copy),
// falling back to the dump's crash time.
func (s *Session) DumpTime() (time.Time, error) {
	var firstErr error
	for _, v := range []struct{ sym, path string }{
		{"timekeeper", "xtime_sec"},
		{"shadow_timekeeper", "xtime_sec"},
		{"tk_core", "timekeeper.xtime_sec"},
	} {
		o, err := s.Var(v.sym)
		if err == nil {
			o, err = o.Member(v.path)
		}
		if err == nil {
			var sec int64
			if sec, err = o.Int(); err == nil && sec > 0 {
				return time.Unix(sec, 0), nil
			}
		}
		if firstErr == nil && err != nil {
			firstErr = err
		}
	}
	if info := s.Dump.Info(); info != nil && info.CrashTime != 0 {
		return time.Unix(info.CrashTime, 0), nil
	}
	if firstErr == nil {
		firstErr = errors.New("no timekeeper time and no CRASHTIME")
	}
	return time.Time{}, firstErr
}

// HZ is the kernel's tick rate. It is not a symbol; it is derived from
// tick_nsec (kernel/time/ntp.c: NSEC_PER_SEC/HZ, nudged by at most a few
// hundred ppm by NTP), rounded to the nearest integer rate.
//
// crash instead reads mq-deadline's write_expire (5*HZ) through gdb and
// falls back to 1000 when that fails, which it does on 6.12 kernels: its
// UPTIME is then off by 1000/HZ there. This is a deliberate difference.
func (s *Session) HZ() (uint64, error) {
	o, err := s.Var("tick_nsec")
	if err != nil {
		return 0, err
	}
	ns, err := o.Uint()
	if err != nil {
		return 0, err
	}
	if ns == 0 {
		return 0, errors.New("tick_nsec is 0")
	}
	hz := uint64(math.Round(1e9 / float64(ns)))
	if hz < 24 || hz > 10000 {
		return 0, fmt.Errorf("tick_nsec %d gives an implausible HZ %d", ns, hz)
	}
	return hz, nil
}

// Uptime is jiffies_64 - INITIAL_JIFFIES in seconds (crash's get_uptime();
// INITIAL_JIFFIES is (unsigned int)(-300*HZ), include/linux/jiffies.h).
func (s *Session) Uptime() (time.Duration, error) {
	hz, err := s.HZ()
	if err != nil {
		return 0, err
	}
	o, err := s.Var("jiffies_64")
	if err != nil {
		return 0, err
	}
	j, err := o.Uint()
	if err != nil {
		return 0, err
	}
	initial := uint64(uint32(-300 * int64(hz)))
	ticks := j - initial
	return time.Duration(ticks/hz) * time.Second, nil
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

// LoadAverage is avenrun[] in crash's format: fixed point with FSHIFT 11
// bits, rounded at the second decimal (kernel/sched/loadavg.c LOAD_INT /
// LOAD_FRAC plus FIXED_1/200).
func (s *Session) LoadAverage() (string, error) {
	o, err := s.Var("avenrun")
	if err != nil {
		return "", err
	}
	const fshift = 11
	const fixed1 = 1 << fshift
	parts := make([]string, 3)
	for i := range parts {
		el, err := o.Index(i)
		if err != nil {
			return "", err
		}
		v, err := el.Uint()
		if err != nil {
			return "", err
		}
		a := v + fixed1/200
		parts[i] = fmt.Sprintf("%d.%02d", a>>fshift, ((a&(fixed1-1))*100)>>fshift)
	}
	return strings.Join(parts, ", "), nil
}

// CPUMHz is crash's x86_64_processor_speed(): cpu_khz / 1000.
func (s *Session) CPUMHz() (uint64, error) {
	for _, name := range []string{"cpu_khz", "tsc_khz"} {
		o, err := s.Var(name)
		if err != nil {
			continue
		}
		if v, err := o.Uint(); err == nil && v != 0 {
			return v / 1000, nil
		}
	}
	return 0, errors.New("cpu_khz and tsc_khz are unknown")
}

// MemorySize is crash's total_node_memory(): the present pages of every
// online node (node_states[N_ONLINE]; node_data[n], or contig_page_data),
// spanned pages where present is 0, in bytes.
func (s *Session) MemorySize() (uint64, error) {
	nodes := []int{0}
	if ns, err := s.Var("node_states"); err == nil {
		t, _ := s.Types()
		if nOnline, err := t.Enumerator("N_ONLINE"); err == nil {
			if m, err := ns.Index(int(nOnline)); err == nil {
				if b, err := m.Bytes(); err == nil {
					nodes = nodes[:0]
					for i, c := range b {
						for bit := 0; bit < 8; bit++ {
							if c&(1<<bit) != 0 {
								nodes = append(nodes, i*8+bit)
							}
						}
					}
				}
			}
		}
	}
	var total uint64
	for _, n := range nodes {
		pgdat, err := s.nodeData(n)
		if err != nil {
			return 0, err
		}
		var pages uint64
		for _, f := range []string{"node_present_pages", "node_spanned_pages"} {
			m, err := pgdat.Member(f)
			if err != nil {
				return 0, err
			}
			if pages, err = m.Uint(); err != nil {
				return 0, err
			}
			if pages != 0 {
				break
			}
		}
		total += pages * uint64(s.Dump.PageSize())
	}
	return total, nil
}

// nodeData is node n's pglist_data: node_data[n] where node_data exists
// (NUMA), contig_page_data for node 0 otherwise (crash's
// next_online_pgdat()).
func (s *Session) nodeData(n int) (symbols.Object, error) {
	if nd, err := s.Var("node_data"); err == nil {
		el, err := nd.Index(n)
		if err != nil {
			return symbols.Object{}, err
		}
		return el.Deref()
	}
	if n != 0 {
		return symbols.Object{}, fmt.Errorf("node %d is online but there is no node_data array", n)
	}
	return s.Var("contig_page_data")
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
