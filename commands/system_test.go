package commands

import (
	"regexp"
	"testing"

	"gocrash/internal/testbed"
)

// systemCommands are compared with crash 8.0.6's answers on every
// committed dump (testdata/mkdump/mkdump.sh's system block).
var systemCommands = []string{
	"mount", "mount -f", "mount -i", "mount -n 1", "mount -n 99999", "mount -x",
	"swap", "swap -x",
	"kmem -V", "kmem -z", "kmem -h", "kmem -o", "kmem -o 1000", "kmem -v", "kmem -n",
	"kmem -g 200", "kmem -g", "kmem -c", "kmem -C", "kmem -P 1000", "kmem -p 1000",
	"sys config", "sys -i",
	"irq", "irq -s", "irq -a", "irq -b", "irq -d", "irq 4",
	"waitq", "waitq log_wait", "timer", "timer -r", "kmem ffffffffdeadbeef", "dev -i",
	"dev", "dev -d", "dev -p", "dev -D",
	"kmem -f", "kmem -F", "kmem {vmalloc1}", "kmem {vmstack}", "kmem {task1}", "kmem {jiffiesaddr}",
	"kmem {sched16}", "kmem 1000", "kmem {freepage}", "kmem -f {freepage}", "kmem -r", "kmem -l a",
	"kmem -L ic", "kmem -v {vmalloc1}", "kmem -v ffffffffdeadbeef", "dev -V",
}

// systemModuleCommands need the test module loaded ({modsym}: the dumps
// where "sym -m gocrash_oops" names a symbol).
var systemModuleCommands = []string{"kmem {modsym}"}

// systemSlabCommands need crash's slab table (not on SLUB_TINY dumps).
var systemSlabCommands = []string{"kmem -p {slabpage}", "kmem -s -I kmalloc-64,kmem_cache"}

// getoptLine is the "CMD: invalid option -- 'x'" line: crash's getopt(3)
// writes it to stderr, which the recorded answers do not keep; gocrash
// writes it with the usage, where it belongs with the output.
var getoptLine = regexp.MustCompile(`(?m)^\w+: invalid option -- '.'\n`)

func TestSystemGoldens(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			cmds := systemCommands
			if !noKmemCache(d) {
				cmds = append(append([]string{}, cmds...), systemSlabCommands...)
			}
			for _, cmd := range systemModuleCommands {
				if _, err := d.Resolve(cmd); err == nil {
					cmds = append(append([]string{}, cmds...), cmd)
				}
			}
			for _, cmd := range cmds {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				line, err := d.Resolve(cmd)
				if err != nil {
					t.Errorf("%s: %v", cmd, err)
					continue
				}
				got := runCmd(t, s, line)
				if !getoptLine.MatchString(want) {
					got = getoptLine.ReplaceAllString(got, "")
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}
