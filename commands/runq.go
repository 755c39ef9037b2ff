package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gocrash/kernel"
)

// runq: the tasks queued on each cpu's runqueue, in the layout of crash
// 8.0.6's cmd_runq (task.c dump_CFS_runqueues, dump_on_rq_timestamp,
// dump_on_rq_lag, dump_on_rq_milliseconds).

func init() {
	register(Command{
		Name:     "runq",
		Summary:  "run queue",
		Synopsis: "[-t] [-T] [-m] [-g] [-c cpu(s)]",
		Description: `  With no argument, this command displays the tasks on the run queues of
  each cpu: the task running on the cpu, then the real-time tasks of the
  rt_prio_array by priority and the CFS tasks in the order of the
  red-black tree, each with its priority.  Tasks of task groups are shown
  in the place of their group's entity.`,
		Flags: []Flag{
			{Name: "t", Help: "display the timestamp of each cpu's runqueue (rq->clock) and the last-run timestamp of its current task, in nanoseconds."},
			{Name: "T", Help: "display the time lag of each cpu relative to the most recent runqueue timestamp."},
			{Name: "m", Help: "display the time the active task of each cpu has been running, in days hh:mm:ss.ms."},
			{Name: "g", Help: "display the tasks hierarchically by task group: each group's TASK_GROUP and CFS_RQ/RT_RQ with its cgroup name, its tasks indented below it, the running task marked [CURRENT]."},
			// crash 8.0.6 has -d but leaves it out of its synopsis
			// (help.c help_runq), which it prints on a usage error.
			{Name: "d", Hidden: true, Help: "display every task whose on_rq is set, by the cpu of the task (a check of the queues against the tasks' own view)."},
			{Name: "c", Arg: "cpu(s)", Help: `restrict the output to these cpus: "1", "0,3", "1-2", "all".`},
		},
		Examples: `  Display the run queues:

    crash> runq
    CPU 0 RUNQUEUE: ff42bab50e621d80
      CURRENT: PID: 1      TASK: ff42bab500198000  COMMAND: "init"
      RT PRIO_ARRAY: ff42bab50e621f80
         [no tasks queued]
      CFS RB_ROOT: ff42bab50e621e30
         [120] PID: 72     TASK: ff42bab50197d400  COMMAND: "sh"
    ...

  The runqueue of cpu 1 only:

    crash> runq -c 1

  Runqueue and task timestamps:

    crash> runq -t`,
		Run: runRunq,
	})
}

type runqFlags struct {
	timestamps, lag, millis, groups, onRQ bool
	cpus                                  map[int]bool // nil: every cpu
}

func runRunq(s *Session, args []string, w io.Writer) error {
	var f runqFlags
	var cpuArg string
	haveCPU := false
	g := parseFlags("runq", args)
	for g.next() {
		switch g.flag {
		case "t":
			f.timestamps = true
		case "T":
			f.lag = true
		case "m":
			f.millis = true
		case "g":
			f.groups = true
		case "d":
			f.onRQ = true
		case "c":
			if haveCPU {
				return usageErr("runq", "only one -c option allowed")
			}
			haveCPU, cpuArg = true, g.val
		}
	}
	if g.err != nil {
		return g.err
	}
	if len(g.rest()) > 0 {
		return &UsageError{Cmd: "runq"}
	}
	ncpu, err := s.NumCPUs()
	if err != nil {
		return err
	}
	if haveCPU {
		if f.cpus, err = parseCPUList(cpuArg, ncpu); err != nil {
			return err
		}
	}
	// crash writes as it goes; buffering keeps one command's output in
	// one write while still showing what was read before an error.
	var b bytes.Buffer
	switch {
	case f.timestamps:
		err = runqTimestamps(s, &b, f.cpus)
	case f.lag:
		err = runqLag(s, &b, ncpu)
	case f.millis:
		err = runqMillis(s, &b, f.cpus, ncpu)
	case f.onRQ:
		err = runqOnRQ(s, &b, f.cpus)
	case f.groups:
		err = runqGroups(s, &b, f.cpus)
	default:
		err = runqDefault(s, &b, f.cpus)
	}
	w.Write(b.Bytes())
	return err
}

