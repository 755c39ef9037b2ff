// Command gocrash analyses a Linux kernel crash dump with a crash-like
// shell:
//
//	gocrash [-s] [-i FILE] [-f] [--zero-excluded] [--sample NAME] [VMLINUX VMCORE]
//	gocrash --version
//
// The two files may come in either order. With no files it opens the
// sample dump of the test bed (testdata/dumps). "gocrash --help" says the
// rest.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

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
	noCrashrc    bool
	noScroll     bool
	pager        repl.PagerKind // --less, --more, --CRASHPAGER
	extensions   bool           // -x
	sample       string
	files        []string
}

// usage is the --help text, in the GNU layout.
func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: gocrash [OPTION]... [VMLINUX VMCORE]
Analyse a Linux kernel crash dump with the commands of crash 8.0.6 (sys, bt,
log, ps, runq, kmem -i, rd, ...), printing what crash prints.

VMLINUX is the kernel with its debug information, VMCORE the dump (kdump ELF,
kdump-compressed, flattened or QEMU); they may come in either order.  With no
files, gocrash opens the bundled sample dump (`+sample.DefaultName+`; see --sample).

  -i, --input=FILE       run the commands in FILE first (echoed after the
                           prompt unless -s), then read commands from the
                           terminal or standard input, unless FILE ends with q
  -s, --silent           no banner, no system summary, no echo of batch
                           commands, no pager
  -f, --force            go on when VMLINUX does not match VMCORE
      --zero-excluded    read pages excluded from the dump as zeroes
                           (also --zero_excluded, crash's spelling)
      --no-crashrc       do not read the start-up files (--no_crashrc)
      --no-scroll        no pager (--no_scroll)
      --less, --more, --CRASHPAGER
                         page with /usr/bin/less, /bin/more or $CRASHPAGER
      --sample=NAME      open a bundled dump; --sample=list lists them
  -x                     crash's "preload extensions": gocrash has no
                           extension modules, so it only says so
  -h, --help             show this help and exit
      --version          show gocrash's version and exit

At a terminal, long output goes through a pager ($CRASHPAGER, else
"less -E -X", else more; "set scroll off" turns it off), and the history is
kept in ~/.gocrash_history ($GOCRASH_HISTORY).  At start gocrash runs the
lines of $HOME/.crashrc, $HOME/.gocrashrc, ./.crashrc and ./.gocrashrc
(aliases, set lines, any command); .gocrashrc is for lines crash would not
understand.

Exit status: 0 when the session ended normally (an interactive q always
exits 0); 1 when a command of a batch run (-i FILE, or commands on standard
input) failed, or the files could not be opened; 2 for bad arguments.
`)
}

// flagNames maps each spelling gocrash accepts to its canonical name:
// GNU --long options, crash's own --long_underscore spellings and the
// single-dash forms (Go's flag package takes -x and --x alike).
var flagAliases = map[string]string{
	"zero_excluded": "zero-excluded",
	"no_crashrc":    "no-crashrc",
	"no_scroll":     "no-scroll",
}

// parseArgs accepts flags before, between and after the two file names.
func parseArgs(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("gocrash", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&c.silent, "s", false, "")
	fs.BoolVar(&c.silent, "silent", false, "")
	fs.StringVar(&c.inputFile, "i", "", "")
	fs.StringVar(&c.inputFile, "input", "", "")
	fs.BoolVar(&c.force, "f", false, "")
	fs.BoolVar(&c.force, "force", false, "")
	fs.BoolVar(&c.zeroExcluded, "zero-excluded", false, "")
	fs.BoolVar(&c.noCrashrc, "no-crashrc", false, "")
	fs.BoolVar(&c.noScroll, "no-scroll", false, "")
	fs.BoolVar(&c.extensions, "x", false, "")
	fs.StringVar(&c.sample, "sample", "", "")
	pager := func(k repl.PagerKind) func(string) error {
		return func(string) error { c.pager = k; return nil }
	}
	fs.BoolFunc("less", "", pager(repl.PagerLess))
	fs.BoolFunc("more", "", pager(repl.PagerMore))
	fs.BoolFunc("CRASHPAGER", "", pager(repl.PagerCrashpager))
	for i, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if canon, ok := flagAliases[name]; ok {
			args[i] = "--" + canon
			if hasVal {
				args[i] += "=" + val
			}
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return c, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		c.files = append(c.files, args[0])
		args = args[1:]
	}
	return c, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if wantsVersion(args) {
		writeVersion(stdout)
		return 0
	}
	args, cpuProfile, memProfile := profileFlags(args)
	defer startProfiles(cpuProfile, memProfile, stderr)()
	c, err := parseArgs(args)
	if err == flag.ErrHelp {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\nTry 'gocrash --help' for more information.\n", strings.TrimPrefix(err.Error(), "flag "))
		return 2
	}
	if c.extensions {
		fmt.Fprintln(stderr, "gocrash: -x: gocrash has no extension modules to preload; going on without")
	}
	var vmlinux, vmcore string
	switch {
	case c.sample != "" && len(c.files) > 0:
		fmt.Fprintf(stderr, "gocrash: --sample opens a bundled dump: give it or two files, not both\n")
		return 2
	case c.sample == "list":
		writeSamples(stdout)
		return 0
	case c.sample != "":
		if vmlinux, vmcore, err = locateSample(c.sample); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			writeSamples(stderr)
			return 2
		}
	case len(c.files) == 0:
		if vmlinux, vmcore, err = sample.Default(); err != nil {
			fmt.Fprintf(stderr, "gocrash: no files given and the sample dump is not available: %v\n", err)
			fmt.Fprintf(stderr, "Try 'gocrash --help' for more information.\n")
			return 2
		}
	case len(c.files) == 2:
		vmlinux, vmcore = c.files[0], c.files[1]
	default:
		fmt.Fprintf(stderr, "gocrash: two files expected (vmlinux and vmcore), got %d\n", len(c.files))
		fmt.Fprintf(stderr, "Try 'gocrash --help' for more information.\n")
		return 2
	}

	// The input file is opened first: a mistyped name is said before the
	// dump is opened and the banner printed.
	var input *os.File
	if c.inputFile != "" {
		if input, err = os.Open(c.inputFile); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		defer input.Close()
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

	// crash pages only when its output is a terminal, and -s turns it off.
	if f, ok := stdout.(*os.File); ok && readline.IsTerminal(int(f.Fd())) {
		p, warn := repl.DefaultPager()
		if warn != "" {
			fmt.Fprintln(stderr, warn)
		}
		if c.pager != repl.PagerNone {
			if err := p.Choose(c.pager); err != nil {
				fmt.Fprintf(stderr, "gocrash: %v\n", err)
			}
		}
		p.On = p.On && !c.silent && !c.noScroll
		sh.Pager = p
	}

	if !c.silent {
		// crash prints its copyright and gdb's banner here; one line is
		// enough (a deliberate difference).
		fmt.Fprintf(out, "gocrash: crash-style kernel dump analyser (\"help\" lists the commands)\n")
		switch {
		case c.sample != "":
			fmt.Fprintf(out, "Bundled sample dump %s (\"gocrash --sample list\" says what each one shows).\n", c.sample)
		case len(c.files) == 0:
			fmt.Fprintf(out, "No files given: the bundled sample dump %s (\"gocrash --sample list\" shows the others).\n", sample.DefaultName)
		}
		fmt.Fprintln(out)
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

	if !c.noCrashrc {
		home, _ := os.UserHomeDir()
		if sh.RunStartupFiles(repl.StartupFiles(home)) {
			return status(sh)
		}
		out.Flush()
	}

	if input != nil {
		quit := sh.RunBatch(input)
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
		// A session typed at the terminal ends well with q, whatever
		// failed on the way (crash exits 0 too).
		return 0
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
