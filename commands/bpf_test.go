package commands

import (
	enchex "encoding/hex"
	"strings"
	"testing"

	"gocrash/kernel"
)

// bpfGoldens are crash 8.0.6's answers for bpf recorded on every
// committed dump (record.sh, and mkdump.sh's CRASH_CMDS). The test bed's
// kernels have eBPF but nothing loaded: the listing is crash's blank line
// between programs and maps, an ID is invalid ("-p abc" is crash's
// stol(): hexadecimal 0xabc, 2748), -P and -M print nothing, and the
// option combinations crash refuses are refused with its words. The
// Debian dumps (TestDistroGoldens) have a program and two maps loaded.
var bpfGoldens = []string{"bpf", "bpf -m 1", "bpf -P", "bpf -M",
	"bpf -p 1", "bpf -p 1 -t", "bpf -p 1 -T", "bpf -p 1 -j", "bpf -p 1 -s", "bpf -p 1 -s -x",
	"bpf -p 1 -t -j", "bpf -P -t", "bpf -P -s", "bpf -m 2", "bpf -m 1 -s", "bpf -m 2 -s -d", "bpf -M -s",
	"bpf -p 1 -m 1", "bpf -s", "bpf -t", "bpf -p 99", "bpf -m 99", "bpf -p", "bpf -p abc"}

func TestBpfGoldens(t *testing.T) {
	compared := 0
	for _, d := range onePerDump(t) {
		t.Run(d.Name, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			for _, cmd := range bpfGoldens {
				want, ok := d.Golden(cmd)
				if !ok {
					t.Errorf("%s: crash's output was not recorded", cmd)
					continue
				}
				compared++
				got := runCmd(t, s, cmd)
				if cmd == "bpf -p" {
					// getopt's complaint goes to crash's stderr, which
					// the recording does not keep.
					got = strings.TrimPrefix(got, "bpf: option requires an argument -- 'p'\n")
				}
				if got != want {
					t.Errorf("%s differs from crash:\n%s", cmd, lineDiff(want, got))
				}
			}
		})
	}
	if compared == 0 {
		t.Error("no dump has crash's bpf answers")
	}
}

// debian61Xlated is program 1's translated instructions on the Debian
// 6.1.0-57 dump (bpfload.c's filter after the verifier: the map's fd
// became its address, the lookup of the array map was inlined), and
// debian61XlatedCrash crash 8.0.6's bpf -p 1 -T there after the
// program's lines.
const debian61Xlated = "620afcff00000000bfa200000000000007020000fcffffff1801000000682111000000006b0d1eff" +
	"07010000100100006120000000000000350003001000000067000000030000000f100000000000000500010000000000" +
	"b700000000000000b7000000000000009500000000000000"

const debian61XlatedCrash = `   0: (62) *(u32 *)(r10 -4) = 0
       62 0a fc ff 00 00 00 00
   1: (bf) r2 = r10
       bf a2 00 00 00 00 00 00
   2: (07) r2 += -4
       07 02 00 00 fc ff ff ff
   3: (18) r1 = map[id:1]
       18 01 00 00 00 68 21 11 00 00 00 00 6b 0d 1e ff
   5: (07) r1 += 272
       07 01 00 00 10 01 00 00
   6: (61) r0 = *(u32 *)(r2 +0)
       61 20 00 00 00 00 00 00
   7: (35) if r0 >= 0x10 goto pc+3
       35 00 03 00 10 00 00 00
   8: (67) r0 <<= 3
       67 00 00 00 03 00 00 00
   9: (0f) r0 += r1
       0f 10 00 00 00 00 00 00
  10: (05) goto pc+1
       05 00 01 00 00 00 00 00
  11: (b7) r0 = 0
       b7 00 00 00 00 00 00 00
  12: (b7) r0 = 0
       b7 00 00 00 00 00 00 00
  13: (95) exit
       95 00 00 00 00 00 00 00
`

