package commands

// sig: a task's signal handling (crash's task.c cmd_sig(), do_sig(),
// do_sig_thread_group(), dump_signal_data(), signame_list(),
// translate_sigset()).

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "sig",
		Summary:  "task signal handling",
		Synopsis: "[[-l] | [-s sigset]] | [-g] [pid | taskp] ...",
		Description: `  This command displays signal-handling data of one or more tasks.  Multiple
  task or PID numbers may be entered; if no arguments are entered, the signal
  handling data of the current context will be displayed.  The default display
  shows:

    1.  A formatted dump of the "sig" signal_struct structure referenced by
        the task_struct.  For each defined signal, it shows the sigaction
        structure address, the signal handler, the signal sa_mask contents
        (formatted as a 64-bit hexadecimal value), and the sa_flags.
    2.  Whether the task has an unblocked signal pending.
    3.  The contents of the "blocked" and "signal" sigset_t structures
        from the task_struct/signal_struct, both of which are represented
        as a 64-bit hexadecimal value.
    4.  A formatted dump of the "sigqueue" structure contents (if any).`,
		Flags: []Flag{
			{Name: "g", Help: "displays signal information for all threads in a task's thread group."},
			{Name: "l", Help: "displays the defined signal names and their numbers."},
			{Name: "s", Arg: "sigset", Help: "translates a 64-bit hexadecimal value representing the contents of a sigset_t structure into the signal names whose bits are set."},
			{Name: "R", Arg: "member", Help: "task_struct members to show, as task -R: crash 8.0.6 takes it and answers \"-R not supported yet\" (so does a member named without -R), and gocrash with it.", Hidden: true},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"taskp", "a hexadecimal task_struct pointer."},
		},
		Examples: `  Display the signal-handling data of PID 1:

    crash> sig 1
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
    SIGNAL_STRUCT: ff42bab5001c0000  NR_THREADS: 1
     SIG    SIGACTION        HANDLER       MASK       FLAGS
     [1] ff42bab5001b0020    SIG_DFL 0000000000000000 0
     [2] ff42bab5001b0040     525892 fffffffe7ffbfeff 4000000 (SA_RESTORER)
    ...
    SIGPENDING: no
       BLOCKED: 0000000000000000
    PRIVATE_PENDING
        SIGNAL: 0000000000000000
      SIGQUEUE: (empty)
    SHARED_PENDING
        SIGNAL: 0000000000000000
      SIGQUEUE: (empty)

  Translate a sigset_t value:

    crash> sig -s fffffffe7ffbfeff

  List the signal names:

    crash> sig -l`,
		Run: runSig,
	})
	foreachKeywords["sig"] = foreachCommand{start: foreachSig}
}

// signames are crash's signame[] (task.c): the names of signals 1-31,
// with the alternative names of 6, 17, 29 and 31.
var signames = [32][2]string{
	{}, {"SIGHUP", ""}, {"SIGINT", ""}, {"SIGQUIT", ""}, {"SIGILL", ""}, {"SIGTRAP", ""},
	{"SIGABRT", "SIGIOT"}, {"SIGBUS", ""}, {"SIGFPE", ""}, {"SIGKILL", ""}, {"SIGUSR1", ""},
	{"SIGSEGV", ""}, {"SIGUSR2", ""}, {"SIGPIPE", ""}, {"SIGALRM", ""}, {"SIGTERM", ""},
	{"SIGSTKFLT", ""}, {"SIGCHLD", "SIGCLD"}, {"SIGCONT", ""}, {"SIGSTOP", ""}, {"SIGTSTP", ""},
	{"SIGTTIN", ""}, {"SIGTTOU", ""}, {"SIGURG", ""}, {"SIGXCPU", ""}, {"SIGXFSZ", ""},
	{"SIGVTALRM", ""}, {"SIGPROF", ""}, {"SIGWINCH", ""}, {"SIGIO", "SIGPOLL"}, {"SIGPWR", ""},
	{"SIGSYS", "SIGUNUSED"},
}

const (
	sigRTMin = 32
	sigRTMax = 64 // crash's sigrt_minmax() on 2.5 and later kernels: _NSIG
)

// sigRTNames names signals 32-64 as crash does: SIGRTMIN, SIGRTMIN+1 ...
// SIGRTMIN+15, SIGRTMAX-15 ... SIGRTMAX-1, SIGRTMAX.
func sigRTName(i int) string {
	j := sigRTMax - sigRTMin - 1
	max := j / 2
	min := j - max
	switch {
	case i == sigRTMin:
		return "SIGRTMIN"
	case i == sigRTMax:
		return "SIGRTMAX"
	case i-sigRTMin <= min:
		return fmt.Sprintf("SIGRTMIN+%d", i-sigRTMin)
	}
	return fmt.Sprintf("SIGRTMAX-%d", sigRTMax-i)
}

