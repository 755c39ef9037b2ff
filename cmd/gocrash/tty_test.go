package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// The interactive shell is tested on a real terminal: tmux runs gocrash
// in a pseudo-terminal of 120x40, the test types at it (send-keys) and
// reads the screen as a user sees it (capture-pane). .ci/run installs tmux
// and less and sets GOCRASH_REQUIRE_TMUX, so that CI cannot skip this.

type tmuxTerm struct {
	t      *testing.T
	socket string
	target string
}

func newTmux(t *testing.T, command string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("GOCRASH_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is not installed (.ci/run installs it)")
		}
		t.Skip("tmux is not installed: the terminal tests need it (.ci/run installs it)")
	}
	if _, err := os.Stat("/usr/bin/less"); err != nil {
		if os.Getenv("GOCRASH_REQUIRE_TMUX") != "" {
			t.Fatal("/usr/bin/less is not installed (.ci/run installs it)")
		}
		t.Skip("/usr/bin/less is not installed: the pager tests need it")
	}
	// A socket of our own: no tmux server of the user's is touched.
	dir, err := os.MkdirTemp("", "gocrash-tmux-")
	if err != nil {
		t.Fatal(err)
	}
	tm := &tmuxTerm{t: t, socket: filepath.Join(dir, "sock"), target: "gocrash"}
	t.Cleanup(func() {
		exec.Command("tmux", "-S", tm.socket, "kill-server").Run()
		os.RemoveAll(dir)
	})
	tm.run("new-session", "-d", "-s", tm.target, "-x", "120", "-y", "40", command)
	return tm
}

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// send types keys: literal text, or tmux key names (Enter, C-c, Tab).
func (tm *tmuxTerm) send(keys ...string) {
	tm.t.Helper()
	for _, k := range keys {
		switch k {
		case "Enter", "C-c", "C-d", "Tab", "C-u", "q", "Space":
			tm.run("send-keys", "-t", tm.target, k)
		default:
			tm.run("send-keys", "-t", tm.target, "-l", k)
		}
	}
}

// screen is what the terminal shows, trailing blank lines dropped.
func (tm *tmuxTerm) screen() string {
	tm.t.Helper()
	s := tm.run("capture-pane", "-p", "-t", tm.target)
	return strings.TrimRight(s, "\n ")
}

