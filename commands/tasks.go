package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Task walkers, drgn style: one small function per kernel list. Tasks are
// task_struct addresses. Offsets come from DWARF; a corrupt list ends the
// walk with an error instead of looping (maxTasks).

// maxTasks bounds every list walk; pid_max is at most 4M (PID_MAX_LIMIT).
const maxTasks = 1 << 22

// taskLayout are the task_struct offsets the walkers need.
type taskLayout struct {
	tasks      int64 // task_struct.tasks (list_head)
	signal     int64 // task_struct.signal
	threadHead int64 // signal_struct.thread_head
	threadNode int64 // task_struct.thread_node
}

func (s *Session) taskLayout() (taskLayout, error) {
	t, err := s.Types()
	if err != nil {
		return taskLayout{}, err
	}
	var l taskLayout
	for _, f := range []struct {
		dst  *int64
		path string
	}{
		{&l.tasks, "task_struct.tasks"},
		{&l.signal, "task_struct.signal"},
		{&l.threadHead, "signal_struct.thread_head"},
		{&l.threadNode, "task_struct.thread_node"},
	} {
		if *f.dst, err = t.Offset(f.path); err != nil {
			return taskLayout{}, err
		}
	}
	return l, nil
}

func (s *Session) readPtr(addr uint64) (uint64, error) {
	var b [8]byte
	if err := s.Mem.ReadVirt(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// walkList calls fn with each entry of the circular list whose head is at
// head, as the address of the list_head inside the entry.
func (s *Session) walkList(head uint64, what string, fn func(node uint64) error) error {
	node, err := s.readPtr(head)
	if err != nil {
		return fmt.Errorf("%s: list head at %#x: %w", what, head, err)
	}
	for n := 0; node != head; n++ {
		if n >= maxTasks {
			return fmt.Errorf("%s: list at %#x does not return to its head after %d entries", what, head, n)
		}
		if node == 0 {
			return fmt.Errorf("%s: NULL next pointer in list at %#x after %d entries", what, head, n)
		}
		if err := fn(node); err != nil {
			return err
		}
		if node, err = s.readPtr(node); err != nil {
			return fmt.Errorf("%s: list entry after %d: %w", what, n, err)
		}
	}
	return nil
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// InitTask is the address of init_task (swapper/0).
func (s *Session) InitTask() (uint64, error) {
	a, ok := s.Vmlinux.Lookup("init_task")
	if !ok {
		return 0, errors.New("no init_task symbol")
	}
	return a, nil
}

// ForEachProcess calls fn with every thread group leader on init_task's
// tasks list (for_each_process; init_task itself is not included).
func (s *Session) ForEachProcess(fn func(task uint64) error) error {
	l, err := s.taskLayout()
	if err != nil {
		return err
	}
	init, err := s.InitTask()
	if err != nil {
		return err
	}
	err = s.walkList(init+uint64(l.tasks), "init_task.tasks", func(node uint64) error {
		return fn(node - uint64(l.tasks))
	})
	if err == errStop {
		return nil
	}
	return err
}

// ForEachThread calls fn with every thread of leader's thread group, the
// leader included (for_each_thread: signal->thread_head).
func (s *Session) ForEachThread(leader uint64, fn func(task uint64) error) error {
	l, err := s.taskLayout()
	if err != nil {
		return err
	}
	sig, err := s.readPtr(leader + uint64(l.signal))
	if err != nil {
		return fmt.Errorf("task %#x: signal: %w", leader, err)
	}
	if sig == 0 {
		return fn(leader)
	}
	return s.walkList(sig+uint64(l.threadHead), "signal_struct.thread_head", func(node uint64) error {
		return fn(node - uint64(l.threadNode))
	})
}

// ForEachTask calls fn with every thread of every process (not the idle
// tasks).
func (s *Session) ForEachTask(fn func(task uint64) error) error {
	err := s.ForEachProcess(func(leader uint64) error {
		return s.ForEachThread(leader, fn)
	})
	if err == errStop {
		return nil
	}
	return err
}

// IdleTasks returns each cpu's idle task (runqueues.idle), index = cpu,
// for the cpus crash counts (NumCPUs). cpu 0's is init_task.
func (s *Session) IdleTasks() ([]uint64, error) {
	n, err := s.NumCPUs()
	if err != nil {
		return nil, err
	}
	idle := make([]uint64, 0, n)
	for cpu := 0; cpu < n; cpu++ {
		rq, err := s.PerCPU("runqueues", cpu)
		if err != nil {
			return nil, err
		}
		m, err := rq.Member("idle")
		if err != nil {
			return nil, err
		}
		p, err := m.Pointer()
		if err != nil {
			return nil, err
		}
		idle = append(idle, p)
	}
	return idle, nil
}

// ActiveTask is the task running on cpu at the time of the dump
// (runqueues.curr).
func (s *Session) ActiveTask(cpu int) (uint64, error) {
	rq, err := s.PerCPU("runqueues", cpu)
	if err != nil {
		return 0, err
	}
	m, err := rq.Member("curr")
	if err != nil {
		return 0, err
	}
	return m.Pointer()
}

// CountTasks is crash's TASKS: every thread plus the idle task of every
// cpu (crash's task table holds both; swapper/0 is init_task).
func (s *Session) CountTasks() (int, error) {
	n := 0
	if err := s.ForEachTask(func(uint64) error { n++; return nil }); err != nil {
		return 0, err
	}
	idle, err := s.IdleTasks()
	if err != nil {
		return 0, err
	}
	seen := map[uint64]bool{}
	for _, t := range idle {
		if t != 0 && !seen[t] {
			seen[t] = true
			n++
		}
	}
	return n, nil
}

// PanicCPU is the cpu that panicked: panic_cpu (kernel/panic.c), else x86's
// crashing_cpu, else the first cpu note of the dump.
func (s *Session) PanicCPU() (int, error) {
	for _, name := range []string{"panic_cpu", "crashing_cpu"} {
		o, err := s.Var(name)
		if err != nil {
			continue
		}
		if m, err := o.Member("counter"); err == nil { // atomic_t
			o = m
		}
		if v, err := o.Int(); err == nil && v >= 0 {
			return int(v), nil
		}
	}
	return 0, errors.New("cannot tell which cpu panicked: panic_cpu and crashing_cpu are unset")
}

// PanicTask is the task that was running on the panicking cpu.
func (s *Session) PanicTask() (uint64, error) {
	cpu, err := s.PanicCPU()
	if err != nil {
		return 0, err
	}
	return s.ActiveTask(cpu)
}

// Context is the task commands act on by default: the panic task until
// SetContext chooses another (crash's "set").
func (s *Session) Context() (uint64, error) {
	s.ctxMu.Lock()
	t := s.ctxTask
	s.ctxMu.Unlock()
	if t != 0 {
		return t, nil
	}
	t, err := s.PanicTask()
	if err != nil {
		return 0, err
	}
	s.SetContext(t)
	return t, nil
}

// SetContext makes task the current context.
func (s *Session) SetContext(task uint64) {
	s.ctxMu.Lock()
	s.ctxTask = task
	s.ctxMu.Unlock()
}

// contextPGD is the page table root (mm->pgd, a kernel virtual address)
// of the current context, for user virtual reads.
func (s *Session) contextPGD() (uint64, error) {
	task, err := s.Context()
	if err != nil {
		return 0, err
	}
	o, err := s.Object(task, "task_struct")
	if err != nil {
		return 0, err
	}
	mm, err := o.Member("mm")
	if err != nil {
		return 0, err
	}
	mmp, err := mm.Pointer()
	if err != nil {
		return 0, err
	}
	if mmp == 0 {
		return 0, fmt.Errorf("task %#x is a kernel thread: no user address space", task)
	}
	mmo, err := s.Object(mmp, "mm_struct")
	if err != nil {
		return 0, err
	}
	pgd, err := mmo.Member("pgd")
	if err != nil {
		return 0, err
	}
	return pgd.Pointer()
}
