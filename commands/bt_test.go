package commands

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
	"gocrash/kernel"
	"gocrash/symbols"
	"gocrash/vmcore"
)

// btGoldens are compared on every committed dump and format; every other
// recorded crash/bt_*.txt (bt -f, bt -l, bt -e, bt 2, bt 0, ...) is
// compared too.
var btGoldens = []string{"bt", "bt -a", "bt -t"}

// btAllowed are the deliberate differences from crash's bt, each with its
// reason. They are applied to gocrash's output before comparing. There
// are none now: the unwinder note is printed only with "set unwind_notes on".
var btAllowed = []struct {
	re     *regexp.Regexp
	repl   string
	reason string
}{}

func btNormalize(s string) string {
	for _, a := range btAllowed {
		s = a.re.ReplaceAllString(s, a.repl)
	}
	return s
}

// crashStackFailure is how crash 8.0.6 gives up on the task of the CPU
// that panic() stopped in a QEMU dump (crash shows that CPU as OFFLINE:
// panic's smp_send_stop() cleared it from cpu_online_mask): whatever its
// NT_PRSTATUS RSP (task or IRQ stack), crash reads "stack contents" of
// size 0 at fffffe000004f000, in that CPU's cpu_entry_area, fails and
// shows no frame. gocrash unwinds that task from the same registers.
var crashStackFailure = regexp.MustCompile(`^bt: invalid size request: 0  type: "stack contents"\nbt: read of stack at fffffe[0-9a-f]+ failed\n$`)

// crashStackFailures puts crash's failure in place of gocrash's backtrace
// of the same task where crash failed as above and gocrash's unwind got
// through: from an exception frame in the kernel to the user-mode
// registers, with no "bt:" complaint.
func crashStackFailures(want, got string) string {
	wb, gb := btBlocks(want), btBlocks(got)
	if len(wb) != len(gb) {
		return got
	}
	for i := range wb {
		wh, wbody, _ := strings.Cut(wb[i], "\n")
		gh, gbody, _ := strings.Cut(gb[i], "\n")
		if wh != gh || !crashStackFailure.MatchString(wbody) {
			continue
		}
		if strings.HasPrefix(gbody, "    [exception RIP: ") && strings.Contains(gbody, "  CS: 0033  SS: 002b\n") && !strings.Contains(gbody, "bt: ") {
			gb[i] = gh + "\n" + wbody
		}
	}
	return strings.Join(gb, "")
}

// btBlocks splits bt output into one block a task, each from its "PID:"
// line (blank lines between tasks stay with the block before).
func btBlocks(s string) []string {
	var out []string
	for s != "" {
		i := strings.Index(s[1:], "\nPID: ")
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+2])
		s = s[i+2:]
	}
	return out
}

func btGoldenList(d testbed.Dump) []string {
	cmds := append([]string(nil), btGoldens...)
	seen := map[string]bool{}
	for _, c := range cmds {
		seen[c] = true
	}
	var extra []string
	answers, _ := d.Answers()
	for _, rel := range answers {
		dir, f, _ := strings.Cut(rel, "/")
		if (dir == "crash" || dir == "crash-"+d.Format) && strings.HasPrefix(f, "bt_") {
			c := strings.ReplaceAll(strings.TrimSuffix(f, ".txt"), "_", " ")
			// A {placeholder} needs testbed's Resolve: foreach_test.go's
			// tasksGoldens run those.
			// bt -O changes the session's default method:
			// TestBtOldMethodToggle runs it, and the "bt 1" it
			// changes, in crash's order. The answers recorded after mod
			// -s (bt -l -a) are TestModLoadGoldens'.
			if !seen[c] && !strings.Contains(c, "{") && !btToggleGoldens[c] && !slices.Contains(modLoadGoldens, c) {
				seen[c] = true
				extra = append(extra, c)
			}
		}
	}
	sort.Strings(extra)
	return append(cmds, extra...)
}

func TestBtGoldens(t *testing.T) {
	checkGoldens(t, btGoldenList, func(_ *testing.T, _ *Session, _, got, want string) (string, string) {
		want = noSlabTable.ReplaceAllString(want, "") // bt -F under --no_kmem_cache (foreach_test.go)
		// bt -D without its argument: getopt's complaint goes to
		// crash's stderr, which the recording does not keep.
		got = strings.TrimPrefix(got, "bt: option requires an argument -- 'D'\n")
		return crashStackFailures(want, btNormalize(got)), want
	})
}

