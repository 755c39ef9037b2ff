package vmcore

// Parser corner cases on SYNTHETIC hand-made files (see build_test.go). The
// real-dump tests are in realdata_test.go.

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const testVMCI = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a13560\n" +
	"OFFSET(uts_namespace.name)=4\nNUMBER(phys_base)=16777216\nKERNELOFFSET=1000000\n" +
	"NUMBER(pgtable_l5_enabled)=0\nCRASHTIME=1700000000\nSIZE(page)=64\nLENGTH(node_data)=1024\n"

func testNotes() []byte {
	var n []byte
	n = append(n, buildNote("CORE", ntPRSTATUS, prstatus(0, 0x100))...)
	n = append(n, buildNote("CORE", ntPRSTATUS, prstatus(1234, 0x200))...)
	n = append(n, buildNote("CORE", 2, make([]byte, 512))...)     // NT_PRFPREG: ignored
	n = append(n, buildNote("WEIRD", 0x4242, []byte("hello"))...) // unknown: tolerated
	n = append(n, buildNote("VMCOREINFO", 0, []byte(testVMCI))...)
	return n
}

func wantErr(t *testing.T, err, kind error, addr uint64, words ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want %v", err, kind)
	}
	var ae *AddrError
	if !errors.As(err, &ae) || ae.Addr != addr {
		t.Fatalf("error %v does not name address %#x", err, addr)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestSyntheticELF(t *testing.T) {
	a, b, c := pattern(1, 8192), pattern(2, 8192), pattern(3, 4096)
	file := buildELF(testNotes(), []testSeg{
		{paddr: 0x10000, data: a},
		{paddr: 0x12000, data: b},                 // adjacent to the first
		{paddr: 0x20000, data: c, memsz: 0x3000},  // two excluded pages at the end
		{paddr: 0x100000, data: make([]byte, 16)}, // a tiny one
	})
	d := openBytes(t, file)
	if d.Format() != FormatELF || d.InnerFormat() != FormatELF || d.KdumpHeader() != nil {
		t.Fatalf("format %v/%v", d.Format(), d.InnerFormat())
	}
	if d.PageSize() != 4096 || d.Partial() || d.Incomplete() {
		t.Errorf("pagesize %d partial %v incomplete %v", d.PageSize(), d.Partial(), d.Incomplete())
	}
	// Across the boundary of two segments.
	got := make([]byte, 0x100)
	if err := d.ReadPhys(got, 0x12000-0x80); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(a[8192-0x80:], b[:0x80]...)) {
		t.Error("read across PT_LOAD boundary returned wrong bytes")
	}
	wantErr(t, d.ReadPhys(got, 0x21000), ErrExcluded, 0x21000, "p_filesz")
	wantErr(t, d.ReadPhys(got, 0x20f80), ErrExcluded, 0x21000)
	wantErr(t, d.ReadPhys(got, 0x5000), ErrNotInDump, 0x5000, "PT_LOAD")
	d.SetZeroExcluded(true)
	wantErr(t, d.ReadPhys(got, 0x22ff0), ErrNotInDump, 0x23000)
	if err := d.ReadPhys(got, 0x20f80); err != nil || !bytes.Equal(got[:0x80], c[4096-0x80:]) || !bytes.Equal(got[0x80:], make([]byte, 0x80)) {
		t.Errorf("zero-excluded read: %v", err)
	}
	wantRanges := []Range{{0x10000, 0x14000}, {0x20000, 0x23000}, {0x100000, 0x100010}}
	if r := d.PhysRanges(); len(r) != 3 || r[0] != wantRanges[0] || r[1] != wantRanges[1] || r[2] != wantRanges[2] {
		t.Errorf("PhysRanges = %x", r)
	}
	cpus := d.CPUs()
	if len(cpus) != 2 || cpus[1].CPU != 1 || cpus[1].PID != 1234 || cpus[1].Regs.R15 != 0x200 || cpus[1].Regs.RIP != 0x210 || cpus[1].Regs.GS != 0x200+26 {
		t.Errorf("CPUs = %+v", cpus)
	}
	if v := d.Info(); v == nil || v.OSRelease != "6.1.0-test" || v.PhysBase != 16777216 || v.KernelOffset != 0x1000000 {
		t.Errorf("Info = %+v", v)
	}
	if len(d.Notes()) != 5 {
		t.Errorf("%d notes", len(d.Notes()))
	}

	// The same file cut in the middle of the second segment still opens.
	cut := openBytes(t, file[:len(file)-4096-16-0x1000])
	if !cut.Incomplete() {
		t.Error("truncated ELF not reported incomplete")
	}
	if err := cut.ReadPhys(got, 0x10000); err != nil {
		t.Errorf("read before the cut: %v", err)
	}
	wantErr(t, cut.ReadPhys(got, 0x13000), ErrTruncated, 0x13000, "past the end of the file")
	wantErr(t, cut.ReadPhys(got, 0x12f80), ErrTruncated, 0x13000)
}

