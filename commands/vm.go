package commands

// vm: a task's address space, its mm_struct and each VMA (crash's
// memory.c cmd_vm(), vm_area_dump(), do_vm_flags()).

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:    "vm",
		Usage:   "vm [-R reference] [pid | task] [-f vm_flags]", // crash's -p, -P, -M, -m, -v, -x, -d are not here
		Summary: "virtual memory",
		Help:    vmHelp,
		Options: []string{"-R", "-f"},
		Columns: []Column{
			{"MM", "task_struct.mm: the mm_struct (0 for a kernel thread)"},
			{"PGD", "mm->pgd: the page table root"},
			{"RSS", "resident pages (mm->rss_stat file + anon + shmem) in KiB"},
			{"TOTAL_VM", "mm->total_vm in KiB"},
			{"VMA", "the vm_area_struct, from the maple tree mm->mm_mt (6.1 and later) or the mm->mmap list"},
			{"START, END", "vm_start, vm_end"},
			{"FLAGS", "vm_flags in hexadecimal (vm -f FLAGS names the bits)"},
			{"FILE", "the mapped file's path (vm_file), empty for anonymous memory"},
		},
		Run: runVm,
	})
	foreachKeywords["vm"] = foreachCommand{start: foreachVm}
}

const vmHelp = `  This command displays basic virtual memory information of a context,
  consisting of a pointer to its mm_struct and page directory, its RSS and
  total virtual memory size; and a list of pointers to each vm_area_struct,
  its starting and ending address, vm_flags value, and file pathname.  If no
  arguments are entered, the current context is used.

  -R reference  search for references to this number or filename: a VMA
                address, a vm_flags value or a part of a file name.
           pid  a process PID.
          task  a hexadecimal task_struct pointer.
   -f vm_flags  translate the bits of a FLAGS (vm_area_struct.vm_flags) value.

EXAMPLES
  Display the address space of PID 1:

    crash> vm 1
    PID: 1        TASK: ff2c138f00198000  CPU: 0    COMMAND: "init"
           MM               PGD          RSS    TOTAL_VM
    ff2c138f001383c0  ff2c138f178b2000  1788k    2256k  
          VMA           START       END     FLAGS FILE
    ff2c138f178b3088     400000     401000     71 /bin/busybox
    ff2c138f178b3110     401000     585000     75 /bin/busybox
    ...
    ff2c138f178b3330 7ffd87b61000 7ffd87b62000  40075 

  Translate a vm_flags value:

    crash> vm -f 100073
    100073: (READ|WRITE|MAYREAD|MAYWRITE|MAYEXEC|ACCOUNT)

  Which tasks map busybox:

    crash> foreach vm -R busybox`

type vmRun struct {
	s   *Session
	w   io.Writer
	ps  *psRun
	ref string
}

func (s *Session) newVmRun(w io.Writer, tt *taskTable) (*vmRun, error) {
	p := &psRun{s: s, w: &strings.Builder{}, shown: map[uint64]bool{}, tt: tt}
	var err error
	if p.r, err = s.newTaskReader(s.Mem); err != nil {
		return nil, err
	}
	if p.r.states, err = s.taskStates(); err != nil {
		return nil, err
	}
	return &vmRun{s: s, w: w, ps: p}, nil
}

