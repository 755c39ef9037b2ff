package testbed

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every committed dump must have crash's answers beside it, written by the
// crash version the README names, and crash must have opened the dump (a
// golden holding crash's fatal start-up errors instead of answers would make
// every comparison against it meaningless).
func TestEveryDumpHasCrashAnswers(t *testing.T) {
	entries, err := List()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		root, _ := Root()
		dir := filepath.Join(root, e.Name)
		d := Dump{Name: e.Name, Format: e.Format, Dir: dir}
		if v := d.CrashVersion(); !strings.HasPrefix(v, "crash 8.0.6") {
			t.Errorf("%s: goldens written by %q, want crash 8.0.6", e.Name, v)
		}
		sys, ok := d.Golden("sys")
		if !ok {
			t.Errorf("%s: no crash answer for sys", e.Name)
			continue
		}
		for _, field := range []string{"KERNEL:", "DUMPFILE:", "RELEASE:", "PANIC:"} {
			if !strings.Contains(sys, field) {
				t.Errorf("%s: crash's sys answer has no %s line:\n%s", e.Name, field, sys)
			}
		}
		answers, err := d.Answers()
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		for _, rel := range answers {
			b, ok := d.Answer(rel)
			if !ok {
				t.Errorf("%s: %s is listed but cannot be read", e.Name, rel)
				continue
			}
			if strings.Contains(b, "crash: cannot") || strings.Contains(b, "crash: vmlinux and") {
				t.Errorf("%s/%s: crash did not open the dump:\n%s", e.Name, rel, b)
			}
		}
	}
}

