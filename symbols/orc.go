package symbols

// The kernel's ORC unwind tables (CONFIG_UNWINDER_ORC, x86_64).
//
// Facts, from arch/x86/include/asm/orc_types.h and arch/x86/kernel/unwind_orc.c
// of Linux 6.1 and 6.12, and from drgn's libdrgn/orc_info.c for the 6.3
// layout and the .orc_header hashes:
//
//   - .orc_unwind_ip is an array of int32, each relative to its own address:
//     ip[i] = &ip[i] + value. It is sorted at build time (sorttable, since 5.6).
//   - .orc_unwind is a parallel array of 6-byte struct orc_entry:
//     s16 sp_offset, s16 bp_offset, then a 16-bit word of bit fields whose
//     layout changed twice:
//     v1 (<= 6.2):  sp_reg:4 bp_reg:4 type:2 end:1        (CALL=0 REGS=1 REGS_PARTIAL=2)
//     v2 (6.3):     sp_reg:4 bp_reg:4 type:2 signal:1 end:1
//     v3 (>= 6.4):  sp_reg:4 bp_reg:4 type:3 signal:1      (UNDEFINED=0 END_OF_STACK=1 CALL=2 REGS=3 REGS_PARTIAL=4)
//     In v1/v2 "sp_reg == UNDEFINED" means undefined (end clear) or end of
//     stack (end set); REGS and REGS_PARTIAL imply signal in v1.
//   - .orc_header (6.4, backported to 6.3.10) holds 20 bytes: the SHA-1 of the
//     ORC_REG_*/ORC_TYPE_* defines and struct orc_entry (scripts/orc_hash.sh).
//
// Entries are decoded into ORCEntry with v3 meanings whatever the layout.

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ORCVersion names a layout of struct orc_entry.
type ORCVersion int

const (
	ORCv1 ORCVersion = 1 // Linux up to 6.2
	ORCv2 ORCVersion = 2 // Linux 6.3
	ORCv3 ORCVersion = 3 // Linux 6.4 and later
)

func (v ORCVersion) String() string {
	switch v {
	case ORCv1:
		return "ORC v1 (<= 6.2: type:2 end:1)"
	case ORCv2:
		return "ORC v2 (6.3: type:2 signal:1 end:1)"
	case ORCv3:
		return "ORC v3 (>= 6.4: type:3 signal:1)"
	}
	return "ORC v" + strconv.Itoa(int(v))
}

// ORCReg is a base register of an ORC rule (ORC_REG_*; same numbering in
// every layout).
type ORCReg uint8

const (
	ORCRegUndefined  ORCReg = 0
	ORCRegPrevSP     ORCReg = 1
	ORCRegDX         ORCReg = 2
	ORCRegDI         ORCReg = 3
	ORCRegBP         ORCReg = 4
	ORCRegSP         ORCReg = 5
	ORCRegR10        ORCReg = 6
	ORCRegR13        ORCReg = 7
	ORCRegBPIndirect ORCReg = 8
	ORCRegSPIndirect ORCReg = 9
)

var orcRegNames = [...]string{"undef", "prevsp", "dx", "di", "bp", "sp", "r10", "r13", "bp(ind)", "sp(ind)"}

func (r ORCReg) String() string {
	if int(r) < len(orcRegNames) {
		return orcRegNames[r]
	}
	return "reg" + strconv.Itoa(int(r))
}

// ORCType is what an entry describes, in v3 numbering (ORC_TYPE_*).
type ORCType uint8

const (
	ORCTypeUndefined    ORCType = 0 // no unwind information: an error to reach
	ORCTypeEndOfStack   ORCType = 1 // the outermost frame
	ORCTypeCall         ORCType = 2 // a normal call frame: return address at CFA-8
	ORCTypeRegs         ORCType = 3 // a full struct pt_regs at CFA
	ORCTypeRegsPartial  ORCType = 4 // the iret frame (ip, cs, flags, sp, ss) at CFA
	orcTypeFirstInvalid ORCType = 5
)

var orcTypeNames = [...]string{"undefined", "end", "call", "regs", "regs_partial"}