// sigList is crash's signame_list().
func sigList() string {
	var b strings.Builder
	for i := 1; i <= sigRTMax; i++ {
		if i >= sigRTMin {
			fmt.Fprintf(&b, "[%d] %s\n", i, sigRTName(i))
			continue
		}
		sp := ""
		if i < 10 {
			sp = " "
		}
		fmt.Fprintf(&b, "%s[%d] %s", sp, i, signames[i][0])
		if signames[i][1] != "" {
			b.WriteString("/" + signames[i][1])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// translateSigset is crash's translate_sigset(): the names of the bits
// set, lines broken before 80 columns.
func translateSigset(set uint64) string {
	if set == 0 {
		return "(none)\n"
	}
	var b strings.Builder
	n, c := 0, 0
	for i := 1; i <= sigRTMax; i++ {
		if set&1 != 0 {
			name := ""
			if i >= sigRTMin {
				name = sigRTName(i)
			} else {
				name = signames[i][0]
			}
			w := name
			if c > 0 {
				w = " " + name
			}
			c++
			if n+len(w) > 80 {
				w = w[1:]
				b.WriteString("\n")
				n = 0
			}
			n += len(w)
			b.WriteString(w)
		}
		set >>= 1
	}
	b.WriteString("\n")
	return b.String()
}

// sa_flags bits (arch/x86/include/uapi/asm/signal.h,
// include/uapi/asm-generic/signal-defs.h) in crash's order.
var saFlagNames = []struct {
	bit  uint64
	name string
}{
	{0x1, "SA_NOCLDSTOP"}, {0x04000000, "SA_RESTORER"}, {0x2, "SA_NOCLDWAIT"},
	{0x4, "SA_SIGINFO"}, {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"},
	{0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"},
}

// sigLevel says which parts of dump_signal_data() to print.
const (
	sigTaskLevel  = 1 << iota // pending, blocked, private queue
	sigGroupLevel             // dispositions, shared queue
	sigIndent                 // indent by two (sig -g's threads)
)

func queueText(b *strings.Builder, ind string, q []kernel.SigQueued) {
	if len(q) == 0 {
		b.WriteString(ind + "  SIGQUEUE: (empty)\n")
		return
	}
	fmt.Fprintf(b, "%s  SIGQUEUE:  SIG  %s\n", ind, center("SIGINFO", 16, false))
	for _, e := range q {
		fmt.Fprintf(b, "             %3d  %x\n", e.Signo, e.Info)
	}
}

// signalData is crash's dump_signal_data().
func signalData(ts *kernel.TaskSignals, level int) string {
	var b strings.Builder
	ind := ""
	if level&sigIndent != 0 {
		ind = "  "
	}
	if level&sigGroupLevel != 0 {
		fmt.Fprintf(&b, "%sSIGNAL_STRUCT: %x  ", ind, ts.SignalStruct)
		if ts.SignalStruct == 0 {
			b.WriteString("\n")
			return b.String()
		}
		fmt.Fprintf(&b, "NR_THREADS: %d\n", ts.NrThreads)
		fmt.Fprintf(&b, "%s SIG %s %s %s %-16s\n", ind, center("SIGACTION", 16, false), fmt.Sprintf("%10s", "HANDLER"), center("MASK", 16, false), "FLAGS")
		for i, a := range ts.Actions {
			sig := i + 1
			sp := ""
			if sig < 10 {
				sp = " "
			}
			var h string
			switch int64(a.Handler) {
			case -1:
				h = "SIG_ERR"
			case 0:
				h = "SIG_DFL"
			case 1:
				h = "SIG_IGN"
			default:
				h = fmt.Sprintf("%x", a.Handler)
			}
			fmt.Fprintf(&b, "%s%s[%d] %-10x %10s %016x %x ", ind, sp, sig, a.Addr, h, a.Mask, a.Flags)
			if a.Flags != 0 {
				var names []string
				for _, f := range saFlagNames {
					if a.Flags&f.bit != 0 {
						names = append(names, f.name)
					}
				}
				if len(names) > 0 {
					b.WriteString("(" + strings.Join(names, "|") + ")")
				}
			}
			b.WriteString("\n")
		}
	}
	if level&sigTaskLevel != 0 {
		pend := "no"
		if ts.SigPending {
			pend = "yes"
		}
		fmt.Fprintf(&b, "%sSIGPENDING: %s\n", ind, pend)
		fmt.Fprintf(&b, "%s   BLOCKED: %016x\n", ind, ts.Blocked)
		fmt.Fprintf(&b, "%sPRIVATE_PENDING\n", ind)
		fmt.Fprintf(&b, "%s    SIGNAL: %016x\n", ind, ts.Pending)
		queueText(&b, ind, ts.Queue)
	}
	if level&sigGroupLevel != 0 {
		b.WriteString("SHARED_PENDING\n")
		fmt.Fprintf(&b, "%s    SIGNAL: %016x\n", ind, ts.SharedSignal)
		queueText(&b, ind, ts.SharedQueue)
	}
	return b.String()
}

type sigRun struct {
	s     *Session
	w     io.Writer
	tt    *taskTable
	shown map[uint64]bool // sig -g: groups shown
	idle  bool            // crash's IDLE_TASK_SHOWN
	named bool            // crash's TASK_SPECIFIED
}

func (r *sigRun) signals(t *Task, group bool) (*kernel.TaskSignals, error) {
	return r.s.Signals(r.s.Ctx(), t.Addr, group)
}

// one is do_sig() for one task; header says whether to print its header.
func (r *sigRun) one(t *Task, header bool) error {
	ts, err := r.signals(t, true)
	if err != nil {
		return err
	}
	out := ""
	if header {
		out = taskHeader(t)
	}
	_, err = io.WriteString(r.w, out+signalData(ts, sigTaskLevel|sigGroupLevel))
	return err
}

// group is do_sig_thread_group().
func (r *sigRun) group(t *Task) error {
	if t.PID != t.TGID {
		if !r.named {
			return nil
		}
		if t = r.tt.leader(t.TGID); t == nil {
			return nil
		}
	}
	if t.PID == 0 && r.idle {
		return nil
	}
	var b strings.Builder
	ts, err := r.signals(t, true)
	if err != nil {
		return err
	}
	b.WriteString(taskHeader(t) + signalData(ts, sigGroupLevel))
	b.WriteString("\n  " + taskHeader(t) + signalData(ts, sigTaskLevel|sigIndent))
	for i := range r.tt.tasks {
		x := &r.tt.tasks[i]
		if x.Addr == t.Addr || x.TGID != t.TGID {
			continue
		}
		xs, err := r.signals(x, false)
		if err != nil {
			return err
		}
		b.WriteString("\n  " + taskHeader(x) + signalData(xs, sigTaskLevel|sigIndent))
		if x.PID == 0 {
			r.idle = true
		}
	}
	b.WriteString("\n")
	_, err = io.WriteString(r.w, b.String())
	return err
}

func runSig(s *Session, args []string, w io.Writer) error {
	group := false
	var ref []string
	g := parseFlags("sig", args)
	for g.next() {
		switch g.flag {
		case "s":
			v, ok := parseTaskHex(g.val)
			if !ok {
				return fmt.Errorf("invalid sigset value: %s", g.val)
			}
			_, err := io.WriteString(w, translateSigset(v))
			return err
		case "l":
			_, err := io.WriteString(w, sigList())
			return err
		case "g":
			group = true
		case "R":
			ref = append(ref, g.val)
		}
	}
	if g.err != nil {
		return g.err
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	r := &sigRun{s: s, w: w, tt: tt, named: group}
	var list []*Task
	bogus := 0
	types, err := s.Types()
	if err != nil {
		return err
	}
	for _, a := range g.rest() {
		if isNumber(a) {
			pid, task, ok := tt.strToContext(a)
			if !ok {
				bogus++
				fmt.Fprintf(w, "sig: invalid task or pid value: %s\n\n", a)
				continue
			}
			if task != 0 {
				list = append(list, tt.byTask(task))
			} else {
				for i := range tt.tasks {
					if tt.tasks[i].PID == pid {
						list = append(list, &tt.tasks[i])
					}
				}
			}
		} else if strings.Contains(a, ",") || types.HasMember("task_struct", a) {
			ref = append(ref, a)
		} else {
			fmt.Fprintf(w, "sig: invalid task or pid value: %s\n\n", a)
		}
	}
	if len(list) == 0 && bogus == 0 {
		ctx, err := s.Context()
		if err != nil {
			return err
		}
		t := tt.byTask(ctx)
		if t == nil {
			return fmt.Errorf("context task %x is not in the task table", ctx)
		}
		list = append(list, t)
	}
	for _, t := range list {
		if group {
			if err := r.group(t); err != nil {
				return err
			}
			continue
		}
		if len(ref) > 0 {
			return errors.New("-R not supported yet")
		}
		if err := r.one(t, true); err != nil {
			return err
		}
		io.WriteString(w, "\n")
	}
	return nil
}

// foreachSig runs sig on each task: the dispositions and queues under
// foreach's header, or with -g each thread group once.
func foreachSig(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	if f.has('l') || f.has('s') {
		return foreachRunner{}, errors.New("sig: -l and -s options are not applicable")
	}
	r := &sigRun{s: s, w: w, tt: tt, shown: map[uint64]bool{}}
	if f.has('g') {
		return foreachRunner{run: func(t *Task) error {
			l := tt.leader(t.TGID)
			if l == nil || r.shown[l.Addr] {
				return nil
			}
			r.shown[l.Addr] = true
			return r.group(l)
		}}, nil
	}
	if f.ref != "" {
		// crash's signal_reference() fails as the sig command, and the
		// failure ends the whole foreach.
		return foreachRunner{}, &CommandError{Cmd: "sig", Err: errors.New("sig: -R not supported yet")}
	}
	return foreachRunner{header: true, run: func(t *Task) error { return r.one(t, false) }}, nil
}