func runVm(s *Session, args []string, w io.Writer) error {
	var ref string
	refs := 0
	g := newGetopt("vm", args)
	for {
		c, ok := g.next()
		if !ok {
			break
		}
		switch c {
		case 'R':
			v, err := g.arg()
			if err != nil {
				return err
			}
			if refs++; refs > 1 {
				fmt.Fprintf(w, "vm: only one -R option allowed\n")
				return &UsageError{Cmd: "vm"}
			}
			ref = v
		case 'f':
			v, err := g.arg()
			if err != nil {
				return err
			}
			flags, ok := parseTaskHex(v)
			if !ok {
				return fmt.Errorf("invalid vm_flags value: %s", v)
			}
			_, err = io.WriteString(w, s.vmFlags(flags))
			return err
		default:
			return usageErr("vm", "invalid option -- '%c'", c)
		}
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	r, err := s.newVmRun(w, tt)
	if err != nil {
		return err
	}
	if err := vmRefOK(ref); err != nil {
		return err
	}
	r.ref = ref
	rest := g.rest()
	if len(rest) == 0 {
		ctx, err := s.Context()
		if err != nil {
			return err
		}
		t := tt.byTask(ctx)
		if t == nil {
			return fmt.Errorf("context task %x is not in the task table", ctx)
		}
		if ref == "" {
			io.WriteString(w, taskHeader(t))
		}
		return r.dump(t)
	}
	subsequent := 0
	var failed error
	for _, a := range rest {
		pid, task, ok := tt.strToContext(a)
		if !ok {
			nl := ""
			if subsequent > 0 {
				nl = "\n"
			}
			subsequent++
			fmt.Fprintf(w, "vm: %sinvalid task or pid value: %s\n", nl, a)
			failed = fmt.Errorf("invalid task or pid value: %s", a)
			continue
		}
		var list []*Task
		if task != 0 {
			list = append(list, tt.byTask(task))
		} else {
			for j := range tt.tasks {
				if tt.tasks[j].PID == pid {
					list = append(list, &tt.tasks[j])
				}
			}
		}
		for _, t := range list {
			if ref == "" {
				nl := ""
				if subsequent > 0 {
					nl = "\n"
				}
				io.WriteString(w, nl+taskHeader(t))
			}
			subsequent++
			if err := r.dump(t); err != nil {
				fmt.Fprintf(w, "vm: %v\n", err)
				failed = err
			}
		}
	}
	if failed != nil {
		return &printedError{err: failed}
	}
	return nil
}

// vmData is crash's PRINT_VM_DATA: the MM PGD RSS TOTAL_VM lines.
func vmData(mm, pgd uint64, mem kernel.TaskMemory, page uint64) string {
	hex := func(v uint64) string { return center(strconv.FormatUint(v, 16), 16, false) }
	return center("MM", 16, false) + "  " + center("PGD", 16, false) + "  " + center("RSS", 6, false) + "  " + center("TOTAL_VM", 8, false) + "\n" +
		hex(mm) + "  " + hex(pgd) + "  " +
		center(fmt.Sprintf("%dk", mem.RSS*page/1024), 6, false) + "  " + center(fmt.Sprintf("%dk", mem.TotalVM*page/1024), 8, false) + "\n"
}

// vmaHeader is crash's vma_header.
var vmaHeader = center("VMA", 16, false) + " " + center("START", 10, true) + " " + center("END", 10, true) + "  FLAGS FILE\n"

// vmaLine is crash's PRINT_VMA_DATA.
func vmaLine(v *kernel.VMAInfo) string {
	return fmt.Sprintf("%s %10x %10x %6x %s\n", center(strconv.FormatUint(v.Addr, 16), 16, false), v.Start, v.End, v.Flags, v.Path)
}

// dump is crash's vm_area_dump() for one task.
func (r *vmRun) dump(t *Task) error {
	s := r.s
	mem, err := r.ps.memUsage(t)
	if err != nil {
		return err
	}
	page := uint64(s.Dump.PageSize())
	mm := t.MM
	var pgd uint64
	if mm != 0 {
		if pgd, err = s.PGD(mm); err != nil {
			return err
		}
	}
	refNum, refHex := false, uint64(0)
	if r.ref != "" && isNumber(r.ref) {
		refNum = true
		refHex, _ = parseTaskHex(r.ref)
	}
	if refNum && mm != 0 && (refHex == mm || refHex == pgd) {
		_, err := io.WriteString(r.w, taskHeader(t)+vmData(mm, pgd, mem, page)+"\n")
		return err
	}
	var b strings.Builder
	if r.ref == "" {
		b.WriteString(vmData(mm, pgd, mem, page))
	}
	if mm == 0 {
		_, err := io.WriteString(r.w, b.String())
		return err
	}
	if r.ref == "" {
		b.WriteString(vmaHeader)
	}
	vmas, err := s.VMAInfos(s.Ctx(), mm)
	found := false
	for i := range vmas {
		v := &vmas[i]
		if r.ref != "" {
			if !(refNum && (refHex == v.Addr || refHex == v.Flags) || v.Path != "" && filenameComponent(v.Path, r.ref)) {
				continue
			}
			if !found {
				b.WriteString(taskHeader(t) + vmData(mm, pgd, mem, page) + vmaHeader)
				found = true
			}
		}
		b.WriteString(vmaLine(v))
	}
	if found {
		b.WriteString("\n")
	}
	io.WriteString(r.w, b.String())
	return err
}

// vmRefOK refuses the -R numbers gocrash cannot search for as crash
// does: crash also compares a number with every page's user address,
// physical address, swap offset and file offset, which gocrash's vm does
// not walk. A kernel address (an mm, pgd or VMA) can be none of those.
func vmRefOK(ref string) error {
	if ref == "" || !isNumber(ref) {
		return nil
	}
	if v, ok := parseTaskHex(ref); ok && v >= kernel.KernelSpaceStart {
		return nil
	}
	return fmt.Errorf("-R %s: gocrash's vm searches for kernel addresses (mm, pgd, VMA), vm_flags values and file names, not for user or physical page addresses", ref)
}

// vm_flags bits (include/linux/mm.h, with crash's names and choices
// among the bits that were reused over the years).
var vmFlagNames = []struct {
	bit  uint64
	name string
}{
	{0x1, "READ"}, {0x2, "WRITE"}, {0x4, "EXEC"}, {0x8, "SHARED"},
	{0x10, "MAYREAD"}, {0x20, "MAYWRITE"}, {0x40, "MAYEXEC"}, {0x80, "MAYSHARE"},
	{0x100, "GROWSDOWN"}, {0x200, ""}, {0x400, "PFNMAP"}, {0x800, "DENYWRITE"},
	{0x1000, "EXECUTABLE"}, {0x2000, "LOCKED"}, {0x4000, "IO"}, {0x8000, "SEQ_READ"},
	{0x10000, "RAND_READ"}, {0x20000, "DONTCOPY"}, {0x40000, "DONTEXPAND"}, {0x80000, "RESERVED"},
	{0x100000, "ACCOUNT"}, {0x400000, "HUGETLB"}, {0x800000, "NONLINEAR"}, {0x1000000, ""},
	{0x2000000, "INSERTPAGE"}, {0x4000000, "ALWAYSDUMP"}, {0x8000000, "CAN_NONLINEAR"},
	{0x10000000, "MIXEDMAP"}, {0x20000000, "SAO"}, {0x40000000, "PFN_AT_MMAP"}, {0x80000000, "MERGEABLE"},
}

// vmFlags is crash's do_vm_flags().
func (s *Session) vmFlags(flags uint64) string {
	var names []string
	for _, f := range vmFlagNames {
		if flags&f.bit == 0 {
			continue
		}
		name := f.name
		switch f.bit {
		case 0x200:
			// VM_GROWSUP where the kernel can grow a stack up
			// (expand_upwards), else VM_NOHUGEPAGE.
			if _, ok := s.Vmlinux.Lookup("expand_upwards"); ok {
				name = "GROWSUP"
			} else {
				name = "NOHUGEPAGE"
			}
		case 0x1000000:
			name = "MAPPED_COPY"
			if t, err := s.Types(); err == nil && t.HasMember("mm_struct", "pmd_huge_pte") {
				name = "HUGEPAGE"
			}
		}
		names = append(names, name)
	}
	return fmt.Sprintf("%x: (%s)\n", flags, strings.Join(names, "|"))
}

// foreachVm runs vm on each task (crash: -p, -m and -v are vm's page
// and struct dumps, not in gocrash's vm; -R passes through).
func foreachVm(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	if f.has('x') && f.has('d') {
		return foreachRunner{}, errors.New("vm: -x and -d options are mutually exclusive")
	}
	n := 0
	for _, c := range []byte{'p', 'm', 'v'} {
		if f.has(c) {
			n++
		}
	}
	if n > 1 {
		return foreachRunner{}, errors.New("vm command accepts only one of -p, -m or -v flags")
	}
	if f.ref != "" && (f.has('m') || f.has('v')) {
		c := 'm'
		if f.has('v') {
			c = 'v'
		}
		return foreachRunner{}, fmt.Errorf("vm: -%c is not applicable to the -R option", c)
	}
	for _, c := range []byte{'p', 'm', 'v'} {
		if f.has(c) {
			return foreachRunner{}, fmt.Errorf("vm -%c is not in gocrash's vm", c)
		}
	}
	r, err := s.newVmRun(w, tt)
	if err != nil {
		return foreachRunner{}, err
	}
	if err := vmRefOK(f.ref); err != nil {
		return foreachRunner{}, err
	}
	r.ref = f.ref
	return foreachRunner{header: true, run: r.dump}, nil
}
