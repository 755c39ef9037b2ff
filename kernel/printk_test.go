package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// ---- the lockless ring buffer: the real dump's records in small rings ----

// prbBuilder writes records into a ring the way the kernel's writer does
// (kernel/printk/printk_ringbuffer.c: data_alloc() and get_next_lpos() place
// a block that would cross the end of the data ring at its start, with the
// id written at both places; data_push_tail() and desc_push_tail() make
// the oldest records reusable when the rings are full). It lets the real
// dump's records be replayed into rings small enough to wrap many times,
// which the test bed's 128 KB ring never did.
type prbBuilder struct {
	l                  *prbLayout
	r                  prbRing
	headLpos, tailLpos uint64
	nextID             uint64
	live               []uint64 // ids, oldest first
	lpos               map[uint64][2]uint64
	recs               map[uint64]LogRecord
}

func newPRBBuilder(l *prbLayout, countBits, sizeBits uint, firstID uint64) *prbBuilder {
	count, size := 1<<countBits, 1<<sizeBits
	return &prbBuilder{
		l: l,
		r: prbRing{CountBits: countBits, SizeBits: sizeBits,
			Descs: make([]byte, count*l.DescSize), Infos: make([]byte, count*l.InfoSize), Text: make([]byte, size)},
		nextID: firstID & descIDMask,
		lpos:   map[uint64][2]uint64{},
		recs:   map[uint64]LogRecord{},
	}
}

func (b *prbBuilder) desc(id uint64) []byte {
	return b.r.Descs[id%(1<<b.r.CountBits)*uint64(b.l.DescSize):][:b.l.DescSize]
}

func (b *prbBuilder) dropOldest() {
	id := b.live[0]
	b.live = b.live[1:]
	binary.LittleEndian.PutUint64(b.desc(id)[b.l.StateVar:], descReusable<<descFlagShift|id)
	b.tailLpos = b.lpos[id][1]
}

func (b *prbBuilder) add(rec LogRecord) {
	le := binary.LittleEndian
	size := uint64(1) << b.r.SizeBits
	count := 1 << b.r.CountBits
	if len(b.live) == count {
		b.dropOldest()
	}
	id := b.nextID
	b.nextID = (b.nextID + 1) & descIDMask
	blk := (prbBlockIDLen + uint64(len(rec.Text)) + 7) &^ 7
	begin := b.headLpos
	next := begin + blk
	if begin>>b.r.SizeBits != next>>b.r.SizeBits {
		next = next>>b.r.SizeBits<<b.r.SizeBits + blk
	}
	for next-b.tailLpos > size {
		b.dropOldest()
	}
	le.PutUint64(b.r.Text[begin&(size-1):], id)
	data := begin&(size-1) + prbBlockIDLen
	if begin>>b.r.SizeBits != next>>b.r.SizeBits {
		le.PutUint64(b.r.Text[0:], id)
		data = prbBlockIDLen
	}
	copy(b.r.Text[data:], rec.Text)
	d := b.desc(id)
	le.PutUint64(d[b.l.StateVar:], descFinalized<<descFlagShift|id)
	le.PutUint64(d[b.l.TextBegin:], begin)
	le.PutUint64(d[b.l.TextNext:], next)
	in := b.r.Infos[id%uint64(count)*uint64(b.l.InfoSize):][:b.l.InfoSize]
	clear(in)
	le.PutUint64(in[b.l.Seq:], rec.Seq)
	le.PutUint64(in[b.l.TsNsec:], rec.TsNsec)
	le.PutUint16(in[b.l.TextLen:], uint16(len(rec.Text)))
	in[b.l.Facility] = rec.Facility
	in[b.l.LevelByte] = rec.Level << b.l.LevelShift
	le.PutUint32(in[b.l.CallerID:], rec.CallerID)
	copy(in[b.l.Subsystem:b.l.Subsystem+b.l.SubsystemLen-1], rec.Subsystem)
	copy(in[b.l.Device:b.l.Device+b.l.DeviceLen-1], rec.Device)
	b.headLpos = next
	b.live = append(b.live, id)
	b.lpos[id] = [2]uint64{begin, next}
	b.recs[id] = rec
	b.r.HeadID = id
	b.r.TailID = b.live[0]
}

