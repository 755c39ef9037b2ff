package commands

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestTableEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Table() {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if seen[n] {
				t.Errorf("command name %q registered twice", n)
			}
			seen[n] = true
		}
		if c.Run == nil || c.Summary == "" || c.HelpText() == "" || !strings.HasPrefix(c.UsageLine(), c.Name) {
			t.Errorf("%s: incomplete entry (Run set: %v, summary %q, usage %q)", c.Name, c.Run != nil, c.Summary, c.UsageLine())
		}
		if !strings.Contains(c.HelpText(), "EXAMPLES") {
			t.Errorf("%s: help has no EXAMPLES section", c.Name)
		}
	}
	for _, want := range []string{"help", "rd", "sys", "eval"} {
		if _, ok := Lookup(want); !ok {
			t.Errorf("Lookup(%q) failed", want)
		}
	}
}

func TestHelp(t *testing.T) {
	var b bytes.Buffer
	if err := Run(nil, "help", &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rd ", "sys ", "help ", "exit"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help list lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := Run(nil, "help rd", &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME\n  rd - read memory", "SYNOPSIS\n  rd [", "DESCRIPTION", "EXAMPLES"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help rd lacks %q", want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	var b bytes.Buffer
	if err := Run(nil, "nosuchcommand arg", &b); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown command: err = %v", err)
	}
	// A usage error prints crash's Usage block.
	b.Reset()
	err := Run(nil, "rd", &b)
	if err == nil || !strings.Contains(b.String(), "Usage:\n  rd [") || !strings.Contains(b.String(), `Enter "help rd" for details.`) {
		t.Errorf("rd without address: err %v, output %q", err, b.String())
	}
	// A panic in a command is one error line, and the table survives.
	register(Command{Name: "zz-panics", Usage: "zz-panics", Summary: "test", Help: "EXAMPLES",
		Run: func(*Session, []string, io.Writer) error { var m map[string]int; m["x"]++; panic("boom") }})
	err = Run(nil, "zz-panics", &b)
	if err == nil || !strings.HasPrefix(err.Error(), "zz-panics: internal error: ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("panicking command: err = %v", err)
	}
	tableMu.Lock()
	table = table[:len(table)-1]
	delete(byName, "zz-panics")
	tableMu.Unlock()
}

func TestEvalCommand(t *testing.T) {
	var b bytes.Buffer
	if err := Run(nil, "eval 1024", &b); err != nil {
		t.Fatal(err)
	}
	// crash's print_number() layout.
	want := "hexadecimal: 400  (1KB)\n    decimal: 1024  \n      octal: 2000\n     binary: " +
		strings.Repeat("0", 53) + "10000000000\n"
	if b.String() != want {
		t.Errorf("eval 1024:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestFormatMemorySize(t *testing.T) {
	// crash's get_memory_size(): rounded up to a GB within 64 MB of it,
	// ".0" dropped.
	for _, c := range []struct {
		total uint64
		want  string
	}{
		{512 << 20, "512 MB"},
		{(1 << 30) - 32<<20, "1 GB"},
		{(1 << 30) - 128<<20, "896 MB"},
		{2 << 30, "2 GB"},
		{(3 << 29) + 100<<20, "1.6 GB"},
		{100 << 10, "100 KB"},
	} {
		if got := formatMemorySize(c.total, 4096); got != c.want {
			t.Errorf("formatMemorySize(%d) = %q, want %q", c.total, got, c.want)
		}
	}
}

func TestFormatUptime(t *testing.T) {
	for secs, want := range map[int64]string{41: "00:00:41", 3661: "01:01:01", 2*86400 + 5: "2 days, 00:00:05"} {
		if got := formatUptime(time.Duration(secs) * time.Second); got != want {
			t.Errorf("formatUptime(%d) = %q, want %q", secs, got, want)
		}
	}
}

// "help ps" teaches what each column means, as a table no wider than a
// terminal, naming every column ps prints.
func TestHelpColumns(t *testing.T) {
	c, ok := Lookup("ps")
	if !ok {
		t.Fatal("no ps command")
	}
	var b strings.Builder
	WriteHelp(&b, c)
	out := b.String()
	_, cols, ok := strings.Cut(out, "COLUMNS\n")
	if !ok {
		t.Fatalf("help ps has no COLUMNS section:\n%s", out)
	}
	for _, name := range strings.Fields("PID PPID CPU TASK ST %MEM VSZ RSS COMM") {
		if !strings.Contains(cols, "| "+name+" ") {
			t.Errorf("help ps does not explain column %s:\n%s", name, cols)
		}
	}
	for _, line := range strings.Split(cols, "\n") {
		if len(line) > 100 {
			t.Errorf("line wider than 100 columns: %q", line)
		}
	}
}
