package commands

// foreach: run one command on a set of tasks (crash's task.c cmd_foreach()
// and foreach()). The tasks are picked by PID, task address, name, 'regex',
// state and the kernel/user/gleader/active words; the command is the first
// keyword (bt, vm, task, set, files, net, sig, ps); options anywhere on the
// line go to that command, as crash's getopt(3) permutes them.

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

func init() {
	register(Command{
		Name:     "foreach",
		Summary:  "display command data for multiple tasks in the system",
		Synopsis: "[[pid | taskp | name | state | [kernel | user | gleader]] ...]\n          command [flag] [argument]",
		Description: `  This command allows for an examination of various kernel data associated
  with any, or all, tasks in the system, without having to set the context
  to each targeted task.`,
		// crash's synopsis names no option: every one is the selected
		// command's, and is listed here (hidden from the usage line).
		Flags: []Flag{
			{Name: "R", Arg: "reference", Help: "bt, vm, task, files, net, sig: the -R reference (a symbol, address, number, file name or member list)", Hidden: true},
			{Name: "v", Help: "vm: dump every vm_area_struct", Hidden: true},
			{Name: "o", Help: "bt: crash's old backtrace method (refused: gocrash's bt has one method)", Hidden: true},
			{Name: "m", Help: "vm: dump the mm_struct; ps: -m", Hidden: true},
			{Name: "l", Help: "bt: file and line numbers; ps: -l", Hidden: true},
			{Name: "g", Help: "sig: the whole thread group; ps: -g", Hidden: true},
			{Name: "e", Help: "bt: search the stack for exception frames", Hidden: true},
			{Name: "r", Help: "bt: the raw stack; ps: -r", Hidden: true},
			{Name: "s", Help: "bt: symbol offsets; net: the sockets; ps: -s", Hidden: true},
			{Name: "S", Help: "net: the sockets and their structures", Hidden: true},
			{Name: "t", Help: "bt: the text symbols on the stack; ps: -t", Hidden: true},
			{Name: "T", Help: "bt: every text symbol from the bottom of the stack", Hidden: true},
			{Name: "p", Help: "vm: each page's translation; ps: -p", Hidden: true},
			{Name: "u", Help: "vtop: a user address; ps: -u", Hidden: true},
			{Name: "k", Help: "vtop: a kernel address; ps: -k", Hidden: true},
			{Name: "c", Help: "files: the page cache use of each file; ps: -c", Hidden: true},
			{Name: "f", Help: "bt: every word of each frame", Hidden: true},
			{Name: "F", Help: "bt: the frame words symbolically (-FF: with slab object addresses)", Hidden: true},
			{Name: "x", Help: "bt, vm, task, net: hexadecimal", Hidden: true},
			{Name: "h", Help: "the same as -x", Hidden: true},
			{Name: "d", Help: "bt, vm, task, net: decimal", Hidden: true},
			{Name: "a", Help: "ps: -a", Hidden: true},
			{Name: "G", Help: "ps: -G", Hidden: true},
			{Name: "y", Arg: "policy", Help: "ps: -y policy", Hidden: true},
		},
		Operands: []Operand{
			{"pid", "perform the command(s) on this PID."},
			{"taskp", "perform the command(s) on task referenced by this hexadecimal task_struct pointer."},
			{"name", "perform the command(s) on all tasks with this name.  If the task name can be confused with a foreach command name, then precede the name string with a \"\\\".  If the name string is enclosed within \"'\" characters, then the encompassed string must be a POSIX extended regular expression that will be used to match task names."},
			{"user", "perform the command(s) on all user (non-kernel) threads."},
			{"gleader", "perform the command(s) on all user (non-kernel) thread group leaders."},
			{"kernel", "perform the command(s) on all kernel threads."},
			{"active", "perform the command(s) on the active thread on each CPU."},
			{"state", "perform the command(s) on all tasks in the specified state, which may be one of: RU, IN, UN, ST, ZO, TR, SW, DE, WA, PA, ID or NE."},
		},
		Notes: `  If none of the task-identifying arguments above are entered, the command
  will be performed on all tasks.

  command  select one or more of the following commands to be run on the tasks
           selected, or on all tasks:

             bt  run the "bt" command  (optional flags: -r -t -T -l -e -R -f -F -o -s -x -d)
             vm  run the "vm" command  (optional flags: -p -v -m -R -d -x)
           task  run the "task" command  (optional flags: -R -d -x)
          files  run the "files" command  (optional flag: -c -R)
            net  run the "net" command  (optional flags: -s -S -R -d -x)
            set  run the "set" command
             ps  run the "ps" command  (optional flags: -G -s -p -c -t -l -a
                 -g -r -y)
            sig  run the "sig" command (optional flag: -g)
           vtop  run the "vtop" command  (optional flags: -c -u -k)

     flag  Pass this optional flag to the command selected.
 argument  Pass this argument to the command selected (vtop's addresses).

  Only the first command word is the command: the words after it are its
  arguments.  The options may come anywhere on the line.`,
		Examples: `  Display the stack traces for all tasks:

    crash> foreach bt
    PID: 0        TASK: ffffffff8d811600  CPU: 0    COMMAND: "swapper/0"
     #0 [ffffffff8d803e98] __schedule at ffffffff8cdb083c
     #1 [ffffffff8d803ee0] schedule_idle at ffffffff8cdb0afd
    ...

  Display the process status of the tasks whose names start with "k":

    crash> foreach '^k' ps

  The stack traces of the running tasks, with symbol offsets:

    crash> foreach RU bt -s

  The open files of every user task, and the sockets of every task:

    crash> foreach user files
    crash> foreach net -s

  The pid of every task, and where address 400000 is in each address
  space:

    crash> foreach task -R pid
    crash> foreach vtop 400000`,
		Run: runForeach,
	})
}

