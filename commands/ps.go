package commands

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gocrash/kernel"
)

// ps: crash's process status (task.c cmd_ps() and the show_* functions it
// calls), with crash 8.0.6's options and layouts.

func init() {
	register(Command{
		Name:     "ps",
		Summary:  "display process status information",
		Synopsis: "[-k|-u|-G|-y policy] [-s] [-p|-c|-t|-[l|m][-C cpu]|-a|-g|-r|-S|-A|-H]\n     [pid | task | command] ...",
		Description: `  This command displays process status for selected, or all, processes
  in the system.  If no arguments are entered, the process data is
  displayed for all processes.

  For each task, the following items are displayed: the PID, the parent's
  PID, the CPU the task ran on last, the task_struct address (or with -s
  the kernel stack pointer), the task state (RU, IN, UN, ZO, ST, TR, DE,
  SW, WA, PA, ID, NE), the percentage of physical memory the task uses,
  its virtual size and resident set size in kilobytes, and the command
  name; kernel threads are shown in brackets.  The active task of each
  CPU is marked with ">".

  The process list may be restricted with -k, -u, -G and -y; instead of
  the process status, -p, -c, -t, -l, -m, -a, -g, -r, -S and -A show
  parent-child relationships, per-task time usage data, argument and
  environment data, thread groups, resource limits or the active tasks.`,
		Flags: []Flag{
			{Name: "k", Help: "restrict the output to only kernel threads."},
			{Name: "u", Help: "restrict the output to only user tasks."},
			{Name: "G", Help: "display only the thread group leader in a thread group."},
			{Name: "y", Arg: "policy", Help: "restrict the output to tasks having a specified scheduling policy expressed by its integer value or by its (case-insensitive) name; multiple policies may be entered in a comma-separated list: 0 or NORMAL, 1 or FIFO, 2 or RR, 3 or BATCH, 4 or ISO, 5 or IDLE, 6 or DEADLINE."},
			{Name: "s", Help: "replace the TASK column with the KSTACKP column."},
			{Name: "p", Help: "display the parental hierarchy of selected, or all, tasks."},
			{Name: "c", Help: "display the children of selected, or all, tasks."},
			{Name: "t", Help: "display the task run time, start time, and cumulative user and system times."},
			{Name: "l", Help: "display the task's last-run timestamp (sched_info.last_arrival), most recently run first, followed by the task's state."},
			{Name: "m", Help: "similar to -l, but the timestamp is translated into days, hours, minutes, seconds and milliseconds since the task last ran."},
			{Name: "C", Arg: "cpus", Help: `with -l or -m only: per-cpu blocks for the cpus "1,3,5", "1-3", "all" or "a".`},
			{Name: "a", Help: "display the command line arguments and environment strings of selected, or all, user-mode tasks."},
			{Name: "g", Help: "display tasks by thread group, of selected, or all, tasks."},
			{Name: "r", Help: "display resource limits (rlimits) of selected, or all, tasks."},
			{Name: "S", Help: "display a summary consisting of the number of tasks in a task state."},
			{Name: "A", Help: "display only the active task on each cpu."},
			{Name: "H", Help: "display no header line."},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"task", "a hexadecimal task_struct pointer."},
			{"command", `a command name.  If a command name is made up of letters that are all numerical values, precede the name string with a "\". If the command string is enclosed within "'" characters, it is a regular expression matched against the task names (ps 'kworker/1' lists CPU 1's workers).`},
		},
		Examples: psExamples,
		Columns: []Column{
			{">", "the task was running on its CPU when the dump was taken (rq->curr, and the panic task)"},
			{"PID", "task_struct.pid: a thread's own id (idle tasks are all 0, one per CPU)"},
			{"PPID", "pid of task_struct.parent"},
			{"CPU", "the CPU the task last ran on (thread_info.cpu)"},
			{"TASK", "address of the task_struct: give it to bt, set or rd"},
			{"ST", "state from __state/exit_state: RU running, IN interruptible, UN uninterruptible (D), ID idle kthread, ZO zombie, ST stopped, TR traced, DE dead"},
			{"%MEM", "RSS as a share of all RAM (totalram_pages)"},
			{"VSZ", "mm->total_vm in KiB: the address space mapped"},
			{"RSS", "file + anon + shmem pages of mm->rss_stat in KiB: memory resident"},
			{"COMM", "task_struct.comm; [brackets] mark kernel threads (PF_KTHREAD)"},
		},
		Run: runPs,
	})
}

