package commands

// sym: crash's cmd_sym (symbols.c) over crash's own symbol table
// (symbols.Vmlinux.CrashSymbols: bfd's selection, sorted by value and
// name), so that sym -l and sym -q list what crash lists, in its order.

import (
	"fmt"
	"gocrash/kernel"
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
			{Name: "M", Help: "dumps the current set of module symbols."},
			{Name: "m", Arg: "module", Help: "dumps the current set of symbols for a specified module."},
			{Name: "p", Help: "display the target symbol and the previous symbol."},
			{Name: "n", Help: "display the target symbol and the next symbol."},
			{Name: "q", Arg: "string", Help: `searches for all symbols containing "string".`},
			{Name: "Q", Arg: "string", Help: `counts the symbols containing "string" and names the last of them, "N found (name)".`, Hidden: true},
			{Name: "L", Help: "the same as -l (crash keeps it as an obsolete spelling).", Hidden: true},
			{Name: "s", Help: "show the symbol's section instead of its source line, as crash finds it: the vmlinux's sections at their link-time addresses, so under KASLR \"[]\" but for per-cpu symbols; a module's symbol is \"[in MODULE module]\".", Hidden: true},
		},
		Operands: []Operand{{"symbol", "a kernel text or data symbol."}, {"vaddr", "a kernel virtual address."}},
		Notes: `  A module's symbols are its exported and kallsyms symbols, as crash has
  them before "mod -s" loads the module's object file: no source lines.`,
		Examples: `  Translate a symbol to its address, and an address inside a function:

    crash> sym jiffies
    ffffffff8d8079c0 (D) jiffies
    crash> sym ffffffff8cdb088f
    ffffffff8cdb088f (T) schedule+16 /var/cache/gocrash-mkdump-2/linux-source-6.1/kernel/sched/core.c: 6614

  The symbols around jiffies:

    crash> sym -np jiffies
    ffffffff8d807980 (D) mod_tree
    ffffffff8d8079c0 (D) jiffies
    ffffffff8d807a00 (D) jiffies_seq

  Every symbol whose name holds "sched_tick":

    crash> sym -q sched_tick
    ffffffff8ca96428 (t) tick_nohz_restart_sched_tick

  How many, and the last of them; and a symbol's section (crash compares
  the relocated address with the vmlinux's link-time sections: under
  KASLR only the per-cpu ones still match):

    crash> sym -Q sched_tick
    1 found (tick_nohz_restart_sched_tick)
    crash> sym -s jiffies
    ffffffff8d8079c0 (D) jiffies []
    crash> sym -s __per_cpu_start
    0 (D) __per_cpu_start [.data..percpu]`,
		Run: runSym,
	})
}

// symTable is crash's symbol table with what sym asks of it: the
// kernel's (syms, by index) and the modules' (mods, read on first use).
type symTable struct {
	s    *Session
	syms []symbols.Symbol
	text [][2]uint64 // executable sections, relocated
	lt   *symbols.LineTable
	ltOK bool

	modsRead bool
	mods     []kernel.ModuleSymTable
	modsErr  error

	js *[]SymJSON // sym's JSON: each line show prints (json_sym.go)

	sections bool // sym -s: show prints the section, not the source line
}

// symRef names one symbol of the table: the kernel's syms[i] (mod < 0)
// or mods[mod].Syms[i].
type symRef struct{ mod, i int }

func (s *Session) symTable() *symTable {
	return &symTable{s: s, syms: s.Vmlinux.CrashSymbols(), text: s.Vmlinux.TextRanges()}
}

// modules returns the module tables (nil and the error when they cannot
// be read).
func (t *symTable) modules() ([]kernel.ModuleSymTable, error) {
	if !t.modsRead {
		t.modsRead = true
		t.mods, t.modsErr = t.s.ModuleSymbolTables(t.s.Ctx())
	}
	return t.mods, t.modsErr
}

