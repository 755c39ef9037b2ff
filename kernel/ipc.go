package kernel

import (
	"context"
	"fmt"

	"gocrash/symbols"
)

// System V IPC (ipc/util.c, ipc/shm.c, ipc/sem.c, ipc/msg.c): a task's
// nsproxy->ipc_ns holds ids[3] (struct ipc_ids: sem, msg, shm in that
// order), each counting its objects in in_use and keeping them in an IDR
// (ipcs_idr, an XArray since 4.20) of struct kern_ipc_perm pointers, the
// perm embedded in a shmid_kernel (shm_perm), sem_array (sem_perm) or
// msg_queue (q_perm). Read as crash's ipcs.c does.

// IPCKind is one of the three facilities, in ipc_namespace.ids[] order.
type IPCKind int

const (
	IPCSem IPCKind = iota
	IPCMsg
	IPCShm
)

// IPCObject is one semaphore array, message queue or shared memory
// segment.
type IPCObject struct {
	Addr    uint64 // its shmid_kernel, sem_array or msg_queue
	Key     uint32
	ID      int32
	UID     uint32
	Mode    uint32
	Deleted bool
	// Shared memory: the size, the attach count, the shmem inode and its
	// resident (page cache) and swapped pages.
	Bytes, Nattch, Inode, RSS, Swap uint64
	Huge                            bool
	NSems                           uint64 // semaphores
	QBytes, QNum                    uint64 // messages: bytes and messages queued
}

// IPCSet is one facility's objects in IDR order.
type IPCSet struct {
	InUse   int
	Objects []IPCObject
}

var ipcContainer = [...]struct{ typ, perm, id string }{
	IPCSem: {"sem_array", "sem_perm", "sem_id"},
	IPCMsg: {"msg_queue", "q_perm", "q_id"},
	IPCShm: {"shmid_kernel", "shm_perm", "id"},
}