func (t ORCType) String() string {
	if int(t) < len(orcTypeNames) {
		return orcTypeNames[t]
	}
	return "type" + strconv.Itoa(int(t))
}

// ORCEntry is one decoded struct orc_entry.
type ORCEntry struct {
	SPOffset int16
	BPOffset int16
	SPReg    ORCReg
	BPReg    ORCReg
	Type     ORCType
	Signal   bool   // the PC of a frame using this entry is not a return address
	Raw      uint16 // the bit-field word as stored
}

func (e ORCEntry) String() string {
	s := fmt.Sprintf("sp:%s%+d bp:%s%+d type:%s", e.SPReg, e.SPOffset, e.BPReg, e.BPOffset, e.Type)
	if e.Signal {
		s += " signal"
	}
	return s
}

// orcEntrySize is sizeof(struct orc_entry) (__packed) in every layout.
const orcEntrySize = 6

// DecodeORCEntry decodes one 6-byte struct orc_entry of layout v.
func DecodeORCEntry(b []byte, v ORCVersion) (ORCEntry, error) {
	if len(b) < orcEntrySize {
		return ORCEntry{}, fmt.Errorf("orc_entry: %d bytes, want %d", len(b), orcEntrySize)
	}
	raw := binary.LittleEndian.Uint16(b[4:])
	e := ORCEntry{
		SPOffset: int16(binary.LittleEndian.Uint16(b[0:])),
		BPOffset: int16(binary.LittleEndian.Uint16(b[2:])),
		SPReg:    ORCReg(raw & 0xf),
		BPReg:    ORCReg(raw >> 4 & 0xf),
		Raw:      raw,
	}
	switch v {
	case ORCv3:
		e.Type = ORCType(raw >> 8 & 7)
		e.Signal = raw&0x800 != 0
	case ORCv1, ORCv2:
		oldType := raw >> 8 & 3
		endBit, signal := raw&0x400 != 0, oldType == 1 || oldType == 2
		if v == ORCv2 {
			endBit, signal = raw&0x800 != 0, raw&0x400 != 0
		}
		switch {
		case e.SPReg == ORCRegUndefined && endBit:
			e.Type = ORCTypeEndOfStack
		case e.SPReg == ORCRegUndefined:
			e.Type = ORCTypeUndefined
		default:
			// UNWIND_HINT_TYPE_CALL/REGS/REGS_PARTIAL = 0/1/2 became ORC_TYPE_ 2/3/4.
			e.Type = ORCType(oldType) + ORCTypeCall
		}
		e.Signal = signal
	default:
		return ORCEntry{}, fmt.Errorf("orc_entry: unknown layout %d", int(v))
	}
	return e, nil
}

// orcHeaderSize is the length of .orc_header: a SHA-1.
const orcHeaderSize = 20

// Known .orc_header values. Each is scripts/orc_hash.sh over that version's
// orc_types.h; the v3 one was checked against linux-source-6.12 (6.12.117).
var orcHeaderHashes = map[string]ORCVersion{
	"fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24": ORCv3, // fb799447ae29, 6.4 .. 6.12 at least
	"db84aed4103b31dd51e017f8f79783ca985c2c51": ORCv2, // ffb1b4a41016, 6.3.10+
}

// ORCVersionFor works out the orc_entry layout of a kernel: from the
// .orc_header hash when the image has one (6.3.10 and later), else from the
// kernel release ("6.1.176"). how says which evidence decided. An unknown
// hash or an unparsable release is an error: the layout is never guessed.
func ORCVersionFor(header []byte, hasHeader bool, release string) (v ORCVersion, how string, err error) {
	if hasHeader {
		if len(header) != orcHeaderSize {
			return 0, "", fmt.Errorf(".orc_header: %d bytes, want %d", len(header), orcHeaderSize)
		}
		h := hex.EncodeToString(header)
		v, ok := orcHeaderHashes[h]
		if !ok {
			return 0, "", fmt.Errorf(".orc_header: unknown ORC layout hash %s (kernel newer than this gocrash?)", h)
		}
		return v, ".orc_header " + h[:12], nil
	}
	major, minor, ok := parseRelease(release)
	if !ok {
		return 0, "", fmt.Errorf("no .orc_header and no kernel release to tell the ORC layout (got %q)", release)
	}
	how = "kernel release " + release
	switch {
	case major > 6 || major == 6 && minor >= 4:
		return ORCv3, how, nil
	case major == 6 && minor == 3:
		return ORCv2, how, nil
	}
	return ORCv1, how, nil
}

