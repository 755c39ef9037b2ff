package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// Runqueue walkers: cpu_rq(cpu) is cpu's copy of the per-cpu variable
// runqueues (kernel/sched/sched.h); its CFS tasks hang in the red-black
// tree cfs_rq->tasks_timeline, its real-time tasks in the lists of
// rt_rq->active.queue[prio]. With group scheduling an entity on either
// queue may be a group (sched_entity.my_q, sched_rt_entity.my_q), whose
// own queue holds the tasks.
//
// Every offset comes from DWARF, so the walkers read 6.1 and 6.12 alike.
// Every walk is bounded and notices cycles: a corrupt runqueue ends the
// walk with an error naming the address, never a hang.

// rbMaxHeight bounds one descent or climb in a red-black tree: a tree of
// n nodes is at most 2*log2(n+1) high, 44 for the 4M tasks pid_max allows.
const rbMaxHeight = 128

// maxGroupDepth bounds the nesting of task groups (my_q chains); the
// kernel's own limit on cgroup depth is far lower in practice.
const maxGroupDepth = 64

// rqLayout holds the offsets the runqueue walkers read by.
type rqLayout struct {
	rqCurr, rqClock, rqCFS, rqRT int64

	cfsTimeline int64 // cfs_rq.tasks_timeline: an rb_root or rb_root_cached
	cfsRoot     int64 // cfs_rq's rb_root.rb_node
	cfsLeftmost int64 // cfs_rq's cached leftmost node
	cfsCurr     int64 // cfs_rq.curr

	seRunNode int64 // sched_entity.run_node
	seMyQ     int64 // sched_entity.my_q; -1 without CONFIG_FAIR_GROUP_SCHED

	rbParent, rbRight, rbLeft int64 // rb_node members

	rtActive int64 // rt_rq.active
	rtQueue  int64 // rt_prio_array.queue
	rtQueues int   // its length, MAX_RT_PRIO
	listSize int64 // sizeof(struct list_head)
	listNext int64
	listPrev int64
	rtseList int64 // sched_rt_entity.run_list
	rtseMyQ  int64 // sched_rt_entity.my_q; -1 without CONFIG_RT_GROUP_SCHED
	taskSE   int64 // task_struct.se
	taskRT   int64 // task_struct.rt
	taskPrio int64 // task_struct.prio
	lastRun  int64 // what crash's task_last_run reads; -1 when none exists
	hasClock bool
}

