package repl

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Line
	}{
		{"log | grep -i oom", Line{Command: "log", Pipe: "grep -i oom"}},
		{"ps | grep '>'", Line{Command: "ps", Pipe: "grep '>'"}},
		{"log | grep x > out", Line{Command: "log", Pipe: "grep x > out"}},
		{`sym "a|b" 'c>d'`, Line{Command: `sym "a|b" 'c>d'`}},
		{"eval (1 | 2)", Line{Command: "eval (1 | 2)"}},
		{"rd (jiffies >> 2)", Line{Command: "rd (jiffies >> 2)"}},
		{"rd jiffies > /tmp/x", Line{Command: "rd jiffies", File: "/tmp/x"}},
		{"rd jiffies >> /tmp/a b", Line{Command: "rd jiffies", File: "/tmp/a b", Append: true}},
		{"ps 'a b' > /tmp/ps_'a_b'.txt", Line{Command: "ps 'a b'", File: "/tmp/ps_'a_b'.txt"}},
		{"p init_task.real_parent->comm > f", Line{Command: "p init_task.real_parent->comm", File: "f"}},
		{"p init_task.real_parent->comm", Line{Command: "p init_task.real_parent->comm"}},
		{"p !0", Line{Command: "p", Pipe: "0"}},
		{"p '!0'", Line{Command: "p '!0'"}},
		{"!ls -l", Line{Shell: "ls -l"}},
		{"  # comment", Line{Comment: true}},
		{"q", Line{Command: "q", WantQuit: true}},
		{"exit", Line{Command: "exit", WantQuit: true}},
		{"", Line{}},
	} {
		got, err := ParseLine(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"| grep x", "log |", "rd x >", "rd x >> ", "p !", `sym "open`} {
		if l, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) = %+v, want an error", bad, l)
		}
	}
}

func newTestShell() (*Shell, *bytes.Buffer) {
	var out bytes.Buffer
	sh := New(nil)
	sh.Out, sh.Err = &out, &out
	return sh, &out
}

func TestPipe(t *testing.T) {
	sh, out := newTestShell()
	sh.Exec("help rd | grep -c '^NAME'")
	if got := strings.TrimSpace(out.String()); got != "1" {
		t.Errorf("help rd | grep -c '^NAME' printed %q, want 1", got)
	}
	// The pipeline reads everything the command wrote.
	out.Reset()
	sh.Exec("help rd | wc -l")
	var direct bytes.Buffer
	sh2, _ := newTestShell()
	sh2.Out = &direct
	sh2.Exec("help rd")
	want := strings.Count(direct.String(), "\n")
	if got := strings.TrimSpace(out.String()); got != strconv.Itoa(want) {
		t.Errorf("help rd | wc -l = %s, want %d", got, want)
	}
	// A pipeline that stops reading early is no failure.
	out.Reset()
	sh.Exec("help rd | head -1")
	if sh.Failed() != 0 {
		t.Errorf("| head counted as a failure: %q", out.String())
	}
	// Errors go into the pipe, as in crash.
	out.Reset()
	sh.Exec("nosuchcommand | tr a-z A-Z")
	if got := out.String(); got != "GOCRASH: COMMAND NOT FOUND: NOSUCHCOMMAND\n" {
		t.Errorf("error through the pipe = %q", got)
	}
}

