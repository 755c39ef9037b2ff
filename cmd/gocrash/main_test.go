package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// No start-up file of the developer's may run in a test.
	tempHome(t, t.TempDir())
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBatchEitherOrder(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	want, ok := d.Golden("rd -64 jiffies 4")
	if !ok {
		t.Fatal("no golden for rd -64 jiffies 4")
	}
	for _, args := range [][]string{
		{"-s", d.Vmlinux, d.Vmcore},
		{"-s", d.Vmcore, d.Vmlinux},
		{d.Vmlinux, "-s", d.Vmcore},
	} {
		code, out, errs := runCLI(t, "rd -64 jiffies 4\n", args...)
		if code != 0 || out != want || errs != "" {
			t.Errorf("gocrash %q: status %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

func TestBatchFailureStatus(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	code, out, _ := runCLI(t, "rd ffffffffdeadbeef\nnosuchcommand\nrd -64 jiffies 1\n", "-s", d.Vmlinux, d.Vmcore)
	if code == 0 {
		t.Error("failing commands gave exit status 0")
	}
	for _, want := range []string{
		`rd: invalid kernel virtual address: ffffffffdeadbeef  type: "64-bit KVADDR"`,
		"gocrash: command not found: nosuchcommand",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The batch went on after the failures: the last line is rd's.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "ffffffff") || !strings.Contains(last, ":  ") {
		t.Errorf("batch stopped early:\n%s", out)
	}
}

func TestStartupBanner(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	code, out, _ := runCLI(t, "q\n", d.Vmlinux, d.Vmcore)
	if code != 0 {
		t.Errorf("status %d", code)
	}
	for _, want := range []string{"      KERNEL: ", "       PANIC: ", "    COMMAND: ", "crash> q\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("startup output lacks %q:\n%s", want, out)
		}
	}
}

func TestInputFile(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	dir := t.TempDir()
	f := dir + "/cmds"
	if err := writeFile(f, "rd -64 jiffies 1\nq\n"); err != nil {
		t.Fatal(err)
	}
	// The file ends with q: stdin is never read.
	code, out, _ := runCLI(t, "nosuchcommand\n", "-s", "-i", f, d.Vmlinux, d.Vmcore)
	if code != 0 || strings.Contains(out, "nosuchcommand") || !strings.Contains(out, ":  ") {
		t.Errorf("-i file with q: status %d, output %q", code, out)
	}
	// Without q the session goes on with stdin.
	if err := writeFile(f, "rd -64 jiffies 1\n"); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "nosuchcommand\n", "-s", "-i", f, d.Vmlinux, d.Vmcore)
	if code == 0 || !strings.Contains(out, "command not found: nosuchcommand") {
		t.Errorf("-i file then stdin: status %d, output %q", code, out)
	}
}

func TestBadArgs(t *testing.T) {
	// One file is the dump, whose vmlinux gocrash looks for (findvm_test.go).
	if code, _, errs := runCLI(t, "", "only-one-file"); code != 1 || !strings.HasPrefix(errs, "gocrash: open only-one-file: no such file") || strings.Count(errs, "\n") != 1 {
		t.Errorf("one missing file: status %d, stderr %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "a", "b", "c"); code != 2 || !strings.Contains(errs, "one or two files expected") {
		t.Errorf("three files: status %d, stderr %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "/nonexistent/vmlinux", "/nonexistent/vmcore"); code != 1 || !strings.HasPrefix(errs, "gocrash: ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("missing files: status %d, stderr %q", code, errs)
	}
}

// tempHome sets HOME for a test, keeping the test-bed cache where it was
// (it is found through HOME otherwise).
func tempHome(t *testing.T, home string) {
	t.Helper()
	if os.Getenv("GOCRASH_TESTDATA_CACHE") == "" {
		dir, err := testbed.CacheDir()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("GOCRASH_TESTDATA_CACHE", dir)
	}
	t.Setenv("HOME", home)
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
