package commands

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/commands/gdbfmt"
)

func init() {
	register(Command{
		Name:        "p",
		Aliases:     []string{"print"},
		Summary:     "print the value of an expression",
		Synopsis:    "[-x|-d][-u] [expression | symbol[:cpuspec]]",
		Description: `  This command passes its arguments on to gdb "print" command for evaluation.`,
		Flags: []Flag{
			{Name: "x", Help: "integers in hexadecimal."},
			{Name: "d", Help: "integers in decimal."},
			{Name: "h", Help: "the same as -x (crash's getopt takes it; its synopsis does not name it).", Hidden: true},
			{Name: "u", Help: "the address is a user virtual address of the current context: the kernel's variables are not there, so gdb cannot read them (crash's answer)."},
		},
		Operands: []Operand{
			{"expression", "a C expression over kernel variables: members (. and ->), indexes, & and *, casts such as (struct task_struct *)ADDR, sizeof, arithmetic; $, $N and $$N name earlier results. After mod -s, a module's variables too."},
			{"symbol", "a kernel variable; its name leads the output."},
			{":cpuspec", "for a per-cpu variable: the cpus whose copies to print (a list such as 0,1, or a for all); without it, the variable's type and the address of each cpu's copy."},
		},
		Notes: "  The results are numbered $1, $2, ... in the order they were printed.\n" +
			"  p/FMT EXPRESSION is gdb's print with a format, which crash hands to gdb whole: every integer,\n" +
			"  character, enum and pointer in hex (x), signed (d), unsigned (u), octal (o), binary (t),\n" +
			"  zero-padded hex (z), as a character (c) or an address with its <symbol> (a); no <symbol> else,\n" +
			"  a char array as numbers, numbered as p's results but without the NAME = leader; a failure is\n" +
			"  gdb's \"gdb request failed\" line.\n" +
			"  Without the vmlinux, the types of the loaded modules come from their BTF; mod -s loads a module's\n" +
			"  object file for its variables (and source lines) as with the vmlinux.",
		Examples: printExamples,
		Run:      runPrint,
	})
	register(Command{
		Name:    "whatis",
		Usage:   "whatis [[-o] [struct | union | typedef | symbol]] | \n         [[-r [size|range]] [-m member]]",
		Summary: "search symbol table for data or type information",
		Help:    whatisHelp,
		Options: []string{"-o", "-r", "-m"},
		Run:     runWhatis,
	})
}

const printExamples = `  A variable, in hexadecimal, and a member of the init task:

    crash> p jiffies
    jiffies = $1 = 4294901069
    crash> p -x jiffies
    jiffies = $2 = 0xfffefd4d
    crash> p init_task.comm
    $3 = "swapper/0\000\000\000\000\000\000"

  An address, and a pointer followed:

    crash> p &init_task.tasks
    $4 = (struct list_head *) 0xffffffff8d811920 <init_task+800>
    crash> p init_task.real_parent->pid
    $5 = 0

  Each cpu's runqueue length:

    crash> p runqueues:a
    per_cpu(runqueues, 0) = $6 = {
      __lock = {
    ...`

const whatisHelp = `  This command displays the definition of structures, unions, typedefs or
  text/data symbols.

    struct  a structure name; the structure definition is displayed.
     union  a union name; the union definition is displayed.
   typedef  a typedef name; the typedef definition is displayed.
    symbol  a kernel symbol; its declaration is displayed.
        -o  show the offsets of structure and union members.
   -r size  search for structures of this exact size.
  -r range  search for structures of a range of sizes, expressed as "low-high".
 -m member  search for structures that contain a member of this data type, or
            that contain a pointer to this data type; if a structure contains
            another structure, the members of the embedded structure will also
            be subject to the search. The member argument may also be expressed
            as a substring of a member's data type.

EXAMPLES
  A variable, a function and a structure:

    crash> whatis jiffies
    volatile unsigned long jiffies;
    crash> whatis schedule
    void schedule(void);
    crash> whatis -o list_head
    struct list_head {
       [0] struct list_head *next;
       [8] struct list_head *prev;
    }
    SIZE: 16

  The structures that point to an mm_struct, and those of 40 to 100 bytes
  among them:

    crash> whatis -m mm_struct
     SIZE  TYPE
       40  flush_tlb_info
       40  mm_slot
    ...
     6720  task_struct
    40192  kvm
    crash> whatis -r 40-100 -m mm_struct
    SIZE  TYPE
      40  flush_tlb_info
      40  mm_slot
      48  mm_walk
      48  mmap_unlock_irq_work
      72  bpf_iter_seq_task_vma_info
      88  proc_maps_private
      96  move_charge_struct

  The types of one byte (gdb knows a typedef's size only once it resolved
  it: gocrash lists the typedefs that are an array's element type):

    crash> whatis -r 1
    SIZE  TYPE
       1  BYTE
       1  _Bool
       1  __u8
    ...`

