package commands

import (
	"io"
	"strings"

	"gocrash/symbols"
)

// BtTaskJSON is one task's backtrace as bt prints it.
type BtTaskJSON struct {
	PID     int64         `json:"pid" desc:"PID"`
	Task    Addr          `json:"task" desc:"TASK: the task_struct's address"`
	CPU     int           `json:"cpu" desc:"CPU"`
	Command string        `json:"command" desc:"COMMAND"`
	Frames  []BtFrameJSON `json:"frames" desc:"the frames, innermost first"`
	// UserRegs are the user-mode registers bt shows at the end.
	UserRegs *RegsJSON `json:"user_regs,omitempty" desc:"the user-mode registers at the bottom of the stack"`
	Error    string    `json:"error,omitempty" desc:"why the backtrace stopped or could not start"`
}

// BtFrameJSON is one " #N [SP] FUNC at PC [MODULE]" line, and the
// exception frame printed after it.
type BtFrameJSON struct {
	Level     int       `json:"level" desc:"N"`
	SP        Addr      `json:"sp" desc:"the stack address in brackets"`
	Function  string    `json:"function" desc:"FUNC (with +offset under bt -s)"`
	PC        Addr      `json:"pc" desc:"the address after 'at'"`
	Module    string    `json:"module,omitempty" desc:"the module in brackets, when the code is a module's"`
	Exception *RegsJSON `json:"exception,omitempty" desc:"the exception frame bt prints below the line"`
}

// RegsJSON is a pt_regs block.
type RegsJSON struct {
	RIP  string          `json:"rip_symbol,omitempty" desc:"[exception RIP: ...]'s name, empty for user mode"`
	Regs map[string]Addr `json:"regs" desc:"RIP RSP RFLAGS RAX RBX RCX RDX RSI RDI RBP R8-R15 ORIG_RAX CS SS by name"`
}

// btJSON collects what bt prints, line by line (bt.go and bt_print.go
// call it beside each Fprintf; a nil *btJSON collects nothing).
type btJSON struct {
	tasks []BtTaskJSON
}

func (j *btJSON) cur() *BtTaskJSON {
	if len(j.tasks) == 0 {
		j.tasks = append(j.tasks, BtTaskJSON{Frames: []BtFrameJSON{}})
	}
	return &j.tasks[len(j.tasks)-1]
}

func (j *btJSON) task(t btTask) {
	if j == nil {
		return
	}
	j.tasks = append(j.tasks, BtTaskJSON{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, Frames: []BtFrameJSON{}})
}

func (j *btJSON) frame(level int, sp uint64, name string, pc uint64, modTag string) {
	if j == nil {
		return
	}
	t := j.cur()
	mod := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(modTag), "["), "]")
	t.Frames = append(t.Frames, BtFrameJSON{Level: level, SP: Addr(sp), Function: name, PC: Addr(pc), Module: mod})
}

func (j *btJSON) regs(r *symbols.PtRegs, rip string) {
	if j == nil || r == nil {
		return
	}
	t := j.cur()
	rj := &RegsJSON{RIP: rip, Regs: map[string]Addr{
		"RIP": Addr(r.IP), "RSP": Addr(r.SP), "RFLAGS": Addr(r.Flags), "RAX": Addr(r.AX), "RBX": Addr(r.BX), "RCX": Addr(r.CX),
		"RDX": Addr(r.DX), "RSI": Addr(r.SI), "RDI": Addr(r.DI), "RBP": Addr(r.BP), "R8": Addr(r.R8), "R9": Addr(r.R9), "R10": Addr(r.R10),
		"R11": Addr(r.R11), "R12": Addr(r.R12), "R13": Addr(r.R13), "R14": Addr(r.R14), "R15": Addr(r.R15),
		"ORIG_RAX": Addr(r.OrigAX), "CS": Addr(r.CS), "SS": Addr(r.SS)}}
	if r.UserMode() && rip != "user space" {
		t.UserRegs = rj
		return
	}
	if n := len(t.Frames); n > 0 && t.Frames[n-1].Exception == nil {
		t.Frames[n-1].Exception = rj
		return
	}
	// Registers before any frame line (a dump without a frame below
	// the saved registers): a frame of their own.
	t.Frames = append(t.Frames, BtFrameJSON{Level: -1, SP: Addr(r.SP), Function: rip, PC: Addr(r.IP), Exception: rj})
}

func (j *btJSON) fail(err error) {
	if j == nil || err == nil {
		return
	}
	t := j.cur()
	if t.Error == "" {
		t.Error = err.Error()
	}
}

// btJSONForm is bt's JSON: the default format, -a, -c, -s, -x/-d and
// task arguments; the formats that print other lines (-f, -t, -l, -e, -r,
// -g, -v, -p, -F, -E) have none, and -O, which changes the session, is
// refused too.
func btJSONForm(s *Session, args []string) (any, error) {
	opt, err := parseBt(s, args)
	if err != nil {
		return nil, err
	}
	if opt.text || opt.full || opt.lines || opt.eframes || opt.raw || opt.group || opt.verify || opt.panic || opt.slab != 0 ||
		opt.estacks || opt.toggle {
		return nil, jsonOptionsErr("bt", args)
	}
	r, err := newBtRun(s, opt, io.Discard)
	if err != nil {
		return nil, err
	}
	r.js = &btJSON{}
	if err := r.run(); err != nil {
		return nil, err
	}
	if r.js.tasks == nil {
		return []BtTaskJSON{}, nil
	}
	return r.js.tasks, nil
}
