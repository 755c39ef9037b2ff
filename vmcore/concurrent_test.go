package vmcore

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentReadPhys reads the same pages of every compressed real
// dump from several goroutines at once, with a cache small enough that
// most reads decompress, and checks each against a reading made alone:
// the sharded page cache must give every goroutine the right bytes (run
// with -race, it also checks the locking).
func TestConcurrentReadPhys(t *testing.T) {
	for _, rd := range realDumps(t) {
		if rd.format == "elf" || rd.format == "qemu" {
			continue // no decompression
		}
		t.Run(rd.name+"/"+rd.format, func(t *testing.T) {
			d := openReal(t, rd)
			var pages []uint64
			buf := make([]byte, 4096)
			for _, r := range d.PhysRanges() {
				for pa := r.Start &^ 4095; pa < r.End && len(pages) < 4000; pa += 4096 * 7 {
					if d.ReadPhys(buf, pa) == nil {
						pages = append(pages, pa)
					}
				}
			}
			if len(pages) < 100 {
				t.Fatalf("only %d readable pages", len(pages))
			}
			want := make([][]byte, len(pages))
			for i, pa := range pages {
				want[i] = make([]byte, 4096)
				if err := d.ReadPhys(want[i], pa); err != nil {
					t.Fatal(err)
				}
			}
			d.SetCachePages(64)
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					got := make([]byte, 4096)
					for i := range pages {
						j := (i*7919 + g*131) % len(pages)
						if err := d.ReadPhys(got, pages[j]); err != nil {
							errs <- err.Error()
							return
						}
						if !bytes.Equal(got, want[j]) {
							errs <- fmt.Sprintf("page at %#x differs", pages[j])
							return
						}
					}
				}(g)
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// BenchmarkReadPhysCompressed reads random pages of one dump of each
// compressed format through a cache of 16 pages, nearly all misses (a descriptor read and a
// decompression each), from one goroutine (page) and from every cpu at
// once (page-parallel: the cache's shards let the decompressions run in
// parallel; with one lock they ran one after another).
func BenchmarkReadPhysCompressed(b *testing.B) {
	seen := map[string]bool{}
	for _, rd := range realDumps(b) {
		if rd.format == "elf" || rd.format == "qemu" || rd.format == "flat" || seen[rd.format] {
			continue
		}
		seen[rd.format] = true
		d := openReal(b, rd)
		var pages []uint64
		buf := make([]byte, 4096)
		for _, r := range d.PhysRanges() {
			for pa := r.Start &^ 4095; pa < r.End && len(pages) < 20000; pa += 4096 {
				if d.ReadPhys(buf, pa) == nil {
					pages = append(pages, pa)
				}
			}
		}
		if len(pages) < 4096 {
			b.Fatalf("%s: only %d readable pages", rd.format, len(pages))
		}
		d.SetCachePages(16)
		b.Run(rd.format+"/page", func(b *testing.B) {
			b.SetBytes(4096)
			for i := 0; b.Loop(); i++ {
				if err := d.ReadPhys(buf, pages[(i*7919)%len(pages)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(rd.format+"/page-parallel", func(b *testing.B) {
			b.SetBytes(4096)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 4096)
				i := int(next.Add(1000))
				for pb.Next() {
					if err := d.ReadPhys(buf, pages[(i*7919)%len(pages)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// TestDecompressionsOverlap checks the point of the sharded cache: two
// goroutines missing the cache on pages of different shards are inside
// their loads at the same time. Each load waits (with its shard locked)
// until the other has started; behind one lock the second could never
// start and the test would time out.
func TestDecompressionsOverlap(t *testing.T) {
	var rd *realDump
	for _, r := range realDumps(t) {
		if r.format == "zlib" || r.format == "lzo" || r.format == "zstd" {
			rd = &r
			break
		}
	}
	if rd == nil {
		t.Skip("no compressed real dump")
	}
	d := openReal(t, *rd)
	buf := make([]byte, 4096)
	var pages []uint64
	for _, r := range d.PhysRanges() {
		for pa := r.Start &^ 4095; pa < r.End && len(pages) < 2; pa += 4096 {
			// Two readable pages of different shards.
			if d.ReadPhys(buf, pa) == nil && (len(pages) == 0 || (pa/4096)%cacheShards != (pages[0]/4096)%cacheShards) {
				pages = append(pages, pa)
			}
		}
	}
	if len(pages) < 2 {
		t.Fatal("no two readable pages")
	}
	d.SetCachePages(DefaultCachePages) // empty again
	var entered sync.WaitGroup
	entered.Add(2)
	both := make(chan struct{})
	go func() { entered.Wait(); close(both) }()
	var timedOut atomic.Bool
	testLoadHook = func(uint64) {
		entered.Done()
		select {
		case <-both:
		case <-time.After(20 * time.Second):
			timedOut.Store(true)
		}
	}
	defer func() { testLoadHook = nil }()
	var wg sync.WaitGroup
	for _, pa := range pages {
		wg.Add(1)
		go func(pa uint64) {
			defer wg.Done()
			d.ReadPhys(make([]byte, 8), pa)
		}(pa)
	}
	wg.Wait()
	if timedOut.Load() {
		t.Fatal("the second page's load did not start while the first one's was under way")
	}
}
