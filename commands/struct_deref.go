package commands

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/commands/gdbfmt"
	"gocrash/symbols"
)

// struct -p: each pointer member of the structure is shown with its type,
// and on the next line, after "-> ", what it points to. This follows
// crash 8.0.6's print_struct_with_dereference and dereference_pointer
// (symbols.c), which work on text: the members are the lines of gdb's
// value at an indent of two spaces without a brace, and a member's type
// comes from its line in the structure's declaration (whatis_datatype):
// " *name;" a pointer, "**name;" a pointer to a pointer, "(*name)(" a
// function pointer, " name;" with a typedef of a pointer type. What is
// printed per kind:
//   - a function pointer: the declaration, " = 0x…", then "-> <symbol>",
//     "(unknown)" or "NULL";
//   - a char pointer: the string it points to (or "(not accessible)");
//   - a void pointer: "<symbol>", "NULL" or "(unknown target type)",
//     unless the symbol is a variable of a printable type;
//   - NULL or an unreadable address: "NULL" / "(not accessible)";
//   - a pointer to a pointer: the value it points to;
//   - otherwise gdb's print of the target ("p SYMBOL" when the pointer
//     holds a variable's address, else "p *((TYPE *)(ADDR))"), each line
//     after the first indented by five spaces, "<symbol> " in front when
//     the address is a symbol's. That print is numbered in gdb's value
//     history, as crash's is.

// printWithDereference is print_struct_with_dereference: text is the
// structure's value as struct prints it.
func (s *Session) printWithDereference(w io.Writer, pr *gdbfmt.Printer, dt *datatype, addr uint64, text string, radix int) {
	for _, line := range fgetsChunks(text) {
		if leadingSpaces(line) != 2 || strings.ContainsAny(line, "{}") {
			io.WriteString(w, line)
			continue
		}
		name, _, ok := strings.Cut(line[2:], " =")
		if !ok {
			io.WriteString(w, line)
			continue
		}
		if s.dereferencePointer(w, dt, name, addr, radix) {
			continue
		}
		io.WriteString(w, line)
	}
}

