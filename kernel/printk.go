package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"gocrash/symbols"
)

// The kernel log comes in three formats, and a kernel is read in the one
// it has, decided like crash's dump_log() by which symbols exist, never by
// version number:
//
//   - the lockless ring buffer "prb" of 5.10+ (kernel/printk/printk_ringbuffer.h):
//     a descriptor ring, an info array parallel to it, and a text data ring
//     of id-tagged blocks;
//   - struct printk_log records in log_buf, found through log_first_idx and
//     log_next_idx (3.5-5.9, kernel/printk/printk.c; "struct log" before 3.11);
//   - a plain character buffer log_buf with log_end (before 3.5).
//
// Each format has a walker over plain bytes (walkPRB, walkPrintkLog,
// plainLog) that never reads memory itself, so it can be fuzzed; the
// Kernel methods only fetch the bytes and the layout.

// LogFormat is the kind of printk buffer a kernel has.
type LogFormat int

const (
	LogLockless   LogFormat = iota + 1 // 5.10+: prb
	LogStructured                      // 3.5-5.9: struct printk_log in log_buf
	LogPlain                           // before 3.5: characters in log_buf
)

func (f LogFormat) String() string {
	switch f {
	case LogLockless:
		return "lockless ring buffer"
	case LogStructured:
		return "printk_log records"
	case LogPlain:
		return "plain log_buf"
	}
	return fmt.Sprintf("LogFormat(%d)", int(f))
}

// A LogRecord is one printk record.
type LogRecord struct {
	Seq       uint64
	TsNsec    uint64
	Level     uint8 // syslog level
	Facility  uint8
	CallerID  uint32 // thread id, or 0x80000000|cpu
	HasCaller bool   // the kernel records caller ids (always with prb)
	Text      []byte // the message bytes as stored (may hold '\n')
	Dict      []byte // printk_log's dictionary: KEY=value pairs split by NUL
	Subsystem string // prb's dev_printk_info
	Device    string
	Dataless  bool // a prb record with no text block: crash prints an empty line
}

// Log is the whole printk buffer of a dump.
type Log struct {
	Format  LogFormat
	Records []LogRecord // LogLockless and LogStructured
	// Plain is log_buf of a LogPlain kernel and PlainEnd its log_end.
	Plain    []byte
	PlainEnd uint64
	// Notes name the records that were skipped as damaged or missing from
	// the dump, one line each.
	Notes []string
}

// Limits against corrupt headers: CONFIG_LOG_BUF_SHIFT is at most 25, and
// the descriptor ring has a quarter as many bits (PRB_AVGBITS is 5).
const (
	maxLogRingBits = 28
	maxLogBufLen   = 1 << maxLogRingBits
)

// Log reads the kernel's printk buffer in whatever format it has. A
// damaged buffer is not an error: the records that could be read are
// returned, and Notes names the others.
func (k *Kernel) Log(ctx context.Context) (*Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case k.HasSymbol("prb"):
		return k.readPRB(ctx)
	case k.HasSymbol("log_first_idx") && k.HasSymbol("log_next_idx"):
		return k.readPrintkLog(ctx)
	case k.HasSymbol("log_buf"):
		return k.readPlainLog()
	}
	return nil, errors.New("no printk buffer: the kernel has neither prb nor log_buf")
}

// Err is the buffer's damage as one error ("printk buffer: " and the
// notes), nil when every record was read.
func (l *Log) Err() error {
	if len(l.Notes) == 0 {
		return nil
	}
	return fmt.Errorf("printk buffer: %s", strings.Join(l.Notes, "; "))
}

// Lines is the log as crash's "log -t" prints it: one line per record,
// a record's embedded newlines starting new lines, unprintable bytes as
// '.'; a plain log_buf is cut at its newlines.
func (l *Log) Lines() []string {
	if l.Format == LogPlain {
		out := plainLog(l.Plain, l.PlainEnd, false)
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}
	var lines []string
	for _, r := range l.Records {
		line := make([]byte, 0, len(r.Text))
		for _, c := range r.Text {
			switch {
			case c == '\n':
				lines = append(lines, string(line))
				line = line[:0]
			case Printable(c):
				line = append(line, c)
			default:
				line = append(line, '.')
			}
		}
		lines = append(lines, string(line))
	}
	return lines
}

