// Package sample finds the real kernel dumps committed under testdata/dumps
// and serves them, decompressed once into a cache outside the tree, to
// `go run ./cmd/gocrash` with no arguments, to benchmarks and (through
// internal/testbed) to tests. It does not import testing, so that the
// shipped binary does not link it.
//
// Layout (written by testdata/mkdump/pack.sh):
//
//	testdata/dumps/VERSION/vmlinux.zst              the kernel with DWARF
//	testdata/dumps/VERSION/gocrash_oops.ko.zst      the test module with DWARF
//	testdata/dumps/VERSION-SCENARIO/vmcore.FMT.zst  one dump per format
//	testdata/dumps/VERSION-SCENARIO/crash.tar.zst   crash's answers: crash/CMD.txt (primary
//	                                                format), crash-FMT/CMD.txt (where another
//	                                                format's answer differs)
//	testdata/dumps/VERSION-SCENARIO/crash/VERSION   the crash that recorded them
//	testdata/dumps/VERSION-SCENARIO/crash/CMD.txt   answers record.sh added since (they win)
package sample

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// DefaultName and DefaultFormat name the sample dump gocrash opens when it
// is started with no arguments.
const (
	DefaultName   = "6.1-sysrq"
	DefaultFormat = "elf"
)

// Dump is one committed dump in one format, ready to open.
type Dump struct {
	Name    string // VERSION-SCENARIO, e.g. "6.1-sysrq"
	Format  string // elf, zlib, lzo, zstd, flat, qemu
	Vmlinux string // decompressed path
	Vmcore  string // decompressed path
	Dir     string // testdata/dumps/NAME
}

// Version is the kernel version part of the name ("6.1" of "6.1-sysrq").
func (d Dump) Version() string {
	v, _, _ := strings.Cut(d.Name, "-")
	return v
}

// Golden returns crash's recorded output for cmd ("rd -64 jiffies 4"): the
// format's own file where it differs from the primary format's, else the
// primary one. ok is false when crash's answer for cmd was not recorded.
func (d Dump) Golden(cmd string) (text string, ok bool) {
	name := GoldenName(cmd)
	for _, rel := range []string{"crash-" + d.Format + "/" + name, "crash/" + name} {
		if text, ok := d.Answer(rel); ok {
			return text, true
		}
	}
	return "", false
}

// GoldenName is the file name of crash's answer to cmd (spaces as '_').
func GoldenName(cmd string) string {
	return strings.ReplaceAll(cmd, " ", "_") + ".txt"
}

// AnswersArchive is the file, in a dump's directory, that pack.sh writes
// the dump's recorded answers into (a tar file compressed with zstd; its
// members are crash/CMD.txt and crash-FMT/CMD.txt): a thousand answers of a
// few hundred bytes each take more room in file-system blocks than their
// text does compressed.
const AnswersArchive = "crash.tar.zst"

// Answer reads one recorded answer of the dump, rel being its path under
// the dump's directory ("crash/sys.txt", "crash-zlib/log.txt"): the loose
// file where one exists (record.sh writes answers so, after pack.sh),
// else the archive's member.
func (d Dump) Answer(rel string) (string, bool) {
	if b, err := os.ReadFile(filepath.Join(d.Dir, filepath.FromSlash(rel))); err == nil {
		return string(b), true
	}
	a, err := readArchive(filepath.Join(d.Dir, AnswersArchive))
	if err != nil {
		return "", false
	}
	text, ok := a[rel]
	return text, ok
}

// Answers lists the dump's recorded answers, loose and archived, as paths
// under its directory ("crash/sys.txt"), sorted; crash's VERSION and
// start-up block are left out. The error is the archive's, if it cannot be
// read.
func (d Dump) Answers() ([]string, error) {
	seen := map[string]bool{}
	for _, dir := range append([]string{"crash"}, globDirs(d.Dir)...) {
		files, _ := filepath.Glob(filepath.Join(d.Dir, dir, "*.txt"))
		for _, f := range files {
			seen[dir+"/"+filepath.Base(f)] = true
		}
	}
	a, err := readArchive(filepath.Join(d.Dir, AnswersArchive))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for rel := range a {
		seen[rel] = true
	}
	out := make([]string, 0, len(seen))
	for rel := range seen {
		if base := path.Base(rel); base != "startup.txt" && strings.HasSuffix(base, ".txt") {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out, nil
}

func globDirs(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "crash-*"))
	var out []string
	for _, p := range m {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			out = append(out, filepath.Base(p))
		}
	}
	return out
}

