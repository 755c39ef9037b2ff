package main

// The damage matrix: the real test-bed dumps, cut short, zeroed, bit-flipped
// and mislabelled (built into t.TempDir() at test time; the fixtures are
// never touched), each run through the gocrash binary with a batch of a
// failing command followed by commands that must still answer. What gocrash
// says, on which stream, and its exit status are kept per case under
// testdata/damage/CASE.txt; `go test -run TestDamage -update` rewrites them
// (review the diff: every message there is one a user will read).
//
// Each case also checks the general rules: no panic ("internal error",
// "goroutine "), no hang (a time limit per run), and every error line
// one line naming what and where.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gocrash/commands"
	"gocrash/internal/testbed"
)

var cachePath = regexp.MustCompile(`\$CACHE/[0-9a-f]{16}/`)

var update = flag.Bool("update", false, "rewrite testdata/damage/*.txt from gocrash's output")

// runLimit bounds one gocrash run: a hang is a failure, not a stuck test.
const runLimit = 2 * time.Minute

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary gocrashBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// gocrashBinary builds the command once per test binary, into a directory
// anyone may read (the unreadable-file case runs it as another user).
func gocrashBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gocrash-damage-bin-")
		if err != nil {
			binErr = err
			return
		}
		os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "gocrash")
		// -buildvcs=false: the binary's index caches are then this test
		// binary's too (symbols/cache.go keys them by the VCS revision,
		// which go test does not stamp).
		out, err := exec.Command("go", "build", "-buildvcs=false", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type runResult struct {
	stdout, stderr string
	status         int
}

type runOpts struct {
	asNobody bool // run as uid/gid 65534 (a permission check that works for root too)
	// cacheDir is the index cache directory (GOCRASH_CACHE); "" turns
	// the cache off, so that damaged files leave no cache behind.
	cacheDir string
}

func runGocrash(t *testing.T, stdin string, o runOpts, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, gocrashBinary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	// HOME names no directory: no start-up file of the developer's runs.
	cmd.Env = append(os.Environ(), "TZ=UTC", "HOME=/nonexistent-gocrash-home", "GOCRASH_CACHE=off")
	if o.cacheDir != "" {
		cmd.Env = append(cmd.Env, "GOCRASH_CACHE="+o.cacheDir)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if o.asNobody {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("gocrash %q did not finish within %v (hang)\nstdout so far:\n%s", args, runLimit, out.String())
	}
	status := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		status = ee.ExitCode()
	case err != nil:
		t.Fatalf("running gocrash: %v", err)
	}
	return runResult{stdout: out.String(), stderr: errb.String(), status: status}
}

// ---- building damaged files ----

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTemp(t *testing.T, dir, name string, b []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// kdumpLayout is where the parts of a kdump-compressed file are, read the
// way makedumpfile's diskdump_mod.h lays them out (independently of the
// vmcore package, so a bug there cannot hide here).
type kdumpLayout struct {
	blockSize             int64
	status                int64 // file offset of disk_dump_header.status
	bitmapOff, bitmapLen  int64
	descOff               int64
	maxMapnr              uint64
	noteOff, noteSize     int64
	vmciOff, vmciSize     int64
	subVmciOff, subNoteSz int64 // file offsets of the sub-header fields
}

func parseKdump(t *testing.T, b []byte) kdumpLayout {
	t.Helper()
	le := binary.LittleEndian
	if string(b[:8]) != "KDUMP   " || le.Uint32(b[8:]) < 6 {
		t.Fatalf("not a kdump-compressed file of header version >= 6")
	}
	var k kdumpLayout
	k.blockSize = int64(le.Uint32(b[428:]))
	sub := int64(le.Uint32(b[432:]))
	k.status = 424
	k.bitmapOff = k.blockSize * (1 + sub)
	k.bitmapLen = k.blockSize * int64(le.Uint32(b[436:]))
	k.descOff = k.bitmapOff + k.bitmapLen
	sh := b[k.blockSize:]
	k.vmciOff, k.vmciSize = int64(le.Uint64(sh[32:])), int64(le.Uint64(sh[40:]))
	k.noteOff, k.noteSize = int64(le.Uint64(sh[48:])), int64(le.Uint64(sh[56:]))
	k.maxMapnr = le.Uint64(sh[96:])
	k.subVmciOff = k.blockSize + 32
	k.subNoteSz = k.blockSize + 56
	return k
}

func (k kdumpLayout) dumpable(b []byte) []byte {
	return b[k.bitmapOff+k.bitmapLen/2 : k.bitmapOff+k.bitmapLen]
}

func (k kdumpLayout) ram(b []byte) []byte { return b[k.bitmapOff : k.bitmapOff+k.bitmapLen/2] }

func bitSet(m []byte, pfn uint64) bool { return m[pfn/8]&(1<<(pfn%8)) != 0 }

// descIndex is the index of pfn's page descriptor: the dumpable pages below it.
func (k kdumpLayout) descIndex(b []byte, pfn uint64) int64 {
	m := k.dumpable(b)
	n := 0
	for i := uint64(0); i < pfn/8; i++ {
		n += bits.OnesCount8(m[i])
	}
	n += bits.OnesCount8(m[pfn/8] & (1<<(pfn%8) - 1))
	return int64(n)
}

func (k kdumpLayout) countDumpable(b []byte) int64 { return k.descIndex(b, k.maxMapnr) }

// firstPFN returns the first pfn >= from for which want(ram, dumpable) holds.
func (k kdumpLayout) firstPFN(t *testing.T, b []byte, from uint64, want func(ram, dump bool) bool) uint64 {
	t.Helper()
	ram, dmp := k.ram(b), k.dumpable(b)
	for p := from; p < k.maxMapnr; p++ {
		if want(bitSet(ram, p), bitSet(dmp, p)) {
			return p
		}
	}
	t.Fatalf("no such pfn above %#x", from)
	return 0
}

// notesEnd is the end of the note before the one named name, inside the
// notes area buf (4-byte aligned ELF notes); -1 if name is not there.
func noteStart(buf []byte, name string) int64 {
	le := binary.LittleEndian
	for pos := 0; pos+12 <= len(buf); {
		namesz, descsz := int(le.Uint32(buf[pos:])), int(le.Uint32(buf[pos+4:]))
		if namesz == 0 && descsz == 0 {
			break
		}
		n := string(bytes.TrimRight(buf[pos+12:pos+12+namesz], "\x00"))
		if n == name {
			return int64(pos)
		}
		pos += 12 + (namesz+3)&^3 + (descsz+3)&^3
	}
	return -1
}

func elfProgs(t *testing.T, b []byte) []*elf.Prog {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f.Progs
}

// elfPhdrOff is the file offset of program header i.
func elfPhdrOff(b []byte, i int) int64 {
	return int64(binary.LittleEndian.Uint64(b[32:])) + int64(i)*int64(binary.LittleEndian.Uint16(b[54:]))
}

// symbolFileOffset is where the bytes of a vmlinux symbol are in the file.
func symbolFileOffset(t *testing.T, path, name string) (off int64, size uint64) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		sec := f.Sections[s.Section]
		return int64(sec.Offset + s.Value - sec.Addr), s.Size
	}
	t.Fatalf("%s: no symbol %s", path, name)
	return 0, 0
}

