package repl

import (
	"fmt"
	"strings"
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

// ParseLine splits a line. '|', '!' and '>' count only outside quotes and
// outside parentheses (so that "eval (a | b)" and "rd (x >> 2)" keep their
// operators); everything after the first '|' belongs to the shell, so a
// '>' there is the shell's. As in crash's setup_redirect() (cmdline.c), a
// '!' after the command word is a pipe like '|' ("p !0" pipes p's output
// to the shell command "0"), the '>' of "->" is C's member operator, not
// a redirection ("p init_task.real_parent->comm > f"), and the file name
// is the rest of the line as written (crash fopen()s it: quotes stay).
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
		case '|', '!':
			if depth == 0 {
				l.Pipe = strings.TrimSpace(t[i+1:])
				if l.Pipe == "" {
					return Line{}, fmt.Errorf("missing shell command after '%c'", r)
				}
				cmdEnd = i
			}
		case '>':
			if depth == 0 && (i == 0 || t[i-1] != '-') {
				rest := t[i+1:]
				if strings.HasPrefix(rest, ">") {
					l.Append = true
					rest = rest[1:]
				}
				l.File = strings.TrimSpace(rest)
				if l.File == "" {
					op := ">"
					if l.Append {
						op = ">>"
					}
					return Line{}, fmt.Errorf("no file name after %s", op)
				}
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
