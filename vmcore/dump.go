// Package vmcore reads Linux kernel crash dumps: ELF vmcores (/proc/vmcore,
// makedumpfile -E, QEMU dump-guest-memory), makedumpfile's kdump-compressed
// format and its flattened stream format. It serves physical memory, the
// CPU register notes and VMCOREINFO, and translates x86_64 virtual addresses.
package vmcore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Format is the container format of a dump file.
type Format int

const (
	FormatUnknown   Format = iota
	FormatELF              // ELF64 core
	FormatKdump            // kdump-compressed ("KDUMP   ")
	FormatFlattened        // makedumpfile -F stream; see Dump.InnerFormat
)

func (f Format) String() string {
	switch f {
	case FormatELF:
		return "ELF"
	case FormatKdump:
		return "kdump-compressed"
	case FormatFlattened:
		return "makedumpfile flattened"
	}
	return "unknown"
}

// Range is a physical address range [Start, End).
type Range struct{ Start, End uint64 }

// DefaultCachePages is the number of decompressed pages a kdump-compressed
// dump keeps (LRU).
const DefaultCachePages = 2048

// maxCacheBytes bounds the default cache for dumps with large blocks.
const maxCacheBytes = 64 << 20

// Dump is an open crash dump. Its methods are safe for concurrent use.
type Dump struct {
	path   string
	f      *os.File
	unmap  func() error
	src    source // the dump file; for flattened streams, the reconstructed file
	format Format
	inner  Format

	pageSize int
	info     *VMCoreInfo
	notes    noteInfo
	partial  bool
	elf      *elfDump
	kdump    *kdumpDump
	flat     *flatSource
	warnings []string

	zeroExcluded atomic.Bool
	zeroFillELF  atomic.Bool
	closed       atomic.Bool

	// shards hold the decompressed pages of a kdump-compressed dump: pfn
	// p lives in shards[p % len(shards)], each with its own lock, LRU,
	// decoders and scratch buffer, so that goroutines reading different
	// pages (the parallel mem_map walk of kmem -i, search) decompress at
	// the same time instead of one after another behind one lock.
	shardMu sync.RWMutex // write-held to replace the shards (SetCachePages, Close)
	shards  []pageShard
}

// pageShard is one part of the cache of decompressed pages.
type pageShard struct {
	mu      sync.Mutex // guards the rest
	cache   *pageCache
	dc      decompressor
	scratch []byte
}

// testLoadHook, set by tests only, is called before each page is loaded,
// with its shard's lock held.
var testLoadHook func(pfn uint64)

// cacheShards is how many shards a cache of n pages is split into.
const cacheShards = 16

// newShards splits a cache of n pages of size bytes into shards.
func newShards(n, size int) []pageShard {
	n = max(n, 1)
	k := min(cacheShards, n)
	sh := make([]pageShard, k)
	for i := range sh {
		per := n / k
		if i < n%k {
			per++
		}
		sh[i].cache = newPageCache(per, size)
		sh[i].scratch = make([]byte, size)
	}
	return sh
}

// Open opens a dump file read-only and reads its headers; the format is
// detected from the bytes.
func Open(path string) (*Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, not a dump file", path)
	}
	src, unmap, err := mapFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	d, err := newDump(src, path)
	if err != nil {
		unmap()
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d.f, d.unmap = f, unmap
	return d, nil
}

