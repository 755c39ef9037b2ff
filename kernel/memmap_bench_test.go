package kernel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// BenchmarkMemMapWalk times kmem -i's walk of every struct page (the part
// of kmem -i that grows with the guest's memory; the rest reads a few
// counters) and reports it per GiB of RAM the dump describes: the scale
// figure of bench/README.md. Sub-benchmarks: the sample dump, and Debian's
// cloud kernel dump where the machine has it ($GOCRASH_DISTRO_DUMP, as
// commands' TestDistroGoldens).
func BenchmarkMemMapWalk(b *testing.B) {
	type dump struct{ name, vmlinux, vmcore string }
	d := testbed.Open(b, testbed.DefaultName, testbed.DefaultFormat)
	dumps := []dump{{d.Name + "." + d.Format, d.Vmlinux, d.Vmcore}}
	dir := os.Getenv("GOCRASH_DISTRO_DUMP")
	if dir == "" {
		dir = "/var/cache/gocrash-mkdump/distro/debian-6.1.0-56-cloud-amd64-sysrq"
	}
	for _, f := range []string{"vmcore.zlib", "vmcore.elf"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			dumps = append(dumps, dump{filepath.Base(dir) + "." + f[len("vmcore."):], filepath.Join(dir, "vmlinux"), filepath.Join(dir, f)})
		}
	}
	// uncached: a page cache of 64 pages, far smaller than the mem_map,
	// so that every walk inflates every page of it again, as the one walk
	// of a big guest's mem_map does (256 MB of struct pages for 16 GiB).
	for _, dm := range dumps {
		for _, uncached := range []bool{false, true} {
			name := dm.name
			if uncached {
				if !strings.HasSuffix(name, ".zlib") {
					continue
				}
				name += "-uncached"
			}
			benchMemMapWalk(b, name, dm.vmlinux, dm.vmcore, uncached)
		}
	}
}

func benchMemMapWalk(b *testing.B, name, vmlinux, vmcore string, uncached bool) {
	{
		b.Run(name, func(b *testing.B) {
			k, err := Open(vmlinux, vmcore, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer k.Close()
			if uncached {
				k.Dump.SetCachePages(64)
			}
			ctx := context.Background()
			if _, err := k.walkMemMap(ctx); err != nil { // types and sections once
				b.Fatal(err)
			}
			b.ResetTimer()
			var pages uint64
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			t0 := time.Now()
			for i := 0; i < b.N; i++ {
				c, err := k.walkMemMap(ctx)
				if err != nil {
					b.Fatal(err)
				}
				pages = c.pages
			}
			el := time.Since(t0).Seconds() / float64(b.N)
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := (tvSec(ru1.Utime) + tvSec(ru1.Stime) - tvSec(ru0.Utime) - tvSec(ru0.Stime)) / float64(b.N)
			gib := float64(pages) * float64(k.Dump.PageSize()) / (1 << 30)
			b.ReportMetric(float64(pages), "pages")
			b.ReportMetric(el/gib, "s/GiB")
			b.ReportMetric(cpu/gib, "cpu-s/GiB")
		})
	}
}

func tvSec(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
