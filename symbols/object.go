package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Memory is what typed reads read through; *vmcore.KernelSpace satisfies it.
// ReadVirt fills all of p or fails.
type Memory interface {
	ReadVirt(p []byte, addr uint64) error
}

// An Object is a typed kernel object at an address. Creating one, or a
// member of one, reads nothing; the accessors read what they need. After
// Load, the object and its members are served from one buffer.
type Object struct {
	Addr uint64
	Type godwarf.Type
	// Name says what the object is, for error messages: "init_task.comm",
	// "task_struct.se.vruntime".
	Name string

	t   *Types
	mem Memory
	buf []byte // nil, or the object's bytes when loaded

	bitOff, bitSize int64
}

// A ReadError is a failed typed read: which object, of which type, where.
type ReadError struct {
	Name string
	Type string
	Addr uint64
	Err  error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("reading %s (%s) at %#x: %v", e.Name, e.Type, e.Addr, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// ErrNullPointer is returned (wrapped in a ReadError) when dereferencing or
// indexing through a NULL pointer.
var ErrNullPointer = errors.New("NULL pointer")

// maxCString bounds strings read through char pointers.
const maxCString = 4096

// Object returns the object of the named type at addr.
func (t *Types) Object(mem Memory, addr uint64, typeName string) (Object, error) {
	typ, err := t.Lookup(typeName)
	if err != nil {
		return Object{}, err
	}
	return Object{Addr: addr, Type: typ, Name: typeName, t: t, mem: mem}, nil
}

// ObjectOf returns the object of type typ at addr.
func (t *Types) ObjectOf(mem Memory, addr uint64, typ godwarf.Type, name string) Object {
	return Object{Addr: addr, Type: typ, Name: name, t: t, mem: mem}
}

// Var returns the global variable name: its address from the symbol table,
// its type from DWARF. For a per-cpu variable the address is its offset in
// the per-cpu area.
func (t *Types) Var(mem Memory, v *Vmlinux, name string) (Object, error) {
	addr, ok := v.Lookup(name)
	if !ok {
		return Object{}, fmt.Errorf("no symbol %q in %s", name, v.Path())
	}
	typ, err := t.VarType(name)
	if err != nil {
		return Object{}, err
	}
	return Object{Addr: addr, Type: typ, Name: name, t: t, mem: mem}, nil
}

// ContainerOf returns the address of the typeName that embeds member at ptr,
// like the kernel's container_of.
func ContainerOf(ptr uint64, t *Types, typeName, member string) (uint64, error) {
	m, err := t.Member(typeName, member)
	if err != nil {
		return 0, err
	}
	return ptr - uint64(m.Offset), nil
}

func (o Object) errorf(format string, args ...any) error {
	return &ReadError{Name: o.Name, Type: typeName(o.Type), Addr: o.Addr, Err: fmt.Errorf(format, args...)}
}

func (o Object) wrap(err error) error {
	return &ReadError{Name: o.Name, Type: typeName(o.Type), Addr: o.Addr, Err: err}
}

// Size is sizeof the object's type.
func (o Object) Size() int64 {
	if o.t == nil {
		return 0
	}
	n, err := o.t.Size(o.Type)
	if err != nil {
		return 0
	}
	return n
}

// Types returns the type information the object was made from.
func (o Object) Types() *Types { return o.t }

// resolved is the object's type without typedefs and qualifiers.
func (o Object) resolved() (godwarf.Type, error) {
	if o.t == nil {
		return nil, errors.New("object has no type information")
	}
	rt, err := o.t.resolve(o.Type)
	if err != nil {
		return nil, o.wrap(err)
	}
	return rt, nil
}

// read returns n bytes at the object's address: from the loaded buffer if
// it covers them, otherwise from memory.
func (o Object) read(n int64) ([]byte, error) {
	if n < 0 || n > 1<<30 {
		return nil, o.errorf("bad read size %d", n)
	}
	if o.buf != nil && int64(len(o.buf)) >= n {
		return o.buf[:n], nil
	}
	if o.mem == nil {
		return nil, o.errorf("no memory to read from")
	}
	p := make([]byte, n)
	if err := o.mem.ReadVirt(p, o.Addr); err != nil {
		return nil, o.wrap(err)
	}
	return p, nil
}

// Load reads the whole object once; members taken from the result are
// served from that buffer.
func (o Object) Load() (Object, error) {
	rt, err := o.resolved()
	if err != nil {
		return o, err
	}
	n, err := o.t.Size(rt)
	if err != nil {
		return o, o.wrap(err)
	}
	b, err := o.read(n)
	if err != nil {
		return o, err
	}
	o.buf = b
	return o, nil
}

// Bytes returns the object's bytes.
func (o Object) Bytes() ([]byte, error) {
	rt, err := o.resolved()
	if err != nil {
		return nil, err
	}
	n, err := o.t.Size(rt)
	if err != nil {
		return nil, o.wrap(err)
	}
	b, err := o.read(n)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// Member returns the member at path ("se.vruntime", "rss_stat.count[1]").
func (o Object) Member(path string) (Object, error) {
	if o.t == nil {
		return Object{}, errors.New("object has no type information")
	}
	if o.bitSize != 0 {
		return Object{}, o.errorf("bit field has no member %q", path)
	}
	m, err := o.t.walk(o.Type, path)
	if err != nil {
		return Object{}, o.wrap(err)
	}
	sub := Object{Addr: o.Addr + uint64(m.Offset), Type: m.Type, Name: o.Name + "." + path, t: o.t, mem: o.mem,
		bitOff: m.BitOffset, bitSize: m.BitSize}
	if o.buf != nil && m.Offset >= 0 && m.Offset <= int64(len(o.buf)) {
		sub.buf = o.buf[m.Offset:]
		if sz, err := o.t.Size(m.Type); err == nil && sz > 0 && sz <= int64(len(sub.buf)) {
			sub.buf = sub.buf[:sz]
		}
	}
	return sub, nil
}

// scalar reads an integer-like value (integer, char, bool, enum, pointer)
// zero-extended, and whether its type is signed.
func (o Object) scalar() (uint64, bool, int64, error) {
	rt, err := o.resolved()
	if err != nil {
		return 0, false, 0, err
	}
	signed := false
	switch rt.(type) {
	case *godwarf.IntType, *godwarf.CharType, *godwarf.EnumType:
		signed = true
	case *godwarf.UintType, *godwarf.UcharType, *godwarf.BoolType, *godwarf.PtrType, *godwarf.AddrType:
	default:
		return 0, false, 0, o.errorf("not an integer or pointer")
	}
	size := rt.Common().ByteSize
	if size < 1 || size > 8 {
		return 0, false, 0, o.errorf("unsupported integer size %d", size)
	}
	if o.bitSize > 0 {
		if o.bitSize > 64 {
			return 0, false, 0, o.errorf("bit field of %d bits", o.bitSize)
		}
		nbytes := (o.bitOff + o.bitSize + 7) / 8
		b, err := o.read(nbytes)
		if err != nil {
			return 0, false, 0, err
		}
		var raw [16]byte
		copy(raw[:], b)
		lo := binary.LittleEndian.Uint64(raw[:])
		hi := binary.LittleEndian.Uint64(raw[8:])
		v := lo >> uint(o.bitOff)
		if o.bitOff > 0 {
			v |= hi << uint(64-o.bitOff)
		}
		if o.bitSize < 64 {
			v &= 1<<uint(o.bitSize) - 1
		}
		return v, signed, o.bitSize, nil
	}
	b, err := o.read(size)
	if err != nil {
		return 0, false, 0, err
	}
	var raw [8]byte
	copy(raw[:], b)
	return binary.LittleEndian.Uint64(raw[:]), signed, size * 8, nil
}

// Uint returns the value of an integer, char, bool, enum or pointer object
// (bit fields included) as unsigned; signed values are sign-extended first,
// so -1 reads as 0xffffffffffffffff as in C.
func (o Object) Uint() (uint64, error) {
	v, signed, bits, err := o.scalar()
	if err != nil {
		return 0, err
	}
	if signed {
		return uint64(signExtend(v, bits)), nil
	}
	return v, nil
}

// Int returns the value of an integer-like object; signed types are
// sign-extended, unsigned ones are not.
func (o Object) Int() (int64, error) {
	v, signed, bits, err := o.scalar()
	if err != nil {
		return 0, err
	}
	if signed {
		return signExtend(v, bits), nil
	}
	return int64(v), nil
}

func signExtend(v uint64, bits int64) int64 {
	if bits >= 64 || bits <= 0 {
		return int64(v)
	}
	shift := uint(64 - bits)
	return int64(v<<shift) >> shift
}

// Bool reports whether an integer-like object is non-zero.
func (o Object) Bool() (bool, error) {
	v, _, _, err := o.scalar()
	return v != 0, err
}

// Pointer returns the value of a pointer, or of an integer wide enough to
// hold one (unsigned long fields that store addresses).
func (o Object) Pointer() (uint64, error) {
	rt, err := o.resolved()
	if err != nil {
		return 0, err
	}
	switch rt.(type) {
	case *godwarf.PtrType, *godwarf.UintType, *godwarf.IntType, *godwarf.AddrType:
		if rt.Common().ByteSize != 8 && o.bitSize == 0 {
			return 0, o.errorf("not pointer-sized")
		}
		v, _, _, err := o.scalar()
		return v, err
	}
	return 0, o.errorf("not a pointer")
}

// Deref follows a pointer.
func (o Object) Deref() (Object, error) {
	rt, err := o.resolved()
	if err != nil {
		return Object{}, err
	}
	pt, ok := rt.(*godwarf.PtrType)
	if !ok {
		return Object{}, o.errorf("cannot dereference a non-pointer")
	}
	if _, void := pt.Type.(*godwarf.VoidType); void || pt.Type == nil {
		return Object{}, o.errorf("cannot dereference a void pointer")
	}
	p, err := o.Pointer()
	if err != nil {
		return Object{}, err
	}
	if p == 0 {
		return Object{}, o.wrap(ErrNullPointer)
	}
	return Object{Addr: p, Type: pt.Type, Name: "*" + o.Name, t: o.t, mem: o.mem}, nil
}

// Len returns the element count of an array (0 for flexible arrays).
func (o Object) Len() int {
	rt, err := o.resolved()
	if err != nil {
		return 0
	}
	if at, ok := rt.(*godwarf.ArrayType); ok && at.Count > 0 {
		return int(at.Count)
	}
	return 0
}

// Index returns element i of an array, or *(p+i) for a pointer p.
// Flexible arrays (x[]) are not bounds-checked.
func (o Object) Index(i int) (Object, error) {
	rt, err := o.resolved()
	if err != nil {
		return Object{}, err
	}
	if i < 0 {
		return Object{}, o.errorf("negative index %d", i)
	}
	name := fmt.Sprintf("%s[%d]", o.Name, i)
	switch tt := rt.(type) {
	case *godwarf.ArrayType:
		if tt.Count > 0 && int64(i) >= tt.Count {
			return Object{}, o.errorf("index %d out of range [0,%d)", i, tt.Count)
		}
		es, err := o.t.Size(tt.Type)
		if err != nil {
			return Object{}, o.wrap(err)
		}
		off := int64(i) * es
		el := Object{Addr: o.Addr + uint64(off), Type: tt.Type, Name: name, t: o.t, mem: o.mem}
		if o.buf != nil && off+es <= int64(len(o.buf)) {
			el.buf = o.buf[off : off+es]
		}
		return el, nil
	case *godwarf.PtrType:
		if _, void := tt.Type.(*godwarf.VoidType); void {
			return Object{}, o.errorf("cannot index a void pointer")
		}
		p, err := o.Pointer()
		if err != nil {
			return Object{}, err
		}
		if p == 0 {
			return Object{}, o.wrap(ErrNullPointer)
		}
		es, err := o.t.Size(tt.Type)
		if err != nil {
			return Object{}, o.wrap(err)
		}
		return Object{Addr: p + uint64(int64(i)*es), Type: tt.Type, Name: name, t: o.t, mem: o.mem}, nil
	}
	return Object{}, o.errorf("cannot index a non-array")
}

func isCharType(t *Types, typ godwarf.Type) bool {
	rt, err := t.resolve(typ)
	if err != nil {
		return false
	}
	switch rt.(type) {
	case *godwarf.CharType, *godwarf.UcharType:
		return true
	case *godwarf.IntType, *godwarf.UintType:
		return rt.Common().ByteSize == 1 // u8, s8 typedefs of (un)signed char
	}
	return false
}

// CString returns a char array's contents up to the first NUL, or the
// NUL-terminated string a char pointer points to (at most 4096 bytes).
func (o Object) CString() (string, error) {
	rt, err := o.resolved()
	if err != nil {
		return "", err
	}
	switch tt := rt.(type) {
	case *godwarf.ArrayType:
		if !isCharType(o.t, tt.Type) {
			return "", o.errorf("not a char array")
		}
		n := max(tt.Count, 0)
		b, err := o.read(n)
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b), nil
	case *godwarf.PtrType:
		if !isCharType(o.t, tt.Type) {
			return "", o.errorf("not a char pointer")
		}
		p, err := o.Pointer()
		if err != nil {
			return "", err
		}
		if p == 0 {
			return "", o.wrap(ErrNullPointer)
		}
		s, err := ReadCString(o.mem, p, maxCString)
		if err != nil {
			return "", o.wrap(err)
		}
		return s, nil
	}
	return "", o.errorf("not a char array or char pointer")
}

// CString is the text of a fixed char array: b up to its first NUL (all
// of b without one).
func CString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// ReadCString reads a NUL-terminated string of at most max bytes at addr.
// It reads in small aligned pieces and, when a piece cannot be read (the
// string ends just before an unreadable page or region), falls back to
// single bytes, so only the bytes of the string itself must be readable.
// On a read error it returns what it read so far along with the error.
func ReadCString(mem Memory, addr uint64, max int) (string, error) {
	var out []byte
	bytewise := false
	for len(out) < max {
		n := min(256-int(addr%256), max-len(out))
		if bytewise {
			n = 1
		}
		p := make([]byte, n)
		if err := mem.ReadVirt(p, addr); err != nil {
			if n > 1 {
				bytewise = true
				continue
			}
			return string(out), err
		}
		if i := bytes.IndexByte(p, 0); i >= 0 {
			return string(append(out, p[:i]...)), nil
		}
		out = append(out, p...)
		addr += uint64(n)
	}
	return string(out), nil
}