func TestRedirect(t *testing.T) {
	sh, out := newTestShell()
	f := filepath.Join(t.TempDir(), "out.txt")
	sh.Exec("help rd > " + f)
	first, err := os.ReadFile(f)
	if err != nil || !strings.Contains(string(first), "NAME\n  rd - read memory") || out.Len() != 0 {
		t.Fatalf("help rd > file: file %q (%v), terminal %q", first, err, out.String())
	}
	sh.Exec("help sys >> " + f)
	both, _ := os.ReadFile(f)
	if !strings.HasPrefix(string(both), string(first)) || !strings.Contains(string(both[len(first):]), "NAME\n  sys - ") {
		t.Errorf(">> did not append")
	}
	sh.Exec("help rd > " + f)
	again, _ := os.ReadFile(f)
	if !bytes.Equal(again, first) {
		t.Errorf("> did not truncate")
	}
	// An error goes to the file and to the terminal.
	sh.Exec("nosuchcommand > " + f)
	inFile, _ := os.ReadFile(f)
	if string(inFile) != "gocrash: command not found: nosuchcommand\n" || out.String() != string(inFile) {
		t.Errorf("error with > file: file %q, terminal %q", inFile, out.String())
	}
	if sh.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1", sh.Failed())
	}
}

func TestShellEscape(t *testing.T) {
	sh, out := newTestShell()
	sh.Exec("!echo hello")
	if out.String() != "hello\n" {
		t.Errorf("!echo hello printed %q", out.String())
	}
}

func TestBatch(t *testing.T) {
	sh, out := newTestShell()
	sh.Echo = true
	quit := sh.RunBatch(strings.NewReader("# a comment\nhelp rd | head -2\n\nnosuchcommand\nq\nhelp sys\n"))
	if !quit {
		t.Error("q did not end the batch")
	}
	want := "crash> help rd | head -2\n\nNAME\ncrash> nosuchcommand\ngocrash: command not found: nosuchcommand\ncrash> q\n"
	if out.String() != want {
		t.Errorf("batch output:\n%q\nwant\n%q", out.String(), want)
	}
	if sh.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1", sh.Failed())
	}
	// Silent (-s): only the outputs.
	sh, out = newTestShell()
	if sh.RunBatch(strings.NewReader("help rd | head -2\n")) {
		t.Error("end of input reported as quit")
	}
	if out.String() != "\nNAME\n" {
		t.Errorf("silent batch printed %q", out.String())
	}
}

func TestComplete(t *testing.T) {
	c := &Completer{}
	cands, n := c.Do([]rune("ru"), 2)
	if n != 2 || len(cands) != 1 || string(cands[0]) != "nq " {
		t.Errorf("complete %q = %q, %d", "ru", cands, n)
	}
	cands, n = c.Do([]rune("rd -6"), 5)
	if n != 2 || len(cands) != 1 || string(cands[0]) != "4 " {
		t.Errorf("complete %q = %q, %d", "rd -6", cands, n)
	}
	// The command table has rd, repeat and runq: three candidates, no
	// space yet.
	cands, _ = c.Do([]rune("help r"), 6)
	if len(cands) != 3 || string(cands[0]) != "d" || string(cands[1]) != "epeat" || string(cands[2]) != "unq" {
		t.Errorf("complete %q = %q, want rd, repeat and runq", "help r", cands)
	}
	cands, _ = c.Do([]rune("help ru"), 7)
	if len(cands) != 1 || string(cands[0]) != "nq " {
		t.Errorf("complete %q = %q", "help ru", cands)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"log | grep -i oom", "rd x >> 'a b'", "!ls", `sym "a|b"`, "eval (1 | 2) > f", "q", "((|", `">`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLine(s)
		if err == nil && l.Pipe == "" && l.File == "" && l.Shell == "" && !l.Comment && l.Command != strings.TrimSpace(s) {
			t.Errorf("ParseLine(%q) lost text: %+v", s, l)
		}
	})
}

