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

// Interactive reads commands from the terminal until q, quit, exit or
// end of input. ^C at the prompt clears the line; during a command it
// stops the command at its next output.
func (sh *Shell) Interactive() error {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            Prompt,
		HistoryFile:       HistoryPath(),
		HistoryLimit:      historyLimit,
		HistorySearchFold: true,
		AutoComplete:      &Completer{Session: sh.Session},
		InterruptPrompt:   "^C",
		EOFPrompt:         "",
		Stdout:            sh.Out,
		Stderr:            sh.Err,
	})
	if err != nil {
		return fmt.Errorf("starting the line editor: %w", err)
	}
	defer rl.Close()

	sigs := make(chan os.Signal, 1)
	defer signal.Stop(sigs)
	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(sh.Out)
			return nil
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
		quit := sh.Exec(line)
		close(done)
		signal.Stop(sigs)
		if quit {
			return nil
		}
	}
}
