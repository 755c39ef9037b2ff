package gdbfmt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// crash 8.0.6 sets gdb's print elements to 256 and its repeat threshold
// to 0x7fffffff (gdb_interface.c), so runs are never folded into
// "<repeats N times>"; gdb's max-depth stays at its default of 20.
const (
	DefaultPrintMax = 256
	DefaultMaxDepth = 20
)

// A Printer prints values as gdb's print does with "set print pretty on".
type Printer struct {
	Types *symbols.Types
	// Symbol names the address a pointer holds, for gdb's " <name+off>";
	// nil prints none.
	Symbol func(addr uint64) (name string, off uint64, ok bool)
	// Mem is read for the string a char pointer points to; nil prints
	// the pointer alone.
	Mem symbols.Memory
	// Hex prints integers in hexadecimal (crash's output radix 16, struct
	// -x and p -x); pointers, enums and strings are printed the same.
	Hex bool
	// Format is gdb's print/FMT letter, 'x', 'd', 'u', 'o', 't', 'z', 'c'
	// or 'a' (0: none): every scalar - integer, char, bool, enum,
	// pointer - as a number in that format, with no <symbol> (but for
	// 'a'), no character (but for 'c') and no string.
	Format byte
	// PrintMax bounds the elements of an array and the characters of a
	// string (0: DefaultPrintMax); MaxDepth the nesting of structs and
	// arrays before "{...}" (0: DefaultMaxDepth).
	PrintMax int
	MaxDepth int

	flagEnums map[*godwarf.EnumType]bool
}

func (p *Printer) printMax() int {
	if p.PrintMax > 0 {
		return p.PrintMax
	}
	return DefaultPrintMax
}

func (p *Printer) maxDepth() int {
	if p.MaxDepth > 0 {
		return p.MaxDepth
	}
	return DefaultMaxDepth
}

func (p *Printer) resolve(typ godwarf.Type) godwarf.Type {
	if p.Types != nil {
		if rt, err := p.Types.Resolve(typ); err == nil {
			return rt
		}
	}
	for range 64 {
		switch tt := typ.(type) {
		case *godwarf.TypedefType:
			typ = tt.Type
		case *godwarf.QualType:
			typ = tt.Type
		default:
			return typ
		}
	}
	return typ
}

func (p *Printer) size(typ godwarf.Type) int64 {
	if p.Types != nil {
		if n, err := p.Types.Size(typ); err == nil {
			return n
		}
		return -1
	}
	return typ.Size()
}

// Value appends to b the value of type typ held in data (at least sizeof
// typ bytes; fewer print as an error) that lives at addr, at nesting level
// recurse (0 for a value printed on its own).
func (p *Printer) Value(b *bytes.Buffer, typ godwarf.Type, data []byte, addr uint64, recurse int) {
	rt := p.resolve(typ)
	switch tt := rt.(type) {
	case *godwarf.StructType:
		if recurse >= p.maxDepth() {
			b.WriteString("{...}")
			return
		}
		p.structValue(b, tt, data, addr, recurse)
	case *godwarf.ArrayType:
		p.arrayValue(b, tt, data, addr, recurse)
	case *godwarf.FuncType:
		if p.Format != 0 {
			p.formatted(b, addr, 64, false)
			return
		}
		b.WriteByte('{')
		b.WriteString(TypeName(typ))
		b.WriteString("} ")
		p.address(b, addr)
	case *godwarf.PtrType:
		v, ok := p.uint(data, 8)
		if !ok {
			p.short(b, addr)
			return
		}
		if p.Format != 0 {
			p.formatted(b, v, 64, false)
			return
		}
		p.pointer(b, tt, v)
	case *godwarf.VoidType:
		b.WriteString("void")
	default:
		n := p.size(rt)
		if n <= 0 || n > 8 {
			if ft, ok := rt.(*godwarf.FloatType); ok {
				p.float(b, ft, data)
				return
			}
			fmt.Fprintf(b, "<unsupported type %s>", TypeName(typ))
			return
		}
		v, ok := p.uint(data, n)
		if !ok {
			p.short(b, addr)
			return
		}
		p.Scalar(b, typ, v, int(n*8))
	}
}

