package kernel_test

import (
	"context"
	"fmt"

	"gocrash/internal/sample"
	"gocrash/kernel"
)

// Open the sample dump, find the task that panicked and print its
// backtrace.
func Example() {
	vmlinux, vmcore, err := sample.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	k, err := kernel.Open(vmlinux, vmcore, kernel.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Close()
	ctx := context.Background()
	task, err := k.PanicTask()
	if err != nil {
		fmt.Println(err)
		return
	}
	bt, err := k.Backtrace(ctx, task, kernel.BacktraceOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("PID %d (%s) panicked on CPU %d\n", bt.Task.PID, bt.Task.Comm, bt.CPU)
	n := 0
	for _, f := range bt.Frames {
		switch {
		case f.User:
			fmt.Println("    (user space)")
		case !f.NoReturnCall: // a call that never returns: crash leaves it out
			fmt.Printf(" #%d %s\n", n, f.Func)
			n++
		}
	}
	// Output:
	// PID 1 (init) panicked on CPU 0
	//  #0 machine_kexec
	//  #1 __crash_kexec
	//  #2 panic
	//  #3 __handle_sysrq
	//  #4 write_sysrq_trigger
	//  #5 proc_reg_write
	//  #6 vfs_write
	//  #7 ksys_write
	//  #8 do_syscall_64
	//  #9 entry_SYSCALL_64_after_hwframe
	//     (user space)
}

// The panic and the summary crash's sys shows, as values (the message is
// crash's PANIC line on the sample dump).
func ExampleKernel_Panic() {
	vmlinux, vmcore, err := sample.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	k, err := kernel.Open(vmlinux, vmcore, kernel.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Close()
	ctx := context.Background()
	p, err := k.Panic(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	sys, err := k.Sys(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q on cpu %d of %d\n", p.Message, p.CPU, sys.CPUs)
	// Output:
	// "Kernel panic - not syncing: sysrq triggered crash" on cpu 0 of 2
}
