package vmcore

// Hand-made dump files for parser corner cases. These are synthetic: they
// follow the layouts documented in elf.go, kdump.go and flattened.go, and are
// used only where no real dump exercises a case (real dumps: realdata_test.go).

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

var le = binary.LittleEndian

func buildNote(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	nb := append([]byte(name), 0)
	var h [12]byte
	le.PutUint32(h[0:], uint32(len(nb)))
	le.PutUint32(h[4:], uint32(len(desc)))
	le.PutUint32(h[8:], typ)
	b.Write(h[:])
	b.Write(nb)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(desc)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// prstatus builds an x86_64 elf_prstatus (336 bytes) whose registers are
// base+0 .. base+26 in pr_reg order.
func prstatus(pid int32, base uint64) []byte {
	d := make([]byte, 336)
	le.PutUint32(d[prstatusPidOff:], uint32(pid))
	for i := 0; i < x86NumRegs; i++ {
		le.PutUint64(d[prstatusRegOff+8*i:], base+uint64(i))
	}
	return d
}

type testSeg struct {
	paddr uint64
	data  []byte // file data (filesz = len)
	memsz uint64 // 0: len(data)
}

func buildELF(notes []byte, segs []testSeg) []byte {
	phnum := len(segs) + 1
	hdrEnd := elfHeaderSize + phnum*elfPhdrSize
	out := make([]byte, hdrEnd)
	copy(out, "\x7fELF\x02\x01\x01")
	le.PutUint16(out[16:], etCore)
	le.PutUint16(out[18:], 62) // EM_X86_64
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[32:], elfHeaderSize)
	le.PutUint16(out[52:], elfHeaderSize)
	le.PutUint16(out[54:], elfPhdrSize)
	le.PutUint16(out[56:], uint16(phnum))
	ph := func(i int, typ uint32, off, vaddr, paddr, filesz, memsz uint64) {
		p := out[elfHeaderSize+i*elfPhdrSize:]
		le.PutUint32(p[0:], typ)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], vaddr)
		le.PutUint64(p[24:], paddr)
		le.PutUint64(p[32:], filesz)
		le.PutUint64(p[40:], memsz)
	}
	ph(0, ptNote, uint64(len(out)), 0, 0, uint64(len(notes)), uint64(len(notes)))
	out = append(out, notes...)
	for i, s := range segs {
		memsz := s.memsz
		if memsz == 0 {
			memsz = uint64(len(s.data))
		}
		ph(i+1, ptLoad, uint64(len(out)), 0, s.paddr, uint64(len(s.data)), memsz)
		out = append(out, s.data...)
	}
	return out
}

type kdumpSpec struct {
	blockSize  int
	version    int32
	maxMapnr   uint64
	ram        map[uint64]bool   // pfns that exist
	pages      map[uint64][]byte // dumpable pfns and their contents
	comp       uint32            // page_desc flag to compress with (0: raw)
	vmcoreinfo string
	notes      []byte
	dumpLevel  int32
	status     uint32
	split      bool
	startPFN   uint64
	endPFN     uint64
}

var (
	testZlib *zlib.Writer
	testZstd *zstd.Encoder
)

func compressPage(t testing.TB, comp uint32, page []byte) ([]byte, uint32) {
	var out []byte
	switch comp {
	case flagZlib:
		var b bytes.Buffer
		if testZlib == nil {
			testZlib = zlib.NewWriter(&b)
		} else {
			testZlib.Reset(&b)
		}
		testZlib.Write(page)
		testZlib.Close()
		out = b.Bytes()
	case flagSnappy:
		out = snappy.Encode(nil, page)
	case flagZstd:
		if testZstd == nil {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			if err != nil {
				t.Fatal(err)
			}
			testZstd = enc
		}
		out = testZstd.EncodeAll(page, nil)
	case 0:
		return page, 0
	default:
		t.Fatalf("test builder cannot compress with %#x", comp)
	}
	// Like makedumpfile: store raw when compression does not help.
	if len(out) >= len(page) {
		return page, 0
	}
	return out, comp
}

