package commands

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/kernel"
)

// The crash kinds the committed dumps lack, from real kernel log text
// (kernel/testdata/reports, each file citing its source) followed by the
// panic line the kernel prints for that kind (its format string, cited):
// explain's cause must name the kind, and the function where the log
// says it happened. Dumps of these kinds are left to the test bed.

var reReportPrefix = regexp.MustCompile(`^(?:[^\[]*? kernel: )?(?:\[ *\d+\.\d+\](?: ?\[ *[TC]\d+\])? )?`)

func reportLog(t *testing.T, file, extra string) []kernel.LogLine {
	t.Helper()
	var text []string
	if file != "" {
		b, err := os.ReadFile(filepath.Join("../kernel/testdata/reports", file))
		if err != nil {
			t.Fatal(err)
		}
		text = strings.Split(strings.Trim(string(b), "\n"), "\n")
	}
	text = append(text, strings.Split(extra, "\n")...)
	var lines []kernel.LogLine
	for _, l := range text {
		if strings.HasPrefix(l, "# ") || l == "" {
			continue
		}
		lines = append(lines, kernel.LogLine{Time: time.Duration(len(lines)) * time.Millisecond, Text: reReportPrefix.ReplaceAllString(l, "")})
	}
	return lines
}

func TestExplainCauseKinds(t *testing.T) {
	// oops_end (arch/x86/kernel/dumpstack.c) with panic_on_oops:
	// panic("Fatal exception").
	const fatal = "Kernel panic - not syncing: Fatal exception"
	for _, c := range []struct {
		name, file, extra string
		kind, function    string
		summary, detail   string
	}{
		{"BUG", "bug-fedora-5.13.log", fatal, "bug", "__list_del_entry_valid.cold", "assertion at lib/list_debug.c:51 failed", "panic_on_oops"},
		{"BUG without panic", "bug-fedora-5.13.log", "", "bug", "__list_del_entry_valid.cold", "BUG()", "no panic() line"},
		{"GPF", "gpf-nvidia.log", fatal, "general-protection-fault", "", "non-canonical address 0x25b5f6bb1a24827e", "panic_on_oops"},
		{"int3", "int3-syzbot-6.15.log", fatal, "oops", "kmem_cache_alloc_noprof", "int3", "panic_on_oops"},
		// kernel/rcu/tree_stall.h panic_on_rcu_stall: panic("RCU Stall\n").
		{"RCU stall", "rcu-stallwarn-doc.log", "Kernel panic - not syncing: RCU Stall", "rcu-stall", "", "RCU stall", "stall detector"},
		// kernel/watchdog_hld.c (6.1): pr_emerg("Watchdog detected hard
		// LOCKUP on cpu %d\n") with pr_fmt "NMI watchdog: ", then
		// nmi_panic(regs, "Hard LOCKUP").
		{"hard lockup", "", "NMI watchdog: Watchdog detected hard LOCKUP on cpu 3\nKernel panic - not syncing: Hard LOCKUP", "hard-lockup", "", "hard lockup", "CPU 3 "},
		// kernel/watchdog.c (6.12) watchdog_hardlockup_check, pr_fmt
		// "watchdog: ".
		{"hard lockup 6.12", "", "watchdog: CPU0: Watchdog detected hard LOCKUP on cpu 1\nKernel panic - not syncing: Hard LOCKUP", "hard-lockup", "", "hard lockup", "CPU 1 "},
		// arch/x86/kernel/traps.c handle_stack_overflow (5.x+):
		// "BUG: %s stack guard page was hit at %px (stack is
		// %px..%px)", die("stack guard page", regs, 0), and when die()
		// returns, panic("%s stack guard hit", name).
		{"stack overflow", "", "BUG: kernel stack guard page was hit at ffffc9000027bff8 (stack is ffffc9000027c000..ffffc90000283fff)\nstack guard page: 0000 [#1] PREEMPT SMP NOPTI\n" + fatal,
			"stack-overflow", "", "kernel stack overflow", "panic_on_oops"},
		{"stack overflow, die returned", "", "BUG: kernel stack guard page was hit at ffffc9000027bff8 (stack is ffffc9000027c000..ffffc90000283fff)\nstack guard page: 0000 [#1] PREEMPT SMP NOPTI\nKernel panic - not syncing: kernel stack guard hit",
			"stack-overflow", "", "kernel stack overflow", "the fault handler panicked itself"},
		// exc_double_fault: pr_emerg("PANIC: double fault, error_code:
		// 0x%lx\n"), die("double fault", regs, error_code),
		// panic("Machine halted.").
		{"double fault", "", "PANIC: double fault, error_code: 0x0\ndouble fault: 0000 [#1] PREEMPT SMP NOPTI\nKernel panic - not syncing: Machine halted.",
			"double-fault", "", "double fault", "the fault handler panicked itself"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := reportLog(t, c.file, c.extra)
			e := &explainState{ex: &Explanation{}, lines: lines, log: kernel.ParseCrashLog(lines)}
			e.cause()
			got := e.ex.Cause
			if got.Kind != c.kind || got.Function != c.function || !strings.Contains(got.Summary, c.summary) {
				t.Errorf("cause %q in %q: %q; want %q in %q, the summary saying %q", got.Kind, got.Function, got.Summary, c.kind, c.function, c.summary)
			}
			if !strings.Contains(got.Detail.Text, c.detail) {
				t.Errorf("detail %q, want it to say %q", got.Detail.Text, c.detail)
			}
			if len(got.Detail.Evidence) == 0 {
				t.Errorf("no evidence for %s", got.Kind)
			}
		})
	}
}
