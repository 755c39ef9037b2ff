package commands

// search: crash's memory.c cmd_search over kernel.SearchRanges,
// SearchVirt and SearchPhys, which read each page once, several at a
// time, handing them over in address order; matches print as they are
// found.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gocrash/kernel"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "search",
		Summary:  "search memory",
		Synopsis: "[-s start] [ -[kKV] | -u | -p | -t | -T ] [-e end | -l length] [-m mask]\n         [-x count] -[cwh] [value | (expression) | symbol | string] ...",
		Description: `  This command searches a range of memory for values: 64-bit words by
  default, 32-bit with -w, 16-bit with -h, or strings with -c.  Each match
  is shown as "address: value", with the value's symbol or expression in
  parentheses when it was given as one; a string match shows the string
  and what follows it, up to 56 characters or the end of its page.  By
  default the kernel's virtual memory is searched: the direct map, the
  vmalloc areas, the vmemmap and the kernel image mapping, in that order
  of addresses, each page that the dump holds.`,
		Flags: []Flag{
			{Name: "s", Arg: "start", Help: "where to start: a symbol or a hexadecimal address (the start of the memory type otherwise)."},
			{Name: "e", Arg: "end", Help: "where to stop: a symbol or a hexadecimal address."},
			{Name: "l", Arg: "length", Help: "how many bytes to search from the start."},
			{Name: "m", Arg: "mask", Help: "bits to ignore: a word matches when it equals the value with the mask's bits set in both."},
			{Name: "x", Arg: "count", Help: "also show count words before and after each match, as rd shows memory."},
			{Name: "k", Help: "search kernel virtual memory (the default)."},
			{Name: "K", Help: "search kernel virtual memory, the direct map and the kernel image only."},
			{Name: "V", Help: "search kernel virtual memory, the vmalloc areas and the vmemmap only."},
			{Name: "u", Help: "search the user virtual memory of the current context: from its first VMA on (or -s), to the end of user space (or -e/-l), each page its page tables map and the dump holds; a kernel thread's context has none."},
			{Name: "p", Help: "search physical memory."},
			{Name: "t", Help: "search only the kernel stack of every task (task_struct.stack, THREAD_SIZE bytes); a task's matches follow a task-identifying header (crash's print_task_header). Not with -s, -e, -l or a memory type."},
			{Name: "T", Help: "the same as -t, for the active tasks only (each cpu's current task, and the panic task)."},
			{Name: "w", Help: "search for 32-bit values."},
			{Name: "h", Help: "search for 16-bit values."},
			{Name: "c", Help: "search for strings."},
			{Name: "v", Arg: "value", Help: "crash 8.0.6's getopt takes it (with an argument) but its cmd_search has no case for it: the usage, as crash prints it.", Hidden: true},
		},
		Operands: []Operand{{"value", "a hexadecimal value, a symbol or an expression (a string with -c)."}},
		Examples: `  Where is the task_struct of init referred to from inside itself:

    crash> search -s ff42bab500198000 -l 4096 ff42bab500198000
    ff42bab500198438: ff42bab500198000

  The panic message in memory (the direct map first, then the kernel
  image mapping of the same pages):

    crash> search -c "sysrq triggered"
    ff42bab50d17d128: sysrq triggered crash..sysrq-trigger..3sysrq: Failed to
    ff42bab50d8eccc0: sysrq triggered crash...................................
    ...

  The first words of the current context's user memory (init's, on the
  sample dump: makedumpfile excluded its pages, which an ELF dump gives
  as zeroes):

    crash> search -u -l 32 0
    400000: 0
    400008: 0
    400010: 0
    400018: 0`,
		Run: runSearch,
	})
}

const searchCharsContext = 56 // crash's CHARS_CTX

type searchRun struct {
	s     *Session
	b     *strings.Builder
	flush func()
	// flushed is when the output was last written: a match waits at most
	// flushEvery in the buffer (a search of a big dump prints as it goes).
	flushed time.Time
	width   int // 8, 4, 2; 0 for strings
	mask    uint64
	values  []uint64
	opt     []string // the argument as crash shows it, "" for a plain number
	strs    []string
	phys    bool
	context int // -x: words shown around a match
	// The string search's pending matches that run into the next page.
	cross     []searchCross
	crossNext uint64
}

