package symbols

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Kernels before 6.0 do not name the kallsyms arrays in VMCOREINFO: they
// are found in the kernel image by their structure, as tools that rebuild
// a symbol table from a bare kernel image do. scripts/kallsyms.c writes,
// into .rodata, each label 8-aligned on 64-bit (".balign 8"):
//
//	kallsyms_offsets        num_syms × .long      (here before 6.3 …)
//	kallsyms_relative_base  .quad (_text ± a constant)
//	kallsyms_num_syms       .long
//	kallsyms_names          num_syms records (a length, then tokens)
//	kallsyms_markers        (num_syms+255)/256 × .long: offset of every 256th record
//	[kallsyms_seqs_of_names 3 × num_syms bytes, 6.2 and some backports]
//	kallsyms_token_table    256 NUL-terminated strings
//	kallsyms_token_index    256 × .short: each string's offset
//	[kallsyms_offsets, kallsyms_relative_base: … and here in 6.12]
//
// Every character a symbol name uses keeps a one-character token of its own
// (insert_real_symbols_in_table): the digits, which every kernel's names
// use, make the run "0\x001\x00…9\x00" inside the token table. That run is
// looked for; the token index must then describe the table exactly, and the
// records before it must decode to the markers, before anything is taken.

// digitTokens is the run of one-character tokens '0'..'9' (tokens 48..57).
var digitTokens = []byte("0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00")

// Bounds of the search: how far past the kernel's start the token table
// may be (a distribution kernel's .rodata ends ~30 MB in), and how far
// before the token table the relative base may be (the offsets are before
// it; the names and markers of 4M symbols are well under 48 MB).
const (
	kallsymsScanLimit = 128 << 20
	kallsymsBackLimit = 48 << 20
	scanChunk         = 1 << 20
)

// FindKallsyms looks for the kallsyms arrays in the kernel image that starts
// at text (the running kernel's _text: __START_KERNEL_map + 16 MB + the KASLR
// offset on x86_64).
func FindKallsyms(mem Memory, text uint64) (KallsymsAddrs, error) {
	buf := make([]byte, scanChunk+len(digitTokens))
	misses := 0
	for off := uint64(0); off < kallsymsScanLimit; off += scanChunk {
		if err := mem.ReadVirt(buf, text+off); err != nil {
			// Pages the dump lacks (excluded zero pages, a hole): page by page.
			readPages(mem, buf, text+off)
			misses++
		}
		for i := 0; ; {
			j := bytes.Index(buf[i:], digitTokens)
			if j < 0 {
				break
			}
			at := text + off + uint64(i+j)
			if a, ok := kallsymsAround(mem, at); ok {
				return a, nil
			}
			i += j + 1
		}
	}
	return KallsymsAddrs{}, fmt.Errorf("kallsyms: no kallsyms token table in the %d MB of kernel image from %#x (%d MB unreadable): this kernel needs its vmlinux", kallsymsScanLimit>>20, text, misses)
}

// FindKallsymsBelow is FindKallsyms searching down from upper (the
// lowest address the caller knows is past .rodata: a .data variable
// VMCOREINFO names, such as init_uts_ns) to text, then up from text as
// FindKallsyms does: scripts/kallsyms.c's object is linked last, so its
// arrays end .rodata's own part, some 5 MB below .data on Debian's 5.10,
// while 17 MB of text and read-only data lie before them.
func FindKallsymsBelow(mem Memory, text, upper uint64) (KallsymsAddrs, error) {
	if upper > text && upper-text <= kallsymsScanLimit {
		buf := make([]byte, scanChunk+len(digitTokens))
		for hi := upper; hi > text; {
			lo := text
			if hi-text > scanChunk {
				lo = hi - scanChunk
			}
			// A run crossing into the chunk above is read whole.
			chunk := buf[:hi-lo+uint64(len(digitTokens))]
			if err := mem.ReadVirt(chunk, lo); err != nil {
				readPages(mem, chunk, lo)
			}
			for i := 0; ; {
				j := bytes.Index(chunk[i:], digitTokens)
				if j < 0 {
					break
				}
				if a, ok := kallsymsAround(mem, lo+uint64(i+j)); ok {
					return a, nil
				}
				i += j + 1
			}
			hi = lo
		}
	}
	return FindKallsyms(mem, text)
}

// readPages fills buf from addr page by page, zeroing pages that cannot be read.
func readPages(mem Memory, buf []byte, addr uint64) {
	for p := 0; p < len(buf); {
		n := min(len(buf)-p, 4096-int((addr+uint64(p))%4096))
		if mem.ReadVirt(buf[p:p+n], addr+uint64(p)) != nil {
			clear(buf[p : p+n])
		}
		p += n
	}
}

