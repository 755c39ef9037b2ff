package commands

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// buildModuleObject compiles a stand-in for the test module's object file
// (gcc, then ld -r as kbuild links a .ko), with .modinfo's name= and,
// when buildID, a GNU build ID note; it skips without the tools.
func buildModuleObject(t *testing.T, name string, buildID bool) string {
	t.Helper()
	gcc, err1 := exec.LookPath("gcc")
	ld, err2 := exec.LookPath("ld")
	if err1 != nil || err2 != nil {
		t.Skip("no gcc or ld")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "m.c")
	os.WriteFile(src, []byte("static const char modinfo[] __attribute__((section(\".modinfo\"), used)) = \"name="+name+"\";\n"+
		"int *target;\nvoid gocrash_write_null(int v) { *target = v; }\n"), 0o644)
	obj := filepath.Join(dir, "m.o")
	if out, err := exec.Command(gcc, "-g", "-O2", "-c", src, "-o", obj).CombinedOutput(); err != nil {
		t.Skipf("gcc: %v %s", err, out)
	}
	ko := filepath.Join(dir, name+".ko")
	args := []string{"-r", obj, "-o", ko}
	if buildID {
		args = append([]string{"--build-id=sha1"}, args...)
	}
	if out, err := exec.Command(ld, args...).CombinedOutput(); err != nil {
		t.Skipf("ld: %v %s", err, out)
	}
	return ko
}

// TestModLoadRefusesOtherObjects: an object file of another build (its
// build ID is not the one the loaded module carries) or of another module
// is refused with one line, and the module stays "(not loaded)" in mod's
// list, which crash 8.0.6 printed on this dump (mod.txt). crash itself
// would load such a file and answer from it: a deliberate difference.
func TestModLoadRefusesOtherObjects(t *testing.T) {
	d := testbed.Open(t, "6.1-oops", "zlib")
	s := openTestbed(t, d)
	defer s.Close()
	other := buildModuleObject(t, "gocrash_oops", true)
	got := runCmd(t, s, "mod -s gocrash_oops "+other)
	if !strings.HasPrefix(got, "mod: "+other+": build ID ") || !strings.Contains(got, "does not match the loaded gocrash_oops module's ") || strings.Count(got, "\n") != 1 {
		t.Errorf("another build: %q", got)
	}
	named := buildModuleObject(t, "other_mod", false)
	got = runCmd(t, s, "mod -s gocrash_oops "+named)
	if got != "mod: "+named+": the object file of module other_mod, not of gocrash_oops\n" {
		t.Errorf("another module: %q", got)
	}
	want, _ := d.Golden("mod")
	if got := runCmd(t, s, "mod"); got != want {
		t.Errorf("mod after refused loads:\n%s\ncrash:\n%s", got, want)
	}
}

// TestModLoadLists: a file mod -s accepts becomes the module's OBJECT
// FILE (crash's do_module_cmd prints it followed by a space), mod -s lists
// that module alone, and mod -d takes it away again.
func TestModLoadLists(t *testing.T) {
	d := testbed.Open(t, "6.1-oops", "zlib")
	s := openTestbed(t, d)
	defer s.Close()
	ko := buildModuleObject(t, "gocrash_oops", false)
	want, _ := d.Golden("mod")
	loaded := strings.Replace(want, "(not loaded)  [CONFIG_KALLSYMS]", ko+" ", 1)
	if got := runCmd(t, s, "mod -s gocrash_oops "+ko); got != loaded {
		t.Errorf("mod -s:\n%q\nwant\n%q", got, loaded)
	}
	if got := runCmd(t, s, "mod"); got != loaded {
		t.Errorf("mod after mod -s:\n%q", got)
	}
	runCmd(t, s, "mod -d gocrash_oops")
	if got := runCmd(t, s, "mod"); got != want {
		t.Errorf("mod after mod -d:\n%q", got)
	}
}