func (p *Printer) short(b *bytes.Buffer, addr uint64) {
	fmt.Fprintf(b, "<error: Cannot access memory at address %#x>", addr)
}

func (p *Printer) uint(data []byte, n int64) (uint64, bool) {
	if int64(len(data)) < n || n <= 0 || n > 8 {
		return 0, false
	}
	var raw [8]byte
	copy(raw[:], data[:n])
	return binary.LittleEndian.Uint64(raw[:]), true
}

func (p *Printer) float(b *bytes.Buffer, ft *godwarf.FloatType, data []byte) {
	switch ft.ByteSize {
	case 4:
		if len(data) >= 4 {
			f := math.Float32frombits(binary.LittleEndian.Uint32(data))
			b.WriteString(strconv.FormatFloat(float64(f), 'g', 9, 32))
			return
		}
	case 8:
		if len(data) >= 8 {
			f := math.Float64frombits(binary.LittleEndian.Uint64(data))
			b.WriteString(strconv.FormatFloat(f, 'g', 17, 64))
			return
		}
	}
	fmt.Fprintf(b, "<unsupported type %s>", TypeName(ft))
}

// address prints an address as gdb does after a pointer: 0x... and, when
// it falls in the kernel image, <symbol+offset>.
func (p *Printer) address(b *bytes.Buffer, v uint64) {
	b.WriteString("0x")
	b.WriteString(strconv.FormatUint(v, 16))
	if p.Symbol == nil || v == 0 {
		return
	}
	if name, off, ok := p.Symbol(v); ok {
		b.WriteString(" <")
		b.WriteString(name)
		if off != 0 {
			b.WriteByte('+')
			b.WriteString(strconv.FormatUint(off, 10))
		}
		b.WriteByte('>')
	}
}

// Pointer appends a pointer value of pointer type pt as gdb prints it
// inside a value (no "(type)" prefix).
func (p *Printer) Pointer(b *bytes.Buffer, pt *godwarf.PtrType, v uint64) { p.pointer(b, pt, v) }

func (p *Printer) pointer(b *bytes.Buffer, pt *godwarf.PtrType, v uint64) {
	p.address(b, v)
	if v != 0 && p.textual(pt.Type) {
		b.WriteByte(' ')
		p.stringAt(b, v)
	}
}

// textual reports whether typ is one of gdb's textual element types: a
// one-byte integer (char, signed char, unsigned char and their typedefs).
func (p *Printer) textual(typ godwarf.Type) bool {
	// Typedefs and qualifiers stripped by hand: a struct or union is
	// never textual, and completing the declaration a pointer points to
	// (p.resolve) would decode a type only to learn that.
	for range 64 {
		switch tt := typ.(type) {
		case *godwarf.TypedefType:
			typ = tt.Type
			continue
		case *godwarf.QualType:
			typ = tt.Type
			continue
		case *godwarf.StructType:
			return false
		}
		break
	}
	rt := p.resolve(typ)
	switch rt.(type) {
	case *godwarf.CharType, *godwarf.UcharType:
		return true
	case *godwarf.IntType, *godwarf.UintType:
		return rt.Common().ByteSize == 1
	}
	return false
}

