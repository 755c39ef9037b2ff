package commands

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/kernel"
)

// The list and tree walkers over hostile memory: the words the real walks
// of the sample dump read (the super_blocks list, vmap_area_root's
// red-black tree, init's maple tree of VMAs, irq_desc_tree's XArray) are
// overwritten by the fuzzer's data (damage_fuzz_test.go's patches: any
// value, a pointer to another of those words, near one, or to itself).
// Each walk must end, without a panic, within the read budget.

type memFuzzBed struct {
	s       *Session
	targets []uint64
	roots   memFuzzRoots
}

type memFuzzRoots struct {
	superBlocks, vmapRoot, mapleRoot, xaHead uint64
	xa                                       kernel.XALayout
}

var (
	memBedOnce sync.Once
	memBed     *memFuzzBed
	memBedErr  error
)

func openMemFuzzBed(f *testing.F) *memFuzzBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	memBedOnce.Do(func() {
		s, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			memBedErr = err
			return
		}
		b := &memFuzzBed{s: s}
		rec := &fuzzMemory{base: s.Mem, record: map[uint64]bool{}, limitOK: 1 << 30}
		if b.roots, err = memRoots(s); err != nil {
			memBedErr = err
			return
		}
		b.walkAll(context.Background(), rec)
		for a := range rec.record {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		memBed = b
	})
	if memBedErr != nil {
		f.Fatal(memBedErr)
	}
	return memBed
}

func memRoots(s *Session) (memFuzzRoots, error) {
	var r memFuzzRoots
	var ok bool
	if r.superBlocks, ok = s.Vmlinux.Lookup("super_blocks"); !ok {
		return r, errors.New("no super_blocks")
	}
	if a, ok := s.Vmlinux.Lookup("vmap_area_root"); ok {
		r.vmapRoot, _ = kernel.ReadPointer(s.Mem, a)
	}
	if a, ok := s.Vmlinux.Lookup("irq_desc_tree"); ok {
		r.xaHead, _ = kernel.ReadPointer(s.Mem, a+8)
	}
	var err error
	if r.xa, err = s.XALayout(); err != nil {
		return r, err
	}
	tt, err := s.taskTable()
	if err != nil {
		return r, err
	}
	t, err := s.Types()
	if err != nil {
		return r, err
	}
	off, err := t.Offset("mm_struct.mm_mt.ma_root")
	if err != nil {
		return r, err
	}
	if init := tt.byPID(1); init != nil && init.MM != 0 {
		r.mapleRoot, _ = kernel.ReadPointer(s.Mem, init.MM+uint64(off))
	}
	return r, nil
}

// walkAll runs every walker over mem; it returns whether one ran out of
// the read budget.
func (b *memFuzzBed) walkAll(ctx context.Context, mem *fuzzMemory) error {
	count := func(uint64) error { return nil }
	var errs []error
	first, _ := kernel.ReadPointer(mem, b.roots.superBlocks)
	errs = append(errs, kernel.FollowList(ctx, mem, kernel.FollowSpec{Start: first, End: b.roots.superBlocks, NullIsError: true}, count))
	errs = append(errs, kernel.WalkRBTree(ctx, mem, b.roots.vmapRoot, kernel.RBWalk{Visit: func(uint64, []byte) error { return nil }}))
	errs = append(errs, kernel.WalkRBTree(ctx, mem, b.roots.vmapRoot, kernel.RBWalk{Linear: true, Visit: func(uint64, []byte) error { return nil }}))
	errs = append(errs, kernel.WalkMaple(ctx, mem, b.roots.mapleRoot, func(kernel.MapleEntry) error { return nil }))
	errs = append(errs, kernel.WalkXArray(ctx, mem, b.roots.xa, b.roots.xaHead, false, func(kernel.XAEntry) error { return nil }))
	for _, err := range errs {
		if errors.Is(err, errReadBudget) {
			return err
		}
	}
	return nil
}

func FuzzListTreeWalk(f *testing.F) {
	b := openMemFuzzBed(f)
	f.Add([]byte{})
	for i := 0; i < 8; i++ {
		seed := make([]byte, 10)
		seed[0], seed[1], seed[2] = byte(i*31), byte(i%4), byte(i*7)
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &walkFuzzBed{targets: b.targets}
		mem := &fuzzMemory{base: b.s.Mem, patch: w.patches(data), limitOK: 1 << 18}
		if err := b.walkAll(context.Background(), mem); err != nil {
			t.Fatalf("a walk did not end within the read budget: %v", err)
		}
	})
}
