package kernel

import (
	"encoding/binary"
	"fmt"
	"sync"

	"gocrash/symbols"
)

// reader is what the files, vm, signal and socket walkers read through:
// kernel memory and the DWARF layouts, with each member offset looked up
// once per walk. The walkers take it rather than the Kernel so that fuzz
// tests can hand them hostile memory.
type reader struct {
	mem symbols.Memory
	t   *symbols.Types
	l   *layoutCache
}

// layoutCache holds the member offsets and sizes the walkers looked up
// (a failed lookup as -1). A Kernel keeps one for all its readers, so
// that a walk over thousands of tasks (foreach files, foreach vm) looks
// each one up once, not once per task.
type layoutCache struct {
	mu   sync.Mutex
	offs map[string]int64
	size map[string]int64
}

func newLayoutCache() *layoutCache {
	return &layoutCache{offs: map[string]int64{}, size: map[string]int64{}}
}

func newReader(mem symbols.Memory, t *symbols.Types) *reader {
	return &reader{mem: mem, t: t, l: newLayoutCache()}
}

// cached returns what lookup gives for key, computed once.
func (l *layoutCache) cached(m map[string]int64, key string, lookup func(string) (int64, error)) int64 {
	l.mu.Lock()
	v, ok := m[key]
	l.mu.Unlock()
	if ok {
		return v
	}
	v, err := lookup(key)
	if err != nil {
		v = -1
	}
	l.mu.Lock()
	m[key] = v
	l.mu.Unlock()
	return v
}

// off is the offset of "type.member.path"; a kernel without the member is
// an error naming it.
func (k *reader) off(path string) (uint64, error) {
	o := k.l.cached(k.l.offs, path, k.t.Offset)
	if o < 0 {
		return 0, fmt.Errorf("no member %s in this kernel", path)
	}
	return uint64(o), nil
}

// has says whether the kernel's type has the member.
func (k *reader) has(path string) bool {
	_, err := k.off(path)
	return err == nil
}

// sizeOf is sizeof(type) or of "type.member".
func (k *reader) sizeOf(name string) (int64, error) {
	n := k.l.cached(k.l.size, name, k.t.SizeOf)
	if n < 0 {
		return 0, fmt.Errorf("no type %s in this kernel", name)
	}
	return n, nil
}

func (k *reader) read(addr uint64, n int, what string) ([]byte, error) {
	b := make([]byte, n)
	if err := k.mem.ReadVirt(b, addr); err != nil {
		return nil, fmt.Errorf("%s at %x: %w", what, addr, err)
	}
	return b, nil
}

// word reads the 8-byte value at addr.
func (k *reader) word(addr uint64, what string) (uint64, error) {
	var b [8]byte
	if err := k.mem.ReadVirt(b[:], addr); err != nil {
		return 0, fmt.Errorf("%s at %x: %w", what, addr, err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// member reads the size-byte unsigned member path of the object at base.
func (k *reader) member(base uint64, path string, size int) (uint64, error) {
	o, err := k.off(path)
	if err != nil {
		return 0, err
	}
	b := make([]byte, size)
	if err := k.mem.ReadVirt(b, base+o); err != nil {
		return 0, fmt.Errorf("%s at %x: %w", path, base+o, err)
	}
	return leUint(b), nil
}

// ptr reads the pointer member path of the object at base.
func (k *reader) ptr(base uint64, path string) (uint64, error) { return k.member(base, path, 8) }

// sized reads member path of the object at base with the member's own
// size (1, 2, 4 or 8 bytes).
func (k *reader) sized(base uint64, path string) (uint64, error) {
	n, err := k.sizeOf(path)
	if err != nil {
		return 0, err
	}
	if n != 1 && n != 2 && n != 4 && n != 8 {
		return 0, fmt.Errorf("%s: unexpected size %d", path, n)
	}
	return k.member(base, path, int(n))
}

// cstring reads a NUL-terminated string of at most max bytes at addr
// (symbols.ReadCString); the bytes before a failed page are kept without
// an error, as crash's read_string keeps them.
func (k *reader) cstring(addr uint64, max int) (string, error) {
	s, err := symbols.ReadCString(k.mem, addr, max)
	if err != nil && s == "" {
		return "", fmt.Errorf("string at %x: %w", addr, err)
	}
	return s, nil
}

// reader returns a reader over the dump's kernel memory.
func (k *Kernel) reader() (*reader, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	b := k
	if k.base != nil {
		b = k.base
	}
	b.layoutOnce.Do(func() { b.layout = newLayoutCache() })
	return &reader{mem: k.memory(), t: t, l: b.layout}, nil
}
