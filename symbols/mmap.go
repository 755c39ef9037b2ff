package symbols

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps path read-only. The whole vmlinux is mapped rather than read so
// that opening a 600 MB image costs only the pages actually touched (section
// headers and the symbol table).
func mapFile(path string) (data []byte, err error) {
	data, f, err := mapFileKeep(path)
	if f != nil {
		f.Close()
	}
	return data, err
}

// mapFileKeep is mapFile also returning the open file (nil on error), for
// mapping more of it later (unitWindow).
func mapFileKeep(path string) (data []byte, file *os.File, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		return nil, nil, fmt.Errorf("%s: is a directory, not a vmlinux", path)
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil, fmt.Errorf("%s: empty file, not a vmlinux", path)
	}
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("%s: file too large to map (%d bytes)", path, size)
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return data, f, nil
}

// mapFileAt maps length bytes of f from file offset off (a multiple of
// the page size) over the pages at addr, copy-on-write: the window
// replaces the anonymous pages there.
func mapFileAt(addr unsafe.Pointer, length int, f *os.File, off int64) error {
	r, _, errno := syscall.Syscall6(syscall.SYS_MMAP, uintptr(addr), uintptr(length), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_FIXED, f.Fd(), uintptr(off))
	if errno != 0 {
		return errno
	}
	if r != uintptr(addr) {
		return fmt.Errorf("mmap at %#x landed at %#x", addr, r)
	}
	return nil
}

func unmapFile(data []byte) error {
	if data == nil {
		return nil
	}
	return syscall.Munmap(data)
}
