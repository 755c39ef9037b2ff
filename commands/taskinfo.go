package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gocrash/kernel"
	"gocrash/symbols"
)

// Per-task facts as crash's task table keeps them (struct task_context in
// crash's defs.h, filled by add_context() in task.c) and the values ps
// derives from them (task_state_string(), get_task_mem_usage() in
// memory.c). Every offset and size comes from DWARF.

// A Task is one entry of the task table (kernel.Task).
type Task = kernel.Task

// PF_* (kernel's).
const (
	pfExiting = kernel.PFExiting
	pfKThread = kernel.PFKThread
)

// taskReader reads what ps shows of a task's address space.
type taskReader struct {
	s        *Session
	mem      symbols.Memory
	t        *symbols.Types
	rss      kernel.MMCounters
	splitRSS bool // tasks cache RSS counts of their own (kernel.HasSplitRSS)
	states   *taskStates
}

func (s *Session) newTaskReader(mem symbols.Memory) (*taskReader, error) {
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	rss, err := s.RSSCounters()
	if err != nil {
		return nil, err
	}
	return &taskReader{s: s, mem: mem, t: t, rss: rss, splitRSS: s.HasSplitRSS()}, nil
}

func timeSeconds(n uint64) time.Duration { return time.Duration(n) * time.Second }

// taskTable is the task table with the lookups commands need.
type taskTable struct {
	tasks  []Task
	byAddr map[uint64]int
	active map[uint64]bool // tasks crash calls active: runqueues.curr of each cpu and the panic task
	panic  uint64          // 0 when unknown

	sortedByPID bool // false after ps -l re-sorted the table by last run

	groupRSS func(tgid int64) int64 // kernel's TaskTable.GroupRSS

	totalPages uint64 // for memory usage, filled on first use
}

// taskTable is the command's view of the kernel's task table (built once
// per session, kernel.Tasks): a copy of the task slice, which ps -l may
// re-sort, and the lookups.
func (s *Session) taskTable() (*taskTable, error) {
	kt, err := s.Kernel.Tasks(s.Ctx())
	if err != nil {
		return nil, err
	}
	tasks := append([]Task(nil), kt.All()...)
	tt := &taskTable{tasks: tasks, byAddr: make(map[uint64]int, len(tasks)), active: kt.ActiveTasks(), panic: kt.Panic(), sortedByPID: true, groupRSS: kt.GroupRSS}
	for i := range tasks {
		tt.byAddr[tasks[i].Addr] = i
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
// the task table; its text is crash's.
var ErrNoTask = errors.New("invalid task or pid value")

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
	return nil, fmt.Errorf("%w: %s", ErrNoTask, arg)
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
			name, err := symbols.ReadCString(s.Mem, p, 64)
			if err != nil && !s.NoDebuginfo() {
				return nil, fmt.Errorf("task_state_array[%d]: %w", i, err)
			}
			if s.NoDebuginfo() && !isStateName(name) {
				// Without the vmlinux the size is kallsyms' distance to
				// the next symbol, an upper bound: the array ends at the
				// first entry that is not one of its "X (name)" strings.
				break
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

// isStateName reports whether name has the form of fs/proc/array.c's
// task_state_array entries: a letter, " (", a word, ")".
func isStateName(name string) bool {
	return len(name) >= 5 && name[1] == ' ' && name[2] == '(' && name[len(name)-1] == ')'
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
			v, err := r.percpuCounterSumPositive(el)
			if err != nil {
				return m, err
			}
			rss += v
		}
	}
	if r.splitRSS {
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

// readUserLikeCrash reads user memory of the address space pgd as crash
// does: on an ELF dump the excluded tail of a PT_LOAD (p_memsz beyond
// p_filesz) reads as zeroes (crash's netdump zero_fill).
func (s *Session) readUserLikeCrash(pgd uint64, p []byte, va uint64) error {
	return s.readLikeCrash(func(p []byte, va uint64) error { return s.Mem.ReadUser(pgd, p, va) }, p, va)
}

// readLikeCrash is kernel's ReadAsCrash.
func (s *Session) readLikeCrash(read func(p []byte, va uint64) error, p []byte, va uint64) error {
	return s.ReadAsCrash(read, p, va)
}
