// Package repl is gocrash's shell: crash's prompt, pipes to the shell,
// redirection, batch input, history and completion.
package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"gocrash/commands"
	"gocrash/vmcore"
)

// Prompt is crash's.
const Prompt = "crash> "

// A Shell runs command lines against one session.
type Shell struct {
	Session *commands.Session
	Out     io.Writer // command output and, as in crash, error messages
	Err     io.Writer // the shell's own trouble (history file, ...)
	Stdin   io.Reader // for "!command"

	// Echo prints "crash> LINE" before each batch command, as crash
	// does for -i files and piped input unless -s is given.
	Echo bool

	// Pager pages the output of commands typed at a terminal.
	Pager Pager

	failed      int
	interrupted atomic.Bool
	aliases     []alias
	atPrompt    bool      // the line being run was typed at the terminal
	inInputFile bool      // running "< FILE"
	partial     string    // the last output's text after its last newline
	diag        io.Writer // while output is redirected: where crash's stderr-only lines go

	cancelMu sync.Mutex
	cancel   context.CancelFunc // the running command's (Interrupt)
}

// Interrupt is ^C during a command: its output stops at the next write
// and its context is cancelled, so its walkers and read loops stop too.
func (sh *Shell) Interrupt() {
	sh.interrupted.Store(true)
	sh.cancelMu.Lock()
	if sh.cancel != nil {
		sh.cancel()
	}
	sh.cancelMu.Unlock()
}

// commandContext is the context of a command about to run: Interrupt
// cancels it.
func (sh *Shell) commandContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sh.cancelMu.Lock()
	sh.cancel = cancel
	sh.cancelMu.Unlock()
	if sh.interrupted.Load() {
		cancel()
	}
	return ctx, func() {
		sh.cancelMu.Lock()
		sh.cancel = nil
		sh.cancelMu.Unlock()
		cancel()
	}
}

// New returns a shell writing to stdout.
func New(s *commands.Session) *Shell {
	sh := &Shell{Session: s, Out: os.Stdout, Err: os.Stderr, Stdin: os.Stdin}
	sh.initAliases()
	sh.defineSettings()
	return sh
}

// Failed is the number of command lines that failed so far.
func (sh *Shell) Failed() int { return sh.failed }

// Exec runs one input line. quit is true for q, quit and exit.
func (sh *Shell) Exec(input string) (quit bool) {
	input = pointerShorthand(sh.expandAlias(strings.TrimSpace(input)))
	if strings.HasPrefix(input, "<") {
		return sh.runInputFile(strings.TrimSpace(input[1:]))
	}
	l, err := ParseLine(input)
	if err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: %v", progName, err))
		return false
	}
	switch {
	case l.WantQuit:
		return true
	case l.Comment, l.Command == "" && l.Shell == "":
		return false
	case l.Shell != "":
		sh.runShell(l.Shell)
		return false
	}
	body := func(w, also io.Writer) { sh.runLine(l.Command, w, also) }
	switch {
	case l.Pipe != "":
		sh.runPiped(l, body)
	case l.File != "":
		sh.runRedirected(l, body)
	case sh.paged(l):
		sh.runPaged(func(w io.Writer) { body(w, nil) })
	default:
		tw := &tailWriter{w: sh.Out}
		w := bufio.NewWriterSize(tw, 64<<10)
		body(w, nil)
		w.Flush()
		sh.partial = tw.tail()
	}
	// Each command's answer is seen before the next line is read (a
	// script reading gocrash's output through a pipe waits for it).
	if f, ok := sh.Out.(interface{ Flush() error }); ok {
		f.Flush()
	}
	return false
}

// runInputFile is crash's "< FILE" (cmdline.c exec_input_file()): the
// file's lines run as a batch, echoed after the prompt unless silent. An
// input file may not read another.
func (sh *Shell) runInputFile(path string) (quit bool) {
	switch {
	case sh.inInputFile:
		sh.fail(sh.Out, "embedded input files not allowed!")
		return false
	case path == "":
		sh.fail(sh.Out, "no input file entered!")
		return false
	}
	words, err := commands.SplitShellWords(path)
	if err != nil || len(words) != 1 {
		sh.fail(sh.Out, fmt.Sprintf("%s: one file name expected after '<': %s", progName, path))
		return false
	}
	f, err := os.Open(words[0])
	if err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: %v", progName, err))
		return false
	}
	defer f.Close()
	// Its commands are not paged, as crash does not page an input file.
	prompt := sh.atPrompt
	sh.inInputFile, sh.atPrompt = true, false
	defer func() { sh.inInputFile, sh.atPrompt = false, prompt }()
	return sh.RunBatch(f)
}