// Queue entries are looked up in the task table (crash's task_to_context):
// one that is not a known task is skipped, as crash skips it; kernel's
// Runqueues leaves them out.

// runqTaskLine is crash's "PID: %-5ld  TASK: %lx  COMMAND: \"%s\"".
func runqTaskLine(t *Task) string {
	return runqLine(t.PID, t.Addr, t.Comm)
}

func runqLine(pid int64, task uint64, comm string) string {
	return fmt.Sprintf("PID: %-5d  TASK: %x  COMMAND: \"%s\"", pid, task, comm)
}

// clockErr is crash's message for -t, -T and -m on a kernel without
// rq->clock.
func clockErr(opt byte, err error) error {
	if errors.Is(err, kernel.ErrNoRQClock) {
		return fmt.Errorf("-%c option not supported on this kernel: %w", opt, err)
	}
	return err
}

func runqDefault(s *Session, out *bytes.Buffer, cpus map[int]bool) error {
	rqs, err := s.Runqueues(s.Ctx(), kernel.RunqueueOptions{CPUs: cpus, Queues: true})
	tt, terr := s.taskTable()
	if terr != nil {
		return terr
	}
	for i := range rqs {
		rq := &rqs[i]
		if i > 0 {
			out.WriteString("\n")
		}
		fmt.Fprintf(out, "CPU %d RUNQUEUE: %x\n", rq.CPU, rq.Addr)
		runqCurrent(tt, out, rq.Curr)
		fmt.Fprintf(out, "  RT PRIO_ARRAY: %x\n", rq.RTArray)
		if !runqList(out, rq.RT, rq.RTWalked) {
			return err
		}
		fmt.Fprintf(out, "  CFS RB_ROOT: %x\n", rq.CFSRoot)
		if !runqList(out, rq.CFS, rq.CFSWalked) {
			return err
		}
	}
	return err
}

// runqList prints queued tasks, "     [prio] PID: ..." each, or "[no tasks
// queued]" when a complete walk found none; it reports whether the walk
// was complete.
func runqList(out *bytes.Buffer, qs []kernel.QueuedTask, complete bool) bool {
	for _, q := range qs {
		fmt.Fprintf(out, "     [%3d] %s\n", q.Prio, runqLine(q.PID, q.Task, q.Comm))
	}
	if complete && len(qs) == 0 {
		out.WriteString("     [no tasks queued]\n")
	}
	return complete
}

// runqCurrent prints the "  CURRENT: " line: the task, or the bare
// address when rq->curr is not a known task.
func runqCurrent(tt *taskTable, out *bytes.Buffer, curr uint64) {
	if t := tt.byTask(curr); t != nil {
		fmt.Fprintf(out, "  CURRENT: %s\n", runqTaskLine(t))
	} else {
		fmt.Fprintf(out, "  CURRENT: %x\n", curr)
	}
}

// runqTimestamps is runq -t: each cpu's rq->clock and, below it, its
// current task's last-run timestamp zero-padded to the same width.
func runqTimestamps(s *Session, out *bytes.Buffer, cpus map[int]bool) error {
	rqs, err := s.Runqueues(s.Ctx(), kernel.RunqueueOptions{CPUs: cpus, LastRun: true, Clock: true})
	if err != nil && len(rqs) == 0 {
		return clockErr('t', err)
	}
	tt, terr := s.taskTable()
	if terr != nil {
		return terr
	}
	indent := 0
	for _, rq := range rqs {
		clock := strconv.FormatUint(rq.Clock, 10)
		pad := ""
		if rq.CPU < 10 {
			pad = " "
		}
		fmt.Fprintf(out, "%sCPU %d: %s\n", pad, rq.CPU, clock)
		cur := tt.byTask(rq.Curr)
		if cur == nil {
			out.WriteString("\n")
			continue
		}
		// crash's widths: 8 columns below "CPU n: " for cpus 0-99, 9
		// for 100-999; from cpu 1000 on it keeps the last width.
		switch {
		case rq.CPU < 10:
			indent = 8
		case rq.CPU < 100:
			indent = 8
		case rq.CPU < 1000:
			indent = 9
		}
		if !rq.LastRunRead {
			return err
		}
		fmt.Fprintf(out, "%s%0*d  %s\n", strings.Repeat(" ", indent), len(clock), rq.CurrLastRun, runqTaskLine(cur))
	}
	return err
}

