package commands

// task: a task's task_struct and thread_info in gdb's format (crash's
// task.c cmd_task(), do_task(), task_struct_member(), parse_task_thread()).
// The structures are printed by the struct command's formatter
// (FormatObject); -R picks members out of that text as crash does.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "task",
		Summary:  "task_struct and thread_info contents",
		Synopsis: "[-R member[,member]] [-dx] [pid | taskp] ...",
		Description: `  This command dumps a formatted display of the contents of a task's
  task_struct and thread_info structures.  Multiple task or PID numbers
  may be entered; if no arguments are entered, the task_struct and
  thread_info structures of the current context are displayed.  The -R option,
  which may also be invoked indirectly via "foreach task", pares the output
  down to one or more structure members.`,
		Flags: []Flag{
			{Name: "R", Arg: "member", Help: `a comma-separated list of one or more task_struct and/or thread_info structure members.  If any member contains an embedded structure, or is an array, the output may be restricted to the embedded structure or an array element by expressing the member argument as "member.member" or "member[index]"; embedded member specifications may extend beyond one level deep, by expressing the member argument as "member.member.member...".`},
			{Name: "x", Help: "override default output format with hexadecimal format."},
			{Name: "d", Help: "override default output format with decimal format."},
			{Name: "h", Help: "the same as -x (crash's cmd_task takes -h for -x; its synopsis leaves it out).", Hidden: true},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"taskp", "a hexadecimal task_struct pointer."},
		},
		Notes: `  A member name may also be given without -R, as a word of its own
  ("task 1 pid,comm").  On kernels that keep the thread_info inside the
  task_struct (CONFIG_THREAD_INFO_IN_TASK) the thread_info shown is that
  embedded one.`,
		Examples: `  The pid and command name of PID 1:

    crash> task -R pid,comm 1
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
      pid = 1,
      comm = "init\000\000\000\000\000\000\000\000\000\000\000",
    ...

  A member of an embedded structure, with another member:

    crash> task -R se.avg.util_avg,pid 1
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
      se.avg.util_avg = 99,
      pid = 1,
    ...

  The whole task_struct and thread_info of the current context (the
  task that panicked, at start-up):

    crash> task
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
    struct task_struct {
      thread_info = {
        flags = 0,
    ...

  The same in hexadecimal, and the flags of every task:

    crash> task -x
    crash> foreach task -R flags`,
		Run: runTask,
	})
	foreachKeywords["task"] = foreachCommand{start: foreachTask}
}

