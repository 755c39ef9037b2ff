package commands

import (
	"context"
	"sort"
	"sync"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/kernel"
)

// FuzzSystemWalk runs the struct mount reader, the swap areas and the
// I/O resource trees over the
// real test-bed dump with words the fuzzer chooses overwritten: the words
// a clean walk reads. Loops, shortcuts and pointers anywhere must end the
// walks with an error or a short answer, never a panic or a hang.
func FuzzSystemWalk(f *testing.F) {
	b := openSystemFuzzBed(f)
	walkSeeds(f, &walkFuzzBed{targets: b.targets})
	f.Fuzz(func(t *testing.T, data []byte) {
		wb := &walkFuzzBed{targets: b.targets}
		mem := &fuzzMemory{base: b.s.Mem, patch: wb.patches(data), limitOK: readBudget}
		b.walk(mem)
		if mem.limitOK < 0 {
			t.Fatalf("walks did not end within %d reads", readBudget)
		}
	})
}

type systemFuzzBed struct {
	s       *Session
	task    uint64
	mounts  []uint64
	targets []uint64
}

var (
	sysBedOnce sync.Once
	sysBed     *systemFuzzBed
	sysBedErr  error
)

func (b *systemFuzzBed) walk(mem *fuzzMemory) {
	ctx := context.Background()
	t, _ := b.s.Types()
	fs := &kernel.FS{Mem: mem, Types: t}
	for _, m := range b.mounts {
		fs.Mount(m)
	}
	for _, sym := range []string{"ioport_resource", "iomem_resource"} {
		if a, ok := b.s.Vmlinux.Lookup(sym); ok {
			kernel.ResourcesIn(ctx, mem, t, a)
		}
	}
	if a, ok := b.s.Vmlinux.Lookup("swap_info"); ok {
		fs.SwapAreasAt(ctx, a, 4)
	}
}

func openSystemFuzzBed(f *testing.F) *systemFuzzBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	sysBedOnce.Do(func() {
		s, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			sysBedErr = err
			return
		}
		tt, err := s.taskTable()
		if err != nil {
			sysBedErr = err
			return
		}
		b := &systemFuzzBed{s: s}
		for _, tk := range tt.tasks {
			if tk.PID == 1 {
				b.task = tk.Addr
			}
		}
		b.mounts, _ = s.MountList(context.Background(), b.task)
		rec := &fuzzMemory{base: s.Mem, record: map[uint64]bool{}, limitOK: 1 << 30}
		b.walk(rec)
		for a := range rec.record {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		sysBed = b
	})
	if sysBedErr != nil {
		f.Fatal(sysBedErr)
	}
	return sysBed
}
