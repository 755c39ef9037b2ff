package commands

import (
	enchex "encoding/hex"
	"strings"
	"testing"

	"gocrash/kernel"
)

// bpfloadProgram is testdata/mkdump/bpfload.c's socket filter as it
// hands it to BPF_PROG_LOAD, before the verifier rewrites it: a store,
// r2 = r10 - 4, the ld_imm64 of the map's fd, the helper call, r0 = 0,
// exit.
const bpfloadProgram = "620afcff00000000" + "bfa2000000000000" + "07020000fcffffff" + "1811000003000000" +
	"0000000000000000" + "8500000001000000" + "b700000000000000" + "9500000000000000"

// FuzzBPFXlated decodes bytes as a program's translated instructions
// (bpf_prog.insnsi, read from the dump by kernel.BPFInsns) and prints
// them as bpf -t and -T do: whatever the bytes, the printer ends, one
// line (and with -T one line of bytes) per instruction but the second
// halves of ld_imm64, each numbered as crash numbers it.
func FuzzBPFXlated(f *testing.F) {
	for _, h := range []string{bpfloadProgram, debian61Xlated} {
		b, err := enchex.DecodeString(h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{0x18, 0, 0, 0, 1, 0, 0, 0}, true) // an ld_imm64 cut short
	names := bpfNames{
		mapID: func(addr uint64) (uint64, bool) { return 1, addr == 0xffff888003a1c000 },
		helper: func(id int32) (string, bool, error) {
			if id >= 0 && id < 212 {
				return "bpf_helper", true, nil
			}
			return "", false, nil
		},
		callAt: func(imm int32) (string, bool) { return "kernel_function", imm%2 == 0 },
	}
	f.Fuzz(func(t *testing.T, data []byte, opcodes bool) {
		insns := kernel.DecodeBPFInsns(data)
		if len(insns) != len(data)/8 {
			t.Fatalf("%d bytes decoded as %d instructions", len(data), len(insns))
		}
		var b strings.Builder
		if err := writeBPFXlated(&b, insns, opcodes, names); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if b.Len() == 0 {
			lines = nil
		}
		per := 1
		if opcodes {
			per = 2
		}
		if len(lines)%per != 0 || len(lines)/per > len(insns) || len(lines)/per < (len(insns)+1)/2 {
			t.Fatalf("%d instructions printed as %d lines", len(insns), len(lines))
		}
	})
}
