package kernel

// FuzzSystemWalkers runs the walkers of irq, timer, dev and kmem -f over
// the real test-bed dump with 8-byte words the fuzzer chooses overwritten
// (the words clean walks read; see walkers_fuzz_test.go): the interrupt
// descriptors (the maple tree or XArray of irq_descs, each action chain,
// per-cpu counts, chip names, affinity), the IDT, each cpu's timer wheel
// and hrtimer clock bases, the character and block device tables, the
// disks with their blk-mq tags and sbitmaps, the PCI bus tree and every
// buddy free list. Loops, cross-links and pointers anywhere must end each
// walk within the read budget, with an error or a short answer, never a
// panic.

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"gocrash/internal/testbed"
)

type systemBed struct {
	k         *Kernel
	ncpu      int
	descs     []uint64
	freeAreas []uint64
	targets   []uint64
}

var (
	systemBedOnce sync.Once
	systemBedV    *systemBed
	systemBedErr  error
)

// walkSystem runs every walker once through k (a view of the bed's kernel
// over some memory). It returns errBudget when a walk ran out of reads.
func (b *systemBed) walkSystem(k *Kernel, mem *fuzzMem) error {
	ctx := context.Background()
	check := func() error {
		if mem.budget < 0 {
			return errBudget
		}
		mem.budget = fuzzBudget
		return nil
	}
	k.IRQTable(ctx)
	if err := check(); err != nil {
		return err
	}
	offs := make([]uint64, b.ncpu)
	for i := range offs {
		offs[i], _ = k.PerCPUOffset(i)
	}
	for _, d := range b.descs {
		k.IRQActions(d)
		k.IRQCounts(d, offs)
		k.IRQChip(d)
		k.IRQAffinity(d, 8)
		if err := check(); err != nil {
			return err
		}
	}
	k.IDT()
	for cpu := 0; cpu < b.ncpu; cpu++ {
		k.TimerBases(ctx, cpu, 2)
		k.HRTimerBases(ctx, cpu)
		if err := check(); err != nil {
			return err
		}
	}
	k.CharDevices(ctx)
	k.BlockDevices(ctx)
	if err := check(); err != nil {
		return err
	}
	k.Disks(ctx)
	k.PCIRootBuses(ctx)
	if err := check(); err != nil {
		return err
	}
	for _, fa := range b.freeAreas {
		k.FreeLists(ctx, fa)
		if err := check(); err != nil {
			return err
		}
	}
	// kmem -p / -m: the section table and the first struct pages, each
	// decoded and each member read.
	if mm, err := k.MemMap(); err == nil {
		var members []PageMember
		for _, name := range fuzzPageMembers {
			if pm, err := k.PageMember(name); err == nil {
				members = append(members, pm)
			}
		}
		n := 0
		mm.ForEachPage(ctx, func(ps PageStruct) error {
			mm.Decode(ps)
			for _, pm := range members {
				pm.Read(ps.Raw)
			}
			if n++; n >= 2048 {
				return errStopWalk
			}
			return nil
		})
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// fuzzPageMembers are kmem -m members of each type class crash shows.
var fuzzPageMembers = []string{"flags", "_refcount", "_mapcount", "lru", "mapping", "index",
	"compound_head", "page_type", "_refcount.counter", "lru.next", "compound_order"}

// FuzzPageMemberRead decodes every kmem -m member of the test-bed kernel's
// struct page from bytes the fuzzer chooses, seeded with real struct
// pages: never a panic, whatever the bytes or their length.
func FuzzPageMemberRead(f *testing.F) {
	b := openSystemBed(f)
	var members []PageMember
	for _, name := range fuzzPageMembers {
		if pm, err := b.k.PageMember(name); err == nil {
			members = append(members, pm)
		}
	}
	if len(members) == 0 {
		f.Fatal("no struct page member resolved")
	}
	mm, err := b.k.MemMap()
	if err != nil {
		f.Fatal(err)
	}
	n := 0
	mm.ForEachPage(context.Background(), func(ps PageStruct) error {
		if n%4096 == 0 {
			f.Add(append([]byte(nil), ps.Raw...))
		}
		if n++; n >= 1<<16 {
			return errStopWalk
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, pm := range members {
			v, err := pm.Read(raw)
			if err == nil && pm.Kind == PageMemberStruct && v.WordSize == 0 {
				t.Fatalf("%s: a struct value without a word size", pm.Name)
			}
		}
	})
}

func openSystemBed(f *testing.F) *systemBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	systemBedOnce.Do(func() {
		k, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			systemBedErr = err
			return
		}
		b := &systemBed{k: k}
		if b.ncpu, err = k.NumCPUs(); err != nil {
			systemBedErr = err
			return
		}
		tab, err := k.IRQTable(context.Background())
		if err != nil {
			systemBedErr = err
			return
		}
		for _, a := range tab.Descs {
			b.descs = append(b.descs, a)
		}
		sort.Slice(b.descs, func(i, j int) bool { return b.descs[i] < b.descs[j] })
		if pgdat, ok := k.Vmlinux.Lookup("contig_page_data"); ok {
			zones, _ := k.Zones(0, pgdat)
			for _, z := range zones {
				b.freeAreas = append(b.freeAreas, z.FreeArea)
			}
		}
		rec := &fuzzMem{base: k.Mem, record: map[uint64]bool{}, budget: 1 << 30}
		b.walkSystem(k.WithMemory(rec), rec)
		for a := range rec.record {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		systemBedV = b
	})
	if systemBedErr != nil {
		f.Fatal(systemBedErr)
	}
	return systemBedV
}

func FuzzSystemWalkers(f *testing.F) {
	b := openSystemBed(f)
	wb := &walkerBed{targets: b.targets}
	wb.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: wb.patches(data), budget: fuzzBudget}
		if err := b.walkSystem(b.k.WithMemory(mem), mem); errors.Is(err, errBudget) {
			t.Fatalf("a walk did not end within %d reads", fuzzBudget)
		}
	})
}