type searchCross struct {
	addr uint64
	hit  []bool
}

func runSearch(s *Session, args []string, w io.Writer) error {
	var (
		start, end, length, mask uint64
		sflag, endSet            bool
		memType                  memType = -1
		K, V, u, t, T            bool
		umm, upgd                uint64 // -u: the current context's mm_struct and pgd
		mode                     byte
		context                  int
		err                      error
	)
	addrArg := func(v string) (uint64, error) {
		if a, ok := s.Vmlinux.Lookup(v); ok {
			return a, nil
		}
		if !isHexWord(v) {
			return 0, fmt.Errorf("invalid input: \"%s\"", v)
		}
		return parseHex(v)
	}
	var nodes []kernel.Node
	argErr := false // crash's argerrs: -v (in its getopt string, not its switch)
	g := parseFlagsPermuted("search", args)
	for g.next() {
		switch g.flag {
		case "v":
			argErr = true
		case "s":
			if start, err = addrArg(g.val); err != nil {
				return err
			}
			sflag = true
		case "e":
			if end, err = addrArg(g.val); err != nil {
				return err
			}
			if end == 0 {
				return errors.New("invalid ending address: 0")
			}
			endSet = true
		case "l":
			if length, err = ParseNumber(g.val); err != nil {
				return fmt.Errorf("invalid input: \"%s\"", g.val)
			}
		case "m":
			if mask, err = parseHex(g.val); err != nil || !isHexWord(g.val) {
				return fmt.Errorf("invalid input: \"%s\"", g.val)
			}
		case "x":
			if !isDecWord(g.val) {
				return fmt.Errorf("invalid input: \"%s\"", g.val)
			}
			n, _ := ParseNumber(g.val)
			context = int(min(n, 1<<20))
		case "k", "K", "V":
			if !sflag {
				start = s.PageOffset()
			}
			memType, sflag = kvaddr, true
			K = K || g.flag == "K"
			V = V || g.flag == "V"
		case "u":
			mm, pgd, err := s.contextUserSpace()
			if err != nil {
				return errors.New("current context has no user address space")
			}
			umm, upgd = mm, pgd
			if !sflag {
				// address_space_start: the first VMA's start
				start = 0
				s.VMAs(s.Ctx(), mm, func(v kernel.VMA) error {
					start = v.Start
					return kernel.ErrSearchStopped
				})
			}
			memType, sflag, u = uvaddr, true, true
		case "p":
			if nodes == nil {
				if nodes, err = s.Nodes(); err != nil || len(nodes) == 0 {
					return fmt.Errorf("memory nodes: %v", err)
				}
			}
			if !sflag {
				start = nodes[0].StartPFN << 12
			}
			memType, sflag = physaddr, true
		case "t":
			t = true
		case "T":
			T = true
		case "w", "h", "c":
			if mode != 0 {
				fmt.Fprintf(w, "search: WARNING: overriding previously set search mode with \"%s\"\n", g.flag)
			}
			mode = g.flag[0]
		}
	}
	if g.err != nil {
		return g.err
	}
	if t && T {
		return errors.New("-t and -T options are mutually exclusive")
	}
	if (t || T) && (memType >= 0 || u || sflag || endSet || length != 0) {
		c := "t"
		if T {
			c = "T"
		}
		return fmt.Errorf("-%s option cannot be used with other memory-selection options", c)
	}
	if memType < 0 {
		memType = kvaddr
		if !sflag {
			start, sflag = s.PageOffset(), true
		}
	}
	rest := g.rest()
	if argErr || len(rest) == 0 || length != 0 && endSet {
		return &UsageError{Cmd: "search"}
	}
	r := &searchRun{s: s, mask: mask, phys: memType == physaddr, context: context}
	switch mode {
	case 'w':
		r.width = 4
	case 'h':
		r.width = 2
	case 'c':
		r.width = 0
	default:
		r.width = 8
	}
	for _, a := range rest {
		if mode == 'c' {
			if a != "" {
				r.strs = append(r.strs, a)
			}
			continue
		}
		var v uint64
		opt := ""
		switch {
		case strings.HasPrefix(a, "(") || strings.ContainsAny(a, "+-*/&|^%<>") && !isHexWord(a):
			if v, err = EvalAddress(a, s.lookupFunc()); err != nil {
				return fmt.Errorf("invalid expression: %s", a)
			}
			if !strings.HasPrefix(a, "(") {
				opt = "(" + a + ")"
			} else {
				opt = a
			}
		default:
			if sv, ok := s.Vmlinux.Lookup(a); ok {
				v, opt = sv, "("+a+")"
			} else if v, err = parseHex(a); err != nil || !isHexWord(a) {
				return fmt.Errorf("invalid input: \"%s\"", a)
			}
		}
		if mask != 0 {
			opt = ""
		}
		if r.width == 4 && v > 0xffffffff {
			return fmt.Errorf("value too large for -w option: %x %s", v, opt)
		}
		if r.width == 2 && v > 0xffff {
			return fmt.Errorf("value too large for -h option: %x %s", v, opt)
		}
		r.values, r.opt = append(r.values, v), append(r.opt, opt)
	}
	if len(r.values) == 0 && len(r.strs) == 0 {
		return &UsageError{Cmd: "search"}
	}
	if context > 0 {
		if r.width == 0 {
			return errors.New("-x option is not allowed with -c")
		}
		if mx := 4096 / r.width; context > mx {
			return fmt.Errorf("context value %d is too large: maximum is %d", context, mx)
		}
	}
	var b strings.Builder
	r.b = &b
	r.flush = func() {
		io.WriteString(w, b.String())
		b.Reset()
		r.flushed = time.Now()
	}
	r.flushed = time.Now()
	defer r.flush()
	ctx := s.Ctx()
	if t || T {
		return r.taskStacks(T)
	}
	if r.phys {
		if !endSet && length == 0 {
			last := nodes[len(nodes)-1]
			end = (last.StartPFN + last.Pages) << 12
		}
		if length != 0 {
			end = start + length
		}
		if end < start {
			fmt.Fprintf(w, "search: ending address %x is below starting address %x\n", end, start)
			return &UsageError{Cmd: "search"}
		}
		if start&7 != 0 {
			start &^= 7
			fmt.Fprintf(&b, "search: rounding down start address to: %x\n", start)
		}
		return r.walkErr(s.SearchPhys(ctx, start, end, r.scanner(start, end), func(pg kernel.SearchPage) error { return r.page(pg, start, end) }))
	}
	if memType == uvaddr {
		if start >= userTop {
			fmt.Fprintf(w, "search: invalid user virtual address: %x\n", start)
			return &UsageError{Cmd: "search"}
		}
		uend := uint64(s.PageOffset())
		if !endSet && length == 0 {
			end = uend
		} else if length != 0 {
			end = start + length
		}
		if end > uend {
			fmt.Fprintf(w, "search: ending address %x is in kernel space: %x\n", end, uend)
			return &UsageError{Cmd: "search"}
		}
		if end < start {
			fmt.Fprintf(w, "search: ending address %x is below starting address %x\n", end, start)
			return &UsageError{Cmd: "search"}
		}
		return r.userSpace(umm, upgd, start, end)
	}
	ranges, areas, err := s.SearchRanges(ctx)
	if err != nil {
		return err
	}
	if start < s.PageOffset() {
		fmt.Fprintf(w, "search: invalid kernel virtual address: %x\n", start)
		return &UsageError{Cmd: "search"}
	}
	if !endSet && length == 0 {
		for _, rg := range ranges {
			end = max(end, rg.End)
		}
	} else if length != 0 {
		end = start + length
	}
	if end < start {
		fmt.Fprintf(w, "search: ending address %x is below starting address %x\n", end, start)
		return &UsageError{Cmd: "search"}
	}
	for _, rg := range ranges {
		if start >= rg.End || end <= rg.Start {
			continue
		}
		if K && (rg.Kind == kernel.RangeVmalloc || rg.Kind == kernel.RangeVmemmap) {
			continue
		}
		if V && (rg.Kind == kernel.RangeUnity || rg.Kind == kernel.RangeImage) {
			continue
		}
		lo, hi := max(start, rg.Start), min(end, rg.End)
		if lo&7 != 0 {
			lo &^= 7
			fmt.Fprintf(&b, "search: rounding down start address to: %x\n", lo)
		}
		r.crossNext = ^uint64(0)
		if err := r.walkErr(s.SearchVirt(ctx, rg, areas, lo, hi, r.scanner(lo, hi), func(pg kernel.SearchPage) error { return r.page(pg, lo, hi) })); err != nil {
			return err
		}
	}
	return nil
}

