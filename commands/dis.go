package commands

// dis: disassembly as crash 8.0.6 shows it (kernel.c cmd_dis): gdb's
// "x/Ni ADDR" output passed through crash's filters, which name every
// address by crash's own symbol table (x86_64.c x86_64_dis_filter,
// symbols.c load_module_filter and value_to_symstr). The instructions
// are decoded by golang.org/x/arch/x86/x86asm and printed in gdb 10.2's
// AT&T syntax by internal/gdbasm.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gocrash/internal/gdbasm"
	"gocrash/kernel"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "dis",
		Synopsis: "[-rfludxs][-b [num]] [address | symbol | (expression)] [count]",
		Summary:  "disassemble",
		Description: `  This command disassembles source code instructions starting (or ending) at
  a text address that may be expressed by value, symbol or expression.  The
  instructions are printed in gdb's AT&T syntax, as crash prints them: every
  address is followed by crash's name for it, call and jump targets and
  RIP-relative operands by theirs, and a 5-byte nop at the start of a
  function is marked [FTRACE NOP].`,
		Flags: []Flag{
			{Name: "r", Help: "(reverse) displays all instructions from the start of the routine up to and including the designated address."},
			{Name: "f", Help: "(forward) displays all instructions from the given address to the end of the routine."},
			{Name: "l", Help: "displays source code line number data in addition to the disassembly output."},
			{Name: "u", Help: "address is a user virtual address in the current context; otherwise the address is assumed to be a kernel virtual address. If this option is used, then -r and -l are ignored."},
			{Name: "d", Help: "override default output format with decimal format."},
			{Name: "x", Help: "override default output format with hexadecimal format."},
			{Name: "s", Help: "displays the filename and line number of the source code that is associated with the specified text location, followed by a source code listing if it is available on the host machine."},
			{Name: "b", Arg: "[num]", Help: "modify the pre-calculated number of encoded bytes to skip after a kernel BUG (\"ud2a\") instruction; with no argument, displays the current number of bytes being skipped (0 on x86_64 kernels since 2.6.20)."},
		},
		Operands: []Operand{
			{"address", "starting hexadecimal text address."},
			{"symbol", "symbol of starting text address."},
			{"(expression)", "expression evaluating to a starting text address."},
			{"count", "the number of instructions to be disassembled (default is 1). If no count argument is entered, and the starting address is entered as a text symbol, then the whole routine will be disassembled. The count argument is supported when used with the -r and -f options."},
		},
		Examples: disExamples,
		Run:      runDis,
	})
}

const disExamples = `  Disassemble the first instructions of panic() on the sample dump:

    crash> dis panic 5
    0xffffffff8cda8475 <panic>:	push   %rbp
    0xffffffff8cda8476 <panic+1>:	xor    %eax,%eax
    0xffffffff8cda8478 <panic+3>:	mov    %rsp,%rbp
    0xffffffff8cda847b <panic+6>:	push   %r14
    0xffffffff8cda847d <panic+8>:	push   %r13

  With source lines:

    crash> dis -l panic 3
    /var/cache/gocrash-mkdump-2/linux-source-6.1/kernel/panic.c: 278
    0xffffffff8cda8475 <panic>:	push   %rbp
    0xffffffff8cda8476 <panic+1>:	xor    %eax,%eax
    /var/cache/gocrash-mkdump-2/linux-source-6.1/kernel/panic.c: 276
    0xffffffff8cda8478 <panic+3>:	mov    %rsp,%rbp

  The last three instructions of panic() up to and including panic+20:

    crash> dis -r panic+20 3
    0xffffffff8cda8482 <panic+13>:	mov    %rdi,%rbx
    0xffffffff8cda8485 <panic+16>:	sub    $0x48,%rsp
    0xffffffff8cda8489 <panic+20>:	cmpl   $0x0,0xb28b84(%rip)        # 0xffffffff8d8d1014 <panic_on_warn>

  The faulting instruction of the module on the oops dump
  (gocrash --sample 6.1-oops), at the exception RIP bt shows (a store to
  address 0):

    crash> dis -r ffffffffc0320018
    0xffffffffc0320018 <gocrash_write_null.constprop.0>:	movl   $0x6b6b6b6b,0x0`

// disOpts are dis's options.
type disOpts struct {
	reverse, forward, lines, user, source bool
	radix                                 int // 0 (default, 10), 10 or 16
	bugBytes                              bool
}

// errDisUsage is the usage block.
var errDisUsage = &UsageError{Cmd: "dis"}

func runDis(s *Session, args []string, w io.Writer) error {
	return disInto(s, args, w, nil)
}

