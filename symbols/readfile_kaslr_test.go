package symbols

import (
	"strings"
	"testing"
)

// ReadFile is given relocated addresses (Lookup's, a stack's return
// addresses). With a small KASLR slide the relocated address of a symbol is
// often also a link-time address inside another section: read there, the
// banner came out as another object's bytes, and a matching vmlinux was
// refused ("do not match", seen on the 6.12-oops dump, slide 0x600000).
func TestReadFileSmallKASLRSlide(t *testing.T) {
	v, err := Open(realVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, slide := range []uint64{0, 0x200000, 0x600000, 0x1000000, 0x18200000} {
		v.SetKASLR(slide)
		addr, ok := v.Lookup("linux_banner")
		if !ok {
			t.Fatal("no linux_banner")
		}
		p := make([]byte, 14)
		if err := v.ReadFile(addr, p); err != nil {
			t.Fatalf("slide %#x: %v", slide, err)
		}
		if !strings.HasPrefix(string(p), "Linux version ") {
			t.Errorf("slide %#x: linux_banner at %#x reads %q", slide, addr, p)
		}
	}
}