// runqueueLayout reads the scheduler's layout from DWARF.
func (k *Kernel) runqueueLayout() (*rqLayout, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	l := &rqLayout{seMyQ: -1, rtseMyQ: -1, lastRun: -1}
	req := []struct {
		dst  *int64
		path string
	}{
		{&l.rqCurr, "rq.curr"},
		{&l.rqCFS, "rq.cfs"},
		{&l.rqRT, "rq.rt"},
		{&l.cfsTimeline, "cfs_rq.tasks_timeline"},
		{&l.cfsCurr, "cfs_rq.curr"},
		{&l.seRunNode, "sched_entity.run_node"},
		{&l.rbParent, "rb_node.__rb_parent_color"},
		{&l.rbRight, "rb_node.rb_right"},
		{&l.rbLeft, "rb_node.rb_left"},
		{&l.rtActive, "rt_rq.active"},
		{&l.rtQueue, "rt_prio_array.queue"},
		{&l.listNext, "list_head.next"},
		{&l.listPrev, "list_head.prev"},
		{&l.rtseList, "sched_rt_entity.run_list"},
		{&l.taskSE, "task_struct.se"},
		{&l.taskRT, "task_struct.rt"},
		{&l.taskPrio, "task_struct.prio"},
	}
	for _, r := range req {
		if *r.dst, err = t.Offset(r.path); err != nil {
			return nil, fmt.Errorf("scheduler layout: %w", err)
		}
	}
	// Since 4.14 the tree is an rb_root_cached that keeps its leftmost
	// node; before, cfs_rq had its own rb_leftmost (crash's
	// cfs_rq_offset_init accepts both).
	l.cfsRoot = l.cfsTimeline
	if m, err := t.Member("cfs_rq", "tasks_timeline.rb_root.rb_node"); err == nil {
		l.cfsRoot = m.Offset
		lm, err := t.Member("cfs_rq", "tasks_timeline.rb_leftmost")
		if err != nil {
			return nil, fmt.Errorf("scheduler layout: %w", err)
		}
		l.cfsLeftmost = lm.Offset
	} else if lm, err := t.Offset("cfs_rq.rb_leftmost"); err == nil {
		l.cfsLeftmost = lm
	} else {
		return nil, fmt.Errorf("scheduler layout: cfs_rq has neither tasks_timeline.rb_leftmost nor rb_leftmost")
	}
	if o, err := t.Offset("sched_entity.my_q"); err == nil {
		l.seMyQ = o
	}
	if o, err := t.Offset("sched_rt_entity.my_q"); err == nil {
		l.rtseMyQ = o
	}
	// rq's timestamp and a task's last run, as crash picks them
	// (kernel.c: rq.clock; task.c task_last_run: last_run, timestamp,
	// sched_info.last_arrival).
	if o, err := t.Offset("rq.clock"); err == nil {
		l.rqClock, l.hasClock = o, true
	}
	for _, p := range []string{"task_struct.last_run", "task_struct.timestamp", "task_struct.sched_info.last_arrival"} {
		if o, err := t.Offset(p); err == nil {
			l.lastRun = o
			break
		}
	}
	m, err := t.Member("rt_prio_array", "queue")
	if err != nil {
		return nil, fmt.Errorf("scheduler layout: %w", err)
	}
	at, ok := m.Type.(*godwarf.ArrayType)
	if !ok || at.Count <= 0 {
		return nil, fmt.Errorf("scheduler layout: rt_prio_array.queue is not a sized array")
	}
	l.rtQueues = int(at.Count)
	if l.listSize, err = t.SizeOf("list_head"); err != nil {
		return nil, fmt.Errorf("scheduler layout: %w", err)
	}
	return l, nil
}

// RunqueueAddr is cpu_rq(cpu): the address of cpu's struct rq.
func (k *Kernel) RunqueueAddr(cpu int) (uint64, error) {
	rq, err := k.PerCPU("runqueues", cpu)
	if err != nil {
		return 0, err
	}
	return rq.Addr, nil
}

// A Runqueue is one cpu's struct rq and the queues inside it.
type Runqueue struct {
	CPU     int
	Addr    uint64 // struct rq
	Curr    uint64 // rq->curr, the task running at the time of the dump
	Clock   uint64 // rq->clock, ns (0 when the kernel has none)
	RTArray uint64 // &rq->rt.active, the root rt_prio_array
	CFSRq   uint64 // &rq->cfs, the root cfs_rq
	CFSRoot uint64 // &rq->cfs.tasks_timeline

	// CurrLastRun is the running task's last-run timestamp (TaskLastRun),
	// read with RunqueueOptions.LastRun when Curr is a known task.
	CurrLastRun uint64
	// RT and CFS are the tasks queued (RunqueueOptions.Queues), in crash's
	// order; entries that are not tasks of the task table are left out,
	// as crash leaves them out.
	RT, CFS []QueuedTask

	// How far the walk got: Runqueues returns the runqueue a walk failed
	// on with its error, these telling what of it was read.
	LastRunRead, RTWalked, CFSWalked bool
}

// A QueuedTask is one task found on a runqueue.
type QueuedTask struct {
	Task uint64
	PID  int64
	Comm string
	// Prio is the rt_prio_array index the task was queued at (the
	// priority crash prints for RT tasks); task_struct.prio for CFS tasks.
	Prio int
	// Depth is the number of task groups above the task's queue.
	Depth int
}

// runqueueWalker reads runqueues through mem, which is the session's
// kernel memory except in tests that corrupt it.
type runqueueWalker struct {
	mem symbols.Memory
	l   *rqLayout
}

func (k *Kernel) runqueueWalker() (*runqueueWalker, error) {
	l, err := k.runqueueLayout()
	if err != nil {
		return nil, err
	}
	return &runqueueWalker{mem: k.memory(), l: l}, nil
}

