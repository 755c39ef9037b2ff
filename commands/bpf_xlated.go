package commands

import (
	"fmt"
	"strings"

	"gocrash/kernel"
)

// bpf -t and -T: a program's translated instructions printed as crash
// 8.0.6's bpf.c prints them (dump_xlated_plain and print_bpf_insn, its
// copy of the 4.x kernel's kernel/bpf/disasm.c format): "% 4d: " and the
// instruction, "(code) text"; with -T each instruction's bytes below it
// (bpftool's fprint_hex: two-digit hex, a space between, the second word
// of a 16-byte ld_imm64 after one more space). The instructions crash's
// copy does not know (JMP32, the atomics beyond add, sign-extending
// loads) come out as it prints them: "BUG", "(null)" operators, "lock
// ... +=".

// The fields of an opcode (include/uapi/linux/bpf_common.h, bpf.h).
const (
	bpfLD, bpfLDX, bpfST, bpfSTX, bpfALU, bpfJMP, bpfRET, bpfALU64 = 0, 1, 2, 3, 4, 5, 6, 7

	bpfMEM, bpfABS, bpfIND, bpfIMM, bpfXADD = 0x60, 0x20, 0x40, 0x00, 0xc0
	bpfDW                                   = 0x18
	bpfX                                    = 0x08
	bpfNEG, bpfEND                          = 0x80, 0xd0
	bpfJA, bpfCALL, bpfEXIT                 = 0x00, 0x80, 0x90
	bpfPseudoMapFD, bpfPseudoCall           = 1, 1
)

var bpfClassString = [8]string{"ld", "ldx", "st", "stx", "alu", "jmp", "BUG", "alu64"}

