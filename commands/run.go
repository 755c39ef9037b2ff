package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// ErrNotFound is returned by Run for a word that names no command.
var ErrNotFound = errors.New("command not found")

// UsageError says a command was called with arguments it does not take;
// Run turns it into crash's "Usage:" block.
type UsageError struct {
	Cmd    string
	Reason string // optional first line, e.g. "invalid option: -q"
}

func (e *UsageError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	return "usage"
}

func usageErr(cmd string, format string, a ...any) error {
	return &UsageError{Cmd: cmd, Reason: fmt.Sprintf(format, a...)}
}

// CommandError is what Run returns when a command failed: the command name
// and its error, printed as crash does ("rd: seek error: ...").
type CommandError struct {
	Cmd string
	Err error
}

func (e *CommandError) Error() string { return e.Cmd + ": " + e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

// Run runs one command line (no pipes or redirections: the shell has
// already taken those off). A usage error is printed on w the way crash
// prints it and also returned; a panic inside the command is recovered and
// returned as one line, so that one bad command never ends the session.
func Run(s *Session, line string, w io.Writer) (err error) {
	return RunContext(context.Background(), s, line, w)
}

// RunContext is Run with a context: when ctx is cancelled (the shell does
// on ^C) the command stops at its next check, with its output so far,
// and returns an error wrapping ctx.Err().
func RunContext(ctx context.Context, s *Session, line string, w io.Writer) (err error) {
	args, err := SplitArgs(line)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return nil
	}
	name := args[0]
	c, ok := Lookup(name)
	if !ok {
		// crash's last try before "command not found": a symbol or a
		// data type name as the command word (datatype.go).
		if a, ok2 := s.datatypeCommand(args); ok2 {
			args = a
			c, ok = Lookup(args[0])
		}
	}
	if !ok {
		if word, format, isFormat := strings.Cut(name, "/"); isFormat && (word == "p" || word == "print") && format != "" {
			// gdb's print/FMT: crash passes the line to gdb, whose
			// errors are the gdb command's.
			defer s.withCtx(ctx)()
			if err := s.printGDBFormat(w, word, format, strings.Join(args[1:], " ")); err != nil {
				return &CommandError{Cmd: "gdb", Err: err}
			}
			return nil
		}
		if IsCrashCommand(name) {
			return &NotYetError{Name: name}
		}
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	defer func() {
		if r := recover(); r != nil {
			// The stack goes nowhere but a debug build's stderr would
			// drown the one line the user needs; keep the top frame.
			where := firstFrame(debug.Stack())
			err = &CommandError{Cmd: c.Name, Err: fmt.Errorf("internal error: %v%s", r, where)}
		}
	}()
	if s.JSONOutput() && !jsonTextCommands[c.Name] {
		return runJSON(ctx, s, c, line, args[1:], w) // json.go
	}
	defer s.withCtx(ctx)()
	if err := c.Run(s, args[1:], w); err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			notYetOption(c.Name, ue)
			if ue.Reason != "" && ue.Reason != "usage" {
				// getopt's complaint goes to crash's stderr alone;
				// crash's own reasons ("mod: /x is not a directory")
				// are error()s, also in a redirected file.
				out := w
				if strings.HasPrefix(ue.Reason, "invalid option -- ") || strings.HasPrefix(ue.Reason, "option requires an argument -- ") {
					out = s.diag(w)
				}
				fmt.Fprintf(out, "%s: %s\n", c.Name, ue.Reason)
			}
			fmt.Fprintf(w, "Usage:\n  %s\nEnter \"help %s\" for details.\n", c.UsageLine(), c.Name)
			return &CommandError{Cmd: c.Name, Err: err}
		}
		var ce *CommandError
		if errors.As(err, &ce) {
			return err
		}
		return &CommandError{Cmd: c.Name, Err: err}
	}
	return nil
}

// firstFrame picks the innermost gocrash frame out of a panic stack, as
// " (at file.go:123)".
func firstFrame(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	seenPanic := false
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			seenPanic = true
			continue
		}
		if seenPanic && strings.HasPrefix(l, "gocrash/") && i+1 < len(lines) {
			loc := strings.TrimSpace(lines[i+1])
			if j := strings.LastIndexByte(loc, '/'); j >= 0 {
				loc = loc[j+1:]
			}
			if j := strings.IndexByte(loc, ' '); j >= 0 {
				loc = loc[:j]
			}
			return " (at " + loc + ")"
		}
	}
	return ""
}

// SplitArgs splits a command line into a command's words as crash's
// parse_line() does where it matters: white space separates words, double
// quotes group words and are removed, and single quotes stay in the word
// (crash's ps takes 'regex' that way) while still grouping it; a backslash
// escapes the next character outside single quotes; a word after the first
// that starts with '(' runs to its matching ')', spaces included.
func SplitArgs(line string) ([]string, error) { return splitWords(line, true) }

// SplitShellWords splits words as a shell does: both kinds of quotes group
// and are removed (the file name after '>').
func SplitShellWords(line string) ([]string, error) { return splitWords(line, false) }

func splitWords(line string, keepSingle bool) ([]string, error) {
	var (
		args  []string
		cur   strings.Builder
		inArg bool
		quote rune
	)
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				if r == '\'' && keepSingle {
					cur.WriteRune(r)
				}
			} else if r == '\\' && quote == '"' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\') {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(r)
			}
		case r == '(' && keepSingle && !inArg && len(args) > 0:
			// crash's parse_line keeps a parenthesized expression,
			// spaces and nested parentheses included, as one word
			// ("eval (jiffies - 8)"); unbalanced, the rest of the
			// line is the word.
			depth, j := 0, i
			for ; j < len(rs); j++ {
				if rs[j] == '(' {
					depth++
				} else if rs[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j == len(rs) {
				j--
			}
			cur.WriteString(string(rs[i : j+1]))
			inArg = true
			i = j
		case r == '\'' || r == '"':
			quote = r
			inArg = true
			if r == '\'' && keepSingle {
				cur.WriteRune(r)
			}
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inArg = true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in: %s", quote, line)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
