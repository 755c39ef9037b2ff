package commands

// list: crash's tools.c cmd_list and do_list, over kernel.FollowList.

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/kernel"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "list",
		Summary:  "linked list",
		Synopsis: "[[-o] offset][-e end][-[s|S] struct[.member[,member] [-l offset]] -[x|d]]\n       [-r|-B] [-h [-O head_offset]|-H] start",
		Description: `  This command dumps the contents of a linked list: the address of each
  entry, one a line.  Either each entry holds, at an offset, a pointer to
  the next entry (and the list ends on a NULL pointer, on returning to the
  start, or on the first entry after it), or the entries are linked by
  embedded list_head structures, where -h or -H says where the list starts.
  The offset is a number of bytes or "struct.member", the start a symbol, a
  hexadecimal address or an expression.  A list that loops without ending
  stops on the first entry met twice ("duplicate list entry").`,
		Flags: []Flag{
			{Name: "o", Arg: "offset", Help: `the offset within the structure of the "next" pointer (default 0), a number of bytes or "struct.member"; "-o" may be left out before "struct.member".`},
			{Name: "e", Arg: "end", Help: "an explicit address where the list ends."},
			{Name: "s", Arg: "struct[.member[,member]]", Help: "format and print each entry as this structure, or these members of it, as gdb shows them."},
			{Name: "S", Arg: "struct[.member[,member]]", Help: "like -s, but members of 1, 2, 4 or 8 bytes are read directly from memory and printed as numbers (pointers in hexadecimal), char arrays and char pointers as strings."},
			{Name: "l", Arg: "offset", Help: "with -s or -S, when start is the address of an embedded list_head: its offset within the structure, a number of bytes or \"struct.member\"."},
			{Name: "O", Arg: "head_offset", Help: "with -h, the offset of the head's list_head within its own structure, when it differs from the other entries'."},
			{Name: "x", Help: "print member values in hexadecimal."},
			{Name: "d", Help: "print member values in decimal."},
			{Name: "r", Help: "for a list of list_head structures, walk it backwards, following the prev pointers."},
			{Name: "B", Help: "detect loops with R. P. Brent's algorithm instead of remembering every entry (a fixed amount of memory for long lists)."},
			{Name: "h", Help: "start is the address of a structure containing an embedded list_head, whose offset is given."},
			{Name: "H", Help: "start is the address of a list_head, typically a standalone LIST_HEAD(); it is not an entry."},
		},
		Operands: []Operand{{"start", "the address of the first entry, or with -h/-H of the head; a symbol, an address or an expression."}},
		Examples: `  The super blocks, linked through super_block.s_list from the standalone
  list head super_blocks, with their block sizes read from memory:

    crash> list super_block.s_list -H super_blocks -S super_block.s_blocksize
    ff42bab500178800
      s_blocksize = 4096
    ff42bab500179000
      s_blocksize = 4096
    ...

  The tasks after init in the task list, their pid and comm:

    crash> list task_struct.tasks -h ff42bab500198000 -S task_struct.pid,comm
    ff42bab500198000
      pid = 1
      comm = "init"
    ff42bab500199500
      pid = 2
      comm = "kthreadd"
    ...`,
		Run: runList,
	})
}

// listArgs is one parsed list command.
type listArgs struct {
	offset, headOffset, structOffset int64
	offsetSet, headOffsetSet         bool
	start, end                       uint64
	startSet                         bool
	structs                          []string
	read                             bool // -S
	radix                            int
	headFormat, headPointer          bool
	reverse, brent                   bool

	js *[]Addr // list's JSON: each entry's address (json_list.go)
}

func runList(s *Session, args []string, w io.Writer) error {
	s.loadModuleTypes()
	return listInto(s, args, w, nil)
}

