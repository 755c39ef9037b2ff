package repl

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"gocrash/commands"
	"gocrash/internal/testbed"
)

// lockedBuffer is the shell's output, read while a command runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// TestInterrupt: ^C (Interrupt, what interactive.go calls on SIGINT)
// during a long rd stops it promptly (within a second, so that a loaded
// machine does not fail it: the goal is a prompt stop, checked without
// timing benchmarks' precision); the next command runs.
func TestInterrupt(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s, err := commands.Open(d.Vmlinux, d.Vmcore, commands.Options{ZeroExcluded: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out lockedBuffer
	sh := New(s)
	sh.Out, sh.Err = &out, io.Discard
	done := make(chan struct{})
	go func() {
		sh.Exec("rd -p 1000000 100000000")
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); out.Len() < 1<<20; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("rd wrote only %d bytes in 10 s", out.Len())
		}
	}
	start := time.Now()
	sh.Interrupt()
	select {
	case <-done:
		if el := time.Since(start); el > time.Second {
			t.Errorf("rd stopped %v after ^C; want under 1 s", el)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("rd still running 5 s after ^C")
	}
	if sh.Failed() != 1 {
		t.Errorf("%d failed commands, want the interrupted one", sh.Failed())
	}
	sh.interrupted.Store(false) // Interactive does this before each line
	n := out.Len()
	sh.Exec("rd -64 jiffies 1")
	if out.Len() == n {
		t.Error("no output from the command after ^C")
	}
}
