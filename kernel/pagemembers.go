package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Every struct page of the mem_map, and named members of it: what crash's
// kmem -p and kmem -m walk. crash asks gdb for a member's layout with its
// "printm ((struct page *)0x0).MEMBER" (gdb-10.2.patch): the type's class
// after check_typedef, TYPE_UNSIGNED, TYPE_LENGTH, the value's byte
// offset, bit position and bit size; a bit field's offset is that of its
// storage unit, as gdb's value_primitive_field computes it.

// PageMemberKind is the class of a struct page member's type, as crash's
// show_page_member_data() tells them apart.
type PageMemberKind int

const (
	PageMemberOther   PageMemberKind = iota // union, array, enum, float ...: crash cannot show it
	PageMemberPointer                       // TYPE_CODE_PTR
	PageMemberInt                           // TYPE_CODE_INT (char, short, int, long and their unsigned kinds)
	PageMemberStruct                        // TYPE_CODE_STRUCT (atomic_t, list_head ...)
	PageMemberBool                          // TYPE_CODE_BOOL
)

// A PageMember is one member path of struct page ("flags", "lru.next").
type PageMember struct {
	Name     string
	Kind     PageMemberKind
	Unsigned bool
	Length   int64 // sizeof the member's type (of the storage unit for a bit field)
	Offset   int64 // bytes from the start of struct page
	BitPos   int64 // a bit field's lowest bit in the Length bytes at Offset
	BitSize  int64 // a bit field's width; 0 for a whole member
}

// ErrNoPageMember says struct page has no such member.
var ErrNoPageMember = errors.New("no such struct page member")

// PageMember resolves a member path of struct page.
func (k *Kernel) PageMember(path string) (PageMember, error) {
	t, err := k.Types()
	if err != nil {
		return PageMember{}, err
	}
	m, err := t.Member("page", path)
	if err != nil {
		return PageMember{}, fmt.Errorf("%w: page.%s: %v", ErrNoPageMember, path, err)
	}
	pm := PageMember{Name: path, Offset: m.Offset}
	rt, err := t.Resolve(m.Type)
	if err != nil {
		return PageMember{}, fmt.Errorf("%w: page.%s: %v", ErrNoPageMember, path, err)
	}
	if pm.Length, err = t.Size(rt); err != nil {
		return PageMember{}, fmt.Errorf("page.%s: %w", path, err)
	}
	switch tt := rt.(type) {
	case *godwarf.PtrType:
		pm.Kind, pm.Unsigned = PageMemberPointer, true
	case *godwarf.BoolType:
		pm.Kind, pm.Unsigned = PageMemberBool, true
	case *godwarf.UintType, *godwarf.UcharType:
		pm.Kind, pm.Unsigned = PageMemberInt, true
	case *godwarf.IntType, *godwarf.CharType:
		pm.Kind = PageMemberInt
	case *godwarf.StructType:
		if tt.Kind == "struct" {
			pm.Kind = PageMemberStruct
		}
	}
	if m.BitSize > 0 {
		// gdb: the field's bit position inside the container of its
		// type's size when it fits there, else inside its byte.
		bit := m.Offset*8 + m.BitOffset
		container := pm.Length * 8
		pm.BitSize = m.BitSize
		if container > 0 && bit%container+m.BitSize <= container && pm.Length <= 8 {
			pm.BitPos = bit % container
		} else {
			pm.BitPos = bit % 8
		}
		pm.Offset = (bit - pm.BitPos) / 8
	}
	return pm, nil
}

// PageMemberValue is a member's value in one struct page.
type PageMemberValue struct {
	// Value is a pointer's, integer's or bool's value: Length bytes,
	// zero-extended (a bit field's bits shifted down).
	Value uint64
	// Words are a struct's bytes as crash shows them: 8-byte words when
	// its length is a multiple of 8, else 4-byte, else one 2-byte word;
	// WordSize says which.
	Words    []uint64
	WordSize int
}

