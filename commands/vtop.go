package commands

// vtop, ptov, btop, ptob: crash's memory.c cmd_vtop/do_vtop, cmd_ptov,
// cmd_btop, cmd_ptob, with x86_64.c's x86_64_kvtop page-table walk lines
// and x86_64_translate_pte, and dump_mem_map's line for the page. The walk
// itself is vmcore.KernelSpace.WalkKernel/WalkUser; the page descriptor
// kernel.MemMap.

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
	"gocrash/vmcore"
)

func init() {
	register(Command{
		Name:     "vtop",
		Summary:  "virtual to physical",
		Synopsis: "[-c [pid | taskp]] [-u|-k] address ...",
		Description: `  This command translates a user or kernel virtual address to its physical
  address, showing the page-table walk (on 5-level paging kernels, with
  LA57, the PGD, P4D, PUD, PMD and PTE entries; with 4-level paging PGD,
  PUD, PMD and PTE), the flags of the entry that maps the page, and the
  page's struct page: its address, physical address, mapping, index,
  reference count and flags by name.  The address is hexadecimal.`,
		Flags: []Flag{
			{Name: "u", Help: "the address is a user virtual address in the current context (or -c's), whose page tables are walked."},
			{Name: "k", Help: "the address is a kernel virtual address."},
			{Name: "c", Arg: "pid | taskp", Help: "translate with the page tables of this task, by pid or task_struct address; the current context otherwise."},
		},
		Operands: []Operand{{"address", "a user or kernel virtual address, in hexadecimal."}},
		Notes: `  A user address that no mapping of the task holds is "not accessible";
  crash then also lists the task's VMA that holds the address, which
  gocrash does not show yet: a user address is refused when a mapping of
  the task holds it.`,
		Examples: `  Translate the address of a task_struct in the direct map:

    crash> vtop ff42bab500198000
    VIRTUAL           PHYSICAL
    ff42bab500198000  198000

    PGD DIRECTORY: ffffffff8d80a000
    PAGE DIRECTORY: da00067
       P4D: da00ba8 => da01067
       PUD: da016a0 => da02067
       PMD: da02000 => da03067
       PTE: da03cc0 => 8000000000198163
      PAGE: 198000

          PTE         PHYSICAL  FLAGS
    8000000000198163   198000   (PRESENT|RW|ACCESSED|DIRTY|GLOBAL|NX)

          PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS
    ffcc70a040006600   198000 ff42bab500155700        0  1 10200 slab,head

  An address in kernel text, mapped by a 2 MB page:

    crash> vtop ffffffff8cdb088f`,
		Run: runVtop,
	})
	register(Command{
		Name:     "ptov",
		Summary:  "physical to virtual",
		Synopsis: "[address | offset:cpuspec]",
		Description: `  This command translates a hexadecimal physical address into its kernel
  virtual address in the direct map, or a per-cpu offset and cpu
  specification into the per-cpu addresses of those cpus.`,
		Operands: []Operand{
			{"address", "a physical address."},
			{"offset:cpuspec", `a per-cpu offset with a cpu list ("1", "0,3", "1-2", "a" for all, or nothing for the current context's cpu).`},
		},
		Examples: `    crash> ptov 1000
    VIRTUAL           PHYSICAL
    ff42bab500001000  1000
    crash> ptov 1000:a
    PER-CPU OFFSET: 1000
      CPU    VIRTUAL
      [0]  ff42bab50e601000
      [1]  ff42bab50e701000`,
		Run: runPtov,
	})
	register(Command{
		Name:        "btop",
		Summary:     "bytes to page",
		Synopsis:    "address ...",
		Description: `  This command translates a hexadecimal address to its page frame number.`,
		Operands:    []Operand{{"address", "a hexadecimal address."}},
		Examples: `    crash> btop 12345678
    12345678: 12345`,
		Run: runBtop,
	})
	register(Command{
		Name:        "ptob",
		Summary:     "page to bytes",
		Synopsis:    "page_number ...",
		Description: `  This command translates a page frame number to its byte address.`,
		Operands:    []Operand{{"page_number", "a page frame number, decimal when all digits, else hexadecimal."}},
		Examples: `    crash> ptob 10
    a: a000`,
		Run: runPtob,
	})
}

