package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// whatis -r and -m search the debuginfo's named types, as crash 8.0.6's
// request_types asks gdb (GNU_ITERATE_DATATYPES, its gdb patch's
// iterate_datatypes and lookup_struct_contents):
//   - every type symbol counts: struct, union and enum tags, base types
//     and typedefs, by name, the first of a name that passes kept;
//   - -r LOW[-HIGH] keeps those whose size is in the range (a HIGH of 0,
//     "-r 0", keeps all);
//   - -m NAME keeps the structs and unions that have a member whose type,
//     an array's element type, or a pointer's target type (qualifiers
//     aside, typedefs not followed) has a name containing NAME; the
//     members of a member that is a struct (not a union, not a typedef of
//     one) count too;
//   - the answer is sorted by size, then name, under a "SIZE  TYPE" head
//     whose first column is as wide as the largest size (at least 4).
//
// Where gocrash differs: gdb knows a typedef's size only once something
// asked it to resolve the typedef (check_typedef caches it), and lists
// the others with size 0: which typedefs are resolved depends on what the
// gdb session did before (crash's start-up asks for some, a local array
// in a function resolves its element type). gocrash lists a typedef with
// the size of its type when the typedef is the element type of a sized
// array in a type reachable from the named types or the variables, else
// with 0; -m never
// lists a typedef (it has no members), so its answers are gdb's. Of
// several definitions of one name (a struct private to two drivers)
// gocrash searches the first, gdb the first its iteration meets.

