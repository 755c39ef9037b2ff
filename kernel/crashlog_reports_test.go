package kernel

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Crash kinds the committed dumps do not have (GPF, BUG(), int3, RCU
// stalls, hard lockups), from kernel log text as real kernels printed it
// (testdata/reports, each file citing its source) or, where no real
// report could be cited, as the kernel's own format strings and
// documentation write it (cited beside them). The dumps for these kinds
// are left to the test bed (testdata/mkdump).

// syslogPrefix takes a journal's "MMM DD HH:MM:SS host kernel: " off.
var syslogPrefix = regexp.MustCompile(`^[^\[]*? kernel: `)

// reSyzPrefix is syzbot's "[  150.665871][    C0] " (no blank between the
// time and the caller id).
var reSyzPrefix = regexp.MustCompile(`^\[ *\d+\.\d+\]\[ *[TC]\d+\] `)

// reportLines is text's lines without the printk, syzbot or journal
// prefixes.
func reportLines(text string) []LogLine {
	var out []string
	for _, l := range strings.Split(strings.Trim(text, "\n"), "\n") {
		l = syslogPrefix.ReplaceAllString(l, "")
		out = append(out, reSyzPrefix.ReplaceAllString(reDmesgPrefix.ReplaceAllString(l, ""), ""))
	}
	return linesOf(strings.Join(out, "\n"))
}

// A GPF's die() line: the title of
// https://github.com/NVIDIA/k8s-device-plugin/issues/941, the kernel's
// line as its log printed it (arch/x86/kernel/traps.c
// exc_general_protection: "probably for non-canonical address").
const nvidiaGPF = `general protection fault, probably for non-canonical address 0x25b5f6bb1a24827e: 0000 [#1] SMP NOPTI`

// RCU stall warnings' first lines as Documentation/RCU/stallwarn.rst
// shows them ("Stall Warnings for Expedited Grace Periods",
// "rcupdate.rcu_task_stall_timeout"), the 6.x form with "rcu: ", and the self-detected form of
// kernel/rcu/tree_stall.h print_cpu_stall ("INFO: %s self-detected stall
// on CPU", pr_fmt "rcu: ").
var rcuStalls = []string{
	"INFO: rcu_sched detected stalls on CPUs/tasks:",
	"rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
	"INFO: rcu_sched detected expedited stalls on CPUs/tasks: { 7-... } 21119 jiffies s: 73 root: 0x2/.",
	"rcu: INFO: rcu_preempt self-detected stall on CPU",
	"INFO: rcu_tasks detected stalls on tasks:",
}

// Hard lockups: the NMI watchdog's line in 6.1 (kernel/watchdog_hld.c,
// pr_fmt "NMI watchdog: ") and in 6.12 (kernel/watchdog.c
// watchdog_hardlockup_check, pr_fmt "watchdog: ", "CPU%u: Watchdog
// detected hard LOCKUP on cpu %u").
var hardLockups = []struct {
	line string
	cpu  int
}{
	{"NMI watchdog: Watchdog detected hard LOCKUP on cpu 3", 3},
	{"watchdog: CPU0: Watchdog detected hard LOCKUP on cpu 1", 1},
}

// reportFile is testdata/reports/name without its "# " header.
func reportFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/reports", name))
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "# ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func onlyReport(t *testing.T, c *CrashLog) *LogReport {
	t.Helper()
	if len(c.Reports) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(c.Reports), c.Reports)
	}
	return &c.Reports[0]
}

