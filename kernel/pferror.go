package kernel

import "fmt"

// A PFBit is one bit of an x86 page-fault error code, as the CPU pushes
// it (Intel SDM vol. 3, 4.7 "Page-Fault Exceptions"; the kernel's names
// are arch/x86/include/asm/trap_pf.h's enum x86_pf_error_code).
type PFBit struct {
	Bit  uint   `json:"bit" desc:"the bit number"`
	Name string `json:"name" desc:"the kernel's X86_PF_ name"` // X86_PF_ name
	Set  bool   `json:"set" desc:"its value"`
	// Meaning says what the bit's value means for this fault.
	Meaning string `json:"meaning" desc:"what the value means for this fault"`
}

// pfBits are the bits with their meaning when clear and when set.
var pfBits = []struct {
	bit        uint
	name       string
	clear, set string
}{
	{0, "X86_PF_PROT", "the page was not present", "the page was present: a protection violation"},
	{1, "X86_PF_WRITE", "a read access", "a write access"},
	{2, "X86_PF_USER", "in kernel mode (supervisor)", "in user mode"},
	{3, "X86_PF_RSVD", "no reserved bit set in a page-table entry", "a reserved bit was set in a page-table entry (corrupt page table)"},
	{4, "X86_PF_INSTR", "not an instruction fetch", "an instruction fetch (executing from the address)"},
	{5, "X86_PF_PK", "no protection-key violation", "a protection-key violation"},
	{6, "X86_PF_SHSTK", "not a shadow-stack access", "a shadow-stack access"},
	{15, "X86_PF_SGX", "not an SGX violation", "an SGX (EPCM) violation"},
}

// DecodePFError decodes a page-fault error code bit by bit.
func DecodePFError(code uint64) []PFBit {
	out := make([]PFBit, 0, len(pfBits))
	for _, b := range pfBits {
		set := code&(1<<b.bit) != 0
		m := b.clear
		if set {
			m = b.set
		}
		out = append(out, PFBit{Bit: b.bit, Name: b.name, Set: set, Meaning: m})
	}
	return out
}

// PFErrorSummary is the kernel's own one-line reading of an error code
// (show_fault_oops: "#PF: supervisor write access in kernel mode" and
// "not-present page"), given whether the faulting context was user mode.
func PFErrorSummary(code uint64, userMode bool) string {
	who := "supervisor"
	if code&(1<<2) != 0 {
		who = "user"
	}
	what := "read access"
	switch {
	case code&(1<<4) != 0:
		what = "instruction fetch"
	case code&(1<<1) != 0:
		what = "write access"
	}
	mode := "kernel"
	if userMode {
		mode = "user"
	}
	why := "permissions violation"
	switch {
	case code&1 == 0:
		why = "not-present page"
	case code&(1<<3) != 0:
		why = "reserved bit violation"
	case code&(1<<5) != 0:
		why = "protection keys violation"
	}
	return fmt.Sprintf("%s %s in %s mode, %s", who, what, mode, why)
}

// Canonical reports whether a virtual address is canonical with 4-level
// (48-bit) or 5-level (57-bit) paging: its top bits copy the last
// implemented bit. A general protection fault on a memory access is
// often a non-canonical pointer (a poison value, a use after free).
func Canonical(addr uint64, la57 bool) bool {
	bits := uint(48)
	if la57 {
		bits = 57
	}
	top := int64(addr) >> (bits - 1)
	return top == 0 || top == -1
}
