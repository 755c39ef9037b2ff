package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/chzyer/readline"
)

// HistoryPath is where the history is kept across sessions:
// $GOCRASH_HISTORY, else ~/.gocrash_history ("" when neither is known).
func HistoryPath() string {
	if p := os.Getenv("GOCRASH_HISTORY"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".gocrash_history")
}

// historyLimit is how many lines the history file keeps.
const historyLimit = 5000

// Interactive reads commands from the terminal until q, quit or exit.
// ^C at the prompt clears the line; during a command it stops the command
// at its next output. ^D on an empty line does not end the session, as in
// crash (a new prompt is drawn): q does. Commands typed here go through
// the pager (sh.Pager) unless piped or redirected.
func (sh *Shell) Interactive() error {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            Prompt,
		HistoryFile:       HistoryPath(),
		HistoryLimit:      historyLimit,
		HistorySearchFold: true,
		AutoComplete:      &Completer{Session: sh.Session, Shell: sh},
		InterruptPrompt:   "^C",
		EOFPrompt:         "\n", // crash draws a new prompt, no "^D"
		Stdout:            sh.Out,
		Stderr:            sh.Err,
	})
	if err != nil {
		return fmt.Errorf("starting the line editor: %w", err)
	}
	defer rl.Close()

	sigs := make(chan os.Signal, 1)
	defer signal.Stop(sigs)
	var eofs []time.Time
	for {
		// Output that did not end its last line keeps it: the prompt is
		// drawn after it, as crash's is ("...UTC 2026crash> ").
		// One too wide for the screen is ended by a newline instead.
		switch width := readline.GetScreenWidth(); {
		case sh.partial == "":
			rl.SetPrompt(Prompt)
		case width > 0 && len([]rune(sh.partial))+len(Prompt) < width && !strings.ContainsAny(sh.partial, "\r\t\x1b"):
			rl.SetPrompt(sh.partial + Prompt)
		default:
			fmt.Fprintln(sh.Out)
			rl.SetPrompt(Prompt)
		}
		sh.partial = ""
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case errors.Is(err, io.EOF):
			// crash ignores ^D. A terminal that went away gives end of
			// input without end: many in a moment end the session.
			now := time.Now()
			eofs = append(eofs, now)
			if len(eofs) > 20 {
				eofs = eofs[1:]
				if now.Sub(eofs[0]) < time.Second {
					return nil
				}
			}
			continue
		case err != nil:
			return err
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		// While the command runs the terminal is in cooked mode: ^C is a
		// signal, turned into an interrupted flag instead of an exit.
		sh.interrupted.Store(false)
		signal.Notify(sigs, syscall.SIGINT)
		done := make(chan struct{})
		go func() {
			select {
			case <-sigs:
				sh.Interrupt()
			case <-done:
			}
		}()
		sh.atPrompt = true
		quit := sh.Exec(line)
		sh.atPrompt = false
		close(done)
		signal.Stop(sigs)
		if quit {
			return nil
		}
	}
}
