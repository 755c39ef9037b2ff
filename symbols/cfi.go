package symbols

// DWARF call frame information from vmlinux's .debug_frame, the unwinder's
// second choice after ORC: it covers code ORC marks undefined and kernels
// built without ORC. Parsing and row evaluation are delve's
// (pkg/dwarf/frame); only the mapping onto x86_64 kernel registers is ours.

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"

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

// cfiTable is vmlinux's .debug_frame, indexed lazily: parseCFI only reads
// each FDE's address range (a header walk of the section, a few
// milliseconds even for a distribution kernel's), and an FDE's CIE and
// instructions are decoded by delve when a pc inside it is first asked
// for. delve's frame.Parse decodes every entry of the section up front,
// which took longer than a whole foreach bt of the test bed's tasks, on
// every bt command.
type cfiTable struct {
	data  []byte
	slide uint64
	offs  []uint32          // each FDE's offset, in section order
	order []int32           // offs sorted by begin, as delve's FDEForPC wants them (sortFDEs)
	cies  map[uint32]uint32 // each CIE's offset -> its end

	mu     sync.Mutex
	parsed map[int]*frame.FrameDescriptionEntry // by place in order
}

// cfiFDE is one FDE's place in the section (fde makes it from the
// section's bytes: the index keeps only where the FDE is, 4 bytes where
// this is 32, for the few FDEs a session looks up).
type cfiFDE struct {
	begin, size uint64 // slide applied to begin
	off, end    uint32 // the FDE's bytes: data[off:end]
	cie, cieEnd uint32 // its CIE's bytes
}

func (f cfiFDE) cover(pc uint64) bool { return pc >= f.begin && pc-f.begin < f.size }

// parseCFI indexes .debug_frame; slide is added to every FDE address
// (KASLR). Only 32-bit DWARF is read, as delve's parser does.
func parseCFI(data []byte, slide uint64) (*cfiTable, error) {
	t := &cfiTable{data: data, slide: slide, parsed: map[int]*frame.FrameDescriptionEntry{}}
	if uint64(len(data)) >= 1<<32 {
		return nil, fmt.Errorf(".debug_frame: %d bytes: larger than 32-bit DWARF can address", len(data))
	}
	cies := map[uint32]uint32{} // CIE offset -> its end
	t.cies = cies
	le := binary.LittleEndian
	t.offs = make([]uint32, 0, countFDEs(data))
	// The FDEs of a unit follow its CIE: the last one looked up answers
	// almost every FDE without the map.
	lastCIE, haveLast := uint32(0), false
	for off := 0; off < len(data); {
		if len(data)-off < 4 {
			return nil, fmt.Errorf(".debug_frame: entry at %#x: %d bytes left, want a 4-byte length", off, len(data)-off)
		}
		length := le.Uint32(data[off:])
		if length == 0 {
			off += 4 // a zero terminator
			continue
		}
		if length == 0xffffffff || uint64(length) > uint64(len(data)-off-4) || length < 4 {
			return nil, fmt.Errorf(".debug_frame: entry at %#x: length %#x does not fit the section (%#x bytes)", off, length, len(data))
		}
		end := off + 4 + int(length)
		id := le.Uint32(data[off+4:])
		if id == 0xffffffff {
			cies[uint32(off)] = uint32(end)
			off = end
			continue
		}
		if !haveLast || id != lastCIE {
			if _, ok := cies[id]; !ok {
				return nil, fmt.Errorf(".debug_frame: FDE at %#x: unknown CIE_id %#x", off, id)
			}
			lastCIE, haveLast = id, true
		}
		if end-off < 24 {
			return nil, fmt.Errorf(".debug_frame: FDE at %#x: %d bytes, too short for its address range", off, end-off)
		}
		t.offs = append(t.offs, uint32(off))
		off = end
	}
	t.order = sortFDEs(len(t.offs), t.begin)
	return t, nil
}

// begin is the start of the k-th FDE in section order (slide applied).
func (t *cfiTable) begin(k int) uint64 {
	return binary.LittleEndian.Uint64(t.data[t.offs[k]+8:]) + t.slide
}

// fde is the k-th FDE in section order.
func (t *cfiTable) fde(k int) cfiFDE {
	le := binary.LittleEndian
	off := t.offs[k]
	id := le.Uint32(t.data[off+4:])
	return cfiFDE{begin: t.begin(k), size: le.Uint64(t.data[off+16:]), off: off,
		end: off + 4 + le.Uint32(t.data[off:]), cie: id, cieEnd: t.cies[id]}
}