func TestSyntheticELFErrors(t *testing.T) {
	good := buildELF(nil, []testSeg{{paddr: 0, data: make([]byte, 4096)}})
	for _, tc := range []struct {
		name string
		mod  func(b []byte) []byte
		want string
	}{
		{"elf32", func(b []byte) []byte { b[4] = 1; return b }, "32-bit"},
		{"not core", func(b []byte) []byte { b[16] = 2; return b }, "not a core dump"},
		{"phdrs past eof", func(b []byte) []byte { le.PutUint16(b[56:], 500); return b }, "program headers"},
		{"short", func(b []byte) []byte { return b[:40] }, "ELF header"},
		{"bad load", func(b []byte) []byte { le.PutUint64(b[64+56+32:], 1<<40); return b }, "PT_LOAD"},
		{"empty", func(b []byte) []byte { return nil }, "empty"},
		{"unknown", func(b []byte) []byte { return []byte("MZ\x90\x00nonsense") }, "unknown dump format"},
	} {
		b := tc.mod(bytes.Clone(good))
		_, err := newDump(&memSource{data: b}, "x")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

func testKdumpSpec(comp uint32) kdumpSpec {
	pages := map[uint64][]byte{}
	ram := map[uint64]bool{}
	for pfn := uint64(0); pfn < 300; pfn++ {
		if pfn >= 100 && pfn < 120 {
			continue // a hole
		}
		ram[pfn] = true
		switch {
		case pfn%10 == 3:
			// excluded
		case pfn%10 == 5:
			pages[pfn] = make([]byte, 4096) // zero page
		case pfn%10 == 7:
			pages[pfn] = pattern(byte(pfn), 4096) // incompressible-ish
		default:
			p := make([]byte, 4096)
			copy(p, []byte(strings.Repeat("page ", 100)))
			p[0], p[4095] = byte(pfn), byte(pfn>>8)
			pages[pfn] = p
		}
	}
	return kdumpSpec{maxMapnr: 320, ram: ram, pages: pages, comp: comp, vmcoreinfo: testVMCI, notes: testNotes(), dumpLevel: 31}
}

func TestSyntheticKdump(t *testing.T) {
	for _, comp := range []uint32{0, flagZlib, flagSnappy, flagZstd} {
		spec := testKdumpSpec(comp)
		file := buildKdump(t, spec)
		for _, flat := range []bool{false, true} {
			b := file
			if flat {
				b = flatten(file, 1000, true)
			}
			d := openBytes(t, b)
			checkKdump(t, d, spec)
			if flat && (d.Format() != FormatFlattened || d.InnerFormat() != FormatKdump) {
				t.Errorf("flattened: format %v/%v", d.Format(), d.InnerFormat())
			}
		}
	}
}

func checkKdump(t *testing.T, d *Dump, spec kdumpSpec) {
	t.Helper()
	h := d.KdumpHeader()
	if h == nil || h.Utsname.Release != "6.1.0-test" || h.Utsname.Machine != "x86_64" || h.BlockSize != 4096 ||
		h.MaxMapnr != 320 || h.DumpLevel != 31 || h.NrCPUs != 2 || h.TimestampUsec != 250000 || h.PhysBase != 0x1000000 {
		t.Fatalf("header %+v", h)
	}
	if !d.Partial() || d.Incomplete() || d.PageSize() != 4096 {
		t.Errorf("partial %v incomplete %v", d.Partial(), d.Incomplete())
	}
	if v := d.Info(); v == nil || v.OSRelease != "6.1.0-test" {
		t.Errorf("vmcoreinfo %+v", v)
	}
	if len(d.CPUs()) != 2 {
		t.Errorf("%d cpus", len(d.CPUs()))
	}
	if r := d.PhysRanges(); len(r) != 1 || r[0] != (Range{0, 320 * 4096}) {
		t.Errorf("ranges %x", r)
	}
	buf := make([]byte, 4096)
	for pfn := uint64(0); pfn < 330; pfn++ {
		err := d.ReadPhys(buf, pfn*4096)
		switch want, ok := spec.pages[pfn]; {
		case ok:
			if err != nil {
				t.Fatalf("pfn %d: %v", pfn, err)
			}
			if !bytes.Equal(buf, want) {
				t.Fatalf("pfn %d: wrong data", pfn)
			}
		case pfn >= 320:
			wantErr(t, err, ErrNotInDump, pfn*4096, "max_mapnr")
		case spec.ram[pfn]:
			wantErr(t, err, ErrExcluded, pfn*4096, "dump level 31")
		default:
			wantErr(t, err, ErrNotInDump, pfn*4096, "not RAM")
		}
	}
	// Unaligned, across pages, through the cache.
	got := make([]byte, 3*4096)
	if err := d.ReadPhys(got, 4*4096+100); err != nil {
		t.Fatal(err)
	}
	want := append(append(append(bytes.Clone(spec.pages[4][100:]), spec.pages[5]...), spec.pages[6]...), spec.pages[7][:100]...)
	if !bytes.Equal(got, want) {
		t.Error("cross-page read returned wrong bytes")
	}
	wantErr(t, d.ReadPhys(got, 2*4096+100), ErrExcluded, 3*4096)
	d.SetZeroExcluded(true)
	if err := d.ReadPhys(got, 2*4096+100); err != nil || !bytes.Equal(got[4096-100:2*4096-100], make([]byte, 4096)) {
		t.Errorf("zero-excluded read: %v", err)
	}
}

func TestSyntheticKdumpTruncated(t *testing.T) {
	spec := testKdumpSpec(flagZlib)
	file := buildKdump(t, spec)
	full := openBytes(t, file)
	descStart := full.kdump.dataOff
	ndesc := int64(len(spec.pages))
	dataStart := descStart + ndesc*pageDescSize

	// Cut in the page data: early pages read, late ones are ErrTruncated.
	d := openBytes(t, file[:dataStart+(int64(len(file))-dataStart)/2])
	buf := make([]byte, 4096)
	if err := d.ReadPhys(buf, 0); err != nil {
		t.Fatalf("first page: %v", err)
	}
	wantErr(t, d.ReadPhys(buf, 299*4096), ErrTruncated, 299*4096, "past the end of the file")

	// Cut in the page descriptors.
	d = openBytes(t, file[:descStart+10*pageDescSize])
	if err := d.ReadPhys(buf, 0); !errors.Is(err, ErrTruncated) {
		t.Fatalf("page 0 with data past the cut: %v", err)
	}
	wantErr(t, d.ReadPhys(buf, 298*4096), ErrTruncated, 298*4096, "page descriptor")

	// Cut in the bitmaps: the headers are not intact, Open fails.
	if _, err := newDump(&memSource{data: file[:descStart-100]}, "x"); err == nil || !strings.Contains(err.Error(), "bitmaps") {
		t.Errorf("open with cut bitmaps: %v", err)
	}

	// An incomplete dump: status flag and empty descriptors.
	inc := bytes.Clone(file)
	le.PutUint32(inc[424:], statusIncomplete)
	clear(inc[descStart+5*pageDescSize:])
	d = openBytes(t, inc)
	if !d.Incomplete() {
		t.Error("DUMP_DH_COMPRESSED_INCOMPLETE not reported")
	}
	wantErr(t, d.ReadPhys(buf, 298*4096), ErrTruncated, 298*4096, "empty")

	// A corrupt page: ErrCorrupt, naming the offset.
	bad := bytes.Clone(file)
	off := le.Uint64(bad[descStart:])
	bad[off+5] ^= 0xff
	d = openBytes(t, bad)
	if err := d.ReadPhys(buf, 0); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "zlib") {
		t.Errorf("corrupt page: %v", err)
	}
}

func TestSyntheticKdumpSplit(t *testing.T) {
	spec := testKdumpSpec(flagZstd)
	spec.split, spec.startPFN, spec.endPFN = true, 150, 250
	d := openBytes(t, buildKdump(t, spec))
	buf := make([]byte, 4096)
	for pfn := uint64(150); pfn < 250; pfn++ {
		if want, ok := spec.pages[pfn]; ok {
			if err := d.ReadPhys(buf, pfn*4096); err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("pfn %d: %v", pfn, err)
			}
		}
	}
	wantErr(t, d.ReadPhys(buf, 10*4096), ErrNotInDump, 10*4096, "split")
	if r := d.PhysRanges(); r[0] != (Range{150 * 4096, 250 * 4096}) {
		t.Errorf("split ranges %x", r)
	}
}