// listInto is list, also collecting each entry's address into js when
// it is not nil (list's JSON: the addresses only).
func listInto(s *Session, args []string, w io.Writer, js *[]Addr) error {
	t, err := s.Types()
	if err != nil {
		return err
	}
	la := listArgs{js: js}
	g := parseFlagsPermuted("list", args)
	parseOff := func(opt, v string) (int64, error) {
		if isNumberWord(v) {
			n, err := ParseNumber(v)
			return int64(n), err
		}
		if off, err := t.Offset(v); err == nil {
			return off, nil
		}
		return 0, fmt.Errorf("invalid %s: %s", opt, v)
	}
	var sFlag, bigS bool
	for g.next() {
		switch g.flag {
		case "B":
			la.brent = true
		case "H":
			la.headFormat, la.headPointer = true, true
		case "h":
			la.headFormat = true
		case "r":
			la.headFormat, la.reverse = true, true
		case "s", "S":
			la.structs = append(la.structs, g.val)
			if g.flag == "s" {
				sFlag = true
			} else {
				bigS = true
			}
			if sFlag && bigS {
				return errors.New("-S and -s options are mutually exclusive")
			}
			la.read = bigS
		case "l":
			if la.structOffset, err = parseOff("-l option", g.val); err != nil {
				return err
			}
		case "O":
			if la.headOffsetSet {
				return fmt.Errorf("offset value %d (0x%x) already entered", la.headOffset, la.headOffset)
			}
			if la.headOffset, err = parseOff("-O argument", g.val); err != nil {
				return err
			}
			la.headOffsetSet = true
		case "o":
			if la.offsetSet {
				return fmt.Errorf("offset value %d (0x%x) already entered", la.offset, la.offset)
			}
			if la.offset, err = parseOff("-o argument", g.val); err != nil {
				return err
			}
			la.offsetSet = true
		case "e":
			if la.end, err = parseHex(g.val); err != nil || !isHexWord(g.val) {
				return fmt.Errorf("invalid input: \"%s\"", g.val)
			}
		case "x", "d":
			if la.radix != 0 {
				return errors.New("-d and -x are mutually exclusive")
			}
			la.radix = 16
			if g.flag == "d" {
				la.radix = 10
			}
		}
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	if len(rest) > 2 {
		fmt.Fprintf(w, "list: too many arguments\n")
		return &UsageError{Cmd: "list"}
	}
	if len(la.structs) == 0 && la.structOffset != 0 {
		fmt.Fprintf(w, "list: -l option can only be used with -s or -S option\n")
		return &UsageError{Cmd: "list"}
	}
	if err := la.operands(s, t, rest); err != nil {
		return err
	}
	if !la.startSet {
		fmt.Fprintf(w, "list: starting address required\n")
		return &UsageError{Cmd: "list"}
	}
	if la.offsetSet && la.structOffset != 0 {
		fmt.Fprintf(w, "list: -l and -o are mutually exclusive\n")
		return &UsageError{Cmd: "list"}
	}
	if js != nil && len(la.structs) > 0 {
		return jsonOptionsErr("list", args)
	}
	return la.run(s, t, w)
}

// isNumberWord is crash's IS_A_NUMBER: decimal or hexadecimal digits.
func isNumberWord(s string) bool { return isDecWord(s) || isHexWord(s) }

// operands is cmd_list's reading of the words after the options: a
// "struct.member" offset, a symbol as the start, an expression, or
// numbers (a start when it is a kernel address or comes last).
func (la *listArgs) operands(s *Session, t *symbols.Types, rest []string) error {
	po := s.PageOffset()
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if strings.Contains(a, ".") {
			if off, err := t.Offset(a); err == nil {
				if la.offsetSet {
					return fmt.Errorf("offset value %d (0x%x) already entered", la.offset, la.offset)
				}
				la.offset, la.offsetSet = off, true
				continue
			}
		}
		if v, ok := s.Vmlinux.Lookup(a); ok {
			if la.startSet {
				return errors.New("list start already entered")
			}
			la.start, la.startSet = v, true
			continue
		}
		if !isNumberWord(a) {
			if v, err := EvalAddress(a, s.lookupFunc()); err == nil && strings.ContainsAny(a, "()+-*/&|^%<>") && v >= po {
				if la.startSet {
					return errors.New("list start already entered")
				}
				la.start, la.startSet = v, true
				continue
			}
			return fmt.Errorf("invalid argument: %s", a)
		}
		if la.startSet {
			v, err := ParseNumber(a)
			if err != nil {
				return err
			}
			la.offset, la.offsetSet = int64(v), true
			return nil
		}
		if la.offsetSet || i == len(rest)-1 {
			v, err := parseHex(a)
			if err != nil || v < po {
				return fmt.Errorf("invalid kernel virtual address: %s", a)
			}
			la.start, la.startSet = v, true
			return nil
		}
		next := rest[i+1]
		if _, ok := s.Vmlinux.Lookup(next); ok {
			v, err := ParseNumber(a)
			if err != nil {
				return err
			}
			la.offset, la.offsetSet = int64(v), true
			continue
		}
		if !isNumberWord(next) && !strings.ContainsAny(next, "()+-*/&|^%<>") && !strings.Contains(next, ".") {
			return fmt.Errorf("symbol not found: %s", next)
		}
		if isHexWord(a) && !isDecWord(a) || len(a) == 16 {
			if v, err := parseHex(a); err == nil && v >= po {
				la.start, la.startSet = v, true
				continue
			}
		}
		v, err := ParseNumber(a)
		if err != nil {
			return err
		}
		la.offset, la.offsetSet = int64(v), true
	}
	return nil
}

