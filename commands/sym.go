package commands

// sym: crash's cmd_sym (symbols.c) over crash's own symbol table
// (symbols.Vmlinux.CrashSymbols: bfd's selection, sorted by value and
// name), so that sym -l and sym -q list what crash lists, in its order.

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "sym",
		Summary:  "translate a symbol to its virtual address, or vice-versa",
		Synopsis: "[-l] | [-M] | [-m module] | [-p|-n] | [-q string] | [symbol | vaddr]",
		Description: `  This command translates a symbol to its virtual address, or a static
  kernel virtual address to its symbol, or to a symbol-plus-offset value
  (the offset in decimal).  The symbol's class is shown in parentheses,
  nm's letter, and for an address in kernel text the source file and line
  number follow.  The table is crash's: every symbol from _text on, and
  the per-cpu symbols before it, sorted by value and then by name.`,
		Flags: []Flag{
			{Name: "l", Help: "dumps all symbols and their values."},
			// crash's module symbol dumps; gocrash does not read module
			// symbol tables yet (Notes): they answer with that.
			{Name: "M", Help: "dumps the current set of module symbols (not available yet: see below)."},
			{Name: "m", Arg: "module", Help: "dumps the current set of symbols for a specified module (not available yet: see below)."},
			{Name: "p", Help: "display the target symbol and the previous symbol."},
			{Name: "n", Help: "display the target symbol and the next symbol."},
			{Name: "q", Arg: "string", Help: `searches for all symbols containing "string".`},
		},
		Operands: []Operand{{"symbol", "a kernel text or data symbol."}, {"vaddr", "a kernel virtual address."}},
		Notes: `  Module symbols (crash's -m, -M, and "[module]" after a module's symbol)
  are not read yet: sym answers from the kernel's own symbol table.`,
		Examples: `  Translate a symbol to its address, and an address inside a function:

    crash> sym jiffies
    ffffffff8fe079c0 (D) jiffies
    crash> sym ffffffff8f7239b9
    ffffffff8f7239b9 (T) schedule+16 /var/cache/gocrash-mkdump/linux-source-6.1/kernel/sched/core.c: 6592

  The symbols around jiffies:

    crash> sym -np jiffies
    ffffffff8fe07980 (D) mod_tree
    ffffffff8fe079c0 (D) jiffies
    ffffffff8fe07a00 (D) jiffies_seq

  Every symbol whose name holds "sched_tick":

    crash> sym -q sched_tick
    ffffffff8f494e18 (t) tick_nohz_restart_sched_tick`,
		Run: runSym,
	})
}

// symTable is crash's symbol table with what sym asks of it.
type symTable struct {
	s    *Session
	syms []symbols.Symbol
	text [][2]uint64 // executable sections, relocated
	lt   *symbols.LineTable
	ltOK bool
}

func (s *Session) symTable() *symTable {
	t := &symTable{s: s, syms: s.Vmlinux.CrashSymbols()}
	t.text = s.Vmlinux.TextRanges()
	return t
}

// inRange is crash's in_ksymbol_range for the kernel's own symbols:
// from _text (per-cpu offsets below it are not addresses) to the last
// symbol.
func (t *symTable) inRange(v uint64) bool {
	if len(t.syms) == 0 {
		return false
	}
	first := uint64(0)
	if a, ok := t.s.Vmlinux.Lookup("_text"); ok {
		first = a
	}
	return v >= t.syms[0].Addr && v >= first && v <= t.syms[len(t.syms)-1].Addr
}

// search is crash's value_search: the symbol at v (the first of those
// there, skipping .text.*, SyS_* and *_text_start aliases) or the last one
// below it, and the offset.
func (t *symTable) search(v uint64) (int, uint64, bool) {
	if !t.inRange(v) {
		return 0, 0, false
	}
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Addr >= v })
	if i < len(t.syms) && t.syms[i].Addr == v {
		next := func() bool { return i+1 < len(t.syms) && t.syms[i+1].Addr == v }
		if strings.HasPrefix(t.syms[i].Name, ".text.") && next() {
			i++
		}
		if (strings.HasPrefix(t.syms[i].Name, "SyS_") || strings.HasPrefix(t.syms[i].Name, "compat_SyS_")) && next() {
			i++
		}
		if strings.Contains(t.syms[i].Name, "_text_start") && strings.HasSuffix(t.syms[i].Name, "_text_start") && next() {
			i++
		}
		return i, 0, true
	}
	if i == 0 {
		return 0, 0, false
	}
	return i - 1, v - t.syms[i-1].Addr, true
}

