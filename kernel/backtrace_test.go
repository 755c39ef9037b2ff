package kernel

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/symbols"
)

var btFrameLine = regexp.MustCompile(`^ ?#\d+ \[[0-9a-f]+\] (\S+) at [0-9a-f]+`)

// TestBacktracePanicTask: the frames Backtrace finds for the panic task
// are the functions crash's bt lists for it, in order, on every committed
// dump (crash leaves out a call that never returns, NoReturnCall, and
// shows an interrupted kernel context as its "[exception RIP: ...]"
// register block, not as a numbered frame).
func TestBacktracePanicTask(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			golden, ok := d.Golden("bt")
			if !ok {
				t.Skip("no bt answer recorded")
			}
			var want []string
			for _, l := range strings.Split(golden, "\n") {
				if m := btFrameLine.FindStringSubmatch(l); m != nil {
					want = append(want, m[1])
				}
			}
			k, err := Open(d.Vmlinux, d.Vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			task, err := k.PanicTask()
			if err != nil {
				t.Fatal(err)
			}
			bt, err := k.Backtrace(context.Background(), task, BacktraceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range bt.Frames {
				if !f.User && !f.NoReturnCall && !(f.Signal && f.Exception != nil) {
					got = append(got, f.Func)
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("frames:\n  %s\ncrash's bt:\n  %s", strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
}

// stackPatch overwrites words of one stack with fuzz data.
type stackPatch struct {
	base      symbols.Memory
	low, high uint64
	data      []byte
}

func (m *stackPatch) ReadVirt(p []byte, addr uint64) error {
	if err := m.base.ReadVirt(p, addr); err != nil {
		return err
	}
	for i := range p {
		a := addr + uint64(i)
		if a >= m.low && a < m.high && len(m.data) > 0 {
			off := (a - m.low) % uint64(len(m.data)*8)
			if off < uint64(len(m.data)) {
				p[i] = m.data[off]
			}
		}
	}
	return nil
}

// FuzzBacktrace unwinds the sample dump's panic task over a stack whose
// words the fuzzer rewrites: every backtrace must end, without a panic.
func FuzzBacktrace(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	k, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer k.Close()
	task, err := k.PanicTask()
	if err != nil {
		f.Fatal(err)
	}
	clean, err := k.Backtrace(context.Background(), task, BacktraceOptions{})
	if err != nil {
		f.Fatal(err)
	}
	b, err := k.NewBacktracer(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	st := clean.TaskStack
	// Seeds: the real stack words the clean unwind read, and garbage.
	for _, fr := range clean.Frames {
		if fr.SP >= st.Low && fr.SP+64 <= st.High {
			var w [64]byte
			if err := k.Mem.ReadVirt(w[:], fr.SP); err == nil {
				f.Add(w[:])
			}
		}
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		pm := &stackPatch{base: k.Mem, low: st.Low, high: st.High, data: data}
		bt, err := b.WithMemory(pm).Backtrace(context.Background(), task, BacktraceOptions{})
		if bt == nil && err == nil {
			t.Fatal("no backtrace and no error")
		}
		if bt != nil && len(bt.Frames) > 10000 {
			t.Fatalf("%d frames", len(bt.Frames))
		}
		// bt -S and -I over the same words: a start anywhere on the
		// stack, at a return address found there or at a given pc.
		if len(data) >= 2 {
			sp := st.Low + uint64(data[0])<<6&^7%(st.High-st.Low)
			for _, opt := range []BacktraceOptions{{StartSP: sp}, {StartSP: sp, StartPC: clean.Start.PC}, {StartPC: clean.Start.PC + uint64(data[1])}} {
				bt, err := b.WithMemory(pm).Backtrace(context.Background(), task, opt)
				if bt == nil && err == nil {
					t.Fatal("no backtrace and no error")
				}
				if bt != nil && len(bt.Frames) > 10000 {
					t.Fatalf("%d frames", len(bt.Frames))
				}
			}
		}
	})
}