// PlainText is a plain log_buf (LogPlain) in crash's dump_log() order:
// oldest character first, NULs dropped, non-ASCII bytes as '.', the "<N>"
// level prefix at line starts kept only with showLevel, and a final
// newline. It is nil for the record formats.
func (l *Log) PlainText(showLevel bool) []byte {
	if l.Format != LogPlain {
		return nil
	}
	return plainLog(l.Plain, l.PlainEnd, showLevel)
}

// Printable is crash's isprint(c) || isspace(c) on a signed char in the C
// locale (bytes above 0x7f are negative there and neither): the bytes the
// log shows as they are, the others being shown as '.'.
func Printable(c byte) bool {
	return c >= 0x20 && c < 0x7f || c >= '\t' && c <= '\r'
}

// ---- the lockless ring buffer (5.10+) ----

// prbLayout is where the walker finds its fields: byte offsets inside one
// struct prb_desc and one struct printk_info.
type prbLayout struct {
	DescSize, InfoSize       int
	StateVar                 int // prb_desc.state_var (atomic_long_t)
	TextBegin, TextNext      int // prb_desc.text_blk_lpos.begin / .next
	Seq, TsNsec, TextLen     int // printk_info
	Facility, CallerID       int
	LevelByte                int // the byte holding the 3-bit level ...
	LevelShift, LevelBits    int // ... and where in it
	Subsystem, SubsystemLen  int // dev_info.subsystem (char[])
	Device, DeviceLen        int // dev_info.device (char[])
	HasDevInfo, HasCallerIDs bool
}

// prbRing is one snapshot of the ring: its sizes, head and tail ids and
// the bytes of the three arrays.
type prbRing struct {
	CountBits, SizeBits uint
	HeadID, TailID      uint64
	Descs, Infos, Text  []byte
	// TextHole reports a text range that was missing from the dump (nil:
	// everything was read).
	TextHole func(off, n uint64) bool
	// InfoHole is the same for the info array.
	InfoHole func(off, n uint64) bool
}

// Descriptor states and the id mask (kernel/printk/printk_ringbuffer.h:
// the top two bits of state_var hold the state, the rest the id).
const (
	descReserved  = 0
	descCommitted = 1
	descFinalized = 2
	descReusable  = 3
	descFlagShift = 62
	descIDMask    = 1<<descFlagShift - 1
	prbBlockIDLen = 8 // a data block starts with its descriptor's id (unsigned long)
)

