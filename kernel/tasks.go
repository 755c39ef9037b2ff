package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gocrash/symbols"
)

// Tasks: the kernel's task lists (for_each_process, for_each_thread) and
// the task table crash keeps (struct task_context in crash's defs.h,
// filled by add_context() in task.c). Offsets come from DWARF; a corrupt
// list ends the walk with an error naming the list and the entry instead
// of looping (WalkList).

// PF_* of include/linux/sched.h; these values have not changed since
// PF_KTHREAD appeared in 2.6.27.
const (
	PFExiting = 0x00000004 // PF_EXITING
	PFKThread = 0x00200000 // PF_KTHREAD
)

// A Task is one entry of the task table.
type Task struct {
	Addr   uint64 // task_struct
	PID    int64
	TGID   int64
	Comm   string
	CPU    int    // thread_info.cpu or task_struct.cpu
	Parent uint64 // task_struct.parent (crash's PPID: the ptrace parent, normally real_parent)
	MM     uint64
	State  uint64 // __state (state before 5.14) | exit_state
	Flags  uint64 // PF_*
	Idle   bool   // an idle task (swapper/N): pid 0, on no task list

	// SplitRSS is the task's own cached RSS counts (task_struct.rss_stat,
	// SPLIT_RSS_COUNTING before 6.2) for file, anon and shmem pages, the
	// positive ones summed: not yet folded into its mm's counters.
	SplitRSS int64
}

// KernelThread is crash's is_kernel_thread(): PF_KTHREAD.
func (t *Task) KernelThread() bool { return t.Flags&PFKThread != 0 }

// A TaskTable is crash's task table: the idle task of every cpu and every
// thread of every process, sorted as crash sorts it (by pid; the pid 0
// idle tasks by cpu), with the tasks active at the time of the dump. It is
// immutable: Tasks returns the same table to every caller.
type TaskTable struct {
	tasks  []Task
	byAddr map[uint64]int
	active map[uint64]bool
	panic  uint64
	// groupRSS is the split RSS counts of each thread group's threads,
	// summed (crash's get_task_mem_usage adds them to the mm's).
	groupRSS map[int64]int64
}

// All is every task, in the table's order. The slice is shared: do not
// modify it (sort a copy).
func (tt *TaskTable) All() []Task { return tt.tasks }

// Len is the number of tasks.
func (tt *TaskTable) Len() int { return len(tt.tasks) }

// ByAddr is the task whose task_struct is at addr, or nil.
func (tt *TaskTable) ByAddr(addr uint64) *Task {
	if i, ok := tt.byAddr[addr]; ok {
		return &tt.tasks[i]
	}
	return nil
}

// ByPID is the first task with pid (pid 0 has one per cpu), or nil.
func (tt *TaskTable) ByPID(pid int64) *Task {
	i := sort.Search(len(tt.tasks), func(i int) bool { return tt.tasks[i].PID >= pid })
	if i < len(tt.tasks) && tt.tasks[i].PID == pid {
		return &tt.tasks[i]
	}
	return nil
}

// Leader is crash's tgid_to_context(): the thread group leader of tgid.
func (tt *TaskTable) Leader(tgid int64) *Task {
	for i := range tt.tasks {
		if t := &tt.tasks[i]; t.TGID == tgid && t.PID == tgid {
			return t
		}
	}
	return nil
}

// PPID is the pid of t's parent, 0 when the parent is not in the table.
func (tt *TaskTable) PPID(t *Task) int64 {
	if p := tt.ByAddr(t.Parent); p != nil {
		return p.PID
	}
	return 0
}

// Active reports whether the task at addr was running on a cpu when the
// dump was taken as crash sees it (runqueues.curr of each cpu, and the
// panic task): ps marks these with ">".
func (tt *TaskTable) Active(addr uint64) bool { return tt.active[addr] }

// ActiveTasks is the set Active reports on. The map is shared: do not
// modify it.
func (tt *TaskTable) ActiveTasks() map[uint64]bool { return tt.active }

// GroupRSS is the split RSS counts (Task.SplitRSS) of the threads of
// thread group tgid, summed: what the threads hold that their mm's
// counters do not show yet.
func (tt *TaskTable) GroupRSS(tgid int64) int64 { return tt.groupRSS[tgid] }

// Panic is the task that panicked, 0 when it is unknown.
func (tt *TaskTable) Panic() uint64 { return tt.panic }

