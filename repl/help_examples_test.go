package repl

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/commands"
	"gocrash/internal/testbed"
)

// helpExample is one "crash> LINE" of a command's EXAMPLES section and the
// output quoted below it.
type helpExample struct {
	dump   string // the sample dump it runs on
	line   string
	quoted []string // the output as the help shows it, "..." for lines left out
}

// sampleNamed is how a help page says its examples from there on run on
// another sample dump than the default: "(gocrash --sample 6.1-oops)".
var sampleNamed = regexp.MustCompile(`--sample ([0-9]+\.[0-9]+-[a-z0-9]+)`)

// examplePrompt starts an example line in an EXAMPLES section: the
// prompt, indented four spaces.
const examplePrompt = "    crash> "

// parseExamples splits an EXAMPLES section into its command lines and the
// output quoted under each: the lines indented at least four spaces that
// follow the command line, blank lines among them, up to the next command
// line or a line of prose (indented two spaces). The examples run on the
// default sample dump, or on the one the prose before them names with
// --sample.
func parseExamples(text string) []helpExample {
	var out []helpExample
	cur := -1
	dump := testbed.DefaultName
	end := func() {
		if cur >= 0 {
			q := out[cur].quoted
			for len(q) > 0 && q[len(q)-1] == "" {
				q = q[:len(q)-1]
			}
			out[cur].quoted = q
		}
		cur = -1
	}
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, examplePrompt):
			end()
			out = append(out, helpExample{dump: dump, line: strings.TrimPrefix(l, examplePrompt)})
			cur = len(out) - 1
		case cur >= 0 && strings.TrimSpace(l) == "":
			out[cur].quoted = append(out[cur].quoted, "")
		case cur >= 0 && strings.HasPrefix(l, "    "):
			out[cur].quoted = append(out[cur].quoted, strings.TrimPrefix(l, "    "))
		default:
			end()
			if m := sampleNamed.FindStringSubmatch(l); m != nil {
				dump = m[1]
			}
		}
	}
	end()
	return out
}

// elided is a quoted line standing for output lines the help leaves out.
func elided(l string) bool { return strings.TrimSpace(l) == "..." }

// matchQuoted reports whether the quoted output is the real output with
// some lines left out: the runs of quoted lines between "..." lines are
// found in order as runs of consecutive output lines; the first run starts
// the output unless the quote starts with "...", the last ends it unless
// the quote ends with "...". It returns the first quoted line it could not
// place.
func matchQuoted(quoted, got []string) (ok bool, missing string) {
	runs := [][]string{{}}
	for _, q := range quoted {
		if elided(q) {
			runs = append(runs, []string{})
			continue
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], q)
	}
	pos := 0
	for i, r := range runs {
		if len(r) == 0 {
			continue
		}
		at := -1
		switch {
		case i == len(runs)-1: // not followed by "...": it ends the output
			if p := len(got) - len(r); p >= pos && (i > 0 || p == 0) && equalLines(r, got[p:]) {
				at = p
			}
		case i == 0: // not after "...": it starts the output
			if len(r) <= len(got) && equalLines(r, got[:len(r)]) {
				at = 0
			}
		default: // the earliest place leaves the most room for the rest
			for p := pos; p+len(r) <= len(got); p++ {
				if equalLines(r, got[p:p+len(r)]) {
					at = p
					break
				}
			}
		}
		if at < 0 {
			return false, r[0]
		}
		pos = at + len(r)
	}
	return true, ""
}

// equalLines compares lines without their trailing blanks: crash pads
// some columns to their width, and a help page does not keep blanks at
// the end of its lines. A quoted line ending in " ..." stands for the
// output lines that start with the text before it (a long line cut).
func equalLines(quoted, got []string) bool {
	for i := range quoted {
		q, g := strings.TrimRight(quoted[i], " \t"), strings.TrimRight(got[i], " \t")
		if q == g {
			continue
		}
		if cut, ok := strings.CutSuffix(q, " ..."); ok && strings.HasPrefix(g, cut) {
			continue
		}
		return false
	}
	return true
}