// pointerShorthand is crash's check_special_handling(): "*page" is
// "* page", the pointer-to shorthand touching its struct name, and
// "<file" is "< file".
func pointerShorthand(line string) string {
	if len(line) > 1 && (line[0] == '*' || line[0] == '<') && line[1] != ' ' && line[1] != '\t' {
		return line[:1] + " " + line[1:]
	}
	return line
}

// runLine runs one command: the shell's own (alias, repeat) here, the
// rest through the command table.
func (sh *Shell) runLine(line string, w, also io.Writer) (ok bool) {
	words, err := commands.SplitArgs(line)
	if err != nil || len(words) == 0 {
		return sh.runCommand(line, w, also)
	}
	switch words[0] {
	case "alias":
		if err := sh.runAlias(words[1:], w); err != nil {
			sh.report(w, also, "alias: "+err.Error())
			return false
		}
		return true
	case "repeat":
		return sh.runRepeat(line, words[1:], w, also)
	case "*":
		// The pointer-to shorthand is struct's (and union's): crash's
		// cmd_pointer() takes the same arguments.
		if _, ok := commands.Lookup("struct"); ok {
			line = "struct" + strings.TrimPrefix(strings.TrimSpace(line), "*")
		}
	}
	return sh.runCommand(line, w, also)
}

// report prints a failed command's message where its output goes and,
// for a file, on the terminal too.
func (sh *Shell) report(w, also io.Writer, msg string) {
	sh.fail(w, msg)
	if also != nil {
		io.WriteString(also, strings.TrimRight(msg, "\n")+"\n")
	}
}

// tailWriter remembers the text after the last newline written, so that
// the prompt can be drawn after it instead of over it (crash leaves
// "...UTC 2026crash> " on the screen after rd -a linux_banner).
type tailWriter struct {
	w    io.Writer
	last []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		t.last = append(t.last[:0], b[i+1:]...)
	} else {
		t.last = append(t.last, b...)
	}
	if len(t.last) > 4096 {
		t.last = t.last[len(t.last)-4096:]
	}
	return t.w.Write(b)
}

func (t *tailWriter) tail() string { return string(t.last) }

const progName = "gocrash"

// runCommand runs a command writing to w; its error message goes to w
// too (crash prints errors where the output goes) and, when redirected
// to a file, also to also (crash shows them on the terminal as well).
// ok is false when the command failed, was interrupted or lost its reader.
func (sh *Shell) runCommand(line string, w io.Writer, also io.Writer) (ok bool) {
	ow := &outWriter{w: w, sh: sh}
	ctx, cancel := sh.commandContext()
	if sh.Session != nil {
		sh.Session.Stderr = sh.diag
	}
	err := commands.RunContext(ctx, sh.Session, line, ow)
	if sh.Session != nil {
		sh.Session.Stderr = nil
	}
	cancel()
	if err == nil {
		return true
	}
	if errors.Is(err, errInterrupted) || errors.Is(err, context.Canceled) {
		sh.failed++
		io.WriteString(w, "\n")
		return false
	}
	if errors.Is(err, errOutputGone) {
		return false
	}
	if commands.Printed(err) {
		sh.failed++
		return false
	}
	var msg, why string
	if errors.Is(err, commands.ErrNotFound) {
		fields := strings.Fields(line)
		msg = fmt.Sprintf("%s: command not found: %s", progName, fields[0])
	} else {
		msg, why = err.Error(), reason(err)
	}
	if commands.StderrOnly(err) && sh.diag != nil {
		// crash's file gets nothing; the terminal the message.
		sh.failed++
		if also != nil {
			io.WriteString(also, strings.TrimRight(msg, "\n")+"\n")
		} else {
			io.WriteString(sh.diag, strings.TrimRight(msg, "\n")+"\n")
		}
		return false
	}
	sh.report(w, also, msg)
	if why != "" {
		// gocrash's own second line goes to stderr, never to the output:
		// the output (a terminal, a batch run's stdout, a redirected
		// command's file or pipe) gets crash's one line and nothing more.
		switch {
		case sh.diag != nil:
			io.WriteString(sh.diag, why+"\n")
		case sh.Err != nil:
			io.WriteString(sh.Err, why+"\n")
		}
	}
	return false
}

