package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"gocrash/symbols"
)

// ErrNoGroupScheduling is RunqueueGroups' error on a kernel without group
// scheduling.
var ErrNoGroupScheduling = errors.New("no group scheduling (task_group.cfs_rq, rt_rq, parent)")

// GroupItemKind is what a GroupItem shows.
type GroupItemKind int

const (
	GroupHeader GroupItemKind = iota + 1 // a group's TASK_GROUP line
	GroupTask                            // a queued task
	GroupPrio                            // the "[prio] " that begins an RT group's line
	GroupEmpty                           // "[no tasks queued]"
)

// A GroupItem is one piece of runq -g's display of a queue, in display
// order: each kind is one line but GroupPrio, which the GroupHeader after
// it ends.
type GroupItem struct {
	Kind      GroupItemKind
	Indent    int    // spaces before it; none when <= 0
	RT        bool   // GroupHeader: an rt_rq (else a cfs_rq)
	Group     uint64 // GroupHeader: the task_group
	Queue     uint64 // GroupHeader: the group's rt_rq or cfs_rq on this cpu
	Name      string // GroupHeader: its cgroup's name, "" for none
	Throttled bool   // GroupHeader: the queue is throttled
	Prio      int    // GroupTask: the task's priority; GroupPrio: the queue index or the group's highest priority
	Task      uint64 // GroupTask
	PID       int64  // GroupTask
	Comm      string // GroupTask
	Current   bool   // GroupTask: the task running on the cpu
}

// CPUGroups is one cpu's queues by task group.
type CPUGroups struct {
	Runqueue           // the rq's top (Addr, Curr)
	RTRq, CFSRq uint64 // the root group's rt_rq and cfs_rq on this cpu
	HasRT       bool   // the kernel has RT group scheduling
	HasCFS      bool   // the kernel has CFS group scheduling
	RTItems     []GroupItem
	CFSItems    []GroupItem
	RTDone      bool // RTItems is complete (false on the cpu a failed walk stopped on)
	CFSDone     bool
}

// RunqueueGroups is crash's dump_tasks_by_task_group: the root task group
// (RootName "ROOT", or "INIT" for init_task_group before 2.6.32) at Root,
// and each chosen cpu's (nil: every one) RT then CFS queues walked from
// it. On an error the cpus walked so far are returned with it.
type RunqueueGroups struct {
	Root     uint64
	RootName string
	CPUs     []CPUGroups
}

// RunqueueGroups walks the runqueues by task group.
func (k *Kernel) RunqueueGroups(ctx context.Context, cpus map[int]bool) (*RunqueueGroups, error) {
	w, err := k.runqueueWalker()
	if err != nil {
		return nil, err
	}
	g, err := k.groupLayout()
	if err != nil {
		return nil, err
	}
	tt, err := k.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	ncpu, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	out := &RunqueueGroups{RootName: "ROOT"}
	root, ok := k.Vmlinux.Lookup("root_task_group")
	if !ok {
		if root, ok = k.Vmlinux.Lookup("init_task_group"); !ok {
			return nil, fmt.Errorf("cannot determine root task_group: no root_task_group symbol")
		}
		out.RootName = "INIT"
	}
	out.Root = root
	r := &groupRunq{w: w, g: g, tt: tt}
	if err := r.collectGroups(root); err != nil {
		return nil, err
	}
	var rtArr, cfsArr uint64
	if g.tgRTRq >= 0 {
		if rtArr, err = w.ptr(root+uint64(g.tgRTRq), "root_task_group.rt_rq"); err != nil {
			return nil, err
		}
	}
	if g.tgCFSRq >= 0 {
		if cfsArr, err = w.ptr(root+uint64(g.tgCFSRq), "root_task_group.cfs_rq"); err != nil {
			return nil, err
		}
	}
	// reuse_task_group_info_array: every group below the root unprinted.
	reuse := func() {
		for _, t := range r.tgs {
			t.use = t.depth > 0
		}
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if cpus != nil && !cpus[cpu] {
			continue
		}
		rq, err := k.cpuRunqueue(w, cpu)
		if err != nil {
			return out, err
		}
		r.cpu = cpu
		r.st = &walkState{seen: map[uint64]bool{}, queues: map[uint64]bool{}}
		c := CPUGroups{Runqueue: rq, HasRT: rtArr != 0, HasCFS: cfsArr != 0}
		if rtArr != 0 {
			if c.RTRq, err = w.ptr(rtArr+uint64(cpu)*8, fmt.Sprintf("root_task_group.rt_rq[%d]", cpu)); err != nil {
				return out, err
			}
		}
		if cfsArr != 0 {
			if c.CFSRq, err = w.ptr(cfsArr+uint64(cpu)*8, fmt.Sprintf("root_task_group.cfs_rq[%d]", cpu)); err != nil {
				return out, err
			}
		}
		out.CPUs = append(out.CPUs, c)
		cg := &out.CPUs[len(out.CPUs)-1]
		cur := tt.ByAddr(rq.Curr)
		if rtArr != 0 {
			reuse()
			r.out = &cg.RTItems
			if _, err := r.rtQueue(0, cg.RTRq); err != nil {
				return out, err
			}
		}
		cg.RTDone = true
		if cfsArr != 0 {
			reuse()
			r.out = &cg.CFSItems
			if _, err := r.fairQueue(0, cg.CFSRq, cur); err != nil {
				return out, err
			}
		}
		cg.CFSDone = true
	}
	return out, nil
}