// Each dump's kernel has exactly one vmlinux, shared by its scenarios.
func TestEveryDumpHasItsVmlinux(t *testing.T) {
	entries, err := List()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := Root()
	for _, e := range entries {
		v, _, _ := strings.Cut(e.Name, "-")
		if _, err := os.Stat(filepath.Join(root, v, "vmlinux.zst")); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
}

func TestLocateDecompressesOnce(t *testing.T) {
	d := Open(t, DefaultName, DefaultFormat)
	st1, err := os.Stat(d.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	d2 := Open(t, DefaultName, DefaultFormat)
	st2, err := os.Stat(d2.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	if d.Vmcore != d2.Vmcore || !st1.ModTime().Equal(st2.ModTime()) {
		t.Errorf("second Locate made a new copy: %s then %s", d.Vmcore, d2.Vmcore)
	}
	if st1.Mode().Perm()&0o222 != 0 {
		t.Errorf("decompressed fixture %s is writable (%v): fixtures are evidence", d.Vmcore, st1.Mode())
	}
	b := make([]byte, 4)
	f, err := os.Open(d.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(b); err != nil || string(b) != "\x7fELF" {
		t.Errorf("%s does not start with an ELF header: %q, %v", d.Vmcore, b, err)
	}
}

func TestMissingFixtureIsAnError(t *testing.T) {
	if _, err := Locate("0.0-nosuchdump", "elf"); err == nil {
		t.Fatal("Locate of a dump that does not exist succeeded")
	}
}

func TestResolve(t *testing.T) {
	d := Open(t, DefaultName, DefaultFormat)
	got, err := d.Resolve("struct task_struct.pid {task1}")
	if err != nil {
		t.Fatal(err)
	}
	// ps 1's TASK column on the sample dump, as crash recorded it (its
	// second line: ">     1      0   0  ff2c138f00198000  RU ...", the
	// sixth field from the end: an active task's line starts with ">").
	ps, ok := d.Golden("ps 1")
	if !ok {
		t.Fatal("ps 1 was not recorded")
	}
	lines := strings.Split(ps, "\n")
	var f []string
	if len(lines) > 1 {
		f = strings.Fields(lines[1])
	}
	if len(f) < 9 {
		t.Fatalf("ps 1 on %s:\n%s", d.Name, ps)
	}
	want := "struct task_struct.pid " + f[len(f)-6]
	if got != want {
		t.Errorf("Resolve = %q, want %q", got, want)
	}
	// {freepage}: the first line of kmem -F that is a page address alone
	// (line 5 on 6.1; on a kernel whose first free list is empty an AREA
	// header stands there).
	fp, err := d.Resolve("kmem {freepage}")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^kmem [0-9a-f]{16}$`).MatchString(fp) {
		t.Errorf("Resolve(kmem {freepage}) = %q, want a page address", fp)
	}
	if _, err := d.Resolve("kmem {nosuch}"); err == nil {
		t.Error("Resolve of an unknown placeholder: no error")
	}
}

// Each kernel's test module is committed with its DWARF (crash's mod -s
// reads it), and it is the module crash lists in that kernel's dumps.
func TestEveryKernelHasTheTestModule(t *testing.T) {
	for _, d := range firstFormats(t) {
		ko, err := d.Module(TestModule)
		if err != nil {
			t.Errorf("%s: %v", d.Name, err)
			continue
		}
		b := make([]byte, 4)
		f, err := os.Open(ko)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Read(b)
		f.Close()
		if err != nil || string(b) != "\x7fELF" {
			t.Errorf("%s: %s is not an ELF file", d.Name, ko)
		}
		if mod, ok := d.Golden("mod"); ok && !strings.Contains(mod, TestModule) {
			t.Errorf("%s: crash's mod does not list %s:\n%s", d.Name, TestModule, mod)
		}
	}
}

// The scenarios hold what README says, by crash's own answers: a task in D
// state (ps shows UN) on every dump of a kernel built here, the hung dump's
// panic from khungtaskd, the soft lockup's, the OOM killer's, the WARN_ON
// report in every log, and on every dump a real-time task or the cpu
// cgroup's task group in runq.
func TestScenariosHoldWhatReadmeSays(t *testing.T) {
	for _, d := range firstFormats(t) {
		golden := func(cmd string) string {
			out, ok := d.Golden(cmd)
			if !ok {
				t.Errorf("%s: %s was not recorded", d.Name, cmd)
			}
			return out
		}
		_, scenario, _ := strings.Cut(d.Name, "-")
		ps, log, runq, sys := golden("ps"), golden("log"), golden("runq"), golden("sys")
		if !strings.Contains(ps, "  UN  ") {
			t.Errorf("%s: no task in D state (UN) in crash's ps", d.Name)
		}
		if !strings.Contains(log, "WARNING: CPU: ") || !strings.Contains(log, "gocrash_warn") {
			t.Errorf("%s: no WARN_ON report from the test module in crash's log", d.Name)
		}
		// chrt -f 10: prio 99-10 = 89 ("[ 89] PID: ..."); the child group
		// is named by its cgroup directory ("<gocrash>").
		if !rtTask.MatchString(runq) {
			t.Errorf("%s: no SCHED_FIFO task queued in crash's runq:\n%s", d.Name, runq)
		}
		if !strings.Contains(golden("runq -g"), "<gocrash>") {
			t.Errorf("%s: no task group gocrash in crash's runq -g", d.Name)
		}
		want := map[string]string{
			"hung":       "hung_task: blocked tasks",
			"softlockup": "softlockup: hung tasks",
			"oom":        "Out of memory",
			"oops":       "Oops",
		}[scenario]
		if want != "" && !strings.Contains(sys, want) {
			t.Errorf("%s: crash's sys PANIC line does not say %q:\n%s", d.Name, want, sys)
		}
	}
}

var rtTask = regexp.MustCompile(`\[ 89\] PID: `)

// firstFormats is one Dump (its first format) for each committed dump.
func firstFormats(t *testing.T) []Dump {
	t.Helper()
	entries, err := List()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := Root()
	seen := map[string]bool{}
	var out []Dump
	for _, e := range entries {
		if seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		out = append(out, Dump{Name: e.Name, Format: e.Format, Dir: filepath.Join(root, e.Name)})
	}
	return out
}
