package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"gocrash/symbols"
)

// TaskStates are the kernel's task state bits, read from
// fs/proc/array.c's task_state_array so that no kernel version is assumed
// (crash's initialize_task_state): each is the bit of task_struct's state
// (__state | exit_state), -1 where the kernel has no such state. Dead
// holds EXIT_DEAD and, where the kernel has it, TASK_DEAD.
type TaskStates struct {
	Running, Interruptible, Uninterruptible, Stopped, Traced, Dead, Zombie,
	Parked, Wakekill, Waking, NoLoad, New, Swapping, Exclusive int64
}

// Has tells whether the kernel has the state bit (it is not -1).
func Has(bit int64) bool { return bit >= 0 }

// IsZombie tells whether a task state is EXIT_ZOMBIE.
func (st *TaskStates) IsZombie(state uint64) bool {
	return Has(st.Zombie) && state&uint64(st.Zombie) != 0
}

// taskStateNames reads fs/proc/array.c's task_state_array, an array of
// string pointers. Its length comes from the ELF symbol's size when there is
// one: the array is static and defined in one late compile unit, whose DWARF
// the lazy type index would otherwise have to reach.
func (k *Kernel) taskStateNames() ([]string, error) {
	if sym, ok := k.Vmlinux.LookupSymbol("task_state_array"); ok && sym.Size > 0 && sym.Size%8 == 0 && sym.Size <= 64*8 {
		names := make([]string, 0, sym.Size/8)
		for i := uint64(0); i < sym.Size/8; i++ {
			p, err := ReadPointer(k.memory(), sym.Addr+8*i)
			if err != nil {
				return nil, fmt.Errorf("task_state_array[%d]: %w", i, err)
			}
			name, err := symbols.ReadCString(k.memory(), p, 64)
			if err != nil && !k.NoDebuginfo() {
				return nil, fmt.Errorf("task_state_array[%d]: %w", i, err)
			}
			if k.NoDebuginfo() && !isStateName(name) {
				// Without the vmlinux the size is kallsyms' distance to
				// the next symbol, an upper bound: the array ends at the
				// first entry that is not one of its "X (name)" strings.
				break
			}
			names = append(names, name)
		}
		return names, nil
	}
	arr, err := k.Var("task_state_array")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, max(arr.Len(), 0))
	for i := 0; i < arr.Len(); i++ {
		el, err := arr.Index(i)
		if err != nil {
			return nil, err
		}
		name, err := el.CString()
		if err != nil {
			return nil, fmt.Errorf("task_state_array[%d]: %w", i, err)
		}
		names = append(names, name)
	}
	return names, nil
}

// isStateName reports whether name has the form of fs/proc/array.c's
// task_state_array entries: a letter, " (", a word, ")".
func isStateName(name string) bool {
	return len(name) >= 5 && name[1] == ' ' && name[2] == '(' && name[len(name)-1] == ')'
}

// TaskStates reads the task state bits (once; later calls share them).
// Without task_state_array they are crash's "old defaults" (2.4 kernels).
func (k *Kernel) TaskStates() *TaskStates {
	k.statesOnce.Do(func() { k.states = k.readTaskStates() })
	return k.states
}

func (k *Kernel) readTaskStates() *TaskStates {
	st := &TaskStates{Running: -1, Interruptible: -1, Uninterruptible: -1, Stopped: -1, Traced: -1, Dead: -1,
		Zombie: -1, Parked: -1, Wakekill: -1, Waking: -1, NoLoad: -1, New: -1, Swapping: -1, Exclusive: -1}
	names, err := k.taskStateNames()
	if err != nil || len(names) == 0 {
		// crash's "old defaults" (2.4 kernels).
		*st = TaskStates{Running: 0, Interruptible: 1, Uninterruptible: 2, Zombie: 4, Stopped: 8, Swapping: 16, Exclusive: 32,
			Traced: -1, Dead: -1, Parked: -1, Wakekill: -1, Waking: -1, NoLoad: -1, New: -1}
		return st
	}
	var bit int64
	for _, name := range names {
		or := func(dst *int64) {
			if *dst < 0 {
				*dst = bit
			} else {
				*dst |= bit
			}
		}
		switch {
		case strings.Contains(name, "(running)"):
			st.Running = bit
		case strings.Contains(name, "(sleeping)"):
			st.Interruptible = bit
		case strings.Contains(name, "(disk sleep)"):
			st.Uninterruptible = bit
		case strings.Contains(name, "(stopped)"):
			st.Stopped = bit
		case strings.Contains(name, "(zombie)"):
			st.Zombie = bit
		case strings.Contains(name, "(dead)"):
			or(&st.Dead)
		case strings.Contains(name, "(swapping)"):
			st.Swapping = bit
		case strings.Contains(name, "(tracing stop)"):
			or(&st.Traced)
		case strings.Contains(name, "(wakekill)"):
			st.Wakekill = bit
		case strings.Contains(name, "(waking)"):
			st.Waking = bit
		case strings.Contains(name, "(parked)"):
			st.Parked = bit
		}
		if bit == 0 {
			bit = 1
		} else {
			bit <<= 1
		}
	}
	switch {
	case st.Parked > 0:
		// "P (parked)" is reported since 4.14; the states after it are
		// not in the array but follow it in include/linux/sched.h.
		st.Dead |= st.Parked << 1 // TASK_DEAD
		st.Wakekill = st.Parked << 2
		st.Waking = st.Parked << 3
		st.NoLoad = st.Parked << 4
		st.New = st.Parked << 5
	case st.Dead > 0 && st.Dead&(st.Dead-1) == 0:
		// 2.6.32-4.13: EXIT_DEAD only; TASK_DEAD, TASK_WAKEKILL and
		// TASK_WAKING follow it.
		bit := st.Dead
		st.Dead |= bit << 1
		st.Wakekill = bit << 2
		st.Waking = bit << 3
	}
	return st
}

