package commands

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

func init() {
	register(Command{
		Name:    "explain",
		Summary: "explain the crash",
		Description: `  This command is gocrash's own (crash has none): it reads the dump the way
  an engineer does after a panic and writes the walk down.  It says how the
  kernel died (a sysrq crash, a NULL pointer dereference or other page
  fault, a general protection fault, BUG(), a soft or hard lockup, a hung
  task, an OOM panic, an RCU stall, an explicit panic()), and for a fault
  the error code bit by bit, CR2, the faulting function and module, the
  faulting instruction disassembled from the dump's memory and the
  register that made it fault.  Then the task that died and what ran on
  the other cpus, its call trace without the panic and kexec plumbing, the
  taint flags and the modules behind them, what the log reported before
  the crash (WARN reports, OOM kills, SYN floods, lockups, hung tasks,
  segfaults, I/O and filesystem errors, with their times), the state at
  the crash where it is notable (free memory, swap, slab, tasks in D
  state), a signature of the crash and the commands to look at next.

  Each finding names the crash command that shows its evidence, so that
  it can be checked by hand.

  The signature is a hash of the kind of crash, the module it happened
  in and the top four meaningful frames of the trace (the blocked task's
  for a hung task) without offsets or compiler suffixes: two dumps of the
  same bug give the same signature on other machines and builds; the
  release is shown beside it.`,
		Flags: []Flag{
			{Name: "v", Help: "verbose: print the output of each finding's command inline, below it."},
		},
		Examples: `  The sample dump where a module's init wrote through a NULL pointer
  (gocrash --sample 6.1-oops):

    crash> explain
    CAUSE: NULL pointer dereference in gocrash_write_null.constprop.0 (module gocrash_oops): kernel code accessed address 0x0, in the unmapped first page
      no panic() line: the Oops went straight to the capture kernel (crash_kexec from oops_end), as it does when kdump is loaded
        [   51.173811] BUG: kernel NULL pointer dereference, address: 0000000000000000
        ... Oops: 0002 [#1] SMP
      shown by: log | grep -A3 'BUG: kernel'

    FAULT
      error code 0x0002: supervisor write access in kernel mode, not-present page
      bit 0 (X86_PF_PROT) = 0: the page was not present
      bit 1 (X86_PF_WRITE) = 1: a write access
      bit 2 (X86_PF_USER) = 0: in kernel mode (supervisor)
      ...
      the faulting instruction: movl $0x6b6b6b6b,0x0
      memory operand: displacement 0x0
      its address is 0x0, the CR2 of the fault
      no register was involved: the address is a constant in the instruction itself (a NULL pointer the compiler folded in)
      shown by: dis -r ffffffffc0320018
    ...

  The same with each command's output below it:

    crash> explain -v`,
		Run:  runExplain,
		JSON: explainJSON,
	})
}

func runExplain(s *Session, args []string, w io.Writer) error {
	verbose := false
	g := parseFlags("explain", args)
	for g.next() {
		switch g.flag {
		case "v":
			verbose = true
		}
	}
	if g.err != nil {
		return g.err
	}
	if len(g.rest()) > 0 {
		return usageErr("explain", "unexpected argument: %s", g.rest()[0])
	}
	ex, err := s.Explain(s.Ctx())
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	writeExplanation(s, bw, ex, verbose)
	return bw.Flush()
}

func explainJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("explain", args)
	}
	return s.Explain(s.Ctx())
}

