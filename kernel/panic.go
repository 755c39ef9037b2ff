package kernel

import (
	"context"
	"strings"
)

// Panic is what the dump says about the panic itself: which cpu and
// task, and the log line crash shows as PANIC.
type Panic struct {
	CPU  int    // panic_cpu, else crashing_cpu; -1 when neither is set
	Task uint64 // the task active on CPU; 0 when unknown
	// Message is crash's get_panicmsg(): the log line crash shows as
	// PANIC, "" when the log holds none.
	Message string
	// Line is Message's index in the log's Lines(), -1 when there is no
	// message: the Oops or BUG report follows it there.
	Line int
}

// panicPatterns are the log lines crash takes as the panic message, in
// its order of preference (task.c panic_msg[]).
var panicPatterns = []string{
	"SysRq : Crash",
	"SysRq : Trigger a crash",
	"SysRq : Netdump",
	"Kernel panic: ",
	"Kernel panic - ",
	"Kernel BUG at",
	"kernel BUG at",
	"Unable to handle kernel paging request",
	"Unable to handle kernel NULL pointer dereference",
	"BUG: unable to handle kernel ",
	"general protection fault: ",
	"double fault: ",
	"divide error: ",
	"stack segment: ",
	"[Hardware Error]: ",
	"Bad mode in ",
	"Oops: ",
}

// panicKeywords are crash's second chance (task.c panic_keywords[]): the
// first log line holding one of them.
var panicKeywords = []string{
	"Unable to handle kernel",
	"BUG: unable to handle kernel",
	"Kernel BUG at",
	"kernel BUG at",
	"Bad mode in",
	"Oops",
	"Kernel panic",
}

// Panic finds the panic cpu, task and message. The error is the log's,
// when it cannot be read at all (a damaged log still gives its message);
// an unknown cpu or task is -1 or 0, not an error.
func (k *Kernel) Panic(ctx context.Context) (*Panic, error) {
	p := &Panic{CPU: -1, Line: -1}
	if cpu, err := k.PanicCPU(); err == nil {
		p.CPU = cpu
		if t, err := k.ActiveTask(cpu); err == nil {
			p.Task = t
		}
	}
	l, err := k.Log(ctx)
	if err == nil && l.Format != LogPlain && len(l.Records) == 0 {
		err = l.Err()
	}
	if err != nil {
		return p, err
	}
	lines := l.Lines()
	if p.Line = panicLine(lines); p.Line >= 0 {
		p.Message = lines[p.Line]
	}
	return p, nil
}

// panicLine is the index of the first line (in pattern order) holding one
// of panicPatterns, else of the first line holding one of panicKeywords;
// -1 when none does.
func panicLine(lines []string) int {
	for _, p := range panicPatterns {
		for i, l := range lines {
			if strings.Contains(l, p) {
				return i
			}
		}
	}
	for i, l := range lines {
		for _, k := range panicKeywords {
			if strings.Contains(l, k) {
				return i
			}
		}
	}
	return -1
}
