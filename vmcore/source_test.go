package vmcore

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// mappedFile writes a file of size bytes whose every 8-byte word is its own
// offset, and maps it as Open does.
func mappedFile(t *testing.T, size int) *memSource {
	t.Helper()
	b := make([]byte, size)
	for off := 0; off < size; off += 8 {
		binary.LittleEndian.PutUint64(b[off:], uint64(off))
	}
	path := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	src, unmap, err := mapFile(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmap() })
	m, ok := src.(*memSource)
	if !ok || m.res == nil {
		t.Skip("the file was not mapped")
	}
	return m
}

// mappingRSS is the resident size of the mapping that holds p, from
// /proc/self/smaps (kB).
func mappingRSS(t *testing.T, p []byte) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	addr := uint64(uintptr(unsafe.Pointer(&p[0])))
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok {
			a, e1 := strconv.ParseUint(lo, 16, 64)
			b, e2 := strconv.ParseUint(hi, 16, 64)
			if e1 == nil && e2 == nil {
				in = a <= addr && addr < b
				continue
			}
		}
		if in && f[0] == "Rss:" && len(f) > 1 {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	t.Skip("no mapping found in /proc/self/smaps")
	return 0
}

// Reads scattered over a mapped dump must not leave it all resident (the
// kernel maps 64 KB around every fault), and must read the right bytes
// across the drops that keep it so.
func TestMappedReadsStayBounded(t *testing.T) {
	const size = 96 << 20
	m := mappedFile(t, size)
	var w [8]byte
	for off := int64(0); off < size; off += faultWindow {
		if _, err := m.ReadAt(w[:], off+8); err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint64(w[:]); got != uint64(off+8) {
			t.Fatalf("word at %#x reads %#x", off+8, got)
		}
	}
	// The limit, and one fault-around's worth read after the last drop.
	if kb := mappingRSS(t, m.data); kb > (residentLimit+2*faultWindow)>>10 {
		t.Errorf("after reading every 64 KB window of a %d MB mapping, %d kB of it is resident; want at most %d kB",
			size>>20, kb, (residentLimit+2*faultWindow)>>10)
	}
	// A view handed out before drops stays readable after them.
	v, ok := m.view(8, 8)
	if !ok {
		t.Fatal("no view")
	}
	for off := int64(0); off < size; off += faultWindow {
		m.touch(off, 1)
	}
	if got := binary.LittleEndian.Uint64(v); got != 8 {
		t.Errorf("view at 8 reads %#x after the mapping was dropped", got)
	}
}

func TestMappedReadsConcurrent(t *testing.T) {
	const size = 48 << 20
	m := mappedFile(t, size)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w [8]byte
			for pass := 0; pass < 2; pass++ {
				for off := int64(g * 8); off < size; off += faultWindow / 4 {
					if _, err := m.ReadAt(w[:], off); err != nil {
						errs <- err
						return
					}
					if got := binary.LittleEndian.Uint64(w[:]); got != uint64(off) {
						errs <- fmt.Errorf("goroutine %d: word at %#x reads %#x", g, off, got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