// taskStacks is crash's search -t (-T: the active tasks only): each
// task's kernel stack, [task_struct.stack, + THREAD_SIZE), in the task
// table's order; a task's matches follow its print_task_header line
// (after a blank line from the second task on). Pages that cannot be read
// are passed over, as search_virtual does.
func (r *searchRun) taskStacks(activeOnly bool) error {
	s := r.s
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	ty, err := s.Types()
	if err != nil {
		return err
	}
	threadSize, _, err := symbols.StackSizes(ty)
	if err != nil {
		return err
	}
	ctx := s.Ctx()
	out := r.b
	defer func() { r.b = out }()
	var one strings.Builder
	found := 0
	page := make([]byte, 4096)
	for i := range tt.tasks {
		task := &tt.tasks[i]
		if activeOnly && !tt.active[task.Addr] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := s.Object(task.Addr, "task_struct")
		if err != nil {
			continue
		}
		m, err := o.Member("stack")
		if err != nil {
			continue
		}
		base, err := m.Uint()
		if err != nil || base == 0 || base&4095 != 0 {
			continue
		}
		one.Reset()
		r.b = &one
		r.crossNext = ^uint64(0)
		lo, hi := base, base+threadSize
		scan := r.scanner(lo, hi)
		for addr := lo; addr < hi; addr += 4096 {
			if err := s.Mem.ReadVirt(page, addr); err != nil {
				continue
			}
			pg := kernel.SearchPage{Addr: addr, Data: page}
			if scan != nil {
				pg.Found = scan(pg)
			}
			if err := r.page(pg, lo, hi); err != nil {
				return err
			}
		}
		if one.Len() > 0 {
			if found > 0 {
				out.WriteByte('\n')
			}
			out.WriteString(taskHeader(task))
			out.WriteString(one.String())
			found++
			if out.Len() > 1<<16 {
				r.b = out
				r.flush()
			}
		}
	}
	return nil
}