// TaskMemory is crash's struct task_memory_usage: what ps shows of a
// task's address space.
type TaskMemory struct {
	TotalVM uint64  // pages
	RSS     uint64  // pages
	PctMem  float64 // RSS in percent of the system's pages
}

// taskMemReader is what TaskMemory reads by, found once.
type taskMemReader struct {
	states     *TaskStates
	rss        MMCounters
	splitRSS   bool
	totalPages uint64
	tasks      *TaskTable
}

func (k *Kernel) taskMem(ctx context.Context) (*taskMemReader, error) {
	k.taskMemMu.Lock()
	defer k.taskMemMu.Unlock()
	if k.taskMemR != nil {
		return k.taskMemR, nil
	}
	// An error is not kept: a cancelled context is tried again.
	r := &taskMemReader{splitRSS: k.HasSplitRSS(), states: k.TaskStates()}
	var err error
	if r.rss, err = k.RSSCounters(); err != nil {
		return nil, err
	}
	if r.totalPages, err = k.TotalPages(); err != nil {
		return nil, err
	}
	if r.tasks, err = k.Tasks(ctx); err != nil {
		return nil, err
	}
	k.taskMemR = r
	return r, nil
}

// TaskMemory is crash's get_task_mem_usage(): the task's mm's total_vm
// and RSS (file + anon + shmem counters, plus the thread group's split
// RSS counts on kernels that keep them), and RSS as a share of the
// system's pages. A zombie, a task without mm and an exiting one whose mm
// is gone use none.
func (k *Kernel) TaskMemory(ctx context.Context, t *Task) (TaskMemory, error) {
	var m TaskMemory
	r, err := k.taskMem(ctx)
	if err != nil {
		return m, err
	}
	if r.states.IsZombie(t.State) {
		return m, nil
	}
	if t.MM == 0 {
		return m, nil
	}
	mm, err := k.Object(t.MM, "mm_struct")
	if err != nil {
		return m, err
	}
	if mm, err = mm.Load(); err != nil {
		return m, err
	}
	cnt, err := mm.Member("mm_count.counter")
	if err != nil {
		return m, err
	}
	mmCount, err := cnt.Int()
	if err != nil {
		return m, err
	}
	if t.Flags&PFExiting != 0 && mmCount <= 0 {
		return m, nil
	}
	var rss int64
	rs, err := mm.Member("rss_stat")
	if err != nil {
		return m, err
	}
	if c, err := rs.Member("count"); err == nil {
		// struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; }
		for _, i := range []int64{r.rss.File, r.rss.Anon, r.rss.Shmem} {
			if i < 0 {
				continue
			}
			el, err := c.Index(int(i))
			if err != nil {
				return m, err
			}
			if el, err = el.Member("counter"); err != nil {
				return m, err
			}
			v, err := el.Int()
			if err != nil {
				return m, err
			}
			if v > 0 { // updated asynchronously: may be negative
				rss += v
			}
		}
	} else {
		// 6.2: struct percpu_counter rss_stat[NR_MM_COUNTERS].
		for _, i := range []int64{r.rss.File, r.rss.Anon, r.rss.Shmem} {
			if i < 0 {
				continue
			}
			el, err := rs.Index(int(i))
			if err != nil {
				return m, err
			}
			v, err := k.percpuCounterSumPositive(el)
			if err != nil {
				return m, err
			}
			rss += v
		}
	}
	if r.splitRSS {
		rss += r.tasks.GroupRSS(t.TGID)
	}
	tv, err := mm.Member("total_vm")
	if err != nil {
		return m, err
	}
	if m.TotalVM, err = tv.Uint(); err != nil {
		return m, err
	}
	m.RSS = uint64(rss)
	if t.KernelThread() && m.RSS == 0 {
		return m, nil
	}
	if r.totalPages > 0 {
		m.PctMem = float64(m.RSS*100) / float64(r.totalPages)
	}
	return m, nil
}

// percpuCounterSumPositive is percpu_counter_sum_positive()
// (include/linux/percpu_counter.h): count plus every cpu's s32 delta, 0
// when negative. The cpus are crash's (NumCPUs).
func (k *Kernel) percpuCounterSumPositive(fbc symbols.Object) (int64, error) {
	c, err := fbc.Member("count")
	if err != nil {
		return 0, err
	}
	sum, err := c.Int()
	if err != nil {
		return 0, err
	}
	if pc, err := fbc.Member("counters"); err == nil { // CONFIG_SMP
		base, err := pc.Pointer()
		if err != nil {
			return 0, err
		}
		n, err := k.NumCPUs()
		if err != nil {
			return 0, err
		}
		for cpu := 0; cpu < n; cpu++ {
			off, err := k.PerCPUOffset(cpu)
			if err != nil {
				return 0, err
			}
			var b [4]byte
			if err := k.memory().ReadVirt(b[:], base+off); err != nil {
				return 0, fmt.Errorf("percpu_counter.counters of cpu %d at %#x: %w", cpu, base+off, err)
			}
			sum += int64(int32(binary.LittleEndian.Uint32(b[:])))
		}
	}
	return max(sum, 0), nil
}
