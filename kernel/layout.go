package kernel

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Symbols and layouts that may come from VMCOREINFO when the vmlinux
// lacks them: the printk and memory walkers read a dump of a kernel whose
// DWARF is partial through these.

// SymbolAddr is the address of a kernel symbol, from the vmlinux or,
// failing that, VMCOREINFO's SYMBOL(name).
func (k *Kernel) SymbolAddr(name string) (uint64, bool) {
	if a, ok := k.Vmlinux.Lookup(name); ok {
		return a, true
	}
	if info := k.Dump.Info(); info != nil {
		return info.Symbol(name)
	}
	return 0, false
}

// HasSymbol tells whether the kernel has the symbol (SymbolAddr).
func (k *Kernel) HasSymbol(name string) bool {
	_, ok := k.SymbolAddr(name)
	return ok
}

// LayoutOffset is the offset of member in struct typ: from DWARF, else
// from VMCOREINFO's OFFSET(typ.member).
func (k *Kernel) LayoutOffset(typ, member string) (int64, error) {
	if t, err := k.Layouts(); err == nil {
		if m, err := t.Member(typ, member); err == nil {
			return m.Offset, nil
		}
	}
	if info := k.Dump.Info(); info != nil {
		if v, ok := info.Offset(typ + "." + member); ok {
			return v, nil
		}
	}
	return 0, fmt.Errorf("no member %s.%s in the kernel's DWARF or VMCOREINFO", typ, member)
}

// LayoutSize is sizeof(struct typ), from DWARF or VMCOREINFO's SIZE(typ).
func (k *Kernel) LayoutSize(typ string) (int64, error) {
	if t, err := k.Layouts(); err == nil {
		if n, err := t.SizeOf(typ); err == nil {
			return n, nil
		}
	}
	if info := k.Dump.Info(); info != nil {
		if v, ok := info.Size(typ); ok {
			return v, nil
		}
	}
	return 0, fmt.Errorf("no size for struct %s in the kernel's DWARF or VMCOREINFO", typ)
}

// layoutReader looks up offsets and sizes with LayoutOffset and
// LayoutSize, keeping the first error, so that a block of lookups is
// checked once; after an error every lookup answers 0.
type layoutReader struct {
	k   *Kernel
	err error
}

func (r *layoutReader) off(typ, member string) int64 {
	if r.err != nil {
		return 0
	}
	var o int64
	o, r.err = r.k.LayoutOffset(typ, member)
	return o
}

func (r *layoutReader) size(typ string) int64 {
	if r.err != nil {
		return 0
	}
	var n int64
	n, r.err = r.k.LayoutSize(typ)
	return n
}

// arrayLen is the element count of a char array member, from DWARF or
// VMCOREINFO's LENGTH(name).
func (k *Kernel) arrayLen(typ, member, lengthName string) int {
	if t, err := k.Layouts(); err == nil {
		if m, err := t.Member(typ, member); err == nil {
			if n, err := t.Size(m.Type); err == nil {
				return int(n)
			}
		}
	}
	if info := k.Dump.Info(); info != nil {
		if v, ok := info.Length(lengthName); ok {
			return int(v)
		}
	}
	return 0
}

// ReadU64 reads the 8-byte little-endian value at the kernel virtual
// address addr.
func (k *Kernel) ReadU64(addr uint64) (uint64, error) {
	var b [8]byte
	if err := k.memory().ReadVirt(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadU32 reads the 4-byte value at addr.
func (k *Kernel) ReadU32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := k.memory().ReadVirt(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// readHoles reads n bytes at addr page by page. Pages that cannot be read
// (filtered out of the dump, not mapped) are left zero and counted; the
// returned hole function reports whether a byte range touches one.
func (k *Kernel) readHoles(addr uint64, n int) (buf []byte, missing int, hole func(off, n uint64) bool) {
	buf = make([]byte, n)
	mem := k.memory()
	if mem.ReadVirt(buf, addr) == nil {
		return buf, 0, func(uint64, uint64) bool { return false }
	}
	ps := uint64(k.Dump.PageSize())
	if ps == 0 {
		ps = 4096
	}
	var bad []uint64 // page-aligned offsets (from addr's page) that failed
	for off := uint64(0); off < uint64(n); {
		chunk := ps - (addr+off)%ps
		if chunk > uint64(n)-off {
			chunk = uint64(n) - off
		}
		if err := mem.ReadVirt(buf[off:off+chunk], addr+off); err != nil {
			clear(buf[off : off+chunk])
			bad = append(bad, off)
			missing++
		}
		off += chunk
	}
	hole = func(off, m uint64) bool {
		// bad ascends: the first hole ending after off is the only one
		// that can start before off+m without an earlier one doing so.
		i := sort.Search(len(bad), func(i int) bool { return bad[i]+ps-(addr+bad[i])%ps > off })
		return i < len(bad) && off+m > bad[i]
	}
	return buf, missing, hole
}
