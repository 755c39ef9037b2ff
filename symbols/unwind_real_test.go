package symbols

import (
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/vmcore"
)

// realKernel is one test-bed dump opened for unwinding.
type realKernel struct {
	tb    testbed.Dump
	dump  *vmcore.Dump
	mem   *vmcore.KernelSpace
	v     *Vmlinux
	types *Types
	u     *Unwinder
}

func openRealKernel(t *testing.T, name, format string) *realKernel {
	t.Helper()
	tb := testbed.Open(t, name, format)
	d, err := vmcore.Open(tb.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	info := d.Info()
	if info == nil {
		t.Fatal("dump has no VMCOREINFO")
	}
	params, err := vmcore.ParamsFromInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(tb.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	v.SetKASLR(info.KernelOffset)
	ty, err := v.Types()
	if err != nil {
		t.Fatal(err)
	}
	u := NewUnwinder(v, info.OSRelease)
	if _, err := u.ORC(); err != nil {
		t.Fatal(err)
	}
	return &realKernel{tb: tb, dump: d, mem: vmcore.NewKernelSpace(d, params), v: v, types: ty, u: u}
}

func (k *realKernel) word(t *testing.T, addr uint64) uint64 {
	t.Helper()
	var b [8]byte
	if err := k.mem.ReadVirt(b[:], addr); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

// stacks are the stacks a task may be on: its own, and when it runs on a
// CPU that CPU's IRQ and exception stacks.
func (k *realKernel) stacks(t *testing.T, task uint64, cpu int) []Stack {
	t.Helper()
	threadSize, irqSize, err := StackSizes(k.types)
	if err != nil {
		t.Fatal(err)
	}
	o, err := k.types.Object(k.mem, task, "task_struct")
	if err != nil {
		t.Fatal(err)
	}
	sf, err := o.Member("stack")
	if err != nil {
		t.Fatal(err)
	}
	base, err := sf.Pointer()
	if err != nil {
		t.Fatal(err)
	}
	out := []Stack{TaskStack(base, threadSize)}
	if cpu < 0 {
		return out
	}
	pco, _ := k.v.Lookup("__per_cpu_offset")
	cs, err := CPUStacks(k.v, k.types, k.mem, k.word(t, pco+8*uint64(cpu)), irqSize)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, cs...)
}

func prstatus(r vmcore.X86Regs) PtRegs {
	return PtRegs{R15: r.R15, R14: r.R14, R13: r.R13, R12: r.R12, BP: r.RBP, BX: r.RBX, R11: r.R11, R10: r.R10,
		R9: r.R9, R8: r.R8, AX: r.RAX, CX: r.RCX, DX: r.RDX, SI: r.RSI, DI: r.RDI, OrigAX: r.OrigRAX,
		IP: r.RIP, CS: r.CS, Flags: r.EFLAGS, SP: r.RSP, SS: r.SS}
}

// crashBT is one task's backtrace as crash printed it.
type crashBT struct {
	pid    int
	task   uint64
	cpu    int
	frames []crashFrame
}

type crashFrame struct {
	n        int
	slot     uint64 // the bracketed stack address
	fn       string
	pc       uint64
	excRIP   string // "[exception RIP: x]" under this frame
	stackSep string // "--- <X> ---" line before this frame
}

var (
	btHeader = regexp.MustCompile(`^PID: (\d+)\s+TASK: ([0-9a-f]+)\s+CPU: (\d+)`)
	btFrame  = regexp.MustCompile(`^\s*#(\d+) \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)`)
	btExc    = regexp.MustCompile(`^\s+\[exception RIP: (.*)\]`)
	btSep    = regexp.MustCompile(`^--- <(.*)> ---`)
)

func parseCrashBT(t *testing.T, text string) []crashBT {
	var out []crashBT
	sep := ""
	for _, line := range strings.Split(text, "\n") {
		if m := btHeader.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[1])
			task, _ := strconv.ParseUint(m[2], 16, 64)
			cpu, _ := strconv.Atoi(m[3])
			out = append(out, crashBT{pid: pid, task: task, cpu: cpu})
			sep = ""
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		if m := btSep.FindStringSubmatch(line); m != nil {
			sep = m[1]
		} else if m := btFrame.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			slot, _ := strconv.ParseUint(m[2], 16, 64)
			pc, _ := strconv.ParseUint(m[4], 16, 64)
			cur.frames = append(cur.frames, crashFrame{n: n, slot: slot, fn: m[3], pc: pc, stackSep: sep})
			sep = ""
		} else if m := btExc.FindStringSubmatch(line); m != nil && len(cur.frames) > 0 {
			cur.frames[len(cur.frames)-1].excRIP = m[1]
		}
	}
	if len(out) == 0 {
		t.Fatalf("no backtrace in crash's output:\n%s", text)
	}
	return out
}