func writeExplanation(s *Session, w *bufio.Writer, ex *Explanation, verbose bool) {
	ran := map[string]bool{}
	shown := func(indent, cmd string) {
		if cmd == "" {
			return
		}
		if verbose && ran[cmd] {
			fmt.Fprintf(w, "%sshown by: %s (its output is above)\n", indent, cmd)
			return
		}
		ran[cmd] = true
		fmt.Fprintf(w, "%sshown by: %s\n", indent, cmd)
		if verbose {
			out := runForExplain(s, cmd)
			for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
				fmt.Fprintf(w, "%s  | %s\n", indent, l)
			}
		}
	}
	finding := func(indent string, f Finding) {
		for _, l := range strings.Split(f.Text, "\n") {
			if l != "" {
				fmt.Fprintf(w, "%s%s\n", indent, l)
			}
		}
		for _, l := range f.Evidence {
			fmt.Fprintf(w, "%s  %s\n", indent, l)
		}
		shown(indent, f.Command)
	}
	c := ex.Cause
	fmt.Fprintf(w, "CAUSE: %s\n", c.Summary)
	finding("  ", c.Detail)
	if ex.Fault != nil && len(ex.Fault.Findings) > 0 {
		fmt.Fprintf(w, "\nFAULT\n")
		for _, f := range ex.Fault.Findings {
			finding("  ", f)
		}
	}
	if t := ex.Task; t != nil {
		kind := "user task"
		if t.Kthread {
			kind = "kernel thread"
		}
		if t.FromLog {
			fmt.Fprintf(w, "\nTASK: PID %d %q on CPU %d (from the log's panic report: the task table could not be read)\n", t.PID, t.Command, t.CPU)
			shown("  ", "log | grep -A1 'not syncing'")
		} else {
			fmt.Fprintf(w, "\nTASK: PID %d %q on CPU %d, state %s (%s), task_struct %x\n", t.PID, t.Command, t.CPU, orDash(t.State), kind, uint64(t.Task))
			shown("  ", "set")
		}
		if t.Ran != "" {
			fmt.Fprintf(w, "  it had been running on CPU %d for %s (days hh:mm:ss.ms) when the dump was taken\n", t.CPU, t.Ran)
			shown("  ", "runq -m")
		}
	}
	if len(ex.CPUs) > 0 {
		fmt.Fprintf(w, "\nCPUS\n")
		for _, c := range ex.CPUs {
			note := ""
			switch {
			case c.Panic:
				note = " (the panic task)"
			case c.Idle:
				note = " (idle)"
			}
			fmt.Fprintf(w, "  CPU %d: PID %d %q%s\n", c.CPU, c.PID, c.Command, note)
		}
		shown("  ", "ps | grep '>'")
	}
	if len(ex.Trace) > 0 {
		fmt.Fprintf(w, "\nTRACE (the panic task's, without the panic and kexec plumbing)\n")
		for _, f := range ex.Trace {
			fmt.Fprintf(w, "  %s\n", f)
		}
		if ex.TraceFromLog {
			shown("  ", "log | grep -A30 'not syncing'")
		} else {
			shown("  ", "bt")
		}
	}
	t := ex.Taint
	if t.Mask == 0 {
		fmt.Fprintf(w, "\nTAINT: not tainted\n")
	} else {
		fmt.Fprintf(w, "\nTAINT: %s (tainted_mask %#x; the log's \"Tainted: %s\")\n", t.Letters, t.Mask, t.Flags)
		for _, m := range t.Meaning {
			fmt.Fprintf(w, "  %s\n", m)
		}
		if len(t.Modules) > 0 {
			fmt.Fprintf(w, "  modules that tainted it: %s\n", strings.Join(t.Modules, " "))
		}
	}
	if len(t.Loading) > 0 {
		fmt.Fprintf(w, "  being loaded (init not finished): %s\n", strings.Join(t.Loading, " "))
	}
	if t.LastUnloaded != "" {
		fmt.Fprintf(w, "  last unloaded: %s\n", t.LastUnloaded)
	}
	shown("  ", "mod")
	if len(ex.Before) > 0 {
		fmt.Fprintf(w, "\nBEFORE THE CRASH (from the log)\n")
		for _, f := range ex.Before {
			us := int64(f.Time * 1e6)
			fmt.Fprintf(w, "  at %d.%06d s: ", us/1e6, us%1e6)
			lines := strings.Split(f.Text, "\n")
			fmt.Fprintf(w, "%s\n", lines[0])
			finding("    ", Finding{Text: strings.Join(lines[1:], "\n"), Evidence: f.Evidence, Command: f.Command})
		}
	}
	if len(ex.State) > 0 {
		fmt.Fprintf(w, "\nSTATE AT THE CRASH\n")
		for _, f := range ex.State {
			finding("  ", f)
		}
	}
	fmt.Fprintf(w, "\nSIGNATURE: %s (release %s): %s\n", ex.Signature, orDash(ex.Release), ex.SignatureOf)
	if len(ex.Next) > 0 {
		fmt.Fprintf(w, "\nNEXT\n")
		for _, n := range ex.Next {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if len(ex.Problems) > 0 {
		fmt.Fprintf(w, "\nNOT READ\n")
		for _, p := range ex.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// runForExplain runs one of explain's own command lines: a command,
// then optionally "| grep [-i] [-E] [-A N] 'PATTERN'", "| tail -N" or
// "| head -N", done here (explain never starts a shell).
func runForExplain(s *Session, line string) string {
	segs := strings.Split(line, " | ")
	var buf bytes.Buffer
	if err := RunContext(s.Ctx(), s, segs[0], &buf); err != nil && !Printed(err) {
		fmt.Fprintf(&buf, "%v\n", err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for _, seg := range segs[1:] {
		lines = filterLines(lines, seg)
	}
	return strings.Join(lines, "\n")
}

var reFilter = regexp.MustCompile(`^(grep|tail|head)((?: -[A-Za-z]+\d*| -[AB] ?\d+)*)(?: '(.*)'| ([^' -]\S*))?$`)

// filterLines applies one grep, tail or head of explain's command lines.
func filterLines(lines []string, seg string) []string {
	m := reFilter.FindStringSubmatch(strings.TrimSpace(seg))
	if m == nil {
		return append(lines, "(explain cannot run: "+seg+")")
	}
	opts := strings.Fields(m[2])
	switch m[1] {
	case "tail", "head":
		n := 10
		if len(opts) > 0 {
			if v, err := strconv.Atoi(strings.TrimPrefix(opts[0], "-")); err == nil {
				n = v
			}
		}
		if n > len(lines) {
			n = len(lines)
		}
		if m[1] == "tail" {
			return lines[len(lines)-n:]
		}
		return lines[:n]
	}
	after, fold, ext := 0, false, false
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		switch {
		case o == "-i":
			fold = true
		case o == "-E":
			ext = true
		case o == "-i" || o == "-iE" || o == "-Ei":
			fold, ext = true, true
		case strings.HasPrefix(o, "-A"):
			v := strings.TrimPrefix(o, "-A")
			if v == "" && i+1 < len(opts) {
				i++
				v = opts[i]
			}
			after, _ = strconv.Atoi(v)
		}
	}
	pat := m[3] + m[4]
	if !ext {
		pat = regexp.QuoteMeta(pat)
	}
	if fold {
		pat = "(?i)" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return []string{"(explain: bad pattern " + m[3] + ")"}
	}
	var out []string
	until := -1
	for i, l := range lines {
		if re.MatchString(l) {
			if until >= 0 && until < i-1 && after > 0 {
				out = append(out, "--")
			}
			out = append(out, l)
			until = i + after
		} else if i <= until {
			out = append(out, l)
		}
	}
	return out
}
