package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// The open-files walker: a task's fs_struct (root and working directory)
// and its file descriptor table, each file's dentry and inode and the path
// rebuilt from the dentries and mounts the way crash's filesys.c does it
// (open_files_dump(), file_dump(), get_pathname(), get_root_vfsmount()).
// Layouts: include/linux/fs_struct.h, include/linux/fdtable.h,
// include/linux/fs.h (struct file, struct inode), include/linux/dcache.h,
// fs/mount.h (struct mount around struct vfsmount).

// A FileInfo is one open file descriptor.
type FileInfo struct {
	FD      int
	File    uint64 // struct file
	Dentry  uint64 // file->f_path.dentry; 0: none
	Inode   uint64 // dentry->d_inode; 0: none
	Mode    uint32 // inode->i_mode
	Pipe    bool   // inode->i_op is pipe_inode_operations
	Path    string // the full path as crash builds it
	Mapping uint64 // inode->i_mapping
	NrPages uint64 // i_mapping->nrpages
}

// TaskFiles is what the files command shows of one task.
type TaskFiles struct {
	HasFS                 bool // task->fs is set
	Root, Cwd             string
	RootDentry, CwdDentry uint64
	// HasTable is false when the task has no files_struct or fdtable, or
	// an empty one (crash: "No open files").
	HasTable bool
	Files    []FileInfo
}

// pathMax is crash's BUFSIZE, the longest path it builds.
const pathMax = 1500

// maxPathDepth bounds a dentry walk on a looping d_parent chain.
const maxPathDepth = 4096

// maxFDs bounds the descriptor table read (sysctl fs.nr_open is at most
// 1<<30 in theory; no dump has that many open files).
const maxFDs = 1 << 20

// filesWalker reads the file and path structures.
type filesWalker struct {
	k        *reader
	pipeOps  uint64 // pipe_inode_operations, 0 if the kernel has none
	pipeFops uint64 // rdwr_pipe_fops (older kernels), used when pipeOps is 0
	mountOff uint64 // offsetof(struct mount, mnt)
	hasMount bool
	paths    *sync.Map // full paths by [dentry, vfsmount], when the caller keeps them (VMAInfos)
}

// MaxFDs is the task's fdtable.max_fds: 0 without a files_struct.
func (k *Kernel) MaxFDs(task uint64) (uint64, error) {
	r, err := k.reader()
	if err != nil {
		return 0, err
	}
	files, err := r.ptr(task, "task_struct.files")
	if err != nil || files == 0 {
		return 0, err
	}
	fdt, err := r.ptr(files, "files_struct.fdt")
	if err != nil || fdt == 0 {
		return 0, err
	}
	return r.member(fdt, "fdtable.max_fds", 4)
}

// filesWalker returns the walker over the dump, with the kernel's pipe
// operations (crash's inode_type(): pipe_inode_operations, else
// rdwr_pipe_fops on older kernels).
func (k *Kernel) filesWalker() (*filesWalker, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	pipeOps, _ := k.Vmlinux.Lookup("pipe_inode_operations")
	var pipeFops uint64
	if pipeOps == 0 {
		pipeFops, _ = k.Vmlinux.Lookup("rdwr_pipe_fops")
	}
	return newFilesWalker(r, pipeOps, pipeFops), nil
}

// TaskFiles is the fs_struct and open files of the task_struct at task;
// nrpages asks for each inode's page cache size too (files -c).
func (k *Kernel) TaskFiles(ctx context.Context, task uint64, nrpages bool) (*TaskFiles, error) {
	w, err := k.filesWalker()
	if err != nil {
		return nil, err
	}
	return w.taskFiles(ctx, task, nrpages)
}

// MountList is the struct mount addresses of task's mount namespace in
// the kernel's order (crash's get_mount_list()).
func (k *Kernel) MountList(ctx context.Context, task uint64) ([]uint64, error) {
	w, err := k.filesWalker()
	if err != nil {
		return nil, err
	}
	return w.mountList(ctx, task)
}

// DentryInfo is what files -d shows of a dentry; the path is found
// through the mounts of nsTask's namespace (crash uses PID 1's), then
// pipe_mnt and sock_mnt.
func (k *Kernel) DentryInfo(ctx context.Context, dentry, nsTask uint64) (*DentryInfo, error) {
	w, err := k.filesWalker()
	if err != nil {
		return nil, err
	}
	var mnts [2]uint64
	for i, name := range []string{"pipe_mnt", "sock_mnt"} {
		if a, ok := k.Vmlinux.Lookup(name); ok {
			if v, err := ReadPointer(k.Mem, a); err == nil {
				mnts[i] = v
			}
		}
	}
	return w.dentryInfo(ctx, dentry, nsTask, mnts[0], mnts[1])
}