// Facts: arch/x86/include/asm/pgtable_types.h (_PAGE_* bits),
// page_64_types.h (__START_KERNEL_map, TASK_SIZE_MAX with 4 and 5 levels).
const (
	pteRW       = 1 << 1
	pteUser     = 1 << 2
	ptePWT      = 1 << 3
	ptePCD      = 1 << 4
	pteAccessed = 1 << 5
	pteDirty    = 1 << 6
	ptePSE      = 1 << 7
	pteGlobal   = 1 << 8
	pteProtNone = pteGlobal
	pteNX       = 1 << 63
	ptePhysMask = 0x000ffffffffff000

	userTopL4 = 0x0000800000000000
	userTopL5 = 0x0100000000000000
)

// vtopRun is one vtop command: what its addresses share.
type vtopRun struct {
	s          *Session
	w          io.Writer
	mm         *kernel.MemMap
	mmErr      error
	flags      []kernel.PageFlag
	headerDone bool

	js *[]VtopJSON // vtop's JSON: each address's translation (json_vtop.go)
}

func runVtop(s *Session, args []string, w io.Writer) error {
	return vtopInto(s, args, w, nil)
}

// vtopInto is vtop, also collecting each address's translation into js
// when it is not nil (vtop's JSON).
func vtopInto(s *Session, args []string, w io.Writer, js *[]VtopJSON) error {
	var user, kern bool
	var ctxArg string
	g := parseFlagsPermuted("vtop", args)
	for g.next() {
		switch g.flag {
		case "u":
			user = true
		case "k":
			kern = true
		case "c":
			ctxArg = g.val
		}
	}
	if g.err != nil {
		return g.err
	}
	addrs := g.rest()
	if len(addrs) == 0 {
		return &UsageError{Cmd: "vtop"}
	}
	var task uint64
	if ctxArg != "" {
		tt, err := s.taskTable()
		if err != nil {
			return err
		}
		t, err := tt.lookup(ctxArg)
		if err != nil {
			return fmt.Errorf("invalid task or pid value: %s", ctxArg)
		}
		task = t.Addr
	} else {
		t, err := s.Context()
		if err != nil {
			return fmt.Errorf("no current user process: %w", err)
		}
		task = t
	}
	if user && kern {
		return errors.New("-u and -k options are mutually exclusive")
	}
	r := &vtopRun{s: s, w: w, js: js}
	for i, a := range addrs {
		va, err := parseHex(a)
		if err != nil || !isHexWord(a) {
			return fmt.Errorf("invalid input: \"%s\"", a)
		}
		if err := r.one(task, va, user, kern, i > 0); err != nil {
			return err
		}
	}
	return nil
}

// one is crash's do_vtop() for one address of task's address space: a
// user address (below the top of user space, or -u) through the task's
// page tables, else a kernel one; sep puts a blank line before it.
func (r *vtopRun) one(task, va uint64, user, kern, sep bool) error {
	kind := "k"
	switch {
	case user:
		kind = "u"
	case kern:
	case va < r.userTop():
		kind = "u"
	case va < r.s.PageOffset():
		return fmt.Errorf("ambiguous address: %x  (requires -u or -k)", va)
	}
	if sep {
		io.WriteString(r.w, "\n")
	}
	r.jsStart(va, kind == "u")
	if kind == "u" {
		return r.user(task, va)
	}
	return r.kernel(va)
}

func (r *vtopRun) userTop() uint64 {
	if r.s.Mem.FiveLevel() {
		return userTopL5
	}
	return userTopL4
}

func (r *vtopRun) kernel(va uint64) error {
	var b strings.Builder
	defer func() { io.WriteString(r.w, b.String()) }()
	fmt.Fprintf(&b, "%-16s  %-16s\n", "VIRTUAL", "PHYSICAL")
	if va < r.s.PageOffset() {
		fmt.Fprintf(&b, "%-8x  (not a kernel virtual address)\n\n", va)
		return nil
	}
	walk, werr := r.s.Mem.WalkKernel(va)
	// crash's kvtop: the direct map and the kernel image by arithmetic,
	// everything else (vmalloc, vmemmap, modules) by the page tables.
	phys, mapped := r.s.KVToP(va)
	r.jsTranslation(true, mapped, phys)
	if mapped {
		fmt.Fprintf(&b, "%-16x  %-16x\n\n", va, phys)
	} else {
		fmt.Fprintf(&b, "%-16x  (not mapped)\n\n", va)
	}
	pgd, _ := r.s.Vmlinux.Lookup("init_top_pgt")
	fmt.Fprintf(&b, "PGD DIRECTORY: %x\n", pgd)
	r.jsPGD(pgd)
	if err := r.walkLines(&b, walk, true); err != nil {
		return err
	}
	if werr != nil {
		b.WriteString("\n")
		return werr
	}
	b.WriteString("\n")
	if mapped {
		return r.pageLine(&b, phys)
	}
	return nil
}

