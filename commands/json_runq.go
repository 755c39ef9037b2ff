package commands

import "gocrash/kernel"

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
	rqs, err := s.Runqueues(s.Ctx(), kernel.RunqueueOptions{CPUs: cpus, Queues: true})
	tt, terr := s.taskTable()
	if terr != nil {
		return nil, terr
	}
	list := func(qs []kernel.QueuedTask) []RunqTaskJSON {
		out := []RunqTaskJSON{}
		for _, q := range qs {
			out = append(out, RunqTaskJSON{Prio: q.Prio, PID: q.PID, Task: Addr(q.Task), Command: q.Comm})
		}
		return out
	}
	out := []RunqCPUJSON{}
	for _, rq := range rqs {
		if !rq.CFSWalked { // the cpu a failed walk stopped on
			break
		}
		j := RunqCPUJSON{CPU: rq.CPU, Runqueue: Addr(rq.Addr), CurrentAddr: Addr(rq.Curr), RTPrioArray: Addr(rq.RTArray), CFSRoot: Addr(rq.CFSRoot),
			RT: list(rq.RT), CFS: list(rq.CFS)}
		if t := tt.byTask(rq.Curr); t != nil {
			j.Current = &RunqTaskJSON{PID: t.PID, Task: Addr(t.Addr), Command: t.Comm}
		}
		out = append(out, j)
	}
	return out, err
}