// runqLag is runq -T: how far each cpu's rq->clock is behind the most
// recent one, most recent first. crash ignores -c here.
func runqLag(s *Session, out *bytes.Buffer, ncpu int) error {
	rqs, err := s.Runqueues(s.Ctx(), kernel.RunqueueOptions{Clock: true})
	if err != nil {
		return clockErr('T', err)
	}
	sort.SliceStable(rqs, func(i, j int) bool { return rqs[i].Clock > rqs[j].Clock })
	for _, rq := range rqs {
		pad := 2 + digits10(uint64(ncpu)) - digits10(uint64(rq.CPU))
		fmt.Fprintf(out, "%sCPU %d: %.2f secs\n", strings.Repeat(" ", max(pad, 0)), rq.CPU,
			(float64(rqs[0].Clock)-float64(rq.Clock))/1e9)
	}
	return nil
}

// digits10 is crash's __log10ul: the number of decimal digits, 1 for 0.
func digits10(x uint64) int {
	n := 1
	for x > 9 {
		n++
		x /= 10
	}
	return n
}

// runqDaysHMS is crash's translate_nanoseconds: "D HH:MM:SS.mmm".
func runqDaysHMS(ns uint64) string {
	ms := ns / 1000000
	return fmt.Sprintf("%d %02d:%02d:%02d.%03d", ms/86400000, ms/3600000%24, ms/60000%60, ms/1000%60, ms%1000)
}

// runqMillis is runq -m: how long each cpu's current task has run,
// rq->clock minus the task's last-run timestamp.
func runqMillis(s *Session, out *bytes.Buffer, cpus map[int]bool, ncpu int) error {
	rqs, err := s.Runqueues(s.Ctx(), kernel.RunqueueOptions{CPUs: cpus, LastRun: true, Clock: true})
	if err != nil && len(rqs) == 0 {
		return clockErr('m', err)
	}
	tt, terr := s.taskTable()
	if terr != nil {
		return terr
	}
	maxIndent := 4
	switch {
	case ncpu < 10:
		maxIndent = 1
	case ncpu < 100:
		maxIndent = 2
	case ncpu < 1000:
		maxIndent = 3
	}
	maxDays := 0
	for _, rq := range rqs {
		// The days column is as wide as the first cpu's rq->clock days.
		if maxDays == 0 {
			d := runqDaysHMS(rq.Clock)
			maxDays = strings.IndexByte(d, ' ')
		}
		indent := maxIndent
		switch {
		case rq.CPU < 10:
		case rq.CPU < 100:
			indent = maxIndent - 1
		case rq.CPU < 1000:
			indent = maxIndent - 2
		default:
			indent = maxIndent - 4
		}
		sp := strings.Repeat(" ", max(indent, 0))
		cur := tt.byTask(rq.Curr)
		if cur == nil {
			fmt.Fprintf(out, "%sCPU %d: [unknown]\n", sp, rq.CPU)
			continue
		}
		if !rq.LastRunRead {
			return err
		}
		var delta uint64
		if int64(rq.Clock-rq.CurrLastRun) > 0 {
			delta = rq.Clock - rq.CurrLastRun
		}
		d := runqDaysHMS(delta)
		days := strings.IndexByte(d, ' ')
		fmt.Fprintf(out, "%sCPU %d: [%s%s]  %s\n", sp, rq.CPU, strings.Repeat(" ", max(maxDays-days, 0)), d, runqTaskLine(cur))
	}
	return err
}