// Read decodes the member from one struct page's bytes (PageStruct.Raw).
// An error says crash could not show it ("unsupported page member
// reference").
func (pm PageMember) Read(raw []byte) (PageMemberValue, error) {
	if pm.Offset < 0 || pm.Length < 0 || pm.Offset+pm.Length > int64(len(raw)) {
		return PageMemberValue{}, fmt.Errorf("page.%s lies outside struct page", pm.Name)
	}
	b := raw[pm.Offset : pm.Offset+pm.Length]
	le := binary.LittleEndian
	var v PageMemberValue
	switch pm.Kind {
	case PageMemberPointer, PageMemberBool:
		if len(b) == 0 || len(b) > 8 {
			return v, errUnsupported
		}
		var w [8]byte
		copy(w[:], b)
		v.Value = le.Uint64(w[:])
	case PageMemberInt:
		switch len(b) {
		case 1:
			v.Value = uint64(b[0])
		case 2:
			v.Value = uint64(le.Uint16(b))
		case 4:
			v.Value = uint64(le.Uint32(b))
		case 8:
			v.Value = le.Uint64(b)
		default:
			return v, errUnsupported
		}
		if pm.BitSize != 0 || pm.BitPos != 0 {
			// crash's get_bitfield_data: 4- and 8-byte units only.
			if len(b) != 4 && len(b) != 8 || pm.BitSize >= 64 {
				return v, errUnsupported
			}
			v.Value = v.Value >> uint(pm.BitPos) & (1<<uint(pm.BitSize) - 1)
		}
	case PageMemberStruct:
		switch {
		case len(b)%8 == 0:
			v.WordSize = 8
		case len(b)%4 == 0:
			v.WordSize = 4
		case len(b) == 2:
			v.WordSize = 2
		default:
			return v, errUnsupported
		}
		for i := 0; i+v.WordSize <= len(b); i += v.WordSize {
			switch v.WordSize {
			case 8:
				v.Words = append(v.Words, le.Uint64(b[i:]))
			case 4:
				v.Words = append(v.Words, uint64(le.Uint32(b[i:])))
			default:
				v.Words = append(v.Words, uint64(le.Uint16(b[i:])))
			}
		}
	default:
		return v, errUnsupported
	}
	return v, nil
}

var errUnsupported = errors.New("unsupported page member reference")

// ParsePageMembers splits kmem -m's comma-separated member list as crash's
// collect_page_member_data does, with its messages.
func ParsePageMembers(list string) ([]string, error) {
	if strings.Count(list, ",")+1 > maxArgs {
		return nil, fmt.Errorf("too many members in comma-separated list")
	}
	if strings.HasSuffix(list, ",") || strings.HasSuffix(list, ".") {
		return nil, fmt.Errorf("invalid format: %s", list)
	}
	names := strings.Fields(strings.ReplaceAll(list, ",", " "))
	if len(names) == 0 {
		return nil, fmt.Errorf("invalid page struct member list format: %s", list)
	}
	return names, nil
}

// maxArgs is crash's MAXARGS.
const maxArgs = 100

// A PageStruct is one struct page of the mem_map: its address, the
// physical address of the page it describes, and its bytes, valid only
// during the callback (zeroes where the mem_map could not be read, as
// crash fills its page cache).
type PageStruct struct {
	Addr, Phys uint64
	Raw        []byte
}

// ForEachPage calls fn with every struct page of every present memory
// section, in section order, holes inside a section included (crash's
// dump_mem_map_SPARSEMEM).
func (m *MemMap) ForEachPage(ctx context.Context, fn func(PageStruct) error) error {
	ps := m.pageSize
	if ps < 8 || ps > 1024 {
		return fmt.Errorf("implausible struct page size %d", ps)
	}
	const chunk = 1024
	buf := make([]byte, chunk*ps)
	const pageSize = 4096
	return m.Sections(ctx, func(sec Section) error {
		phys := sec.Nr * m.pagesPerSection * pageSize
		for i := uint64(0); i < m.pagesPerSection; i += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(chunk, m.pagesPerSection-i)
			b := buf[:n*ps]
			base := sec.MemMap + i*ps
			if err := m.mem.ReadVirt(b, base); err != nil {
				clear(b)
				for p := uint64(0); p < n; p++ {
					if m.mem.ReadVirt(b[p*ps:(p+1)*ps], base+p*ps) != nil {
						clear(b[p*ps : (p+1)*ps])
					}
				}
			}
			for p := uint64(0); p < n; p++ {
				if err := fn(PageStruct{Addr: base + p*ps, Phys: phys + (i+p)*pageSize, Raw: b[p*ps : (p+1)*ps]}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Decode is the mem_map line's view of a page read by ForEachPage.
func (m *MemMap) Decode(p PageStruct) (Page, error) {
	if m.pageErr != nil {
		return Page{}, m.pageErr
	}
	return m.decode(p.Addr, p.Phys, p.Raw), nil
}

// ReadPageStruct reads the struct page at addr, which describes the page
// at phys.
func (m *MemMap) ReadPageStruct(addr, phys uint64) (PageStruct, error) {
	buf := make([]byte, m.pageSize)
	if err := m.mem.ReadVirt(buf, addr); err != nil {
		return PageStruct{}, fmt.Errorf("struct page at %#x: %w", addr, err)
	}
	return PageStruct{Addr: addr, Phys: phys &^ (4096 - 1), Raw: buf}, nil
}
