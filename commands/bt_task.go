package commands

// What bt needs to know of a task: its PID, name, CPU and stack, whether
// it was running when the dump was taken, and the task table crash
// resolves "bt PID" and "bt TASK" arguments against.

import (
	"strconv"
	"strings"

	"gocrash/kernel"
)

// btTask is one task as bt's header shows it.
type btTask = kernel.BacktraceTask

// btTable is bt's view of the task table (kernel.Tasks): every thread
// and the idle task of every cpu, by pid, and the cpu each active task
// was running on.
type btTable struct {
	tasks  []uint64 // in the task table's order
	byTask map[uint64]bool
	pids   map[int64][]uint64
	// active maps a task running on a cpu at the time of the dump to that
	// cpu (crash's panic_threads[]: runqueues.curr of each cpu).
	active map[uint64]int
	cpus   int
}

func (s *Session) btTaskTable() (*btTable, error) {
	tt, err := s.Tasks(s.Ctx())
	if err != nil {
		return nil, err
	}
	tb := &btTable{byTask: map[uint64]bool{}, pids: map[int64][]uint64{}, active: map[uint64]int{}}
	if tb.cpus, err = s.NumCPUs(); err != nil {
		return nil, err
	}
	for _, t := range tt.All() {
		tb.byTask[t.Addr] = true
		tb.tasks = append(tb.tasks, t.Addr)
		tb.pids[t.PID] = append(tb.pids[t.PID], t.Addr)
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
