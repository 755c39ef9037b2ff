package commands

// RunqCPUJSON is one cpu's block of runq.
type RunqCPUJSON struct {
	CPU         int            `json:"cpu" desc:"CPU N"`
	Runqueue    Addr           `json:"runqueue" desc:"RUNQUEUE: the struct rq"`
	Current     *RunqTaskJSON  `json:"current" desc:"CURRENT: the running task; null when rq->curr is no known task"`
	CurrentAddr Addr           `json:"current_addr" desc:"rq->curr"`
	RTPrioArray Addr           `json:"rt_prio_array" desc:"RT PRIO_ARRAY"`
	RT          []RunqTaskJSON `json:"rt" desc:"the queued real-time tasks, in runq's order"`
	CFSRoot     Addr           `json:"cfs_rb_root" desc:"CFS RB_ROOT"`
	CFS         []RunqTaskJSON `json:"cfs" desc:"the queued CFS tasks (those of task groups in their group's place), in runq's order"`
}

// RunqTaskJSON is one "[PRIO] PID: N  TASK: ADDR  COMMAND: "comm"" line.
type RunqTaskJSON struct {
	Prio    int    `json:"prio" desc:"[PRIO]; 0 for CURRENT, which shows none"`
	PID     int64  `json:"pid" desc:"PID"`
	Task    Addr   `json:"task" desc:"TASK"`
	Command string `json:"command" desc:"COMMAND"`
}

// runqJSON is runq's JSON: the default format, and -c.
func runqJSON(s *Session, args []string) (any, error) {
	var cpuArg string
	haveCPU := false
	g := parseFlags("runq", args)
	for g.next() {
		switch g.flag {
		case "c":
			if haveCPU {
				return nil, usageErr("runq", "only one -c option allowed")
			}
			haveCPU, cpuArg = true, g.val
		default:
			return nil, jsonOptionsErr("runq", args)
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	if len(g.rest()) > 0 {
		return nil, &UsageError{Cmd: "runq"}
	}
	ncpu, err := s.NumCPUs()
	if err != nil {
		return nil, err
	}
	var cpus map[int]bool
	if haveCPU {
		if cpus, err = parseCPUList(cpuArg, ncpu); err != nil {
			return nil, err
		}
	}
	w, err := s.runqueueWalker()
	if err != nil {
		return nil, err
	}
	tt, err := s.taskTable()
	if err != nil {
		return nil, err
	}
	// The same walks, in the same order, as runqDefault.
	list := func(walk func(func(QueuedTask) error) error, prio func(QueuedTask) (int, error)) ([]RunqTaskJSON, error) {
		out := []RunqTaskJSON{}
		err := walk(func(q QueuedTask) error {
			t := tt.byTask(q.Task)
			if t == nil {
				return nil
			}
			p, err := prio(q)
			if err != nil {
				return err
			}
			out = append(out, RunqTaskJSON{Prio: p, PID: t.PID, Task: Addr(t.Addr), Command: t.Comm})
			return nil
		})
		return out, err
	}
	out := []RunqCPUJSON{}
	err = s.eachRunqueue(w, cpus, ncpu, func(c runqCPU) error {
		j := RunqCPUJSON{CPU: c.cpu, Runqueue: Addr(c.rq.Addr), CurrentAddr: Addr(c.rq.Curr), RTPrioArray: Addr(c.rq.RTArray), CFSRoot: Addr(c.rq.CFSRoot)}
		if t := tt.byTask(c.rq.Curr); t != nil {
			j.Current = &RunqTaskJSON{PID: t.PID, Task: Addr(t.Addr), Command: t.Comm}
		}
		var err error
		if j.RT, err = list(func(fn func(QueuedTask) error) error { return w.RTTasks(c.rq.RTArray, fn) },
			func(q QueuedTask) (int, error) { return q.Prio, nil }); err != nil {
			return err
		}
		if j.CFS, err = list(func(fn func(QueuedTask) error) error { return w.CFSTasks(c.rq.CFSRq, fn) },
			func(q QueuedTask) (int, error) { return w.taskPrio(q.Task) }); err != nil {
			return err
		}
		out = append(out, j)
		return nil
	})
	return out, err
}