// TestBtFallbackNote checks the addition "set unwind_notes on" makes:
// the panic task's backtrace crosses __crash_kexec, where the kernel's ORC
// entry is undefined, and says that DWARF CFI found the next frame. By
// default bt prints crash's lines only (TestBtGoldens).
func TestBtFallbackNote(t *testing.T) {
	s := openTestbed(t, testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat))
	defer s.Close()
	var plain, b bytes.Buffer
	if err := Run(s, "bt", &plain); err != nil {
		t.Fatal(err)
	}
	if err := Run(s, "set unwind_notes on", io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := Run(s, "bt", &b); err != nil {
		t.Fatal(err)
	}
	const note = "    (ORC could not unwind: #2 found with DWARF CFI (.debug_frame))\n"
	if b.String() != plain.String()+note {
		t.Errorf("bt with unwind_notes on is not bt plus the fallback note %q:\n%s", note, b.String())
	}
}

func TestBtBadArguments(t *testing.T) {
	s := openTestbed(t, testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat))
	defer s.Close()
	for _, c := range []struct{ cmd, want string }{
		// crash: error(INFO, "invalid task or pid value: %s\n")
		{"bt 99999", "bt: invalid task or pid value: 99999\n"},
		{"bt nosuchtask", "bt: invalid task or pid value: nosuchtask\n"},
		{"bt ffffffffdeadbeef", "bt: invalid task or pid value: ffffffffdeadbeef\n"},
		{"bt -q", "bt: invalid option -- 'q'\n"},
		{"bt -x -d", "bt: -d and -x are mutually exclusive\n"},
	} {
		var b bytes.Buffer
		err := Run(s, c.cmd, &b)
		if err == nil {
			t.Errorf("%s: no error", c.cmd)
		}
		got := b.String()
		if !Printed(err) {
			got += err.Error() + "\n"
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q first", c.cmd, got, c.want)
		}
	}
}

// faultMem fails reads of [lo, hi) with err, or serves junk there.
type faultMem struct {
	mem    symbols.Memory
	lo, hi uint64
	err    error
	junk   *rand.Rand
}

func (m *faultMem) ReadVirt(p []byte, addr uint64) error {
	if addr < m.hi && addr+uint64(len(p)) > m.lo {
		if m.err != nil {
			page := addr
			if page < m.lo {
				page = m.lo
			}
			return &vmcore.AddrError{Addr: page, Space: "kernel virtual", Err: m.err}
		}
		if err := m.mem.ReadVirt(p, addr); err != nil {
			return err
		}
		for i := range p {
			if a := addr + uint64(i); a >= m.lo && a < m.hi {
				p[i] = byte(m.junk.Intn(256))
			}
		}
		// Sprinkle kernel text addresses so the unwinders have
		// something plausible to chase.
		for i := 0; i+8 <= len(p); i += 64 {
			binary.LittleEndian.PutUint64(p[i:], 0xffffffff8f400000+uint64(m.junk.Intn(1<<22)))
		}
		return nil
	}
	return m.mem.ReadVirt(p, addr)
}

// btWithMem runs bt for one task over mem.
func btWithMem(t *testing.T, s *Session, opt btOptions, task uint64, wrap func(stack symbols.Stack) symbols.Memory) string {
	t.Helper()
	var b bytes.Buffer
	r, err := newBtRun(s, opt, &b)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := s.Backtrace(context.Background(), task, kernel.BacktraceOptions{StacksOnly: true})
	if bt == nil {
		t.Fatal(err)
	}
	r.mem = wrap(symbols.TaskStack(bt.Task.Stack, r.threadSize))
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.task(task)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("bt of task %x hangs", task)
	}
	return b.String()
}

func TestBtUnreadableStack(t *testing.T) {
	s := openTestbed(t, testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat))
	defer s.Close()
	task, err := s.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	var stackLow uint64
	got := btWithMem(t, s, btOptions{}, task, func(st symbols.Stack) symbols.Memory {
		stackLow = st.Low
		return &faultMem{mem: s.Mem, lo: st.Low + 4096, hi: st.High, err: vmcore.ErrNotInDump}
	})
	// crash: readmem()'s READ_ERRMSG, then fill_stackbuf()'s FATAL.
	for _, want := range []string{
		"PID: 1        TASK: ",
		"bt: read error: kernel virtual address: " + hex(stackLow+4096) + "  type: \"stack contents\"\n",
		"bt: read of stack at " + hex(stackLow) + " failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func hex(v uint64) string {
	const digits = "0123456789abcdef"
	var b []byte
	for v != 0 {
		b = append([]byte{digits[v&15]}, b...)
		v >>= 4
	}
	if len(b) == 0 {
		return "0"
	}
	return string(b)
}

