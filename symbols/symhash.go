package symbols

import (
	"hash/maphash"
	"math/bits"
)

// symHash finds a symbol by name: an open-addressing table of indexes
// into the decoded symbols, built in one pass over them. It is a Go map's
// job, done by hand because a first session on a distribution vmlinux
// builds it over 190,000 symbols before its first answer: a map's lookup
// then insert for each was 40% of Debian's 6.12 cold `sys`; here one probe
// sequence finds the name or its free slot, comparing the stored hash
// before any name.
type symHash struct {
	seed  maphash.Seed
	slots []uint64 // hash's top 32 bits << 32 | index+1; 0 is free
	mask  uint64
}

// newSymHash indexes syms by name; dup is called for each symbol whose
// name an earlier one has (first is that earlier one's index).
func newSymHash(syms []symbol, dup func(first, i int32)) *symHash {
	n := uint64(len(syms))*3/2 + 1
	size := uint64(1) << bits.Len64(n)
	h := &symHash{seed: maphash.MakeSeed(), slots: make([]uint64, size), mask: size - 1}
	for i := range syms {
		name := syms[i].name
		hv := maphash.String(h.seed, name)
		top := hv >> 32
		for p := hv & h.mask; ; p = (p + 1) & h.mask {
			s := h.slots[p]
			if s == 0 {
				h.slots[p] = top<<32 | uint64(i+1)
				break
			}
			if s>>32 == top {
				if j := int32(s&0xffffffff) - 1; syms[j].name == name {
					dup(j, int32(i))
					break
				}
			}
		}
	}
	return h
}

// find is the index of the first symbol named name.
func (h *symHash) find(syms []symbol, name string) (int32, bool) {
	hv := maphash.String(h.seed, name)
	top := hv >> 32
	for p := hv & h.mask; ; p = (p + 1) & h.mask {
		s := h.slots[p]
		if s == 0 {
			return 0, false
		}
		if s>>32 == top {
			if j := int32(s&0xffffffff) - 1; syms[j].name == name {
				return j, true
			}
		}
	}
}
