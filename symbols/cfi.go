package symbols

// DWARF call frame information from vmlinux's .debug_frame, the unwinder's
// second choice after ORC: it covers code ORC marks undefined and kernels
// built without ORC. Parsing and row evaluation are delve's
// (pkg/dwarf/frame); only the mapping onto x86_64 kernel registers is ours.

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/go-delve/delve/pkg/dwarf/frame"
)

// DWARF register numbers of x86_64 (System V psABI, figure 3.36).
const (
	dwarfRAX = 0
	dwarfRDX = 1
	dwarfRCX = 2
	dwarfRBX = 3
	dwarfRSI = 4
	dwarfRDI = 5
	dwarfRBP = 6
	dwarfRSP = 7
	dwarfR8  = 8
	dwarfR15 = 15
	dwarfRA  = 16
)

// cfiTable is a parsed .debug_frame, FDEs sorted by start address.
type cfiTable struct {
	fdes frame.FrameDescriptionEntries
}

// parseCFI parses .debug_frame; slide is added to every FDE address (KASLR).
// delve's parser panics on some malformed input, so a panic becomes an error.
func parseCFI(data []byte, slide uint64) (t *cfiTable, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf(".debug_frame: malformed: %v", r)
		}
	}()
	fdes, err := frame.Parse(data, binary.LittleEndian, slide, 8, 0)
	if err != nil {
		return nil, fmt.Errorf(".debug_frame: %w", err)
	}
	// One FDE list per compilation unit, concatenated: sort for FDEForPC.
	sort.SliceStable(fdes, func(i, j int) bool { return fdes[i].Begin() < fdes[j].Begin() })
	return &cfiTable{fdes: fdes}, nil
}

// cfiRule is the part of a CFI row the kernel unwinder can use.
type cfiRule struct {
	cfaReg    uint64
	cfaOffset int64
	ra        frame.DWRule
	bp        frame.DWRule
	hasBP     bool
	fdeBegin  uint64
}

// row evaluates the CFI program up to pc.
func (t *cfiTable) row(pc uint64) (r cfiRule, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf(".debug_frame: malformed CFI program for pc %#x: %v", pc, p)
		}
	}()
	fde, err := t.fdes.FDEForPC(pc)
	if err != nil {
		return r, err
	}
	ctx, err := fde.EstablishFrame(pc)
	if err != nil {
		return r, fmt.Errorf(".debug_frame: FDE at %#x: %w", fde.Begin(), err)
	}
	if ctx.CFA.Rule != frame.RuleCFA {
		return r, fmt.Errorf(".debug_frame: pc %#x: CFA is a DWARF expression (unsupported)", pc)
	}
	r.cfaReg, r.cfaOffset, r.fdeBegin = ctx.CFA.Reg, ctx.CFA.Offset, fde.Begin()
	r.ra = ctx.Regs[ctx.RetAddrReg]
	r.bp, r.hasBP = ctx.Regs[dwarfRBP]
	return r, nil
}

// dwarfReg returns a register of a full pt_regs by DWARF number.
func dwarfReg(p *PtRegs, n uint64) (uint64, bool) {
	switch n {
	case dwarfRAX:
		return p.AX, true
	case dwarfRDX:
		return p.DX, true
	case dwarfRCX:
		return p.CX, true
	case dwarfRBX:
		return p.BX, true
	case dwarfRSI:
		return p.SI, true
	case dwarfRDI:
		return p.DI, true
	case dwarfRBP:
		return p.BP, true
	case dwarfRSP:
		return p.SP, true
	case 8:
		return p.R8, true
	case 9:
		return p.R9, true
	case 10:
		return p.R10, true
	case 11:
		return p.R11, true
	case 12:
		return p.R12, true
	case 13:
		return p.R13, true
	case 14:
		return p.R14, true
	case dwarfR15:
		return p.R15, true
	}
	return 0, false
}

// stepCFI unwinds one frame with .debug_frame.
func (u *Unwinder) stepCFI(s *state) (*state, uint64, stepResult, error) {
	u.loadCFI()
	if u.cfi == nil {
		return nil, 0, stepNone, u.cfiErr
	}
	pc := s.ip
	if !s.signal {
		pc--
	}
	r, err := u.cfi.row(pc)
	if err != nil {
		return nil, 0, stepNone, err
	}
	var base uint64
	switch r.cfaReg {
	case dwarfRSP:
		base = s.sp
	case dwarfRBP:
		base = s.bp
	default:
		v, ok := uint64(0), false
		if s.regs != nil && s.regs.Full {
			v, ok = dwarfReg(&s.regs.Regs, r.cfaReg)
		}
		if !ok {
			return nil, 0, stepNone, fmt.Errorf("pc %#x: CFA based on DWARF register %d, whose value is unknown", pc, r.cfaReg)
		}
		base = v
	}
	cfa := base + uint64(r.cfaOffset)
	if r.ra.Rule == frame.RuleUndefined {
		// DWARF's outermost frame: no return address.
		return nil, 0, stepEnd, nil
	}
	if r.ra.Rule != frame.RuleOffset {
		return nil, 0, stepNone, fmt.Errorf("pc %#x: return address rule %d unsupported", pc, r.ra.Rule)
	}
	n := s.clone()
	ipp := cfa + uint64(r.ra.Offset)
	ip, err := n.word(ipp)
	if err != nil {
		return nil, 0, stepFail, fmt.Errorf("pc %#x: return address at %#x: %w", pc, ipp, err)
	}
	n.ip, n.sp, n.slot, n.signal = ip, cfa, ipp, false
	n.regs, n.prevRegs = nil, nil
	if r.hasBP {
		switch r.bp.Rule {
		case frame.RuleOffset:
			v, err := n.word(cfa + uint64(r.bp.Offset))
			if err != nil {
				return nil, 0, stepFail, fmt.Errorf("pc %#x: saved rbp at %#x: %w", pc, cfa+uint64(r.bp.Offset), err)
			}
			n.bp = v
		case frame.RuleValOffset:
			n.bp = cfa + uint64(r.bp.Offset)
		}
	}
	return n, cfa, stepNext, nil
}