func newFilesWalker(k *reader, pipeOps, pipeFops uint64) *filesWalker {
	w := &filesWalker{k: k, pipeOps: pipeOps, pipeFops: pipeFops}
	if o, err := k.off("mount.mnt"); err == nil {
		w.mountOff, w.hasMount = o, true
	}
	return w
}

// taskFiles walks task's fs_struct and files_struct; nrpages asks for
// each inode's page cache size too.
func (w *filesWalker) taskFiles(ctx context.Context, task uint64, nrpages bool) (*TaskFiles, error) {
	k := w.k
	tf := &TaskFiles{}
	fs, err := k.ptr(task, "task_struct.fs")
	if err != nil {
		return nil, err
	}
	if fs != 0 {
		tf.HasFS = true
		rd, err := k.ptr(fs, "fs_struct.root.dentry")
		if err != nil {
			return nil, err
		}
		rm, err := k.ptr(fs, "fs_struct.root.mnt")
		if err != nil {
			return nil, err
		}
		pd, err := k.ptr(fs, "fs_struct.pwd.dentry")
		if err != nil {
			return nil, err
		}
		pm, err := k.ptr(fs, "fs_struct.pwd.mnt")
		if err != nil {
			return nil, err
		}
		tf.RootDentry, tf.CwdDentry = rd, pd
		if rd != 0 {
			if tf.Root, err = w.pathname(rd, rm, true); err != nil {
				return nil, err
			}
		}
		if pd != 0 {
			if tf.Cwd, err = w.pathname(pd, pm, true); err != nil {
				return nil, err
			}
		}
	}
	files, err := k.ptr(task, "task_struct.files")
	if err != nil {
		return nil, err
	}
	if files == 0 {
		return tf, nil
	}
	fdt, err := k.ptr(files, "files_struct.fdt")
	if err != nil {
		return nil, err
	}
	if fdt == 0 {
		return tf, nil
	}
	maxFds, err := k.member(fdt, "fdtable.max_fds", 4)
	if err != nil {
		return nil, err
	}
	if maxFds == 0 {
		return tf, nil
	}
	if maxFds > maxFDs {
		return nil, fmt.Errorf("fdtable at %x: max_fds %d is not believable", fdt, maxFds)
	}
	openFds, err := k.ptr(fdt, "fdtable.open_fds")
	if err != nil {
		return nil, err
	}
	fdArr, err := k.ptr(fdt, "fdtable.fd")
	if err != nil {
		return nil, err
	}
	tf.HasTable = true
	if openFds == 0 || fdArr == 0 {
		return tf, nil
	}
	// crash reads max_fds/8 bytes of the bitmap and looks at whole
	// longs below max_fds.
	nbytes := int(maxFds / 8)
	bits, err := k.read(openFds, nbytes, "fdtable open_fds")
	if err != nil {
		return nil, err
	}
	for i := 0; i < int(maxFds) && i/8 < nbytes; i++ {
		if bits[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file, err := k.word(fdArr+uint64(i)*8, "fd file")
		if err != nil {
			return nil, err
		}
		if file == 0 {
			continue
		}
		fi, err := w.file(file, i, nrpages)
		if err != nil {
			return nil, err
		}
		tf.Files = append(tf.Files, fi)
	}
	return tf, nil
}

// file reads one open file (crash's file_dump() with DUMP_FULL_NAME).
func (w *filesWalker) file(file uint64, fd int, nrpages bool) (FileInfo, error) {
	k := w.k
	fi := FileInfo{FD: fd, File: file}
	var err error
	if fi.Dentry, err = k.ptr(file, "file.f_path.dentry"); err != nil {
		return fi, err
	}
	if fi.Dentry == 0 {
		return fi, nil
	}
	if fi.Inode, err = k.ptr(fi.Dentry, "dentry.d_inode"); err != nil {
		return fi, err
	}
	if fi.Inode == 0 {
		return fi, nil
	}
	mode, err := k.sized(fi.Inode, "inode.i_mode")
	if err != nil {
		return fi, err
	}
	fi.Mode = uint32(mode)
	if w.pipeOps != 0 {
		op, err := k.ptr(fi.Inode, "inode.i_op")
		if err != nil {
			return fi, err
		}
		fi.Pipe = op == w.pipeOps
	} else if w.pipeFops != 0 {
		op, err := k.ptr(fi.Inode, "inode.i_fop")
		if err != nil {
			return fi, err
		}
		fi.Pipe = op == w.pipeFops
	}
	mnt, err := k.ptr(file, "file.f_path.mnt")
	if err != nil {
		return fi, err
	}
	mnt = w.rootVfsmount(mnt)
	if fi.Path, err = w.pathname(fi.Dentry, mnt, true); err != nil {
		return fi, err
	}
	if strings.HasPrefix(fi.Path, "/pts/") && w.devname(mnt) == "devpts" {
		fi.Path = "/dev" + fi.Path
	}
	if nrpages {
		if fi.Mapping, err = k.ptr(fi.Inode, "inode.i_mapping"); err != nil {
			return fi, err
		}
		if fi.Mapping != 0 {
			if fi.NrPages, err = k.member(fi.Mapping, "address_space.nrpages", 8); err != nil {
				return fi, err
			}
		}
	}
	return fi, nil
}

// devname is the mount's mnt_devname ("" when unreadable).
func (w *filesWalker) devname(vfsmnt uint64) string {
	if !w.hasMount {
		return ""
	}
	o, err := w.k.off("mount.mnt_devname")
	if err != nil {
		return ""
	}
	p, err := w.k.word(vfsmnt-w.mountOff+o, "mount mnt_devname")
	if err != nil || p == 0 {
		return ""
	}
	s, _ := w.k.cstring(p, pathMax-1)
	return s
}

// rootVfsmount is crash's get_root_vfsmount(): a file on a devtmpfs (or
// udev) mount over another of the same name is named from the parent.
// crash returns the parent's struct mount address where a vfsmount is
// expected; gocrash does the same so that the paths come out as crash's.
func (w *filesWalker) rootVfsmount(vfsmnt uint64) uint64 {
	d := w.devname(vfsmnt)
	if d != "udev" && d != "devtmpfs" {
		return vfsmnt
	}
	o, err := w.k.off("mount.mnt_parent")
	if err != nil {
		return vfsmnt
	}
	parent, err := w.k.word(vfsmnt-w.mountOff+o, "mount mnt_parent")
	if err != nil {
		return vfsmnt
	}
	if w.devname(parent) == d {
		return parent
	}
	return vfsmnt
}

// pathname is crash's get_pathname(): the names from dentry up through
// d_parent, and with full through each mount's mountpoint to the root of
// the mount tree.
func (w *filesWalker) pathname(dentry, vfsmnt uint64, full bool) (string, error) {
	k := w.k
	nameOff, err := k.off("dentry.d_name.name")
	if err != nil {
		return "", err
	}
	lenOff, err := k.off("dentry.d_name.len")
	if err != nil {
		return "", err
	}
	inameOff, err := k.off("dentry.d_iname")
	if err != nil {
		return "", err
	}
	parentOff, err := k.off("dentry.d_parent")
	if err != nil {
		return "", err
	}
	var path string
	parent := dentry
	mnt := vfsmnt
	for depth := 0; ; depth++ {
		if depth >= maxPathDepth {
			return path, nil
		}
		d := parent
		nl, err := k.member(d, "dentry.d_name.len", 4)
		if err != nil {
			return "", err
		}
		if nl == 0 {
			break
		}
		name, err := k.word(d+nameOff, "dentry d_name.name")
		if err != nil {
			return "", err
		}
		if name == 0 {
			break
		}
		_ = lenOff
		var comp string
		if name == d+inameOff {
			comp, err = k.cstring(name, 40)
		} else {
			comp, err = k.cstring(name, pathMax)
		}
		if err != nil || uint64(len(comp)) != nl {
			break
		}
		if d != dentry {
			if len(path)+len(comp) < pathMax {
				if (len(comp) > 1 || comp != "/") && !strings.HasPrefix(path, "/") {
					path = comp + "/" + path
				} else {
					path = comp + path
				}
			}
		} else {
			path = comp
		}
		if parent, err = k.word(d+parentOff, "dentry d_parent"); err != nil {
			return "", err
		}
		if d == parent && full && mnt != 0 && w.hasMount {
			if strings.HasPrefix(path, "//") {
				path = path[1:]
			}
			m := mnt - w.mountOff
			mp, err := k.ptr(m, "mount.mnt_mountpoint")
			if err != nil {
				return "", err
			}
			mparent, err := k.ptr(m, "mount.mnt_parent")
			if err != nil {
				return "", err
			}
			parent = mp
			if m == mparent {
				break
			}
			mnt = mparent + w.mountOff
		}
		if d == parent || parent == 0 {
			break
		}
	}
	return path, nil
}

// maxMounts bounds a mount namespace walk.
const maxMounts = 1 << 20

// mountList is crash's get_mount_list(): the struct mount addresses of
// the mount namespace of task (task->nsproxy->mnt_ns), in the kernel's
// order: the mnt_list list from mnt_ns->root before 6.8, the mounts
// rbtree in order (nr_mounts of them) since.
func (w *filesWalker) mountList(ctx context.Context, task uint64) ([]uint64, error) {
	k := w.k
	nsproxy, err := k.ptr(task, "task_struct.nsproxy")
	if err != nil {
		return nil, err
	}
	if nsproxy == 0 {
		return nil, fmt.Errorf("task %x has no nsproxy: cannot determine mount list location", task)
	}
	ns, err := k.ptr(nsproxy, "nsproxy.mnt_ns")
	if err != nil {
		return nil, fmt.Errorf("cannot determine mount list location: %w", err)
	}
	if k.has("mnt_namespace.nr_mounts") {
		n, err := k.member(ns, "mnt_namespace.nr_mounts", 4)
		if err != nil {
			return nil, err
		}
		if n > maxMounts {
			return nil, fmt.Errorf("mnt_namespace at %x: nr_mounts %d is not believable", ns, n)
		}
		rootOff, err := k.off("mnt_namespace.mounts")
		if err != nil {
			return nil, err
		}
		nodeOff, err := k.off("mount.mnt_node")
		if err != nil {
			return nil, err
		}
		nodes, err := rbInorder(k, ns+rootOff, int(n))
		if err != nil {
			return nil, fmt.Errorf("mnt_namespace at %x: %w", ns, err)
		}
		out := make([]uint64, len(nodes))
		for i, nd := range nodes {
			out[i] = nd - nodeOff
		}
		return out, nil
	}
	root, err := k.ptr(ns, "mnt_namespace.root")
	if err != nil {
		return nil, fmt.Errorf("cannot determine mount list location: %w", err)
	}
	listOff, err := k.off("mount.mnt_list")
	if err != nil {
		return nil, err
	}
	endOff, err := k.off("mnt_namespace.list")
	if err != nil {
		return nil, err
	}
	// crash's list starts at the root mount's mnt_list and ends at the
	// namespace's list head; the root mount comes first.
	end := ns + endOff
	out := []uint64{root}
	errEnd := errors.New("end")
	err = WalkList(ctx, k.mem, root+listOff, "mount.mnt_list", func(node uint64) error {
		if node == end {
			return errEnd
		}
		if len(out) >= maxMounts {
			return fmt.Errorf("mount list at %x: more than %d mounts", root+listOff, maxMounts)
		}
		out = append(out, node-listOff)
		return nil
	})
	if err != nil && err != errEnd {
		return out, err
	}
	return out, nil
}

// rbInorder returns the rb_node addresses of the rb_root at root in
// order, at most max of them (more, or a loop, is an error).
func rbInorder(k *reader, root uint64, max int) ([]uint64, error) {
	top, err := k.word(root, "rb_root")
	if err != nil {
		return nil, err
	}
	var out []uint64
	var stack []uint64
	n := top
	for steps := 0; n != 0 || len(stack) > 0; steps++ {
		if steps > 2*max+2 {
			return out, fmt.Errorf("rbtree at %x has more than %d nodes or loops", root, max)
		}
		for n != 0 {
			if len(stack) > 64+max {
				return out, fmt.Errorf("rbtree at %x is deeper than it can be", root)
			}
			stack = append(stack, n)
			if n, err = k.word(n+16, "rb_node.rb_left"); err != nil {
				return out, err
			}
		}
		n = stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, n)
		if len(out) > max {
			return out, fmt.Errorf("rbtree at %x has more than %d nodes", root, max)
		}
		if n, err = k.word(n+8, "rb_node.rb_right"); err != nil {
			return out, err
		}
	}
	return out, nil
}

