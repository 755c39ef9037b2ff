package commands

import (
	"io"
	"testing"

	"gocrash/internal/testbed"
)

// BenchmarkSearchKernel is search -k for a value that is nowhere, over the
// whole kernel virtual memory of the sample ELF dump: every page the dump
// holds is read and scanned once. Compare its bytes/s with reading the
// dump file (cat vmcore > /dev/null).
func BenchmarkSearchKernel(b *testing.B) {
	d := testbed.Open(b, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(b, d)
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Run(s, "search -k ffffffffdeadbeef", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
