package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"gocrash/symbols"
)

// Mounts, path names and swap areas (include/linux/mount.h, fs/mount.h,
// include/linux/dcache.h, include/linux/swap.h), read the way crash
// 8.0.6's filesys.c (show_mounts, get_mount_list, get_pathname) and
// memory.c (dump_swap_info) read them.

// FS reads filesystem structures through one memory view.
type FS struct {
	Mem   symbols.Memory
	Types *symbols.Types
	// path is get_pathname(dentry, vfsmnt); nil leaves paths empty.
	path func(dentry, vfsmnt uint64) string
}

// FS is the kernel's filesystem reader.
func (k *Kernel) FS() (*FS, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	return &FS{Mem: k.Mem, Types: t}, nil
}

func (f *FS) off(path string) (uint64, error) {
	o, err := f.Types.Offset(path)
	if err != nil {
		return 0, err
	}
	return uint64(o), nil
}

func (f *FS) ptr(addr uint64) (uint64, error) { return ReadPointer(f.Mem, addr) }

func (f *FS) u32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := f.Mem.ReadVirt(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// str reads a NUL-terminated string of at most max bytes; ok is false
// when it cannot be read (crash's read_string failing).
func (f *FS) str(addr uint64, max int) (string, bool) {
	if addr == 0 {
		return "", false
	}
	s, err := symbols.ReadCString(f.Mem, addr, max)
	if err != nil {
		return "", false
	}
	return s, true
}

// A Mount is one struct mount of a mount namespace.
type Mount struct {
	Addr    uint64 // struct mount
	Super   uint64 // mnt.mnt_sb
	Type    string // s_type->name; "" when unreadable
	DevName string // mnt_devname; "" when unreadable
	DirName string // the mount point's path
	TypeOK  bool
	DevOK   bool
	Err     error // the mount could not be read (crash warns and goes on)
}

// Mounts is the mount namespace of task (crash uses PID 1's), each mount
// read: the list is MountList's (files.go), the mount point's path
// crash's get_pathname (files.go's pathname).
func (k *Kernel) Mounts(ctx context.Context, task uint64) ([]Mount, error) {
	list, err := k.MountList(ctx, task)
	if err != nil && len(list) == 0 {
		return nil, err
	}
	f, ferr := k.FS()
	if ferr != nil {
		return nil, ferr
	}
	w, werr := k.filesWalker()
	if werr != nil {
		return nil, werr
	}
	f.path = func(dentry, vfsmnt uint64) string {
		p, _ := w.pathname(dentry, vfsmnt, true)
		return p
	}
	var out []Mount
	for _, a := range list {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		m, merr := f.Mount(a)
		if merr != nil {
			m.Err = merr
		}
		out = append(out, m)
	}
	return out, err
}

// Mount reads one struct mount.
func (f *FS) Mount(addr uint64) (Mount, error) {
	m := Mount{Addr: addr}
	var r offsets
	r.f = f
	mnt, devname, parent, mountpoint := r.o("mount.mnt"), r.o("mount.mnt_devname"), r.o("mount.mnt_parent"), r.o("mount.mnt_mountpoint")
	sbOff, typeOff, nameOff := r.o("vfsmount.mnt_sb"), r.o("super_block.s_type"), r.o("file_system_type.name")
	if r.err != nil {
		return m, r.err
	}
	var err error
	if m.Super, err = f.ptr(addr + mnt + sbOff); err != nil {
		return m, fmt.Errorf("mount %#x: %w", addr, err)
	}
	if m.Super < KernelSpaceStart {
		return m, fmt.Errorf("cannot get super_block from vfsmnt: 0x%x", addr)
	}
	if typ, err := f.ptr(m.Super + typeOff); err == nil {
		if name, err := f.ptr(typ + nameOff); err == nil {
			m.Type, m.TypeOK = f.str(name, 128)
		}
	}
	if dp, err := f.ptr(addr + devname); err == nil {
		m.DevName, m.DevOK = f.str(dp, 1024)
	}
	dentry, err1 := f.ptr(addr + mountpoint)
	par, err2 := f.ptr(addr + parent)
	if err1 == nil && err2 == nil && f.path != nil {
		m.DirName = f.path(dentry, par+mnt)
	}
	return m, nil
}

type offsets struct {
	f   *FS
	err error
}

func (r *offsets) o(path string) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.f.off(path)
	r.err = err
	return v
}

