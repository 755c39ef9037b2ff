package kernel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestTasks: the task table holds what crash's ps lists, in its order —
// pid, ppid, cpu, task address and command of every task, the active ones
// marked — on every committed dump; and it is built once.
func TestTasks(t *testing.T) {
	for _, d := range testbed.All(t) {
		t.Run(d.Name+"/"+d.Format, func(t *testing.T) {
			ps, ok := d.Golden("ps")
			if !ok {
				t.Skip("no ps answer recorded")
			}
			k, err := Open(d.Vmlinux, d.Vmcore, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			tt, err := k.Tasks(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(ps, "\n"), "\n")[1:]
			if tt.Len() != len(lines) {
				t.Fatalf("%d tasks, crash's ps lists %d", tt.Len(), len(lines))
			}
			for i, task := range tt.All() {
				comm := task.Comm
				if task.KernelThread() {
					comm = "[" + comm + "]"
				}
				mark := " "
				if tt.Active(task.Addr) {
					mark = ">"
				}
				got := fmt.Sprintf("%s %d %d %d %016x %s", mark, task.PID, tt.PPID(&task), task.CPU, task.Addr, comm)
				f := strings.Fields(strings.TrimPrefix(lines[i], ">"))
				want := fmt.Sprintf("%s %s %s %s %s %s", lines[i][:1], f[0], f[1], f[2], f[3], strings.Join(f[8:], " "))
				if lines[i][0] != '>' {
					want = " " + want[1:]
				}
				if got != want {
					t.Errorf("task %d: %q, crash: %q", i, got, want)
				}
			}
			again, err := k.Tasks(context.Background())
			if err != nil || again != tt {
				t.Errorf("second Tasks: %p, %v; want the same table %p", again, err, tt)
			}
		})
	}
}

// A cancelled context stops the walk, and the table is not kept.
func TestTasksCancelled(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	k, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	err = k.ForEachTask(ctx, func(uint64) error { n++; return nil })
	if err != context.Canceled || n >= 256 {
		t.Errorf("cancelled walk: %v after %d tasks", err, n)
	}
	if _, err := k.Tasks(ctx); err != context.Canceled {
		t.Errorf("cancelled Tasks: %v", err)
	}
	if tt, err := k.Tasks(context.Background()); err != nil || tt.Len() == 0 {
		t.Errorf("Tasks after a cancelled one: %v", err)
	}
}
