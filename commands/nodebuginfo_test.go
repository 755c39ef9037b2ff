package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// A session without debuginfo (gocrash --no-debuginfo VMCORE) must print
// what a session with the vmlinux prints — which the golden tests hold to
// crash 8.0.6's answers — for every command that needs only symbols and
// type layouts (issue #17). Symbols come from the dump's kallsyms, types
// from its BTF, backtraces from its ORC tables. noDebuginfoCommands are
// run both ways on every committed dump whose kernel has BTF;
// noDebuginfoDiffs lists every deliberate difference with its reason.

var noDebuginfoCommands = []string{
	"sys", "sys -i",
	"bt", "bt -l", "bt -a", "bt -t", "bt -f", "bt -s", "bt -sx", "bt -r", "bt -F", "bt -FF", "bt -e", "bt -p", "bt -g", "bt -v", "bt -c 1", "bt 1",
	"log", "log -t", "log -m", "log -a", "log -T",
	"ps", "ps -t", "ps -G", "ps -l", "ps -s", "ps -k", "ps -u", "ps -p", "ps -c", "ps -a",
	"runq", "runq -t", "runq -g", "runq -m",
	"set", "set 1",
	"kmem -i", "kmem -V", "kmem -z", "kmem -s",
	"rd linux_banner 8", "rd -a linux_banner", "rd -64 jiffies 4", "rd -s init_task 8", "rd -s sys_call_table 8",
	"rd -S init_task 8", "rd -d avenrun 3",
	"p jiffies", "p init_task.comm", "p init_task.pid", "p avenrun", "p runqueues", "p init_uts_ns",
	"whatis task_struct", "whatis jiffies", "whatis init_task", "struct list_head", "struct -o task_struct",
	"union thread_union", "struct task_struct.pid,comm,__state init_task",
	"sym schedule", "sym runqueues", "sym -q schedule", "sym linux_banner", "sym -l",
	"dis schedule 8", "dis -r panic+20", "dis __schedule",
	"mod", "mod -t",
	"task", "task 1",
	"foreach bt", "foreach ps",
	"files", "files 1",
	"vm", "vm 1",
	"net", "sig", "mount", "swap", "irq", "timer", "dev -i", "dev -d",
	"p init_task.comm[100]", "p oops_in_progress", "p loops_per_jiffy", "p this_cpu_off:0", "p irq_stat:a",
	// BTF's structs for whatis -m (each struct's first definition), its
	// zero-length arrays inside a struct ([0], not []), the taint table's
	// length from its symbol's extent, a linker label (init_thread_union)
	// that names no data, and a global BTF has no type for (e820_table)
	"whatis -m task_struct", "whatis -m mm_struct", "ptype struct sk_buff", "sys -t", "mach -m",
	"p init_task.stack", "struct task_struct init_task", "p *init_task.real_parent",
	// linux_banner: BTF has no type for it, knownVars sizes it from its
	// symbol's extent; the vmlinux's sized definition (DeclaredVarType)
	"p linux_banner", "whatis linux_banner", "p &linux_banner", "ptype linux_banner",
}

// noDebuginfoNotCompared are CRASH_CMDS' commands whose answers without
// the vmlinux differ for a reason the dump alone cannot make up for
// (found by running every CRASH_CMDS command both ways on the committed
// dumps and on Debian's 6.1.0-57): they are not in the list above.
var noDebuginfoNotCompared = map[string]string{
	"ptype struct zone": "BTF writes a GNU zero-length array (x[0]) and a flexible array member (x[]) alike: one that ends a struct is taken as x[], " +
		"the kernel's usual since 5.x, and vm_numa_event[0] (a count that is 0 without NUMA) and xregs_state's extended_state_area[0] print as []",
	"whatis -r 4": "whatis -r lists a typedef with its size only when a sized array of it is reachable from the named types or the variables; " +
		"BTF has no types of global variables, so some typedefs (bool, spinlock_t) are listed with size 0 or not at all; " +
		"and of two structs of one name (pci_root_info of two drivers) BTF's first is not always DWARF's",
	"sys -c": "the system call table's source files and lines come from the vmlinux's DWARF",
}

// noDebuginfoDiffs are the deliberate differences: for a command, how its
// two outputs are brought together before comparing, and why they differ.
var noDebuginfoDiffs = map[string]struct {
	fix    func(with, without string) (string, string)
	reason string
}{
	"sys": {fixKernelLine, "KERNEL names the vmlinux file; without one it says where the symbols came from"},
	"sym schedule": {fixSourceLines,
		"the vmlinux's DWARF gives the source file and line after the symbol; BTF has no line table"},
	"bt -l":           {fixBtLines, "the source file and line under each frame come from the vmlinux's DWARF line table; without it bt -l is bt, and one line says there are no lines"},
	"sym -q schedule": {fixSymList, "as sym -l: kallsyms has not the vmlinux's __kstrtab_*/__ksymtab_* and local labels"},
	"bt -r":           {fixLocalLabels, localLabelReason},
	"bt -F":           {fixLocalLabels, localLabelReason},
	"bt -FF":          {fixLocalLabels, localLabelReason},
	"sym -l": {fixSymList,
		"kallsyms is not the vmlinux's .symtab: scripts/kallsyms.c leaves out the assembler's local labels (.LC*), the __ksymtab_*/__kstrtab_*/__kcrctab* export tables, its own kallsyms_* arrays and init_per_cpu__*; and with --absolute-percpu it retypes the per-cpu symbols 'A', whose class (D/d) comes back from BTF's per-cpu VARs' linkage except for those BTF lacks (fixed_percpu_data) — so the listing without the vmlinux holds a subset of the lines, at the same addresses"},
}