func (w *runqueueWalker) ptr(addr uint64, what string) (uint64, error) {
	var b [8]byte
	if err := w.mem.ReadVirt(b[:], addr); err != nil {
		return 0, fmt.Errorf("reading %s at %#x: %w", what, addr, err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (w *runqueueWalker) u64(addr uint64, what string) (uint64, error) { return w.ptr(addr, what) }

func (w *runqueueWalker) i32(addr uint64, what string) (int32, error) {
	var b [4]byte
	if err := w.mem.ReadVirt(b[:], addr); err != nil {
		return 0, fmt.Errorf("reading %s at %#x: %w", what, addr, err)
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// runqueue reads the top of cpu's rq at addr.
func (w *runqueueWalker) runqueue(cpu int, addr uint64) (Runqueue, error) {
	rq := Runqueue{CPU: cpu, Addr: addr,
		RTArray: addr + uint64(w.l.rqRT+w.l.rtActive),
		CFSRq:   addr + uint64(w.l.rqCFS),
		CFSRoot: addr + uint64(w.l.rqCFS+w.l.cfsTimeline)}
	var err error
	if rq.Curr, err = w.ptr(addr+uint64(w.l.rqCurr), fmt.Sprintf("cpu %d rq->curr", cpu)); err != nil {
		return rq, err
	}
	if w.l.hasClock {
		if rq.Clock, err = w.u64(addr+uint64(w.l.rqClock), fmt.Sprintf("cpu %d rq->clock", cpu)); err != nil {
			return rq, err
		}
	}
	return rq, nil
}

// Runqueue reads the top of cpu's runqueue (no queues).
func (k *Kernel) Runqueue(cpu int) (Runqueue, error) {
	w, err := k.runqueueWalker()
	if err != nil {
		return Runqueue{}, err
	}
	return k.cpuRunqueue(w, cpu)
}

// cpuRunqueue reads the top of cpu_rq(cpu).
func (k *Kernel) cpuRunqueue(w *runqueueWalker, cpu int) (Runqueue, error) {
	addr, err := k.RunqueueAddr(cpu)
	if err != nil {
		return Runqueue{}, err
	}
	return w.runqueue(cpu, addr)
}

// ErrCorruptRunqueue marks a structure that cannot be what the kernel left: a
// cycle, a tree too deep, a NULL where a list must go on.
var ErrCorruptRunqueue = errors.New("corrupt runqueue")

func corruptf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCorruptRunqueue, fmt.Sprintf(format, a...))
}

// rbTree walks one red-black tree in order (rb_first, then rb_next
// through the parent pointers, as the kernel and crash do).
type rbTree struct {
	w    *runqueueWalker
	root uint64 // address of the rb_root, for messages
}

func (r *rbTree) node(n uint64) (parent, right, left uint64, err error) {
	// An rb_node is three words; read it whole.
	var b [24]byte
	if r.w.l.rbParent > 16 || r.w.l.rbRight > 16 || r.w.l.rbLeft > 16 {
		return 0, 0, 0, fmt.Errorf("rb_node layout: unexpected member offsets")
	}
	if err := r.w.mem.ReadVirt(b[:], n); err != nil {
		return 0, 0, 0, fmt.Errorf("rb-tree %#x: reading rb_node at %#x: %w", r.root, n, err)
	}
	parent = binary.LittleEndian.Uint64(b[r.w.l.rbParent:]) &^ 3
	right = binary.LittleEndian.Uint64(b[r.w.l.rbRight:])
	left = binary.LittleEndian.Uint64(b[r.w.l.rbLeft:])
	return parent, right, left, nil
}

// leftmost descends from n along rb_left.
func (r *rbTree) leftmost(n uint64) (uint64, error) {
	for h := 0; ; h++ {
		if h > rbMaxHeight {
			return 0, corruptf("rb-tree %#x: more than %d levels below %#x (a cycle of rb_left pointers?)", r.root, rbMaxHeight, n)
		}
		_, _, left, err := r.node(n)
		if err != nil {
			return 0, err
		}
		if left == 0 {
			return n, nil
		}
		n = left
	}
}

// next is rb_next(n) (lib/rbtree.c), 0 at the end.
func (r *rbTree) next(n uint64) (uint64, error) {
	parent, right, _, err := r.node(n)
	if err != nil {
		return 0, err
	}
	if parent == n { // RB_EMPTY_NODE: a node taken out of its tree
		return 0, nil
	}
	if right != 0 {
		return r.leftmost(right)
	}
	for h := 0; parent != 0; h++ {
		if h > rbMaxHeight {
			return 0, corruptf("rb-tree %#x: more than %d levels above %#x (a cycle of parent pointers?)", r.root, rbMaxHeight, n)
		}
		_, pright, _, err := r.node(parent)
		if err != nil {
			return 0, err
		}
		if n != pright {
			break
		}
		n = parent
		if parent, _, _, err = r.node(n); err != nil {
			return 0, err
		}
	}
	return parent, nil
}

// walkRB calls fn with each node of the tree whose root pointer
// (rb_root.rb_node) is at rootPtr, in order. seen is shared by the trees
// of one runqueue: a node met twice is a cycle.
func (w *runqueueWalker) walkRB(rootPtr uint64, seen map[uint64]bool, fn func(node uint64) error) error {
	r := &rbTree{w: w, root: rootPtr}
	top, err := w.ptr(rootPtr, "rb_root")
	if err != nil {
		return err
	}
	if top == 0 {
		return nil
	}
	n, err := r.leftmost(top)
	if err != nil {
		return err
	}
	for n != 0 {
		if seen[n] {
			return corruptf("rb-tree %#x: node %#x reached twice (a cycle)", rootPtr, n)
		}
		if len(seen) >= MaxListEntries {
			return corruptf("rb-tree %#x: more than %d nodes", rootPtr, MaxListEntries)
		}
		seen[n] = true
		if err := fn(n); err != nil {
			return err
		}
		if n, err = r.next(n); err != nil {
			return err
		}
	}
	return nil
}

// walkList calls fn with each entry (the list_head's address) of the
// circular list whose head is at head, from head.next round to head.
// seen is shared by the lists of one runqueue.
func (w *runqueueWalker) walkList(head uint64, seen map[uint64]bool, fn func(node uint64) error) error {
	node, err := w.ptr(head+uint64(w.l.listNext), "list_head.next")
	if err != nil {
		return err
	}
	for node != head {
		if node == 0 {
			return corruptf("list %#x: NULL next pointer", head)
		}
		if seen[node] {
			return corruptf("list %#x: entry %#x reached twice without returning to the head (a cycle)", head, node)
		}
		if len(seen) >= MaxListEntries {
			return corruptf("list %#x: more than %d entries", head, MaxListEntries)
		}
		seen[node] = true
		if err := fn(node); err != nil {
			return err
		}
		if node, err = w.ptr(node+uint64(w.l.listNext), "list_head.next"); err != nil {
			return err
		}
	}
	return nil
}

// CFSTasks calls fn with the tasks queued on the cfs_rq at cfsRq in the
// order crash's runq prints them (task.c dump_tasks_in_cfs_rq): first the
// tasks under the running entity when that is a group, then the tree in
// vruntime order, each group entity replaced by its own queue's tasks.
// The running task itself is not in the tree (put_prev_entity puts it
// back only when it stops running) and is not reported.
func (w *runqueueWalker) CFSTasks(cfsRq uint64, fn func(QueuedTask) error) error {
	st := &walkState{seen: map[uint64]bool{}, queues: map[uint64]bool{}}
	return w.cfsTasks(cfsRq, 0, st, fn)
}

type walkState struct {
	seen   map[uint64]bool // tree nodes and list entries
	queues map[uint64]bool // cfs_rq and rt_prio_array visited
}

func (w *runqueueWalker) cfsTasks(cfsRq uint64, depth int, st *walkState, fn func(QueuedTask) error) error {
	if depth > maxGroupDepth {
		return corruptf("cfs_rq %#x: task groups nested more than %d deep", cfsRq, maxGroupDepth)
	}
	if st.queues[cfsRq] {
		return corruptf("cfs_rq %#x reached twice through sched_entity.my_q (a cycle)", cfsRq)
	}
	st.queues[cfsRq] = true
	l := w.l
	if l.seMyQ >= 0 {
		curr, err := w.ptr(cfsRq+uint64(l.cfsCurr), "cfs_rq.curr")
		if err != nil {
			return err
		}
		if curr != 0 {
			myq, err := w.ptr(curr+uint64(l.seMyQ), "cfs_rq.curr->my_q")
			if err != nil {
				return err
			}
			if myq != 0 {
				if err := w.cfsTasks(myq, depth+1, st, fn); err != nil {
					return err
				}
			}
		}
	}
	// crash walks the tree only when the cached leftmost is set.
	leftmost, err := w.ptr(cfsRq+uint64(l.cfsLeftmost), "cfs_rq leftmost node")
	if err != nil {
		return err
	}
	if leftmost == 0 {
		return nil
	}
	return w.walkRB(cfsRq+uint64(l.cfsRoot), st.seen, func(node uint64) error {
		se := node - uint64(l.seRunNode)
		if l.seMyQ >= 0 {
			myq, err := w.ptr(se+uint64(l.seMyQ), "sched_entity.my_q")
			if err != nil {
				return err
			}
			if myq != 0 {
				return w.cfsTasks(myq, depth+1, st, fn)
			}
		}
		return fn(QueuedTask{Task: se - uint64(l.taskSE), Depth: depth})
	})
}

// RTTasks calls fn with the tasks queued on the rt_prio_array at array,
// by queue index and then in list order, each group entity replaced by
// its own queue's tasks (crash's dump_RT_prio_array).
func (w *runqueueWalker) RTTasks(array uint64, fn func(QueuedTask) error) error {
	st := &walkState{seen: map[uint64]bool{}, queues: map[uint64]bool{}}
	return w.rtTasks(array, 0, st, fn)
}

func (w *runqueueWalker) rtTasks(array uint64, depth int, st *walkState, fn func(QueuedTask) error) error {
	if depth > maxGroupDepth {
		return corruptf("rt_prio_array %#x: task groups nested more than %d deep", array, maxGroupDepth)
	}
	if st.queues[array] {
		return corruptf("rt_prio_array %#x reached twice through sched_rt_entity.my_q (a cycle)", array)
	}
	st.queues[array] = true
	l := w.l
	// Read the heads at once: 100 list_heads, mostly empty.
	heads := make([]byte, int64(l.rtQueues)*l.listSize)
	base := array + uint64(l.rtQueue)
	if err := w.mem.ReadVirt(heads, base); err != nil {
		return fmt.Errorf("reading rt_prio_array.queue at %#x: %w", base, err)
	}
	for i := 0; i < l.rtQueues; i++ {
		head := base + uint64(int64(i)*l.listSize)
		off := int64(i) * l.listSize
		next := binary.LittleEndian.Uint64(heads[off+l.listNext:])
		prev := binary.LittleEndian.Uint64(heads[off+l.listPrev:])
		if next == head && prev == head {
			continue
		}
		err := w.walkList(head, st.seen, func(node uint64) error {
			rtse := node - uint64(l.rtseList)
			if l.rtseMyQ >= 0 {
				myq, err := w.ptr(rtse+uint64(l.rtseMyQ), "sched_rt_entity.my_q")
				if err != nil {
					return err
				}
				if myq != 0 {
					return w.rtTasks(myq+uint64(l.rtActive), depth+1, st, fn)
				}
			}
			return fn(QueuedTask{Task: rtse - uint64(l.taskRT), Prio: i, Depth: depth})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// taskPrio is task_struct.prio.
func (w *runqueueWalker) taskPrio(task uint64) (int, error) {
	p, err := w.i32(task+uint64(w.l.taskPrio), "task_struct.prio")
	return int(p), err
}

// lastRun is the task's last-run timestamp as crash's task_last_run reads
// it (sched_info.last_arrival on current kernels); 0 when the kernel
// keeps none.
func (w *runqueueWalker) lastRun(task uint64) (uint64, error) {
	if w.l.lastRun < 0 {
		return 0, nil
	}
	return w.u64(task+uint64(w.l.lastRun), "task last run timestamp")
}
