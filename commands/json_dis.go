package commands

import (
	"strings"

	"gocrash/internal/gdbasm"
)

// DisInstJSON is one instruction dis prints: "0xADDRESS <SYMBOL>:\tTEXT
// <TARGET> [FTRACE NOP]", or "   0xADDRESS:\tTEXT" where no kernel
// symbol is known (dis -u, an address without a symbol).
type DisInstJSON struct {
	Address      Addr   `json:"address" desc:"the instruction's address"`
	Symbol       string `json:"symbol,omitempty" desc:"SYMBOL+OFFSET in the angle brackets (offset in the radix dis prints)"`
	Length       int    `json:"length" desc:"the instruction's length in bytes"`
	Instruction  string `json:"instruction" desc:"the instruction as gdb prints it, AT&T syntax"`
	Mnemonic     string `json:"mnemonic" desc:"its first word (a prefix such as lock or rep included)"`
	Target       Addr   `json:"target,omitempty" desc:"a branch target or RIP-relative operand's address"`
	TargetSymbol string `json:"target_symbol,omitempty" desc:"that address's symbol, when dis names it"`
	FtraceNop    bool   `json:"ftrace_nop,omitempty" desc:"the 5-byte nop ftrace patches at a function's start ([FTRACE NOP])"`
	Source       string `json:"source,omitempty" desc:"dis -l: the source file and line printed above the instruction"`
}

// instJSON records one instruction line.
func (d *disRun) instJSON(in gdbasm.Inst, sym, target string, ftrace bool) {
	if d.js == nil {
		return
	}
	j := DisInstJSON{Address: Addr(in.PC), Symbol: sym, Length: in.Len, Instruction: in.Text, TargetSymbol: target, FtraceNop: ftrace, Source: d.jsSource}
	if f := strings.Fields(in.Text); len(f) > 0 {
		j.Mnemonic = f[0]
	}
	if in.RefKind == gdbasm.BranchRef || in.RefKind == gdbasm.RIPRef {
		j.Target = Addr(in.Ref)
	}
	*d.js = append(*d.js, j)
}

// disJSON is dis's JSON: a function, an address and a count, -r, -f, -l,
// -u, -x and -d; -s (source listing) and -b have none.
func disJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	js := []DisInstJSON{}
	if err := disInto(s, args, &out, &js); err != nil {
		return nil, err
	}
	return js, nil
}