func (t *symTable) sym(r symRef) (name string, addr uint64, kind byte) {
	if r.mod < 0 {
		sy := t.syms[r.i]
		return sy.Name, sy.Addr, sy.Kind
	}
	sy := t.mods[r.mod].Syms[r.i]
	return sy.Name, sy.Addr, sy.Kind
}

// moduleOf is crash's module_symbol(): the module whose core (or init)
// memory holds v.
func (t *symTable) moduleOf(v uint64) int {
	mods, _ := t.modules()
	for i := range mods {
		if mods[i].Contains(v) {
			return i
		}
	}
	return -1
}

// inRange is crash's in_ksymbol_range: from _text (per-cpu offsets below
// it are not addresses) to the last kernel symbol, or in a module.
func (t *symTable) inRange(v uint64) bool {
	if t.inKernelRange(v) {
		return true
	}
	return t.moduleOf(v) >= 0
}

func (t *symTable) inKernelRange(v uint64) bool {
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
// below it, and the offset; in a module, value_search_module's answer.
func (t *symTable) search(v uint64) (symRef, uint64, bool) {
	if t.inKernelRange(v) {
		i, off, ok := t.searchKernel(v)
		return symRef{-1, i}, off, ok
	}
	m := t.moduleOf(v)
	if m < 0 {
		return symRef{}, 0, false
	}
	i, off, ok := searchModule(t.mods[m], v)
	return symRef{m, i}, off, ok
}

func (t *symTable) searchKernel(v uint64) (int, uint64, bool) {
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Addr >= v })
	if i < len(t.syms) && t.syms[i].Addr == v {
		next := func() bool { return i+1 < len(t.syms) && t.syms[i+1].Addr == v }
		if strings.HasPrefix(t.syms[i].Name, ".text.") && next() {
			i++
		}
		if (strings.HasPrefix(t.syms[i].Name, "SyS_") || strings.HasPrefix(t.syms[i].Name, "compat_SyS_")) && next() {
			i++
		}
		if strings.HasSuffix(t.syms[i].Name, "_text_start") && next() {
			i++
		}
		return i, 0, true
	}
	if i == 0 {
		return 0, 0, false
	}
	return i - 1, v - t.syms[i-1].Addr, true
}

// searchModule is crash's value_search_module for one module: the
// symbols of each region of its table in turn (core then init; on 6.4+
// each memory type's), from the region's start marker to its end marker.
func searchModule(m kernel.ModuleSymTable, v uint64) (int, uint64, bool) {
	for _, r := range m.Regions {
		lo, hi := -1, -1
		for i, sy := range m.Syms {
			if sy.Pseudo && sy.Name == r.Start && lo < 0 {
				lo = i
			}
			if sy.Pseudo && sy.Name == r.End && lo >= 0 && hi < 0 {
				hi = i
			}
		}
		if lo < 0 || hi < lo || m.Syms[lo].Addr > v || m.Syms[hi].Addr < v {
			continue
		}
		last := -1
		for i := lo; i <= hi; i++ {
			sy := m.Syms[i]
			if sy.Addr == v {
				if i == hi {
					break
				}
				if sy.Pseudo && i+1 <= hi && !m.Syms[i+1].Pseudo && m.Syms[i+1].Addr == v {
					i++
				}
				if m.Syms[i].Name[0] == '.' && i+1 <= hi && m.Syms[i+1].Addr == v {
					i++
				}
				return i, 0, true
			}
			if sy.Addr > v {
				if last < 0 {
					last = i - 1
				}
				return last, v - m.Syms[last].Addr, true
			}
			if !sy.Pseudo {
				last = i
			}
		}
	}
	return 0, 0, false
}

// isText is crash's is_kernel_text: in an executable section or a
// module's text, or named by a text symbol.
func (t *symTable) isText(v uint64) bool {
	for _, r := range t.text {
		if v >= r[0] && v < r[1] {
			return true
		}
	}
	if r, _, ok := t.search(v); ok {
		if _, _, k := t.sym(r); k == 'T' || k == 't' || k == 'W' || k == 'w' {
			return true
		}
	}
	if m := t.moduleOf(v); m >= 0 {
		return t.mods[m].InText(v)
	}
	return false
}

