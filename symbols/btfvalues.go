package symbols

import (
	"debug/dwarf"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Values from BTF.
//
// A value printed with a DWARF type (struct, p, task) makes godwarf decode
// the type's whole graph: task_struct reaches most of the kernel's types,
// 50-100 ms on a distribution kernel's DWARF, and on a dwz'd vmlinux
// debug/dwarf.New over all of .debug_info besides. The kernel's BTF has
// the same types, decoded one at a time (Layouts). A global variable's type
// is the DWARF's (BTF types per-cpu variables only): ValueVarType reads
// the few DIEs that spell it (const, pointer, array, down to a named type)
// and takes the named type from BTF.

// errNoBTFValue says a DWARF type has no BTF counterpart ValueVarType can
// use: the DWARF's own type is read instead.
var errNoBTFValue = errors.New("no BTF counterpart")

// ValueVarType is the type a value of the global variable name is printed
// with: DeclaredVarType's, made of the BTF's types when t is Layouts'
// BTF-backed Types and every named type the declaration reaches is in the
// BTF with the DWARF's size; otherwise (or on any other Types) the DWARF's
// DeclaredVarType.
func (t *Types) ValueVarType(name string) (godwarf.Type, error) {
	if t == nil || t.btf == nil || t.dwarf == nil {
		return t.DeclaredVarType(name)
	}
	if typ, err := t.dwarf.declaredVarType(name, func(off dwarf.Offset) (godwarf.Type, error) {
		return t.fromDWARF(off, 0)
	}); err == nil {
		return typ, nil
	}
	return t.dwarf.DeclaredVarType(name)
}

// fromDWARF is the type at DWARF offset off spelled in t's BTF types: a
// struct, union, enum, typedef or base type by its name (and size), the
// qualifiers, pointers and arrays over one as the DWARF has them.
func (t *Types) fromDWARF(off dwarf.Offset, depth int) (godwarf.Type, error) {
	if depth > 16 {
		return nil, errNoBTFValue
	}
	e, dims, err := t.dwarf.entryAt(off)
	if err != nil {
		return nil, err
	}
	name, _ := e.Val(dwarf.AttrName).(string)
	size, hasSize := e.Val(dwarf.AttrByteSize).(int64)
	inner := func() (godwarf.Type, error) {
		ref, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return &godwarf.VoidType{}, nil
		}
		return t.fromDWARF(ref, depth+1)
	}
	// named looks name up in the BTF; its size must be the DWARF's.
	named := func(lookup string) (godwarf.Type, error) {
		if name == "" {
			return nil, errNoBTFValue
		}
		typ, err := t.Lookup(lookup)
		if err != nil {
			return nil, errNoBTFValue
		}
		if hasSize {
			if n, err := t.Size(typ); err != nil || n != size {
				return nil, errNoBTFValue
			}
		}
		return typ, nil
	}
	switch e.Tag {
	case dwarf.TagStructType:
		if e.Val(dwarf.AttrDeclaration) != nil {
			return nil, errNoBTFValue
		}
		return named("struct " + name)
	case dwarf.TagUnionType:
		if e.Val(dwarf.AttrDeclaration) != nil {
			return nil, errNoBTFValue
		}
		return named("union " + name)
	case dwarf.TagEnumerationType:
		return named("enum " + name)
	case dwarf.TagTypedef:
		typ, err := named(name)
		if err != nil {
			return nil, err
		}
		if _, ok := typ.(*godwarf.TypedefType); !ok {
			return nil, errNoBTFValue
		}
		return typ, nil
	case dwarf.TagBaseType:
		return named(name)
	case dwarf.TagConstType, dwarf.TagVolatileType:
		q := &godwarf.QualType{CommonType: godwarf.CommonType{ByteSize: -1}, Qual: "const"}
		if e.Tag == dwarf.TagVolatileType {
			q.Qual = "volatile"
		}
		if q.Type, err = inner(); err != nil {
			return nil, err
		}
		return q, nil
	case dwarf.TagPointerType:
		p := &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}}
		if p.Type, err = inner(); err != nil {
			return nil, err
		}
		return p, nil
	case dwarf.TagArrayType:
		typ, err := inner()
		if err != nil {
			return nil, err
		}
		// int x[2][3]: an array of 2 arrays of 3, the last dimension
		// innermost.
		for i := len(dims) - 1; i >= 0; i-- {
			a := &godwarf.ArrayType{CommonType: godwarf.CommonType{ByteSize: -1}, Count: dims[i], Type: typ}
			a.StrideBitSize = 8 * sizeOfConverted(typ)
			if a.StrideBitSize <= 0 {
				return nil, errNoBTFValue
			}
			typ = a
		}
		return typ, nil
	}
	return nil, errNoBTFValue
}

// entryAt reads the DIE at off of t's DWARF and, for an array type, the
// count of each of its dimensions (-1: no bound, x[]).
func (t *Types) entryAt(off dwarf.Offset) (e *dwarf.Entry, dims []int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, dims, err = nil, nil, fmt.Errorf("%s: malformed DWARF entry at offset %#x: %v", t.path, off, r)
		}
	}()
	t.mu.Lock()
	d := t.partialData(off) // dwz's shared types, without the units' abbreviations
	if d == nil {
		d, err = t.dataFor(off)
	}
	t.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	r := d.Reader()
	r.Seek(off)
	e, err = r.Next()
	if err != nil {
		return nil, nil, err
	}
	if e == nil || e.Offset != off {
		return nil, nil, errNoBTFValue
	}
	if e.Tag != dwarf.TagArrayType {
		return e, nil, nil
	}
	if !e.Children {
		return nil, nil, errNoBTFValue
	}
	for {
		c, err := r.Next()
		if err != nil {
			return nil, nil, err
		}
		if c == nil || c.Tag == 0 {
			break
		}
		if c.Tag != dwarf.TagSubrangeType {
			return nil, nil, errNoBTFValue
		}
		n := int64(-1)
		switch {
		case c.Val(dwarf.AttrCount) != nil:
			v, ok := c.Val(dwarf.AttrCount).(int64)
			if !ok {
				return nil, nil, errNoBTFValue
			}
			n = v
		case c.Val(dwarf.AttrUpperBound) != nil:
			v, ok := c.Val(dwarf.AttrUpperBound).(int64)
			if !ok {
				return nil, nil, errNoBTFValue
			}
			n = v + 1
		}
		if c.Children {
			r.SkipChildren()
		}
		dims = append(dims, n)
	}
	if len(dims) == 0 {
		return nil, nil, errNoBTFValue
	}
	return e, dims, nil
}
