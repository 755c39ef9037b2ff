package symbols

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// A Member is the result of resolving a member path inside a type.
type Member struct {
	Offset int64 // bytes from the start of the outer type
	Type   godwarf.Type
	// For a bit field, BitSize is its width and BitOffset the position of
	// its lowest bit counted from the least significant bit of the byte at
	// Offset. Both are 0 otherwise.
	BitOffset int64
	BitSize   int64
}

// pathStep is one component of a member path: a member name or an index.
type pathStep struct {
	name  string
	index int64
	isIdx bool
}

// parsePath splits "mm.rss_stat.count[1]" into steps. A leading "." or
// "->" is accepted as written in C; "->" elsewhere is treated like ".",
// but walking through a pointer is refused by walk.
func parsePath(path string) ([]pathStep, error) {
	var steps []pathStep
	p := strings.ReplaceAll(strings.TrimSpace(path), "->", ".")
	p = strings.TrimPrefix(p, ".")
	if p == "" {
		return nil, fmt.Errorf("empty member path")
	}
	for _, part := range strings.Split(p, ".") {
		part = strings.TrimSpace(part)
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			if !isIdent(name) {
				return nil, fmt.Errorf("bad member name %q in %q", name, path)
			}
			steps = append(steps, pathStep{name: name})
		} else if rest == "" {
			return nil, fmt.Errorf("empty member name in %q", path)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil, fmt.Errorf("missing ] in %q", path)
			}
			n, err := strconv.ParseInt(strings.TrimSpace(idx), 0, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad index [%s] in %q", idx, path)
			}
			steps = append(steps, pathStep{index: n, isIdx: true})
			if after == "" {
				break
			}
			if after[0] != '[' {
				return nil, fmt.Errorf("unexpected %q after ] in %q", after, path)
			}
			rest = after[1:]
		}
	}
	return steps, nil
}

func isIdent(s string) bool {
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return s != ""
}

// walk resolves path inside typ.
type walkKey struct {
	typ  godwarf.Type // always a pointer (godwarf's types have pointer methods)
	path string
}

type walkResult struct {
	m   Member
	err error
}

// walk resolves path inside typ, once for each type and path: types do not
// change once read, so neither does the answer.
func (t *Types) walk(typ godwarf.Type, path string) (Member, error) {
	if typ == nil {
		return t.walkPath(typ, path)
	}
	k := walkKey{typ, path}
	if r, ok := t.walks.Load(k); ok {
		r := r.(walkResult)
		return r.m, r.err
	}
	m, err := t.walkPath(typ, path)
	t.walks.Store(k, walkResult{m, err})
	return m, err
}

func (t *Types) walkPath(typ godwarf.Type, path string) (Member, error) {
	steps, err := parsePath(path)
	if err != nil {
		return Member{}, err
	}
	m := Member{Type: typ}
	for _, s := range steps {
		if m.BitSize != 0 {
			return Member{}, fmt.Errorf("%s: bit field has no members", typeName(m.Type))
		}
		rt, err := t.resolve(m.Type)
		if err != nil {
			return Member{}, err
		}
		if s.isIdx {
			at, ok := rt.(*godwarf.ArrayType)
			if !ok {
				return Member{}, fmt.Errorf("cannot index %s (not an array) in %q", typeName(m.Type), path)
			}
			if at.Count > 0 && s.index >= at.Count {
				return Member{}, fmt.Errorf("index %d out of range of %s in %q", s.index, typeName(m.Type), path)
			}
			es, err := t.elemStride(at)
			if err != nil {
				return Member{}, err
			}
			m.Offset += s.index * es
			m.Type = at.Type
			continue
		}
		st, ok := rt.(*godwarf.StructType)
		if !ok {
			if _, isPtr := rt.(*godwarf.PtrType); isPtr {
				return Member{}, fmt.Errorf("member path %q goes through pointer %s at %q; dereference it first", path, typeName(m.Type), s.name)
			}
			return Member{}, fmt.Errorf("%s is not a struct or union, has no member %q", typeName(m.Type), s.name)
		}
		f, off, err := t.findField(st, s.name)
		if err != nil {
			return Member{}, err
		}
		m.Offset += off
		m.Type = f.Type
		m.BitSize, m.BitOffset = f.BitSize, 0
		if f.BitSize > 0 {
			m.BitOffset = f.BitOffset
		}
	}
	return m, nil
}

// findField looks name up in st and, like C, inside its anonymous struct
// and union members.
func (t *Types) findField(st *godwarf.StructType, name string) (*godwarf.StructField, int64, error) {
	f, off, ok, err := t.findFieldIn(st, name, 0)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, fmt.Errorf("%s has no member %q", typeName(st), name)
	}
	return f, off, nil
}

