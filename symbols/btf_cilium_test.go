package symbols

import (
	"bytes"
	"debug/dwarf"
	"fmt"
	"os"
	"reflect"
	"testing"

	"gocrash/internal/testbed"

	"github.com/cilium/ebpf/btf"
	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// ciliumConv is the conversion of BTF to godwarf types through
// cilium/ebpf's decoder, as gocrash did it before btf.go decoded the raw
// records itself (cilium's Spec inflates the whole graph a type reaches
// on its first TypeByID: task_struct pulls in most of the kernel). The
// raw decoder must give the same types (TestBTFDecoderMatchesCilium).
type ciliumConv struct {
	spec *btf.Spec
	conv map[btf.TypeID]godwarf.Type
	// charSigns: the BTF's "signed char" has BTF_INT_SIGNED, so a "char"
	// without it is unsigned (-funsigned-char kernels, 6.2+), btf.go's
	// rule, here from cilium's own records.
	charSigns bool
}

// newCiliumConv is the reference converter of spec.
func newCiliumConv(spec *btf.Spec) *ciliumConv {
	c := &ciliumConv{spec: spec, conv: map[btf.TypeID]godwarf.Type{}}
	for typ, err := range spec.All() {
		if err != nil {
			break
		}
		if i, ok := typ.(*btf.Int); ok && i.Name == "signed char" && i.Encoding&btf.Signed != 0 {
			c.charSigns = true
			break
		}
	}
	return c
}

// btfSpec is cilium's Spec of a BTF-backed Types' data.
func btfSpec(tb testing.TB, t *Types) *btf.Spec {
	tb.Helper()
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(t.btf.data))
	if err != nil {
		tb.Fatal(err)
	}
	return spec
}

func ciliumEnumValue(e *btf.Enum, v uint64) int64 {
	switch {
	case e.Size == 8:
		return int64(v)
	case e.Signed:
		return int64(int32(uint32(v)))
	}
	return int64(uint32(v))
}

