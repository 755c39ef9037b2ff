package commands

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gocrash/internal/gdbasm"
	"gocrash/internal/testbed"
)

// disGoldens are dis and mod as crash 8.0.6 answered them on every
// committed dump (testdata/mkdump/mkdump.sh records them: the "dis/mod"
// block of CRASH_CMDS). The module's names answer "symbol not found" on
// the dumps without the test module, as crash does. ("mod -s gocrash_oops
// /nonexistent/gocrash_oops.ko" loads the module, as crash finds it beside
// the vmlinux: it is one of modLoadGoldens.)
var disGoldens = []string{
	"dis schedule", "dis -l schedule 10", "dis panic 12", "dis -l panic 5",
	"dis -r panic+20 3", "dis -r panic+20", "dis -x panic 3", "dis -d panic+20 2",
	"dis panic+1 2", "dis -f panic+3000", "dis sysrq_handle_crash",
	"dis -l sysrq_handle_crash", "dis -f sysrq_handle_crash+4", "dis __schedule",
	"dis dev_ethtool", "dis jiffies", "dis nosuchfunc", "dis -b", "dis",
	"dis -r -f panic", "dis panic 0",
	"dis -r gocrash_write_null.constprop.0", "dis -l gocrash_write_null.constprop.0 3",
	"dis gocrash_write_null.constprop.0 4", "dis -f gocrash_write_null.constprop.0 2",
	"mod", "mod -t", "mod -s nosuch", "mod -s gocrash_oops /etc/passwd",
	"mod -q",
	"dis -s jiffies", "dis -s gocrash_write_null.constprop.0", "dis -s -r panic",
	"dis 0", "dis ffffffffdeadbeef", "dis -l mbox_request_channel", "dis __parse_nl_addr.isra.0",
	"dis -f schedule+100 4", "dis -r schedule+100 2", "dis -x -l panic 4",
	"mod -d gocrash_oops", "mod -D", "mod -o", "mod -r", "mod -s gocrash_oops /etc/passwd extra",
	"mod -S /nonexistent",
	// past the end of the kernel's text: <_etext+N>, and the first of the
	// symbols at _etext's address until a lookup inside moved crash's
	// symbol-value hash onto the last (dis.go's symvalHash)
	"dis _etext 4", "dis -r _etext 2", "dis -l _etext 2",
}

// disSourceGoldens list source code (dis -s) from the kernel tree the
// test bed built from, which is on the machine that made the dumps
// (/var/cache/gocrash-mkdump/linux-source-VERSION): where it is not, gocrash
// says, as crash would, that the source is not available, and these are
// not compared.
var disSourceGoldens = []string{"dis -s panic", "dis -s schedule 3", "dis -s sysrq_handle_crash"}

func TestDisSourceGoldens(t *testing.T) {
	checkGoldens(t, func(d testbed.Dump) []string {
		var out []string
		for _, c := range disSourceGoldens {
			want, ok := d.Golden(c)
			if !ok {
				out = append(out, c) // fails: not recorded
				continue
			}
			// The golden's first listed line is in a file of the tree.
			if !strings.HasPrefix(want, "FILE: ") {
				out = append(out, c)
				continue
			}
			if why := buildTreeOf(d); why != "" {
				t.Logf("%s: %s: not compared", c, why)
				continue
			}
			out = append(out, c)
		}
		return out
	}, nil)
}

func TestDisGoldens(t *testing.T) {
	checkGoldens(t, func(testbed.Dump) []string { return disGoldens }, nil)
}

// TestDisFaultingInstruction is the post-mortem of the oops dumps (every
// committed oops scenario: both kernels): bt names the exception RIP and
// the registers; dis -r at that RIP ends with the instruction that
// faulted, a store whose address, computed from those registers, is NULL;
// and that answer is crash's (its dis -r of the function the RIP is in,
// recorded on the dump, when the RIP is that function's first
// instruction). (In these builds gcc folded the NULL pointer into an
// absolute address, "movl $0x6b6b6b6b,0x0"; a build that keeps it in a
// register, RAX=0 there, passes the same way.)
func TestDisFaultingInstruction(t *testing.T) {
	for _, name := range []string{"6.1-oops", "6.12-oops"} {
		t.Run(name, func(t *testing.T) {
			d := testbed.Open(t, name, "zlib")
			s := openTestbed(t, d)
			defer s.Close()
			faultingInstruction(t, d, s)
		})
	}
}