// runWhatisSearch answers whatis -r/-m.
func runWhatisSearch(s *Session, w io.Writer, rangeArg string, hasRange bool, member string, hasMember bool) error {
	var low, high uint64
	if hasRange {
		arg := rangeArg
		if len(arg) > 15 {
			arg = arg[:15] // crash copies 15 characters of it
		}
		lo, hi, dash := strings.Cut(arg, "-")
		var err error
		if low, err = crashStol(lo); err != nil {
			return err
		}
		high = low
		if dash {
			if high, err = crashStol(hi); err != nil {
				return err
			}
		}
	}
	t, err := s.Types()
	if err != nil {
		return err
	}
	named, err := t.NamedTypes()
	if err != nil {
		return err
	}
	ctx := s.Ctx()
	resolved := map[string]bool{}
	if !hasMember {
		if resolved, err = arrayElemTypedefs(ctx, t, named); err != nil {
			return err
		}
	}
	type found struct {
		name string
		size int64
	}
	var list []found
	seen := map[string]bool{}
	for i, nt := range named {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if seen[nt.Name] || nt.Kind == "var" {
			continue
		}
		typ, err := t.TypeAt(nt.Off)
		if err != nil {
			continue
		}
		size := searchSize(t, nt, typ, resolved)
		if high != 0 && (uint64(size) < low || uint64(size) > high) {
			continue
		}
		if hasMember {
			st, ok := stripQual(typ).(*godwarf.StructType)
			if !ok || !structContains(st, member, 0) {
				continue
			}
		}
		seen[nt.Name] = true
		list = append(list, found{nt.Name, size})
	}
	if len(list) == 0 {
		_, err := io.WriteString(w, "(none found)\n")
		return err
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].size != list[j].size {
			return list[i].size < list[j].size
		}
		return list[i].name < list[j].name
	})
	width := max(len(strconv.FormatInt(list[len(list)-1].size, 10)), len("SIZE"))
	var b strings.Builder
	fmt.Fprintf(&b, "%*s  TYPE\n", width, "SIZE")
	for _, f := range list {
		fmt.Fprintf(&b, "%*d  %s\n", width, f.size, f.name)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// searchSize is the size gdb gives the type symbol (see above for
// typedefs: resolved names that in the array element set).
func searchSize(t *symbols.Types, nt symbols.NamedType, typ godwarf.Type, resolved map[string]bool) int64 {
	if nt.Kind == "typedef" && !resolved[nt.Name] {
		return 0
	}
	size, err := t.Size(typ)
	if err != nil || size < 0 {
		return 0
	}
	return size
}

// arrayElemTypedefs walks the type graph reachable from the named types
// and collects the names of the typedefs that are the (unqualified)
// element type of an array: gdb resolves those, and knows their size.
func arrayElemTypedefs(ctx context.Context, t *symbols.Types, named []symbols.NamedType) (map[string]bool, error) {
	out := map[string]bool{}
	seen := map[godwarf.Type]bool{}
	var stack []godwarf.Type
	push := func(typ godwarf.Type) {
		if typ != nil && !seen[typ] {
			seen[typ] = true
			stack = append(stack, typ)
		}
	}
	for i, nt := range named {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if nt.Kind != "struct" && nt.Kind != "union" && nt.Kind != "typedef" && nt.Kind != "var" {
			continue
		}
		typ, err := t.TypeAt(nt.Off)
		if err != nil {
			continue
		}
		push(typ)
		for len(stack) > 0 {
			typ := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch tt := typ.(type) {
			case *godwarf.StructType:
				for _, f := range tt.Field {
					if f != nil {
						push(f.Type)
					}
				}
			case *godwarf.ArrayType:
				// a flexible array has no static range: gdb does not
				// resolve its element type
				if td, ok := tt.Type.(*godwarf.TypedefType); ok && tt.Count >= 0 {
					out[td.Name] = true
				}
				push(tt.Type)
			case *godwarf.PtrType:
				push(tt.Type)
			case *godwarf.TypedefType:
				push(tt.Type)
			case *godwarf.QualType:
				push(tt.Type)
			case *godwarf.FuncType:
				push(tt.ReturnType)
				for _, p := range tt.ParamType {
					push(p)
				}
			}
		}
	}
	return out, nil
}

// structContains is gdb's lookup_struct_contents: whether a member of st
// (or of a struct member, recursively) has a type named like name.
func structContains(st *godwarf.StructType, name string, depth int) bool {
	if depth > 64 {
		return false
	}
	for _, f := range st.Field {
		if f == nil || f.Type == nil {
			continue
		}
		m := stripQual(f.Type)
		if at, ok := m.(*godwarf.ArrayType); ok && at.Type != nil {
			m = stripQual(at.Type)
		}
		if sub, ok := m.(*godwarf.StructType); ok && sub.Kind == "struct" {
			if structContains(sub, name, depth+1) {
				return true
			}
		}
		if pt, ok := m.(*godwarf.PtrType); ok && pt.Type != nil {
			m = stripQual(pt.Type)
		}
		if n := gdbTypeName(m); n != "" && strings.Contains(n, name) {
			return true
		}
	}
	return false
}

// gdbTypeName is the name gdb's type of typ carries: a tag, a typedef's or
// a base type's name; "" for pointers, arrays, functions and anonymous
// types.
func gdbTypeName(typ godwarf.Type) string {
	switch tt := typ.(type) {
	case *godwarf.StructType:
		return tt.StructName
	case *godwarf.EnumType:
		return tt.EnumName
	case *godwarf.TypedefType:
		return tt.Name
	case *godwarf.VoidType:
		return "void"
	case *godwarf.PtrType, *godwarf.ArrayType, *godwarf.FuncType:
		return ""
	}
	if typ == nil {
		return ""
	}
	return typ.Common().Name
}

func stripQual(typ godwarf.Type) godwarf.Type {
	for range 16 {
		q, ok := typ.(*godwarf.QualType)
		if !ok {
			return typ
		}
		typ = q.Type
	}
	return typ
}

// crashStol is crash's stol(): decimal when it reads as decimal, else
// hexadecimal, else "not a valid number".
func crashStol(a string) (uint64, error) {
	if isDecWord(a) {
		if v, err := strconv.ParseUint(a, 10, 64); err == nil {
			return v, nil
		}
	}
	if isHexWord(a) {
		if v, err := parseHex(a); err == nil {
			return v, nil
		}
	}
	return 0, fmt.Errorf("not a valid number: %s", a)
}
