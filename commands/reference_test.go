package commands

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md from the command table")

// TestCommandReference: docs/commands.md is what WriteReference makes of
// the command table; after a change to a command's declaration or help,
// run go test ./commands -run TestCommandReference -update.
func TestCommandReference(t *testing.T) {
	path := filepath.Join("..", "docs", "commands.md")
	var b strings.Builder
	WriteReference(&b)
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./commands -run TestCommandReference -update writes it)", err)
	}
	if string(got) != b.String() {
		// The first line that differs is enough to say what changed.
		want, have := strings.Split(b.String(), "\n"), strings.Split(string(got), "\n")
		i := 0
		for i < len(want) && i < len(have) && want[i] == have[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Errorf("docs/commands.md is stale (line %d: table gives %q, file has %q): run go test ./commands -run TestCommandReference -update", i+1, line(want), line(have))
	}
}

// gocrashOnly are the registered commands crash 8.0.6 does not have, so
// that no crash answer can be recorded for them; each says why it exists.
var gocrashOnly = map[string]string{
	"free":    "procps's free(1) over the dump's memory counters (shell helper)",
	"uptime":  "uptime(1) from the dump's jiffies (shell helper)",
	"dmesg":   "the log as dmesg(1) prints it (shell helper)",
	"explain": "gocrash's own report of how the kernel died (beyond crash, issue #16); TestExplainCauses checks it on every dump",
}

// crashWithoutDumpAnswer are crash commands whose answer does not come
// from the dump, so that no recorded answer can check them.
var crashWithoutDumpAnswer = map[string]string{
	"help": "gocrash's own help pages (crash's text is its own manual, GPL); checked by TestCommandReference",
	"q":    "ends the session: there is no answer to record (cmd/gocrash tests its exit status)",
	"exit": "ends the session: there is no answer to record (cmd/gocrash tests its exit status)",
	"gdb":  "crash hands the line to its own gdb; gocrash has none and refuses in one line (commands/refused.go)",
}

// TestEveryCommandRecorded: every registered command has crash's answer
// recorded on at least one committed dump (testdata/dumps/*/crash*/CMD*.txt),
// unless it is listed above with the reason.
func TestEveryCommandRecorded(t *testing.T) {
	root, err := testbed.Root()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, e := range entries {
		d := testbed.Dump{Name: e.Name, Format: e.Format, Dir: filepath.Join(root, e.Name)}
		answers, err := d.Answers()
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range answers {
			name := strings.TrimSuffix(rel[strings.LastIndex(rel, "/")+1:], ".txt")
			name, _, _ = strings.Cut(name, "_")
			recorded[name] = true
		}
	}
	for _, c := range Table() {
		if why, ok := gocrashOnly[c.Name]; ok {
			if recorded[c.Name] {
				t.Errorf("%s is listed as gocrash-only (%s), but crash's answer is recorded", c.Name, why)
			}
			continue
		}
		if _, ok := crashWithoutDumpAnswer[c.Name]; ok {
			continue
		}
		if !recorded[c.Name] {
			t.Errorf("%s: no crash answer recorded on any committed dump (testdata/mkdump/record.sh '%s ...', and add it to CRASH_CMDS)", c.Name, c.Name)
		}
	}
}
