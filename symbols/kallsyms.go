package symbols

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// The kernel's own symbol table, kallsyms, read from its memory: what a
// session without the vmlinux names addresses with. Since 6.0 VMCOREINFO
// gives the addresses of its arrays (kernel/crash_core.c in 6.1,
// kernel/vmcore_info.c in 6.12: kallsyms_names, kallsyms_num_syms,
// kallsyms_token_table, kallsyms_token_index, kallsyms_offsets,
// kallsyms_relative_base). The layout is scripts/kallsyms.c's and the
// decoding kernel/kallsyms.c's:
//
//   - kallsyms_names is one record per symbol, in address order: a length
//     byte (when its top bit is set, a second byte carries bits 7..14 — the
//     "big symbol" form of 6.1 and later), then that many token numbers;
//   - token number b expands to the NUL-terminated string at
//     kallsyms_token_table[kallsyms_token_index[b]]; the first character of
//     the expansion is the symbol's type letter (nm's), the rest its name;
//   - kallsyms_offsets[i] is an int: with KALLSYMS_ABSOLUTE_PERCPU (x86_64
//     SMP) a non-negative value is the address itself (per-cpu offsets)
//     and a negative one means kallsyms_relative_base - 1 - value; without
//     it every value is an unsigned offset from kallsyms_relative_base
//     (kallsyms_sym_address()).
//
// kallsyms_relative_base is relocated with the kernel, so the addresses
// are the running kernel's (KASLR applied), per-cpu ones excepted.

// KallsymsAddrs are the kernel addresses of the kallsyms arrays, from
// VMCOREINFO's SYMBOL() lines.
type KallsymsAddrs struct {
	Names, NumSyms, TokenTable, TokenIndex, Offsets, RelativeBase uint64
}

// Complete reports whether every address is known.
func (a KallsymsAddrs) Complete() bool {
	return a.Names != 0 && a.NumSyms != 0 && a.TokenTable != 0 && a.TokenIndex != 0 && a.Offsets != 0 && a.RelativeBase != 0
}

// A KallsymsSymbol is one entry of the kernel's kallsyms.
type KallsymsSymbol struct {
	Name string
	Addr uint64 // as the running kernel sees it
	Type byte   // nm's letter: T/t text, D/d data, R/r rodata, B/b bss, A absolute, W/w/V/v weak
	// Absolute is set for a value stored as itself rather than relative to
	// kallsyms_relative_base (per-cpu offsets): it does not move with KASLR.
	Absolute bool
}

// Bounds on what a sane kallsyms holds: a distribution kernel has ~200k
// symbols and ~3 MB of compressed names; a name is at most
// KSYM_NAME_LEN (512) characters.
const (
	maxKallsyms      = 4 << 20
	maxKallsymsNames = 64 << 20
	ksymNameLen      = 512
)

// ReadKallsyms decodes the kernel's symbol table from mem. Every read is
// bounded and every index checked: a table overwritten in the dump gives
// an error naming the array and the entry, never a panic or a hang.
func ReadKallsyms(mem Memory, a KallsymsAddrs) ([]KallsymsSymbol, error) {
	tab, err := readKallsymsTable(mem, a)
	if err != nil {
		return nil, err
	}
	out := make([]KallsymsSymbol, tab.len())
	for i := range out {
		out[i] = tab.symbol(i)
	}
	return out, nil
}

// kallsymsTable is the decoded kallsyms, compact: every name a substring
// of one string (names[ends[i-1]:ends[i]] is symbol i's type letter and
// name), and each symbol's address. A session without the vmlinux builds
// its symbol table from it directly, with no []KallsymsSymbol in between
// (the garbage of one start-up's first collection).
type kallsymsTable struct {
	names string
	ends  []uint32
	meta  []kallsymsMeta
}

type kallsymsMeta struct {
	addr uint64
	abs  bool
}

func (t *kallsymsTable) len() int { return len(t.ends) }

