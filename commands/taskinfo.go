package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gocrash/symbols"
	"gocrash/vmcore"
)

// Per-task facts as crash's task table keeps them (struct task_context in
// crash's defs.h, filled by add_context() in task.c) and the values ps
// derives from them (task_state_string(), get_task_mem_usage() in
// memory.c). Every offset and size comes from DWARF.

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

	splitRSS int64 // task_struct.rss_stat counts not yet folded into the mm (SPLIT_RSS_COUNTING)
}

// PF_* of include/linux/sched.h; these values have not changed since
// PF_KTHREAD appeared in 2.6.27.
const (
	pfExiting = 0x00000004
	pfKThread = 0x00200000
)

// KernelThread is crash's is_kernel_thread(): PF_KTHREAD.
func (t *Task) KernelThread() bool { return t.Flags&pfKThread != 0 }

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

// rssCounters are the mm counters crash adds up for RSS (MM_FILEPAGES,
// MM_ANONPAGES, MM_SHMEMPAGES), from the enum.
type rssCounters struct{ file, anon, shmem int64 }

// taskReader reads tasks through one memory view.
type taskReader struct {
	s      *Session
	mem    symbols.Memory
	t      *symbols.Types
	f      taskFields
	rss    rssCounters
	states *taskStates
}

func (s *Session) newTaskReader(mem symbols.Memory) (*taskReader, error) {
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	r := &taskReader{s: s, mem: mem, t: t}
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
	r.rss = rssCounters{file: 0, anon: 1, shmem: 3} // include/linux/mm_types_task.h
	for _, c := range []struct {
		dst  *int64
		name string
	}{{&r.rss.file, "MM_FILEPAGES"}, {&r.rss.anon, "MM_ANONPAGES"}, {&r.rss.shmem, "MM_SHMEMPAGES"}} {
		if v, err := t.Enumerator(c.name); err == nil {
			*c.dst = v
		} else if c.name == "MM_SHMEMPAGES" {
			*c.dst = -1 // before 4.5
		}
	}
	return r, nil
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
		Comm:   cString(at(f.comm, f.commLen)),
		CPU:    int(leUint(at(f.cpu, f.cpuSize))),
		Parent: leUint(at(f.parent, 8)),
		MM:     leUint(at(f.mm, 8)),
		State:  leUint(at(f.state, f.stateSize)) | uint64(uint32(leInt(at(f.exitState, f.exitStateSize)))),
		Flags:  leUint(at(f.flags, f.flagsSize)),
	}
	if f.rssCount >= 0 {
		// crash's get_task_mem_usage(): the thread's cached counts for
		// file, anon and shmem pages, each only when positive.
		for _, c := range []int64{r.rss.file, r.rss.anon, r.rss.shmem} {
			if c < 0 || (c+1)*4 > f.rssCountSize {
				continue
			}
			if v := leInt(at(f.rssCount+c*4, 4)); v > 0 {
				t.splitRSS += v
			}
		}
	}
	return t, nil
}

func timeSeconds(n uint64) time.Duration { return time.Duration(n) * time.Second }

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Tasks returns crash's task table: the idle task of every cpu and every
// thread of every process, sorted as crash sorts it (by pid; the pid 0
// idle tasks by cpu).
func (s *Session) Tasks() ([]Task, error) {
	return s.tasksFrom(s.Mem)
}

func (s *Session) tasksFrom(mem symbols.Memory) ([]Task, error) {
	r, err := s.newTaskReader(mem)
	if err != nil {
		return nil, err
	}
	w, err := s.walker()
	if err != nil {
		return nil, err
	}
	w.mem = mem
	idle, err := s.IdleTasks()
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
	return tasks, nil
}

// taskTable is the task table with the lookups commands need.
type taskTable struct {
	tasks  []Task
	byAddr map[uint64]int
	active map[uint64]bool // tasks crash calls active: runqueues.curr of each cpu and the panic task
	panic  uint64          // 0 when unknown

	sortedByPID bool // false after ps -l re-sorted the table by last run

	// For memory usage, filled on first use.
	groupRSS   map[int64]int64 // tgid -> the threads' split RSS counts
	totalPages uint64
}

func (s *Session) taskTable() (*taskTable, error) {
	tasks, err := s.Tasks()
	if err != nil {
		return nil, err
	}
	return s.newTaskTable(tasks)
}

func (s *Session) newTaskTable(tasks []Task) (*taskTable, error) {
	tt := &taskTable{tasks: tasks, byAddr: make(map[uint64]int, len(tasks)), active: map[uint64]bool{}, sortedByPID: true}
	for i := range tasks {
		tt.byAddr[tasks[i].Addr] = i
	}
	n, err := s.NumCPUs()
	if err != nil {
		return nil, err
	}
	for cpu := 0; cpu < n; cpu++ {
		a, err := s.ActiveTask(cpu)
		if err != nil {
			return nil, err
		}
		if a != 0 {
			tt.active[a] = true
		}
	}
	if p, err := s.PanicTask(); err == nil {
		tt.panic = p
		tt.active[p] = true
	}
	return tt, nil
}