func TestSyntheticFlattenedCut(t *testing.T) {
	file := buildKdump(t, testKdumpSpec(flagSnappy))
	flat := flatten(file, 4096, false)
	d := openBytes(t, flat[:len(flat)-5000])
	if !d.Incomplete() || len(d.Warnings()) == 0 {
		t.Errorf("cut flattened stream: incomplete %v warnings %v", d.Incomplete(), d.Warnings())
	}
	buf := make([]byte, 4096)
	if err := d.ReadPhys(buf, 0); err != nil {
		t.Error(err)
	}
	if err := d.ReadPhys(buf, 299*4096); !errors.Is(err, ErrTruncated) {
		t.Errorf("last page of cut stream: %v", err)
	}
	// A bad type in the flattened header.
	bad := bytes.Clone(flat)
	bad[23] = 7
	if _, err := newDump(&memSource{data: bad}, "x"); err == nil || !strings.Contains(err.Error(), "TYPE_FLAT_HEADER") {
		t.Errorf("bad flat type: %v", err)
	}
}

func TestFlatInsertOverlap(t *testing.T) {
	fs := &flatSource{}
	fs.insert(flatSeg{off: 0, n: 100, src: 1000})
	fs.insert(flatSeg{off: 200, n: 100, src: 2000})
	fs.insert(flatSeg{off: 50, n: 200, src: 5000}) // covers the end of one, the start of the other
	want := []flatSeg{{0, 50, 1000}, {50, 200, 5000}, {250, 50, 2050}}
	if len(fs.segs) != len(want) {
		t.Fatalf("segs %v", fs.segs)
	}
	for i := range want {
		if fs.segs[i] != want[i] {
			t.Fatalf("segs %v, want %v", fs.segs, want)
		}
	}
	fs.insert(flatSeg{off: 60, n: 10, src: 9000}) // inside one
	if len(fs.segs) != 5 || fs.segs[1] != (flatSeg{50, 10, 5000}) || fs.segs[2] != (flatSeg{60, 10, 9000}) || fs.segs[3] != (flatSeg{70, 180, 5020}) {
		t.Fatalf("segs %v", fs.segs)
	}
}

