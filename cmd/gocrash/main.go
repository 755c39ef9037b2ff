// Command gocrash analyses a Linux kernel crash dump with a crash-like
// shell:
//
//	gocrash [-s] [-i file] [-f|--force] [--zero-excluded] vmlinux vmcore
//	gocrash --version
//
// The two files may come in either order. With no files it opens the
// sample dump of the test bed (testdata/dumps).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/chzyer/readline"

	"gocrash/commands"
	"gocrash/internal/sample"
	"gocrash/repl"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type config struct {
	silent       bool
	inputFile    string
	force        bool
	zeroExcluded bool
	files        []string
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: gocrash [-s] [-i file] [-f|--force] [--zero-excluded] vmlinux vmcore\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseArgs accepts flags before, between and after the two file names.
func parseArgs(args []string, stderr io.Writer) (config, *flag.FlagSet, error) {
	var c config
	fs := flag.NewFlagSet("gocrash", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.silent, "s", false, "silent: no banner and no system summary at start, no echo of batch commands")
	fs.StringVar(&c.inputFile, "i", "", "run the commands of `file` first, then go on interactively unless it ends with q")
	fs.BoolVar(&c.force, "f", false, "go on even when vmlinux does not match the dump")
	fs.BoolVar(&c.force, "force", false, "same as -f")
	fs.BoolVar(&c.zeroExcluded, "zero-excluded", false, "read pages excluded from the dump as zeroes")
	for {
		if err := fs.Parse(args); err != nil {
			return c, fs, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		c.files = append(c.files, args[0])
		args = args[1:]
	}
	return c, fs, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if wantsVersion(args) {
		writeVersion(stdout)
		return 0
	}
	args, cpuProfile, memProfile := profileFlags(args)
	defer startProfiles(cpuProfile, memProfile, stderr)()
	c, fs, err := parseArgs(args, stderr)
	if err == flag.ErrHelp {
		usage(stdout, fs)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		usage(stderr, fs)
		return 2
	}
	var vmlinux, vmcore string
	switch len(c.files) {
	case 0:
		if vmlinux, vmcore, err = sample.Default(); err != nil {
			fmt.Fprintf(stderr, "gocrash: no files given and the sample dump is not available: %v\n", err)
			usage(stderr, fs)
			return 2
		}
	case 2:
		vmlinux, vmcore = c.files[0], c.files[1]
	default:
		fmt.Fprintf(stderr, "gocrash: two files expected (vmlinux and vmcore), got %d\n", len(c.files))
		usage(stderr, fs)
		return 2
	}

	s, err := commands.Open(vmlinux, vmcore, commands.Options{Force: c.force, ZeroExcluded: c.zeroExcluded})
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	defer s.Close()

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	sh := repl.New(s)
	sh.Out, sh.Err, sh.Stdin = out, stderr, stdin
	sh.Echo = !c.silent

	if !c.silent {
		// crash prints its copyright and gdb's banner here; one line is
		// enough (a deliberate difference).
		fmt.Fprintf(out, "gocrash: crash-style kernel dump analyser (\"help\" lists the commands)\n\n")
		for _, w := range s.Diagnostics {
			fmt.Fprintln(out, w)
		}
		if err := commands.WriteStartup(s, out); err != nil {
			fmt.Fprintf(out, "sys: %v\n", err)
		}
		fmt.Fprintln(out)
	} else {
		// -s keeps stdout for command output, but a damaged dump or a
		// forced mismatch must still be said.
		for _, w := range s.Diagnostics {
			fmt.Fprintln(stderr, w)
		}
	}
	out.Flush()

	if c.inputFile != "" {
		f, err := os.Open(c.inputFile)
		if err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		quit := sh.RunBatch(f)
		f.Close()
		out.Flush()
		if quit {
			return status(sh)
		}
	}

	if f, ok := stdin.(*os.File); ok && readline.IsTerminal(int(f.Fd())) {
		sh.Out = stdout // readline draws on the terminal itself
		if err := sh.Interactive(); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		return status(sh)
	}
	sh.RunBatch(stdin)
	out.Flush()
	return status(sh)
}

func status(sh *repl.Shell) int {
	if sh.Failed() > 0 {
		return 1
	}
	return 0
}