func describe(frames []Frame) string {
	var b strings.Builder
	for i, f := range frames {
		fmt.Fprintf(&b, "  #%d [%x] %s+%#x at %x sp %x (%s, %s stack)", i, f.Slot, f.Func, f.Off, f.PC, f.SP, f.Method, f.Stack.Kind)
		if f.Exception != nil {
			fmt.Fprintf(&b, " regs@%x", f.Exception.Addr)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// unwindActive unwinds the task crash shows running on a CPU, from the
// CPU's NT_PRSTATUS registers.
func (k *realKernel) unwindActive(t *testing.T, bt crashBT) ([]Frame, string, error) {
	cpus := k.dump.CPUs()
	if bt.cpu >= len(cpus) {
		t.Fatalf("crash shows CPU %d, dump has %d NT_PRSTATUS notes", bt.cpu, len(cpus))
	}
	stacks := k.stacks(t, bt.task, bt.cpu)
	start, how := k.u.ActiveStart(k.mem, prstatus(cpus[bt.cpu].Regs), stacks)
	frames, err := k.u.Unwind(k.mem, start, Options{Stacks: stacks})
	return frames, how, err
}

// compareBT checks our frames against crash's: the same functions at the
// same addresses and stack slots, in order. crash leaves out frames whose
// return address starts the next function (NoReturnCall).
func compareBT(t *testing.T, what string, want crashBT, got []Frame) {
	t.Helper()
	var names []string
	all := got
	got = nil
	for _, f := range all {
		names = append(names, f.Func)
		if !f.NoReturnCall {
			got = append(got, f)
		}
	}
	if len(got) < len(want.frames) {
		t.Errorf("%s: %d frames, crash shows %d\n%s", what, len(got), len(want.frames), describe(got))
		return
	}
	for i, w := range want.frames {
		f := got[i]
		if f.Func != w.fn || f.PC != w.pc || f.Slot != w.slot {
			t.Errorf("%s: frame #%d is [%x] %s at %x, crash: [%x] %s at %x\n%s", what, i, f.Slot, f.Func, f.PC, w.slot, w.fn, w.pc, describe(all))
			return
		}
	}
	t.Logf("%s: %s", what, strings.Join(names, " <- "))
}

func TestUnwindPanicTask61(t *testing.T) {
	k := openRealKernel(t, "6.1-sysrq", "elf")
	golden, ok := k.tb.Golden("bt")
	if !ok {
		t.Fatal("no crash bt golden")
	}
	bt := parseCrashBT(t, golden)[0]
	frames, how, err := k.unwindActive(t, bt)
	if err != nil {
		t.Errorf("unwind: %v", err)
	}
	if how != "machine_kexec" {
		t.Errorf("panic task started from %s, want machine_kexec", how)
	}
	compareBT(t, "panic task", bt, frames)
}

func TestUnwindActiveTasks61(t *testing.T) {
	k := openRealKernel(t, "6.1-sysrq", "elf")
	golden, ok := k.tb.Golden("bt -a")
	if !ok {
		t.Fatal("no crash bt -a golden")
	}
	for _, bt := range parseCrashBT(t, golden) {
		frames, how, err := k.unwindActive(t, bt)
		if err != nil {
			t.Errorf("cpu %d: unwind (from %s): %v", bt.cpu, how, err)
		}
		compareBT(t, fmt.Sprintf("cpu %d pid %d (from %s)", bt.cpu, bt.pid, how), bt, frames)
	}
}

// TestUnwindSleepingTasks61 unwinds tasks that were not running from their
// inactive_task_frame and compares with crash's bt of the same dump.
func TestUnwindSleepingTasks61(t *testing.T) {
	k := openRealKernel(t, "6.1-sysrq", "elf")
	b, err := os.ReadFile("testdata/unwind_bt_6.1-sysrq.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The golden was recorded on one build of the test-bed dump; on another
	// the task addresses fail to read as task_struct or unwind elsewhere.
	if !strings.Contains(string(b), "TASK: ") {
		t.Fatal("testdata/unwind_bt_6.1-sysrq.txt holds no backtrace")
	}
	l, err := TaskFrameLayoutFrom(k.types)
	if err != nil || l != DefaultTaskFrameLayout {
		t.Fatalf("inactive_task_frame layout %+v (%v), want %+v", l, err, DefaultTaskFrameLayout)
	}
	for _, bt := range parseCrashBT(t, string(b)) {
		o, err := k.types.Object(k.mem, bt.task, "task_struct")
		if err != nil {
			t.Fatal(err)
		}
		spo, err := o.Member("thread.sp")
		if err != nil {
			t.Fatal(err)
		}
		sp, err := spo.Uint()
		if err != nil {
			t.Fatalf("pid %d: thread.sp: %v (golden recorded on another build of the dump? regenerate testdata/unwind_bt_6.1-sysrq.txt)", bt.pid, err)
		}
		s, err := k.u.SleepingStart(k.mem, sp, l)
		if err != nil {
			t.Fatalf("pid %d: %v", bt.pid, err)
		}
		frames, err := k.u.Unwind(k.mem, s, Options{Stacks: k.stacks(t, bt.task, -1)})
		if err != nil {
			t.Errorf("pid %d: %v", bt.pid, err)
		}
		compareBT(t, fmt.Sprintf("pid %d", bt.pid), bt, frames)
	}
}