// walkLines prints the entries of a walk as x86_64_kvtop/uvtop do: the
// kernel's top entry as "PAGE DIRECTORY", a user walk's as "PGD: a => v".
func (r *vtopRun) walkLines(b *strings.Builder, w vmcore.PTWalk, kernelWalk bool) error {
	r.jsWalk(w)
	for i, st := range w.Steps {
		if i == 0 && kernelWalk {
			fmt.Fprintf(b, "PAGE DIRECTORY: %x\n", st.Entry)
		} else {
			fmt.Fprintf(b, "   %s: %x => %x\n", st.Level, st.Addr, st.Entry)
		}
	}
	if len(w.Steps) == 0 {
		return nil
	}
	last := w.Steps[len(w.Steps)-1]
	if !w.Mapped {
		if last.Level == "PTE" && last.Entry != 0 {
			// A swap or migration entry: crash names its swap device and
			// offset (swap_location), which gocrash does not read yet.
			return fmt.Errorf("PTE %x is not present: a swap entry, not decoded", last.Entry)
		}
		return nil
	}
	base := last.Entry & ptePhysMask
	switch w.PageSize {
	case 1 << 30:
		fmt.Fprintf(b, "  PAGE: %x  (1GB)\n\n", base)
	case 2 << 20:
		if kernelWalk {
			fmt.Fprintf(b, "  PAGE: %x  (2MB)\n\n", base)
		} else {
			fmt.Fprintf(b, "  PAGE: %x  (2MB%s)\n\n", base, "")
		}
	default:
		if kernelWalk {
			fmt.Fprintf(b, "  PAGE: %x\n\n", base)
		} else {
			fmt.Fprintf(b, "  PAGE: %x  %s\n\n", base, "")
		}
	}
	writePTE(b, last.Entry)
	return nil
}

// writePTE is x86_64_translate_pte for a present entry.
func writePTE(b *strings.Builder, pte uint64) {
	ptes := fmt.Sprintf("%x", pte)
	phys := fmt.Sprintf("%x", pte&ptePhysMask)
	l1, l2 := max(len(ptes), 3), max(len(phys), len("PHYSICAL"))
	fmt.Fprintf(b, "%s  %s  FLAGS\n", center("PTE", l1, false), center("PHYSICAL", l2, false))
	fmt.Fprintf(b, "%s  %s  (", center(ptes, l1, true), center(phys, l2, true))
	var names []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{pte&ptePresentBit != 0, "PRESENT"}, {pte&pteRW != 0, "RW"}, {pte&pteUser != 0, "USER"},
		{pte&ptePWT != 0, "PWT"}, {pte&ptePCD != 0, "PCD"}, {pte&pteAccessed != 0, "ACCESSED"},
		{pte&pteDirty != 0, "DIRTY"}, {pte&ptePSE != 0 && pte&ptePresentBit != 0, "PSE"},
		{pte&pteProtNone != 0 && pte&ptePresentBit == 0, "PROTNONE"}, {pte&pteGlobal != 0, "GLOBAL"},
		{pte&pteNX != 0, "NX"},
	} {
		if f.on {
			names = append(names, f.name)
		}
	}
	if pte == 0 {
		names = []string{"no mapping"}
	}
	b.WriteString(strings.Join(names, "|") + ")\n")
}

const ptePresentBit = 1

// pageLine is dump_mem_map's answer for one physical address: the header
// once per command, then the page's line.
func (r *vtopRun) pageLine(b *strings.Builder, phys uint64) error {
	if r.mm == nil && r.mmErr == nil {
		r.mm, r.mmErr = r.s.MemMap()
		if r.mmErr == nil {
			r.flags, r.mmErr = r.s.PageFlags()
		}
	}
	if r.mmErr != nil {
		return r.mmErr
	}
	page, ok, err := r.mm.PageOf(phys)
	if err != nil || !ok {
		return err
	}
	p, err := r.mm.Page(page, phys)
	if err != nil {
		return err
	}
	pw := r.s.paddrWidth()
	if !r.headerDone {
		r.headerDone = true
		fmt.Fprintf(b, "%s %s %s %sCNT FLAGS\n", center("PAGE", 16, false), fmt.Sprintf("%*s", pw, "PHYSICAL"),
			center("MAPPING", 16, true), center("INDEX", 8, true))
	}
	fmt.Fprintf(b, "%-16x %*x %16x %8x %2d %s\n", p.Addr, pw, p.Phys, p.Mapping, p.Index, p.Count, pageFlagString(p.Flags, r.flags))
	r.jsPage(p.Addr, p.Mapping, p.Index, int64(p.Count), p.Flags)
	return nil
}