var archives sync.Map // path → *archive

type archive struct {
	once  sync.Once
	files map[string]string
	err   error
}

// readArchive reads a dump's answers archive once per process.
func readArchive(p string) (map[string]string, error) {
	v, _ := archives.LoadOrStore(p, &archive{})
	a := v.(*archive)
	a.once.Do(func() { a.files, a.err = loadArchive(p) })
	return a.files, a.err
}

func loadArchive(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := zstd.NewReader(f, zstd.WithDecoderMaxWindow(1<<31))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer dec.Close()
	files := map[string]string{}
	tr := tar.NewReader(dec)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p, h.Name, err)
		}
		files[strings.TrimPrefix(h.Name, "./")] = string(b)
	}
}

// TestModule is the name of the test bed's module (testdata/mkdump/oopsmod),
// loaded in every dump of a kernel built here.
const TestModule = "gocrash_oops"

// Module decompresses (once) and returns the path of the named module's
// .ko, with its DWARF, as it was built for this dump's kernel (what crash's
// "mod -s NAME FILE" reads). Only the test module is committed.
func (d Dump) Module(name string) (string, error) {
	return Decompressed(filepath.Join(d.Dir, "..", d.Version(), name+".ko.zst"))
}

// Pending says whether crash's answer to cmd is known not to be recorded
// yet on this dump, and why: testdata/mkdump/pending lists the commands of
// CRASH_CMDS whose answers a regeneration of the test bed has not recorded
// yet ("NAME<TAB>COMMAND"), for tests to log instead of failing on; the
// list only shrinks (testdata/mkdump/record.sh records them).
func (d Dump) Pending(cmd string) (why string, ok bool) {
	b, err := os.ReadFile(filepath.Join(d.Dir, "..", "..", "mkdump", "pending"))
	if err != nil {
		return "", false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if name, c, found := strings.Cut(l, "\t"); found && name == d.Name && c == cmd {
			return "crash's answer is not recorded yet on the regenerated dump (testdata/mkdump/pending)", true
		}
	}
	return "", false
}

// AnswersFormat is the format of the dump crash's primary answers (crash/)
// were recorded from, by the DUMPFILE its sys names: mkdump.sh records
// the ELF dump (QEMU's where there is none) whether or not ELF is
// committed, record.sh a committed format. "" when sys was not recorded.
func (d Dump) AnswersFormat() string {
	b, ok := d.Answer("crash/sys.txt")
	if !ok {
		return ""
	}
	for _, l := range strings.Split(b, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(l), "DUMPFILE: "); ok {
			f, _, _ = strings.Cut(f, " ")
			if i := strings.LastIndex(f, "vmcore."); i >= 0 {
				return f[i+len("vmcore."):]
			}
		}
	}
	return ""
}

// CrashVersion is the version line of the crash that wrote the goldens.
func (d Dump) CrashVersion() string {
	b, _ := d.Answer("crash/VERSION")
	return strings.TrimSpace(b)
}

// Root is the repository's testdata/dumps directory.
func Root() (string, error) {
	var tried []string
	if _, file, _, ok := runtime.Caller(0); ok {
		tried = append(tried, filepath.Join(filepath.Dir(file), "..", "..", "testdata", "dumps"))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			tried = append(tried, filepath.Join(dir, "testdata", "dumps"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, p := range tried {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return filepath.Clean(p), nil
		}
	}
	return "", errors.New("sample dumps: no testdata/dumps directory found (run from the gocrash repository)")
}

// Entry names one committed dump and format.
type Entry struct{ Name, Format string }

// List returns every committed dump and format, sorted.
func List() ([]Entry, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(root, "*-*", "vmcore.*.zst"))
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "vmcore."), ".zst")
		out = append(out, Entry{Name: filepath.Base(filepath.Dir(f)), Format: base})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Format < out[j].Format
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("sample dumps: no dumps under %s", root)
	}
	return out, nil
}

