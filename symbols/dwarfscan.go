package symbols

import (
	"bytes"
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
)

// This file is a hand-written scanner for the top level of .debug_info,
// used to build the name index of a linked vmlinux. debug/dwarf's Reader
// decodes every attribute of every entry into freshly allocated Entry and
// Field values; a distribution kernel has tens of millions of DIEs, and the
// index needs only the name, declaration flag, type reference and sibling
// of the entries directly under each compile unit (plus enumerator values).
// Walking the abbreviation tables and skipping attribute bytes by form is
// several times faster and allocates only for names not seen before.
// Relocatable objects (.o) still go through debug/dwarf, which applies
// their relocations.

type dwarfSections struct {
	info, abbrev, str, lineStr, strOffsets []byte
	// build makes a dwarf.Data over info or a prefix of it (types.go).
	build func(info []byte) (*dwarf.Data, error)
	// mapped: info is the file's mapping itself (not a decompressed copy),
	// so its pages may be dropped from the resident set (dontNeed).
	mapped bool
	// file holds info at infoOff, when mapped (unitWindow maps units
	// from it).
	file    *os.File
	infoOff int64
}

const (
	formAddr          = 0x01
	formBlock2        = 0x03
	formBlock4        = 0x04
	formData2         = 0x05
	formData4         = 0x06
	formData8         = 0x07
	formString        = 0x08
	formBlock         = 0x09
	formBlock1        = 0x0a
	formData1         = 0x0b
	formFlag          = 0x0c
	formSdata         = 0x0d
	formStrp          = 0x0e
	formUdata         = 0x0f
	formRefAddr       = 0x10
	formRef1          = 0x11
	formRef2          = 0x12
	formRef4          = 0x13
	formRef8          = 0x14
	formRefUdata      = 0x15
	formIndirect      = 0x16
	formSecOffset     = 0x17
	formExprloc       = 0x18
	formFlagPresent   = 0x19
	formStrx          = 0x1a
	formAddrx         = 0x1b
	formRefSup4       = 0x1c
	formStrpSup       = 0x1d
	formData16        = 0x1e
	formLineStrp      = 0x1f
	formRefSig8       = 0x20
	formImplicitConst = 0x21
	formLoclistx      = 0x22
	formRnglistx      = 0x23
	formRefSup8       = 0x24
	formStrx1         = 0x25
	formStrx2         = 0x26
	formStrx3         = 0x27
	formStrx4         = 0x28
	formAddrx1        = 0x29
	formAddrx2        = 0x2a
	formAddrx3        = 0x2b
	formAddrx4        = 0x2c
	formGNUAddrIndex  = 0x1f01
	formGNUStrIndex   = 0x1f02
	formGNURefAlt     = 0x1f20
	formGNUStrpAlt    = 0x1f21
)

type abbrevAttr struct {
	attr, form uint32
	implicit   int64
}

type abbrev struct {
	tag      dwarf.Tag
	children bool
	attrs    []abbrevAttr
}

// cursor reads little-endian DWARF data; running off the end sets bad
// instead of panicking.
type cursor struct {
	b   []byte
	pos int
	bad bool
}

func (c *cursor) u8() uint8 {
	if c.pos >= len(c.b) {
		c.bad = true
		return 0
	}
	v := c.b[c.pos]
	c.pos++
	return v
}

func (c *cursor) fixed(n int) uint64 {
	if n > len(c.b)-c.pos || c.pos > len(c.b) {
		c.bad = true
		c.pos = len(c.b)
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(c.b[c.pos+i])
	}
	c.pos += n
	return v
}

func (c *cursor) skip(n uint64) {
	if n > uint64(len(c.b)-c.pos) {
		c.bad = true
		c.pos = len(c.b)
		return
	}
	c.pos += int(n)
}

func (c *cursor) uleb() uint64 {
	var v uint64
	var shift uint
	for c.pos < len(c.b) {
		b := c.b[c.pos]
		c.pos++
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			return v
		}
	}
	c.bad = true
	return v
}

