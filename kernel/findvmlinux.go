package kernel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gocrash/vmcore"
)

// Finding the vmlinux of a dump given alone (issue #17): the dump's
// VMCOREINFO names its kernel's BUILD-ID (the NT_GNU_BUILD_ID of the
// vmlinux, kernel/crash_core.c) and OSRELEASE; the distributions install
// the debug vmlinux where either finds it:
//
//	/usr/lib/debug/.build-id/93/9b8cdd....debug   (Debian, Fedora: the
//	                         first two hex digits name the directory)
//	/usr/lib/debug/boot/vmlinux-RELEASE             (Debian's -dbg package)
//	/usr/lib/debug/lib/modules/RELEASE/vmlinux      (Fedora, RHEL, SUSE)
//	/lib/modules/RELEASE/vmlinux                    (a kernel built here)

// SystemDebugRoot is where the distributions install debug files; a
// variable so that tests can point it at a directory of their own.
var SystemDebugRoot = "/usr/lib/debug"

// SystemModulesRoot holds lib/modules/RELEASE of the installed kernels.
var SystemModulesRoot = "/"

// Tried is a file FindVmlinux looked at and did not take, and why.
type Tried struct {
	Path string
	Why  string
}

// VmlinuxCandidates lists, in the order FindVmlinux tries them, the files
// that may be the vmlinux of the kernel info describes: in each of dirs
// (the --debuginfo-dir directories) the build-id and release layouts and
// a plain vmlinux, then the system's places. A missing BUILD-ID or
// OSRELEASE drops the layouts that need it.
func VmlinuxCandidates(info *vmcore.VMCoreInfo, dirs []string) []string {
	var id, rel string
	if info != nil {
		id, rel = strings.ToLower(info.BuildID), info.OSRelease
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if !safeRelease(rel) {
		rel = ""
	}
	debugLayouts := func(d string) {
		if len(id) > 2 && isHex(id) {
			add(filepath.Join(d, ".build-id", id[:2], id[2:]+".debug"))
			add(filepath.Join(d, ".build-id", id[:2], id[2:]))
		}
		if rel != "" {
			add(filepath.Join(d, "boot", "vmlinux-"+rel))
			add(filepath.Join(d, "lib", "modules", rel, "vmlinux"))
		}
	}
	for _, d := range dirs {
		debugLayouts(d)
		if rel != "" {
			add(filepath.Join(d, "vmlinux-"+rel))
		}
		add(filepath.Join(d, "vmlinux"))
	}
	debugLayouts(SystemDebugRoot)
	if rel != "" {
		add(filepath.Join(SystemModulesRoot, "lib", "modules", rel, "vmlinux"))
	}
	return out
}

// FindVmlinux returns the first of VmlinuxCandidates that exists and whose
// NT_GNU_BUILD_ID note is the dump's BUILD-ID; when the dump or the file
// has no build id, a file found under the dump's release is taken and
// Open's linux_banner check decides. tried lists the files that exist
// but were passed over, each with its reason. The error, one line, names
// where it looked.
func FindVmlinux(info *vmcore.VMCoreInfo, dirs []string) (path string, tried []Tried, err error) {
	if info == nil || (info.BuildID == "" && info.OSRelease == "") {
		return "", nil, fmt.Errorf("the dump has no VMCOREINFO BUILD-ID or OSRELEASE to find its vmlinux by; give the vmlinux as an argument")
	}
	want := strings.ToLower(info.BuildID)
	for _, c := range VmlinuxCandidates(info, dirs) {
		fi, serr := os.Stat(c)
		if serr != nil {
			if !os.IsNotExist(serr) {
				tried = append(tried, Tried{c, serr.Error()})
			}
			continue
		}
		if fi.IsDir() {
			continue
		}
		got, berr := fileBuildID(c)
		switch {
		case berr != nil:
			tried = append(tried, Tried{c, berr.Error()})
		case want != "" && got != "" && got != want:
			tried = append(tried, Tried{c, fmt.Sprintf("build id %s, the dump's is %s", got, want)})
		default:
			return c, tried, nil
		}
	}
	what := "build id " + info.BuildID
	if info.BuildID == "" {
		what = "release " + info.OSRelease
	} else if info.OSRelease != "" {
		what += " (" + info.OSRelease + ")"
	}
	return "", tried, fmt.Errorf("no vmlinux for %s in %s: a vmlinux with debug info is needed; give it as an argument or its directory with --debuginfo-dir", what, searchedText(info, dirs))
}

// searchedText names the places searched, shortly: the directories, with
// the layouts inside them written once.
func searchedText(info *vmcore.VMCoreInfo, dirs []string) string {
	parts := append([]string(nil), dirs...)
	if info.BuildID != "" {
		parts = append(parts, filepath.Join(SystemDebugRoot, ".build-id"))
	}
	if rel := info.OSRelease; safeRelease(rel) {
		parts = append(parts, filepath.Join(SystemDebugRoot, "boot", "vmlinux-"+rel),
			filepath.Join(SystemDebugRoot, "lib", "modules", rel, "vmlinux"),
			filepath.Join(SystemModulesRoot, "lib", "modules", rel, "vmlinux"))
	}
	return strings.Join(parts, ", ")
}

// ntGNUBuildID is NT_GNU_BUILD_ID (elf.h).
const ntGNUBuildID = 3

// noteMax bounds one note section read: a vmlinux's .notes is a few
// hundred bytes.
const noteMax = 1 << 20

// fileBuildID reads the NT_GNU_BUILD_ID note of an ELF file from its note
// sections or segments, without reading the rest; "" when it has none.
// A file that is not ELF is an error (it cannot be a vmlinux).
func fileBuildID(path string) (id string, err error) {
	defer func() {
		// debug/elf over hostile headers: one line, not a panic.
		if r := recover(); r != nil {
			id, err = "", fmt.Errorf("unreadable ELF headers")
		}
	}()
	if magic, err := readMagic(path); err != nil {
		return "", err
	} else if magic != elf.ELFMAG {
		return "", fmt.Errorf("not an ELF file, so not a vmlinux")
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("not a vmlinux: %v", strings.TrimPrefix(err.Error(), "elf: "))
	}
	defer f.Close()
	var readers []io.ReaderAt
	var sizes []uint64
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOTE {
			readers, sizes = append(readers, s), append(sizes, s.Size)
		}
	}
	if len(readers) == 0 {
		for _, p := range f.Progs {
			if p.Type == elf.PT_NOTE {
				readers, sizes = append(readers, p), append(sizes, p.Filesz)
			}
		}
	}
	for i, r := range readers {
		n := sizes[i]
		if n > noteMax {
			n = noteMax
		}
		buf := make([]byte, n)
		if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
			continue
		}
		if id := gnuBuildID(buf, f.ByteOrder); id != "" {
			return id, nil
		}
	}
	return "", nil
}

// readMagic is the first four bytes of a file, "" when it is shorter.
func readMagic(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b [4]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return "", nil
	}
	return string(b[:]), nil
}

// gnuBuildID finds the GNU build-id note in ELF note records (namesz,
// descsz, type, name padded to 4, desc padded to 4; elf(5)).
func gnuBuildID(b []byte, bo binary.ByteOrder) string {
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		b = b[12:]
		nameEnd := (namesz + 3) &^ 3
		descEnd := nameEnd + (descsz+3)&^3
		if descEnd > uint64(len(b)) || nameEnd < namesz {
			return ""
		}
		name := bytes.TrimRight(b[:namesz], "\x00")
		if typ == ntGNUBuildID && string(name) == "GNU" && descsz > 0 {
			return hex.EncodeToString(b[nameEnd : nameEnd+descsz])
		}
		b = b[descEnd:]
	}
	return ""
}

// safeRelease: a release read from the dump is used in a path only when
// it is one plain name (hostile memory could say "../..").
func safeRelease(rel string) bool {
	return rel != "" && rel != "." && rel != ".." && !strings.ContainsAny(rel, "/\x00")
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
