package commands

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// countWriter counts what a command wrote, from another goroutine.
type countWriter struct{ n atomic.Int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestRdCancel: ^C (a cancelled context) stops "rd -p 1000000 100000000"
// with zero_excluded on at the page it is on, with the output so far written and
// an error saying it was cancelled. (Physical address 0 is not RAM in
// these dumps: crash's own answer to "rd -p 0" is a read error, recorded
// in rd_-p_0_4.txt; from 16 MiB the read runs for seconds, through
// excluded pages read as zeroes.)
func TestRdCancel(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s, err := Open(d.Vmlinux, d.Vmcore, Options{ZeroExcluded: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var w countWriter
	done := make(chan error, 1)
	go func() { done <- RunContext(ctx, s, "rd -p 1000000 100000000", &w) }()
	for deadline := time.Now().Add(10 * time.Second); w.n.Load() < 1<<20; {
		select {
		case err := <-done:
			t.Fatalf("rd ended before it was cancelled, after %d bytes: %v", w.n.Load(), err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rd wrote only %d bytes in 10 s", w.n.Load())
		}
		time.Sleep(time.Millisecond)
	}
	// Promptness is measured in output, not in time (a loaded machine
	// delays the goroutine, not the check): once cancelled, rd may finish
	// the page it is on, not go on to the next megabyte.
	before := w.n.Load()
	cancel()
	select {
	case err := <-done:
		if after := w.n.Load() - before; after > 256<<10 {
			t.Errorf("rd wrote %d more bytes after the cancel; want under 256 KiB (the page it was on)", after)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want one wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("rd still running 5 s after the cancel")
	}
	// The session goes on.
	var b countWriter
	if err := Run(s, "rd -64 jiffies 1", &b); err != nil || b.n.Load() == 0 {
		t.Errorf("rd after the cancel: %v, %d bytes", err, b.n.Load())
	}
}
