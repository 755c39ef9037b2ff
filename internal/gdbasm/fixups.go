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
	"ljmpq":  "ljmp",
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

// extraOps are instructions x86asm does not know, by their exact bytes,
// with libopcodes' mnemonic and operands (binutils' i386-dis.c tables:
// AMD's MONITORX/MWAITX and SVM's STGI, AMX's TILERELEASE).
var extraOps = map[string][2]string{
	"\x0f\x01\xfa":         {"monitorx", "%rax,%ecx,%edx"},
	"\x0f\x01\xfb":         {"mwaitx", "%eax,%ecx,%ebx"},
	"\x0f\x01\xdc":         {"stgi", ""},
	"\xc4\xe2\x78\x49\xc0": {"tilerelease", ""},
}

// fixup rewrites mnemonic and operands where gdb differs from GNUSyntax.
func fixup(inst x86asm.Inst, raw []byte, mnemonic, operands string) (string, string) {
	words := strings.Fields(mnemonic)
	if len(words) == 0 {
		return mnemonic, operands
	}
	op := words[len(words)-1]
	if r, ok := renames[op]; ok {
		op = r
	}
	// mov with a 64-bit immediate (REX.W B8+r) or a 64-bit absolute
	// address (a0-a3) is movabs.
	if inst.Op == x86asm.MOV {
		if p, ok := modrm(raw); ok && p >= 1 && (raw[p-1]&0xf8 == 0xb8 && inst.Len >= 10 || isMoffs(raw) && inst.AddrSize == 64) {
			op = "movabs"
		}
	}
	// monitor's address is %rax in 64-bit mode.
	if inst.Op == x86asm.MONITOR && inst.AddrSize == 64 {
		operands = strings.Replace(operands, "%eax", "%rax", 1)
	}
	// mwait's operands are %eax,%ecx (x86asm: %rax,%rcx).
	if inst.Op == x86asm.MWAIT {
		operands = "%eax,%ecx"
	}
	// lsl and lar with REX.W name a register source by its 64-bit name,
	// as the destination (x86asm: the 32-bit one).
	if (inst.Op == x86asm.LSL || inst.Op == x86asm.LAR) && inst.DataSize == 64 {
		if r, ok := inst.Args[1].(x86asm.Reg); ok && r >= x86asm.EAX && r <= x86asm.R15L {
			if name := regName(r); name != "" {
				if i := slicesIndex(gpr32[:], name); i >= 0 {
					operands = strings.Replace(operands, "%"+name+",", "%"+gpr64[i]+",", 1)
				}
			}
		}
	}
	// 0f 07 without REX.W returns to 32-bit code.
	if len(raw) == 2 && raw[0] == 0x0f && raw[1] == 0x07 {
		return "sysretl", ""
	}
	// A lone 90 is "nop", which libopcodes prints unpadded.
	if len(raw) == 1 && raw[0] == 0x90 {
		return "nop", ""
	}
	// 66 90 is "xchg %ax,%ax" to libopcodes (x86asm: "data16 nop"); the
	// 5-byte nop 66 66 66 66 90 (ftrace's, at every function's start on
	// Debian's 5.10) is "data16 data16 data16 xchg %ax,%ax".
	if n := len(raw); n >= 2 && raw[n-1] == 0x90 && strings.Count(string(raw[:n-1]), "\x66") == n-1 {
		return strings.Repeat("data16 ", n-2) + "xchg", "%ax,%ax"
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
		// F2 before an instruction it does not repeat: libopcodes names
		// it repnz (x86asm: repn), as F3 is repz (seen in dis jiffies on
		// the 6.12 test bed: "repnz add (%rax),%al").
		if w == "repn" && i < len(words)-1 {
			words[i] = "repnz"
		}
	}
	return strings.Join(words, " "), operands
}

var gpr64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
var gpr32 = [16]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}
var gpr16 = [16]string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"}

// decodeExtra decodes the register forms x86asm lacks or prints without
// their operand: rdrand and rdseed (0f c7 /6, /7), and WAITPKG's tpause,
// umwait and umonitor (66, f2, f3 0f ae /6).
func decodeExtra(code []byte) (string, int, bool) {
	i := 0
	var p66, pf2, pf3 bool
	for i < len(code) {
		switch code[i] {
		case 0x66:
			p66 = true
		case 0xf2:
			pf2 = true
		case 0xf3:
			pf3 = true
		default:
			goto prefixesDone
		}
		i++
	}
prefixesDone:
	rex := byte(0)
	if i < len(code) && code[i]&0xf0 == 0x40 {
		rex = code[i]
		i++
	}
	if i+2 >= len(code) || code[i] != 0x0f {
		return "", 0, false
	}
	op, m := code[i+1], code[i+2]
	if m>>6 != 3 {
		return "", 0, false
	}
	reg, rm := (m>>3)&7, int(m&7)
	if rex&1 != 0 {
		rm += 8
	}
	n := i + 3
	switch {
	case op == 0xc7 && (reg == 6 || reg == 7) && !pf2 && !pf3:
		name := "rdrand"
		if reg == 7 {
			name = "rdseed"
		}
		r := gpr32[rm]
		if rex&8 != 0 {
			r = gpr64[rm]
		} else if p66 {
			r = gpr16[rm]
		}
		return pad(name, "%"+r), n, true
	case op >= 0x19 && op <= 0x1e && !pf2 && !pf3:
		// The reserved-nop space with a register operand (what is
		// left of endbr64 when dis starts one byte in).
		r := gpr32[rm]
		if rex&8 != 0 {
			r = gpr64[rm]
		} else if p66 {
			r = gpr16[rm]
		}
		return pad("nop", "%"+r), n, true
	case op == 0xae && reg == 6 && p66 && !pf2 && !pf3:
		return pad("tpause", "%"+gpr32[rm]), n, true
	case op == 0xae && reg == 6 && pf2 && !p66:
		return pad("umwait", "%"+gpr32[rm]), n, true
	case op == 0xae && reg == 6 && pf3 && !p66:
		return pad("umonitor", "%"+gpr64[rm]), n, true
	}
	return "", 0, false
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
