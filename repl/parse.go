package repl

import (
	"fmt"
	"strings"

	"gocrash/commands"
)

// A Line is one input line taken apart the way crash's setup_redirect()
// does: the gocrash command, and where its output goes.
type Line struct {
	Command  string // the command and its arguments
	Pipe     string // shell pipeline after the first unquoted '|', or ""
	File     string // redirection target after '>' or '>>', or ""
	Append   bool   // '>>'
	Shell    string // "!command": run by the shell, nothing else
	Comment  bool   // '#' line, ignored
	WantQuit bool   // q, quit, exit
}

// ParseLine splits a line. '|' and '>' count only outside quotes and
// outside parentheses (so that "eval (a | b)" and "rd (x >> 2)" keep their
// operators); everything after the first '|' belongs to the shell, so a
// '>' there is the shell's.
func ParseLine(line string) (Line, error) {
	t := strings.TrimSpace(line)
	switch {
	case t == "":
		return Line{}, nil
	case strings.HasPrefix(t, "#"):
		return Line{Comment: true}, nil
	case t == "!":
		// A bare "!" starts an interactive shell.
		return Line{Shell: "exec ${SHELL:-/bin/sh}"}, nil
	case strings.HasPrefix(t, "!"):
		return Line{Shell: strings.TrimSpace(t[1:])}, nil
	}
	var (
		quote rune
		depth int
		l     Line
	)
	cmdEnd := len(t)
	for i, r := range t {
		if quote != 0 {
			if r == quote {
				quote = 0
			}
			continue
		}
		switch r {
		case '\'', '"':
			quote = r
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case '|':
			if depth == 0 {
				l.Pipe = strings.TrimSpace(t[i+1:])
				if l.Pipe == "" {
					return Line{}, fmt.Errorf("missing shell command after '|'")
				}
				cmdEnd = i
			}
		case '>':
			if depth == 0 {
				rest := t[i+1:]
				if strings.HasPrefix(rest, ">") {
					l.Append = true
					rest = rest[1:]
				}
				words, err := commands.SplitShellWords(rest)
				if err != nil {
					return Line{}, err
				}
				if len(words) != 1 || words[0] == "" {
					return Line{}, fmt.Errorf("one file name expected after '>': %s", strings.TrimSpace(rest))
				}
				l.File = words[0]
				cmdEnd = i
			}
		}
		if cmdEnd != len(t) {
			break
		}
	}
	if quote != 0 {
		return Line{}, fmt.Errorf("unterminated %c quote", quote)
	}
	l.Command = strings.TrimSpace(t[:cmdEnd])
	if l.Command == "" {
		return Line{}, fmt.Errorf("missing command before '%c'", t[cmdEnd])
	}
	switch l.Command {
	case "q", "quit", "exit":
		l.WantQuit = true
	}
	return l, nil
}
