package commands

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// psGoldenCommands are compared with crash 8.0.6's answers on every
// committed dump and format, in this order in one session (the set
// commands change the context: "set" must come first, "set -p" restores
// it). testdata/mkdump/mkdump.sh records them (CRASH_CMDS).
var psGoldenCommands = []string{
	"set",
	"ps",
	"ps -k", "ps -u", "ps -G", "ps -p", "ps -c", "ps -t", "ps -a", "ps -g", "ps -r", "ps -s", "ps -S", "ps -A",
	"ps -l", // the 6.1 kernel has no sched_info.last_arrival: crash's refusal
	"ps 1", "ps kthreadd", "ps threads", "ps -G threads", "ps -c 2",
	"ps 99999", // no such pid: crash's message, then the empty table
	// a name in single quotes is a regular expression; 'a b' is two
	// names to crash (single quotes do not group there): nothing matches
	// either way; a bad one is refused before the header
	"ps '^k'", "ps 'sh$' init", "ps 'a b'", "ps '['", "ps -G ':1H$'",
	"set 2", "set -p",
	"set 99999",
}

// runTimeLine is ps -t's RUN TIME, computed with HZ: crash 8.0.6 assumes
// HZ=1000 where it cannot find HZ (6.12); gocrash reads it from the
// kernel. Where crash used the wrong HZ, RUN TIME is not compared.
var runTimeLine = regexp.MustCompile(`(?m)^    RUN TIME: .*$`)

var psDefaultDump = func(t testing.TB) testbed.Dump {
	return testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
}

func checkPsGoldens(t *testing.T, d testbed.Dump) {
	s := openTestbed(t, d)
	defer s.Close()
	sysGolden, _ := d.Golden("sys")
	wrongHZ := crashUsedWrongHZ(t, s, sysGolden)
	for _, cmd := range psGoldenCommands {
		want, ok := d.Golden(cmd)
		if !ok {
			if why, pending := d.Pending(cmd); pending {
				t.Logf("%s: %s", cmd, why)
				continue
			}
			t.Errorf("%s: crash's output was not recorded (testdata/mkdump/mkdump.sh CRASH_CMDS)", cmd)
			continue
		}
		got := runCmd(t, s, cmd)
		if wrongHZ && cmd == "ps -t" {
			got = runTimeLine.ReplaceAllString(got, "    RUN TIME: (differs: crash assumed HZ=1000)")
			want = runTimeLine.ReplaceAllString(want, "    RUN TIME: (differs: crash assumed HZ=1000)")
		}
		if got != want {
			t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
		}
	}
}

func TestPsGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) { checkPsGoldens(t, d) })
	}
}

// TestPsByTaskAddress selects tasks by task_struct address, with and
// without 0x: the line must be ps's line for that task.
func TestPsByTaskAddress(t *testing.T) {
	d := psDefaultDump(t)
	s := openTestbed(t, d)
	defer s.Close()
	want, ok := d.Golden("ps")
	if !ok {
		t.Fatal("ps: crash's output was not recorded")
	}
	lines := strings.Split(strings.TrimRight(want, "\n"), "\n")
	tt, err := s.Tasks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tasks := tt.All()
	if len(tasks) != len(lines)-1 {
		t.Fatalf("%d tasks, crash lists %d", len(tasks), len(lines)-1)
	}
	for i, task := range []Task{tasks[0], tasks[len(tasks)/2], tasks[len(tasks)-1]} {
		arg := strings.TrimLeft(strings.Fields(lines[1])[3], "0")
		if i > 0 {
			arg = "0x" + strings.TrimLeft(hex16(task.Addr), "0")
		} else {
			arg = hex16(task.Addr)
		}
		got := runCmd(t, s, "ps "+arg)
		var line string
		for _, l := range lines[1:] {
			if strings.Contains(l, hex16(task.Addr)) {
				line = l
			}
		}
		if exp := lines[0] + "\n" + line + "\n"; got != exp {
			t.Errorf("ps %s:\n%s", arg, lineDiff(exp, got))
		}
	}
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b)
}

// patchedMemory is the dump's memory with some 8-byte words replaced: a
// hand-made corrupt task list.
type patchedMemory struct {
	mem   interface{ ReadVirt([]byte, uint64) error }
	words map[uint64]uint64
}

func (m *patchedMemory) ReadVirt(p []byte, addr uint64) error {
	if err := m.mem.ReadVirt(p, addr); err != nil {
		return err
	}
	for a, v := range m.words {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		for i := range b {
			if a+uint64(i) >= addr && a+uint64(i) < addr+uint64(len(p)) {
				p[a+uint64(i)-addr] = b[i]
			}
		}
	}
	return nil
}