func (tt *taskTable) byTask(addr uint64) *Task {
	if i, ok := tt.byAddr[addr]; ok {
		return &tt.tasks[i]
	}
	return nil
}

// byPID is the first task with pid (pid 0 has one per cpu).
func (tt *taskTable) byPID(pid int64) *Task {
	if !tt.sortedByPID {
		for i := range tt.tasks {
			if tt.tasks[i].PID == pid {
				return &tt.tasks[i]
			}
		}
		return nil
	}
	i := sort.Search(len(tt.tasks), func(i int) bool { return tt.tasks[i].PID >= pid })
	if i < len(tt.tasks) && tt.tasks[i].PID == pid {
		return &tt.tasks[i]
	}
	return nil
}

// leader is crash's tgid_to_context(): the thread group leader of tgid.
func (tt *taskTable) leader(tgid int64) *Task {
	for i := range tt.tasks {
		if t := &tt.tasks[i]; t.TGID == tgid && t.PID == tgid {
			return t
		}
	}
	return nil
}

func (tt *taskTable) ppid(t *Task) int64 {
	if p := tt.byTask(t.Parent); p != nil {
		return p.PID
	}
	return 0
}

// ErrNoTask is wrapped by lookups of a pid or task address that is not in
// the task table.
var ErrNoTask = errors.New("no such task")

