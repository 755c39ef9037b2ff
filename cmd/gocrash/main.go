// Command gocrash analyses a Linux kernel crash dump with a crash-like
// shell:
//
//	gocrash [-s] [-i FILE] [-f] [--zero-excluded] [--sample NAME] [VMLINUX VMCORE]
//	gocrash [--debuginfo-dir DIR]... VMCORE
//	gocrash --no-debuginfo VMCORE
//	gocrash --log VMCORE
//	gocrash --version
//
// The two files may come in either order. Given the dump alone it finds
// the vmlinux by the dump's build id (kernel.FindVmlinux). With no files
// it opens the sample dump of the test bed (testdata/dumps). "gocrash
// --help" says the rest.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chzyer/readline"

	"gocrash/commands"
	"gocrash/internal/sample"
	"gocrash/kernel"
	"gocrash/repl"
	"gocrash/vmcore"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--build-index" {
		os.Exit(buildIndex(os.Args[2], os.Stderr))
	}
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if indexToBuild != "" {
		startIndexBuild(indexToBuild)
	}
	os.Exit(code)
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
	debugDirs    []string // --debuginfo-dir, in order
	noDebuginfo  bool     // --no-debuginfo: the dump alone (kallsyms, BTF, ORC)
	logOnly      bool     // --log: print the kernel log and exit
	json         bool     // --json: every command prints a JSON document (implies -s)
	files        []string
}

// usage is the --help text, in the GNU layout.
func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: gocrash [OPTION]... [VMLINUX] VMCORE
  or:  gocrash [OPTION]...
Analyse a Linux kernel crash dump with the commands of crash 8.0.6 (sys, bt,
log, ps, runq, kmem -i, rd, ...), printing what crash prints.

VMLINUX is the kernel with its debug information, VMCORE the dump (kdump ELF,
kdump-compressed, flattened or QEMU); they may come in either order.  Given
VMCORE alone, gocrash looks for the vmlinux whose build id is the dump's
(VMCOREINFO BUILD-ID) in each --debuginfo-dir DIR, then in
/usr/lib/debug/.build-id/xx/rest.debug, /usr/lib/debug/boot/vmlinux-RELEASE,
/usr/lib/debug/lib/modules/RELEASE/vmlinux and /lib/modules/RELEASE/vmlinux,
and says which file it took; when none is found it goes on without one
(--no-debuginfo).  With no files, gocrash opens the bundled sample
dump (`+sample.DefaultName+`; see --sample).

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
      --no-debuginfo     read the dump alone, as when no vmlinux is found:
                           symbols from its kallsyms, types from its BTF,
                           backtraces from its ORC tables (kernels 6.0 and
                           later built with CONFIG_DEBUG_INFO_BTF); no source
                           lines, and only known global variables have types
      --log              print the kernel's log (crash's log) and exit, as
                           vmcore-dmesg does: given the dump alone it needs
                           nothing but the dump's VMCOREINFO
      --debuginfo-dir=DIR
                         look for the vmlinux of a dump given alone in DIR
                           first (DIR/.build-id/xx/rest.debug, DIR/boot/,
                           DIR/lib/modules/RELEASE/, DIR/vmlinux-RELEASE,
                           DIR/vmlinux); may be repeated
      --json             every command that has a JSON form prints one JSON
                           document ({"command", "result"} or {"command",
                           "error"}; docs/json.md); implies -s.  In the
                           shell: set output json|text
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

