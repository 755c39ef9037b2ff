package commands

import (
	"os"
	"path/filepath"
	"testing"

	"gocrash/internal/testbed"
)

// layoutCommands are commands whose walkers read layouts (symbols.Types
// Layouts): the core ones and those reading many structures.
var layoutCommands = []string{
	"sys", "bt -a", "bt -f", "log", "ps", "ps -l", "ps -G", "runq", "runq -g", "runq -t", "set",
	"kmem -i", "kmem -s", "kmem -z", "kmem -V", "kmem -n", "kmem -f", "kmem -h", "kmem -v",
	"files", "vm", "net", "net -s", "mount", "dev", "dev -d", "irq", "irq -s", "timer", "timer -r",
	"swap", "mod", "foreach bt", "foreach files", "task", "sig", "sys -c", "sys -t", "mach", "waitq log_wait",
}

// TestLayoutsBTFMatchesDWARF: with layouts from the kernel's .BTF (the
// default when the vmlinux has one) every layout command prints what it
// prints with layouts from DWARF (GOCRASH_LAYOUTS=dwarf), on one format of
// each committed kernel and on $GOCRASH_DISTRO_DUMP (a directory with
// vmlinux and vmcore.elf, e.g. a Debian kernel's).
func TestLayoutsBTFMatchesDWARF(t *testing.T) {
	type pair struct{ name, vmlinux, vmcore string }
	var dumps []pair
	seen := map[string]bool{}
	for _, d := range testbed.All(t) {
		if !seen[d.Vmlinux] {
			seen[d.Vmlinux] = true
			dumps = append(dumps, pair{d.Name + "/" + d.Format, d.Vmlinux, d.Vmcore})
		}
	}
	if dir := os.Getenv("GOCRASH_DISTRO_DUMP"); dir != "" {
		dumps = append(dumps, pair{filepath.Base(dir), filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.elf")})
	}
	for _, d := range dumps {
		t.Run(d.name, func(t *testing.T) {
			outputs := map[string][]string{}
			for _, mode := range []string{"", "dwarf"} {
				t.Setenv("GOCRASH_LAYOUTS", mode)
				s, err := Open(d.vmlinux, d.vmcore, Options{})
				if err != nil {
					t.Fatal(err)
				}
				lt, err := s.Layouts()
				if err != nil {
					t.Fatal(err)
				}
				if want := mode == "" && s.Vmlinux.HasBTF(); lt.UsesBTF() != want {
					t.Fatalf("GOCRASH_LAYOUTS=%q: layouts from BTF %v, want %v", mode, lt.UsesBTF(), want)
				}
				for _, cmd := range layoutCommands {
					outputs[mode] = append(outputs[mode], runCmd(t, s, cmd))
				}
				s.Close()
			}
			for i, cmd := range layoutCommands {
				if got, want := outputs[""][i], outputs["dwarf"][i]; got != want {
					t.Errorf("%s: BTF layouts print otherwise than DWARF's:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}
