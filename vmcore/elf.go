package vmcore

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// ELF64 core files: /proc/vmcore copied as is, makedumpfile -E, QEMU
// dump-guest-memory. The program headers are parsed by hand rather than with
// debug/elf because debug/elf reads every section header at open and does not
// support PN_XNUM (QEMU writes it for guests with more than 65534 ranges).
// Layouts from the ELF64 gABI (Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr).
const (
	elfHeaderSize = 64
	elfPhdrSize   = 56
	elfShdrSize   = 64
	ptLoad        = 1
	ptNote        = 4
	etCore        = 4
	pnXNum        = 0xffff
	notPaddr      = ^uint64(0) // makedumpfile's NOT_PADDR: a PT_LOAD without a physical address
	maxNotesSize  = 64 << 20   // bound for the PT_NOTE data read at open
)

// elfSegment is a PT_LOAD: physical [paddr, paddr+memsz), of which the first
// filesz bytes are in the file at off. makedumpfile -E leaves the excluded
// pages at the end of a segment out of the file (filesz < memsz).
type elfSegment struct {
	paddr, vaddr, memsz, filesz uint64
	off                         uint64
}

type elfDump struct {
	bo      binary.ByteOrder
	machine uint16
	segs    []elfSegment // sorted by paddr
	maxEnd  []uint64     // maxEnd[i] = max(paddr+memsz) of segs[0..i]
	cut     bool         // some PT_LOAD data lies past the end of the file
}

func openELF(src source) (*elfDump, []Note, error) {
	var eh [elfHeaderSize]byte
	if err := readFull(src, eh[:], 0, "ELF header"); err != nil {
		return nil, nil, err
	}
	switch eh[4] {
	case 2: // ELFCLASS64
	case 1:
		return nil, nil, formatErr(4, "32-bit ELF vmcores are not supported (ELFCLASS32)", nil)
	default:
		return nil, nil, formatErr(4, "unknown ELF class", eh[4])
	}
	var bo binary.ByteOrder
	switch eh[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return nil, nil, formatErr(5, "unknown ELF data encoding", eh[5])
	}
	if t := bo.Uint16(eh[16:]); t != etCore {
		what := ""
		switch t {
		case 2:
			what = " (ET_EXEC: an executable such as a vmlinux)"
		case 1:
			what = " (ET_REL: an object file or kernel module)"
		case 3:
			what = " (ET_DYN)"
		}
		return nil, nil, formatErr(16, fmt.Sprintf("ELF file is not a core dump: expected e_type 4 (ET_CORE), found %d%s", t, what), nil)
	}
	e := &elfDump{bo: bo, machine: bo.Uint16(eh[18:])}
	phoff := bo.Uint64(eh[32:])
	shoff := bo.Uint64(eh[40:])
	phentsize := uint64(bo.Uint16(eh[54:]))
	phnum := uint64(bo.Uint16(eh[56:]))
	if phnum == pnXNum {
		// The real count is in sh_info of section header 0.
		var sh [elfShdrSize]byte
		if err := readFull(src, sh[:], int64(shoff), "section header 0 (e_phnum is PN_XNUM)"); shoff > 1<<62 || err != nil {
			if err == nil {
				err = formatErr(40, "invalid e_shoff", shoff)
			}
			return nil, nil, err
		}
		phnum = uint64(bo.Uint32(sh[44:]))
	}
	if phnum == 0 {
		return nil, nil, formatErr(56, "ELF core has no program headers", nil)
	}
	if phentsize < elfPhdrSize {
		return nil, nil, formatErr(54, "ELF e_phentsize too small", phentsize)
	}
	if phoff > uint64(src.Size()) || phnum*phentsize > uint64(src.Size())-phoff {
		return nil, nil, formatErr(32, fmt.Sprintf("ELF program headers (%d x %d bytes at %#x) extend past end of file (size %#x)", phnum, phentsize, phoff, src.Size()), nil)
	}
	ph, err := readBytes(src, int64(phoff), int64(phnum*phentsize), "ELF program headers")
	if err != nil {
		return nil, nil, err
	}
	var notes []Note
	var noteErr error
	notesRead := uint64(0)
	for i := uint64(0); i < phnum; i++ {
		p := ph[i*phentsize:]
		at := int64(phoff + i*phentsize)
		typ := bo.Uint32(p[0:])
		off, vaddr, paddr := bo.Uint64(p[8:]), bo.Uint64(p[16:]), bo.Uint64(p[24:])
		filesz, memsz := bo.Uint64(p[32:]), bo.Uint64(p[40:])
		switch typ {
		case ptLoad:
			if paddr == notPaddr || memsz == 0 {
				continue
			}
			if paddr+memsz < paddr || off+filesz < off || filesz > memsz {
				return nil, nil, formatErr(at, fmt.Sprintf("PT_LOAD with invalid range: paddr %#x memsz %#x filesz %#x offset %#x", paddr, memsz, filesz, off), nil)
			}
			if off+filesz > uint64(src.Size()) {
				e.cut = true
			}
			e.segs = append(e.segs, elfSegment{paddr: paddr, vaddr: vaddr, memsz: memsz, filesz: filesz, off: off})
		case ptNote:
			if filesz == 0 {
				continue
			}
			if off > uint64(src.Size()) || filesz > uint64(src.Size())-off || notesRead+filesz > maxNotesSize {
				if noteErr == nil {
					noteErr = formatErr(at, fmt.Sprintf("PT_NOTE (offset %#x, size %#x) extends past end of file (size %#x)", off, filesz, src.Size()), nil)
				}
				continue
			}
			notesRead += filesz
			buf := make([]byte, filesz) // a copy: notes outlive an unmapped file
			if err := readFull(src, buf, int64(off), "PT_NOTE data"); err != nil {
				if noteErr == nil {
					noteErr = err
				}
				continue
			}
			n, err := parseNotes(buf, bo, int64(off))
			if err == nil && len(n) == 0 {
				err = formatErr(int64(off), fmt.Sprintf("PT_NOTE (%d bytes) holds no ELF note (zeroed?)", filesz), nil)
			}
			notes = append(notes, n...)
			if err != nil && noteErr == nil {
				noteErr = err
			}
		}
	}
	sort.SliceStable(e.segs, func(i, j int) bool { return e.segs[i].paddr < e.segs[j].paddr })
	e.maxEnd = make([]uint64, len(e.segs))
	var m uint64
	for i, s := range e.segs {
		m = max(m, s.paddr+s.memsz)
		e.maxEnd[i] = m
	}
	return e, notes, noteErr
}