// isText is crash's is_kernel_text: in an executable section, or named by
// a text symbol.
func (t *symTable) isText(v uint64) bool {
	for _, r := range t.text {
		if v >= r[0] && v < r[1] {
			return true
		}
	}
	if i, _, ok := t.search(v); ok {
		switch t.syms[i].Kind {
		case 'T', 't', 'W', 'w':
			return true
		}
	}
	return false
}

// line is get_line_number's answer for a text address: "file: line", or
// "" where DWARF has none.
func (t *symTable) line(v uint64) string {
	if !t.ltOK {
		t.ltOK = true
		t.lt, _ = symbols.NewLineTable(t.s.Vmlinux)
	}
	if t.lt == nil {
		return ""
	}
	file, line, err := t.lt.Line(v)
	if err != nil {
		return ""
	}
	return lineString(file, line)
}

// show is crash's show_symbol: "addr (K) name[+off]", and for text with
// withLine the source line.
func (t *symTable) show(b *strings.Builder, i int, off uint64, withLine bool) {
	sy := t.syms[i]
	if off != 0 {
		fmt.Fprintf(b, "%x (%c) %s+%d", sy.Addr+off, sy.Kind, sy.Name, off)
	} else {
		fmt.Fprintf(b, "%x (%c) %s", sy.Addr, sy.Kind, sy.Name)
	}
	if withLine && t.isText(sy.Addr+off) {
		b.WriteString(" " + t.line(sy.Addr+off))
	}
	b.WriteByte('\n')
}

// prev and next are crash's prev_symbol and next_symbol: the entry before
// i in the table, and the first after it with a higher value.
func (t *symTable) prev(i int) (int, bool) { return i - 1, i > 0 }

func (t *symTable) next(i int) (int, bool) {
	for j := i + 1; j < len(t.syms); j++ {
		if t.syms[j].Addr > t.syms[i].Addr {
			return j, true
		}
	}
	return 0, false
}

func runSym(s *Session, args []string, w io.Writer) error {
	if s == nil || s.Vmlinux == nil {
		return fmt.Errorf("no vmlinux")
	}
	type opt struct {
		c   byte
		arg string
	}
	var opts []opt
	g := parseFlagsPermuted("sym", args)
	for g.next() {
		if g.flag == "m" || g.flag == "M" {
			return fmt.Errorf("module symbol tables are not read yet: -%s", g.flag)
		}
		opts = append(opts, opt{g.flag[0], g.val})
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	t := s.symTable()
	var b strings.Builder
	flush := func() {
		io.WriteString(w, b.String())
		b.Reset()
	}
	defer flush()
	next, prev, others := false, false, false
	for _, o := range opts {
		switch o.c {
		case 'n':
			next = true
		case 'p':
			prev = true
		case 'q':
			n := 0
			for i, sy := range t.syms {
				if strings.Contains(sy.Name, o.arg) {
					t.show(&b, i, 0, false)
					n = n + 1
				}
			}
			if n == 0 {
				b.WriteString("(none found)\n")
			}
			others = true
		case 'l':
			for i := range t.syms {
				t.show(&b, i, 0, false)
				if b.Len() > 1<<16 {
					flush()
				}
			}
			others = true
		}
	}
	if len(rest) == 0 {
		if !others {
			return &UsageError{Cmd: "sym"}
		}
		return nil
	}
	for _, arg := range rest {
		if _, isSym := s.Vmlinux.Lookup(arg); !isSym && isHexWord(arg) {
			v, err := parseHex(arg)
			if err != nil || !t.inRange(v) {
				flush()
				fmt.Fprintf(w, "sym: invalid address: %s\n", arg)
				continue
			}
			i, off, ok := t.search(v)
			if !ok {
				fmt.Fprintf(&b, "symbol not found: %s\n", arg)
				continue
			}
			if p, ok := t.prev(i); ok && prev {
				t.show(&b, p, 0, true)
			}
			t.show(&b, i, off, true)
			if n, ok := t.next(i); ok && next {
				t.show(&b, n, 0, true)
			}
			continue
		}
		found := false
		for i, sy := range t.syms {
			if sy.Name != arg {
				continue
			}
			found = true
			if p, ok := t.prev(i); ok && prev {
				t.show(&b, p, 0, true)
			}
			t.show(&b, i, 0, true)
			if n, ok := t.next(i); ok && next {
				t.show(&b, n, 0, true)
			}
		}
		if !found {
			fmt.Fprintf(&b, "symbol not found: %s\npossible alternatives:\n", arg)
			n := 0
			for i, sy := range t.syms {
				if strings.Contains(sy.Name, arg) {
					b.WriteString("  ")
					t.show(&b, i, 0, false)
					n++
				}
			}
			if n == 0 {
				b.WriteString("  (none found)\n")
			}
		}
	}
	return nil
}