// userSpace is crash's search_virtual over user memory: page by page
// from start to end, a page that no page table maps (or past the end of
// its VMA) passed over to the next page of a VMA (next_upage), a mapped
// page that cannot be read skipped; an ELF dump's excluded pages read as
// zeroes, as in crash.
func (r *searchRun) userSpace(mm, pgd, start, end uint64) error {
	s := r.s
	ctx := s.Ctx()
	var vmas []kernel.VMA
	if err := s.VMAs(ctx, mm, func(v kernel.VMA) error {
		if len(vmas) >= 1<<20 {
			return kernel.ErrSearchStopped
		}
		vmas = append(vmas, v)
		return nil
	}); err != nil && !errors.Is(err, kernel.ErrSearchStopped) {
		return err
	}
	// nextUpage: the first page at or after va that some VMA covers
	nextUpage := func(va uint64) (uint64, bool) {
		va = va&^4095 + 4096
		for _, v := range vmas {
			if va <= v.Start {
				return v.Start, true
			}
			if va < v.End {
				return va, true
			}
		}
		return 0, false
	}
	if start&7 != 0 {
		start &^= 7
		fmt.Fprintf(r.b, "search: rounding down start address to: %x\n", start)
	}
	scan := r.scanner(start, end)
	r.crossNext = ^uint64(0)
	page := make([]byte, 4096)
	n := 0
	for pp, next := start&^4095, start; next < end; next = pp {
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pa, err := s.Mem.UserVirtToPhys(pgd, pp)
		if err != nil {
			np, ok := nextUpage(pp)
			if !ok || np <= pp {
				return nil
			}
			pp = np
			continue
		}
		if err := s.ReadAsCrash(func(p []byte, a uint64) error { return s.Dump.ReadPhys(p, a) }, page, pa); err != nil {
			pp += 4096
			continue
		}
		pg := kernel.SearchPage{Addr: pp, Data: page}
		if scan != nil {
			pg.Found = scan(pg)
		}
		if err := r.page(pg, next, end); err != nil {
			return err
		}
		pp += 4096
	}
	return nil
}

