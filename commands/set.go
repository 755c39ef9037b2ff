package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// set: crash's context command (tools.c cmd_set(), task.c show_context()):
// the task that bt, rd -u and friends act on by default.

func init() {
	register(Command{
		Name:    "set",
		Usage:   "set [pid | taskp | [-c cpu] | -p] | [zero_excluded [on | off]]",
		Summary: "set a process context",
		Help: `  This command either sets a new context, or gets the current context for
  display.  The context can be set by the use of:

      pid  a process PID.
    taskp  a hexadecimal task_struct pointer.
   -c cpu  sets the context to the active task on a cpu.
       -p  sets the context to the panic task.

  If no argument is entered, the current context is displayed.  The context
  consists of the PID, the task pointer, the CPU, and task state.  The task
  state shows the bits found in both the task_struct state and exit_state
  fields.

  Of crash's internal variables gocrash has one:

    zero_excluded  on | off     controls whether excluded pages, or pages that
                                are missing from an incomplete dumpfile, should
                                return zero-filled memory when read.

  It starts off unless gocrash was started with --zero-excluded.  Others
  (scroll, radix, ...) are not settings of gocrash.

EXAMPLES
  Show the current context:

    crash> set
        PID: 1
    COMMAND: "init"
       TASK: ff2c138f00198000  [THREAD_INFO: ff2c138f00198000]
        CPU: 0
      STATE: TASK_RUNNING (PANIC)

  Make kthreadd the context:

    crash> set 2
        PID: 2
    COMMAND: "kthreadd"
       TASK: ff2c138f00199480  [THREAD_INFO: ff2c138f00199480]
        CPU: 1
      STATE: TASK_INTERRUPTIBLE

  Back to the panic task:

    crash> set -p

  Read pages makedumpfile left out of the dump as zeroes:

    crash> set zero_excluded on
    zero_excluded: on`,
		Options: []string{"-c", "-p"},
		Run:     runSet,
	})
}

func runSet(s *Session, args []string, w io.Writer) error {
	if len(args) >= 1 && args[0] == "zero_excluded" {
		return setZeroExcluded(s, args[1:], w)
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	var task *Task
	switch {
	case len(args) == 0:
		ctx, err := s.Context()
		if err != nil {
			return err
		}
		if task = tt.byTask(ctx); task == nil {
			return fmt.Errorf("context task %#x is not in the task table", ctx)
		}
	case args[0] == "-p" && len(args) == 1:
		if tt.panic == 0 {
			_, err := s.PanicTask()
			return fmt.Errorf("no panic task: %v", err)
		}
		if task = tt.byTask(tt.panic); task == nil {
			return fmt.Errorf("panic task %#x is not in the task table", tt.panic)
		}
	case args[0] == "-c" && len(args) == 2 || strings.HasPrefix(args[0], "-c") && len(args[0]) > 2 && len(args) == 1:
		spec := strings.TrimPrefix(args[0], "-c")
		if spec == "" {
			spec = args[1]
		}
		cpu, err := strconv.Atoi(spec)
		n, nerr := s.NumCPUs()
		if nerr != nil {
			return nerr
		}
		if err != nil || cpu < 0 || cpu >= n {
			return fmt.Errorf("invalid cpu specification: %s", spec)
		}
		a, err := s.ActiveTask(cpu)
		if err != nil {
			return err
		}
		if task = tt.byTask(a); task == nil {
			return fmt.Errorf("active task %#x of cpu %d is not in the task table", a, cpu)
		}
	case len(args) == 1 && !strings.HasPrefix(args[0], "-"):
		if !isNumber(args[0]) {
			return fmt.Errorf("invalid argument: %s (crash's internal variables are not gocrash settings)", args[0])
		}
		if task, err = tt.lookup(args[0]); err != nil {
			return fmt.Errorf("invalid task or pid value: %s", args[0])
		}
	default:
		return &UsageError{Cmd: "set"}
	}
	s.SetContext(task.Addr)
	states, err := s.taskStates()
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, s.contextBlock(tt, states, task))
	return err
}

// contextBlock is crash's show_context() as the set command prints it.
func (s *Session) contextBlock(tt *taskTable, states *taskStates, t *Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    PID: %d\nCOMMAND: \"%s\"\n   TASK: %x  ", t.PID, t.Comm, t.Addr)
	same := 0
	for i := range tt.tasks {
		if tt.tasks[i].PID == t.PID {
			same++
		}
	}
	if same > 1 {
		fmt.Fprintf(&b, "(1 of %d)  ", same)
	}
	// THREAD_INFO: embedded at the start of task_struct since 4.9
	// (THREAD_INFO_IN_TASK), else task_struct.stack.
	ti := t.Addr
	if ty, err := s.Types(); err == nil {
		if off, err := ty.Offset("task_struct.thread_info"); err == nil {
			ti = t.Addr + uint64(off)
		} else if o, err := s.Object(t.Addr, "task_struct"); err == nil {
			if m, err := o.Member("stack"); err == nil {
				if p, err := m.Pointer(); err == nil {
					ti = p
				}
			}
		}
	}
	fmt.Fprintf(&b, "[THREAD_INFO: %x]\n", ti)
	fmt.Fprintf(&b, "    CPU: %d\n", t.CPU)
	fmt.Fprintf(&b, "  STATE: %s ", states.Long(t.State))
	if tt.active[t.Addr] {
		if t.Addr == tt.panic {
			b.WriteString("(PANIC)")
		} else {
			b.WriteString("(ACTIVE)")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// setZeroExcluded is crash's "set zero_excluded [on|off]": with no value it
// shows the setting, like crash.
func setZeroExcluded(s *Session, args []string, w io.Writer) error {
	if s == nil || s.Dump == nil {
		return fmt.Errorf("no dump open")
	}
	switch {
	case len(args) == 0:
	case len(args) == 1 && (args[0] == "on" || args[0] == "1"):
		s.Dump.SetZeroExcluded(true)
	case len(args) == 1 && (args[0] == "off" || args[0] == "0"):
		s.Dump.SetZeroExcluded(false)
	default:
		return usageErr("set", "invalid zero_excluded setting: %s (on or off)", strings.Join(args, " "))
	}
	state := "off"
	if s.Dump.ZeroExcluded() {
		state = "on"
	}
	_, err := fmt.Fprintf(w, "zero_excluded: %s\n", state)
	return err
}