// A SwapArea is one used swap_info[] entry.
type SwapArea struct {
	Addr      uint64 // struct swap_info_struct
	Partition bool   // a block device, not a file
	Pages     int64  // swap_info_struct.pages
	Used      uint64 // inuse_pages
	Prio      int64
	Path      string // "(unknown)" without a swap_file
}

// swpUsed is SWP_USED (include/linux/swap.h).
const swpUsed = 1

// SwapAreas is crash's dump_swap_info: swap_info[0..nr_swapfiles) that are in use.
func (k *Kernel) SwapAreas(ctx context.Context) ([]SwapArea, error) {
	f, err := k.FS()
	if err != nil {
		return nil, err
	}
	if w, err := k.filesWalker(); err == nil {
		f.path = func(dentry, vfsmnt uint64) string {
			p, _ := w.pathname(dentry, vfsmnt, true)
			return p
		}
	}
	nrAddr, ok := k.Vmlinux.Lookup("nr_swapfiles")
	if !ok {
		return nil, fmt.Errorf("nr_swapfiles doesn't exist in this kernel!")
	}
	arr, ok := k.Vmlinux.Lookup("swap_info")
	if !ok {
		return nil, fmt.Errorf("swap_info doesn't exist in this kernel!")
	}
	nr, err := f.u32(nrAddr)
	if err != nil {
		return nil, err
	}
	if nr > 64 {
		return nil, fmt.Errorf("nr_swapfiles is %d: more than MAX_SWAPFILES", nr)
	}
	return f.swapAreas(ctx, arr, int(nr))
}

// SwapAreasAt reads the used areas of the swap_info[] pointer array at
// arr, nr entries.
func (f *FS) SwapAreasAt(ctx context.Context, arr uint64, nr int) ([]SwapArea, error) {
	return f.swapAreas(ctx, arr, nr)
}

