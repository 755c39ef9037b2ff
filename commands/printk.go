package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The kernel log of 5.10+ kernels: the lockless printk ring buffer "prb"
// (kernel/printk/printk_ringbuffer.h). Records are walked as crash's
// dump_lockless_record_log() does: every descriptor id from tail_id to
// head_id, keeping the committed and finalized ones.

// A LogRecord is one printk record.
type LogRecord struct {
	Seq      uint64
	TsNsec   uint64
	Level    uint8 // syslog level
	Facility uint8
	CallerID uint32 // thread id, or 0x80000000|cpu
	Text     []byte // the message bytes as stored (may hold '\n')
}

// Descriptor states and the id mask (printk_ringbuffer.h).
const (
	descCommitted = 1
	descFinalized = 2
	descFlagShift = 62
	descIDMask    = 1<<descFlagShift - 1
)

// maxLogRing bounds the ring sizes read, against a corrupt count_bits:
// CONFIG_LOG_BUF_SHIFT is at most 25.
const maxLogRingBits = 28

// LogRecords reads the whole printk ring buffer.
func (s *Session) LogRecords() ([]LogRecord, error) {
	prbPtr, err := s.Var("prb")
	if err != nil {
		return nil, err
	}
	prb, err := prbPtr.Deref()
	if err != nil {
		return nil, err
	}
	if prb, err = prb.Load(); err != nil {
		return nil, err
	}
	field := func(path string) (uint64, error) {
		m, err := prb.Member(path)
		if err != nil {
			return 0, err
		}
		return m.Uint()
	}
	var v struct{ countBits, descs, infos, head, tail, sizeBits, data uint64 }
	for _, f := range []struct {
		dst  *uint64
		path string
	}{
		{&v.countBits, "desc_ring.count_bits"},
		{&v.descs, "desc_ring.descs"},
		{&v.infos, "desc_ring.infos"},
		{&v.head, "desc_ring.head_id.counter"},
		{&v.tail, "desc_ring.tail_id.counter"},
		{&v.sizeBits, "text_data_ring.size_bits"},
		{&v.data, "text_data_ring.data"},
	} {
		if *f.dst, err = field(f.path); err != nil {
			return nil, err
		}
	}
	if v.countBits > maxLogRingBits || v.sizeBits > maxLogRingBits {
		return nil, fmt.Errorf("printk ring buffer at %#x: implausible sizes (count_bits %d, size_bits %d)", prb.Addr, v.countBits, v.sizeBits)
	}
	t, err := s.Types()
	if err != nil {
		return nil, err
	}
	descSize, err := t.SizeOf("prb_desc")
	if err != nil {
		return nil, err
	}
	infoSize, err := t.SizeOf("printk_info")
	if err != nil {
		return nil, err
	}
	off := func(path string) int64 {
		if err != nil {
			return 0
		}
		var o int64
		o, err = t.Offset(path)
		return o
	}
	var (
		oState   = off("prb_desc.state_var")
		oBegin   = off("prb_desc.text_blk_lpos.begin")
		oNext    = off("prb_desc.text_blk_lpos.next")
		oSeq     = off("printk_info.seq")
		oTs      = off("printk_info.ts_nsec")
		oTextLen = off("printk_info.text_len")
		oFacil   = off("printk_info.facility")
		oCaller  = off("printk_info.caller_id")
	)
	if err != nil {
		return nil, err
	}
	// The level is a 3-bit field sharing a byte with the 5-bit flags
	// (u8 flags:5; u8 level:3), the byte after facility.
	oLevel := oFacil + 1

	count := uint64(1) << v.countBits
	size := uint64(1) << v.sizeBits
	descs := make([]byte, count*uint64(descSize))
	if err := s.Mem.ReadVirt(descs, v.descs); err != nil {
		return nil, fmt.Errorf("printk descriptors at %#x: %w", v.descs, err)
	}
	infos := make([]byte, count*uint64(infoSize))
	if err := s.Mem.ReadVirt(infos, v.infos); err != nil {
		return nil, fmt.Errorf("printk infos at %#x: %w", v.infos, err)
	}
	text := make([]byte, size)
	if err := s.Mem.ReadVirt(text, v.data); err != nil {
		return nil, fmt.Errorf("printk text at %#x: %w", v.data, err)
	}
	le := binary.LittleEndian
	var recs []LogRecord
	id := v.tail & descIDMask
	head := v.head & descIDMask
	for n := uint64(0); ; n++ {
		if n > count {
			return recs, errors.New("printk ring buffer: tail_id does not reach head_id")
		}
		d := descs[(id%count)*uint64(descSize):]
		in := infos[(id%count)*uint64(infoSize):]
		sv := le.Uint64(d[oState:])
		state := sv >> descFlagShift
		if sv&descIDMask == id && (state == descCommitted || state == descFinalized) {
			r := LogRecord{
				Seq:      le.Uint64(in[oSeq:]),
				TsNsec:   le.Uint64(in[oTs:]),
				Facility: in[oFacil],
				Level:    in[oLevel] >> 5,
				CallerID: le.Uint32(in[oCaller:]),
			}
			begin := le.Uint64(d[oBegin:]) % size
			next := le.Uint64(d[oNext:]) % size
			if begin != next {
				if begin > next { // the block wrapped: its data is at the start
					begin = 0
				}
				begin += 8 // the block starts with its descriptor id
				textLen := uint64(le.Uint16(in[oTextLen:]))
				if next >= begin && next-begin < textLen {
					textLen = next - begin
				}
				if begin <= size && begin+textLen <= size {
					r.Text = text[begin : begin+textLen]
				}
			}
			recs = append(recs, r)
		}
		if id == head {
			break
		}
		id = (id + 1) & descIDMask
	}
	return recs, nil
}

// LogLines is the log as crash's "log -t" prints it: one line per record,
// a record's embedded newlines starting new lines, unprintable bytes as
// '.'.
func LogLines(recs []LogRecord) []string {
	var lines []string
	for _, r := range recs {
		line := make([]byte, 0, len(r.Text))
		for _, c := range r.Text {
			switch {
			case c == '\n':
				lines = append(lines, string(line))
				line = line[:0]
			case (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\v' || c == '\f' || c == '\r':
				line = append(line, c)
			default:
				line = append(line, '.')
			}
		}
		lines = append(lines, string(line))
	}
	return lines
}