func (t *kallsymsTable) symbol(i int) KallsymsSymbol {
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return KallsymsSymbol{Type: t.names[start], Name: t.names[start+1 : t.ends[i]], Addr: t.meta[i].addr, Absolute: t.meta[i].abs}
}

func readKallsymsTable(mem Memory, a KallsymsAddrs) (kallsymsTable, error) {
	var none kallsymsTable
	if !a.Complete() {
		return none, fmt.Errorf("kallsyms: VMCOREINFO does not give the kallsyms arrays (kernels before 6.0 do not export them)")
	}
	le := binary.LittleEndian
	var b8 [8]byte
	if err := mem.ReadVirt(b8[:4], a.NumSyms); err != nil {
		return none, fmt.Errorf("kallsyms: reading kallsyms_num_syms at %#x: %w", a.NumSyms, err)
	}
	n := le.Uint32(b8[:4])
	if n == 0 || n > maxKallsyms {
		return none, fmt.Errorf("kallsyms: kallsyms_num_syms at %#x is %d (expected 1..%d): the table is damaged", a.NumSyms, n, maxKallsyms)
	}
	if err := mem.ReadVirt(b8[:], a.RelativeBase); err != nil {
		return none, fmt.Errorf("kallsyms: reading kallsyms_relative_base at %#x: %w", a.RelativeBase, err)
	}
	base := le.Uint64(b8[:])

	var idx [256 * 2]byte
	if err := mem.ReadVirt(idx[:], a.TokenIndex); err != nil {
		return none, fmt.Errorf("kallsyms: reading kallsyms_token_index at %#x: %w", a.TokenIndex, err)
	}
	tokens, err := readTokens(mem, a.TokenTable, idx[:])
	if err != nil {
		return none, err
	}

	// The counts are checked against the dump before anything sized by
	// them is allocated: the last offset must be readable.
	var last [4]byte
	if err := mem.ReadVirt(last[:], a.Offsets+4*uint64(n-1)); err != nil {
		return none, fmt.Errorf("kallsyms: kallsyms_offsets[%d] (kallsyms_num_syms %d) at %#x: %w", n-1, n, a.Offsets+4*uint64(n-1), err)
	}
	offs := make([]byte, 4*int(n))
	if err := mem.ReadVirt(offs, a.Offsets); err != nil {
		return none, fmt.Errorf("kallsyms: reading kallsyms_offsets (%d entries) at %#x: %w", n, a.Offsets, err)
	}
	absPercpu := false
	for i := range int(n) {
		if int32(le.Uint32(offs[4*i:])) < 0 {
			absPercpu = true
			break
		}
	}

	names := &chunkReader{mem: mem, addr: a.Names, limit: maxKallsymsNames}
	// n is checked against the dump above: one allocation for the
	// symbols, and their names expanded into one arena, each name a
	// substring of one string made at the end (a distribution kernel has
	// 150,000-200,000 symbols: a string and a builder each cost a third
	// of the dump-alone start-up).
	meta := make([]kallsymsMeta, 0, n)
	ends := make([]uint32, 0, n)
	arena := make([]byte, 0, 32*int(n))
	for i := range int(n) {
		l, err := names.byte()
		if err != nil {
			return none, fmt.Errorf("kallsyms: symbol %d of %d: %w", i, n, err)
		}
		ln := int(l)
		if l&0x80 != 0 {
			hi, err := names.byte()
			if err != nil {
				return none, fmt.Errorf("kallsyms: symbol %d of %d: %w", i, n, err)
			}
			ln = int(l&0x7f) | int(hi)<<7
		}
		if ln == 0 {
			return none, fmt.Errorf("kallsyms: symbol %d of %d at kallsyms_names+%#x has length 0: the table is damaged", i, n, names.off-1)
		}
		start := len(arena)
		enc, err := names.next(ln)
		if err != nil {
			return none, fmt.Errorf("kallsyms: symbol %d of %d: %w", i, n, err)
		}
		for _, t := range enc {
			arena = append(arena, tokens[t]...)
			if len(arena)-start > ksymNameLen+1 {
				return none, fmt.Errorf("kallsyms: symbol %d of %d at kallsyms_names+%#x expands past %d characters: the table is damaged", i, n, names.off, ksymNameLen)
			}
		}
		if len(arena)-start < 2 {
			return none, fmt.Errorf("kallsyms: symbol %d of %d expands to %q (a type letter and a name expected): the table is damaged", i, n, arena[start:])
		}
		if len(arena) > math.MaxUint32 {
			return none, fmt.Errorf("kallsyms: the names expand past 4 GB: the table is damaged")
		}
		ends = append(ends, uint32(len(arena)))
		var m kallsymsMeta
		off := int32(le.Uint32(offs[4*i:]))
		switch {
		case !absPercpu:
			m.addr = base + uint64(uint32(off))
		case off >= 0:
			m.addr, m.abs = uint64(off), true
		default:
			m.addr = base - 1 - uint64(int64(off))
		}
		meta = append(meta, m)
	}
	// The arena is never written again: its bytes are the string's.
	var all string
	if len(arena) > 0 {
		all = unsafe.String(&arena[0], len(arena))
	}
	return kallsymsTable{names: all, ends: ends, meta: meta}, nil
}

