package vmcore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"
)

// The kdump-compressed format written by makedumpfile -c/-l/-p/-z. Layout
// facts from makedumpfile's diskdump_mod.h (struct disk_dump_header,
// kdump_sub_header, page_desc) and crash's diskdump.c (how the bitmaps and
// the page descriptor array are located). All x86_64 sizes: the header is
//
//	  0 signature[8]  "KDUMP   "
//	  8 header_version int32
//	 12 utsname: 6 x char[65] = 390 bytes
//	408 timestamp: struct timeval (8-aligned, so 6 bytes of padding before it)
//	424 status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr,
//	    total_ram_blocks, device_blocks, written_blocks, current_cpu, nr_cpus
//	464 end
//
// followed at block 1 by the sub-header, at block 1+sub_hdr_size by the two
// bitmaps (bitmap_blocks blocks together), then the page_desc array.
const (
	kdumpSignature = "KDUMP   "
	diskdumpSig    = "DISKDUMP"
	kdumpHdrSize   = 464
	kdumpSubSize   = 104
	pageDescSize   = 24

	statusIncomplete      = 0x8  // DUMP_DH_COMPRESSED_INCOMPLETE
	statusExcludedVmemmap = 0x10 // DUMP_DH_EXCLUDED_VMEMMAP

	rankChunk = 4096 // pfns per entry of the dumpable-page rank table
)

// Utsname is struct new_utsname as saved in the kdump header.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// KdumpHeader is disk_dump_header plus kdump_sub_header. Fields of the
// sub-header that the header_version predates are zero.
type KdumpHeader struct {
	HeaderVersion  int32
	Utsname        Utsname
	Timestamp      time.Time // when makedumpfile wrote the dump
	TimestampSec   int64
	TimestampUsec  int64
	Status         uint32
	BlockSize      int32
	SubHdrSize     int32
	BitmapBlocks   uint32
	MaxMapnr       uint64 // 64-bit value from the sub-header for version >= 6
	TotalRAMBlocks uint32
	DeviceBlocks   uint32
	WrittenBlocks  uint32
	CurrentCPU     uint32
	NrCPUs         int32

	PhysBase         uint64
	DumpLevel        int32 // version >= 1
	Split            bool  // version >= 2
	StartPFN         uint64
	EndPFN           uint64
	OffsetVMCoreInfo int64 // version >= 3
	SizeVMCoreInfo   uint64
	OffsetNote       int64 // version >= 4
	SizeNote         uint64
	OffsetEraseInfo  int64 // version >= 5
	SizeEraseInfo    uint64
}

// Incomplete reports DUMP_DH_COMPRESSED_INCOMPLETE: makedumpfile ran out of
// space and the file was renamed vmcore-incomplete.
func (h *KdumpHeader) Incomplete() bool { return h.Status&statusIncomplete != 0 }

// ExcludedVmemmap reports DUMP_DH_EXCLUDED_VMEMMAP.
func (h *KdumpHeader) ExcludedVmemmap() bool { return h.Status&statusExcludedVmemmap != 0 }