// Tasks returns the task table, built on first use and then shared by
// every caller. A failed or cancelled build is not kept: the next call
// tries again.
func (k *Kernel) Tasks(ctx context.Context) (*TaskTable, error) {
	k.tasksMu.Lock()
	defer k.tasksMu.Unlock()
	if k.tasks != nil {
		return k.tasks, nil
	}
	tt, err := k.readTasks(ctx)
	if err != nil {
		return nil, err
	}
	k.tasks = tt
	return tt, nil
}

func (k *Kernel) readTasks(ctx context.Context) (*TaskTable, error) {
	r, err := k.newTaskReader()
	if err != nil {
		return nil, err
	}
	w, err := k.walker(ctx)
	if err != nil {
		return nil, err
	}
	idle, err := k.IdleTasks()
	if err != nil {
		return nil, err
	}
	var tasks []Task
	seen := make(map[uint64]bool)
	for _, a := range idle {
		if a == 0 || seen[a] {
			continue
		}
		seen[a] = true
		t, err := r.read(a)
		if err != nil {
			return nil, err
		}
		t.Idle = true
		tasks = append(tasks, t)
	}
	err = w.forEachTask(func(a uint64) error {
		if seen[a] {
			return fmt.Errorf("corrupt task list: task %#x is reached twice (init_task.tasks or a thread list loops back into itself)", a)
		}
		seen[a] = true
		t, err := r.read(a)
		if err != nil {
			return err
		}
		tasks = append(tasks, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		a, b := &tasks[i], &tasks[j]
		if a.PID == 0 && b.PID == 0 {
			return a.CPU < b.CPU
		}
		return a.PID < b.PID
	})
	tt := &TaskTable{tasks: tasks, byAddr: make(map[uint64]int, len(tasks)), active: map[uint64]bool{}, groupRSS: map[int64]int64{}}
	for i := range tasks {
		tt.byAddr[tasks[i].Addr] = i
		tt.groupRSS[tasks[i].TGID] += tasks[i].SplitRSS
	}
	n, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	for cpu := 0; cpu < n; cpu++ {
		a, err := k.ActiveTask(cpu)
		if err != nil {
			return nil, err
		}
		if a != 0 {
			tt.active[a] = true
		}
	}
	if p, err := k.PanicTask(); err == nil {
		tt.panic = p
		tt.active[p] = true
	}
	return tt, nil
}

// ReadTask reads the one task whose task_struct is at addr, without the
// task table (Idle is left false).
func (k *Kernel) ReadTask(addr uint64) (Task, error) {
	r, err := k.newTaskReader()
	if err != nil {
		return Task{}, err
	}
	return r.read(addr)
}

// taskLayout are the offsets the list walkers need. Thread groups are
// linked either through signal_struct.thread_head/task_struct.thread_node
// (3.14 and later) or only through the headless task_struct.thread_group
// ring (older kernels; 6.7 removed it): whichever DWARF shows is used.
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

// taskWalker walks the kernel's task lists.
type taskWalker struct {
	ctx  context.Context
	mem  symbols.Memory
	l    taskLayout
	init uint64 // init_task
}

func (k *Kernel) walker(ctx context.Context) (*taskWalker, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	l, err := layoutFrom(t)
	if err != nil {
		return nil, err
	}
	init, err := k.InitTask()
	if err != nil {
		return nil, err
	}
	return &taskWalker{ctx: ctx, mem: k.memory(), l: l, init: init}, nil
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

func (w *taskWalker) forEachProcess(fn func(task uint64) error) error {
	err := WalkList(w.ctx, w.mem, w.init+uint64(w.l.tasks), "init_task.tasks", func(node uint64) error {
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
		return WalkList(w.ctx, w.mem, leader+uint64(w.l.threadGroup), "task_struct.thread_group", func(node uint64) error {
			return fn(node - uint64(w.l.threadGroup))
		})
	}
	sig, err := ReadPointer(w.mem, leader+uint64(w.l.signal))
	if err != nil {
		return fmt.Errorf("task %#x: signal: %w", leader, err)
	}
	if sig == 0 {
		return fn(leader)
	}
	return WalkList(w.ctx, w.mem, sig+uint64(w.l.threadHead), "signal_struct.thread_head", func(node uint64) error {
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

// InitTask is the address of init_task (swapper/0).
func (k *Kernel) InitTask() (uint64, error) {
	a, ok := k.Vmlinux.Lookup("init_task")
	if !ok {
		return 0, errors.New("no init_task symbol")
	}
	return a, nil
}

// ForEachProcess calls fn with every thread group leader on init_task's
// tasks list (for_each_process; init_task itself is not included).
func (k *Kernel) ForEachProcess(ctx context.Context, fn func(task uint64) error) error {
	w, err := k.walker(ctx)
	if err != nil {
		return err
	}
	return w.forEachProcess(fn)
}

// ForEachThread calls fn with every thread of leader's thread group, the
// leader included (for_each_thread).
func (k *Kernel) ForEachThread(ctx context.Context, leader uint64, fn func(task uint64) error) error {
	w, err := k.walker(ctx)
	if err != nil {
		return err
	}
	return w.forEachThread(leader, fn)
}

// ForEachTask calls fn with every thread of every process (not the idle
// tasks).
func (k *Kernel) ForEachTask(ctx context.Context, fn func(task uint64) error) error {
	w, err := k.walker(ctx)
	if err != nil {
		return err
	}
	return w.forEachTask(fn)
}

// IdleTasks returns each cpu's idle task (runqueues.idle), index = cpu,
// for the cpus crash counts (NumCPUs). cpu 0's is init_task. Crash lists
// them as swapper/N with pid 0: they are on no task list.
func (k *Kernel) IdleTasks() ([]uint64, error) {
	n, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	idle := make([]uint64, 0, n)
	for cpu := 0; cpu < n; cpu++ {
		rq, err := k.PerCPU("runqueues", cpu)
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
// sees it (runqueues.curr, get_active_set()).
func (k *Kernel) ActiveTask(cpu int) (uint64, error) {
	rq, err := k.PerCPU("runqueues", cpu)
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
func (k *Kernel) CurrentTask(cpu int) (uint64, error) {
	if _, ok := k.Vmlinux.Lookup("pcpu_hot"); ok {
		o, err := k.PerCPU("pcpu_hot", cpu)
		if err != nil {
			return 0, err
		}
		m, err := o.Member("current_task")
		if err != nil {
			return 0, err
		}
		return m.Pointer()
	}
	o, err := k.PerCPU("current_task", cpu)
	if err != nil {
		return 0, err
	}
	return o.Pointer()
}

// CountTasks is crash's TASKS: every thread plus the idle task of every
// cpu (crash's task table holds both; swapper/0 is init_task).
func (k *Kernel) CountTasks(ctx context.Context) (int, error) {
	n := 0
	if err := k.ForEachTask(ctx, func(uint64) error { n++; return nil }); err != nil {
		return 0, err
	}
	idle, err := k.IdleTasks()
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
func (k *Kernel) PanicCPU() (int, error) {
	for _, name := range []string{"panic_cpu", "crashing_cpu"} {
		o, err := k.Var(name)
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
func (k *Kernel) PanicTask() (uint64, error) {
	cpu, err := k.PanicCPU()
	if err != nil {
		return 0, err
	}
	return k.ActiveTask(cpu)
}

// MMCounters are the indexes of the mm counters crash adds up for RSS
// (enum MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES of
// include/linux/mm_types_task.h); Shmem is -1 before 4.5.
type MMCounters struct{ File, Anon, Shmem int64 }

// RSSCounters are the kernel's MMCounters, from the enum when DWARF has it.
func (k *Kernel) RSSCounters() (MMCounters, error) {
	t, err := k.Layouts()
	if err != nil {
		return MMCounters{}, err
	}
	c := MMCounters{File: 0, Anon: 1, Shmem: 3}
	for _, e := range []struct {
		dst  *int64
		name string
	}{{&c.File, "MM_FILEPAGES"}, {&c.Anon, "MM_ANONPAGES"}, {&c.Shmem, "MM_SHMEMPAGES"}} {
		if v, err := t.Enumerator(e.name); err == nil {
			*e.dst = v
		} else if e.name == "MM_SHMEMPAGES" {
			*e.dst = -1
		}
	}
	return c, nil
}

// taskFields are the task_struct offsets a Task is read from. The fields
// lie in the first few kilobytes of task_struct: one read of that span
// per task.
type taskFields struct {
	pid, tgid, comm, state, exitState, flags, parent, mm, cpu int64
	stateSize, exitStateSize, flagsSize, cpuSize, commLen     int64
	rssCount                                                  int64 // task_struct.rss_stat.count, -1 when absent
	rssCountSize                                              int64
	span                                                      int64
}

// taskReader reads tasks through one memory view.
type taskReader struct {
	mem symbols.Memory
	f   taskFields
	rss MMCounters
}

func (k *Kernel) newTaskReader() (*taskReader, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	r := &taskReader{mem: k.memory()}
	if r.rss, err = k.RSSCounters(); err != nil {
		return nil, err
	}
	f := &r.f
	type field struct {
		dst, size *int64
		paths     []string
	}
	stateName := "task_struct.__state" // renamed from state in 5.14
	if !t.HasMember("task_struct", "__state") {
		stateName = "task_struct.state"
	}
	cpuName := "task_struct.thread_info.cpu" // 5.16 moved it back into thread_info
	if t.HasMember("task_struct", "cpu") {
		cpuName = "task_struct.cpu"
	}
	var dummy int64
	for _, x := range []field{
		{&f.pid, &dummy, []string{"task_struct.pid"}},
		{&f.tgid, &dummy, []string{"task_struct.tgid"}},
		{&f.comm, &f.commLen, []string{"task_struct.comm"}},
		{&f.state, &f.stateSize, []string{stateName}},
		{&f.exitState, &f.exitStateSize, []string{"task_struct.exit_state"}},
		{&f.flags, &f.flagsSize, []string{"task_struct.flags"}},
		{&f.parent, &dummy, []string{"task_struct.parent", "task_struct.real_parent"}},
		{&f.mm, &dummy, []string{"task_struct.mm"}},
		{&f.cpu, &f.cpuSize, []string{cpuName}},
	} {
		var lastErr error
		ok := false
		for _, p := range x.paths {
			typ, path, _ := strings.Cut(p, ".")
			m, err := t.Member(typ, path)
			if err != nil {
				lastErr = err
				continue
			}
			sz, err := t.Size(m.Type)
			if err != nil {
				return nil, err
			}
			*x.dst, *x.size, ok = m.Offset, sz, true
			break
		}
		if !ok {
			return nil, lastErr
		}
	}
	f.rssCount = -1
	if m, err := t.Member("task_struct", "rss_stat.count"); err == nil {
		f.rssCount = m.Offset
		f.rssCountSize, _ = t.Size(m.Type)
	}
	for _, e := range []struct {
		off, size int64
	}{{f.pid, 4}, {f.tgid, 4}, {f.comm, f.commLen}, {f.state, f.stateSize}, {f.exitState, f.exitStateSize},
		{f.flags, f.flagsSize}, {f.parent, 8}, {f.mm, 8}, {f.cpu, f.cpuSize}, {f.rssCount, f.rssCountSize}} {
		f.span = max(f.span, e.off+e.size)
	}
	return r, nil
}

// HasSplitRSS reports whether tasks cache RSS counts of their own
// (task_struct.rss_stat, SPLIT_RSS_COUNTING, before 6.2): an mm's RSS
// is then its counters plus its threads' Task.SplitRSS.
func (k *Kernel) HasSplitRSS() bool {
	t, err := k.Layouts()
	return err == nil && t.HasMember("task_struct", "rss_stat.count")
}

func leUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	case 8:
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func leInt(b []byte) int64 {
	switch len(b) {
	case 1:
		return int64(int8(b[0]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	}
	return int64(leUint(b))
}

// read reads one task.
func (r *taskReader) read(addr uint64) (Task, error) {
	f := &r.f
	b := make([]byte, f.span)
	if err := r.mem.ReadVirt(b, addr); err != nil {
		return Task{}, fmt.Errorf("task_struct at %#x: %w", addr, err)
	}
	at := func(off, size int64) []byte { return b[off : off+size] }
	t := Task{
		Addr:   addr,
		PID:    leInt(at(f.pid, 4)),
		TGID:   leInt(at(f.tgid, 4)),
		Comm:   symbols.CString(at(f.comm, f.commLen)),
		CPU:    int(leUint(at(f.cpu, f.cpuSize))),
		Parent: leUint(at(f.parent, 8)),
		MM:     leUint(at(f.mm, 8)),
		State:  leUint(at(f.state, f.stateSize)) | uint64(uint32(leInt(at(f.exitState, f.exitStateSize)))),
		Flags:  leUint(at(f.flags, f.flagsSize)),
	}
	if f.rssCount >= 0 {
		// crash's get_task_mem_usage(): the thread's cached counts for
		// file, anon and shmem pages, each only when positive.
		for _, c := range []int64{r.rss.File, r.rss.Anon, r.rss.Shmem} {
			if c < 0 || (c+1)*4 > f.rssCountSize {
				continue
			}
			if v := leInt(at(f.rssCount+c*4, 4)); v > 0 {
				t.SplitRSS += v
			}
		}
	}
	return t, nil
}