// Task groups (runq -g), after crash's dump_tasks_by_task_group: the
// groups below root_task_group are listed once, depth first, then sorted
// by depth; each cpu's queues are walked from the root group's cfs_rq
// and rt_rq, a group's header printed where its entity is met. Groups
// with queued tasks whose entity is not queued (throttled, or dequeued)
// are found through the group list and printed after their parent's
// tasks, preceded by the headers of ancestors not printed yet.

// taskGroup is crash's task_group_info.
type taskGroup struct {
	addr   uint64
	depth  int
	name   string // cgroup directory name; "" when it has none
	parent *taskGroup
	use    bool // header not printed yet on this cpu
}

// groupLayout holds the offsets only runq -g reads.
type groupLayout struct {
	tgCFSRq, tgRTRq        int64 // task_group.cfs_rq, .rt_rq: per-cpu pointer arrays; -1 when absent
	tgChildren, tgSiblings int64
	tgCgroup               int64 // task_group.css.cgroup
	cgroupKn               int64 // cgroup.kn
	knParent, knName       int64
	cfsTG, cfsNrRunning    int64
	cfsThrottled           int64 // -1 without CONFIG_CFS_BANDWIDTH
	rtTG, rtNrRunning      int64
	rtHighestPrio          int64 // rt_rq.highest_prio(.curr)
	rtThrottled            int64 // -1 without rt bandwidth
}

func (k *Kernel) groupLayout() (*groupLayout, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	g := &groupLayout{tgCFSRq: -1, tgRTRq: -1, cfsThrottled: -1, rtThrottled: -1,
		cfsTG: -1, rtTG: -1, cfsNrRunning: -1, rtNrRunning: -1, rtHighestPrio: -1}
	opt := func(dst *int64, path string) {
		if o, err := t.Offset(path); err == nil {
			*dst = o
		}
	}
	opt(&g.tgCFSRq, "task_group.cfs_rq")
	opt(&g.tgRTRq, "task_group.rt_rq")
	opt(&g.cfsTG, "cfs_rq.tg")
	opt(&g.rtTG, "rt_rq.tg")
	opt(&g.cfsNrRunning, "cfs_rq.nr_running")
	opt(&g.rtNrRunning, "rt_rq.rt_nr_running")
	opt(&g.rtHighestPrio, "rt_rq.highest_prio")
	opt(&g.cfsThrottled, "cfs_rq.throttled")
	if t.HasMember("task_group", "rt_bandwidth") {
		opt(&g.rtThrottled, "rt_rq.rt_throttled")
	}
	if (g.tgCFSRq < 0 && g.tgRTRq < 0) || !t.HasMember("task_group", "parent") {
		return nil, ErrNoGroupScheduling
	}
	for _, r := range []struct {
		dst  *int64
		path string
	}{
		{&g.tgChildren, "task_group.children"},
		{&g.tgSiblings, "task_group.siblings"},
		{&g.tgCgroup, "task_group.css.cgroup"},
	} {
		if *r.dst, err = t.Offset(r.path); err != nil {
			return nil, fmt.Errorf("task group layout: %w", err)
		}
	}
	// The cgroup's name is its kernfs node's (crash emulates
	// kernfs_name); without kernfs no name is shown.
	g.cgroupKn, g.knParent, g.knName = -1, -1, -1
	opt(&g.cgroupKn, "cgroup.kn")
	opt(&g.knParent, "kernfs_node.parent")
	opt(&g.knName, "kernfs_node.name")
	return g, nil
}

