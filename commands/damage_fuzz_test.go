package commands

// Fuzz targets for the kernel-structure walkers over hostile memory: the
// real test-bed dump, with words the fuzzer chooses overwritten. The words
// it may overwrite are the ones a clean walk reads (list and tree links,
// signal pointers), plus the scheduler links of every task, and the values
// it writes are either raw or the address of another such word, so that
// cycles, shortcuts and cross-links between lists are a few bytes away.
// Every walk must end (no hang), never panic, and never report more
// entries than it could have met.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"gocrash/internal/testbed"
	"gocrash/kernel"
	"gocrash/symbols"
)

// fuzzMemory is a memory view with some 8-byte words replaced; it also
// records the aligned words it is asked for.
type fuzzMemory struct {
	base    symbols.Memory
	patch   map[uint64]uint64
	record  map[uint64]bool // nil: do not record
	limitOK int             // reads left before ReadVirt fails (a bound on work)
}

var errReadBudget = errors.New("fuzz read budget exhausted")

func (m *fuzzMemory) ReadVirt(p []byte, addr uint64) error {
	if m.limitOK--; m.limitOK < 0 {
		return errReadBudget
	}
	if err := m.base.ReadVirt(p, addr); err != nil {
		return err
	}
	for w := addr &^ 7; w < addr+uint64(len(p)) && w >= addr&^7; w += 8 {
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
			if a := w + uint64(i); a >= addr && a < addr+uint64(len(p)) {
				p[a-addr] = b[i]
			}
		}
	}
	return nil
}

// walkFuzzBed is the session and the words a clean walk reads.
type walkFuzzBed struct {
	s       *Session
	targets []uint64
	tasks   int
}

var (
	walkBedOnce sync.Once
	walkBed     *walkFuzzBed
	walkBedErr  error
)

func openWalkFuzzBed(f *testing.F) *walkFuzzBed {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	walkBedOnce.Do(func() {
		s, err := Open(d.Vmlinux, d.Vmcore, Options{})
		if err != nil {
			walkBedErr = err
			return
		}
		rec := &fuzzMemory{base: s.Mem, record: map[uint64]bool{}, limitOK: 1 << 30}
		b := &walkFuzzBed{s: s}
		var tasks []uint64
		if err := s.WithMemory(rec).ForEachTask(context.Background(), func(t uint64) error { tasks = append(tasks, t); return nil }); err != nil {
			walkBedErr = err
			return
		}
		b.tasks = len(tasks)
		rv := s.WithMemory(rec)
		rv.Runqueues(context.Background(), kernel.RunqueueOptions{Queues: true})
		rv.RunqueueGroups(context.Background(), nil)
		// The scheduler links of every task, so that the fuzzer can
		// queue tasks the dump had not queued.
		if t, err := s.Types(); err == nil {
			for _, m := range []string{"task_struct.se.run_node", "task_struct.rt.run_list", "task_struct.tasks"} {
				if off, err := t.Offset(m); err == nil {
					for _, task := range tasks {
						for i := uint64(0); i < 3; i++ {
							rec.record[task+uint64(off)+8*i] = true
						}
					}
				}
			}
		}
		for a := range rec.record {
			b.targets = append(b.targets, a)
		}
		sort.Slice(b.targets, func(i, j int) bool { return b.targets[i] < b.targets[j] })
		walkBed = b
	})
	if walkBedErr != nil {
		f.Fatal(walkBedErr)
	}
	return walkBed
}

// patches decodes fuzz input: records of [target index, mode, value u64].
func (b *walkFuzzBed) patches(data []byte) map[uint64]uint64 {
	p := map[uint64]uint64{}
	n := uint64(len(b.targets))
	for len(data) >= 10 && n > 0 {
		idx := uint64(data[0]) % n
		mode := data[1] % 4
		v := binary.LittleEndian.Uint64(data[2:10])
		data = data[10:]
		switch mode {
		case 1: // point at another link word
			v = b.targets[v%n]
		case 2: // near one: a misaligned or off-by-a-field pointer
			v = b.targets[v%n] + v>>56
		case 3: // the field this word is in, as a pointer to itself
			v = b.targets[idx]
		}
		p[b.targets[idx]] = v
	}
	return p
}

