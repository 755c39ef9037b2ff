package kernel

import "sync"

// The slab walker reads many small values close to each other: a cpu
// freelist's free pointers lie in the few pages of one slab, the struct
// slabs of a partial list in the mem_map. kmem -s read each of them from
// the dump on its own (a translation and a copy of 8 bytes, and for a
// hardened freelist a second read to see that the decoded pointer is
// readable), three fifths of its time. pageCache keeps the last pages read
// whole: a value in a page that could be read whole is answered from the
// copy (the dump does not change under a session), anything else is read
// as before, so the answers, errors included, are the same.

const (
	pcPageShift = 12
	pcPageSize  = 1 << pcPageShift
	pcSlots     = 128 // 512 KiB
)

type pageCache struct {
	mu    sync.Mutex
	slots *[pcSlots]cachedPage
}

type cachedPage struct {
	vpn   uint64
	state uint8 // 0 empty, 1 held in data, 2 cannot be read whole
	data  [pcPageSize]byte
}

// view returns the n bytes at addr from the page cache with the cache
// locked (the caller unlocks s.pc.mu when done with them), or ok false,
// the cache unlocked, when they are not in a page that can be read whole.
// The readers below decode values in place: a buffer handed to the
// Memory interface escapes to the heap, an allocation per value read.
func (s *Slab) view(addr uint64, n int) (b []byte, ok bool) {
	off := addr & (pcPageSize - 1)
	if !s.env.PageCache || s.env.PageShift != pcPageShift || n <= 0 || off+uint64(n) > pcPageSize {
		return nil, false
	}
	vpn := addr >> pcPageShift
	pc := &s.pc
	pc.mu.Lock()
	if pc.slots == nil {
		pc.slots = new([pcSlots]cachedPage)
	}
	e := &pc.slots[vpn%pcSlots]
	if e.state == 0 || e.vpn != vpn {
		e.vpn, e.state = vpn, 2
		if s.env.Mem.ReadVirt(e.data[:], vpn<<pcPageShift) == nil {
			e.state = 1
		}
	}
	if e.state == 1 {
		return e.data[off : off+uint64(n)], true
	}
	pc.mu.Unlock()
	return nil, false
}

// read is env.Mem.ReadVirt through the page cache.
func (s *Slab) read(p []byte, addr uint64) error {
	if b, ok := s.view(addr, len(p)); ok {
		copy(p, b)
		s.pc.mu.Unlock()
		return nil
	}
	return s.env.Mem.ReadVirt(p, addr)
}
