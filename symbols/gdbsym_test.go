package symbols

import (
	"os"
	"testing"
)

// TestGDBSymbolReal: gdb's "<name+off>" for addresses of the committed
// 6.1.192 vmlinux (readelf -s): a data object, the sized function among
// its zero-size aliases (_stext, _text), and an address 9,000 bytes into a
// function, whose symbol lies four of the table's 2 KB buckets below.
func TestGDBSymbolReal(t *testing.T) {
	v, _ := openReal(t)
	for _, c := range []struct {
		addr uint64
		name string
		off  uint64
	}{
		{0xffffffff81e11600 + 16, "init_task", 16},           // OBJECT, 6720 bytes
		{0xffffffff81000000 + 5, "startup_64", 5},            // 94 bytes, _stext at the same address
		{0xffffffff810bc246 + 9000, "do_check_common", 9000}, // FUNC, 9867 bytes
		{0xffffffff81869ca0 + 147, "linux_banner", 147},      // its last byte
	} {
		name, off, ok := v.GDBSymbol(c.addr)
		if !ok || name != c.name || off != c.off {
			t.Errorf("GDBSymbol(%#x) = %s+%d, %v; want %s+%d", c.addr, name, off, ok, c.name, c.off)
		}
	}
	if name, off, ok := v.GDBSymbol(0x1000); ok {
		t.Errorf("GDBSymbol(0x1000) = %s+%d: in no section", name, off)
	}
}

// BenchmarkGDBSymbols is the table's first use (built and one bucket of
// .text sorted), on the committed vmlinux and on $GOCRASH_BENCH_VMLINUX.
func benchGDBSymbols(b *testing.B, path string) {
	v, err := Open(path)
	if err != nil {
		b.Skip(err)
	}
	defer v.Close()
	b.ResetTimer()
	for range b.N {
		gdbSymOnce.Delete(v)
		v.GDBSymbol(0xffffffff81000010)
	}
}

func BenchmarkGDBSymbolsTestbed(b *testing.B) { benchGDBSymbols(b, realVmlinux(b)) }
func BenchmarkGDBSymbolsDistro(b *testing.B) {
	p := os.Getenv("GOCRASH_BENCH_VMLINUX")
	if p == "" {
		b.Skip("GOCRASH_BENCH_VMLINUX names a distribution kernel's vmlinux")
	}
	benchGDBSymbols(b, p)
}
