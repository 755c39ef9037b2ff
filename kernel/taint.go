package kernel

import (
	"fmt"
	"strings"
)

// A TaintFlag is one bit of the kernel's tainted_mask: the letter
// print_tainted() shows for it and what it means. The bits and letters
// are kernel/panic.c's taint_flags[] and include/linux/panic.h's
// TAINT_* numbers (5.10 to 6.12 share them; TAINT_TEST is 6.0+).
type TaintFlag struct {
	Bit     uint
	Letter  byte
	Name    string // the TAINT_ name without the prefix
	Meaning string
	// Module is true for the taints a module sets on load (the module
	// that did is named in its own taints, module.taints).
	Module bool
}

// TaintFlags are the flags in bit order.
var TaintFlags = []TaintFlag{
	{0, 'P', "PROPRIETARY_MODULE", "a proprietary (non-GPL) module was loaded", true},
	{1, 'F', "FORCED_MODULE", "a module was force-loaded (insmod -f)", true},
	{2, 'S', "CPU_OUT_OF_SPEC", "the CPU runs out of specification (SMP with CPUs not designed for it, or a forced feature)", false},
	{3, 'R', "FORCED_RMMOD", "a module was force-unloaded (rmmod -f)", false},
	{4, 'M', "MACHINE_CHECK", "the CPU reported a machine check exception (hardware error)", false},
	{5, 'B', "BAD_PAGE", "the page allocator found a bad page (memory corruption or bad RAM)", false},
	{6, 'U', "USER", "user space asked to taint the kernel (/proc/sys/kernel/tainted)", false},
	{7, 'D', "DIE", "the kernel died before: an earlier Oops or BUG", false},
	{8, 'A', "OVERRIDDEN_ACPI_TABLE", "an ACPI table was overridden", false},
	{9, 'W', "WARN", "a WARN() fired earlier: the log holds its report", false},
	{10, 'C', "CRAP", "a staging driver was loaded", true},
	{11, 'I', "FIRMWARE_WORKAROUND", "a workaround for a firmware bug is active", false},
	{12, 'O', "OOT_MODULE", "an out-of-tree module was loaded", true},
	{13, 'E', "UNSIGNED_MODULE", "an unsigned module was loaded", true},
	{14, 'L', "SOFTLOCKUP", "a soft lockup was detected", false},
	{15, 'K', "LIVEPATCH", "the kernel was live-patched", true},
	{16, 'X', "AUX", "an auxiliary taint set by a distribution", true},
	{17, 'T', "RANDSTRUCT", "the kernel was built with the randstruct plugin", true},
	{18, 'N', "TEST", "a test module (kunit) was loaded", true},
}

// Taints decodes a tainted_mask into its flags; bits the table does not
// know are returned in unknown.
func Taints(mask uint64) (flags []TaintFlag, unknown uint64) {
	for _, f := range TaintFlags {
		if mask&(1<<f.Bit) != 0 {
			flags = append(flags, f)
			mask &^= 1 << f.Bit
		}
	}
	return flags, mask
}

// TaintString is the mask as print_tainted() shows it after "Tainted: ":
// one column per flag, its letter when set, else ' ' (or 'G' for the
// first when no proprietary module is loaded). "Not tainted" for 0.
func TaintString(mask uint64) string {
	if mask == 0 {
		return "Not tainted"
	}
	var b strings.Builder
	for _, f := range TaintFlags {
		switch {
		case mask&(1<<f.Bit) != 0:
			b.WriteByte(f.Letter)
		case f.Bit == 0:
			b.WriteByte('G')
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// A TaintLetters entry is one element of the kernel's taint_flags[]
// (struct taint_flag, kernel/panic.c): the letter print_tainted() shows
// when the bit is set and the one when it is not.
type TaintLetters struct {
	True, False byte
}

// TaintTable reads the kernel's own taint_flags[] table, bit by bit (crash's
// sys -t reads the letters from it, not from a table of its own). Its
// members are c_true/c_false since 4.15's rename, true/false before.
func (k *Kernel) TaintTable() ([]TaintLetters, error) {
	o, err := k.Var("taint_flags")
	if err != nil {
		return nil, err
	}
	n := o.Len()
	if n <= 0 || n > 64 {
		return nil, fmt.Errorf("taint_flags: implausible length %d", n)
	}
	out := make([]TaintLetters, 0, n)
	for i := 0; i < n; i++ {
		e, err := o.Index(i)
		if err != nil {
			return out, err
		}
		var l TaintLetters
		for j, names := range [2][2]string{{"c_true", "true"}, {"c_false", "false"}} {
			m, err := e.Member(names[0])
			if err != nil {
				if m, err = e.Member(names[1]); err != nil {
					return out, fmt.Errorf("taint_flags[%d]: %w", i, err)
				}
			}
			v, err := m.Uint()
			if err != nil {
				return out, fmt.Errorf("taint_flags[%d]: %w", i, err)
			}
			if j == 0 {
				l.True = byte(v)
			} else {
				l.False = byte(v)
			}
		}
		// Without the vmlinux the array's length is its symbol's extent
		// (kallsyms has no sizes: symbols.knownVars), which runs into the
		// alignment padding after the last entry; every real entry has a
		// letter for a set bit.
		if l.True == 0 {
			break
		}
		out = append(out, l)
	}
	return out, nil
}

// TaintTableString is crash's sys -t string of mask: for each entry of the
// table, its True letter when the bit is set, else its False letter unless
// that is ' ', '-' or 'G' (show_kernel_taints).
func TaintTableString(table []TaintLetters, mask uint64) string {
	var b strings.Builder
	for i, l := range table {
		switch {
		case i < 64 && mask&(1<<uint(i)) != 0:
			b.WriteByte(l.True)
		case l.False != ' ' && l.False != '-' && l.False != 'G':
			b.WriteByte(l.False)
		}
	}
	return b.String()
}