// realRing is the test bed's ring: its layout, snapshot and records.
func realRing(t testing.TB) (*prbLayout, *prbRing, []LogRecord) {
	t.Helper()
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	k := openTestbed(t, d)
	l, r, notes, err := k.prbSnapshot()
	if err != nil || len(notes) > 0 {
		t.Fatalf("prb snapshot: %v %q", err, notes)
	}
	recs, notes := walkPRB(l, r)
	if len(notes) > 0 || len(recs) == 0 {
		t.Fatalf("real ring: %d records, notes %q", len(recs), notes)
	}
	for i := range recs {
		recs[i].Text = bytes.Clone(recs[i].Text)
	}
	return l, r, recs
}

// TestWalkPRBWrappedRings replays the real records into rings of several
// sizes, with ids that wrap around DESC_ID_MASK, and checks that the walker
// returns exactly the records the ring still holds, in order, with their
// text intact across wrapped data blocks.
func TestWalkPRBWrappedRings(t *testing.T) {
	l, _, recs := realRing(t)
	for _, g := range []struct{ countBits, sizeBits uint }{{4, 10}, {5, 12}, {8, 11}, {3, 14}} {
		b := newPRBBuilder(l, g.countBits, g.sizeBits, descIDMask-40)
		wrapped := 0
		for _, r := range recs {
			if uint64(len(r.Text))+prbBlockIDLen > uint64(1)<<g.sizeBits/2 {
				continue // the kernel refuses blocks this large for the ring
			}
			b.add(r)
			if lp := b.lpos[b.r.HeadID]; lp[0]>>g.sizeBits != lp[1]>>g.sizeBits {
				wrapped++
			}
		}
		got, notes := walkPRB(l, &b.r)
		if len(notes) > 0 {
			t.Errorf("ring %d/%d: notes %q", g.countBits, g.sizeBits, notes)
		}
		if wrapped == 0 {
			t.Errorf("ring %d/%d: no data block wrapped; the test proves nothing", g.countBits, g.sizeBits)
		}
		if len(got) != len(b.live) {
			t.Errorf("ring %d/%d: %d records, the ring holds %d", g.countBits, g.sizeBits, len(got), len(b.live))
			continue
		}
		for i, id := range b.live {
			want := b.recs[id]
			if got[i].Seq != want.Seq || !bytes.Equal(got[i].Text, want.Text) || got[i].TsNsec != want.TsNsec ||
				got[i].Level != want.Level || got[i].CallerID != want.CallerID || got[i].Device != want.Device {
				t.Errorf("ring %d/%d record %d: got seq %d %q, want seq %d %q", g.countBits, g.sizeBits, i, got[i].Seq, got[i].Text, want.Seq, want.Text)
				break
			}
		}
	}
}

// TestWalkPRBStates: reserved and reusable descriptors and ids of another
// lap are skipped without a note, as crash and the kernel's readers do.
func TestWalkPRBStates(t *testing.T) {
	l, _, recs := realRing(t)
	b := newPRBBuilder(l, 4, 12, 100)
	for _, r := range recs[:10] {
		b.add(r)
	}
	le := binary.LittleEndian
	set := func(id, state uint64) { le.PutUint64(b.desc(id)[l.StateVar:], state<<descFlagShift|id) }
	set(b.live[1], descReserved)
	set(b.live[2], descReusable)
	set(b.live[3], descCommitted)
	le.PutUint64(b.desc(b.live[4])[l.StateVar:], descFinalized<<descFlagShift|(b.live[4]+16))
	got, notes := walkPRB(l, &b.r)
	if len(notes) != 0 {
		t.Errorf("notes %q", notes)
	}
	var seqs []uint64
	for _, r := range got {
		seqs = append(seqs, r.Seq)
	}
	want := []uint64{recs[0].Seq, recs[3].Seq, recs[5].Seq, recs[6].Seq, recs[7].Seq, recs[8].Seq, recs[9].Seq}
	if fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("kept seqs %v, want %v", seqs, want)
	}
}

