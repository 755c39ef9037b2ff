package commands

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gocrash/symbols"
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
    CPU 0 RUNQUEUE: ff2c138f0e820840
      CURRENT: PID: 1      TASK: ff2c138f00198000  COMMAND: "init"
      RT PRIO_ARRAY: ff2c138f0e820a40
         [no tasks queued]
      CFS RB_ROOT: ff2c138f0e8208f0
         [120] PID: 11     TASK: ff2c138f001bd200  COMMAND: "rcu_sched"

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
		err = runqTimestamps(s, &b, f.cpus, ncpu)
	case f.lag:
		err = runqLag(s, &b, ncpu)
	case f.millis:
		err = runqMillis(s, &b, f.cpus, ncpu)
	case f.onRQ:
		err = runqOnRQ(s, &b, f.cpus, ncpu)
	case f.groups:
		err = runqGroups(s, &b, f.cpus, ncpu)
	default:
		err = runqDefault(s, &b, f.cpus, ncpu)
	}
	w.Write(b.Bytes())
	return err
}

// Queue entries are looked up in the task table (crash's task_to_context):
// one that is not a known task is skipped, as crash skips it.

// runqTaskLine is crash's "PID: %-5ld  TASK: %lx  COMMAND: \"%s\"".
func runqTaskLine(t *Task) string {
	return fmt.Sprintf("PID: %-5d  TASK: %x  COMMAND: \"%s\"", t.PID, t.Addr, t.Comm)
}

// runqCPU is one selected cpu with its runqueue.
type runqCPU struct {
	cpu int
	rq  Runqueue
}

// eachRunqueue calls fn with each selected cpu's runqueue.
func (s *Session) eachRunqueue(w *runqueueWalker, cpus map[int]bool, ncpu int, fn func(runqCPU) error) error {
	ctx := s.Ctx()
	for cpu := 0; cpu < ncpu; cpu++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if cpus != nil && !cpus[cpu] {
			continue
		}
		addr, err := s.RunqueueAddr(cpu)
		if err != nil {
			return err
		}
		rq, err := w.runqueue(cpu, addr)
		if err != nil {
			return err
		}
		if err := fn(runqCPU{cpu: cpu, rq: rq}); err != nil {
			return err
		}
	}
	return nil
}