// newDump parses a dump held by src; Open and the tests and fuzzers share it.
func newDump(raw source, path string) (*Dump, error) {
	d := &Dump{path: path, src: raw}
	format, err := detect(raw)
	if err != nil {
		return nil, err
	}
	d.format, d.inner = format, format
	if format == FormatFlattened {
		fs, err := indexFlattened(raw)
		if err != nil {
			return nil, err
		}
		d.flat, d.src = fs, fs
		if !fs.complete {
			d.warnings = append(d.warnings, fmt.Sprintf("flattened stream has no end record after %d records (cut short?)", fs.records))
		}
		d.inner, err = detect(fs)
		if err != nil {
			return nil, fmt.Errorf("inside flattened stream: %w", err)
		}
		if d.inner == FormatFlattened {
			return nil, errors.New("vmcore: flattened stream contains another flattened stream")
		}
	}
	var notes []Note
	var vmci string
	switch d.inner {
	case FormatELF:
		d.elf, notes, err = openELF(d.src)
		if d.elf == nil {
			return nil, err
		}
		d.notes = collectNotes(notes, d.elf.bo)
	case FormatKdump:
		d.kdump, notes, vmci, err = openKdump(d.src)
		if d.kdump == nil {
			return nil, err
		}
		d.notes = collectNotes(notes, binary.LittleEndian)
		d.pageSize = int(d.kdump.blockSize)
	}
	if err != nil {
		// One warning per problem (openKdump joins them).
		d.warnings = append(d.warnings, strings.Split(err.Error(), "\n")...)
	}
	if vmci == "" && d.notes.hasVMCI {
		vmci = d.notes.vmcoreinfo
	}
	if vmci != "" {
		d.info = ParseVMCoreInfo(vmci)
		if _, ok := d.info.Number("phys_base"); !ok && d.kdump != nil {
			d.info.PhysBase = d.kdump.hdr.PhysBase
		}
	}
	if d.pageSize == 0 {
		d.pageSize = 4096
		if d.info != nil && d.info.PageSize >= 512 && d.info.PageSize <= 1<<20 && d.info.PageSize&(d.info.PageSize-1) == 0 {
			d.pageSize = int(d.info.PageSize)
		}
	}
	if d.kdump != nil {
		d.partial = d.kdump.hdr.DumpLevel > 0
		// Bounded in bytes too: block_size comes from the file.
		d.shards = newShards(min(DefaultCachePages, max(16, maxCacheBytes/d.pageSize)), d.pageSize)
	} else {
		d.partial = d.notes.partial
	}
	return d, nil
}

// detect tells the format from the first bytes.
func detect(src source) (Format, error) {
	var magic [16]byte
	n, _ := src.ReadAt(magic[:], 0)
	b := magic[:n]
	switch {
	case len(b) >= 4 && string(b[:4]) == "\x7fELF":
		return FormatELF, nil
	case len(b) >= 8 && (string(b[:8]) == kdumpSignature || string(b[:8]) == diskdumpSig):
		return FormatKdump, nil
	case isFlattened(b):
		return FormatFlattened, nil
	case n == 0:
		return 0, errors.New("vmcore: empty file")
	}
	return 0, formatErr(0, "unknown dump format: magic", fmt.Sprintf("% x", b[:min(n, 8)]))
}

// Close releases the file and its mapping.
func (d *Dump) Close() error {
	d.shardMu.Lock()
	defer d.shardMu.Unlock()
	d.closed.Store(true)
	for i := range d.shards {
		d.shards[i].mu.Lock()
		d.shards[i].dc.close()
		d.shards[i].mu.Unlock()
	}
	var err error
	if d.unmap != nil {
		err = d.unmap()
		d.unmap = nil
	}
	if d.f != nil {
		if e := d.f.Close(); err == nil {
			err = e
		}
		d.f = nil
	}
	return err
}

// ReadFile reads len(p) bytes of the dump file itself at off (crash's
// FILEADDR reads, struct -f and rd -f): the bytes as stored, compressed or
// not; for a flattened stream, the file it reconstructs. A read past the
// end fails with an *AddrError in the "dumpfile" space.
func (d *Dump) ReadFile(p []byte, off uint64) error {
	if d.closed.Load() {
		return errors.New("vmcore: dump is closed")
	}
	size := uint64(d.src.Size())
	if off > size || uint64(len(p)) > size-off {
		return &AddrError{Addr: off, Space: "dumpfile", Err: ErrNotInDump}
	}
	n, err := d.src.ReadAt(p, int64(off))
	if n < len(p) {
		return &AddrError{Addr: off + uint64(n), Space: "dumpfile", Err: ErrNotInDump, Detail: fmt.Sprint(err)}
	}
	return nil
}

// Path is the file name given to Open.
func (d *Dump) Path() string { return d.path }

// Format is the container format of the file itself.
func (d *Dump) Format() Format { return d.format }

// InnerFormat is the format of the dump a flattened stream carries (ELF or
// kdump-compressed); for other files it equals Format.
func (d *Dump) InnerFormat() Format { return d.inner }

