package main

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// gocrash --version names the version, the Go release and the commit.
func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if st := run([]string{"--version"}, nil, &out, &errb); st != 0 || errb.Len() != 0 {
		t.Fatalf("status %d, stderr %q", st, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "gocrash ") ||
		lines[1] != runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH || !strings.HasPrefix(lines[2], "commit ") {
		t.Errorf("--version printed:\n%s", out.String())
	}
}

// The shipped binary does not link the testing package (the sample dump
// is found by internal/sample, not internal/testbed).
func TestNoTestingInBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "testing" || p == "gocrash/internal/testbed" {
			t.Errorf("cmd/gocrash links %s", p)
		}
	}
}