// pageFlagString is crash's translate_page_flags: the flags in hex, then
// the names of the set ones.
func pageFlagString(flags uint64, names []kernel.PageFlag) string {
	s := fmt.Sprintf("%x", flags)
	if flags == 0 {
		return s
	}
	sep := " "
	for _, n := range names {
		if flags&n.Mask != 0 {
			s += sep + n.Name
			sep = ","
		}
	}
	return s
}

// paddrWidth is crash's MAX(PADDR_PRLEN, strlen("PHYSICAL")): PADDR_PRLEN
// is the width of the highest physical address, max_pfn pages.
func (s *Session) paddrWidth() int {
	w := 8
	if o, err := s.Var("max_pfn"); err == nil {
		if n, err := o.Uint(); err == nil {
			w = max(w, len(fmt.Sprintf("%x", n<<12)))
		}
	}
	return w
}

// user is do_vtop's UVADDR case.
func (r *vtopRun) user(task, va uint64) error {
	var b strings.Builder
	defer func() { io.WriteString(r.w, b.String()) }()
	fmt.Fprintf(&b, "%-10s  %-16s\n", "VIRTUAL", "PHYSICAL")
	in, err := r.s.inTaskVMA(task, va)
	if err != nil {
		return err
	}
	if !in {
		fmt.Fprintf(&b, "%-10x  (not accessible)\n\n", va)
		return nil
	}
	// crash's do_vtop() for UVADDR: the translation, the walk
	// (uvtop VERBOSE), the VMA holding the address (vm_area_dump with
	// UVADDR), the file offset of an unmapped page, the struct page.
	mm, err := r.s.MM(task)
	if err != nil {
		return err
	}
	pgd, err := r.s.PGD(mm)
	if err != nil {
		return err
	}
	walk, err := r.s.Mem.WalkUser(pgd, va)
	if err != nil {
		return err
	}
	r.jsTranslation(true, walk.Mapped, walk.Phys)
	r.jsPGD(pgd)
	if walk.Mapped {
		fmt.Fprintf(&b, "%-10x  %-16x\n\n", va, walk.Phys)
	} else {
		fmt.Fprintf(&b, "%-10x  (not mapped)\n\n", va)
	}
	if err := r.walkLines(&b, walk, false); err != nil {
		return err
	}
	b.WriteString("\n")
	vmas, err := r.s.VMAInfos(r.s.Ctx(), mm)
	if err != nil {
		return err
	}
	for i := range vmas {
		v := &vmas[i]
		if va < v.Start || va >= v.End {
			continue
		}
		b.WriteString(vmaHeader + vmaLine(v))
		r.jsVMA(v.Addr)
		if !walk.Mapped && v.File != 0 && v.Path != "" {
			fmt.Fprintf(&b, "\nFILE: %s  OFFSET: %x\n", v.Path, ((va-v.Start)>>12+v.PgOff)<<12)
		}
		break
	}
	b.WriteString("\n")
	if walk.Mapped {
		return r.pageLine(&b, walk.Phys&^0xfff)
	}
	return nil
}

func runPtov(s *Session, args []string, w io.Writer) error {
	g := parseFlags("ptov", args)
	for g.next() {
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	if len(rest) == 0 {
		return &UsageError{Cmd: "ptov"}
	}
	var b strings.Builder
	defer func() { io.WriteString(w, b.String()) }()
	for i, a := range rest {
		sep := ""
		if i > 0 {
			sep = "\n"
		}
		addr, spec, perCPU := strings.Cut(a, ":")
		v, err := parseHex(addr)
		if err != nil || !isHexWord(addr) {
			return fmt.Errorf("invalid input: \"%s\"", addr)
		}
		if !perCPU {
			fmt.Fprintf(&b, "%s%-16s  %-16s\n", sep, "VIRTUAL", "PHYSICAL")
			fmt.Fprintf(&b, "%-16x  %-16x\n", v+s.PageOffset(), v)
			continue
		}
		n, err := s.NumCPUs()
		if err != nil {
			return err
		}
		set := map[int]bool{}
		if spec == "" {
			task, err := s.Context()
			if err != nil {
				return err
			}
			tt, err := s.taskTable()
			if err != nil {
				return err
			}
			t := tt.byTask(task)
			if t == nil {
				return fmt.Errorf("no current context")
			}
			set[t.CPU] = true
		} else if set, err = parseCPUList(spec, n); err != nil {
			return err
		}
		var cpus []int
		for c := 0; c < n; c++ {
			if set[c] {
				cpus = append(cpus, c)
			}
		}
		width := len(fmt.Sprintf("[%d]", n-1)) + 2
		fmt.Fprintf(&b, "%sPER-CPU OFFSET: %x\n", sep, v)
		fmt.Fprintf(&b, "  %-*s  %-16s\n", width, "CPU", "VIRTUAL")
		for _, c := range cpus {
			off, err := s.PerCPUOffset(c)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "  %-*s%x\n", width, fmt.Sprintf("[%d]", c), v+off)
		}
	}
	return nil
}