// PageSize is the dump's page size (kdump block_size, VMCOREINFO PAGESIZE, or 4096).
func (d *Dump) PageSize() int { return d.pageSize }

// Info is the dump's VMCOREINFO, nil when it has none.
func (d *Dump) Info() *VMCoreInfo { return d.info }

// CPUs are the NT_PRSTATUS notes in note order, or the QEMU vCPU states when
// a QEMU dump has no NT_PRSTATUS.
func (d *Dump) CPUs() []CPUState { return d.notes.cpus }

// QEMUCPUs are the "QEMU" notes of a dump-guest-memory dump (with CR3).
func (d *Dump) QEMUCPUs() []QEMUCPUState { return d.notes.qemu }

// Notes are all ELF notes of the dump (PT_NOTE or the kdump notes area).
func (d *Dump) Notes() []Note { return d.notes.notes }

// Partial reports that pages were filtered: a kdump dump_level above 0, or an
// ELF dump whose NT_DISKDUMP note says so (crash's "[PARTIAL DUMP]").
func (d *Dump) Partial() bool { return d.partial }

// Incomplete reports a dump makedumpfile could not finish: the kdump
// DUMP_DH_COMPRESSED_INCOMPLETE status, or an ELF or flattened file whose
// data ends before the headers say it should.
func (d *Dump) Incomplete() bool {
	switch {
	case d.kdump != nil && (d.kdump.hdr.Incomplete() || d.kdump.cut):
		return true
	case d.elf != nil && d.elf.cut:
		return true
	case d.flat != nil && !d.flat.complete:
		return true
	}
	return false
}

// Warnings lists problems found at open that did not stop it (unreadable
// notes, a flattened stream without end record).
func (d *Dump) Warnings() []string { return d.warnings }

// SetZeroExcluded makes excluded pages read as zeroes (crash's -z /
// zero_excluded) instead of failing with ErrExcluded.
func (d *Dump) SetZeroExcluded(on bool) { d.zeroExcluded.Store(on) }

// ZeroExcluded reports whether excluded pages read as zeroes.
func (d *Dump) ZeroExcluded() bool { return d.zeroExcluded.Load() }

// SetZeroFillELF makes the pages an ELF dump's PT_LOAD leaves out of the
// file (p_memsz beyond p_filesz: makedumpfile excluded them) read as
// zeroes, as crash reads every ELF dump (netdump.c's zero_fill, whatever
// its zero_excluded setting says); other formats are unchanged. Off, they
// fail with ErrExcluded.
func (d *Dump) SetZeroFillELF(on bool) { d.zeroFillELF.Store(on) }

// SetCachePages bounds the cache of decompressed pages (kdump-compressed
// dumps only; ELF pages are read straight from the mapping).
func (d *Dump) SetCachePages(n int) {
	if d.kdump == nil {
		return
	}
	sh := newShards(n, d.pageSize)
	d.shardMu.Lock()
	old := d.shards
	d.shards = sh
	d.shardMu.Unlock()
	for i := range old {
		old[i].mu.Lock()
		old[i].dc.close()
		old[i].mu.Unlock()
	}
}

// KdumpHeader is the kdump-compressed header, nil for other formats.
func (d *Dump) KdumpHeader() *KdumpHeader {
	if d.kdump == nil {
		return nil
	}
	h := d.kdump.hdr
	return &h
}

// PhysRanges is the physical memory the dump describes: the merged PT_LOAD
// ranges, or [0, max_mapnr pages) for kdump (the part of it in this file for
// split dumps). Holes and excluded pages inside are still reported by ReadPhys.
func (d *Dump) PhysRanges() []Range {
	if d.elf != nil {
		return d.elf.ranges()
	}
	return d.kdump.ranges()
}

