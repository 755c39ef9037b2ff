package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gocrash/internal/testbed"
)

// The causes explain must name come from what each test-bed scenario does
// (testdata/mkdump/init and the README's scenario table): the sysrq ones
// write 'c' to /proc/sysrq-trigger, oops loads the module whose init writes
// through NULL, softlockup spins in the module with softlockup_panic,
// hung panics from khungtaskd, oom panics with vm.panic_on_oom. The
// details are checked against crash's answers (bt, dis) and the log
// makedumpfile saved beside the dump (dmesg.txt, written by
// makedumpfile --dump-dmesg, not by gocrash).
var scenarioCause = map[string]string{
	"sysrq":      CauseSysrq,
	"cpu1":       CauseSysrq,
	"qemu":       CauseSysrq,
	"oops":       CauseNullDeref,
	"softlockup": CauseSoftLockup,
	"hung":       CauseHungTask,
	"oom":        CauseOOMPanic,
}

// explained keeps each dump's explanation for the tests that check it
// (explain reads the whole log and a backtrace: once a dump is enough).
var explained sync.Map // Vmcore path -> *Explanation

func explainOf(t *testing.T, d testbed.Dump) *Explanation {
	t.Helper()
	if ex, ok := explained.Load(d.Vmcore); ok {
		return ex.(*Explanation)
	}
	s := openTestbed(t, d)
	defer s.Close()
	ex, err := s.Explain(context.Background())
	if err != nil {
		t.Fatalf("%s/%s: %v", d.Name, d.Format, err)
	}
	explained.Store(d.Vmcore, ex)
	return ex
}

func scenarioOf(d testbed.Dump) string {
	_, sc, _ := strings.Cut(d.Name, "-")
	return sc
}

// savedLog is makedumpfile's (or QEMU's serial console's) copy of the log.
func savedLog(t *testing.T, d testbed.Dump) string {
	for _, name := range []string{"dmesg.txt", "serial.log"} {
		b, err := os.ReadFile(filepath.Join(d.Dir, name))
		if err == nil {
			return string(b)
		}
	}
	t.Fatalf("%s: no dmesg.txt or serial.log beside the dump", d.Name)
	return ""
}

var (
	reSavedKilled = regexp.MustCompile(`Out of memory: Killed process (\d+) \(([^)]*)\)`)
	reSavedSYN    = regexp.MustCompile(`Possible SYN flooding on port (\S+?)\. `)
	reSavedWarn   = regexp.MustCompile(`WARNING: CPU: (\d+) PID: (\d+) at`)
	reSavedHung   = regexp.MustCompile(`INFO: task (.*):(\d+) blocked for more than`)
	reSavedPanic  = regexp.MustCompile(`Kernel panic - not syncing: (.*)`)
	reBtRIP       = regexp.MustCompile(`\[exception RIP: ([^\]+]+)(?:\+(\d+))?\]\n\s+RIP: ([0-9a-f]+)`)
	reBtRAX       = regexp.MustCompile(`RAX: ([0-9a-f]{16})`)
)

func TestExplainCauses(t *testing.T) {
	for _, d := range testbed.All(t) {
		d := d
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) { checkExplainDump(t, d) })
	}
}

// checkExplainDump is TestExplainCauses on one dump.
func checkExplainDump(t *testing.T, d testbed.Dump) {
	{
		{
			want, ok := scenarioCause[scenarioOf(d)]
			if !ok {
				t.Fatalf("scenario %q of %s has no expected cause in this test: add it", scenarioOf(d), d.Name)
			}
			ex := explainOf(t, d)
			if ex.Cause.Kind != want {
				t.Fatalf("cause %q, want %q (%s)", ex.Cause.Kind, want, ex.Cause.Summary)
			}
			saved := savedLog(t, d)
			if m := reSavedPanic.FindStringSubmatch(saved); m != nil && ex.Cause.Detail.Evidence != nil {
				if !strings.Contains(strings.Join(ex.Cause.Detail.Evidence, "\n"), "not syncing: "+strings.TrimSpace(m[1])) {
					t.Errorf("the cause's evidence lacks the panic line %q:\n%s", m[0], strings.Join(ex.Cause.Detail.Evidence, "\n"))
				}
			}
			checkBefore(t, ex, saved)
			switch want {
			case CauseSysrq:
				if len(ex.Trace) == 0 || ex.Trace[0] != "sysrq_handle_crash" {
					t.Errorf("trace %v does not start at sysrq_handle_crash", ex.Trace)
				}
			case CauseNullDeref:
				checkNullWrite(t, d, ex)
			case CauseSoftLockup:
				bt, ok := d.Golden("bt")
				if !ok {
					t.Fatal("no crash answer for bt")
				}
				m := reBtRIP.FindStringSubmatch(bt)
				if m == nil {
					t.Fatalf("crash's bt has no exception RIP:\n%s", bt)
				}
				if ex.Cause.Module != testbed.TestModule || len(ex.Trace) == 0 || ex.Trace[0] != m[1]+" ["+testbed.TestModule+"]" {
					t.Errorf("soft lockup in module %q, trace %v; crash's bt: exception RIP %s in %s", ex.Cause.Module, ex.Trace, m[1], testbed.TestModule)
				}
			case CauseHungTask:
				m := reSavedHung.FindStringSubmatch(saved)
				if m == nil {
					t.Fatal("the saved log has no hung task line")
				}
				if !strings.Contains(ex.Cause.Detail.Text, m[1]+" (PID "+m[2]+")") || !strings.Contains(ex.Cause.Detail.Text, "state D") {
					t.Errorf("hung task detail %q does not name %s (PID %s) in state D", ex.Cause.Detail.Text, m[1], m[2])
				}
				found := false
				for _, f := range ex.State {
					found = found || f.Topic == "blocked task" && strings.Contains(f.Text, "(PID "+m[2]+")")
				}
				if !found {
					t.Errorf("no trace of the blocked task %s in the state findings %+v", m[2], ex.State)
				}
				// The test bed's writer blocks on a filesystem frozen
				// with fsfreeze --freeze (testdata/mkdump/init).
				frozen := false
				for _, f := range ex.State {
					frozen = frozen || f.Topic == "locks" && strings.Contains(f.Text, "freeze protection")
				}
				if !frozen {
					t.Errorf("the frozen filesystem the writer waits on is not named: %+v", ex.State)
				}
			case CauseOOMPanic:
				// The victim panic_on_oom would have killed: the task
				// table's largest, the log's "[  pid  ]" row with the
				// most rss + swapents.
				if !strings.Contains(ex.Cause.Detail.Text, "the largest task was") {
					t.Errorf("OOM panic detail names no victim: %q", ex.Cause.Detail.Text)
				}
			}
		}
	}
}