func runTask(s *Session, args []string, w io.Writer) error {
	radix := 0
	var refs []string
	g := parseFlags("task", args)
	for g.next() {
		switch g.flag {
		case "x", "h":
			if err := setRadix(&radix, 16); err != nil {
				return err
			}
		case "d":
			if err := setRadix(&radix, 10); err != nil {
				return err
			}
		case "R":
			refs = append(refs, g.val)
		}
	}
	if g.err != nil {
		return g.err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	if _, err := s.Types(); err != nil {
		return err
	}
	t := s.valueTypes()
	var list []*Task
	bogus := 0
	var failed error
	for _, a := range g.rest() {
		if isNumberArg(a) {
			pid, task, ok := tt.strToContext(a)
			switch {
			case !ok:
				bogus++
				fmt.Fprintf(w, "task: invalid task or pid value: %s\n\n", a)
				failed = fmt.Errorf("invalid task or pid value: %s", a)
			default:
				list = append(list, tt.selected(pid, task)...)
			}
			continue
		}
		if strings.Contains(a, ",") || t.HasMember("task_struct", a) || strings.ContainsAny(a, ".[") {
			refs = append(refs, a)
			continue
		}
		fmt.Fprintf(w, "task: invalid task, pid, or task_struct member: %s\n\n", a)
		failed = fmt.Errorf("invalid task, pid, or task_struct member: %s", a)
	}
	if len(list) == 0 && bogus == 0 {
		ctx, err := s.Context()
		if err != nil {
			return err
		}
		c := tt.byTask(ctx)
		if c == nil {
			return fmt.Errorf("context task %x is not in the task table", ctx)
		}
		list = append(list, c)
	}
	r := &taskRun{s: s, w: w, t: t, radix: radix, ref: strings.Join(refs, ",")}
	for _, tk := range list {
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		if err := r.do(tk, false); err != nil {
			fmt.Fprintf(w, "task: %v\n", err)
			failed = err
		}
	}
	if failed != nil {
		return &printedError{err: failed}
	}
	return nil
}

// taskRun is one task command (or foreach task).
type taskRun struct {
	s     *Session
	w     io.Writer
	t     *symbols.Types
	radix int    // 0: the default (decimal), 10 or 16
	ref   string // -R members, comma-separated; "" for the whole structures
}

// do is crash's do_task(): the header (foreach prints its own unless -R
// is given), the structures or the members asked for, a blank line.
func (r *taskRun) do(tk *Task, foreach bool) error {
	var b bytes.Buffer
	if r.ref != "" || !foreach {
		b.WriteString(taskHeader(tk))
	}
	text, err := r.structs(tk.Addr, r.ref == "")
	if err != nil {
		r.w.Write(b.Bytes())
		return err
	}
	if r.ref == "" {
		b.WriteString(text)
	} else {
		r.members(&b, text)
	}
	b.WriteByte('\n')
	_, err = r.w.Write(b.Bytes())
	return err
}

// structs is the task_struct's text and, where the kernel has a
// thread_info (crash's THREAD_INFO flag: task_struct.thread_info, or the
// thread_info at task_struct.stack), the thread_info's; sep puts a blank
// line between them (the whole display; -R's search text has none).
func (r *taskRun) structs(task uint64, sep bool) (string, error) {
	var b bytes.Buffer
	obj, err := r.t.Object(r.s.Mem, task, "task_struct")
	if err != nil {
		return "", err
	}
	if err := r.s.FormatObject(&b, obj, r.radix == 16); err != nil {
		return "", fmt.Errorf("task_struct %x: %w", task, err)
	}
	ti, ok, err := r.threadInfo(task)
	if err != nil {
		return "", err
	}
	if ok {
		if sep {
			b.WriteByte('\n')
		}
		o, err := r.t.Object(r.s.Mem, ti, "thread_info")
		if err != nil {
			return "", err
		}
		if err := r.s.FormatObject(&b, o, r.radix == 16); err != nil {
			return "", fmt.Errorf("thread_info %x: %w", ti, err)
		}
	}
	return b.String(), nil
}

// threadInfo is crash's tc->thread_info: the task_struct's own
// thread_info member when it is a structure (THREAD_INFO_IN_TASK), the
// pointer it holds on older kernels, else the base of the stack.
func (r *taskRun) threadInfo(task uint64) (uint64, bool, error) {
	obj, err := r.t.Object(r.s.Mem, task, "task_struct")
	if err != nil {
		return 0, false, err
	}
	if m, err := obj.Member("thread_info"); err == nil {
		if _, err := r.t.Member("task_struct", "thread_info.flags"); err == nil {
			return m.Addr, true, nil
		}
		v, err := m.Uint()
		return v, err == nil, err
	}
	if m, err := obj.Member("stack"); err == nil {
		v, err := m.Uint()
		return v, err == nil, err
	}
	return 0, false, nil
}

// members is crash's task_struct_member(): each -R member picked out of
// the structures' text, "a.b" and "a[i]" as the struct command picks
// them, a plain name by parse_task_thread()'s line search.
func (r *taskRun) members(b *bytes.Buffer, text string) {
	for _, m := range strings.Fields(strings.ReplaceAll(r.ref, ",", " ")) {
		if strings.ContainsAny(m, ".[") {
			out, err := parseForMemberExtended(text, m)
			b.WriteString(out)
			if err != nil {
				fmt.Fprintf(b, "task: %v\n", err)
			}
			continue
		}
		if !r.t.HasMember("task_struct", m) && !r.t.HasMember("thread_info", m) {
			// crash's error() from inside its gdb request: on the
			// terminal, not in a redirected file.
			fmt.Fprintf(r.s.diag(b), "task: %s: not a task_struct or thread_info member\n", m)
		}
		parseTaskThread(b, text, m)
	}
}

// parseTaskThread is crash's parse_task_thread(): every line of text
// starting "  NAME = " (four spaces inside a randomized layout's
// anonymous block), and when it opens a block, the lines to its end.
func parseTaskThread(b *bytes.Buffer, text, name string) {
	randomized := false
	look2, look3 := "", ""
	for _, buf := range strings.SplitAfter(text, "\n") {
		if buf == "" {
			continue
		}
		if buf == "  {\n" {
			randomized = true
		} else if randomized && (buf == "  }, \n" || buf == "  },\n") {
			randomized = false
		}
		if look2 != "" {
			b.WriteString(buf)
			if strings.HasPrefix(buf, look2) {
				look2 = ""
			}
			continue
		}
		if look3 != "" {
			b.WriteString(buf)
			if strings.Contains(buf, look3) {
				look3 = ""
			}
			continue
		}
		ind := ""
		if randomized {
			ind = "  "
		}
		if !strings.HasPrefix(buf, ind+"  "+name+" = ") {
			continue
		}
		b.WriteString(buf)
		switch {
		case strings.Contains(buf, "{{\n"):
			look2 = ind + "    }},"
		case strings.Contains(buf, " = {\n"):
			look2 = strings.Repeat(" ", leadingSpaces(buf)) + "}"
		case strings.Contains(buf, "{"):
			look3 = "},"
		}
	}
}

// foreachTask is foreach's task keyword: -R, -x or -d as task's.
func foreachTask(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	if f.has('x') && f.has('d') {
		return foreachRunner{}, errors.New("task: -x and -d options are mutually exclusive")
	}
	if _, err := s.Types(); err != nil {
		return foreachRunner{}, err
	}
	r := &taskRun{s: s, w: w, t: s.valueTypes(), ref: f.ref}
	if f.has('x') {
		r.radix = 16
	} else if f.has('d') {
		r.radix = 10
	}
	return foreachRunner{header: f.ref == "", run: func(tk *Task) error {
		if err := r.do(tk, true); err != nil {
			fmt.Fprintf(w, "task: %v\n", err)
		}
		return nil
	}}, nil
}