// walkPRB is crash's dump_lockless_record_log(): every descriptor id from
// tail_id to head_id, keeping the committed and finalized ones (a
// reserved record is still being written, a reusable one is free; an id
// that does not match its slot was recycled: all three are skipped
// silently, as crash and the kernel's readers do). A record whose text
// block is not a legal block of the data ring, or whose block carries
// another descriptor's id, or lies in a page missing from the dump, is
// skipped with a note.
func walkPRB(l *prbLayout, r *prbRing) (recs []LogRecord, notes []string) {
	if r.CountBits > maxLogRingBits || r.SizeBits > maxLogRingBits || r.SizeBits < 3 {
		return nil, []string{fmt.Sprintf("implausible ring sizes (count_bits %d, size_bits %d)", r.CountBits, r.SizeBits)}
	}
	count := uint64(1) << r.CountBits
	size := uint64(1) << r.SizeBits
	if l.DescSize <= 0 || l.InfoSize <= 0 ||
		uint64(len(r.Descs)) < count*uint64(l.DescSize) || uint64(len(r.Infos)) < count*uint64(l.InfoSize) ||
		uint64(len(r.Text)) < size {
		return nil, []string{"ring arrays shorter than their sizes say"}
	}
	if !l.fits() {
		return nil, []string{"descriptor layout outside the descriptor or info size"}
	}
	le := binary.LittleEndian
	head := r.HeadID & descIDMask
	tail := r.TailID & descIDMask
	// The ring holds at most count descriptors: tail..head inclusive. A
	// longer span means a corrupt tail; walk the newest count ids only.
	if span := (head - tail) & descIDMask; span >= count {
		notes = append(notes, fmt.Sprintf("tail_id %#x is %d descriptors behind head_id %#x in a ring of %d: walked the last %d", tail, span, head, count, count))
		tail = (head - count + 1) & descIDMask
	}
	wraps := func(lpos uint64) uint64 { return lpos >> r.SizeBits }
	index := func(lpos uint64) uint64 { return lpos & (size - 1) }
	zeroInfos := 0
	for id := tail; ; id = (id + 1) & descIDMask {
		slot := id % count
		d := r.Descs[slot*uint64(l.DescSize):][:l.DescSize]
		sv := le.Uint64(d[l.StateVar:])
		state := sv >> descFlagShift
		if sv&descIDMask == id && (state == descCommitted || state == descFinalized) {
			if r.InfoHole != nil && r.InfoHole(slot*uint64(l.InfoSize), uint64(l.InfoSize)) {
				zeroInfos++
			}
			in := r.Infos[slot*uint64(l.InfoSize):][:l.InfoSize]
			rec := LogRecord{
				Seq:       le.Uint64(in[l.Seq:]),
				TsNsec:    le.Uint64(in[l.TsNsec:]),
				Facility:  in[l.Facility],
				Level:     in[l.LevelByte] >> l.LevelShift & (1<<l.LevelBits - 1),
				HasCaller: l.HasCallerIDs,
			}
			if l.HasCallerIDs {
				rec.CallerID = le.Uint32(in[l.CallerID:])
			}
			if l.HasDevInfo {
				rec.Subsystem = symbols.CString(in[l.Subsystem : l.Subsystem+l.SubsystemLen])
				rec.Device = symbols.CString(in[l.Device : l.Device+l.DeviceLen])
			}
			begin, next := le.Uint64(d[l.TextBegin:]), le.Uint64(d[l.TextNext:])
			if begin&1 != 0 && next&1 != 0 {
				// A data-less record (BLK_DATALESS: an empty message, or
				// one whose text did not fit, FAILED_LPOS): crash, which
				// tests begin == next modulo the ring, prints an empty
				// line for it.
				rec.Dataless = true
				recs = append(recs, rec)
			} else if text, why := prbText(r, begin, next, id, wraps, index, size); why != "" {
				notes = append(notes, fmt.Sprintf("record seq %d (descriptor id %#x) skipped: %s", rec.Seq, id, why))
			} else {
				if n := int(le.Uint16(in[l.TextLen:])); n < len(text) {
					text = text[:n]
				}
				rec.Text = text
				recs = append(recs, rec)
			}
		}
		if id == head {
			break
		}
	}
	if zeroInfos > 0 {
		notes = append(notes, fmt.Sprintf("%d record(s) have their info (sequence number, timestamp, level) in pages missing from the dump: read as zero", zeroInfos))
	}
	return recs, notes
}