// ReadPhys reads len(p) bytes of physical memory at paddr, across page
// boundaries. It fills all of p or returns an *AddrError naming the first
// address it could not read.
func (d *Dump) ReadPhys(p []byte, paddr uint64) error {
	if uint64(len(p)) > 0 && paddr+uint64(len(p))-1 < paddr {
		return physError(paddr, ErrBadAddress, "read of %d bytes wraps around the address space", len(p))
	}
	if d.closed.Load() {
		return physError(paddr, ErrBadAddress, "dump %s is closed", d.path)
	}
	for len(p) > 0 {
		var n int
		var err error
		if d.elf != nil {
			n, err = d.elf.read(d, p, paddr)
		} else {
			n, err = d.readKdump(p, paddr)
		}
		if err != nil {
			return err
		}
		p = p[n:]
		paddr += uint64(n)
	}
	return nil
}

// ViewPhys returns the dump file's own bytes for n bytes of physical
// memory at paddr, without a copy, when the dump is an ELF file mapped in
// memory whose one PT_LOAD segment holds all of them; ok is false otherwise
// (then read with ReadPhys). The slice must not be written. A file cut
// short underneath the mapping makes reading the slice fault: a caller
// guards its reads with debug.SetPanicOnFault, as ReadPhys does for its
// own copy (search does, for a whole pass over memory without copying it).
func (d *Dump) ViewPhys(paddr uint64, n int) ([]byte, bool) {
	if d.elf == nil || n <= 0 || d.closed.Load() {
		return nil, false
	}
	v, ok := d.src.(viewer)
	if !ok {
		return nil, false
	}
	if m, ok := d.src.(*memSource); !ok || !m.mapped {
		return nil, false
	}
	s, ok := d.elf.find(paddr)
	if !ok {
		return nil, false
	}
	rel := paddr - s.paddr
	if rel >= s.filesz || uint64(n) > s.filesz-rel {
		return nil, false
	}
	off := s.off + rel
	if off+uint64(n) < off || off+uint64(n) > uint64(d.src.Size()) {
		return nil, false
	}
	return v.view(int64(off), int64(n))
}

func (d *Dump) readKdump(p []byte, paddr uint64) (int, error) {
	k := d.kdump
	pfn := paddr / k.blockSize
	off := paddr % k.blockSize
	n := int(min(uint64(len(p)), k.blockSize-off))
	if err := k.check(pfn); err != nil {
		if errors.Is(err, ErrExcluded) && d.zeroExcluded.Load() {
			clear(p[:n])
			return n, nil
		}
		return 0, withAddr(err, paddr)
	}
	d.shardMu.RLock()
	defer d.shardMu.RUnlock()
	if d.closed.Load() {
		return 0, physError(paddr, ErrBadAddress, "dump %s is closed", d.path)
	}
	sh := &d.shards[pfn%uint64(len(d.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	page, ok := sh.cache.get(pfn)
	if !ok {
		if testLoadHook != nil {
			testLoadHook(pfn)
		}
		buf := sh.cache.slot()
		if err := k.loadPage(d, pfn, buf, sh); err != nil {
			return 0, withAddr(err, paddr)
		}
		page = sh.cache.put(pfn, buf)
	}
	copy(p[:n], page[off:])
	return n, nil
}

// withAddr reports a page error at the exact address asked for.
func withAddr(err error, paddr uint64) error {
	var ae *AddrError
	if errors.As(err, &ae) && ae.Addr != paddr {
		c := *ae
		c.Addr = paddr
		return &c
	}
	return err
}

// MayHold reports whether a read at paddr can succeed, cheaply and without
// building an error: false for an ELF dump's address outside every
// PT_LOAD's file data (unless excluded pages read as zeroes). For other
// formats it is true; ReadPhys decides. Scans over all of memory (search)
// use it to pass over what the dump lacks.
func (d *Dump) MayHold(paddr uint64) bool {
	if d.elf == nil {
		return true
	}
	s, ok := d.elf.find(paddr)
	if !ok {
		return false
	}
	return paddr-s.paddr < s.filesz || d.zeroExcluded.Load()
}

// MayHoldRun is MayHold for a scan in address order: its answer at paddr
// and the end of the run of addresses that share it (every address in
// [paddr, end) has the same answer), so that a scan asks once a run and
// not once a page.
func (d *Dump) MayHoldRun(paddr uint64) (held bool, end uint64) {
	if d.elf == nil {
		return true, ^uint64(0)
	}
	return d.elf.holdRun(paddr, d.zeroExcluded.Load())
}
