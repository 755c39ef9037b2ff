package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modmemDump is Debian's own 6.12 cloud kernel (6.12.117+deb13) with the
// virtio_blk module loaded: a kernel with struct module_memory (6.4+),
// whose module symbol tables crash 8.0.6 builds per memory type
// (store_module_symbols_6_4). The test bed does not commit it (its vmlinux
// alone is several hundred MB); testdata/mkdump's debian path makes it.
// crash 8.0.6's answers about the module, recorded on it, are kept in
// testdata/modmem/NAME: sym -l's module part (its lines from the first
// module marker on), sym of each memory type's start and end, symbols of
// the module by name and address, rd -s and kmem of a module address.
// The test runs where the dump is ($GOCRASH_MODMEM_DUMP, else the mkdump
// work folder's copy) and is the one it was recorded on (mod answers as
// recorded).
const modmemDump = "debian-6.12.117+deb13-cloud-amd64-sysrq"

var modmemCommands = []string{
	"mod", "sym -m virtio_blk", "sym virtio_blk_fini", "sym -q virtblk_", "sym virtblk_fops", "sym __this_module",
	"rd -s ffffffffc03a3340 8", "sym ffffffffc03a3000", "sym ffffffffc03a1f25", "sym ffffffffc03a5000",
	"sym ffffffffc03a9000", "sym ffffffffc039f000", "kmem ffffffffc03a3340",
}

func TestModuleMemoryGoldens(t *testing.T) {
	dir := os.Getenv("GOCRASH_MODMEM_DUMP")
	if dir == "" {
		dir = filepath.Join("/var/cache/gocrash-mkdump/distro", modmemDump)
	}
	vmlinux, vmcore := filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.elf")
	if _, err := os.Stat(vmcore); err != nil {
		t.Skipf("no Debian 6.12 kernel dump at %s (testdata/mkdump/mkdump.sh's debian path makes it)", dir)
	}
	s, err := Open(vmlinux, vmcore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	golden := filepath.Join("testdata", "modmem", modmemDump)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := runCmd(t, s, "mod"), read("mod.txt"); got != want {
		t.Skipf("the dump at %s is not the one the answers were recorded on (mod differs)", dir)
	}
	for _, cmd := range modmemCommands {
		want := read(strings.ReplaceAll(cmd, " ", "_") + ".txt")
		if got := runCmd(t, s, cmd); got != want {
			t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
		}
	}
	// sym -l: the module part (the kernel's symbols are the symbol
	// table's, compared elsewhere)
	all := runCmd(t, s, "sym -l")
	i := strings.Index(all, "MODULE TEXT START")
	if i < 0 {
		t.Fatalf("sym -l has no module part")
	}
	i = strings.LastIndexByte(all[:i], '\n') + 1
	if got, want := all[i:], read("sym_-l.modules.txt"); got != want {
		t.Errorf("sym -l's module part differs from crash:\n%s", lineDiff(want, got))
	}
}