// lastLine is the screen's last non-blank line.
func (tm *tmuxTerm) lastLine() string {
	lines := strings.Split(tm.screen(), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ")
}

// waitFor polls the screen until ok says yes, failing after limit.
func (tm *tmuxTerm) waitFor(what string, limit time.Duration, ok func(screen string) bool) string {
	tm.t.Helper()
	end := time.Now().Add(limit)
	for {
		s := tm.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(end) {
			tm.t.Fatalf("waiting for %s: the screen is\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPrompt waits for the prompt at the end of the screen.
func (tm *tmuxTerm) waitPrompt() string {
	tm.t.Helper()
	return tm.waitFor("the prompt", 60*time.Second, func(s string) bool {
		return strings.HasSuffix(s, "crash>")
	})
}

// command types a line and waits for the prompt after its answer.
func (tm *tmuxTerm) command(line string) string {
	tm.t.Helper()
	tm.send(line, "Enter")
	return tm.waitFor("the answer to "+line, 60*time.Second, func(s string) bool {
		i := strings.Index(s, "crash> "+line+"\n")
		return i >= 0 && strings.HasSuffix(s[i:], "\ncrash>")
	})
}

// clear empties the screen and its history, so that what follows is the
// next command's alone.
func (tm *tmuxTerm) clear() {
	tm.t.Helper()
	tm.run("clear-history", "-t", tm.target)
	// An empty line first: the prompt after output without a newline
	// carries that output (rd -a linux_banner).
	tm.send("C-u", "Enter")
	tm.run("send-keys", "-t", tm.target, "C-l")
	tm.waitFor("a cleared screen", 10*time.Second, func(s string) bool { return s == "crash>" })
}

func TestTerminal(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	bin := gocrashBinary(t)
	home := t.TempDir()
	cache, err := testbed.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	// The exit status is printed when gocrash ends, and the pane stays.
	shell := fmt.Sprintf("env -u CRASHPAGER HOME=%s GOCRASH_TESTDATA_CACHE=%s GOCRASH_HISTORY=%s TZ=UTC TERM=xterm %s %s %s; echo gocrash-exit=$?; sleep 600",
		home, cache, filepath.Join(home, "history"), bin, d.Vmlinux, d.Vmcore)
	tm := newTmux(t, shell)
	tm.waitPrompt()

	// The pager pages log (hundreds of lines) on a terminal...
	tm.clear()
	tm.send("log", "Enter")
	tm.waitFor("the pager's prompt", 20*time.Second, func(s string) bool {
		return strings.HasSuffix(s, " -- MORE --  forward: <SPACE>, <ENTER> or j  backward: b or k  quit: q")
	})
	// ... and q leaves it, back at the prompt.
	tm.send("q")
	tm.waitPrompt()

	// Not when the output goes into a pipe.
	tm.clear()
	s := tm.command("log | tail -3")
	if strings.Contains(s, "-- MORE --") || strings.Count(s, "\n") != 4 {
		t.Errorf("log | tail -3 on a terminal:\n%s", s)
	}

	// A short answer goes through less -E and stays on the screen with the
	// prompt after it; with scroll off, the last line of rd -a
	// linux_banner, which has no newline, keeps the prompt beside it, as
	// crash's does.
	tm.clear()
	s = tm.command("rd -a linux_banner")
	if !strings.HasSuffix(s, " UTC 2026\ncrash>") {
		t.Errorf("rd -a linux_banner through the pager:\n%s", s)
	}
	tm.clear()
	tm.send("set scroll off", "Enter")
	tm.waitFor("scroll off", 10*time.Second, func(s string) bool {
		return strings.HasSuffix(s, "scroll: off (/usr/bin/less)\ncrash>")
	})
	tm.clear()
	tm.send("rd -a linux_banner", "Enter")
	s = tm.waitFor("rd's last line beside the prompt", 10*time.Second, func(s string) bool {
		return strings.HasSuffix(s, " UTC 2026crash>")
	})
	if n := strings.Count(s, "\n"); n != 3 {
		t.Errorf("rd -a linux_banner with scroll off: %d lines:\n%s", n+1, s)
	}
	// set scroll off: log runs through without the pager.
	tm.clear()
	logText, ok := d.Golden("log")
	if !ok {
		t.Fatal("no golden for log")
	}
	logLines := strings.Split(strings.TrimSuffix(logText, "\n"), "\n")
	tm.send("log", "Enter")
	s = tm.waitFor("the end of log", 30*time.Second, func(s string) bool {
		return strings.HasSuffix(s, logLines[len(logLines)-1]+"\ncrash>")
	})
	if strings.Contains(s, "-- MORE --") {
		t.Errorf("the pager ran with scroll off:\n%s", s)
	}

	// Ctrl-C stops a command that would never end, and the prompt returns.
	tm.clear()
	tm.send("repeat rd jiffies", "Enter")
	tm.waitFor("repeat's output", 10*time.Second, func(s string) bool { return strings.Count(s, "\n") > 10 })
	tm.send("C-c")
	tm.waitFor("the prompt after ^C", 10*time.Second, func(s string) bool { return strings.HasSuffix(s, "\ncrash>") })
	tm.clear()
	tm.send("eval 1", "Enter")
	tm.waitFor("the session answering after ^C", 10*time.Second, func(s string) bool {
		return strings.HasSuffix(s, "binary: 0000000000000000000000000000000000000000000000000000000000000001\ncrash>")
	})

	// Ctrl-D on an empty line does not end the session (crash ignores it).
	tm.clear()
	tm.send("C-d")
	tm.waitFor("a new prompt after ^D", 10*time.Second, func(s string) bool { return s == "crash>\ncrash>" })
	tm.send("eval 2", "Enter")
	tm.waitFor("the session answering after ^D", 10*time.Second, func(s string) bool {
		return strings.HasSuffix(s, "0000000000000000000000000000000000000000000000000000000000000010\ncrash>")
	})

	// Tab completes settings after "set", and their values.
	tm.clear()
	tm.send("set zero", "Tab")
	tm.waitFor("set zero<TAB>", 10*time.Second, func(s string) bool { return s == "crash> set zero_excluded" })
	tm.send("o", "Tab", "f", "Tab")
	tm.waitFor("set zero_excluded of<TAB>", 10*time.Second, func(s string) bool { return s == "crash> set zero_excluded off" })
	tm.send("Enter")
	tm.waitFor("set zero_excluded off", 10*time.Second, func(s string) bool {
		return strings.HasSuffix(s, "\nzero_excluded: off\ncrash>")
	})

	// ... and struct names after struct and the "*" shorthand.
	tm.clear()
	tm.send("struct task_stru", "Tab")
	tm.waitFor("struct task_stru<TAB>", 20*time.Second, func(s string) bool { return s == "crash> struct task_struct" })
	tm.send("C-u", "*vm_area_stru", "Tab")
	tm.waitFor("*vm_area_stru<TAB>", 20*time.Second, func(s string) bool { return s == "crash> *vm_area_struct" })
	tm.send("C-u")

	// q after a failed command ends the session with status 0.
	tm.clear()
	tm.command("nosuchcommand")
	tm.send("q", "Enter")
	tm.waitFor("gocrash's exit status", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "gocrash-exit=")
	})
	if s := tm.screen(); !strings.Contains(s, "gocrash-exit=0") {
		t.Errorf("q after a failed command:\n%s", s)
	}
}
