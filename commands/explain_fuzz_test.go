package commands

import (
	"context"
	"testing"
	"time"
)

// FuzzExplain: explain over the sample dump with words the fuzzer picks
// overwritten (the task list, run queues and scheduler links a clean walk
// reads: damage_fuzz_test.go's bed) ends without panicking, whatever it
// finds; its log reports come from kernel.ParseCrashLog (FuzzParseCrashLog).
func FuzzExplain(f *testing.F) {
	b := openWalkFuzzBed(f)
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMemory{base: b.s.Mem, patch: b.patches(data), limitOK: 1 << 16}
		s := &Session{Kernel: b.s.WithMemory(mem), Location: time.UTC}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ex, err := s.ExplainWith(ctx, ExplainOptions{Quick: true})
		if err != nil {
			return
		}
		if ex.Cause.Kind == "" || len(ex.Signature) != 12 {
			t.Fatalf("explanation without a cause or signature: %+v", ex.Cause)
		}
	})
}
