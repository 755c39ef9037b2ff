package main

import (
	"os"
	"runtime/debug"
)

// A session's heap is mostly long-lived (the symbol table, the DWARF name
// index, decoded types) plus short bursts of garbage while the index grows;
// with Go's default GOGC=100 the heap may reach twice the live data before
// a collection. 50 keeps the peak resident set ~5-10% lower on a distribution
// kernel (bench/README.md) for a few milliseconds of extra collection. GOGC
// in the environment still wins.
func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
