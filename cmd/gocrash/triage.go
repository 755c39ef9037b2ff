package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"gocrash/commands"
	"gocrash/internal/sample"
	"gocrash/kernel"
	"gocrash/vmcore"
)

func triageUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: gocrash triage [OPTION]... DUMP|DIR...
Explain many kernel dumps at once: one line a dump (its cause, crash
signature, release, panic task and where it happened), then the dumps
grouped by signature, the same bug first by count.

A DIR is searched (three levels deep) for dump files: ELF cores,
kdump-compressed and flattened dumps, recognised by their first bytes. Each
dump's vmlinux is the one with the dump's build id (VMCOREINFO BUILD-ID) in
a --vmlinux-dir, beside the dump or in the system's debug directories
(as gocrash VMCORE finds it), else a file named vmlinux beside the dump;
with none, the dump is read alone (its kallsyms, BTF and ORC tables), and
its line says so.
A dump that cannot be opened is a line with the reason; the run goes on.

  --json              JSON Lines: one object a dump, then one summary
                        object ({"summary": ...}); docs/json.md
  --vmlinux-dir=DIR   look for vmlinux files in DIR first (repeatable)
  -j, --jobs=N        dumps read at once (default: the number of cpus)
  --samples           the bundled sample dumps (every committed format)
  -h, --help          show this help