// prbText is the text of a data block, checked as the kernel's get_data()
// checks it (printk_ringbuffer.c): a regular block lies within one wrap, a
// wrapping one keeps its data at the start of the ring, both are aligned
// to and hold at least the block id, which must be the descriptor'k.
func prbText(r *prbRing, begin, next, id uint64, wraps, index func(uint64) uint64, size uint64) ([]byte, string) {
	var off, n uint64
	switch {
	case wraps(begin) == wraps(next) && begin < next:
		off, n = index(begin), next-begin
	case wraps(begin+size) == wraps(next):
		off, n = 0, index(next)
	default:
		return nil, fmt.Sprintf("illegal text block %#x-%#x", begin, next)
	}
	if begin%prbBlockIDLen != 0 || next%prbBlockIDLen != 0 || n < prbBlockIDLen || off+n > size {
		return nil, fmt.Sprintf("malformed text block %#x-%#x", begin, next)
	}
	if r.TextHole != nil && r.TextHole(off, n) {
		return nil, "its text is in a page missing from the dump"
	}
	if got := binary.LittleEndian.Uint64(r.Text[off:]); got&descIDMask != id {
		return nil, fmt.Sprintf("its text block at %#x belongs to descriptor id %#x (overwritten)", off, got)
	}
	return r.Text[off+prbBlockIDLen : off+n], ""
}

// fits checks that every field lies inside its struct.
func (l *prbLayout) fits() bool {
	in := func(off, n, size int) bool { return off >= 0 && n >= 0 && off+n <= size }
	ok := in(l.StateVar, 8, l.DescSize) && in(l.TextBegin, 8, l.DescSize) && in(l.TextNext, 8, l.DescSize) &&
		in(l.Seq, 8, l.InfoSize) && in(l.TsNsec, 8, l.InfoSize) && in(l.TextLen, 2, l.InfoSize) &&
		in(l.Facility, 1, l.InfoSize) && in(l.LevelByte, 1, l.InfoSize) &&
		l.LevelShift >= 0 && l.LevelBits > 0 && l.LevelShift+l.LevelBits <= 8
	if l.HasCallerIDs {
		ok = ok && in(l.CallerID, 4, l.InfoSize)
	}
	if l.HasDevInfo {
		ok = ok && in(l.Subsystem, l.SubsystemLen, l.InfoSize) && in(l.Device, l.DeviceLen, l.InfoSize)
	}
	return ok
}

// prbLayoutOf finds the layout of prb_desc and printk_info.
func (k *Kernel) prbLayoutOf() (*prbLayout, error) {
	lr := &layoutReader{k: k}
	off := func(typ, member string) int { return int(lr.off(typ, member)) }
	size := func(typ string) int { return int(lr.size(typ)) }
	l := &prbLayout{
		DescSize:  size("prb_desc"),
		InfoSize:  size("printk_info"),
		StateVar:  off("prb_desc", "state_var") + off("atomic_long_t", "counter"),
		TextBegin: off("prb_desc", "text_blk_lpos") + off("prb_data_blk_lpos", "begin"),
		TextNext:  off("prb_desc", "text_blk_lpos") + off("prb_data_blk_lpos", "next"),
		Seq:       off("printk_info", "seq"),
		TsNsec:    off("printk_info", "ts_nsec"),
		TextLen:   off("printk_info", "text_len"),
		CallerID:  off("printk_info", "caller_id"),
	}
	if lr.err != nil {
		return nil, lr.err
	}
	l.HasCallerIDs = true
	// facility and the level bit field follow text_len (u8 facility;
	// u8 flags:5; u8 level:3); VMCOREINFO names neither, so without
	// DWARF the kernel's layout is assumed.
	l.Facility, l.LevelByte, l.LevelShift, l.LevelBits = l.TextLen+2, l.TextLen+3, 5, 3
	if t, terr := k.Layouts(); terr == nil {
		if m, merr := t.Member("printk_info", "facility"); merr == nil {
			l.Facility = int(m.Offset)
		}
		if m, merr := t.Member("printk_info", "level"); merr == nil {
			l.LevelByte, l.LevelShift, l.LevelBits = bitField(m.Offset, m.BitOffset, m.BitSize, 8)
		}
	}
	devInfo, derr := k.LayoutOffset("printk_info", "dev_info")
	sub, serr := k.LayoutOffset("dev_printk_info", "subsystem")
	dev, verr := k.LayoutOffset("dev_printk_info", "device")
	if derr == nil && serr == nil && verr == nil {
		l.HasDevInfo = true
		l.Subsystem, l.Device = int(devInfo+sub), int(devInfo+dev)
		l.SubsystemLen, l.DeviceLen = k.arrayLen("dev_printk_info", "subsystem", "printk_info_subsystem"), k.arrayLen("dev_printk_info", "device", "printk_info_device")
		if l.SubsystemLen <= 0 || l.DeviceLen <= 0 {
			l.HasDevInfo = false
		}
	}
	return l, nil
}