// Locate decompresses (once) and returns the paths of a dump and its vmlinux.
func Locate(name, format string) (Dump, error) {
	root, err := Root()
	if err != nil {
		return Dump{}, err
	}
	dir := filepath.Join(root, name)
	version, _, _ := strings.Cut(name, "-")
	vmlinux, err := Decompressed(filepath.Join(root, version, "vmlinux.zst"))
	if err != nil {
		return Dump{}, err
	}
	vmcore, err := Decompressed(filepath.Join(dir, "vmcore."+format+".zst"))
	if err != nil {
		return Dump{}, err
	}
	if ko := filepath.Join(root, version, TestModule+".ko.zst"); fileExists(ko) {
		if err := besideVmlinux(vmlinux, ko); err != nil {
			return Dump{}, err
		}
	}
	return Dump{Name: name, Format: format, Vmlinux: vmlinux, Vmcore: vmcore, Dir: dir}, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// besideVmlinux puts the decompressed test module (a symbolic link to it)
// in the vmlinux's directory, where it was when crash recorded its answers
// (mkdump.sh's out/NAME/ holds both): crash's "mod -s NAME" looks for an
// object file in the directory tree of the vmlinux (kernel.c's
// module_objfile_search), so its answers depend on it being there.
func besideVmlinux(vmlinux, koZst string) error {
	ko, err := Decompressed(koZst)
	if err != nil {
		return err
	}
	link := filepath.Join(filepath.Dir(vmlinux), filepath.Base(ko))
	if _, err := os.Stat(link); err == nil {
		return nil
	}
	tmp := fmt.Sprintf("%s.part-%d", link, os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(ko, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// Default is the sample dump `go run ./cmd/gocrash` opens.
func Default() (vmlinux, vmcore string, err error) {
	d, err := Locate(DefaultName, DefaultFormat)
	return d.Vmlinux, d.Vmcore, err
}

var mu sync.Mutex

// CacheDir is where decompressed fixtures live: $GOCRASH_TESTDATA_CACHE, or
// gocrash-testdata under the user's cache directory (outside the tree, so
// the repository never holds a multi-hundred-megabyte file).
func CacheDir() (string, error) {
	if d := os.Getenv("GOCRASH_TESTDATA_CACHE"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "gocrash-testdata"), nil
}

// Decompressed returns the path of the decompressed copy of a .zst file,
// making it on first use. The cache key is the compressed file's hash, so a
// regenerated fixture never reads a stale copy.
func Decompressed(zstPath string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	f, err := os.Open(zstPath)
	if err != nil {
		return "", fmt.Errorf("test bed fixture missing: %w", err)
	}
	defer f.Close()
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	sum, err := fileSum(cache, zstPath, f)
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, sum, strings.TrimSuffix(filepath.Base(zstPath), ".zst"))
	if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	dec, err := zstd.NewReader(f, zstd.WithDecoderMaxWindow(1<<31))
	if err != nil {
		return "", err
	}
	defer dec.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".part-*")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(tmp, dec); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("decompressing %s: %w", zstPath, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	// Fixtures are evidence: read-only, like a dump should be.
	os.Chmod(tmp.Name(), 0o444)
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	return out, nil
}

// fileSum is the first 16 hex digits of the SHA-256 of f (zstPath),
// remembered in cache/sums by the file's path, size and modification time:
// hashing the committed dumps took 150 ms of every gocrash triage
// --samples run. A fixture rewritten (pack.sh, git checkout) has a new
// modification time and is hashed again.
func fileSum(cache, zstPath string, f *os.File) (string, error) {
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", zstPath, err)
	}
	abs, err := filepath.Abs(zstPath)
	if err != nil {
		abs = zstPath
	}
	key := sha256.Sum256([]byte(abs))
	memo := filepath.Join(cache, "sums", hex.EncodeToString(key[:8]))
	stamp := fmt.Sprintf("%d %d ", st.Size(), st.ModTime().UnixNano())
	if b, err := os.ReadFile(memo); err == nil {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(string(b)), stamp); ok && len(rest) == 16 {
			if _, err := hex.DecodeString(rest); err == nil {
				return rest, nil
			}
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", zstPath, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	// The memo is an optimisation: failing to write it changes nothing.
	if os.MkdirAll(filepath.Dir(memo), 0o755) == nil {
		if tmp, err := os.CreateTemp(filepath.Dir(memo), ".part-*"); err == nil {
			_, werr := tmp.WriteString(stamp + sum + "\n")
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				os.Rename(tmp.Name(), memo)
			}
			os.Remove(tmp.Name())
		}
	}
	return sum, nil
}

// unresolvedPlaceholder is crashrec.sh's test for a placeholder left in a
// command (case *"{"[a-z]*"}"*).
var unresolvedPlaceholder = regexp.MustCompile(`\{[a-z].*\}`)

// Resolve replaces each {name} placeholder in cmd by its value on this dump,
// taken as testdata/mkdump/placeholders says (a field of a line of crash's
// recorded answer to another command), so that a golden recorded as
// "kmem {task1}" is compared with gocrash's answer to "kmem ffff…". A
// placeholder with no recorded value is an error: the test bed is the oracle.
func (d Dump) Resolve(cmd string) (string, error) {
	if !strings.Contains(cmd, "{") {
		return cmd, nil
	}
	b, err := os.ReadFile(filepath.Join(d.Dir, "..", "..", "mkdump", "placeholders"))
	if err != nil {
		return "", fmt.Errorf("placeholders: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || !strings.Contains(cmd, "{"+f[0]+"}") {
			continue
		}
		// LINE is a line number, or /RE/: the first line matching RE (an
		// expression both awk's ERE and Go's regexp read alike).
		var lineNo, field int
		var lineRE *regexp.Regexp
		if len(f[2]) > 2 && strings.HasPrefix(f[2], "/") && strings.HasSuffix(f[2], "/") {
			re, err := regexp.Compile(f[2][1 : len(f[2])-1])
			if err != nil {
				return "", fmt.Errorf("placeholders: %q: line %q: %v", f[0], f[2], err)
			}
			lineRE = re
		} else if _, err := fmt.Sscan(f[2], &lineNo); err != nil {
			return "", fmt.Errorf("placeholders: %q: line %q: %v", f[0], f[2], err)
		}
		if _, err := fmt.Sscan(f[3], &field); err != nil {
			return "", fmt.Errorf("placeholders: %q: field %q: %v", f[0], f[3], err)
		}
		out, ok := d.Golden(f[1])
		if !ok {
			return "", fmt.Errorf("{%s}: crash's answer to %q was not recorded on %s", f[0], f[1], d.Name)
		}
		lines := strings.Split(out, "\n")
		if lineRE != nil {
			for i, l := range lines {
				if lineRE.MatchString(l) {
					lineNo = i + 1
					break
				}
			}
			if lineNo == 0 {
				return "", fmt.Errorf("{%s}: no line of %q on %s matches %s", f[0], f[1], d.Name, f[2])
			}
		}
		if lineNo < 1 || lineNo > len(lines) {
			return "", fmt.Errorf("{%s}: %q on %s has no line %d", f[0], f[1], d.Name, lineNo)
		}
		words := strings.Fields(lines[lineNo-1])
		i := field - 1
		if field < 0 {
			i = len(words) + field
		}
		if i < 0 || i >= len(words) {
			return "", fmt.Errorf("{%s}: line %d of %q on %s has no field %d", f[0], lineNo, f[1], d.Name, field)
		}
		cmd = strings.ReplaceAll(cmd, "{"+f[0]+"}", words[i])
	}
	// A value may hold braces ({sbq510} is "{" where bitmap_tags is a
	// struct): what is left unresolved is crashrec.sh's {name} shape.
	if unresolvedPlaceholder.MatchString(cmd) {
		return "", fmt.Errorf("%q: a placeholder is not in testdata/mkdump/placeholders", cmd)
	}
	return cmd, nil
}
