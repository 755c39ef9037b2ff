package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// struct sbitmap_queue (lib/sbitmap.c, include/linux/sbitmap.h): a bitmap
// of tags split into words of 1 << shift bits (struct sbitmap, 4.9 and
// later), with the wait queues of those waiting for a free one. Read as
// crash's sbitmap.c reads it: every member it prints, and what a kernel
// version lacks marked as absent rather than guessed.

// SbitmapWord is one struct sbitmap_word: the allocated bits and, since
// 5.0, the bits freed but not yet cleared from word (cleared).
type SbitmapWord struct {
	Word, Cleared uint64
}

// SbqWaitState is one of the queue's SBQ_WAIT_QUEUES struct sbq_wait_state.
type SbqWaitState struct {
	WaitCnt int32
	// Active is crash's test: the wait queue head's list has next != prev
	// (crash prints "inactive" for one waiter too).
	Active bool
}

// SbitmapQueue is a struct sbitmap_queue. A part that could not be read
// has its error instead (WordsErr, AllocHintErr, WsErr), so that the
// parts before it can still be shown, as crash shows them before failing.
type SbitmapQueue struct {
	Addr                uint64
	Depth, Shift, MapNr uint32
	Map                 uint64 // sbitmap.map: the words' array
	Words               []SbitmapWord
	WordsErr            error
	HasCleared          bool // sbitmap_word.cleared (5.0 and later)
	// AllocHint is the per-cpu allocation hint of cpus 0 to n-1, n the
	// number of possible cpus (crash's get_cpus_possible(): it counts the
	// mask's bits and reads that many cpus' copies from the first).
	AllocHint    []uint32
	AllocHintErr error
	WakeBatch    uint32
	WakeIndex    int32 // atomic_t since 5.0, int before: its first 4 bytes
	HasWsActive  bool  // 5.0 and later
	WsActive     int32
	// Ws are the SBQ_WAIT_QUEUES wait states at sbitmap_queue.ws. WsErr
	// is a MissingMemberError when sbq_wait_state has no wait_cnt (6.2
	// and later, and stable kernels it was backported to: 6.1.y).
	Ws                 []SbqWaitState
	WsErr              error
	HasRoundRobin      bool // sbitmap_queue.round_robin, sbitmap's since 5.13
	RoundRobin         bool
	HasMinShallowDepth bool // 4.18 and later
	MinShallowDepth    uint32
}

// SbqWaitQueues is SBQ_WAIT_QUEUES.
const SbqWaitQueues = 8

// ErrNoSbitmap says the kernel has no struct sbitmap (before 4.9): crash's
// command_not_supported().
var ErrNoSbitmap = errors.New("command not supported or applicable on this architecture or kernel")

// MissingMemberError is a member crash's sbitmap.c needs that this
// kernel's type does not have.
type MissingMemberError struct{ Struct, Member string }

func (e *MissingMemberError) Error() string {
	return fmt.Sprintf("struct %s has no member %s", e.Struct, e.Member)
}

// SbitmapReadError is a structure crash's sbitmap.c could not read
// ("sbitmap_queue", "sbitmap", "sbitmap_word", "sbq_wait_state").
type SbitmapReadError struct {
	What string
	Addr uint64
	Err  error // the read's own error
}

func (e *SbitmapReadError) Error() string { return "cannot read " + e.What }
func (e *SbitmapReadError) Unwrap() error { return e.Err }

// HasSbitmap tells whether the kernel has struct sbitmap.
func (k *Kernel) HasSbitmap() bool {
	_, err := k.LayoutSize("sbitmap")
	return err == nil
}