// DentryInfo is what files -d shows of a dentry.
type DentryInfo struct {
	Dentry, Inode, SuperBlock uint64
	Mode                      uint32
	Pipe                      bool
	Path                      string
}

// dentryInfo is crash's display_dentry_info(): the dentry's inode and
// super block, and its path through the first task's mounts of that
// super block (pipe_mnt and sock_mnt when none).
func (w *filesWalker) dentryInfo(ctx context.Context, dentry, initTask, pipeMnt, sockMnt uint64) (*DentryInfo, error) {
	k := w.k
	di := &DentryInfo{Dentry: dentry}
	var err error
	if di.Inode, err = k.ptr(dentry, "dentry.d_inode"); err != nil {
		return nil, err
	}
	if di.Inode != 0 {
		if di.SuperBlock, err = k.ptr(di.Inode, "inode.i_sb"); err != nil {
			return nil, err
		}
		mode, err := k.sized(di.Inode, "inode.i_mode")
		if err != nil {
			return nil, err
		}
		di.Mode = uint32(mode)
		if w.pipeOps != 0 {
			op, err := k.ptr(di.Inode, "inode.i_op")
			if err != nil {
				return nil, err
			}
			di.Pipe = op == w.pipeOps
		}
	} else if di.SuperBlock, err = k.ptr(dentry, "dentry.d_sb"); err != nil {
		return nil, err
	}
	if di.SuperBlock == 0 || !w.hasMount {
		return di, nil
	}
	mounts, err := w.mountList(ctx, initTask)
	if err != nil {
		return nil, err
	}
	found := false
	for _, m := range mounts {
		sb, err := k.ptr(m, "mount.mnt.mnt_sb")
		if err != nil {
			return nil, err
		}
		if sb == di.SuperBlock {
			if di.Path, err = w.pathname(dentry, m+w.mountOff, true); err != nil {
				return nil, err
			}
			found = true
		}
	}
	for _, v := range []uint64{pipeMnt, sockMnt} {
		if found || v == 0 {
			continue
		}
		sb, err := k.ptr(v, "vfsmount.mnt_sb")
		if err != nil {
			return nil, err
		}
		if sb == di.SuperBlock {
			if di.Path, err = w.pathname(dentry, v, true); err != nil {
				return nil, err
			}
			found = true
		}
	}
	return di, nil
}