// TestBtGarbageStack unwinds every task of the sample dump over stacks
// filled with junk: each must end, without a panic, in bounded output.
func TestBtGarbageStack(t *testing.T) {
	s := openTestbed(t, testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat))
	defer s.Close()
	tb, err := s.btTaskTable()
	if err != nil {
		t.Fatal(err)
	}
	for i, task := range tb.tasks {
		for _, opt := range []btOptions{{}, {text: true}, {full: true}, {eframes: true}} {
			got := btWithMem(t, s, opt, task, func(st symbols.Stack) symbols.Memory {
				return &faultMem{mem: s.Mem, lo: st.Low, hi: st.High, junk: rand.New(rand.NewSource(int64(i)))}
			})
			if !strings.HasPrefix(got, "PID: ") {
				t.Errorf("task %x: no header:\n%s", task, got)
			}
			if n := strings.Count(got, "\n"); n > 3000 {
				t.Errorf("task %x: %d lines of output over a junk stack", task, n)
			}
		}
	}
}

func TestBtResolve(t *testing.T) {
	tb := &btTable{byTask: map[uint64]bool{0xff2c138f00198000: true, 0x16: true},
		pids: map[int64][]uint64{0: {0xa, 0xb}, 1: {0xff2c138f00198000}, 10: {0x10}, 16: {0x16}, 26: {0x26}}}
	for _, c := range []struct {
		arg  string
		want []uint64
	}{
		{"1", []uint64{0xff2c138f00198000}},
		{"0", []uint64{0xa, 0xb}},
		{"ff2c138f00198000", []uint64{0xff2c138f00198000}},
		{"0xff2c138f00198000", []uint64{0xff2c138f00198000}},
		// decimal 10 and hexadecimal 0x10 are both PIDs: the decimal one wins
		{"10", []uint64{0x10}},
		// "1a" is only hexadecimal: PID 26
		{"1a", []uint64{0x26}},
		// decimal 16 is a PID and hexadecimal 0x16 a task: ambiguous
		{"16", nil},
		{"12345", nil},
		{"zz", nil},
	} {
		got := tb.resolve(c.arg)
		if len(got) != len(c.want) {
			t.Errorf("resolve(%q) = %x, want %x", c.arg, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("resolve(%q) = %x, want %x", c.arg, got, c.want)
			}
		}
	}
}

// TestBtWithoutNotes takes every CPU's NT_PRSTATUS note away (as when a
// capture kernel's notes are zeroed or cut off) and checks that bt -a still
// prints crash's backtraces: the active tasks' starts are found on their
// stacks (machine_kexec, crash_nmi_callback), as crash finds them. QEMU
// dumps are left out: no kdump kernel ran, so nothing of the kind is on
// the stacks and crash's answer comes from QEMU's registers.
func TestBtWithoutNotes(t *testing.T) {
	for _, d := range testbed.All(t) {
		if d.Format == "qemu" {
			continue
		}
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			want, ok := d.Golden("bt -a")
			if !ok {
				t.Fatal("bt -a: crash's output was not recorded")
			}
			var b bytes.Buffer
			r, err := newBtRun(s, btOptions{all: true}, &b)
			if err != nil {
				t.Fatal(err)
			}
			r.regs = func(int) (symbols.PtRegs, bool) { return symbols.PtRegs{}, false }
			if err := r.run(); err != nil && !Printed(err) {
				t.Fatal(err)
			}
			if got := btNormalize(b.String()); got != want {
				t.Errorf("bt -a without notes differs from crash's (with notes):\n%s", lineDiff(want, got))
			}
		})
	}
}

// stackZeroMem reads every whole stack bt loads as zeroes.
type stackZeroMem struct {
	symbols.Memory
	size uint64
}

func (m stackZeroMem) ReadVirt(p []byte, addr uint64) error {
	if uint64(len(p)) >= m.size {
		clear(p)
		return nil
	}
	return m.Memory.ReadVirt(p, addr)
}

// TestBtWithoutNotesNothingFound: with no note and nothing recognisable
// on the stacks, an active task's saved thread.sp is stale, so bt says
// where the task ran is unknown instead of unwinding from it.
func TestBtWithoutNotesNothingFound(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(t, d)
	defer s.Close()
	// The task's line is crash's, from its bt of the panic task (PID 1).
	crashBT, ok := d.Golden("bt")
	if !ok {
		t.Fatal("bt: crash's output was not recorded")
	}
	header, _, _ := strings.Cut(crashBT, "\n")
	var b bytes.Buffer
	r, err := newBtRun(s, btOptions{}, &b)
	if err != nil {
		t.Fatal(err)
	}
	r.regs = func(int) (symbols.PtRegs, bool) { return symbols.PtRegs{}, false }
	r.mem = stackZeroMem{Memory: r.mem, size: r.irqSize}
	err = r.run()
	if err == nil || !Printed(err) {
		t.Fatalf("bt without notes on zeroed stacks: err %v, want a printed failure", err)
	}
	want := header + `
bt: the dump has no NT_PRSTATUS note for CPU 0, and none of its stacks holds a return address into machine_kexec, crash_nmi_callback, die or panic: where PID 1 was running is unknown
`
	if b.String() != want {
		t.Errorf("got:\n%swant:\n%s", b.String(), want)
	}
}
