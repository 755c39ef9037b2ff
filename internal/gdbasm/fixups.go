package gdbasm

import (
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// renames are the mnemonics gdb 10.2's libopcodes spells otherwise than
// x86asm's GNUSyntax.
var renames = map[string]string{
	"callq":  "call",
	"jmpq":   "jmp",
	"retq":   "ret",
	"movsxd": "movslq",
	"cdqe":   "cltq",
	"pushq":  "push",
	"popq":   "pop",
	"pushfq": "pushf",
	"popfq":  "popf",
	"leaveq": "leave",
	"lidtl":  "lidt",
	"lgdtl":  "lgdt",
	"sidtl":  "sidt",
	"sgdtl":  "sgdt",
	"shrxq":  "shrx",
	"shrxl":  "shrx",
	"shlxq":  "shlx",
	"shlxl":  "shlx",
	"sarxq":  "sarx",
	"sarxl":  "sarx",
	"rorxq":  "rorx",
	"rorxl":  "rorx",
	"andnq":  "andn",
	"andnl":  "andn",
	"bzhiq":  "bzhi",
	"bzhil":  "bzhi",
	"pdepq":  "pdep",
	"pdepl":  "pdep",
	"pextq":  "pext",
	"pextl":  "pext",
	"mulxq":  "mulx",
	"mulxl":  "mulx",
	"bextrq": "bextr",
	"bextrl": "bextr",
	"blsrq":  "blsr",
	"blsrl":  "blsr",
	"blsiq":  "blsi",
	"blsil":  "blsi",
}

// extra are instructions x86asm does not know (it says "(bad)"), by
// encoding, with gdb's name.
var extra = map[string]string{
	"\x0f\x01\xee":     "rdpkru",
	"\x0f\x01\xef":     "wrpkru",
	"\x0f\x01\xe8":     "serialize",
	"\xf3\x0f\x1e\xfa": "endbr64",
	"\xf3\x0f\x1e\xfb": "endbr32",
	"\x0f\x01\xca":     "clac",
	"\x0f\x01\xcb":     "stac",
	"\x0f\x01\xf9":     "rdtscp",
	"\x0f\x01\xd0":     "xgetbv",
	"\x0f\x01\xd1":     "xsetbv",
}

// fixup rewrites mnemonic and operands where gdb differs from GNUSyntax.
func fixup(inst x86asm.Inst, raw []byte, mnemonic, operands string) (string, string) {
	words := strings.Split(mnemonic, " ")
	op := words[len(words)-1]
	if r, ok := renames[op]; ok {
		op = r
	}
	// mov with a 64-bit immediate (REX.W B8+r) is movabs.
	if inst.Op == x86asm.MOV && inst.Len >= 10 {
		if p, ok := modrm(raw); ok && p >= 2 && raw[p-1]&0xf8 == 0xb8 {
			op = "movabs"
		}
	}
	// A lone 90 is "nop", which libopcodes prints unpadded.
	if len(raw) == 1 && raw[0] == 0x90 {
		return "nop", ""
	}
	// 66 90 is "xchg %ax,%ax" to libopcodes (x86asm: "data16 nop").
	if len(raw) == 2 && raw[0] == 0x66 && raw[1] == 0x90 {
		return "xchg", "%ax,%ax"
	}
	words[len(words)-1] = op
	// REX.W is part of lretq and sysretq, not a prefix to show.
	if (op == "sysretq" || op == "lretq") && len(words) == 2 && words[0] == "rex.W" {
		words = words[1:]
	}
	// A second operand-size prefix before a nopw: gdb 10.2's libopcodes
	// says data16 (x86asm: data32) and keeps the segment on the operand.
	for i, w := range words {
		if w == "data32" {
			words[i] = "data16"
		}
	}
	return strings.Join(words, " "), operands
}
