package commands

import (
	"context"
	"errors"
	"fmt"

	"gocrash/kernel"
	"gocrash/symbols"
)

// Task walkers, drgn style: one small function per kernel list. Tasks are
// task_struct addresses. Offsets come from DWARF; a corrupt list ends the
// walk with an error naming the list and the entry instead of looping:
// every walk detects a cycle (Brent's algorithm, no memory per entry),
// checks each next pointer is a kernel address, and stops after maxTasks.

// maxTasks bounds every list walk (kernel.MaxListEntries).
const maxTasks = kernel.MaxListEntries

// taskLayout are the offsets the walkers need. Thread groups are linked
// either through signal_struct.thread_head/task_struct.thread_node (3.14
// and later) or only through the headless task_struct.thread_group ring
// (older kernels; 6.7 removed it): whichever DWARF shows is used.
type taskLayout struct {
	tasks       int64 // task_struct.tasks (list_head)
	signal      int64 // task_struct.signal
	threadHead  int64 // signal_struct.thread_head, -1 when absent
	threadNode  int64 // task_struct.thread_node, -1 when absent
	threadGroup int64 // task_struct.thread_group, -1 when absent
}

func layoutFrom(t *symbols.Types) (taskLayout, error) {
	l := taskLayout{threadHead: -1, threadNode: -1, threadGroup: -1}
	var err error
	if l.tasks, err = t.Offset("task_struct.tasks"); err != nil {
		return l, err
	}
	if l.signal, err = t.Offset("task_struct.signal"); err != nil {
		return l, err
	}
	if t.HasMember("signal_struct", "thread_head") && t.HasMember("task_struct", "thread_node") {
		l.threadHead, _ = t.Offset("signal_struct.thread_head")
		l.threadNode, _ = t.Offset("task_struct.thread_node")
		return l, nil
	}
	if l.threadGroup, err = t.Offset("task_struct.thread_group"); err != nil {
		return l, fmt.Errorf("cannot walk thread groups: task_struct has neither thread_node nor thread_group: %w", err)
	}
	return l, nil
}

func (s *Session) taskLayout() (taskLayout, error) {
	t, err := s.Types()
	if err != nil {
		return taskLayout{}, err
	}
	return layoutFrom(t)
}

// taskWalker walks the kernel's task lists through one memory view (the
// dump's, or in tests a view with a corrupted list).
type taskWalker struct {
	ctx  context.Context
	mem  symbols.Memory
	l    taskLayout
	init uint64 // init_task
}

func (s *Session) walker() (*taskWalker, error) {
	l, err := s.taskLayout()
	if err != nil {
		return nil, err
	}
	init, err := s.InitTask()
	if err != nil {
		return nil, err
	}
	return &taskWalker{ctx: s.Ctx(), mem: s.Mem, l: l, init: init}, nil
}

func readPtr(mem symbols.Memory, addr uint64) (uint64, error) { return kernel.ReadPointer(mem, addr) }

func (s *Session) readPtr(addr uint64) (uint64, error) { return readPtr(s.Mem, addr) }

// walkList is kernel.WalkList.
func walkList(ctx context.Context, mem symbols.Memory, head uint64, what string, fn func(node uint64) error) error {
	return kernel.WalkList(ctx, mem, head, what, fn)
}

func (s *Session) walkList(head uint64, what string, fn func(node uint64) error) error {
	return walkList(s.Ctx(), s.Mem, head, what, fn)
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

func (w *taskWalker) forEachProcess(fn func(task uint64) error) error {
	err := walkList(w.ctx, w.mem, w.init+uint64(w.l.tasks), "init_task.tasks", func(node uint64) error {
		return fn(node - uint64(w.l.tasks))
	})
	if err == errStop {
		return nil
	}
	return err
}

func (w *taskWalker) forEachThread(leader uint64, fn func(task uint64) error) error {
	if w.l.threadHead < 0 {
		// The thread_group ring has no head: start at the leader.
		if err := fn(leader); err != nil {
			return err
		}
		return walkList(w.ctx, w.mem, leader+uint64(w.l.threadGroup), "task_struct.thread_group", func(node uint64) error {
			return fn(node - uint64(w.l.threadGroup))
		})
	}
	sig, err := readPtr(w.mem, leader+uint64(w.l.signal))
	if err != nil {
		return fmt.Errorf("task %#x: signal: %w", leader, err)
	}
	if sig == 0 {
		return fn(leader)
	}
	return walkList(w.ctx, w.mem, sig+uint64(w.l.threadHead), "signal_struct.thread_head", func(node uint64) error {
		return fn(node - uint64(w.l.threadNode))
	})
}

func (w *taskWalker) forEachTask(fn func(task uint64) error) error {
	err := w.forEachProcess(func(leader uint64) error {
		return w.forEachThread(leader, fn)
	})
	if err == errStop {
		return nil
	}
	return err
}

// ForEachProcess calls fn with every thread group leader on init_task's
// tasks list (for_each_process; init_task itself is not included).
func (s *Session) ForEachProcess(fn func(task uint64) error) error {
	w, err := s.walker()
	if err != nil {
		return err
	}
	return w.forEachProcess(fn)
}

// ForEachThread calls fn with every thread of leader's thread group, the
// leader included (for_each_thread).
func (s *Session) ForEachThread(leader uint64, fn func(task uint64) error) error {
	w, err := s.walker()
	if err != nil {
		return err
	}
	return w.forEachThread(leader, fn)
}

// ForEachTask calls fn with every thread of every process (not the idle
// tasks).
func (s *Session) ForEachTask(fn func(task uint64) error) error {
	w, err := s.walker()
	if err != nil {
		return err
	}
	return w.forEachTask(fn)
}

// IdleTasks returns each cpu's idle task (runqueues.idle), index = cpu,
// for the cpus crash counts (NumCPUs). cpu 0's is init_task. Crash lists
// them as swapper/N with pid 0: they are on no task list.
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

// ActiveTask is the task running on cpu at the time of the dump as crash
// sees it (runqueues.curr, get_active_set()): ps marks it with ">".
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

// CurrentTask is the kernel's own "current" on cpu: the per-cpu
// current_task, which 6.2 moved into struct pcpu_hot. It differs from
// ActiveTask only inside a context switch (rq->curr is updated before
// switch_to), when it names the task whose stack the cpu runs on.
func (s *Session) CurrentTask(cpu int) (uint64, error) {
	if _, ok := s.Vmlinux.Lookup("pcpu_hot"); ok {
		o, err := s.PerCPU("pcpu_hot", cpu)
		if err != nil {
			return 0, err
		}
		m, err := o.Member("current_task")
		if err != nil {
			return 0, err
		}
		return m.Pointer()
	}
	o, err := s.PerCPU("current_task", cpu)
	if err != nil {
		return 0, err
	}
	return o.Pointer()
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
// crashing_cpu.
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
	return s.taskPGD(task)
}

// taskPGD is task's mm->pgd; a kernel thread has none.
func (s *Session) taskPGD(task uint64) (uint64, error) {
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
