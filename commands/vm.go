package commands

// vm: a task's address space, its mm_struct and each VMA (crash's
// memory.c cmd_vm(), vm_area_dump(), do_vm_flags()).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "vm",
		Summary:  "virtual memory",
		Synopsis: "[-p | -P vma | -M mm | -v | -m | -x | -d | [-R reference] [pid | task]]\n     [-f vm_flags]",
		Description: `  This command displays basic virtual memory information of a context,
  consisting of a pointer to its mm_struct and page directory, its RSS and
  total virtual memory size; and a list of pointers to each vm_area_struct,
  its starting and ending address, vm_flags value, and file pathname.  If no
  arguments are entered, the current context is used.  Additionally, the -p
  option translates each virtual page of each VM area to its physical address.
  The -R option, typically invoked from "foreach vm", searches for references
  to a supplied number, address, or filename argument, and prints only the
  essential information leading up to and including the reference.
  Alternatively, the -m or -v options may be used to dump the task's mm_struct
  or all of its vm_area_structs respectively.  The -p, -v, -m, -R and -f
  options are all mutually exclusive.`,
		Flags: []Flag{
			{Name: "p", Help: "translate each virtual page to its physical address, or if the page is not mapped, its swap device and offset, or filename and offset."},
			{Name: "P", Arg: "vma", Help: "similar to -p, but only translate the pages belonging to the specified VM area of a context."},
			{Name: "M", Arg: "mm", Help: "if the mm_struct address has been removed from the task_struct of an exiting task, the virtual memory data cannot be displayed. However, if the address can be determined from the kernel stack, it can be entered manually in order to try to resurrect the virtual memory data of the task. NOTE: this option is only used when the task's mm_struct is NULL."},
			{Name: "R", Arg: "reference", Help: "search for references to this number or filename: a VMA, mm_struct or page directory address, a vm_flags value or a part of a file name."},
			{Name: "m", Help: "dump the mm_struct associated with the task."},
			{Name: "v", Help: "dump all of the vm_area_structs associated with the task."},
			{Name: "x", Help: "override the default output format for the -m or -v options with hexadecimal format."},
			{Name: "d", Help: "override the default output format for the -m or -v options with decimal format."},
			{Name: "f", Arg: "vm_flags", Help: "translate the bits of a FLAGS (vm_flags) value."},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"task", "a hexadecimal task_struct pointer."},
		},
		Examples: `  Display the address space of PID 1:

    crash> vm 1
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
           MM               PGD          RSS    TOTAL_VM
    ff42bab5018b4000  ff42bab501915000  1792k    2256k
          VMA           START       END     FLAGS FILE
    ff42bab501916088     400000     401000     71 /bin/busybox
    ff42bab501916110     401000     585000     75 /bin/busybox
    ...
    ff42bab501916330 7fff30707000 7fff30708000  40075

  The physical page behind each virtual page of PID 1:

    crash> vm -p 1
    PID: 1        TASK: ff42bab500198000  CPU: 0    COMMAND: "init"
           MM               PGD          RSS    TOTAL_VM
    ff42bab5018b4000  ff42bab501915000  1792k    2256k
          VMA           START       END     FLAGS FILE
    ff42bab501916088     400000     401000     71 /bin/busybox
    VIRTUAL     PHYSICAL
    400000       14a4000
    ...

  The mm_struct of PID 1, in hexadecimal:

    crash> vm -x -m 1

  Translate a vm_flags value:

    crash> vm -f 100073
    100073: (READ|WRITE|MAYREAD|MAYWRITE|MAYEXEC|ACCOUNT)

  Which tasks map busybox:

    crash> foreach vm -R busybox`,
		Columns: []Column{
			{"MM", "task_struct.mm: the mm_struct (0 for a kernel thread)"},
			{"PGD", "mm->pgd: the page table root"},
			{"RSS", "resident pages (mm->rss_stat file + anon + shmem) in KiB"},
			{"TOTAL_VM", "mm->total_vm in KiB"},
			{"VMA", "the vm_area_struct, from the maple tree mm->mm_mt (6.1 and later) or the mm->mmap list"},
			{"START, END", "vm_start, vm_end"},
			{"FLAGS", "vm_flags in hexadecimal (vm -f FLAGS names the bits)"},
			{"FILE", "the mapped file's path (vm_file), empty for anonymous memory"},
			{"VIRTUAL, PHYSICAL", "(-p) each page of the VMA and the physical address its PTE maps; else SWAP: device and offset, FILE: path and offset in the file, or (not mapped)"},
		},
		Run: runVm,
	})
	foreachKeywords["vm"] = foreachCommand{start: foreachVm}
}

