package commands

import (
	"io"
	"strings"
	"testing"
)

// taskGoldens are the task and foreach task answers crash 8.0.6 gave on
// every committed dump (mkdump.sh's "tasks" block records them).
var taskGoldens = []string{
	"task", "task 1", "task -x 1", "task -d 1", "task -R pid,comm 1", "task -R pid -R comm 1",
	"task 1 pid", "task 1 comm,pid", "task -R se.avg 1", "task -R thread_info 1", "task -R flags 1",
	"task -R xyz 1", "task -R se.avg.util_avg,pid 1", "task -R cpus_mask 1", "task 99999", "task xyz",
	"task -x -d 1", "task {task1}", "task 1 2", "task -R pid 1 2", "task -q",
	"foreach 2 init task -R pid", "foreach 1 task", "foreach 1 2 task -x -R comm", "foreach task -x -d",
}

func TestTaskGoldens(t *testing.T) { checkTaskGoldensOn(t, taskGoldens, false) }

// vmFilesNetGoldens are vm's page and structure displays, files -p, net's
// sockets, namespaces and ARP cache, and foreach net and vtop, as crash
// 8.0.6 answered them on every committed dump.
var vmFilesNetGoldens = []string{
	"vm -p 1", "vm -P {vmastruct1} 1", "vm -P {vmastruct1}", "vm -m 1", "vm -v 1", "vm -x -m 1",
	"vm -d -v 1", "vm -x -d -m 1", "vm -p -m 1", "vm -p 2", "vm -m 2", "vm -v 2",
	"foreach 1 vm -m", "foreach 1 vm -v", "foreach 1 vm -p",
	"files -p {inode1}", "files -p ffffffffdeadbeef", "files -p 0",
	"net -s", "net -s 1", "net -s {synpid}", "net -S {synpid}", "net -s -x {synpid}", "net -s -d {synpid}",
	"net -a", "net -n", "net -n 1", "net -n 99999", "net -x", "net -N 16777343", "net -N 0x0100007f",
	"net -s 99999", "foreach net", "foreach net -s", "foreach net -S", "foreach {synpid} net -s",
	"foreach net -s -R 3", "foreach vtop {vma1}", "foreach 1 vtop {vma1}", "foreach vtop",
	"foreach vtop -R x 1000", "foreach 1 vtop -u {vma1}", "vtop -u {vma1}", "vtop -c 1 {vma1}",
	"bt -R schedule 2", "bt -R __schedule", "bt -R panic", "bt -R xyz 2", "bt -R {sched16} 2",
	"foreach bt -R panic", "foreach bt -R kthread",
}

func TestVmFilesNetGoldens(t *testing.T) { checkTaskGoldensOn(t, vmFilesNetGoldens, false) }

// BenchmarkForeach is foreach bt, foreach files and foreach vm on the
// default dump, or on $GOCRASH_PS_DUMP (the "many" scenario's 5,000
// tasks) when it is set, in an open session: every task's walk. The
// ratio to crash 8.0.6 is bench/tasks.sh's.
func BenchmarkForeach(b *testing.B) {
	d, ok := externalDump(b)
	if !ok {
		d = psDefaultDump(b)
	}
	s := openTestbed(b, d)
	defer s.Close()
	for _, cmd := range []string{"foreach bt", "foreach files", "foreach vm"} {
		b.Run(strings.ReplaceAll(cmd, " ", "_"), func(b *testing.B) {
			if err := Run(s, cmd, io.Discard); err != nil && !Printed(err) {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Run(s, cmd, io.Discard)
			}
		})
	}
}
