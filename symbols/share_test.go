package symbols

import (
	"testing"

	"gocrash/internal/testbed"
)

// TestShare: a share of a vmlinux answers as the vmlinux does, with its
// own KASLR offset (the base's symbols do not move), the same DWARF types
// (one Types, read once), and closing it leaves the base working.
func TestShare(t *testing.T) {
	v, err := Open(testbed.Open(t, "6.1-sysrq", "elf").Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const slide = 0x3a000000
	s, err := v.Share()
	if err != nil {
		t.Fatal(err)
	}
	s.SetKASLR(slide)
	for _, name := range []string{"init_task", "linux_banner", "sysrq_handle_crash"} {
		a, ok := v.Lookup(name)
		b, ok2 := s.Lookup(name)
		if !ok || !ok2 || b != a+slide {
			t.Errorf("%s: base %#x %v, share %#x %v (want base+%#x)", name, a, ok, b, ok2, slide)
		}
		if n, off, ok := s.Symbolize(b + 1); !ok || n != name || off != 1 {
			t.Errorf("share: Symbolize(%#x) = %s+%d %v, want %s+1", b+1, n, off, ok, name)
		}
		if n, _, ok := v.Symbolize(a); !ok || n != name {
			t.Errorf("base: Symbolize(%#x) = %s %v after the share moved", a, n, ok)
		}
	}
	tv, err := v.Types()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.Types()
	if err != nil || ts != tv {
		t.Fatalf("share's types %p (%v), base's %p", ts, err, tv)
	}
	typ, err := ts.VarType("init_uts_ns")
	if err != nil || typ.String() != "struct uts_namespace" {
		t.Errorf("VarType(init_uts_ns) = %v, %v", typ, err)
	}
	if len(s.Symbols()) != len(v.Symbols()) {
		t.Errorf("share has %d symbols, base %d", len(s.Symbols()), len(v.Symbols()))
	}
	s2, err := s.Share() // a share of a share is the base's
	if err != nil || s2.base != v {
		t.Errorf("share of a share: %v, base %p", err, s2.base)
	}
	s.Close()
	s2.Close()
	if _, ok := v.Lookup("init_task"); !ok {
		t.Error("base lost init_task when its shares closed")
	}
	if _, err := tv.VarType("jiffies"); err != nil {
		t.Errorf("base's types after the shares closed: %v", err)
	}
	v.Close()
	if _, err := v.Share(); err == nil {
		t.Error("Share of a closed vmlinux: no error")
	}
}
