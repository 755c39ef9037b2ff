package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/commands/gdbfmt"
	"gocrash/symbols"
)

// ptype is not one of crash's own commands: crash hands a line it does not
// know to its embedded gdb (cmd_gdb, gdb_interface.c), and gdb's ptype
// answers. gocrash answers it itself, with gdb's text.
func init() {
	register(Command{
		Name:     "ptype",
		Summary:  "print the definition of a type or the type of an expression (gdb's ptype)",
		Synopsis: "[struct | union | enum] type | typedef | expression",
		Description: `  This is gdb's ptype, which crash passes on to its embedded gdb: the type
  of an expression, or a type named by itself, with typedefs at the top
  followed to what they name and a structure, union or enumeration
  expanded one level (its members of named types by name, anonymous ones
  in full). The expression is not evaluated: only its type is worked out,
  so a pointer that leads nowhere still has one.

  When gdb cannot make sense of the argument, gocrash prints gdb's reason
  and crash's "gdb: gdb request failed: ptype ..." line.`,
		Operands: []Operand{
			{"type", `a structure, union or enumeration ("struct list_head"), a C base type ("unsigned long"), or either followed by '*'s.`},
			{"typedef", `a typedef name ("pid_t", "atomic_t").`},
			{"expression", `a C expression over kernel variables, as p takes them ("init_task.comm", "&init_task", "init_task.sched_class->enqueue_task").`},
		},
		Examples: `  A structure, a typedef and a function:

    crash> ptype struct list_head
    type = struct list_head {
        struct list_head *next;
        struct list_head *prev;
    }
    crash> ptype atomic_t
    type = struct {
        int counter;
    }
    crash> ptype schedule
    type = void (void)

  The type of an expression, an array of a structure and a function
  pointer member:

    crash> ptype init_task.pid_links
    type = struct hlist_node {
        struct hlist_node *next;
        struct hlist_node **pprev;
    } [4]
    crash> ptype init_task.sched_class->enqueue_task
    type = void (*)(struct rq *, struct task_struct *, int)

  What gdb does not know:

    crash> ptype foo
    No symbol "foo" in current context.
    gdb: gdb request failed: ptype foo`,
		Run: runPtype,
	})
}

// runPtype is gdb's ptype (whatis_exp with show 1): a type name is taken as
// the type, anything else as an expression whose type is printed.
func runPtype(s *Session, args []string, w io.Writer) error {
	s.loadModuleTypes()
	expr := strings.TrimSpace(strings.Join(args, " "))
	failed := func(err error) error {
		fmt.Fprintf(s.diag(w), "%v\n", err)
		return &CommandError{Cmd: "gdb", Err: fmt.Errorf("gdb request failed: ptype %s", expr)}
	}
	if expr == "" {
		// gdb's ptype without an argument shows the type of the last
		// history value, $.
		expr = "$"
	}
	typ, err := s.ptypeOf(expr)
	if err != nil {
		return failed(err)
	}
	t, err := s.Types()
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "type = "+gdbfmt.Expand(shownType(t, typ, 0))+"\n")
	return err
}

// ptypeOf is the type ptype prints for arg: a type name (with its '*'s)
// when the whole argument is one, else the type of the expression, worked
// out without reading memory (gdb's EVAL_AVOID_SIDE_EFFECTS).
func (s *Session) ptypeOf(arg string) (godwarf.Type, error) {
	env, err := s.exprEnv()
	if err != nil {
		return nil, err
	}
	toks, err := lex(arg)
	if err != nil {
		return nil, err
	}
	p := &parser{env: env, toks: toks}
	typ, ok, err := p.typeName()
	if err != nil {
		return nil, err
	}
	if ok {
		if p.peek().kind == tEOF {
			return typ, nil
		}
		// "unsigned long x": a type name and more is not an expression
		// either.
		if p.peek().kind != tPunct {
			return nil, errorf("A syntax error in expression, near `%s'.", p.rest())
		}
	}
	if p.pos = 0; len(toks) == 2 && toks[0].kind == tIdent {
		// an enumerator by itself has its enumeration's type
		if _, isVar := s.Vmlinux.Lookup(toks[0].s); !isVar {
			if et := s.enumOf(toks[0].s); et != nil {
				return et, nil
			}
		}
	}
	env.typeOnly = true
	v, err := env.eval(arg)
	if err != nil {
		return nil, err
	}
	if v.optimizedOut {
		// crash's gdb refuses ptype of a module variable that has no
		// storage, though its whatis names the type.
		return nil, errorf("value has been optimized out")
	}
	return v.typ, nil
}

// shownType is typ as gdb's ptype walks it (show > 0, c_print_type and
// its varspec prefix and suffix): typedefs along the declarator chain
// (pointer targets, array elements, function results) are followed to
// what they name, and a struct or union declaration to its definition
// (check_typedef). A typedef's own qualifiers stay on a base type and are
// lost on a pointer, as gdb prints them: "const sys_call_ptr_t [451]" is
// "long (*[451])(const struct pt_regs *)". Parameters keep their names.
func shownType(t *symbols.Types, typ godwarf.Type, depth int) godwarf.Type {
	if depth > 64 || typ == nil {
		return typ
	}
	// quals are the qualifiers on this level; outer those before the last
	// typedef followed (the typedef's own).
	var quals, outer []string
	for range 64 {
		switch tt := typ.(type) {
		case *godwarf.QualType:
			quals = append(quals, tt.Qual)
			typ = tt.Type
			continue
		case *godwarf.TypedefType:
			outer = append(outer, quals...)
			quals = nil
			typ = tt.Type
			continue
		}
		break
	}
	var out godwarf.Type
	switch tt := typ.(type) {
	case nil:
		out = &godwarf.VoidType{}
	case *godwarf.PtrType:
		c := *tt
		c.Type = shownType(t, tt.Type, depth+1)
		return wrapQuals(&c, quals)
	case *godwarf.ArrayType:
		c := *tt
		c.Type = shownType(t, tt.Type, depth+1)
		return &c
	case *godwarf.FuncType:
		c := *tt
		c.ReturnType = shownType(t, tt.ReturnType, depth+1)
		return &c
	case *godwarf.StructType:
		out = tt
		if tt.Incomplete {
			if rt, err := t.Resolve(tt); err == nil {
				out = rt
			}
		}
	default:
		out = tt
	}
	return wrapQuals(out, append(outer, quals...))
}

// wrapQuals puts the qualifiers back around typ, in their order.
func wrapQuals(typ godwarf.Type, quals []string) godwarf.Type {
	for i := len(quals) - 1; i >= 0; i-- {
		typ = &godwarf.QualType{Qual: quals[i], Type: typ}
	}
	return typ
}
