package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gocrash/vmcore"
)

// patternMem is memory whose byte at a is byte(a), readable in [lo, hi).
func patternMem(lo, hi uint64, err error) ReadFunc {
	return func(p []byte, addr uint64) error {
		if addr < lo || addr+uint64(len(p)) > hi {
			return &vmcore.AddrError{Addr: max(addr, hi), Space: "kernel virtual", Err: err}
		}
		for i := range p {
			p[i] = byte(addr + uint64(i))
		}
		return nil
	}
}

// In hexadecimal with the ASCII column, every line's ASCII text starts in
// the same column, the last (short) line included (crash pads it).
func TestRdASCIIColumn(t *testing.T) {
	const base = 0xffffffff81000040
	mem := patternMem(0, ^uint64(0), vmcore.ErrNotInDump)
	for _, mode := range []rdMode{rd64, rd32, rd16, rd8} {
		for count := int64(1); count <= 40; count++ {
			req := rdRequest{mode: mode, flag: rdHex | rdASCIIEndline, addr: base, count: count}
			var b bytes.Buffer
			if err := displayMemory(context.Background(), &b, req, mem, nil, vmcore.FormatELF); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			wantLines := (count + int64(mode.perLine()) - 1) / int64(mode.perLine())
			if int64(len(lines)) != wantLines {
				t.Fatalf("mode %d count %d: %d lines, want %d:\n%s", mode, count, len(lines), wantLines, b.String())
			}
			col := mode.asciiStart() + 2
			for i, l := range lines {
				if !strings.HasPrefix(l, fmt.Sprintf("%16x:  ", base+uint64(i*mode.perLine()*mode.size()))) {
					t.Errorf("mode %d count %d: line %d does not start with its address: %q", mode, count, i, l)
				}
				if len(l) < col || l[col-2:col] != "  " || l[col-3] != ' ' {
					t.Errorf("mode %d count %d: line %d ASCII column not at %d: %q", mode, count, i, col, l)
				}
			}
		}
	}
}

func TestRdReadErrors(t *testing.T) {
	const start = 0xffffffff81000000
	for _, c := range []struct {
		format vmcore.Format
		err    error
		want   string
	}{
		{vmcore.FormatKdump, vmcore.ErrNotInDump, `seek error: kernel virtual address: ffffffff81000010  type: "64-bit KVADDR"`},
		{vmcore.FormatELF, vmcore.ErrNotInDump, `read error: kernel virtual address: ffffffff81000010  type: "64-bit KVADDR"`},
		{vmcore.FormatKdump, vmcore.ErrExcluded, `page excluded: kernel virtual address: ffffffff81000010  type: "64-bit KVADDR"`},
		{vmcore.FormatELF, vmcore.ErrBadAddress, `invalid kernel virtual address: ffffffff81000010  type: "64-bit KVADDR"`},
	} {
		var b bytes.Buffer
		req := rdRequest{mode: rd64, flag: rdHex | rdASCIIEndline, addr: start, count: 4}
		err := displayMemory(context.Background(), &b, req, patternMem(start, start+16, c.err), nil, c.format)
		var me *MemReadError
		if !errors.As(err, &me) || err.Error() != c.want || !errors.Is(err, c.err) {
			t.Errorf("%v/%v: error %v, want %s", c.format, c.err, err, c.want)
		}
		// What was read before the failure is printed, as crash does.
		if !strings.HasPrefix(b.String(), "ffffffff81000000:  ") || strings.Contains(b.String(), "ffffffff81000010:") {
			t.Errorf("%v: output before the error: %q", c.format, b.String())
		}
	}
}

func TestRdASCIIMode(t *testing.T) {
	text := []byte("Linux version 6.1\nsecond\x00rest")
	const at = 0x1000
	mem := func(p []byte, addr uint64) error {
		if addr < at || addr-at+uint64(len(p)) > uint64(len(text)) {
			return &vmcore.AddrError{Addr: addr, Err: vmcore.ErrNotInDump}
		}
		copy(p, text[addr-at:])
		return nil
	}
	var b bytes.Buffer
	// Without a count, -a stops at the first unprintable byte.
	if err := displayMemory(context.Background(), &b, rdRequest{mode: rdASCII, flag: rdHex, addr: at, count: asciiUnlimited}, mem, nil, vmcore.FormatELF); err != nil {
		t.Fatal(err)
	}
	if b.String() != "            1000:  Linux version 6.1" {
		t.Errorf("rd -a: %q", b.String())
	}
	// With a count, each unprintable byte ends the line.
	b.Reset()
	if err := displayMemory(context.Background(), &b, rdRequest{mode: rdASCII, flag: rdHex, addr: at, count: int64(len(text))}, mem, nil, vmcore.FormatELF); err != nil {
		t.Fatal(err)
	}
	want := "            1000:  Linux version 6.1\n            1012:  second\n            1019:  rest\n"
	if b.String() != want {
		t.Errorf("rd -a with count:\n%q\nwant\n%q", b.String(), want)
	}
}