// modLoadGoldens are recorded last in one crash session (mkdump.sh's
// CRASH_CMDS), with the test module's object file in the current
// directory: mod -s finds it there, and changes what the commands after it
// answer until mod -d. ("mod -gr" is mod's list - crash takes -g and -r
// out of the options - under a golden name of its own: the list after mod
// -s must not overwrite mod.txt.)
var modLoadGoldens = []string{
	"mod -s gocrash_oops", "mod -gr", "dis gocrash_write_null.constprop.0",
	"dis -l gocrash_write_null.constprop.0",
	// the module's debuginfo: its symbols and variables, typed from its
	// DWARF (gocrash_target has no storage: whatis names its type)
	// (bt -a -l: crash passes over the running init function's frame
	// once the object is loaded, and has lines only for the sections it
	// placed; p __this_module.name: gdb cannot read a variable of a
	// section crash did not place: symbols.ModuleObject.PlaceLikeCrash)
	"sym gocrash_write_null.constprop.0", "bt -l -a", "p gocrash_spins", "p &gocrash_spins",
	"whatis gocrash_target", "p __this_module.name", "whatis gocrash_write_null.constprop.0",
	"mod -d gocrash_oops",
	"mod -s gocrash_oops /nonexistent/gocrash_oops.ko",
	// find(1)'s path under the directory given, ./gocrash_oops.ko,
	// compared as it is (the test runs where the .ko is, as crash did),
	// once mod -D unloaded the object the line before found
	"mod -D", "mod -S .",
	"mod -d gocrash_oops", "mod",
}

