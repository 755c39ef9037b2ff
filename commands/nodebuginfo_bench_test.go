package commands

import (
	"io"
	"os"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// BenchmarkStartupSysNoDebuginfo is BenchmarkStartupSys both ways: the
// dump and its vmlinux, and the dump alone (kallsyms, BTF, ORC from its
// memory). Issue #17 wants the second no slower than the first. It needs
// a kernel with BTF (the regenerated test bed, or GOCRASH_NODEBUG_DUMP=
// VMLINUX:VMCORE).
func BenchmarkStartupSysNoDebuginfo(b *testing.B) {
	d := testbed.Open(b, testbed.DefaultName, testbed.DefaultFormat)
	vmlinux, vmcore := d.Vmlinux, d.Vmcore
	if extra := os.Getenv("GOCRASH_NODEBUG_DUMP"); extra != "" {
		if vml, vmc, ok := strings.Cut(extra, ":"); ok {
			vmlinux, vmcore = vml, vmc
		}
	}
	probe, err := Open("", vmcore, Options{})
	if err != nil {
		b.Fatal(err)
	}
	hasBTF := probe.Vmlinux.HasBTF()
	probe.Close()
	if !hasBTF {
		b.Skip("the dump's kernel has no BTF: sys would not be complete without the vmlinux")
	}
	for _, c := range []struct{ name, vmlinux string }{{"vmlinux", vmlinux}, {"dump-alone", ""}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s, err := Open(c.vmlinux, vmcore, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := WriteSys(s, io.Discard); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
