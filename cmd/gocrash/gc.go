package main

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
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
const (
	startHeap  = 16 << 20
	startLimit = 40 << 20
	startPhase = time.Second
)

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
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() >= startHeap {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		debug.SetGCPercent(50)
		debug.SetMemoryLimit(math.MaxInt64)
	}()
}
