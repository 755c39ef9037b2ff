package symbols

import (
	"debug/elf"
	"encoding/binary"
)

// DecodeSym64 decodes one little-endian Elf64_Sym (include/uapi/linux/elf.h:
// st_name u32, st_info u8, st_other u8, st_shndx u16, st_value u64,
// st_size u64), as a module's kallsyms symtab holds them in kernel
// memory. b must hold elf.Sym64Size bytes.
func DecodeSym64(b []byte) elf.Sym64 {
	_ = b[elf.Sym64Size-1]
	return elf.Sym64{
		Name:  binary.LittleEndian.Uint32(b[0:]),
		Info:  b[4],
		Other: b[5],
		Shndx: binary.LittleEndian.Uint16(b[6:]),
		Value: binary.LittleEndian.Uint64(b[8:]),
		Size:  binary.LittleEndian.Uint64(b[16:]),
	}
}