type kdumpDump struct {
	hdr       KdumpHeader
	blockSize uint64
	ram       []byte // first bitmap: pages that exist
	dumpable  []byte // second bitmap: pages written to the file
	dataOff   int64  // the page_desc array
	startPFN  uint64 // pfns this file holds: all of [0, max_mapnr) unless split
	endPFN    uint64

	cut bool // the last page's data lies past the end of the file

	rankOnce sync.Once
	rank     []uint64 // set bits of dumpable before pfn i*rankChunk
	rankBase uint64   // rank of startPFN
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func openKdump(src source) (*kdumpDump, []Note, string, error) {
	le := binary.LittleEndian
	var h [kdumpHdrSize]byte
	if err := readFull(src, h[:], 0, "kdump header"); err != nil {
		return nil, nil, "", err
	}
	if string(h[:8]) == diskdumpSig {
		return nil, nil, "", formatErr(0, "the old diskdump format (\"DISKDUMP\" signature) is not supported", nil)
	}
	if string(h[:8]) != kdumpSignature {
		return nil, nil, "", formatErr(0, "expected kdump signature \"KDUMP   \", found", fmt.Sprintf("%q", h[:8]))
	}
	k := &kdumpDump{}
	kh := &k.hdr
	kh.HeaderVersion = int32(le.Uint32(h[8:]))
	u := h[12:]
	kh.Utsname = Utsname{cstr(u[0:65]), cstr(u[65:130]), cstr(u[130:195]), cstr(u[195:260]), cstr(u[260:325]), cstr(u[325:390])}
	kh.TimestampSec = int64(le.Uint64(h[408:]))
	kh.TimestampUsec = int64(le.Uint64(h[416:]))
	kh.Timestamp = time.Unix(kh.TimestampSec, kh.TimestampUsec*1000)
	kh.Status = le.Uint32(h[424:])
	kh.BlockSize = int32(le.Uint32(h[428:]))
	kh.SubHdrSize = int32(le.Uint32(h[432:]))
	kh.BitmapBlocks = le.Uint32(h[436:])
	kh.MaxMapnr = uint64(le.Uint32(h[440:]))
	kh.TotalRAMBlocks = le.Uint32(h[444:])
	kh.DeviceBlocks = le.Uint32(h[448:])
	kh.WrittenBlocks = le.Uint32(h[452:])
	kh.CurrentCPU = le.Uint32(h[456:])
	kh.NrCPUs = int32(le.Uint32(h[460:]))

	bs := kh.BlockSize
	if bs < 512 || bs > 1<<20 || bs&(bs-1) != 0 {
		return nil, nil, "", formatErr(428, "kdump header: block_size is not a power of two between 512 and 1M", bs)
	}
	if kh.SubHdrSize < 0 {
		return nil, nil, "", formatErr(432, "kdump header: negative sub_hdr_size", kh.SubHdrSize)
	}
	if kh.BitmapBlocks == 0 {
		return nil, nil, "", formatErr(436, "kdump header: bitmap_blocks is 0", nil)
	}
	k.blockSize = uint64(bs)

	var sh [kdumpSubSize]byte
	if err := readFull(src, sh[:], int64(bs), "kdump sub-header"); err != nil {
		return nil, nil, "", err
	}
	v := kh.HeaderVersion
	kh.PhysBase = le.Uint64(sh[0:])
	if v >= 1 {
		kh.DumpLevel = int32(le.Uint32(sh[8:]))
	}
	if v >= 2 {
		kh.Split = le.Uint32(sh[12:]) != 0
		kh.StartPFN = le.Uint64(sh[16:])
		kh.EndPFN = le.Uint64(sh[24:])
	}
	if v >= 3 {
		kh.OffsetVMCoreInfo = int64(le.Uint64(sh[32:]))
		kh.SizeVMCoreInfo = le.Uint64(sh[40:])
	}
	if v >= 4 {
		kh.OffsetNote = int64(le.Uint64(sh[48:]))
		kh.SizeNote = le.Uint64(sh[56:])
	}
	if v >= 5 {
		kh.OffsetEraseInfo = int64(le.Uint64(sh[64:]))
		kh.SizeEraseInfo = le.Uint64(sh[72:])
	}
	if v >= 6 {
		kh.StartPFN = le.Uint64(sh[80:])
		kh.EndPFN = le.Uint64(sh[88:])
		kh.MaxMapnr = le.Uint64(sh[96:])
	}

	// The bitmaps. crash's dump_is_partial(): two bitmaps when
	// bitmap_blocks covers max_mapnr twice, else the one bitmap is both.
	bitmapOff := uint64(bs) * (1 + uint64(kh.SubHdrSize))
	bitmapLen := uint64(bs) * uint64(kh.BitmapBlocks)
	if bitmapOff > uint64(src.Size()) || bitmapLen > uint64(src.Size())-bitmapOff {
		return nil, nil, "", formatErr(int64(bitmapOff), fmt.Sprintf("kdump bitmaps (%#x bytes) extend past end of file (size %#x)", bitmapLen, src.Size()), nil)
	}
	bm, err := readBytes(src, int64(bitmapOff), int64(bitmapLen), "kdump bitmaps")
	if err != nil {
		return nil, nil, "", err
	}
	oneBitmapBlocks := divUp(divUp(kh.MaxMapnr, 8), uint64(bs))
	if oneBitmapBlocks <= uint64(kh.BitmapBlocks)/2 {
		k.ram, k.dumpable = bm[:bitmapLen/2], bm[bitmapLen/2:]
	} else {
		k.ram, k.dumpable = bm, bm
	}
	k.dataOff = int64(bitmapOff + bitmapLen)

	k.endPFN = min(kh.MaxMapnr, uint64(len(k.dumpable))*8)
	if kh.Split {
		k.startPFN = kh.StartPFN
		k.endPFN = min(k.endPFN, kh.EndPFN)
	}

	if err := k.checkTable(src); err != nil {
		return nil, nil, "", err
	}

	// VMCOREINFO and the ELF notes sit in the sub-header blocks.
	var notes []Note
	var vmci string
	var warn error
	if v >= 3 && kh.OffsetVMCoreInfo > 0 && kh.SizeVMCoreInfo > 0 {
		b, err := readBytes(src, kh.OffsetVMCoreInfo, int64(min(kh.SizeVMCoreInfo, maxNotesSize)), "kdump VMCOREINFO")
		switch {
		case err != nil:
			warn = errors.Join(warn, err)
		case !strings.Contains(cstr(b), "="):
			// Zeroed or overwritten: say so, and let the VMCOREINFO
			// note (if any) stand in.
			warn = errors.Join(warn, formatErr(kh.OffsetVMCoreInfo, fmt.Sprintf("kdump VMCOREINFO (%d bytes) holds no KEY=VALUE line", len(b)), nil))
		default:
			vmci = string(b)
		}
	}
	if v >= 4 && kh.OffsetNote > 0 && kh.SizeNote > 0 {
		// Bounds first: a hostile size_note must not cost an allocation.
		n := min(kh.SizeNote, maxNotesSize)
		buf, err := []byte(nil), error(nil)
		if uint64(kh.OffsetNote) > uint64(src.Size()) || n > uint64(src.Size())-uint64(kh.OffsetNote) {
			err = formatErr(kh.OffsetNote, fmt.Sprintf("kdump notes (%#x bytes) extend past end of file (size %#x)", kh.SizeNote, src.Size()), nil)
		} else {
			buf = make([]byte, n)
			err = readFull(src, buf, kh.OffsetNote, "kdump notes")
		}
		if err != nil {
			warn = errors.Join(warn, err)
		} else {
			notes, err = parseNotes(buf, le, kh.OffsetNote)
			if err == nil && len(notes) == 0 {
				err = formatErr(kh.OffsetNote, fmt.Sprintf("kdump notes (%d bytes) hold no ELF note (zeroed?)", len(buf)), nil)
			}
			if err != nil {
				warn = errors.Join(warn, err)
			}
		}
	}
	return k, notes, vmci, warn
}

func bit(m []byte, pfn uint64) bool {
	return pfn/8 < uint64(len(m)) && m[pfn/8]&(1<<(pfn%8)) != 0
}

// rankOf counts the dumpable pages in [0, pfn).
func (k *kdumpDump) rankOf(pfn uint64) uint64 {
	k.rankOnce.Do(k.buildRank)
	return k.rankOfBuilt(pfn)
}

func word(m []byte, w uint64, le binary.ByteOrder) uint64 {
	if (w+1)*8 <= uint64(len(m)) {
		return le.Uint64(m[w*8:])
	}
	var b [8]byte
	if w*8 < uint64(len(m)) {
		copy(b[:], m[w*8:])
	}
	return le.Uint64(b[:])
}

// buildRank is the one pass over the dumpable bitmap, done on the first
// page read rather than at open.
func (k *kdumpDump) buildRank() {
	le := binary.LittleEndian
	nbits := uint64(len(k.dumpable)) * 8
	k.rank = make([]uint64, nbits/rankChunk+2)
	var n uint64
	for c := range k.rank {
		k.rank[c] = n
		for w := uint64(c) * rankChunk / 64; w < uint64(c+1)*rankChunk/64 && w*8 < uint64(len(k.dumpable)); w++ {
			n += uint64(bits.OnesCount64(word(k.dumpable, w, le)))
		}
	}
	k.rankBase = 0
	if k.startPFN > 0 {
		k.rankBase = k.rankOfBuilt(k.startPFN)
	}
}

func (k *kdumpDump) rankOfBuilt(pfn uint64) uint64 {
	le := binary.LittleEndian
	pfn = min(pfn, uint64(len(k.dumpable))*8)
	c := pfn / rankChunk
	n := k.rank[c]
	for w := c * rankChunk / 64; (w+1)*64 <= pfn; w++ {
		n += uint64(bits.OnesCount64(word(k.dumpable, w, le)))
	}
	if r := pfn % 64; r != 0 {
		n += uint64(bits.OnesCount64(word(k.dumpable, pfn/64, le) & (1<<r - 1)))
	}
	return n
}

// checkTable compares the dumpable bitmap with the page descriptor table
// it indexes. makedumpfile writes one descriptor per dumpable page, then the
// page data right after the table (write_kdump_pages_and_bitmap_cyclic:
// offset_data = offset_desc + sizeof(page_desc_t) * num_dumpable, the shared
// zero page first). A flipped bitmap bit shifts every later page onto its
// neighbour's descriptor, which would read plausible but wrong memory; the
// ends of the table catch that: the last descriptor the bitmap counts must
// be one, and no descriptor may follow it. A file cut short or left
// incomplete by makedumpfile (zero descriptors) is reported per page instead.
func (k *kdumpDump) checkTable(src source) error {
	k.rankOnce.Do(k.buildRank)
	count := k.rankOfBuilt(k.endPFN) - k.rankBase
	if k.endPFN <= k.startPFN || count == 0 {
		return nil
	}
	size := uint64(src.Size())
	tableEnd := uint64(k.dataOff) + count*pageDescSize
	if tableEnd > size || tableEnd < uint64(k.dataOff) {
		return nil
	}
	read := func(off uint64) (pageDesc, bool) {
		var raw [pageDescSize]byte
		if off+pageDescSize > size || readFull(src, raw[:], int64(off), "page descriptor") != nil {
			return pageDesc{}, false
		}
		le := binary.LittleEndian
		return pageDesc{offset: int64(le.Uint64(raw[0:])), size: le.Uint32(raw[8:]), flags: le.Uint32(raw[12:]), pageFlags: le.Uint64(raw[16:])}, true
	}
	// A descriptor whose data lies past the end of the file is still one
	// (a file cut short, reported per page); bytes taken for one where
	// page data should start must also point inside the file.
	plausible := func(pd pageDesc) bool {
		return pd.offset > 0 && uint64(pd.offset) >= tableEnd &&
			pd.size > 0 && uint64(pd.size) <= k.blockSize && pd.flags&^(flagZlib|flagLZO|flagSnappy|flagZstd) == 0
	}
	inFile := func(pd pageDesc) bool { return uint64(pd.offset) < size && uint64(pd.size) <= size-uint64(pd.offset) }
	if first, ok := read(uint64(k.dataOff)); ok && first.offset != 0 && uint64(first.offset) < tableEnd {
		return formatErr(k.dataOff, fmt.Sprintf("kdump bitmap and page descriptor table disagree: the dumpable bitmap counts %d pages, whose descriptors end at %#x, but descriptor #0's data starts at %#x: a flipped bitmap bit or a corrupt table", count, tableEnd, first.offset), nil)
	}
	lastOff := tableEnd - pageDescSize
	last, ok := read(lastOff)
	if !ok || last.offset == 0 {
		return nil
	}
	// makedumpfile writes page data in pfn order: when the last page's
	// data is past the end, the file was cut short. Pages of zeroes share
	// one block, written first (makedumpfile's pd_zero: descriptor #0's
	// data here): descriptors pointing at it say nothing, the last one
	// before them does (the 6.1 test-bed dumps end with such pages).
	k.cut = !inFile(last)
	if first, ok := read(uint64(k.dataOff)); ok && last.offset == first.offset {
		for off, i := lastOff, 0; off > uint64(k.dataOff) && i < 4096; i++ {
			off -= pageDescSize
			pd, ok := read(off)
			if !ok {
				break
			}
			if pd.offset != first.offset {
				k.cut = !inFile(pd)
				break
			}
		}
	}
	if !plausible(last) {
		return formatErr(int64(lastOff), fmt.Sprintf("kdump bitmap and page descriptor table disagree: the dumpable bitmap counts %d pages, but descriptor #%d is not a page descriptor (data offset %#x, size %d, flags %#x): a flipped bitmap bit or a corrupt table", count, count-1, last.offset, last.size, last.flags), nil)
	}
	if next, ok := read(tableEnd); ok && plausible(next) && inFile(next) {
		return formatErr(int64(tableEnd), fmt.Sprintf("kdump bitmap and page descriptor table disagree: the dumpable bitmap counts %d pages, but another page descriptor (data offset %#x, size %d) follows descriptor #%d where page data should start: a flipped bitmap bit or a corrupt table", count, next.offset, next.size, count-1), nil)
	}
	return nil
}

// pageDesc is struct page_desc.
type pageDesc struct {
	offset    int64
	size      uint32
	flags     uint32
	pageFlags uint64
}

// loadPage fills buf (one block) with page pfn, or says why it cannot,
// with the shard's scratch buffer and decoders (the caller holds sh.mu
// and has checked the bitmaps).
func (k *kdumpDump) loadPage(d *Dump, pfn uint64, buf []byte, sh *pageShard) error {
	paddr := pfn * k.blockSize
	idx := k.rankOf(pfn) - k.rankBase
	descOff := uint64(k.dataOff) + idx*pageDescSize
	size := uint64(d.src.Size())
	if descOff+pageDescSize > size {
		return physError(paddr, ErrTruncated, "its page descriptor #%d at file offset %#x lies past the end of the file, size %#x", idx, descOff, size)
	}
	var raw [pageDescSize]byte
	if err := readFull(d.src, raw[:], int64(descOff), "page descriptor"); err != nil {
		return physError(paddr, ErrTruncated, "%v", err)
	}
	le := binary.LittleEndian
	pd := pageDesc{offset: int64(le.Uint64(raw[0:])), size: le.Uint32(raw[8:]), flags: le.Uint32(raw[12:]), pageFlags: le.Uint64(raw[16:])}
	if pd.offset == 0 {
		// makedumpfile never finished writing this part (crash: PAGE_INCOMPLETE).
		if d.zeroExcluded.Load() {
			clear(buf)
			return nil
		}
		return physError(paddr, ErrTruncated, "its page descriptor #%d at file offset %#x is empty, the dump is incomplete", idx, descOff)
	}
	if pd.size == 0 || uint64(pd.size) > k.blockSize || pd.offset < 0 {
		return physError(paddr, ErrCorrupt, "page descriptor #%d at file offset %#x: data offset %#x, size %d, block size %d", idx, descOff, pd.offset, pd.size, k.blockSize)
	}
	if uint64(pd.offset) > size || uint64(pd.size) > size-uint64(pd.offset) {
		return physError(paddr, ErrTruncated, "its %d bytes of data at file offset %#x lie past the end of the file, size %#x", pd.size, pd.offset, size)
	}
	src := sh.scratch[:pd.size]
	if err := readFull(d.src, src, pd.offset, "page data"); err != nil {
		return physError(paddr, ErrTruncated, "%v", err)
	}
	if err := sh.dc.decompress(pd.flags, src, buf); err != nil {
		return physError(paddr, ErrCorrupt, "page data at file offset %#x, %d bytes, flags %#x: %v", pd.offset, pd.size, pd.flags, err)
	}
	return nil
}

// check classifies pfn with the bitmaps: nil if the file holds the page.
func (k *kdumpDump) check(pfn uint64) error {
	paddr := pfn * k.blockSize
	switch {
	case pfn >= k.hdr.MaxMapnr:
		return physError(paddr, ErrNotInDump, "pfn %#x is beyond max_mapnr %#x", pfn, k.hdr.MaxMapnr)
	case k.hdr.Split && (pfn < k.startPFN || pfn >= k.endPFN):
		return physError(paddr, ErrNotInDump, "pfn %#x is outside this split dump file's range %#x-%#x", pfn, k.startPFN, k.endPFN)
	case pfn >= k.endPFN:
		return physError(paddr, ErrNotInDump, "pfn %#x is beyond the bitmap", pfn)
	case !bit(k.ram, pfn):
		return physError(paddr, ErrNotInDump, "pfn %#x is not RAM, clear in the first bitmap", pfn)
	case !bit(k.dumpable, pfn):
		return physError(paddr, ErrExcluded, "pfn %#x filtered out by makedumpfile, dump level %d", pfn, k.hdr.DumpLevel)
	}
	return nil
}

func (k *kdumpDump) ranges() []Range {
	return []Range{{Start: k.startPFN * k.blockSize, End: k.endPFN * k.blockSize}}
}

func divUp(a, b uint64) uint64 { return a/b + min(a%b, 1) }