// FuzzWalkPRB runs the ring walker over fuzzed rings: the first two bytes
// are count_bits and size_bits, the next sixteen head_id and tail_id, the
// rest the descriptor, info and text arrays. Seeds: the test bed's whole
// ring, and its records replayed into a small wrapping ring.
func FuzzWalkPRB(f *testing.F) {
	l, r, recs := realRing(f)
	encode := func(r *prbRing) []byte {
		out := []byte{byte(r.CountBits), byte(r.SizeBits)}
		out = binary.LittleEndian.AppendUint64(out, r.HeadID)
		out = binary.LittleEndian.AppendUint64(out, r.TailID)
		out = append(out, r.Descs...)
		out = append(out, r.Infos...)
		return append(out, r.Text...)
	}
	f.Add(encode(r))
	b := newPRBBuilder(l, 3, 9, descIDMask-3)
	for _, rec := range recs[len(recs)-20:] {
		if len(rec.Text) < 200 {
			b.add(rec)
		}
	}
	f.Add(encode(&b.r))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 18 {
			return
		}
		r := prbRing{CountBits: uint(data[0] % 13), SizeBits: uint(3 + data[1]%15),
			HeadID: binary.LittleEndian.Uint64(data[2:]), TailID: binary.LittleEndian.Uint64(data[10:])}
		rest := data[18:]
		take := func(n int) []byte {
			out := make([]byte, n)
			m := copy(out, rest)
			rest = rest[m:]
			return out
		}
		r.Descs = take(l.DescSize << r.CountBits)
		r.Infos = take(l.InfoSize << r.CountBits)
		r.Text = take(1 << r.SizeBits)
		got, _ := walkPRB(l, &r)
		if len(got) > 1<<r.CountBits {
			t.Fatalf("%d records from a ring of %d descriptors", len(got), 1<<r.CountBits)
		}
		for _, rec := range got {
			if len(rec.Text) > 1<<r.SizeBits {
				t.Fatalf("record seq %d: %d bytes of text from a ring of %d", rec.Seq, len(rec.Text), 1<<r.SizeBits)
			}
		}
	})
}

// ---- struct printk_log records (3.5-5.9): synthetic ----
//
// No dump of such a kernel is in the test bed, so these tests build
// log_buf the way the kernel wrote it, from the layout documented in
// kernel/printk/printk.c of 5.x:
//
//	struct printk_log {
//		u64 ts_nsec; u16 len; u16 text_len; u16 dict_len;
//		u8 facility; u8 flags:5; u8 level:3;
//		u32 caller_id;            /* CONFIG_PRINTK_CALLER */
//	} __packed __aligned(4);
//
// and its log_store(), log_make_free_space(), logbuf_has_space() and
// log_next(): records are padded to LOG_ALIGN (4), a record that does not
// fit before the end (with room for one more header) leaves a zeroed
// header as the wrap marker and goes to index 0, and the oldest records
// are dropped until there is room. These bytes are synthetic.

// printkLog5 is the 5.x layout with CONFIG_PRINTK_CALLER.
var printkLog5 = &printkLogLayout{Size: 20, TsNsec: 0, Len: 8, TextLen: 10, DictLen: 12,
	LevelByte: 15, LevelShift: 5, LevelBits: 3, CallerID: 16, HasLevelField: true}

type printkLogSim struct {
	l                 *printkLogLayout
	buf               []byte
	firstIdx, nextIdx uint32
	firstSeq, nextSeq uint64
	stored            []LogRecord // by seq
}

func (k *printkLogSim) logNext(idx uint32) uint32 {
	if n := binary.LittleEndian.Uint16(k.buf[idx+uint32(k.l.Len):]); n != 0 {
		return idx + uint32(n)
	}
	return uint32(binary.LittleEndian.Uint16(k.buf[k.l.Len:]))
}

func (k *printkLogSim) hasSpace(size uint32, empty bool) bool {
	var free uint32
	if k.nextIdx > k.firstIdx || empty {
		free = max(uint32(len(k.buf))-k.nextIdx, k.firstIdx)
	} else {
		free = k.firstIdx - k.nextIdx
	}
	return free >= size+uint32(k.l.Size)
}

