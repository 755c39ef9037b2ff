// Package gdbasm prints x86-64 instructions the way gdb 10.2 (the gdb inside
// crash 8.0.6) prints them in AT&T syntax: "mov    0x18(%rbx),%eax",
// "call   0xffffffff81234567 <foo+12>", "cmpb   $0x0,0x7a8bb1(%rip)        #
// 0xffffffff8fecc59a <__already_done.1>".
//
// Decoding is golang.org/x/arch/x86/x86asm's; its GNUSyntax follows an older
// libopcodes than gdb 10.2's, so this package keeps GNUSyntax's choice of
// mnemonic and prefixes and rewrites what differs: operands are printed
// again from the decoded arguments and the raw encoding (libopcodes shows
// an encoded zero displacement as "0x0(", a scale of 1 as ",1", an
// immediate as the unsigned value of the operand's width), and mnemonics
// are renamed where libopcodes names them otherwise (see fixups.go). Every
// rewrite is checked against crash's own output on the test-bed dumps
// (commands/dis_test.go lists what still differs).
package gdbasm

import (
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// An Inst is one decoded instruction.
type Inst struct {
	PC  uint64
	Len int // bytes the instruction takes; at least 1
	// Text is what gdb prints after the address and tab, without the
	// symbol gdb may add at its end: " <sym+off>" after a branch target
	// or after a RIP-relative operand's "# 0xADDR" comment.
	Text string
	// Ref is that target or operand address, RefKind which of the two.
	Ref     uint64
	RefKind RefKind
	// Mem is the memory operand's effective-address parts, when the
	// instruction has one encoded by ModRM (nil otherwise).
	Mem *Mem
	// Write reports whether the instruction stores to its memory operand
	// (its first Intel operand is the memory one, and the instruction is
	// not a compare or test).
	Write bool
}

// RefKind tells what Ref is.
type RefKind int

const (
	NoRef     RefKind = iota
	BranchRef         // a relative call or jump target
	RIPRef            // a RIP-relative memory operand
)

// Mem is a ModRM memory operand: Segment:Disp(Base,Index,Scale). Base is
// "rip" for RIP-relative addressing; empty names are absent registers.
type Mem struct {
	Segment     string
	Base, Index string // register names without '%', 64-bit or 32-bit
	Scale       int
	Disp        int64
}

// Decode decodes the instruction at the start of code, which sits at pc.
// Bytes that are no instruction give gdb's "(bad)", one byte long.
func Decode(code []byte, pc uint64) Inst {
	if len(code) > 15 {
		code = code[:15]
	}
	if len(code) >= 3 && (code[0] == 0x0f || code[0] == 0xf3) && code[1] <= 0x1e {
		for enc, name := range extra {
			if len(code) >= len(enc) && string(code[:len(enc)]) == enc {
				return Inst{PC: pc, Len: len(enc), Text: pad(name, "")}
			}
		}
	}
	if len(code) >= 3 && (code[0] == 0x0f && code[1] == 0x01 || code[0] == 0xc4) {
		for enc, in := range extraOps {
			if len(code) >= len(enc) && string(code[:len(enc)]) == enc {
				return Inst{PC: pc, Len: len(enc), Text: pad(in[0], in[1])}
			}
		}
	}
	if text, n, ok := decodeExtra(code); ok {
		return Inst{PC: pc, Len: n, Text: text}
	}
	if len(code) >= 2 && code[0]&0xf0 == 0x40 && code[1]&0xf0 == 0x40 {
		// A REX prefix before another one is no part of the
		// instruction: libopcodes prints it alone ("rex.WR"), x86asm
		// refuses the pair.
		return Inst{PC: pc, Len: 1, Text: prefixName(code[0])}
	}
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Len == 0 || inst.Op == 0 && !isPrefixByte(code[0]) {
		return Inst{PC: pc, Len: 1, Text: pad("(bad)", "")}
	}
	if inst.Op == 0 {
		// A prefix with no instruction after it: its name alone,
		// unpadded ("rex.RXB").
		return Inst{PC: pc, Len: 1, Text: prefixName(code[0])}
	}
	return format(inst, code[:inst.Len], pc)
}

// pad joins mnemonic and operands as libopcodes does: the mnemonic (with
// its prefixes) padded to six columns, then one space, then the operands.
func pad(mnemonic, operands string) string {
	if mnemonic == "nop" && operands == "" {
		return mnemonic
	}
	if len(mnemonic) < 6 {
		mnemonic += strings.Repeat(" ", 6-len(mnemonic))
	}
	return mnemonic + " " + operands
}

func format(inst x86asm.Inst, raw []byte, pc uint64) Inst {
	out := Inst{PC: pc, Len: inst.Len}
	gnu := x86asm.GNUSyntax(inst, pc, nil)
	mnemonic, operands := splitGNU(gnu)
	var comment string
	if toks, args, ok := pairArgs(inst, operands); ok {
		for i, a := range args {
			switch a := a.(type) {
			case x86asm.Imm:
				toks[i] = "$" + hexImm(inst, a, i, args)
			case x86asm.Rel:
				target := pc + uint64(inst.Len) + uint64(int64(a))
				toks[i] = hex0x(target)
				out.Ref, out.RefKind = target, BranchRef
			case x86asm.Mem:
				seg := segPrefix(toks[i])
				star := ""
				if strings.HasPrefix(toks[i], "*") {
					star = "*"
					seg = segPrefix(toks[i][1:])
				}
				if isMoffs(raw) {
					// mov between %al..%rax and a 64-bit absolute
					// address (a0-a3): no ModRM.
					toks[i] = seg + hex0x(uint64(a.Disp))
					break
				}
				m, s, ok := memOperand(inst, raw, a)
				if !ok {
					break
				}
				m.Segment = strings.TrimSuffix(strings.TrimPrefix(seg, "%"), ":")
				out.Mem = &m
				toks[i] = star + seg + s
				if a.Base == x86asm.RIP {
					target := pc + uint64(inst.Len) + uint64(a.Disp)
					comment = "        # " + hex0x(target)
					out.Ref, out.RefKind = target, RIPRef
				}
			}
		}
		operands = strings.Join(toks, ",")
		if len(inst.Args) > 0 {
			if _, ok := inst.Args[0].(x86asm.Mem); ok && out.Mem != nil {
				out.Write = writesFirst(inst.Op)
			}
		}
	}
	mnemonic, operands = fixup(inst, raw, mnemonic, operands)
	mnemonic = x87WordSuffix(inst, mnemonic)
	out.Text = pad(mnemonic, operands) + comment
	return out
}

// splitGNU splits GNUSyntax's text into its mnemonic with prefixes and its
// operands (which hold no spaces, but for AVX-512 masks: " {%k1}").
func splitGNU(s string) (string, string) {
	for i := 1; i < len(s); i++ {
		if s[i-1] == ' ' && isOperandStart(s[i:]) {
			return s[:i-1], s[i:]
		}
	}
	return s, ""
}

func isOperandStart(w string) bool {
	if w == "" {
		return false
	}
	switch w[0] {
	case '$', '%', '(', '*', '-', '.', '{', ',':
		return true
	}
	return w[0] >= '0' && w[0] <= '9'
}

// pairArgs splits the operand text into its tokens and pairs each with
// the decoded argument it shows, in AT&T order. It fails where GNUSyntax
// printed another number of operands than it was given (masks, implicit
// shift counts, pseudo-op immediates).
func pairArgs(inst x86asm.Inst, operands string) ([]string, []x86asm.Arg, bool) {
	if operands == "" || strings.Contains(operands, "{") {
		return nil, nil, false
	}
	toks := splitOperands(operands)
	var args []x86asm.Arg
	for _, a := range inst.Args {
		if a == nil {
			break
		}
		if a == x86asm.Imm(1) && (inst.Opcode>>24)&^1 == 0xD0 {
			continue
		}
		args = append(args, a)
	}
	switch inst.Op {
	case x86asm.BOUND, x86asm.LCALL, x86asm.ENTER, x86asm.LJMP:
	default:
		for i, j := 0, len(args)-1; i < j; i, j = i+1, j-1 {
			args[i], args[j] = args[j], args[i]
		}
	}
	if len(toks) != len(args) {
		return nil, nil, false
	}
	return toks, args, true
}

// splitOperands splits at the commas outside parentheses.
func splitOperands(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// segPrefix returns the leading "%gs:" of a GNUSyntax memory operand.
func segPrefix(tok string) string {
	if len(tok) >= 4 && tok[0] == '%' && tok[3] == ':' {
		return tok[:4]
	}
	return ""
}

// isPrefixByte reports whether b is a legacy or REX prefix, which gdb
// prints alone ("rex.RXB", "ss") when no instruction follows it.
func isPrefixByte(b byte) bool {
	switch b {
	case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3:
		return true
	}
	return b&0xf0 == 0x40
}

// prefixName is libopcodes' name of a prefix byte standing alone.
func prefixName(b byte) string {
	if b&0xf0 == 0x40 {
		n := "rex"
		if b&0xf != 0 {
			n += "."
			for i, c := range "WRXB" {
				if b&(8>>uint(i)) != 0 {
					n += string(c)
				}
			}
		}
		return n
	}
	return map[byte]string{0x26: "es", 0x2e: "cs", 0x36: "ss", 0x3e: "ds", 0x64: "fs", 0x65: "gs",
		0x66: "data16", 0x67: "addr32", 0xf0: "lock", 0xf2: "repnz", 0xf3: "repz"}[b]
}

// isMoffs reports whether the opcode is a0-a3, mov with a full-width
// absolute address.
func isMoffs(raw []byte) bool {
	i := 0
	for i < len(raw) && (isPrefixByte(raw[i])) {
		i++
	}
	return i < len(raw) && raw[i] >= 0xa0 && raw[i] <= 0xa3
}

// hex0x is "0x" and v in lower-case hex.
func hex0x(v uint64) string {
	var b [18]byte
	return string(strconv.AppendUint(append(b[:0], "0x"...), v, 16))
}

// x87WordSuffix gives an x87 integer instruction on a 16-bit memory
// operand (DE/DF /r: ficom, fiadd, fild, fistp ...) the "s" suffix gdb
// and objdump print ("ficoms (%rbx)"), which x86asm's GNU syntax leaves
// out while it writes the "l" and "ll" of the wider forms.
func x87WordSuffix(inst x86asm.Inst, mnemonic string) string {
	if inst.MemBytes != 2 || !strings.HasPrefix(mnemonic, "fi") || strings.HasSuffix(mnemonic, "s") || strings.HasSuffix(mnemonic, "l") {
		return mnemonic
	}
	for _, a := range inst.Args {
		if _, ok := a.(x86asm.Mem); ok {
			return mnemonic + "s"
		}
	}
	return mnemonic
}