// groupQueue says where one kind of group run queue (cfs_rq or rt_rq)
// keeps what runq -g reads; an offset of -1 is a member the kernel lacks.
type groupQueue struct {
	kind           string // "cfs_rq" or "rt_rq"
	tgArray        int64  // task_group.<kind>: the per-cpu pointer array
	tg             int64  // <kind>.tg
	nrRunning      int64
	nrField        string
	throttled      int64
	throttledField string
}

func (g *groupLayout) cfs() groupQueue {
	return groupQueue{"cfs_rq", g.tgCFSRq, g.cfsTG, g.cfsNrRunning, "cfs_rq.nr_running", g.cfsThrottled, "cfs_rq.throttled"}
}

func (g *groupLayout) rt() groupQueue {
	return groupQueue{"rt_rq", g.tgRTRq, g.rtTG, g.rtNrRunning, "rt_rq.rt_nr_running", g.rtThrottled, "rt_rq.rt_throttled"}
}

// groupRunq is the state of one runq -g walk.
type groupRunq struct {
	w   *runqueueWalker
	g   *groupLayout
	tt  *TaskTable
	out *[]GroupItem // the items of the queue being walked
	cpu int
	tgs []*taskGroup // by depth
	st  *walkState
}

func (r *groupRunq) emit(it GroupItem) { *r.out = append(*r.out, it) }

// groupName is crash's get_task_group_name.
func (r *groupRunq) groupName(tg uint64) (string, error) {
	cg, err := r.w.ptr(tg+uint64(r.g.tgCgroup), "task_group.css.cgroup")
	if err != nil || cg == 0 || r.g.cgroupKn < 0 || r.g.knParent < 0 || r.g.knName < 0 {
		return "", err
	}
	kn, err := r.w.ptr(cg+uint64(r.g.cgroupKn), "cgroup.kn")
	if err != nil || kn == 0 {
		return "", err
	}
	parent, err := r.w.ptr(kn+uint64(r.g.knParent), "kernfs_node.parent")
	if err != nil {
		return "", err
	}
	if parent == 0 {
		return "/", nil
	}
	name, err := r.w.ptr(kn+uint64(r.g.knName), "kernfs_node.name")
	if err != nil || name == 0 {
		return "", err
	}
	str, err := symbols.ReadCString(r.w.mem, name, 1500)
	if err != nil {
		return "", nil // crash shows no name when it cannot read it
	}
	return str, nil
}