// foreach's option letters as crash's FOREACH_*_FLAG. F counts (-F, -FF).
type foreachSpec struct {
	flags   map[byte]int
	ref     string // -R
	policy  string // -y
	keyword string
	args    []string // the words after the keyword

	pids      []int64
	tasks     []uint64
	comms     []string
	regexs    []*regexp.Regexp
	specified bool // a task-identifying argument was given (crash's FOREACH_SPECIFIED)
	kernel    bool
	user      bool
	gleader   bool
	active    bool
	state     string
}

func (f *foreachSpec) has(c byte) bool { return f.flags[c] > 0 }

// foreachKeywords are the commands foreach runs, in crash's
// is_foreach_keyword() spelling. Each file of a command adds its entry.
var foreachKeywords = map[string]foreachCommand{}

// A foreachCommand is one command foreach can run on each task: check is
// crash's per-command option check before the loop (a message ends the
// whole foreach), start prepares the command once and returns what runs it
// on one task. header says whether foreach prints the task's header line
// before each task (bt and ps, sig -g print their own or none).
type foreachCommand struct {
	start func(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error)
}

// A foreachRunner runs the command on the selected tasks, in order.
type foreachRunner struct {
	header bool
	order  []Task // the task table order to use (ps -l re-sorts it); nil = tt's
	run    func(t *Task) error
	done   func() error
}

func init() {
	foreachKeywords["bt"] = foreachCommand{start: foreachBt}
	foreachKeywords["ps"] = foreachCommand{start: foreachPs}
	foreachKeywords["set"] = foreachCommand{start: foreachSet}
}