// printState is a session's gdb value history.
type printState struct {
	history []cval
}

var printStates = map[*Session]*printState{}

func (s *Session) printState() *printState {
	tableMu.Lock()
	defer tableMu.Unlock()
	ps, ok := printStates[s]
	if !ok {
		ps = &printState{}
		printStates[s] = ps
	}
	return ps
}

// SetHistoryLen makes the next value printed by p get number n+1 (crash's
// and gdb's value history is per session; tests replaying one command out
// of a recorded session align it).
func (s *Session) SetHistoryLen(n int) {
	ps := s.printState()
	for len(ps.history) < n {
		ps.history = append(ps.history, cval{typ: &godwarf.VoidType{}})
	}
	ps.history = ps.history[:n]
}

func (s *Session) exprEnv() (*exprEnv, error) {
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	env := &exprEnv{t: t, vm: s.Vmlinux, mem: s.Mem, history: s.printState().history, mods: s.moduleObjects()}
	if s.Kernel != nil && s.Kernel.NoDebuginfo() {
		env.modSym = func(name string) (uint64, bool) {
			ms, ok := s.moduleSymbol(name)
			return ms.Addr, ok && ms.Func
		}
	}
	return env, nil
}

// valueEnv is exprEnv over valueTypes: what p evaluates and prints, its
// variables typed by ValueVarType (their DWARF declarations spelled in
// the BTF's types). After mod -s the modules' DWARF types join the
// kernel's DWARF ones only: the DWARF then.
func (s *Session) valueEnv() (*exprEnv, error) {
	env, err := s.exprEnv()
	if err != nil {
		return nil, err
	}
	if vt := s.valueTypes(); vt != env.t && len(env.mods) == 0 {
		env.t = vt
	}
	return env, nil
}

func runPrint(s *Session, args []string, w io.Writer) error {
	s.loadModuleTypes()
	opts, rest, err := permute("p", args, "dhxu", "")
	if err != nil {
		if ue, ok := err.(*UsageError); ok {
			ue.Reason = ""
		}
		return err
	}
	radix, user := 0, false
	for _, o := range opts {
		switch o.c {
		case 'd':
			if err := setRadix(&radix, 10); err != nil {
				return err
			}
		case 'x', 'h':
			if err := setRadix(&radix, 16); err != nil {
				return err
			}
		case 'u':
			user = true
		}
	}
	if len(rest) == 0 {
		return &UsageError{Cmd: "p"}
	}
	first := rest[0]
	cpuspec, hasCPU := "", false
	if i := strings.LastIndexByte(first, ':'); i >= 0 {
		first, cpuspec, hasCPU = first[:i], first[i+1:], true
	}
	symAddr, isSym := s.Vmlinux.Lookup(first)
	isModSym := false
	if !isSym {
		// crash's symbol_search knows the modules' symbols too: their
		// name leads the answer (gdb answers after mod -s).
		_, isModSym = s.moduleSymbol(first)
	}
	if isSym && len(rest) == 1 && s.isPerCPUSymbol(symAddr) {
		return s.printPerCPU(w, first, symAddr, radix, cpuspec, hasCPU)
	}
	if hasCPU && isSym {
		fmt.Fprintf(w, "WARNING: %s is not percpu; cpuspec ignored.\n", first)
		rest = append([]string{first}, rest[1:]...)
	}
	// crash hands gdb its command line without the words that start with
	// '-' (concat_args): "p 3 - 5" asks gdb for "p 3 5".
	var words []string
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	expr := strings.Join(words, " ")
	leader := ""
	if isSym || isModSym && !hasCPU {
		leader = first
	}
	return s.printExpr(w, expr, radix, leader, user)
}

// printExpr evaluates expr and prints it as gdb's print does, numbered in
// the value history, with crash's "NAME = " leader when the expression
// starts with a symbol.
func (s *Session) printExpr(w io.Writer, expr string, radix int, leader string, user bool) error {
	return s.printExprFormat(w, "p "+expr, expr, radix, 0, leader, user)
}

