package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
)

// wantsVersion reports whether the command line asks for --version (or
// -version, as the flag package spells long flags too).
func wantsVersion(args []string) bool {
	return slices.Contains(args, "--version") || slices.Contains(args, "-version")
}

// writeVersion prints gocrash's version, the Go release it was built
// with and the commit of its source, from the build information the Go
// toolchain stamps into the binary.
func writeVersion(w io.Writer) {
	version, commit, when, modified := "(unknown)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	fmt.Fprintf(w, "gocrash %s\n", version)
	fmt.Fprintf(w, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	switch {
	case commit == "":
		fmt.Fprintln(w, "commit unknown (built without version control information: -buildvcs=false or not from a git checkout)")
	case modified:
		fmt.Fprintf(w, "commit %s %s (with uncommitted changes)\n", commit, when)
	default:
		fmt.Fprintf(w, "commit %s %s\n", commit, when)
	}
}
