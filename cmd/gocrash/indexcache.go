package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"gocrash/symbols"
)

// The index cache (symbols/cache.go) makes the second session on a vmlinux
// start without scanning DWARF or sorting the symbol table. The first
// session on a vmlinux answers lazily as before, and when it ends gocrash
// starts itself once more, detached and at the lowest CPU priority, with
// the hidden flag --build-index VMLINUX, to write the cache: the session
// that met the file does not wait for it, and neither does the user.
// GOCRASH_CACHE=off turns both off.

// indexToBuild is set by run when the session's vmlinux had no index cache
// that checked out; main then starts the builder.
var indexToBuild string

// noteIndex records whether v wants a cache built.
func noteIndex(v *symbols.Vmlinux) {
	if v == nil || v.IndexCached() {
		return
	}
	p, ok := v.IndexCachePath()
	if !ok {
		return
	}
	// The cache directory may be made, not the directory it goes in (a
	// HOME that does not exist stays so).
	if fi, err := os.Stat(filepath.Dir(filepath.Dir(p))); err != nil || !fi.IsDir() {
		return
	}
	indexToBuild = v.Path()
}

// startIndexBuild starts `gocrash --build-index path` in the background
// (its own session, no terminal, output discarded) and does not wait.
func startIndexBuild(path string) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	cmd := exec.Command(exe, "--build-index", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		cmd.Process.Release()
	}
}

// buildIndex is --build-index: write the cache of one vmlinux, niced.
func buildIndex(path string, stderr io.Writer) int {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, 19)
	v, err := symbols.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: --build-index: %v\n", err)
		return 1
	}
	defer v.Close()
	p, err := symbols.WriteIndexCache(v)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: --build-index: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "gocrash: index cache written: %s\n", p)
	return 0
}
