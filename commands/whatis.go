package commands

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/commands/gdbfmt"
)

// runWhatis is crash's cmd_whatis: a symbol's declaration, a type's
// definition (struct, union, typedef, enum), or gdb's type of an
// expression.
func runWhatis(s *Session, args []string, w io.Writer) error {
	s.loadModuleTypes()
	opts, rest, err := permute("whatis", args, "om:r:", "mr")
	if err != nil {
		if ue, ok := err.(*UsageError); ok {
			ue.Reason = ""
		}
		return err
	}
	offsets := false
	var rangeArg, member string
	var hasRange, hasMember bool
	for _, o := range opts {
		switch o.c {
		case 'o':
			offsets = true
		case 'm':
			member, hasMember = o.arg, true
		case 'r':
			rangeArg, hasRange = o.arg, true
		}
	}
	if hasRange || hasMember {
		return runWhatisSearch(s, w, rangeArg, hasRange, member, hasMember)
	}
	if len(rest) == 0 {
		return &UsageError{Cmd: "whatis"}
	}
	kw := ""
	switch rest[0] {
	case "struct", "union", "enum":
		kw = rest[0]
		rest = rest[1:]
	default:
		_, ok := s.Vmlinux.Lookup(rest[0])
		if !ok {
			_, ok = s.moduleSymbol(rest[0])
		}
		if ok {
			decl, err := s.whatisVariable(rest[0])
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, decl)
			return err
		}
	}
	if len(rest) == 0 {
		return &UsageError{Cmd: "whatis"}
	}
	all := strings.Join(args[len(args)-len(rest)-b2i(kw != ""):], " ")
	if kw != "" {
		all = kw + " " + strings.Join(rest, " ")
	}
	t, err := s.Types()
	if err != nil {
		return err
	}
	// crash's arg_to_datatype() cuts its argument at the first '.' in
	// place and, where it gives up before taking it as TYPE.member (a
	// second '.', or nothing on one side of the first), leaves it cut:
	// what follows, gdb's whatis and the failure message, sees the part
	// before the dot ("whatis init_task.tasks.next" is struct
	// task_struct, "whatis gocrash_write_null.constprop.0" cannot
	// resolve "gocrash_write_null").
	if i := strings.IndexByte(rest[0], '.'); i >= 0 && (i == 0 || i == len(rest[0])-1 || strings.Contains(rest[0][i+1:], ".")) {
		cut := rest[0][:i]
		words := strings.Fields(all)
		for j, wd := range words {
			if wd == rest[0] {
				words[j] = cut
				break
			}
		}
		all = strings.Join(words, " ")
		rest = append([]string{cut}, rest[1:]...)
		if cut == "" {
			rest = rest[1:]
			if len(rest) == 0 {
				fmt.Fprintf(w, "whatis: cannot resolve: %s\n", all)
				return &UsageError{Cmd: "whatis"}
			}
		}
	}
	failure := func() error {
		fmt.Fprintf(w, "whatis: cannot resolve: %s\n", all)
		return &UsageError{Cmd: "whatis"}
	}
	name := rest[0]
	if tn, member, ok := strings.Cut(name, "."); ok && kw == "" && member != "" && !strings.ContainsAny(member, ".[") {
		// TYPE.member: the member's line of the definition, with its offset
		if dt, err := lookupDatatype(t, tn); err == nil {
			if _, err := t.Member(dt.lookupName, member); err == nil {
				writeDeclaration(w, t, dt, member, 0, true, 10)
				return nil
			}
		}
	}
	if !strings.Contains(name, ".") {
		// a data type by name (crash's arg_to_datatype)
		if dt, err := lookupDatatype(t, name); err == nil && (kw == "" || kw == dt.kind) && (kw != "" || !dt.typedef || true) {
			writeDeclaration(w, t, dt, "", 0, offsets, 10)
			return nil
		}
		if typ, err := t.Lookup(name); err == nil && kw != "struct" && kw != "union" {
			if et, ok := resolveEnum(s, typ); ok && (kw == "" || kw == "enum") {
				fmt.Fprintf(w, "enum %s {\n", et.EnumName)
				for _, v := range et.Val {
					fmt.Fprintf(w, "  %s = %d\n", v.Name, v.Val)
				}
				io.WriteString(w, "};\n")
				return nil
			}
			if td, ok := typ.(*godwarf.TypedefType); ok && kw == "" {
				size, _ := t.Size(td)
				fmt.Fprintf(w, "typedef %s %s;\nSIZE: %d\n", gdbfmt.Expand(td), name, size)
				return nil
			}
		}
		if kw == "" {
			if v, err := t.Enumerator(name); err == nil {
				if et := s.enumOf(name); et != nil {
					fmt.Fprintf(w, "enum %s = %d\n", et.EnumName, v)
					return nil
				}
			}
		}
		if kw != "" {
			return failure()
		}
	}
	if kw != "" {
		return failure()
	}
	env, err := s.exprEnv()
	if err != nil {
		return err
	}
	v, err := env.eval(strings.Join(rest, " "))
	if err != nil {
		var ee *exprError
		if errors.As(err, &ee) {
			return failure()
		}
		return err
	}
	_, err = io.WriteString(w, gdbfmt.TypeName(v.typ)+"\n")
	return err
}

func resolveEnum(s *Session, typ godwarf.Type) (*godwarf.EnumType, bool) {
	t, err := s.Types()
	if err != nil {
		return nil, false
	}
	rt, err := t.Resolve(typ)
	if err != nil {
		return nil, false
	}
	et, ok := rt.(*godwarf.EnumType)
	return et, ok
}

// enumOf finds the enumeration type an enumerator belongs to, by reading
// the enumerator's type through an expression.
func (s *Session) enumOf(name string) *godwarf.EnumType {
	t, err := s.Types()
	if err != nil {
		return nil
	}
	et, err := t.EnumOf(name)
	if err != nil {
		return nil
	}
	return et
}