// lookup is crash's str_to_context(): a decimal pid, or a task address
// (hexadecimal, with or without 0x). A decimal word that is both a pid and
// a hexadecimal task address is the pid.
func (tt *taskTable) lookup(arg string) (*Task, error) {
	if d, ok := parseDec(arg); ok {
		if t := tt.byPID(d); t != nil {
			return t, nil
		}
		if t := tt.byTask(uint64(d)); t != nil {
			return t, nil
		}
	}
	if h, ok := parseTaskHex(arg); ok {
		if t := tt.byTask(h); t != nil {
			return t, nil
		}
		if t := tt.byPID(int64(h)); t != nil && h < 1<<32 {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: invalid task or pid value: %s", ErrNoTask, arg)
}

func parseDec(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func parseTaskHex(s string) (uint64, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" || len(s) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// isNumber is crash's IS_A_NUMBER: decimal or hexadecimal digits.
func isNumber(s string) bool {
	_, d := parseDec(s)
	_, h := parseTaskHex(s)
	return d || h
}

// taskStates are the kernel's task state bits as crash learns them
// (initialize_task_state()): from the names in fs/proc/array.c's
// task_state_array, so that no kernel version is assumed. -1 = the
// kernel has no such state.
type taskStates struct {
	running, interruptible, uninterruptible, stopped, traced, dead, zombie,
	parked, wakekill, waking, noload, new, swapping, exclusive int64
}

// taskStateNames reads fs/proc/array.c's task_state_array, an array of
// string pointers. Its length comes from the ELF symbol's size when there is
// one: the array is static and defined in one late compile unit, whose DWARF
// the lazy type index would otherwise have to reach.
func (s *Session) taskStateNames() ([]string, error) {
	if sym, ok := s.Vmlinux.LookupSymbol("task_state_array"); ok && sym.Size > 0 && sym.Size%8 == 0 && sym.Size <= 64*8 {
		names := make([]string, 0, sym.Size/8)
		for i := uint64(0); i < sym.Size/8; i++ {
			p, err := s.readPtr(sym.Addr + 8*i)
			if err != nil {
				return nil, fmt.Errorf("task_state_array[%d]: %w", i, err)
			}
			name, err := readCString(s, p, 64)
			if err != nil {
				return nil, fmt.Errorf("task_state_array[%d]: %w", i, err)
			}
			names = append(names, name)
		}
		return names, nil
	}
	arr, err := s.Var("task_state_array")
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

func (s *Session) taskStates() (*taskStates, error) {
	st := &taskStates{running: -1, interruptible: -1, uninterruptible: -1, stopped: -1, traced: -1, dead: -1,
		zombie: -1, parked: -1, wakekill: -1, waking: -1, noload: -1, new: -1, swapping: -1, exclusive: -1}
	names, err := s.taskStateNames()
	if err != nil || len(names) == 0 {
		// crash's "old defaults" (2.4 kernels).
		*st = taskStates{running: 0, interruptible: 1, uninterruptible: 2, zombie: 4, stopped: 8, swapping: 16, exclusive: 32,
			traced: -1, dead: -1, parked: -1, wakekill: -1, waking: -1, noload: -1, new: -1}
		return st, nil
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
			st.running = bit
		case strings.Contains(name, "(sleeping)"):
			st.interruptible = bit
		case strings.Contains(name, "(disk sleep)"):
			st.uninterruptible = bit
		case strings.Contains(name, "(stopped)"):
			st.stopped = bit
		case strings.Contains(name, "(zombie)"):
			st.zombie = bit
		case strings.Contains(name, "(dead)"):
			or(&st.dead)
		case strings.Contains(name, "(swapping)"):
			st.swapping = bit
		case strings.Contains(name, "(tracing stop)"):
			or(&st.traced)
		case strings.Contains(name, "(wakekill)"):
			st.wakekill = bit
		case strings.Contains(name, "(waking)"):
			st.waking = bit
		case strings.Contains(name, "(parked)"):
			st.parked = bit
		}
		if bit == 0 {
			bit = 1
		} else {
			bit <<= 1
		}
	}
	switch {
	case st.parked > 0:
		// "P (parked)" is reported since 4.14; the states after it are
		// not in the array but follow it in include/linux/sched.h.
		st.dead |= st.parked << 1 // TASK_DEAD
		st.wakekill = st.parked << 2
		st.waking = st.parked << 3
		st.noload = st.parked << 4
		st.new = st.parked << 5
	case st.dead > 0 && st.dead&(st.dead-1) == 0:
		// 2.6.32-4.13: EXIT_DEAD only; TASK_DEAD, TASK_WAKEKILL and
		// TASK_WAKING follow it.
		bit := st.dead
		st.dead |= bit << 1
		st.wakekill = bit << 2
		st.waking = bit << 3
	}
	return st, nil
}

func has(v int64) bool { return v >= 0 }

// Short is crash's two-letter state (task_state_string()).
func (st *taskStates) Short(state uint64) string {
	buf := "??"
	valid, set := 0, 0
	exclusive := false
	if has(st.exclusive) {
		exclusive = state&uint64(st.exclusive) != 0
		state &^= uint64(st.exclusive)
	}
	is := func(v int64) bool { return has(v) && state&uint64(v) != 0 }
	eq := func(v int64) bool { return has(v) && state == uint64(v) }
	if eq(st.running) {
		buf = "RU"
		valid++
	}
	if is(st.interruptible) {
		buf = "IN"
		valid++
		set++
	}
	if is(st.uninterruptible) {
		if is(st.noload) {
			buf = "ID" // TASK_IDLE
		} else {
			buf = "UN"
		}
		valid++
		set++
	}
	if is(st.zombie) {
		buf = "ZO"
		valid++
		set++
	}
	if is(st.stopped) {
		buf = "ST"
		valid++
		set++
	}
	if is(st.traced) {
		buf = "TR"
		valid++
		set++
	}
	if eq(st.swapping) {
		buf = "SW"
		valid++
		set++
	}
	if is(st.dead) && set == 0 {
		buf = "DE"
		valid++
		set++
	}
	if eq(st.parked) {
		buf = "PA"
		valid++
	}
	if eq(st.waking) {
		buf = "WA"
		valid++
	}
	if eq(st.new) {
		buf = "NE"
		valid++
	}
	if valid > 0 && exclusive {
		buf += "EX"
	}
	return buf
}

// Long is crash's verbose state (task_state_string_verbose()), as set
// shows it.
func (st *taskStates) Long(state uint64) string {
	if has(st.running) && state == uint64(st.running) {
		return "TASK_RUNNING"
	}
	// st.dead holds both EXIT_DEAD and TASK_DEAD (see taskStates).
	dead := "EXIT_DEAD"
	if both := state & uint64(st.dead); both&(both-1) != 0 {
		dead = "EXIT_DEAD|TASK_DEAD"
	}
	var parts []string
	for _, f := range []struct {
		bit  int64
		name string
	}{
		{st.interruptible, "TASK_INTERRUPTIBLE"},
		{st.uninterruptible, "TASK_UNINTERRUPTIBLE"},
		{st.stopped, "TASK_STOPPED"},
		{st.traced, "TASK_TRACED"},
		{st.dead, dead},
		{st.zombie, "EXIT_ZOMBIE"},
		{st.waking, "TASK_WAKING"},
		{st.wakekill, "TASK_WAKEKILL"},
		{st.noload, "TASK_NOLOAD"},
		{st.new, "TASK_NEW"},
	} {
		if has(f.bit) && state&uint64(f.bit) != 0 {
			parts = append(parts, f.name)
		}
	}
	if has(st.parked) && state == uint64(st.parked) {
		return "TASK_PARKED"
	}
	return strings.Join(parts, "|")
}

// TaskMem is crash's struct task_memory_usage: what ps shows of a task's
// address space.
type TaskMem struct {
	TotalVM uint64  // pages
	RSS     uint64  // pages
	PctMem  float64 // RSS in percent of the system's pages
}

// memUsage is crash's get_task_mem_usage(). groupRSS is the sum of the
// split RSS counts of every thread with t's tgid.
func (r *taskReader) memUsage(t *Task, groupRSS int64, totalPages uint64) (TaskMem, error) {
	var m TaskMem
	if has(r.states.zombie) && t.State&uint64(r.states.zombie) != 0 {
		return m, nil
	}
	if t.MM == 0 {
		return m, nil
	}
	mm, err := r.t.Object(r.mem, t.MM, "mm_struct")
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
	if t.Flags&pfExiting != 0 && mmCount <= 0 {
		return m, nil
	}
	var rss int64
	rs, err := mm.Member("rss_stat")
	if err != nil {
		return m, err
	}
	if c, err := rs.Member("count"); err == nil {
		// struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; }
		for _, i := range []int64{r.rss.file, r.rss.anon, r.rss.shmem} {
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
		for _, i := range []int64{r.rss.file, r.rss.anon, r.rss.shmem} {
			if i < 0 {
				continue
			}
			el, err := rs.Index(int(i))
			if err != nil {
				return m, err
			}
			v, err := r.percpuCounterSumPositive(el)
			if err != nil {
				return m, err
			}
			rss += v
		}
	}
	if r.f.rssCount >= 0 {
		rss += groupRSS
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
	if totalPages > 0 {
		m.PctMem = float64(m.RSS*100) / float64(totalPages)
	}
	return m, nil
}

// percpuCounterSumPositive is percpu_counter_sum_positive()
// (include/linux/percpu_counter.h): count plus every cpu's s32 delta, 0
// when negative. The cpus are crash's (NumCPUs).
func (r *taskReader) percpuCounterSumPositive(fbc symbols.Object) (int64, error) {
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
		n, err := r.s.NumCPUs()
		if err != nil {
			return 0, err
		}
		for cpu := 0; cpu < n; cpu++ {
			off, err := r.s.PerCPUOffset(cpu)
			if err != nil {
				return 0, err
			}
			var b [4]byte
			if err := r.mem.ReadVirt(b[:], base+off); err != nil {
				return 0, fmt.Errorf("percpu_counter.counters of cpu %d at %#x: %w", cpu, base+off, err)
			}
			sum += int64(int32(binary.LittleEndian.Uint32(b[:])))
		}
	}
	return max(sum, 0), nil
}

// totalPages is crash's vt->total_pages, the divisor of %MEM: the pages of
// the direct map up to high_memory, plus highmem pages where the kernel
// has them.
func (s *Session) totalPages() (uint64, error) {
	o, err := s.Var("high_memory")
	if err != nil {
		return 0, err
	}
	hm, err := o.Pointer()
	if err != nil {
		return 0, err
	}
	po := s.PageOffset()
	if hm < po {
		return 0, fmt.Errorf("high_memory %#x lies below the direct map at %#x", hm, po)
	}
	pages := (hm - po) / uint64(s.Dump.PageSize())
	for _, name := range []string{"_totalhigh_pages", "totalhigh_pages"} {
		if o, err := s.Var(name); err == nil {
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

// readUserLikeCrash reads user memory of the address space pgd as crash
// does: on an ELF dump the excluded tail of a PT_LOAD (p_memsz beyond
// p_filesz) reads as zeroes (crash's netdump zero_fill).
func (s *Session) readUserLikeCrash(pgd uint64, p []byte, va uint64) error {
	return s.readLikeCrash(func(p []byte, va uint64) error { return s.Mem.ReadUser(pgd, p, va) }, p, va)
}

// readLikeCrash reads through read, and on an ELF dump gives the pages
// makedumpfile excluded (the zero-filled tail of a PT_LOAD) as zeroes, as
// crash reads them; on other formats an excluded page stays an error, as
// it is in crash. The vmcore layer itself always reports exclusion.
func (s *Session) readLikeCrash(read func(p []byte, va uint64) error, p []byte, va uint64) error {
	err := read(p, va)
	if err == nil || !errors.Is(err, vmcore.ErrExcluded) || s.dumpFormat() != vmcore.FormatELF {
		return err
	}
	for len(p) > 0 {
		n := min(len(p), int(4096-va%4096))
		if err := read(p[:n], va); err != nil {
			if !errors.Is(err, vmcore.ErrExcluded) {
				return err
			}
			clear(p[:n])
		}
		p, va = p[n:], va+uint64(n)
	}
	return nil
}