// stringAt prints the NUL-terminated string at addr as gdb's
// val_print_string does: at most PrintMax characters, "..." when it goes on.
func (p *Printer) stringAt(b *bytes.Buffer, addr uint64) {
	if p.Mem == nil {
		return
	}
	max := p.printMax()
	var s []byte
	var err error
	found := false
	for len(s) < max {
		n := min(64-int(addr+uint64(len(s)))%64, max-len(s))
		chunk := make([]byte, n)
		if e := p.Mem.ReadVirt(chunk, addr+uint64(len(s))); e != nil {
			// byte by byte up to the failure
			for i := range n {
				if e := p.Mem.ReadVirt(chunk[i:i+1], addr+uint64(len(s))); e != nil {
					err = e
					break
				}
				if chunk[i] == 0 {
					found = true
					break
				}
				s = append(s, chunk[i])
			}
			break
		}
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			s = append(s, chunk[:i]...)
			found = true
			break
		}
		s = append(s, chunk...)
	}
	force := false
	if err == nil && !found {
		// gdb peeks at the next byte: no ellipsis if it is the NUL.
		var c [1]byte
		if e := p.Mem.ReadVirt(c[:], addr+uint64(len(s))); e != nil || c[0] != 0 {
			force = true
		}
	}
	if len(s) > 0 || err == nil {
		p.printStr(b, s, force, false)
	}
	if err != nil {
		if len(s) > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(b, "<error: Cannot access memory at address %#x>", addr+uint64(len(s)))
	}
}

// printStr prints s as a C string literal (gdb's generic_printstr with
// crash's settings): a trailing NUL dropped unless force, runs of one
// character never folded, at most PrintMax characters counted by whole
// runs, then "..." unless the string was all printed.
func (p *Printer) printStr(b *bytes.Buffer, s []byte, force, dropNUL bool) {
	if dropNUL && !force && len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	if len(s) == 0 {
		b.WriteString(`""`)
		if force {
			b.WriteString("...")
		}
		return
	}
	max := p.printMax()
	b.WriteByte('"')
	esc := false
	i, idx := 0, 0
	for i < max && idx < len(s) {
		r := 1
		for idx+r < len(s) && s[idx+r] == s[idx] {
			r++
		}
		for range r {
			esc = emitChar(b, s[idx], '"', esc)
		}
		idx += r
		i += r
	}
	b.WriteByte('"')
	if force || idx < len(s) {
		b.WriteString("...")
	}
}

// emitChar prints one byte inside quotes (gdb's print_wchar in the C
// locale): the seven C escapes, printable ASCII as itself (backslash and
// the quote escaped), anything else as a three-digit octal escape, and a
// digit right after an octal escape as one too.
func emitChar(b *bytes.Buffer, c byte, quote byte, esc bool) bool {
	switch c {
	case '\a':
		b.WriteString(`\a`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\v':
		b.WriteString(`\v`)
	default:
		if c >= 0x20 && c < 0x7f && !(esc && c >= '0' && c <= '9') {
			if c == quote || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
			return false
		}
		b.WriteByte('\\')
		b.WriteByte('0' + c>>6)
		b.WriteByte('0' + c>>3&7)
		b.WriteByte('0' + c&7)
		return true
	}
	return false
}

// Scalar prints an integer-like value of type typ: raw holds its nbits
// low bits (a bit field's width, or the type's size).
func (p *Printer) Scalar(b *bytes.Buffer, typ godwarf.Type, raw uint64, nbits int) {
	rt := p.resolve(typ)
	size := int(rt.Common().ByteSize)
	if size <= 0 || size > 8 {
		size = 8
	}
	signed := false
	switch rt.(type) {
	case *godwarf.IntType, *godwarf.CharType:
		signed = true
	}
	if nbits > 0 && nbits < 64 {
		raw &= 1<<uint(nbits) - 1
	}
	sv := int64(raw)
	if signed && nbits > 0 && nbits < 64 {
		sv = int64(raw<<uint(64-nbits)) >> uint(64-nbits)
	}
	typeMask := ^uint64(0)
	if size < 8 {
		typeMask = 1<<uint(size*8) - 1
	}
	hex := func() {
		v := raw
		if signed {
			v = uint64(sv) & typeMask
		}
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(v, 16))
	}
	if p.Format != 0 {
		bits := nbits
		if bits <= 0 || bits > size*8 {
			bits = size * 8
		}
		p.formatted(b, raw, bits, signed)
		return
	}
	switch tt := rt.(type) {
	case *godwarf.BoolType:
		if p.Hex {
			hex()
			return
		}
		switch raw {
		case 0:
			b.WriteString("false")
		case 1:
			b.WriteString("true")
		default:
			b.WriteString(strconv.FormatUint(raw, 10))
		}
		return
	case *godwarf.EnumType:
		p.enum(b, tt, raw, sv)
		return
	case *godwarf.PtrType:
		p.pointer(b, tt, raw)
		return
	}
	if p.Hex {
		hex()
		return
	}
	if signed {
		b.WriteString(strconv.FormatInt(sv, 10))
	} else {
		b.WriteString(strconv.FormatUint(raw, 10))
	}
	if p.textual(rt) {
		b.WriteString(" '")
		emitChar(b, byte(raw), '\'', false)
		b.WriteByte('\'')
	}
}