// TestModLoadGoldens runs them the same way: in the directory of the
// vmlinux, which holds the committed gocrash_oops.ko (internal/sample puts
// it there, as mkdump.sh's out/NAME/ had it).
func TestModLoadGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			if _, ok := d.Golden(modLoadGoldens[0]); !ok {
				t.Skip("crash's answers after mod -s are recorded by the test bed's regeneration (mkdump.sh), not yet for this dump")
			}
			// crash ran in the directory of its vmlinux, where the
			// test module was too (mkdump.sh's out/NAME/); the test
			// bed puts the module beside its copy of the vmlinux.
			dir := filepath.Dir(d.Vmlinux)
			if _, err := os.Stat(filepath.Join(dir, "gocrash_oops.ko")); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			s := openTestbed(t, d)
			defer s.Close()
			// Without the vmlinux, mod -s loads the object file the same
			// way (its symbols, lines, types and variables at the
			// module's section addresses: what crash would do, could it
			// start without the vmlinux); it finds the .ko in the
			// current directory.
			alone, err := Open("", d.Vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer alone.Close()
			alone.Location = time.UTC
			if !alone.Vmlinux.HasBTF() {
				alone = nil
			}
			if why := unplacedRecording(d); why != "" {
				t.Fatal(why)
			}
			for _, cmd := range modLoadGoldens {
				want, ok := recorded(t, d, cmd)
				if !ok {
					continue
				}
				if alone != nil && !modLoadAloneDiffs[cmd] {
					if m := historyNumber.FindStringSubmatch(want); m != nil {
						n, _ := strconv.Atoi(m[1])
						alone.SetHistoryLen(n - 1)
					}
					got := runCmd(t, alone, cmd)
					want := want
					if strings.HasPrefix(cmd, "bt") {
						got = crashStackFailures(want, got)
					}
					if cmd == "bt -l -a" {
						want = withoutKernelLines(want)
						got = btNoLines.ReplaceAllString(got, "")
					}
					if g := strings.SplitN(got, "\n", 2); len(g) == 2 && g[1] == want && strings.Contains(want, ": gdb request failed: ") {
						got = want
					}
					if cmd != "mod -S ." {
						got, want = objectFile.ReplaceAllString(got, "DIR/gocrash_oops.ko "), objectFile.ReplaceAllString(want, "DIR/gocrash_oops.ko ")
					}
					if got != want {
						t.Errorf("%s without debuginfo differs from crash with the vmlinux:\n%s", cmd, lineDiff(want, got))
					}
				}
				// p numbers its results per session: as crash did here.
				if m := historyNumber.FindStringSubmatch(want); m != nil {
					n, _ := strconv.Atoi(m[1])
					s.SetHistoryLen(n - 1)
				}
				got := runCmd(t, s, cmd)
				// crash's stack read failure on a QEMU dump's stopped
				// CPU (bt_test.go's crashStackFailure)
				if strings.HasPrefix(cmd, "bt") {
					got = crashStackFailures(want, got)
				}
				// gdb's reason before crash's "gdb request failed"
				// (print_test.go).
				if g := strings.SplitN(got, "\n", 2); len(g) == 2 && g[1] == want && strings.Contains(want, ": gdb request failed: ") {
					got = want
				}
				// The OBJECT FILE column names where the .ko was found:
				// crash found it in its vmlinux's directory tree when
				// recording, gocrash in the test's directory.
				if cmd != "mod -S ." {
					got, want = objectFile.ReplaceAllString(got, "DIR/gocrash_oops.ko "), objectFile.ReplaceAllString(want, "DIR/gocrash_oops.ko ")
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

// unplacedRecording says why crash's recorded answers after mod -s
// cannot be compared when its mod -s placed none of the object's sections
// (crash's "p &gocrash_spins" an unrelocated address, not 0xffffffffc0...),
// else "". crash 8.0.6 did so at the end of a ~1,000-command session (the
// 18:00 regeneration's 6.1-oops answered 0x640, its 6.12-oops 0x0), and in a
// fresh session placed them: mkdump.sh records MODLOAD_CMDS in a session of
// their own since e0a4a35, and every committed dump's answers were recorded
// so (record.sh -f with MODLOAD_CMDS, 2026-12-01 20:27). Such a recording is
// a test-bed fault, not an answer to compare.
func unplacedRecording(d testbed.Dump) string {
	want, ok := d.Golden("p &gocrash_spins")
	if !ok {
		return ""
	}
	m := regexp.MustCompile(`\) 0x([0-9a-f]+)`).FindStringSubmatch(want)
	if m == nil {
		return ""
	}
	v, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil || v >= 0xffff000000000000 {
		return ""
	}
	return "crash's recorded mod -s placed no section of the object (p &gocrash_spins: " + strings.TrimSpace(want) +
		"): record mkdump.sh's MODLOAD_CMDS again in a crash session of their own (testdata/mkdump/record.sh -f FILE)"
}

// modLoadAloneDiffs are the commands after mod -s whose answer without
// the vmlinux is not crash's with it, and why: none. (bt -a -l is
// compared without the kernel's source lines, withoutKernelLines, and
// gocrash's notice that it has none, btNoLines: the
// kernel's frames take them from the vmlinux's DWARF, which a session
// without it does not have; the module's frames keep the .ko's.)
var modLoadAloneDiffs = map[string]bool{}

// withoutKernelLines is bt -l's answer without the source lines of the
// kernel's frames (a frame's line, or an exception frame's RIP, below
// 0xffffffffc0000000, MODULES_VADDR with KASLR's 1 GB kernel image), the
// module's kept, even where they are the kernel's headers inlined in the
// module (cpu_relax from asm/vdso/processor.h in gocrash_spin).
func withoutKernelLines(s string) string {
	var b strings.Builder
	var pc uint64
	for _, l := range strings.SplitAfter(s, "\n") {
		if m := btFramePC.FindStringSubmatch(l); m != nil {
			pc, _ = strconv.ParseUint(m[1], 16, 64)
		} else if m := btExceptionRIP.FindStringSubmatch(l); m != nil {
			pc, _ = strconv.ParseUint(m[1], 16, 64)
		} else if btSourceLine.MatchString(l) && pc < 0xffffffffc0000000 {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

var (
	btFramePC      = regexp.MustCompile(`^ *#\d+ \[[0-9a-f]+\] \S+ at ([0-9a-f]+)`)
	btExceptionRIP = regexp.MustCompile(`^    RIP: ([0-9a-f]{16}) `)
)

var objectFile = regexp.MustCompile(`\S*/gocrash_oops\.ko `)