// bitField turns a DWARF member position into (byte, shift, bits) within
// one byte; a whole-byte member gives (offset, 0, width).
func bitField(off, bitOff, bitSize int64, width int) (int, int, int) {
	if bitSize == 0 {
		return int(off), 0, width
	}
	return int(off + bitOff/8), int(bitOff % 8), int(bitSize)
}

// readPRB reads the lockless ring buffer through the prb pointer.
func (k *Kernel) readPRB(ctx context.Context) (*Log, error) {
	l, r, notes, err := k.prbSnapshot()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, more := walkPRB(l, r)
	return &Log{Format: LogLockless, Records: recs, Notes: append(notes, more...)}, nil
}

// prbSnapshot reads the ring's layout and bytes. Pages of the arrays
// that are missing from the dump read as zeroes and are noted.
func (k *Kernel) prbSnapshot() (*prbLayout, *prbRing, []string, error) {
	l, err := k.prbLayoutOf()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("printk ring buffer: %w", err)
	}
	lr := &layoutReader{k: k}
	off := func(typ, member string) uint64 { return uint64(lr.off(typ, member)) }
	descRing, textRing := off("printk_ringbuffer", "desc_ring"), off("printk_ringbuffer", "text_data_ring")
	oCount, oDescs, oInfos := off("prb_desc_ring", "count_bits"), off("prb_desc_ring", "descs"), off("prb_desc_ring", "infos")
	oHead, oTail := off("prb_desc_ring", "head_id"), off("prb_desc_ring", "tail_id")
	oSize, oData := off("prb_data_ring", "size_bits"), off("prb_data_ring", "data")
	if lr.err != nil {
		return nil, nil, nil, fmt.Errorf("printk ring buffer: %w", lr.err)
	}
	sym, _ := k.SymbolAddr("prb")
	rb, err := k.ReadU64(sym)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("printk ring buffer: reading the prb pointer at %#x: %w", sym, err)
	}
	r := &prbRing{}
	var descs, infos, data uint64
	for _, f := range []struct {
		addr uint64
		dst  *uint64
	}{
		{rb + descRing + oDescs, &descs}, {rb + descRing + oInfos, &infos},
		{rb + descRing + oHead, &r.HeadID}, {rb + descRing + oTail, &r.TailID},
		{rb + textRing + oData, &data},
	} {
		if *f.dst, err = k.ReadU64(f.addr); err != nil {
			return nil, nil, nil, fmt.Errorf("printk ring buffer at %#x: %w", rb, err)
		}
	}
	cb, err := k.ReadU32(rb + descRing + oCount)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("printk ring buffer at %#x: %w", rb, err)
	}
	sb, err := k.ReadU32(rb + textRing + oSize)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("printk ring buffer at %#x: %w", rb, err)
	}
	if cb > maxLogRingBits || sb > maxLogRingBits || sb < 3 {
		return nil, nil, nil, fmt.Errorf("printk ring buffer at %#x: implausible sizes (count_bits %d, size_bits %d)", rb, cb, sb)
	}
	r.CountBits, r.SizeBits = uint(cb), uint(sb)
	count, size := 1<<cb, 1<<sb
	var notes []string
	var descHole func(off, n uint64) bool
	r.Descs, _, descHole = k.readHoles(descs, count*l.DescSize)
	// A hole in the info array matters only under a record the walk keeps
	// (walkPRB notes those).
	r.Infos, _, r.InfoHole = k.readHoles(infos, count*l.InfoSize)
	if n := liveInHoles(uint64(count), r.TailID&descIDMask, r.HeadID&descIDMask, l.DescSize, descHole); n > 0 {
		notes = append(notes, fmt.Sprintf("%d record(s) of the descriptor ring at %#x are in pages missing from the dump: they are skipped", n, descs))
	}
	r.Text, _, r.TextHole = k.readHoles(data, size)
	return l, r, notes, nil
}