func buildKdump(t testing.TB, s kdumpSpec) []byte {
	bs := s.blockSize
	if bs == 0 {
		bs = 4096
	}
	if s.version == 0 {
		s.version = 6
	}
	one := int(divUp(divUp(s.maxMapnr, 8), uint64(bs)))
	bitmapBlocks := 2 * one
	subHdrBlocks := 1
	extra := len(s.vmcoreinfo) + len(s.notes)
	subHdrBlocks += (kdumpSubSize + extra) / bs
	out := make([]byte, bs*(1+subHdrBlocks+bitmapBlocks))
	copy(out, kdumpSignature)
	le.PutUint32(out[8:], uint32(s.version))
	copy(out[12:], "Linux")
	copy(out[12+65:], "testhost")
	copy(out[12+130:], "6.1.0-test")
	copy(out[12+260:], "x86_64")
	le.PutUint64(out[408:], 1700000000)
	le.PutUint64(out[416:], 250000)
	le.PutUint32(out[424:], s.status)
	le.PutUint32(out[428:], uint32(bs))
	le.PutUint32(out[432:], uint32(subHdrBlocks))
	le.PutUint32(out[436:], uint32(bitmapBlocks))
	le.PutUint32(out[440:], uint32(s.maxMapnr))
	le.PutUint32(out[460:], 2)
	sh := out[bs:]
	le.PutUint64(sh[0:], 0x1000000) // phys_base
	le.PutUint32(sh[8:], uint32(s.dumpLevel))
	if s.split {
		le.PutUint32(sh[12:], 1)
	}
	off := bs + kdumpSubSize
	if s.vmcoreinfo != "" {
		copy(out[off:], s.vmcoreinfo)
		le.PutUint64(sh[32:], uint64(off))
		le.PutUint64(sh[40:], uint64(len(s.vmcoreinfo)))
		off += len(s.vmcoreinfo)
	}
	if len(s.notes) > 0 {
		copy(out[off:], s.notes)
		le.PutUint64(sh[48:], uint64(off))
		le.PutUint64(sh[56:], uint64(len(s.notes)))
	}
	end := s.endPFN
	if end == 0 {
		end = s.maxMapnr
	}
	le.PutUint64(sh[80:], s.startPFN)
	le.PutUint64(sh[88:], end)
	le.PutUint64(sh[96:], s.maxMapnr)
	bm := out[bs*(1+subHdrBlocks):]
	for pfn := range s.ram {
		bm[pfn/8] |= 1 << (pfn % 8)
	}
	for pfn := range s.pages {
		bm[one*bs+int(pfn/8)] |= 1 << (pfn % 8)
	}
	var dumpable []uint64
	for pfn := uint64(0); pfn < s.maxMapnr; pfn++ {
		if _, ok := s.pages[pfn]; ok && pfn >= s.startPFN && pfn < end {
			dumpable = append(dumpable, pfn)
		}
	}
	descOff := len(out)
	out = append(out, make([]byte, len(dumpable)*pageDescSize)...)
	// makedumpfile writes one shared copy for all zero pages.
	zeroOff := int64(-1)
	for i, pfn := range dumpable {
		page := s.pages[pfn]
		var dataOff int64
		data, flags := compressPage(t, s.comp, page)
		if bytes.Count(page, []byte{0}) == len(page) && zeroOff >= 0 {
			dataOff = zeroOff
		} else {
			dataOff = int64(len(out))
			out = append(out, data...)
			if bytes.Count(page, []byte{0}) == len(page) {
				zeroOff = dataOff
			}
		}
		d := out[descOff+i*pageDescSize:]
		le.PutUint64(d[0:], uint64(dataOff))
		le.PutUint32(d[8:], uint32(len(data)))
		le.PutUint32(d[12:], flags)
	}
	return out
}

// flatten turns a file into makedumpfile's flattened stream, with records of
// at most chunk bytes, plus a rewrite of the first 16 bytes at the end (a
// later record must override an earlier one).
func flatten(file []byte, chunk int, end bool) []byte {
	out := make([]byte, flatHeaderSize)
	copy(out, flatSignature)
	binary.BigEndian.PutUint64(out[16:], flatTypeHeader)
	binary.BigEndian.PutUint64(out[24:], 1)
	rec := func(off int64, data []byte) {
		var h [16]byte
		binary.BigEndian.PutUint64(h[0:], uint64(off))
		binary.BigEndian.PutUint64(h[8:], uint64(len(data)))
		out = append(out, h[:]...)
		out = append(out, data...)
	}
	garbage := bytes.Repeat([]byte{0xee}, 16)
	rec(0, garbage) // overwritten below
	for off := 0; off < len(file); off += chunk {
		rec(int64(off), file[off:min(off+chunk, len(file))])
	}
	rec(0, file[:16])
	if end {
		var h [16]byte
		binary.BigEndian.PutUint64(h[0:], ^uint64(0))
		binary.BigEndian.PutUint64(h[8:], ^uint64(0))
		out = append(out, h[:]...)
	}
	return out
}

func openBytes(t testing.TB, b []byte) *Dump {
	t.Helper()
	d, err := newDump(&memSource{data: b}, "test")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return d
}

func pattern(seed byte, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i*7) + byte(i>>8)
	}
	return p
}