func (c *cursor) sleb() int64 {
	var v int64
	var shift uint
	for c.pos < len(c.b) {
		b := c.b[c.pos]
		c.pos++
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
	c.bad = true
	return v
}

// cstr returns the NUL-terminated bytes at the cursor.
func (c *cursor) cstr() []byte {
	start := c.pos
	if i := bytes.IndexByte(c.b[start:], 0); i >= 0 {
		c.pos = start + i + 1
		return c.b[start : start+i]
	}
	c.bad = true
	c.pos = len(c.b)
	return nil
}

func cstrAt(b []byte, off uint64) []byte {
	if off >= uint64(len(b)) {
		return nil
	}
	s := b[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return nil
}

// abbrevTable maps abbreviation codes to abbreviations. gcc numbers them
// densely from 1, so a slice serves; sparse codes fall back to a map.
type abbrevTable struct {
	dense  []*abbrev
	sparse map[uint64]*abbrev
}

func (t *abbrevTable) get(code uint64) *abbrev {
	if code < uint64(len(t.dense)) {
		return t.dense[code]
	}
	return t.sparse[code]
}

func parseAbbrevs(data []byte, off uint64) (*abbrevTable, error) {
	if off >= uint64(len(data)) {
		return nil, fmt.Errorf(".debug_abbrev offset %#x beyond section (%d bytes)", off, len(data))
	}
	c := cursor{b: data, pos: int(off)}
	t := &abbrevTable{}
	var all []abbrevAttr // one backing array for the whole table
	var list []*abbrev
	var spans [][2]int
	for {
		code := c.uleb()
		if c.bad {
			return nil, fmt.Errorf(".debug_abbrev at %#x: truncated", off)
		}
		if code == 0 {
			break
		}
		a := &abbrev{tag: dwarf.Tag(c.uleb()), children: c.u8() != 0}
		start := len(all)
		for {
			attr, form := c.uleb(), c.uleb()
			if c.bad {
				return nil, fmt.Errorf(".debug_abbrev at %#x: truncated in code %d", off, code)
			}
			var implicit int64
			if form == formImplicitConst {
				implicit = c.sleb()
			}
			if attr == 0 && form == 0 {
				break
			}
			all = append(all, abbrevAttr{attr: uint32(attr), form: uint32(form), implicit: implicit})
		}
		list = append(list, a)
		spans = append(spans, [2]int{start, len(all)})
		if code < 1<<16 {
			for uint64(len(t.dense)) <= code {
				t.dense = append(t.dense, nil)
			}
			t.dense[code] = a
		} else {
			if t.sparse == nil {
				t.sparse = map[uint64]*abbrev{}
			}
			t.sparse[code] = a
		}
	}
	for i, a := range list {
		a.attrs = all[spans[i][0]:spans[i][1]:spans[i][1]]
	}
	return t, nil
}

// unitHeader is what the scanner needs from a unit header.
type unitHeader struct {
	off, end   uint64 // unit start (the length field) and end in .debug_info
	dieOff     uint64 // first DIE
	version    int
	offsetSize int
	addrSize   int
	abbrevOff  uint64
}

func parseUnits(info []byte) ([]unitHeader, error) { return parseUnitsNotify(info, nil) }

// parseUnitsNotify is parseUnits calling done(off) now and then with the
// offset of the bytes read so far (for lazyIndex, which lets them go).
func parseUnitsNotify(info []byte, done func(off uint64)) ([]unitHeader, error) {
	var units []unitHeader
	le := binary.LittleEndian
	for off := uint64(0); off < uint64(len(info)); {
		if done != nil && len(units)%64 == 0 {
			done(off)
		}
		rest := info[off:]
		if len(rest) < 4 {
			return nil, fmt.Errorf(".debug_info unit at %#x: truncated length", off)
		}
		u := unitHeader{off: off, offsetSize: 4}
		length := uint64(le.Uint32(rest))
		hdr := uint64(4)
		if length == 0xffffffff {
			if len(rest) < 12 {
				return nil, fmt.Errorf(".debug_info unit at %#x: truncated 64-bit length", off)
			}
			length = le.Uint64(rest[4:])
			hdr = 12
			u.offsetSize = 8
		} else if length >= 0xfffffff0 {
			return nil, fmt.Errorf(".debug_info unit at %#x: reserved length %#x", off, length)
		}
		if length > uint64(len(rest))-hdr {
			return nil, fmt.Errorf(".debug_info unit at %#x: length %#x runs past the section end", off, length)
		}
		u.end = off + hdr + length
		c := cursor{b: info[:u.end], pos: int(off + hdr)}
		u.version = int(c.fixed(2))
		switch {
		case u.version >= 2 && u.version <= 4:
			u.abbrevOff = c.fixed(u.offsetSize)
			u.addrSize = int(c.u8())
		case u.version == 5:
			utype := c.u8()
			u.addrSize = int(c.u8())
			u.abbrevOff = c.fixed(u.offsetSize)
			switch utype {
			case 0x04, 0x05: // DW_UT_skeleton, DW_UT_split_compile
				c.skip(8)
			case 0x02, 0x06: // DW_UT_type, DW_UT_split_type
				c.skip(8 + uint64(u.offsetSize))
			}
		default:
			return nil, fmt.Errorf(".debug_info unit at %#x: unsupported DWARF version %d", off, u.version)
		}
		if c.bad {
			return nil, fmt.Errorf(".debug_info unit at %#x: truncated header", off)
		}
		u.dieOff = uint64(c.pos)
		units = append(units, u)
		off = u.end
	}
	return units, nil
}

// fastIndex builds the name index with one worker per core.
func fastIndex(sec dwarfSections) (*nameIndex, error) {
	units, err := parseUnits(sec.info)
	if err != nil {
		return nil, err
	}
	return indexUnits(len(units), func() (*nameIndex, func(i int) error) {
		s := scanner{sec: sec, x: newNameIndex(), abbrevs: map[uint64]*abbrevTable{}, units: units}
		return s.x, func(i int) error { return s.unit(units[i]) }
	})
}

type scanner struct {
	sec     dwarfSections
	x       *nameIndex
	abbrevs map[uint64]*abbrevTable // by .debug_abbrev offset

	u             unitHeader
	strOffsetBase uint64
	unitVars      map[uint64]varDecl // this unit's named variables, for DW_AT_specification
	units         []unitHeader       // every unit, by offset: for references into other units
}

// varIn decodes the named variable DIE at off in another unit. dwz moves
// the extern declarations many units share into partial units; a unit's
// definition then names its declaration with a DW_FORM_ref_addr into one of
// those (on the 6.1 test-bed vmlinux: 519 of the 1,508 sized global
// variables, `readelf --debug-dump=info`).
func (s *scanner) varIn(off uint64) (varDecl, bool) {
	i, _ := slices.BinarySearchFunc(s.units, off, func(u unitHeader, off uint64) int {
		if u.end <= off {
			return -1
		}
		if u.off > off {
			return 1
		}
		return 0
	})
	if i >= len(s.units) || off < s.units[i].dieOff || off >= s.units[i].end || s.units[i].off == s.u.off {
		return varDecl{}, false
	}
	saved, savedBase := s.u, s.strOffsetBase
	defer func() { s.u, s.strOffsetBase = saved, savedBase }()
	abbrevs, c, children, err := s.enter(s.units[i])
	if err != nil || !children {
		return varDecl{}, false
	}
	c.pos = int(off)
	ab := abbrevs.get(c.uleb())
	if ab == nil || ab.tag != dwarf.TagVariable {
		return varDecl{}, false
	}
	var d dieAttrs
	for _, a := range ab.attrs {
		s.attr(&c, a, &d)
	}
	if c.bad || len(d.name) == 0 {
		return varDecl{}, false
	}
	return varDecl{d.name, d.typ, d.hasType}, true
}

type varDecl struct {
	name    []byte
	typ     dwarf.Offset
	hasType bool
}

// dieAttrs are the attributes the index wants from one DIE.
type dieAttrs struct {
	name      []byte
	decl      bool
	typ       dwarf.Offset
	hasType   bool
	sibling   uint64
	spec      uint64 // DW_AT_specification
	inherited bool   // type taken from the declaration spec points to
	constVal  int64
	hasConst  bool
}

// enter makes u the current unit: its abbreviations and string offsets
// base, and a cursor just past its unit DIE. children is false when the unit
// DIE has nothing under it.
func (s *scanner) enter(u unitHeader) (abbrevs *abbrevTable, c cursor, children bool, err error) {
	abbrevs, ok := s.abbrevs[u.abbrevOff]
	if !ok {
		abbrevs, err = parseAbbrevs(s.sec.abbrev, u.abbrevOff)
		if err != nil {
			return nil, c, false, fmt.Errorf("unit at %#x: %w", u.off, err)
		}
		s.abbrevs[u.abbrevOff] = abbrevs
	}
	s.u = u
	s.strOffsetBase = 8 // DWARF 5 default: just past the str_offsets header
	if u.offsetSize == 8 {
		s.strOffsetBase = 16
	}
	c = cursor{b: s.sec.info[:u.end], pos: int(u.dieOff)}

	// The unit DIE: only DW_AT_str_offsets_base matters.
	code := c.uleb()
	if code == 0 {
		return abbrevs, c, false, nil
	}
	cuAbbrev := abbrevs.get(code)
	if cuAbbrev == nil {
		return nil, c, false, fmt.Errorf("DIE at %#x: unknown abbreviation code %d", c.pos, code)
	}
	for _, a := range cuAbbrev.attrs {
		if a.attr == 0x72 { // DW_AT_str_offsets_base
			s.strOffsetBase = s.value(&c, uint64(a.form))
		} else {
			s.skipForm(&c, uint64(a.form))
		}
	}
	return abbrevs, c, cuAbbrev.children, nil
}

func (s *scanner) unit(u unitHeader) error {
	if s.unitVars == nil {
		s.unitVars = map[uint64]varDecl{}
	}
	clear(s.unitVars)
	abbrevs, c, children, err := s.enter(u)
	if err != nil || !children {
		return err
	}
	depth := 1
	inEnum := false
	var d dieAttrs
	for c.pos < len(c.b) && !c.bad {
		dieOff := uint64(c.pos)
		code := c.uleb()
		if code == 0 {
			depth--
			if depth == 0 {
				return nil
			}
			if depth == 1 {
				inEnum = false
			}
			continue
		}
		ab := abbrevs.get(code)
		if ab == nil {
			return fmt.Errorf("DIE at %#x: unknown abbreviation code %d", dieOff, code)
		}
		interesting := depth == 1 || (inEnum && depth == 2 && ab.tag == dwarf.TagEnumerator)
		if !interesting {
			for _, a := range ab.attrs {
				s.skipForm(&c, uint64(a.form))
			}
			if ab.children {
				depth++
			}
			continue
		}
		d = dieAttrs{}
		for _, a := range ab.attrs {
			s.attr(&c, a, &d)
		}
		if c.bad {
			break
		}
		s.record(ab.tag, dwarf.Offset(dieOff), &d)
		if !ab.children {
			continue
		}
		switch {
		case depth == 1 && ab.tag == dwarf.TagEnumerationType:
			inEnum = true
			depth++
		case depth == 1 && d.sibling > dieOff && d.sibling <= u.end:
			c.pos = int(d.sibling)
		default:
			depth++
		}
	}
	if c.bad {
		return fmt.Errorf("unit at %#x: truncated DIE data", u.off)
	}
	return nil
}

func (s *scanner) record(tag dwarf.Tag, off dwarf.Offset, d *dieAttrs) {
	x := s.x
	if tag == dwarf.TagVariable {
		if len(d.name) > 0 {
			s.unitVars[uint64(off)] = varDecl{d.name, d.typ, d.hasType}
		} else if d.spec != 0 {
			// The definition of a variable declared earlier in the unit
			// (extern in a header): the name is on the declaration, the
			// type here when it is more complete (char x[] → char x[N]).
			decl, ok := s.unitVars[d.spec]
			if !ok {
				decl, ok = s.varIn(d.spec)
			}
			if !ok {
				return
			}
			d.name = decl.name
			if !d.hasType {
				d.typ, d.hasType = decl.typ, decl.hasType
				d.inherited = true
			}
		}
	}
	if len(d.name) == 0 {
		return
	}
	ref := dieRef{off: off, decl: d.decl}
	var m map[string]dieRef
	switch tag {
	case dwarf.TagStructType:
		m = x.structs
	case dwarf.TagUnionType:
		m = x.unions
	case dwarf.TagEnumerationType:
		m = x.enums
	case dwarf.TagTypedef:
		m = x.typedefs
	case dwarf.TagBaseType:
		m = x.bases
	case dwarf.TagVariable:
		if !d.hasType {
			return
		}
		m = x.vars
		ref.off = d.typ
		ref.inherited = d.inherited
		if !d.decl {
			putFirstDef(x.varDefs, string(d.name), off, ref)
		}
	case dwarf.TagEnumerator:
		if d.hasConst {
			if old, ok := x.enumerators[string(d.name)]; !ok || off < old.off {
				x.enumerators[string(d.name)] = enumVal{d.constVal, off}
			}
		}
		return
	default:
		return
	}
	// m[string(b)] does not allocate; only new names cost a string.
	if old, ok := m[string(d.name)]; !ok || ref.better(old) {
		m[string(d.name)] = ref
	}
}

// attr decodes one attribute, keeping the ones the index needs.
func (s *scanner) attr(c *cursor, a abbrevAttr, d *dieAttrs) {
	form := uint64(a.form)
	if form == formIndirect {
		form = c.uleb()
	}
	switch a.attr {
	case 0x03: // DW_AT_name
		d.name = s.str(c, form)
	case 0x3c: // DW_AT_declaration
		switch form {
		case formFlagPresent:
			d.decl = true
		case formFlag:
			d.decl = c.u8() != 0
		default:
			s.skipForm(c, form)
		}
	case 0x49: // DW_AT_type
		if off, ok := s.ref(c, form); ok {
			d.typ, d.hasType = dwarf.Offset(off), true
		}
	case 0x01: // DW_AT_sibling
		if off, ok := s.ref(c, form); ok {
			d.sibling = off
		}
	case 0x47: // DW_AT_specification
		if off, ok := s.ref(c, form); ok {
			d.spec = off
		}
	case 0x1c: // DW_AT_const_value
		switch form {
		case formSdata:
			d.constVal, d.hasConst = c.sleb(), true
		case formImplicitConst:
			d.constVal, d.hasConst = a.implicit, true
		case formData1, formData2, formData4, formData8, formUdata:
			// Zero-extended, as debug/dwarf (and so godwarf) reads them.
			d.constVal, d.hasConst = int64(s.value(c, form)), true
		default:
			s.skipForm(c, form)
		}
	default:
		s.skipForm(c, form)
	}
}

// ref reads a reference as a .debug_info offset.
func (s *scanner) ref(c *cursor, form uint64) (uint64, bool) {
	switch form {
	case formRef1, formRef2, formRef4, formRef8, formRefUdata:
		return s.u.off + s.value(c, form), true
	case formRefAddr:
		return s.value(c, form), true
	}
	s.skipForm(c, form)
	return 0, false
}

// str reads a string-valued attribute.
func (s *scanner) str(c *cursor, form uint64) []byte {
	switch form {
	case formString:
		return c.cstr()
	case formStrp:
		return cstrAt(s.sec.str, c.fixed(s.u.offsetSize))
	case formLineStrp:
		return cstrAt(s.sec.lineStr, c.fixed(s.u.offsetSize))
	case formStrx, formStrx1, formStrx2, formStrx3, formStrx4, formGNUStrIndex:
		idx := s.value(c, form)
		p := s.strOffsetBase + idx*uint64(s.u.offsetSize)
		if p < s.strOffsetBase || p+uint64(s.u.offsetSize) > uint64(len(s.sec.strOffsets)) {
			return nil
		}
		oc := cursor{b: s.sec.strOffsets, pos: int(p)}
		return cstrAt(s.sec.str, oc.fixed(s.u.offsetSize))
	}
	s.skipForm(c, form)
	return nil
}

// value reads a constant, reference or offset form as an unsigned number.
func (s *scanner) value(c *cursor, form uint64) uint64 {
	switch form {
	case formData1, formRef1, formFlag, formStrx1, formAddrx1:
		return uint64(c.u8())
	case formData2, formRef2, formStrx2, formAddrx2:
		return c.fixed(2)
	case formStrx3, formAddrx3:
		return c.fixed(3)
	case formData4, formRef4, formRefSup4, formStrx4, formAddrx4:
		return c.fixed(4)
	case formData8, formRef8, formRefSig8, formRefSup8:
		return c.fixed(8)
	case formUdata, formRefUdata, formStrx, formAddrx, formLoclistx, formRnglistx, formGNUAddrIndex, formGNUStrIndex:
		return c.uleb()
	case formSdata:
		return uint64(c.sleb())
	case formSecOffset, formStrp, formLineStrp, formStrpSup, formGNURefAlt, formGNUStrpAlt:
		return c.fixed(s.u.offsetSize)
	case formRefAddr:
		if s.u.version <= 2 {
			return c.fixed(s.u.addrSize)
		}
		return c.fixed(s.u.offsetSize)
	case formAddr:
		return c.fixed(s.u.addrSize)
	}
	s.skipForm(c, form)
	return 0
}

// skipForm steps over one attribute value.
func (s *scanner) skipForm(c *cursor, form uint64) {
	switch form {
	case formFlagPresent, formImplicitConst:
	case formData1, formRef1, formFlag, formStrx1, formAddrx1:
		c.skip(1)
	case formData2, formRef2, formStrx2, formAddrx2:
		c.skip(2)
	case formStrx3, formAddrx3:
		c.skip(3)
	case formData4, formRef4, formRefSup4, formStrx4, formAddrx4:
		c.skip(4)
	case formData8, formRef8, formRefSig8, formRefSup8:
		c.skip(8)
	case formData16:
		c.skip(16)
	case formUdata, formRefUdata, formStrx, formAddrx, formLoclistx, formRnglistx, formGNUAddrIndex, formGNUStrIndex:
		c.uleb()
	case formSdata:
		c.sleb()
	case formSecOffset, formStrp, formLineStrp, formStrpSup, formGNURefAlt, formGNUStrpAlt:
		c.skip(uint64(s.u.offsetSize))
	case formRefAddr:
		if s.u.version <= 2 {
			c.skip(uint64(s.u.addrSize))
		} else {
			c.skip(uint64(s.u.offsetSize))
		}
	case formAddr:
		c.skip(uint64(s.u.addrSize))
	case formString:
		c.cstr()
	case formBlock1:
		c.skip(uint64(c.u8()))
	case formBlock2:
		c.skip(c.fixed(2))
	case formBlock4:
		c.skip(c.fixed(4))
	case formBlock, formExprloc:
		c.skip(c.uleb())
	case formIndirect:
		if f := c.uleb(); f != formIndirect {
			s.skipForm(c, f)
		} else {
			c.bad = true
		}
	default:
		// An unknown form has an unknown size: nothing after it can be
		// decoded.
		c.bad = true
	}
}