// liveInHoles counts the records from tail to head (descriptor ids) whose
// entry of an array of count entries of size bytes lies in a hole. Only
// those are lost: the rest of a large ring (log_buf_len=4M has 131,072
// descriptors, a few thousand of them used) is zeroes, pages makedumpfile -d
// 31 leaves out as zero pages; read as zeroes they are what the kernel had
// there, and crash says nothing of them.
func liveInHoles(count, tail, head uint64, size int, hole func(off, n uint64) bool) int {
	if count == 0 || size <= 0 || hole == nil {
		return 0
	}
	n := 0
	for i, id := uint64(0), tail; i < count; i, id = i+1, id+1 {
		if hole(id%count*uint64(size), uint64(size)) {
			n++
		}
		if id == head {
			break
		}
	}
	return n
}

// ---- struct printk_log records (3.5-5.9) ----

// printkLogLayout is struct printk_log (struct log before 3.11):
//
//	u64 ts_nsec; u16 len; u16 text_len; u16 dict_len; u8 facility;
//	u8 flags:5; u8 level:3; [u32 caller_id, CONFIG_PRINTK_CALLER]
//
// packed to 4-byte alignment; the text follows the header, then the
// dictionary, then padding up to len (kernel/printk/printk.c of 5.x).
type printkLogLayout struct {
	Size                      int
	TsNsec, Len, TextLen      int
	DictLen                   int
	LevelByte                 int
	LevelShift, LevelBits     int
	CallerID                  int // -1: no CONFIG_PRINTK_CALLER
	LevelIsU16, HasLevelField bool
}

// walkPrintkLog is crash's dump_variable_length_record_log(): from
// log_first_idx to log_next_idx, a zero len meaning "wrapped: continue at
// the start of the buffer". Every header and length is checked against the
// buffer, and an index seen twice ends the walk, so that a corrupt buffer
// can neither loop nor read past the end.
func walkPrintkLog(l *printkLogLayout, buf []byte, first, next uint32) (recs []LogRecord, notes []string) {
	if l.Size <= 0 || l.Size > 64 || len(buf) < l.Size {
		return nil, []string{"log_buf smaller than one record header"}
	}
	le := binary.LittleEndian
	header := func(idx uint32) ([]byte, bool) {
		if uint64(idx)+uint64(l.Size) > uint64(len(buf)) {
			return nil, false
		}
		return buf[idx : int(idx)+l.Size], true
	}
	seen := make(map[uint32]bool)
	idx := first
	for idx != next {
		h, ok := header(idx)
		if !ok {
			notes = append(notes, fmt.Sprintf("invalid log_buf entry encountered at index %d", idx))
			break
		}
		if le.Uint16(h[l.Len:]) == 0 { // the wrap marker
			idx = 0
			if idx == next {
				break
			}
			if h, ok = header(0); !ok {
				break
			}
		}
		if seen[idx] {
			notes = append(notes, fmt.Sprintf("duplicate log_buf message pointer at index %d", idx))
			break
		}
		seen[idx] = true
		n := int(le.Uint16(h[l.Len:]))
		textLen, dictLen := int(le.Uint16(h[l.TextLen:])), int(le.Uint16(h[l.DictLen:]))
		if n < l.Size || int(idx)+n > len(buf) || l.Size+textLen+dictLen > n {
			notes = append(notes, fmt.Sprintf("invalid log_buf entry encountered at index %d (len %d, text_len %d, dict_len %d)", idx, n, textLen, dictLen))
			break
		}
		body := buf[int(idx)+l.Size:]
		r := LogRecord{
			TsNsec: le.Uint64(h[l.TsNsec:]),
			Text:   body[:textLen],
			Dict:   body[textLen : textLen+dictLen],
		}
		if l.HasLevelField {
			if l.LevelIsU16 {
				r.Level = uint8(le.Uint16(h[l.LevelByte:]) & 7)
			} else {
				r.Level = h[l.LevelByte] >> l.LevelShift & (1<<l.LevelBits - 1)
			}
		}
		if l.CallerID >= 0 {
			r.CallerID, r.HasCaller = le.Uint32(h[l.CallerID:]), true
		}
		recs = append(recs, r)
		idx += uint32(n)
		if int(idx) >= len(buf) {
			// Past the end: only legal when the buffer has wrapped.
			if first > next {
				idx = 0
			} else {
				notes = append(notes, fmt.Sprintf("invalid log_buf entry encountered: index %d is past log_buf_len %d", idx, len(buf)))
				break
			}
		}
	}
	return recs, notes
}

