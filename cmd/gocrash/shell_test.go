package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/commands"
	"gocrash/internal/testbed"
	"gocrash/kernel"
)

// shellGoldens are crash 8.0.6's answers for the shell's own commands,
// recorded in one batch session in this order, so "alias" after "alias kp
// kmem -p" lists the new alias too.
var shellGoldens = []string{
	"alias kp kmem -p",
	"alias",
	"alias sys foo",
	"alias xx nosuchcmd",
	"repeat",
	"set scroll",
	"set scroll off",
	"set scroll on",
	"set scroll less",
	"set zero_excluded",
}

func TestShellGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		n := 0
		for _, cmd := range shellGoldens {
			want, ok := d.Golden(cmd)
			if !ok {
				continue
			}
			n++
			batch := cmd + "\n"
			if cmd == "alias" {
				batch = "alias kp kmem -p > /dev/null\n" + batch
			}
			_, out, _ := runCLI(t, batch, "-s", d.Vmlinux, d.Vmcore)
			if out != want {
				t.Errorf("%s %s: %q\n--- got\n%s--- crash\n%s", d.Name, d.Format, cmd, out, want)
			}
		}
		// dmesg is crash's built-in alias of log.
		if want, ok := d.Golden("log -T"); ok {
			if _, out, _ := runCLI(t, "dmesg -T\n", "-s", d.Vmlinux, d.Vmcore); out != want {
				t.Errorf("%s %s: dmesg -T is not crash's log -T:\n%s", d.Name, d.Format, out)
			}
		}
		if d.Name == testbed.DefaultName && n != len(shellGoldens) {
			t.Errorf("%s: %d of the %d shell goldens recorded", d.Name, n, len(shellGoldens))
		}
	}
}

