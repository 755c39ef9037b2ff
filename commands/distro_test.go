package commands

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// distroDump is a dump of Debian's own 6.1 cloud kernel
// (linux-image-6.1.0-56-cloud-amd64 with its -dbg vmlinux: NUMA, memory
// hotplug, modules, full SLUB, HZ=250), the one bench/run.sh --distro
// times. The test bed does not commit it (its vmlinux alone is 563 MB);
// crash 8.0.6's answers to the system commands on it are kept in
// testdata/distro/NAME/crash (recorded with testdata/mkdump/crashrec.sh's
// crash_record, placeholders resolved from the answers as record.sh
// does). TestDistroGoldens runs where the dump is: $GOCRASH_DISTRO_DUMP,
// else the mkdump work folder's copy.
const distroDump = "debian-6.1.0-56-cloud-amd64-sysrq"

var distroCommands = []string{
	"kmem -n", "kmem -f", "kmem -F", "kmem -i", "kmem -s", "kmem -S kmalloc-64", "kmem -V", "kmem -z",
	"kmem -h", "kmem -o", "kmem -v", "kmem 1000", "kmem {vmalloc1}", "kmem {vmstack}", "kmem {task1}",
	"kmem {jiffiesaddr}", "kmem {sched16}", "kmem {freepage}", "kmem -f {freepage}", "kmem {slabobj}",
	"kmem {slabpage}", "dev", "dev -d", "dev -D", "dev -p", "dev -i", "irq", "irq -d", "irq -s", "irq -a",
	"irq -b", "timer", "timer -r", "mount", "swap", "waitq log_wait",
}

func TestDistroGoldens(t *testing.T) {
	dir := os.Getenv("GOCRASH_DISTRO_DUMP")
	if dir == "" {
		dir = filepath.Join("/var/cache/gocrash-mkdump/distro", distroDump)
	}
	vmlinux, vmcore := filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.zlib")
	if _, err := os.Stat(vmcore); err != nil {
		t.Skipf("no Debian kernel dump at %s (bench/run.sh --distro says how to make it)", dir)
	}
	s, err := Open(vmlinux, vmcore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	golden := filepath.Join("testdata", "distro", distroDump, "crash")
	for _, cmd := range distroCommands {
		want, err := os.ReadFile(filepath.Join(golden, strings.ReplaceAll(cmd, " ", "_")+".txt"))
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
			continue
		}
		line, err := resolveIn(golden, cmd)
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
			continue
		}
		if got := runCmd(t, s, line); got != string(want) {
			t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(string(want), got))
		}
	}
}

// resolveIn replaces each {placeholder} of cmd as testdata/mkdump/placeholders
// says, from the answers in dir.
func resolveIn(dir, cmd string) (string, error) {
	f, err := os.Open(filepath.Join("..", "testdata", "mkdump", "placeholders"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 4 || strings.HasPrefix(p[0], "#") || !strings.Contains(cmd, "{"+p[0]+"}") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(p[1], " ", "_")+".txt"))
		if err != nil {
			return "", err
		}
		ln, _ := strconv.Atoi(p[2])
		fl, _ := strconv.Atoi(p[3])
		lines := strings.Split(string(b), "\n")
		if ln < 1 || ln > len(lines) {
			return "", os.ErrNotExist
		}
		w := strings.Fields(lines[ln-1])
		if fl < 0 {
			fl = len(w) + fl + 1
		}
		if fl < 1 || fl > len(w) {
			return "", os.ErrNotExist
		}
		cmd = strings.ReplaceAll(cmd, "{"+p[0]+"}", w[fl-1])
	}
	return cmd, sc.Err()
}
