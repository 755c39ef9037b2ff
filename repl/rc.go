package repl

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// StartupFiles are the files gocrash reads at start, in order: crash's
// .crashrc in the home directory, then gocrash's own .gocrashrc there,
// then the same two in the current directory (crash: main.c
// setup_environment() and exec_input_file(); a file in the current
// directory that is the home one is read once). Lines for gocrash alone
// (settings crash lacks) belong in .gocrashrc, which crash never reads.
func StartupFiles(home string) []string {
	var out []string
	names := []string{".crashrc", ".gocrashrc"}
	if home != "" {
		for _, n := range names {
			out = append(out, filepath.Join(home, n))
		}
	}
	for _, n := range names {
		if home != "" && sameFile(n, filepath.Join(home, n)) {
			continue
		}
		out = append(out, n)
	}
	return out
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// RunStartupFiles runs each start-up file that exists, line by line as
// a batch (echoed unless -s). A file another user owns, or anyone may
// write, is not read, as crash refuses it ("not using untrusted file").
// Their failures do not count in the exit status: a .crashrc written
// for crash may hold lines gocrash cannot do yet, and scripts must not
// fail because of it.
func (sh *Shell) RunStartupFiles(files []string) (quit bool) {
	failed := sh.failed
	defer func() { sh.failed = failed }()
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			if !os.IsNotExist(err) {
				fmt.Fprintf(sh.Out, "%s: cannot open %s: %v\n", progName, p, err)
			}
			continue
		}
		if !trusted(f) {
			f.Close()
			fmt.Fprintf(sh.Out, "WARNING: not using untrusted file: \"%s\"\n", p)
			continue
		}
		quit = sh.RunBatch(f)
		f.Close()
		if quit {
			return true
		}
	}
	return false
}

// trusted is crash's untrusted_file() test, inverted: owned by this user
// and not writable by others.
func trusted(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid() && st.Mode().Perm()&0o002 == 0
}