// vm's display modes (crash's PHYSADDR, PRINT_SINGLE_VMA,
// PRINT_MM_STRUCT, PRINT_VMA_STRUCTS).
const (
	vmPages  = 1 << iota // -p
	vmSingle             // -P vma
	vmMM                 // -m
	vmVMAs               // -v
)

type vmRun struct {
	s       *Session
	w       io.Writer
	ps      *psRun
	ref     string
	mode    int    // vmPages, vmSingle, vmMM, vmVMAs or 0
	single  uint64 // -P's vma
	radix   int    // -x 16, -d 10, else 0
	forceMM uint64 // -M's mm_struct
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
	mode, radix := 0, 0
	var single, forceMM uint64
	argerrs := false
	g := parseFlags("vm", args)
	for g.next() {
		switch g.flag {
		case "M":
			v, ok := parseTaskHex(g.val)
			if !ok || v < kernel.KernelSpaceStart {
				return fmt.Errorf("invalid mm_struct address: %s", g.val)
			}
			forceMM = v
		case "f":
			if mode != 0 {
				argerrs = true
				continue
			}
			flags, ok := parseTaskHex(g.val)
			if !ok {
				return fmt.Errorf("invalid vm_flags value: %s", g.val)
			}
			_, err := io.WriteString(w, s.vmFlags(flags))
			return err
		case "p", "m", "v":
			if mode != 0 {
				argerrs = true
				continue
			}
			mode = map[string]int{"p": vmPages, "m": vmMM, "v": vmVMAs}[g.flag]
		case "P":
			if mode != 0 {
				argerrs = true
				continue
			}
			v, ok := parseTaskHex(g.val)
			if !ok {
				return fmt.Errorf("invalid vma address: %s", g.val)
			}
			mode, single = vmSingle, v
		case "R":
			if refs++; refs > 1 {
				fmt.Fprintf(w, "vm: only one -R option allowed\n")
				argerrs = true
				continue
			}
			if mode != 0 && mode != vmPages {
				argerrs = true
				continue
			}
			ref = g.val
			mode = vmPages
		case "x":
			if err := setRadix(&radix, 16); err != nil {
				return err
			}
		case "d":
			if err := setRadix(&radix, 10); err != nil {
				return err
			}
		}
	}
	if g.err != nil {
		return g.err
	}
	if argerrs {
		return &UsageError{Cmd: "vm"}
	}
	if ref != "" && mode == vmPages {
		mode = 0 // -R searches the VMAs (and, for numbers, their pages)
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	r, err := s.newVmRun(w, tt)
	if err != nil {
		return err
	}
	r.ref, r.mode, r.single, r.radix, r.forceMM = ref, mode, single, radix, forceMM
	return tt.eachTaskArg(s, w, "vm", g.rest(), ref == "", r.dump)
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
	ref := newVmRef(r.ref)
	if ref.num && mm != 0 && (ref.hex == mm || ref.hex == pgd) {
		_, err := io.WriteString(r.w, taskHeader(t)+vmData(mm, pgd, mem, page)+"\n")
		return err
	}
	w := bufio.NewWriter(r.w)
	defer w.Flush()
	if r.ref == "" && (r.mode == 0 || r.mode == vmPages) {
		w.WriteString(vmData(mm, pgd, mem, page))
	}
	if mm == 0 {
		if r.forceMM == 0 {
			return nil
		}
		if err := r.validMM(r.forceMM); err != nil {
			return err
		}
		mm = r.forceMM
		if pgd, err = s.PGD(mm); err != nil {
			return err
		}
	}
	if r.mode == vmMM {
		return r.formatStruct(w, mm, "mm_struct")
	}
	if r.ref == "" && r.mode == 0 {
		w.WriteString(vmaHeader)
	}
	vmas, err := s.VMAInfos(s.Ctx(), mm)
	initMM, _ := s.Vmlinux.Lookup("init_mm")
	header := false // crash's VM_REF_HEADER
	lastVMA := uint64(0)
	vmaShown := false // VM_REF_VMA
	pageShown := false
	singleFound := false
	for i := range vmas {
		v := &vmas[i]
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		if r.mode == vmPages && r.ref == "" {
			w.WriteString(vmaHeader)
		}
		if r.mode == vmSingle {
			if v.Addr != r.single {
				continue
			}
			w.WriteString(vmaHeader)
			singleFound = true
		}
		if r.mode == vmVMAs {
			if err := r.formatStruct(w, v.Addr, "vm_area_struct"); err != nil {
				return err
			}
			continue
		}
		if r.ref != "" {
			showHeader := func() {
				if !header {
					w.WriteString(taskHeader(t) + vmData(mm, pgd, mem, page))
					header = true
				}
			}
			if ref.num && (ref.hex == v.Addr || ref.hex == v.Flags) || v.Path != "" && filenameComponent(v.Path, r.ref) {
				showHeader()
				if !vmaShown || pageShown {
					w.WriteString(vmaHeader)
					vmaShown, pageShown, lastVMA = true, false, v.Addr
				}
				w.WriteString(vmaLine(v))
			}
			if mm == initMM {
				continue
			}
			first, ok, err := r.pageSearch(pgd, v, ref)
			if err != nil {
				return err
			}
			if ok {
				showHeader()
				if !vmaShown || lastVMA != v.Addr {
					w.WriteString(vmaHeader + vmaLine(v))
					vmaShown, lastVMA = true, v.Addr
				}
				if err := r.pageDump(w, pgd, v, ref, first); err != nil {
					return err
				}
				pageShown = true
			}
			continue
		}
		w.WriteString(vmaLine(v))
		if (r.mode == vmPages || r.mode == vmSingle) && mm != initMM {
			if err := r.pageDump(w, pgd, v, nil, v.Start); err != nil {
				return err
			}
		}
	}
	if r.mode == vmSingle && !singleFound {
		w.WriteString("(not found)\n")
	}
	if header {
		w.WriteString("\n")
	}
	return err
}

// vmRef is crash's struct reference for vm -R: the string, and when it is
// a number its hexadecimal value and (when decimal) its decimal one.
type vmRef struct {
	str      string
	num      bool
	hex, dec uint64
}

func newVmRef(s string) *vmRef {
	r := &vmRef{str: s}
	if s != "" && isNumber(s) {
		r.num = true
		r.hex, _ = parseTaskHex(s)
		if d, ok := parseDec(s); ok {
			r.dec = uint64(d)
		}
	}
	return r
}

// pageMatch is vm_area_page_dump()'s test of one page against -R.
func (ref *vmRef) pageMatch(p *kernel.VMAPage) bool {
	if !ref.num && !p.Swap {
		return false
	}
	switch {
	case ref.num && ref.hex == p.VA:
		return true
	case p.Mapped:
		return ref.num && ref.hex == p.Phys
	case p.Swap:
		return ref.num && ref.dec == p.SwapOffset || filenameComponent(p.SwapPath, ref.str)
	case p.File != "":
		return ref.num && ref.hex == p.FileOffset
	}
	return false
}

// pageSearch is vm_area_page_dump()'s search: the first page of the VMA
// the reference names.
func (r *vmRun) pageSearch(pgd uint64, v *kernel.VMAInfo, ref *vmRef) (uint64, bool, error) {
	var first uint64
	found := false
	stop := errors.New("found")
	err := r.s.VMAPages(r.s.Ctx(), pgd, *v, func(p kernel.VMAPage) error {
		if ref.pageMatch(&p) {
			first, found = p.VA, true
			return stop
		}
		return nil
	})
	if err == stop {
		err = nil
	}
	return first, found, err
}

// Widths of vm -p's columns: crash's UVADDR_PRLEN and PADDR_PRLEN on
// x86_64.
const (
	uvaddrPrlen = 10
	paddrPrlen  = 8
)

// pageDump is vm_area_page_dump(): the VIRTUAL PHYSICAL header and each
// page from start on (with a reference, only the pages it names).
func (r *vmRun) pageDump(w *bufio.Writer, pgd uint64, v *kernel.VMAInfo, ref *vmRef, start uint64) error {
	fmt.Fprintf(w, "%-*s  %-*s\n", uvaddrPrlen, "VIRTUAL", paddrPrlen, "PHYSICAL")
	return r.s.VMAPages(r.s.Ctx(), pgd, *v, func(p kernel.VMAPage) error {
		if p.VA < start || ref != nil && !ref.pageMatch(&p) {
			return nil
		}
		switch {
		case p.Mapped:
			fmt.Fprintf(w, "%-*x  %*x\n", uvaddrPrlen, p.VA, paddrPrlen, p.Phys)
		case p.Swap:
			fmt.Fprintf(w, "%-*x  SWAP: %s  OFFSET: %d\n", uvaddrPrlen, p.VA, p.SwapPath, p.SwapOffset)
		case p.File != "":
			fmt.Fprintf(w, "%-*x  FILE: %s  OFFSET: %x\n", uvaddrPrlen, p.VA, p.File, p.FileOffset)
		default:
			fmt.Fprintf(w, "%-*x  (not mapped)\n", uvaddrPrlen, p.VA)
		}
		return nil
	})
}

// formatStruct prints the structure at addr as crash's dump_struct does
// for vm -m and -v, in the radix asked for.
func (r *vmRun) formatStruct(w io.Writer, addr uint64, typ string) error {
	t, err := r.s.Types()
	if err != nil {
		return err
	}
	obj, err := t.Object(r.s.Mem, addr, typ)
	if err != nil {
		return err
	}
	return r.s.FormatObject(w, obj, r.radix == 16)
}

// validMM is crash's is_valid_mm() for -M: an object of the mm_struct
// slab cache whose mm_count is not 0.
func (r *vmRun) validMM(mm uint64) error {
	name, ok := r.s.SlabCacheOf(mm)
	if !ok || !strings.HasPrefix(name, "mm_struct") {
		return errors.New("invalid mm_struct address")
	}
	t, err := r.s.Types()
	if err != nil {
		return err
	}
	obj, err := t.Object(r.s.Mem, mm, "mm_struct")
	if err != nil {
		return err
	}
	m, err := obj.Member("mm_count")
	if err != nil {
		return err
	}
	c, err := m.Member("counter")
	if err != nil {
		return err
	}
	n, err := c.Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("stale mm_struct address")
	}
	return nil
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

// foreachVm runs vm on each task: -p, -m, -v (with -x or -d) and -R
// as vm's.
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
	r, err := s.newVmRun(w, tt)
	if err != nil {
		return foreachRunner{}, err
	}
	switch {
	case f.has('p'):
		r.mode, r.ref = vmPages, f.ref
		if f.ref != "" {
			r.mode = 0
		}
	case f.has('m'):
		r.mode = vmMM
	case f.has('v'):
		r.mode = vmVMAs
	default:
		r.ref = f.ref
	}
	if r.mode == vmMM || r.mode == vmVMAs {
		if f.has('x') {
			r.radix = 16
		} else if f.has('d') {
			r.radix = 10
		}
	}
	return foreachRunner{header: true, run: r.dump}, nil
}
