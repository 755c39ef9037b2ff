package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/internal/testbed"
)

// structMoreGoldens are struct -p/-u/-f, rd -f, whatis -r/-m, search -u
// and dis -u, compared
// with crash 8.0.6's answers (mkdump.sh's types block after ptype records
// them) on every committed dump and format, in one session each, in this
// order.
var structMoreGoldens = []string{
	"struct -p task_struct {task1}",
	"task_struct.stack,mm,comm,sched_class,real_parent,thread_pid,files,pid {task1} -p",
	"struct -p list_head {task1}", "struct -p task_struct", "struct -px task_struct.thread_info,stack {task1}",
	"struct -p sched_class fair_sched_class", "struct -p file_operations def_blk_fops",
	"union -p rcu_special {task1}", "struct -p -o list_head {task1}", "struct -p -r list_head {task1}",
	"struct -u elf64_hdr {vma1}", "struct -u -x elf64_hdr {vma1}", "struct -u elf64_hdr.e_entry,e_phoff {vma1}",
	"struct -u -r elf64_hdr {vma1}", "struct -u -o elf64_hdr {vma1}", "struct -u elf64_hdr ffffffffdeadbeef",
	"struct -f elf64_hdr 0", "struct -f -x elf64_hdr 0", "struct -f elf64_hdr 64", "struct -f -r elf64_hdr 0",
	"struct -f -o elf64_hdr 0", "struct -f elf64_hdr 0:a", "struct -f elf64_hdr 99999999999",
	"struct -f elf64_hdr 0 2", "rd -f 0 4", "rd -f 99999999999 2",
	"whatis -m task_struct", "whatis -m mm_struct", "whatis -r 100-200 -m list_head",
	"whatis -r 40-100 -m mm_struct", "whatis -m nosuchtype", "whatis -r 5-3", "whatis -r abc", "whatis -r 1",
	"whatis -r 4", "whatis -r", "whatis -m", "whatis -r xyz",
	"search -u deadbeef", "search -u -l 64 0", "search -u -w -l 32 0", "search -u -s ffffffffdeadbeef 0",
	"search -u -c -l 4096 ELF", "search -u -t 1", "dis -u {vma1} 4", "dis -u ffffffffdeadbeef 2",
}

// formatBound: these read the dump file itself (-f), whose bytes differ
// from one format of a dump to another, or user memory (-u), which
// makedumpfile excluded (all but 6.1-qemu): an ELF dump gives excluded
// pages as zeroes (crash's netdump zero_fill), a compressed one refuses
// them. crash's answers were recorded on the format its primary answers
// come from, and are compared there only.
func formatBound(cmd string) bool {
	for _, p := range []string{"struct -f", "rd -f", "struct -u", "search -u", "dis -u"} {
		if strings.HasPrefix(cmd, p) {
			return true
		}
	}
	return false
}

// typedefSizes: for whatis -r, gdb knows a typedef's size only once
// check_typedef() resolved it (it caches the target's length in the
// typedef's own struct type, one per compile unit; crash's
// iterate_datatypes keeps a typedef whose instance in some unit has a
// length in the range), which depends on the whole gdb session before:
//   - reading the DWARF: an array of the typedef with a static bound
//     (create_array_type checks its element type), in any unit, also in
//     a function's locals or a dwz partial unit;
//   - crash's start-up: every MEMBER_OFFSET/MEMBER_SIZE it asks of a
//     member whose type is a typedef (the gdb patch's get_member_data
//     check_typedef()s it: kmem_cache.flags resolves slab_flags_t);
//   - every command of the session before: printing a value or ptype /o
//     resolves each member's type.
//
// Measured on the 16:52 test bed's 6.1-sysrq (ELF), counting lines with
// the SIZE TYPE head: crash 8.0.6 answering "whatis -r 4" as the first
// command of a session prints 784 lines; its recorded answer, after ~1,000
// other commands of the recording session, 802: 18 typedefs more, each
// resolved by an earlier command (Elf64_Word by struct -u elf64_hdr;
// __kernel_pid_t, __kernel_timer_t, __kernel_uid32_t, __poll_t,
// __portpair, __wsum, blk_opf_t, clockid_t, errseq_t, fmode_t, gid_t,
// kuid_t, raw_spinlock_t, seqcount_spinlock_t, seqcount_t,
// sk_buff_data_t, socket_state by the struct and p commands that print
// members of those types). gocrash prints 775: crash's first answer less
// nine typedefs, as it models the first rule only for the types it
// reaches from named types and variables (whatis_search.go): pid_t,
// uid_t, ext4_grpblk_t and ext4_lblk_t (arrays only function locals
// have) and the start-up's arch_spinlock_t, dev_t, gfp_t, refcount_t and
// slab_flags_t. "whatis -r 1": crash's first answer (39 lines) is
// gocrash's, line for line; the recorded one adds __restorefn_t,
// __signalfn_t and bool. Reproducing the rest would mean replaying
// crash's start-up queries and every earlier command's gdb calls, so an
// answer that depends on the order of a session's commands is not
// compared: the typedef rows may differ; the other rows (structs,
// unions, enums, base types) must be crash's.
var typedefSizes = map[string]bool{"whatis -r 1": true, "whatis -r 4": true}

func TestStructMoreGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			types, err := s.Types()
			if err != nil {
				t.Fatal(err)
			}
			for _, cmd := range structMoreGoldens {
				if formatBound(cmd) && d.Format != d.AnswersFormat() {
					continue
				}
				want, ok := recorded(t, d, cmd)
				if !ok {
					continue
				}
				line, err := d.Resolve(cmd)
				if err != nil {
					t.Errorf("%s: %v", cmd, err)
					continue
				}
				got := runCmd(t, s, line)
				if want == "" && unreadableMessage.MatchString(got) {
					// as in TestStructGoldens: crash prints nothing when gdb
					// cannot read the struct a member was asked of, gocrash
					// says which read failed
					continue
				}
				if typedefSizes[cmd] {
					isTypedef := func(row string) bool {
						f := strings.Fields(row)
						if len(f) != 2 {
							return false
						}
						typ, err := types.Lookup(f[1])
						if err != nil {
							return false
						}
						if _, ok := typ.(*godwarf.TypedefType); !ok {
							return false
						}
						for _, kw := range []string{"struct ", "union ", "enum "} {
							if _, err := types.Lookup(kw + f[1]); err == nil {
								return false
							}
						}
						return true
					}
					want, got = dropRows(want, isTypedef), dropRows(got, isTypedef)
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

// dropRows removes the "SIZE  TYPE" rows drop says to, and the head (its
// width follows the largest size, which a typedef row may set).
func dropRows(out string, drop func(row string) bool) string {
	var b strings.Builder
	for i, l := range strings.SplitAfter(out, "\n") {
		if i == 0 || l == "" || drop(strings.TrimSpace(l)) {
			continue
		}
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	return b.String()
}

// TestMemberExtendedLongLine: crash reads gdb's text of the structure with
// fgets into 1,500-byte buffers, so a longer line (Debian's NR_CPUS=8192
// cpumask, 128 words: 2,808 bytes) is read as pieces; the first opens a
// level never closed, and a member after it is not found. crash 8.0.6 on
// Debian's 5.10, 6.1 and 6.12 answers struct task_struct.pid_links[1]
// ADDR so (its answer empty, the error on stderr), while it answers it on
// the test bed's kernels (NR_CPUS=64).
func TestMemberExtendedLongLine(t *testing.T) {
	words := strings.Repeat("18446744073709551615, ", 127) + "18446744073709551615"
	text := func(bits string) string {
		return "struct task_struct {\n  cpus_mask = {\n    bits = {" + bits + "}\n  },\n" +
			"  pid_links = {{\n      next = 0x0,\n      pprev = 0x1\n    }, {\n      next = 0x0,\n      pprev = 0x2\n    }},\n  pid = 1\n}\n"
	}
	if got, err := parseForMemberExtended(text("3, 4"), "pid_links[1]"); err != nil || !strings.Contains(got, "pprev = 0x2") {
		t.Errorf("short cpumask: %q, %v", got, err)
	}
	if got, err := parseForMemberExtended(text(words), "pid_links[1]"); err == nil {
		t.Errorf("a 2,808-byte line before the member: found %q; crash does not", got)
	}
	for _, name := range distroDumps {
		dir := filepath.Join("/var/cache/gocrash-mkdump/distro", name)
		if d := os.Getenv("GOCRASH_DISTRO_DIR"); d != "" {
			dir = filepath.Join(d, name)
		}
		golden := filepath.Join("testdata", "distro", name, "crash")
		if _, err := os.Stat(filepath.Join(dir, "vmcore.elf")); err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("testdata", "distro", name, "vmcore.elf.size")); err != nil || !sameSize(filepath.Join(dir, "vmcore.elf"), string(b)) {
			continue
		}
		cmd := "struct task_struct.pid_links[1] {task1}"
		want, err := os.ReadFile(filepath.Join(golden, strings.ReplaceAll(cmd, " ", "_")+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		line, err := resolveIn(golden, cmd)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.elf"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var out, diag bytes.Buffer
		s.Stderr = &diag
		err = Run(s, line, &out)
		s.Close()
		if out.String() != string(want) || err != nil || diag.String() != "struct: invalid data structure member reference: pid_links[1]\n" {
			t.Errorf("%s: %s: %q (stderr %q), %v; crash: %q and its error", name, line, out.String(), diag.String(), err, want)
		}
	}
}

func sameSize(path, size string) bool {
	fi, err := os.Stat(path)
	return err == nil && strings.TrimSpace(size) == strconv.FormatInt(fi.Size(), 10)
}