func walkSeeds(f *testing.F, b *walkFuzzBed) {
	f.Add([]byte{})
	for i := range min(len(b.targets), 40) {
		// Each link pointing at itself, at its neighbour, and at NULL.
		f.Add([]byte{byte(i), 3, 0, 0, 0, 0, 0, 0, 0, 0})
		f.Add([]byte{byte(i), 1, byte(i + 1), 0, 0, 0, 0, 0, 0, 0})
		f.Add([]byte{byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0})
	}
}

// readBudget bounds the reads of one walk: a clean walk of the test bed
// needs a few thousand; a guard that fails lets the walk run into it.
const readBudget = 1 << 20

func FuzzTaskWalk(f *testing.F) {
	b := openWalkFuzzBed(f)
	walkSeeds(f, b)
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMemory{base: b.s.Mem, patch: b.patches(data), limitOK: readBudget}
		n := 0
		err := b.s.WithMemory(mem).ForEachTask(context.Background(), func(uint64) error { n++; return nil })
		if errors.Is(err, errReadBudget) {
			t.Fatalf("task walk did not end within %d reads (%d tasks so far)", readBudget, n)
		}
	})
}

func FuzzRunqueueWalk(f *testing.F) {
	b := openWalkFuzzBed(f)
	walkSeeds(f, b)
	ncpu, err := b.s.NumCPUs()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &fuzzMemory{base: b.s.Mem, patch: b.patches(data), limitOK: readBudget}
		v := b.s.WithMemory(mem)
		for cpu := range ncpu {
			rqs, err := v.Runqueues(context.Background(), kernel.RunqueueOptions{CPUs: map[int]bool{cpu: true}, Queues: true})
			if errors.Is(err, errReadBudget) {
				t.Fatalf("cpu %d runqueue walk did not end within %d reads", cpu, readBudget)
			}
			// Each queued entry is a task of the table, on one RT list
			// and one CFS tree at most.
			if tt, err := v.Tasks(context.Background()); err == nil {
				for _, rq := range rqs {
					if len(rq.RT) > tt.Len() || len(rq.CFS) > tt.Len() {
						t.Fatalf("cpu %d: %d RT and %d CFS entries for %d tasks", cpu, len(rq.RT), len(rq.CFS), tt.Len())
					}
				}
			}
			mem.limitOK = readBudget
		}
		if _, err := v.RunqueueGroups(context.Background(), nil); errors.Is(err, errReadBudget) {
			t.Fatalf("runq -g walk did not end within %d reads", readBudget)
		}
		mem.limitOK = readBudget
		if _, err := v.TasksOnRunqueue(context.Background(), nil); errors.Is(err, errReadBudget) {
			t.Fatalf("runq -d walk did not end within %d reads", readBudget)
		}
	})
}

// TestEvalPowerBounded: crash's '#' (power) over the whole uint64 range of
// exponents answers at once and as crash's repeated multiplication would.
func TestEvalPowerBounded(t *testing.T) {
	naive := func(a, b uint64) uint64 {
		r := uint64(1)
		for ; b > 0; b-- {
			r *= a
		}
		return r
	}
	for _, a := range []uint64{0, 1, 2, 3, 7, 0xffffffffffffffff} {
		for _, b := range []uint64{0, 1, 2, 5, 63, 64, 65, 1000} {
			got, err := EvalAddress(fmt.Sprintf("(%d#%d)", a, b), nil)
			if err != nil || got != naive(a, b) {
				t.Errorf("(%d#%d) = %d, %v; want %d", a, b, got, err, naive(a, b))
			}
		}
	}
	// 3 is odd, so 3^n mod 2^64 never vanishes; the answer is quick.
	start := time.Now()
	if v, err := EvalAddress("(3#ffffffffffffffff)", nil); err != nil || v == 0 {
		t.Errorf("(3#ffffffffffffffff) = %#x, %v", v, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("(3#ffffffffffffffff) took %v", d)
	}
}
