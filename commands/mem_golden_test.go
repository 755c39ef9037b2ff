package commands

import (
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// The sym, eval, vtop, ptov, btop, ptob, ascii, list, tree, search and
// rd -S answers compared with crash 8.0.6's on every committed dump
// (testdata/mkdump/mkdump.sh records them: the "types and values" block of
// CRASH_CMDS). A command naming a {placeholder} runs where the placeholder
// has a value: {modsym} is a symbol of the Oops module, loaded on 6.1-oops
// only.
var memCommands = []string{
	"sym schedule", "sym jiffies", "sym init_task", "sym {jiffiesaddr}", "sym {sched16}",
	"sym -l", "sym -q sched_tick", "sym -q xyzzy", "sym foo_bar", "sym ffffffffdeadbeef",
	"sym 0", "sym -n jiffies", "sym -p jiffies", "sym -np schedule", "sym schedule jiffies",
	"sym runqueues", "sym -z", "sym", "sym -M", "sym -m gocrash_oops", "sym {modsym}", "sym -q gocrash",

	"eval (1 + 2)", "eval (jiffies - 0xffffffff8fe00000)", "eval 1 + 2", "eval 128 * 1m",
	"eval (1 << 32)", "eval -b 41dc065", "eval -lb 64g", "eval -b 0", "eval jiffies",
	"eval (jiffies+16)", "eval ~0", "eval 1 +", "eval foo + 1",
	"eval ( 5 % 3 )", "eval 0x10 - 1",
}

func TestMemGoldens(t *testing.T) {
	checkMemGoldens(t, memCommands)
}

func checkMemGoldens(t *testing.T, cmds []string) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range cmds {
				if strings.HasPrefix(cmd, "rd -S") && strings.Contains(d.CrashVersion(), "--no_kmem_cache") {
					// SLUB_TINY (6.12-sysrq): crash ran without its slab
					// table, and its -S answer interleaves "kmem cache
					// slab subsystem not available" with the words; no
					// real crash answer exists to compare with.
					continue
				}
				want, ok := d.Golden(cmd)
				if !ok {
					if strings.Contains(cmd, "{") {
						continue // see memCommands
					}
					if why, pending := d.Pending(cmd); pending {
						t.Logf("%s: %s", cmd, why)
						continue
					}
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				line, err := d.Resolve(cmd)
				if err != nil {
					t.Errorf("%s: %v", cmd, err)
					continue
				}
				got := runCmd(t, s, line)
				// crash's getopt complains on stderr, which its recorded
				// answer does not hold; the usage after it is compared.
				if i := strings.Index(got, ": invalid option -- '"); i >= 0 && !strings.Contains(got[:i], "\n") {
					got = got[strings.IndexByte(got, '\n')+1:]
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

// The vtop, ptov, btop and ptob answers (mem_golden_test.go's list).
var vtopCommands = []string{
	"vtop {task1}", "vtop {jiffiesaddr}", "vtop -c 1 {jiffiesaddr}", "vtop -k {task1}",
	"vtop ffffffffdeadbeef", "vtop 1000", "vtop -k 1000", "vtop -u {task1}", "vtop -u -k 1000",
	"vtop", "vtop -c 99999 1000", "vtop zz", "vtop {sched16}", "vtop {task1} {jiffiesaddr}", "vtop {modsym}",
	"ptov 1000", "ptov 0", "ptov 1000:0", "ptov 1000:a", "ptov zz", "ptov", "ptov 198000 3407000",
	"btop 1000", "btop 12345678 fff", "btop zz", "ptob 10", "ptob 100 zz", "ptob 0",
	"ascii 62696c2f7273752f", "ascii", "ascii 41 4142", "ascii 0", "ascii zz",
}

func TestVtopGoldens(t *testing.T) { checkMemGoldens(t, vtopCommands) }

var listCommands = []string{
	"list -H super_blocks", "list super_block.s_list -H super_blocks", "list -o super_block.s_list -H super_blocks",
	"list -r -H super_blocks", "list task_struct.tasks -h {task1}",
	"list -h {task1} task_struct.tasks -S task_struct.pid,prio",
	"list -H super_blocks -l super_block.s_list -S super_block.s_blocksize",
	"list -H modules", "list -H ffffffffdeadbeef", "list foo_bar", "list",
	"list -H super_blocks -S super_block.s_blocksize,s_flags -x",
	"list -H super_blocks -S super_block.s_blocksize -d",
	"list task_struct.tasks -h {task1} -S task_struct.comm",
	"list -H super_blocks -s super_block.s_id",
}

func TestListGoldens(t *testing.T) { checkMemGoldens(t, listCommands) }

var treeCommands = []string{
	"tree -t rbtree -o vmap_area.rb_node vmap_area_root", "tree -t rbtree -o vmap_area.rb_node -p vmap_area_root",
	"tree -t rbtree -o vmap_area.rb_node -l vmap_area_root",
	"tree -t rbtree -o vmap_area.rb_node vmap_area_root -S vmap_area.va_start,va_end",
	"tree -t rbtree -o vmap_area.rb_node vmap_area_root -s vmap_area.va_start,va_end",
	"tree -t maple -r mm_struct.mm_mt {mm1}", "tree -t maple -r mm_struct.mm_mt -p {mm1}",
	"tree -t maple -r mm_struct.mm_mt {mm1} -S vm_area_struct.vm_start,vm_end",
	"tree -t radix irq_desc_tree", "tree -t radix -p irq_desc_tree", "tree -t xarray irq_desc_tree",
	"tree -t maple sparse_irqs", "tree -t maple -p sparse_irqs", "tree -t foo vmap_area_root", "tree",
	"tree -t rbtree ffffffffdeadbeef",
}

func TestTreeGoldens(t *testing.T) { checkMemGoldens(t, treeCommands) }

var searchCommands = []string{
	"search -k {task1}", "search -p {task1}", "search {task1}", "search -K {task1}", "search -V {task1}",
	`search -c "sysrq triggered"`, `search -p -c "Linux version"`, "search -s {task1} -l 4096 {task1}",
	"search -s {task1} -l 8192 -m ffff {task1}", "search -w -s {task1} -l 4096 1", "search -h -s {task1} -l 4096 78",
	"search -x 2 -s {task1} -l 4096 {task1}", "search -s init_task -e jiffies init_task",
	"search -s linux_banner -l 512 -c Linux", "search", "search -z 1", "search -p -k 1", "search -w 123456789 ",
	`search -s {task1} -l 64 -c ""`,
	"search -t {task1}", "search -T {task1}", "search -t -T 1", "search -t -k 1", "search -T -s init_task 1",
}

func TestSearchGoldens(t *testing.T) { checkMemGoldens(t, searchCommands) }

var rdSlabCommands = []string{
	"rd -S {task1} 32", "rd -SS {task1} 32", "rd -S init_task 32", "rd -SS init_task 16", "rd -S -32 init_task 4",
}

func TestRdSlabGoldens(t *testing.T) { checkMemGoldens(t, rdSlabCommands) }