const psExamples = `  Show the process status of all current tasks:

    crash> ps
          PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM
            0       0   0  ffffffff8d811600  RU   0.0        0        0  [swapper/0]
            0       0   1  ff42bab5001faa00  RU   0.0        0        0  [swapper/1]
    >       1       0   0  ff42bab500198000  RU   0.5     2256     1792  init
            2       0   0  ff42bab500199500  IN   0.0        0        0  [kthreadd]
    ...

  Show the parental hierarchy of pid 79:

    crash> ps -p 79
    PID: 0        TASK: ffffffff8d811600  CPU: 0    COMMAND: "swapper/0"
     PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
      PID: 79       TASK: ff42bab50195aa00  CPU: 0    COMMAND: "sh"

  Show the tasks named sh, and the threads of a process:

    crash> ps sh
    crash> ps -g 64`

// ps flags, crash's PS_* of defs.h.
const (
	psKernel = 1 << iota
	psUser
	psGroup
	psPolicy
	psKstackp
	psPPIDList
	psChildList
	psTimes
	psLastRun
	psMsecs
	psArgvEnvp
	psTGIDList
	psRlimit
	psSummary
	psActive
	psNoHeader
	psShowAll
	psTaskSpecified
)

// psExclusive are the flags only one of which may be given.
const psExclusive = psTGIDList | psArgvEnvp | psTimes | psChildList | psPPIDList | psLastRun | psRlimit | psMsecs | psSummary | psActive

const psExclusiveMsg = "-a, -t, -c, -p, -g, -l, -m, -S, -r and -A flags are all mutually-exclusive"

