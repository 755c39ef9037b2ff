package symbols

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// lazyIndex is the name index built a few compile units at a time, in
// .debug_info order, only as far as the questions asked so far need: a
// distribution kernel has ~3,000 units and 150+ MB of .debug_info, and the
// types a session needs (task_struct, rq, the printk ring, ...) are all
// defined in the first few percent of them. Scanning a prefix in offset order
// gives the same answers as the full index whenever the prefix already holds
// an entry nothing later can beat (dieRef.better: a definition with its own
// type, lowest offset first); a name that is missing or only declared so far
// makes the scan go on, to the end if need be.
type lazyIndex struct {
	mu    sync.Mutex
	sec   dwarfSections
	units []unitHeader
	next  int // units[:next] are in x
	x     *nameIndex
	scans []*scanner // one per worker, keeping their abbreviation caches
	err   error
	trace bool
}

// Units are scanned in batches of fixed boundaries (so answers never depend
// on the number of CPUs), growing from lazyFirstBatch units.
const (
	lazyFirstBatch = 32
	lazyMaxBatch   = 128
)

func newLazyIndex(sec dwarfSections) (*lazyIndex, error) {
	// Reading one header per unit faults in the pages around each (the
	// kernel maps up to 64 KB around a faulting page): most of the section,
	// released as the walk goes on.
	var done func(uint64)
	if sec.mapped {
		done = func(off uint64) { dontNeed(sec.info[:off]) }
	}
	units, err := parseUnitsNotify(sec.info, done)
	if err != nil {
		return nil, err
	}
	if sec.mapped {
		dontNeed(sec.info)
	}
	l := &lazyIndex{sec: sec, units: units, x: newNameIndex(), trace: os.Getenv("GOCRASH_TRACE_INDEX") != ""}
	return l, nil
}

// find scans further until final reports that the index answers the
// question, or every unit has been scanned. final is called with l.mu held
// and must not keep the index.
func (l *lazyIndex) find(what string, final func(x *nameIndex) bool) (*nameIndex, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.next
	for l.err == nil && !final(l.x) && l.next < len(l.units) {
		l.scanBatch()
	}
	if l.trace && l.next != start {
		fmt.Fprintf(os.Stderr, "gocrash: DWARF index: %s: scanned units %d..%d of %d\n", what, start, l.next, len(l.units))
	}
	return l.x, l.err
}

// has reports whether the units scanned so far name a variable name.
func (l *lazyIndex) has(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.x.vars[name]
	return ok
}

// scanBatch scans the next batch with up to two workers (the machine's
// cores are shared with the rest of the session) and merges in order.
func (l *lazyIndex) scanBatch() {
	n := min(max(lazyFirstBatch, l.next), lazyMaxBatch, len(l.units)-l.next)
	batch := l.units[l.next : l.next+n]
	workers := min(maxIndexWorkers(), len(batch))
	for len(l.scans) < workers {
		l.scans = append(l.scans, &scanner{sec: l.sec, abbrevs: map[uint64]*abbrevTable{}, units: l.units})
	}
	parts := make([]*nameIndex, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(batch)/workers, (w+1)*len(batch)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[w] = fmt.Errorf("malformed DWARF: %v", r)
				}
			}()
			s := l.scans[w]
			s.x = newNameIndex()
			parts[w] = s.x
			for _, u := range batch[lo:hi] {
				if err := s.unit(u); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			l.err = err
			return
		}
	}
	for _, p := range parts {
		l.x.merge(p)
	}
	l.next += n
	for _, s := range l.scans {
		// Units rarely share abbreviation tables in a kernel not run
		// through dwz: keeping every unit's table would only grow the heap.
		clear(s.abbrevs)
	}
	// The scanned bytes are not needed again but for the few types read
	// later: drop them from the resident set (they stay in the page cache).
	if l.sec.mapped {
		dontNeed(l.sec.info[batch[0].off:batch[n-1].end])
	}
}