// disInto is dis, also collecting each instruction's values into js when
// it is not nil (dis's JSON).
func disInto(s *Session, args []string, w io.Writer, js *[]DisInstJSON) error {
	if js != nil && len(args) == 1 && args[0] == "-b" {
		return jsonOptionsErr("dis", args)
	}
	if len(args) == 1 && args[0] == "-b" {
		// x86_64 kernels since 2.6.20 put nothing after ud2 (kernel.c
		// BUG_x86_64).
		fmt.Fprintln(w, "encoded bytes being skipped after ud2a: 0")
		return nil
	}
	var o disOpts
	var operands []string
	// crash's getopt permutes: options may follow the address and count.
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 'd':
				if err := setRadix(&o.radix, 10); err != nil {
					return err
				}
			case 'x', 'h':
				if err := setRadix(&o.radix, 16); err != nil {
					return err
				}
			case 'U':
			case 'u':
				if o.source {
					return errors.New("-s can only be used with kernel addresses")
				}
				o.user = true
			case 'r':
				if o.forward {
					return errors.New("-r and -f are mutually exclusive")
				}
				if o.source {
					return errors.New("-r and -s are mutually exclusive")
				}
				o.reverse = true
			case 'f':
				if o.reverse {
					return errors.New("-r and -f are mutually exclusive")
				}
				if o.source {
					return errors.New("-f and -s are mutually exclusive")
				}
				o.forward = true
			case 'l':
				o.lines = true
			case 's':
				if o.reverse {
					return errors.New("-r and -s are mutually exclusive")
				}
				if o.forward {
					return errors.New("-f and -s are mutually exclusive")
				}
				if o.user {
					return errors.New("-s can only be used with kernel addresses")
				}
				o.source = true
			case 'b', 'B':
				// -b N takes the rest of the word or the next word.
				if j+1 < len(a) {
					j = len(a)
				} else if i+1 < len(args) {
					i++
				} else {
					return &UsageError{Cmd: "dis", Reason: "option requires an argument -- '" + string(c) + "'"}
				}
				o.bugBytes = true
			default:
				return errDisUsage // getopt's complaint goes to stderr
			}
		}
	}
	if len(operands) == 0 {
		if o.bugBytes {
			return nil
		}
		return errDisUsage
	}
	if js != nil && (o.source || o.bugBytes) {
		return jsonOptionsErr("dis", args)
	}
	d := &disRun{s: s, w: w, o: o, arg: operands[0], js: js, symval: s.symval.load()}
	defer func() { s.symval.store(d.symval) }()
	if mods, err := s.modules(); err == nil {
		d.mods = mods
	}
	return d.run(operands)
}

type disRun struct {
	arg  string // the address argument as typed
	s    *Session
	w    io.Writer
	o    disOpts
	mods []*kernel.Module
	lt   *symbols.LineTable

	atCache     map[uint64][]symbols.Symbol // vmlinuxSearch: the symbols at an address, crash's order
	bucketCache map[[2]uint64]symvalPos     // lastInBucket's answers (n 0: none)
	namedCache  map[string][]disSym         // symbolsNamed's answers
	symval      symvalLast                  // the session's symvalHash while dis runs

	js       *[]DisInstJSON // dis's JSON: each instruction line (json_dis.go)
	jsSource string         // dis -l's source line above the instructions
}

// sym is one symbol of crash's table: vmlinux's or a module's.
type disSym struct {
	name string
	addr uint64
	size uint64
	text bool
	mod  *kernel.Module
}

func (d *disRun) run(operands []string) error {
	arg := operands[0]
	var (
		addr         uint64
		sp           *disSym
		functionOnly bool
		unfiltered   bool
	)
	switch {
	case canEval(arg):
		v, err := EvalAddress(arg, d.lookup)
		if err != nil {
			var nf *SymbolNotFoundError
			if errors.As(err, &nf) {
				return d.symbolNotFound(nf.Name)
			}
			return err
		}
		addr = v
		if !d.o.user {
			if err := d.checkExpression(arg, addr); err != nil {
				return err
			}
		}
	case isHexWord(arg) && !d.exists(arg):
		v, err := parseHex(arg)
		if err != nil {
			return err
		}
		addr = v
		ss, off, ok := d.valueSearch(addr)
		if !d.o.user && !ok {
			fmt.Fprintf(d.w, "WARNING: %x: no associated kernel symbol found\n", addr)
			unfiltered = true
		}
		if ok && off == 0 && ss.text {
			functionOnly = true
		}
		if ok {
			sp = &ss
		}
	default:
		ss, ok := d.symbolSearch(arg)
		if !ok {
			return d.symbolNotFound(arg)
		}
		if texts := d.textSymbols(arg); len(texts) > 1 {
			return d.duplicates(arg, texts)
		} else if len(texts) == 1 {
			ss = texts[0]
		}
		sp = &ss
		addr = ss.addr
		if ss.text {
			functionOnly = true
		}
	}
	count, countEntered := uint64(1), false
	if len(operands) > 1 {
		d.o.forward = false
		n, err := ParseNumber(operands[1])
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("invalid count argument: 0")
		}
		count, countEntered, functionOnly = n, true, false
	}
	if d.o.source {
		return d.listSource(addr, countEntered, count)
	}
	if unfiltered || d.o.user {
		return d.raw(addr, count)
	}
	if addr < kernel.KernelSpaceStart {
		return fmt.Errorf("%x is not a kernel virtual address", addr)
	}
	var end uint64
	if d.o.reverse || d.o.forward || functionOnly {
		from := addr
		if sp != nil {
			from = sp.addr
		}
		if hi, ok := d.functionEnd(from); ok {
			end = hi
		} else {
			return fmt.Errorf("gdb unable to disassemble kernel virtual address %x", addr)
		}
	}
	if end == 0 && !countEntered {
		countEntered = true // one instruction (gdb's x/1i)
	}
	start, target := addr, addr
	if d.o.reverse || d.o.forward {
		ss, _, ok := d.valueSearch(target)
		if !ok {
			return fmt.Errorf("cannot resolve address: %x", target)
		}
		start = ss.addr
	}
	return d.print(start, target, end, count, countEntered)
}

