// Package gdbfmt prints C types and values the way gdb (as embedded in crash
// 8.0.6) prints them: type names and declarations as gdb's ptype and whatis
// spell them, values as gdb's print with "set print pretty on". It only
// formats: the bytes of a value come from the caller, and the few things a
// value's text needs beyond them (the symbol an address points into, the
// string behind a char pointer) come through the Printer's callbacks.
package gdbfmt

import (
	"fmt"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// quals are the C qualifiers on one level of a type, in gdb's order.
type quals struct{ c, v, r bool }

func (q quals) String() string {
	var parts []string
	if q.c {
		parts = append(parts, "const")
	}
	if q.v {
		parts = append(parts, "volatile")
	}
	if q.r {
		parts = append(parts, "restrict")
	}
	return strings.Join(parts, " ")
}

// peel takes the qualifiers off typ (DWARF wraps them around the type they
// qualify; gdb keeps them as flags on it).
func peel(typ godwarf.Type) (quals, godwarf.Type) {
	var q quals
	for range 16 {
		qt, ok := typ.(*godwarf.QualType)
		if !ok {
			break
		}
		switch qt.Qual {
		case "const":
			q.c = true
		case "volatile":
			q.v = true
		case "restrict":
			q.r = true
		}
		typ = qt.Type
	}
	return q, typ
}

// TypeName is gdb's name for typ, as whatis prints it: "struct list_head
// *", "char [16]", "void (*)(struct timer_list *)".
func TypeName(typ godwarf.Type) string { return Decl(typ, "") }

// Decl is the C declaration of name with type typ, as gdb's ptype prints a
// member: "struct list_head *next", "void (*function)(struct timer_list *)".
// Named structs, unions and enums are not expanded; anonymous ones are
// expanded on one line only for enums, as "struct {...}" otherwise.
func Decl(typ godwarf.Type, name string) string {
	var b strings.Builder
	writeDecl(&b, typ, name, -1, 0)
	return b.String()
}

// writeDecl prints typ with varstring name at show level show (as gdb's
// c_print_type): show > 0 expands one level of struct bodies, indented by
// level.
func writeDecl(b *strings.Builder, typ godwarf.Type, name string, show, level int) {
	base := innermost(typ)
	writeBase(b, base, show, level)
	code := derivedKind(typ)
	if name != "" || (code != "" && !isNamedType(typ)) {
		b.WriteByte(' ')
	}
	prefix(b, typ, name != "", false, 0)
	b.WriteString(name)
	suffix(b, typ, false, 0)
}

// derivedKind says whether typ (under qualifiers) is a pointer, array or
// function: what needs stars or brackets after the base name.
func derivedKind(typ godwarf.Type) string {
	_, t := peel(typ)
	switch t.(type) {
	case *godwarf.PtrType:
		return "ptr"
	case *godwarf.ArrayType:
		return "array"
	case *godwarf.FuncType:
		return "func"
	}
	return ""
}

func isNamedType(typ godwarf.Type) bool {
	_, t := peel(typ)
	switch tt := t.(type) {
	case *godwarf.PtrType, *godwarf.ArrayType, *godwarf.FuncType:
		return tt.Common().Name != ""
	}
	return true
}

// innermost follows pointers, arrays and functions (not typedefs) to the
// type gdb prints as the declaration's base, qualifiers included.
func innermost(typ godwarf.Type) godwarf.Type {
	for range 64 {
		q, t := peel(typ)
		_ = q
		switch tt := t.(type) {
		case *godwarf.PtrType:
			typ = tt.Type
		case *godwarf.ArrayType:
			typ = tt.Type
		case *godwarf.FuncType:
			typ = tt.ReturnType
		default:
			return typ
		}
		if typ == nil {
			return &godwarf.VoidType{}
		}
	}
	return typ
}

func writeBase(b *strings.Builder, typ godwarf.Type, show, level int) {
	q, t := peel(typ)
	if s := q.String(); s != "" {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	switch tt := t.(type) {
	case nil, *godwarf.VoidType:
		b.WriteString("void")
	case *godwarf.StructType:
		b.WriteString(tt.Kind)
		b.WriteByte(' ')
		if tt.StructName != "" {
			b.WriteString(tt.StructName)
			if show > 0 {
				b.WriteByte(' ')
			}
		}
		if show < 0 {
			if tt.StructName == "" {
				b.WriteString("{...}")
			}
		} else if show > 0 || tt.StructName == "" {
			writeBody(b, tt, show, level)
		}
	case *godwarf.EnumType:
		b.WriteString("enum ")
		if tt.EnumName != "" {
			b.WriteString(tt.EnumName)
			if show > 0 {
				b.WriteByte(' ')
			}
		}
		if show < 0 {
			if tt.EnumName == "" {
				b.WriteString("{...}")
			}
		} else if show > 0 || tt.EnumName == "" {
			b.WriteByte('{')
			next := int64(0)
			for i, v := range tt.Val {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(v.Name)
				if v.Val != next {
					fmt.Fprintf(b, " = %d", v.Val)
				}
				next = v.Val + 1
			}
			b.WriteByte('}')
		}
	case *godwarf.TypedefType:
		b.WriteString(tt.Name)
	default:
		n := t.Common().Name
		if n == "" {
			n = t.String()
		}
		b.WriteString(CanonicalBaseName(n))
	}
}

// CanonicalBaseName is gdb's spelling of a DWARF base type name: its type
// printer canonicalizes names as C++ does (print_name_maybe_canonical), so
// gcc's "long unsigned int" prints as "unsigned long".
func CanonicalBaseName(n string) string {
	switch n {
	case "long unsigned int":
		return "unsigned long"
	case "long long unsigned int":
		return "unsigned long long"
	case "short unsigned int":
		return "unsigned short"
	case "long int":
		return "long"
	case "long long int":
		return "long long"
	case "short int":
		return "short"
	case "__int128 unsigned":
		return "unsigned __int128"
	}
	return n
}

// writeBody prints a struct or union's members, one a line, indented by
// level+4, and the closing brace at level (gdb's
// c_type_print_base_struct_union).
func writeBody(b *strings.Builder, st *godwarf.StructType, show, level int) {
	b.WriteString("{\n")
	if len(st.Field) == 0 {
		b.WriteString(strings.Repeat(" ", level+4))
		if st.Incomplete {
			b.WriteString("<incomplete type>\n")
		} else {
			b.WriteString("<no data fields>\n")
		}
	}
	for _, f := range st.Field {
		b.WriteString(strings.Repeat(" ", level+4))
		// A member one level down (show-1): of a named type by name, of an
		// anonymous type expanded at show 0, "{...}" below; an unnamed
		// member (an anonymous struct or union inside) stays at this
		// level, so those expand at every depth (struct page).
		newshow := show - 1
		if f.Name == "" {
			newshow = show
		}
		writeDecl(b, f.Type, f.Name, newshow, level+4)
		if f.BitSize > 0 {
			fmt.Fprintf(b, " : %d", f.BitSize)
		}
		b.WriteString(";\n")
	}
	b.WriteString(strings.Repeat(" ", level))
	b.WriteByte('}')
}

// prefix prints the stars and opening parentheses before the name (gdb's
// c_type_print_varspec_prefix).
func prefix(b *strings.Builder, typ godwarf.Type, needPostSpace, passedPtr bool, depth int) {
	if depth > 64 {
		return
	}
	_, t := peel(typ)
	switch tt := t.(type) {
	case *godwarf.PtrType:
		if tt.Name != "" && depth > 0 {
			return
		}
		prefix(b, tt.Type, true, true, depth+1)
		b.WriteByte('*')
		q, _ := peel(typ)
		if s := q.String(); s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
			if needPostSpace {
				b.WriteByte(' ')
			}
		}
	case *godwarf.ArrayType:
		if tt.Name != "" && depth > 0 {
			return
		}
		prefix(b, tt.Type, false, false, depth+1)
		if passedPtr {
			b.WriteByte('(')
		}
	case *godwarf.FuncType:
		if tt.Name != "" && depth > 0 {
			return
		}
		prefix(b, tt.ReturnType, false, false, depth+1)
		if passedPtr {
			b.WriteByte('(')
		}
	}
}

// suffix prints the brackets, parameter lists and closing parentheses after
// the name (gdb's c_type_print_varspec_suffix).
func suffix(b *strings.Builder, typ godwarf.Type, passedPtr bool, depth int) {
	if depth > 64 || typ == nil {
		return
	}
	_, t := peel(typ)
	switch tt := t.(type) {
	case *godwarf.PtrType:
		if tt.Name != "" && depth > 0 {
			return
		}
		suffix(b, tt.Type, true, depth+1)
	case *godwarf.ArrayType:
		if tt.Name != "" && depth > 0 {
			return
		}
		if passedPtr {
			b.WriteByte(')')
		}
		if tt.Count >= 0 && !(tt.Count == 0 && false) {
			fmt.Fprintf(b, "[%d]", tt.Count)
		} else {
			b.WriteString("[]")
		}
		suffix(b, tt.Type, false, depth+1)
	case *godwarf.FuncType:
		if tt.Name != "" && depth > 0 {
			return
		}
		if passedPtr {
			b.WriteByte(')')
		}
		b.WriteByte('(')
		if len(tt.ParamType) == 0 {
			b.WriteString("void")
		}
		for i, p := range tt.ParamType {
			if i > 0 {
				b.WriteString(", ")
			}
			if _, ok := p.(*godwarf.DotDotDotType); ok {
				b.WriteString("...")
				continue
			}
			b.WriteString(Decl(p, ""))
		}
		b.WriteByte(')')
		suffix(b, tt.ReturnType, false, depth+1)
	}
}

// Body is ptype's text for a struct or union: "struct list_head {\n
// struct list_head *next;\n ...}" (no trailing newline), members of named
// types by name, anonymous ones expanded.
func Body(st *godwarf.StructType) string {
	var b strings.Builder
	writeBase(&b, st, 1, 0)
	return b.String()
}

// Expand is gdb's ptype text of typ: typedefs followed at the top, a struct,
// union or enum body expanded one level.
func Expand(typ godwarf.Type) string {
	for range 64 {
		td, ok := typ.(*godwarf.TypedefType)
		if !ok {
			break
		}
		typ = td.Type
	}
	var b strings.Builder
	writeDecl(&b, typ, "", 1, 0)
	return b.String()
}
