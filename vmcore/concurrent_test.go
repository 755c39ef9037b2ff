package vmcore

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
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
