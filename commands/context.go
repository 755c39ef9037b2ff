package commands

import (
	"fmt"
	"strings"
)

// taskContext is what crash's show_context() (task.c) shows of a task:
// at start-up for the panic task, indented by 5, and for set, foreach
// set and "set PID", not indented.
type taskContext struct {
	task       Task
	perPID     int    // crash's TASKS_PER_PID: tasks with this pid (the idle tasks share 0)
	threadInfo uint64 // tc->thread_info
	state      string // task_state_string(VERBOSE)
	active     bool   // is_task_active(): rq->curr of a cpu, or the panic task
	panic      bool   // the panic task
}

// formatContext is show_context()'s layout.
func formatContext(c taskContext, indent int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	fmt.Fprintf(&b, "%s    PID: %d\n%sCOMMAND: \"%s\"\n%s   TASK: %x  ", pad, c.task.PID, pad, c.task.Comm, pad, c.task.Addr)
	if c.perPID > 1 {
		fmt.Fprintf(&b, "(1 of %d)  ", c.perPID)
	}
	fmt.Fprintf(&b, "[THREAD_INFO: %x]\n", c.threadInfo)
	fmt.Fprintf(&b, "%s    CPU: %d\n", pad, c.task.CPU)
	fmt.Fprintf(&b, "%s  STATE: %s ", pad, c.state)
	if c.active {
		if c.panic {
			b.WriteString("(PANIC)")
		} else {
			b.WriteString("(ACTIVE)")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// contextOf gathers show_context()'s facts for task from the task table;
// when the table cannot be built (a damaged task list), from the task
// itself and the runqueues, so that start-up still shows the panic task.
func (s *Session) contextOf(task uint64) (taskContext, error) {
	states, err := s.taskStates()
	if err != nil {
		return taskContext{}, err
	}
	if tt, err := s.taskTable(); err == nil {
		if t := tt.byTask(task); t != nil {
			return s.tableContext(tt, states, t), nil
		}
	}
	t, err := s.ReadTask(task)
	if err != nil {
		return taskContext{}, err
	}
	c := taskContext{task: t, perPID: 1, threadInfo: s.threadInfo(task), state: states.Long(t.State)}
	if t.PID == 0 {
		if idle, err := s.IdleTasks(); err == nil {
			c.perPID = len(idle)
		}
	}
	if p, err := s.PanicTask(); err == nil && p == task {
		c.active, c.panic = true, true
	} else if a, err := s.ActiveTask(t.CPU); err == nil && a == task {
		c.active = true
	}
	return c, nil
}

// tableContext is show_context()'s facts for a task of the task table.
func (s *Session) tableContext(tt *taskTable, states *taskStates, t *Task) taskContext {
	same := 0
	for i := range tt.tasks {
		if tt.tasks[i].PID == t.PID {
			same++
		}
	}
	return taskContext{
		task:       *t,
		perPID:     same,
		threadInfo: s.threadInfo(t.Addr),
		state:      states.Long(t.State),
		active:     tt.active[t.Addr],
		panic:      t.Addr == tt.panic,
	}
}

// contextBlock is crash's show_context() as the set command prints it.
func (s *Session) contextBlock(tt *taskTable, states *taskStates, t *Task) string {
	return formatContext(s.tableContext(tt, states, t), 0)
}

// threadInfo is a task's thread_info: embedded at the start of
// task_struct since 4.9 (THREAD_INFO_IN_TASK), else task_struct.stack.
func (s *Session) threadInfo(task uint64) uint64 {
	ti := task
	if ty, err := s.Layouts(); err == nil {
		if off, err := ty.Offset("task_struct.thread_info"); err == nil {
			ti = task + uint64(off)
		} else if o, err := s.Object(task, "task_struct"); err == nil {
			if m, err := o.Member("stack"); err == nil {
				if p, err := m.Pointer(); err == nil {
					ti = p
				}
			}
		}
	}
	return ti
}