var kernelLineRe = regexp.MustCompile(`(?m)^      KERNEL: (\(no vmlinux: kallsyms, BTF and ORC from the dump\)|\S+)`)

func fixKernelLine(with, without string) (string, string) {
	return kernelLineRe.ReplaceAllString(with, "      KERNEL: X"), kernelLineRe.ReplaceAllString(without, "      KERNEL: X")
}

// sym's DWARF suffix: "ffffffff8f7239a9 (T) schedule /path/file.c: 15".
var symSourceRe = regexp.MustCompile(`(?m)^([0-9a-f]+ \(.\) \S+) .*$`)

func fixSourceLines(with, without string) (string, string) {
	return symSourceRe.ReplaceAllString(with, "$1 "), without
}

// fixSymList keeps of the vmlinux's listing the lines the kallsyms one
// has: the listing without debuginfo must be that subsequence, exactly.
func fixSymList(with, without string) (string, string) {
	have := map[string]bool{}
	for _, l := range strings.Split(without, "\n") {
		have[l] = true
	}
	var kept []string
	for _, l := range strings.Split(with, "\n") {
		if have[l] {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n"), without
}

const localLabelReason = "a stack word pointing into .rodata is named by the nearest symbol below it: the vmlinux has the compiler's local labels (.LC0+479), kallsyms has not, so without the vmlinux the same word is named by an earlier symbol at a larger offset"

// localLabelRe is a word named by a local label, with its padding.
var localLabelRe = regexp.MustCompile(`\.L[A-Z]*[0-9]+\+[0-9]+ *`)

// fixLocalLabels replaces, on each line where the vmlinux's output names
// a word by a local label, that name and the other side's name in the
// same column by "SYM".
func fixLocalLabels(with, without string) (string, string) {
	al, bl := strings.Split(with, "\n"), strings.Split(without, "\n")
	if len(al) != len(bl) {
		return with, without
	}
	for i := range al {
		// Each label of the line in turn (a bt -r line has two words).
		for from := 0; ; {
			l := al[i]
			loc := localLabelRe.FindStringIndex(l[from:])
			if loc == nil {
				break
			}
			loc[0], loc[1] = loc[0]+from, loc[1]+from
			if len(bl[i]) < loc[0] {
				break
			}
			rest := bl[i][loc[0]:]
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			for end < len(rest) && rest[end] == ' ' {
				end++
			}
			al[i] = l[:loc[0]] + "SYM " + l[loc[1]:]
			bl[i] = bl[i][:loc[0]] + "SYM " + rest[end:]
			from = loc[0] + len("SYM ")
		}
	}
	return strings.Join(al, "\n"), strings.Join(bl, "\n")
}

var (
	// An absolute path, or a relative one (Debian builds in debian/build/...).
	btSourceLine = regexp.MustCompile(`(?m)^    [^ #]\S*: [0-9]+\n`)
	btNoLines    = regexp.MustCompile(`(?m)^bt: line numbers are not available: no source files or lines without the vmlinux \(the kernel's BTF has none\)\n`)
)

func fixBtLines(with, without string) (string, string) {
	return btSourceLine.ReplaceAllString(with, ""), btNoLines.ReplaceAllString(without, "")
}

type noDebuginfoDump struct {
	name, vmlinux, vmcore string
	distro                bool // a Debian kernel's (distroDumps)
}

func noDebuginfoDumps(t *testing.T) []noDebuginfoDump {
	var out []noDebuginfoDump
	for _, d := range testbed.All(t) {
		out = append(out, noDebuginfoDump{name: d.Name + "/" + d.Format, vmlinux: d.Vmlinux, vmcore: d.Vmcore})
	}
	if extra := os.Getenv("GOCRASH_NODEBUG_DUMP"); extra != "" {
		// A dump outside the test bed, VMLINUX:VMCORE (a regenerated set
		// before it is committed, a distribution kernel's).
		if vml, vmc, ok := strings.Cut(extra, ":"); ok {
			out = append(out, noDebuginfoDump{name: "extra", vmlinux: vml, vmcore: vmc})
		}
	}
	// Debian's 5.10, 6.1 and 6.12 where they are (TestDistroGoldens):
	// kallsyms, BTF and ORC as a distribution builds them.
	base := os.Getenv("GOCRASH_DISTRO_DIR")
	if base == "" {
		base = "/var/cache/gocrash-mkdump/distro"
	}
	for _, name := range distroDumps {
		dir := filepath.Join(base, name)
		if _, err := os.Stat(filepath.Join(dir, "vmcore.elf")); err == nil {
			out = append(out, noDebuginfoDump{name, filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.elf"), true})
		}
	}
	return out
}

func TestNoDebuginfoMatchesVmlinux(t *testing.T) {
	ran := 0
	for _, d := range noDebuginfoDumps(t) {
		t.Run(d.name, func(t *testing.T) {
			without, err := Open("", d.vmcore, Options{})
			if err != nil && strings.Contains(err.Error(), "no VMCOREINFO") {
				// QEMU's dump-guest-memory writes no VMCOREINFO: nothing
				// says where kallsyms is, and the one line says so.
				t.Logf("%s: %v", d.name, err)
				return
			}
			if err != nil {
				t.Fatalf("without debuginfo: %v", err)
			}
			defer without.Close()
			if !without.Vmlinux.HasBTF() {
				// The committed 6.1.176 and 6.12 kernels were built
				// before the test bed turned CONFIG_DEBUG_INFO_BTF on:
				// only what needs no types can be compared there.
				t.Logf("%s: the kernel has no BTF; comparing the commands that need only symbols", d.name)
			}
			with, err := Open(d.vmlinux, d.vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer with.Close()
			with.Location, without.Location = time.UTC, time.UTC
			ran++
			for _, cmd := range noDebuginfoCommands {
				if !without.Vmlinux.HasBTF() && !symbolsOnly[cmd] {
					continue
				}
				a, b := runCmd(t, with, cmd), runCmd(t, without, cmd)
				if diff, ok := noDebuginfoDiffs[cmd]; ok {
					a, b = diff.fix(a, b)
				}
				if diff, ok := noDebuginfoDistroDiffs[cmd]; ok && d.distro {
					a, b = diff.fix(a, b)
				}
				if a != b {
					t.Errorf("%s differs without debuginfo:\n%s", cmd, firstDiff(a, b))
				}
			}
		})
	}
	if ran == 0 {
		t.Skip("no dump")
	}
}

// symbolsOnly are the commands of the list that need no kernel types: on
// a kernel without BTF they still print the same without the vmlinux.
var symbolsOnly = map[string]bool{
	"log": true, "log -t": true, "log -m": true, "log -a": true,
	"sym schedule": true, "sym linux_banner": true, // sym -l and -q list the modules' symbols too: struct module's layout is a type
	"dis schedule 8": true, "dis -r panic+20": true, "dis __schedule": true,
	"rd linux_banner 8": true, "rd -a linux_banner": true, "rd -64 jiffies 4": true,
	"rd -s init_task 8": true, "rd -s sys_call_table 8": true, "rd -d avenrun 3": true,
}

// firstDiff shows the first differing line of two outputs with context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:", i+1) + "\n  with vmlinux: " + x + "\n  without:      " + y
		}
	}
	return ""
}

// noDebuginfoDistroDiffs are the further deliberate differences on
// Debian's kernels (applied after noDebuginfoDiffs' fix of the command).
var noDebuginfoDistroDiffs = map[string]struct {
	fix    func(with, without string) (string, string)
	reason string
}{
	"rd -s init_task 8": {fixSectionSymbols, sectionSymbolReason},
	"rd -S init_task 8": {fixSectionSymbols, sectionSymbolReason},
	"dis __schedule": {fixFunctionEnd,
		"kallsyms gives no symbol sizes: a whole function's dis runs to the next symbol, through the alignment padding after the function's last instruction (int3, nop) that the vmlinux's st_size leaves out"},
}

const sectionSymbolReason = "Debian's vmlinux keeps its section symbols (.data at init_task's stack's page, crash names a word by it); kallsyms has none, so the same word is named by the symbol before it"

// fixSectionSymbols is TestGoldens' sectionSymbols: a word the vmlinux's
// output names by a section symbol is taken as named alike without it.
func fixSectionSymbols(with, without string) (string, string) {
	return with, sectionSymbols(with, without)
}

// fixFunctionEnd takes without's dis as with's when with's lines are its
// first ones and the rest are padding instructions.
func fixFunctionEnd(with, without string) (string, string) {
	w := strings.TrimSuffix(with, "\n")
	if !strings.HasPrefix(without, w+"\n") {
		return with, without
	}
	for _, l := range strings.Split(strings.TrimSuffix(without[len(w)+1:], "\n"), "\n") {
		_, ins, _ := strings.Cut(l, ":\t")
		if !strings.HasPrefix(ins, "int3") && !strings.Contains(ins, "nop") && !strings.HasPrefix(ins, "xchg   %ax,%ax") {
			return with, without
		}
	}
	return with, with
}