func TestMatchQuoted(t *testing.T) {
	got := []string{"a", "b  ", "c", "d", "e long line"}
	for _, c := range []struct {
		quoted []string
		ok     bool
	}{
		{[]string{"a", "b", "c", "d", "e long line"}, true},
		{[]string{"a", "b", "...", "e long ..."}, true},
		{[]string{"a", "...", "c", "..."}, true},
		{[]string{"...", "d", "e long line"}, true},
		{[]string{"a", "b"}, false},                    // the output goes on
		{[]string{"b", "..."}, false},                  // not where the output starts
		{[]string{"...", "d"}, false},                  // not where it ends
		{[]string{"a", "...", "d", "c", "..."}, false}, // out of order
		{[]string{"a", "...", "x", "..."}, false},
	} {
		if ok, missing := matchQuoted(c.quoted, got); ok != c.ok {
			t.Errorf("matchQuoted(%q) = %v (%q), want %v", c.quoted, ok, missing, c.ok)
		}
	}
	ex := parseExamples("  Prose (gocrash --sample 6.1-oops):\n\n    crash> x\n    one\n\n    two\n\n  More:\n\n    crash> y\n    crash> z\n    three")
	if len(ex) != 3 || ex[0].dump != "6.1-oops" || ex[0].line != "x" || strings.Join(ex[0].quoted, "|") != "one||two" ||
		len(ex[1].quoted) != 0 || strings.Join(ex[2].quoted, "|") != "three" {
		t.Errorf("parseExamples: %+v", ex)
	}
}

// TestHelpExamples runs every help example on the sample dump, each
// command's examples in a session of their own in the order its help
// gives them, and checks that the output quoted under each is what
// gocrash prints there (with lines left out where the help says "..."),
// so that the help cannot go stale when the test bed is regenerated. An
// example that quotes no output must run without failing. The sample
// dump's files are named by their base names (KERNEL: vmlinux), not by
// their paths in the cache.
func TestHelpExamples(t *testing.T) {
	entries, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	format := map[string]string{} // the format --sample opens: ELF, else the first
	for _, e := range entries {
		if f, ok := format[e.Name]; !ok || e.Format == "elf" && f != "elf" {
			format[e.Name] = e.Format
		}
	}
	for _, c := range commands.Table() {
		_, section, _ := strings.Cut(c.HelpText(), "\nEXAMPLES\n")
		examples := parseExamples(section)
		if len(examples) == 0 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var out lockedBuffer
			var sh *Shell
			var paths *strings.Replacer
			open := ""
			defer func() {
				if sh != nil {
					sh.Session.Close()
				}
			}()
			for _, ex := range examples {
				if ex.dump != open {
					if sh != nil {
						sh.Session.Close()
					}
					f, ok := format[ex.dump]
					if !ok {
						t.Fatalf("crash> %s: the help names sample %s, which the test bed does not have", ex.line, ex.dump)
					}
					d := testbed.Open(t, ex.dump, f)
					s, err := commands.Open(d.Vmlinux, d.Vmcore, commands.Options{})
					if err != nil {
						t.Fatal(err)
					}
					sh, open = New(s), ex.dump
					sh.Out, sh.Err = &out, &out
					// "set scroll" shows the pager crash picks where less
					// is installed, whatever this machine has.
					sh.Pager = Pager{On: true, Kind: PagerLess}
					paths = strings.NewReplacer(filepath.Dir(d.Vmlinux)+"/", "", filepath.Dir(d.Vmcore)+"/", "")
				}
				out.Reset()
				failed := sh.Failed()
				if n := len(ex.quoted); n > 0 && ex.quoted[n-1] == "^C" {
					// What it printed before the ^C, and maybe more.
					ex.quoted = append(ex.quoted[:n-1], "...")
					if !runUntilInterrupt(t, sh, &out, ex) {
						continue
					}
				} else {
					sh.Exec(ex.line)
				}
				text := paths.Replace(out.String())
				// A quote cannot end in a blank line (that ends the
				// example): the output's last blank lines are not compared.
				got := strings.Split(strings.TrimRight(text, "\n"), "\n")
				if len(ex.quoted) == 0 {
					if sh.Failed() != failed {
						t.Errorf("crash> %s: failed, and its example quotes no output:\n%s", ex.line, text)
					}
					continue
				}
				if ok, missing := matchQuoted(ex.quoted, got); !ok {
					t.Errorf("crash> %s (on %s): the help quotes\n%s\nfirst line not found where quoted: %q\ngocrash prints:\n%s",
						ex.line, ex.dump, strings.Join(ex.quoted, "\n"), missing, text)
				}
			}
		})
	}
}

// runUntilInterrupt runs an example whose quote ends in "^C" (repeat): as
// typed at the prompt, stopped as Ctrl-C stops it once the quoted lines
// are out. It reports whether the command stopped.
func runUntilInterrupt(t *testing.T, sh *Shell, out *lockedBuffer, ex helpExample) bool {
	sh.atPrompt, sh.Pager.On = true, false // the test's output is no terminal to page
	defer func() { sh.atPrompt, sh.Pager.On = false, true }()
	done := make(chan struct{})
	go func() {
		sh.Exec(ex.line)
		close(done)
	}()
	for deadline := time.Now().Add(30 * time.Second); strings.Count(out.String(), "\n") < len(ex.quoted)-1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	sh.Interrupt()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("crash> %s: still running 10 s after ^C", ex.line)
		return false
	}
	sh.interrupted.Store(false) // Interactive does this before each line
	return true
}