// SbitmapQueueAt reads the struct sbitmap_queue at addr. The error is for
// the queue itself or its struct sbitmap; the later parts' are in the
// result.
func (k *Kernel) SbitmapQueueAt(addr uint64) (*SbitmapQueue, error) {
	if !k.HasSbitmap() {
		return nil, ErrNoSbitmap
	}
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	off := func(typ, member string) (int64, bool) {
		m, err := t.Member(typ, member)
		return m.Offset, err == nil
	}
	need := func(typ, member string) (int64, error) {
		if o, ok := off(typ, member); ok {
			return o, nil
		}
		return 0, &MissingMemberError{typ, member}
	}
	mem := k.memory()
	read := func(what string, a uint64, n int64) ([]byte, error) {
		b := make([]byte, n)
		if err := mem.ReadVirt(b, a); err != nil {
			return nil, &SbitmapReadError{What: what, Addr: a, Err: err}
		}
		return b, nil
	}
	u32 := func(b []byte, o int64) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
	u64 := func(b []byte, o int64) uint64 { return binary.LittleEndian.Uint64(b[o:]) }

	q := &SbitmapQueue{Addr: addr}
	sbOff, err := need("sbitmap_queue", "sb")
	if err != nil {
		return nil, err
	}
	qsize, err := k.LayoutSize("sbitmap_queue")
	if err != nil {
		return nil, err
	}
	qb, err := read("sbitmap_queue", addr, qsize)
	if err != nil {
		return nil, err
	}
	var qAllocHint uint64
	if o, ok := off("sbitmap_queue", "alloc_hint"); ok {
		qAllocHint = u64(qb, o)
	}
	for _, m := range []string{"wake_batch", "wake_index", "ws"} {
		if _, err := need("sbitmap_queue", m); err != nil {
			return nil, err
		}
	}
	o, _ := off("sbitmap_queue", "wake_batch")
	q.WakeBatch = u32(qb, o)
	o, _ = off("sbitmap_queue", "wake_index")
	q.WakeIndex = int32(u32(qb, o))
	o, _ = off("sbitmap_queue", "ws")
	wsAddr := u64(qb, o)
	if o, ok := off("sbitmap_queue", "ws_active"); ok {
		q.HasWsActive, q.WsActive = true, int32(u32(qb, o))
	}
	if o, ok := off("sbitmap_queue", "round_robin"); ok {
		q.HasRoundRobin, q.RoundRobin = true, qb[o] != 0
	}
	if o, ok := off("sbitmap_queue", "min_shallow_depth"); ok {
		q.HasMinShallowDepth, q.MinShallowDepth = true, u32(qb, o)
	}

	ssize, err := k.LayoutSize("sbitmap")
	if err != nil {
		return nil, err
	}
	sb, err := read("sbitmap", addr+uint64(sbOff), ssize)
	if err != nil {
		return nil, err
	}
	for _, m := range []string{"depth", "shift", "map_nr", "map"} {
		if _, err := need("sbitmap", m); err != nil {
			return nil, err
		}
	}
	o, _ = off("sbitmap", "depth")
	q.Depth = u32(sb, o)
	o, _ = off("sbitmap", "shift")
	q.Shift = u32(sb, o)
	o, _ = off("sbitmap", "map_nr")
	q.MapNr = u32(sb, o)
	o, _ = off("sbitmap", "map")
	q.Map = u64(sb, o)
	// The per-cpu hint is the queue's before 5.13, the sbitmap's since.
	allocHint := qAllocHint
	if _, inQueue := off("sbitmap_queue", "alloc_hint"); !inQueue {
		if o, ok := off("sbitmap", "alloc_hint"); ok {
			allocHint = u64(sb, o)
		}
	}
	if o, ok := off("sbitmap", "round_robin"); ok && !q.HasRoundRobin {
		q.HasRoundRobin, q.RoundRobin = true, sb[o] != 0
	}

	// The words.
	wsize, err := k.LayoutSize("sbitmap_word")
	if err != nil {
		q.WordsErr = err
	} else if wo, err := need("sbitmap_word", "word"); err != nil {
		q.WordsErr = err
	} else {
		co, hasCleared := off("sbitmap_word", "cleared")
		q.HasCleared = hasCleared
		for i := uint32(0); i < q.MapNr && i < 1<<20; i++ {
			b, err := read("sbitmap_word", q.Map+uint64(i)*uint64(wsize), wsize)
			if err != nil {
				q.WordsErr = err
				break
			}
			w := SbitmapWord{Word: u64(b, wo)}
			if hasCleared {
				w.Cleared = u64(b, co)
			}
			q.Words = append(q.Words, w)
		}
	}

	// The per-cpu allocation hints.
	if possible, err := k.CPUMask("__cpu_possible_mask"); err != nil {
		q.AllocHintErr = err
	} else {
		for cpu := 0; cpu < len(possible); cpu++ {
			po, err := k.PerCPUOffset(cpu)
			if err != nil {
				q.AllocHintErr = err
				break
			}
			v, err := k.ReadU32(po + allocHint)
			if err != nil {
				q.AllocHintErr = &SbitmapReadError{What: "alloc_hint", Addr: po + allocHint, Err: err}
				break
			}
			q.AllocHint = append(q.AllocHint, v)
		}
	}

	// The wait queues, in crash's order of lookups.
	q.WsErr = func() error {
		size, err := k.LayoutSize("sbq_wait_state")
		if err != nil {
			return &MissingMemberError{"sbq_wait_state", ""}
		}
		cnt, err := need("sbq_wait_state", "wait_cnt")
		if err != nil {
			return err
		}
		wait, err := need("sbq_wait_state", "wait")
		if err != nil {
			return err
		}
		head, err := need("wait_queue_head", "head")
		if err != nil {
			return err
		}
		for i := 0; i < SbqWaitQueues; i++ {
			b, err := read("sbq_wait_state", wsAddr+uint64(i)*uint64(size), size)
			if err != nil {
				return err
			}
			lh := wait + head
			q.Ws = append(q.Ws, SbqWaitState{
				WaitCnt: int32(u32(b, cnt)),
				Active:  u64(b, lh) != u64(b, lh+8),
			})
		}
		return nil
	}()
	return q, nil
}

