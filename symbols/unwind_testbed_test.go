package symbols

import (
	"testing"

	"gocrash/internal/testbed"
)

// openVmlinux61 opens the test bed's 6.1 vmlinux (no dump needed).
func openVmlinux61(t *testing.T) *Vmlinux {
	t.Helper()
	v, err := Open(testbed.Open(t, "6.1-sysrq", "elf").Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
