package vmcore

// Fuzz targets for every parser of untrusted bytes. Seeds: the synthetic
// builders here, plus the corpus under testdata/fuzz/ cut from makedumpfile
// output (see interop_test.go) and from the real dumps.

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// seeds returns the zstd-compressed seed files testdata/fuzz/seeds/PREFIX*:
// the first kilobytes of makedumpfile's output for the interop image and
// of the real test-bed dumps (headers, notes, bitmaps, first descriptors).
func seeds(f *testing.F, prefix string) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "seeds", prefix+"*.zst"))
	dec, err := zstd.NewReader(nil)
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := dec.DecodeAll(b, nil)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		out = append(out, raw)
	}
	return out
}

// exercise touches what a session would use right after Open, with bounded
// work: it must neither panic nor hang on any input.
func exercise(d *Dump) {
	d.CPUs()
	d.KdumpHeader()
	d.Partial()
	d.Incomplete()
	buf := make([]byte, 64)
	for i, r := range d.PhysRanges() {
		if i == 8 {
			break
		}
		d.ReadPhys(buf, r.Start)
		d.ReadPhys(buf, r.End-32)
		d.ReadPhys(buf, r.Start+(r.End-r.Start)/2)
	}
	d.SetZeroExcluded(true)
	d.ReadPhys(buf, 0x1000)
	if p, err := ParamsFromInfo(d.Info()); err == nil {
		k := NewKernelSpace(d, p)
		k.ReadVirt(buf, p.InitTopPgt)
		k.ReadVirt(buf, 0xffff888000001000)
		k.ReadUser(p.InitTopPgt, buf, 0x400000)
	}
}

func fuzzOpen(data []byte) {
	d, err := newDump(&memSource{data: data}, "fuzz")
	if err != nil {
		return
	}
	exercise(d)
	d.Close()
}

func FuzzOpenELF(f *testing.F) {
	f.Add(buildELF(testNotes(), []testSeg{{paddr: 0x1000, data: pattern(1, 4096), memsz: 0x3000}, {paddr: 0x10000, data: pattern(2, 100)}}))
	f.Add(synthELF(f)[:16384])
	for _, b := range seeds(f, "elf-") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOpen(data) })
}

func FuzzOpenKdump(f *testing.F) {
	for _, comp := range []uint32{0, flagZlib, flagSnappy, flagZstd} {
		s := testKdumpSpec(comp)
		f.Add(buildKdump(f, s))
	}
	for _, b := range seeds(f, "kdump-") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOpen(data) })
}

func FuzzFlattened(f *testing.F) {
	f.Add(flatten(buildKdump(f, testKdumpSpec(flagZlib)), 3000, true))
	f.Add(flatten(buildELF(testNotes(), []testSeg{{paddr: 0, data: pattern(3, 8192)}}), 512, false))
	for _, b := range seeds(f, "flat-") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOpen(data) })
}

func FuzzNotes(f *testing.F) {
	f.Add(testNotes())
	f.Add(buildNote("QEMU", 0, make([]byte, qemuStateSize)))
	// The notes areas of the seed dumps.
	for _, b := range append(seeds(f, "kdump-"), seeds(f, "elf-")...) {
		if d, err := newDump(&memSource{data: b}, "seed"); err == nil {
			if n := d.Notes(); len(n) > 0 {
				first, last := n[0], n[len(n)-1]
				end := last.Off + 12 + int64(align4(uint64(len(last.Name)+1))) + int64(align4(uint64(len(last.Desc))))
				if first.Off >= 0 && end <= int64(len(b)) {
					f.Add(b[first.Off:end])
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			notes, _ := parseNotes(data, bo, 0)
			collectNotes(notes, bo)
		}
	})
}

func FuzzVMCOREINFO(f *testing.F) {
	f.Add(testVMCI)
	for _, b := range append(seeds(f, "kdump-"), seeds(f, "elf-")...) {
		if d, err := newDump(&memSource{data: b}, "seed"); err == nil && d.Info() != nil {
			f.Add(d.Info().Raw)
		}
	}
	f.Add("SYMBOL(init_top_pgt)=ffffffff9a40a000\nNUMBER(phys_base)=-2147483648\nNUMBER(sme_mask)=140737488355328\n")
	f.Fuzz(func(t *testing.T, s string) {
		v := ParseVMCoreInfo(s)
		v.Get("OSRELEASE")
		v.Symbol("init_uts_ns")
		v.Offset("uts_namespace.name")
		v.Size("page")
		v.Number("phys_base")
		v.Length("node_data")
		ParamsFromInfo(v)
	})
}

func FuzzDecompress(f *testing.F) {
	page := make([]byte, 4096)
	copy(page, "some page contents some page contents some page contents")
	for _, comp := range []uint32{flagZlib, flagSnappy, flagZstd} {
		b, fl := compressPage(f, comp, page)
		f.Add(fl, b)
	}
	f.Add(uint32(0), page)
	// A literal-only LZO1X stream: 238 literals then the end marker.
	lz := append([]byte{17 + 238}, make([]byte, 238)...)
	f.Add(uint32(flagLZO), append(lz, 0x11, 0, 0))
	f.Fuzz(func(t *testing.T, flags uint32, data []byte) {
		var dc decompressor
		dst := make([]byte, 4096)
		dc.decompress(flags, data, dst)
		dc.close()
	})
}
