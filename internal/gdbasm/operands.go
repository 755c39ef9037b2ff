package gdbasm

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// hexImm prints an immediate as libopcodes does: the unsigned value at the
// width of the operation (x86asm holds sign-extended values: $-0x1 there
// is $0xffffffff beside a 32-bit register).
func hexImm(inst x86asm.Inst, imm x86asm.Imm, tok int, args []x86asm.Arg) string {
	bits := inst.DataSize
	switch a := inst.Args[0].(type) {
	case x86asm.Reg:
		if b := regBits(a); b != 0 {
			bits = b
		}
	case x86asm.Mem:
		if inst.MemBytes != 0 {
			bits = inst.MemBytes * 8
		}
	}
	switch inst.Op {
	case x86asm.PUSH:
		if inst.DataSize != 16 {
			bits = 64
		}
	case x86asm.ENTER, x86asm.RET, x86asm.LRET, x86asm.INT, x86asm.IN, x86asm.OUT:
		bits = 64
		if imm < 0 {
			bits = 16
		}
	}
	v := uint64(int64(imm))
	if bits > 0 && bits < 64 {
		v &= 1<<uint(bits) - 1
	}
	return hex0x(v)
}

// regBits is the width of a general-purpose register, 0 for others.
func regBits(r x86asm.Reg) int {
	switch {
	case r >= x86asm.AL && r <= x86asm.R15B:
		return 8
	case r >= x86asm.AX && r <= x86asm.R15W:
		return 16
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return 32
	case r >= x86asm.RAX && r <= x86asm.R15:
		return 64
	}
	return 0
}

// regName is a register as libopcodes names it, without the '%'.
func regName(r x86asm.Reg) string {
	if r == x86asm.RIP {
		return "rip"
	}
	if r == x86asm.EIP {
		return "eip"
	}
	s := strings.ToLower(r.String())
	if len(s) > 2 && s[0] == 'r' && s[len(s)-1] == 'l' && s[1] >= '0' && s[1] <= '9' {
		s = s[:len(s)-1] + "d" // R8L: r8d
	}
	return s
}

// modrm finds the ModRM byte of an encoding: after the legacy prefixes,
// REX, VEX or EVEX, and the opcode bytes of the map they select.
func modrm(raw []byte) (int, bool) {
	i := 0
	for i < len(raw) {
		switch raw[i] {
		case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3:
			i++
			continue
		}
		break
	}
	for i < len(raw) && raw[i]&0xf0 == 0x40 {
		i++
	}
	if i >= len(raw) {
		return 0, false
	}
	switch raw[i] {
	case 0xc4: // VEX3: map in the low five bits of the next byte
		if i+3 >= len(raw) {
			return 0, false
		}
		return i + 4, true
	case 0xc5:
		return i + 3, i+3 < len(raw)
	case 0x62:
		return i + 5, i+5 < len(raw)
	case 0x0f:
		if i+1 < len(raw) && (raw[i+1] == 0x38 || raw[i+1] == 0x3a) {
			return i + 3, i+3 < len(raw)
		}
		return i + 2, i+2 < len(raw)
	}
	return i + 1, i+1 < len(raw)
}

// memOperand prints a ModRM memory operand from its encoding: what the
// encoding holds, libopcodes prints (a zero disp8 as "0x0(", a SIB with no
// index as "%riz" unless the base needs the SIB, the scale always beside
// an index).
func memOperand(inst x86asm.Inst, raw []byte, m x86asm.Mem) (Mem, string, bool) {
	out := Mem{Disp: m.Disp}
	if m.Base != 0 {
		out.Base = regName(m.Base)
	}
	if m.Index != 0 {
		out.Index = regName(m.Index)
		out.Scale = int(m.Scale)
	}
	p, ok := modrm(raw)
	if !ok {
		return out, "", false
	}
	b := raw[p]
	mod, rm := b>>6, b&7
	if mod == 3 {
		return out, "", false
	}
	disp := func() string {
		if m.Disp < 0 {
			return "-" + hex0x(uint64(-m.Disp))
		}
		return hex0x(uint64(m.Disp))
	}
	if m.Base == x86asm.RIP || m.Base == x86asm.EIP {
		return out, disp() + "(%" + out.Base + ")", true
	}
	hasDisp := mod == 1 || mod == 2
	if rm != 4 {
		if mod == 0 && rm == 5 {
			return out, disp(), true
		}
		d := ""
		if hasDisp {
			d = disp()
		}
		return out, d + "(%" + out.Base + ")", true
	}
	if p+1 >= len(raw) {
		return out, "", false
	}
	sib := raw[p+1]
	scale := 1 << (sib >> 6)
	noBase := mod == 0 && sib&7 == 5
	if noBase {
		hasDisp = true
	}
	d := ""
	if hasDisp {
		d = disp()
	}
	riz := "riz"
	if inst.AddrSize == 32 {
		riz = "eiz"
	}
	switch {
	case out.Index != "":
		base := ""
		if !noBase {
			base = "%" + out.Base
		}
		return out, fmt.Sprintf("%s(%s,%%%s,%d)", d, base, out.Index, scale), true
	case noBase:
		if scale == 1 {
			return out, d, true
		}
		return out, fmt.Sprintf("%s(,%%%s,%d)", d, riz, scale), true
	case sib&7 == 4 && scale == 1: // rsp or r12 base: the SIB is required
		return out, d + "(%" + out.Base + ")", true
	default:
		return out, fmt.Sprintf("%s(%%%s,%%%s,%d)", d, out.Base, riz, scale), true
	}
}

// writesFirst reports whether an instruction whose first Intel operand is
// memory stores there.
func writesFirst(op x86asm.Op) bool {
	switch op {
	case x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.PUSH, x86asm.CALL, x86asm.JMP,
		x86asm.LCALL, x86asm.LJMP, x86asm.NOP, x86asm.PREFETCHNTA, x86asm.PREFETCHT0,
		x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW, x86asm.CLFLUSH,
		x86asm.LGDT, x86asm.LIDT, x86asm.LLDT, x86asm.LMSW,
		x86asm.LTR, x86asm.VERR, x86asm.VERW, x86asm.INVLPG, x86asm.CMPSB,
		x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ, x86asm.LODSB, x86asm.LODSW,
		x86asm.LODSD, x86asm.LODSQ, x86asm.FLD, x86asm.FILD, x86asm.FLDCW,
		x86asm.FLDENV, x86asm.FRSTOR, x86asm.FXRSTOR, x86asm.FXRSTOR64,
		x86asm.XRSTOR, x86asm.XRSTOR64, x86asm.LDMXCSR:
		return false
	}
	return true
}