// wordDepth is the number of bits word i holds (lib/sbitmap.c
// __map_depth).
func (q *SbitmapQueue) wordDepth(i int) uint32 {
	if q.Shift > 6 {
		return 64 // not a real sbitmap: an unsigned long's bits at most
	}
	if i == int(q.MapNr)-1 {
		return q.Depth - uint32(i)<<q.Shift
	}
	return 1 << q.Shift
}

// crashWeight is crash 8.0.6's bitmap_weight(word, bits): the word's set
// bits, and those under the last-word mask once more when bits is not a
// multiple of 64 (crash counts a partial word's bits twice).
func crashWeight(w uint64, nbits uint32) int {
	n := bits.OnesCount64(w)
	if nbits%64 != 0 {
		n += bits.OnesCount64(w & (^uint64(0) >> (-nbits & 63)))
	}
	return n
}

// Weight is the number of set bits of the words (Cleared: of their
// cleared masks), as crash's __sbitmap_weight counts them.
func (q *SbitmapQueue) Weight(cleared bool) int {
	n := 0
	for i, w := range q.Words {
		v := w.Word
		if cleared {
			v = w.Cleared
		}
		n += crashWeight(v, q.wordDepth(i))
	}
	return n
}

// Bitmap is the allocated bits (word & ~cleared) packed into bytes, the
// first word's low bit the first byte's (crash's sbitmap_bitmap_show).
func (q *SbitmapQueue) Bitmap() []byte {
	var out []byte
	var cur byte
	var have uint32
	for i, w := range q.Words {
		word := w.Word &^ w.Cleared
		left := q.wordDepth(i)
		for left > 0 {
			n := min(8-have, left)
			cur |= byte(word&(1<<n-1)) << have
			have += n
			if have == 8 {
				out = append(out, cur)
				cur, have = 0, 0
			}
			word >>= n
			left -= n
		}
	}
	if have > 0 {
		out = append(out, cur)
	}
	return out
}

// SetBits are the indexes of the allocated bits (word & ~cleared), in
// crash's sbitmap_for_each_set order: from bit 0, word by word.
func (q *SbitmapQueue) SetBits() []uint32 {
	var out []uint32
	for i, w := range q.Words {
		word := w.Word &^ w.Cleared
		d := q.wordDepth(i)
		for b := uint32(0); b < d && b < 64; b++ {
			if word&(1<<b) != 0 {
				out = append(out, uint32(i)<<q.Shift+b)
			}
		}
	}
	return out
}