// parseRelease takes "6.1.176-amd64" or a banner "Linux version 6.1.176 ...".
func parseRelease(s string) (major, minor int, ok bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "Linux version "))
	a, rest, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	major, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	minor, err = strconv.Atoi(rest[:end])
	if err != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// ORCTable is one ORC table (vmlinux's or a module's), kept as the raw bytes
// and decoded per lookup.
type ORCTable struct {
	version ORCVersion
	how     string
	ips     []byte // int32 each, relative to its own run-time address
	ipAddr  uint64 // run-time address of ips[0]
	orcs    []byte // orc_entry each
	n       int
	order   []int32 // nil when the table is sorted; else indexes in PC order
	ranges  [][2]uint64
}

// ParseORC checks and wraps an .orc_unwind_ip / .orc_unwind pair. ipAddr is
// the run-time (KASLR-relocated) address of the first .orc_unwind_ip element.
// The slices are kept, not copied.
func ParseORC(ipData []byte, ipAddr uint64, orcData []byte, v ORCVersion) (*ORCTable, error) {
	if v < ORCv1 || v > ORCv3 {
		return nil, fmt.Errorf("orc: unknown layout %d", int(v))
	}
	if len(ipData)%4 != 0 {
		return nil, fmt.Errorf(".orc_unwind_ip: size %d is not a multiple of 4", len(ipData))
	}
	n := len(ipData) / 4
	if len(orcData) != n*orcEntrySize {
		return nil, fmt.Errorf(".orc_unwind: size %d, want %d for %d .orc_unwind_ip entries", len(orcData), n*orcEntrySize, n)
	}
	if n == 0 {
		return nil, fmt.Errorf(".orc_unwind_ip: empty table")
	}
	if n > 1<<30 {
		return nil, fmt.Errorf(".orc_unwind_ip: %d entries is too many", n)
	}
	t := &ORCTable{version: v, ips: ipData, ipAddr: ipAddr, orcs: orcData, n: n}
	for i := 1; i < n; i++ {
		if t.rawIP(i) < t.rawIP(i-1) {
			t.sortIndex()
			break
		}
	}
	return t, nil
}

// sortIndex orders an unsorted table (a module's in a file, or a vmlinux
// older than 5.6) the way the kernel's orc_sort_cmp does: by PC, with the
// "weak" section terminators before a real entry at the same PC.
func (t *ORCTable) sortIndex() {
	t.order = make([]int32, t.n)
	for i := range t.order {
		t.order[i] = int32(i)
	}
	sort.SliceStable(t.order, func(a, b int) bool {
		ia, ib := int(t.order[a]), int(t.order[b])
		pa, pb := t.rawIP(ia), t.rawIP(ib)
		if pa != pb {
			return pa < pb
		}
		return t.rawEntry(ia).Type == ORCTypeUndefined && t.rawEntry(ib).Type != ORCTypeUndefined
	})
}

func (t *ORCTable) rawIP(i int) uint64 {
	rel := int32(binary.LittleEndian.Uint32(t.ips[4*i:]))
	return t.ipAddr + uint64(4*i) + uint64(int64(rel))
}

func (t *ORCTable) rawEntry(i int) ORCEntry {
	e, _ := DecodeORCEntry(t.orcs[orcEntrySize*i:], t.version) // version checked in ParseORC
	return e
}

func (t *ORCTable) index(i int) int {
	if t.order != nil {
		return int(t.order[i])
	}
	return i
}

// Version is the table's orc_entry layout; VersionEvidence says how it was
// decided (".orc_header ..." or "kernel release ...").
func (t *ORCTable) Version() ORCVersion     { return t.version }
func (t *ORCTable) VersionEvidence() string { return t.how }

// Len is the number of entries.
func (t *ORCTable) Len() int { return t.n }

