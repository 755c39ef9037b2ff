package commands

import (
	"sort"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// CompleteDatatype completes the word after struct, union, p or whatis (the
// shell's completer calls it): "task_s" gives the struct and union names that
// start with it, "task_struct.pi" the member names of
// task_struct that do ("task_struct.pid", "task_struct.pid_links", ...),
// after the last comma of a member list too, and inside an embedded member
// ("task_struct.se.vr" gives "task_struct.se.vruntime"), as struct's
// member paths go.
func (s *Session) CompleteDatatype(word string) []string {
	t, err := s.Types()
	if err != nil {
		return nil
	}
	name, members, hasDot := strings.Cut(word, ".")
	if !hasDot {
		var out []string
		for _, n := range t.CompletionNames("struct", "union") {
			if strings.HasPrefix(n, word) {
				out = append(out, n)
			}
		}
		return out
	}
	dt, err := lookupDatatype(t, name)
	if err != nil {
		return nil
	}
	done, last := "", members
	if i := strings.LastIndexByte(members, ','); i >= 0 {
		done, last = members[:i+1], members[i+1:]
	}
	st := dt.st
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		// An embedded struct's member: struct's paths do not go through
		// pointers.
		m, err := t.Member(dt.lookupName, last[:i])
		if err != nil {
			return nil
		}
		rt, err := t.Resolve(m.Type)
		if err != nil {
			return nil
		}
		in, ok := rt.(*godwarf.StructType)
		if !ok {
			return nil
		}
		st, done, last = in, done+last[:i+1], last[i+1:]
	}
	var out []string
	for _, m := range memberNames(t, st, last) {
		out = append(out, name+"."+done+m)
	}
	return out
}

// CompleteExpression completes the member after the last '.' or "->" of
// the C expression that ends text (the arguments of p, whatis or ptype so
// far): "init_task.pi" gives pid and pid_links, "init_task.tasks.next->"
// every member of list_head. The expression before the separator is
// evaluated for its type alone (ptype's way: memory reads as zeroes, so
// nothing is read and a pointer into nowhere still has its target type);
// a pointer completes as what it points to. partial is the member prefix
// being completed (the end of text); names are whole member names; ok
// says text ends in a member of a struct or union (names may then be
// empty: no member starts with partial).
func (s *Session) CompleteExpression(text string) (names []string, partial string, ok bool) {
	sep := -1
	sepLen := 0
	for i := len(text) - 1; i >= 0; i-- {
		c := text[i]
		if isAlnum(c) {
			continue
		}
		if c == '.' {
			sep, sepLen = i, 1
		} else if c == '>' && i > 0 && text[i-1] == '-' {
			sep, sepLen = i-1, 2
		}
		break
	}
	if sep <= 0 {
		return nil, "", false
	}
	partial = text[sep+sepLen:]
	base := text[postfixStart(text[:sep]):sep]
	if base == "" {
		return nil, "", false
	}
	if id := leadingIdent(base); id != "" {
		// A name the symbol table does not have (an enumerator, a typo):
		// the evaluator would look for it in all of the DWARF; a module's
		// variable is one only once mod -s loaded its object.
		if _, ok := s.Vmlinux.Lookup(id); !ok && len(s.moduleObjects()) == 0 {
			return nil, "", false
		}
	}
	env, err := s.exprEnv()
	if err != nil {
		return nil, "", false
	}
	env.typeOnly = true
	v, err := env.eval(base)
	if err != nil {
		return nil, "", false
	}
	typ := env.resolve(v.typ)
	if pt, ok := typ.(*godwarf.PtrType); ok {
		typ = env.resolve(pt.Type)
	}
	st, isStruct := typ.(*godwarf.StructType)
	if !isStruct {
		return nil, "", false
	}
	return memberNames(env.t, st, partial), partial, true
}

// postfixStart is where the C postfix expression that ends s begins:
// identifiers and numbers, their '.' and "->" members and [indexes], and
// parenthesised expressions (a cast inside parentheses, as in
// "((struct task_struct *)ADDR)->").
func postfixStart(s string) int {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		switch {
		case isAlnum(c) || c == '$' || c == '.':
			i--
		case c == '>' && i > 1 && s[i-2] == '-':
			i -= 2
		case c == ']' || c == ')':
			open, close := byte('['), c
			if c == ')' {
				open = '('
			}
			depth := 0
			j := i - 1
			for ; j >= 0; j-- {
				if s[j] == close {
					depth++
				} else if s[j] == open {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j < 0 {
				return i
			}
			i = j
		default:
			return i
		}
	}
	return i
}

// leadingIdent is the identifier expr starts with ("" for a number, a
// history value, a parenthesis or an operator).
func leadingIdent(expr string) string {
	if expr == "" || !isIdentStart(expr[0]) {
		return ""
	}
	i := 1
	for i < len(expr) && isAlnum(expr[i]) {
		i++
	}
	return expr[:i]
}

// memberNames are st's member names that start with prefix, those of its
// anonymous structs and unions with them (C reaches them by name), sorted.
func memberNames(t *symbols.Types, st *godwarf.StructType, prefix string) []string {
	var out []string
	var walk func(st *godwarf.StructType, depth int)
	walk = func(st *godwarf.StructType, depth int) {
		if depth > 16 {
			return
		}
		for _, f := range st.Field {
			if f.Name == "" {
				if in, err := t.Resolve(f.Type); err == nil {
					if ist, ok := in.(*godwarf.StructType); ok {
						walk(ist, depth+1)
					}
				}
				continue
			}
			if strings.HasPrefix(f.Name, prefix) {
				out = append(out, f.Name)
			}
		}
	}
	walk(st, 0)
	sort.Strings(out)
	return dedup(out)
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