// dontNeed tells the kernel that the pages under b, part of a read-only
// shared file mapping, may leave this process's resident set; reading them
// again faults them back in from the page cache. Only whole pages inside b
// are released. Never call it on heap memory: MADV_DONTNEED zeroes
// anonymous pages.
func dontNeed(b []byte) {
	if len(b) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0]))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(b[lo-start:hi-start], syscall.MADV_DONTNEED)
}

// all scans whatever is left.
func (l *lazyIndex) all() (*nameIndex, error) {
	return l.find("everything", func(*nameIndex) bool { return false })
}

// final reports whether r, looked up in a prefix of the units, can no longer
// be replaced by a later unit's entry.
func final(r dieRef, ok bool) bool { return ok && !r.decl && !r.inherited }

func maxIndexWorkers() int { return runtime.GOMAXPROCS(0) }

// unitWindow builds a dwarf.Data that holds one unit u of .debug_info at its
// own offset, without parsing the units before it: the bytes before u are
// one padding unit (a header that reuses u's abbreviation table, then zero
// pages that are never touched, in an anonymous mapping), and u itself is
// behind it (the file's pages, or a copy). debug/dwarf.New parses only the two headers, where a
// prefix of the section would cost every earlier unit's abbreviation table
// and header page. ok is false when u may refer to other units
// (DW_FORM_ref_addr, as dwz writes; type signatures) or its header is not
// the plain 32-bit form: the caller then uses a prefix.
func unitWindow(sec dwarfSections, u unitHeader) (d *dwarf.Data, ok bool, err error) {
	if u.offsetSize != 4 || u.off < 16 || sec.build == nil {
		return nil, false, nil
	}
	ab, err := parseAbbrevs(sec.abbrev, u.abbrevOff)
	if err != nil {
		return nil, false, err
	}
	all := append([]*abbrev(nil), ab.dense...)
	for _, a := range ab.sparse {
		all = append(all, a)
	}
	for _, a := range all {
		if a == nil {
			continue
		}
		for _, at := range a.attrs {
			switch at.form {
			case 0x10, 0x16, 0x1c, 0x20, 0x1f21: // DW_FORM_ref_addr, indirect, ref_sup4, ref_sig8, GNU_ref_alt
				return nil, false, nil
			}
		}
	}
	// The window: u.end bytes, of which only the padding unit's header is
	// written (zero pages are never touched). The unit itself is the
	// file's own pages mapped in place when the section is mapped (page
	// offsets line up: the window starts infoOff%page into its pages),
	// else a copy.
	page := uint64(os.Getpagesize())
	lead := uint64(0)
	if sec.file != nil {
		lead = uint64(sec.infoOff) % page
	}
	region, err := syscall.Mmap(-1, 0, int(lead+u.end), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return nil, false, nil
	}
	buf := region[lead : lead+u.end]
	inPlace := false
	if sec.file != nil {
		fileStart := (uint64(sec.infoOff) + u.off) &^ (page - 1) // file offset of u's first page
		at := lead + fileStart - uint64(sec.infoOff)             // its place in region: page-aligned
		if mapFileAt(unsafe.Pointer(&region[at]), int(uint64(len(region))-at), sec.file, int64(fileStart)) == nil {
			inPlace = true
		}
	}
	if !inPlace {
		copy(buf[u.off:], sec.info[u.off:u.end])
	}
	le := binary.LittleEndian
	le.PutUint32(buf[0:], uint32(u.off-4)) // unit_length: up to u
	le.PutUint16(buf[4:], uint16(u.version))
	if u.version >= 5 {
		buf[6] = 1 // DW_UT_compile
		buf[7] = byte(u.addrSize)
		le.PutUint32(buf[8:], uint32(u.abbrevOff))
	} else {
		le.PutUint32(buf[6:], uint32(u.abbrevOff))
		buf[10] = byte(u.addrSize)
	}
	d, err = sec.build(buf)
	if err != nil {
		syscall.Munmap(region)
		return nil, false, nil
	}
	return d, true, nil
}