// line is get_line_number's answer for a text address: "file: line", or
// "" where DWARF has none (module text: only from the object file mod -s
// loaded, as gdb knows it after crash's add-symbol-file).
func (t *symTable) line(v uint64) string {
	if m := t.moduleOf(v); m >= 0 {
		o := t.s.moduleObject(t.mods[m].Name)
		if o == nil {
			return ""
		}
		file, line, err := o.Line(v)
		if err != nil {
			return ""
		}
		return lineString(file, line)
	}
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

// show is crash's show_symbol: "addr (K) name[+off]", " [module]" for a
// module's symbol with withModule, and for text with withLine the source
// line.
func (t *symTable) show(b *strings.Builder, r symRef, off uint64, withLine, withModule bool) {
	name, addr, kind := t.sym(r)
	t.showJSON(r, name, addr, kind, off, withLine)
	if r.mod >= 0 && strings.HasPrefix(name, "_MODULE_START_") {
		fmt.Fprintf(b, "%x (%c) (%s module)", addr, kind, strings.TrimPrefix(name, "_MODULE_START_"))
		if off != 0 {
			fmt.Fprintf(b, "+0x%x", off)
		}
		b.WriteByte('\n')
		return
	}
	if off != 0 {
		fmt.Fprintf(b, "%x (%c) %s+%d", addr+off, kind, name, off)
	} else {
		fmt.Fprintf(b, "%x (%c) %s", addr, kind, name)
	}
	if withModule && r.mod >= 0 {
		fmt.Fprintf(b, " [%s]", t.mods[r.mod].Name)
	}
	if withLine && !t.sections && t.isText(addr+off) {
		b.WriteString(" " + t.line(addr+off))
	}
	if t.sections {
		fmt.Fprintf(b, " [%s]", t.sectionName(addr+off))
	}
	b.WriteByte('\n')
}

// sectionName is crash's get_section: "in MODULE module" for a module's
// address (crash names the object's section once mod -s has loaded it:
// gocrash does not), else the vmlinux section bfd finds it in.
func (t *symTable) sectionName(v uint64) string {
	if m := t.moduleOf(v); m >= 0 {
		return "in " + t.mods[m].Name + " module"
	}
	return t.s.Vmlinux.BFDSectionName(v)
}

// prev and next are crash's prev_symbol and next_symbol: the entry before
// r in its table, and the first after it with a higher value.
func (t *symTable) prev(r symRef) (symRef, bool) {
	return symRef{r.mod, r.i - 1}, r.i > 0
}

func (t *symTable) next(r symRef) (symRef, bool) {
	_, addr, _ := t.sym(r)
	n := len(t.syms)
	if r.mod >= 0 {
		n = len(t.mods[r.mod].Syms)
	}
	for j := r.i + 1; j < n; j++ {
		if _, a, _ := t.sym(symRef{r.mod, j}); a > addr {
			if r.mod >= 0 && t.mods[r.mod].Syms[j].Pseudo {
				continue
			}
			return symRef{r.mod, j}, true
		}
	}
	return symRef{}, false
}

// dumpModules is symbol_dump's module part: each module's core symbols
// between its MODULE START and END lines, then its init ones.
func (t *symTable) dumpModules(b *strings.Builder, only string) error {
	mods, err := t.modules()
	if err != nil {
		return err
	}
	for mi, m := range mods {
		if only != "" && m.Name != only {
			continue
		}
		if m.MemoryLayout {
			// module_symbol_dump: each memory type's symbols from its
			// start marker to its end marker, both included.
			for _, r := range m.Regions {
				lo, hi := regionBounds(m, r)
				if lo < 0 {
					continue
				}
				for i := lo; i <= hi; i++ {
					sy := m.Syms[i]
					switch {
					case sy.Pseudo && sy.Name == r.Start:
						fmt.Fprintf(b, "%x %s: %s\n", sy.Addr, r.StartText, m.Name)
					case sy.Pseudo && sy.Name == r.End:
						fmt.Fprintf(b, "%x %s: %s\n", sy.Addr, r.EndText, m.Name)
					case sy.Pseudo:
						fmt.Fprintf(b, "%x unknown tag: %s\n", sy.Addr, sy.Name)
					default:
						t.show(b, symRef{mi, i}, 0, false, false)
					}
				}
			}
			continue
		}
		for _, init := range []bool{false, true} {
			start, end, startText, endText := "_MODULE_START_", "_MODULE_END_", "MODULE START", "MODULE END"
			if init {
				start, end, startText, endText = "_MODULE_INIT_START_", "_MODULE_INIT_END_", "MODULE INIT START", "MODULE INIT END"
			}
			in := false
			for i, sy := range m.Syms {
				switch {
				case sy.Pseudo && sy.Name == start+m.Name:
					in = true
					fmt.Fprintf(b, "%x %s: %s\n", sy.Addr, startText, m.Name)
				case sy.Pseudo && sy.Name == end+m.Name:
					if in {
						fmt.Fprintf(b, "%x %s: %s\n", sy.Addr, endText, m.Name)
					}
					in = false
				case in && sy.Pseudo:
					fmt.Fprintf(b, "%x %s: %s\n", sy.Addr, map[bool]string{true: "MODULE INIT START", false: "MODULE START"}[strings.HasPrefix(sy.Name, "_MODULE_INIT_")], m.Name)
				case in:
					t.show(b, symRef{mi, i}, 0, false, false)
				}
			}
		}
	}
	return nil
}

// query is symbol_query: every kernel symbol whose name holds s, then the
// modules' (with their module's name), their start markers left out.
func (t *symTable) query(b *strings.Builder, s, pad string) (int, error) {
	n, _, err := t.queryLast(b, s, pad)
	return n, err
}

// queryLast is query, also naming the last symbol it matched (sym -Q).
func (t *symTable) queryLast(b *strings.Builder, s, pad string) (n int, last string, err error) {
	for i, sy := range t.syms {
		if strings.Contains(sy.Name, s) {
			b.WriteString(pad)
			t.show(b, symRef{-1, i}, 0, false, false)
			n, last = n+1, sy.Name
		}
	}
	mods, err := t.modules()
	if err != nil {
		return n, last, err
	}
	if len(mods) > 0 && mods[0].MemoryLayout {
		// 6.4+: module by module, each memory type's symbols without
		// the markers (and without its end marker's slot).
		for mi, m := range mods {
			for _, r := range m.Regions {
				lo, hi := regionBounds(m, r)
				for i := lo; lo >= 0 && i < hi; i++ {
					sy := m.Syms[i]
					if sy.Pseudo || !strings.Contains(sy.Name, s) {
						continue
					}
					b.WriteString(pad)
					t.show(b, symRef{mi, i}, 0, false, true)
					n, last = n+1, sy.Name
				}
			}
		}
		return n, last, nil
	}
	for _, init := range []bool{false, true} {
		for mi, m := range mods {
			start, end := "_MODULE_START_", "_MODULE_END_"
			if init {
				start, end = "_MODULE_INIT_START_", "_MODULE_INIT_END_"
			}
			in := false
			for i, sy := range m.Syms {
				if sy.Pseudo && sy.Name == start+m.Name {
					in = true
				}
				if sy.Pseudo && sy.Name == end+m.Name {
					in = false
				}
				if !in || strings.HasPrefix(sy.Name, "_MODULE_START_") || !strings.Contains(sy.Name, s) {
					continue
				}
				b.WriteString(pad)
				t.show(b, symRef{mi, i}, 0, false, true)
				n, last = n+1, sy.Name
			}
		}
	}
	return n, last, nil
}

// byName is symbol_search and its multiples: the kernel's symbols of that
// name, else the first module symbol of it.
func (t *symTable) byName(name string) []symRef {
	var out []symRef
	for i, sy := range t.syms {
		if sy.Name == name {
			out = append(out, symRef{-1, i})
		}
	}
	if len(out) > 0 {
		return out
	}
	mods, _ := t.modules()
	for mi, m := range mods {
		for i, sy := range m.Syms {
			if sy.Name == name {
				return append(out, symRef{mi, i})
			}
		}
	}
	return nil
}

func runSym(s *Session, args []string, w io.Writer) error {
	return symRun(s, args, w, nil)
}

// symRun is sym, also collecting each symbol line's values into js when
// it is not nil (sym's JSON).
func symRun(s *Session, args []string, w io.Writer, js *[]SymJSON) error {
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
		opts = append(opts, opt{g.flag[0], g.val})
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	t := s.symTable()
	t.js = js
	var b strings.Builder
	flush := func() {
		io.WriteString(w, b.String())
		b.Reset()
	}
	defer flush()
	next, prev, others, section := false, false, false, false
	for _, o := range opts {
		switch o.c {
		case 's':
			section = true
		case 'Q':
			// symbol_query's count and the last symbol it matched.
			// crash 8.0.6 reads an uninitialized pointer when none
			// matches (and dies on the test bed): gocrash names none.
			var discard strings.Builder
			js := t.js
			t.js = nil
			n, last, err := t.queryLast(&discard, o.arg, "")
			t.js = js
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%d found ", n)
			if n > 0 {
				fmt.Fprintf(&b, "(%s)", last)
			}
			b.WriteString("\n")
			others = true
		case 'n':
			next = true
		case 'p':
			prev = true
		case 'q':
			n, err := t.query(&b, o.arg, "")
			if err != nil {
				return err
			}
			if n == 0 {
				b.WriteString("(none found)\n")
			}
			others = true
		case 'm', 'M':
			if err := t.dumpModules(&b, o.arg); err != nil {
				return err
			}
			others = true
		case 'l', 'L':
			for i := range t.syms {
				t.show(&b, symRef{-1, i}, 0, false, false)
				if b.Len() > 1<<16 {
					flush()
				}
			}
			if err := t.dumpModules(&b, ""); err != nil {
				return err
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
	t.sections = section
	around := func(r symRef, off uint64) {
		if p, ok := t.prev(r); ok && prev {
			t.show(&b, p, 0, true, true)
		}
		t.show(&b, r, off, true, true)
		if n, ok := t.next(r); ok && next {
			t.show(&b, n, 0, true, true)
		}
	}
	for _, arg := range rest {
		if refs := t.byName(arg); len(refs) == 0 && isHexWord(arg) {
			v, err := parseHex(arg)
			if err != nil || !t.inRange(v) {
				flush()
				fmt.Fprintf(w, "sym: invalid address: %s\n", arg)
				continue
			}
			r, off, ok := t.search(v)
			if !ok {
				fmt.Fprintf(&b, "symbol not found: %s\n", arg)
				continue
			}
			around(r, off)
			continue
		}
		refs := t.byName(arg)
		for _, r := range refs {
			around(r, 0)
		}
		if len(refs) == 0 {
			fmt.Fprintf(&b, "symbol not found: %s\npossible alternatives:\n", arg)
			n, err := t.query(&b, arg, "  ")
			if err != nil {
				return err
			}
			if n == 0 {
				b.WriteString("  (none found)\n")
			}
		}
	}
	return nil
}

// regionBounds are the indexes of r's start and end markers in m's table
// (-1 when it has none).
func regionBounds(m kernel.ModuleSymTable, r kernel.ModuleRegion) (lo, hi int) {
	lo, hi = -1, -1
	for i, sy := range m.Syms {
		if sy.Pseudo && sy.Name == r.Start && lo < 0 {
			lo = i
		}
		if sy.Pseudo && sy.Name == r.End && lo >= 0 && hi < 0 {
			hi = i
		}
	}
	if hi < 0 {
		return -1, -1
	}
	return lo, hi
}