Examples:
  gocrash triage /var/crash
  gocrash triage --json --vmlinux-dir /srv/debug /srv/dumps/*/vmcore > triage.jsonl
  gocrash triage --samples
`)
}

// A triageJob is one dump and its vmlinux; when none was found, vmlinux
// is "" and alone says why (the dump is read alone), and err is set when
// the dump itself could not be read.
type triageJob struct {
	dump, vmlinux, alone string
	err                  error
}

func runTriage(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("gocrash triage", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	var (
		asJSON, samples bool
		jobs            int
		dirs            []string
	)
	fset.BoolVar(&asJSON, "json", false, "")
	fset.BoolVar(&samples, "samples", false, "")
	fset.IntVar(&jobs, "j", runtime.NumCPU(), "")
	fset.IntVar(&jobs, "jobs", runtime.NumCPU(), "")
	fset.Func("vmlinux-dir", "", func(d string) error {
		if d == "" {
			return errors.New("--vmlinux-dir: empty directory name")
		}
		dirs = append(dirs, d)
		return nil
	})
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			triageUsage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "gocrash triage: %v\nTry 'gocrash triage --help' for more information.\n", strings.TrimPrefix(err.Error(), "flag "))
		return 2
	}
	if jobs < 1 {
		jobs = 1
	}
	if os.Getenv("GOGC") == "" {
		// A triage run is many short sessions, each dropped whole when
		// its dump is done: collecting less often saves a third of the
		// CPU (measured on the sample dumps: 3.1 s -> 1.9 s) for a
		// higher peak (gc.go's 50 suits one long session).
		debug.SetGCPercent(200)
	}
	var list []triageJob
	if samples {
		entries, err := sample.List()
		if err != nil {
			fmt.Fprintf(stderr, "gocrash triage: %v\n", err)
			return 1
		}
		for _, e := range entries {
			d, err := sample.Locate(e.Name, e.Format)
			list = append(list, triageJob{dump: d.Vmcore, vmlinux: d.Vmlinux, err: err})
			if err != nil {
				list[len(list)-1].dump = e.Name + "/" + e.Format
			}
		}
	}
	for _, a := range fset.Args() {
		found, err := triageFiles(a)
		if err != nil {
			list = append(list, triageJob{dump: a, err: err})
			continue
		}
		for _, f := range found {
			v, alone, err := triageVmlinux(f, dirs)
			list = append(list, triageJob{dump: f, vmlinux: v, alone: alone, err: err})
		}
	}
	if len(list) == 0 {
		fmt.Fprintf(stderr, "gocrash triage: no dumps given\nTry 'gocrash triage --help' for more information.\n")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	results := triageAll(ctx, list, jobs, func(r commands.TriageResult) {
		if asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			fmt.Fprintln(stdout, triageLine(r))
		}
	})
	elapsed := time.Since(start)
	sum := commands.SummarizeTriage(results, elapsed)
	if asJSON {
		b, _ := json.Marshal(struct {
			Summary commands.TriageSummary `json:"summary"`
		}{sum})
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		writeSummary(stdout, sum)
	}
	if sum.Failed > 0 {
		return 1
	}
	return 0
}

// triageAll runs the jobs on a bounded number of workers and hands each
// result to emit as it comes, in the order the dumps were given.
func triageAll(ctx context.Context, list []triageJob, jobs int, emit func(commands.TriageResult)) []commands.TriageResult {
	// Dumps of one kernel build share its vmlinux: symbols and types
	// are read once (on the committed dumps, 8 of 9 share the 6.1.192
	// vmlinux).
	var pool commands.VmlinuxPool
	defer pool.Close()
	results := make([]commands.TriageResult, len(list))
	done := make([]chan struct{}, len(list))
	for i := range done {
		done[i] = make(chan struct{})
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs && w < len(list); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				j := list[i]
				switch {
				case ctx.Err() != nil:
					results[i] = commands.TriageResult{Dump: j.dump, PID: -1, CPU: -1, Error: "interrupted"}
				case j.err != nil:
					results[i] = commands.TriageResult{Dump: j.dump, PID: -1, CPU: -1, Error: j.err.Error()}
				default:
					results[i] = commands.TriageDump(ctx, &pool, j.vmlinux, j.dump)
					if j.vmlinux == "" {
						results[i].DumpAlone = j.alone
					}
				}
				close(done[i])
			}
		}()
	}
	go func() {
		for i := range list {
			work <- i
		}
		close(work)
	}()
	for i := range list {
		<-done[i]
		emit(results[i])
	}
	wg.Wait()
	return results
}

// triageFiles lists the dumps a command-line argument names.
func triageFiles(arg string) ([]string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if !isDumpFile(arg) {
			return nil, fmt.Errorf("%s: not a dump (no ELF core, kdump or flattened header)", arg)
		}
		return []string{arg}, nil
	}
	var out []string
	root := filepath.Clean(arg)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable subdirectory is passed over
		}
		if d.IsDir() {
			if strings.Count(strings.TrimPrefix(p, root), string(filepath.Separator)) >= 3 {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && isDumpFile(p) {
			out = append(out, p)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no dump files in it", arg)
	}
	return out, err
}

// isDumpFile looks at a file's first bytes: an ELF core (e_type ET_CORE),
// a kdump-compressed dump ("KDUMP   ", makedumpfile's disk_dump_header)
// or a flattened one ("makedumpfile", its makedumpfile_header).
func isDumpFile(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [18]byte
	if n, _ := io.ReadFull(f, b[:]); n < len(b) {
		return false
	}
	switch {
	case string(b[:4]) == "\x7fELF":
		return b[16] == 4 && b[17] == 0 // ET_CORE, little-endian
	case string(b[:8]) == "KDUMP   ":
		return true
	case string(b[:12]) == "makedumpfile":
		return true
	}
	return false
}

// triageVmlinux finds a dump's vmlinux: by build id in dirs, beside the
// dump and where gocrash VMCORE looks; else a vmlinux file beside it.
// With none, the dump is read alone (symbols from its kallsyms, types
// from its BTF, as gocrash VMCORE does): vmlinux is "" and alone says why.
func triageVmlinux(dump string, dirs []string) (vmlinux, alone string, err error) {
	d, err := vmcore.Open(dump)
	if err != nil {
		return "", "", err
	}
	info := d.Info()
	d.Close()
	beside := filepath.Dir(dump)
	path, _, err := kernel.FindVmlinux(info, append(append([]string(nil), dirs...), beside))
	if err == nil {
		return path, "", nil
	}
	if st, serr := os.Stat(filepath.Join(beside, "vmlinux")); serr == nil && st.Mode().IsRegular() {
		// Open's linux_banner check decides whether it is the dump's.
		return filepath.Join(beside, "vmlinux"), "", nil
	}
	// FindVmlinux's advice names gocrash's --debuginfo-dir; triage's is
	// --vmlinux-dir.
	why, _, _ := strings.Cut(err.Error(), ": a vmlinux with debug info is needed")
	return "", why + " (--vmlinux-dir DIR gives it: the types and source lines only the vmlinux has)", nil
}

func triageLine(r commands.TriageResult) string {
	if r.Error != "" {
		return fmt.Sprintf("%s  ERROR  %s", r.Dump, r.Error)
	}
	where := r.Function
	if r.Module != "" {
		where += " [" + r.Module + "]"
	}
	if where == "" {
		where = "-"
	}
	line := fmt.Sprintf("%s  %s  %s  %s  PID %d %q CPU %d  in %s", r.Dump, r.Signature, r.Release, r.Kind, r.PID, r.Command, r.CPU, where)
	if r.DumpAlone != "" {
		line += "  (no vmlinux: the dump alone)"
	}
	return line
}

func writeSummary(w io.Writer, s commands.TriageSummary) {
	fmt.Fprintf(w, "\n%d dumps (%d failed) in %.2f s: %.1f dumps/s\n", s.Dumps, s.Failed, s.Seconds, s.DumpsPerSec)
	for _, g := range s.Groups {
		fmt.Fprintf(w, "%5d  %s  %s  release %s  %s\n", g.Count, g.Signature, g.Kind, strings.Join(g.Releases, ","), g.SignatureOf)
	}
	for reason, n := range s.FailedReasons {
		fmt.Fprintf(w, "%5d  failed: %s\n", n, reason)
	}
}
