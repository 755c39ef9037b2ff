package kernel

import (
	"context"
	"testing"

	"gocrash/internal/testbed"
)

// TestBPFHelperName reads func_id_str (kernel/bpf/disasm.c) as bpf -t
// names a helper call: include/uapi/linux/bpf.h numbers
// bpf_map_lookup_elem 1 and bpf_map_update_elem 2; 0 is bpf_unspec, and
// __BPF_FUNC_MAX_ID and past are no helper's. The test bed loads no
// program (BPF lists none).
func TestBPFHelperName(t *testing.T) {
	d := testbed.Open(t, testbed.DefaultName, testbed.DefaultFormat)
	k, err := Open(d.Vmlinux, d.Vmcore, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for id, want := range map[int32]string{0: "bpf_unspec", 1: "bpf_map_lookup_elem", 2: "bpf_map_update_elem"} {
		if name, ok, err := k.BPFHelperName(id); err != nil || !ok || name != want {
			t.Errorf("helper %d: %q, %v, %v; want %q", id, name, ok, err, want)
		}
	}
	for _, id := range []int32{-1, 1 << 20} {
		if name, ok, err := k.BPFHelperName(id); err != nil || ok {
			t.Errorf("helper %d: %q, %v, %v; want none", id, name, ok, err)
		}
	}
	progs, maps, err := k.BPF(context.Background())
	if err != nil || len(progs) != 0 || len(maps) != 0 {
		t.Errorf("BPF: %d programs, %d maps, %v; the test bed loads none", len(progs), len(maps), err)
	}
}

// FuzzDecodeBPFInsns: any bytes decode into their 8-byte instructions,
// the registers within 0..15, and encode back to the same bytes.
func FuzzDecodeBPFInsns(f *testing.F) {
	f.Add([]byte{0x62, 0x0a, 0xfc, 0xff, 0, 0, 0, 0, 0x18, 0x01, 0, 0, 0, 0x68, 0x21, 0x11})
	f.Add([]byte{0x95, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		insns := DecodeBPFInsns(b)
		if len(insns) != len(b)/8 {
			t.Fatalf("%d bytes, %d instructions", len(b), len(insns))
		}
		for i, in := range insns {
			w := b[8*i:]
			if in.Code != w[0] || in.Dst|in.Src<<4 != w[1] || in.Dst > 15 || in.Src > 15 ||
				uint16(in.Off) != uint16(w[2])|uint16(w[3])<<8 ||
				uint32(in.Imm) != uint32(w[4])|uint32(w[5])<<8|uint32(w[6])<<16|uint32(w[7])<<24 {
				t.Fatalf("instruction %d: % x decoded as %+v", i, w[:8], in)
			}
		}
	})
}