func TestParseCrashLogRealReports(t *testing.T) {
	t.Run("BUG", func(t *testing.T) {
		r := onlyReport(t, ParseCrashLog(reportLines(reportFile(t, "bug-fedora-5.13.log"))))
		if r.Kind != ReportBUG || r.At != "lib/list_debug.c:51" || r.Die != "invalid opcode: 0000 [#1] SMP PTI" || r.DieCount != 1 {
			t.Errorf("kind %s at %q die %q (#%d)", r.Kind, r.At, r.Die, r.DieCount)
		}
		if !r.HasTask || r.CPU != 4 || r.PID != 148 || r.Comm != "kswapd0" || strings.Join(strings.Fields(r.Tainted), "") != "POE" {
			t.Errorf("task line: cpu %d pid %d comm %q tainted %q", r.CPU, r.PID, r.Comm, r.Tainted)
		}
		if !r.HasRIP || r.RIP.Func != "__list_del_entry_valid.cold" || r.RIP.Off != 0x31 || r.RIP.Size != 0x47 || r.RIP.Module != "" {
			t.Errorf("RIP %+v", r.RIP)
		}
		if r.Registers["RAX"] != 0x54 || r.Registers["R15"] != 0x400 || r.Registers["RBP"] != 0xffff98679438a540 {
			t.Errorf("registers %x", r.Registers)
		}
		// A BUG is no page fault: the register dump's CR2 is whatever
		// the cpu last faulted on (a user address here).
		if r.CR2 != 0x7fcd74641ffc {
			t.Errorf("CR2 %#x", r.CR2)
		}
		if len(r.Trace) != 1 || r.Trace[0].Func != "__dentry_kill" {
			t.Errorf("trace %+v", r.Trace)
		}
	})
	t.Run("int3", func(t *testing.T) {
		r := onlyReport(t, ParseCrashLog(reportLines(reportFile(t, "int3-syzbot-6.15.log"))))
		if r.Kind != ReportOops || r.Die != "Oops: int3: 0000 [#1] SMP KASAN NOPTI" {
			t.Errorf("kind %s die %q", r.Kind, r.Die)
		}
		if !r.HasTask || r.CPU != 0 || r.PID != 5959 || r.Comm != "syz-executor130" || r.Tainted != "" {
			t.Errorf("task line: cpu %d pid %d comm %q tainted %q", r.CPU, r.PID, r.Comm, r.Tainted)
		}
		if !r.HasRIP || r.RIP.Func != "kmem_cache_alloc_noprof" || r.Registers["RDX"] != 0xdffffc0000000000 {
			t.Errorf("RIP %+v registers %x", r.RIP, r.Registers)
		}
	})
	t.Run("GPF", func(t *testing.T) {
		gpf := strings.TrimSpace(reportFile(t, "gpf-nvidia.log"))
		for _, line := range []string{gpf, "Oops: " + gpf} { // 6.11+ prefixes die() lines with "Oops: "
			r := onlyReport(t, ParseCrashLog(reportLines(line)))
			if r.Kind != ReportGPF || !r.HasNonCanonical || r.NonCanonical != 0x25b5f6bb1a24827e || r.DieCode != 0 || r.DieCount != 1 {
				t.Errorf("%q: kind %s non-canonical %#x (%v) code %d #%d", line, r.Kind, r.NonCanonical, r.HasNonCanonical, r.DieCode, r.DieCount)
			}
		}
	})
	t.Run("RCU", func(t *testing.T) {
		for _, line := range append(rcuStalls, reportFile(t, "rcu-stallwarn-doc.log")) {
			c := ParseCrashLog(reportLines(line))
			if len(c.Reports) != 1 || c.Reports[0].Kind != ReportRCUStall {
				t.Errorf("%q: reports %+v, want one RCU stall", line, c.Reports)
			}
		}
	})
	t.Run("SYN flood", func(t *testing.T) {
		// As the committed dumps' logs have them (testdata/dumps/
		// 6.1-oops and 6.12-sysrq dmesg.txt): 6.12 names the address.
		for _, c := range []struct{ line, port, listen string }{
			{"TCP: request_sock_TCP: Possible SYN flooding on port 7777. Sending cookies.  Check SNMP counters.", "7777", ""},
			{"TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:7777. Sending cookies.", "7777", "127.0.0.1"},
		} {
			f := ParseCrashLog(reportLines(c.line)).SYNFloods
			if len(f) != 1 || f[0].Port != c.port || f[0].Listen != c.listen {
				t.Errorf("%q: %+v", c.line, f)
			}
		}
	})
	t.Run("hard lockup", func(t *testing.T) {
		for _, h := range hardLockups {
			r := onlyReport(t, ParseCrashLog(reportLines(h.line+"\nKernel panic - not syncing: Hard LOCKUP")))
			if r.Kind != ReportHardLockup || r.StuckCPU != h.cpu {
				t.Errorf("%q: kind %s stuck cpu %d", h.line, r.Kind, r.StuckCPU)
			}
		}
	})
}
