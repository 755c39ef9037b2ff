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
		Name:     "set",
		Summary:  "set a process context or internal variable",
		Synopsis: "[[-a] [pid | taskp] | [-c cpu] | -p] | [crash_variable [setting]] | -v",
		Description: `  This command either sets a new context, or gets the current context for
  display.  If no argument is entered, the current context is displayed.
  The context consists of the PID, the task pointer, the CPU, and task
  state.  The task state shows the bits found in both the task_struct state
  and exit_state fields.

  This command also shows and changes gocrash's internal variables: with a
  variable's name and no value it shows the value; "set -v" shows them all,
  in crash's layout.  These are the variables, what they take and what
  they do:

           scroll  on | off     controls output paging on a terminal: long
                                output goes through $CRASHPAGER, else
                                "/usr/bin/less -E -X", else /bin/more.
           scroll  less | more | CRASHPAGER
                                chooses the pager.
           silent  on | off     no "crash> LINE" echo of batch commands.
    zero_excluded  on | off     controls whether excluded pages, or pages that
                                are missing from an incomplete dumpfile, should
                                return zero-filled memory when read (off unless
                                gocrash was started with --zero-excluded).
     unwind_notes  on | off     gocrash's own, off by default: bt ends a
                                backtrace with a line naming the frames DWARF
                                CFI or the frame-pointer chain found where the
                                kernel's ORC data could not unwind.  crash
                                prints no such line.
            radix  10 | 16      the output radix of p, struct and union
                                without -x or -d.
        print_max  number       the most elements of an array or characters
                                of a string printed (256).
         namelist  (shown only) the vmlinux of this session.
         dumpfile  (shown only) the dump of this session.
           output  text | json  gocrash's own: json prints every command that
                                has a JSON form as one JSON document.

  "set -v" also shows crash's other variables (refresh, print_array,
  console, debug, core, hash, edit, unwind, null-stop, gdb, scope,
  offline, redzone, error) with the value gocrash's behaviour has; they
  cannot be changed.  gocrash's own variables (output, unwind_notes) are
  not in "set -v", as crash has none of them: "set NAME" shows each.
  Variables may also be set in $HOME/.crashrc,
  $HOME/.gocrashrc, ./.crashrc and ./.gocrashrc, read in that order at
  start.`,
		Flags: []Flag{
			{Name: "a", Help: "marks the task (a pid or task_struct address) as the active task on its cpu: ps marks it with \">\", bt -a, foreach active and set -c take it for that cpu's, instead of the task the dump found running there.  Its backtrace still starts from its saved context, not from the cpu's registers in the dump."},
			{Name: "c", Arg: "cpu", Help: "sets the context to the active task on a cpu."},
			{Name: "p", Help: "sets the context to the panic task."},
			{Name: "v", Help: "display the current state of the internal variables."},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"taskp", "a hexadecimal task_struct pointer."},
		},
		Examples: `  Show the current context:

    crash> set
        PID: 1
    COMMAND: "init"
       TASK: ff42bab500198000  [THREAD_INFO: ff42bab500198000]
        CPU: 0
      STATE: TASK_RUNNING (PANIC)

  Make kthreadd the context:

    crash> set 2
        PID: 2
    COMMAND: "kthreadd"
       TASK: ff42bab500199500  [THREAD_INFO: ff42bab500199500]
        CPU: 0
      STATE: TASK_INTERRUPTIBLE

  Back to the panic task:

    crash> set -p

  Mark a task as its cpu's active task (here init, which already is):

    crash> set -a 1
    "init" task ff42bab500198000 has been marked as the active task on cpu 0

  Read pages makedumpfile left out of the dump as zeroes:

    crash> set zero_excluded on
    zero_excluded: on

  Turn off the pager, and list the settings:

    crash> set scroll off
    scroll: off (/usr/bin/less)
    crash> set -v`,
		Run: runSet,
	})
}

func runSet(s *Session, args []string, w io.Writer) error {
	if len(args) == 1 && args[0] == "-v" {
		_, err := io.WriteString(w, writeSettings(s.Settings()))
		return err
	}
	if len(args) >= 1 && !strings.HasPrefix(args[0], "-") && !isNumber(args[0]) {
		st, ok := s.Settings().Lookup(args[0])
		if !ok {
			return fmt.Errorf("gocrash has no %q setting (\"set -v\" lists them)", args[0])
		}
		return runSetVariable(s, st, args[1:], func(t string) error {
			_, err := io.WriteString(w, t)
			return err
		})
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	if len(args) > 0 && strings.HasPrefix(args[0], "-a") {
		arg := strings.TrimPrefix(args[0], "-a")
		if arg == "" {
			if len(args) < 2 {
				return usageErr("set", "option requires an argument -- 'a'")
			}
			arg = args[1]
		}
		return setActive(s, tt, arg, w)
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
		if task, err = tt.lookup(args[0]); err != nil {
			return fmt.Errorf("invalid task or pid value: %s", args[0])
		}
	case strings.HasPrefix(args[0], "-") && len(args[0]) > 1 && !strings.ContainsAny(args[0][1:2], "acpv"):
		// getopt's words, as crash prints them.
		return usageErr("set", "invalid option -- '%c'", args[0][1])
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

// setActive is crash's "set -a": the task becomes the active task of its
// cpu (tt->active_set[cpu]) for the rest of the session.
func setActive(s *Session, tt *taskTable, arg string, w io.Writer) error {
	pid, addr, ok := tt.strToContext(arg)
	if !ok {
		return fmt.Errorf("invalid task or pid value: %s", arg)
	}
	var t *Task
	if addr != 0 {
		t = tt.byTask(addr)
	} else {
		n := 0
		for i := range tt.tasks {
			if tt.tasks[i].PID == pid {
				if n == 0 {
					t = &tt.tasks[i]
				}
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("pid %d has %d tasks: use a task address", pid, n)
		}
	}
	if t == nil {
		return fmt.Errorf("invalid task or pid value: %s", arg)
	}
	s.activeMu.Lock()
	if s.activeSet == nil {
		s.activeSet = map[int]uint64{}
	}
	s.activeSet[t.CPU] = t.Addr
	s.activeMu.Unlock()
	_, err := fmt.Fprintf(w, "\"%s\" task %x has been marked as the active task on cpu %d\n", t.Comm, t.Addr, t.CPU)
	return err
}

// ActiveTask is the kernel's active task of cpu (runqueues.curr), or the
// task "set -a" marked active there.
func (s *Session) ActiveTask(cpu int) (uint64, error) {
	s.activeMu.Lock()
	t, ok := s.activeSet[cpu]
	s.activeMu.Unlock()
	if ok {
		return t, nil
	}
	return s.Kernel.ActiveTask(cpu)
}

// markedActive applies "set -a" to a set of active tasks: each marked
// cpu's task replaces the one the dump found there.
func (s *Session) markedActive(active map[uint64]bool) map[uint64]bool {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	if len(s.activeSet) == 0 {
		return active
	}
	out := make(map[uint64]bool, len(active))
	for t, v := range active {
		out[t] = v
	}
	for cpu, t := range s.activeSet {
		if old, err := s.Kernel.ActiveTask(cpu); err == nil && old != t {
			delete(out, old)
		}
		out[t] = true
	}
	return out
}