// printkLogLayoutOf reads struct printk_log (or struct log) from DWARF,
// else the four offsets VMCOREINFO gives for it.
func (k *Kernel) printkLogLayoutOf() (*printkLogLayout, error) {
	name := "printk_log"
	t, terr := k.Layouts()
	if terr == nil {
		if _, err := t.Lookup("struct printk_log"); err != nil {
			if _, err := t.Lookup("struct log"); err == nil {
				name = "log" // before 3.11 (kernel commit 62e32ac3505a)
			}
		}
	}
	lr := &layoutReader{k: k}
	off := func(member string) int { return int(lr.off(name, member)) }
	size, serr := k.LayoutSize(name)
	l := &printkLogLayout{Size: int(size), TsNsec: off("ts_nsec"), Len: off("len"), TextLen: off("text_len"), DictLen: off("dict_len"), CallerID: -1}
	err := lr.err
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("log_buf record layout: %w", err)
	}
	// Without DWARF, the level sits where the 5.x layout puts it.
	l.HasLevelField, l.LevelByte, l.LevelShift, l.LevelBits = true, l.DictLen+3, 5, 3
	if terr == nil {
		if m, err := t.Member(name, "level"); err == nil {
			if m.BitSize == 0 && m.Type != nil && m.Type.Size() == 2 {
				l.LevelByte, l.LevelIsU16 = int(m.Offset), true
			} else {
				l.LevelByte, l.LevelShift, l.LevelBits = bitField(m.Offset, m.BitOffset, m.BitSize, 3)
			}
		} else if m, err := t.Member(name, "flags_level"); err == nil {
			l.LevelByte, l.LevelShift, l.LevelBits = int(m.Offset), 0, 3
		}
		if m, err := t.Member(name, "caller_id"); err == nil {
			l.CallerID = int(m.Offset)
		}
	}
	if l.LevelByte+1 > l.Size || l.CallerID+4 > l.Size || l.TsNsec+8 > l.Size || l.Len+2 > l.Size ||
		l.TextLen+2 > l.Size || l.DictLen+2 > l.Size || (l.LevelIsU16 && l.LevelByte+2 > l.Size) {
		return nil, fmt.Errorf("log_buf record layout: a field of struct %s lies outside its %d bytes", name, l.Size)
	}
	return l, nil
}

// logBuffer reads log_buf: the buffer's address and length.
func (k *Kernel) logBuffer() (addr uint64, n uint64, err error) {
	lenSym, hasLen := k.SymbolAddr("log_buf_len")
	bufSym, ok := k.SymbolAddr("log_buf")
	if !ok {
		return 0, 0, errors.New("no log_buf symbol")
	}
	if hasLen {
		// char *log_buf; int log_buf_len (u32 in later kernels).
		l, err := k.ReadU32(lenSym)
		if err != nil {
			return 0, 0, fmt.Errorf("log_buf_len at %#x: %w", lenSym, err)
		}
		if addr, err = k.ReadU64(bufSym); err != nil {
			return 0, 0, fmt.Errorf("log_buf at %#x: %w", bufSym, err)
		}
		n = uint64(l)
	} else {
		// Oldest kernels: char log_buf[LOG_BUF_LEN].
		t, err := k.Layouts()
		if err != nil {
			return 0, 0, err
		}
		typ, err := t.VarType("log_buf")
		if err != nil {
			return 0, 0, fmt.Errorf("cannot determine the length of log_buf: %w", err)
		}
		addr, n = bufSym, uint64(typ.Size())
	}
	if n == 0 || n > maxLogBufLen {
		return 0, 0, fmt.Errorf("log_buf at %#x: implausible log_buf_len %d", addr, n)
	}
	return addr, n, nil
}

