package repl

import (
	"io"
	"strconv"
	"strings"
	"time"
)

// runRepeat is crash's "repeat [-seconds] command" (cmdline.c
// cmd_repeat()): the command again and again until Ctrl-C, the pager's q
// or a failure. crash repeats forever in a batch run as well; gocrash
// runs it only at the terminal, where it can be stopped, so that a script
// never hangs.
func (sh *Shell) runRepeat(line string, args []string, w, also io.Writer) bool {
	usage := func(why string) bool {
		msg := "Usage:\n  repeat [-seconds] command\nEnter \"help repeat\" for details."
		if why != "" {
			msg = "repeat: " + why + "\n" + msg
		}
		sh.report(w, also, msg)
		return false
	}
	if len(args) == 0 {
		return usage("")
	}
	var delay time.Duration
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "repeat"))
	if strings.HasPrefix(args[0], "-") {
		n, err := strconv.ParseUint(args[0][1:], 10, 32)
		if err != nil || len(args) < 2 {
			return usage("")
		}
		delay = time.Duration(n) * time.Second
		rest = strings.TrimSpace(strings.TrimPrefix(rest, args[0]))
	}
	cmd := pointerShorthand(sh.expandAlias(rest))
	if f := strings.Fields(cmd); len(f) > 0 && f[0] == "repeat" {
		return usage("a repeated command cannot be repeat")
	}
	if !sh.atPrompt {
		sh.report(w, also, "repeat: only at the terminal prompt, where Ctrl-C stops it (it would never end here)")
		return false
	}
	for {
		if !sh.runLine(cmd, w, also) || sh.interrupted.Load() {
			return true
		}
		// Each round is seen at once, not when the buffer fills.
		if f, ok := w.(interface{ Flush() error }); ok {
			if f.Flush() != nil {
				return true
			}
		}
		for end := time.Now().Add(delay); time.Now().Before(end); {
			if sh.interrupted.Load() {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
