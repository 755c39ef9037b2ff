package main

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// A session's heap is mostly long-lived (the symbol table, the DWARF name
// index, decoded types) plus short bursts of garbage while the index grows;
// with Go's default GOGC=100 the heap may reach twice the live data before
// a collection. 50 keeps the peak resident set ~5-10% lower on a distribution
// kernel (bench/README.md) for a few milliseconds of extra collection. GOGC
// in the environment still wins.
//
// Start-up is the exception: the first answer allocates some 10-15 MB
// (mostly the DWARF types it decodes) from an empty heap, and GOGC=50's
// collections from a 2 MB heap on were a quarter of the CPU time of `sys`
// with an index cache. So the collector starts off, bounded by a memory
// limit, and GOGC=50 takes over as soon as the heap reaches startHeap or
// startPhase has passed, whichever comes first.
//
// Without the vmlinux the symbol table and the types are not in a mapped
// file but in the heap (kallsyms' 150,000-200,000 names decoded, the BTF
// read from the dump: 14 MB live on Debian's 6.1 after the first `sys`),
// so the heap passes 16 MB before the first answer and the collection
// that follows found nothing to free but cost a third of the CPU time of
// that answer: startWithoutVmlinux moves the start phase's bounds up by
// what such a session keeps (noVmlinuxHeap).
const (
	startHeap     = 16 << 20
	startLimit    = 40 << 20
	startPhase    = time.Second
	noVmlinuxHeap = 24 << 20
)

// startHeapNow is the start phase's heap bound (startHeap, or more
// without the vmlinux); startMu orders its change with the phase's end.
var (
	startHeapNow atomic.Int64
	startMu      sync.Mutex
	startOver    bool
)

func init() { startHeapNow.Store(startHeap) }

// startWithoutVmlinux raises the start phase's bounds for a session on
// the dump alone, if the phase is still on.
func startWithoutVmlinux() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	startMu.Lock()
	defer startMu.Unlock()
	if startOver {
		return
	}
	startHeapNow.Store(startHeap + noVmlinuxHeap)
	debug.SetMemoryLimit(startLimit + noVmlinuxHeap)
}

func init() {
	if os.Getenv("GOGC") != "" {
		return
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		debug.SetGCPercent(50)
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(startLimit)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		deadline := time.Now().Add(startPhase)
		for time.Now().Before(deadline) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() >= uint64(startHeapNow.Load()) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		startMu.Lock()
		startOver = true
		debug.SetGCPercent(50)
		debug.SetMemoryLimit(math.MaxInt64)
		startMu.Unlock()
	}()
}
