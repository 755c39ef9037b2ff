package commands

import (
	"regexp"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// structGoldens are struct, union and their short forms compared with crash
// 8.0.6's answers on every committed dump (testdata/mkdump/mkdump.sh records
// them in the types block).
var structGoldens = []string{
	"struct task_struct {task1}",
	"struct task_struct.pid,comm,mm {task1}",
	"task_struct.pid {task1}",
	"task_struct.pid,comm {task1}",
	"struct -o task_struct",
	"struct -o list_head",
	"struct -o task_struct {task1}",
	"struct list_head {task1}",
	"struct -x task_struct.pid,comm,se {task1}",
	"struct -d task_struct.se {task1}",
	"struct task_struct.pid {task1} 2",
	"struct task_struct.pid,comm {task1} -2",
	"struct -r list_head {task1}",
	"struct foo",
	"struct task_struct.foo {task1}",
	"struct list_head init_task.tasks",
	"struct -o rq",
	"struct rq.nr_running,curr runqueues:a",
	"struct rq.nr_running runqueues:0",
	"struct rq.clock runqueues:1",
	"struct mm_struct init_mm",
	"struct -l task_struct.tasks list_head {task1}",
	"struct task_struct init_task",
	"struct sched_class fair_sched_class",
	"struct timer_list",
	"struct -o timer_list",
	"struct new_utsname init_uts_ns.name",
	"struct uts_namespace init_uts_ns",
	"struct page 0",
	"struct page",
	"struct -o page",
	"struct -x task_struct {task1}",
	"task_struct {task1}",
	"task_struct",
	"list_head",
	"struct task_struct.pid",
	"struct -o task_struct.pid",
	"struct task_struct.pid,comm",
	"struct -o task_struct.comm {task1}",
	"struct task_struct.se.avg {task1}",
	"struct task_struct.se.load.weight {task1}",
	"struct task_struct.pid_links {task1}",
	"struct task_struct.pid_links[1] {task1}",
	"struct task_struct.comm {task1}",
	"struct task_struct.tasks {task1}",
	"struct task_struct.thread_info,tasks,mm {task1}",
	"struct rq runqueues:0",
	"struct rq.curr runqueues:0,1",
	"struct rq.nr_running runqueues",
	"struct -x rq.clock,nr_running runqueues:a",
	"sched_class",
	"struct hrtimer",
	"struct -o hrtimer",
	"struct -o sched_entity",
	"struct -o -x sched_entity",
	"struct -x sched_entity",
	"struct -d -x list_head",
	"union futex_key",
	"union sigval",
	"union rcu_special",
	"union __sifields",
	"union nf_inet_addr",
	"union futex_key {task1}",
	"union sigval {task1}",
	"union -o futex_key",
	"union -x futex_key {task1}",
	"union futex_key.both {task1}",
	"struct futex_key",
	"union list_head",
	"struct task_struct ffffffffdeadbeef",
	"struct task_struct.pid ffffffffdeadbeef",
	"struct task_struct.pid,comm ffffffffdeadbeef",
	"struct -o -x list_head",
	"struct -o list_head {task1}",
	"struct -d -x task_struct.pid {task1}",
	"struct list_head {task1} 3",
	"struct list_head.next {task1} -3",
	"struct -c 2 list_head {task1}",
	"struct task_struct.",
	"struct task_struct.pid,",
}

var unreadableMessage = regexp.MustCompile(`^(struct|union): cannot read (struct|union) \S+ at [0-9a-f]+: [^\n]*\n$`)

func TestStructGoldens(t *testing.T) { checkTypeGoldens(t, structGoldens) }

// checkTypeGoldens runs cmds in order in one session on every committed dump
// and format (placeholders resolved) and compares each answer with crash's.
func checkTypeGoldens(t *testing.T, cmds []string) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range cmds {
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
					// crash prints nothing when gdb cannot read the
					// struct a member was asked of (the error goes to
					// gdb's stderr); gocrash says which read failed.
					continue
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
}

func TestCompleteDatatype(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(t, d)
	defer s.Close()
	// task_struct's members, from the kernel's DWARF (crash's struct -o
	// task_struct lists pid and pid_links, and rcu_users inside an
	// anonymous union).
	got := s.CompleteDatatype("task_struct.pid")
	if strings.Join(got, " ") != "task_struct.pid task_struct.pid_links" {
		t.Errorf("CompleteDatatype(task_struct.pid) = %q", got)
	}
	got = s.CompleteDatatype("task_struct.pid,rcu_u")
	if strings.Join(got, " ") != "task_struct.pid,rcu_users" {
		t.Errorf("CompleteDatatype(task_struct.pid,rcu_u) = %q", got)
	}
	got = s.CompleteDatatype("list_he")
	if len(got) == 0 || got[0] != "list_head" {
		t.Errorf("CompleteDatatype(list_he) = %q", got)
	}
}
