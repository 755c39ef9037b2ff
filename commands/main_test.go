package commands

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestMain bounds the test process's heap: the golden tests open some two
// hundred sessions over seventeen dumps one after the other, each leaving
// hundreds of megabytes of garbage (decoded DWARF, decompressed pages), and
// with the default pacing alone the process's resident memory climbed past
// this 24 GB machine's before the collector and scavenger caught up (the
// OOM killer ended the run). A limit keeps it near 4 GiB (measured: 3.0-3.2
// GB over the whole package); GOMEMLIMIT, when set, wins.
func TestMain(m *testing.M) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(4 << 30)
	}
	os.Exit(m.Run())
}
