package symbols

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"gocrash/internal/testbed"
)

func raw6(spOff, bpOff int16, flags uint16) []byte {
	b := make([]byte, 6)
	binary.LittleEndian.PutUint16(b[0:], uint16(spOff))
	binary.LittleEndian.PutUint16(b[2:], uint16(bpOff))
	binary.LittleEndian.PutUint16(b[4:], flags)
	return b
}

// The bit positions are those of struct orc_entry's little-endian bit fields
// in orc_types.h: 6.1 (sp_reg:4 bp_reg:4 type:2 end:1), 6.3 per drgn
// (type:2 signal:1 end:1) and 6.12 (type:3 signal:1).
func TestDecodeORCEntryLayouts(t *testing.T) {
	const sp, bp, prevSP = 5, 4, 1
	tests := []struct {
		name   string
		v      ORCVersion
		flags  uint16
		typ    ORCType
		signal bool
		spReg  ORCReg
		bpReg  ORCReg
	}{
		// v1: UNWIND_HINT_TYPE_CALL=0 REGS=1 REGS_PARTIAL=2, end at bit 10.
		{"v1 call", ORCv1, sp | prevSP<<4, ORCTypeCall, false, ORCRegSP, ORCRegPrevSP},
		{"v1 regs", ORCv1, sp | 1<<8, ORCTypeRegs, true, ORCRegSP, ORCRegUndefined},
		{"v1 regs partial", ORCv1, sp | 2<<8, ORCTypeRegsPartial, true, ORCRegSP, ORCRegUndefined},
		{"v1 end", ORCv1, 1 << 10, ORCTypeEndOfStack, false, ORCRegUndefined, ORCRegUndefined},
		{"v1 undefined (terminator)", ORCv1, 0, ORCTypeUndefined, false, ORCRegUndefined, ORCRegUndefined},
		{"v1 bp based", ORCv1, bp | prevSP<<4, ORCTypeCall, false, ORCRegBP, ORCRegPrevSP},
		// v2: signal at bit 10, end at bit 11.
		{"v2 call", ORCv2, sp, ORCTypeCall, false, ORCRegSP, ORCRegUndefined},
		{"v2 call signal", ORCv2, sp | 1<<10, ORCTypeCall, true, ORCRegSP, ORCRegUndefined},
		{"v2 regs", ORCv2, sp | 1<<8 | 1<<10, ORCTypeRegs, true, ORCRegSP, ORCRegUndefined},
		{"v2 end", ORCv2, 1 << 11, ORCTypeEndOfStack, false, ORCRegUndefined, ORCRegUndefined},
		{"v2 undefined", ORCv2, 0, ORCTypeUndefined, false, ORCRegUndefined, ORCRegUndefined},
		// v3: type:3 at bit 8 (ORC_TYPE_*), signal at bit 11.
		{"v3 undefined", ORCv3, 0, ORCTypeUndefined, false, ORCRegUndefined, ORCRegUndefined},
		{"v3 end", ORCv3, 1 << 8, ORCTypeEndOfStack, false, ORCRegUndefined, ORCRegUndefined},
		{"v3 call", ORCv3, sp | 2<<8, ORCTypeCall, false, ORCRegSP, ORCRegUndefined},
		{"v3 regs signal", ORCv3, sp | 3<<8 | 1<<11, ORCTypeRegs, true, ORCRegSP, ORCRegUndefined},
		{"v3 regs partial", ORCv3, sp | 4<<8 | 1<<11, ORCTypeRegsPartial, true, ORCRegSP, ORCRegUndefined},
		{"v3 call signal", ORCv3, sp | 2<<8 | 1<<11, ORCTypeCall, true, ORCRegSP, ORCRegUndefined},
		{"v3 invalid type", ORCv3, sp | 7<<8, 7, false, ORCRegSP, ORCRegUndefined},
		{"v3 sp indirect", ORCv3, 9 | 2<<8, ORCTypeCall, false, ORCRegSPIndirect, ORCRegUndefined},
	}
	for _, tc := range tests {
		e, err := DecodeORCEntry(raw6(-16, 8, tc.flags), tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if e.Type != tc.typ || e.Signal != tc.signal || e.SPReg != tc.spReg || e.BPReg != tc.bpReg ||
			e.SPOffset != -16 || e.BPOffset != 8 || e.Raw != tc.flags {
			t.Errorf("%s: flags %#x decoded to %+v, want type %v signal %v sp %v bp %v", tc.name, tc.flags, e, tc.typ, tc.signal, tc.spReg, tc.bpReg)
		}
	}
	if _, err := DecodeORCEntry(make([]byte, 5), ORCv3); err == nil {
		t.Error("short orc_entry decoded")
	}
	if _, err := DecodeORCEntry(make([]byte, 6), 9); err == nil {
		t.Error("unknown layout decoded")
	}
}

func TestORCVersionFor(t *testing.T) {
	h64, _ := hex.DecodeString("fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24")
	h63, _ := hex.DecodeString("db84aed4103b31dd51e017f8f79783ca985c2c51")
	for _, tc := range []struct {
		header    []byte
		hasHeader bool
		release   string
		want      ORCVersion
		err       string
	}{
		{h64, true, "", ORCv3, ""},
		{h64, true, "6.1.0", ORCv3, ""}, // the header wins over the release
		{h63, true, "", ORCv2, ""},
		{make([]byte, 20), true, "6.12.1", 0, "unknown ORC layout hash"},
		{h64[:19], true, "", 0, "19 bytes"},
		{nil, false, "6.1.176", ORCv1, ""},
		{nil, false, "Linux version 6.1.176 (root@x) #1", ORCv1, ""},
		{nil, false, "5.15.0-91-generic", ORCv1, ""},
		{nil, false, "6.3.9", ORCv2, ""},
		{nil, false, "6.4.0-rc1", ORCv3, ""},
		{nil, false, "6.12.117", ORCv3, ""},
		{nil, false, "7.0", ORCv3, ""},
		{nil, false, "", 0, "no kernel release"},
		{nil, false, "vmlinux", 0, "no kernel release"},
	} {
		v, how, err := ORCVersionFor(tc.header, tc.hasHeader, tc.release)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ORCVersionFor(%x, %q) = %v, %v; want error %q", tc.header, tc.release, v, err, tc.err)
			}
			continue
		}
		if err != nil || v != tc.want || how == "" {
			t.Errorf("ORCVersionFor(%x, %q) = %v, %q, %v; want %v", tc.header, tc.release, v, how, err, tc.want)
		}
	}
}

