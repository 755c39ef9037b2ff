package commands

// What bt needs to know of a task: its PID, name, CPU and stack, whether
// it was running when the dump was taken, and the task table crash
// resolves "bt PID" and "bt TASK" arguments against.

import (
	"strconv"
	"strings"
)

// btTask is one task as bt's header shows it.
type btTask struct {
	Task     uint64
	PID      int64
	Comm     string
	CPU      int
	Stack    uint64 // task_struct.stack
	ThreadSP uint64 // task_struct.thread.sp: the inactive_task_frame of a switched-out task
	Kthread  bool   // PF_KTHREAD, or no mm: crash's is_kernel_thread()
}

// btTaskInfo reads what bt shows of the task_struct at task.
func (s *Session) btTaskInfo(task uint64) (btTask, error) {
	bt := btTask{Task: task}
	o, err := s.Object(task, "task_struct")
	if err != nil {
		return bt, err
	}
	// Members are read one by one, not the whole task_struct: its tail
	// may lie on a page makedumpfile left out.
	get := func(path string) (uint64, error) {
		m, err := o.Member(path)
		if err != nil {
			return 0, err
		}
		if p, err := m.Pointer(); err == nil {
			return p, nil
		}
		return m.Uint()
	}
	pid, err := o.Member("pid")
	if err != nil {
		return bt, err
	}
	if bt.PID, err = pid.Int(); err != nil {
		return bt, err
	}
	comm, err := o.Member("comm")
	if err != nil {
		return bt, err
	}
	if bt.Comm, err = comm.CString(); err != nil {
		return bt, err
	}
	// The cpu moved from thread_info into task_struct and back over the
	// years (include/linux/sched.h; arch/x86/include/asm/thread_info.h).
	cpuPath := "cpu"
	if t, err := s.Types(); err == nil && !t.HasMember("task_struct", "cpu") {
		cpuPath = "thread_info.cpu"
	}
	cpu, err := get(cpuPath)
	if err != nil {
		return bt, err
	}
	bt.CPU = int(cpu)
	if bt.Stack, err = get("stack"); err != nil {
		return bt, err
	}
	if bt.ThreadSP, err = get("thread.sp"); err != nil {
		return bt, err
	}
	flags, err := get("flags")
	if err != nil {
		return bt, err
	}
	mm, err := get("mm")
	if err != nil {
		return bt, err
	}
	bt.Kthread = flags&pfKThread != 0 || mm == 0
	return bt, nil
}

// btTable is the task table of one bt command: every thread and the idle
// task of every cpu, as crash's task table holds them.
type btTable struct {
	tasks  []uint64 // idle tasks first, in cpu order, then the others
	byTask map[uint64]bool
	pids   map[int64][]uint64
	// active maps a task running on a cpu at the time of the dump to that
	// cpu (crash's panic_threads[]: runqueues.curr of each cpu).
	active map[uint64]int
	cpus   int
}

func (s *Session) btTaskTable() (*btTable, error) {
	tb := &btTable{byTask: map[uint64]bool{}, pids: map[int64][]uint64{}, active: map[uint64]int{}}
	idle, err := s.IdleTasks()
	if err != nil {
		return nil, err
	}
	tb.cpus = len(idle)
	add := func(task uint64) error {
		if task == 0 || tb.byTask[task] {
			return nil
		}
		o, err := s.Object(task, "task_struct")
		if err != nil {
			return err
		}
		m, err := o.Member("pid")
		if err != nil {
			return err
		}
		pid, err := m.Int()
		if err != nil {
			return err
		}
		tb.byTask[task] = true
		tb.tasks = append(tb.tasks, task)
		tb.pids[pid] = append(tb.pids[pid], task)
		return nil
	}
	for _, t := range idle {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	if err := s.ForEachTask(add); err != nil {
		return nil, err
	}
	for cpu := 0; cpu < tb.cpus; cpu++ {
		if t, err := s.ActiveTask(cpu); err == nil && t != 0 {
			if _, dup := tb.active[t]; !dup {
				tb.active[t] = cpu
			}
		}
	}
	return tb, nil
}

// resolve is crash's str_to_context(): an argument is a PID when it is
// decimal and such a PID exists, else a task_struct address when it is
// hexadecimal and such a task exists; a word that is both a decimal PID
// and a hexadecimal PID means the decimal one. It returns the tasks the
// argument names (PID 0 names every cpu's idle task), or nil.
func (tb *btTable) resolve(arg string) []uint64 {
	const bad = ^uint64(0)
	dv, hv := bad, bad
	if isDecWord(arg) {
		if v, err := strconv.ParseUint(arg, 10, 64); err == nil {
			dv = v
		}
	}
	if isHexWord(arg) {
		h := arg
		if strings.HasPrefix(h, "0x") || strings.HasPrefix(h, "0X") {
			h = h[2:]
		}
		if len(h) <= 16 {
			if v, err := strconv.ParseUint(h, 16, 64); err == nil {
				hv = v
			}
		}
	}
	var dp, dt, hp, ht []uint64
	found := 0
	look := func(v uint64) (p, t []uint64) {
		if v <= 1<<31 {
			p = tb.pids[int64(v)]
		}
		if tb.byTask[v] {
			t = []uint64{v}
		}
		if p != nil {
			found++
		}
		if t != nil {
			found++
		}
		return p, t
	}
	if dv != bad {
		dp, dt = look(dv)
	}
	if hv != bad && hv != dv {
		hp, ht = look(hv)
	}
	switch found {
	case 1:
		for _, r := range [][]uint64{dp, dt, hp, ht} {
			if r != nil {
				return r
			}
		}
	case 2:
		if dp != nil && hp != nil {
			return dp
		}
	}
	return nil
}
