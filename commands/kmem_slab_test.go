package commands

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// kmemSlabCommands are compared with crash 8.0.6's answers on every dump
// whose kernel crash could build its slab table on (full SLUB).
var kmemSlabCommands = []string{
	"kmem -s", "kmem -s kmalloc-64", "kmem -S kmalloc-64", "kmem -s kmem_cache",
	"kmem -S kmem_cache", "kmem -S=1 kmalloc-64", "kmem -s list", "kmem -s bogus",
	"kmem -S bogus", "kmem -s {slabobj}", "kmem -S {slabobj}", "kmem {slabobj}",
	"kmem {slabpage}", "kmem -s {slabpage}",
}

// kmemCommonCommands are compared on every dump.
var kmemCommonCommands = []string{"kmem -s -i"}

// noKmemCache tells whether crash was run with --no_kmem_cache on d: its
// kernel is SLUB_TINY (6.12 test bed), where crash 8.0.6 cannot build its
// slab table ("invalid structure member offset: kmem_cache_s_num"), so
// no answer of crash's about slabs exists to compare with there.
func noKmemCache(d testbed.Dump) bool {
	return strings.Contains(d.CrashVersion(), "--no_kmem_cache")
}

// checkResolvedGoldens is checkGoldens for commands with {placeholders}:
// the golden is kept under the command as written, gocrash runs it with
// the values resolved on that dump.
func checkResolvedGoldens(t *testing.T, cmds func(testbed.Dump) []string) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range cmds(d) {
				want, ok := recorded(t, d, cmd)
				if !ok {
					continue
				}
				line, err := d.Resolve(cmd)
				if err != nil {
					t.Errorf("%s: %v", cmd, err)
					continue
				}
				if got := runCmd(t, s, line); got != want {
					t.Errorf("%s (%s) differs from crash:\n%s", cmd, line, lineDiff(want, got))
				}
			}
		})
	}
}

func TestKmemSlabGoldens(t *testing.T) {
	checkResolvedGoldens(t, func(d testbed.Dump) []string {
		if noKmemCache(d) {
			return kmemCommonCommands
		}
		return append(append([]string{}, kmemSlabCommands...), kmemCommonCommands...)
	})
}

// BenchmarkKmemSlab is kmem -s and then kmem ADDRESS of every allocated
// object of the sample dump's kmalloc-64 cpu slabs (crash's own answer to
// the same batch of 1,000 objects: see the system issue's closing note).
func BenchmarkKmemSlab(b *testing.B) {
	d := testbed.Open(b, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(b, d)
	defer s.Close()
	out := runCmd(b, s, "kmem -S kmalloc-64")
	var objs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  [") && strings.HasSuffix(l, "]") {
			objs = append(objs, strings.Trim(l, " []"))
		}
	}
	if len(objs) == 0 {
		b.Fatal("no allocated kmalloc-64 objects in kmem -S")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runCmd(b, s, "kmem -s")
		for _, o := range objs {
			runCmd(b, s, "kmem "+o)
		}
	}
	b.ReportMetric(float64(len(objs)), "objects/op")
}
