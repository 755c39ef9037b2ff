package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"gocrash/commands"
)

// The pager, as crash runs it (cmdline.c setup_redirect(), main.c): on a
// terminal only, for commands typed at the prompt (not for -i files,
// start-up files or piped input), unless the line has its own '|' or '>'.
// $CRASHPAGER is used when valid, else "/usr/bin/less -E -X" with crash's
// prompt, else /bin/more. "set scroll on|off|less|more|CRASHPAGER"
// changes it; -s and --no-scroll start with it off.

// PagerKind is which program pages.
type PagerKind int

const (
	PagerNone PagerKind = iota
	PagerLess
	PagerMore
	PagerCrashpager
)

const (
	lessPath = "/usr/bin/less"
	morePath = "/bin/more"
)

// lessArgs are crash's (cmdline.c less_argv): -E leaves at the first end
// of the output, so a short answer shows without a keypress, and -X keeps
// it on the screen afterwards.
var lessArgs = []string{"-E", "-X", `-Ps -- MORE --  forward\: <SPACE>, <ENTER> or j  backward\: b or k  quit\: q`}

// Pager is the shell's paging state.
type Pager struct {
	On   bool
	Kind PagerKind
	argv []string // CRASHPAGER's words
}

// crashpager reads $CRASHPAGER as crash's CRASHPAGER_valid() does: no
// '|', '<' or '>', and a first word that is an executable program (found
// through $PATH too, a convenience crash lacks). The message says why it
// was ignored.
func crashpager() ([]string, string) {
	env, ok := os.LookupEnv("CRASHPAGER")
	if !ok {
		return nil, ""
	}
	if strings.ContainsAny(env, "|<>") {
		return nil, fmt.Sprintf("CRASHPAGER ignored: contains invalid character: %q", env)
	}
	words, err := commands.SplitShellWords(env)
	if err != nil || len(words) == 0 {
		if env == "" {
			return nil, ""
		}
		return nil, fmt.Sprintf("CRASHPAGER ignored: %q", env)
	}
	if _, err := exec.LookPath(words[0]); err != nil {
		return nil, fmt.Sprintf("CRASHPAGER ignored: %q", env)
	}
	return words, ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// DefaultPager is crash's choice for a terminal: $CRASHPAGER, less, more,
// or none; warn says why $CRASHPAGER was ignored.
func DefaultPager() (p Pager, warn string) {
	if argv, w := crashpager(); argv != nil {
		return Pager{On: true, Kind: PagerCrashpager, argv: argv}, ""
	} else {
		warn = w
	}
	switch {
	case fileExists(lessPath):
		return Pager{On: true, Kind: PagerLess}, warn
	case fileExists(morePath):
		return Pager{On: true, Kind: PagerMore}, warn
	}
	return Pager{}, warn
}

// Choose switches to another pager as --less, --more, --CRASHPAGER and
// "set scroll less|more|CRASHPAGER" do: only when it is there.
func (p *Pager) Choose(k PagerKind) error {
	switch k {
	case PagerLess:
		if !fileExists(lessPath) {
			return fmt.Errorf("%s not found", lessPath)
		}
	case PagerMore:
		if !fileExists(morePath) {
			return fmt.Errorf("%s not found", morePath)
		}
	case PagerCrashpager:
		argv, w := crashpager()
		if argv == nil {
			if w == "" {
				w = "CRASHPAGER is not set"
			}
			return errors.New(w)
		}
		p.argv = argv
	}
	p.Kind = k
	return nil
}

func (p *Pager) command() []string {
	switch p.Kind {
	case PagerLess:
		return append([]string{lessPath}, lessArgs...)
	case PagerMore:
		return []string{morePath}
	case PagerCrashpager:
		return p.argv
	}
	return nil
}

// String is crash's "scroll: on (/usr/bin/less)" value.
func (p *Pager) String() string {
	s := "off"
	if p.On {
		s = "on"
	}
	switch p.Kind {
	case PagerLess:
		return s + " (" + lessPath + ")"
	case PagerMore:
		return s + " (" + morePath + ")"
	case PagerCrashpager:
		return s + " (CRASHPAGER: " + os.Getenv("CRASHPAGER") + ")"
	}
	return s + " (none)"
}

// set is "set scroll VALUE" (tools.c cmd_set()): on, off, a number, or a
// pager's name. Without a pager (output not on a terminal) crash leaves
// the setting as it is.
func (p *Pager) set(v string) error {
	if p.Kind == PagerNone {
		// crash: no scroll command, no change ("scroll: off (none)").
		if _, err := commands.ParseOnOff(v); err != nil && v != "less" && v != "more" && v != "CRASHPAGER" {
			return fmt.Errorf("invalid scroll setting: %s (on, off, less, more or CRASHPAGER)", v)
		}
		return nil
	}
	switch v {
	case "less":
		return p.Choose(PagerLess)
	case "more":
		return p.Choose(PagerMore)
	case "CRASHPAGER":
		return p.Choose(PagerCrashpager)
	}
	on, err := commands.ParseOnOff(v)
	if err != nil {
		return fmt.Errorf("invalid scroll setting: %s (on, off, less, more or CRASHPAGER)", v)
	}
	if p.Kind != PagerNone {
		p.On = on
	}
	return nil
}

// defineSettings adds the shell's settings to the session's.
func (sh *Shell) defineSettings() {
	if sh.Session == nil {
		return
	}
	st := sh.Session.Settings()
	st.Define(commands.Setting{
		Name: "scroll", Values: "on | off | less | more | CRASHPAGER",
		Help: "controls output paging on a terminal, and which pager pages.",
		Get:  func() string { return sh.Pager.String() },
		Set:  sh.Pager.set,
	})
	st.Define(commands.Setting{
		Name: "silent", Values: "on | off",
		Help: "if on, batch commands are not echoed after the prompt.",
		Get:  func() string { return map[bool]string{true: "on", false: "off"}[!sh.Echo] },
		Set: func(v string) error {
			b, err := commands.ParseOnOff(v)
			if err == nil {
				sh.Echo = !b
				if b {
					// crash: silent on turns scrolling off.
					sh.Pager.On = false
				}
			}
			return err
		},
	})
}

// paged reports whether a command typed at the prompt goes through the
// pager.
func (sh *Shell) paged(l Line) bool {
	if !sh.atPrompt || !sh.Pager.On || sh.Pager.Kind == PagerNone || l.Pipe != "" || l.File != "" {
		return false
	}
	return l.Command != "" && !strings.HasPrefix(l.Command, "<")
}

// errOutputGone ends a command whose reader went away: the pager's q, or
// "| head" having read enough. It is not the command's failure.
var errOutputGone = errors.New("output closed")

// runPaged runs body with its output through the pager. When the pager
// ends early (q), the command's next write fails and it stops.
func (sh *Shell) runPaged(body func(w io.Writer)) {
	argv := sh.Pager.command()
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdout, c.Stderr = sh.Out, sh.Err
	in, err := c.StdinPipe()
	if err == nil {
		err = c.Start()
	}
	if err != nil {
		// No pager after all: the output goes to the terminal.
		fmt.Fprintf(sh.Err, "%s: cannot run the pager %s: %v\n", progName, argv[0], err)
		w := bufio.NewWriterSize(sh.Out, 64<<10)
		body(w)
		w.Flush()
		return
	}
	w := bufio.NewWriterSize(in, 64<<10)
	body(&pipeWriter{w: w})
	w.Flush()
	in.Close()
	c.Wait()
}