// openDir lets anyone reach files in a t.TempDir() (testing makes it and
// its parent 0700), so that only the file's own mode can refuse a read.
func openDir(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// ---- the matrix ----

type damageCase struct {
	name  string
	stdin string
	opts  runOpts
	// files builds the damaged inputs in dir and returns gocrash's
	// arguments.
	files func(t *testing.T, dir string) []string
	skip  func() string // a reason to skip, or ""
}

// probe is what every session that opens must still answer after the
// failing command; evalProbe needs no memory, for dumps that lost
// linux_banner's page too.
const (
	probe     = "rd linux_banner 8\n"
	evalProbe = "eval linux_banner\n"
)

func damageCases(t *testing.T) []damageCase {
	elfDump := testbed.Open(t, "6.1-sysrq", "elf")
	// The kdump-compressed cases damage 6.1-oops (zlib), a dump of the same
	// kernel: 6.1-sysrq is committed as ELF only. The flattened format is
	// committed for 6.12-hung alone (testdata/mkdump/committed.txt).
	kd := testbed.Open(t, "6.1-oops", "zlib")
	flat := testbed.Open(t, "6.12-hung", "flat")
	vmlinux := elfDump.Vmlinux

	var elfOnce, kdOnce sync.Once
	var elfBytes, kdBytes []byte
	elfRaw := func(t *testing.T) []byte {
		elfOnce.Do(func() { elfBytes = readAll(t, elfDump.Vmcore) })
		return bytes.Clone(elfBytes)
	}
	kdRaw := func(t *testing.T) []byte {
		kdOnce.Do(func() { kdBytes = readAll(t, kd.Vmcore) })
		return bytes.Clone(kdBytes)
	}
	elfNote := func(t *testing.T, b []byte) *elf.Prog {
		for _, p := range elfProgs(t, b) {
			if p.Type == elf.PT_NOTE {
				return p
			}
		}
		t.Fatal("no PT_NOTE")
		return nil
	}
	// elfWith writes a modified copy of the ELF dump.
	elfWith := func(mod func(t *testing.T, b []byte) []byte) func(t *testing.T, dir string) []string {
		return func(t *testing.T, dir string) []string {
			return []string{"-s", vmlinux, writeTemp(t, dir, "vmcore", mod(t, elfRaw(t)), 0o444)}
		}
	}
	kdWith := func(mod func(t *testing.T, b []byte, k kdumpLayout) []byte) func(t *testing.T, dir string) []string {
		return func(t *testing.T, dir string) []string {
			b := kdRaw(t)
			return []string{"-s", vmlinux, writeTemp(t, dir, "vmcore", mod(t, b, parseKdump(t, b)), 0o444)}
		}
	}
	// The pages used below: one makedumpfile -d 31 filtered out, and the
	// last one it kept.
	excludedPFN := func(t *testing.T, b []byte, k kdumpLayout) uint64 {
		return k.firstPFN(t, b, 0x8336, func(ram, dump bool) bool { return ram && !dump })
	}
	lastDumpable := func(t *testing.T, b []byte, k kdumpLayout) uint64 {
		m := k.dumpable(b)
		for p := k.maxMapnr - 1; ; p-- {
			if bitSet(m, p) {
				return p
			}
		}
	}

	var cases []damageCase
	add := func(c damageCase) { cases = append(cases, c) }

	// -- ELF (makedumpfile -E -d 31) --
	add(damageCase{name: "elf-cut-in-elf-header", stdin: probe,
		files: elfWith(func(t *testing.T, b []byte) []byte { return b[:40] })})
	add(damageCase{name: "elf-cut-in-program-headers", stdin: probe,
		files: elfWith(func(t *testing.T, b []byte) []byte { return b[:elfPhdrOff(b, 2)+10] })})
	add(damageCase{name: "elf-cut-in-notes", stdin: probe,
		files: elfWith(func(t *testing.T, b []byte) []byte {
			n := elfNote(t, b)
			return b[:n.Off+n.Filesz/2]
		})})
	add(damageCase{name: "elf-cut-in-page-data", stdin: "sys\nps\n" + probe + evalProbe,
		files: elfWith(func(t *testing.T, b []byte) []byte { return b[:len(b)/2] })})
	add(damageCase{name: "elf-notes-zeroed", stdin: probe,
		files: elfWith(func(t *testing.T, b []byte) []byte {
			n := elfNote(t, b)
			clear(b[n.Off : n.Off+n.Filesz])
			return b
		})})
	add(damageCase{name: "elf-vmcoreinfo-removed", stdin: probe,
		// PT_NOTE's p_filesz ends before the VMCOREINFO note.
		files: elfWith(func(t *testing.T, b []byte) []byte {
			n := elfNote(t, b)
			at := noteStart(b[n.Off:n.Off+n.Filesz], "VMCOREINFO")
			if at < 0 {
				t.Fatal("no VMCOREINFO note")
			}
			for i, p := range elfProgs(t, b) {
				if p.Type == elf.PT_NOTE {
					binary.LittleEndian.PutUint64(b[elfPhdrOff(b, i)+32:], uint64(at))
				}
			}
			return b
		})})
	add(damageCase{name: "elf-load-past-end", stdin: "rd -p 0x17000000 4\n" + probe,
		// The PT_LOAD of physical 0x17000000 says its data is beyond the file.
		files: elfWith(func(t *testing.T, b []byte) []byte {
			for i, p := range elfProgs(t, b) {
				if p.Type == elf.PT_LOAD && p.Paddr == 0x17000000 {
					binary.LittleEndian.PutUint64(b[elfPhdrOff(b, i)+8:], uint64(len(b))+0x100000)
					return b
				}
			}
			t.Fatal("no PT_LOAD at 0x17000000")
			return nil
		})})
	// An ELF dump's excluded page (beyond its PT_LOAD's p_filesz) reads as
	// zeroes, as crash reads it (netdump.c's zero_fill), with or without
	// zero_excluded.
	add(damageCase{name: "elf-excluded-page", stdin: "rd -p 0x8336000 4\nset zero_excluded on\nrd -p 0x8336000 4\n" + probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", vmlinux, elfDump.Vmcore} }})

	// -- kdump-compressed (makedumpfile -c -d 31) --
	add(damageCase{name: "kdump-cut-in-kdump-header", stdin: probe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte { return b[:200] })})
	add(damageCase{name: "kdump-cut-in-sub-header", stdin: probe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte { return b[:k.blockSize+50] })})
	add(damageCase{name: "kdump-cut-in-notes", stdin: probe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte { return b[:k.noteOff+k.noteSize/2] })})
	add(damageCase{name: "kdump-cut-in-bitmaps", stdin: probe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte { return b[:k.bitmapOff+k.bitmapLen*3/4] })})
	add(damageCase{name: "kdump-cut-in-page-descriptors", stdin: probe + evalProbe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte { return b[:k.descOff+24*100+7] })})
	add(damageCase{name: "kdump-cut-in-page-data", stdin: "sys\nps\n" + probe + evalProbe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte { return b[:len(b)/2] })})
	add(damageCase{name: "kdump-notes-zeroed", stdin: probe,
		// The notes area holds the VMCOREINFO that offset_vmcoreinfo
		// points at: both are gone.
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			clear(b[k.noteOff : k.noteOff+k.noteSize])
			return b
		})})
	add(damageCase{name: "kdump-prstatus-zeroed", stdin: "bt -a\nsys\n" + probe,
		// The CPU register notes before VMCOREINFO are zeroed.
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			at := noteStart(b[k.noteOff:k.noteOff+k.noteSize], "VMCOREINFO")
			if at <= 0 {
				t.Fatal("no CPU notes before VMCOREINFO")
			}
			clear(b[k.noteOff : k.noteOff+at])
			return b
		})})
	add(damageCase{name: "kdump-vmcoreinfo-removed", stdin: probe,
		// No offset_vmcoreinfo, and the notes area ends before the
		// VMCOREINFO note.
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			at := noteStart(b[k.noteOff:k.noteOff+k.noteSize], "VMCOREINFO")
			if at < 0 {
				t.Fatal("no VMCOREINFO note")
			}
			clear(b[k.subVmciOff : k.subVmciOff+16])
			binary.LittleEndian.PutUint64(b[k.subNoteSz:], uint64(at))
			return b
		})})
	add(damageCase{name: "kdump-bitmap-bit-cleared", stdin: "rd -p 0x17fd9000 4\n" + probe,
		// The last page makedumpfile kept now reads as filtered out.
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			p := lastDumpable(t, b, k)
			k.dumpable(b)[p/8] &^= 1 << (p % 8)
			return b
		})})
	add(damageCase{name: "kdump-bitmap-bit-set", stdin: probe,
		// An excluded page low in memory claims a descriptor: every
		// descriptor index above it is off by one.
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			p := k.firstPFN(t, b, 0, func(ram, dump bool) bool { return ram && !dump })
			k.dumpable(b)[p/8] |= 1 << (p % 8)
			return b
		})})
	add(damageCase{name: "kdump-descriptor-past-end", stdin: "rd -p 0x17fd9000 4\n" + probe,
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			p := lastDumpable(t, b, k)
			at := k.descOff + 24*k.descIndex(b, p)
			binary.LittleEndian.PutUint64(b[at:], uint64(len(b))+0x1000)
			return b
		})})
	add(damageCase{name: "kdump-incomplete", stdin: "sys\nrd -p 0x17fd9000 4\nset zero_excluded on\nrd -p 0x17fd9000 4\n" + probe,
		// What makedumpfile leaves when the disk fills up: the header
		// status says DUMP_DH_COMPRESSED_INCOMPLETE, the descriptors it
		// never wrote are zero and the page data stops where writing did.
		files: kdWith(func(t *testing.T, b []byte, k kdumpLayout) []byte {
			le := binary.LittleEndian
			le.PutUint32(b[k.status:], le.Uint32(b[k.status:])|0x8)
			n := k.countDumpable(b)
			from := n * 9 / 10
			// The data of the pages written (the shared zero page among
			// them) ends where the file does.
			var end int64
			for i := int64(0); i < from; i++ {
				d := b[k.descOff+24*i:]
				end = max(end, int64(le.Uint64(d))+int64(le.Uint32(d[8:])))
			}
			clear(b[k.descOff+24*from : k.descOff+24*n])
			return b[:end]
		})})
	add(damageCase{name: "kdump-excluded-page", stdin: "rd -p 0x8336000 4\nset zero_excluded\nset zero_excluded on\nrd -p 0x8336000 4\nset zero_excluded off\nrd -p 0x8336000 4\n" + probe,
		files: func(t *testing.T, dir string) []string {
			b := kdRaw(t)
			if p := excludedPFN(t, b, parseKdump(t, b)); p != 0x8336 {
				t.Fatalf("first excluded page from 0x8336 is %#x, the batch expects 0x8336 itself", p)
			}
			return []string{"-s", vmlinux, kd.Vmcore}
		}})
	add(damageCase{name: "kdump-excluded-user-pages", stdin: "ps -a 1\nset zero_excluded on\nps -a 1\n" + probe,
		// -d 31 drops user pages: ps -a cannot read init's arguments
		// (crash's own words, as its golden has them) until excluded
		// pages read as zeroes, which is what crash does for ELF dumps.
		files: func(t *testing.T, dir string) []string { return []string{"-s", vmlinux, kd.Vmcore} }})
	add(damageCase{name: "kdump-zero-excluded-flag", stdin: "rd -p 0x8336000 4\nset zero_excluded\n",
		files: func(t *testing.T, dir string) []string { return []string{"-s", "--zero-excluded", vmlinux, kd.Vmcore} }})
	add(damageCase{name: "flat-cut-in-records", stdin: "sys\n" + probe,
		files: func(t *testing.T, dir string) []string {
			b := readAll(t, flat.Vmcore)
			return []string{"-s", flat.Vmlinux, writeTemp(t, dir, "vmcore", b[:len(b)*2/3], 0o444)}
		}})

	// -- the wrong files --
	otherBuild := func(t *testing.T, dir string) string {
		b := readAll(t, vmlinux)
		off, _ := symbolFileOffset(t, vmlinux, "linux_banner")
		// "Linux version 6.1.176 (root@vm) ..." -> "... (root@vx) ...":
		// the same release, another build.
		i := bytes.Index(b[off:off+256], []byte("@vm)"))
		if i < 0 {
			t.Fatalf("linux_banner %q has no @vm)", b[off:off+64])
		}
		b[off+int64(i)+2] = 'x'
		return writeTemp(t, dir, "vmlinux-other", b, 0o444)
	}
	add(damageCase{name: "vmlinux-other-build", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", otherBuild(t, dir), elfDump.Vmcore} }})
	add(damageCase{name: "vmlinux-other-build-forced", stdin: "sys\n" + probe,
		files: func(t *testing.T, dir string) []string {
			return []string{"-s", "-f", otherBuild(t, dir), elfDump.Vmcore}
		}})
	// Another kernel's vmlinux: 6.12's once the test bed has it.
	if entries, err := testbed.List(); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name, "6.12-") {
				other := testbed.Open(t, e.Name, e.Format).Vmlinux
				add(damageCase{name: "vmlinux-6.12", stdin: probe,
					files: func(t *testing.T, dir string) []string { return []string{"-s", other, elfDump.Vmcore} }})
				break
			}
		}
	}
	add(damageCase{name: "vmlinux-stripped", stdin: "sys\nps\nbt\n" + probe,
		files: func(t *testing.T, dir string) []string {
			out := filepath.Join(dir, "vmlinux-stripped")
			if b, err := exec.Command("objcopy", "--strip-debug", vmlinux, out).CombinedOutput(); err != nil {
				t.Fatalf("objcopy --strip-debug: %v\n%s", err, b)
			}
			return []string{"-s", out, elfDump.Vmcore}
		},
		skip: func() string {
			if _, err := exec.LookPath("objcopy"); err != nil {
				return "objcopy (binutils) is not installed"
			}
			return ""
		}})
	empty := func(t *testing.T, dir string) string { return writeTemp(t, dir, "empty", nil, 0o444) }
	add(damageCase{name: "empty-vmcore", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", vmlinux, empty(t, dir)} }})
	add(damageCase{name: "empty-vmlinux", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", empty(t, dir), elfDump.Vmcore} }})
	add(damageCase{name: "directory-vmcore", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", vmlinux, dir} }})
	add(damageCase{name: "directory-vmlinux", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", dir, elfDump.Vmcore} }})
	// Root reads any file whatever its mode: the unreadable cases run the
	// binary as nobody, who may read neither file then.
	add(damageCase{name: "unreadable-vmcore", stdin: probe, opts: runOpts{asNobody: os.Geteuid() == 0},
		files: func(t *testing.T, dir string) []string {
			openDir(t, dir)
			return []string{"-s", vmlinux, writeTemp(t, dir, "vmcore", []byte("KDUMP   "), 0o000)}
		}})
	add(damageCase{name: "unreadable-vmlinux", stdin: probe, opts: runOpts{asNobody: os.Geteuid() == 0},
		files: func(t *testing.T, dir string) []string {
			// nobody must read the dump: a world-readable copy.
			openDir(t, dir)
			core := writeTemp(t, dir, "vmcore", kdRaw(t), 0o444)
			return []string{"-s", writeTemp(t, dir, "vmlinux", []byte("\x7fELF"), 0o000), core}
		}})
	text := func(t *testing.T, dir string) string {
		return writeTemp(t, dir, "notes.txt", []byte("this is not a kernel or a dump\n"), 0o444)
	}
	add(damageCase{name: "non-elf-vmcore", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", vmlinux, text(t, dir)} }})
	add(damageCase{name: "non-elf-vmlinux", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", text(t, dir), elfDump.Vmcore} }})
	add(damageCase{name: "missing-vmcore", stdin: probe,
		files: func(t *testing.T, dir string) []string {
			return []string{"-s", vmlinux, filepath.Join(dir, "no-such-vmcore")}
		}})
	add(damageCase{name: "missing-vmlinux", stdin: probe,
		files: func(t *testing.T, dir string) []string {
			return []string{"-s", filepath.Join(dir, "no-such-vmlinux"), elfDump.Vmcore}
		}})
	add(damageCase{name: "two-vmlinux", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", vmlinux, vmlinux} }})
	add(damageCase{name: "two-vmcores", stdin: probe,
		files: func(t *testing.T, dir string) []string { return []string{"-s", kd.Vmcore, elfDump.Vmcore} }})
	return cases
}

// TestDamage runs the matrix. It takes a minute or two (a gocrash session
// per case over real dumps); -short skips it.
func TestDamage(t *testing.T) {
	if testing.Short() {
		t.Skip("the damage matrix runs gocrash over real dumps (about a minute); not with -short")
	}
	cases := damageCases(t)
	vmlinux := testbed.Open(t, "6.1-sysrq", "elf").Vmlinux
	cache, _ := testbed.CacheDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != nil {
				if why := c.skip(); why != "" {
					t.Skip(why)
				}
			}
			dir := t.TempDir()
			args := c.files(t, dir)
			r := runGocrash(t, c.stdin, c.opts, args...)
			// Paths vary between machines; the messages must not.
			norm := func(s string) string {
				s = strings.ReplaceAll(s, dir, "$TMP")
				s = strings.ReplaceAll(s, vmlinux, "$VMLINUX")
				if cache != "" {
					// $CACHE/HASH/vmcore.elf: the hash follows the fixture.
					s = cachePath.ReplaceAllString(strings.ReplaceAll(s, cache, "$CACHE"), "$$CACHE/")
				}
				return s
			}
			var got strings.Builder
			fmt.Fprintf(&got, "$ gocrash %s\n", norm(strings.Join(args, " ")))
			if c.opts.asNobody {
				got.WriteString("(run as uid 65534)\n")
			}
			fmt.Fprintf(&got, "--- stdin\n%s--- exit status %d\n--- stderr\n%s--- stdout\n%s", c.stdin, r.status, norm(r.stderr), norm(r.stdout))
			checkDamageRules(t, c, r)
			golden := filepath.Join("testdata", "damage", c.name+".txt")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to record)", err)
			}
			if got.String() != string(want) {
				t.Errorf("%s differs (rerun with -update and review the diff):\n--- got\n%s--- want\n%s", golden, got.String(), want)
			}
		})
	}
}

// checkDamageRules are what every case must show whatever its message.
func checkDamageRules(t *testing.T, c damageCase, r runResult) {
	t.Helper()
	all := r.stdout + r.stderr
	for _, bad := range []string{"internal error", "goroutine ", "panic:", "runtime error"} {
		if strings.Contains(all, bad) {
			t.Errorf("%q in the output:\n%s", bad, all)
		}
	}
	if r.stdout != "" && r.stderr != "" && !onlyWarnings(r.stderr) {
		// A session that opened says only warnings on stderr, and the
		// "  (why)" line gocrash adds after a memory error (kept off the
		// output, which has crash's one line).
		t.Errorf("stderr of a session that opened is not a WARNING: %q", r.stderr)
	}
	switch r.status {
	case 0:
	case 1:
		// Either the session did not open (one line on stderr, nothing
		// on stdout) or a command failed and the batch went on to the
		// probe, whose answer ends the output.
		if r.stdout == "" {
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) == 0 || !strings.HasPrefix(lines[0], "gocrash: ") {
				t.Errorf("open failure without a gocrash: line on stderr: %q", r.stderr)
			}
			return
		}
		fallthrough
	default:
		if r.status != 1 {
			t.Errorf("exit status %d", r.status)
		}
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	switch {
	case r.stdout == "":
	case strings.HasSuffix(c.stdin, probe) && !strings.Contains(last, ":  "),
		strings.HasSuffix(c.stdin, evalProbe) && !strings.HasPrefix(strings.TrimSpace(last), "binary: "):
		t.Errorf("the session stopped answering: last line %q", last)
	}
}

// TestDamageAllCommands runs every command of the table, bare and with each
// of its options (and `rd` of a few addresses), over the damaged dumps that
// still open: no command may panic (a recovered panic prints "internal
// error"), and the session must still answer at the end.
func TestDamageAllCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gocrash over damaged real dumps; not with -short")
	}
	var batch strings.Builder
	for _, c := range commands.Table() {
		if c.Name == "q" || c.Name == "exit" {
			continue // they end the session
		}
		fmt.Fprintf(&batch, "%s\n", c.Name)
		for _, o := range c.Options {
			switch c.Name {
			case "rd":
				fmt.Fprintf(&batch, "rd %s linux_banner 4\nrd %s 0x8336000 4\n", o, o)
			case "set":
				fmt.Fprintf(&batch, "set %s 1\n", o)
			default:
				fmt.Fprintf(&batch, "%s %s\n", c.Name, o)
			}
		}
	}
	batch.WriteString("set -p\nbt -a\nps -a\n" + evalProbe)
	want := map[string]bool{
		"elf-cut-in-page-data": true, "kdump-cut-in-page-data": true, "kdump-incomplete": true,
		"kdump-prstatus-zeroed": true, "flat-cut-in-records": true, "vmlinux-stripped": true,
		"kdump-cut-in-page-descriptors": true, "elf-load-past-end": true,
	}
	for _, c := range damageCases(t) {
		if !want[c.name] {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			if c.skip != nil {
				if why := c.skip(); why != "" {
					t.Skip(why)
				}
			}
			r := runGocrash(t, batch.String(), c.opts, c.files(t, t.TempDir())...)
			for _, l := range strings.Split(r.stdout+r.stderr, "\n") {
				if strings.Contains(l, "internal error") || strings.HasPrefix(l, "goroutine ") || strings.HasPrefix(l, "panic:") {
					t.Errorf("%s", l)
				}
			}
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(strings.TrimSpace(last), "binary: ") {
				t.Errorf("the session stopped answering: last line %q", last)
			}
		})
	}
}

// onlyWarnings: a session's stderr starts with a WARNING (which may go on
// over indented lines) or with the indented reason after a memory error.
func onlyWarnings(stderr string) bool {
	return strings.HasPrefix(stderr, "WARNING: ") || strings.HasPrefix(stderr, "  (")
}