// TestBPFXlated prints the Debian dump's program as crash does (the dump
// itself is not committed: TestDistroGoldens compares the whole answers
// where it is), and the instructions that program has not, each as crash
// 8.0.6's print_bpf_insn formats it: a helper call named from
// func_id_str, a pseudo call, a kernel function call, the byte swaps,
// the conditional jumps on a register, the classes crash's copy of the
// format does not know (JMP32: "BUG") and an operator it has no name for.
func TestBPFXlated(t *testing.T) {
	b, _ := enchex.DecodeString(debian61Xlated)
	names := bpfNames{
		mapID: func(addr uint64) (uint64, bool) { return 1, addr == 0xff1e0d6b11216800 },
		helper: func(id int32) (string, bool, error) {
			if id == 1 {
				return "bpf_map_lookup_elem", true, nil
			}
			return "", false, nil
		},
		callAt: func(imm int32) (string, bool) { return "__htab_map_lookup_elem", imm == -1000 },
	}
	var out strings.Builder
	if err := writeBPFXlated(&out, kernel.DecodeBPFInsns(b), true, names); err != nil {
		t.Fatal(err)
	}
	if out.String() != debian61XlatedCrash {
		t.Errorf("bpf -p 1 -T differs from crash:\n%s", lineDiff(debian61XlatedCrash, out.String()))
	}
	for _, c := range []struct {
		in   kernel.BPFInsn
		want string
	}{
		{kernel.BPFInsn{Code: 0x85, Imm: 1}, "(85) call bpf_map_lookup_elem#1"},
		{kernel.BPFInsn{Code: 0x85, Imm: -1000}, "(85) call __htab_map_lookup_elem#-1000"},
		{kernel.BPFInsn{Code: 0x85, Imm: 5000}, "(85) call unknown#5000"},
		{kernel.BPFInsn{Code: 0x85, Src: 1, Imm: 3}, "(85) call pc+3"},
		{kernel.BPFInsn{Code: 0xdc, Dst: 1, Imm: 16}, "(dc) r1 = be16 r1"},
		{kernel.BPFInsn{Code: 0xd4, Dst: 1, Imm: 32}, "(d4) r1 = le32 r1"},
		{kernel.BPFInsn{Code: 0xd7, Dst: 1, Imm: 32}, "BUG_alu64_d7"},
		{kernel.BPFInsn{Code: 0x84, Dst: 3}, "(84) r3 = (u32) -r3"},
		{kernel.BPFInsn{Code: 0xac, Dst: 2, Src: 4}, "(ac) (u32) r2 ^= (u32) r4"},
		{kernel.BPFInsn{Code: 0x2d, Dst: 1, Src: 2, Off: -7}, "(2d) if r1 > r2 goto pc-7"},
		{kernel.BPFInsn{Code: 0x55, Dst: 1, Imm: -1, Off: 2}, "(55) if r1 != 0xffffffff goto pc+2"},
		{kernel.BPFInsn{Code: 0xdb, Dst: 1, Src: 2, Off: 8}, "(db) lock *(u64 *)(r1 +8) += r2"},
		{kernel.BPFInsn{Code: 0x79, Dst: 0, Src: 1, Off: -16}, "(79) r0 = *(u64 *)(r1 -16)"},
		{kernel.BPFInsn{Code: 0x30, Imm: 12}, "(30) r0 = *(u8 *)skb[12]"},
		{kernel.BPFInsn{Code: 0x16, Dst: 1, Off: 1}, "(16) BUG"},
		{kernel.BPFInsn{Code: 0xe4, Dst: 1}, "(e4) (u32) r1 (null) (u32) 0"},
		{kernel.BPFInsn{Code: 0x91, Dst: 1}, "BUG_ldx_91"},
	} {
		var b strings.Builder
		if err := writeBPFInsn(&b, c.in, kernel.BPFInsn{}, names); err != nil || b.String() != c.want+"\n" {
			t.Errorf("%+v: %q, %v; want %q", c.in, b.String(), err, c.want)
		}
	}
}