func (k *Kernel) readPrintkLog(ctx context.Context) (*Log, error) {
	l, err := k.printkLogLayoutOf()
	if err != nil {
		return nil, err
	}
	addr, n, err := k.logBuffer()
	if err != nil {
		return nil, err
	}
	var idx [2]uint32
	for i, name := range []string{"log_first_idx", "log_next_idx"} {
		a, _ := k.SymbolAddr(name)
		if idx[i], err = k.ReadU32(a); err != nil {
			return nil, fmt.Errorf("%s at %#x: %w", name, a, err)
		}
	}
	buf, missing, _ := k.readHoles(addr, int(n))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &Log{Format: LogStructured}
	if missing > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d page(s) of log_buf at %#x are missing from the dump", missing, addr))
	}
	recs, notes := walkPrintkLog(l, buf, idx[0], idx[1])
	out.Records = recs
	out.Notes = append(out.Notes, notes...)
	return out, nil
}

// ---- the plain character buffer (before 3.5) ----

func (k *Kernel) readPlainLog() (*Log, error) {
	addr, n, err := k.logBuffer()
	if err != nil {
		return nil, err
	}
	endSym, ok := k.SymbolAddr("log_end")
	if !ok {
		return nil, errors.New("log_buf without log_end")
	}
	// log_end is an unsigned (2.6.25+) or unsigned long: read its size.
	width := 4
	if t, err := k.Layouts(); err == nil {
		if typ, err := t.VarType("log_end"); err == nil && typ.Size() == 8 {
			width = 8
		}
	}
	var end uint64
	if width == 8 {
		end, err = k.ReadU64(endSym)
	} else {
		var v uint32
		v, err = k.ReadU32(endSym)
		end = uint64(v)
	}
	if err != nil {
		return nil, fmt.Errorf("log_end at %#x: %w", endSym, err)
	}
	buf, missing, _ := k.readHoles(addr, int(n))
	out := &Log{Format: LogPlain, Plain: buf, PlainEnd: end}
	if missing > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d page(s) of log_buf at %#x are missing from the dump", missing, addr))
	}
	return out, nil
}

// plainLog is crash's dump_log() for the old character buffer: oldest
// character first (at log_end once the buffer has wrapped), NULs dropped,
// non-ASCII bytes as '.', and the "<N>" level prefix at line starts
// dropped unless showLevel; a missing final newline is added.
func plainLog(buf []byte, logEnd uint64, showLevel bool) []byte {
	n := uint64(len(buf))
	if n == 0 {
		return []byte("\n")
	}
	var start uint64
	if logEnd >= n {
		start = logEnd % n
	}
	// Before the first wrap, the buffer starts at a line start.
	level := logEnd < n && start == 0 && buf[0] == '<'
	out := make([]byte, 0, n+1)
	var last byte
	for k := uint64(0); k < n; k++ {
		c := buf[(start+k)%n]
		if level && !showLevel {
			if c == '>' {
				level = false
				continue
			}
			if c == '<' || c >= '0' && c <= '7' {
				continue
			}
			level = false
		}
		if c != 0 {
			if c > 0x7f {
				out = append(out, '.')
			} else {
				out = append(out, c)
			}
			level = c == '\n'
			last = c
		}
	}
	if last != '\n' {
		out = append(out, '\n')
	}
	return out
}