// IPCs reads one facility of task's IPC namespace.
func (k *Kernel) IPCs(ctx context.Context, task uint64, kind IPCKind) (*IPCSet, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	mem := k.memory()
	ids, err := k.ipcIDs(t, task, kind)
	if err != nil {
		return nil, err
	}
	obj, err := t.Object(mem, ids, "ipc_ids")
	if err != nil {
		return nil, err
	}
	m, err := obj.Member("in_use")
	if err != nil {
		return nil, err
	}
	n, err := m.Int()
	if err != nil {
		return nil, err
	}
	set := &IPCSet{InUse: int(n)}
	if n == 0 {
		return set, nil
	}
	headOff, err := t.Offset("ipc_ids.ipcs_idr")
	if err != nil {
		return set, err
	}
	rt, err := t.Offset("idr.idr_rt")
	if err != nil {
		return set, fmt.Errorf("this kernel's IDR is not an XArray: %w", err)
	}
	xh, err := t.Offset("xarray.xa_head")
	if err != nil {
		return set, err
	}
	var b [8]byte
	if err := mem.ReadVirt(b[:], ids+uint64(headOff+rt+xh)); err != nil {
		return set, fmt.Errorf("ipc_ids.ipcs_idr: %w", err)
	}
	head := leUint64(b[:])
	if head == 0 {
		return set, nil
	}
	l, err := k.XALayout()
	if err != nil {
		return set, err
	}
	var perms []uint64
	err = WalkXArray(ctx, mem, l, head, false, func(e XAEntry) error {
		if e.Entry != 0 {
			perms = append(perms, e.Entry)
		}
		return nil
	})
	for _, p := range perms {
		o, oerr := k.ipcObject(t, kind, p)
		if oerr != nil {
			return set, oerr
		}
		set.Objects = append(set.Objects, o)
	}
	return set, err
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// ipcIDs is the address of the struct ipc_ids of kind in task's namespace
// (the shm_ids/sem_ids/msg_ids globals before namespaces).
func (k *Kernel) ipcIDs(t *symbols.Types, task uint64, kind IPCKind) (uint64, error) {
	if a, ok := k.Vmlinux.Lookup([...]string{"sem_ids", "msg_ids", "shm_ids"}[kind]); ok {
		return a, nil
	}
	to, err := t.Object(k.memory(), task, "task_struct")
	if err != nil {
		return 0, err
	}
	nsp, err := to.Member("nsproxy")
	if err != nil {
		return 0, err
	}
	ns, err := nsp.Deref()
	if err != nil {
		return 0, err
	}
	ipcns, err := ns.Member("ipc_ns")
	if err != nil {
		return 0, err
	}
	p, err := ipcns.Pointer()
	if err != nil || p == 0 {
		return 0, fmt.Errorf("cannot determine ipc_namespace location!")
	}
	off, err := t.Offset("ipc_namespace.ids")
	if err != nil {
		return 0, err
	}
	sz, err := t.SizeOf("ipc_ids")
	if err != nil {
		return 0, err
	}
	return p + uint64(off) + uint64(kind)*uint64(sz), nil
}

// ipcObject reads the object whose kern_ipc_perm is at perm.
func (k *Kernel) ipcObject(t *symbols.Types, kind IPCKind, perm uint64) (IPCObject, error) {
	c := ipcContainer[kind]
	poff, err := t.Offset(c.typ + "." + c.perm)
	if err != nil {
		return IPCObject{}, err
	}
	o := IPCObject{Addr: perm - uint64(poff)}
	obj, err := t.Object(k.memory(), o.Addr, c.typ)
	if err != nil {
		return o, err
	}
	u := func(path string) (uint64, error) {
		m, err := obj.Member(path)
		if err != nil {
			return 0, err
		}
		return m.Uint()
	}
	var v uint64
	if v, err = u(c.perm + ".key"); err != nil {
		return o, err
	}
	o.Key = uint32(v)
	if v, err = u(c.id); err != nil {
		if v, err = u(c.perm + ".id"); err != nil {
			return o, err
		}
	}
	o.ID = int32(v)
	if v, err = u(c.perm + ".uid.val"); err != nil {
		if v, err = u(c.perm + ".uid"); err != nil {
			return o, err
		}
	}
	o.UID = uint32(v)
	if v, err = u(c.perm + ".mode"); err != nil {
		return o, err
	}
	o.Mode = uint32(v)
	if v, err = u(c.perm + ".deleted"); err != nil {
		return o, err
	}
	o.Deleted = v != 0
	switch kind {
	case IPCSem:
		o.NSems, err = u("sem_nsems")
	case IPCMsg:
		if o.QBytes, err = u("q_cbytes"); err == nil {
			o.QNum, err = u("q_qnum")
		}
	case IPCShm:
		err = k.shmDetails(t, obj, &o)
	}
	return o, err
}

// shmDetails fills a segment's size, attach count, inode and pages
// (crash's get_shm_info and add_rss_swap).
func (k *Kernel) shmDetails(t *symbols.Types, obj symbols.Object, o *IPCObject) error {
	num := func(o symbols.Object, path string) (uint64, error) {
		m, err := o.Member(path)
		if err != nil {
			return 0, err
		}
		return m.Uint()
	}
	var err error
	if o.Bytes, err = num(obj, "shm_segsz"); err != nil {
		return err
	}
	if o.Nattch, err = num(obj, "shm_nattch"); err != nil {
		return err
	}
	fm, err := obj.Member("shm_file")
	if err != nil {
		return err
	}
	file, err := fm.Deref()
	if err != nil {
		return err
	}
	dentry, err := num(file, "f_path.dentry")
	if err != nil {
		return err
	}
	d, err := t.Object(k.memory(), dentry, "dentry")
	if err != nil {
		return err
	}
	if o.Inode, err = num(d, "d_inode"); err != nil {
		return err
	}
	ino, err := t.Object(k.memory(), o.Inode, "inode")
	if err != nil {
		return err
	}
	mapping, err := num(ino, "i_mapping")
	if err != nil {
		return err
	}
	as, err := t.Object(k.memory(), mapping, "address_space")
	if err != nil {
		return err
	}
	nr, err := num(as, "nrpages")
	if err != nil {
		return err
	}
	fop, err := num(file, "f_op")
	if err != nil {
		return err
	}
	if h, ok := k.Vmlinux.Lookup("hugetlbfs_file_operations"); ok && fop == h {
		o.Huge = true
	}
	if h, ok := k.Vmlinux.Lookup("shm_file_operations_huge"); ok && fop == h {
		o.Huge = true
	}
	if o.Huge {
		o.RSS = nr * (2 << 20) / 4096 // 2 MB pages (crash reads the hstate's order; 1 GB pages differ)
		return nil
	}
	o.RSS = nr
	vi, err := t.Offset("shmem_inode_info.vfs_inode")
	if err != nil {
		return err
	}
	si, err := t.Object(k.memory(), o.Inode-uint64(vi), "shmem_inode_info")
	if err != nil {
		return err
	}
	o.Swap, err = num(si, "swapped")
	return err
}