func runBtop(s *Session, args []string, w io.Writer) error {
	return btopInto(args, w, nil)
}

// btopInto is btop, also collecting each conversion into js when it is
// not nil (btop's JSON).
func btopInto(args []string, w io.Writer, js *[]ConvJSON) error {
	if len(args) == 0 {
		return &UsageError{Cmd: "btop"}
	}
	var b strings.Builder
	defer func() { io.WriteString(w, b.String()) }()
	for _, a := range args {
		v, err := parseHex(a)
		if err != nil || !isHexWord(a) {
			return fmt.Errorf("invalid input: \"%s\"", a)
		}
		fmt.Fprintf(&b, "%x: %x\n", v, v>>12)
		if js != nil {
			*js = append(*js, ConvJSON{Input: Addr(v), Output: Addr(v >> 12)})
		}
	}
	return nil
}

func runPtob(s *Session, args []string, w io.Writer) error {
	return ptobInto(args, w, nil)
}

// ptobInto is ptob, also collecting each conversion into js when it is
// not nil (ptob's JSON).
func ptobInto(args []string, w io.Writer, js *[]ConvJSON) error {
	if len(args) == 0 {
		return &UsageError{Cmd: "ptob"}
	}
	var b strings.Builder
	defer func() { io.WriteString(w, b.String()) }()
	for _, a := range args {
		v, err := ParseNumber(a)
		if err != nil {
			return fmt.Errorf("not a valid number: %s", a)
		}
		fmt.Fprintf(&b, "%x: %x\n", v, v<<12)
		if js != nil {
			*js = append(*js, ConvJSON{Input: Addr(v), Output: Addr(v << 12)})
		}
	}
	return nil
}

// inTaskVMA is crash's IN_TASK_VMA: whether one of task's VMAs holds va.
func (s *Session) inTaskVMA(task, va uint64) (bool, error) {
	o, err := s.Object(task, "task_struct")
	if err != nil {
		return false, err
	}
	mmo, err := o.Member("mm")
	if err != nil {
		return false, err
	}
	mm, err := mmo.Pointer()
	if err != nil || mm == 0 {
		return false, err
	}
	in := false
	err = s.VMAs(s.Ctx(), mm, func(v kernel.VMA) error {
		if va >= v.Start && va < v.End {
			in = true
			return errStop
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	return in, err
}

func init() { foreachKeywords["vtop"] = foreachCommand{start: foreachVtop} }

// foreachVtop is foreach's vtop keyword: each address (the words after
// vtop) translated in each task's address space, -u and -k as vtop's.
func foreachVtop(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	if len(f.args) == 0 {
		return foreachRunner{}, errors.New("foreach command requires address argument")
	}
	if f.ref != "" {
		return foreachRunner{}, errors.New("vtop command does not support -R option")
	}
	if f.has('u') && f.has('k') {
		return foreachRunner{}, errors.New("vtop: -u and -k options are mutually exclusive")
	}
	// -c is crash's USE_USER_PGD: a kernel address through the task's own
	// page tables. On x86_64 crash answers it as without -c (the kernel
	// half of every pgd is init_top_pgt's: "PGD DIRECTORY" names that),
	// as crash 8.0.6 does on the committed dumps, so it changes nothing.
	var addrs []uint64
	for _, a := range f.args {
		va, err := parseHex(a)
		if err != nil || !isHexWord(a) {
			return foreachRunner{}, fmt.Errorf("invalid input: \"%s\"", a)
		}
		addrs = append(addrs, va)
	}
	r := &vtopRun{s: s, w: w}
	return foreachRunner{header: true, run: func(t *Task) error {
		for _, va := range addrs {
			if err := r.one(t.Addr, va, f.has('u'), f.has('k'), false); err != nil {
				fmt.Fprintf(w, "vtop: %v\n", err)
			}
		}
		return nil
	}}, nil
}