// collectGroups lists root and its descendants depth first (crash's
// fill_task_group_info_array) and sorts them by depth, stably.
func (r *groupRunq) collectGroups(root uint64) error {
	seen := map[uint64]bool{}
	var visit func(tg uint64, depth int, parent *taskGroup) error
	visit = func(tg uint64, depth int, parent *taskGroup) error {
		if seen[tg] {
			return corruptf("task_group %#x reached twice in the group tree (a cycle)", tg)
		}
		if len(seen) >= MaxListEntries || depth > maxGroupDepth {
			return corruptf("task_group tree under %#x: too many groups or too deep", root)
		}
		seen[tg] = true
		name, err := r.groupName(tg)
		if err != nil {
			return err
		}
		g := &taskGroup{addr: tg, depth: depth, name: name, parent: parent, use: depth > 0}
		r.tgs = append(r.tgs, g)
		head := tg + uint64(r.g.tgChildren)
		var kids []uint64
		if err := r.w.walkList(head, map[uint64]bool{}, func(node uint64) error {
			kids = append(kids, node-uint64(r.g.tgSiblings))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range kids {
			if err := visit(k, depth+1, g); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root, 0, nil); err != nil {
		return err
	}
	sort.SliceStable(r.tgs, func(i, j int) bool { return r.tgs[i].depth < r.tgs[j].depth })
	return nil
}

// perCPUQueue is tg->cfs_rq[cpu] or tg->rt_rq[cpu].
func (r *groupRunq) perCPUQueue(tg uint64, k groupQueue) (uint64, error) {
	arr, err := r.w.ptr(tg+uint64(k.tgArray), "task_group."+k.kind)
	if err != nil {
		return 0, err
	}
	if arr == 0 {
		return 0, fmt.Errorf("task_group %#x: NULL %s array", tg, k.kind)
	}
	return r.w.ptr(arr+uint64(r.cpu)*8, fmt.Sprintf("task_group.%s[%d]", k.kind, r.cpu))
}

// enterQueue bounds the nesting of groups and refuses a queue met twice
// on this cpu.
func (r *groupRunq) enterQueue(depth int, q uint64, k groupQueue) error {
	if depth > maxGroupDepth {
		return corruptf("%s %#x: task groups nested more than %d deep", k.kind, q, maxGroupDepth)
	}
	if r.st.queues[q] {
		return corruptf("%s %#x reached twice (a cycle of task groups)", k.kind, q)
	}
	r.st.queues[q] = true
	return nil
}

// ownerHeader prints, with header, the line of the group that owns q and
// marks it printed.
func (r *groupRunq) ownerHeader(q uint64, k groupQueue, header func(*taskGroup) error) error {
	tg, err := r.w.ptr(q+uint64(k.tg), k.kind+".tg")
	if err != nil {
		return err
	}
	for _, g := range r.tgs {
		if g.addr == tg {
			if err := header(g); err != nil {
				return err
			}
			g.use = false
			break
		}
	}
	return nil
}

// childQueue is g's queue on this cpu when g is a child of the group that
// owns q (and its queue is not q), with that queue's count of runnable
// entities; ok is false otherwise.
func (r *groupRunq) childQueue(g *taskGroup, q uint64, k groupQueue) (child uint64, nr int32, ok bool, err error) {
	tg, err := r.w.ptr(q+uint64(k.tg), k.kind+".tg")
	if err != nil || tg != g.parent.addr {
		return 0, 0, false, err
	}
	child, err = r.perCPUQueue(g.addr, k)
	if err != nil || child == q {
		return 0, 0, false, err
	}
	nr, err = r.w.i32(child+uint64(k.nrRunning), k.nrField)
	if err != nil {
		return 0, 0, false, err
	}
	return child, nr, true, nil
}

// runqEntry emits a task of a cfs_rq, at indent, with its prio.
func (r *groupRunq) runqEntry(indent int, t *Task, current bool) error {
	prio, err := r.w.taskPrio(t.Addr)
	if err != nil {
		return err
	}
	r.emit(GroupItem{Kind: GroupTask, Indent: indent, Prio: prio, Task: t.Addr, PID: t.PID, Comm: t.Comm, Current: current})
	return nil
}

// groupHeader emits the TASK_GROUP line of group tg's queue q: with the
// group's cgroup name, and whether q is throttled.
func (r *groupRunq) groupHeader(indent int, q uint64, tg *taskGroup, k groupQueue) error {
	it := GroupItem{Kind: GroupHeader, Indent: indent, RT: k.kind == "rt_rq", Group: tg.addr, Queue: q, Name: tg.name}
	if k.throttled >= 0 {
		th, err := r.w.i32(q+uint64(k.throttled), k.throttledField)
		if err != nil {
			return err
		}
		it.Throttled = th != 0
	}
	r.emit(it)
	return nil
}

func (r *groupRunq) fairHeader(depth int, cfsRq uint64, tg *taskGroup) error {
	return r.groupHeader(2+3*depth, cfsRq, tg, r.g.cfs())
}

// parentHeaders prints the headers of tg's ancestors not printed yet, top
// down: the parent's, of kind k, with header; those above it always with
// the CFS header, as crash 8.0.6 does.
func (r *groupRunq) parentHeaders(tg *taskGroup, k groupQueue, header func(p *taskGroup, q uint64) error) error {
	p := tg.parent
	if p == nil || !p.use {
		return nil
	}
	if err := r.fairParents(p); err != nil {
		return err
	}
	q, err := r.perCPUQueue(p.addr, k)
	if err != nil {
		return err
	}
	if err := header(p, q); err != nil {
		return err
	}
	p.use = false
	return nil
}

// fairParents is crash's print_parent_task_group_fair.
func (r *groupRunq) fairParents(tg *taskGroup) error {
	return r.parentHeaders(tg, r.g.cfs(), func(p *taskGroup, q uint64) error {
		return r.fairHeader(p.depth, q, p)
	})
}

// fairQueue is crash's dump_tasks_in_task_group_cfs_rq; it returns the
// number of entries it printed.
func (r *groupRunq) fairQueue(depth int, cfsRq uint64, cur *Task) (int, error) {
	if err := r.enterQueue(depth, cfsRq, r.g.cfs()); err != nil {
		return 0, err
	}
	l := r.w.l
	total := 0
	if depth > 0 && r.g.cfsTG >= 0 {
		if err := r.ownerHeader(cfsRq, r.g.cfs(), func(g *taskGroup) error {
			return r.fairHeader(depth, cfsRq, g)
		}); err != nil {
			return 0, err
		}
	}
	var curr, currMyQ uint64
	if l.seMyQ >= 0 {
		var err error
		if curr, err = r.w.ptr(cfsRq+uint64(l.cfsCurr), "cfs_rq.curr"); err != nil {
			return 0, err
		}
		if curr != 0 {
			if currMyQ, err = r.w.ptr(curr+uint64(l.seMyQ), "cfs_rq.curr->my_q"); err != nil {
				return 0, err
			}
			if currMyQ != 0 {
				n, err := r.fairQueue(depth+1, currMyQ, cur)
				if err != nil {
					return 0, err
				}
				total += 1 + n
			}
		}
	}
	// The running task is not in the tree: shown here, marked.
	if currMyQ == 0 && cur != nil && curr-uint64(l.taskSE) == cur.Addr {
		total++
		if err := r.runqEntry(5+3*depth, cur, true); err != nil {
			return 0, err
		}
	}
	leftmost, err := r.w.ptr(cfsRq+uint64(l.cfsLeftmost), "cfs_rq leftmost node")
	if err != nil {
		return 0, err
	}
	if leftmost != 0 {
		err := r.w.walkRB(cfsRq+uint64(l.cfsRoot), r.st.seen, func(node uint64) error {
			se := node - uint64(l.seRunNode)
			if l.seMyQ >= 0 {
				myq, err := r.w.ptr(se+uint64(l.seMyQ), "sched_entity.my_q")
				if err != nil {
					return err
				}
				if myq != 0 {
					n, err := r.fairQueue(depth+1, myq, cur)
					total += 1 + n
					return err
				}
			}
			task := se - uint64(l.taskSE)
			t := r.tt.ByAddr(task)
			if t == nil {
				return nil
			}
			total++
			return r.runqEntry(5+3*depth, t, false)
		})
		if err != nil {
			return 0, err
		}
	}
	n, err := r.fairDequeued(depth, cfsRq, cur)
	if err != nil {
		return 0, err
	}
	total += n
	if total == 0 {
		r.emit(GroupItem{Kind: GroupEmpty, Indent: 5 + 3*depth})
	}
	return total, nil
}

// fairDequeued is crash's dump_tasks_in_lower_dequeued_cfs_rq: child
// groups of cfsRq's group with tasks on this cpu whose entity was not met
// in the tree.
func (r *groupRunq) fairDequeued(depth int, cfsRq uint64, cur *Task) (int, error) {
	if depth > maxGroupDepth {
		return 0, corruptf("cfs_rq %#x: task groups nested more than %d deep", cfsRq, maxGroupDepth)
	}
	if r.g.cfsTG < 0 || r.g.cfsNrRunning < 0 {
		return 0, nil
	}
	total := 0
	for _, g := range r.tgs {
		if !g.use || g.depth-depth != 1 {
			continue
		}
		q, nr, ok, err := r.childQueue(g, cfsRq, r.g.cfs())
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if nr == 0 {
			n, err := r.fairDequeued(depth+1, q, cur)
			if err != nil {
				return 0, err
			}
			total += n
			continue
		}
		if err := r.fairParents(g); err != nil {
			return 0, err
		}
		n, err := r.fairQueue(depth+1, q, cur)
		if err != nil {
			return 0, err
		}
		total += 1 + n
	}
	return total, nil
}

func (r *groupRunq) rtHeader(rtRq uint64, tg *taskGroup) error {
	return r.groupHeader(0, rtRq, tg, r.g.rt())
}

// rtParents is crash's print_parent_task_group_rt. crash 8.0.6 prints the
// ancestors above the parent with the CFS header
// (print_parent_task_group_fair), and so does this.
func (r *groupRunq) rtParents(tg *taskGroup) error {
	return r.parentHeaders(tg, r.g.rt(), func(p *taskGroup, q uint64) error {
		prio, err := r.w.i32(q+uint64(r.g.rtHighestPrio), "rt_rq.highest_prio")
		if err != nil {
			return err
		}
		r.emit(GroupItem{Kind: GroupPrio, Indent: -1 + 6*p.depth, Prio: int(prio)})
		return r.rtHeader(q, p)
	})
}

// rtQueue is crash's dump_tasks_in_task_group_rt_rq.
func (r *groupRunq) rtQueue(depth int, rtRq uint64) (int, error) {
	if err := r.enterQueue(depth, rtRq, r.g.rt()); err != nil {
		return 0, err
	}
	l := r.w.l
	if depth > 0 && r.g.rtTG >= 0 {
		if err := r.ownerHeader(rtRq, r.g.rt(), func(g *taskGroup) error {
			return r.rtHeader(rtRq, g)
		}); err != nil {
			return 0, err
		}
	}
	array := rtRq + uint64(l.rtActive)
	base := array + uint64(l.rtQueue)
	heads := make([]byte, int64(l.rtQueues)*l.listSize)
	if err := r.w.mem.ReadVirt(heads, base); err != nil {
		return 0, fmt.Errorf("reading rt_prio_array.queue at %#x: %w", base, err)
	}
	total := 0
	for i := 0; i < l.rtQueues; i++ {
		head := base + uint64(int64(i)*l.listSize)
		off := int64(i) * l.listSize
		if binary.LittleEndian.Uint64(heads[off+l.listNext:]) == head &&
			binary.LittleEndian.Uint64(heads[off+l.listPrev:]) == head {
			continue
		}
		// crash collects the list first, then prints.
		var ents []uint64
		if err := r.w.walkList(head, r.st.seen, func(node uint64) error {
			ents = append(ents, node-uint64(l.rtseList))
			return nil
		}); err != nil {
			return 0, err
		}
		for _, rtse := range ents {
			if l.rtseMyQ < 0 {
				// crash looks the entity itself up as a task
				// here, which finds nothing.
				continue
			}
			myq, err := r.w.ptr(rtse+uint64(l.rtseMyQ), "sched_rt_entity.my_q")
			if err != nil {
				return 0, err
			}
			if myq != 0 {
				r.emit(GroupItem{Kind: GroupPrio, Indent: 5 + 6*depth, Prio: i})
				total++
				if _, err := r.rtQueue(depth+1, myq); err != nil {
					return 0, err
				}
				continue
			}
			task := rtse - uint64(l.taskRT)
			t := r.tt.ByAddr(task)
			if t == nil {
				continue
			}
			r.emit(GroupItem{Kind: GroupTask, Indent: 5 + 6*depth, Prio: i, Task: t.Addr, PID: t.PID, Comm: t.Comm})
			total++
		}
	}
	n, err := r.rtDequeued(depth, rtRq)
	if err != nil {
		return 0, err
	}
	total += n
	if total == 0 {
		r.emit(GroupItem{Kind: GroupEmpty, Indent: 5 + 6*depth})
	}
	return total, nil
}

// rtDequeued is crash's dump_tasks_in_lower_dequeued_rt_rq.
func (r *groupRunq) rtDequeued(depth int, rtRq uint64) (int, error) {
	if depth > maxGroupDepth {
		return 0, corruptf("rt_rq %#x: task groups nested more than %d deep", rtRq, maxGroupDepth)
	}
	if r.g.rtTG < 0 || r.g.rtNrRunning < 0 || r.g.rtHighestPrio < 0 {
		return 0, nil
	}
	total := 0
	for _, g := range r.tgs {
		delta := g.depth - depth
		if delta > 1 {
			break
		}
		if !g.use || delta < 1 {
			continue
		}
		q, nr, ok, err := r.childQueue(g, rtRq, r.g.rt())
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if nr == 0 {
			n, err := r.rtDequeued(depth+1, q)
			if err != nil {
				return 0, err
			}
			total += n
			continue
		}
		if err := r.rtParents(g); err != nil {
			return 0, err
		}
		prio, err := r.w.i32(q+uint64(r.g.rtHighestPrio), "rt_rq.highest_prio")
		if err != nil {
			return 0, err
		}
		r.emit(GroupItem{Kind: GroupPrio, Indent: 5 + 6*depth, Prio: int(prio)})
		total++
		if _, err := r.rtQueue(depth+1, q); err != nil {
			return 0, err
		}
	}
	return total, nil
}