// printGDBFormat is gdb's print/FMT, which crash hands to gdb whole (a
// command word "p/x" is no crash command): the value in that format
// (gdbfmt.Printer.Format: x, d, u, o, t, z, c, a; s and f print numbers
// as they are), numbered in the value history, without crash's "NAME = "
// leader. A failure is crash's one line, "gdb: gdb request failed: LINE"
// (gdb's reason does not reach crash's output); gdb refuses an item
// count before anything, and a format letter it does not know, or a
// function's value in any format (unpack_long cannot convert it), only
// after "$N = " and the value's entry in the history. (Checked against
// crash 8.0.6 on 6.1-sysrq: p/x, /d, /o, /t, /c, /a, /z, /u, /q, /2x.)
func (s *Session) printGDBFormat(w io.Writer, word, format, expr string) error {
	req := strings.TrimSpace(word + "/" + format + " " + expr)
	failed := fmt.Errorf("gdb request failed: %s", req)
	if format == "" || format[0] >= '0' && format[0] <= '9' {
		return failed
	}
	if strings.TrimSpace(expr) == "" {
		// gdb prints the last value again
		expr = "$"
	}
	env, err := s.valueEnv()
	if err != nil {
		return err
	}
	v, err := env.eval(expr)
	if err != nil {
		return failed
	}
	ps := s.printState()
	if v.lval {
		if b, err := env.bytes(v); err == nil {
			v.data = b
		}
	}
	_, isFunc := env.resolve(v.typ).(*godwarf.FuncType)
	if len(format) != 1 || !strings.Contains("xduotzacsf", format) || isFunc {
		ps.history = append(ps.history, v)
		fmt.Fprintf(w, "$%d = ", len(ps.history))
		return failed
	}
	if format == "s" || format == "f" {
		// integers print as they are (gocrash has no floats in
		// expressions)
		return s.printExprFormat(w, req, expr, 10, 0, "", false)
	}
	text, err := s.formatTopAs(env, v, format[0])
	if err != nil {
		return failed
	}
	ps.history = append(ps.history, v)
	_, err = fmt.Fprintf(w, "$%d = %s\n", len(ps.history), text)
	return err
}

func (s *Session) printExprFormat(w io.Writer, req, expr string, radix int, format byte, leader string, user bool) error {
	env, err := s.valueEnv()
	if err != nil {
		return err
	}
	env.noRead = user && false
	v, err := env.eval(expr)
	var text string
	if err == nil && user {
		// crash reads user memory for -u: the expression's kernel
		// variables are not there.
		err = errorf("Cannot access memory")
	}
	if err == nil && format != 0 {
		text, err = s.formatTopAs(env, v, format)
	} else if err == nil {
		text, err = s.formatTop(env, v, radix)
	}
	if err != nil {
		fmt.Fprintf(s.diag(w), "%v\n", err)
		return fmt.Errorf("gdb request failed: %s", req)
	}
	ps := s.printState()
	if v.lval {
		if b, err := env.bytes(v); err == nil {
			v.data = b
		}
	}
	ps.history = append(ps.history, v)
	out := fmt.Sprintf("$%d = %s\n", len(ps.history), text)
	if leader != "" {
		out = leaderSplit(leader, out)
	}
	_, err = io.WriteString(w, out)
	return err
}

// leaderSplit is crash's process_gdb_output with a leader: "NAME = " in
// front, and when the first line holds a '{' that does not end it, the
// line is broken before the brace: "avenrun = $40 = \n {1747, 400, 132}".
func leaderSplit(leader, out string) string {
	line, rest, _ := strings.Cut(out, "\n")
	line += "\n"
	if i := strings.IndexByte(line, '{'); i >= 0 && line[i:] != "{\n" {
		return leader + " = " + line[:i] + "\n {" + line[i+1:] + rest
	}
	return leader + " = " + line + rest
}

// formatTop prints a value as gdb's print does at the top level: a pointer
// with its type in front (but a plain char pointer), a function as
// {TYPE} ADDR <name>, anything else as inside a structure.
func (s *Session) formatTop(env *exprEnv, v cval, radix int) (string, error) {
	pr := s.gdbPrinter(radix)
	pr.Types = env.t
	var b bytes.Buffer
	rt := env.resolve(v.typ)
	switch tt := rt.(type) {
	case *godwarf.VoidType, nil:
		return "<void>", nil
	case *godwarf.FuncType:
		b.WriteByte('{')
		b.WriteString(gdbfmt.TypeName(v.typ))
		b.WriteString("} ")
		pr.Value(&b, &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: &godwarf.VoidType{}}, le64(v.addr), 0, 0)
		return b.String(), nil
	case *godwarf.PtrType:
		x, _, err := env.scalar(v)
		if err != nil {
			return "", err
		}
		if !plainCharPointer(v.typ) {
			b.WriteString("(" + gdbfmt.TypeName(v.typ) + ") ")
		}
		pr.Pointer(&b, tt, x)
		return b.String(), nil
	}
	return printStored(env, pr, &b, v)
}

// printStored appends v, a value in memory or a bitfield, to b as pr
// prints it: the tail print and print/FMT share.
func printStored(env *exprEnv, pr *gdbfmt.Printer, b *bytes.Buffer, v cval) (string, error) {
	if v.bitSize > 0 {
		x, _, err := env.scalar(v)
		if err != nil {
			return "", err
		}
		pr.Scalar(b, v.typ, x, int(v.bitSize))
		return b.String(), nil
	}
	data, err := env.bytes(v)
	if err != nil {
		return "", err
	}
	pr.Value(b, v.typ, data, v.addr, 0)
	return b.String(), nil
}

