package commands

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A module's types (issue #17). With the vmlinux, crash's gdb knows a
// module's types once mod -s has loaded its object file; without it,
// gocrash has each loaded module's own BTF (CONFIG_DEBUG_INFO_BTF_MODULES,
// Debian's 6.1 and 6.12: split BTF on top of the kernel's, read from
// kernel/bpf/btf.c's btf_modules) and knows them from the start. The
// commands below were recorded with crash 8.0.6 on Debian's dumps after
// `mod -s virtio_blk` (the -dbg package's .ko, found through
// $CRASH_MODULE_PATH); gocrash must print the same with the vmlinux after
// the same mod -s, and without debuginfo and without mod -s, apart from
// modTypesNoDebuginfoDiffs.
var modTypeCommands = []string{
	"mod -s virtio_blk",
	"struct virtio_blk", "struct -o virtio_blk", "struct virtio_blk_vq", "whatis struct virtio_blk_vq",
	"ptype struct virtio_blk", "p sizeof(struct virtio_blk)", "virtio_blk_vq", "struct virtio_blk.num_vqs",
	"p *(struct virtio_blk *)((struct gendisk *)0x{gendisk1})->private_data",
	"p ((struct virtio_blk *)((struct gendisk *)0x{gendisk1})->private_data)->num_vqs",
	"p/x ((struct virtio_blk *)((struct gendisk *)0x{gendisk1})->private_data)->io_queues",
	"whatis virtio_blk", "p virtblk_fops", "whatis virtblk_getgeo",
}

// modTypesNoDebuginfoDiffs are what a session without the vmlinux cannot
// answer as crash after mod -s does, and why.
var modTypesNoDebuginfoDiffs = map[string]string{
	"mod -s virtio_blk": "not run: the module's BTF gives its types without an object file",
	"whatis virtio_blk": "a module variable: BTF has the types of per-cpu variables only, and the .ko is not loaded",
	"p virtblk_fops":    "a module variable: as whatis virtio_blk",
}

// moduleSymbolRe is gdb's <symbol> after a module address: gdb knows a
// module's symbols only after mod -s, so without debuginfo and without
// mod -s a pointer into a module is printed without one, as with the
// vmlinux before mod -s; such names are compared without it.
var moduleSymbolRe = regexp.MustCompile(`(0xffffffffc0[0-9a-f]+) <[^>]+>`)

// modObjectTree is where Debian's -dbg package put the modules' object
// files with debuginfo, beside the vmlinux the dump's directory links to
// (.../root/usr/lib/debug/boot/vmlinux-RELEASE).
func modObjectTree(vmlinux string) string {
	real, err := filepath.EvalSymlinks(vmlinux)
	if err != nil {
		return ""
	}
	rel := strings.TrimPrefix(filepath.Base(real), "vmlinux-")
	return filepath.Join(filepath.Dir(filepath.Dir(real)), "lib", "modules", rel)
}

var modObjectPathRe = regexp.MustCompile(`\S*/virtio_blk\.ko`)

func TestModuleTypesDistro(t *testing.T) {
	base := os.Getenv("GOCRASH_DISTRO_DIR")
	if base == "" {
		base = "/var/cache/gocrash-mkdump/distro"
	}
	ran := 0
	for _, name := range distroDumps {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(base, name)
			vmlinux, vmcore := filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.elf")
			fi, err := os.Stat(vmcore)
			if err != nil {
				t.Skipf("no Debian kernel dump at %s", dir)
			}
			golden := filepath.Join("testdata", "distro", name, "crash")
			if b, err := os.ReadFile(filepath.Join("testdata", "distro", name, "vmcore.elf.size")); err != nil || strings.TrimSpace(string(b)) != strconv.FormatInt(fi.Size(), 10) {
				t.Skipf("%s is not the dump crash's answers were recorded on", vmcore)
			}
			tree := modObjectTree(vmlinux)
			if _, err := os.Stat(tree); err != nil {
				t.Skipf("no module object files at %s", tree)
			}
			t.Setenv("CRASH_MODULE_PATH", tree)
			ran++
			with, err := Open(vmlinux, vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer with.Close()
			without, err := Open("", vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer without.Close()
			// Without debuginfo, mod -s loads the object file as with
			// the vmlinux (its DWARF before the module's BTF): then
			// every answer is crash's, variables and functions too.
			loaded, err := Open("", vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer loaded.Close()
			// gdb's reasons go to crash's stderr, not to the answer.
			with.Stderr, without.Stderr, loaded.Stderr = io.Discard, io.Discard, io.Discard
			// 5.10 is before CONFIG_DEBUG_INFO_BTF_MODULES.
			moduleBTF := false
			if mods, err := without.Kernel.ModulesBTF(t.Context()); err == nil {
				for _, m := range mods {
					if m.Module == "virtio_blk" && m.Types != nil {
						moduleBTF = true
					} else if m.Module == "virtio_blk" {
						t.Logf("without debuginfo: %v", m.Err)
					}
				}
			}
			for _, cmd := range modTypeCommands {
				want, err := os.ReadFile(filepath.Join(golden, strings.ReplaceAll(cmd, " ", "_")+".txt"))
				if err != nil {
					t.Errorf("%s: crash's answer: %v", cmd, err)
					continue
				}
				line, err := resolveIn(golden, cmd)
				if err != nil {
					t.Errorf("%s: %v", cmd, err)
					continue
				}
				w := modObjectPathRe.ReplaceAllString(string(want), "virtio_blk.ko")
				setHistory := func(s *Session) {
					if m := historyNumber.FindStringSubmatch(w); m != nil {
						n, _ := strconv.Atoi(m[1])
						s.SetHistoryLen(n - 1)
					}
				}
				setHistory(with)
				if got := modObjectPathRe.ReplaceAllString(runCmd(t, with, line), "virtio_blk.ko"); got != w {
					t.Errorf("%s with the vmlinux after mod -s differs from crash:\n%s", cmd, lineDiff(w, got))
				}
				setHistory(loaded)
				if got := modObjectPathRe.ReplaceAllString(runCmd(t, loaded, line), "virtio_blk.ko"); got != w {
					t.Errorf("%s without debuginfo after mod -s differs from crash with the vmlinux:\n%s", cmd, lineDiff(w, got))
				}
				if _, ok := modTypesNoDebuginfoDiffs[cmd]; ok || !moduleBTF {
					continue
				}
				setHistory(without)
				if got, w := runCmd(t, without, line), moduleSymbolRe.ReplaceAllString(w, "$1"); got != w {
					t.Errorf("%s without debuginfo (the module's BTF) differs from crash after mod -s:\n%s", cmd, lineDiff(w, got))
				}
			}
		})
	}
	if ran == 0 {
		t.Skip("no Debian kernel dump")
	}
}
