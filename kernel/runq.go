package kernel

import (
	"context"
	"errors"
)

// The runqueue walks crash's runq prints (task.c dump_CFS_runqueues,
// dump_on_rq_tasks, dump_tasks_by_task_group), as values.

// ErrNoRQClock is the error of a walk that needs rq->clock on a kernel
// whose struct rq has none.
var ErrNoRQClock = errors.New("struct rq has no clock")

// RunqueueOptions choose what Runqueues reads besides each rq's top.
type RunqueueOptions struct {
	CPUs    map[int]bool // the cpus to read; nil: every cpu
	Queues  bool         // the RT and CFS queues
	LastRun bool         // the running task's last-run timestamp
	Clock   bool         // fail with ErrNoRQClock when struct rq has no clock
}

// Runqueues reads the runqueue of each chosen cpu, in cpu order. A walk
// that fails returns the runqueues read before it, the one it failed on
// last (its LastRunRead, RTWalked and CFSWalked say how far it got) unless
// the rq itself could not be read, and the error.
func (k *Kernel) Runqueues(ctx context.Context, opt RunqueueOptions) ([]Runqueue, error) {
	w, err := k.runqueueWalker()
	if err != nil {
		return nil, err
	}
	if opt.Clock && !w.l.hasClock {
		return nil, ErrNoRQClock
	}
	ncpu, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	var tt *TaskTable
	if opt.Queues || opt.LastRun {
		if tt, err = k.Tasks(ctx); err != nil {
			return nil, err
		}
	}
	var out []Runqueue
	for cpu := 0; cpu < ncpu; cpu++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if opt.CPUs != nil && !opt.CPUs[cpu] {
			continue
		}
		rq, err := k.cpuRunqueue(w, cpu)
		if err != nil {
			return out, err
		}
		out = append(out, rq)
		r := &out[len(out)-1]
		if opt.LastRun {
			if tt.ByAddr(r.Curr) != nil {
				if r.CurrLastRun, err = w.lastRun(r.Curr); err != nil {
					return out, err
				}
			}
			r.LastRunRead = true
		}
		if !opt.Queues {
			continue
		}
		err = w.RTTasks(r.RTArray, func(q QueuedTask) error {
			if t := tt.ByAddr(q.Task); t != nil {
				q.PID, q.Comm = t.PID, t.Comm
				r.RT = append(r.RT, q)
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		r.RTWalked = true
		err = w.CFSTasks(r.CFSRq, func(q QueuedTask) error {
			t := tt.ByAddr(q.Task)
			if t == nil {
				return nil
			}
			p, err := w.taskPrio(q.Task)
			if err != nil {
				return err
			}
			q.PID, q.Comm, q.Prio = t.PID, t.Comm, p
			r.CFS = append(r.CFS, q)
			return nil
		})
		if err != nil {
			return out, err
		}
		r.CFSWalked = true
	}
	return out, nil
}

// NoOnRQError is TasksOnRunqueue's error on a kernel whose task_struct
// has no on_rq.
type NoOnRQError struct{ Err error }

func (e *NoOnRQError) Error() string { return e.Err.Error() }
func (e *NoOnRQError) Unwrap() error { return e.Err }

// CPUTasks are the tasks of one cpu.
type CPUTasks struct {
	CPU   int
	Tasks []QueuedTask
	// Complete is false for the cpu a failed walk stopped on.
	Complete bool
}

// TasksOnRunqueue is crash's runq -d: for each chosen cpu (nil: every
// one), the tasks of the task table, in its order, that the table places
// on that cpu and whose task_struct.on_rq is set, with task_struct.prio.
func (k *Kernel) TasksOnRunqueue(ctx context.Context, cpus map[int]bool) ([]CPUTasks, error) {
	w, err := k.runqueueWalker()
	if err != nil {
		return nil, err
	}
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	onRQOff, err := t.Offset("task_struct.on_rq")
	if err != nil {
		return nil, &NoOnRQError{Err: err}
	}
	ncpu, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	tt, err := k.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	var out []CPUTasks
	for cpu := 0; cpu < ncpu; cpu++ {
		if cpus != nil && !cpus[cpu] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out = append(out, CPUTasks{CPU: cpu})
		c := &out[len(out)-1]
		for _, task := range tt.All() {
			if task.CPU != cpu {
				continue
			}
			on, err := w.i32(task.Addr+uint64(onRQOff), "task_struct.on_rq")
			if err != nil {
				return out, err
			}
			if on == 0 {
				continue
			}
			prio, err := w.taskPrio(task.Addr)
			if err != nil {
				return out, err
			}
			c.Tasks = append(c.Tasks, QueuedTask{Task: task.Addr, PID: task.PID, Comm: task.Comm, Prio: prio})
		}
		c.Complete = true
	}
	return out, nil
}