func (k *printkLogSim) store(r LogRecord) {
	le := binary.LittleEndian
	size := uint32(k.l.Size + len(r.Text) + len(r.Dict))
	size += -size & 3
	for k.firstSeq < k.nextSeq && !k.hasSpace(size, false) {
		k.firstIdx = k.logNext(k.firstIdx)
		k.firstSeq++
	}
	if !k.hasSpace(size, k.firstSeq == k.nextSeq) {
		panic("record too large for the simulated log_buf")
	}
	if k.nextIdx+size+uint32(k.l.Size) > uint32(len(k.buf)) {
		clear(k.buf[k.nextIdx : k.nextIdx+uint32(k.l.Size)])
		k.nextIdx = 0
	}
	h := k.buf[k.nextIdx:]
	clear(h[:size])
	le.PutUint64(h[k.l.TsNsec:], r.TsNsec)
	le.PutUint16(h[k.l.Len:], uint16(size))
	le.PutUint16(h[k.l.TextLen:], uint16(len(r.Text)))
	le.PutUint16(h[k.l.DictLen:], uint16(len(r.Dict)))
	h[14] = r.Facility
	h[15] = 0x02 | r.Level<<5 // LOG_NEWLINE in the flags, as the kernel sets it
	le.PutUint32(h[k.l.CallerID:], r.CallerID)
	copy(h[k.l.Size:], r.Text)
	copy(h[k.l.Size+len(r.Text):], r.Dict)
	k.nextIdx += size
	k.nextSeq++
	k.stored = append(k.stored, r)
}

func simRecords(n int) []LogRecord {
	var out []LogRecord
	for i := 0; i < n; i++ {
		r := LogRecord{TsNsec: uint64(i) * 1234567, Level: uint8(i % 8), CallerID: uint32(i % 5), HasCaller: true,
			Text: []byte(fmt.Sprintf("message %d %s", i, strings.Repeat("x", i%37)))}
		if i%3 == 0 {
			r.Dict = []byte(fmt.Sprintf("SUBSYSTEM=pci\x00DEVICE=+pci:0000:00:%02x.0", i%32))
		}
		out = append(out, r)
	}
	return out
}