// the operators by BPF_OP >> 4; "" is crash's NULL, printed "(null)"
var bpfALUString = [16]string{"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "", ""}

var bpfJmpString = [16]string{"jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "", ""}

var bpfLdstString = [4]string{"u32", "u16", "u8", "u64"}

func cNull(s string) string {
	if s == "" {
		return "(null)"
	}
	return s
}

// bpfNames names what an instruction refers to, as crash does: a map by
// its address (its ID), a helper by its number (func_id_str), a kernel
// function by its address (__bpf_call_base + imm).
type bpfNames struct {
	mapID  func(addr uint64) (uint64, bool)
	helper func(id int32) (string, bool, error) // kernel.ErrNoBPFHelpers: no __BPF_FUNC_MAX_ID
	callAt func(imm int32) (string, bool)       // the symbol exactly at __bpf_call_base+imm
}

// writeBPFXlated writes insns; it stops at the first error (crash's
// error(FATAL) on an unreadable func_id_str) after what it printed.
func writeBPFXlated(b *strings.Builder, insns []kernel.BPFInsn, opcodes bool, n bpfNames) error {
	raw := func(i int) []byte {
		var w [8]byte
		if i < len(insns) {
			in := insns[i]
			w[0], w[1] = in.Code, in.Dst|in.Src<<4
			w[2], w[3] = byte(in.Off), byte(uint16(in.Off)>>8)
			u := uint32(in.Imm)
			w[4], w[5], w[6], w[7] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		}
		return w[:]
	}
	hex := func(w []byte) {
		for i, c := range w {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%02x", c)
		}
	}
	double := false
	for i := range insns {
		if double {
			double = false
			continue
		}
		double = insns[i].Code == bpfLD|bpfIMM|bpfDW
		fmt.Fprintf(b, "% 4d: ", i)
		var next kernel.BPFInsn // the second half of an ld_imm64; crash reads past the end (zeroes)
		if i+1 < len(insns) {
			next = insns[i+1]
		}
		if err := writeBPFInsn(b, insns[i], next, n); err != nil {
			return err
		}
		if opcodes {
			b.WriteString("       ")
			hex(raw(i))
			if double {
				b.WriteByte(' ')
				hex(raw(i + 1))
			}
			b.WriteByte('\n')
		}
	}
	return nil
}

// writeBPFInsn is one instruction's line (crash's print_bpf_insn).
func writeBPFInsn(b *strings.Builder, in, next kernel.BPFInsn, n bpfNames) error {
	class := in.Code & 7
	op := in.Code & 0xf0
	mode := in.Code & 0xe0
	size := bpfLdstString[(in.Code&0x18)>>3]
	u32 := func() string {
		if class == bpfALU {
			return "(u32) "
		}
		return ""
	}
	switch class {
	case bpfALU, bpfALU64:
		switch {
		case op == bpfEND:
			if class == bpfALU64 {
				fmt.Fprintf(b, "BUG_alu64_%02x\n", in.Code)
			} else {
				e := "le"
				if in.Code&bpfX != 0 {
					e = "be"
				}
				fmt.Fprintf(b, "(%02x) r%d = %s%d r%d\n", in.Code, in.Dst, e, in.Imm, in.Dst)
			}
		case op == bpfNEG:
			fmt.Fprintf(b, "(%02x) r%d = %s-r%d\n", in.Code, in.Dst, u32(), in.Dst)
		case in.Code&bpfX != 0:
			fmt.Fprintf(b, "(%02x) %sr%d %s %sr%d\n", in.Code, u32(), in.Dst, cNull(bpfALUString[op>>4]), u32(), in.Src)
		default:
			fmt.Fprintf(b, "(%02x) %sr%d %s %s%d\n", in.Code, u32(), in.Dst, cNull(bpfALUString[op>>4]), u32(), in.Imm)
		}
	case bpfSTX:
		switch mode {
		case bpfMEM:
			fmt.Fprintf(b, "(%02x) *(%s *)(r%d %+d) = r%d\n", in.Code, size, in.Dst, in.Off, in.Src)
		case bpfXADD:
			fmt.Fprintf(b, "(%02x) lock *(%s *)(r%d %+d) += r%d\n", in.Code, size, in.Dst, in.Off, in.Src)
		default:
			fmt.Fprintf(b, "BUG_%02x\n", in.Code)
		}
	case bpfST:
		if mode != bpfMEM {
			fmt.Fprintf(b, "BUG_st_%02x\n", in.Code)
			return nil
		}
		fmt.Fprintf(b, "(%02x) *(%s *)(r%d %+d) = %d\n", in.Code, size, in.Dst, in.Off, in.Imm)
	case bpfLDX:
		if mode != bpfMEM {
			fmt.Fprintf(b, "BUG_ldx_%02x\n", in.Code)
			return nil
		}
		fmt.Fprintf(b, "(%02x) r%d = *(%s *)(r%d %+d)\n", in.Code, in.Dst, size, in.Src, in.Off)
	case bpfLD:
		switch {
		case mode == bpfABS:
			fmt.Fprintf(b, "(%02x) r0 = *(%s *)skb[%d]\n", in.Code, size, in.Imm)
		case mode == bpfIND:
			fmt.Fprintf(b, "(%02x) r0 = *(%s *)skb[r%d + %d]\n", in.Code, size, in.Src, in.Imm)
		case mode == bpfIMM && in.Code&0x18 == bpfDW:
			imm := uint64(uint32(next.Imm))<<32 | uint64(uint32(in.Imm))
			name := fmt.Sprintf("0x%x", imm)
			if n.mapID != nil {
				if id, ok := n.mapID(imm); ok {
					name = fmt.Sprintf("map[id:%d]", id)
				}
			}
			fmt.Fprintf(b, "(%02x) r%d = %s\n", in.Code, in.Dst, name)
		default:
			fmt.Fprintf(b, "BUG_ld_%02x\n", in.Code)
		}
	case bpfJMP:
		switch {
		case op == bpfCALL:
			name, err := bpfCallName(in, n)
			if err != nil {
				return err
			}
			if in.Src == bpfPseudoCall {
				fmt.Fprintf(b, "(%02x) call pc%s\n", in.Code, name)
			} else {
				fmt.Fprintf(b, "(%02x) call %s#%d\n", in.Code, name, in.Imm)
			}
		case in.Code == bpfJMP|bpfJA:
			fmt.Fprintf(b, "(%02x) goto pc%+d\n", in.Code, in.Off)
		case in.Code == bpfJMP|bpfEXIT:
			fmt.Fprintf(b, "(%02x) exit\n", in.Code)
		case in.Code&bpfX != 0:
			fmt.Fprintf(b, "(%02x) if r%d %s r%d goto pc%+d\n", in.Code, in.Dst, cNull(bpfJmpString[op>>4]), in.Src, in.Off)
		default:
			fmt.Fprintf(b, "(%02x) if r%d %s 0x%x goto pc%+d\n", in.Code, in.Dst, cNull(bpfJmpString[op>>4]), uint32(in.Imm), in.Off)
		}
	default:
		fmt.Fprintf(b, "(%02x) %s\n", in.Code, bpfClassString[class])
	}
	return nil
}

// bpfCallName is crash's __func_get_name: a helper's name from
// func_id_str, a kernel function at __bpf_call_base + imm, a pseudo
// call's pc-relative offset, else "unknown" (a pseudo call on a kernel
// without __BPF_FUNC_MAX_ID: crash prints its uninitialized buffer,
// gocrash nothing).
func bpfCallName(in kernel.BPFInsn, n bpfNames) (string, error) {
	fallback := "unknown"
	if in.Src == bpfPseudoCall {
		fallback = ""
	}
	if n.helper == nil {
		return fallback, nil
	}
	name, ok, err := n.helper(in.Imm)
	if err == kernel.ErrNoBPFHelpers {
		return fallback, nil
	}
	if in.Src != bpfPseudoCall {
		if err != nil {
			return "", err
		}
		if ok {
			return name, nil
		}
		if n.callAt != nil {
			if s, ok := n.callAt(in.Imm); ok {
				return s, nil
			}
		}
		return fallback, nil
	}
	return fmt.Sprintf("%+d", in.Imm), nil
}
