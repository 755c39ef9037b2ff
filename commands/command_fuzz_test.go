package commands

// FuzzCommandLine types hostile command lines at a session on the real
// test-bed dump: every command, with options, numbers, symbols and
// addresses the fuzzer chooses. A bad line must get a message, never a
// panic (Run would turn one into "internal error") and never a hang.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// outputCap bounds what one fuzzed command may print: "rd -p 0 <huge>" on
// readable memory is a legitimate request for gigabytes, not a bug.
const outputCap = 1 << 20

// errOutputCap is panicked by cappedWriter: commands ignore a writer's
// errors as fmt.Fprintf callers do, so only a panic stops them; Run
// recovers it as "internal error: ..." and the fuzz body lets exactly that
// one through.
var errOutputCap = errors.New("fuzz: output cap reached")

type cappedWriter struct{ n int }

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > outputCap {
		panic(errOutputCap)
	}
	return len(p), nil
}

var (
	cmdFuzzOnce    sync.Once
	cmdFuzzSession *Session
	cmdFuzzErr     error
)

func FuzzCommandLine(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	cmdFuzzOnce.Do(func() { cmdFuzzSession, cmdFuzzErr = Open(d.Vmlinux, d.Vmcore, Options{}) })
	if cmdFuzzErr != nil {
		f.Fatal(cmdFuzzErr)
	}
	s := cmdFuzzSession
	// rd -r writes the file it is asked to: into a directory of the
	// test's, not the package's.
	f.Chdir(f.TempDir())
	// Every command alone and with each of its options, then lines a
	// crash user types (the commands crash's answers were recorded for).
	for _, c := range Table() {
		f.Add(c.Name)
		for _, o := range c.Options {
			f.Add(c.Name + " " + o)
		}
	}
	for _, l := range []string{
		"bt -a", "bt -f 2", "bt -sx", "bt -t 1", "bt 0", "bt ffffffffdeadbeef",
		"ps -G threads", "ps -c 2", "ps kthreadd", "ps -a 1", "ps 99999", "ps '^k'", "ps '['",
		"rd -64 jiffies 64 1", "rd -a init_uts_ns 400", "rd -p fffffff000 2",
		"rd -s -32 sys_call_table 8", "rd -o 8 linux_banner 2", "rd -D -16 linux_banner 9",
		"rd -u 7ffd87ac3fd2 4", "rd (jiffies+16) 2", "rd linux_banner-1 3",
		"log -T", "log -m", "log -d", "runq -c 1", "runq -g", "kmem -i",
		"set -c 1", "set 2", "set zero_excluded on", "eval jiffies+0x10", "eval 2#10",
		"eval (jiffies+16)", "sys -c", "help rd",
		"bt -o -a", "bt -O", "bt -E -c 1", "bt -n idle -a", "bt -S ffffffffdeadbeef 1", "bt -I schedule 2",
		"foreach bt -o", "foreach ps -l", "foreach 1 vtop -c 1000",
	} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 512 {
			return
		}
		// Each input starts from the session as opened: set may have
		// changed the context or the reading of excluded pages.
		defer func() {
			s.SetContext(0)
			s.Dump.SetZeroExcluded(false)
			s.btOld = false // bt -O
		}()
		done := make(chan error, 1)
		go func() { done <- Run(s, line, &cappedWriter{}) }()
		select {
		case err := <-done:
			var ce *CommandError
			if errors.As(err, &ce) && strings.Contains(ce.Err.Error(), "internal error") &&
				!strings.Contains(ce.Err.Error(), errOutputCap.Error()) {
				t.Fatalf("%q: %v", line, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%q: no answer after 30 s", line)
		}
	})
}

// TestCappedWriter: the cap stops a command and Run reports it as the
// recovered panic the fuzz body expects, so a real panic is still told
// apart from it.
func TestCappedWriter(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(t, d)
	defer s.Close()
	err := Run(s, "rd linux_banner 1000000", &cappedWriter{})
	var ce *CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Err.Error(), "internal error: "+errOutputCap.Error()) {
		t.Fatalf("rd linux_banner 1000000 into a capped writer: %v, want the cap's recovered panic", fmt.Sprint(err))
	}
}
