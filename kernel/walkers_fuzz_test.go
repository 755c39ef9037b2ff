package kernel

// Fuzz targets for the files, mount, maple tree and VMA walkers over
// hostile memory: the real test-bed dump with 8-byte words the fuzzer
// chooses overwritten. The words it may overwrite are the ones clean walks
// of every task read, and the values it writes are raw, or the address of
// another such word (a cycle or a cross-link is a few bytes away). Every
// walk must end within a read budget and never panic.

import (
	"context"
	"encoding/binary"
	"errors"
	"sort"
	"sync"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/symbols"
)

type fuzzMem struct {
	base   symbols.Memory
	patch  map[uint64]uint64
	record map[uint64]bool
	budget int
}

var errBudget = errors.New("fuzz read budget exhausted")

func (m *fuzzMem) ReadVirt(p []byte, addr uint64) error {
	if m.budget--; m.budget < 0 {
		return errBudget
	}
	if err := m.base.ReadVirt(p, addr); err != nil {
		return err
	}
	end := addr + uint64(len(p))
	for w := addr &^ 7; w < end && w >= addr&^7; w += 8 {
		if m.record != nil {
			m.record[w] = true
		}
		v, ok := m.patch[w]
		if !ok {
			continue
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		for i := range 8 {
			if a := w + uint64(i); a >= addr && a < end {
				p[a-addr] = b[i]
			}
		}
	}
	return nil
}

type walkerBed struct {
	k       *Kernel
	tasks   []uint64 // every process leader
	mms     []uint64
	inodes  []uint64 // the inodes of the open files (files -p)
	targets []uint64
}

var (
	walkerBedOnce sync.Once
	walkerBedV    *walkerBed
	walkerBedErr  error
)

// processes lists init_task's tasks list (the leaders are enough: the
// threads share their files and mm).
func processes(k *Kernel, mem symbols.Memory) ([]uint64, error) {
	t, err := k.Types()
	if err != nil {
		return nil, err
	}
	off, err := t.Offset("task_struct.tasks")
	if err != nil {
		return nil, err
	}
	init, ok := k.Vmlinux.Lookup("init_task")
	if !ok {
		return nil, errors.New("no init_task")
	}
	out := []uint64{init}
	err = WalkList(context.Background(), mem, init+uint64(off), "tasks", func(n uint64) error {
		out = append(out, n-uint64(off))
		return nil
	})
	return out, err
}

func openWalkerBed(f *testing.F) *walkerBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	walkerBedOnce.Do(func() {
		k, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			walkerBedErr = err
			return
		}
		b := &walkerBed{k: k}
		if b.tasks, err = processes(k, k.Mem); err != nil {
			walkerBedErr = err
			return
		}
		t, _ := k.Types()
		rec := &fuzzMem{base: k.Mem, record: map[uint64]bool{}, budget: 1 << 30}
		r := newReader(rec, t)
		fw := newFilesWalker(r, 0, 0)
		ctx := context.Background()
		kr := k.WithMemory(rec)
		seen := map[uint64]bool{}
		for _, task := range b.tasks {
			if tf, err := fw.taskFiles(ctx, task, true); err == nil {
				for _, fi := range tf.Files {
					if fi.Inode != 0 && !seen[fi.Inode] {
						seen[fi.Inode] = true
						b.inodes = append(b.inodes, fi.Inode)
						kr.InodePages(ctx, fi.Inode)
					}
				}
			}
			kr.TaskSockets(ctx, task)
			signalsOf(ctx, r, task, true)
			if mm, err := r.ptr(task, "task_struct.mm"); err == nil && mm != 0 {
				b.mms = append(b.mms, mm)
				vmasOver(ctx, k, rec, mm)
			}
		}
		fw.mountList(ctx, b.tasks[len(b.tasks)-1])
		k.WithMemory(rec).NetDevices(ctx, b.tasks[0])
		kr.ARPCache(ctx)
		for a := range rec.record {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		walkerBedV = b
	})
	if walkerBedErr != nil {
		f.Fatal(walkerBedErr)
	}
	return walkerBedV
}

// vmasOver is Kernel.VMAInfos through another memory view.
func vmasOver(ctx context.Context, k *Kernel, mem symbols.Memory, mm uint64) ([]VMAInfo, error) {
	return k.WithMemory(mem).VMAInfos(ctx, mm)
}

func (b *walkerBed) patches(data []byte) map[uint64]uint64 {
	p := map[uint64]uint64{}
	n := uint64(len(b.targets))
	for len(data) >= 10 && n > 0 {
		idx := binary.LittleEndian.Uint16(data[0:2])
		mode := data[1] % 4
		v := binary.LittleEndian.Uint64(data[2:10])
		data = data[10:]
		at := b.targets[uint64(idx)%n]
		switch mode {
		case 1:
			v = b.targets[v%n]
		case 2:
			v = b.targets[v%n] + v>>56
		case 3:
			v = at
		}
		p[at] = v
	}
	return p
}

func (b *walkerBed) seeds(f *testing.F) {
	f.Add([]byte{})
	step := max(1, len(b.targets)/60)
	for i := 0; i < len(b.targets); i += step {
		lo, hi := byte(i), byte(i>>8)
		f.Add([]byte{lo, hi&^3 | 3, 0, 0, 0, 0, 0, 0, 0, 0})
		f.Add([]byte{lo, hi&^3 | 1, byte(i + 1), 0, 0, 0, 0, 0, 0, 0})
		f.Add([]byte{lo, hi &^ 3, 0, 0, 0, 0, 0, 0, 0, 0})
	}
}

