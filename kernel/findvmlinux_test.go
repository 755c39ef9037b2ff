package kernel

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/vmcore"
)

// systemRoots points FindVmlinux's system places at empty directories of
// the test, so that what the machine has installed does not count.
func systemRoots(t *testing.T) {
	t.Helper()
	oldDebug, oldMods := SystemDebugRoot, SystemModulesRoot
	SystemDebugRoot, SystemModulesRoot = t.TempDir(), t.TempDir()
	t.Cleanup(func() { SystemDebugRoot, SystemModulesRoot = oldDebug, oldMods })
}

func dumpInfo(t *testing.T, d testbed.Dump) *vmcore.VMCoreInfo {
	t.Helper()
	dump, err := vmcore.Open(d.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	return dump.Info()
}

func link(t *testing.T, target, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVmlinuxBuildIDIsTheDumps: the committed vmlinux's NT_GNU_BUILD_ID
// note is the BUILD-ID its kernel wrote into VMCOREINFO, on every dump
// that has one.
func TestVmlinuxBuildIDIsTheDumps(t *testing.T) {
	for _, d := range testbed.All(t) {
		info := dumpInfo(t, d)
		if info == nil || info.BuildID == "" {
			continue // QEMU dumps without VMCOREINFO
		}
		got, err := fileBuildID(d.Vmlinux)
		if err != nil || got != info.BuildID {
			t.Errorf("%s/%s: vmlinux build id %q (%v), VMCOREINFO BUILD-ID %q", d.Name, d.Format, got, err, info.BuildID)
		}
	}
}

// TestFindVmlinuxBuildIDLayout: the vmlinux linked where Debian's
// debug packages put it (.build-id/xx/rest.debug) is found, in a
// --debuginfo-dir and under the system root.
func TestFindVmlinuxBuildIDLayout(t *testing.T) {
	systemRoots(t)
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	info := dumpInfo(t, d)
	if len(info.BuildID) != 40 || strings.Trim(info.BuildID, "0123456789abcdef") != "" {
		t.Fatalf("BUILD-ID %q: 40 hex digits (a SHA-1 build id) expected", info.BuildID)
	}
	dir := t.TempDir()
	want := link(t, d.Vmlinux, filepath.Join(dir, ".build-id", info.BuildID[:2], info.BuildID[2:]+".debug"))
	got, tried, err := FindVmlinux(info, []string{dir})
	if err != nil || got != want || len(tried) != 0 {
		t.Fatalf("FindVmlinux = %q, %v, %v; want %q", got, tried, err, want)
	}
	// The same layout under /usr/lib/debug, no directory given.
	want = link(t, d.Vmlinux, filepath.Join(SystemDebugRoot, ".build-id", info.BuildID[:2], info.BuildID[2:]+".debug"))
	if got, _, err := FindVmlinux(info, nil); err != nil || got != want {
		t.Fatalf("FindVmlinux under the system root = %q, %v; want %q", got, err, want)
	}
	// And the file it finds opens as the dump's kernel.
	k, err := Open(got, d.Vmcore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
}

// TestFindVmlinuxReleaseLayouts: without the build-id tree, the release
// layouts, in the order the help text gives.
func TestFindVmlinuxReleaseLayouts(t *testing.T) {
	systemRoots(t)
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	info := dumpInfo(t, d)
	mods := link(t, d.Vmlinux, filepath.Join(SystemModulesRoot, "lib", "modules", info.OSRelease, "vmlinux"))
	if got, _, err := FindVmlinux(info, nil); err != nil || got != mods {
		t.Fatalf("FindVmlinux = %q, %v; want %q", got, err, mods)
	}
	boot := link(t, d.Vmlinux, filepath.Join(SystemDebugRoot, "boot", "vmlinux-"+info.OSRelease))
	if got, _, err := FindVmlinux(info, nil); err != nil || got != boot {
		t.Fatalf("FindVmlinux = %q, %v; want %q (before /lib/modules)", got, err, boot)
	}
	dir := t.TempDir()
	plain := link(t, d.Vmlinux, filepath.Join(dir, "vmlinux"))
	if got, _, err := FindVmlinux(info, []string{dir}); err != nil || got != plain {
		t.Fatalf("FindVmlinux = %q, %v; want %q (--debuginfo-dir first)", got, err, plain)
	}
}

// TestFindVmlinuxSkipsOtherBuilds: a file of another build where the
// dump's should be is passed over with its reason, and the search goes on.
func TestFindVmlinuxSkipsOtherBuilds(t *testing.T) {
	systemRoots(t)
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	info := dumpInfo(t, d)
	var other testbed.Dump
	for _, e := range mustList(t) {
		if strings.HasPrefix(e.Name, "6.12-") {
			other = testbed.Open(t, e.Name, e.Format)
			break
		}
	}
	if other.Vmlinux == "" {
		t.Fatal("test bed: no 6.12 dump")
	}
	otherID, err := fileBuildID(other.Vmlinux)
	if err != nil || otherID == "" || otherID == info.BuildID {
		t.Fatalf("6.12 vmlinux build id %q, %v", otherID, err)
	}
	first, second := t.TempDir(), t.TempDir()
	wrong := link(t, other.Vmlinux, filepath.Join(first, ".build-id", info.BuildID[:2], info.BuildID[2:]+".debug"))
	text := filepath.Join(first, "vmlinux")
	if err := os.WriteFile(text, []byte("not a kernel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := link(t, d.Vmlinux, filepath.Join(second, "boot", "vmlinux-"+info.OSRelease))
	got, tried, err := FindVmlinux(info, []string{first, second})
	if err != nil || got != want {
		t.Fatalf("FindVmlinux = %q, %v; want %q", got, err, want)
	}
	wantTried := []Tried{
		{wrong, "build id " + otherID + ", the dump's is " + info.BuildID},
		{text, "not an ELF file, so not a vmlinux"},
	}
	if len(tried) != len(wantTried) || tried[0] != wantTried[0] || tried[1] != wantTried[1] {
		t.Errorf("tried %q\nwant  %q", tried, wantTried)
	}
}

// TestFindVmlinuxNone: nothing found is one line naming where it looked
// and what to do.
func TestFindVmlinuxNone(t *testing.T) {
	systemRoots(t)
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	info := dumpInfo(t, d)
	dir := t.TempDir()
	_, tried, err := FindVmlinux(info, []string{dir})
	if err == nil || len(tried) != 0 {
		t.Fatalf("FindVmlinux in empty directories: %v, %v", tried, err)
	}
	want := "no vmlinux for build id " + info.BuildID + " (" + info.OSRelease + ") in " + dir + ", " +
		filepath.Join(SystemDebugRoot, ".build-id") + ", " +
		filepath.Join(SystemDebugRoot, "boot", "vmlinux-"+info.OSRelease) + ", " +
		filepath.Join(SystemDebugRoot, "lib", "modules", info.OSRelease, "vmlinux") + ", " +
		filepath.Join(SystemModulesRoot, "lib", "modules", info.OSRelease, "vmlinux") +
		": a vmlinux with debug info is needed; give it as an argument or its directory with --debuginfo-dir"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if _, _, err := FindVmlinux(nil, nil); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("no VMCOREINFO: %v", err)
	}
	// A hostile release names no path outside the directories.
	for _, c := range VmlinuxCandidates(vmcore.ParseVMCoreInfo("OSRELEASE=..\nBUILD-ID=zz/../..\n"), []string{dir}) {
		if c != filepath.Join(dir, "vmlinux") {
			t.Errorf("candidate %q from a hostile VMCOREINFO", c)
		}
	}
}

func mustList(t *testing.T) []testbed.Entry {
	t.Helper()
	es, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// FuzzGNUBuildID: the note parser over hostile bytes, seeded with the
// committed vmlinux's .notes section.
func FuzzGNUBuildID(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	ef, err := elf.Open(d.Vmlinux)
	if err != nil {
		f.Fatal(err)
	}
	if s := ef.Section(".notes"); s != nil {
		if b, err := s.Data(); err == nil {
			f.Add(b)
		}
	}
	ef.Close()
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if id := gnuBuildID(b, binary.LittleEndian); len(id)%2 != 0 || len(id) > 2*len(b) {
			t.Errorf("build id %q from %d bytes", id, len(b))
		}
	})
}