func (t *Types) findFieldIn(st *godwarf.StructType, name string, depth int) (*godwarf.StructField, int64, bool, error) {
	if depth > 32 {
		return nil, 0, false, fmt.Errorf("%s: anonymous members nested too deeply", typeName(st))
	}
	for _, f := range st.Field {
		if f.Name == name {
			return f, f.ByteOffset, true, nil
		}
	}
	for _, f := range st.Field {
		if f.Name != "" {
			continue
		}
		rt, err := t.resolve(f.Type)
		if err != nil {
			continue
		}
		inner, ok := rt.(*godwarf.StructType)
		if !ok {
			continue
		}
		g, off, ok, err := t.findFieldIn(inner, name, depth+1)
		if err != nil {
			return nil, 0, false, err
		}
		if ok {
			return g, f.ByteOffset + off, true, nil
		}
	}
	return nil, 0, false, nil
}

// typeName is a C-like name for error messages.
func typeName(typ godwarf.Type) string {
	switch tt := typ.(type) {
	case nil:
		return "<nil type>"
	case *godwarf.StructType:
		if tt.StructName == "" {
			return "anonymous " + tt.Kind
		}
		return tt.Kind + " " + tt.StructName
	case *godwarf.EnumType:
		if tt.EnumName == "" {
			return "anonymous enum"
		}
		return "enum " + tt.EnumName
	case *godwarf.PtrType:
		return typeName(tt.Type) + " *"
	case *godwarf.ArrayType:
		return fmt.Sprintf("%s[%d]", typeName(tt.Type), tt.Count)
	case *godwarf.QualType:
		return tt.Qual + " " + typeName(tt.Type)
	case *godwarf.VoidType:
		return "void"
	case *godwarf.FuncType:
		return "function"
	}
	if n := typ.Common().Name; n != "" {
		return n
	}
	return typ.String()
}

// TypeName is the C spelling of typ used in messages ("struct task_struct *").
func TypeName(typ godwarf.Type) string { return typeName(typ) }

// Member resolves a member path such as "se.vruntime" or
// "mm.rss_stat.count[1]" inside the named type.
func (t *Types) Member(typeName, path string) (Member, error) {
	typ, err := t.Lookup(typeName)
	if err != nil {
		return Member{}, err
	}
	m, err := t.walk(typ, path)
	if err != nil {
		return Member{}, fmt.Errorf("%s.%s: %w", typeName, path, err)
	}
	return m, nil
}

// Offset returns the byte offset of "type.member.path", e.g.
// "task_struct.se.vruntime" or "struct list_head.next".
func (t *Types) Offset(path string) (int64, error) {
	typeName, member, ok := strings.Cut(path, ".")
	if !ok {
		return 0, fmt.Errorf("offset of %q: want type.member", path)
	}
	m, err := t.Member(typeName, member)
	if err != nil {
		return 0, err
	}
	return m.Offset, nil
}

// HasMember reports whether the named type has the member path, for
// telling kernel versions apart.
func (t *Types) HasMember(typeName, path string) bool {
	_, err := t.Member(typeName, path)
	return err == nil
}

// SizeOf returns sizeof(type), or of a member's type for "type.member".
func (t *Types) SizeOf(name string) (int64, error) {
	typeName, member, hasMember := strings.Cut(name, ".")
	typ, err := t.Lookup(typeName)
	if err != nil {
		return 0, err
	}
	if hasMember {
		m, err := t.walk(typ, member)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		typ = m.Type
	}
	return t.Size(typ)
}

// Size is sizeof for a godwarf type: typedefs are followed, struct
// declarations completed, array sizes computed from their counts (godwarf
// leaves ByteSize -1 when DW_AT_byte_size is absent, as it is for arrays).
func (t *Types) Size(typ godwarf.Type) (int64, error) {
	rt, err := t.resolve(typ)
	if err != nil {
		return 0, err
	}
	switch tt := rt.(type) {
	case *godwarf.ArrayType:
		if tt.Count <= 0 {
			return 0, nil
		}
		es, err := t.elemStride(tt)
		if err != nil {
			return 0, err
		}
		return es * tt.Count, nil
	case *godwarf.VoidType:
		return 1, nil // as gcc does for void arithmetic
	case *godwarf.FuncType:
		return 1, nil
	}
	n := rt.Common().ByteSize
	if n < 0 {
		return 0, fmt.Errorf("size of %s is unknown", typeName(typ))
	}
	return n, nil
}

// elemStride is the distance between array elements. C arrays have no
// DW_AT_byte_stride, and godwarf's StrideBitSize is derived from the element
// size at read time (negative when that was unknown), so it is recomputed.
func (t *Types) elemStride(at *godwarf.ArrayType) (int64, error) {
	return t.Size(at.Type)
}
