package kernel

import (
	"errors"
	"fmt"
)

// Per-task facts ps and runq show beside the task table.

// TotalPages is crash's vt->total_pages, the divisor of ps's %MEM: the
// pages of the direct map up to high_memory, plus highmem pages where the
// kernel has them.
func (k *Kernel) TotalPages() (uint64, error) {
	o, err := k.Var("high_memory")
	if err != nil {
		return 0, err
	}
	hm, err := o.Pointer()
	if err != nil {
		return 0, err
	}
	po := k.PageOffset()
	if hm < po {
		return 0, fmt.Errorf("high_memory %#x lies below the direct map at %#x", hm, po)
	}
	pages := (hm - po) / uint64(k.Dump.PageSize())
	for _, name := range []string{"_totalhigh_pages", "totalhigh_pages"} {
		if o, err := k.Var(name); err == nil {
			if m, err := o.Member("counter"); err == nil {
				o = m
			}
			if v, err := o.Uint(); err == nil {
				pages += v
			}
			break
		}
	}
	return pages, nil
}

// ErrNoLastRun is TaskLastRun's error on a kernel that keeps no last-run
// timestamp.
var ErrNoLastRun = errors.New("last-run timestamps do not exist in this kernel")

// TaskLastRun is crash's task_last_run(): task_struct.last_run,
// .timestamp, or .sched_info.last_arrival (current kernels), whichever the
// kernel has, in nanoseconds of its runqueue clock.
func (k *Kernel) TaskLastRun(task uint64) (uint64, error) {
	o, err := k.Object(task, "task_struct")
	if err != nil {
		return 0, err
	}
	for _, name := range []string{"last_run", "timestamp", "sched_info.last_arrival"} {
		if m, err := o.Member(name); err == nil {
			return m.Uint()
		}
	}
	return 0, ErrNoLastRun
}

// HasLastRun reports whether the kernel keeps a task's last-run timestamp
// (TaskLastRun): crash then adds the builtin alias "last" for "ps -l"
// (task.c task_init).
func (k *Kernel) HasLastRun() bool {
	if k == nil || k.Vmlinux == nil {
		return false
	}
	t, err := k.Layouts()
	if err != nil {
		return false
	}
	for _, p := range []string{"task_struct.last_run", "task_struct.timestamp", "task_struct.sched_info.last_arrival"} {
		if _, err := t.Offset(p); err == nil {
			return true
		}
	}
	return false
}

// rlimitNames are the RLIMIT_* of include/uapi/asm-generic/resource.h in
// order, as crash's show_task_rlimit names them.
var rlimitNames = []string{"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK",
	"AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"}

// RlimInfinity is RLIM_INFINITY: no limit.
const RlimInfinity = ^uint64(0)

// An Rlimit is one entry of a task's resource limits.
type Rlimit struct {
	Name     string // "CPU", "FSIZE", ...; "(unknown)" past RLIMIT_RTTIME
	Cur, Max uint64 // rlim_cur, rlim_max; RlimInfinity for none
}

// Rlimits reads the task's resource limits: signal->rlim (task_struct.rlim
// on kernels before 2.6.33).
func (k *Kernel) Rlimits(task uint64) ([]Rlimit, error) {
	o, err := k.Object(task, "task_struct")
	if err != nil {
		return nil, err
	}
	rlim, err := o.Member("rlim")
	if err != nil {
		sig, err := o.Member("signal")
		if err != nil {
			return nil, err
		}
		if sig, err = sig.Deref(); err != nil {
			return nil, err
		}
		if rlim, err = sig.Member("rlim"); err != nil {
			return nil, fmt.Errorf("cannot determine rlimit array location")
		}
	}
	n := rlim.Len()
	if n <= 0 {
		return nil, fmt.Errorf("cannot determine rlimit array size")
	}
	if rlim, err = rlim.Load(); err != nil {
		return nil, err
	}
	out := make([]Rlimit, 0, n)
	for i := 0; i < n; i++ {
		r := Rlimit{Name: "(unknown)"}
		if i < len(rlimitNames) {
			r.Name = rlimitNames[i]
		}
		el, err := rlim.Index(i)
		if err != nil {
			return nil, err
		}
		for _, f := range []struct {
			dst  *uint64
			name string
		}{{&r.Cur, "rlim_cur"}, {&r.Max, "rlim_max"}} {
			m, err := el.Member(f.name)
			if err != nil {
				return nil, err
			}
			if *f.dst, err = m.Uint(); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}
