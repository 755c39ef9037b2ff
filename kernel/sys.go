package kernel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gocrash/symbols"
)

// System facts: what crash's sys shows, as values.

// TaintedMask is tainted_mask: the TAINT_* bits (include/linux/panic.h;
// bit 15, TAINT_LIVEPATCH, is crash's [LIVEPATCH]). It is an unsigned long
// in every kernel (kernel/panic.c; crash's get_symbol_data reads it as a
// ulong too): the word at the symbol, without its DWARF entry, which lies a
// few hundred units into a distribution kernel's DWARF (the lazy index
// would scan that far for it).
func (k *Kernel) TaintedMask() (uint64, error) {
	addr, ok := k.Vmlinux.Lookup("tainted_mask")
	if !ok {
		return 0, fmt.Errorf("no symbol \"tainted_mask\" in %s", k.Vmlinux.Path())
	}
	v, err := ReadPointer(k.memory(), addr)
	if err != nil {
		return 0, fmt.Errorf("tainted_mask: %w", err)
	}
	return v, nil
}

// Utsname is init_uts_ns.name (struct new_utsname): uname(2)'s answer.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// Utsname reads init_uts_ns.name.
func (k *Kernel) Utsname() (Utsname, error) {
	var u Utsname
	o, err := k.Var("init_uts_ns")
	if err != nil {
		return u, err
	}
	name, err := o.Member("name")
	if err != nil {
		return u, err
	}
	if name, err = name.Load(); err != nil {
		return u, err
	}
	for _, f := range []struct {
		member string
		dst    *string
	}{{"sysname", &u.Sysname}, {"nodename", &u.Nodename}, {"release", &u.Release},
		{"version", &u.Version}, {"machine", &u.Machine}, {"domainname", &u.Domainname}} {
		m, err := name.Member(f.member)
		if err != nil {
			return Utsname{}, err
		}
		if *f.dst, err = m.CString(); err != nil {
			return Utsname{}, err
		}
	}
	return u, nil
}