// checkBefore: every OOM kill, SYN flood and WARN the saved log holds
// before the panic is among explain's findings, with its task or port.
func checkBefore(t *testing.T, ex *Explanation, saved string) {
	t.Helper()
	text := func(topic string) string {
		var b strings.Builder
		for _, f := range ex.Before {
			if f.Topic == topic {
				b.WriteString(f.Text + "\n")
			}
		}
		return b.String()
	}
	for _, m := range reSavedKilled.FindAllStringSubmatch(saved, -1) {
		if !strings.Contains(text("oom-kill"), "killed "+m[2]+" (PID "+m[1]+")") {
			t.Errorf("the log's %q is not among explain's OOM kills:\n%s", m[0], text("oom-kill"))
		}
	}
	for _, m := range reSavedSYN.FindAllStringSubmatch(saved, -1) {
		// 6.12 names the listener's address: "on port 127.0.0.1:7777".
		port, listen := m[1], ""
		if j := strings.LastIndexByte(port, ':'); j > 0 {
			port, listen = port[j+1:], " ("+strings.Trim(port[:j], "[]")+")"
		}
		if !strings.Contains(text("syn-flood"), "on port "+port+listen+":") {
			t.Errorf("the log's SYN flood on port %s is not among explain's findings:\n%s", m[1], text("syn-flood"))
		}
	}
	for _, m := range reSavedWarn.FindAllStringSubmatch(saved, -1) {
		if !strings.Contains(text("warning"), "(CPU "+m[1]+", PID "+m[2]+" ") {
			t.Errorf("the log's %q is not among explain's warnings:\n%s", m[0], text("warning"))
		}
	}
}

