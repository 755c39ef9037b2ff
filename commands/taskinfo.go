package commands

import (
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

// taskReader holds what ps, vm and foreach read tasks by: crash's names of
// the kernel's task states (a task's memory is kernel's TaskMemory).
type taskReader struct {
	states *taskStates
}

func (s *Session) newTaskReader(symbols.Memory) (*taskReader, error) {
	if _, err := s.Types(); err != nil {
		return nil, err
	}
	return &taskReader{}, nil
}

func timeSeconds(n uint64) time.Duration { return time.Duration(n) * time.Second }

// taskTable is the task table with the lookups commands need.
type taskTable struct {
	tasks  []Task
	byAddr map[uint64]int
	active map[uint64]bool // tasks crash calls active: runqueues.curr of each cpu and the panic task
	panic  uint64          // 0 when unknown

	sortedByPID bool // false after ps -l re-sorted the table by last run

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
	tt := &taskTable{tasks: tasks, byAddr: make(map[uint64]int, len(tasks)), active: s.markedActive(kt.ActiveTasks()), panic: kt.Panic(), sortedByPID: true}
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
	digits := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		case c == 'x' || c == 'X':
			// crash's hexadecimal() and htol() pass over an x
			// anywhere: "foreach EX ps" is PID 0xe there.
			continue
		default:
			return 0, false
		}
		digits++
	}
	return v, digits > 0
}

// isNumber is crash's IS_A_NUMBER: decimal or hexadecimal digits.
func isNumber(s string) bool {
	_, d := parseDec(s)
	_, h := parseTaskHex(s)
	return d || h
}

// taskStates are the kernel's task state bits (kernel's TaskStates), with
// crash's names for them.
type taskStates struct{ *kernel.TaskStates }

func (s *Session) taskStates() (*taskStates, error) {
	return &taskStates{s.TaskStates()}, nil
}

func has(v int64) bool { return kernel.Has(v) }

// Short is crash's two-letter state (task_state_string()).
func (st *taskStates) Short(state uint64) string {
	buf := "??"
	valid, set := 0, 0
	exclusive := false
	if has(st.Exclusive) {
		exclusive = state&uint64(st.Exclusive) != 0
		state &^= uint64(st.Exclusive)
	}
	is := func(v int64) bool { return has(v) && state&uint64(v) != 0 }
	eq := func(v int64) bool { return has(v) && state == uint64(v) }
	if eq(st.Running) {
		buf = "RU"
		valid++
	}
	if is(st.Interruptible) {
		buf = "IN"
		valid++
		set++
	}
	if is(st.Uninterruptible) {
		if is(st.NoLoad) {
			buf = "ID" // TASK_IDLE
		} else {
			buf = "UN"
		}
		valid++
		set++
	}
	if is(st.Zombie) {
		buf = "ZO"
		valid++
		set++
	}
	if is(st.Stopped) {
		buf = "ST"
		valid++
		set++
	}
	if is(st.Traced) {
		buf = "TR"
		valid++
		set++
	}
	if eq(st.Swapping) {
		buf = "SW"
		valid++
		set++
	}
	if is(st.Dead) && set == 0 {
		buf = "DE"
		valid++
		set++
	}
	if eq(st.Parked) {
		buf = "PA"
		valid++
	}
	if eq(st.Waking) {
		buf = "WA"
		valid++
	}
	if eq(st.New) {
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
	if has(st.Running) && state == uint64(st.Running) {
		return "TASK_RUNNING"
	}
	// st.Dead holds both EXIT_DEAD and TASK_DEAD (see taskStates).
	dead := "EXIT_DEAD"
	if both := state & uint64(st.Dead); both&(both-1) != 0 {
		dead = "EXIT_DEAD|TASK_DEAD"
	}
	var parts []string
	for _, f := range []struct {
		bit  int64
		name string
	}{
		{st.Interruptible, "TASK_INTERRUPTIBLE"},
		{st.Uninterruptible, "TASK_UNINTERRUPTIBLE"},
		{st.Stopped, "TASK_STOPPED"},
		{st.Traced, "TASK_TRACED"},
		{st.Dead, dead},
		{st.Zombie, "EXIT_ZOMBIE"},
		{st.Waking, "TASK_WAKING"},
		{st.Wakekill, "TASK_WAKEKILL"},
		{st.NoLoad, "TASK_NOLOAD"},
		{st.New, "TASK_NEW"},
	} {
		if has(f.bit) && state&uint64(f.bit) != 0 {
			parts = append(parts, f.name)
		}
	}
	if has(st.Parked) && state == uint64(st.Parked) {
		return "TASK_PARKED"
	}
	return strings.Join(parts, "|")
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
