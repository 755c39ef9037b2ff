package symbols

import (
	"bytes"
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Types from BTF: the kernel's own compact type information (.BTF, between
// __start_BTF and __stop_BTF in its image, CONFIG_DEBUG_INFO_BTF), for a
// session without the vmlinux, and for Layouts. Its records are decoded
// here one at a time (convert: cilium/ebpf's btf.Spec, the library for
// BTF, inflates the whole graph a type reaches and copies the data first,
// most of the cost of a first `sys`); the types are converted to the same
// godwarf values the DWARF reader gives,
// behind the same *Types, so nothing above this package knows where a
// layout came from. The name index is the DWARF one, with BTF type IDs in
// place of DIE offsets.
//
// What BTF does not have: the types of global variables (pahole encodes
// only the per-cpu ones, in the .data..percpu DATASEC), which knownVars
// supplies for the variables gocrash's walkers read; source lines; and
// anything of a module without CONFIG_DEBUG_INFO_BTF_MODULES.

// btfTypes is the BTF side of a *Types: the raw data, each type's record
// found by its ID, decoded one at a time (convert).
type btfTypes struct {
	data  []byte   // the raw BTF (mapped from the vmlinux, or read from the dump)
	types []byte   // its type section
	strs  btfStrs  // its string table (and its base's, for split BTF)
	offs  []uint32 // offs[id-first+1]: where type id's record starts in types
	// first is the ID of the first type of types: 1, or for a module's
	// split BTF (CONFIG_DEBUG_INFO_BTF_MODULES) the kernel's type count
	// + 1, its lower IDs being the kernel's types, which base decodes.
	first uint32
	base  *Types
	// funcs maps function names to their BTF_KIND_FUNC, built on the
	// first funcType.
	funcsOnce sync.Once
	funcs     map[string]uint32
	// varGlobal is each variable's linkage (BTF's VARs are the per-cpu
	// ones): true for a global, false for a static.
	varGlobal map[string]bool
	// arrayLen gives the number of elements of a global array whose
	// declaration has no size (from the symbol's extent), or 0.
	arrayLen func(name string, elem godwarf.Type, elemSize int64) int64
	// lazyPtrs makes pointers to structs and unions point to stubs
	// (Layouts' types, which nothing prints).
	lazyPtrs bool
	// charSigns: the BTF encodes a char's signedness ("signed char" has
	// BTF_INT_SIGNED; pahole before 1.2x left it out, Debian's 5.10), so
	// a "char" without it is unsigned (-funsigned-char, the x86 kernel's
	// since 6.2: gdb prints init_task.comm[100] as 255 '\377').
	charSigns bool

	mu    sync.Mutex
	conv  map[uint32]godwarf.Type
	known map[string]godwarf.Type // knownVars results
	stubs map[*godwarf.StructType]uint32
}

// NewBTFTypes reads BTF (the raw contents of .BTF) into a *Types. name is
// where it came from, for messages. data is kept, not copied.
func NewBTFTypes(name string, data []byte) (t *Types, err error) {
	return newBTFTypes(name, data, false)
}

// NewModuleBTFTypes reads a module's BTF, split BTF on top of the
// kernel's (base, from NewBTFTypes): its type IDs go on from the kernel's
// last and its string offsets from the end of the kernel's string table,
// as pahole --btf_base writes a module's .BTF (tools/lib/bpf/btf.c,
// btf__new_split). Its name index has the module's own types only; the
// kernel's types it refers to are base's.
func NewModuleBTFTypes(name string, data []byte, base *Types) (*Types, error) {
	if base == nil || base.btf == nil || base.btf.base != nil {
		return nil, fmt.Errorf("%s: split BTF needs the kernel's BTF as its base", name)
	}
	return newBTFTypesOn(name, data, false, base)
}

// BTFTypeCount is the number of types of BTF-backed types (the ID the
// first type of a module's split BTF on them has, less one), and the
// size of its string table; 0, 0 for others.
func (t *Types) BTFTypeCount() (types, strs uint32) {
	if t == nil || t.btf == nil {
		return 0, 0
	}
	b := t.btf
	return b.end() - 1, uint32(len(b.strs.base)) + uint32(len(b.strs.own))
}

func newBTFTypes(name string, data []byte, lazyPtrs bool) (t *Types, err error) {
	return newBTFTypesOn(name, data, lazyPtrs, nil)
}

func newBTFTypesOn(name string, data []byte, lazyPtrs bool, base *Types) (t *Types, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%s: malformed BTF: %v", name, r)
		}
	}()
	b := &btfTypes{data: data, lazyPtrs: lazyPtrs, first: 1, varGlobal: map[string]bool{}, conv: map[uint32]godwarf.Type{}, known: map[string]godwarf.Type{}}
	if base != nil {
		b.base = base
		b.first = base.btf.end()
		b.strs.base = base.btf.strs.own
		b.charSigns = base.btf.charSigns
	}
	// The index is built from the raw type records (btfScan), and types
	// are decoded one by one as they are looked up (convert). Functions
	// (half the records) are indexed only when a function's type is
	// first asked for (funcType), and the maps are sized from a first
	// count, so that the scan costs a few milliseconds.
	if b.types, b.strs.own, err = btfSections(data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var counts [btfMaxKind + 1]int
	b.offs = make([]uint32, 1, len(b.types)/16)
	if err := b.scan(func(r btfRecord) {
		b.offs = append(b.offs, uint32(r.pos))
		if r.nameOff != 0 {
			counts[r.kind]++
		}
		if r.kind == btfKindEnum || r.kind == btfKindEnum64 {
			counts[0] += r.vlen
		}
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	x := &nameIndex{
		structs:     make(map[string]dieRef, counts[btfKindStruct]+counts[btfKindFwd]),
		unions:      make(map[string]dieRef, counts[btfKindUnion]),
		enums:       make(map[string]dieRef, counts[btfKindEnum]+counts[btfKindEnum64]),
		typedefs:    make(map[string]dieRef, counts[btfKindTypedef]),
		bases:       make(map[string]dieRef, counts[btfKindInt]+counts[btfKindFloat]),
		vars:        make(map[string]dieRef, counts[btfKindVar]),
		varDefs:     make(map[string]firstDef, counts[btfKindVar]),
		enumerators: make(map[string]enumVal, counts[0]),
	}
	err = b.scan(func(r btfRecord) {
		id := r.id
		ref := dieRef{off: dwarf.Offset(id)}
		switch r.kind {
		case btfKindStruct:
			if r.nameOff != 0 {
				put(x.structs, r.name(), ref)
			}
		case btfKindUnion:
			if r.nameOff != 0 {
				put(x.unions, r.name(), ref)
			}
		case btfKindFwd:
			ref.decl = true
			if r.kindFlag {
				put(x.unions, r.name(), ref)
			} else {
				put(x.structs, r.name(), ref)
			}
		case btfKindEnum, btfKindEnum64:
			if r.nameOff != 0 {
				put(x.enums, r.name(), ref)
			}
			r.enums(func(n string, v int64) { putEnum(x.enumerators, n, enumVal{val: v, off: dwarf.Offset(id)}) })
		case btfKindTypedef:
			put(x.typedefs, r.name(), ref)
		case btfKindInt, btfKindFloat:
			put(x.bases, r.name(), ref)
			if r.kind == btfKindInt && len(r.body) >= 4 && binary.LittleEndian.Uint32(r.body)>>24&btfIntSigned != 0 && r.name() == "signed char" {
				b.charSigns = true
			}
		case btfKindVar:
			// struct btf_var { __u32 linkage; }: 0 static, 1 global.
			name := r.name()
			b.varGlobal[name] = len(r.body) >= 4 && binary.LittleEndian.Uint32(r.body) != 0
			ref := dieRef{off: dwarf.Offset(r.typeRef)}
			put(x.vars, name, ref)
			putFirstDef(x.varDefs, name, dwarf.Offset(id), ref)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t = newTypesFromData(name, nil)
	t.btf = b
	t.idx = x
	t.indexOnce.Do(func() {})
	return t, nil
}

// BTF kinds (include/uapi/linux/btf.h).
const (
	btfKindInt      = 1
	btfKindPtr      = 2
	btfKindArray    = 3
	btfKindStruct   = 4
	btfKindUnion    = 5
	btfKindEnum     = 6
	btfKindFwd      = 7
	btfKindTypedef  = 8
	btfKindVolatile = 9
	btfKindConst    = 10
	btfKindRestrict = 11
	btfKindFunc     = 12
	btfKindProto    = 13
	btfKindVar      = 14
	btfKindDatasec  = 15
	btfKindFloat    = 16
	btfKindDeclTag  = 17
	btfKindTypeTag  = 18
	btfKindEnum64   = 19
	btfMaxKind      = 19
	btfHeaderMinLen = 24

	// BTF_INT_ENCODING bits.
	btfIntSigned = 1
	btfIntChar   = 2
	btfIntBool   = 4
)

// btfRecord is one raw type record of BTF data, as btfScan hands it out:
// its ID (from 1, in order, as cilium numbers them), kind, kind_flag,
// vlen, the string offset of its name, its size_or_type field and the
// kind's data after the record.
type btfRecord struct {
	id       uint32
	pos      int // where the record starts in the type section
	kind     int
	kindFlag bool
	vlen     int
	nameOff  uint32
	typeRef  uint32
	body     []byte
	strs     btfStrs
}

// btfStrs is a BTF string table: a split BTF's offsets below its base's
// table length are the base's strings.
type btfStrs struct {
	base, own []byte
}

// at is the string at off.
func (s btfStrs) at(off uint32) string {
	if n := uint64(len(s.base)); n > 0 {
		if uint64(off) < n {
			return btfString(s.base, off)
		}
		off -= uint32(n)
	}
	return btfString(s.own, off)
}

// btfString is the NUL-terminated string at off of a BTF string table,
// or "" when off is outside it.
func btfString(strs []byte, off uint32) string {
	if uint64(off) >= uint64(len(strs)) {
		return ""
	}
	b := strs[off:]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// name is the record's name (a new string: the record's bytes are not
// kept).
func (r *btfRecord) name() string { return r.strs.at(r.nameOff) }

// enums walks an enum's enumerators (none for other kinds).
func (r *btfRecord) enums(f func(string, int64)) {
	le := binary.LittleEndian
	body := r.body
	switch r.kind {
	case btfKindEnum:
		for i := 0; i+8 <= len(body); i += 8 {
			v := int64(le.Uint32(body[i+4:]))
			if r.kindFlag { // signed
				v = int64(int32(uint32(v)))
			}
			f(r.strs.at(le.Uint32(body[i:])), v)
		}
	case btfKindEnum64:
		for i := 0; i+12 <= len(body); i += 12 {
			f(r.strs.at(le.Uint32(body[i:])), int64(uint64(le.Uint32(body[i+4:]))|uint64(le.Uint32(body[i+8:]))<<32))
		}
	}
}

// btfScan walks the raw type records of BTF data (the layout of
// include/uapi/linux/btf.h: a header, then struct btf_type records, each
// followed by its kind's data, then the string table), calling visit with
// each record. Every offset is checked: damaged data gives an error.
func btfScan(data []byte, visit func(r btfRecord)) error {
	types, strs, err := btfSections(data)
	if err != nil {
		return err
	}
	return btfScanTypes(types, btfStrs{own: strs}, 1, visit)
}

// scan is btfScan over b's records, split BTF's IDs and strings included.
func (b *btfTypes) scan(visit func(r btfRecord)) error {
	return btfScanTypes(b.types, b.strs, b.first, visit)
}

func btfScanTypes(types []byte, strs btfStrs, first uint32, visit func(r btfRecord)) error {
	for id, pos := first, 0; pos < len(types); id++ {
		r, next, err := btfRecordAt(types, strs, pos, id)
		if err != nil {
			return err
		}
		visit(r)
		pos = next
	}
	return nil
}

// btfSections checks BTF data's header and returns its type section and
// string table.
func btfSections(data []byte) (types, strs []byte, err error) {
	le := binary.LittleEndian
	if len(data) < btfHeaderMinLen || le.Uint16(data) != 0xeb9f {
		return nil, nil, fmt.Errorf("BTF: no valid header (magic %#x)", data[:min(len(data), 2)])
	}
	hdrLen := uint64(le.Uint32(data[4:]))
	typeOff, typeLen := uint64(le.Uint32(data[8:])), uint64(le.Uint32(data[12:]))
	strOff, strLen := uint64(le.Uint32(data[16:])), uint64(le.Uint32(data[20:]))
	n := uint64(len(data))
	if hdrLen < btfHeaderMinLen || hdrLen > n || typeOff+typeLen > n-hdrLen || strOff+strLen > n-hdrLen {
		return nil, nil, fmt.Errorf("BTF: header (length %d, types %d+%d, strings %d+%d) runs past the %d bytes", hdrLen, typeOff, typeLen, strOff, strLen, n)
	}
	return data[hdrLen+typeOff : hdrLen+typeOff+typeLen], data[hdrLen+strOff : hdrLen+strOff+strLen], nil
}

// btfRecordAt decodes the record of type id at pos in the type section,
// and where the next one starts.
func btfRecordAt(types []byte, strs btfStrs, pos int, id uint32) (btfRecord, int, error) {
	le := binary.LittleEndian
	if pos < 0 || len(types)-pos < 12 {
		return btfRecord{}, 0, fmt.Errorf("BTF: type %d at +%#x is cut short", id, pos)
	}
	nameOff, info, ref := le.Uint32(types[pos:]), le.Uint32(types[pos+4:]), le.Uint32(types[pos+8:])
	vlen, kind, kflag := int(info&0xffff), int(info>>24&0x1f), info>>31 == 1
	start := pos
	pos += 12
	var extra int
	switch kind {
	case btfKindInt, btfKindVar, btfKindDeclTag:
		extra = 4
	case btfKindArray:
		extra = 12
	case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
		extra = 12 * vlen
	case btfKindEnum, btfKindProto:
		extra = 8 * vlen
	default:
		if kind == 0 || kind > btfMaxKind {
			return btfRecord{}, 0, fmt.Errorf("BTF: type %d at +%#x has unknown kind %d", id, start, kind)
		}
	}
	if extra > len(types)-pos {
		return btfRecord{}, 0, fmt.Errorf("BTF: type %d at +%#x: its %d bytes of members run past the type section", id, start, extra)
	}
	r := btfRecord{id: id, pos: start, kind: kind, kindFlag: kflag, vlen: vlen, nameOff: nameOff, typeRef: ref, body: types[pos : pos+extra], strs: strs}
	return r, pos + extra, nil
}

// enumValue is an enumerator's value as DWARF gives it: sign-extended
// when the enum is signed (BTF's kind_flag), else as stored. Old pahole
// leaves the flag unset; a 32-bit value with its top bit set is then read
// as the int gcc would have made it only when it is small negative.
func enumValue(size uint32, signed bool, v uint64) int64 {
	switch {
	case size == 8:
		return int64(v)
	case signed:
		return int64(int32(uint32(v)))
	}
	return int64(uint32(v))
}

// VarLinkage is a variable's linkage as BTF records it (BTF has only the
// per-cpu variables): global or static, and whether it is known.
func (t *Types) VarLinkage(name string) (global, ok bool) {
	if t == nil || t.btf == nil || t.dwarf != nil {
		return false, false
	}
	global, ok = t.btf.varGlobal[name]
	return global, ok
}

// FromBTF reports whether the types came from BTF (no DWARF).
func (t *Types) FromBTF() bool { return t != nil && t.btf != nil && t.dwarf == nil }

// SetArrayLen gives a BTF-backed Types the size of global arrays declared
// without one (from the symbol table); see knownVars.
func (t *Types) SetArrayLen(f func(name string, elem godwarf.Type, elemSize int64) int64) {
	if t.btf != nil {
		t.btf.arrayLen = f
	}
}

var errBTFDepth = errors.New("BTF type graph too deep")

// errNoDWARFWithoutVmlinux is what asks for source files and lines (bt -l,
// sys -c, dis -s) get when the types came from BTF.
var errNoDWARFWithoutVmlinux = errors.New("no source files or lines without the vmlinux (the kernel's BTF has none)")

// btfType converts the BTF type id (and what it refers to) to godwarf
// types. The caller holds t.mu.
func (b *btfTypes) btfType(id uint32) (godwarf.Type, error) {
	return b.convert(id, 0)
}

// record is the raw type record id.
func (b *btfTypes) record(id uint32) (btfRecord, error) {
	if id != 0 && id < b.first && b.base != nil {
		return b.base.btf.record(id)
	}
	if id == 0 || id < b.first || id >= b.end() {
		return btfRecord{}, fmt.Errorf("BTF type %d: no such type (the table has %d)", id, b.end()-1)
	}
	r, _, err := btfRecordAt(b.types, b.strs, int(b.offs[id-b.first+1]), id)
	return r, err
}

// end is one past the last type ID.
func (b *btfTypes) end() uint32 { return b.first + uint32(max(len(b.offs), 1)) - 1 }

// convert decodes type id from its raw record, and what it refers to:
// each record is read alone, where cilium/ebpf's Spec would inflate the
// whole graph the type reaches (task_struct's is most of the kernel's
// types) and copy the data first. With lazyPtrs a pointer to a struct or
// union points to a stub (stubs) that complete decodes when it is looked
// into: a walker reading task_struct.tasks decodes task_struct, not every
// struct it points to.
func (b *btfTypes) convert(id uint32, depth int) (godwarf.Type, error) {
	if id == 0 {
		return &godwarf.VoidType{}, nil
	}
	if typ, ok := b.conv[id]; ok {
		return typ, nil
	}
	if id < b.first && b.base != nil {
		// The kernel's type under a module's: decoded (and kept) by the
		// kernel's Types, so that both have the same one.
		return b.base.readType(dwarf.Offset(id))
	}
	if depth > 256 {
		return nil, errBTFDepth
	}
	r, err := b.record(id)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	ref := func(tid uint32) (godwarf.Type, error) {
		if tid != 0 && tid >= b.end() {
			return nil, fmt.Errorf("BTF type %d refers to type %d outside the table", id, tid)
		}
		return b.convert(tid, depth+1)
	}
	save := func(t godwarf.Type) { b.conv[id] = t }
	common := godwarf.CommonType{Offset: dwarf.Offset(id), ByteSize: -1}
	name := r.name()
	switch r.kind {
	case btfKindInt:
		// struct btf_type's size, then BTF_INT_ENCODING (bits 24-27).
		enc := le.Uint32(r.body) >> 24 & 0xf
		common.Name, common.ByteSize = name, int64(r.typeRef)
		basic := godwarf.BasicType{CommonType: common}
		var out godwarf.Type
		switch {
		case enc&btfIntBool != 0 || name == "_Bool":
			out = &godwarf.BoolType{BasicType: basic}
		case name == "char" && b.charSigns && enc&btfIntSigned == 0:
			out = &godwarf.UcharType{BasicType: basic}
		case name == "char" || name == "signed char" || (enc&btfIntChar != 0 && enc&btfIntSigned != 0):
			out = &godwarf.CharType{BasicType: basic}
		case name == "unsigned char" || enc&btfIntChar != 0:
			out = &godwarf.UcharType{BasicType: basic}
		case enc&btfIntSigned != 0:
			out = &godwarf.IntType{BasicType: basic}
		default:
			out = &godwarf.UintType{BasicType: basic}
		}
		save(out)
		return out, nil
	case btfKindFloat:
		common.Name, common.ByteSize = name, int64(r.typeRef)
		out := &godwarf.FloatType{BasicType: godwarf.BasicType{CommonType: common}}
		save(out)
		return out, nil
	case btfKindPtr:
		common.ByteSize = 8
		p := &godwarf.PtrType{CommonType: common}
		save(p)
		if st := b.stub(r.typeRef); st != nil {
			p.Type = st
			return p, nil
		}
		if p.Type, err = ref(r.typeRef); err != nil {
			return nil, err
		}
		return p, nil
	case btfKindArray:
		// struct btf_array { __u32 type, index_type, nelems; }
		elem, n := le.Uint32(r.body), le.Uint32(r.body[8:])
		a := &godwarf.ArrayType{CommonType: common, Count: int64(n)}
		if n == 0 {
			// BTF writes a flexible array member (x[]) and a GNU
			// zero-length one alike; DWARF's count for the first, the
			// kernel's usual, is -1 (godwarf: "an incomplete array").
			a.Count = -1
		}
		save(a)
		if a.Type, err = ref(elem); err != nil {
			return nil, err
		}
		a.StrideBitSize = 8 * sizeOfConverted(a.Type)
		return a, nil
	case btfKindStruct, btfKindUnion:
		st := &godwarf.StructType{CommonType: common, Kind: "struct", StructName: name}
		st.Name, st.ByteSize = name, int64(r.typeRef)
		if r.kind == btfKindUnion {
			st.Kind = "union"
		}
		save(st)
		st.Field = make([]*godwarf.StructField, 0, r.vlen)
		// struct btf_member { __u32 name_off, type, offset; }: with
		// kind_flag the offset's top 8 bits are a bit field's size.
		for i := 0; i+12 <= len(r.body); i += 12 {
			mtype, off := le.Uint32(r.body[i+4:]), le.Uint32(r.body[i+8:])
			f := &godwarf.StructField{Name: r.strs.at(le.Uint32(r.body[i:]))}
			var bits uint32
			if r.kindFlag {
				bits, off = off>>24, off&0xffffff
			} else if ioff, ibits, ok := b.legacyBitfield(mtype); ok {
				off, bits = off+ioff, ibits
			}
			if f.Type, err = ref(mtype); err != nil {
				return nil, err
			}
			f.ByteOffset = int64(off / 8)
			if bits > 0 {
				f.BitOffset, f.BitSize = int64(off%8), int64(bits)
			}
			st.Field = append(st.Field, f)
		}
		// BTF has one array of no elements for x[] and the GNU x[0];
		// DWARF (and gdb's ptype) tells them apart. A flexible array
		// member can only end a struct: one anywhere else, or in a
		// union, is a zero-length array ("__u8 __cloned_offset[0];" in
		// the middle of sk_buff). The BTF array type is shared by every
		// member of that type, so such a member gets a copy.
		for i, f := range st.Field {
			if a, ok := f.Type.(*godwarf.ArrayType); ok && a.Count == -1 && (st.Kind == "union" || i < len(st.Field)-1) {
				c := *a
				c.Count = 0
				f.Type = &c
			}
		}
		return st, nil
	case btfKindFwd:
		st := &godwarf.StructType{CommonType: common, Kind: "struct", StructName: name, Incomplete: true}
		st.Name = name
		if r.kindFlag {
			st.Kind = "union"
		}
		save(st)
		return st, nil
	case btfKindEnum, btfKindEnum64:
		common.Name, common.ByteSize = name, int64(r.typeRef)
		e := &godwarf.EnumType{CommonType: common, EnumName: name}
		size, signed := r.typeRef, r.kindFlag
		if r.kind == btfKindEnum {
			for i := 0; i+8 <= len(r.body); i += 8 {
				v := uint64(le.Uint32(r.body[i+4:]))
				if signed {
					v = uint64(int32(uint32(v)))
				}
				e.Val = append(e.Val, &godwarf.EnumValue{Name: r.strs.at(le.Uint32(r.body[i:])), Val: enumValue(size, signed, v)})
			}
		} else {
			for i := 0; i+12 <= len(r.body); i += 12 {
				v := uint64(le.Uint32(r.body[i+4:])) | uint64(le.Uint32(r.body[i+8:]))<<32
				e.Val = append(e.Val, &godwarf.EnumValue{Name: r.strs.at(le.Uint32(r.body[i:])), Val: enumValue(size, signed, v)})
			}
		}
		save(e)
		return e, nil
	case btfKindTypedef:
		common.Name = name
		td := &godwarf.TypedefType{CommonType: common}
		save(td)
		if td.Type, err = ref(r.typeRef); err != nil {
			return nil, err
		}
		td.ByteSize = sizeOfConverted(td.Type)
		return td, nil
	case btfKindVolatile, btfKindConst, btfKindRestrict:
		q := &godwarf.QualType{CommonType: common}
		switch r.kind {
		case btfKindVolatile:
			q.Qual = "volatile"
		case btfKindConst:
			q.Qual = "const"
		default:
			q.Qual = "restrict"
		}
		save(q)
		if q.Type, err = ref(r.typeRef); err != nil {
			return nil, err
		}
		return q, nil
	case btfKindTypeTag, btfKindFunc, btfKindVar:
		// A type tag (__user, __rcu with newer pahole) is not C: the
		// type it tags; a function or variable: its type.
		return ref(r.typeRef)
	case btfKindProto:
		common.ByteSize = 8
		f := &godwarf.FuncType{CommonType: common}
		save(f)
		if f.ReturnType, err = ref(r.typeRef); err != nil {
			return nil, err
		}
		// struct btf_param { __u32 name_off, type; }: a last one of type
		// 0 (void) is the "..." of a variadic function.
		for i := 0; i+8 <= len(r.body); i += 8 {
			pt := le.Uint32(r.body[i+4:])
			if pt == 0 && i+8 == len(r.body) {
				f.ParamType = append(f.ParamType, &godwarf.DotDotDotType{})
				continue
			}
			t, err := ref(pt)
			if err != nil {
				return nil, err
			}
			f.ParamType = append(f.ParamType, t)
		}
		return f, nil
	}
	return nil, fmt.Errorf("BTF type %d is a %s, not a C type", id, btfKindName(r.kind))
}

// legacyBitfield reports a bit field of a struct without kind_flag (old
// pahole): its member's type is an int whose BTF_INT_OFFSET is not 0 or
// whose BTF_INT_BITS are not its size, as cilium/ebpf reads it.
func (b *btfTypes) legacyBitfield(id uint32) (off, bits uint32, ok bool) {
	r, err := b.record(id)
	if err != nil || r.kind != btfKindInt || len(r.body) < 4 {
		return 0, 0, false
	}
	v := binary.LittleEndian.Uint32(r.body)
	off, bits = v>>16&0xff, v&0xff
	if off > 0 || bits/8 != r.typeRef {
		return off, bits, true
	}
	return 0, 0, false
}

// stub is, with lazyPtrs, an undecoded stand-in for the struct or union
// id when it has not been decoded yet: incomplete, named, sized, and
// remembered in stubs so that complete decodes it (not another struct of
// the same name). Otherwise nil.
func (b *btfTypes) stub(id uint32) *godwarf.StructType {
	if !b.lazyPtrs {
		return nil
	}
	if _, done := b.conv[id]; done {
		return nil
	}
	r, err := b.record(id)
	if err != nil || (r.kind != btfKindStruct && r.kind != btfKindUnion) {
		return nil
	}
	name := r.name()
	st := &godwarf.StructType{CommonType: godwarf.CommonType{Offset: dwarf.Offset(id), Name: name, ByteSize: int64(r.typeRef)}, StructName: name, Kind: "struct", Incomplete: true}
	if r.kind == btfKindUnion {
		st.Kind = "union"
	}
	b.mu.Lock()
	if b.stubs == nil {
		b.stubs = map[*godwarf.StructType]uint32{}
	}
	b.stubs[st] = id
	b.mu.Unlock()
	return st
}

// stubOf is the BTF type a stub stands for.
func (b *btfTypes) stubOf(st *godwarf.StructType) (uint32, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.stubs[st]
	return id, ok
}

func btfKindName(kind int) string {
	switch kind {
	case btfKindDatasec:
		return "DATASEC"
	case btfKindDeclTag:
		return "DECL_TAG"
	}
	return fmt.Sprintf("kind %d", kind)
}

// sizeOfConverted is a converted type's size, following typedefs and
// qualifiers and multiplying out arrays, or -1 when unknown.
func sizeOfConverted(typ godwarf.Type) int64 {
	for range 64 {
		switch tt := typ.(type) {
		case *godwarf.TypedefType:
			typ = tt.Type
		case *godwarf.QualType:
			typ = tt.Type
		case *godwarf.ArrayType:
			es := sizeOfConverted(tt.Type)
			if es < 0 || tt.Count < 0 {
				return -1
			}
			return es * tt.Count
		case nil:
			return -1
		default:
			return typ.Common().ByteSize
		}
	}
	return -1
}

// funcType is FuncType for BTF: the BTF_KIND_FUNC of that name.
func (b *btfTypes) funcType(name string) (*godwarf.FuncType, error) {
	b.funcsOnce.Do(func() {
		b.funcs = map[string]uint32{}
		// The data was scanned whole by NewBTFTypes: no error now.
		_ = b.scan(func(r btfRecord) {
			if r.kind == btfKindFunc {
				if name := r.name(); b.funcs[name] == 0 {
					b.funcs[name] = uint32(r.id)
				}
			}
		})
	})
	id, ok := b.funcs[name]
	if !ok {
		return nil, fmt.Errorf("no BTF for function %s", name)
	}
	typ, err := b.btfType(id)
	if err != nil {
		return nil, err
	}
	ft, ok := typ.(*godwarf.FuncType)
	if !ok {
		return nil, fmt.Errorf("BTF function %s has type %T", name, typ)
	}
	// DWARF's function type: ByteSize 1, as FuncType's DWARF path sets.
	c := *ft
	c.ByteSize = 1
	return &c, nil
}

// knownVars are the declared types of the global variables gocrash's
// walkers read, for BTF, which has only the per-cpu ones. Each is the C
// declaration in the kernel's source (6.1 and 6.12; file named), with
// "[]" for an array whose size comes from the symbol's extent (trimmed as
// arrayLen says), "[*]" for one sized by a #define whose entries may be
// NULL (the extent untrimmed: an upper bound, alignment included), and
// "[ENUMERATOR]" for one sized by an enumeration constant.
var knownVars = map[string]string{
	"jiffies":                 "volatile unsigned long",                // include/linux/jiffies.h
	"jiffies_64":              "u64",                                   // include/linux/jiffies.h
	"avenrun":                 "unsigned long [3]",                     // include/linux/sched/loadavg.h
	"init_task":               "struct task_struct",                    // include/linux/sched/task.h
	"init_uts_ns":             "struct uts_namespace",                  // include/linux/utsname.h
	"init_mm":                 "struct mm_struct",                      // include/linux/mm_types.h
	"init_pid_ns":             "struct pid_namespace",                  // include/linux/pid_namespace.h
	"init_net":                "struct net",                            // include/net/net_namespace.h
	"tainted_mask":            "unsigned long",                         // kernel/panic.c
	"panic_cpu":               "atomic_t",                              // include/linux/panic.h (kernel.h in 6.1)
	"panic_on_oops":           "int",                                   // kernel/panic.c
	"page_offset_base":        "unsigned long",                         // arch/x86/include/asm/page_64.h
	"vmalloc_base":            "unsigned long",                         // arch/x86/include/asm/pgtable_64_types.h
	"vmemmap_base":            "unsigned long",                         // arch/x86/include/asm/pgtable_64_types.h
	"phys_base":               "unsigned long",                         // arch/x86/include/asm/page_64.h
	"max_pfn":                 "unsigned long",                         // include/linux/memblock.h
	"high_memory":             "void *",                                // include/linux/mm.h
	"totalram_pages":          "atomic_long_t",                         // mm/page_alloc.c (_totalram_pages)
	"_totalram_pages":         "atomic_long_t",                         // include/linux/mm.h
	"totalreserve_pages":      "unsigned long",                         // include/linux/mm.h
	"totalcma_pages":          "unsigned long",                         // mm/cma.h
	"vm_zone_stat":            "atomic_long_t [NR_VM_ZONE_STAT_ITEMS]", // include/linux/vmstat.h
	"vm_node_stat":            "atomic_long_t [NR_VM_NODE_STAT_ITEMS]", // include/linux/vmstat.h
	"vm_committed_as":         "struct percpu_counter",                 // mm/util.c
	"nr_swap_pages":           "atomic_long_t",                         // mm/swapfile.c
	"total_swap_pages":        "long",                                  // mm/swapfile.c
	"nr_cpu_ids":              "unsigned int",                          // include/linux/cpumask.h
	"nr_node_ids":             "unsigned int",                          // include/linux/nodemask.h
	"nr_threads":              "int",                                   // kernel/fork.c
	"node_data":               "struct pglist_data *[*]",               // arch/x86/include/asm/mmzone_64.h
	"contig_page_data":        "struct pglist_data",                    // mm/memblock.c (!NUMA)
	"node_states":             "nodemask_t [NR_NODE_STATES]",
	"__per_cpu_offset":        "unsigned long []", // arch/x86/include/asm/percpu.h (NR_CPUS)
	"__cpu_online_mask":       "struct cpumask",   // kernel/cpu.c
	"__cpu_possible_mask":     "struct cpumask",
	"__cpu_present_mask":      "struct cpumask",
	"__cpu_active_mask":       "struct cpumask",
	"cpu_online_mask":         "struct cpumask *",
	"cpu_possible_mask":       "struct cpumask *",
	"cpu_present_mask":        "struct cpumask *",
	"cpu_active_mask":         "struct cpumask *",
	"mem_section":             "struct mem_section **",      // include/linux/mmzone.h (SPARSEMEM_EXTREME)
	"prb":                     "struct printk_ringbuffer *", // kernel/printk/printk.c
	"printk_rb_static":        "struct printk_ringbuffer",
	"clear_seq":               "struct latched_seq",
	"modules":                 "struct list_head", // kernel/module/main.c
	"module_kset":             "struct kset *",
	"super_blocks":            "struct list_head",             // fs/super.c
	"swap_info":               "struct swap_info_struct *[*]", // mm/swapfile.c (MAX_SWAPFILES)
	"nr_swapfiles":            "unsigned int",
	"swapper_spaces":          "struct address_space *[*]",
	"nr_swapper_spaces":       "unsigned int []",
	"hstates":                 "struct hstate [*]",                   // mm/hugetlb.c (HUGE_MAX_HSTATE)
	"hugetlb_max_hstate":      "int",                                 // mm/hugetlb.c
	"softirq_vec":             "struct softirq_action [NR_SOFTIRQS]", // kernel/softirq.c
	"dmi_ident":               "char *[DMI_STRING_MAX]",              // drivers/firmware/dmi_scan.c
	"task_state_array":        "const char * const []",               // fs/proc/array.c
	"taint_flags":             "const struct taint_flag []",          // kernel/panic.c: [TAINT_FLAGS_COUNT], a #define
	"pageflag_names":          "const struct trace_print_flags []",   // mm/debug.c
	"tick_nsec":               "unsigned long",                       // kernel/time/ntp.c
	"tick_usec":               "unsigned long",
	"sys_call_table":          "const sys_call_ptr_t []", // arch/x86/entry/syscall_64.c
	"linux_banner":            "const char []",           // init/version.c
	"irq_desc_tree":           "struct xarray",           // kernel/irq/irqdesc.c, before 6.5 (radix_tree_root is #defined xarray)
	"sparse_irqs":             "struct maple_tree",       // kernel/irq/irqdesc.c (6.5+)
	"nr_irqs":                 "int",
	"log_buf":                 "char *", // kernel/printk/printk.c
	"log_buf_len":             "u32",
	"log_first_idx":           "u32",
	"log_next_idx":            "u32",
	"system_state":            "enum system_states", // include/linux/kernel.h
	"crashing_cpu":            "int",                // arch/x86/kernel/reboot.c
	"kexec_crash_image":       "struct kimage *",
	"crash_notes":             "note_buf_t *",
	"boot_cpu_data":           "struct cpuinfo_x86",  // arch/x86/kernel/setup.c
	"e820_table":              "struct e820_table *", // arch/x86/include/asm/e820/api.h (mach -m)
	"cpu_khz":                 "unsigned int",        // arch/x86/kernel/tsc.c
	"tsc_khz":                 "unsigned int",
	"root_task_group":         "struct task_group",  // kernel/sched/core.c
	"def_root_domain":         "struct root_domain", // kernel/sched/topology.c
	"sysctl_sched_rt_runtime": "int",
	"saved_command_line":      "char *", // init/main.c
	"pid_max":                 "int",    // kernel/pid.c
	"ftrace_trace_function":   "ftrace_func_t",
	"dentry_hashtable":        "struct hlist_bl_head *",
	"init_files":              "struct files_struct",
	"init_fs":                 "struct fs_struct",
	"zero_pfn":                "unsigned long",
	"vmap_area_list":          "struct list_head", // mm/vmalloc.c
	"vmap_area_root":          "struct rb_root",
	"slab_caches":             "struct list_head", // mm/slab_common.c
	"init_cred":               "struct cred",
	"iomem_resource":          "struct resource", // kernel/resource.c
	"ioport_resource":         "struct resource",
	"mount_hashtable":         "struct hlist_head *",
	"shadow_timekeeper":       "struct timekeeper",
	// Per-cpu variables, which BTF has as VARs since pahole 1.18 but not
	// every distribution kernel's (Debian's 5.10 has none of them).
	"runqueues":    "struct rq",            // kernel/sched/sched.h
	"cpu_number":   "int",                  // arch/x86/include/asm/smp.h
	"current_task": "struct task_struct *", // arch/x86/include/asm/current.h (before 6.2)
	"pcpu_hot":     "struct pcpu_hot",      // arch/x86/include/asm/current.h (6.2+)
	"irq_stat":     "irq_cpustat_t",        // arch/x86/include/asm/hardirq.h
	"this_cpu_off": "unsigned long",        // arch/x86/include/asm/percpu.h
	// What crash users print first after a panic.
	"oops_in_progress": "int",           // include/linux/printk.h
	"loops_per_jiffy":  "unsigned long", // include/linux/delay.h
}

// knownPerCPU are the per-cpu variables of knownVars, all declared global
// (DECLARE_PER_CPU in a header): kallsyms types a per-cpu symbol 'A',
// losing its class, which BTF's VARs give back where it has them.
var knownPerCPU = map[string]bool{"runqueues": true, "cpu_number": true, "current_task": true, "pcpu_hot": true,
	"irq_stat": true, "this_cpu_off": true}

// knownVarType is the type knownVars declares for name, or an error saying
// what BTF lacks.
func (t *Types) knownVarType(name string) (godwarf.Type, error) {
	b := t.btf
	b.mu.Lock()
	typ, ok := b.known[name]
	b.mu.Unlock()
	if ok {
		return typ, nil
	}
	decl := knownVars[name]
	if decl == "" {
		return nil, fmt.Errorf("no type for variable %q: the kernel's BTF has the types of per-cpu variables only, and gocrash does not know this one's declaration (give the vmlinux for it)", name)
	}
	typ, err := t.parseDecl(name, decl)
	if err != nil {
		return nil, fmt.Errorf("variable %s (%s): %w", name, decl, err)
	}
	b.mu.Lock()
	b.known[name] = typ
	b.mu.Unlock()
	return typ, nil
}

// gccBaseNames are the names gcc (and so pahole) gives the C base types
// spelled otherwise in the declarations above.
var gccBaseNames = map[string]string{
	"unsigned long":      "long unsigned int",
	"long":               "long int",
	"unsigned":           "unsigned int",
	"unsigned char":      "unsigned char",
	"unsigned short":     "short unsigned int",
	"short":              "short int",
	"long long":          "long long int",
	"unsigned long long": "long long unsigned int",
}

// parseDecl turns a knownVars declaration into a type: a type name,
// qualifiers, '*'s, then array dimensions.
func (t *Types) parseDecl(name, decl string) (godwarf.Type, error) {
	base, dims, _ := strings.Cut(decl, "[")
	if dims != "" {
		dims = "[" + dims
	}
	base = strings.TrimSpace(base)
	ptrs := 0
	var quals []string
	for {
		switch {
		case strings.HasSuffix(base, "*"):
			base = strings.TrimSpace(strings.TrimSuffix(base, "*"))
			ptrs++
			continue
		case strings.HasSuffix(base, " const"):
			base = strings.TrimSuffix(base, " const")
			quals = append(quals, "const")
			continue
		}
		break
	}
	var baseQuals []string
	for _, q := range []string{"const ", "volatile "} {
		if b, ok := strings.CutPrefix(base, q); ok {
			base, baseQuals = b, append(baseQuals, strings.TrimSpace(q))
		}
	}
	if gcc, ok := gccBaseNames[base]; ok {
		base = gcc
	}
	var typ godwarf.Type = &godwarf.VoidType{}
	if base != "void" {
		var err error
		if typ, err = t.Lookup(base); err != nil {
			return nil, err
		}
	}
	for _, q := range baseQuals {
		typ = &godwarf.QualType{CommonType: godwarf.CommonType{ByteSize: -1}, Qual: q, Type: typ}
	}
	for range ptrs {
		typ = &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: typ}
	}
	for _, q := range quals {
		typ = &godwarf.QualType{CommonType: godwarf.CommonType{ByteSize: -1}, Qual: q, Type: typ}
	}
	// Dimensions apply outermost first: T x[A][B] is an array of A arrays
	// of B.
	var counts []int64
	for dims != "" {
		end := strings.IndexByte(dims, ']')
		if !strings.HasPrefix(dims, "[") || end < 0 {
			return nil, fmt.Errorf("bad array dimension %q", dims)
		}
		expr := strings.TrimSpace(dims[1:end])
		dims = strings.TrimSpace(dims[end+1:])
		n, err := t.dimension(name, expr, typ, len(counts) == 0 && dims == "")
		if err != nil {
			return nil, err
		}
		counts = append(counts, n)
	}
	for i := len(counts) - 1; i >= 0; i-- {
		es, _ := t.Size(typ)
		arr := godwarf.Type(&godwarf.ArrayType{CommonType: godwarf.CommonType{ByteSize: -1}, Type: typ, Count: counts[i], StrideBitSize: 8 * es})
		if q, ok := typ.(*godwarf.QualType); ok && q.Qual == "const" {
			// gcc qualifies an array of const elements const too.
			arr = &godwarf.QualType{CommonType: godwarf.CommonType{ByteSize: -1}, Qual: "const", Type: arr}
		}
		typ = arr
	}
	return typ, nil
}

// dimension evaluates an array bound: empty (the symbol's extent), a
// number, an enumerator, or "ENUMERATOR + N".
func (t *Types) dimension(name, expr string, elem godwarf.Type, only bool) (int64, error) {
	if expr == "" || expr == "*" {
		es, err := t.Size(elem)
		if err != nil || es <= 0 || t.btf.arrayLen == nil || !only {
			return -1, nil
		}
		if expr == "*" {
			// Entries may be NULL: no trimming, the whole extent.
			elem = nil
		}
		if n := t.btf.arrayLen(name, elem, es); n > 0 {
			return n, nil
		}
		return -1, nil
	}
	var sum int64
	for _, term := range strings.Split(expr, "+") {
		term = strings.TrimSpace(term)
		var v int64
		if _, err := fmt.Sscan(term, &v); err != nil {
			e, err := t.Enumerator(term)
			if err != nil {
				return 0, fmt.Errorf("array bound %s: %w", term, err)
			}
			v = e
		}
		sum += v
	}
	return sum, nil
}
