package symbols

import (
	"bytes"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/vmcore"
)

// TestRealObjects reads typed objects out of the 6.1 test-bed dump. The
// expectations are facts of the kernel, not of this code: linux_banner in
// memory equals the vmlinux's copy, init_task is pid 0 named swapper, and
// the first task on its tasks list is init (pid 1, forked first by
// rest_init).
func TestRealObjects(t *testing.T) {
	tb := testbed.Open(t, "6.1-sysrq", "elf")
	d, err := vmcore.Open(tb.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	info := d.Info()
	if info == nil {
		t.Fatal("dump has no VMCOREINFO")
	}
	params, err := vmcore.ParamsFromInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	mem := vmcore.NewKernelSpace(d, params)
	v, err := Open(tb.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	v.SetKASLR(info.KernelOffset)
	ty, err := v.Types()
	if err != nil {
		t.Fatal(err)
	}

	banner, err := ty.Var(mem, v, "linux_banner")
	if err != nil {
		t.Fatal(err)
	}
	inMem, err := banner.CString()
	if err != nil {
		t.Fatal(err)
	}
	inFile := make([]byte, banner.Size())
	if err := v.ReadFile(banner.Addr, inFile); err != nil {
		t.Fatal(err)
	}
	if want := string(bytes.TrimRight(inFile, "\x00")); inMem != want || !strings.HasPrefix(inMem, "Linux version 6.1.") {
		t.Errorf("linux_banner in memory %q, in vmlinux %q", inMem, want)
	}

	initTask, err := ty.Var(mem, v, "init_task")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := initTask.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Object{initTask, loaded} {
		if pid, err := mustMember(t, o, "pid").Int(); err != nil || pid != 0 {
			t.Errorf("init_task.pid = %d, %v", pid, err)
		}
		if comm, err := mustMember(t, o, "comm").CString(); err != nil || !strings.HasPrefix(comm, "swapper") {
			t.Errorf("init_task.comm = %q, %v", comm, err)
		}
	}
	next, err := mustMember(t, loaded, "tasks.next").Pointer()
	if err != nil {
		t.Fatal(err)
	}
	first, err := ContainerOf(next, ty, "task_struct", "tasks")
	if err != nil {
		t.Fatal(err)
	}
	task, err := ty.Object(mem, first, "task_struct")
	if err != nil {
		t.Fatal(err)
	}
	if pid, err := mustMember(t, task, "pid").Int(); err != nil || pid != 1 {
		t.Errorf("first task on init_task.tasks has pid %d, %v", pid, err)
	}
	// Through pointers: init is swapper's child, and as a user process
	// it has an mm whose pgd is a kernel (direct-map) address.
	parent, err := mustMember(t, task, "real_parent").Deref()
	if err != nil {
		t.Fatal(err)
	}
	if parent.Addr != initTask.Addr {
		t.Errorf("init's real_parent = %#x, init_task at %#x", parent.Addr, initTask.Addr)
	}
	mm, err := mustMember(t, task, "mm").Deref()
	if err != nil {
		t.Fatal(err)
	}
	if pgd, err := mustMember(t, mm, "pgd").Pointer(); err != nil || pgd < 0xff00000000000000 { // kernel half with 5-level paging (4-level: 0xffff8...)
		t.Errorf("init's mm->pgd = %#x, %v", pgd, err)
	}
	if _, err := mustMember(t, mm, "rss_stat.count[1].counter").Int(); err != nil {
		t.Errorf("mm->rss_stat.count[1]: %v", err)
	}
}
