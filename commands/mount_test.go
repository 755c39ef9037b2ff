package commands

import (
	"bytes"
	"testing"

	"gocrash/internal/testbed"
)

// TestMountArgumentTerminalOnly: "mount ARG" on a kernel without
// super_block.s_files fails as "mount -f" does, but crash 8.0.6 writes
// its two lines to the terminal only: run on 6.1-sysrq with each command
// redirected ("mount / > FILE", "mount ffffffffdeadbeef > FILE"), every
// file stayed empty and crash's stdout had both lines (16:45 UTC,
// 2026-12-01). Without an argument they go where the output goes
// (mount_-f.txt, TestSystemGoldens).
func TestMountArgumentTerminalOnly(t *testing.T) {
	d := testbed.Open(t, "6.1-sysrq", "elf")
	s := openTestbed(t, d)
	defer s.Close()
	const want = "mount: the super_block.s_files linked list does not exist in this kernel\n" +
		"mount: -f option not supported or applicable on this architecture or kernel"
	for _, cmd := range []string{"mount /", "mount ffffffffdeadbeef", "mount -n 1 /proc"} {
		var out bytes.Buffer
		err := Run(s, cmd, &out)
		if out.Len() != 0 {
			t.Errorf("%s: wrote %q to its output; crash's file stays empty", cmd, out.String())
		}
		if err == nil || !StderrOnly(err) || err.Error() != want {
			t.Errorf("%s: error %v (terminal only: %v), want crash's two lines on the terminal only", cmd, err, err != nil && StderrOnly(err))
		}
	}
}
