package commands

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "waitq",
		Summary:  "list tasks queued on a wait queue",
		Synopsis: " [ symbol ] | [ struct.member struct_addr ] | [ address ]",
		Description: `  This command walks the wait queue (a struct wait_queue_head: its head
  list of struct wait_queue_entry) named by a symbol, by a member of a
  structure at an address, or at an address, and shows each waiting task.`,
		Operands: []Operand{
			{"symbol", "a kernel variable that is a wait_queue_head_t."},
			{"struct.member struct_addr", "the wait queue head at that member of the structure at struct_addr."},
			{"address", "the address of a wait_queue_head_t."},
		},
		Examples: `  An empty wait queue:

    crash> waitq log_wait
    wait queue "log_wait" (ffffffff8d8a7030) is empty`,
		Run: runWaitq,
	})
}

func runWaitq(s *Session, args []string, w io.Writer) error {
	return waitqInto(s, args, w, nil)
}

// waitqInto is waitq, also filling js when it is not nil (waitq's JSON).
func waitqInto(s *Session, args []string, w io.Writer, js *WaitqJSON) error {
	if len(args) < 1 || len(args) > 2 {
		return usageErr("waitq", "")
	}
	var q uint64
	name := ""
	if v, ok := parseHexArg(args[0]); ok && isNumberWord(args[0]) {
		q = v
	} else if st, mem, ok := strings.Cut(args[0], "."); ok {
		if len(args) != 2 {
			fmt.Fprintf(w, "must supply an address for %s\n", st)
			return nil
		}
		base, ok := parseHexArg(args[1])
		if !ok {
			return fmt.Errorf("invalid address: %s", args[1])
		}
		t, err := s.Types()
		if err != nil {
			return err
		}
		m, err := t.Member(st, mem)
		if err != nil {
			fmt.Fprintf(w, "%s is not a member of %s\n", mem, st)
			return nil
		}
		q = base + uint64(m.Offset)
	} else {
		a, ok := s.Vmlinux.Lookup(args[0])
		if !ok {
			return fmt.Errorf("cannot resolve \"%s\"", args[0])
		}
		q, name = a, args[0]
	}
	if q == 0 || q < 0xff00000000000000 {
		return nil
	}
	if js != nil {
		js.Queue, js.Name, js.Tasks = Addr(q), name, []WaitqTaskJSON{}
	}
	entries, err := s.WaitQueue(s.Ctx(), q)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	var le *kernel.ListEntryError
	switch {
	case errors.As(err, &le):
		if len(entries) == 0 {
			return classifyReadError(le.Err, kvaddr, le.Addr, cmp.Or(le.What, "list entry"), s.dumpFormat())
		}
	case errors.Is(err, kernel.ErrDuplicateEntry):
		// crash's error(FATAL, "\nduplicate list entry: %lx\n").
		fmt.Fprintf(bw, "\nwaitq: %v\n", err)
		return &printedError{err: err}
	case err != nil:
		return err
	}
	if len(entries) == 0 {
		if name != "" {
			fmt.Fprintf(bw, "wait queue \"%s\" (%x) is empty\n", name, q)
		} else {
			fmt.Fprintf(bw, "wait queue %x is empty\n", q)
		}
		return nil
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	for _, task := range entries {
		t := tt.byTask(task)
		if t == nil {
			if owner, ok := s.stackTask(task); ok {
				t = tt.byTask(owner)
			}
		}
		if t == nil {
			return nil
		}
		bw.WriteString(taskHeader(t))
		if js != nil {
			js.Tasks = append(js.Tasks, WaitqTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm})
		}
	}
	if le != nil {
		// The task pointer of an entry after the ones shown could not be
		// read.
		return classifyReadError(le.Err, kvaddr, le.Addr, le.What, s.dumpFormat())
	}
	return nil
}