func TestPageCacheLRU(t *testing.T) {
	c := newPageCache(3, 8)
	for pfn := uint64(1); pfn <= 3; pfn++ {
		b := c.slot()
		b[0] = byte(pfn)
		c.put(pfn, b)
	}
	c.get(1) // 2 is now the least recently used
	b := c.slot()
	b[0] = 4
	c.put(4, b)
	if _, ok := c.get(2); ok {
		t.Error("LRU entry 2 not evicted")
	}
	for _, pfn := range []uint64{1, 3, 4} {
		if p, ok := c.get(pfn); !ok || p[0] != byte(pfn) {
			t.Errorf("pfn %d: %v %v", pfn, p, ok)
		}
	}
}

func TestVMCoreInfoParse(t *testing.T) {
	v := ParseVMCoreInfo(testVMCI + "garbage line\n=novalue\nNUMBER(sme_mask)=0\nNUMBER(neg)=-5\nOSRELEASE=second\n\x00\x00junk")
	if v.OSRelease != "6.1.0-test" || v.PageSize != 4096 || v.CrashTime != 1700000000 {
		t.Errorf("%+v", v)
	}
	if a, ok := v.Symbol("init_uts_ns"); !ok || a != 0xffffffff82a13560 {
		t.Errorf("symbol %x %v", a, ok)
	}
	if n, ok := v.Offset("uts_namespace.name"); !ok || n != 4 {
		t.Errorf("offset %d", n)
	}
	if n, ok := v.Number("neg"); !ok || n != -5 {
		t.Errorf("number %d", n)
	}
	if n, ok := v.Size("page"); !ok || n != 64 {
		t.Errorf("size %d", n)
	}
	if n, ok := v.Length("node_data"); !ok || n != 1024 {
		t.Errorf("length %d", n)
	}
	if _, ok := v.Get("junk"); ok {
		t.Error("text after NUL parsed")
	}
	if _, ok := v.Symbol("nothere"); ok {
		t.Error("missing symbol found")
	}
	var nilInfo *VMCoreInfo
	if _, ok := nilInfo.Get("OSRELEASE"); ok {
		t.Error("nil VMCoreInfo")
	}
}