func (f *FS) swapAreas(ctx context.Context, arr uint64, nr int) ([]SwapArea, error) {
	t := f.Types
	var r offsets
	r.f = f
	flagsOff, fileOff, pagesOff, prioOff, inuseOff := r.o("swap_info_struct.flags"), r.o("swap_info_struct.swap_file"), r.o("swap_info_struct.pages"), r.o("swap_info_struct.prio"), r.o("swap_info_struct.inuse_pages")
	fPath := r.o("file.f_path")
	pMnt, pDentry := r.o("path.mnt"), r.o("path.dentry")
	if r.err != nil {
		return nil, r.err
	}
	size := func(member string) int64 {
		m, err := t.Member("swap_info_struct", member)
		if err != nil {
			return 8
		}
		n, err := t.Size(m.Type)
		if err != nil {
			return 8
		}
		return n
	}
	flagsSize, prioSize, inuseSize := size("flags"), size("prio"), size("inuse_pages")
	isFile := false
	if m, err := t.Member("swap_info_struct", "swap_file"); err == nil {
		isFile = symbols.TypeName(m.Type) == "struct file *"
	}
	hasDevice := t.HasMember("swap_info_struct", "swap_device") || t.HasMember("swap_info_struct", "old_block_size")
	devOff := uint64(0)
	if o, err := f.off("swap_info_struct.swap_device"); err == nil {
		devOff = o
	} else if o, err := f.off("swap_info_struct.old_block_size"); err == nil {
		devOff = o
	}
	var out []SwapArea
	for i := 0; i < nr; i++ {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		si, err := f.ptr(arr + uint64(i)*8)
		if err != nil || si == 0 {
			continue
		}
		read := func(off uint64, n int64) (uint64, error) {
			if n == 4 {
				v, err := f.u32(si + off)
				return uint64(v), err
			}
			if n == 2 {
				v, err := f.u32(si + off)
				return uint64(v & 0xffff), err
			}
			return f.ptr(si + off)
		}
		flags, err := read(flagsOff, flagsSize)
		if err != nil {
			return out, fmt.Errorf("swap_info[%d] at %#x: %w", i, si, err)
		}
		if flags&swpUsed == 0 {
			continue
		}
		a := SwapArea{Addr: si}
		file, _ := f.ptr(si + fileOff)
		if !hasDevice && isFile {
			// 6.10 and later: a block device when the file's inode is.
			io, e1 := f.off("file.f_inode")
			mo, e2 := f.off("inode.i_mode")
			if e1 == nil && e2 == nil {
				if ino, err := f.ptr(file + io); err == nil {
					if mode, err := f.u32(ino + mo); err == nil {
						a.Partition = mode&0o170000 == 0o060000
					}
				}
			}
		} else {
			v, _ := f.u32(si + devOff)
			a.Partition = int32(v) != 0
		}
		p, _ := f.u32(si + pagesOff)
		a.Pages = int64(int32(p))
		pr, _ := read(prioOff, prioSize)
		if prioSize == 2 {
			a.Prio = int64(int16(pr))
		} else {
			a.Prio = int64(int32(pr))
		}
		a.Used, _ = read(inuseOff, inuseSize)
		a.Path = "(unknown)"
		if file != 0 {
			mnt, err1 := f.ptr(file + fPath + pMnt)
			dentry, err2 := f.ptr(file + fPath + pDentry)
			if err1 == nil && err2 == nil {
				if f.path != nil {
					a.Path = f.path(dentry, mnt)
				}
				if dev := f.vfsmountDevname(mnt); (dev == "devtmpfs" || dev == "udev") && !strings.HasPrefix(a.Path, "/dev/") {
					a.Path = "/dev" + a.Path
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// vfsmountDevname is the mnt_devname of the struct mount holding vfsmnt.
func (f *FS) vfsmountDevname(vfsmnt uint64) string {
	mnt, err1 := f.off("mount.mnt")
	dev, err2 := f.off("mount.mnt_devname")
	if err1 != nil || err2 != nil {
		return ""
	}
	p, err := f.ptr(vfsmnt - mnt + dev)
	if err != nil {
		return ""
	}
	s, _ := f.str(p, 256)
	return s
}

// WaitQueue is the private (task) pointer of each struct wait_queue_entry
// on the wait_queue_head at head, the list walked as crash's dump_waitq
// walks it (tools.c do_list, every entry once): from the head's list_head,
// ending at a NULL next pointer, at the head or the first entry again, or
// at an entry pointing to itself. A next pointer that cannot be read ends
// the walk with a *ListEntryError; an entry met again elsewhere, with
// ErrDuplicateEntry.
func (k *Kernel) WaitQueue(ctx context.Context, head uint64) ([]uint64, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	ho, err := t.Offset("wait_queue_head.head")
	if err != nil {
		return nil, fmt.Errorf("cannot determine wait queue structures: %w", err)
	}
	eo, err := t.Offset("wait_queue_entry.entry")
	if err != nil {
		return nil, err
	}
	po, err := t.Offset("wait_queue_entry.private")
	if err != nil {
		return nil, err
	}
	mem := k.memory()
	start := head + uint64(ho)
	first, err := ReadPointer(mem, start)
	if err != nil {
		return nil, &ListEntryError{Addr: start, Err: err, What: "first list entry"}
	}
	var nodes []uint64
	seen := map[uint64]bool{start: true}
	next, last := start, uint64(0)
	for count := 1; ; count++ {
		if count%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		last = next
		if next, err = ReadPointer(mem, next); err != nil {
			return nil, &ListEntryError{Addr: last, Err: err}
		}
		if next == 0 || next == start || next == last || next == first && count != 1 {
			break
		}
		if seen[next] {
			return nil, fmt.Errorf("%w: %x", ErrDuplicateEntry, next)
		}
		seen[next] = true
		nodes = append(nodes, next)
	}
	out := make([]uint64, 0, len(nodes))
	for _, n := range nodes {
		p, err := ReadPointer(mem, n-uint64(eo)+uint64(po))
		if err != nil {
			return out, &ListEntryError{Addr: n - uint64(eo) + uint64(po), Err: err, What: "wait_queue_t.task"}
		}
		out = append(out, p)
	}
	return out, nil
}

// ErrDuplicateEntry is crash's "duplicate list entry": a list that comes
// back to an entry other than its head or first one.
var ErrDuplicateEntry = errors.New("duplicate list entry")

// ListEntryError is a list pointer that could not be read: Addr is where
// it was read, What crash's name for the read ("list entry" when empty).
type ListEntryError struct {
	Addr uint64
	What string
	Err  error
}

func (e *ListEntryError) Error() string {
	w := e.What
	if w == "" {
		w = "list entry"
	}
	return fmt.Sprintf("%s at %#x: %v", w, e.Addr, e.Err)
}

func (e *ListEntryError) Unwrap() error { return e.Err }