// readTokens reads the 256 token strings.
func readTokens(mem Memory, table uint64, idx []byte) ([256]string, error) {
	var tokens [256]string
	maxOff := 0
	for i := range 256 {
		maxOff = max(maxOff, int(binary.LittleEndian.Uint16(idx[2*i:])))
	}
	// A token is a few characters; the last one ends well within 1 KB.
	buf := make([]byte, maxOff+1024)
	if err := mem.ReadVirt(buf, table); err != nil {
		// The table may end close to a page the dump lacks: read less.
		buf = buf[:maxOff+64]
		if err := mem.ReadVirt(buf, table); err != nil {
			return tokens, fmt.Errorf("kallsyms: reading kallsyms_token_table at %#x: %w", table, err)
		}
	}
	for i := range 256 {
		o := int(binary.LittleEndian.Uint16(idx[2*i:]))
		end := strings.IndexByte(string(buf[o:]), 0)
		if end < 0 {
			return tokens, fmt.Errorf("kallsyms: token %d at kallsyms_token_table+%#x is not terminated: the table is damaged", i, o)
		}
		tokens[i] = string(buf[o : o+end])
	}
	return tokens, nil
}

// chunkReader reads a byte stream from memory 64 KB at a time.
type chunkReader struct {
	mem   Memory
	addr  uint64
	off   int // bytes consumed
	buf   []byte
	pos   int
	limit int
	// scratch holds a run of bytes next gathered across two chunks.
	scratch []byte
}

// next is the next n bytes, valid until the next call: a slice of the
// chunk when it holds them, else gathered byte by byte.
func (r *chunkReader) next(n int) ([]byte, error) {
	if r.pos+n <= len(r.buf) {
		b := r.buf[r.pos : r.pos+n]
		r.pos += n
		r.off += n
		return b, nil
	}
	r.scratch = r.scratch[:0]
	for range n {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		r.scratch = append(r.scratch, c)
	}
	return r.scratch, nil
}

func (r *chunkReader) byte() (byte, error) {
	if r.pos >= len(r.buf) {
		if r.off >= r.limit {
			return 0, fmt.Errorf("kallsyms_names runs past %d bytes: the table is damaged", r.limit)
		}
		if r.buf == nil {
			r.buf = make([]byte, 64<<10)
		}
		r.buf = r.buf[:cap(r.buf)]
		at := r.addr + uint64(r.off)
		if err := r.mem.ReadVirt(r.buf, at); err != nil {
			// Near the end of the readable area: one page at a time.
			r.buf = r.buf[:4096-int(at%4096)]
			if err := r.mem.ReadVirt(r.buf, at); err != nil {
				return 0, fmt.Errorf("reading kallsyms_names at %#x: %w", at, err)
			}
		}
		r.pos = 0
	}
	c := r.buf[r.pos]
	r.pos++
	r.off++
	return c, nil
}