// contextUserSpace is the current context's mm_struct and pgd; a kernel
// thread has neither.
func (s *Session) contextUserSpace() (mm, pgd uint64, err error) {
	task, err := s.Context()
	if err != nil {
		return 0, 0, err
	}
	o, err := s.Object(task, "task_struct")
	if err != nil {
		return 0, 0, err
	}
	m, err := o.Member("mm")
	if err != nil {
		return 0, 0, err
	}
	if mm, err = m.Pointer(); err != nil || mm == 0 {
		return 0, 0, fmt.Errorf("task %#x has no user address space", task)
	}
	pgd, err = s.taskPGD(task)
	return mm, pgd, err
}

func (r *searchRun) walkErr(err error) error {
	if errors.Is(err, kernel.ErrSearchStopped) {
		return nil
	}
	return err
}

// scanner is the word search the reading goroutines run on each page:
// the matches' lines, or nil (strings and -x are searched in page()).
func (r *searchRun) scanner(start, end uint64) kernel.Scan {
	if r.width == 0 || r.context != 0 {
		return nil
	}
	return func(pg kernel.SearchPage) []byte {
		data, addr := pagePart(pg, start, end)
		return r.words(nil, data, addr)
	}
}

// pagePart is the part of a page inside [start, end), and its address.
func pagePart(pg kernel.SearchPage, start, end uint64) ([]byte, uint64) {
	from := uint64(0)
	if start > pg.Addr {
		from = start - pg.Addr
	}
	to := uint64(4096)
	if end < pg.Addr+4096 {
		to = (end - pg.Addr) &^ 7
	}
	if from >= to {
		return nil, 0
	}
	return pg.Data[from:to], pg.Addr + from
}

// words appends the lines of the word matches in data to out.
func (r *searchRun) words(out []byte, data []byte, addr uint64) []byte {
	le := binary.LittleEndian
	if r.width == 8 && len(r.values) == 1 && r.mask == 0 {
		// The value's 8 bytes found by bytes.Index (vectorized), each hit
		// kept when it is word-aligned; a page where the pattern keeps
		// appearing misaligned goes on word by word.
		var pat [8]byte
		le.PutUint64(pat[:], r.values[0])
		i, misses := 0, 0
		for i+8 <= len(data) && misses < 32 {
			j := bytes.Index(data[i:], pat[:])
			if j < 0 {
				return out
			}
			at := i + j
			if at%8 == 0 {
				out = fmt.Appendf(out, "%x: %x %s\n", addr+uint64(at), r.values[0], r.opt[0])
				i = at + 8
				continue
			}
			misses++
			i = at + 1
		}
		for i = (i + 7) &^ 7; i+8 <= len(data); i += 8 {
			if le.Uint64(data[i:]) == r.values[0] {
				out = fmt.Appendf(out, "%x: %x %s\n", addr+uint64(i), r.values[0], r.opt[0])
			}
		}
		return out
	}
	if r.width == 8 && len(r.values) == 1 {
		want := r.values[0] | r.mask
		for i := 0; i+8 <= len(data); i += 8 {
			if v := le.Uint64(data[i:]); v|r.mask == want {
				out = fmt.Appendf(out, "%x: %x %s\n", addr+uint64(i), v, r.opt[0])
			}
		}
		return out
	}
	for i := 0; i+r.width <= len(data); i += r.width {
		var v uint64
		switch r.width {
		case 8:
			v = le.Uint64(data[i:])
		case 4:
			v = uint64(le.Uint32(data[i:]))
		case 2:
			v = uint64(le.Uint16(data[i:]))
		}
		for j, want := range r.values {
			if v|r.mask == want|r.mask {
				out = fmt.Appendf(out, "%x: %x %s\n", addr+uint64(i), v, r.opt[j])
			}
		}
	}
	return out
}