// kallsymsAround checks a candidate: digit is where the token "0" starts.
func kallsymsAround(mem Memory, digit uint64) (KallsymsAddrs, bool) {
	le := binary.LittleEndian
	// Tokens 48..255 follow, the index after them, 8-aligned.
	tail := make([]byte, 208*ksymNameLen/4)
	readPages(mem, tail, digit)
	p := 0
	for range 256 - '0' {
		e := bytes.IndexByte(tail[p:], 0)
		if e <= 0 {
			return KallsymsAddrs{}, false
		}
		p += e + 1
	}
	index := (digit + uint64(p) + 7) &^ 7
	var idx [512]byte
	if mem.ReadVirt(idx[:], index) != nil {
		return KallsymsAddrs{}, false
	}
	o48 := uint64(le.Uint16(idx[2*'0':]))
	if le.Uint16(idx[0:]) != 0 || o48 > digit {
		return KallsymsAddrs{}, false
	}
	table := digit - o48
	if table%8 != 0 || index-table > 0xffff+8 {
		return KallsymsAddrs{}, false
	}
	// The index describes the table exactly: each string ends where the
	// next begins, the last where the index's alignment starts.
	tbl := make([]byte, index-table)
	if mem.ReadVirt(tbl, table) != nil {
		return KallsymsAddrs{}, false
	}
	for i := range 256 {
		o := int(le.Uint16(idx[2*i:]))
		next := int(digit-table) + p
		if i < 255 {
			next = int(le.Uint16(idx[2*i+2:]))
		}
		if o >= next || next > len(tbl) || tbl[next-1] != 0 || bytes.IndexByte(tbl[o:next], 0) != next-o-1 {
			return KallsymsAddrs{}, false
		}
	}
	a, ok := kallsymsBefore(mem, table, index)
	if !ok {
		return KallsymsAddrs{}, false
	}
	a.TokenTable, a.TokenIndex = table, index
	return a, true
}

// kallsymsBefore finds the relative base, the count, the names and the
// offsets before the token table at table: the first 8-aligned quadword
// below it holding a kernel-image address, followed by a count whose
// records decode to markers that end at or before the table.
func kallsymsBefore(mem Memory, table, index uint64) (KallsymsAddrs, bool) {
	// A window that grows: a distribution kernel's offsets and names are
	// ~2 MB, a window of 4 MB is usually all that is read.
	for back := uint64(4 << 20); back <= kallsymsBackLimit; back *= 4 {
		if a, ok := kallsymsIn(mem, table, index, back); ok {
			return a, true
		}
	}
	return KallsymsAddrs{}, false
}

func kallsymsIn(mem Memory, table, index, back uint64) (KallsymsAddrs, bool) {
	le := binary.LittleEndian
	if table < back {
		return KallsymsAddrs{}, false
	}
	lo := (table - back) &^ 7
	win := make([]byte, table-lo)
	readPages(mem, win, lo)
	for q := len(win) - 8; q >= 0; q -= 8 {
		n := le.Uint32(win[q:])
		if n < 256 || n > maxKallsyms {
			continue
		}
		numSyms := lo + uint64(q)
		names := numSyms + 8
		end, marks, ok := walkNames(win[q+8:], n)
		if !ok {
			continue
		}
		markers := (names + uint64(end) + 7) &^ 7
		nm := (uint64(n) + 255) / 256
		if markers+4*nm > table {
			continue
		}
		mo := markers - lo
		good := true
		for k := range marks {
			if le.Uint32(win[mo+4*uint64(k):]) != marks[k] {
				good = false
				break
			}
		}
		if !good {
			continue
		}
		a := KallsymsAddrs{Names: names, NumSyms: numSyms}
		// Before 6.3 (and in its backports) the offsets and the base come
		// first, the base just before the count; later they follow the
		// token index.
		if q >= 8 && inKernelImage(le.Uint64(win[q-8:])) && numSyms-8 >= lo+4*uint64(n) {
			a.RelativeBase = numSyms - 8
			a.Offsets = (a.RelativeBase - 4*uint64(n)) &^ 7
			return a, true
		}
		a.Offsets = (index + 512 + 7) &^ 7
		a.RelativeBase = (a.Offsets + 4*uint64(n) + 7) &^ 7
		var b [8]byte
		if mem.ReadVirt(b[:], a.RelativeBase) == nil && inKernelImage(le.Uint64(b[:])) {
			return a, true
		}
	}
	return KallsymsAddrs{}, false
}

// inKernelImage reports whether v is in x86_64's kernel image mapping,
// __START_KERNEL_map .. +1 GB (kallsyms_relative_base is _text's address).
func inKernelImage(v uint64) bool { return v>>30 == 0xffffffff80000000>>30 }

// walkNames steps over n name records in b: where they end, and the offset
// of every 256th record (what kallsyms_markers must hold).
func walkNames(b []byte, n uint32) (int, []uint32, bool) {
	var marks []uint32
	p := 0
	for i := range n {
		if i%256 == 0 {
			marks = append(marks, uint32(p))
		}
		if p >= len(b) {
			return 0, nil, false
		}
		l := int(b[p])
		p++
		if l&0x80 != 0 {
			if p >= len(b) {
				return 0, nil, false
			}
			l = l&0x7f | int(b[p])<<7
			p++
		}
		if l == 0 {
			return 0, nil, false
		}
		p += l
	}
	if p > len(b) {
		return 0, nil, false
	}
	return p, marks, true
}