// InodePageCache is an inode's page cache as crash's files -p shows it
// (filesys.c dump_inode_page_cache_info()): the inode's i_mapping, the
// mapping's nrpages and the struct page of each entry of its i_pages
// xarray (include/linux/fs.h struct address_space), in index order.
type InodePageCache struct {
	Inode, Mapping uint64
	NrPages        uint64
	Pages          []uint64
	// Entries counts what the xarray holds (crash compares it with
	// nrpages and says so when they differ).
	Entries uint64
}

// InodePages reads an inode's page cache. The pages are listed only when
// nrpages is not 0 (crash walks no tree then).
func (k *Kernel) InodePages(ctx context.Context, inode uint64) (*InodePageCache, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	size, err := r.sizeOf("inode")
	if err != nil {
		return nil, err
	}
	// crash reads the whole inode first ("inode buffer").
	if _, err := r.read(inode, int(size), "inode buffer"); err != nil {
		return nil, err
	}
	pc := &InodePageCache{Inode: inode}
	if pc.Mapping, err = r.ptr(inode, "inode.i_mapping"); err != nil {
		return nil, err
	}
	if pc.Mapping == 0 {
		return pc, nil
	}
	if pc.NrPages, err = r.member(pc.Mapping, "address_space.nrpages", 8); err != nil {
		return nil, err
	}
	if pc.NrPages == 0 {
		return pc, nil
	}
	l, err := k.XALayout()
	if err != nil {
		return nil, err
	}
	head, err := r.ptr(pc.Mapping, "address_space.i_pages.xa_head")
	if err != nil {
		return nil, err
	}
	if head == 0 {
		return pc, nil
	}
	err = WalkXArray(ctx, r.mem, l, head, false, func(e XAEntry) error {
		if e.Entry == 0 {
			return nil
		}
		pc.Entries++
		if pc.Entries > maxPageCacheEntries {
			return fmt.Errorf("inode %x: more than %d page cache entries", inode, maxPageCacheEntries)
		}
		// Value entries (shadows of evicted pages, the low bit set)
		// are not struct pages.
		if e.Entry&1 == 0 {
			pc.Pages = append(pc.Pages, e.Entry)
		}
		return nil
	})
	return pc, err
}

// maxPageCacheEntries bounds a page cache walk over hostile memory (a
// 64 GiB file of 4 KiB pages).
const maxPageCacheEntries = 1 << 24