func (b *ciliumConv) convert(id btf.TypeID, depth int) (godwarf.Type, error) {
	if id == 0 {
		return &godwarf.VoidType{}, nil
	}
	if typ, ok := b.conv[id]; ok {
		return typ, nil
	}
	if depth > 256 {
		return nil, errBTFDepth
	}
	bt, err := b.spec.TypeByID(id)
	if err != nil {
		return nil, fmt.Errorf("BTF type %d: %w", id, err)
	}
	ref := func(t btf.Type) (godwarf.Type, error) {
		if t == nil {
			return &godwarf.VoidType{}, nil
		}
		if _, ok := t.(*btf.Void); ok {
			return &godwarf.VoidType{}, nil
		}
		tid, err := b.spec.TypeID(t)
		if err != nil {
			return nil, fmt.Errorf("BTF type %d refers to a type outside the table: %w", id, err)
		}
		return b.convert(tid, depth+1)
	}
	common := godwarf.CommonType{Offset: dwarf.Offset(id), ByteSize: -1}
	var out godwarf.Type
	switch tt := bt.(type) {
	case *btf.Int:
		common.Name, common.ByteSize = tt.Name, int64(tt.Size)
		basic := godwarf.BasicType{CommonType: common}
		switch {
		case tt.Encoding&btf.Bool != 0 || tt.Name == "_Bool":
			out = &godwarf.BoolType{BasicType: basic}
		case tt.Name == "char" && b.charSigns && tt.Encoding&btf.Signed == 0:
			out = &godwarf.UcharType{BasicType: basic}
		case tt.Name == "char" || tt.Name == "signed char" || (tt.Encoding&btf.Char != 0 && tt.Encoding&btf.Signed != 0):
			out = &godwarf.CharType{BasicType: basic}
		case tt.Name == "unsigned char" || tt.Encoding&btf.Char != 0:
			out = &godwarf.UcharType{BasicType: basic}
		case tt.Encoding&btf.Signed != 0:
			out = &godwarf.IntType{BasicType: basic}
		default:
			out = &godwarf.UintType{BasicType: basic}
		}
		b.conv[id] = out
	case *btf.Float:
		common.Name, common.ByteSize = tt.Name, int64(tt.Size)
		out = &godwarf.FloatType{BasicType: godwarf.BasicType{CommonType: common}}
		b.conv[id] = out
	case *btf.Pointer:
		common.ByteSize = 8
		p := &godwarf.PtrType{CommonType: common}
		b.conv[id] = p
		if p.Type, err = ref(tt.Target); err != nil {
			return nil, err
		}
		out = p
	case *btf.Array:
		a := &godwarf.ArrayType{CommonType: common, Count: int64(tt.Nelems)}
		if tt.Nelems == 0 {
			// BTF writes a flexible array member (x[]) and a GNU
			// zero-length one alike; DWARF's count for the first, the
			// kernel's usual, is -1 (godwarf: "an incomplete array").
			a.Count = -1
		}
		b.conv[id] = a
		if a.Type, err = ref(tt.Type); err != nil {
			return nil, err
		}
		a.StrideBitSize = 8 * sizeOfConverted(a.Type)
		out = a
	case *btf.Struct, *btf.Union:
		st := &godwarf.StructType{CommonType: common, Kind: "struct"}
		var members []btf.Member
		switch tt := tt.(type) {
		case *btf.Struct:
			st.Name, st.StructName, st.ByteSize, members = tt.Name, tt.Name, int64(tt.Size), tt.Members
		case *btf.Union:
			st.Name, st.StructName, st.ByteSize, members = tt.Name, tt.Name, int64(tt.Size), tt.Members
			st.Kind = "union"
		}
		b.conv[id] = st
		st.Field = make([]*godwarf.StructField, 0, len(members))
		for _, m := range members {
			f := &godwarf.StructField{Name: m.Name}
			if f.Type, err = ref(m.Type); err != nil {
				return nil, err
			}
			off := int64(m.Offset)
			f.ByteOffset = off / 8
			if m.BitfieldSize > 0 {
				f.BitOffset, f.BitSize = off%8, int64(m.BitfieldSize)
			}
			st.Field = append(st.Field, f)
		}
		// A zero-element array that does not end a struct is x[0]
		// (btfTypes.convert's rule: only the last member can be x[]).
		for i, f := range st.Field {
			if a, ok := f.Type.(*godwarf.ArrayType); ok && a.Count == -1 && (st.Kind == "union" || i < len(st.Field)-1) {
				c := *a
				c.Count = 0
				f.Type = &c
			}
		}
		out = st
	case *btf.Fwd:
		st := &godwarf.StructType{CommonType: common, Kind: "struct", StructName: tt.Name, Incomplete: true}
		st.Name = tt.Name
		if tt.Kind == btf.FwdUnion {
			st.Kind = "union"
		}
		out = st
		b.conv[id] = out
	case *btf.Enum:
		common.Name, common.ByteSize = tt.Name, int64(tt.Size)
		e := &godwarf.EnumType{CommonType: common, EnumName: tt.Name}
		for _, v := range tt.Values {
			e.Val = append(e.Val, &godwarf.EnumValue{Name: v.Name, Val: ciliumEnumValue(tt, v.Value)})
		}
		out = e
		b.conv[id] = out
	case *btf.Typedef:
		common.Name = tt.Name
		td := &godwarf.TypedefType{CommonType: common}
		b.conv[id] = td
		if td.Type, err = ref(tt.Type); err != nil {
			return nil, err
		}
		td.ByteSize = sizeOfConverted(td.Type)
		out = td
	case *btf.Volatile, *btf.Const, *btf.Restrict:
		q := &godwarf.QualType{CommonType: common}
		b.conv[id] = q
		var target btf.Type
		switch tt := tt.(type) {
		case *btf.Volatile:
			q.Qual, target = "volatile", tt.Type
		case *btf.Const:
			q.Qual, target = "const", tt.Type
		case *btf.Restrict:
			q.Qual, target = "restrict", tt.Type
		}
		if q.Type, err = ref(target); err != nil {
			return nil, err
		}
		out = q
	case *btf.TypeTag:
		// A type tag (__user, __rcu with newer pahole) is not C: the type
		// it tags.
		return ref(tt.Type)
	case *btf.FuncProto:
		common.ByteSize = 8
		f := &godwarf.FuncType{CommonType: common}
		b.conv[id] = f
		if f.ReturnType, err = ref(tt.Return); err != nil {
			return nil, err
		}
		for i, p := range tt.Params {
			if _, void := p.Type.(*btf.Void); (void || p.Type == nil) && i == len(tt.Params)-1 {
				f.ParamType = append(f.ParamType, &godwarf.DotDotDotType{})
				continue
			}
			pt, err := ref(p.Type)
			if err != nil {
				return nil, err
			}
			f.ParamType = append(f.ParamType, pt)
		}
		out = f
	case *btf.Func:
		return ref(tt.Type)
	case *btf.Var:
		return ref(tt.Type)
	default:
		return nil, fmt.Errorf("BTF type %d is a %T, not a C type", id, bt)
	}
	return out, nil
}

