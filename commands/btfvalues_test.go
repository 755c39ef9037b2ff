package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocrash/internal/testbed"
)

// btfValueCommands are the golden commands that print values through
// valueTypes (struct and union at an address, the TYPE ADDR shorthand,
// task and foreach task, p and p/FMT, list and tree -s) beside the ones that keep DWARF's
// types in the same sessions (declarations, -o, -p, whatis), in the
// goldens' order: structGoldens, structMoreGoldens, taskGoldens,
// printGoldens, and the distribution goldens' struct, task and p commands.
func btfValueCommands() []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range [][]string{structGoldens, structMoreGoldens, taskGoldens, printGoldens,
		{"task", "task 1", "struct list_head init_task.tasks", "struct task_struct init_task",
			"struct task_struct.pid,comm,__state init_task", "foreach task", "foreach 1 task -R pid,comm",
			"p init_task.comm", "p init_uts_ns", "p oops_in_progress", "p loops_per_jiffy",
			"p init_task.comm[100]", "p this_cpu_off:0", "p jiffies",
			// list and tree -s print each entry as struct does
			"list -H super_blocks -s super_block.s_id", "list -H super_blocks -s super_block.s_blocksize,s_flags -x",
			"list task_struct.tasks -h {task1} -s task_struct.pid,comm,se.load",
			"tree -t rbtree -o vmap_area.rb_node vmap_area_root -s vmap_area.va_start,va_end",
			"tree -t maple -r mm_struct.mm_mt {mm1} -s vm_area_struct.vm_start,vm_end,vm_flags"}} {
		for _, c := range list {
			if w, _, _ := strings.Cut(c, " "); notValue[w] {
				continue
			}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// notValue are the goldens' other commands, which print no value through
// valueTypes (whatis -r and -m walk every type of a distribution kernel's
// DWARF: minutes for both sessions of the test).
var notValue = map[string]bool{"whatis": true, "search": true, "dis": true, "rd": true, "ptype": true}

// btfValueDiffs are the deliberate differences between values printed
// from BTF and from DWARF, with the reason: none.
var btfValueDiffs = map[string]string{}

// TestBTFValuesMatchDWARF: a session prints struct, union, task,
// foreach task and p values from the vmlinux's .BTF (valueTypes, the default
// when it has one) exactly as from its DWARF (GOCRASH_VALUES=dwarf), for
// every struct, union and task command of the goldens, on one format of
// each committed kernel and on the Debian kernels' dumps where they are
// ($GOCRASH_DISTRO_DIR, else the mkdump work folder: every
// debian-*/vmcore.elf there with crash's answers in crash/, which resolve
// the placeholders). TestStructGoldens and TestTaskGoldens hold the BTF
// answers to crash's.
func TestBTFValuesMatchDWARF(t *testing.T) {
	type dump struct {
		name, vmlinux, vmcore string
		resolve               func(string) (string, error)
	}
	var dumps []dump
	seen := map[string]bool{}
	for _, d := range testbed.All(t) {
		if !seen[d.Vmlinux] {
			seen[d.Vmlinux] = true
			dumps = append(dumps, dump{d.Name + "/" + d.Format, d.Vmlinux, d.Vmcore, d.Resolve})
		}
	}
	base := os.Getenv("GOCRASH_DISTRO_DIR")
	if base == "" {
		base = "/var/cache/gocrash-mkdump/distro"
	}
	dirs, _ := filepath.Glob(filepath.Join(base, "debian-*"))
	for _, dir := range dirs {
		crashDir := filepath.Join(dir, "crash")
		if _, err := os.Stat(filepath.Join(crashDir, "ps_1.txt")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "vmcore.elf")); err != nil {
			continue
		}
		dumps = append(dumps, dump{filepath.Base(dir), filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore.elf"),
			func(cmd string) (string, error) { return resolveIn(crashDir, cmd) }})
	}
	cmds := btfValueCommands()
	for _, d := range dumps {
		t.Run(d.name, func(t *testing.T) {
			outputs := map[string][]string{}
			for _, mode := range []string{"", "dwarf"} {
				t.Setenv("GOCRASH_VALUES", mode)
				s, err := Open(d.vmlinux, d.vmcore, Options{})
				if err != nil {
					t.Fatal(err)
				}
				s.Location = time.UTC
				if want := mode == "" && s.Vmlinux.HasBTF(); s.valueTypes().UsesBTF() != want {
					t.Fatalf("GOCRASH_VALUES=%q: values from BTF %v, want %v", mode, s.valueTypes().UsesBTF(), want)
				}
				if !s.Vmlinux.HasBTF() {
					s.Close()
					t.Skip("the kernel has no BTF: values print from DWARF alone")
				}
				for _, cmd := range cmds {
					line, err := d.resolve(cmd)
					if err != nil {
						// a placeholder this dump's answers lack
						outputs[mode] = append(outputs[mode], "")
						continue
					}
					outputs[mode] = append(outputs[mode], runCmd(t, s, line))
				}
				s.Close()
			}
			compared := 0
			for i, cmd := range cmds {
				if _, ok := btfValueDiffs[cmd]; ok {
					continue
				}
				compared++
				if got, want := outputs[""][i], outputs["dwarf"][i]; got != want {
					t.Errorf("%s: values from BTF print otherwise than DWARF's:\n%s", cmd, lineDiff(want, got))
				}
			}
			if compared == 0 || !strings.Contains(strings.Join(outputs[""], ""), "struct task_struct {") {
				t.Errorf("no task_struct printed: %d commands compared", compared)
			}
		})
	}
}