// schedPolicies are include/uapi/linux/sched.h's SCHED_* with crash's names.
var schedPolicies = []string{"NORMAL", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE"}

type psSelector struct {
	kind string // "pid", "task", "comm", "regex"
	pid  int64
	task uint64
	comm string
	re   *regexp.Regexp
}

type psRun struct {
	s       *Session
	w       *strings.Builder
	flag    int
	tt      *taskTable
	r       *taskReader
	cpus    map[int]bool // -C
	policy  uint64       // -y: bit per policy
	shown   map[uint64]bool
	idleOut bool     // crash's IDLE_TASK_SHOWN
	rows    *[]PsRow // --json (json_ps.go): each default-format line's values
}

func runPs(s *Session, args []string, w io.Writer) error {
	var out strings.Builder
	err := ps(s, args, &out)
	io.WriteString(w, out.String())
	return err
}

func ps(s *Session, args []string, out *strings.Builder) error {
	return psInto(s, args, out, nil)
}

// psInto is ps, also collecting the default format's rows when rows is
// not nil (the JSON output).
func psInto(s *Session, args []string, out *strings.Builder, rows *[]PsRow) error {
	p := &psRun{s: s, w: out, shown: map[uint64]bool{}, rows: rows}
	var cpuSpec string
	exclusive := func(this int) error {
		if p.flag&(psExclusive&^this) != 0 {
			return fmt.Errorf("%s", psExclusiveMsg)
		}
		p.flag |= this
		return nil
	}
	lastRunOK := func() error {
		t, err := s.Layouts()
		if err != nil {
			return err
		}
		if !t.HasMember("task_struct", "sched_info.last_arrival") && !t.HasMember("task_struct", "last_run") && !t.HasMember("task_struct", "timestamp") {
			return usageErr("ps", "last-run timestamps do not exist in this kernel")
		}
		return nil
	}
	g := parseFlags("ps", args)
	for g.next() {
		var err error
		switch g.flag {
		case "k":
			if p.flag&psUser != 0 {
				return fmt.Errorf("-u and -k are mutually exclusive")
			}
			p.flag |= psKernel
		case "u":
			if p.flag&psKernel != 0 {
				return fmt.Errorf("-u and -k are mutually exclusive")
			}
			p.flag |= psUser
		case "G":
			p.flag |= psGroup
		case "g":
			err = exclusive(psTGIDList)
		case "a":
			err = exclusive(psArgvEnvp)
		case "t":
			err = exclusive(psTimes)
		case "c":
			err = exclusive(psChildList)
		case "p":
			err = exclusive(psPPIDList)
		case "l", "m":
			if err = lastRunOK(); err == nil {
				if g.flag == "l" {
					err = exclusive(psLastRun)
				} else {
					err = exclusive(psMsecs)
				}
			}
		case "s":
			p.flag |= psKstackp
		case "r":
			err = exclusive(psRlimit)
		case "S":
			err = exclusive(psSummary)
		case "A":
			err = exclusive(psActive)
		case "H":
			p.flag |= psNoHeader
		case "C":
			cpuSpec = g.val
		case "y":
			p.flag |= psPolicy
			if p.policy, err = parsePolicies(g.val); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	if cpuSpec != "" {
		if p.flag&(psLastRun|psMsecs) == 0 {
			fmt.Fprintf(out, "ps: -C option is only applicable with -l and -m\n")
			return nil
		}
		n, err := s.NumCPUs()
		if err != nil {
			return err
		}
		if p.cpus, err = parseCPUList(cpuSpec, n); err != nil {
			return err
		}
	}
	var err error
	if p.tt, err = s.taskTable(); err != nil {
		return err
	}
	if p.r, err = s.newTaskReader(s.Mem); err != nil {
		return err
	}
	if p.r.states, err = s.taskStates(); err != nil {
		return err
	}
	if p.flag&(psLastRun|psMsecs) != 0 {
		if err := p.sortByLastRun(); err != nil {
			return err
		}
	}
	if len(rest) == 0 {
		p.flag |= psShowAll
		return p.show(nil)
	}
	if p.flag&psSummary != 0 {
		return fmt.Errorf("-S option takes no arguments")
	}
	if p.cpus != nil {
		fmt.Fprintf(out, "ps: -C option is not applicable with specified tasks\n")
	}
	var sel []psSelector
	for _, a := range rest {
		if isNumber(a) {
			t, err := p.tt.lookup(a)
			if err != nil {
				fmt.Fprintf(out, "ps: invalid task or pid value: %s\n\n", a)
				sel = append(sel, psSelector{})
				continue
			}
			if d, ok := parseDec(a); ok && t.PID == d {
				sel = append(sel, psSelector{kind: "pid", pid: d})
			} else {
				sel = append(sel, psSelector{kind: "task", task: t.Addr})
			}
			continue
		}
		// crash: a command name within single quotes is a regular
		// expression (POSIX extended there, RE2 here: the same for the
		// usual patterns), matched anywhere in the name.
		if len(a) >= 2 && a[0] == '\'' && a[len(a)-1] == '\'' {
			re, err := regexp.Compile(a[1 : len(a)-1])
			if err != nil {
				return fmt.Errorf("invalid regular expression: %s", a[1:len(a)-1])
			}
			sel = append(sel, psSelector{kind: "regex", re: re})
			continue
		}
		name := strings.TrimPrefix(a, `\`)
		if len(name) > 15 { // strlcpy into char[TASK_COMM_LEN]
			name = name[:15]
		}
		sel = append(sel, psSelector{kind: "comm", comm: name})
	}
	return p.show(sel)
}

func parsePolicies(v string) (uint64, error) {
	var bits uint64
	for _, w := range strings.Split(v, ",") {
		w = strings.TrimSpace(w)
		n, err := strconv.Atoi(w)
		if err != nil {
			n = -1
			for i, name := range schedPolicies {
				if strings.EqualFold(w, name) {
					n = i
				}
			}
		}
		if n < 0 || n >= len(schedPolicies) {
			return 0, fmt.Errorf("%s: invalid scheduling policy", w)
		}
		bits |= 1 << n
	}
	return bits, nil
}

// show is crash's show_ps().
func (p *psRun) show(sel []psSelector) error {
	if p.flag&((psExclusive&^psActive)|psNoHeader) == 0 {
		col := center("TASK", 16, false)
		if p.flag&psKstackp != 0 {
			col = center("KSTACKP", 16, true)
		}
		fmt.Fprintf(p.w, "      PID    PPID  CPU %s  ST  %%MEM      VSZ      RSS  COMM\n", col)
	}
	if p.flag&psShowAll != 0 {
		switch {
		case p.flag&psTimes != 0:
			return p.showTimes(nil)
		case p.flag&psSummary != 0:
			return p.showSummary()
		case p.cpus != nil:
			return p.showLastRunCPUs()
		}
		ctx := p.s.Ctx()
		for i := range p.tt.tasks {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := p.showData(&p.tt.tasks[i]); err != nil {
				return err
			}
		}
		return nil
	}
	p.flag |= psTaskSpecified
	for i := range p.tt.tasks {
		t := &p.tt.tasks[i]
		for _, s := range sel {
			match := false
			switch s.kind {
			case "pid":
				match = t.PID == s.pid
			case "task":
				match = t.Addr == s.task
			case "comm", "regex":
				if s.re != nil {
					match = s.re.MatchString(t.Comm)
				} else {
					match = t.Comm == s.comm
				}
				if match && p.flag&(psTGIDList|psGroup) != 0 {
					match = t.PID == t.TGID
				}
			}
			if !match {
				continue
			}
			var err error
			if p.flag&psTimes != 0 {
				err = p.showTimes(t)
			} else {
				err = p.showData(t)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// center is crash's mkstring() with CENTER (and RJUST when rjust):
// an odd extra space goes to the left with RJUST, to the right without.
func center(s string, width int, rjust bool) string {
	extra := width - len(s)
	if extra <= 0 {
		return s
	}
	left, right := extra/2, extra/2
	if extra%2 == 1 {
		if rjust {
			left++
		} else {
			right++
		}
	}
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", right)
}

// taskHeader is crash's print_task_header().
func taskHeader(t *Task) string {
	return fmt.Sprintf("PID: %-7d  TASK: %-16x  CPU: %-3d  COMMAND: \"%s\"\n", t.PID, t.Addr, t.CPU, t.Comm)
}

func (p *psRun) policyOf(t *Task) (uint64, error) {
	o, err := p.s.Object(t.Addr, "task_struct")
	if err != nil {
		return 0, err
	}
	m, err := o.Member("policy")
	if err != nil {
		return 0, err
	}
	return m.Uint()
}

// showData is crash's show_ps_data().
func (p *psRun) showData(t *Task) error {
	if p.flag&psUser != 0 && t.KernelThread() {
		return nil
	}
	if p.flag&psKernel != 0 && !t.KernelThread() {
		return nil
	}
	if p.flag&psPolicy != 0 {
		pol, err := p.policyOf(t)
		if err != nil {
			return err
		}
		if pol >= 64 || p.policy&(1<<pol) == 0 {
			return nil
		}
	}
	if p.flag&psGroup != 0 {
		if p.flag&(psLastRun|psMsecs) != 0 {
			c := 'm'
			if p.flag&psLastRun != 0 {
				c = 'l'
			}
			return fmt.Errorf("-G not supported with -%c option", c)
		}
		if t.PID != t.TGID {
			if p.flag&psTaskSpecified == 0 {
				return nil
			}
			if t = p.tt.leader(t.TGID); t == nil {
				return nil
			}
		}
		if p.shown[t.Addr] {
			return nil
		}
		p.shown[t.Addr] = true
	}
	switch {
	case p.flag&psPPIDList != 0:
		p.parentList(t)
		p.w.WriteString("\n")
		return nil
	case p.flag&psChildList != 0:
		p.childList(t)
		p.w.WriteString("\n")
		return nil
	case p.flag&psLastRun != 0:
		return p.showLastRun(t)
	case p.flag&psMsecs != 0:
		return p.showMsecs(t)
	case p.flag&psArgvEnvp != 0:
		return p.showArgs(t)
	case p.flag&psRlimit != 0:
		return p.showRlimit(t)
	case p.flag&psTGIDList != 0:
		p.showTGIDList(t)
		return nil
	}
	active := p.tt.active[t.Addr]
	if p.flag&psActive != 0 && p.flag&psShowAll != 0 && !active {
		return nil
	}
	mem, err := p.memUsage(t)
	if err != nil {
		return err
	}
	mark := "  "
	if active {
		mark = "> "
	}
	ptr := fmt.Sprintf("%16x", t.Addr)
	if p.flag&psKstackp != 0 {
		if ptr, err = p.kstackp(t, active); err != nil {
			return err
		}
	}
	st := p.r.states.Short(t.State)
	pad := "  "
	if len(st) > 3 {
		pad = " "
	}
	pct := fmt.Sprintf("%.1f", mem.PctMem)
	if len(pct) == 3 {
		pct = center(pct, 4, true)
	}
	comm := t.Comm
	if t.KernelThread() {
		comm = "[" + comm + "]"
	}
	page := uint64(p.s.Dump.PageSize())
	if p.rows != nil {
		*p.rows = append(*p.rows, PsRow{Active: active, PID: t.PID, PPID: p.tt.ppid(t), CPU: t.CPU, Task: Addr(t.Addr),
			State: st, PctMem: strings.TrimSpace(pct), VSZKB: mem.TotalVM * page / 1024, RSSKB: mem.RSS * page / 1024,
			Command: t.Comm, KernelThread: t.KernelThread()})
	}
	fmt.Fprintf(p.w, "%s%7d %7d %3d  %s %3s%s%s %8d %8d  %s\n", mark, t.PID, p.tt.ppid(t), t.CPU, ptr, st, pad, pct,
		mem.TotalVM*page/1024, mem.RSS*page/1024, comm)
	return nil
}

// kstackp is the saved kernel stack pointer (thread.sp) of a task that is
// not running, "--" for an active one (crash's task_pointer_string()).
func (p *psRun) kstackp(t *Task, active bool) (string, error) {
	if active {
		return center("--", 16, true), nil
	}
	o, err := p.s.Object(t.Addr, "task_struct")
	if err != nil {
		return "", err
	}
	m, err := o.Member("thread.sp")
	if err != nil {
		return "", err
	}
	sp, err := m.Uint()
	if err != nil {
		return "", err
	}
	if sp == 0 {
		return center("--", 16, true), nil
	}
	return center(fmt.Sprintf("%x", sp), 16, true), nil
}

// memUsage is crash's get_task_mem_usage() (kernel's TaskMemory).
func (p *psRun) memUsage(t *Task) (kernel.TaskMemory, error) {
	return p.s.TaskMemory(p.s.Ctx(), t)
}

// parentList is crash's parent_list(): the chain of parents from the
// oldest down to t, one more space of indent a generation.
func (p *psRun) parentList(t *Task) {
	chain := []uint64{t.Addr}
	seen := map[uint64]bool{t.Addr: true}
	child := t.Addr
	for {
		pt := p.tt.byTask(child)
		if pt == nil || pt.Parent == child || seen[pt.Parent] {
			break
		}
		child = pt.Parent
		seen[child] = true
		chain = append(chain, child)
	}
	for i, j := len(chain)-1, 0; i >= 0; i, j = i-1, j+1 {
		if ct := p.tt.byTask(chain[i]); ct != nil {
			p.w.WriteString(strings.Repeat(" ", j) + taskHeader(ct))
		}
	}
}

// childList is crash's child_list().
func (p *psRun) childList(t *Task) {
	p.w.WriteString(taskHeader(t))
	n := 0
	for i := range p.tt.tasks {
		if c := &p.tt.tasks[i]; c.Parent == t.Addr {
			p.w.WriteString("  " + taskHeader(c))
			n++
		}
	}
	if n == 0 {
		p.w.WriteString("  (no children)\n")
	}
}

// showTGIDList is crash's show_tgid_list().
func (p *psRun) showTGIDList(t *Task) {
	if t.PID != t.TGID {
		if p.flag&psTaskSpecified == 0 {
			return
		}
		if t = p.tt.leader(t.TGID); t == nil {
			return
		}
	}
	if t.PID == 0 && p.idleOut {
		return
	}
	p.w.WriteString(taskHeader(t))
	n := 0
	for i := range p.tt.tasks {
		c := &p.tt.tasks[i]
		if c.Addr == t.Addr || c.TGID != t.TGID {
			continue
		}
		p.w.WriteString("  " + taskHeader(c))
		n++
		if c.PID == 0 {
			p.idleOut = true
		}
	}
	if n == 0 {
		p.w.WriteString("  (no threads)\n")
	}
	p.w.WriteString("\n")
}

// showSummary is crash's show_ps_summary(): the count of each state, in
// the order the states first appear.
func (p *psRun) showSummary() error {
	if p.flag&(psUser|psKernel|psGroup) != 0 {
		return fmt.Errorf("-S option cannot be used with other options")
	}
	var order []string
	count := map[string]int{}
	for i := range p.tt.tasks {
		st := p.r.states.Short(p.tt.tasks[i].State)
		if count[st] == 0 {
			order = append(order, st)
		}
		count[st]++
	}
	for _, st := range order {
		fmt.Fprintf(p.w, "  %s: %d\n", st, count[st])
	}
	return nil
}

// showTimes is crash's show_task_times(): all tasks (t == nil) sorted by
// start time, or one.
func (p *psRun) showTimes(one *Task) error {
	hz, err := p.s.HZ()
	if err != nil {
		return err
	}
	j64, err := p.s.Var("jiffies_64")
	if err != nil {
		return err
	}
	jiffies, err := j64.Uint()
	if err != nil {
		return err
	}
	// get_uptime(): jiffies_64 counted from INITIAL_JIFFIES.
	jiffies -= uint64(uint32(-300 * int64(hz)))
	type entry struct {
		t                 *Task
		start, utime, sys uint64
	}
	var list []entry
	cand := []*Task{one}
	if one == nil {
		cand = cand[:0]
		for i := range p.tt.tasks {
			cand = append(cand, &p.tt.tasks[i])
		}
	}
	for _, t := range cand {
		if p.flag&psUser != 0 && t.KernelThread() || p.flag&psKernel != 0 && !t.KernelThread() {
			continue
		}
		if p.flag&psGroup != 0 {
			if t.PID != t.TGID {
				if one == nil {
					continue
				}
				if t = p.tt.leader(t.TGID); t == nil {
					return nil
				}
			}
			if p.shown[t.Addr] {
				return nil
			}
			p.shown[t.Addr] = true
		}
		o, err := p.s.Object(t.Addr, "task_struct")
		if err != nil {
			return err
		}
		e := entry{t: t}
		for _, f := range []struct {
			dst  *uint64
			name string
		}{{&e.start, "start_time"}, {&e.utime, "utime"}, {&e.sys, "stime"}} {
			m, err := o.Member(f.name)
			if err != nil {
				return err
			}
			if *f.dst, err = m.Uint(); err != nil {
				return err
			}
		}
		list = append(list, e)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].start < list[j].start })
	for _, e := range list {
		// start_time is in nanoseconds since boot (crash's
		// START_TIME_NSECS): crash truncates it to seconds.
		run := uint64(0)
		if s := e.start / 1e9 * hz; s <= jiffies {
			run = jiffies - s
		}
		fmt.Fprintf(p.w, "%s    RUN TIME: %s\n  START TIME: %d\n       UTIME: %d\n       STIME: %d\n\n",
			taskHeader(e.t), formatUptime(timeSeconds(run/hz)), e.start, e.utime, e.sys)
	}
	return nil
}

// showRlimit is crash's show_task_rlimit() over kernel's Rlimits.
func (p *psRun) showRlimit(t *Task) error {
	rl, err := p.s.Rlimits(t.Addr)
	if err != nil {
		return err
	}
	len1 := 0
	for _, r := range rl {
		if r.Name != "(unknown)" {
			len1 = max(len1, len(r.Name))
		}
	}
	const len2 = len("(unlimited)")
	p.w.WriteString(taskHeader(t))
	fmt.Fprintf(p.w, "  %*s   %s   %s\n", len1, "RLIMIT", center("CURRENT", len2, true), center("MAXIMUM", len2, true))
	val := func(v uint64) string {
		if v == kernel.RlimInfinity {
			return "(unlimited)"
		}
		return center(strconv.FormatUint(v, 10), len2, false)
	}
	for _, r := range rl {
		fmt.Fprintf(p.w, "  %*s   %s   %s\n", len1, r.Name, val(r.Cur), val(r.Max))
	}
	p.w.WriteString("\n")
	return nil
}

// showArgs is crash's show_task_args(): argv and envp from the task's
// user stack pages, read through its own page tables.
func (p *psRun) showArgs(t *Task) error {
	p.w.WriteString(taskHeader(t))
	if t.MM == 0 {
		p.w.WriteString("ps: no user stack\n\n")
		return nil
	}
	mm, err := p.s.Object(t.MM, "mm_struct")
	if err != nil {
		return err
	}
	if mm, err = mm.Load(); err != nil {
		return err
	}
	var v [5]uint64
	for i, name := range []string{"arg_start", "arg_end", "env_start", "env_end", "pgd"} {
		m, err := mm.Member(name)
		if err != nil {
			return err
		}
		if v[i], err = m.Uint(); err != nil {
			return err
		}
	}
	argStart, argEnd, envStart, envEnd, pgd := v[0], v[1], v[2], v[3], v[4]
	read := func(start, end uint64) ([]byte, bool) {
		if end < start || end-start > 1<<20 { // bounded: MAX_ARG_STRLEN * a few pages is far less
			fmt.Fprintf(p.w, "ps: cannot access user stack address: %x\n\n", start)
			return nil, false
		}
		buf := make([]byte, end-start)
		for off := uint64(0); off < uint64(len(buf)); {
			va := start + off
			n := min(uint64(len(buf))-off, 4096-va%4096)
			if err := p.s.readUserLikeCrash(pgd, buf[off:off+n], va); err != nil {
				fmt.Fprintf(p.w, "ps: cannot access user stack address: %x\n\n", va)
				return nil, false
			}
			off += n
		}
		return buf, true
	}
	buf, ok := read(argStart, argEnd)
	if !ok {
		return nil
	}
	p.w.WriteString("ARG: ")
	c := 0
	for _, b := range buf {
		if b == 0 {
			if c > 0 {
				p.w.WriteByte(' ')
			}
			c = 0
		} else {
			p.w.WriteByte(b)
			c++
		}
	}
	if buf, ok = read(envStart, envEnd); !ok {
		return nil
	}
	p.w.WriteString("\nENV: ")
	c, d := 0, 0
	for i, b := range buf {
		if b == 0 {
			if c > 0 {
				p.w.WriteByte('\n')
			}
			c = 0
			continue
		}
		if c == 0 && i != 0 {
			p.w.WriteString("     ")
		}
		p.w.WriteByte(b)
		c++
		d++
	}
	p.w.WriteString("\n")
	if d == 0 {
		p.w.WriteString("\n")
	}
	return nil
}

// lastRun is crash's task_last_run() (kernel's TaskLastRun).
// lastRun is crash's task_last_run(): 0 on a kernel without the
// timestamps (ps -l refuses to run there first; foreach ps -l does not, and
// shows 0 for every task).
func (p *psRun) lastRun(t *Task) (uint64, error) {
	v, err := p.s.TaskLastRun(t.Addr)
	if errors.Is(err, kernel.ErrNoLastRun) {
		return 0, nil
	}
	return v, err
}

// sortByLastRun is crash's sort_context_array_by_last_run(): most recent
// first.
func (p *psRun) sortByLastRun() error {
	lr := make(map[uint64]uint64, len(p.tt.tasks))
	for i := range p.tt.tasks {
		v, err := p.lastRun(&p.tt.tasks[i])
		if err != nil {
			return err
		}
		lr[p.tt.tasks[i].Addr] = v
	}
	sort.SliceStable(p.tt.tasks, func(i, j int) bool { return lr[p.tt.tasks[i].Addr] > lr[p.tt.tasks[j].Addr] })
	for i := range p.tt.tasks {
		p.tt.byAddr[p.tt.tasks[i].Addr] = i
	}
	p.tt.sortedByPID = false
	return nil
}

func (p *psRun) lastRunFormat() (string, error) {
	if len(p.tt.tasks) == 0 {
		return "[%d] ", nil
	}
	v, err := p.lastRun(&p.tt.tasks[0])
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("[%%%dd] ", len(strconv.FormatUint(v, 10))), nil
}

// showLastRun is crash's show_last_run() for one task.
func (p *psRun) showLastRun(t *Task) error {
	format, err := p.lastRunFormat()
	if err != nil {
		return err
	}
	v, err := p.lastRun(t)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.w, format, v)
	fmt.Fprintf(p.w, "[%s]  %s", p.r.states.Short(t.State), taskHeader(t))
	return nil
}

// rqClock is crash's rq_timestamp: runqueues.clock of cpu.
func (p *psRun) rqClock(cpu int) (uint64, error) {
	rq, err := p.s.PerCPU("runqueues", cpu)
	if err != nil {
		return 0, err
	}
	m, err := rq.Member("clock")
	if err != nil {
		return 0, err
	}
	return m.Uint()
}

// translateNanoseconds is crash's translate_nanoseconds().
func translateNanoseconds(v uint64) string {
	v /= 1000000
	ms := v % 1000
	v /= 1000
	secs := v % 60
	v /= 60
	mins := v % 60
	v /= 60
	hours := v % 24
	days := v / 24
	return fmt.Sprintf("%d %02d:%02d:%02d.%03d", days, hours, mins, secs, ms)
}

// showMsecs is crash's show_milliseconds() for one task (the whole-list
// form, without per-cpu alignment of the day count).
func (p *psRun) showMsecs(t *Task) error {
	clock, err := p.rqClock(t.CPU)
	if err != nil {
		return err
	}
	v, err := p.lastRun(t)
	if err != nil {
		return err
	}
	delta := uint64(0)
	if clock > v {
		delta = clock - v
	}
	text := translateNanoseconds(delta)
	if p.flag&psTaskSpecified != 0 {
		days := strings.IndexByte(translateNanoseconds(clock), ' ')
		text = strings.Repeat(" ", max(0, days-strings.IndexByte(text, ' '))) + text
	}
	fmt.Fprintf(p.w, "[%s] [%s]  %s", text, p.r.states.Short(t.State), taskHeader(t))
	return nil
}

// showLastRunCPUs is the -C form of -l and -m: one block per cpu.
func (p *psRun) showLastRunCPUs() error {
	n, err := p.s.NumCPUs()
	if err != nil {
		return err
	}
	format, err := p.lastRunFormat()
	if err != nil {
		return err
	}
	others := 0
	for c := 0; c < n; c++ {
		if !p.cpus[c] {
			continue
		}
		if others > 0 {
			p.w.WriteString("\n")
		}
		others++
		fmt.Fprintf(p.w, "CPU: %d\n", c)
		var clock uint64
		maxDays := 0
		if p.flag&psMsecs != 0 {
			if clock, err = p.rqClock(c); err != nil {
				return err
			}
			maxDays = strings.IndexByte(translateNanoseconds(clock), ' ')
		}
		for i := range p.tt.tasks {
			t := &p.tt.tasks[i]
			if t.CPU != c {
				continue
			}
			v, err := p.lastRun(t)
			if err != nil {
				return err
			}
			if p.flag&psMsecs != 0 {
				delta := uint64(0)
				if clock > v {
					delta = clock - v
				}
				text := translateNanoseconds(delta)
				fmt.Fprintf(p.w, "[%s%s] ", strings.Repeat(" ", max(0, maxDays-strings.IndexByte(text, ' '))), text)
			} else {
				fmt.Fprintf(p.w, format, v)
			}
			fmt.Fprintf(p.w, "[%s]  %s", p.r.states.Short(t.State), taskHeader(t))
		}
	}
	return nil
}