// canEval is crash's can_eval: "(...)", or an operator with something on
// both sides.
func canEval(s string) bool {
	if len(s) > 2 && s[0] == '(' && s[len(s)-1] == ')' && strings.Count(s, "(") == 1 && strings.Count(s, ")") == 1 {
		return true
	}
	i := strings.IndexAny(s, "><+-&|*/%^")
	return i > 0 && i < len(s)-1
}

// checkExpression is crash's resolve_text_symbol for an expression: the
// address must stay in the function the expression names.
func (d *disRun) checkExpression(arg string, addr uint64) error {
	buf := strings.TrimSuffix(strings.TrimPrefix(arg, "("), ")")
	i := strings.IndexAny(buf, "><+-&|*/%^")
	if i < 0 {
		return nil
	}
	name := strings.TrimSpace(buf[:i])
	named, ok := d.symbolSearch(name)
	if !ok || !named.text {
		return nil
	}
	if texts := d.textSymbols(name); len(texts) > 1 {
		return d.duplicates(arg, texts)
	}
	at, off, ok := d.valueSearch(addr)
	if !ok {
		return nil
	}
	if !strings.Contains(arg, at.name) && (at.name != named.name || at.addr != named.addr) {
		return fmt.Errorf("invalid expression: %s evaluates to: %s+%x", arg, at.name, off)
	}
	return nil
}

func (d *disRun) lookup(name string) (uint64, bool) {
	s, ok := d.symbolSearch(name)
	return s.addr, ok
}

func (d *disRun) exists(name string) bool {
	_, ok := d.symbolSearch(name)
	return ok
}

// symbolSearch is crash's symbol_search: vmlinux first, then the modules.
func (d *disRun) symbolSearch(name string) (disSym, bool) {
	all := d.symbolsNamed(name)
	if len(all) == 0 {
		return disSym{}, false
	}
	return all[0], true
}

// symbolsNamed are the symbols crash knows by name (names stripped of
// clone suffixes, so "foo.isra.0" is "foo"), vmlinux's first, then the
// modules'; crash's symbol_search prefers a global vmlinux symbol.
func (d *disRun) symbolsNamed(name string) []disSym {
	if name != stripSymbolEnd(name) {
		return nil
	}
	// asked twice a dis (symbol_search, then the duplicates check): the
	// vmlinux's names are scanned once
	if out, ok := d.namedCache[name]; ok {
		return out
	}
	out := d.findSymbolsNamed(name)
	if d.namedCache == nil {
		d.namedCache = map[string][]disSym{}
	}
	d.namedCache[name] = out
	return out
}

func (d *disRun) findSymbolsNamed(name string) []disSym {
	var out []disSym
	if s, ok := d.s.Vmlinux.LookupSymbol(name); ok {
		out = append(out, disSym{name: s.Name, addr: s.Addr, size: s.Size, text: isTextKind(s.Kind)})
	}
	for _, s := range d.s.symbolsStrippedTo(name) {
		if len(out) > 0 && s.Addr == out[0].addr && s.Name == out[0].name {
			continue
		}
		out = append(out, disSym{name: name, addr: s.Addr, size: s.Size, text: isTextKind(s.Kind)})
	}
	for _, m := range d.mods {
		for _, ms := range m.Symbols {
			if stripSymbolEnd(ms.Name) == name {
				out = append(out, disSym{name: name, addr: ms.Addr, size: ms.Size, text: ms.Func, mod: m})
			}
		}
	}
	return out
}

// textSymbols are the text symbols of that name.
func (d *disRun) textSymbols(name string) []disSym {
	var out []disSym
	for _, s := range d.symbolsNamed(name) {
		if s.text {
			out = append(out, s)
		}
	}
	return out
}

// duplicates is crash's answer to a name several functions have: each
// with its address, type and source line, and nothing disassembled.
func (d *disRun) duplicates(arg string, texts []disSym) error {
	var b strings.Builder
	fmt.Fprintf(&b, "dis: %s: duplicate text symbols found:\n", arg)
	sort.SliceStable(texts, func(i, j int) bool { return texts[i].addr < texts[j].addr })
	for _, t := range texts {
		kind := byte('t')
		if t.mod == nil {
			for _, s := range d.s.Vmlinux.SymbolsAt(t.addr) {
				if stripSymbolEnd(s.Name) == t.name {
					kind = s.Kind
				}
			}
		}
		fmt.Fprintf(&b, "%x (%c) %s", t.addr, kind, t.name)
		if t.mod != nil {
			fmt.Fprintf(&b, " [%s]", t.mod.Name)
		}
		if l := d.sourceLine(t.addr); l != "" {
			b.WriteString(" " + l)
		}
		b.WriteString("\n")
	}
	io.WriteString(d.w, b.String())
	return &printedError{err: fmt.Errorf("%s: duplicate text symbols found", arg)}
}

// symbolNotFound is crash's answer to an unknown name, with the
// symbols whose (stripped) names contain it.
func (d *disRun) symbolNotFound(name string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "symbol not found: %s\npossible alternatives:\n", name)
	n := 0
	for _, sym := range d.s.Vmlinux.Symbols() {
		if sym.Kind == 'N' {
			continue
		}
		if sn := stripSymbolEnd(sym.Name); strings.Contains(sn, name) {
			fmt.Fprintf(&b, "  %x (%c) %s\n", sym.Addr, sym.Kind, sn)
			n++
		}
	}
	if n == 0 {
		b.WriteString("  (none found)\n")
	}
	io.WriteString(d.w, b.String())
	return &printedError{err: &SymbolNotFoundError{Name: name}}
}