// TestInputFile is crash's "< FILE": the file's lines run, echoed after
// the prompt; a missing file, no file, and an input file reading another
// are refused with crash's messages.
func TestInputFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "cmds")
	if err := os.WriteFile(f, []byte("# comment\nhelp rd | head -2\n<"+f+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh, out := newTestShell()
	sh.Echo = true
	sh.Exec("<" + f)
	want := "crash> help rd | head -2\n\nNAME\ncrash> <" + f + "\nembedded input files not allowed!\n"
	if out.String() != want {
		t.Errorf("< file:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	sh.Exec("< " + filepath.Join(dir, "nosuch"))
	sh.Exec("<")
	if want := "gocrash: open " + filepath.Join(dir, "nosuch") + ": no such file or directory\nno input file entered!\n"; out.String() != want {
		t.Errorf("bad < lines: %q, want %q", out.String(), want)
	}
}

// TestAliases: crash's built-in aliases, a new one with a pipe in it, its
// use with more words, and its deletion.
func TestAliases(t *testing.T) {
	sh, out := newTestShell()
	sh.Exec(`alias hr "help rd | head -3"`)
	if want := "ORIGIN   ALIAS    COMMAND\nruntime  hr       help rd | head -3 \n"; out.String() != want {
		t.Errorf("alias hr: %q, want %q", out.String(), want)
	}
	out.Reset()
	sh.Exec("hr")
	if out.String() != "\nNAME\n  rd - read memory\n" {
		t.Errorf("hr: %q", out.String())
	}
	out.Reset()
	sh.Exec("man rd | grep -c SYNOPSIS") // man is crash's alias of help
	if out.String() != "1\n" {
		t.Errorf("man rd: %q", out.String())
	}
	out.Reset()
	sh.Exec(`alias hr ""`)
	sh.Exec("alias hr")
	if want := "alias deleted: hr\nORIGIN   ALIAS    COMMAND\nalias does not exist: hr\n"; out.String() != want {
		t.Errorf("alias deletion: %q, want %q", out.String(), want)
	}
}

// FuzzShellLine types hostile lines at a shell without a dump: aliases,
// repeat, "<", "*" and the parser must never panic or hang.
func FuzzShellLine(f *testing.F) {
	for _, s := range []string{`alias a "help | head -1"`, "a", "repeat -1 help", "repeat", "<", "< /nonexistent", "*page 0", "alias", `alias b ""`, "dmesg -T", "quit"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "|!>") || strings.Contains(s, "<") && strings.TrimSpace(s) != "<" {
			return // no shell commands, and no files read or written, from the fuzzer
		}
		sh, _ := newTestShell()
		sh.Exec(s)
		sh.Exec("a")
	})
}

// TestCrashpager: $CRASHPAGER as crash's CRASHPAGER_valid() takes it.
func TestCrashpager(t *testing.T) {
	for _, c := range []struct{ env, warn string }{
		{"/bin/sh -c cat", ""},
		{"less | cat", `CRASHPAGER ignored: contains invalid character: "less | cat"`},
		{"/nonexistent/pager", `CRASHPAGER ignored: "/nonexistent/pager"`},
	} {
		t.Setenv("CRASHPAGER", c.env)
		argv, warn := crashpager()
		if warn != c.warn || (warn == "") != (len(argv) > 0) {
			t.Errorf("CRASHPAGER=%q: %q, %q; want warning %q", c.env, argv, warn, c.warn)
		}
	}
	t.Setenv("CRASHPAGER", "/bin/sh -c cat")
	p, _ := DefaultPager()
	if p.Kind != PagerCrashpager || !p.On || p.String() != "on (CRASHPAGER: /bin/sh -c cat)" {
		t.Errorf("DefaultPager with CRASHPAGER: %+v %q", p, p.String())
	}
	// set scroll: crash's words; with no pager (not a terminal) nothing
	// changes, as crash shows "scroll: off (none)".
	if err := p.set("off"); err != nil || p.String() != "off (CRASHPAGER: /bin/sh -c cat)" {
		t.Errorf("set scroll off: %v %q", err, p.String())
	}
	if err := p.set("1"); err != nil || !p.On {
		t.Errorf("set scroll 1: %v %v", err, p.On)
	}
	if err := p.set("sideways"); err == nil {
		t.Error("set scroll sideways accepted")
	}
	var none Pager
	if err := none.set("on"); err != nil || none.String() != "off (none)" {
		t.Errorf("no pager, set scroll on: %v %q", err, none.String())
	}
}