// TestBTFDecoderMatchesCilium decodes every type of each test-bed kernel's
// .BTF (and $GOCRASH_BTF_VMLINUX's, e.g. a distribution kernel's) with the
// raw decoder and through cilium/ebpf, and finds the two graphs equal.
func TestBTFDecoderMatchesCilium(t *testing.T) {
	paths := map[string]bool{}
	for _, d := range testbed.All(t) {
		paths[d.Vmlinux] = true
	}
	if p := os.Getenv("GOCRASH_BTF_VMLINUX"); p != "" {
		paths[p] = true
	}
	checked := 0
	for path := range paths {
		v, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		data, _, ok := v.Section(".BTF")
		if !ok {
			v.Close()
			continue
		}
		raw, err := NewBTFTypes(path, data)
		if err != nil {
			t.Fatal(err)
		}
		ref := newCiliumConv(btfSpec(t, raw))
		same := map[[2]godwarf.Type]bool{}
		bad := 0
		for id := 1; id < len(raw.btf.offs); id++ {
			a, errA := raw.btf.btfType(uint32(id))
			b, errB := ref.convert(btf.TypeID(id), 0)
			if (errA != nil) != (errB != nil) {
				t.Errorf("%s: type %d: raw decoder %v, cilium %v", path, id, errA, errB)
				bad++
			} else if errA == nil {
				if diff := sameType(a, b, same, ""); diff != "" {
					t.Errorf("%s: type %d: %s", path, id, diff)
					bad++
				}
			}
			if bad > 10 {
				t.Fatal("too many differences")
			}
			checked++
		}
		// The lazy decoder (Layouts) decodes a pointer's target when it
		// is looked into: the same struct as the eager one.
		lazy, err := newBTFTypes(path, data, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"task_struct", "rq", "mm_struct"} {
			typ, err := lazy.Lookup("struct " + name)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := raw.Lookup("struct " + name)
			st := typ.(*godwarf.StructType)
			for _, f := range st.Field {
				if pt, ok := f.Type.(*godwarf.PtrType); ok {
					if s, ok := pt.Type.(*godwarf.StructType); ok && s.Incomplete {
						full, err := lazy.resolve(s)
						if err != nil {
							t.Fatalf("%s.%s: %v", name, f.Name, err)
						}
						if full.Common().Offset != s.Offset || full.(*godwarf.StructType).Incomplete {
							t.Errorf("%s.%s: stub for BTF type %d completes to %d", name, f.Name, s.Offset, full.Common().Offset)
						}
					}
				}
			}
			if s, _ := lazy.Size(typ); s != want.Size() {
				t.Errorf("struct %s: lazy size %d, eager %d", name, s, want.Size())
			}
		}
		v.Close()
	}
	if checked == 0 {
		t.Skip("no vmlinux with .BTF")
	}
	t.Logf("%d types decoded alike", checked)
}