// formatTopAs prints a value as gdb's print/FMT does: every scalar in
// the format, a pointer or a function as its address alone, without the
// type in front.
func (s *Session) formatTopAs(env *exprEnv, v cval, format byte) (string, error) {
	pr := s.gdbPrinter(10)
	pr.Types = env.t
	pr.Format = format
	var b bytes.Buffer
	rt := env.resolve(v.typ)
	switch rt.(type) {
	case *godwarf.VoidType, nil:
		return "<void>", nil
	case *godwarf.FuncType:
		pr.Value(&b, rt, nil, v.addr, 0)
		return b.String(), nil
	case *godwarf.PtrType:
		x, _, err := env.scalar(v)
		if err != nil {
			return "", err
		}
		pr.Value(&b, rt, le64(x), 0, 0)
		return b.String(), nil
	}
	return printStored(env, pr, &b, v)
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// plainCharPointer is gdb's exception to printing a pointer's type: an
// unnamed pointer whose target is named "char" (qualifiers aside).
func plainCharPointer(typ godwarf.Type) bool {
	pt, ok := typ.(*godwarf.PtrType)
	if !ok || pt.Name != "" {
		return false
	}
	t := pt.Type
	for {
		q, ok := t.(*godwarf.QualType)
		if !ok {
			break
		}
		t = q.Type
	}
	switch ct := t.(type) {
	case *godwarf.CharType:
		return ct.Name == "char"
	case *godwarf.UcharType:
		// -funsigned-char (the kernel's since 6.2): plain char is
		// DW_ATE_unsigned_char, still named "char".
		return ct.Name == "char"
	}
	return false
}

// printPerCPU is crash's display_per_cpu_info: without a cpu list the
// variable's type and each cpu's address, with one each cpu's value.
func (s *Session) printPerCPU(w io.Writer, name string, addr uint64, radix int, cpuspec string, hasCPU bool) error {
	n, err := s.NumCPUs()
	if err != nil {
		return err
	}
	var cpus map[int]bool
	if hasCPU {
		if cpuspec == "" {
			cpus = map[int]bool{s.currentCPU(): true}
		} else if cpus, err = parseCPUList(cpuspec, n); err != nil {
			return err
		}
	}
	if !hasCPU {
		decl, err := s.whatisVariable(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "PER-CPU DATA TYPE:\n  %sPER-CPU ADDRESSES:\n", decl)
	}
	for c := range n {
		if hasCPU && !cpus[c] {
			continue
		}
		off, err := s.PerCPUOffset(c)
		if err != nil {
			return err
		}
		if !hasCPU {
			fmt.Fprintf(w, "  [%d]: %x\n", c, addr+off)
			continue
		}
		env, err := s.valueEnv()
		if err != nil {
			return err
		}
		typ, err := env.t.VarType(name)
		if err != nil {
			return err
		}
		if err := s.printValue(w, env, cval{typ: typ, lval: true, addr: addr + off}, radix, fmt.Sprintf("per_cpu(%s, %d)", name, c)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) printValue(w io.Writer, env *exprEnv, v cval, radix int, leader string) error {
	text, err := s.formatTop(env, v, radix)
	if err != nil {
		fmt.Fprintf(s.diag(w), "%v\n", err)
		return fmt.Errorf("gdb request failed: p *(%s*) 0x%x", gdbfmt.TypeName(v.typ), v.addr)
	}
	ps := s.printState()
	if b, err := env.bytes(v); err == nil {
		v.data = b
	}
	ps.history = append(ps.history, v)
	_, err = io.WriteString(w, leaderSplit(leader, fmt.Sprintf("$%d = %s\n", len(ps.history), text)))
	return err
}

// whatisVariable is crash's whatis_variable: gdb's type name of the
// variable with the name put where C declares it.
func (s *Session) whatisVariable(name string) (string, error) {
	env, err := s.exprEnv()
	if err != nil {
		return "", err
	}
	v, err := env.variable(name)
	if err != nil {
		return "", fmt.Errorf("gdb request failed: whatis %s", name)
	}
	tn := gdbfmt.TypeName(v.typ)
	switch {
	case strings.Contains(tn, "["):
		i := strings.Index(tn, "[")
		return tn[:i] + name + tn[i:] + ";\n", nil
	case strings.Contains(tn, "("):
		i := strings.Index(tn, "(")
		if strings.Count(tn, "(") > 1 {
			i = strings.Index(tn, ")")
		}
		return tn[:i] + name + tn[i:] + ";\n", nil
	case strings.HasSuffix(tn, "*"):
		return tn + name + ";\n", nil
	}
	return tn + " " + name + ";\n", nil
}