// dereferencePointer is crash's dereference_pointer for member of the
// structure at addr: false when the member is not a pointer (or gdb could
// not print its target), and the caller prints the member's line itself.
func (s *Session) dereferencePointer(w io.Writer, dt *datatype, member string, addr uint64, radix int) bool {
	t, err := s.Types()
	if err != nil {
		return false
	}
	mem, err := t.Member(dt.lookupName, member)
	if err != nil {
		return false
	}
	var (
		typeptr                                    string
		found, ptrptr, funcptr, typedefPtr, isChar bool
		isVoid                                     bool
	)
	decl := gdbfmt.Body(dt.st)
	for _, l := range strings.Split(decl, "\n") {
		if len(l) < 5 || l[4] == ' ' {
			continue
		}
		body := l[4:]
		if strings.Contains(l, " *"+member+";") {
			typeptr, found = body, true
		} else if strings.Contains(l, "**"+member+";") {
			typeptr, found, ptrptr = body, true, true
		} else if strings.Contains(l, "(*"+member+")(") {
			typeptr, found, funcptr = body, true, true
		} else if strings.Contains(l, " "+member+";") {
			first, _, _ := strings.Cut(body, " ")
			if s.isPointerTypedef(t, first) {
				typeptr, found, typedefPtr = body, true, true
			}
		}
		if found {
			break
		}
	}
	if !found {
		return false
	}
	switch {
	case funcptr:
		typeptr, _, _ = strings.Cut(typeptr, ";")
	case ptrptr:
		typeptr = typeptr[:strings.Index(typeptr, "**")+2]
	case typedefPtr:
		typeptr, _, _ = strings.Cut(typeptr, " ")
	default:
		typeptr = typeptr[:strings.IndexByte(typeptr, '*')+1]
		isChar = strings.Contains(typeptr, "char *")
		isVoid = strings.Contains(typeptr, "void *")
	}

	var b [8]byte
	at := addr + uint64(mem.Offset)
	if err := s.Mem.ReadVirt(b[:], at); err != nil {
		fmt.Fprintf(w, "%s: cannot access %s.%s %x\n", dt.kind, dt.name, member, at)
		return false
	}
	target := binary.LittleEndian.Uint64(b[:])
	sym := s.valueSymbol(target)
	useSymbol := sym != "" && s.symbolPrintable(sym)
	accessible := func(a uint64) bool { return s.Mem.ReadVirt(b[:], a) == nil }

	if funcptr {
		fmt.Fprintf(w, "  %s = 0x%x\n  -> ", typeptr, target)
		switch {
		case sym != "":
			fmt.Fprintf(w, "<%s>\n", sym)
		case target != 0:
			io.WriteString(w, "(unknown)\n")
		default:
			io.WriteString(w, "NULL\n")
		}
		return true
	}
	if isChar {
		fmt.Fprintf(w, "  %s%s = 0x%x\n  -> ", typeptr, member, target)
		if sym != "" {
			fmt.Fprintf(w, "<%s> ", sym)
		}
		switch {
		case target == 0:
			io.WriteString(w, "NULL\n")
		case !accessible(target):
			io.WriteString(w, "(not accessible)\n")
		default:
			fmt.Fprintf(w, "\"%s\"\n", s.readCString(target, 1499))
		}
		return true
	}
	if isVoid && !useSymbol {
		fmt.Fprintf(w, "  %s%s = 0x%x\n  -> ", typeptr, member, target)
		switch {
		case sym != "":
			fmt.Fprintf(w, "<%s>\n", sym)
		case target == 0:
			io.WriteString(w, "NULL\n")
		default:
			io.WriteString(w, "(unknown target type)\n")
		}
		return true
	}
	if target == 0 || !accessible(target) {
		sep := ""
		if typedefPtr {
			sep = " "
		}
		fmt.Fprintf(w, "  %s%s%s = 0x%x\n  -> ", typeptr, sep, member, target)
		if target == 0 {
			io.WriteString(w, "NULL\n")
		} else {
			io.WriteString(w, "(not accessible)\n")
		}
		return true
	}
	if ptrptr {
		fmt.Fprintf(w, "  %s%s = 0x%x\n  -> ", typeptr, member, target)
		if sym != "" {
			fmt.Fprintf(w, "<%s> ", sym)
		}
		if err := s.Mem.ReadVirt(b[:], target); err != nil {
			io.WriteString(w, "\n")
		} else {
			fmt.Fprintf(w, "%x\n", binary.LittleEndian.Uint64(b[:]))
		}
		return true
	}
	expr := fmt.Sprintf("*((%s)(0x%x))", typeptr, target)
	if useSymbol {
		expr = sym
	}
	star := ""
	if !typedefPtr {
		typeptr = strings.TrimSuffix(typeptr, " *")
		star = "*"
	}
	if !s.typeExists(t, typeptr) {
		fmt.Fprintf(w, "  %s %s%s = 0x%x\n  -> (%s: no debuginfo data)\n", typeptr, star, member, target, typeptr)
		return true
	}
	var out bytes.Buffer
	if err := s.printExpr(&out, expr, radix, "", false); err != nil {
		return false
	}
	fmt.Fprintf(w, "  %s %s%s = 0x%x\n  -> ", typeptr, star, member, target)
	for i, l := range fgetsChunks(out.String()) {
		if i > 0 {
			io.WriteString(w, "     "+l)
			continue
		}
		if sym != "" {
			fmt.Fprintf(w, "<%s> ", sym)
		}
		if (typedefPtr || useSymbol) && strings.Contains(l, "(") && strings.Contains(l, ")") {
			io.WriteString(w, "\n")
			break
		}
		if _, v, ok := strings.Cut(l, "= "); ok {
			io.WriteString(w, v)
		}
	}
	return true
}