// sameType compares two godwarf type graphs, node by node (same records
// pairs already found equal, for cycles and shared nodes).
func sameType(a, b godwarf.Type, same map[[2]godwarf.Type]bool, path string) string {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return ""
		}
		return fmt.Sprintf("%s: %v vs %v", path, a, b)
	}
	if same[[2]godwarf.Type{a, b}] {
		return ""
	}
	same[[2]godwarf.Type{a, b}] = true
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return fmt.Sprintf("%s: %T vs %T", path, a, b)
	}
	ca, cb := a.Common(), b.Common()
	if ca.Name != cb.Name || ca.ByteSize != cb.ByteSize || ca.Offset != cb.Offset {
		return fmt.Sprintf("%s: %+v vs %+v", path, *ca, *cb)
	}
	switch x := a.(type) {
	case *godwarf.PtrType:
		return sameType(x.Type, b.(*godwarf.PtrType).Type, same, path+"*")
	case *godwarf.ArrayType:
		y := b.(*godwarf.ArrayType)
		if x.Count != y.Count || x.StrideBitSize != y.StrideBitSize {
			return fmt.Sprintf("%s: array [%d] stride %d vs [%d] stride %d", path, x.Count, x.StrideBitSize, y.Count, y.StrideBitSize)
		}
		return sameType(x.Type, y.Type, same, path+"[]")
	case *godwarf.StructType:
		y := b.(*godwarf.StructType)
		if x.StructName != y.StructName || x.Kind != y.Kind || x.Incomplete != y.Incomplete || len(x.Field) != len(y.Field) {
			return fmt.Sprintf("%s: %s %s (%d members, incomplete %v) vs %s %s (%d, %v)", path, x.Kind, x.StructName, len(x.Field), x.Incomplete, y.Kind, y.StructName, len(y.Field), y.Incomplete)
		}
		for i, f := range x.Field {
			g := y.Field[i]
			if f.Name != g.Name || f.ByteOffset != g.ByteOffset || f.BitOffset != g.BitOffset || f.BitSize != g.BitSize || f.ByteSize != g.ByteSize {
				return fmt.Sprintf("%s.%s: %+v vs %+v", path, f.Name, *f, *g)
			}
			if d := sameType(f.Type, g.Type, same, path+"."+f.Name); d != "" {
				return d
			}
		}
	case *godwarf.EnumType:
		y := b.(*godwarf.EnumType)
		if x.EnumName != y.EnumName || len(x.Val) != len(y.Val) {
			return fmt.Sprintf("%s: enum %s (%d) vs %s (%d)", path, x.EnumName, len(x.Val), y.EnumName, len(y.Val))
		}
		for i, v := range x.Val {
			if *v != *y.Val[i] {
				return fmt.Sprintf("%s: enumerator %+v vs %+v", path, *v, *y.Val[i])
			}
		}
	case *godwarf.TypedefType:
		return sameType(x.Type, b.(*godwarf.TypedefType).Type, same, path+"("+x.Name+")")
	case *godwarf.QualType:
		y := b.(*godwarf.QualType)
		if x.Qual != y.Qual {
			return fmt.Sprintf("%s: %s vs %s", path, x.Qual, y.Qual)
		}
		return sameType(x.Type, y.Type, same, path+" "+x.Qual)
	case *godwarf.FuncType:
		y := b.(*godwarf.FuncType)
		if len(x.ParamType) != len(y.ParamType) {
			return fmt.Sprintf("%s: %d parameters vs %d", path, len(x.ParamType), len(y.ParamType))
		}
		if d := sameType(x.ReturnType, y.ReturnType, same, path+"()"); d != "" {
			return d
		}
		for i := range x.ParamType {
			if d := sameType(x.ParamType[i], y.ParamType[i], same, fmt.Sprintf("%s(%d)", path, i)); d != "" {
				return d
			}
		}
	}
	return ""
}