Examples:
  gocrash /usr/lib/debug/boot/vmlinux-6.1.0-28-amd64 /var/crash/202612011030/dump.202612011030
  gocrash /var/crash/202612011030/dump.202612011030
  gocrash --debuginfo-dir ~/debug -s -i cmds.txt vmcore
  gocrash --no-debuginfo /var/crash/202612011030/dump.202612011030
  gocrash --log /var/crash/202612011030/dump.202612011030
  echo 'ps' | gocrash --json vmlinux vmcore
  gocrash triage /var/crash           # one line a dump (gocrash triage --help)

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
	"debuginfo_dir": "debuginfo-dir",
	"no_crashrc":    "no-crashrc",
	"no_scroll":     "no-scroll",
	"no_debuginfo":  "no-debuginfo",
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
	fs.BoolVar(&c.noDebuginfo, "no-debuginfo", false, "")
	fs.BoolVar(&c.logOnly, "log", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.Func("debuginfo-dir", "", func(d string) error {
		if d == "" {
			return fmt.Errorf("--debuginfo-dir: empty directory name")
		}
		c.debugDirs = append(c.debugDirs, d)
		return nil
	})
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
	if len(args) > 0 && args[0] == "triage" {
		return runTriage(args[1:], stdout, stderr) // triage.go
	}
	c, err := parseArgs(args)
	if err == flag.ErrHelp {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\nTry 'gocrash --help' for more information.\n", strings.TrimPrefix(err.Error(), "flag "))
		return 2
	}
	if c.json {
		c.silent = true // stdout holds only the JSON documents
	}
	if c.extensions {
		fmt.Fprintln(stderr, "gocrash: -x: gocrash has no extension modules to preload; going on without")
	}
	var vmlinux, vmcore, found string
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
	case len(c.files) == 1 && (c.noDebuginfo || c.logOnly):
		// The log needs only VMCOREINFO: no vmlinux is looked for.
		vmcore = c.files[0]
	case len(c.files) == 1:
		vmcore = c.files[0]
		if vmlinux, err = findVmlinux(vmcore, c.debugDirs, stderr); errors.Is(err, errNoDump) {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		} else if err != nil {
			// The dump alone may be enough (kallsyms, BTF, ORC from its
			// memory): say why there is no vmlinux and go on without.
			fmt.Fprintf(stderr, "gocrash: %v; going on without debuginfo (--no-debuginfo)\n", err)
			vmlinux = ""
			break
		}
		found = fmt.Sprintf("The dump's vmlinux, found: %s", vmlinux)
		if c.silent {
			// stdout is the commands' under -s; the file taken is still said.
			fmt.Fprintf(stderr, "gocrash: %s\n", found)
		}
	case len(c.files) == 2 && c.noDebuginfo:
		fmt.Fprintf(stderr, "gocrash: --no-debuginfo reads the dump alone: give the vmcore only, not a vmlinux too\n")
		return 2
	case len(c.files) == 2:
		vmlinux, vmcore = c.files[0], c.files[1]
	default:
		fmt.Fprintf(stderr, "gocrash: one or two files expected (the vmcore, and its vmlinux), got %d\n", len(c.files))
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

	if c.noDebuginfo {
		vmlinux = "" // a sample opened --no-debuginfo
	}
	if vmlinux == "" {
		// The dump alone: its symbols and types live in the heap (gc.go).
		startWithoutVmlinux()
	}
	s, err := commands.Open(vmlinux, vmcore, commands.Options{Force: c.force, ZeroExcluded: c.zeroExcluded})
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	defer s.Close()
	if c.json {
		if err := s.SetJSONOutput(true); err != nil {
			fmt.Fprintf(stderr, "gocrash: --json: %v\n", err)
			return 1
		}
	}
	noteIndex(s.Vmlinux)

	if c.logOnly {
		// vmcore-dmesg's job: the log, then exit. What the dump lacks goes
		// to stderr, the log alone to stdout.
		for _, w := range s.Diagnostics {
			if w.Text != kernel.NoDebuginfoCost { // the log lacks nothing of it
				fmt.Fprintln(stderr, w)
			}
		}
		out := bufio.NewWriterSize(stdout, 64<<10)
		err := commands.Run(s, "log", out)
		out.Flush()
		if err != nil {
			if !commands.Printed(err) {
				fmt.Fprintf(stderr, "log: %v\n", err)
			}
			return 1
		}
		return 0
	}

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
		case found != "":
			fmt.Fprintf(out, "%s\n", found)
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

// findVmlinux finds the vmlinux of the dump given alone; each file passed
// over is said on stderr with its reason, and when none is found the error
// is one line naming where it looked.
func findVmlinux(dumpPath string, dirs []string, stderr io.Writer) (string, error) {
	d, err := vmcore.Open(dumpPath)
	if err != nil {
		return "", fmt.Errorf("%w (given one file, gocrash takes it as the dump and looks for its vmlinux)%w", err, errNoDump)
	}
	info := d.Info()
	d.Close()
	path, tried, err := kernel.FindVmlinux(info, dirs)
	for _, t := range tried {
		fmt.Fprintf(stderr, "gocrash: not taking %s: %s\n", t.Path, t.Why)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", dumpPath, err)
	}
	return path, nil
}

// errNoDump marks findVmlinux's failure to open the dump itself (then
// there is nothing to go on with); it adds nothing to the message.
var errNoDump = noDumpError{}

type noDumpError struct{}

func (noDumpError) Error() string { return "" }

func status(sh *repl.Shell) int {
	if sh.Failed() > 0 {
		return 1
	}
	return 0
}
