package vmcore

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
)

// source is the dump file as the format parsers see it: a plain file
// (memory-mapped when possible) or the file reconstructed from makedumpfile's
// flattened records.
type source interface {
	io.ReaderAt
	Size() int64
}

// viewer is implemented by sources that can hand out their bytes without a
// copy (the mmap); parsers fall back to ReadAt otherwise.
type viewer interface {
	view(off, n int64) ([]byte, bool)
}

// memSource serves a byte slice: the read-only mapping of the dump, or test
// and fuzz input.
type memSource struct {
	data   []byte
	mapped bool
	res    *residency // nil unless mapped
}

// The kernel maps the page-cache pages around each fault on a file mapping
// (fault_around_bytes, 64 KB), MADV_RANDOM or not (measured on 6.18: 100
// one-byte reads a megabyte apart left 6.4 MB resident). Reads scattered over
// a big dump (every task_struct and stack for ps, sys or foreach bt on
// 5,000 tasks) thus left 80-320 MB of a 460 MB dump mapped, all of it counted
// in the process's RSS, growing with the dump. A residency counts the 64 KB
// windows read since the mapping was last dropped and, past residentLimit,
// drops the whole mapping's pages with MADV_DONTNEED: on a shared file
// mapping that only unmaps them (the page cache keeps them, the next read
// faults them back in, and slices handed out by view stay valid).
const (
	faultWindow   = 64 << 10
	residentLimit = 16 << 20
)

type residency struct {
	bits  []atomic.Uint64 // one bit per faultWindow of the file
	count atomic.Int64    // bits set
	mu    sync.Mutex      // one drop at a time
}

func newResidency(size int64) *residency {
	return &residency{bits: make([]atomic.Uint64, (size+faultWindow*64-1)/(faultWindow*64))}
}

// touch notes that [off, off+n) of data is about to be read, and drops the
// mapping's pages first when too many windows have been read since the last
// drop. Concurrent readers may miscount a window; that only moves a drop.
func (m *memSource) touch(off, n int64) {
	r := m.res
	if r == nil || n <= 0 {
		return
	}
	for w := off / faultWindow; w <= (off+n-1)/faultWindow; w++ {
		word, bit := &r.bits[w/64], uint64(1)<<(w%64)
		if word.Load()&bit != 0 || word.Or(bit)&bit != 0 {
			continue
		}
		if r.count.Add(1) > residentLimit/faultWindow {
			m.drop()
		}
	}
}

func (m *memSource) drop() {
	r := m.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count.Load() <= residentLimit/faultWindow {
		return // another reader dropped them
	}
	_ = syscall.Madvise(m.data, syscall.MADV_DONTNEED)
	for i := range r.bits {
		r.bits[i].Store(0)
	}
	r.count.Store(0)
}

func (m *memSource) Size() int64 { return int64(len(m.data)) }

func (m *memSource) ReadAt(p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	if m.mapped {
		// A file truncated underneath us turns into SIGBUS on the mapping;
		// make that an error for this read instead of killing the process.
		old := debug.SetPanicOnFault(true)
		defer func() {
			debug.SetPanicOnFault(old)
			if r := recover(); r != nil {
				n, err = 0, fmt.Errorf("reading mapped dump at offset %#x: %v", off, r)
			}
		}()
	}
	m.touch(off, min(int64(len(p)), int64(len(m.data))-off))
	n = copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memSource) view(off, n int64) ([]byte, bool) {
	// A view of the mapping is not guarded against SIGBUS like ReadAt is;
	// it is only used for the kdump bitmaps, which (like crash does) stay
	// mapped instead of being copied at open.
	if off < 0 || n < 0 || off > int64(len(m.data)) || n > int64(len(m.data))-off {
		return nil, false
	}
	m.touch(off, n)
	return m.data[off : off+n], true
}

// fileSource is the fallback when the file cannot be mapped.
type fileSource struct {
	f    *os.File
	size int64
}

func (s *fileSource) ReadAt(p []byte, off int64) (int, error) { return s.f.ReadAt(p, off) }
func (s *fileSource) Size() int64                             { return s.size }

// mapFile maps f read-only; on failure (empty file, special file, 32-bit
// address space) the file is read with pread instead.
func mapFile(f *os.File) (src source, unmap func() error, err error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size > 0 && int64(int(size)) == size {
		data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err == nil {
			// Reads are scattered (page tables, descriptors): don't let the
			// kernel read ahead megabytes we will not use.
			_ = syscall.Madvise(data, syscall.MADV_RANDOM)
			return &memSource{data: data, mapped: true, res: newResidency(size)}, func() error { return syscall.Munmap(data) }, nil
		}
	}
	return &fileSource{f: f, size: size}, func() error { return nil }, nil
}

// readFull reads len(p) bytes at off or reports what was being read and
// where the file ended.
func readFull(src source, p []byte, off int64, what string) error {
	if off < 0 || off > src.Size() || int64(len(p)) > src.Size()-off {
		return &FormatError{Off: off, Msg: fmt.Sprintf("%s (%d bytes) extends past end of file (size %#x)", what, len(p), src.Size())}
	}
	n, err := src.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &FormatError{Off: off, Msg: fmt.Sprintf("reading %s: %v", what, err)}
}

// readBytes returns n bytes at off, without a copy when the source allows.
func readBytes(src source, off, n int64, what string) ([]byte, error) {
	if v, ok := src.(viewer); ok {
		if b, ok := v.view(off, n); ok {
			return b, nil
		}
	}
	if off < 0 || n < 0 || off > src.Size() || n > src.Size()-off {
		return nil, &FormatError{Off: off, Msg: fmt.Sprintf("%s (%d bytes) extends past end of file (size %#x)", what, n, src.Size())}
	}
	// A flattened stream's size is what its records claim, which costs
	// a hostile stream nothing: allocate no more than it carries.
	if ds, ok := src.(interface{ dataSize() int64 }); ok && n > ds.dataSize() {
		return nil, &FormatError{Off: off, Msg: fmt.Sprintf("%s (%d bytes) is more than the flattened stream's records hold (%d bytes)", what, n, ds.dataSize())}
	}
	b := make([]byte, n)
	if err := readFull(src, b, off, what); err != nil {
		return nil, err
	}
	return b, nil
}
