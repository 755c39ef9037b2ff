package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"gocrash/internal/testbed"
	"gocrash/symbols"
)

// TestIndexCacheTwoSessions: two gocrash processes opening the same vmlinux
// at once, with no index cache, then with the one the first sessions'
// background builder wrote, then with that file cut short: every session
// prints crash's sys, and the cache ends up whole again.
func TestIndexCacheTwoSessions(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	want, ok := d.Golden("sys")
	if !ok {
		t.Fatal("no golden for sys")
	}
	// The file names are the recording's (commands/golden_test.go's
	// normalization).
	paths := regexp.MustCompile(`(?m)^(      KERNEL|    DUMPFILE): \S+`)
	want = paths.ReplaceAllString(want, "$1: PATH")
	dir := t.TempDir()
	t.Setenv("GOCRASH_CACHE", dir)
	v, err := symbols.Open(d.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	path, _ := v.IndexCachePath()
	v.Close()

	both := func(stage string) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := runGocrash(t, "sys\nq\n", runOpts{cacheDir: dir}, "-s", d.Vmlinux, d.Vmcore)
				if got := paths.ReplaceAllString(r.stdout, "$1: PATH"); r.status != 0 || got != want {
					t.Errorf("%s, session %d: status %d, stderr %q, stdout:\n%s", stage, i, r.status, r.stderr, r.stdout)
				}
			}()
		}
		wg.Wait()
	}
	// The builder runs after the session, detached: wait for its file.
	waitValid := func(stage string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if v, err := symbols.Open(d.Vmlinux); err == nil {
				ok := v.IndexCached()
				v.Close()
				if ok {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: no valid index cache in %s after 2 minutes", stage, dir)
	}

	both("cold cache")
	waitValid("after the cold sessions")
	both("warm cache")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	both("truncated cache")
	waitValid("after the truncated cache")
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