// TestCorruptTaskList: a task list that loops without returning to its
// head, a garbage next pointer, a NULL and an unreadable one each end the
// walk with one line naming the list and the entry, quickly.
func TestCorruptTaskList(t *testing.T) {
	d := psDefaultDump(t)
	s := openTestbed(t, d)
	defer s.Close()
	types, err := s.Types()
	if err != nil {
		t.Fatal(err)
	}
	tasksOff, err := types.Offset("task_struct.tasks")
	if err != nil {
		t.Fatal(err)
	}
	threadNodeOff, err := types.Offset("task_struct.thread_node")
	if err != nil {
		t.Fatal(err)
	}
	initTask, err := s.InitTask()
	if err != nil {
		t.Fatal(err)
	}
	var procs []uint64
	if err := s.ForEachProcess(func(p uint64) error { procs = append(procs, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(procs) < 10 {
		t.Fatalf("only %d processes", len(procs))
	}
	next := func(task uint64) uint64 { return task + uint64(tasksOff) } // tasks.next
	var leader uint64                                                   // a process with threads
	for _, p := range procs {
		n := 0
		s.ForEachThread(p, func(uint64) error { n++; return nil })
		if n > 1 {
			leader = p
		}
	}
	if leader == 0 {
		t.Fatal("no process with threads in the dump")
	}
	var threads []uint64
	s.ForEachThread(leader, func(th uint64) error { threads = append(threads, th); return nil })
	for _, c := range []struct {
		name  string
		words map[uint64]uint64
		want  string
	}{
		{"cycle", map[uint64]uint64{next(procs[8]): next(procs[3])}, `^init_task.tasks: corrupt list at 0x[0-9a-f]+: entry \d+ at 0x[0-9a-f]+ has next pointer 0x[0-9a-f]+, which loops without returning to the head$`},
		{"self loop", map[uint64]uint64{next(procs[5]): next(procs[5])}, `entry \d+ at (0x[0-9a-f]+) has next pointer (0x[0-9a-f]+), which loops`},
		{"garbage pointer", map[uint64]uint64{next(procs[4]): 0x1234}, `^init_task.tasks: corrupt list at 0x[0-9a-f]+: entry 4 at 0x[0-9a-f]+ has next pointer 0x1234, not a kernel address$`},
		{"NULL", map[uint64]uint64{next(procs[2]): 0}, `: entry 2 at 0x[0-9a-f]+ has next pointer 0x0, not a kernel address$`},
		{"NULL head", map[uint64]uint64{initTask + uint64(tasksOff): 0}, `^init_task.tasks: corrupt list at 0x[0-9a-f]+: the head's next pointer 0x0, not a kernel address$`},
		{"unmapped", map[uint64]uint64{next(procs[2]): 0xffffc90000000000}, `^init_task.tasks: corrupt list at 0x[0-9a-f]+: entry 3 at 0xffffc90000000000 cannot be read: `},
		{"thread cycle", map[uint64]uint64{threads[len(threads)-1] + uint64(threadNodeOff): threads[1] + uint64(threadNodeOff)}, `^signal_struct.thread_head: corrupt list at 0x[0-9a-f]+: entry \d+ at 0x[0-9a-f]+ has next pointer 0x[0-9a-f]+, which loops`},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			pk := s.WithMemory(&patchedMemory{mem: s.Mem, words: c.words})
			err := pk.ForEachTask(context.Background(), func(uint64) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if !regexp.MustCompile(c.want).MatchString(err.Error()) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line matching %q", err, c.want)
			}
			t.Log(err)
			// The whole table (ps's path) ends with one line too.
			_, err = pk.Tasks(context.Background())
			if err == nil || strings.Contains(err.Error(), "\n") {
				t.Errorf("task table: %v", err)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}

// TestTaskStates checks the state letters of crash's rules on states the
// test dumps do not hold, with the 6.1 kernel's task_state_array.
func TestTaskStates(t *testing.T) {
	d := psDefaultDump(t)
	s := openTestbed(t, d)
	defer s.Close()
	st, err := s.taskStates()
	if err != nil {
		t.Fatal(err)
	}
	// include/linux/sched.h (6.1): TASK_PARKED 0x40, TASK_DEAD 0x80,
	// TASK_WAKEKILL 0x100, TASK_WAKING 0x200, TASK_NOLOAD 0x400,
	// TASK_NEW 0x800, TASK_FREEZABLE 0x2000; EXIT_DEAD 0x10, EXIT_ZOMBIE 0x20.
	for _, c := range []struct {
		state       uint64
		short, long string
	}{
		{0, "RU", "TASK_RUNNING"},
		{0x1, "IN", "TASK_INTERRUPTIBLE"},
		{0x2001, "IN", "TASK_INTERRUPTIBLE"},
		{0x2, "UN", "TASK_UNINTERRUPTIBLE"},
		{0x402, "ID", "TASK_UNINTERRUPTIBLE|TASK_NOLOAD"},
		{0x102, "UN", "TASK_UNINTERRUPTIBLE|TASK_WAKEKILL"},
		{0x4, "ST", "TASK_STOPPED"},
		{0x8, "TR", "TASK_TRACED"},
		{0x20, "ZO", "EXIT_ZOMBIE"},
		{0x80 | 0x10, "DE", "EXIT_DEAD|TASK_DEAD"},
		{0x80 | 0x20, "ZO", "EXIT_DEAD|EXIT_ZOMBIE"},
		{0x40, "PA", "TASK_PARKED"},
		{0x200, "WA", "TASK_WAKING"},
		{0x800, "NE", "TASK_NEW"},
		{0x8000, "??", ""},
	} {
		if got := st.Short(c.state); got != c.short {
			t.Errorf("Short(%#x) = %s, want %s", c.state, got, c.short)
		}
		if got := st.Long(c.state); got != c.long {
			t.Errorf("Long(%#x) = %s, want %s", c.state, got, c.long)
		}
	}
}

// TestSetContext: set PID makes the task the context that other commands
// use; set -p goes back to the panic task.
func TestSetContext(t *testing.T) {
	d := psDefaultDump(t)
	s := openTestbed(t, d)
	defer s.Close()
	runCmd(t, s, "set 2")
	ctx, err := s.Context()
	if err != nil {
		t.Fatal(err)
	}
	tt, err := s.taskTable()
	if err != nil {
		t.Fatal(err)
	}
	if task := tt.byPID(2); task == nil || task.Addr != ctx {
		t.Fatalf("context %#x after set 2, want pid 2", ctx)
	}
	if got := runCmd(t, s, "set"); !strings.HasPrefix(got, "    PID: 2\n") {
		t.Errorf("set after set 2:\n%s", got)
	}
	runCmd(t, s, "set -p")
	if ctx, _ = s.Context(); ctx != tt.panic {
		t.Errorf("context %#x after set -p, panic task %#x", ctx, tt.panic)
	}
	if err := Run(s, "set bogus", io.Discard); err == nil {
		t.Error("set bogus: no error")
	}
	var ue *UsageError
	if err := Run(s, "ps -k -u", io.Discard); err == nil || errors.As(err, &ue) {
		t.Errorf("ps -k -u: %v", err)
	}
}

// BenchmarkPs is ps on the default dump (a session already open): the
// walk of every task list and each task's memory counters.
func BenchmarkPs(b *testing.B) {
	d := psDefaultDump(b)
	s := openTestbed(b, d)
	defer s.Close()
	if err := Run(s, "ps", io.Discard); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Run(s, "ps", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// externalDump is a dump outside the test bed named by $GOCRASH_PS_DUMP
// (a mkdump.sh output directory, e.g. /var/cache/gocrash-mkdump/out/6.1-many:
// the "many" scenario with thousands of tasks is not committed).
func externalDump(t testing.TB) (testbed.Dump, bool) {
	dir := os.Getenv("GOCRASH_PS_DUMP")
	if dir == "" {
		return testbed.Dump{}, false
	}
	f := os.Getenv("GOCRASH_PS_FORMAT")
	if f == "" {
		f = "elf"
	}
	return testbed.Dump{Name: filepath.Base(dir), Format: f, Vmlinux: filepath.Join(dir, "vmlinux"),
		Vmcore: filepath.Join(dir, "vmcore."+f), Dir: dir}, true
}

// TestPsExternalDump compares ps and set with crash on $GOCRASH_PS_DUMP.
func TestPsExternalDump(t *testing.T) {
	d, ok := externalDump(t)
	if !ok {
		t.Skip("GOCRASH_PS_DUMP is not set (an opt-in check of a dump outside the test bed)")
	}
	checkPsGoldens(t, d)
}

// BenchmarkPsExternal is ps on $GOCRASH_PS_DUMP (the "many" scenario).
func BenchmarkPsExternal(b *testing.B) {
	d, ok := externalDump(b)
	if !ok {
		b.Skip("GOCRASH_PS_DUMP is not set")
	}
	s := openTestbed(b, d)
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Run(s, "ps", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