// orcBuilder lays out .orc_unwind_ip/.orc_unwind in the given order, as
// the kernel's build would (PC-relative ips).
type orcRow struct {
	pc uint64
	e  []byte // 6 raw bytes
}

func buildORC(ipAddr uint64, rows []orcRow) (ips, orcs []byte) {
	for i, r := range rows {
		rel := int32(int64(r.pc) - int64(ipAddr+uint64(4*i)))
		ips = binary.LittleEndian.AppendUint32(ips, uint32(rel))
		orcs = append(orcs, r.e...)
	}
	return ips, orcs
}

func v3(spReg ORCReg, spOff int16, bpReg ORCReg, bpOff int16, typ ORCType, signal bool) []byte {
	f := uint16(spReg) | uint16(bpReg)<<4 | uint16(typ)<<8
	if signal {
		f |= 1 << 11
	}
	return raw6(spOff, bpOff, f)
}

func TestParseORCAndFind(t *testing.T) {
	const ipAddr = 0xffffffff82000000
	call8 := v3(ORCRegSP, 8, ORCRegUndefined, 0, ORCTypeCall, false)
	call16 := v3(ORCRegSP, 16, ORCRegPrevSP, -16, ORCTypeCall, false)
	term := v3(ORCRegUndefined, 0, ORCRegUndefined, 0, ORCTypeUndefined, false)
	rows := []orcRow{
		{0xffffffff81000000, call8},
		{0xffffffff81000010, call16},
		{0xffffffff81000020, term}, // weak terminator sorted before the real entry
		{0xffffffff81000020, call8},
		{0xffffffff81000030, term},
	}
	ips, orcs := buildORC(ipAddr, rows)
	tab, err := ParseORC(ips, ipAddr, orcs, ORCv3)
	if err != nil {
		t.Fatal(err)
	}
	if tab.order != nil {
		t.Error("sorted table was re-sorted")
	}
	check := func(tab *ORCTable, pc uint64, wantOK bool, wantStart uint64, want []byte) {
		t.Helper()
		e, start, ok := tab.Find(pc)
		if ok != wantOK {
			t.Fatalf("Find(%#x) ok = %v", pc, ok)
		}
		if !ok {
			return
		}
		we, _ := DecodeORCEntry(want, ORCv3)
		if start != wantStart || e != we {
			t.Errorf("Find(%#x) = %v at %#x, want %v at %#x", pc, e, start, we, wantStart)
		}
	}
	check(tab, 0xffffffff80ffffff, false, 0, nil)
	check(tab, 0xffffffff81000000, true, 0xffffffff81000000, call8)
	check(tab, 0xffffffff8100000f, true, 0xffffffff81000000, call8)
	check(tab, 0xffffffff81000010, true, 0xffffffff81000010, call16)
	check(tab, 0xffffffff81000025, true, 0xffffffff81000020, call8) // rightmost duplicate
	check(tab, 0xffffffff81000031, true, 0xffffffff81000030, term)
	tab.SetTextRanges([][2]uint64{{0xffffffff81000000, 0xffffffff81000030}})
	check(tab, 0xffffffff81000031, false, 0, nil)
	check(tab, 0xffffffff81000011, true, 0xffffffff81000010, call16)

	// An unsorted table (a module's as stored in the .ko) is ordered like
	// the kernel's orc_sort_cmp: the terminator first at an equal PC.
	shuffled := []orcRow{rows[3], rows[0], rows[4], rows[2], rows[1]}
	ips, orcs = buildORC(ipAddr, shuffled)
	tab, err = ParseORC(ips, ipAddr, orcs, ORCv3)
	if err != nil {
		t.Fatal(err)
	}
	if tab.order == nil {
		t.Fatal("unsorted table not indexed")
	}
	for i := 0; i < tab.Len(); i++ {
		pc, e := tab.At(i)
		we, _ := DecodeORCEntry(rows[i].e, ORCv3)
		if pc != rows[i].pc || e != we {
			t.Errorf("At(%d) = %#x %v, want %#x %v", i, pc, e, rows[i].pc, we)
		}
	}
	check(tab, 0xffffffff81000025, true, 0xffffffff81000020, call8)

	for _, bad := range []struct {
		ips, orcs []byte
		v         ORCVersion
		err       string
	}{
		{ips[:3], orcs, ORCv3, "multiple of 4"},
		{ips, orcs[:len(orcs)-6], ORCv3, ".orc_unwind: size"},
		{nil, nil, ORCv3, "empty"},
		{ips, orcs, 0, "unknown layout"},
	} {
		if _, err := ParseORC(bad.ips, ipAddr, bad.orcs, bad.v); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("ParseORC: error %v, want %q", err, bad.err)
		}
	}
}

