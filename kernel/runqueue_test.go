package kernel

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/symbols"
)

// patchMem is a kernel memory with some 8-byte words replaced: how the
// corruption tests break a real runqueue without touching the dump.
type patchMem struct {
	under symbols.Memory
	words map[uint64]uint64
}

func (m *patchMem) ReadVirt(p []byte, addr uint64) error {
	if m.under != nil {
		if err := m.under.ReadVirt(p, addr); err != nil {
			return err
		}
	} else {
		clear(p)
	}
	for a, v := range m.words {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], v)
		for i := range 8 {
			if a+uint64(i) >= addr && a+uint64(i) < addr+uint64(len(p)) {
				p[a+uint64(i)-addr] = w[i]
			}
		}
	}
	return nil
}

// A hand-made tree: the walker must give the in-order sequence through
// parent pointers alone, like rb_next.
func TestRBWalkOrder(t *testing.T) {
	l := &rqLayout{rbParent: 0, rbRight: 8, rbLeft: 16}
	mem := &patchMem{words: map[uint64]uint64{}}
	node := func(n, parent, left, right uint64) {
		mem.words[n] = parent | 1 // colour bit must be masked
		mem.words[n+8] = right
		mem.words[n+16] = left
	}
	//        40
	//      /    \
	//    20      60
	//   /  \       \
	//  10  30       70
	//      /
	//     25
	const b = 0xffff888000001000
	node(b+40*64, 0, b+20*64, b+60*64)
	node(b+20*64, b+40*64, b+10*64, b+30*64)
	node(b+10*64, b+20*64, 0, 0)
	node(b+30*64, b+20*64, b+25*64, 0)
	node(b+25*64, b+30*64, 0, 0)
	node(b+60*64, b+40*64, 0, b+70*64)
	node(b+70*64, b+60*64, 0, 0)
	const root = b
	mem.words[root] = b + 40*64
	w := &runqueueWalker{mem: mem, l: l}
	var got []uint64
	if err := w.walkRB(root, map[uint64]bool{}, func(n uint64) error {
		got = append(got, (n-b)/64)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []uint64{10, 20, 25, 30, 40, 60, 70}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// Corrupt trees and lists end the walk with an error naming the damage.
func TestRBWalkCorrupt(t *testing.T) {
	l := &rqLayout{rbParent: 0, rbRight: 8, rbLeft: 16, listNext: 0, listPrev: 8}
	const b = 0xffff888000002000
	for _, c := range []struct {
		name  string
		words map[uint64]uint64
		want  string
	}{
		{"left cycle", map[uint64]uint64{b: b + 64, b + 64 + 16: b + 64}, "levels below"},
		{"right to itself", map[uint64]uint64{b: b + 64, b + 64 + 8: b + 64}, "reached twice"},
		// A parent pointer back into the walked part of the tree.
		{"parent back to the root", map[uint64]uint64{b: b + 64, b + 64 + 16: b + 128, b + 128: b + 64,
			b + 64: b + 192, b + 192 + 16: b + 64, b + 192 + 8: b + 128}, "reached twice"},
	} {
		mem := &patchMem{words: c.words}
		w := &runqueueWalker{mem: mem, l: l}
		n := 0
		err := w.walkRB(b, map[uint64]bool{}, func(uint64) error { n++; return nil })
		if !errors.Is(err, ErrCorruptRunqueue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v after %d nodes, want corrupt runqueue %q", c.name, err, n, c.want)
		}
	}
	lists := []struct {
		name  string
		words map[uint64]uint64
		want  string
	}{
		{"cycle", map[uint64]uint64{b: b + 64, b + 64: b + 128, b + 128: b + 64}, "reached twice"},
		{"NULL", map[uint64]uint64{b: b + 64, b + 64: 0}, "NULL next"},
	}
	for _, c := range lists {
		w := &runqueueWalker{mem: &patchMem{words: c.words}, l: l}
		err := w.walkList(b, map[uint64]bool{}, func(uint64) error { return nil })
		if !errors.Is(err, ErrCorruptRunqueue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("list %s: err = %v, want corrupt runqueue %q", c.name, err, c.want)
		}
	}
}

// A real runqueue broken in memory: the command fails with one clear
// line, after printing what it could read.
func TestRunqCorruptRealDump(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(t, d)
	w, err := s.runqueueWalker()
	if err != nil {
		t.Fatal(err)
	}
	rqAddr, err := s.RunqueueAddr(0)
	if err != nil {
		t.Fatal(err)
	}
	rq, err := w.runqueue(0, rqAddr)
	if err != nil {
		t.Fatal(err)
	}
	l := w.l
	var tasks []QueuedTask
	if err := w.CFSTasks(rq.CFSRq, func(q QueuedTask) error { tasks = append(tasks, q); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tasks) == 0 {
		t.Fatal("cpu 0 has no queued CFS task in the sample dump")
	}
	node := tasks[0].Task + uint64(l.taskSE+l.seRunNode)
	se := tasks[0].Task + uint64(l.taskSE)
	rtHead := rq.RTArray + uint64(l.rtQueue) + 50*uint64(l.listSize)
	// A real sched_rt_entity (of a CFS task: its my_q is NULL) made to
	// point to itself.
	rtEnt := tasks[0].Task + uint64(l.taskRT+l.rtseList)
	for _, c := range []struct {
		name  string
		words map[uint64]uint64
		rt    bool
		want  string
	}{
		{"rb_right to itself", map[uint64]uint64{node + uint64(l.rbRight): node}, false, "reached twice"},
		{"rb_left to itself", map[uint64]uint64{node + uint64(l.rbLeft): node}, false, "levels below"},
		{"group entity whose queue is its own cfs_rq", map[uint64]uint64{se + uint64(l.seMyQ): rq.CFSRq}, false, "reached twice through sched_entity.my_q"},
		{"rt list that never returns", map[uint64]uint64{
			rtHead + uint64(l.listNext): rtEnt, rtEnt + uint64(l.listNext): rtEnt,
		}, true, "reached twice without returning"},
	} {
		if l.seMyQ < 0 && strings.Contains(c.name, "group") {
			continue
		}
		pm := &patchMem{under: s.Mem, words: c.words}
		cw := &runqueueWalker{mem: pm, l: l}
		fn := func(QueuedTask) error { return nil }
		if c.rt {
			err = cw.RTTasks(rq.RTArray, fn)
		} else {
			err = cw.CFSTasks(rq.CFSRq, fn)
		}
		if !errors.Is(err, ErrCorruptRunqueue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want corrupt runqueue %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", c.name, err)
		}
	}
}