func isTextKind(k byte) bool { return k == 'T' || k == 't' || k == 'W' || k == 'w' }

// module returns the module whose core or init memory holds addr.
func (d *disRun) module(addr uint64) *kernel.Module {
	for _, m := range d.mods {
		if addr >= m.Core[0] && addr < m.Core[1] || addr >= m.Init[0] && addr < m.Init[1] {
			return m
		}
	}
	return nil
}

// modSyms is crash's table of a module: its kallsyms symbols between the
// pseudo-symbols crash adds at the start and end of its core and init
// memory (symbols.c store_module_symbols_v2).
func (d *disRun) modSyms(m *kernel.Module) []disSym {
	var out []disSym
	startMarker, initMarker := "_MODULE_START_", "_MODULE_INIT_START_"
	if m.MemoryLayout {
		startMarker, initMarker = "_MODULE_TEXT_START_", "_MODULE_INIT_TEXT_START_"
	}
	out = append(out, disSym{name: startMarker + m.Name, addr: m.Core[0], mod: m})
	if o := d.s.moduleObject(m.Name); o != nil {
		// mod -s replaced the module's kallsyms with the object's
		// symbols (symbols.c store_load_module_symbols).
		for _, s := range o.Symbols {
			out = append(out, disSym{name: stripSymbolEnd(s.Name), addr: s.Addr, size: s.Size, text: isTextKind(s.Kind), mod: m})
		}
	} else {
		for _, s := range m.Symbols {
			out = append(out, disSym{name: s.Name, addr: s.Addr, size: s.Size, text: s.Func, mod: m})
		}
	}
	if m.Init[1] > m.Init[0] {
		out = append(out, disSym{name: initMarker + m.Name, addr: m.Init[0], mod: m})
	}
	for i := 1; i < len(out); i++ { // insertion sort: stable, small
		for j := i; j > 0 && out[j].addr < out[j-1].addr; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func isPseudo(s disSym) bool { return strings.HasPrefix(s.name, "_MODULE_") }

// valueSearch is crash's value_search: the symbol at or before addr.
func (d *disRun) valueSearch(addr uint64) (disSym, uint64, bool) {
	if m := d.module(addr); m != nil {
		syms := d.modSyms(m)
		var last *disSym
		for i := range syms {
			s := syms[i]
			if s.addr == addr {
				if isPseudo(s) && i+1 < len(syms) && syms[i+1].addr == addr {
					return syms[i+1], 0, true
				}
				return s, 0, true
			}
			if s.addr > addr {
				break
			}
			if !isPseudo(s) || last == nil {
				last = &syms[i]
			}
		}
		if last == nil {
			return disSym{}, 0, false
		}
		return *last, addr - last.addr, true
	}
	return d.vmlinuxSearch(addr)
}

// vmlinuxSearch is value_search over crash's table of vmlinux symbols:
// sorted by address and, at one address, by name (symbols.c
// numeric_forward, non_numeric_forward), with gcc's clone suffixes taken
// off the names (strip_symbol_end). An address inside is named by the last
// symbol of the address below it, wherever it lies from _text to the
// highest symbol (in_ksymbol_range: the padding past _etext is
// <_etext+N>). An exact match is the first there by name (skipping the
// aliases crash skips) unless crash's symbol-value hash starts its search
// further into the symbols of that address (symvalHash).
func (d *disRun) vmlinuxSearch(addr uint64) (disSym, uint64, bool) {
	v := d.s.Vmlinux
	s, ok := v.SymbolAt(addr)
	if !ok {
		if text, tok := v.Lookup("_text"); tok && addr >= text {
			s, ok = v.SymbolBelow(addr)
		}
	}
	if !ok {
		return disSym{}, 0, false
	}
	at := d.symbolsAt(s.Addr)
	pick := at[len(at)-1]
	if s.Addr == addr {
		i := d.symval.exact(addr, len(at))
		pick = at[i]
		if i+1 < len(at) && (strings.HasPrefix(pick.Name, ".text.") || strings.HasPrefix(pick.Name, "SyS_") ||
			strings.HasPrefix(pick.Name, "compat_SyS_") || strings.HasSuffix(pick.Name, "_text_start")) {
			pick = at[i+1]
		}
	} else {
		d.symval.inside(addr, s.Addr, len(at), d.lastInBucket)
	}
	return disSym{name: pick.Name, addr: pick.Addr, size: pick.Size, text: isTextKind(pick.Kind)}, addr - pick.Addr, true
}

// symbolsAt are the vmlinux symbols at addr in crash's order (by name,
// clone suffixes off).
func (d *disRun) symbolsAt(addr uint64) []symbols.Symbol {
	if at, ok := d.atCache[addr]; ok {
		return at
	}
	at := d.s.Vmlinux.SymbolsAt(addr)
	if len(at) == 0 {
		if s, ok := d.s.Vmlinux.SymbolBelow(addr); ok {
			at = []symbols.Symbol{s}
		}
	}
	for i := range at {
		at[i].Name = stripSymbolEnd(at[i].Name)
	}
	sort.SliceStable(at, func(i, j int) bool { return at[i].Name < at[j].Name })
	if d.atCache == nil {
		d.atCache = map[uint64][]symbols.Symbol{}
	}
	d.atCache[addr] = at
	return at
}

// lastInBucket is the highest symbol address at or below addr whose page
// falls in hash bucket b (crash's symval_hash chains), and how many
// symbols are there; ok is false when there is none.
func (d *disRun) lastInBucket(addr, b uint64) (uint64, int, bool) {
	key := [2]uint64{addr, b}
	if r, ok := d.bucketCache[key]; ok {
		return r.addr, r.i, r.i > 0
	}
	a, n, ok := d.findLastInBucket(addr, b)
	if d.bucketCache == nil {
		d.bucketCache = map[[2]uint64]symvalPos{}
	}
	d.bucketCache[key] = symvalPos{a, n}
	return a, n, ok
}

func (d *disRun) findLastInBucket(addr, b uint64) (uint64, int, bool) {
	hi := addr
	for i := 0; i < 1<<16; i++ {
		s, ok := d.s.Vmlinux.SymbolBelow(hi)
		if !ok {
			return 0, 0, false
		}
		pg := s.Addr >> 12
		if pg%symvalBuckets == b {
			return s.Addr, len(d.symbolsAt(s.Addr)), true
		}
		// the highest page of bucket b below s's page
		back := (pg + symvalBuckets - b) % symvalBuckets
		if pg < back {
			return 0, 0, false
		}
		hi = (pg-back)<<12 | 0xfff
	}
	return 0, 0, false
}

// symvalBuckets is crash's SYMVAL_HASH: vmlinux's symbols are chained in
// 512 buckets by page number (SYMVAL_HASH_INDEX, 4 KB pages), each chain
// in the table's order.
const symvalBuckets = 512

// symvalHash is what crash's symbol-value hash remembers between lookups,
// for the names of addresses several symbols share: symval_hash_search
// starts from the symbol its bucket's last search ended on (val_hash_last)
// when that is at or below the address looked up, and returns the first
// symbol equal to it from there. So once a lookup of an address inside
// (_etext+2) ended on the last symbol of _etext's address, crash names
// that address _etext, no longer its first symbol there,
// __static_call_text_end: "dis _etext 4" begins <__static_call_text_end>,
// a "dis -r _etext" after it <_etext>. gocrash follows the lookups dis
// makes (each line's address and target, in crash's order), per session
// as crash's table is; crash's other commands' lookups (bt, sym, rd -s)
// move it too, which gocrash does not follow.
type symvalHash struct {
	mu   sync.Mutex
	last symvalLast
}

// symvalLast is, for each bucket whose last search ended past the first
// of several symbols at one address, that symbol; a bucket whose search
// ended anywhere else is not in it (it names every address by its first
// symbol, as a fresh table does).
type symvalLast map[uint64]symvalPos

// symvalPos is a symbol of crash's table: its address and its rank among
// the symbols there.
type symvalPos struct {
	addr uint64
	i    int
}

// load is the session's table for a command (its own copy: one
// command's lookups run without the lock), store what the command left.
func (h *symvalHash) load() symvalLast {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.last) == 0 {
		return nil
	}
	m := make(symvalLast, len(h.last))
	for k, v := range h.last {
		m[k] = v
	}
	return m
}

func (h *symvalHash) store(m symvalLast) {
	h.mu.Lock()
	h.last = m
	h.mu.Unlock()
}

// set records that bucket b's last search ended on the i-th of the n
// symbols at addr.
func (m *symvalLast) set(b, addr uint64, i int) {
	if i == 0 {
		if len(*m) > 0 {
			delete(*m, b)
		}
		return
	}
	if *m == nil {
		*m = symvalLast{}
	}
	(*m)[b] = symvalPos{addr, i}
}

// exact is the rank, among the n symbols at addr, of the one crash's
// search for addr stops at.
func (m *symvalLast) exact(addr uint64, n int) int {
	b := (addr >> 12) % symvalBuckets
	i := 0
	if p, ok := (*m)[b]; ok && p.addr == addr && p.i < n {
		i = p.i
	}
	m.set(b, addr, i)
	return i
}

// inside records a search for addr, which lies above the n symbols at
// below: the search ended on the last symbol of addr's bucket at or
// below it (below's own last when below is in that bucket).
func (m *symvalLast) inside(addr, below uint64, n int, lastInBucket func(addr, b uint64) (uint64, int, bool)) {
	b := (addr >> 12) % symvalBuckets
	if (below>>12)%symvalBuckets != b {
		var ok bool
		if below, n, ok = lastInBucket(below, b); !ok {
			return // nothing at or below addr in the bucket: unchanged
		}
	}
	m.set(b, below, n-1)
}

// stripSymbolEnd is crash's strip_symbol_end: gcc's ".isra.N", ".part.N"
// and clang's ".llvm.N" clone suffixes come off symbol names.
func stripSymbolEnd(name string) string {
	for _, suf := range []string{".isra.", ".part.", ".llvm."} {
		if i := strings.Index(name, suf); i >= 0 {
			return name[:i]
		}
	}
	return name
}

// symstr is crash's value_to_symstr: "name", "name+off" (decimal, or hex
// with -x).
func (d *disRun) symstr(addr uint64) string {
	s, off, ok := d.valueSearch(addr)
	if !ok {
		return ""
	}
	name := s.name
	if s.mod != nil {
		name = strings.TrimPrefix(name, "_MODULE_START_")
	}
	if off == 0 {
		return name
	}
	if d.o.radix == 16 {
		return name + "+0x" + strconv.FormatUint(off, 16)
	}
	return name + "+" + strconv.FormatUint(off, 10)
}

// functionEnd is where dis stops without a count: the end of the
// function (its symbol's size, as gdb's function range has it), else the
// next symbol.
func (d *disRun) functionEnd(addr uint64) (uint64, bool) {
	s, _, ok := d.valueSearch(addr)
	if !ok {
		return 0, false
	}
	if s.mod == nil && s.size > 0 {
		return s.addr + s.size, true
	}
	if s.mod == nil {
		// gdb names a label (a symbol without size) by the sized
		// function around it, if any, and ends there (minsyms.c
		// lookup_minimal_symbol_by_pc_section prefers sized symbols).
		at := s.addr
		for i := 0; i < 256 && at > 0; i++ {
			p, ok := d.s.Vmlinux.SymbolAt(at - 1)
			if !ok {
				break
			}
			if p.Size > 0 {
				if p.Addr+p.Size > s.addr {
					return p.Addr + p.Size, true
				}
				break
			}
			at = p.Addr
		}
	}
	if s.mod != nil {
		syms := d.modSyms(s.mod)
		for _, n := range syms {
			if n.addr > s.addr {
				return n.addr, true
			}
		}
		// crash's table ends the module with _MODULE_END_.
		if addr < s.mod.Core[1] && addr >= s.mod.Core[0] {
			return s.mod.Core[1], true
		}
		return s.mod.Init[1], true
	}
	n, ok := d.s.Vmlinux.SymbolAfter(s.addr)
	if !ok {
		return 0, false
	}
	return n.Addr, true
}

// gdbKnows reports whether gdb, which holds vmlinux's symbols only, names
// addr: it does inside vmlinux's sections.
func (d *disRun) gdbKnows(addr uint64) bool {
	_, ok := d.s.Vmlinux.SymbolAt(addr)
	return ok
}

// line is one disassembled instruction as crash prints it.
func (d *disRun) line(b *strings.Builder, in gdbasm.Inst) {
	var num [16]byte
	b.WriteString("0x")
	b.Write(strconv.AppendUint(num[:0], in.PC, 16))
	b.WriteString(" <")
	name := d.symstr(in.PC)
	b.WriteString(name)
	b.WriteString(">:\t")
	b.WriteString(in.Text)
	target := ""
	switch in.RefKind {
	case gdbasm.BranchRef, gdbasm.RIPRef:
		// gdb names what it knows; crash re-names it (x86_64_dis_filter)
		// and names jump targets gdb left bare (module text).
		jump := in.RefKind == gdbasm.BranchRef && strings.HasPrefix(mnemonicOf(in.Text), "j")
		if d.gdbKnows(in.Ref) || jump {
			if s := d.symstr(in.Ref); s != "" {
				target = s
				b.WriteString(" <")
				b.WriteString(s)
				b.WriteString(">")
			}
		}
	}
	if target != "" {
		// crash's value_symbol(vaddr) after the target's lookup
		// (x86_64_dis_filter): the line's address is looked up again
		// (symvalHash)
		d.valueSearch(in.PC)
	}
	ftrace := false
	if strings.Contains(in.Text, "nopl   0x0(%rax,%rax,1)") {
		if _, ok := d.startsSymbol(in.PC); ok {
			ftrace = true
			b.WriteString(" [FTRACE NOP]")
		}
	}
	b.WriteString("\n")
	d.instJSON(in, name, target, ftrace)
}

// mnemonicOf is the word before the last one (crash's argv[argc-2]: the
// mnemonic of a branch, whose last word is its target).
func mnemonicOf(text string) string {
	t := strings.TrimRight(text, " ")
	i := strings.LastIndexByte(t, ' ')
	if i < 0 {
		return t
	}
	t = strings.TrimRight(t[:i], " ")
	if j := strings.LastIndexByte(t, ' '); j >= 0 {
		return t[j+1:]
	}
	return t
}

// startsSymbol is crash's value_symbol: a symbol starts exactly at addr.
func (d *disRun) startsSymbol(addr uint64) (disSym, bool) {
	s, off, ok := d.valueSearch(addr)
	return s, ok && off == 0 && !isPseudo(s)
}

// disChunk is how much text dis reads at a time.
const disChunk = 4096

// code reads the text from start on, in chunks, as the decoder needs it.
type codeReader struct {
	read  func(p []byte, addr uint64) error
	base  uint64
	buf   []byte
	err   error
	limit uint64 // 0: none
}

// at returns up to 15 bytes at addr, fewer where memory ends.
func (c *codeReader) at(addr uint64) ([]byte, error) {
	if addr < c.base || addr+15 > c.base+uint64(len(c.buf)) {
		c.base = addr
		c.buf = c.buf[:0]
		n := uint64(disChunk)
		p := make([]byte, n)
		if err := c.read(p, addr); err != nil {
			// The chunk crosses into memory the dump lacks: read what
			// is there, up to the page end.
			pageEnd := (addr | 0xfff) + 1
			p = p[:pageEnd-addr]
			if err2 := c.read(p, addr); err2 != nil {
				return nil, err2
			}
		}
		c.buf = p
	}
	off := addr - c.base
	return c.buf[off:min(off+15, uint64(len(c.buf)))], nil
}

// maxDisInstructions bounds one dis (gdb would go on; a corrupt range
// must not hang the session).
const maxDisInstructions = 1 << 21

// print disassembles from start: the whole function up to end, count
// instructions, or (-r) up to and including target. As crash, it first
// has gdb disassemble a number of instructions - the count, or as many
// as the range has bytes - and then prints the part asked for; when gdb
// cannot read some of them, crash prints nothing but its error.
func (d *disRun) print(start, target, end, count uint64, countEntered bool) error {
	var n uint64
	switch {
	case d.o.reverse:
		n = max(target-start, 1)
	case countEntered:
		n = count
	default:
		n = end - start
	}
	n = min(n, maxDisInstructions)
	cr := &codeReader{read: d.s.Mem.ReadVirt}
	// n is bytes for a function (instructions average ~4 bytes)
	insts := make([]gdbasm.Inst, 0, min(n/3+1, 1<<16))
	pc := start
	for i := uint64(0); i < n; i++ {
		if !d.o.reverse && !countEntered && pc >= end {
			// What gdb decodes past the end is not printed; it only
			// matters whether gdb could read it: each of the n-i
			// instructions left takes at least a byte (an unreadable
			// byte further on, within 15 per instruction, is missed).
			if err := readable(d.s.Mem.ReadVirt, pc, n-i); err != nil {
				return fmt.Errorf("gdb unable to disassemble kernel virtual address %x", start)
			}
			break
		}
		code, err := cr.at(pc)
		if err != nil || len(code) == 0 {
			return fmt.Errorf("gdb unable to disassemble kernel virtual address %x", start)
		}
		in := gdbasm.Decode(code, pc)
		insts = append(insts, in)
		pc += uint64(in.Len)
	}
	if d.o.reverse && countEntered {
		// The last count instructions up to the target
		// (kernel.c set_reverse_tmpfile_offset).
		k := 0
		for k < len(insts) && insts[k].PC < target {
			k++
		}
		if k < len(insts) {
			insts = insts[max(0, k+1-int(count)) : k+1]
		}
		countEntered = false
	}
	var b strings.Builder
	var lastLine string
	forward := d.o.forward
	printed := uint64(0)
	for _, in := range insts {
		if forward {
			if in.PC < target {
				continue
			}
			forward = false
		}
		if !d.o.reverse && !countEntered && end != 0 && in.PC >= end {
			break
		}
		if d.o.lines {
			if l := d.sourceLine(in.PC); l != lastLine {
				b.WriteString(l + "\n")
				lastLine = l
			}
			d.jsSource = lastLine
		}
		d.line(&b, in)
		if d.o.reverse && in.PC >= target {
			break
		}
		if countEntered {
			printed++
			if printed == count {
				break
			}
		}
	}
	_, err := io.WriteString(d.w, b.String())
	return err
}

// readable checks that n bytes from addr can be read, a page at a time.
func readable(read func([]byte, uint64) error, addr, n uint64) error {
	var b [1]byte
	for a := addr; a < addr+n; a = (a | 0xfff) + 1 {
		if err := read(b[:], a); err != nil {
			return err
		}
		if a+1 < a {
			break
		}
	}
	return nil
}

// sourceLine is crash's get_line_number: "file: line" of kernel text,
// empty for module text whose object file was not loaded.
func (d *disRun) sourceLine(pc uint64) string {
	if m := d.module(pc); m != nil {
		// The object file mod -s loaded knows the module's lines.
		o := d.s.moduleObject(m.Name)
		if o == nil {
			return ""
		}
		file, line, err := o.Line(pc)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("%s: %d", file, line)
	}
	if d.lt == nil {
		lt, err := symbols.NewLineTable(d.s.Vmlinux)
		if err != nil {
			return ""
		}
		d.lt = lt
	}
	file, line, err := d.lt.Line(pc)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s: %d", file, line)
}

// raw is gdb's own x/Ni output, which crash passes through unfiltered for
// an address no symbol covers and for user addresses.
func (d *disRun) raw(addr, count uint64) error {
	read := d.s.Mem.ReadVirt
	if d.o.user {
		r, err := d.s.reader(uvaddr)
		if err != nil {
			return err
		}
		read = r
	}
	cr := &codeReader{read: read}
	var b strings.Builder
	pc := addr
	for i := uint64(0); i < count; i++ {
		code, err := cr.at(pc)
		if err != nil {
			// gdb prints the address, then fails reading its 64-byte
			// cache line and the address itself; crash reports each
			// failed read of a kernel (or, with -u, user) address.
			fmt.Fprintf(&b, "   0x%x:\t", pc)
			if d.o.user || pc >= kernel.KernelSpaceStart {
				t := kvaddr
				if d.o.user {
					t = uvaddr
				}
				for _, a := range []uint64{pc &^ 0x3f, pc} {
					var one [1]byte
					if err := read(one[:], a); err != nil {
						me := classifyReadError(err, t, a, "gdb_readmem_callback", d.s.dumpFormat())
						fmt.Fprintf(&b, "dis: %s\n", me)
						if me.pinned {
							// a kernel thread's context: crash reports the
							// failed pgd read once
							break
						}
					}
				}
			}
			io.WriteString(d.w, b.String())
			return &printedError{err: err}
		}
		in := gdbasm.Decode(code, pc)
		fmt.Fprintf(&b, "   0x%x:\t%s\n", pc, in.Text)
		d.instJSON(in, "", "", false)
		pc += uint64(in.Len)
	}
	_, err := io.WriteString(d.w, b.String())
	return err
}

// listSource is dis -s (kernel.c list_source_code over gdb's "list
// *ADDR" and "list"): the file and line of addr, then the source from
// five lines before it to the end of the function (the first line "}"
// after it) or to count lines after it, when the source tree is here.
func (d *disRun) listSource(addr uint64, countEntered bool, count uint64) error {
	sp, _, ok := d.valueSearch(addr)
	if !ok || !sp.text {
		return fmt.Errorf("%x: not a kernel text address", addr)
	}
	var full string
	var line int
	var err error
	var compDir func(uint64) (string, error)
	if m := d.module(addr); m != nil {
		o := d.s.moduleObject(m.Name)
		if o == nil || !o.HasLines() {
			return fmt.Errorf("%s: module source code is not available", m.Name)
		}
		full, line, err = o.Line(addr)
		compDir = o.CompDir
	} else {
		d.sourceLine(addr) // loads the line table
		if d.lt == nil {
			return errors.New("line numbers are not available")
		}
		full, line, err = d.lt.Line(addr)
		compDir = d.lt.CompDir
	}
	var b strings.Builder
	if err != nil {
		b.WriteString("FILE: (unknown)\nLINE: (unknown)\n\n")
		io.WriteString(d.w, b.String())
		return &stderrError{fmt.Errorf("%s: source code is not available\n", d.arg)}
	}
	file := full
	if dir, err := compDir(addr); err == nil && dir != "" {
		file = strings.TrimPrefix(full, strings.TrimSuffix(dir, "/")+"/")
	}
	fmt.Fprintf(&b, "FILE: %s\nLINE: %d\n\n", file, line)
	src, err := os.ReadFile(full)
	if err != nil {
		io.WriteString(d.w, b.String())
		return &stderrError{fmt.Errorf("%s: source code is not available\n", d.arg)}
	}
	lines := strings.Split(string(src), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	text := func(n int) string { return lines[n-1] }
	first := max(1, line-5)
	firstEnd := min(first+9, len(lines))
	remaining := count
	last := 0
	done := false
	// gdb's first "list *ADDR": ten lines around the line.
	for n := first; n <= firstEnd; n++ {
		if countEntered && last >= line {
			if remaining == 0 {
				done = true
				break
			}
			remaining--
		}
		last = n
		mark := "  "
		if n == line {
			mark = "* "
		}
		fmt.Fprintf(&b, "%s%d\t%s\n", mark, n, text(n))
		if !countEntered && last > line && text(n) == "}" {
			done = true
			break
		}
	}
	if countEntered && remaining == 0 {
		done = true
	}
	// Then "list" again, ten lines a time, until done or the file ends.
	for n := last + 1; !done && n <= len(lines); n++ {
		if countEntered {
			if remaining == 0 {
				break
			}
			remaining--
		}
		fmt.Fprintf(&b, "  %d\t%s\n", n, text(n))
		if !countEntered && text(n) == "}" {
			break
		}
	}
	b.WriteString("\n")
	_, err = io.WriteString(d.w, b.String())
	return err
}

// disJIT is bpf -j (crash's bpf.c over gdb's "x/Ni BPF_FUNC"): the
// instructions from start on up to the last one that starts before end,
// each line as gdb's x/i prints it ("   0xADDR:\tTEXT", gdb naming the
// vmlinux addresses it knows) and then what crash adds: a space, and
// where the line's last word is a number, that number's symbol in <>
// (value_to_symstr, its offset in radix).
func (s *Session) disJIT(w io.Writer, start, end uint64, radix int) error {
	d := &disRun{s: s, w: w, symval: s.symval.load()}
	defer func() { s.symval.store(d.symval) }()
	if mods, err := s.modules(); err == nil {
		d.mods = mods
	}
	if radix == 0 {
		radix = s.Settings().outputRadix()
	}
	cr := &codeReader{read: s.Mem.ReadVirt}
	var b strings.Builder
	defer func() { io.WriteString(w, b.String()) }()
	for pc, n := start, 0; pc < end && n < maxDisInstructions; n++ {
		code, err := cr.at(pc)
		if err != nil || len(code) == 0 {
			fmt.Fprintf(&b, "   0x%x:\t \n", pc)
			return fmt.Errorf("gdb unable to disassemble kernel virtual address %x", pc)
		}
		in := gdbasm.Decode(code, pc)
		line := "   0x" + strconv.FormatUint(pc, 16) + ":\t" + in.Text
		if (in.RefKind == gdbasm.BranchRef || in.RefKind == gdbasm.RIPRef) && d.gdbKnows(in.Ref) {
			if name := d.symstr(in.Ref); name != "" {
				line += " <" + name + ">"
			}
		}
		b.WriteString(line + " ")
		if f := strings.Fields(line); len(f) > 1 && (isDecWord(f[len(f)-1]) || isHexWord(f[len(f)-1])) {
			if v, err := parseHex(f[len(f)-1]); err == nil { // crash's htol
				d.o.radix = radix
				if name := d.symstr(v); name != "" {
					b.WriteString("<" + name + ">")
				}
				d.o.radix = 0
			}
		}
		b.WriteString("\n")
		pc += uint64(in.Len)
	}
	return nil
}
