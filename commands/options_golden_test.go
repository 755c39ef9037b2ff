package commands

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// optionGoldens are the last crash options gocrash lacked, recorded on
// every committed dump (mkdump.sh's block "the last crash options"). Not
// recorded, as deliberate differences: sym -Q of a name no symbol holds
// (crash 8.0.6 reads an uninitialized pointer and died on every dump;
// gocrash answers "0 found "); bt -D dump, framepointer and
// noframepointer (crash's answers are its framesize cache, or change it
// for the bts after them; gocrash has no such cache and says so); set -a
// of a task that is not already active (it changes every later answer of
// the recording session).
var optionGoldens = []string{
	"bt -A", "bt -A 1", "bt -D", "bt -D seek", "bt -D noseek", "bt -D clear", "bt -D level-1",
	"bt -D validate", "bt -D orc", "bt -D orc -I schedule", "bt -D validate -I schedule", "bt -D bogus",
	"search -v 0 1", "search -v",
	"set -a {panicpid}", "set -a {panictask}", "set -a 99999", "set -a xyz", "set -a",
	"sig -R comm", "sig -R comm,pid 1", "sig comm 1", "sig -R pid 99999", "sig -R pid xyz",
	"sym -Q jiffies", "sym -Q init_task init_task", "sym -Q gocrash",
	"sym -s jiffies", "sym -s schedule", "sym -s {sched16}", "sym -s init_task", "sym -s -n schedule",
	"sym -s -p schedule", "sym -s linux_banner", "sym -s {modsym}", "sym -s _etext", "sym -s __per_cpu_start",
	"task -h", "task -h 1", "task -h -d 1", "task -d -h 1",
}

func TestOptionGoldens(t *testing.T) { checkRecorded(t, optionGoldens) }

// TestSymL: crash's sym takes -L for -l ("case 'L': /* obsolete */" in
// symbols.c cmd_sym): its answer is sym -l's, compared with that
// recording rather than recorded again (2.5 MB a dump).
func TestSymL(t *testing.T) {
	for _, d := range onePerDump(t)[:2] {
		want, ok := recorded(t, d, "sym -l")
		if !ok {
			continue
		}
		s := openTestbed(t, d)
		if got := runCmd(t, s, "sym -L"); got != want {
			t.Errorf("%s: sym -L differs from crash's sym -l:\n%s", d.Name, lineDiff(want, got))
		}
		s.Close()
	}
}

// TestSetActiveMarks: crash's set -a makes the task its cpu's active task
// (tools.c cmd_set: tt->active_set[cpu] = tc->task) for the rest of the
// session; the task the dump found there is no longer active. On 6.1-oops
// insmod (PID 112) panicked on cpu 0, where init (PID 1) then sleeps.
func TestSetActiveMarks(t *testing.T) {
	d := testbed.Open(t, "6.1-oops", "zlib")
	s := openTestbed(t, d)
	defer s.Close()
	marked := func() string {
		var out []string
		for _, l := range strings.Split(runCmd(t, s, "ps"), "\n") {
			if strings.HasPrefix(l, ">") {
				out = append(out, strings.Fields(l)[1])
			}
		}
		return strings.Join(out, " ")
	}
	if got := marked(); got != "69 112" {
		t.Fatalf("active before set -a: %s, want 69 112", got)
	}
	if got := runCmd(t, s, "set -a 1"); !strings.HasPrefix(got, `"init" task `) || !strings.HasSuffix(got, " has been marked as the active task on cpu 0\n") {
		t.Errorf("set -a 1: %q", got)
	}
	if got := marked(); got != "1 69" {
		t.Errorf("active after set -a 1: %s, want 1 69", got)
	}
	if got := runCmd(t, s, "bt -a"); !strings.Contains(got, `PID: 1        TASK: `) || strings.Contains(got, `COMMAND: "insmod"`) {
		t.Errorf("bt -a after set -a 1 does not take init for cpu 0:\n%s", got)
	}
}
