package kernel

import (
	"context"
	"fmt"
)

// What vm shows of each VMA: its flags and its file's path (crash's
// memory.c vm_area_dump(); include/linux/mm_types.h). The VMAs come from
// VMAs (vma.go): the maple tree mm->mm_mt, or the mm->mmap list before 6.1.

// A VMAInfo is one vm_area_struct with its flags and file.
type VMAInfo struct {
	VMA
	Flags uint64 // vm_flags
	File  uint64 // vm_file (0: anonymous)
	Path  string // the file's path, as crash builds it
	PgOff uint64 // vm_pgoff: the file offset of vm_start, in pages
}

// maxVMAs bounds one address space (vm.max_map_count defaults to 65530).
const maxVMAs = 1 << 22

// MM is the mm_struct of task (0 for a kernel thread).
func (k *Kernel) MM(task uint64) (uint64, error) {
	r, err := k.reader()
	if err != nil {
		return 0, err
	}
	return r.ptr(task, "task_struct.mm")
}

// PGD is mm->pgd.
func (k *Kernel) PGD(mm uint64) (uint64, error) {
	r, err := k.reader()
	if err != nil {
		return 0, err
	}
	return r.ptr(mm, "mm_struct.pgd")
}

// VMAInfos lists the mm_struct's areas in address order with their flags
// and files.
func (k *Kernel) VMAInfos(ctx context.Context, mm uint64) ([]VMAInfo, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	fw := newFilesWalker(r, 0, 0)
	fw.paths = &k.vmaPaths
	var out []VMAInfo
	err = k.VMAs(ctx, mm, func(v VMA) error {
		if len(out) >= maxVMAs {
			return fmt.Errorf("mm_struct %x: more than %d VMAs", mm, maxVMAs)
		}
		vi, err := vmaInfo(r, fw, v)
		if err != nil {
			return err
		}
		out = append(out, vi)
		return nil
	})
	return out, err
}

func vmaInfo(r *reader, fw *filesWalker, v VMA) (VMAInfo, error) {
	vi := VMAInfo{VMA: v}
	var err error
	if vi.Flags, err = r.sized(v.Addr, "vm_area_struct.vm_flags"); err != nil {
		return vi, err
	}
	if vi.File, err = r.ptr(v.Addr, "vm_area_struct.vm_file"); err != nil {
		return vi, err
	}
	if vi.File == 0 {
		return vi, nil
	}
	if vi.PgOff, err = r.ptr(v.Addr, "vm_area_struct.vm_pgoff"); err != nil {
		return vi, err
	}
	dentry, err := r.ptr(vi.File, "file.f_path.dentry")
	if err != nil || dentry == 0 {
		return vi, err
	}
	mnt, err := r.ptr(vi.File, "file.f_path.mnt")
	if err != nil {
		return vi, err
	}
	if fw.paths != nil {
		if p, ok := fw.paths.Load([2]uint64{dentry, mnt}); ok {
			vi.Path = p.(string)
			return vi, nil
		}
	}
	vi.Path, err = fw.pathname(dentry, mnt, true)
	if err == nil && fw.paths != nil {
		fw.paths.Store([2]uint64{dentry, mnt}, vi.Path)
	}
	return vi, err
}