const fuzzBudget = 1 << 20

func FuzzFilesWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	t0, _ := b.k.Types()
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		fw := newFilesWalker(newReader(mem, t0), 0, 0)
		ctx := context.Background()
		for _, task := range b.tasks {
			if _, err := fw.taskFiles(ctx, task, true); errors.Is(err, errBudget) {
				t.Fatalf("files walk of task %x did not end within %d reads", task, fuzzBudget)
			}
			mem.budget = fuzzBudget
		}
		if _, err := fw.mountList(ctx, b.tasks[len(b.tasks)-1]); errors.Is(err, errBudget) {
			t.Fatalf("mount list walk did not end within %d reads", fuzzBudget)
		}
	})
}

func FuzzSignalWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	t0, _ := b.k.Types()
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		r := newReader(mem, t0)
		for _, task := range b.tasks {
			ts, err := signalsOf(context.Background(), r, task, true)
			if errors.Is(err, errBudget) {
				t.Fatalf("signal walk of task %x did not end within %d reads", task, fuzzBudget)
			}
			if ts != nil && (len(ts.Queue) > maxSigQueue || len(ts.SharedQueue) > maxSigQueue) {
				t.Fatalf("task %x: %d+%d queued signals, more than the bound", task, len(ts.Queue), len(ts.SharedQueue))
			}
			mem.budget = fuzzBudget
		}
	})
}

func FuzzNetDeviceWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		devs, err := b.k.WithMemory(mem).NetDevices(context.Background(), b.tasks[0])
		if errors.Is(err, errBudget) {
			t.Fatalf("net device walk did not end within %d reads (%d devices)", fuzzBudget, len(devs))
		}
	})
}

// FuzzSocketWalk: net -s's walk of each task's descriptors for sockets.
func FuzzSocketWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		k := b.k.WithMemory(mem)
		for _, task := range b.tasks {
			ts, err := k.TaskSockets(context.Background(), task)
			if errors.Is(err, errBudget) {
				t.Fatalf("socket walk of task %x did not end within %d reads", task, fuzzBudget)
			}
			if ts != nil && uint64(len(ts.Sockets)) > ts.MaxFDs {
				t.Fatalf("task %x: %d sockets, more than its %d descriptors", task, len(ts.Sockets), ts.MaxFDs)
			}
			mem.budget = fuzzBudget
		}
	})
}

// FuzzARPWalk: net -a's walk of arp_tbl's hash buckets and chains.
func FuzzARPWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		ns, err := b.k.WithMemory(mem).ARPCache(context.Background())
		if errors.Is(err, errBudget) {
			t.Fatalf("ARP cache walk did not end within %d reads (%d entries)", fuzzBudget, len(ns))
		}
	})
}

// FuzzInodePagesWalk: files -p's walk of an inode's page cache xarray.
func FuzzInodePagesWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		k := b.k.WithMemory(mem)
		for _, ino := range b.inodes {
			pc, err := k.InodePages(context.Background(), ino)
			if errors.Is(err, errBudget) {
				t.Fatalf("page cache walk of inode %x did not end within %d reads", ino, fuzzBudget)
			}
			if pc != nil && pc.Entries > maxPageCacheEntries+1 {
				t.Fatalf("inode %x: %d entries, more than the bound", ino, pc.Entries)
			}
			mem.budget = fuzzBudget
		}
	})
}

func FuzzVMAWalk(f *testing.F) {
	b := openWalkerBed(f)
	b.seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMem{base: b.k.Mem, patch: b.patches(data), budget: fuzzBudget}
		for _, mm := range b.mms {
			vmas, err := vmasOver(context.Background(), b.k, mem, mm)
			if errors.Is(err, errBudget) {
				t.Fatalf("VMA walk of mm %x did not end within %d reads (%d VMAs)", mm, fuzzBudget, len(vmas))
			}
			mem.budget = fuzzBudget
		}
	})
}

// TestVMAsMatchMapleOrder: the maple tree gives every VMA in address
// order, none overlapping, on every committed dump.
func TestVMAsMatchMapleOrder(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range testbed.All(t) {
		if seen[d.Name] { // memory is the same in every format of a dump
			continue
		}
		seen[d.Name] = true
		k, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := processes(k, k.Mem)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, task := range tasks {
			mm, err := k.MM(task)
			if err != nil || mm == 0 {
				continue
			}
			vmas, err := k.VMAInfos(context.Background(), mm)
			if err != nil {
				t.Errorf("%s: mm %x: %v", d.Name, mm, err)
				continue
			}
			if len(vmas) == 0 {
				t.Errorf("%s: mm %x has no VMAs", d.Name, mm)
			}
			for i := range vmas {
				n++
				if vmas[i].Start >= vmas[i].End || i > 0 && vmas[i].Start < vmas[i-1].End {
					t.Errorf("%s: mm %x: VMA %d [%x, %x) out of order", d.Name, mm, i, vmas[i].Start, vmas[i].End)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no VMA found", d.Name)
		}
		k.Close()
	}
}