// TestSetVariables: "set -v" prints crash's list, line for line: crash's
// variables in crash's order (radix and print_max settable, the others
// with the values gocrash's behaviour has), none of gocrash's own.
func TestSetVariables(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	want, ok := d.Golden("set -v")
	if !ok {
		t.Fatal("no golden for set -v")
	}
	// crash shows the paths it was given (where the test bed recorded
	// it); so does gocrash, the test's.
	lines := strings.Split(want, "\n")
	for i, l := range lines {
		name, _, _ := strings.Cut(strings.TrimSpace(l), ":")
		if given, ok := map[string]string{"namelist": d.Vmlinux, "dumpfile": d.Vmcore}[name]; ok {
			if j := strings.Index(l, ": "); j >= 0 {
				lines[i] = l[:j+2] + given
			}
		}
	}
	want = strings.Join(lines, "\n")
	_, out, _ := runCLI(t, "set -v\n", "-s", d.Vmlinux, d.Vmcore)
	if out != want {
		t.Errorf("set -v:\n%s\ncrash:\n%s", out, want)
	}
	for _, n := range []string{commands.UnwindNotes, commands.OutputSetting} {
		if strings.Contains(out, n+":") {
			t.Errorf("set -v lists gocrash's own %s", n)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestHelpListsCrashCommands: "help" names every command of crash 8.0.6's
// own help list (recorded), marked "(name)" where gocrash lacks it, and
// gocrash's own commands marked "name+".
func TestHelpListsCrashCommands(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	want, ok := d.Golden("help")
	if !ok {
		t.Fatal("no golden for help")
	}
	grid := func(s string) []string {
		var names []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "For help") || strings.HasPrefix(l, "crash version") || strings.HasPrefix(l, "(name)") || strings.HasPrefix(l, "name+") {
				break
			}
			names = append(names, strings.Fields(l)...)
		}
		return names
	}
	crashNames := grid(want)
	if len(crashNames) < 50 {
		t.Fatalf("crash's help list has %d names:\n%s", len(crashNames), want)
	}
	_, out, _ := runCLI(t, "help\n", "-s", d.Vmlinux, d.Vmcore)
	got := map[string]string{}
	for _, n := range grid(out) {
		got[strings.Trim(n, "()+")] = n
	}
	for _, n := range crashNames {
		mark, ok := got[n]
		if !ok {
			t.Errorf("help does not list crash's %q", n)
			continue
		}
		lookup := n
		if n == "*" {
			lookup = "struct"
		}
		_, has := commands.Lookup(lookup)
		if has != (mark == n) {
			t.Errorf("help marks %q as %q; gocrash has it: %v", n, mark, has)
		}
		delete(got, n)
	}
	for n, mark := range got {
		if mark != n+"+" {
			t.Errorf("help lists %q, which crash lacks, as %q (want %q)", n, mark, n+"+")
		}
	}
	// An unknown word is not found; sbitmapq, the last crash command
	// gocrash lacked, answers as crash does.
	_, out, _ = runCLI(t, "nosuchcommand\nsbitmapq\n", "-s", d.Vmlinux, d.Vmcore)
	if !strings.Contains(out, "gocrash: command not found: nosuchcommand\n") ||
		!strings.Contains(out, "sbitmapq: command argument is required\n") {
		t.Errorf("unknown command and sbitmapq:\n%s", out)
	}
}

// TestStartupFiles runs with a temporary HOME and working directory:
// $HOME/.crashrc, $HOME/.gocrashrc, ./.crashrc and ./.gocrashrc run in
// that order before the first command, their aliases work, their failures
// do not set the exit status, an untrusted file is refused, and
// --no-crashrc skips them all.
func TestStartupFiles(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	home, work := t.TempDir(), t.TempDir()
	write := func(dir, name, text string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(home, ".crashrc", "# crash's own\nalias jj rd -64 jiffies 4\nset hash off\n", 0o644)
	write(home, ".gocrashrc", "set unwind_notes on\n", 0o644)
	write(work, ".crashrc", "alias bb bt\n", 0o644)
	write(work, ".gocrashrc", "alias pp ps -p 1\n", 0o666)
	wd, _ := os.Getwd()
	if err := os.Chdir(work); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)

	run := func(stdin string, args ...string) (int, string) {
		var out, errb strings.Builder
		tempHome(t, home)
		code := run(append(args, d.Vmlinux, d.Vmcore), strings.NewReader(stdin), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := run("jj\nbb\nalias\nset unwind_notes\n", "-s")
	if code != 0 {
		t.Errorf("exit status %d after a failed start-up line and good commands:\n%s", code, out)
	}
	jiffies, _ := d.Golden("rd -64 jiffies 4")
	for _, want := range []string{
		"set: hash cannot be changed during a session",      // the failing line of ~/.crashrc is said
		"WARNING: not using untrusted file: \".gocrashrc\"", // others may write ./.gocrashrc
		jiffies, // jj from ~/.crashrc
		"    (ORC could not unwind: #2 found with DWARF CFI (.debug_frame))", // bb from ./.crashrc, with ~/.gocrashrc's setting
		"runtime  jj       rd -64 jiffies 4 \nruntime  bb       bt \n",
		"unwind_notes: on\n",
	} {
		if want == "" || !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "runtime  pp") {
		t.Errorf("the untrusted file ran:\n%s", out)
	}
	if i, j := strings.Index(out, "set: hash"), strings.Index(out, "untrusted"); i < 0 || j < 0 || i > j {
		t.Errorf("start-up files out of order:\n%s", out)
	}
	// Without -s each start-up line is echoed after the prompt, as crash
	// echoes input-file lines.
	_, out = run("q\n")
	if !strings.Contains(out, "crash> alias jj rd -64 jiffies 4\n") {
		t.Errorf("start-up lines not echoed:\n%s", out)
	}
	_, out = run("alias jj\n", "-s", "--no-crashrc")
	if out != "ORIGIN   ALIAS    COMMAND\nalias does not exist: jj\n" {
		t.Errorf("--no-crashrc: %q", out)
	}
}

// TestFlags: GNU --long options, crash's --long_underscore spellings and
// the single-dash forms; --help says what no arguments do; a missing -i
// file is said before the dump is opened.
func TestFlags(t *testing.T) {
	code, out, _ := runCLI(t, "", "--help")
	if code != 0 || !strings.HasPrefix(out, "Usage: gocrash [OPTION]... [VMLINUX] VMCORE\n  or:  gocrash [OPTION]...\n") ||
		!strings.Contains(out, "With no files, gocrash opens the bundled sample\ndump") ||
		!strings.Contains(out, "Given\nVMCORE alone, gocrash looks for the vmlinux") || !strings.Contains(out, "  -i, --input=FILE") {
		t.Errorf("--help: status %d\n%s", code, out)
	}
	if code, out2, _ := runCLI(t, "", "-h"); code != 0 || out2 != out {
		t.Errorf("-h differs from --help (status %d)", code)
	}
	code, _, errs := runCLI(t, "", "--bogus")
	if code != 2 || errs != "gocrash: provided but not defined: -bogus\nTry 'gocrash --help' for more information.\n" {
		t.Errorf("--bogus: status %d, stderr %q", code, errs)
	}
	code, out, errs = runCLI(t, "", "-i", "/nonexistent/cmds.txt")
	if code != 1 || out != "" || errs != "gocrash: open /nonexistent/cmds.txt: no such file or directory\n" {
		t.Errorf("-i missing file: status %d, stdout %q, stderr %q", code, out, errs)
	}
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	for _, args := range [][]string{
		{"-s", "--zero-excluded"}, {"--silent", "--zero_excluded"}, {"-silent", "-zero-excluded", "--no_crashrc", "--no-scroll"},
	} {
		code, out, errs := runCLI(t, "set zero_excluded\n", append(args, d.Vmlinux, d.Vmcore)...)
		if code != 0 || out != "zero_excluded: on\n" || errs != "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	// crash's -x preloads extension modules; gocrash has none and says so.
	code, out, errs = runCLI(t, "set zero_excluded\n", "-x", "-s", d.Vmlinux, d.Vmcore)
	if code != 0 || out != "zero_excluded: off\n" || errs != "gocrash: -x: gocrash has no extension modules to preload; going on without\n" {
		t.Errorf("-x: status %d, stdout %q, stderr %q", code, out, errs)
	}
	code, samples, _ := runCLI(t, "", "--sample=list")
	if code != 0 || !regexp.MustCompile(`(?m)^  6\.1-oops +insmod of a module`).MatchString(samples) {
		t.Errorf("--sample=list: status %d\n%s", code, samples)
	}
	code, out, _ = runCLI(t, "sys\n", "-s", "--sample", "6.1-oops")
	if code != 0 || !strings.Contains(out, `PANIC: "Oops: 0002 [#1] SMP" (check log for details)`) {
		t.Errorf("--sample 6.1-oops: status %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "", "--sample", "nosuch"); code != 2 || !strings.HasPrefix(errs, "gocrash: no bundled dump named \"nosuch\"\nBundled dumps") {
		t.Errorf("--sample nosuch: status %d, stderr %q", code, errs)
	}
	list, err := testbed.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if !strings.Contains(samples, "\n  "+e.Name+" ") {
			t.Errorf("--sample=list lacks %s:\n%s", e.Name, samples)
		}
	}
}

// TestUptime: uptime's line is crash's sys answer in uptime(1)'s layout:
// the time of day of DATE, the minutes of UPTIME, the LOAD AVERAGE.
// crash 8.0.6 assumes HZ=1000 where it finds no CONFIG_HZ (a 6.12 kernel
// without IKCONFIG: its UPTIME is wrong there, see README): on a dump
// whose crash UPTIME is the jiffies divided by 1000, the minutes are not
// compared.
func TestUptime(t *testing.T) {
	for _, d := range testbed.All(t) {
		sys, ok := d.Golden("sys")
		if !ok {
			t.Errorf("%s: no golden for sys", d.Name)
			continue
		}
		field := func(name string) string {
			for _, l := range strings.Split(sys, "\n") {
				if k, v, ok := strings.Cut(l, ": "); ok && strings.TrimSpace(k) == name {
					return strings.TrimSpace(v)
				}
			}
			t.Fatalf("%s: sys has no %s", d.Name, name)
			return ""
		}
		date := strings.Fields(field("DATE")) // Sun Nov 22 14:44:30 UTC 2026
		var h, m, sec int
		fmt.Sscanf(field("UPTIME"), "%d:%d:%d", &h, &m, &sec)
		span := fmt.Sprintf("%d min", m)
		if h > 0 {
			span = fmt.Sprintf("%2d:%02d", h, m)
		}
		want := fmt.Sprintf(" %s up %s,  load average: %s\n", date[3], span, field("LOAD AVERAGE"))
		code, out, errs := runCLI(t, "uptime\n", "-s", d.Vmlinux, d.Vmcore)
		if crashAssumedHZ1000(t, d, h*3600+m*60+sec) {
			re := regexp.MustCompile(`^ ` + date[3] + ` up .*,  load average: ` + regexp.QuoteMeta(field("LOAD AVERAGE")) + "\n$")
			if !re.MatchString(out) {
				t.Errorf("%s %s: uptime %q, want time and load of %q", d.Name, d.Format, out, want)
			}
			continue
		}
		if code != 0 || out != want || errs != "" {
			t.Errorf("%s %s: uptime %q (status %d, stderr %q), want %q", d.Name, d.Format, out, code, errs, want)
		}
	}
}

// TestFree: free's table is /proc/meminfo's arithmetic (fs/proc/meminfo.c,
// si_mem_available()) over crash's own answers: kmem -i's pages, kmem -V's
// vm_stat counters, kmem -z's low watermarks, p totalreserve_pages. (crash
// does not print zone.watermark_boost, which is 0 outside a
// fragmentation event; gocrash adds it as the kernel does.)
func TestFree(t *testing.T) {
	n := 0
	for _, d := range testbed.All(t) {
		kmemI, ok1 := d.Golden("kmem -i")
		kmemV, ok2 := d.Golden("kmem -V")
		kmemZ, ok3 := d.Golden("kmem -z")
		reserve, ok4 := d.Golden("p totalreserve_pages")
		if !ok1 || !ok2 || !ok3 || !ok4 {
			continue
		}
		n++
		// pages reads "LABEL  N ..." (kmem -i: the number after the
		// label) or "NAME: N" (kmem -V: the number after the colon).
		pages := func(text, label string) uint64 {
			for _, l := range strings.Split(text, "\n") {
				rest, ok := strings.CutPrefix(strings.TrimSpace(l), label)
				if f := strings.Fields(rest); ok && len(f) > 0 && (rest[0] == ' ' || strings.HasSuffix(label, ":")) {
					var v uint64
					fmt.Sscan(f[0], &v)
					return v
				}
			}
			return 0
		}
		total, freeP := pages(kmemI, "TOTAL MEM"), pages(kmemI, "FREE")
		buffers, cached := pages(kmemI, "BUFFERS"), pages(kmemI, "CACHED")
		swapTotal, swapUsed := pages(kmemI, "TOTAL SWAP"), pages(kmemI, "SWAP USED")
		shmem := pages(kmemV, "NR_SHMEM:")
		pagecache := pages(kmemV, "NR_ACTIVE_FILE:") + pages(kmemV, "NR_INACTIVE_FILE:")
		sreclaim := pages(kmemV, "NR_SLAB_RECLAIMABLE_B:")
		reclaimable := sreclaim + pages(kmemV, "NR_KERNEL_MISC_RECLAIMABLE:")
		var low uint64
		for _, m := range regexp.MustCompile(`MIN/LOW/HIGH: \d+/(\d+)/\d+`).FindAllStringSubmatch(kmemZ, -1) {
			var v uint64
			fmt.Sscan(m[1], &v)
			low += v
		}
		var res uint64
		if m := regexp.MustCompile(`^totalreserve_pages = \$\d+ = (\d+)`).FindStringSubmatch(reserve); m != nil {
			fmt.Sscan(m[1], &res)
		}
		if total == 0 || freeP == 0 || low == 0 || res == 0 {
			t.Fatalf("%s: could not read crash's answers (total %d free %d low %d reserve %d)", d.Name, total, freeP, low, res)
		}
		avail := int64(freeP) - int64(res) + int64(pagecache-min(pagecache/2, low)) + int64(reclaimable-min(reclaimable/2, low))
		if avail < 0 {
			avail = 0 // as si_mem_available (mm/page_alloc.c) clamps it (6.1-oom)
		}
		kb := func(p uint64) uint64 { return p * 4 } // x86_64's 4 KiB pages
		want := fmt.Sprintf("%s\nMem:    %12d%12d%12d%12d%12d%12d\nSwap:   %12d%12d%12d\n",
			"               total        used        free      shared  buff/cache   available",
			kb(total), kb(total-uint64(avail)), kb(freeP), kb(shmem), kb(buffers+cached+sreclaim), kb(uint64(avail)),
			kb(swapTotal), kb(swapUsed), kb(swapTotal-swapUsed))
		code, out, errs := runCLI(t, "free\n", "-s", d.Vmlinux, d.Vmcore)
		if code != 0 || out != want || errs != "" {
			t.Errorf("%s %s: free (status %d, stderr %q)\n%s--- from crash's answers\n%s", d.Name, d.Format, code, errs, out, want)
		}
	}
	if n == 0 {
		t.Fatal("no dump has kmem -i, kmem -V, kmem -z and p totalreserve_pages recorded")
	}
}

// crashAssumedHZ1000 tells whether crash's UPTIME on d, in seconds, is the
// kernel's jiffies divided by 1000 on a kernel whose HZ is not 1000.
func crashAssumedHZ1000(t *testing.T, d testbed.Dump, crashSeconds int) bool {
	t.Helper()
	k, err := kernel.Open(d.Vmlinux, d.Vmcore, kernel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	hz, err := k.HZ()
	if err != nil || hz == 1000 {
		return false
	}
	up, err := k.Uptime()
	if err != nil {
		return false
	}
	return crashSeconds == int((up * time.Duration(hz) / 1000).Seconds())
}
