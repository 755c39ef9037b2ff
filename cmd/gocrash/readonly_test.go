package main

// gocrash never writes to the dump or the vmlinux and runs no shell the
// user did not ask for: a session over each dump format leaves the files
// byte-identical, the running process holds them read-only (checked in
// /proc while it runs), and only the shell's pipe and "!" code paths start
// a process.

import (
	"bufio"
	"crypto/sha256"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// openModes reports how process pid holds path: the access mode of each
// descriptor open on it ("r", "w", "rw") and the permissions of each
// mapping of it ("r--s", ...).
func openModes(t *testing.T, pid int, path string) (fds, maps []string) {
	t.Helper()
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	ents, err := os.ReadDir(dir + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		target, err := os.Readlink(dir + "/fd/" + e.Name())
		if err != nil || target != real {
			continue
		}
		info, err := os.ReadFile(dir + "/fdinfo/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(l, "flags:"); ok {
				flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
				if err != nil {
					t.Fatal(err)
				}
				switch flags & syscall.O_ACCMODE {
				case syscall.O_RDONLY:
					fds = append(fds, "r")
				case syscall.O_WRONLY:
					fds = append(fds, "w")
				default:
					fds = append(fds, "rw")
				}
			}
		}
	}
	m, err := os.ReadFile(dir + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(m), "\n") {
		if f := strings.Fields(l); len(f) >= 6 && f[5] == real {
			maps = append(maps, f[1])
		}
	}
	return fds, maps
}

func TestReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gocrash sessions over real dumps; not with -short")
	}
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skip("no /proc: cannot see how the process holds its files")
	}
	bin := gocrashBinary(t)
	for _, dump := range []struct{ name, format string }{{"6.1-sysrq", "elf"}, {"6.1-oops", "zlib"}, {"6.12-hung", "flat"}} {
		t.Run(dump.format, func(t *testing.T) {
			d := testbed.Open(t, dump.name, dump.format)
			before := map[string][32]byte{d.Vmlinux: fileHash(t, d.Vmlinux), d.Vmcore: fileHash(t, d.Vmcore)}

			cmd := exec.Command(bin, "-s", d.Vmlinux, d.Vmcore)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// A batch that reads a lot of the dump, then a marker whose
			// answer says the batch is done while the process still runs.
			io.WriteString(stdin, "sys\nps\nbt -a\nlog\nset zero_excluded on\nrd -p 0x8336000 64\nrd -64 jiffies 4\neval 0x1234\n")
			lines := make(chan string)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			timeout := time.After(runLimit)
		wait:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatal("gocrash ended before the batch did")
					}
					if strings.Contains(l, "hexadecimal: 1234") {
						break wait
					}
				case <-timeout:
					t.Fatalf("no answer within %v", runLimit)
				}
			}
			for _, p := range []string{d.Vmcore, d.Vmlinux} {
				fds, maps := openModes(t, cmd.Process.Pid, p)
				for _, m := range fds {
					if m != "r" {
						t.Errorf("%s is open %s, not read-only", p, m)
					}
				}
				for _, m := range maps {
					if strings.Contains(m, "w") {
						t.Errorf("%s is mapped %s, writable", p, m)
					}
				}
				if len(fds)+len(maps) == 0 {
					t.Errorf("%s is neither open nor mapped while the session runs", p)
				}
				t.Logf("%s: descriptors %v, mappings %v", filepath.Base(p), fds, maps)
			}
			stdin.Close()
			go func() {
				for range lines {
				}
			}()
			if err := cmd.Wait(); err != nil {
				if _, ok := err.(*exec.ExitError); !ok {
					t.Fatal(err)
				}
			}
			for p, h := range before {
				if fileHash(t, p) != h {
					t.Errorf("%s changed during the session", p)
				}
			}
		})
	}
}

// TestNoHiddenShell: the only places that start a process are the shell's
// pipe and "!" handlers (repl/shell.go runPiped and runShell), the pager at
// a terminal (repl/pager.go runPaged) and the index cache builder
// (cmd/gocrash/indexcache.go startIndexBuild: gocrash itself, with a fixed
// --build-index and the vmlinux's path, no shell); the profiling hooks and
// everything else start none.
func TestNoHiddenShell(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"repl/shell.go:runPiped": true, "repl/shell.go:runShell": true, "repl/pager.go:runPaged": true,
		"cmd/gocrash/indexcache.go:startIndexBuild": true}
	starters := map[string]bool{
		"exec.Command": true, "exec.CommandContext": true, "os.StartProcess": true,
		"syscall.Exec": true, "syscall.ForkExec": true, "syscall.StartProcess": true,
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && starters[x.Name+"."+sel.Sel.Name] {
					where := filepath.ToSlash(rel) + ":" + fn.Name.Name
					found[where] = true
					if !allowed[where] {
						t.Errorf("%s starts a process (%s.%s) outside the shell's pipe, ! and pager handlers", fset.Position(sel.Pos()), x.Name, sel.Sel.Name)
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for w := range allowed {
		if !found[w] {
			t.Errorf("%s no longer starts the shell: update this test", w)
		}
	}
}
