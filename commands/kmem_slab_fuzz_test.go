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

// FuzzSlabWalk runs the SLUB walker over the real test-bed dump with words
// the fuzzer chooses overwritten: the words a clean walk of two caches
// reads (kmem_cache fields, kmem_cache_cpu and kmem_cache_node, struct
// slab counters and links, free pointers inside objects). Freelists that
// loop or leave the slab, partial lists that loop or point anywhere,
// counts of -1: every walk must end, never panic, never list more objects
// than the slab has.
func FuzzSlabWalk(f *testing.F) {
	b := openSlabFuzzBed(f)
	walkSeeds(f, &walkFuzzBed{targets: b.targets})
	f.Fuzz(func(t *testing.T, data []byte) {
		wb := &walkFuzzBed{targets: b.targets}
		mem := &fuzzMemory{base: b.s.Mem, patch: wb.patches(data), limitOK: readBudget}
		sl, err := b.s.newSlab(mem)
		if err != nil {
			return
		}
		ctx := context.Background()
		for _, a := range b.caches {
			c, err := sl.Cache(a)
			if err != nil {
				continue
			}
			sl.Stats(ctx, c, func(string) {})
			for cpu := 0; cpu < sl.CPUs(); cpu++ {
				kc, err := sl.CPUSlab(c, cpu)
				if err != nil || kc.Slab == 0 {
					continue
				}
				d, err := sl.Detail(ctx, c, kc.Slab)
				if err == nil && len(d.Objects) > int(d.SlabPage.Objects) {
					t.Fatalf("%s: %d objects listed in a slab of %d", c.Name, len(d.Objects), d.SlabPage.Objects)
				}
				sl.CPUPartial(ctx, c, kc.Partial, func(uint64) error { return nil })
			}
			for n := range sl.Nodes() {
				if nc, err := sl.Node(c, n); err == nil && nc.Addr != 0 {
					sl.NodeList(ctx, c, nc.Addr, false, func(*kernel.SlabPage) error { return nil }, func(string) {})
				}
			}
		}
		if mem.limitOK < 0 {
			t.Fatalf("slab walk did not end within %d reads", readBudget)
		}
	})
}

type slabFuzzBed struct {
	s       *Session
	caches  []uint64
	targets []uint64
}

var (
	slabBedOnce sync.Once
	slabBed     *slabFuzzBed
	slabBedErr  error
)

func openSlabFuzzBed(f *testing.F) *slabFuzzBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	slabBedOnce.Do(func() {
		s, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			slabBedErr = err
			return
		}
		rec := &fuzzMemory{base: s.Mem, record: map[uint64]bool{}, limitOK: 1 << 30}
		sl, err := s.newSlab(rec)
		if err != nil {
			slabBedErr = err
			return
		}
		ctx := context.Background()
		all, err := sl.CacheAddrs(ctx)
		if err != nil {
			slabBedErr = err
			return
		}
		b := &slabFuzzBed{s: s}
		for _, a := range all {
			c, err := sl.Cache(a)
			if err != nil || (c.Name != "kmalloc-64" && c.Name != "kmem_cache") {
				continue
			}
			b.caches = append(b.caches, a)
			sl.Stats(ctx, c, func(string) {})
			for cpu := 0; cpu < sl.CPUs(); cpu++ {
				if kc, err := sl.CPUSlab(c, cpu); err == nil && kc.Slab != 0 {
					sl.Detail(ctx, c, kc.Slab)
				}
			}
		}
		if len(b.caches) == 0 {
			slabBedErr = errors.New("no kmalloc-64 or kmem_cache cache on the test bed")
			return
		}
		for a := range rec.record {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		slabBed = b
	})
	if slabBedErr != nil {
		f.Fatal(slabBedErr)
	}
	return slabBed
}