// runqOnRQ is runq -d: every task of the task table, in its order (by
// pid, the idle tasks by cpu), whose task_struct.on_rq is set, under the
// cpu the task table gives it (kernel's TasksOnRunqueue).
func runqOnRQ(s *Session, out *bytes.Buffer, cpus map[int]bool) error {
	cs, err := s.TasksOnRunqueue(s.Ctx(), cpus)
	var noOnRQ *kernel.NoOnRQError
	if errors.As(err, &noOnRQ) {
		return fmt.Errorf("-d option not supported on this kernel: %w", noOnRQ.Err)
	}
	for _, c := range cs {
		// crash separates by "cpu ? \n : ''", even under -c.
		if c.CPU > 0 {
			out.WriteString("\n")
		}
		fmt.Fprintf(out, "CPU %d\n", c.CPU)
		if !runqList(out, c.Tasks, c.Complete) {
			return err
		}
	}
	return err
}

// runqGroups is runq -g (kernel's RunqueueGroups, after crash's
// dump_tasks_by_task_group).
func runqGroups(s *Session, out *bytes.Buffer, cpus map[int]bool) error {
	rg, err := s.RunqueueGroups(s.Ctx(), cpus)
	if errors.Is(err, kernel.ErrNoGroupScheduling) {
		return fmt.Errorf("-g option not supported on this kernel: %w", err)
	}
	if rg == nil {
		return err
	}
	tt, terr := s.taskTable()
	if terr != nil {
		return terr
	}
	for i := range rg.CPUs {
		c := &rg.CPUs[i]
		if i > 0 {
			out.WriteString("\n")
		}
		fmt.Fprintf(out, "CPU %d\n", c.CPU)
		runqCurrent(tt, out, c.Curr)
		if c.HasRT {
			fmt.Fprintf(out, "  %s_TASK_GROUP: %x  RT_RQ: %x\n", rg.RootName, rg.Root, c.RTRq)
			writeGroupItems(out, c.RTItems)
		}
		if !c.RTDone {
			return err
		}
		if c.HasCFS {
			fmt.Fprintf(out, "  %s_TASK_GROUP: %x  CFS_RQ: %x\n", rg.RootName, rg.Root, c.CFSRq)
			writeGroupItems(out, c.CFSItems)
		}
		if !c.CFSDone {
			return err
		}
	}
	return err
}

// writeGroupItems prints runq -g's items of one queue.
func writeGroupItems(out *bytes.Buffer, items []kernel.GroupItem) {
	for _, it := range items {
		if it.Indent > 0 {
			out.WriteString(strings.Repeat(" ", it.Indent))
		}
		switch it.Kind {
		case kernel.GroupHeader:
			if it.RT {
				fmt.Fprintf(out, "TASK_GROUP: %x  RT_RQ: %x", it.Group, it.Queue)
			} else {
				fmt.Fprintf(out, "TASK_GROUP: %x  CFS_RQ: %x ", it.Group, it.Queue)
			}
			if it.Name != "" {
				fmt.Fprintf(out, " <%s>", it.Name)
			}
			if it.Throttled {
				out.WriteString(" (THROTTLED)")
			}
			out.WriteString("\n")
		case kernel.GroupTask:
			fmt.Fprintf(out, "[%3d] %s", it.Prio, runqLine(it.PID, it.Task, it.Comm))
			if it.Current {
				out.WriteString(" [CURRENT]")
			}
			out.WriteString("\n")
		case kernel.GroupPrio:
			fmt.Fprintf(out, "[%3d] ", it.Prio)
		case kernel.GroupEmpty:
			out.WriteString("[no tasks queued]\n")
		}
	}
}
