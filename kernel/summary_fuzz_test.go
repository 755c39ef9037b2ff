package kernel

// FuzzSummaryWalk runs the summary walkers (Sys, which reads the log and
// the panic, MemInfo, which walks the mem_map and the block device
// inodes, the audit queues, and each task's memory usage) over the test-bed dump with words the fuzzer chooses
// overwritten: every word a clean walk read in a small read (the mem_map's
// bulk reads are left alone: any value there is a legal page). Each walk
// must end within its read budget and never panic.

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/symbols"
)

// smallReads records the words of every read of at most 4 KB.
type smallReads struct {
	base  symbols.Memory
	words map[uint64]bool
}

func (m *smallReads) ReadVirt(p []byte, addr uint64) error {
	if len(p) <= 4096 {
		for w := addr &^ 7; w < addr+uint64(len(p)); w += 8 {
			m.words[w] = true
		}
	}
	return m.base.ReadVirt(p, addr)
}

var (
	summaryBedOnce sync.Once
	summaryBed     *walkerBed
	summaryBedErr  error
)

func openSummaryBed(f *testing.F) *walkerBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	summaryBedOnce.Do(func() {
		k, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			summaryBedErr = err
			return
		}
		rec := &smallReads{base: k.Mem, words: map[uint64]bool{}}
		v := k.WithMemory(rec)
		ctx := context.Background()
		if _, err := v.Sys(ctx); err != nil {
			summaryBedErr = err
			return
		}
		if _, err := v.MemInfo(ctx); err != nil {
			summaryBedErr = err
			return
		}
		v.AuditLog(ctx)
		if tt, err := v.Tasks(ctx); err == nil {
			for _, task := range tt.All() {
				v.TaskMemory(ctx, &task)
			}
		}
		b := &walkerBed{k: k}
		for a := range rec.words {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		summaryBed = b
	})
	if summaryBedErr != nil {
		f.Fatal(summaryBedErr)
	}
	return summaryBed
}

func FuzzSummaryWalk(f *testing.F) {
	b := openSummaryBed(f)
	b.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		v := b.k.WithMemory(mem)
		ctx := context.Background()
		s, err := v.Sys(ctx)
		if errors.Is(err, errBudget) {
			t.Fatalf("sys walk did not end within %d reads", fuzzBudget)
		}
		for _, e := range s.Errors {
			if errors.Is(e, errBudget) {
				t.Fatalf("sys: %s did not end within %d reads", e.Field, fuzzBudget)
			}
		}
		mem.budget = fuzzBudget
		if _, err := v.MemInfo(ctx); errors.Is(err, errBudget) {
			t.Fatalf("meminfo walk did not end within %d reads", fuzzBudget)
		}
		mem.budget = fuzzBudget
		if tt, err := v.Tasks(ctx); err == nil {
			for _, task := range tt.All() {
				if _, err := v.TaskMemory(ctx, &task); errors.Is(err, errBudget) {
					t.Fatalf("task %x: memory walk did not end within %d reads", task.Addr, fuzzBudget)
				}
			}
		}
		mem.budget = fuzzBudget
		if a, err := v.AuditLog(ctx); errors.Is(err, errBudget) || a != nil && len(a.Records) > a.Queued+3+maxAuditRecords { // qlen+1 a queue walked, one queue cut short
			t.Fatalf("audit walk did not end within %d reads or overran its queues", fuzzBudget)
		}
	})
}