// countFDEs is how many FDEs the section's entries hold, as far as their
// lengths can be followed (parseCFI says what is wrong past that): the
// index is made at its size, not grown (a megabyte, copied twice, for a
// distribution kernel's).
func countFDEs(data []byte) int {
	le := binary.LittleEndian
	n := 0
	for off := 0; len(data)-off >= 8; {
		length := le.Uint32(data[off:])
		if length == 0 {
			off += 4
			continue
		}
		if length == 0xffffffff || uint64(length) > uint64(len(data)-off-4) || length < 4 {
			break
		}
		if le.Uint32(data[off+4:]) != 0xffffffff {
			n++
		}
		off += 4 + int(length)
	}
	return n
}

// sortFDEs is the order of fdes for the lookup, as delve sorts its own
// (one FDE list per compilation unit, concatenated: stably, so that equal
// starts keep the section's order, here by offset, which is unique). The
// FDEs are in section order, so a key of the start above the lowest one
// and the FDE's index, radix-sorted, is that order: comparing the entries
// took 4.5 ms for the 27,700 FDEs of the test bed's vmlinux, and moving
// them into that order (a megabyte visited at random) half as much again,
// for the few a session looks up. Starts spread too widely for the key
// are sorted by comparison.
func sortFDEs(n int, begin func(k int) uint64) []int32 {
	order := make([]int32, n)
	if n == 0 {
		return order
	}
	lo, hi := begin(0), begin(0)
	for k := range n {
		b := begin(k)
		lo, hi = min(lo, b), max(hi, b)
	}
	idxBits := uint(bits.Len(uint(n)))
	if spread := hi - lo; bits.Len64(spread)+int(idxBits) > 64 {
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(begin(int(a)), begin(int(b))) })
		return order
	}
	keys := make([]uint64, n)
	for k := range keys {
		keys[k] = (begin(k)-lo)<<idxBits | uint64(k)
	}
	radixSort(keys, uint(bits.Len64(hi-lo))+idxBits)
	mask := uint64(1)<<idxBits - 1
	for i, key := range keys {
		order[i] = int32(key & mask)
	}
	return order
}

// sorted is the i-th FDE in begin order.
func (t *cfiTable) sorted(i int) cfiFDE { return t.fde(int(t.order[i])) }

// radixSort sorts keys whose values are below 1<<width, least significant
// 11-bit digit first.
func radixSort(keys []uint64, width uint) {
	const digit = 11
	tmp := make([]uint64, len(keys))
	var count [1 << digit]int
	src, dst := keys, tmp
	for shift := uint(0); shift < width; shift += digit {
		clear(count[:])
		for _, k := range src {
			count[(k>>shift)&(1<<digit-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & (1<<digit - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// fdeForPC is delve's FrameDescriptionEntries.FDEForPC over the index, the
// FDE decoded on first use.
func (t *cfiTable) fdeForPC(pc uint64) (*frame.FrameDescriptionEntry, error) {
	cover := func(i int) bool {
		k := int(t.order[i])
		begin, size := t.begin(k), binary.LittleEndian.Uint64(t.data[t.offs[k]+16:])
		return pc >= begin && pc-begin < size
	}
	i := sort.Search(len(t.order), func(i int) bool { return cover(i) || t.begin(int(t.order[i])) >= pc })
	if i == len(t.order) || !cover(i) {
		return nil, &frame.ErrNoFDEForPC{PC: pc}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if fde, ok := t.parsed[i]; ok {
		return fde, nil
	}
	fde, err := t.decode(t.sorted(i))
	if err != nil {
		return nil, err
	}
	t.parsed[i] = fde
	return fde, nil
}

// decode has delve parse one FDE: its CIE, then the FDE with its CIE
// pointer made 0, the CIE's offset in that small section.
func (t *cfiTable) decode(f cfiFDE) (*frame.FrameDescriptionEntry, error) {
	cie := t.data[f.cie:f.cieEnd]
	buf := make([]byte, 0, len(cie)+int(f.end-f.off))
	buf = append(buf, cie...)
	fdeAt := len(buf)
	buf = append(buf, t.data[f.off:f.end]...)
	binary.LittleEndian.PutUint32(buf[fdeAt+4:], 0)
	fdes, err := frame.Parse(buf, binary.LittleEndian, t.slide, 8, 0)
	if err != nil {
		return nil, fmt.Errorf(".debug_frame: FDE at %#x: %w", f.off, err)
	}
	if len(fdes) != 1 {
		return nil, fmt.Errorf(".debug_frame: FDE at %#x: %d entries decoded, want 1", f.off, len(fdes))
	}
	return fdes[0], nil
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
	fde, err := t.fdeForPC(pc)
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