// find returns the segment holding paddr, preferring one whose file data
// covers it (with /proc/vmcore the kernel text segment overlaps RAM).
func (e *elfDump) find(paddr uint64) (elfSegment, bool) {
	i := sort.Search(len(e.segs), func(i int) bool { return e.segs[i].paddr > paddr })
	var found elfSegment
	ok := false
	for j := i - 1; j >= 0 && e.maxEnd[j] > paddr; j-- {
		s := e.segs[j]
		if paddr-s.paddr >= s.memsz {
			continue
		}
		if paddr-s.paddr < s.filesz {
			return s, true
		}
		if !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// holdRun is MayHoldRun's answer: whether paddr is in a segment's file
// data (or, with zero, in its memory size), and where that may change. A
// segment's file data is a prefix of it, so what is not held at paddr
// stays so up to the next segment's start; what is held stays so to the
// end of the part of the segment that holds it.
func (e *elfDump) holdRun(paddr uint64, zero bool) (bool, uint64) {
	next := ^uint64(0)
	if i := sort.Search(len(e.segs), func(i int) bool { return e.segs[i].paddr > paddr }); i < len(e.segs) {
		next = e.segs[i].paddr
	}
	s, ok := e.find(paddr)
	if !ok {
		return false, next
	}
	if rel := paddr - s.paddr; rel < s.filesz {
		return true, s.paddr + s.filesz
	}
	if zero {
		return true, s.paddr + s.memsz
	}
	return false, next
}

// readPhys copies from the segments; it stops at segment boundaries and
// reports how much it copied.
func (e *elfDump) read(d *Dump, p []byte, paddr uint64) (int, error) {
	s, ok := e.find(paddr)
	if !ok {
		return 0, physError(paddr, ErrNotInDump, "no PT_LOAD segment contains it")
	}
	rel := paddr - s.paddr
	if rel >= s.filesz {
		n := int(min(uint64(len(p)), s.memsz-rel))
		if d.zeroExcluded.Load() || d.zeroFillELF.Load() {
			clear(p[:n])
			return n, nil
		}
		return 0, physError(paddr, ErrExcluded, "beyond p_filesz %#x of the PT_LOAD at %#x-%#x, excluded by makedumpfile", s.filesz, s.paddr, s.paddr+s.memsz)
	}
	n := uint64(min(uint64(len(p)), s.filesz-rel))
	off := s.off + rel
	size := uint64(d.src.Size())
	if off >= size {
		return 0, physError(paddr, ErrTruncated, "its data at file offset %#x lies past the end of the file, size %#x", off, size)
	}
	n = min(n, size-off)
	if err := readFull(d.src, p[:n], int64(off), "PT_LOAD data"); err != nil {
		return 0, physError(paddr, ErrTruncated, "%v", err)
	}
	return int(n), nil
}

func (e *elfDump) ranges() []Range {
	var r []Range
	for _, s := range e.segs {
		end := s.paddr + s.memsz
		if k := len(r); k > 0 && s.paddr <= r[k-1].End {
			r[k-1].End = max(r[k-1].End, end)
			continue
		}
		r = append(r, Range{Start: s.paddr, End: end})
	}
	return r
}
