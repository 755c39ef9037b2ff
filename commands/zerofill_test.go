package commands

import (
	"debug/elf"
	"fmt"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

// TestELFExcludedReadsAsZeroes: crash 8.0.6 reads the pages makedumpfile
// left out of an ELF dump (a PT_LOAD's p_memsz beyond its p_filesz) as
// zeroes in every command (netdump.c's zero_fill), whatever its
// zero_excluded setting. Asked on 6.1-sysrq's ELF dump (16:40 UTC,
// 2026-12-01) for the first such page of the direct map,
// ff4b470240200000 there, crash answered "rd ADDR 4" with two lines of
// zeroes, "struct list_head ADDR" with next = 0x0, prev = 0x0, "p *(long
// *)ADDR" with "$1 = 0" and "list ADDR" with the address alone; the same
// is asked here of every committed ELF dump.
func TestELFExcludedReadsAsZeroes(t *testing.T) {
	for _, d := range testbed.All(t) {
		if d.Format != "elf" {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			f, err := elf.Open(d.Vmcore)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s := openTestbed(t, d)
			defer s.Close()
			var paddr uint64
			for _, p := range f.Progs {
				if p.Type == elf.PT_LOAD && p.Filesz < p.Memsz && p.Vaddr >= s.PageOffset() && p.Vaddr < 0xffffffff80000000 {
					paddr = p.Paddr + p.Filesz
					break
				}
			}
			if paddr == 0 {
				t.Skip("no PT_LOAD of the direct map ends before its p_memsz")
			}
			va := s.PageOffset() + paddr
			for _, c := range []struct{ cmd, want string }{
				{fmt.Sprintf("rd %x 4", va), fmt.Sprintf("%x:  0000000000000000 0000000000000000   ................\n%x:  0000000000000000 0000000000000000   ................\n", va, va+16)},
				{fmt.Sprintf("struct list_head %x", va), "struct list_head {\n  next = 0x0,\n  prev = 0x0\n}\n"},
				{fmt.Sprintf("list %x", va), fmt.Sprintf("%x\n", va)},
			} {
				if got := runCmd(t, s, c.cmd); got != c.want {
					t.Errorf("%s:\n%s\nwant crash's\n%s", c.cmd, got, c.want)
				}
			}
			if got := runCmd(t, s, fmt.Sprintf("p *(long *)%#x", va)); !strings.HasSuffix(got, " = 0\n") {
				t.Errorf("p *(long *)%#x: %q, want crash's zero", va, got)
			}
		})
	}
}