func runForeach(s *Session, args []string, w io.Writer) error {
	f, tt, states, err := parseForeach(s, args, w)
	if f == nil || err != nil {
		return err
	}
	cmd, ok := foreachKeywords[f.keyword]
	if !ok {
		// vtop and test are crash's keywords too; gocrash has neither
		// command yet.
		return fmt.Errorf("%s: gocrash has no %s command to run on each task", f.keyword, f.keyword)
	}
	r, err := cmd.start(s, f, tt, w)
	if err != nil {
		return err
	}
	subsequent := 0
	err = f.each(s, tt, states, r.order, func(t *Task) error {
		if f.ref == "" && r.header {
			nl := ""
			if subsequent > 0 {
				nl = "\n"
			}
			subsequent++
			io.WriteString(w, nl+taskHeader(t))
		}
		if err := r.run(t); err != nil {
			// crash longjmps back into its loop (foreach_loop_env):
			// the error is shown and the next task goes on.
			var ue *UsageError
			if errors.As(err, &ue) {
				return err
			}
			if !Printed(err) {
				fmt.Fprintf(w, "%s: %v\n", f.keyword, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if r.done != nil {
		return r.done()
	}
	return nil
}

// parseForeach reads foreach's line: its options, the task selection and
// the command keyword with its arguments. A nil spec without an error is
// a line foreach answers with a message only (no keyword).
func parseForeach(s *Session, args []string, w io.Writer) (*foreachSpec, *taskTable, *taskStates, error) {
	f := &foreachSpec{flags: map[byte]int{}}
	// getopt(3) as glibc's: options are taken from anywhere on the line
	// (up to "--"), the other words keep their order.
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			if !strings.ContainsRune("RvomlgersStTpukcfFxhdaGy", rune(c)) {
				return nil, nil, nil, usageErr("foreach", "invalid option -- '%c'", c)
			}
			if c == 'R' || c == 'y' {
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, nil, nil, usageErr("foreach", "option requires an argument -- '%c'", c)
					}
					i++
					v = args[i]
				}
				if c == 'R' {
					f.ref = v
				} else {
					f.policy = v
				}
				f.flags[c]++
				break
			}
			if c == 'h' {
				c = 'x'
			}
			f.flags[c]++
		}
	}
	if len(words) == 0 {
		return nil, nil, nil, &UsageError{Cmd: "foreach"}
	}
	tt, err := s.taskTable()
	if err != nil {
		return nil, nil, nil, err
	}
	states, err := s.taskStates()
	if err != nil {
		return nil, nil, nil, err
	}
	info := func(format string, a ...any) {
		fmt.Fprintf(w, "foreach: "+format+"\n", a...)
	}
	for i, a := range words {
		if f.keyword != "" {
			f.args = append(f.args, a)
			continue
		}
		if _, ok := foreachKeywords[a]; ok || a == "vtop" || a == "test" {
			f.keyword = a
			continue
		}
		if isNumber(a) {
			if a == "DE" && tt.byPID(0xde) != nil {
				info("ambiguous task-identifying argument: %s", a)
				fmt.Fprintf(w, "         for a \"state\" argument, use: \\DE\n")
				fmt.Fprintf(w, "         for a \"pid\" argument, use: 0xDE, 0xde, de or 222\n\n")
				return nil, nil, nil, &UsageError{Cmd: "foreach"}
			}
			if pid, task, ok := tt.strToContext(a); ok {
				if task != 0 {
					f.tasks = append(f.tasks, task)
				} else {
					f.pids = append(f.pids, pid)
				}
				f.specified = true
				continue
			}
		}
		if a == "kernel" {
			if f.user {
				return nil, nil, nil, errors.New("user and kernel are mutually exclusive!")
			}
			f.kernel = true
			continue
		}
		if a == `\DE` {
			a = "DE"
		}
		if bit, ok := foreachStates(states)[a]; ok {
			if f.state != "" {
				return nil, nil, nil, errors.New("only one task state allowed")
			}
			if !has(bit) {
				return nil, nil, nil, fmt.Errorf("invalid task state for this kernel: %s", a)
			}
			f.state = a
			continue
		}
		switch a {
		case "user":
			if f.kernel {
				return nil, nil, nil, errors.New("user and kernel are mutually exclusive!")
			}
			f.user = true
			continue
		case "gleader":
			if f.kernel {
				return nil, nil, nil, errors.New("gleader and kernel are mutually exclusive!")
			}
			f.user, f.gleader = true, true
			continue
		case "active":
			f.active = true
			continue
		}
		if len(a) >= 2 && a[0] == '\'' && a[len(a)-1] == '\'' {
			re, err := compileERE(a[1 : len(a)-1])
			if err != nil {
				info("invalid regular expression: %s", a[1:len(a)-1])
				return nil, nil, nil, &printedError{err: err}
			}
			f.regexs = append(f.regexs, re)
			continue
		}
		name := strings.TrimPrefix(a, `\`)
		if commExists(tt, name) {
			f.comms = append(f.comms, commKey(name))
			f.specified = true
			continue
		}
		_ = i
		f.specified = true
		info("unknown argument: \"%s\"", a)
	}
	if f.keyword == "" {
		info("no keywords specified")
		return nil, nil, nil, nil
	}
	return f, tt, states, nil
}

// each calls fn on every task the spec selects, in order (the task
// table's when nil), the one selection foreach's text and JSON share.
func (f *foreachSpec) each(s *Session, tt *taskTable, states *taskStates, order []Task, fn func(t *Task) error) error {
	if order == nil {
		order = tt.tasks
	}
	specified := len(f.tasks) > 0 || len(f.pids) > 0 || len(f.comms) > 0 || len(f.regexs) > 0 || f.specified
	for i := range order {
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		t := &order[i]
		if f.active && !tt.active[t.Addr] {
			continue
		}
		if f.user && t.KernelThread() {
			continue
		}
		if f.gleader && t.PID != t.TGID {
			continue
		}
		if f.kernel && !t.KernelThread() {
			continue
		}
		if f.state != "" && !strings.HasPrefix(states.Short(t.State), f.state) {
			continue
		}
		if specified && !f.selects(t) {
			continue
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

// selects is foreach's match of a task against the pids, tasks, names and
// regular expressions given.
func (f *foreachSpec) selects(t *Task) bool {
	for _, a := range f.tasks {
		if a == t.Addr {
			return true
		}
	}
	for _, p := range f.pids {
		if p == t.PID {
			return true
		}
	}
	for _, c := range f.comms {
		if c == t.Comm {
			return true
		}
	}
	for _, re := range f.regexs {
		if re.MatchString(t.Comm) {
			return true
		}
	}
	return false
}

// foreachStates maps foreach's state words to the kernel's state bits
// (-1: the kernel has no such state).
func foreachStates(st *taskStates) map[string]int64 {
	id := int64(-1)
	if has(st.Uninterruptible) && has(st.NoLoad) {
		id = st.Uninterruptible | st.NoLoad
	}
	return map[string]int64{
		"RU": st.Running, "IN": st.Interruptible, "UN": st.Uninterruptible,
		"ST": st.Stopped, "TR": st.Traced, "ZO": st.Zombie, "DE": st.Dead,
		"SW": st.Swapping, "PA": st.Parked, "WA": st.Waking, "ID": id, "NE": st.New,
	}
}

// commKey is a name as crash compares it with task_struct.comm: cut to
// TASK_COMM_LEN-1 bytes (strlcpy into char[16]).
func commKey(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}

// commExists is crash's comm_exists().
func commExists(tt *taskTable, name string) bool {
	k := commKey(name)
	for i := range tt.tasks {
		if tt.tasks[i].Comm == k {
			return true
		}
	}
	return false
}

// compileERE compiles a POSIX extended regular expression as regcomp()
// would for the patterns people type at task names (RE2 syntax is a
// superset for those).
func compileERE(p string) (*regexp.Regexp, error) {
	return regexp.Compile(p)
}

// strToContext is crash's str_to_context(): a decimal word naming a pid is
// that pid, else a word naming a task address is that task; a word that
// is both a decimal and a hexadecimal pid means the decimal one. task is 0
// for a pid.
// selected is the tasks an argument strToContext parsed names: the task at
// address task, else every thread whose PID is pid.
func (tt *taskTable) selected(pid int64, task uint64) []*Task {
	if task != 0 {
		return []*Task{tt.byTask(task)}
	}
	var list []*Task
	for j := range tt.tasks {
		if tt.tasks[j].PID == pid {
			list = append(list, &tt.tasks[j])
		}
	}
	return list
}

func (tt *taskTable) strToContext(arg string) (pid int64, task uint64, ok bool) {
	const bad = ^uint64(0)
	dv, hv := bad, bad
	if d, ok := parseDec(arg); ok {
		dv = uint64(d)
	}
	if h, ok := parseTaskHex(arg); ok {
		hv = h
	}
	type hit struct {
		pid  bool
		v    uint64
		some bool
	}
	var dp, dt, hp, ht hit
	found := 0
	look := func(v uint64) (p, t hit) {
		if v < 1<<31 && tt.byPID(int64(v)) != nil {
			p = hit{true, v, true}
			found++
		}
		if tt.byTask(v) != nil {
			t = hit{false, v, true}
			found++
		}
		return p, t
	}
	if dv != bad {
		dp, dt = look(dv)
	}
	if hv != bad && hv != dv {
		hp, ht = look(hv)
	}
	pick := func(h hit) (int64, uint64, bool) {
		if h.pid {
			return int64(h.v), 0, true
		}
		return 0, h.v, true
	}
	switch found {
	case 1:
		for _, h := range []hit{dp, dt, hp, ht} {
			if h.some {
				return pick(h)
			}
		}
	case 2:
		if dp.some && hp.some {
			return pick(dp)
		}
	}
	return 0, 0, false
}

// foreachBt runs bt on each task with foreach's flags.
func foreachBt(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	r, err := foreachBtRun(s, f, w)
	if err != nil {
		return foreachRunner{}, err
	}
	return foreachRunner{
		// bt's own header is crash's print_task_header(), with the
		// blank line between tasks: it is printed by r.task.
		run: func(t *Task) error {
			r.task(t.Addr)
			return nil
		},
	}, nil
}

// foreachBtRun is the bt run foreach's flags make (its text and JSON).
func foreachBtRun(s *Session, f *foreachSpec, w io.Writer) (*btRun, error) {
	if f.has('x') && f.has('d') {
		return nil, errors.New("bt: -x and -d options are mutually exclusive")
	}
	if f.has('g') {
		return nil, errors.New("bt -g option is not supported when issued from foreach")
	}
	var opt btOptions
	opt.offsets = f.has('s')
	opt.text = f.has('t') || f.has('T')
	opt.textAll = f.has('T')
	opt.eframes = f.has('e')
	opt.lines = f.has('l')
	opt.full = f.has('f')
	opt.raw = f.has('r')
	if n := f.flags['F']; n > 0 {
		opt.full, opt.slab = true, min(n, 2)
	}
	if f.has('x') {
		opt.radix = 16
	}
	if f.has('d') {
		opt.radix = 10
	}
	if err := foreachBtOptions(s, f, &opt); err != nil {
		return nil, err
	}
	return newBtRun(s, opt, w)
}

// foreachBtOptions passes -R and -o on to bt (-o also when bt -O made
// the old method the default).
func foreachBtOptions(s *Session, f *foreachSpec, opt *btOptions) error {
	opt.old = f.has('o') || s.btOld
	opt.ref = f.ref
	return nil
}

// foreachPs runs ps on each task: one header line before the first task
// (crash's PS_NO_HEADER for the others), and ps -l/-m's re-sorted order.
func foreachPs(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	return foreachPsRows(s, f, tt, w, nil)
}

// foreachPsRows is foreachPs also collecting the default format's rows
// when rows is not nil (foreach ps's JSON).
func foreachPsRows(s *Session, f *foreachSpec, tt *taskTable, w io.Writer, rows *[]PsRow) (foreachRunner, error) {
	p := &psRun{s: s, w: &strings.Builder{}, shown: map[uint64]bool{}, tt: tt, rows: rows}
	n := 0
	for _, x := range []struct {
		c    byte
		flag int
	}{{'a', psArgvEnvp}, {'c', psChildList}, {'p', psPPIDList}, {'t', psTimes}, {'l', psLastRun}, {'m', psMsecs}, {'r', psRlimit}, {'g', psTGIDList}} {
		if f.has(x.c) {
			n++
		}
	}
	if n > 1 {
		return foreachRunner{}, errors.New(psExclusiveMsg)
	}
	if (f.has('l') || f.has('m')) && f.has('G') {
		c := 'm'
		if f.has('l') {
			c = 'l'
		}
		return foreachRunner{}, fmt.Errorf("-G not supported with -%c option", c)
	}
	if f.has('G') {
		p.flag |= psGroup
	}
	if f.has('s') {
		p.flag |= psKstackp
	}
	if f.has('y') {
		p.flag |= psPolicy
		var err error
		if p.policy, err = parsePolicies(f.policy); err != nil {
			return foreachRunner{}, err
		}
	}
	// Only one of these, in crash's order.
	switch {
	case f.has('a'):
		p.flag |= psArgvEnvp
	case f.has('c'):
		p.flag |= psChildList
	case f.has('p'):
		p.flag |= psPPIDList
	case f.has('t'):
		p.flag |= psTimes
	case f.has('l'):
		p.flag |= psLastRun
	case f.has('m'):
		p.flag |= psMsecs
	case f.has('r'):
		p.flag |= psRlimit
	case f.has('g'):
		p.flag |= psTGIDList
	}
	var err error
	if p.r, err = s.newTaskReader(s.Mem); err != nil {
		return foreachRunner{}, err
	}
	if p.r.states, err = s.taskStates(); err != nil {
		return foreachRunner{}, err
	}
	var order []Task
	if p.flag&(psLastRun|psMsecs) != 0 {
		// crash sorts its task table by last run before the loop, and
		// foreach then walks it in that order. The copy keeps tt's
		// pid order for the other lookups.
		cp := *tt
		cp.tasks = append([]Task(nil), tt.tasks...)
		cp.byAddr = make(map[uint64]int, len(cp.tasks))
		for i := range cp.tasks {
			cp.byAddr[cp.tasks[i].Addr] = i
		}
		p.tt = &cp
		if err := p.sortByLastRun(); err != nil {
			return foreachRunner{}, err
		}
		order = cp.tasks
	}
	p.flag |= psTaskSpecified
	out := p.w
	subsequent := 0
	return foreachRunner{
		order: order,
		run: func(t *Task) error {
			if subsequent > 0 {
				p.flag |= psNoHeader
			}
			subsequent++
			out.Reset()
			if p.flag&((psExclusive&^psActive)|psNoHeader) == 0 {
				col := center("TASK", 16, false)
				if p.flag&psKstackp != 0 {
					col = center("KSTACKP", 16, true)
				}
				fmt.Fprintf(out, "      PID    PPID  CPU %s  ST  %%MEM      VSZ      RSS  COMM\n", col)
			}
			var err error
			if p.flag&psTimes != 0 {
				err = p.showTimes(t)
			} else {
				err = p.showData(t)
			}
			io.WriteString(w, out.String())
			return err
		},
	}, nil
}

// foreachSet shows each task's context block (crash's show_context()).
func foreachSet(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	if f.ref != "" {
		return foreachRunner{}, errors.New("set command does not support -R option")
	}
	states, err := s.taskStates()
	if err != nil {
		return foreachRunner{}, err
	}
	return foreachRunner{
		header: true,
		run: func(t *Task) error {
			_, err := io.WriteString(w, s.contextBlock(tt, states, t))
			return err
		},
	}, nil
}

// eachTaskArg is crash's loop of vm and net over their PID/task arguments
// (the context task when there are none): each task's header when header
// is set, a blank line before every header or error after the first, an
// argument that names no task reported and passed over, every failure
// printed under the command's name and the last one returned as printed.
func (tt *taskTable) eachTaskArg(s *Session, w io.Writer, cmd string, args []string, header bool, do func(*Task) error) error {
	if len(args) == 0 {
		ctx, err := s.Context()
		if err != nil {
			return err
		}
		t := tt.byTask(ctx)
		if t == nil {
			return fmt.Errorf("context task %x is not in the task table", ctx)
		}
		if header {
			io.WriteString(w, taskHeader(t))
		}
		return do(t)
	}
	subsequent := 0
	var failed error
	for _, a := range args {
		nl := ""
		if subsequent > 0 {
			nl = "\n"
		}
		pid, task, ok := tt.strToContext(a)
		if !ok {
			subsequent++
			fmt.Fprintf(w, "%s: %sinvalid task or pid value: %s\n", cmd, nl, a)
			failed = fmt.Errorf("invalid task or pid value: %s", a)
			continue
		}
		for _, t := range tt.selected(pid, task) {
			if header {
				nl := ""
				if subsequent > 0 {
					nl = "\n"
				}
				io.WriteString(w, nl+taskHeader(t))
			}
			subsequent++
			if err := do(t); err != nil {
				fmt.Fprintf(w, "%s: %v\n", cmd, err)
				failed = err
			}
		}
	}
	if failed != nil {
		return &printedError{err: failed}
	}
	return nil
}