// checkNullWrite: the oops scenario's fault, against crash's bt and dis.
func checkNullWrite(t *testing.T, d testbed.Dump, ex *Explanation) {
	t.Helper()
	f := ex.Fault
	if f == nil {
		t.Fatal("no fault explained")
	}
	// Error code 0x0002 (the log's "#PF: error_code(0x0002)"): a
	// kernel-mode write to a page not present.
	if !f.HasErrorCode || f.ErrorCode != 2 {
		t.Fatalf("error code %#x (has %v), want 0x2", f.ErrorCode, f.HasErrorCode)
	}
	bits := map[string]bool{}
	for _, b := range f.Bits {
		bits[b.Name] = b.Set
	}
	if bits["X86_PF_PROT"] || !bits["X86_PF_WRITE"] || bits["X86_PF_USER"] || bits["X86_PF_INSTR"] || bits["X86_PF_RSVD"] {
		t.Errorf("bits %+v: want a kernel-mode write to a page not present", f.Bits)
	}
	if !f.HasAddress || uint64(f.Address) != 0 {
		t.Errorf("address %#x (has %v), want CR2 0", f.Address, f.HasAddress)
	}
	// On the 6.1.192 oops the register dump's CR2 is the fault of the
	// Code: line's read ("Unable to access opcode bytes at X"): the
	// address finding must say so, not leave a learner who greps CR2
	// with two values.
	if lg, ok := d.Golden("log"); ok {
		// The last one: the WARN before the Oops has its own.
		if ms := regexp.MustCompile(`Unable to access opcode bytes at 0x([0-9a-f]+)\.`).FindAllStringSubmatch(lg, -1); ms != nil {
			m := ms[len(ms)-1]
			var addr string
			for _, fd := range f.Findings {
				if fd.Topic == "address" {
					addr = fd.Text
				}
			}
			if !strings.Contains(addr, fmt.Sprintf("%016s is a later fault", m[1])) {
				t.Errorf("the log's register dump has CR2 %s (the Code: line's fault); the address finding: %q", m[1], addr)
			}
		}
	}
	bt, ok := d.Golden("bt")
	if !ok {
		t.Fatal("no crash answer for bt")
	}
	m := reBtRIP.FindStringSubmatch(bt)
	if m == nil {
		t.Fatalf("crash's bt has no exception RIP:\n%s", bt)
	}
	rip, _ := strconv.ParseUint(m[3], 16, 64)
	if uint64(f.IP) != rip || f.Function != m[1] || f.Module != testbed.TestModule {
		t.Errorf("fault at %#x %s [%s], crash's bt: %#x %s [%s]", f.IP, f.Function, f.Module, rip, m[1], testbed.TestModule)
	}
	if ra := reBtRAX.FindStringSubmatch(bt); ra == nil || uint64(f.Registers["RAX"]) != mustHex(t, ra[1]) {
		t.Errorf("RAX %#x, crash's bt: %v", f.Registers["RAX"], ra)
	}
	// The instruction, as crash's dis of the faulting function prints it.
	dis, ok := d.Golden("dis -r " + m[1])
	if !ok {
		t.Fatal("no crash answer for dis -r " + m[1])
	}
	var want string
	for _, l := range strings.Split(dis, "\n") {
		if strings.HasPrefix(l, "0x"+m[3]+" ") {
			_, want, _ = strings.Cut(l, ":\t")
		}
	}
	want = strings.Join(strings.Fields(want), " ")
	if want == "" || f.Instruction != want {
		t.Errorf("instruction %q, crash's dis: %q", f.Instruction, want)
	}
	if !f.Write {
		t.Error("the instruction is not seen as a store")
	}
	// movl $0x6b6b6b6b,0x0 addresses 0 with no register: explain must
	// say so rather than blame one.
	if strings.Contains(want, "(%") {
		if f.Culprit == "" {
			t.Errorf("crash's instruction %q uses a register, explain names none", want)
		}
	} else if f.Culprit != "" {
		t.Errorf("explain blames %s, but %q uses no register for its address", f.Culprit, want)
	}
}

func mustHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestExplainVerbose: -v prints each finding's command output inline; on
// the oops dump the dis of the faulting instruction is crash's own.
func TestExplainVerbose(t *testing.T) {
	d := testbed.Open(t, "6.1-oops", "zlib")
	s := openTestbed(t, d)
	defer s.Close()
	out := runCmd(t, s, "explain -v")
	want, ok := d.Golden("dis -r gocrash_write_null.constprop.0")
	if !ok {
		t.Fatal("no crash answer for dis -r gocrash_write_null.constprop.0")
	}
	for _, l := range strings.Split(strings.TrimRight(want, "\n"), "\n") {
		if !strings.Contains(out, "  | "+l+"\n") {
			t.Errorf("explain -v lacks crash's dis line %q", l)
		}
	}
	if !strings.Contains(out, "#PF: error_code(0x0002) - not-present page") {
		t.Errorf("explain -v lacks the log's #PF line:\n%s", out)
	}
}

// TestExplainSignature: the same dump in every format it is committed in
// gives one signature; dumps of different scenarios give different ones,
// except the three sysrq scenarios of one kernel (sysrq, cpu1, qemu),
// which are the same "bug" (sysrq_handle_crash on the same call path)
// caught on another cpu or by another dumper: they must match, as two
// machines hitting one bug must.
func TestExplainSignature(t *testing.T) {
	type sig struct{ name, format, sig, of string }
	var all []sig
	for _, d := range testbed.All(t) {
		ex := explainOf(t, d)
		if len(ex.Signature) != 12 || ex.SignatureOf == "" {
			t.Fatalf("%s/%s: signature %q of %q", d.Name, d.Format, ex.Signature, ex.SignatureOf)
		}
		all = append(all, sig{d.Name, d.Format, ex.Signature, ex.SignatureOf})
	}
	bug := func(name string) string {
		v, sc, _ := strings.Cut(name, "-")
		if sc == "cpu1" || sc == "qemu" {
			sc = "sysrq"
		}
		return v + "-" + sc
	}
	for i, a := range all {
		for _, b := range all[i+1:] {
			same := a.sig == b.sig
			switch {
			case bug(a.name) == bug(b.name) && !same:
				t.Errorf("%s/%s and %s/%s are one bug but differ: %s (%s) vs %s (%s)", a.name, a.format, b.name, b.format, a.sig, a.of, b.sig, b.of)
			case scenarioCause[scenarioOf(testbed.Dump{Name: a.name})] != scenarioCause[scenarioOf(testbed.Dump{Name: b.name})] && same:
				t.Errorf("%s and %s are different crashes with one signature %s (%s)", a.name, b.name, a.sig, a.of)
			}
		}
	}
	if len(all) < 2 {
		t.Fatal("fewer than two committed dumps")
	}
}
