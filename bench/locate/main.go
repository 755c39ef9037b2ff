// Command locate prints the decompressed vmlinux and vmcore of a committed
// test-bed dump (decompressing them into the test-bed cache on first use), so
// bench/run.sh can hand the same two files to gocrash, crash and drgn:
//
//	go run ./bench/locate 6.1-sysrq elf
//	→ /root/.cache/gocrash-testdata/.../vmlinux /root/.cache/.../vmcore.elf
package main

import (
	"fmt"
	"os"

	"gocrash/internal/sample"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: locate NAME FORMAT   (e.g. 6.1-sysrq elf)")
		os.Exit(2)
	}
	d, err := sample.Locate(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "locate: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(d.Vmlinux, d.Vmcore)
}