func FuzzParseORC(f *testing.F) {
	ips, orcs := buildORC(0x1000, []orcRow{{0x100, v3(ORCRegSP, 8, 0, 0, ORCTypeCall, false)}, {0x80, raw6(0, 0, 0)}})
	f.Add(ips, orcs, uint64(0x1000), uint8(3), uint64(0x100))
	// Windows of the real tables: 6.1's layout v1 and 6.12's v3.
	addORCSeeds(f, testbed.Open(f, "6.1-sysrq", "elf").Vmlinux)
	addORCSeeds(f, testbed.Open(f, "6.12-sysrq", "zstd").Vmlinux)
	f.Fuzz(func(t *testing.T, ips, orcs []byte, ipAddr uint64, v uint8, pc uint64) {
		tab, err := ParseORC(ips, ipAddr, orcs, ORCVersion(v))
		if err != nil {
			return
		}
		e, start, ok := tab.Find(pc)
		if ok && start > pc {
			t.Fatalf("Find(%#x) returned an entry starting above it (%#x, %v)", pc, start, e)
		}
		for i := 1; i < tab.Len(); i++ {
			a, _ := tab.At(i - 1)
			b, _ := tab.At(i)
			if a > b {
				t.Fatalf("At not in PC order at %d", i)
			}
		}
	})
}

// addORCSeeds adds three 64-entry windows of vmlinux's ORC table (start,
// middle, end) to f's corpus, each with a PC inside it.
func addORCSeeds(f *testing.F, path string) {
	v, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer v.Close()
	tab, err := LoadORC(v, "")
	if err != nil {
		f.Fatal(err)
	}
	ipData, ipSec, _ := v.Section(".orc_unwind_ip")
	orcData, _, _ := v.Section(".orc_unwind")
	const n = 64
	total := len(ipData) / 4
	for _, i := range []int{0, total / 2, total - n} {
		pc, _ := tab.At(i + n/2)
		f.Add(append([]byte(nil), ipData[i*4:(i+n)*4]...), append([]byte(nil), orcData[i*orcEntrySize:(i+n)*orcEntrySize]...),
			ipSec+uint64(i*4), uint8(tab.Version()), pc+1)
	}
}