func faultingInstruction(t *testing.T, d testbed.Dump, s *Session) {
	bt := runCmd(t, s, "bt")
	i := strings.Index(bt, "[exception RIP: ")
	if i < 0 {
		t.Fatalf("bt shows no exception frame:\n%s", bt)
	}
	frame := bt[i:]
	fn, _, _ := strings.Cut(strings.TrimPrefix(frame, "[exception RIP: "), "]")
	regs := map[string]uint64{}
	for _, m := range regexp.MustCompile(`([A-Z0-9]+): ([0-9a-f]{16})`).FindAllStringSubmatch(frame[:strings.Index(frame, "ORIG_RAX")], -1) {
		v, _ := strconv.ParseUint(m[2], 16, 64)
		regs[strings.ToLower(m[1])] = v
	}
	rip, ok := regs["rip"]
	if !ok {
		t.Fatalf("no RIP in the exception frame:\n%s", frame)
	}
	out := runCmd(t, s, "dis -r "+strconv.FormatUint(rip, 16))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "0x"+strconv.FormatUint(rip, 16)+" <") {
		t.Fatalf("dis -r %x does not end at the exception RIP:\n%s", rip, out)
	}
	if !strings.Contains(fn, "+") {
		want, ok := d.Golden("dis -r " + fn)
		if !ok {
			t.Errorf("crash's dis -r %s is not recorded on %s", fn, d.Name)
		} else if out != want {
			t.Errorf("dis -r %x differs from crash's dis -r %s:\n%s", rip, fn, lineDiff(want, out))
		}
	}
	code := make([]byte, 15)
	if err := s.Mem.ReadVirt(code, rip); err != nil {
		t.Fatal(err)
	}
	in := gdbasm.Decode(code, rip)
	if !strings.HasSuffix(last, "\t"+in.Text) {
		t.Fatalf("last line %q is not the instruction at RIP %q", last, in.Text)
	}
	if in.Mem == nil || !in.Write {
		t.Fatalf("the faulting instruction %q does not store to memory", in.Text)
	}
	ea := uint64(in.Mem.Disp)
	if in.Mem.Base != "" {
		ea += regs[in.Mem.Base]
	}
	if in.Mem.Index != "" {
		ea += regs[in.Mem.Index] * uint64(in.Mem.Scale)
	}
	if in.Mem.Segment != "" || ea != 0 {
		t.Fatalf("%q writes to %#x (segment %q), not through NULL", in.Text, ea, in.Mem.Segment)
	}
	t.Logf("faulting instruction: %s (RAX=%#x)", last, regs["rax"])
}

// BenchmarkDisFunction is dis of a ~2,000-instruction function
// (dev_ethtool, 1,976 lines on 6.1-sysrq) on the sample dump, reporting
// the process's CPU time a dis beside the wall clock (cpu-ms/op: what
// bench/cmdtime.sh measures for crash and gocrash; a loaded machine
// stretches ns/op, not the CPU a dis takes); beside crash: see the
// closing note of issue #13 and bench/README.md.
func BenchmarkDisFunction(b *testing.B) {
	d := testbed.Open(b, "6.1-sysrq", "elf")
	s := openTestbed(b, d)
	defer s.Close()
	runCmd(b, s, "dis dev_ethtool") // symbols and modules read once
	b.ResetTimer()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for i := 0; i < b.N; i++ {
		runCmd(b, s, "dis dev_ethtool")
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := func(r syscall.Rusage) float64 {
		return float64(r.Utime.Sec+r.Stime.Sec)*1e3 + float64(r.Utime.Usec+r.Stime.Usec)/1e3
	}
	b.ReportMetric((cpu(ru1)-cpu(ru0))/float64(b.N), "cpu-ms/op")
}

// buildTreeOf says why the test bed's kernel source tree on this machine
// cannot give this dump's source lines, or "" when it can: the tree must be
// the very build of the dump's kernel (its UTS_VERSION, "#1 SMP <date>", is
// the dump's sys VERSION), not merely the same release: a rebuilt or
// re-extracted tree of the same release lists other lines (kernel/panic.c
// of a later 6.12.117 package, seen here).
func buildTreeOf(d testbed.Dump) string {
	tree := "/var/cache/gocrash-mkdump/linux-source-" + d.Version()
	b, err := os.ReadFile(tree + "/include/generated/utsversion.h")
	if err != nil {
		return "the kernel source tree is not on this machine"
	}
	sys, ok := d.Golden("sys")
	if !ok {
		return "no sys answer to tell the dump's build"
	}
	for _, l := range strings.Split(sys, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "VERSION: "); ok {
			if strings.Contains(string(b), `"`+v+`"`) {
				return ""
			}
			return "the kernel source tree on this machine is another build (" + strings.TrimSpace(string(b)) + ", the dump's is " + v + ")"
		}
	}
	return "no VERSION in the dump's sys answer"
}
