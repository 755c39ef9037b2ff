package commands

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/kernel"
)

// patchedDump copies the ELF dump d and overwrites 8-byte words of kernel
// memory in the copy (kernel virtual address → value): a runqueue shaped
// as the test needs, which both crash and gocrash then read. The
// translation uses the original dump's page tables; only PT_LOAD data is
// touched.
func patchedDump(t *testing.T, s *Session, path string, words map[uint64]uint64) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(t.TempDir(), "vmcore.patched")
	copyFile(t, path, out)
	dst, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for va, v := range words {
		pa, err := s.Mem.VirtToPhys(va)
		if err != nil {
			t.Fatalf("patch %#x: %v", va, err)
		}
		var off int64 = -1
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && pa >= p.Paddr && pa+8 <= p.Paddr+p.Filesz {
				off = int64(p.Off + pa - p.Paddr)
				break
			}
		}
		if off < 0 {
			t.Fatalf("patch %#x (physical %#x): not in the dump's data", va, pa)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		if _, err := dst.WriteAt(b[:], off); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// schedLayout are the scheduler offsets the patches are made with.
type schedLayout struct {
	taskRT, taskSE, rtseList, rtseMyQ, rtQueue, rtActive, listSize, listNext, listPrev int64
	seMyQ, seRunNode, cfsRoot, cfsLeftmost, rbParent, rbLeft, rbRight                  int64
}

func schedOffsets(t *testing.T, s *Session) schedLayout {
	t.Helper()
	ty, err := s.Types()
	if err != nil {
		t.Fatal(err)
	}
	l := schedLayout{rtseMyQ: -1, seMyQ: -1}
	for _, f := range []struct {
		dst  *int64
		path string
	}{
		{&l.taskRT, "task_struct.rt"}, {&l.taskSE, "task_struct.se"}, {&l.rtseList, "sched_rt_entity.run_list"},
		{&l.rtQueue, "rt_prio_array.queue"}, {&l.rtActive, "rt_rq.active"}, {&l.listNext, "list_head.next"},
		{&l.listPrev, "list_head.prev"}, {&l.seRunNode, "sched_entity.run_node"},
		{&l.cfsRoot, "cfs_rq.tasks_timeline.rb_root.rb_node"}, {&l.cfsLeftmost, "cfs_rq.tasks_timeline.rb_leftmost"},
		{&l.rbParent, "rb_node.__rb_parent_color"}, {&l.rbLeft, "rb_node.rb_left"}, {&l.rbRight, "rb_node.rb_right"},
	} {
		if *f.dst, err = ty.Offset(f.path); err != nil {
			t.Fatal(err)
		}
	}
	if l.listSize, err = ty.SizeOf("list_head"); err != nil {
		t.Fatal(err)
	}
	if o, err := ty.Offset("sched_rt_entity.my_q"); err == nil {
		l.rtseMyQ = o
	}
	if o, err := ty.Offset("sched_entity.my_q"); err == nil {
		l.seMyQ = o
	}
	return l
}

// runqShapedPatches queues, on the sample dump, one sleeping task on
// cpu 0's real-time queue 10 and turns the CFS entity of the task queued
// on cpu 0 into a group entity whose queue is cpu 1's cfs_rq, made to
// hold one more task: the RT and group walks on data crash also reads.
func runqShapedPatches(t *testing.T, s *Session) map[uint64]uint64 {
	t.Helper()
	l := schedOffsets(t, s)
	tt, err := s.taskTable()
	if err != nil {
		t.Fatal(err)
	}
	byComm := func(comm string) *Task {
		for i := range tt.tasks {
			if tt.tasks[i].Comm == comm {
				return &tt.tasks[i]
			}
		}
		t.Fatalf("no task %q in the sample dump", comm)
		return nil
	}
	rq0, err := s.Runqueue(0)
	if err != nil {
		t.Fatal(err)
	}
	rq1, err := s.Runqueue(1)
	if err != nil {
		t.Fatal(err)
	}
	rqs, err := s.Runqueues(context.Background(), kernel.RunqueueOptions{CPUs: map[int]bool{0: true}, Queues: true})
	if err != nil {
		t.Fatal(err)
	}
	queued := rqs[0].CFS
	if len(queued) != 1 || l.seMyQ < 0 {
		t.Fatalf("sample dump: cpu 0 has %d CFS tasks queued (want 1), my_q at %d", len(queued), l.seMyQ)
	}
	words := map[uint64]uint64{}
	// RT: kthreadd alone on queue[10].
	rt := byComm("kthreadd").Addr + uint64(l.taskRT+l.rtseList)
	head := rq0.RTArray + uint64(l.rtQueue) + 10*uint64(l.listSize)
	words[head+uint64(l.listNext)] = rt
	words[head+uint64(l.listPrev)] = rt
	words[rt+uint64(l.listNext)] = head
	words[rt+uint64(l.listPrev)] = head
	// RT group: kthreadd's entity becomes a group whose queue is cpu 1's
	// rt_rq, holding rcu_sched on queue[20].
	if l.rtseMyQ >= 0 {
		words[rt-uint64(l.rtseList)+uint64(l.rtseMyQ)] = rq1.RTArray - uint64(l.rtActive)
		rt2 := byComm("rcu_sched").Addr + uint64(l.taskRT+l.rtseList)
		head2 := rq1.RTArray + uint64(l.rtQueue) + 20*uint64(l.listSize)
		words[head2+uint64(l.listNext)] = rt2
		words[head2+uint64(l.listPrev)] = rt2
		words[rt2+uint64(l.listNext)] = head2
		words[rt2+uint64(l.listPrev)] = head2
	}
	// CFS: the queued entity becomes a group whose queue is cpu 1's
	// cfs_rq, made to hold a sleeper.
	se := queued[0].Task + uint64(l.taskSE)
	words[se+uint64(l.seMyQ)] = rq1.CFSRq
	node := byComm("sleep").Addr + uint64(l.taskSE+l.seRunNode)
	words[rq1.CFSRq+uint64(l.cfsRoot)] = node
	words[rq1.CFSRq+uint64(l.cfsLeftmost)] = node
	words[node+uint64(l.rbParent)] = 0
	words[node+uint64(l.rbLeft)] = 0
	words[node+uint64(l.rbRight)] = 0
	return words
}

// crash 8.0.6's answers on the 6.1-sysrq ELF dump patched by
// runqShapedPatches (recorded by hand: the patched copy is made by the
// test). The queued kthreadd shows as a group on cpu 0's RT queue 10
// holding rcu_sched at 20, the CFS entity as a group holding "sleep"; the
// flattened runq and the -g tree with its TASK_GROUP headers.
const (
	patchedRunq = `CPU 0 RUNQUEUE: ff2c138f0e820840
  CURRENT: PID: 1      TASK: ff2c138f00198000  COMMAND: "init"
  RT PRIO_ARRAY: ff2c138f0e820a40
     [ 20] PID: 11     TASK: ff2c138f001bd200  COMMAND: "rcu_sched"
  CFS RB_ROOT: ff2c138f0e8208f0
     [120] PID: 49     TASK: ff2c138f00aed200  COMMAND: "sleep"

CPU 1 RUNQUEUE: ff2c138f0e920840
  CURRENT: PID: 56     TASK: ff2c138f00a4d200  COMMAND: "sh"
  RT PRIO_ARRAY: ff2c138f0e920a40
     [ 20] PID: 11     TASK: ff2c138f001bd200  COMMAND: "rcu_sched"
  CFS RB_ROOT: ff2c138f0e9208f0
     [120] PID: 49     TASK: ff2c138f00aed200  COMMAND: "sleep"
`
	patchedRunqG = `CPU 0
  CURRENT: PID: 1      TASK: ff2c138f00198000  COMMAND: "init"
  ROOT_TASK_GROUP: ffffffff900c7b00  RT_RQ: ff2c138f0e820a40
     [ 10] TASK_GROUP: ffffffff900c7b00  RT_RQ: ff2c138f0e920a40 </>
           [ 20] PID: 11     TASK: ff2c138f001bd200  COMMAND: "rcu_sched"
  ROOT_TASK_GROUP: ffffffff900c7b00  CFS_RQ: ff2c138f0e8208c0
     [120] PID: 1      TASK: ff2c138f00198000  COMMAND: "init" [CURRENT]
     TASK_GROUP: ffffffff900c7b00  CFS_RQ: ff2c138f0e9208c0  </>
        [120] PID: 49     TASK: ff2c138f00aed200  COMMAND: "sleep"

CPU 1
  CURRENT: PID: 56     TASK: ff2c138f00a4d200  COMMAND: "sh"
  ROOT_TASK_GROUP: ffffffff900c7b00  RT_RQ: ff2c138f0e920a40
     [ 20] PID: 11     TASK: ff2c138f001bd200  COMMAND: "rcu_sched"
  ROOT_TASK_GROUP: ffffffff900c7b00  CFS_RQ: ff2c138f0e9208c0
     [120] PID: 56     TASK: ff2c138f00a4d200  COMMAND: "sh" [CURRENT]
     [120] PID: 49     TASK: ff2c138f00aed200  COMMAND: "sleep"
`
)

// Real-time entries, group entities of both classes and the -g tree, on
// a real dump made to hold them, compared with crash's answers.
func TestRunqGroupsPatchedDump(t *testing.T) {
	// TODO(kernel): the answers above were crash's on a patched copy of
	// the previous 6.1-sysrq dump; the regenerated dumps hold a real
	// SCHED_FIFO task and the gocrash cpu group, and runq_test.go
	// compares runq and runq -g with crash's own answers on every dump.
	// Record crash on a patched copy of the new dump, or remove this.
	t.Skip("crash's answers here are of a patched copy of the previous 6.1-sysrq dump (TODO(kernel)); runq -g and the RT queues are compared on the real regenerated dumps in runq_test.go")
	d := testbed.Open(t, "6.1-sysrq", "elf")
	s := openTestbed(t, d)
	defer s.Close()
	path := patchedDump(t, s, d.Vmcore, runqShapedPatches(t, s))
	ps, err := Open(d.Vmlinux, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	// The recorded answers name the test bed's dump of the time: when the
	// test bed is made again, its addresses and pids replace those.
	repl := patchedReplacer(t, ps)
	for _, c := range []struct{ cmd, want string }{{"runq", patchedRunq}, {"runq -g", patchedRunqG}} {
		var b bytes.Buffer
		if err := Run(ps, c.cmd, &b); err != nil {
			t.Fatalf("%s: %v", c.cmd, err)
		}
		if want := repl.Replace(c.want); b.String() != want {
			t.Errorf("%s on the patched dump differs from crash:\n%s", c.cmd, lineDiff(want, b.String()))
		}
	}
}

// patchedReplacer maps the recorded dump's addresses and pid columns to
// the current test bed's.
func patchedReplacer(t *testing.T, s *Session) *strings.Replacer {
	t.Helper()
	tt, err := s.taskTable()
	if err != nil {
		t.Fatal(err)
	}
	cur1, err := s.ActiveTask(1)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	task := func(comm, addr string, pid int64) {
		for i := range tt.tasks {
			// Of the many "sh", the one running on cpu 1.
			if tt.tasks[i].Comm == comm && (comm != "sh" || tt.tasks[i].Addr == cur1) {
				pairs = append(pairs,
					fmt.Sprintf("PID: %-5d  TASK: %s  COMMAND: \"%s\"", pid, addr, comm),
					fmt.Sprintf("PID: %-5d  TASK: %x  COMMAND: \"%s\"", tt.tasks[i].PID, tt.tasks[i].Addr, comm))
				return
			}
		}
		t.Fatalf("no task %q", comm)
	}
	task("init", "ff2c138f00198000", 1)
	task("rcu_sched", "ff2c138f001bd200", 11)
	task("sleep", "ff2c138f00aed200", 49)
	task("sh", "ff2c138f00a4d200", 56)
	rq0, err := s.Runqueue(0)
	if err != nil {
		t.Fatal(err)
	}
	rq1, err := s.Runqueue(1)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := s.Vmlinux.Lookup("root_task_group")
	for _, p := range []struct {
		old string
		v   uint64
	}{
		{"ff2c138f0e820840", rq0.Addr}, {"ff2c138f0e920840", rq1.Addr},
		{"ff2c138f0e820a40", rq0.RTArray}, {"ff2c138f0e920a40", rq1.RTArray},
		{"ff2c138f0e8208f0", rq0.CFSRoot}, {"ff2c138f0e9208f0", rq1.CFSRoot},
		{"ff2c138f0e8208c0", rq0.CFSRq}, {"ff2c138f0e9208c0", rq1.CFSRq},
		{"ffffffff900c7b00", root},
	} {
		pairs = append(pairs, p.old, fmt.Sprintf("%x", p.v))
	}
	return strings.NewReplacer(pairs...)
}