// At returns the i-th entry in PC order and the first PC it applies to.
func (t *ORCTable) At(i int) (pc uint64, e ORCEntry) {
	j := t.index(i)
	return t.rawIP(j), t.rawEntry(j)
}

// SetTextRanges limits Find to PCs inside the given [start, end) ranges, as
// the kernel's orc_find only answers for _stext.._etext and init text: the
// table's last entry would otherwise claim every address above it.
func (t *ORCTable) SetTextRanges(r [][2]uint64) { t.ranges = r }

func (t *ORCTable) inText(pc uint64) bool {
	for _, r := range t.ranges {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// Find returns the entry covering pc and the PC where that entry starts: the
// rightmost entry whose PC is <= pc (__orc_find in unwind_orc.c).
func (t *ORCTable) Find(pc uint64) (e ORCEntry, start uint64, ok bool) {
	if len(t.ranges) > 0 && !t.inText(pc) {
		return ORCEntry{}, 0, false
	}
	// First index whose PC is > pc; the one before it is the answer.
	i := sort.Search(t.n, func(i int) bool { return t.rawIP(t.index(i)) > pc })
	if i == 0 {
		return ORCEntry{}, 0, false
	}
	start, e = t.At(i - 1)
	return e, start, true
}

// LoadORC reads vmlinux's ORC tables. release ("6.1.176") decides the
// layout when the image has no .orc_header; when empty, the release is read
// from linux_banner in the image.
func LoadORC(img KernelImage, release string) (*ORCTable, error) {
	ipData, ipSec, ok := img.Section(".orc_unwind_ip")
	if !ok {
		return nil, fmt.Errorf("vmlinux has no .orc_unwind_ip section (kernel not built with CONFIG_UNWINDER_ORC)")
	}
	orcData, _, ok := img.Section(".orc_unwind")
	if !ok {
		return nil, fmt.Errorf("vmlinux has .orc_unwind_ip but no .orc_unwind section")
	}
	// Section addresses are link-time; the symbols carry the KASLR slide.
	ipAddr := ipSec
	if a, ok := img.Lookup("__start_orc_unwind_ip"); ok {
		ipAddr = a
	}
	header, _, hasHeader := img.Section(".orc_header")
	if !hasHeader && release == "" {
		release = imageRelease(img)
	}
	v, how, err := ORCVersionFor(header, hasHeader, release)
	if err != nil {
		return nil, err
	}
	t, err := ParseORC(ipData, ipAddr, orcData, v)
	if err != nil {
		return nil, err
	}
	t.how = how
	var ranges [][2]uint64
	for _, r := range [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}} {
		lo, ok1 := img.Lookup(r[0])
		hi, ok2 := img.Lookup(r[1])
		if ok1 && ok2 && lo < hi {
			ranges = append(ranges, [2]uint64{lo, hi})
		}
	}
	t.SetTextRanges(ranges)
	return t, nil
}

// imageRelease reads "Linux version X.Y.Z" from linux_banner in the image.
func imageRelease(img KernelImage) string {
	addr, ok := img.Lookup("linux_banner")
	if !ok {
		return ""
	}
	buf := make([]byte, 64)
	if err := img.ReadFile(addr, buf); err != nil {
		return ""
	}
	s := string(buf)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "Linux version ")
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	return s
}

// FindRaw is Find's entry as its index in the table as stored (the
// .orc_unwind_ip order): what crash's orc_dump walks from.
func (t *ORCTable) FindRaw(pc uint64) (int, bool) {
	if len(t.ranges) > 0 && !t.inText(pc) {
		return 0, false
	}
	i := sort.Search(t.n, func(i int) bool { return t.rawIP(t.index(i)) > pc })
	if i == 0 {
		return 0, false
	}
	return t.index(i - 1), true
}

// Raw is the j-th stored entry: the address of its .orc_unwind_ip slot,
// the PC it starts at and the entry.
func (t *ORCTable) Raw(j int) (slot, pc uint64, e ORCEntry, ok bool) {
	if j < 0 || j >= t.n {
		return 0, 0, ORCEntry{}, false
	}
	return t.ipAddr + uint64(4*j), t.rawIP(j), t.rawEntry(j), true
}
