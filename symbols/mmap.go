package symbols

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps path read-only. The whole vmlinux is mapped rather than read so
// that opening a 600 MB image costs only the pages actually touched (section
// headers and the symbol table).
func mapFile(path string) (data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a vmlinux", path)
	}
	size := fi.Size()
	if size == 0 {
		return nil, fmt.Errorf("%s: empty file, not a vmlinux", path)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: file too large to map (%d bytes)", path, size)
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return data, nil
}

func unmapFile(data []byte) error {
	if data == nil {
		return nil
	}
	return syscall.Munmap(data)
}