// formatted prints a scalar of nbits bits as gdb's print/FMT does
// (print_scalar_formatted): /x its bits in hexadecimal (a negative value
// as its two's complement at its size), /d as a signed number of that
// size (a pointer, an unsigned int with its top bit set: negative), /u
// unsigned, /o octal with a leading 0, /t binary, /z hexadecimal padded
// to the size, /c as a char (number and character), /a as an address
// with its <symbol>.
func (p *Printer) formatted(b *bytes.Buffer, raw uint64, nbits int, signed bool) {
	if nbits <= 0 || nbits > 64 {
		nbits = 64
	}
	if nbits < 64 {
		raw &= 1<<uint(nbits) - 1
	}
	sv := int64(raw<<uint(64-nbits)) >> uint(64-nbits)
	switch p.Format {
	case 'd':
		b.WriteString(strconv.FormatInt(sv, 10))
	case 'u':
		b.WriteString(strconv.FormatUint(raw, 10))
	case 'o':
		// a leading 0, and 0 alone
		b.WriteByte('0')
		if raw != 0 {
			b.WriteString(strconv.FormatUint(raw, 8))
		}
	case 't':
		b.WriteString(strconv.FormatUint(raw, 2))
	case 'z':
		digits := strconv.FormatUint(raw, 16)
		b.WriteString("0x")
		for i := len(digits); i < (nbits+3)/4; i++ {
			b.WriteByte('0')
		}
		b.WriteString(digits)
	case 'c':
		// the value as a char: its number, then the character
		fmt.Fprintf(b, "%d '", int8(raw))
		emitChar(b, byte(raw), '\'', false)
		b.WriteByte('\'')
	case 'a':
		p.address(b, raw)
	default:
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(raw, 16))
	}
}

// enum prints an enumeration value by name; a value of a "flag enum" (all
// enumerators non-negative and disjoint in their bits) that matches no
// enumerator as (A | B | unknown: 0x..), any other as a number (gdb's
// generic_val_print_enum_1).
func (p *Printer) enum(b *bytes.Buffer, et *godwarf.EnumType, raw uint64, sv int64) {
	unsigned := true
	for _, v := range et.Val {
		if v.Val < 0 {
			unsigned = false
		}
	}
	val := sv
	if unsigned {
		val = int64(raw)
	}
	for _, v := range et.Val {
		if v.Val == val {
			b.WriteString(v.Name)
			return
		}
	}
	if p.isFlagEnum(et) {
		u := uint64(val)
		first := true
		for _, v := range et.Val {
			ev := uint64(v.Val)
			if ev != 0 && u&ev == ev {
				if first {
					b.WriteByte('(')
					first = false
				} else {
					b.WriteString(" | ")
				}
				u &^= ev
				b.WriteString(v.Name)
			}
		}
		switch {
		case u != 0 && first:
			fmt.Fprintf(b, "(unknown: 0x%x)", u)
		case u != 0:
			fmt.Fprintf(b, " | unknown: 0x%x)", u)
		case first:
			b.WriteString("0")
		default:
			b.WriteByte(')')
		}
		return
	}
	if unsigned {
		b.WriteString(strconv.FormatUint(raw, 10))
	} else {
		b.WriteString(strconv.FormatInt(sv, 10))
	}
}

