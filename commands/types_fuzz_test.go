package commands

// FuzzPrintExpr evaluates hostile C expressions with p and whatis on a
// session over the real test-bed dump; FuzzGDBFormat prints structures of
// the kernel's types over fuzzed bytes, with pointers that lead anywhere.
// Neither may panic or hang; every refusal is one message.

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/commands/gdbfmt"
	"gocrash/internal/testbed"
)

func FuzzPrintExpr(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	cmdFuzzOnce.Do(func() { cmdFuzzSession, cmdFuzzErr = Open(d.Vmlinux, d.Vmcore, Options{}) })
	if cmdFuzzErr != nil {
		f.Fatal(cmdFuzzErr)
	}
	s := cmdFuzzSession
	for _, c := range printGoldens {
		if e, ok := strings.CutPrefix(c, "p "); ok {
			f.Add(e)
		}
	}
	for _, e := range []string{"*(long *)0", "((struct task_struct *)0)->comm", "init_task.tasks.next->next->next",
		"*init_task.stack@100000000", "(char)-1", "1/0", "-9223372036854775807-1 / -1", "$$99", "sizeof(struct foo)",
		"init_task.comm[100000]", "&&&", "((((((((((1))))))))))", "'\\777'", "(struct task_struct)init_task"} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if strings.ContainsAny(expr, "\n") || len(expr) > 4096 {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, line := range []string{"p " + expr, "p -x " + expr, "whatis " + expr} {
				err := Run(s, line, &cappedWriter{})
				if err != nil && strings.Contains(err.Error(), "internal error") && !strings.Contains(err.Error(), errOutputCap.Error()) {
					t.Fatalf("%s: %v", line, err)
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("p %s: no answer in 30 s", expr)
		}
	})
}

// fuzzMem serves reads from data at base, and fails elsewhere.
type fuzzMem struct {
	base uint64
	data []byte
}

func (m fuzzMem) ReadVirt(p []byte, addr uint64) error {
	if addr < m.base || addr-m.base > uint64(len(m.data)) || uint64(len(p)) > uint64(len(m.data))-(addr-m.base) {
		return io.ErrUnexpectedEOF
	}
	copy(p, m.data[addr-m.base:])
	return nil
}

func FuzzGDBFormat(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	cmdFuzzOnce.Do(func() { cmdFuzzSession, cmdFuzzErr = Open(d.Vmlinux, d.Vmcore, Options{}) })
	if cmdFuzzErr != nil {
		f.Fatal(cmdFuzzErr)
	}
	s := cmdFuzzSession
	ty, err := s.Types()
	if err != nil {
		f.Fatal(err)
	}
	names := []string{"struct task_struct", "struct rq", "struct page", "struct mm_struct", "struct uts_namespace", "struct sched_class", "struct list_head"}
	var types []godwarf.Type
	for _, n := range names {
		typ, err := ty.Lookup(n)
		if err != nil {
			f.Fatal(err)
		}
		types = append(types, typ)
	}
	// Seeds: the real bytes of init_task and of the first runqueue.
	for _, v := range []string{"init_task", "init_uts_ns", "fair_sched_class"} {
		o, err := s.Var(v)
		if err != nil {
			f.Fatal(err)
		}
		b, err := o.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), b)
	}
	f.Add(uint8(3), []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := types[int(which)%len(types)]
		const base = 0xffff888000000000
		pr := &gdbfmt.Printer{Types: ty, Symbol: s.Vmlinux.GDBSymbol, Mem: fuzzMem{base, data}, Hex: which&0x80 != 0}
		var b bytes.Buffer
		pr.Value(&b, typ, data, base, 0)
		if b.Len() == 0 {
			t.Fatalf("%s: nothing printed", gdbfmt.TypeName(typ))
		}
	})
}

// FuzzStructDeref runs struct -p (every pointer member followed once),
// struct -u and -f, search -u and rd -f over fuzzed addresses, offsets,
// types and strings on the real test-bed dump: pointers lead anywhere, user
// page tables are whatever the bytes say. None may panic or hang.
func FuzzStructDeref(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	cmdFuzzOnce.Do(func() { cmdFuzzSession, cmdFuzzErr = Open(d.Vmlinux, d.Vmcore, Options{}) })
	if cmdFuzzErr != nil {
		f.Fatal(cmdFuzzErr)
	}
	s := cmdFuzzSession
	types := []string{"task_struct", "list_head", "mm_struct", "file_operations", "sched_class", "rq", "elf64_hdr", "page", "rcu_special"}
	for i, a := range []uint64{0xffffffffdeadbeef, 0, 0x400000, 0xffffffff91011600, 0xff4b470240198000, 0x7ffe9c17b000, 1 << 63} {
		f.Add(uint8(i), a, "int")
	}
	f.Fuzz(func(t *testing.T, ti uint8, addr uint64, word string) {
		if strings.ContainsAny(word, "\n\"'\\") || word == "" || len(word) > 64 {
			return
		}
		typ := types[int(ti)%len(types)]
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, line := range []string{
				fmt.Sprintf("struct -p %s %x", typ, addr), fmt.Sprintf("struct -u %s %x", typ, addr),
				fmt.Sprintf("struct -f %s %d", typ, addr%(1<<34)), fmt.Sprintf("union -p rcu_special %x", addr),
				fmt.Sprintf("search -u -s %x -l 8192 %x", addr%(1<<47), addr), fmt.Sprintf("rd -f %x 4", addr),
				fmt.Sprintf("search -u -c -l 4096 %q", word),
			} {
				err := Run(s, line, &cappedWriter{})
				if err != nil && strings.Contains(err.Error(), "internal error") && !strings.Contains(err.Error(), errOutputCap.Error()) {
					t.Fatalf("%s: %v", line, err)
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("type %s at %x: no answer in 60 s", typ, addr)
		}
	})
}