// page prints one page's matches: those its reader found, or (strings,
// -x) its own search of the page's part inside [start, end).
func (r *searchRun) page(pg kernel.SearchPage, start, end uint64) error {
	switch {
	case r.width != 0 && r.context == 0:
		r.b.Write(pg.Found)
	default:
		data, addr := pagePart(pg, start, end)
		if data == nil {
			return nil
		}
		if r.width == 0 {
			r.chars(data, addr)
			break
		}
		le := binary.LittleEndian
		for i := 0; i+r.width <= len(data); i += r.width {
			var v uint64
			switch r.width {
			case 8:
				v = le.Uint64(data[i:])
			case 4:
				v = uint64(le.Uint32(data[i:]))
			case 2:
				v = uint64(le.Uint16(data[i:]))
			}
			for j, want := range r.values {
				if v|r.mask == want|r.mask {
					r.withContext(addr+uint64(i), v, r.opt[j])
				}
			}
		}
	}
	if n := r.b.Len(); n > 1<<14 || n > 0 && time.Since(r.flushed) > flushEvery {
		r.flush()
	}
	return nil
}

// flushEvery bounds how long a match found waits in the buffer.
const flushEvery = 100 * time.Millisecond

// chars is crash's search_chars: matches inside the page show up to 56
// characters from the match or to the page's end; a match that runs into
// the next page, when that page is the next one read, shows the string
// and what follows it there.
func (r *searchRun) chars(p []byte, addr uint64) {
	if r.cross == nil {
		r.cross = make([]searchCross, len(r.strs))
		r.crossNext = ^uint64(0)
	}
	if r.crossNext == addr {
		for j, c := range r.cross {
			target := r.strs[j]
			n := len(target)
			for i := 0; i < n-1; i++ {
				if c.hit[i] && i+1 <= len(p) && string(p[:i+1]) == target[n-1-i:] {
					rest := searchCharsContext - n
					r.report(c.addr+uint64(i), []byte(target), p[i+1:min(len(p), i+1+rest)])
				}
			}
		}
	}
	r.crossNext = addr + uint64(len(p))
	for j := range r.strs {
		n := len(r.strs[j])
		r.cross[j] = searchCross{addr: addr + uint64(len(p)) - uint64(n-1), hit: make([]bool, max(n-1, 0))}
	}
	for i := 0; i < len(p); i++ {
		for j, target := range r.strs {
			n := len(target)
			if i+n > len(p) {
				if string(p[i:]) == target[:len(p)-i] {
					r.cross[j].hit[n+i-len(p)-1] = true
				}
				continue
			}
			if string(p[i:i+n]) == target {
				r.report(addr+uint64(i), p[i:min(len(p), i+searchCharsContext)], nil)
			}
		}
	}
}

func (r *searchRun) report(addr uint64, a, b []byte) {
	fmt.Fprintf(r.b, "%x: ", addr)
	for _, s := range [][]byte{a, b} {
		for _, c := range s {
			if c >= 0x20 && c < 0x7f {
				r.b.WriteByte(c)
			} else {
				r.b.WriteByte('.')
			}
		}
	}
	r.b.WriteByte('\n')
}

// withContext is crash's display_with_pre_and_post: the words before the
// match and after it, as rd shows them (hexadecimal, ASCII at the end of
// the line), around the match's own line.
func (r *searchRun) withContext(addr, v uint64, opt string) {
	mode := map[int]rdMode{8: rd64, 4: rd32, 2: rd16}[r.width]
	mem := kvaddr
	if r.phys {
		mem = physaddr
	}
	read, err := r.s.reader(mem)
	if err != nil {
		return
	}
	show := func(at uint64) {
		r.flush()
		var b strings.Builder
		// crash's NO_ERROR: words it cannot read are left out quietly.
		_ = displayMemory(r.s.Ctx(), &b, rdRequest{mode: mode, flag: rdHex | rdASCIIEndline, mem: mem, addr: at, count: int64(r.context)}, read, nil, r.s.dumpFormat())
		r.b.WriteString(b.String())
	}
	show(addr - uint64(r.context*r.width))
	fmt.Fprintf(r.b, "%16x:  %x %s\n", addr, v, opt)
	show(addr + uint64(r.width))
	r.b.WriteString("\n")
}