// TestWalkPrintkLog: after the buffer has wrapped many times, the walker
// returns exactly the records the kernel still holds (seq log_first_seq to
// log_next_seq), fields intact.
func TestWalkPrintkLog(t *testing.T) {
	for _, size := range []int{512, 1024, 4096} {
		k := &printkLogSim{l: printkLog5, buf: make([]byte, size)}
		all := simRecords(300)
		for _, r := range all {
			k.store(r)
		}
		got, notes := walkPrintkLog(printkLog5, k.buf, k.firstIdx, k.nextIdx)
		if len(notes) > 0 {
			t.Errorf("log_buf %d: notes %q", size, notes)
		}
		want := k.stored[k.firstSeq:]
		if len(got) != len(want) {
			t.Fatalf("log_buf %d: %d records, the kernel holds %d", size, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if !bytes.Equal(g.Text, w.Text) || !bytes.Equal(g.Dict, w.Dict) || g.TsNsec != w.TsNsec ||
				g.Level != w.Level || g.CallerID != w.CallerID || !g.HasCaller {
				t.Fatalf("log_buf %d record %d: got %+v, want %+v", size, i, g, w)
			}
		}
	}
}

// TestWalkPrintkLogDamage: a bad length ends the walk with a note, a length
// that leads back to an earlier record is caught, nothing loops.
func TestWalkPrintkLogDamage(t *testing.T) {
	mk := func() *printkLogSim {
		k := &printkLogSim{l: printkLog5, buf: make([]byte, 1024)}
		for _, r := range simRecords(10) {
			k.store(r)
		}
		return k
	}
	le := binary.LittleEndian
	k := mk()
	third := k.logNext(k.logNext(k.firstIdx))
	le.PutUint16(k.buf[third+8:], 0xfff0)
	recs, notes := walkPrintkLog(printkLog5, k.buf, k.firstIdx, k.nextIdx)
	if len(recs) != 2 || len(notes) != 1 || !strings.Contains(notes[0], "invalid log_buf entry") {
		t.Errorf("bad len: %d records, notes %q", len(recs), notes)
	}
	// A buffer that has wrapped (log_first_idx > log_next_idx) walked
	// toward a log_next_idx it never reaches: past the stale records it
	// meets garbage or a record it has already shown, and stops.
	k = &printkLogSim{l: printkLog5, buf: make([]byte, 1024)}
	for _, r := range simRecords(100) {
		k.store(r)
	}
	if k.firstIdx <= k.nextIdx {
		t.Fatalf("simulated buffer did not wrap: first %d next %d", k.firstIdx, k.nextIdx)
	}
	recs, notes = walkPrintkLog(printkLog5, k.buf, k.firstIdx, k.nextIdx+2)
	if len(notes) != 1 || len(recs) < int(k.nextSeq-k.firstSeq) {
		t.Errorf("unreachable log_next_idx: %d records, notes %q", len(recs), notes)
	}
	k = mk()
	le.PutUint16(k.buf[k.firstIdx+10:], 0x7fff) // text_len beyond len
	if _, notes = walkPrintkLog(printkLog5, k.buf, k.firstIdx, k.nextIdx); len(notes) != 1 {
		t.Errorf("text_len: notes %q", notes)
	}
}

// FuzzWalkPrintkLog: the walker over fuzzed buffers and indices, seeded
// with simulated buffers.
func FuzzWalkPrintkLog(f *testing.F) {
	for _, size := range []int{256, 1024} {
		k := &printkLogSim{l: printkLog5, buf: make([]byte, size)}
		for _, r := range simRecords(40) {
			k.store(r)
		}
		f.Add(k.buf, k.firstIdx, k.nextIdx)
	}
	f.Fuzz(func(t *testing.T, buf []byte, first, next uint32) {
		recs, _ := walkPrintkLog(printkLog5, buf, first, next)
		if len(recs) > len(buf) {
			t.Fatalf("%d records from %d bytes", len(recs), len(buf))
		}
	})
}

// ---- the plain log_buf (before 3.5): synthetic ----
//
// Before 3.5 printk() copied "<N>text\n" into a character ring, log_end
// counting every character ever written (kernel/printk.c emit_log_char()).

func TestPlainLog(t *testing.T) {
	buf := make([]byte, 64)
	msg := "<6>Linux version 2.6.32\n<4>warning: x\n"
	copy(buf, msg)
	if got := string(plainLog(buf, uint64(len(msg)), false)); got != "Linux version 2.6.32\nwarning: x\n" {
		t.Errorf("unwrapped: %q", got)
	}
	if got := string(plainLog(buf, uint64(len(msg)), true)); got != msg {
		t.Errorf("unwrapped -m: %q", got)
	}
	// Write 100 characters into a 64-byte ring: the oldest 36 are gone,
	// the output starts at log_end % 64.
	var all []byte
	for i := 0; len(all) < 100; i++ {
		all = append(all, fmt.Sprintf("<6>line %d\n", i)...)
	}
	all = all[:100]
	for i, c := range all {
		buf[i%64] = c
	}
	want := strings.ReplaceAll(string(all[36:]), "<6>", "")
	if got := string(plainLog(buf, 100, false)); got != want {
		t.Errorf("wrapped: %q, want %q", got, want)
	}
	if got := string(plainLog([]byte("a\x00b\xffc"), 5, false)); got != "ab.c\n" {
		t.Errorf("NUL and high bytes: %q", got)
	}
}

func FuzzPlainLog(f *testing.F) {
	f.Add([]byte("<6>Linux version 2.6.32\n<4>warning\n\x00\x00"), uint64(35), false)
	f.Fuzz(func(t *testing.T, buf []byte, end uint64, level bool) {
		out := plainLog(buf, end, level)
		if len(out) > len(buf)+1 || len(out) == 0 || out[len(out)-1] != '\n' {
			t.Fatalf("%d bytes out of %d", len(out), len(buf))
		}
	})
}

// TestLogSkipsDamagedRecords corrupts the real ring the way a dump can be
// damaged and checks that the damaged records, and only they, are skipped
// with a note.
func TestLogSkipsDamagedRecords(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	k := openTestbed(t, d)
	l, r, notes, err := k.prbSnapshot()
	if err != nil || len(notes) > 0 {
		t.Fatal(err, notes)
	}
	good, gnotes := walkPRB(l, r)
	if len(gnotes) != 0 || len(good) < 100 {
		t.Fatalf("healthy ring: %d records, notes %q", len(good), gnotes)
	}
	count := uint64(1) << r.CountBits
	head := r.HeadID & descIDMask
	le := binary.LittleEndian
	descAt := func(id uint64) []byte { return r.Descs[id%count*uint64(l.DescSize):][:l.DescSize] }
	clone := func() *prbRing {
		c := *r
		c.Descs = append([]byte(nil), r.Descs...)
		c.Text = append([]byte(nil), r.Text...)
		return &c
	}
	victim := head - 10 // a finalized record near the end
	vd := descAt(victim)
	begin := le.Uint64(vd[l.TextBegin:])
	seqOf := func(recs []LogRecord, seq uint64) bool {
		for _, x := range recs {
			if x.Seq == seq {
				return true
			}
		}
		return false
	}
	victimSeq := le.Uint64(r.Infos[victim%count*uint64(l.InfoSize)+uint64(l.Seq):])
	for _, tc := range []struct {
		name   string
		damage func(c *prbRing)
		note   string
		lost   int
	}{
		{"illegal block", func(c *prbRing) {
			d := c.Descs[victim%count*uint64(l.DescSize):]
			le.PutUint64(d[l.TextNext:], begin+3*(uint64(1)<<c.SizeBits))
		}, "illegal text block", 1},
		{"unaligned block", func(c *prbRing) {
			d := c.Descs[victim%count*uint64(l.DescSize):]
			le.PutUint64(d[l.TextBegin:], begin+4)
		}, "malformed text block", 1},
		{"overwritten block", func(c *prbRing) {
			le.PutUint64(c.Text[begin&(uint64(1)<<c.SizeBits-1):], 0x1234)
		}, "belongs to descriptor id 0x1234", 1},
		{"missing page", func(c *prbRing) {
			c.TextHole = func(off, n uint64) bool {
				return off <= begin&(uint64(1)<<c.SizeBits-1) && begin&(uint64(1)<<c.SizeBits-1) < off+n
			}
		}, "missing from the dump", 1},
		{"missing info page", func(c *prbRing) {
			at := victim % count * uint64(l.InfoSize)
			c.InfoHole = func(off, n uint64) bool { return off <= at && at < off+n }
		}, "in pages missing from the dump: read as zero", 0},
		{"missing page of unused infos", func(c *prbRing) {
			// Past every slot: what makedumpfile leaves out of a big ring's
			// unused, zero tail is no loss and gets no note.
			end := count * uint64(l.InfoSize)
			c.InfoHole = func(off, n uint64) bool { return off >= end }
		}, "", 0},
		{"garbage tail", func(c *prbRing) { c.TailID = head + 5 }, "walked the last", 0},
		{"garbage state", func(c *prbRing) {
			d := c.Descs[victim%count*uint64(l.DescSize):]
			le.PutUint64(d[l.StateVar:], 0xdeadbeefdeadbeef)
		}, "", 1},
	} {
		c := clone()
		tc.damage(c)
		recs, notes := walkPRB(l, c)
		if tc.note == "" && len(notes) != 0 || tc.note != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.note)) {
			t.Errorf("%s: notes %q, want one with %q", tc.name, notes, tc.note)
		}
		if tc.lost == 0 && len(recs) != len(good) {
			t.Errorf("%s: %d records, want all %d", tc.name, len(recs), len(good))
		}
		if tc.lost > 0 && (len(recs) != len(good)-tc.lost || seqOf(recs, victimSeq)) {
			t.Errorf("%s: %d records (of %d), victim seq %d kept: %v", tc.name, len(recs), len(good), victimSeq, seqOf(recs, victimSeq))
		}
	}
}

// openTestbed opens a committed dump for a test, closed at its end.
func openTestbed(t testing.TB, d testbed.Dump) *Kernel {
	t.Helper()
	k, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		t.Fatalf("Open(%s, %s): %v", d.Vmlinux, d.Vmcore, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestLiveInHoles(t *testing.T) {
	slotHole := func(slot uint64) func(off, n uint64) bool {
		return func(off, n uint64) bool { return off <= slot*16 && slot*16 < off+n }
	}
	for _, tc := range []struct {
		name              string
		count, tail, head uint64
		hole              func(off, n uint64) bool
		want              int
	}{
		{"live slot, the walk wrapping", 8, 6, 9, slotHole(0), 1},
		{"unused slot", 8, 6, 9, slotHole(3), 0},
		{"no hole", 8, 0, 7, func(uint64, uint64) bool { return false }, 0},
		{"every slot", 8, 0, 7, func(uint64, uint64) bool { return true }, 8},
		{"head before tail: at most count", 8, 9, 3, func(uint64, uint64) bool { return true }, 8},
		{"no array", 0, 0, 0, slotHole(0), 0},
	} {
		if got := liveInHoles(tc.count, tc.tail, tc.head, 16, tc.hole); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
