package kernel

import (
	"errors"
	"fmt"
)

// IDTEntries is the number of gates of the x86_64 interrupt descriptor
// table (arch/x86/include/asm/desc_defs.h: IDT_ENTRIES).
const IDTEntries = 256

// IDT returns the handler address of each of the 256 gates of idt_table.
// A 64-bit gate (struct gate_struct, 16 bytes) keeps the handler's offset
// in three pieces: offset_low (bytes 0-1), offset_middle (bytes 6-7) and
// offset_high (bytes 8-11) — the split crash's
// x86_64_extract_idt_function undoes.
func (k *Kernel) IDT() ([IDTEntries]uint64, error) {
	var out [IDTEntries]uint64
	gates, err := k.IDTGates()
	if err != nil {
		return out, err
	}
	for i, g := range gates {
		out[i] = g.Handler
	}
	return out, nil
}

// idtBytes reads idt_table's 256 16-byte gates.
func (k *Kernel) idtBytes() ([]byte, error) {
	a, ok := k.Vmlinux.Lookup("idt_table")
	if !ok {
		return nil, errors.New("idt_table: symbol does not exist")
	}
	// crash sizes the gate by gate_desc (the typedef since 2.6.25),
	// else struct gate_struct.
	size := int64(16)
	if t, err := k.Layouts(); err == nil {
		if s, err := t.SizeOf("gate_desc"); err == nil {
			size = s
		} else if s, err := t.SizeOf("gate_struct"); err == nil {
			size = s
		}
	}
	if size != 16 {
		return nil, fmt.Errorf("struct gate_struct is %d bytes, not the 16 of a 64-bit gate", size)
	}
	buf := make([]byte, IDTEntries*16)
	if err := k.memory().ReadVirt(buf, a); err != nil {
		return nil, fmt.Errorf("idt_table at %x: %w", a, err)
	}
	return buf, nil
}