// reason is the second line of a memory error: why the dump could not
// give the bytes, which crash leaves to the reader to guess.
func reason(err error) string {
	var ae *vmcore.AddrError
	if !errors.As(err, &ae) {
		return ""
	}
	why := ae.Err.Error()
	switch {
	case errors.Is(err, vmcore.ErrExcluded):
		// The detail names the pfn and dump level; say how to go on.
		why = "excluded from the dump"
		if ae.Detail != "" {
			why = ae.Detail
		}
		return "  (" + why + "; \"set zero_excluded on\" or --zero-excluded reads excluded pages as zeroes)"
	case errors.Is(err, vmcore.ErrNotInDump):
		why = "the dump holds no memory there"
	case errors.Is(err, vmcore.ErrTruncated):
		why = "the dump file is truncated there"
	case errors.Is(err, vmcore.ErrBadAddress):
		why = "no page table maps the address"
	}
	if ae.Detail != "" {
		why += ": " + ae.Detail
	}
	return "  (" + why + ")"
}

func (sh *Shell) fail(w io.Writer, msg string) {
	sh.failed++
	io.WriteString(w, strings.TrimRight(msg, "\n")+"\n")
}

// runPiped runs "cmd | pipeline": /bin/sh -c pipeline with the command's
// output (and error message) on its stdin.
func (sh *Shell) runPiped(l Line, body func(w, also io.Writer)) {
	c := exec.Command("/bin/sh", "-c", l.Pipe)
	c.Stdout = sh.Out
	c.Stderr = sh.Err
	in, err := c.StdinPipe()
	if err == nil {
		err = c.Start()
	}
	if err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: cannot run %q: %v", progName, l.Pipe, err))
		return
	}
	w := bufio.NewWriterSize(in, 64<<10)
	sh.diag = sh.Err
	body(&pipeWriter{w: w}, nil)
	sh.diag = nil
	w.Flush()
	in.Close()
	// The pipeline's own exit status (grep finding nothing) is not the
	// command's failure.
	c.Wait()
}

// pipeWriter turns EPIPE into errOutputGone: "cmd | head" or the pager's
// q closes the pipe early, the command's remaining output has nowhere to
// go, and the command stops there, which is no failure.
type pipeWriter struct {
	w    *bufio.Writer
	gone bool
}

func (p *pipeWriter) Write(b []byte) (int, error) {
	if p.gone {
		return 0, errOutputGone
	}
	if _, err := p.w.Write(b); err != nil {
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
			p.gone = true
			return 0, errOutputGone
		}
		return 0, err
	}
	return len(b), nil
}

// Flush sends what is buffered (repeat shows each round at once).
func (p *pipeWriter) Flush() error {
	if p.gone {
		return errOutputGone
	}
	if err := p.w.Flush(); err != nil {
		p.gone = true
		return errOutputGone
	}
	return nil
}

// runRedirected runs "cmd > file" or "cmd >> file".
func (sh *Shell) runRedirected(l Line, body func(w, also io.Writer)) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if l.Append {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(l.File, flags, 0o644)
	if err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: cannot open %s: %v", progName, l.File, err))
		return
	}
	w := bufio.NewWriterSize(f, 64<<10)
	sh.diag = sh.Err
	body(w, sh.Out)
	sh.diag = nil
	if err := w.Flush(); err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: writing %s: %v", progName, l.File, err))
	}
	if err := f.Close(); err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: writing %s: %v", progName, l.File, err))
	}
}

// runShell runs "!command" with the terminal.
func (sh *Shell) runShell(cmd string) {
	c := exec.Command("/bin/sh", "-c", cmd)
	c.Stdin, c.Stdout, c.Stderr = sh.Stdin, sh.Out, sh.Err
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			sh.fail(sh.Out, fmt.Sprintf("%s: %v", progName, err))
		}
	}
}

// errInterrupted ends a command's output after ^C.
var errInterrupted = errors.New("interrupted")

// outWriter fails every write after an interrupt, so that a long command
// stops at its next line of output.
type outWriter struct {
	w  io.Writer
	sh *Shell
}

func (o *outWriter) Write(b []byte) (int, error) {
	if o.sh.interrupted.Load() {
		return 0, errInterrupted
	}
	return o.w.Write(b)
}

// RunBatch runs the lines of r until its end or a quit command; quit
// reports the latter.
func (sh *Shell) RunBatch(r io.Reader) (quit bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if sh.Echo && t != "" && !strings.HasPrefix(t, "#") {
			fmt.Fprintf(sh.Out, "%s%s\n", Prompt, t)
		}
		if sh.Exec(line) {
			return true
		}
	}
	if err := sc.Err(); err != nil {
		sh.fail(sh.Out, fmt.Sprintf("%s: reading input: %v", progName, err))
	}
	return false
}