// valueSymbol is crash's value_symbol: the name of the symbol whose
// address v is exactly, else "".
func (s *Session) valueSymbol(v uint64) string {
	st := s.symTable()
	if !st.inRange(v) {
		return ""
	}
	r, off, ok := st.search(v)
	if !ok || off != 0 {
		return ""
	}
	name, _, _ := st.sym(r)
	return name
}

// symbolPrintable is dereference_pointer's use of get_symbol_type: the
// symbol is a variable whose declared type (qualifiers aside, typedefs
// not followed) is an array, struct, union, integer or pointer, which gdb
// prints by name.
func (s *Session) symbolPrintable(name string) bool {
	env, err := s.exprEnv()
	if err != nil {
		return false
	}
	v, err := env.variable(name)
	if err != nil || v.typ == nil {
		return false
	}
	typ := v.typ
	for range 16 {
		q, ok := typ.(*godwarf.QualType)
		if !ok {
			break
		}
		typ = q.Type
	}
	switch typ.(type) {
	case *godwarf.ArrayType, *godwarf.StructType, *godwarf.IntType, *godwarf.UintType,
		*godwarf.CharType, *godwarf.UcharType, *godwarf.PtrType:
		return true
	}
	return false
}

// isPointerTypedef says whether name is a typedef whose type is a
// pointer (crash's datatype_exists() == TYPE_CODE_PTR).
func (s *Session) isPointerTypedef(t *symbols.Types, name string) bool {
	typ, err := t.Lookup(name)
	if err != nil {
		return false
	}
	if _, ok := typ.(*godwarf.TypedefType); !ok {
		return false
	}
	rt, err := t.Resolve(typ)
	if err != nil {
		return false
	}
	_, ok := rt.(*godwarf.PtrType)
	return ok
}

// typeExists is crash's datatype_exists for the pointer's target type
// ("struct task_struct", "const cpumask_t", "void").
func (s *Session) typeExists(t *symbols.Types, name string) bool {
	name = strings.TrimSpace(name)
	for {
		rest, ok := strings.CutPrefix(name, "const ")
		if !ok {
			rest, ok = strings.CutPrefix(name, "volatile ")
		}
		if !ok {
			break
		}
		name = rest
	}
	switch name {
	case "void", "char", "int", "long", "short":
		return true
	}
	if _, err := t.Lookup(name); err == nil {
		return true
	}
	for _, kw := range []string{"struct ", "union ", "enum "} {
		if n, ok := strings.CutPrefix(name, kw); ok {
			if _, err := t.Lookup(kw + n); err == nil {
				return true
			}
			// an incomplete struct is known to gdb too
			return true
		}
	}
	return false
}

// readCString reads the NUL-terminated string at addr, at most max bytes
// (crash's read_string into a BUFSIZE buffer).
func (s *Session) readCString(addr uint64, max int) string {
	var out []byte
	buf := make([]byte, 64)
	for len(out) < max {
		n := min(len(buf), max-len(out))
		// stay within the page: the next one may be unreadable
		if rem := 4096 - int(addr%4096); n > rem {
			n = rem
		}
		if err := s.Mem.ReadVirt(buf[:n], addr); err != nil {
			break
		}
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...))
		}
		out = append(out, buf[:n]...)
		addr += uint64(n)
	}
	return string(out)
}

// fgetsChunks splits text as crash's fgets(buf, BUFSIZE, fp) loops read
// it: line by line, a line longer than BUFSIZE-1 (1499) bytes in pieces of
// that size, each then treated as a line of its own.
func fgetsChunks(text string) []string {
	const max = 1499
	var out []string
	for _, l := range strings.SplitAfter(text, "\n") {
		for len(l) > max {
			out = append(out, l[:max])
			l = l[max:]
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