// memberReader is one member of -S: crash's fill_member_offsets entry.
type memberReader struct {
	name   string
	offset uint64
	width  int64
	isPtr  bool
	isStr  bool
}

// entryWriter prints what -s or -S asks for about one entry.
type entryWriter interface {
	write(s *Session, st *symTable, b *strings.Builder, addr uint64, radix int) error
}

// newEntryWriters are the -s (gdb's format, read is false) or -S (members
// read directly) arguments of list and tree.
func newEntryWriters(s *Session, t *symbols.Types, args []string, read bool) ([]entryWriter, error) {
	var out []entryWriter
	for _, a := range args {
		if !read {
			g, err := newGDBEntry(t, a)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
			continue
		}
		r, err := newStructReader(t, a)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// gdbEntry is one -s argument: crash's dump_struct ("struct TYPE ADDR")
// for a structure alone, dump_struct_member ("struct TYPE.member ADDR")
// for each member of a list (tools.c dump_struct_members), printed by the
// struct command's code.
type gdbEntry struct {
	specs []string
}

func newGDBEntry(t *symbols.Types, arg string) (*gdbEntry, error) {
	name, members, ok := strings.Cut(arg, ".")
	if _, err := lookupDatatype(t, name); err != nil {
		return nil, fmt.Errorf("invalid data structure reference: %s", name)
	}
	if !ok {
		return &gdbEntry{specs: []string{name}}, nil
	}
	g := &gdbEntry{}
	for _, m := range strings.Fields(strings.ReplaceAll(members, ",", " ")) {
		g.specs = append(g.specs, name+"."+m)
	}
	if len(g.specs) == 0 {
		return nil, fmt.Errorf("invalid format: %s", arg)
	}
	return g, nil
}

func (g *gdbEntry) write(s *Session, _ *symTable, b *strings.Builder, addr uint64, radix int) error {
	for _, spec := range g.specs {
		args := []string{spec, fmt.Sprintf("%x", addr)}
		switch radix {
		case 16:
			args = append([]string{"-x"}, args...)
		case 10:
			args = append([]string{"-d"}, args...)
		}
		if err := runDatatype(s, "", args, b); err != nil {
			return err
		}
	}
	return nil
}

// structReader is one -S argument: the structure and its members.
type structReader struct {
	typeName string
	members  []memberReader
}

func newStructReader(t *symbols.Types, arg string) (*structReader, error) {
	name, members, ok := strings.Cut(arg, ".")
	if !ok {
		return nil, fmt.Errorf("-S %s: a whole structure is shown in gdb's format, which gocrash does not produce yet: name members", arg)
	}
	r := &structReader{typeName: name}
	for _, m := range strings.Split(members, ",") {
		mem, err := t.Member(name, m)
		if err != nil {
			return nil, fmt.Errorf("Can't get offset of '%s.%s'", name, m)
		}
		size, err := t.Size(mem.Type)
		if err != nil {
			return nil, err
		}
		mr := memberReader{name: m, offset: uint64(mem.Offset), width: size}
		typ := mem.Type
		for {
			if q, ok := typ.(*godwarf.QualType); ok {
				typ = q.Type
				continue
			}
			break
		}
		switch tt := typ.(type) {
		case *godwarf.PtrType:
			mr.isPtr = true
			mr.isStr = plainChar(tt.Type)
		case *godwarf.ArrayType:
			mr.isStr = plainChar(tt.Type)
		}
		if !mr.isStr && (mr.width == 0 || mr.width > 8) {
			return nil, fmt.Errorf("-S %s.%s: a %d-byte member is shown in gdb's format, which gocrash does not produce yet", name, m, mr.width)
		}
		r.members = append(r.members, mr)
	}
	return r, nil
}

// plainChar is crash's is_string test: the declared type is char (signed,
// unsigned, const or not), not a typedef of it.
func plainChar(typ godwarf.Type) bool {
	for {
		if q, ok := typ.(*godwarf.QualType); ok {
			typ = q.Type
			continue
		}
		break
	}
	switch typ.(type) {
	case *godwarf.CharType, *godwarf.UcharType:
		return true
	}
	return false
}

// write is dump_struct_members_fast / print_value for the entry at addr.
func (r *structReader) write(s *Session, t *symTable, b *strings.Builder, addr uint64, radix int) error {
	if radix == 0 {
		radix = 10
	}
	for _, m := range r.members {
		at := addr + m.offset
		var v uint64
		if m.width <= 8 {
			buf := make([]byte, m.width)
			if err := s.Mem.ReadVirt(buf, at); err != nil {
				fmt.Fprintf(b, "list: cannot access member: %s at %x\n", m.name, at)
				continue
			}
			for i := len(buf) - 1; i >= 0; i-- {
				v = v<<8 | uint64(buf[i])
			}
			rx := radix
			if m.isPtr {
				rx = 16
			}
			if rx == 16 {
				fmt.Fprintf(b, "  %s = 0x%x", m.name, v)
			} else {
				fmt.Fprintf(b, "  %s = %d", m.name, v)
			}
		}
		switch {
		case m.isStr && m.isPtr:
			str, _ := symbols.ReadCString(s.Mem, v, 1499)
			fmt.Fprintf(b, "  \"%s\"", str)
		case m.isStr:
			str, _ := symbols.ReadCString(s.Mem, at, int(m.width))
			fmt.Fprintf(b, "  %s = \"%s\"", m.name, str)
		case m.width == 8:
			if r, _, ok := t.search(v); ok {
				if name, _, kind := t.sym(r); kind == 't' || kind == 'T' {
					fmt.Fprintf(b, " <%s>", name)
				}
			}
		}
		b.WriteByte('\n')
	}
	return nil
}

func (la *listArgs) run(s *Session, t *symbols.Types, w io.Writer) error {
	readers, err := newEntryWriters(s, t, la.structs, la.read)
	if err != nil {
		return err
	}
	headOffset := uint64(0) // crash's list_head_offset
	next := uint64(la.offset)
	if la.headFormat {
		headOffset = uint64(la.offset)
		next = 0
		if la.reverse {
			next = 8
		}
		if la.headPointer {
			if la.end == 0 {
				la.end = la.start
			}
			p, err := kernel.ReadPointer(s.Mem, la.start+next)
			if err != nil {
				return classifyReadError(err, kvaddr, la.start+next, "LIST_HEAD contents", s.dumpFormat())
			}
			la.start = p
			if la.start == la.end {
				io.WriteString(w, "(empty)\n")
				return nil
			}
		} else if la.headOffsetSet {
			if la.end == 0 {
				la.end = la.start + uint64(la.headOffset)
			}
			p, err := kernel.ReadPointer(s.Mem, la.start+uint64(la.headOffset))
			if err != nil {
				return classifyReadError(err, kvaddr, la.start+uint64(la.headOffset), "LIST_HEAD contents", s.dumpFormat())
			}
			la.start = p
			if la.start == la.end {
				io.WriteString(w, "(empty)\n")
				return nil
			}
		} else {
			la.start += headOffset
		}
	}
	structOff := headOffset + uint64(la.structOffset)
	st := s.symTable()
	var b strings.Builder
	flush := func() {
		io.WriteString(w, b.String())
		b.Reset()
	}
	defer flush()
	spec := kernel.FollowSpec{Start: la.start, NextOffset: next, End: la.end, NullIsError: la.headFormat}
	err = kernel.FollowList(s.Ctx(), s.Mem, spec, func(link uint64) error {
		fmt.Fprintf(&b, "%x\n", link-headOffset)
		if la.js != nil {
			*la.js = append(*la.js, Addr(link-headOffset))
		}
		for _, r := range readers {
			if err := r.write(s, st, &b, link-structOff, la.radix); err != nil {
				return err
			}
		}
		if b.Len() > 1<<16 {
			flush()
		}
		return nil
	})
	var dup *kernel.DuplicateEntryError
	var rerr *kernel.ListReadError
	var inv *kernel.InvalidEntryError
	switch {
	case errors.As(err, &dup):
		b.WriteString("\n") // crash's error() starts the message with it
		flush()
		return fmt.Errorf("duplicate list entry: %x", dup.Addr)
	case errors.As(err, &rerr):
		flush()
		what := "list entry"
		if rerr.First {
			what = "first list entry"
		}
		return classifyReadError(rerr.Err, kvaddr, rerr.Addr, what, s.dumpFormat())
	case errors.As(err, &inv):
		b.WriteString("\n")
		flush()
		return errors.New("invalid list entry: 0")
	}
	return err
}