func TestNotesMalformed(t *testing.T) {
	n := buildNote("CORE", ntPRSTATUS, prstatus(7, 0))
	n = append(n, buildNote("VMCOREINFO", 0, []byte("OSRELEASE=x\n"))...)
	bad := append(bytes.Clone(n), 5, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0) // descsz far too big
	notes, err := parseNotes(bad, le, 0x1000)
	if len(notes) != 2 || err == nil || !strings.Contains(err.Error(), "0x"+strings.ToLower("1")) {
		t.Errorf("notes %d err %v", len(notes), err)
	}
	// A short PRSTATUS is skipped, not a crash.
	ni := collectNotes([]Note{{Name: "CORE", Type: ntPRSTATUS, Desc: make([]byte, 100)}}, le)
	if len(ni.cpus) != 0 {
		t.Error("short prstatus accepted")
	}
}

func TestQEMUNotes(t *testing.T) {
	st := make([]byte, qemuStateSize)
	le.PutUint32(st[0:], 1)
	le.PutUint32(st[4:], qemuStateSize)
	le.PutUint64(st[8:], 0xaaa)       // rax
	le.PutUint64(st[8+16*8:], 0xf00)  // rip
	le.PutUint64(st[152+4*24+16:], 7) // gs.base
	le.PutUint64(st[392+3*8:], 0x1234000)
	ni := collectNotes([]Note{{Name: "QEMU", Desc: st}, {Name: "QEMU", Desc: st}}, le)
	if len(ni.cpus) != 2 || ni.cpus[1].CPU != 1 || ni.cpus[0].Regs.RAX != 0xaaa || ni.cpus[0].Regs.RIP != 0xf00 || ni.cpus[0].Regs.GSBase != 7 {
		t.Errorf("cpus from QEMU notes: %+v", ni.cpus)
	}
	if ni.qemu[0].CR[3] != 0x1234000 {
		t.Errorf("CR3 %x", ni.qemu[0].CR[3])
	}
	// With NT_PRSTATUS present, the QEMU notes do not add CPUs.
	ni = collectNotes([]Note{{Name: "CORE", Type: ntPRSTATUS, Desc: prstatus(1, 0)}, {Name: "QEMU", Desc: st}}, le)
	if len(ni.cpus) != 1 || len(ni.qemu) != 1 {
		t.Errorf("%d cpus %d qemu", len(ni.cpus), len(ni.qemu))
	}
}
