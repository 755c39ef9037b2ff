package commands

import (
	"gocrash/kernel"
)

// SigTaskJSON is sig's answer for one task: its thread group's signal
// dispositions and shared queue, and its own blocked and pending signals.
type SigTaskJSON struct {
	PID          int64           `json:"pid" desc:"PID"`
	Task         Addr            `json:"task" desc:"TASK"`
	CPU          int             `json:"cpu" desc:"CPU"`
	Command      string          `json:"command" desc:"COMMAND"`
	SignalStruct Addr            `json:"signal_struct" desc:"SIGNAL_STRUCT (0: none, nothing else is read)"`
	NrThreads    int64           `json:"nr_threads" desc:"NR_THREADS"`
	Actions      []SigActionJSON `json:"actions" desc:"the k_sigaction of each signal, 1 to 64"`
	SigPending   bool            `json:"sigpending" desc:"SIGPENDING: TIF_SIGPENDING is set"`
	Blocked      Addr            `json:"blocked" desc:"BLOCKED: the blocked sigset (sig -s names its signals)"`
	Pending      Addr            `json:"pending" desc:"PRIVATE_PENDING SIGNAL: the task's pending sigset"`
	Queue        []SigQueuedJSON `json:"queue" desc:"PRIVATE_PENDING SIGQUEUE"`
	SharedSignal Addr            `json:"shared_signal" desc:"SHARED_PENDING SIGNAL: the thread group's pending sigset"`
	SharedQueue  []SigQueuedJSON `json:"shared_queue" desc:"SHARED_PENDING SIGQUEUE"`
	Error        string          `json:"error,omitempty" desc:"foreach sig: why this task's signals could not be read"`
}

// SigActionJSON is one line of sig's SIGACTION table.
type SigActionJSON struct {
	Signal    int      `json:"signal" desc:"SIG"`
	Name      string   `json:"name" desc:"the signal's name, as sig -l gives it"`
	Sigaction Addr     `json:"sigaction" desc:"SIGACTION: the k_sigaction's address"`
	Handler   Addr     `json:"handler" desc:"HANDLER: sa_handler (0 SIG_DFL, 1 SIG_IGN, ffffffffffffffff SIG_ERR)"`
	Mask      Addr     `json:"mask" desc:"MASK: sa_mask"`
	Flags     Addr     `json:"flags" desc:"FLAGS: sa_flags"`
	FlagNames []string `json:"flag_names,omitempty" desc:"the SA_* names of the flags sig prints in parentheses"`
}

// SigQueuedJSON is one queued signal.
type SigQueuedJSON struct {
	Signal  int32 `json:"signal" desc:"SIG"`
	Siginfo Addr  `json:"siginfo" desc:"SIGINFO: the queued siginfo's address"`
}

// sigJSON is sig's JSON for the current context or pid/task arguments;
// -g, -s, -l and -R have none.
func sigJSON(s *Session, args []string) (any, error) {
	_, tasks, err := jsonTasks(s, "sig", args)
	if err != nil {
		return nil, err
	}
	out := []SigTaskJSON{}
	for _, t := range tasks {
		ts, err := s.Signals(s.Ctx(), t.Addr, true)
		if err != nil {
			return nil, err
		}
		out = append(out, sigTaskJSON(t, ts))
	}
	return out, nil
}

func sigName(sig int) string {
	if sig >= sigRTMin {
		return sigRTName(sig)
	}
	if sig > 0 && sig < len(signames) {
		return signames[sig][0]
	}
	return ""
}

// sigTaskJSON is the JSON of what signalData prints.
func sigTaskJSON(t *Task, ts *kernel.TaskSignals) SigTaskJSON {
	j := SigTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, SignalStruct: Addr(ts.SignalStruct),
		Actions: []SigActionJSON{}, Queue: []SigQueuedJSON{}, SharedQueue: []SigQueuedJSON{}}
	if ts.SignalStruct != 0 {
		j.NrThreads = ts.NrThreads
		for i, a := range ts.Actions {
			aj := SigActionJSON{Signal: i + 1, Name: sigName(i + 1), Sigaction: Addr(a.Addr), Handler: Addr(a.Handler), Mask: Addr(a.Mask), Flags: Addr(a.Flags)}
			for _, f := range saFlagNames {
				if a.Flags&f.bit != 0 {
					aj.FlagNames = append(aj.FlagNames, f.name)
				}
			}
			j.Actions = append(j.Actions, aj)
		}
		j.SharedSignal = Addr(ts.SharedSignal)
		for _, q := range ts.SharedQueue {
			j.SharedQueue = append(j.SharedQueue, SigQueuedJSON{Signal: q.Signo, Siginfo: Addr(q.Info)})
		}
	}
	j.SigPending, j.Blocked, j.Pending = ts.SigPending, Addr(ts.Blocked), Addr(ts.Pending)
	for _, q := range ts.Queue {
		j.Queue = append(j.Queue, SigQueuedJSON{Signal: q.Signo, Siginfo: Addr(q.Info)})
	}
	return j
}

func foreachSigJSON(s *Session, f *foreachSpec, tt *taskTable) (func(t *Task) error, func() any, error) {
	out := []SigTaskJSON{}
	run := func(t *Task) error {
		ts, err := s.Signals(s.Ctx(), t.Addr, true)
		if err != nil {
			// foreach goes on to the next task.
			out = append(out, SigTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, Actions: []SigActionJSON{},
				Queue: []SigQueuedJSON{}, SharedQueue: []SigQueuedJSON{}, Error: err.Error()})
			return nil
		}
		out = append(out, sigTaskJSON(t, ts))
		return nil
	}
	return run, func() any { return out }, nil
}