func (p *Printer) isFlagEnum(et *godwarf.EnumType) bool {
	if f, ok := p.flagEnums[et]; ok {
		return f
	}
	flag := true
	var mask uint64
	for _, v := range et.Val {
		if v.Val < 0 {
			flag = false
			break
		}
		u := uint64(v.Val)
		if bits.OnesCount64(u) > 1 || mask&u != 0 {
			flag = false
			break
		}
		mask |= u
	}
	if p.flagEnums == nil {
		p.flagEnums = map[*godwarf.EnumType]bool{}
	}
	p.flagEnums[et] = flag
	return flag
}

func spaces(b *bytes.Buffer, n int) {
	for range n {
		b.WriteByte(' ')
	}
}

func (p *Printer) structValue(b *bytes.Buffer, st *godwarf.StructType, data []byte, addr uint64, recurse int) {
	b.WriteByte('{')
	if len(st.Field) == 0 {
		b.WriteString("<No data fields>}")
		return
	}
	for i, f := range st.Field {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		spaces(b, 2+2*recurse)
		if f.Name != "" {
			b.WriteString(f.Name)
			b.WriteString(" = ")
		}
		p.field(b, f, data, addr, recurse+1)
	}
	b.WriteByte('\n')
	spaces(b, 2*recurse)
	b.WriteByte('}')
}

func (p *Printer) field(b *bytes.Buffer, f *godwarf.StructField, data []byte, addr uint64, recurse int) {
	off := f.ByteOffset
	if f.BitSize > 0 {
		nbytes := (f.BitOffset + f.BitSize + 7) / 8
		if off < 0 || off+nbytes > int64(len(data)) || f.BitSize > 64 {
			p.short(b, addr+uint64(off))
			return
		}
		var raw [16]byte
		copy(raw[:], data[off:off+nbytes])
		lo := binary.LittleEndian.Uint64(raw[:])
		hi := binary.LittleEndian.Uint64(raw[8:])
		v := lo >> uint(f.BitOffset)
		if f.BitOffset > 0 {
			v |= hi << uint(64-f.BitOffset)
		}
		p.Scalar(b, f.Type, v, int(f.BitSize))
		return
	}
	if off < 0 || off > int64(len(data)) {
		p.short(b, addr+uint64(off))
		return
	}
	p.Value(b, f.Type, data[off:], addr+uint64(off), recurse)
}

func (p *Printer) arrayValue(b *bytes.Buffer, at *godwarf.ArrayType, data []byte, addr uint64, recurse int) {
	es := p.size(at.Type)
	if at.Count <= 0 || es <= 0 {
		// An array of unknown or zero length prints as a pointer to its
		// first element (gdb's print_unpacked_pointer).
		if _, ok := p.resolve(at.Type).(*godwarf.FuncType); ok {
			p.address(b, addr)
			return
		}
		p.address(b, addr)
		// The string too, unless a format letter asked for numbers
		// (gdb's c_textual_element_type: print/x linux_banner on 6.1,
		// whose definition is unsized, is its address alone).
		if p.textual(at.Type) && addr != 0 && p.Format == 0 {
			b.WriteByte(' ')
			p.stringAt(b, addr)
		}
		return
	}
	n := at.Count
	if p.textual(at.Type) && es == 1 && p.Format == 0 {
		if int64(len(data)) < n {
			p.short(b, addr)
			return
		}
		p.printStr(b, data[:n], false, true)
		return
	}
	if recurse >= p.maxDepth() {
		b.WriteString("{...}")
		return
	}
	b.WriteByte('{')
	max := int64(p.printMax())
	i := int64(0)
	for ; i < n && i < max; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		off := i * es
		if off+es > int64(len(data)) {
			p.short(b, addr+uint64(off))
			continue
		}
		p.Value(b, at.Type, data[off:off+es], addr+uint64(off), recurse+1)
	}
	if i < n {
		b.WriteString("...")
	}
	b.WriteByte('}')
}
