package vmcore

// Regressions found by fuzzing and by the damage matrix
// (cmd/gocrash/damage_test.go): hostile size fields must cost neither
// memory nor time, and a bitmap that disagrees with the descriptor table
// is refused instead of read as shifted pages.

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// hugeClaimFlattened is a flattened stream whose kdump header claims 4 TiB
// of bitmaps and whose last record sits at 16 TiB, so that the stream's
// size covers the claim while its records carry a few kilobytes.
// FuzzFlattened found this shape: readBytes allocated the claimed size
// (fatal error: runtime: out of memory).
func hugeClaimFlattened(t testing.TB) []byte {
	k := buildKdump(t, testKdumpSpec(flagZlib))
	binary.LittleEndian.PutUint32(k[436:], 1<<30) // bitmap_blocks: 4 TiB of 4 KiB blocks
	out := flatten(k, 3000, false)
	var h [16]byte
	binary.BigEndian.PutUint64(h[0:], 1<<44)
	binary.BigEndian.PutUint64(h[8:], 8)
	out = append(out, h[:]...)
	out = append(out, make([]byte, 8)...)
	return out
}

func TestFlattenedHugeClaims(t *testing.T) {
	b := hugeClaimFlattened(t)
	_, err := newDump(&memSource{data: b}, "huge")
	if err == nil || !strings.Contains(err.Error(), "more than the flattened stream's records hold") {
		t.Fatalf("open: %v", err)
	}
	// The same bytes are FuzzFlattened's regression input.
	corpus := filepath.Join("testdata", "fuzz", "FuzzFlattened", "huge-bitmap-claim")
	want := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
	if os.Getenv("GOCRASH_WRITE_REGRESSIONS") != "" {
		os.MkdirAll(filepath.Dir(corpus), 0o755)
		if err := os.WriteFile(corpus, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := os.ReadFile(corpus); err != nil || string(got) != want {
		t.Errorf("%s is missing or stale (GOCRASH_WRITE_REGRESSIONS=1 rewrites it): %v", corpus, err)
	}
}

// TestKdumpNotesSizeCostsNothing: size_note is bounded by the file before
// anything is allocated (a 64 MiB buffer per open made FuzzOpenKdump crawl).
func TestKdumpNotesSizeCostsNothing(t *testing.T) {
	k := buildKdump(t, testKdumpSpec(flagZlib))
	bs := int(binary.LittleEndian.Uint32(k[428:]))
	binary.LittleEndian.PutUint64(k[bs+56:], 1<<40) // size_note
	allocs := testing.AllocsPerRun(5, func() {
		d, err := newDump(&memSource{data: k}, "notes")
		if err == nil {
			d.Close()
		}
	})
	var ms1, ms2 runtimeMem
	ms1.read()
	d, err := newDump(&memSource{data: k}, "notes")
	ms2.read()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !strings.Contains(strings.Join(d.Warnings(), "\n"), "kdump notes") {
		t.Errorf("no warning about the notes: %q", d.Warnings())
	}
	if grew := ms2.total - ms1.total; grew > 16<<20 {
		t.Errorf("opening allocated %d bytes (%.0f allocations)", grew, allocs)
	}
}

// TestKdumpBitmapFlip: one bit set or cleared in the dumpable bitmap is an
// error at open naming the disagreement, not a dump whose later pages read
// their neighbours' data.
func TestKdumpBitmapFlip(t *testing.T) {
	s := testKdumpSpec(flagZlib)
	good := buildKdump(t, s)
	if _, err := newDump(&memSource{data: good}, "good"); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	bs := int64(le.Uint32(good[428:]))
	bitmapOff := bs * (1 + int64(le.Uint32(good[432:])))
	half := bs * int64(le.Uint32(good[436:])) / 2
	dumpable := bitmapOff + half
	for _, tc := range []struct {
		name string
		pfn  uint64
		set  bool
	}{
		{"set", 3, true},      // pfn 3 is excluded in testKdumpSpec
		{"cleared", 0, false}, // pfn 0 is written
	} {
		b := append([]byte(nil), good...)
		if tc.set {
			b[dumpable+int64(tc.pfn/8)] |= 1 << (tc.pfn % 8)
		} else {
			b[dumpable+int64(tc.pfn/8)] &^= 1 << (tc.pfn % 8)
		}
		_, err := newDump(&memSource{data: b}, tc.name)
		if err == nil || !strings.Contains(err.Error(), "bitmap and page descriptor table disagree") {
			t.Errorf("bit %s: %v", tc.name, err)
		}
	}
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}