func runqDefault(s *Session, out *bytes.Buffer, cpus map[int]bool, ncpu int) error {
	w, err := s.runqueueWalker()
	if err != nil {
		return err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	displayed := 0
	return s.eachRunqueue(w, cpus, ncpu, func(c runqCPU) error {
		if displayed > 0 {
			out.WriteString("\n")
		}
		displayed++
		fmt.Fprintf(out, "CPU %d RUNQUEUE: %x\n", c.cpu, c.rq.Addr)
		runqCurrent(tt, out, c.rq.Curr)
		fmt.Fprintf(out, "  RT PRIO_ARRAY: %x\n", c.rq.RTArray)
		err := runqList(out, tt, func(fn func(QueuedTask) error) error {
			return w.RTTasks(c.rq.RTArray, fn)
		}, func(q QueuedTask) (int, error) { return q.Prio, nil })
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  CFS RB_ROOT: %x\n", c.rq.CFSRoot)
		return runqList(out, tt, func(fn func(QueuedTask) error) error {
			return w.CFSTasks(c.rq.CFSRq, fn)
		}, func(q QueuedTask) (int, error) { return w.taskPrio(q.Task) })
	})
}

// runqList prints the known tasks walk finds, "     [prio] PID: ..." each
// with the priority prio gives, or "[no tasks queued]" when there are
// none.
func runqList(out *bytes.Buffer, tt *taskTable, walk func(func(QueuedTask) error) error, prio func(QueuedTask) (int, error)) error {
	n := 0
	err := walk(func(q QueuedTask) error {
		t := tt.byTask(q.Task)
		if t == nil {
			return nil
		}
		p, err := prio(q)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "     [%3d] %s\n", p, runqTaskLine(t))
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		out.WriteString("     [no tasks queued]\n")
	}
	return nil
}

// runqClockWalker is the runqueue walker of option opt (-t, -T, -m),
// which reads rq->clock: an error where struct rq has none.
func (s *Session) runqClockWalker(opt byte) (*runqueueWalker, error) {
	w, err := s.runqueueWalker()
	if err != nil {
		return nil, err
	}
	if !w.l.hasClock {
		return nil, fmt.Errorf("-%c option not supported on this kernel: struct rq has no clock", opt)
	}
	return w, nil
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
func runqTimestamps(s *Session, out *bytes.Buffer, cpus map[int]bool, ncpu int) error {
	w, err := s.runqClockWalker('t')
	if err != nil {
		return err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	indent := 0
	return s.eachRunqueue(w, cpus, ncpu, func(c runqCPU) error {
		clock := strconv.FormatUint(c.rq.Clock, 10)
		pad := ""
		if c.cpu < 10 {
			pad = " "
		}
		fmt.Fprintf(out, "%sCPU %d: %s\n", pad, c.cpu, clock)
		cur := tt.byTask(c.rq.Curr)
		if cur == nil {
			out.WriteString("\n")
			return nil
		}
		// crash's widths: 8 columns below "CPU n: " for cpus 0-99, 9
		// for 100-999; from cpu 1000 on it keeps the last width.
		switch {
		case c.cpu < 10:
			indent = 8
		case c.cpu < 100:
			indent = 8
		case c.cpu < 1000:
			indent = 9
		}
		last, err := w.lastRun(c.rq.Curr)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s%0*d  %s\n", strings.Repeat(" ", indent), len(clock), last, runqTaskLine(cur))
		return nil
	})
}

// runqLag is runq -T: how far each cpu's rq->clock is behind the most
// recent one, most recent first. crash ignores -c here.
func runqLag(s *Session, out *bytes.Buffer, ncpu int) error {
	w, err := s.runqClockWalker('T')
	if err != nil {
		return err
	}
	type ts struct {
		cpu int
		ts  uint64
	}
	var all []ts
	if err := s.eachRunqueue(w, nil, ncpu, func(c runqCPU) error {
		all = append(all, ts{c.cpu, c.rq.Clock})
		return nil
	}); err != nil {
		return err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ts > all[j].ts })
	for _, t := range all {
		pad := 2 + digits10(uint64(ncpu)) - digits10(uint64(t.cpu))
		fmt.Fprintf(out, "%sCPU %d: %.2f secs\n", strings.Repeat(" ", max(pad, 0)), t.cpu,
			(float64(all[0].ts)-float64(t.ts))/1e9)
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
	w, err := s.runqClockWalker('m')
	if err != nil {
		return err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
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
	return s.eachRunqueue(w, cpus, ncpu, func(c runqCPU) error {
		// The days column is as wide as the first cpu's rq->clock days.
		if maxDays == 0 {
			d := runqDaysHMS(c.rq.Clock)
			maxDays = strings.IndexByte(d, ' ')
		}
		indent := maxIndent
		switch {
		case c.cpu < 10:
		case c.cpu < 100:
			indent = maxIndent - 1
		case c.cpu < 1000:
			indent = maxIndent - 2
		default:
			indent = maxIndent - 4
		}
		sp := strings.Repeat(" ", max(indent, 0))
		cur := tt.byTask(c.rq.Curr)
		if cur == nil {
			fmt.Fprintf(out, "%sCPU %d: [unknown]\n", sp, c.cpu)
			return nil
		}
		last, err := w.lastRun(c.rq.Curr)
		if err != nil {
			return err
		}
		var delta uint64
		if int64(c.rq.Clock-last) > 0 {
			delta = c.rq.Clock - last
		}
		d := runqDaysHMS(delta)
		days := strings.IndexByte(d, ' ')
		fmt.Fprintf(out, "%sCPU %d: [%s%s]  %s\n", sp, c.cpu, strings.Repeat(" ", max(maxDays-days, 0)), d, runqTaskLine(cur))
		return nil
	})
}

// runqOnRQ is runq -d: every task of the task table, in its order (by
// pid, the idle tasks by cpu), whose task_struct.on_rq is set, under the
// cpu the task table gives it.
func runqOnRQ(s *Session, out *bytes.Buffer, cpus map[int]bool, ncpu int) error {
	w, err := s.runqueueWalker()
	if err != nil {
		return err
	}
	t, err := s.Types()
	if err != nil {
		return err
	}
	onRQOff, err := t.Offset("task_struct.on_rq")
	if err != nil {
		return fmt.Errorf("-d option not supported on this kernel: %w", err)
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		if cpus != nil && !cpus[cpu] {
			continue
		}
		// crash separates by "cpu ? \n : ''", even under -c.
		if cpu > 0 {
			out.WriteString("\n")
		}
		fmt.Fprintf(out, "CPU %d\n", cpu)
		n := 0
		for i := range tt.tasks {
			t := &tt.tasks[i]
			if t.CPU != cpu {
				continue
			}
			on, err := w.i32(t.Addr+uint64(onRQOff), "task_struct.on_rq")
			if err != nil {
				return err
			}
			if on == 0 {
				continue
			}
			prio, err := w.taskPrio(t.Addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "     [%3d] %s\n", prio, runqTaskLine(t))
			n++
		}
		if n == 0 {
			out.WriteString("     [no tasks queued]\n")
		}
	}
	return nil
}

// Task groups (runq -g), after crash's dump_tasks_by_task_group: the
// groups below root_task_group are listed once, depth first, then sorted
// by depth; each cpu's queues are walked from the root group's cfs_rq
// and rt_rq, a group's header printed where its entity is met. Groups
// with queued tasks whose entity is not queued (throttled, or dequeued)
// are found through the group list and printed after their parent's
// tasks, preceded by the headers of ancestors not printed yet.

// taskGroup is crash's task_group_info.
type taskGroup struct {
	addr   uint64
	depth  int
	name   string // cgroup directory name; "" when it has none
	parent *taskGroup
	use    bool // header not printed yet on this cpu
}

// groupLayout holds the offsets only runq -g reads.
type groupLayout struct {
	tgCFSRq, tgRTRq        int64 // task_group.cfs_rq, .rt_rq: per-cpu pointer arrays; -1 when absent
	tgChildren, tgSiblings int64
	tgCgroup               int64 // task_group.css.cgroup
	cgroupKn               int64 // cgroup.kn
	knParent, knName       int64
	cfsTG, cfsNrRunning    int64
	cfsThrottled           int64 // -1 without CONFIG_CFS_BANDWIDTH
	rtTG, rtNrRunning      int64
	rtHighestPrio          int64 // rt_rq.highest_prio(.curr)
	rtThrottled            int64 // -1 without rt bandwidth
}

func (s *Session) groupLayout() (*groupLayout, error) {
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	g := &groupLayout{tgCFSRq: -1, tgRTRq: -1, cfsThrottled: -1, rtThrottled: -1,
		cfsTG: -1, rtTG: -1, cfsNrRunning: -1, rtNrRunning: -1, rtHighestPrio: -1}
	opt := func(dst *int64, path string) {
		if o, err := t.Offset(path); err == nil {
			*dst = o
		}
	}
	opt(&g.tgCFSRq, "task_group.cfs_rq")
	opt(&g.tgRTRq, "task_group.rt_rq")
	opt(&g.cfsTG, "cfs_rq.tg")
	opt(&g.rtTG, "rt_rq.tg")
	opt(&g.cfsNrRunning, "cfs_rq.nr_running")
	opt(&g.rtNrRunning, "rt_rq.rt_nr_running")
	opt(&g.rtHighestPrio, "rt_rq.highest_prio")
	opt(&g.cfsThrottled, "cfs_rq.throttled")
	if t.HasMember("task_group", "rt_bandwidth") {
		opt(&g.rtThrottled, "rt_rq.rt_throttled")
	}
	if (g.tgCFSRq < 0 && g.tgRTRq < 0) || !t.HasMember("task_group", "parent") {
		return nil, fmt.Errorf("-g option not supported on this kernel: no group scheduling (task_group.cfs_rq, rt_rq, parent)")
	}
	for _, r := range []struct {
		dst  *int64
		path string
	}{
		{&g.tgChildren, "task_group.children"},
		{&g.tgSiblings, "task_group.siblings"},
		{&g.tgCgroup, "task_group.css.cgroup"},
	} {
		if *r.dst, err = t.Offset(r.path); err != nil {
			return nil, fmt.Errorf("task group layout: %w", err)
		}
	}
	// The cgroup's name is its kernfs node's (crash emulates
	// kernfs_name); without kernfs no name is shown.
	g.cgroupKn, g.knParent, g.knName = -1, -1, -1
	opt(&g.cgroupKn, "cgroup.kn")
	opt(&g.knParent, "kernfs_node.parent")
	opt(&g.knName, "kernfs_node.name")
	return g, nil
}

// groupQueue says where one kind of group run queue (cfs_rq or rt_rq)
// keeps what runq -g reads; an offset of -1 is a member the kernel lacks.
type groupQueue struct {
	kind           string // "cfs_rq" or "rt_rq"
	tgArray        int64  // task_group.<kind>: the per-cpu pointer array
	tg             int64  // <kind>.tg
	nrRunning      int64
	nrField        string
	throttled      int64
	throttledField string
}

func (g *groupLayout) cfs() groupQueue {
	return groupQueue{"cfs_rq", g.tgCFSRq, g.cfsTG, g.cfsNrRunning, "cfs_rq.nr_running", g.cfsThrottled, "cfs_rq.throttled"}
}

func (g *groupLayout) rt() groupQueue {
	return groupQueue{"rt_rq", g.tgRTRq, g.rtTG, g.rtNrRunning, "rt_rq.rt_nr_running", g.rtThrottled, "rt_rq.rt_throttled"}
}

// groupRunq is the state of one runq -g.
type groupRunq struct {
	s   *Session
	w   *runqueueWalker
	g   *groupLayout
	tt  *taskTable
	out *bytes.Buffer
	cpu int
	tgs []*taskGroup // by depth
	st  *walkState
}

// groupName is crash's get_task_group_name.
func (r *groupRunq) groupName(tg uint64) (string, error) {
	cg, err := r.w.ptr(tg+uint64(r.g.tgCgroup), "task_group.css.cgroup")
	if err != nil || cg == 0 || r.g.cgroupKn < 0 || r.g.knParent < 0 || r.g.knName < 0 {
		return "", err
	}
	kn, err := r.w.ptr(cg+uint64(r.g.cgroupKn), "cgroup.kn")
	if err != nil || kn == 0 {
		return "", err
	}
	parent, err := r.w.ptr(kn+uint64(r.g.knParent), "kernfs_node.parent")
	if err != nil {
		return "", err
	}
	if parent == 0 {
		return "/", nil
	}
	name, err := r.w.ptr(kn+uint64(r.g.knName), "kernfs_node.name")
	if err != nil || name == 0 {
		return "", err
	}
	str, err := symbols.ReadCString(r.w.mem, name, 1500)
	if err != nil {
		return "", nil // crash shows no name when it cannot read it
	}
	return str, nil
}

// collectGroups lists root and its descendants depth first (crash's
// fill_task_group_info_array) and sorts them by depth, stably.
func (r *groupRunq) collectGroups(root uint64) error {
	seen := map[uint64]bool{}
	var visit func(tg uint64, depth int, parent *taskGroup) error
	visit = func(tg uint64, depth int, parent *taskGroup) error {
		if seen[tg] {
			return corruptf("task_group %#x reached twice in the group tree (a cycle)", tg)
		}
		if len(seen) >= maxTasks || depth > maxGroupDepth {
			return corruptf("task_group tree under %#x: too many groups or too deep", root)
		}
		seen[tg] = true
		name, err := r.groupName(tg)
		if err != nil {
			return err
		}
		g := &taskGroup{addr: tg, depth: depth, name: name, parent: parent, use: depth > 0}
		r.tgs = append(r.tgs, g)
		head := tg + uint64(r.g.tgChildren)
		var kids []uint64
		if err := r.w.walkList(head, map[uint64]bool{}, func(node uint64) error {
			kids = append(kids, node-uint64(r.g.tgSiblings))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range kids {
			if err := visit(k, depth+1, g); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root, 0, nil); err != nil {
		return err
	}
	sort.SliceStable(r.tgs, func(i, j int) bool { return r.tgs[i].depth < r.tgs[j].depth })
	return nil
}

// perCPUQueue is tg->cfs_rq[cpu] or tg->rt_rq[cpu].
func (r *groupRunq) perCPUQueue(tg uint64, k groupQueue) (uint64, error) {
	arr, err := r.w.ptr(tg+uint64(k.tgArray), "task_group."+k.kind)
	if err != nil {
		return 0, err
	}
	if arr == 0 {
		return 0, fmt.Errorf("task_group %#x: NULL %s array", tg, k.kind)
	}
	return r.w.ptr(arr+uint64(r.cpu)*8, fmt.Sprintf("task_group.%s[%d]", k.kind, r.cpu))
}

// enterQueue bounds the nesting of groups and refuses a queue met twice
// on this cpu.
func (r *groupRunq) enterQueue(depth int, q uint64, k groupQueue) error {
	if depth > maxGroupDepth {
		return corruptf("%s %#x: task groups nested more than %d deep", k.kind, q, maxGroupDepth)
	}
	if r.st.queues[q] {
		return corruptf("%s %#x reached twice (a cycle of task groups)", k.kind, q)
	}
	r.st.queues[q] = true
	return nil
}

// ownerHeader prints, with header, the line of the group that owns q and
// marks it printed.
func (r *groupRunq) ownerHeader(q uint64, k groupQueue, header func(*taskGroup) error) error {
	tg, err := r.w.ptr(q+uint64(k.tg), k.kind+".tg")
	if err != nil {
		return err
	}
	for _, g := range r.tgs {
		if g.addr == tg {
			if err := header(g); err != nil {
				return err
			}
			g.use = false
			break
		}
	}
	return nil
}

// childQueue is g's queue on this cpu when g is a child of the group that
// owns q (and its queue is not q), with that queue's count of runnable
// entities; ok is false otherwise.
func (r *groupRunq) childQueue(g *taskGroup, q uint64, k groupQueue) (child uint64, nr int32, ok bool, err error) {
	tg, err := r.w.ptr(q+uint64(k.tg), k.kind+".tg")
	if err != nil || tg != g.parent.addr {
		return 0, 0, false, err
	}
	child, err = r.perCPUQueue(g.addr, k)
	if err != nil || child == q {
		return 0, 0, false, err
	}
	nr, err = r.w.i32(child+uint64(k.nrRunning), k.nrField)
	if err != nil {
		return 0, 0, false, err
	}
	return child, nr, true, nil
}

func (r *groupRunq) indent(n int) {
	if n > 0 {
		r.out.WriteString(strings.Repeat(" ", n))
	}
}

func (r *groupRunq) runqEntry(t *Task, current bool) error {
	prio, err := r.w.taskPrio(t.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "[%3d] %s", prio, runqTaskLine(t))
	if current {
		r.out.WriteString(" [CURRENT]")
	}
	r.out.WriteString("\n")
	return nil
}

// groupHeader ends a TASK_GROUP line begun with head: the group's cgroup
// name, and (THROTTLED) when its queue q is.
func (r *groupRunq) groupHeader(head string, q uint64, tg *taskGroup, k groupQueue) error {
	r.out.WriteString(head)
	if tg.name != "" {
		fmt.Fprintf(r.out, " <%s>", tg.name)
	}
	if k.throttled >= 0 {
		th, err := r.w.i32(q+uint64(k.throttled), k.throttledField)
		if err != nil {
			return err
		}
		if th != 0 {
			r.out.WriteString(" (THROTTLED)")
		}
	}
	r.out.WriteString("\n")
	return nil
}

func (r *groupRunq) fairHeader(depth int, cfsRq uint64, tg *taskGroup) error {
	r.indent(2 + 3*depth)
	return r.groupHeader(fmt.Sprintf("TASK_GROUP: %x  CFS_RQ: %x ", tg.addr, cfsRq), cfsRq, tg, r.g.cfs())
}

// parentHeaders prints the headers of tg's ancestors not printed yet, top
// down: the parent's, of kind k, with header; those above it always with
// the CFS header, as crash 8.0.6 does.
func (r *groupRunq) parentHeaders(tg *taskGroup, k groupQueue, header func(p *taskGroup, q uint64) error) error {
	p := tg.parent
	if p == nil || !p.use {
		return nil
	}
	if err := r.fairParents(p); err != nil {
		return err
	}
	q, err := r.perCPUQueue(p.addr, k)
	if err != nil {
		return err
	}
	if err := header(p, q); err != nil {
		return err
	}
	p.use = false
	return nil
}

// fairParents is crash's print_parent_task_group_fair.
func (r *groupRunq) fairParents(tg *taskGroup) error {
	return r.parentHeaders(tg, r.g.cfs(), func(p *taskGroup, q uint64) error {
		return r.fairHeader(p.depth, q, p)
	})
}

// fairQueue is crash's dump_tasks_in_task_group_cfs_rq; it returns the
// number of entries it printed.
func (r *groupRunq) fairQueue(depth int, cfsRq uint64, cur *Task) (int, error) {
	if err := r.enterQueue(depth, cfsRq, r.g.cfs()); err != nil {
		return 0, err
	}
	l := r.w.l
	total := 0
	if depth > 0 && r.g.cfsTG >= 0 {
		if err := r.ownerHeader(cfsRq, r.g.cfs(), func(g *taskGroup) error {
			return r.fairHeader(depth, cfsRq, g)
		}); err != nil {
			return 0, err
		}
	}
	var curr, currMyQ uint64
	if l.seMyQ >= 0 {
		var err error
		if curr, err = r.w.ptr(cfsRq+uint64(l.cfsCurr), "cfs_rq.curr"); err != nil {
			return 0, err
		}
		if curr != 0 {
			if currMyQ, err = r.w.ptr(curr+uint64(l.seMyQ), "cfs_rq.curr->my_q"); err != nil {
				return 0, err
			}
			if currMyQ != 0 {
				n, err := r.fairQueue(depth+1, currMyQ, cur)
				if err != nil {
					return 0, err
				}
				total += 1 + n
			}
		}
	}
	// The running task is not in the tree: shown here, marked.
	if currMyQ == 0 && cur != nil && curr-uint64(l.taskSE) == cur.Addr {
		total++
		r.indent(5 + 3*depth)
		if err := r.runqEntry(cur, true); err != nil {
			return 0, err
		}
	}
	leftmost, err := r.w.ptr(cfsRq+uint64(l.cfsLeftmost), "cfs_rq leftmost node")
	if err != nil {
		return 0, err
	}
	if leftmost != 0 {
		err := r.w.walkRB(cfsRq+uint64(l.cfsRoot), r.st.seen, func(node uint64) error {
			se := node - uint64(l.seRunNode)
			if l.seMyQ >= 0 {
				myq, err := r.w.ptr(se+uint64(l.seMyQ), "sched_entity.my_q")
				if err != nil {
					return err
				}
				if myq != 0 {
					n, err := r.fairQueue(depth+1, myq, cur)
					total += 1 + n
					return err
				}
			}
			task := se - uint64(l.taskSE)
			t := r.tt.byTask(task)
			if t == nil {
				return nil
			}
			r.indent(5 + 3*depth)
			total++
			return r.runqEntry(t, false)
		})
		if err != nil {
			return 0, err
		}
	}
	n, err := r.fairDequeued(depth, cfsRq, cur)
	if err != nil {
		return 0, err
	}
	total += n
	if total == 0 {
		r.indent(5 + 3*depth)
		r.out.WriteString("[no tasks queued]\n")
	}
	return total, nil
}

// fairDequeued is crash's dump_tasks_in_lower_dequeued_cfs_rq: child
// groups of cfsRq's group with tasks on this cpu whose entity was not met
// in the tree.
func (r *groupRunq) fairDequeued(depth int, cfsRq uint64, cur *Task) (int, error) {
	if depth > maxGroupDepth {
		return 0, corruptf("cfs_rq %#x: task groups nested more than %d deep", cfsRq, maxGroupDepth)
	}
	if r.g.cfsTG < 0 || r.g.cfsNrRunning < 0 {
		return 0, nil
	}
	total := 0
	for _, g := range r.tgs {
		if !g.use || g.depth-depth != 1 {
			continue
		}
		q, nr, ok, err := r.childQueue(g, cfsRq, r.g.cfs())
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if nr == 0 {
			n, err := r.fairDequeued(depth+1, q, cur)
			if err != nil {
				return 0, err
			}
			total += n
			continue
		}
		if err := r.fairParents(g); err != nil {
			return 0, err
		}
		n, err := r.fairQueue(depth+1, q, cur)
		if err != nil {
			return 0, err
		}
		total += 1 + n
	}
	return total, nil
}

func (r *groupRunq) rtHeader(rtRq uint64, tg *taskGroup) error {
	return r.groupHeader(fmt.Sprintf("TASK_GROUP: %x  RT_RQ: %x", tg.addr, rtRq), rtRq, tg, r.g.rt())
}

// rtParents is crash's print_parent_task_group_rt. crash 8.0.6 prints the
// ancestors above the parent with the CFS header
// (print_parent_task_group_fair), and so does this.
func (r *groupRunq) rtParents(tg *taskGroup) error {
	return r.parentHeaders(tg, r.g.rt(), func(p *taskGroup, q uint64) error {
		prio, err := r.w.i32(q+uint64(r.g.rtHighestPrio), "rt_rq.highest_prio")
		if err != nil {
			return err
		}
		r.indent(-1 + 6*p.depth)
		fmt.Fprintf(r.out, "[%3d] ", prio)
		return r.rtHeader(q, p)
	})
}

// rtQueue is crash's dump_tasks_in_task_group_rt_rq.
func (r *groupRunq) rtQueue(depth int, rtRq uint64) (int, error) {
	if err := r.enterQueue(depth, rtRq, r.g.rt()); err != nil {
		return 0, err
	}
	l := r.w.l
	if depth > 0 && r.g.rtTG >= 0 {
		if err := r.ownerHeader(rtRq, r.g.rt(), func(g *taskGroup) error {
			return r.rtHeader(rtRq, g)
		}); err != nil {
			return 0, err
		}
	}
	array := rtRq + uint64(l.rtActive)
	base := array + uint64(l.rtQueue)
	heads := make([]byte, int64(l.rtQueues)*l.listSize)
	if err := r.w.mem.ReadVirt(heads, base); err != nil {
		return 0, fmt.Errorf("reading rt_prio_array.queue at %#x: %w", base, err)
	}
	total := 0
	for i := 0; i < l.rtQueues; i++ {
		head := base + uint64(int64(i)*l.listSize)
		off := int64(i) * l.listSize
		if binary.LittleEndian.Uint64(heads[off+l.listNext:]) == head &&
			binary.LittleEndian.Uint64(heads[off+l.listPrev:]) == head {
			continue
		}
		// crash collects the list first, then prints.
		var ents []uint64
		if err := r.w.walkList(head, r.st.seen, func(node uint64) error {
			ents = append(ents, node-uint64(l.rtseList))
			return nil
		}); err != nil {
			return 0, err
		}
		for _, rtse := range ents {
			if l.rtseMyQ < 0 {
				// crash looks the entity itself up as a task
				// here, which finds nothing.
				continue
			}
			myq, err := r.w.ptr(rtse+uint64(l.rtseMyQ), "sched_rt_entity.my_q")
			if err != nil {
				return 0, err
			}
			if myq != 0 {
				r.indent(5 + 6*depth)
				fmt.Fprintf(r.out, "[%3d] ", i)
				total++
				if _, err := r.rtQueue(depth+1, myq); err != nil {
					return 0, err
				}
				continue
			}
			task := rtse - uint64(l.taskRT)
			t := r.tt.byTask(task)
			if t == nil {
				continue
			}
			line := runqTaskLine(t)
			r.indent(5 + 6*depth)
			fmt.Fprintf(r.out, "[%3d] %s\n", i, line)
			total++
		}
	}
	n, err := r.rtDequeued(depth, rtRq)
	if err != nil {
		return 0, err
	}
	total += n
	if total == 0 {
		r.indent(5 + 6*depth)
		r.out.WriteString("[no tasks queued]\n")
	}
	return total, nil
}

// rtDequeued is crash's dump_tasks_in_lower_dequeued_rt_rq.
func (r *groupRunq) rtDequeued(depth int, rtRq uint64) (int, error) {
	if depth > maxGroupDepth {
		return 0, corruptf("rt_rq %#x: task groups nested more than %d deep", rtRq, maxGroupDepth)
	}
	if r.g.rtTG < 0 || r.g.rtNrRunning < 0 || r.g.rtHighestPrio < 0 {
		return 0, nil
	}
	total := 0
	for _, g := range r.tgs {
		delta := g.depth - depth
		if delta > 1 {
			break
		}
		if !g.use || delta < 1 {
			continue
		}
		q, nr, ok, err := r.childQueue(g, rtRq, r.g.rt())
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if nr == 0 {
			n, err := r.rtDequeued(depth+1, q)
			if err != nil {
				return 0, err
			}
			total += n
			continue
		}
		if err := r.rtParents(g); err != nil {
			return 0, err
		}
		prio, err := r.w.i32(q+uint64(r.g.rtHighestPrio), "rt_rq.highest_prio")
		if err != nil {
			return 0, err
		}
		r.indent(5 + 6*depth)
		fmt.Fprintf(r.out, "[%3d] ", prio)
		total++
		if _, err := r.rtQueue(depth+1, q); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// runqGroups is runq -g.
func runqGroups(s *Session, out *bytes.Buffer, cpus map[int]bool, ncpu int) error {
	w, err := s.runqueueWalker()
	if err != nil {
		return err
	}
	g, err := s.groupLayout()
	if err != nil {
		return err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	// The root group was init_task_group before 2.6.32 (crash prints
	// INIT_TASK_GROUP then).
	rootName := "ROOT"
	root, ok := s.Vmlinux.Lookup("root_task_group")
	if !ok {
		if root, ok = s.Vmlinux.Lookup("init_task_group"); !ok {
			return fmt.Errorf("cannot determine root task_group: no root_task_group symbol")
		}
		rootName = "INIT"
	}
	r := &groupRunq{s: s, w: w, g: g, tt: tt, out: out}
	if err := r.collectGroups(root); err != nil {
		return err
	}
	var rtArr, cfsArr uint64
	if g.tgRTRq >= 0 {
		if rtArr, err = w.ptr(root+uint64(g.tgRTRq), "root_task_group.rt_rq"); err != nil {
			return err
		}
	}
	if g.tgCFSRq >= 0 {
		if cfsArr, err = w.ptr(root+uint64(g.tgCFSRq), "root_task_group.cfs_rq"); err != nil {
			return err
		}
	}
	// reuse_task_group_info_array: every group below the root unprinted.
	reuse := func() {
		for _, t := range r.tgs {
			t.use = t.depth > 0
		}
	}
	displayed := 0
	return s.eachRunqueue(w, cpus, ncpu, func(c runqCPU) error {
		r.cpu = c.cpu
		r.st = &walkState{seen: map[uint64]bool{}, queues: map[uint64]bool{}}
		var rtRq, cfsRq uint64
		if rtArr != 0 {
			if rtRq, err = w.ptr(rtArr+uint64(c.cpu)*8, fmt.Sprintf("root_task_group.rt_rq[%d]", c.cpu)); err != nil {
				return err
			}
		}
		if cfsArr != 0 {
			if cfsRq, err = w.ptr(cfsArr+uint64(c.cpu)*8, fmt.Sprintf("root_task_group.cfs_rq[%d]", c.cpu)); err != nil {
				return err
			}
		}
		if displayed > 0 {
			out.WriteString("\n")
		}
		displayed++
		fmt.Fprintf(out, "CPU %d\n", c.cpu)
		runqCurrent(tt, out, c.rq.Curr)
		cur := tt.byTask(c.rq.Curr)
		if rtArr != 0 {
			fmt.Fprintf(out, "  %s_TASK_GROUP: %x  RT_RQ: %x\n", rootName, root, rtRq)
			reuse()
			if _, err := r.rtQueue(0, rtRq); err != nil {
				return err
			}
		}
		if cfsArr != 0 {
			fmt.Fprintf(out, "  %s_TASK_GROUP: %x  CFS_RQ: %x\n", rootName, root, cfsRq)
			reuse()
			if _, err := r.fairQueue(0, cfsRq, cur); err != nil {
				return err
			}
		}
		return nil
	})
}