// DumpTime is crash's DATE: the xtime seconds of the timekeeper
// (get_xtime(): "timekeeper", else "shadow_timekeeper", which is what
// modern kernels have as a symbol; tk_core.timekeeper is the live copy),
// falling back to the dump's crash time.
func (k *Kernel) DumpTime() (time.Time, error) {
	var firstErr error
	for _, v := range []struct{ sym, path string }{
		{"timekeeper", "xtime_sec"},
		{"shadow_timekeeper", "xtime_sec"},
		{"tk_core", "timekeeper.xtime_sec"},
	} {
		o, err := k.Var(v.sym)
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
	if info := k.Dump.Info(); info != nil && info.CrashTime != 0 {
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
func (k *Kernel) HZ() (uint64, error) {
	o, err := k.Var("tick_nsec")
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
func (k *Kernel) Uptime() (time.Duration, error) {
	hz, err := k.HZ()
	if err != nil {
		return 0, err
	}
	o, err := k.Var("jiffies_64")
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

// FShift is the fixed point of avenrun (kernel/sched/loadavg.c FSHIFT):
// a load of 1.0 is 1<<FShift.
const FShift = 11

// LoadAverage is avenrun[]: the 1, 5 and 15 minute load averages in
// fixed point (FShift bits of fraction).
func (k *Kernel) LoadAverage() ([3]uint64, error) {
	var avg [3]uint64
	o, err := k.Var("avenrun")
	if err != nil {
		return avg, err
	}
	for i := range avg {
		el, err := o.Index(i)
		if err != nil {
			return avg, err
		}
		if avg[i], err = el.Uint(); err != nil {
			return avg, err
		}
	}
	return avg, nil
}

// CPUMHz is crash's x86_64_processor_speed(): cpu_khz / 1000.
func (k *Kernel) CPUMHz() (uint64, error) {
	for _, name := range []string{"cpu_khz", "tsc_khz"} {
		o, err := k.Var(name)
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
func (k *Kernel) MemorySize() (uint64, error) {
	nodes := []int{0}
	if ns, err := k.Var("node_states"); err == nil {
		t, _ := k.Layouts()
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
		pgdat, err := k.nodeData(n)
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
		total += pages * uint64(k.Dump.PageSize())
	}
	return total, nil
}

// nodeData is node n's pglist_data: node_data[n] where node_data exists
// (NUMA), contig_page_data for node 0 otherwise (crash's
// next_online_pgdat()).
func (k *Kernel) nodeData(n int) (symbols.Object, error) {
	if nd, err := k.Var("node_data"); err == nil {
		el, err := nd.Index(n)
		if err != nil {
			return symbols.Object{}, err
		}
		return el.Deref()
	}
	if n != 0 {
		return symbols.Object{}, fmt.Errorf("node %d is online but there is no node_data array", n)
	}
	return k.Var("contig_page_data")
}

// BootTime is crash's boot_date: the dump's date less the uptime in whole
// seconds (task_init(): kt->date - jiffies/HZ). HZ is the kernel's own
// (see HZ); crash 8.0.6 assumes 1000 where it cannot find it.
func (k *Kernel) BootTime() (time.Time, error) {
	date, err := k.DumpTime()
	if err != nil {
		return time.Time{}, err
	}
	up, err := k.Uptime()
	if err != nil {
		return time.Time{}, err
	}
	return date.Add(-up.Truncate(time.Second)), nil
}

// PIDMax is pid_max, the largest pid plus one (kernel/pid.c).
func (k *Kernel) PIDMax() (int32, error) {
	a, ok := k.SymbolAddr("pid_max")
	if !ok {
		return 0, errors.New("no pid_max symbol")
	}
	v, err := k.ReadU32(a)
	return int32(v), err
}

// Sys is what crash's sys shows (kernel.c display_sys_stats()), read once.
// A fact that could not be read is left zero and named in Errors, and the
// others are still read.
type Sys struct {
	Vmlinux, Dump string // the paths the kernel was opened from
	TaintedMask   uint64 // tainted_mask; crash's [TAINTED] when not 0
	Partial       bool   // a filtered dump: crash's [PARTIAL DUMP]
	CPUs          int    // possible cpus (__per_cpu_offset entries)
	OfflineCPUs   int    // CPUs not in __cpu_online_mask (0 when unknown)
	Date          time.Time
	Uptime        time.Duration
	LoadAverage   [3]uint64 // avenrun, fixed point of FShift bits
	Tasks         int
	Utsname       Utsname
	MHz           uint64 // 0 when unknown
	MemorySize    uint64 // bytes
	PageSize      uint64
	Panic         string // crash's PANIC message (Panic.Message)
	// Errors are the facts that could not be read, in sys's order.
	Errors []FieldError
}

// Livepatch is crash's [LIVEPATCH]: the TAINT_LIVEPATCH bit (15) of
// tainted_mask.
func (s *Sys) Livepatch() bool { return s.TaintedMask&(1<<15) != 0 }

// Err is the error of the named fact ("CPUS", "DATE", "UPTIME", "LOAD
// AVERAGE", "TASKS", "utsname", "MEMORY", "PANIC", as sys labels them),
// nil when it was read.
func (s *Sys) Err(field string) error {
	for _, e := range s.Errors {
		if e.Field == field {
			return e.Err
		}
	}
	return nil
}

// A FieldError is a fact of a summary that could not be read.
type FieldError struct {
	Field string
	Err   error
}

func (e FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e FieldError) Unwrap() error { return e.Err }

// Sys reads the facts of crash's sys block.
func (k *Kernel) Sys(ctx context.Context) (*Sys, error) {
	s := &Sys{Vmlinux: k.VmlinuxPath, Dump: k.DumpPath, Partial: k.Dump.Partial(), PageSize: uint64(k.Dump.PageSize())}
	fail := func(field string, err error) {
		s.Errors = append(s.Errors, FieldError{field, err})
	}
	s.TaintedMask, _ = k.TaintedMask()
	var err error
	if s.CPUs, err = k.NumCPUs(); err != nil {
		fail("CPUS", err)
	} else if online, err := k.CPUMask("__cpu_online_mask"); err == nil && len(online) > 0 {
		s.OfflineCPUs = s.CPUs - len(online)
	}
	if s.Date, err = k.DumpTime(); err != nil {
		fail("DATE", err)
	}
	if s.Uptime, err = k.Uptime(); err != nil {
		fail("UPTIME", err)
	}
	if s.LoadAverage, err = k.LoadAverage(); err != nil {
		fail("LOAD AVERAGE", err)
	}
	if s.Tasks, err = k.CountTasks(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fail("TASKS", err)
	}
	if s.Utsname, err = k.Utsname(); err != nil {
		fail("utsname", err)
	}
	s.MHz, _ = k.CPUMHz()
	if s.MemorySize, err = k.MemorySize(); err != nil {
		fail("MEMORY", err)
	}
	p, err := k.Panic(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fail("PANIC", err)
	} else {
		s.Panic = p.Message
	}
	return s, nil
}
