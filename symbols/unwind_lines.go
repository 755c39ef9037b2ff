package symbols

// Source lines of kernel text addresses (bt -l), from the DWARF line
// tables: debug/dwarf's LineReader finds the row for an address; the file
// name is rebuilt from the line table header's raw directory and file
// entries the way gdb (and so crash) joins them - comp_dir + "/" + dir +
// "/" + name, uncleaned - because debug/dwarf hands out path.Clean()ed
// names ("./include/..." loses its "./"). That header parse is written by
// hand (DWARF 5 section 6.2.4, DWARF 4 section 6.2.4).

import (
	"bytes"
	"debug/dwarf"
	"errors"
	"fmt"
	"path"
	"sort"
	"sync"
)

// LineTable answers "which source line is this address" for one vmlinux.
type LineTable struct {
	v       *Vmlinux
	d       *dwarf.Data
	line    []byte // raw .debug_line
	lineStr []byte // raw .debug_line_str
	str     []byte // raw .debug_str
	units   []lineUnit

	mu    sync.Mutex
	files map[dwarf.Offset][]string // per unit: raw full file names, by file index
}

type lineUnit struct {
	lo, hi uint64 // link-time addresses
	off    dwarf.Offset
}

// NewLineTable indexes the address ranges of vmlinux's compile units.
func NewLineTable(v *Vmlinux) (*LineTable, error) {
	t, err := v.Types()
	if err != nil {
		return nil, err
	}
	d, err := t.fullData()
	if err != nil {
		return nil, err
	}
	secs := map[string][]byte{}
	for _, name := range []string{".debug_line", ".debug_line_str", ".debug_str"} {
		if sec := v.f.Section(name); sec != nil {
			b, err := v.sectionData(sec)
			if err != nil {
				return nil, err
			}
			secs[name] = b
		}
	}
	return newLineTable(v, d, secs)
}

// newLineTable indexes the units of d, whose raw .debug_line,
// .debug_line_str and .debug_str are in secs; v gives the name and the
// relocation (KASLR) offset.
func newLineTable(v *Vmlinux, d *dwarf.Data, secs map[string][]byte) (*LineTable, error) {
	lt := &LineTable{v: v, d: d, files: map[dwarf.Offset][]string{},
		line: secs[".debug_line"], lineStr: secs[".debug_line_str"], str: secs[".debug_str"]}
	if lt.line == nil {
		return nil, fmt.Errorf("%s: no .debug_line section", v.path)
	}
	r := lt.d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("%s: reading compile units: %w", v.path, err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			if rs, err := lt.d.Ranges(e); err == nil {
				for _, rg := range rs {
					if rg[0] < rg[1] {
						lt.units = append(lt.units, lineUnit{lo: rg[0], hi: rg[1], off: e.Offset})
					}
				}
			}
		}
		r.SkipChildren()
	}
	sort.Slice(lt.units, func(i, j int) bool { return lt.units[i].lo < lt.units[j].lo })
	return lt, nil
}

// Line returns the source file and line of the (relocated) address pc.
func (lt *LineTable) Line(pc uint64) (file string, line int, err error) {
	link := pc - lt.v.kaslr
	i := sort.Search(len(lt.units), func(i int) bool { return lt.units[i].lo > link }) - 1
	for ; i >= 0; i-- {
		u := lt.units[i]
		if link < u.lo || link >= u.hi {
			continue
		}
		file, line, err = lt.lineIn(u.off, link)
		if err == nil {
			return file, line, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("no line information for %#x", pc)
	}
	return "", 0, err
}

func (lt *LineTable) lineIn(unit dwarf.Offset, link uint64) (string, int, error) {
	var file string
	var line int
	found := false
	err := lt.walkRows(unit, func(lo, hi uint64, name func() string, l int) bool {
		if lo <= link && link < hi {
			file, line, found = name(), l, true
			return false
		}
		return true
	})
	if err != nil {
		return "", 0, err
	}
	if !found {
		return "", 0, fmt.Errorf("no line table row for %#x", link)
	}
	return file, line, nil
}

// LineRange is a run of addresses, [Lo, Hi) relocated, that Line answers
// with the same source line.
type LineRange struct {
	Lo, Hi uint64
	File   string
	Line   int
}

// Ranges returns the source lines of the relocated addresses [lo, hi) in
// address order, clipped to [lo, hi): what Line answers for each address,
// from one walk of the unit's line table instead of one walk an address.
// lo must lie in a compile unit; an address of [lo, hi) without a row is
// left out.
func (lt *LineTable) Ranges(lo, hi uint64) ([]LineRange, error) {
	linkLo, linkHi := lo-lt.v.kaslr, hi-lt.v.kaslr
	i := sort.Search(len(lt.units), func(i int) bool { return lt.units[i].lo > linkLo }) - 1
	for ; i >= 0; i-- {
		u := lt.units[i]
		if linkLo < u.lo || linkLo >= u.hi {
			continue
		}
		var out []LineRange
		err := lt.walkRows(u.off, func(a, b uint64, name func() string, l int) bool {
			if b > linkLo && a < linkHi {
				out = append(out, LineRange{Lo: max(a, linkLo) + lt.v.kaslr, Hi: min(b, linkHi) + lt.v.kaslr, File: name(), Line: l})
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Lo < out[j].Lo })
		return out, nil
	}
	return nil, fmt.Errorf("no line information for %#x", lo)
}

// walkRows calls fn for each run of link-time addresses [lo, hi) of the
// unit's line table and the row that answers them (its file name is built
// only when asked for), until fn returns false. LineReader.SeekPC misses
// rows of some kernel sequences (it answers ErrUnknownPC for panic+0x121
// in 6.1), so the rows are walked: an address belongs to the last row at
// the highest address <= it, as gdb's find_pc_line() picks it.
func (lt *LineTable) walkRows(unit dwarf.Offset, fn func(lo, hi uint64, file func() string, line int) bool) error {
	r := lt.d.Reader()
	r.Seek(unit)
	cu, err := r.Next()
	if err != nil || cu == nil {
		return fmt.Errorf("compile unit at %#x: %v", unit, err)
	}
	lr, err := lt.d.LineReader(cu)
	if err != nil || lr == nil {
		return fmt.Errorf("line table of unit at %#x: %v", unit, err)
	}
	raw := lt.rawFiles(cu)
	nameOf := func(f *dwarf.LineFile) string {
		if f == nil {
			return ""
		}
		if raw != nil {
			for i, g := range lr.Files() {
				if g == f && i < len(raw) && raw[i] != "" {
					return raw[i]
				}
			}
		}
		return f.Name
	}
	// stmt is the last is_stmt row at prev's address: gdb answers with
	// it when the last row there is not a statement boundary (6.1's
	// __x64_sys_open starts with rows for lines 1340..1344, all is_stmt,
	// then a non-stmt 1343; gdb says 1344).
	var le, prev, stmt dwarf.LineEntry
	havePrev, haveStmt := false, false
	for {
		if err := lr.Next(&le); err != nil {
			break
		}
		if havePrev && !prev.EndSequence && prev.Address < le.Address {
			row := prev
			if !row.IsStmt && haveStmt {
				row = stmt
			}
			f := row.File
			if !fn(prev.Address, le.Address, func() string { return nameOf(f) }, row.Line) {
				return nil
			}
		}
		if !havePrev || le.Address != prev.Address || prev.EndSequence {
			haveStmt = false
		}
		if le.IsStmt {
			stmt, haveStmt = le, true
		}
		prev, havePrev = le, true
	}
	return nil
}

// rawFiles returns the unit's file names joined as gdb joins them, by
// file index, or nil when the header cannot be read.
func (lt *LineTable) rawFiles(cu *dwarf.Entry) []string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if f, ok := lt.files[cu.Offset]; ok {
		return f
	}
	var files []string
	off, ok := cu.Val(dwarf.AttrStmtList).(int64)
	compDir, _ := cu.Val(dwarf.AttrCompDir).(string)
	if ok && off >= 0 && off < int64(len(lt.line)) {
		files, _ = lt.parseFileTable(lt.line[off:], compDir)
	}
	lt.files[cu.Offset] = files
	return files
}

var errLineHeader = errors.New("malformed line table header")

// lineBuf reads a line table header.
type lineBuf struct {
	b   []byte
	err error
}

func (b *lineBuf) need(n int) bool {
	if b.err != nil || n < 0 || len(b.b) < n {
		b.err = errLineHeader
		return false
	}
	return true
}

func (b *lineBuf) u8() uint8 {
	if !b.need(1) {
		return 0
	}
	v := b.b[0]
	b.b = b.b[1:]
	return v
}

func (b *lineBuf) fixed(n int) uint64 {
	if !b.need(n) {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b.b[i])
	}
	b.b = b.b[n:]
	return v
}

func (b *lineBuf) uleb() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c := b.u8()
		if b.err != nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v
		}
	}
}

func (b *lineBuf) cstr() string {
	i := bytes.IndexByte(b.b, 0)
	if b.err != nil || i < 0 {
		b.err = errLineHeader
		return ""
	}
	s := string(b.b[:i])
	b.b = b.b[i+1:]
	return s
}

func strAt(sec []byte, off uint64) string {
	if off >= uint64(len(sec)) {
		return ""
	}
	s := sec[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// Line-table content types (DWARF 5 table 7.27); the forms are
// dwarfscan.go's.
const (
	lnctPath     = 1
	lnctDirIndex = 2
)

// parseFileTable reads a line program header's directory and file tables
// and joins each file name with its directory.
func (lt *LineTable) parseFileTable(data []byte, compDir string) ([]string, error) {
	b := &lineBuf{b: data}
	length := b.fixed(4)
	dwarf64 := false
	if length == 0xffffffff {
		length = b.fixed(8)
		dwarf64 = true
	}
	if b.err != nil || length > uint64(len(b.b)) {
		return nil, errLineHeader
	}
	b.b = b.b[:length]
	version := b.fixed(2)
	offSize := 4
	if dwarf64 {
		offSize = 8
	}
	if version >= 5 {
		b.u8() // address_size
		b.u8() // segment_selector_size
	}
	b.fixed(offSize) // header_length
	b.u8()           // minimum_instruction_length
	if version >= 4 {
		b.u8() // maximum_operations_per_instruction
	}
	b.u8() // default_is_stmt
	b.u8() // line_base
	b.u8() // line_range
	opBase := b.u8()
	if opBase > 0 {
		b.need(int(opBase) - 1)
		if b.err == nil {
			b.b = b.b[opBase-1:]
		}
	}
	join := func(dir, name string) string {
		if path.IsAbs(name) {
			return name
		}
		if dir == "" {
			dir = compDir
		} else if !path.IsAbs(dir) && compDir != "" {
			dir = compDir + "/" + dir
		}
		if dir == "" {
			return name
		}
		return dir + "/" + name
	}
	if version < 5 {
		dirs := []string{compDir}
		for {
			s := b.cstr()
			if b.err != nil || s == "" {
				break
			}
			dirs = append(dirs, s)
		}
		files := []string{""} // DWARF 4 file numbers start at 1
		for {
			s := b.cstr()
			if b.err != nil || s == "" {
				break
			}
			di := b.uleb()
			b.uleb() // mtime
			b.uleb() // length
			dir := ""
			if di < uint64(len(dirs)) {
				dir = dirs[di]
			}
			files = append(files, join(dir, s))
		}
		return files, b.err
	}
	readEntries := func() ([][2]string, error) {
		nfmt := int(b.u8())
		type pair struct{ lnct, form uint64 }
		fmts := make([]pair, 0, nfmt)
		for i := 0; i < nfmt; i++ {
			fmts = append(fmts, pair{b.uleb(), b.uleb()})
		}
		n := b.uleb()
		if b.err != nil || n > uint64(len(b.b)) {
			return nil, errLineHeader
		}
		out := make([][2]string, 0, n)
		for i := uint64(0); i < n; i++ {
			var e [2]string // path, directory index (decimal)
			for _, f := range fmts {
				var s string
				var v uint64
				switch f.form {
				case formString:
					s = b.cstr()
				case formLineStrp:
					s = strAt(lt.lineStr, b.fixed(offSize))
				case formStrp:
					s = strAt(lt.str, b.fixed(offSize))
				case formUdata:
					v = b.uleb()
				case formData1:
					v = b.fixed(1)
				case formData2:
					v = b.fixed(2)
				case formData4:
					v = b.fixed(4)
				case formData8:
					v = b.fixed(8)
				case formData16:
					b.fixed(8)
					b.fixed(8)
				case formBlock:
					l := b.uleb()
					if b.need(int(l)) {
						b.b = b.b[l:]
					}
				default:
					return nil, fmt.Errorf("line table header: unknown form %#x", f.form)
				}
				switch f.lnct {
				case lnctPath:
					e[0] = s
				case lnctDirIndex:
					e[1] = fmt.Sprint(v)
				}
			}
			if b.err != nil {
				return nil, b.err
			}
			out = append(out, e)
		}
		return out, nil
	}
	dirEntries, err := readEntries()
	if err != nil {
		return nil, err
	}
	fileEntries, err := readEntries()
	if err != nil {
		return nil, err
	}
	files := make([]string, len(fileEntries))
	for i, f := range fileEntries {
		var di int
		fmt.Sscan(f[1], &di)
		dir := ""
		if di >= 0 && di < len(dirEntries) {
			dir = dirEntries[di][0]
		}
		files[i] = join(dir, f[0])
	}
	return files, nil
}

// CompDir returns the compilation directory (DW_AT_comp_dir) of the unit
// holding the relocated address pc: gdb names a unit's source files
// relative to it ("kernel/panic.c").
func (lt *LineTable) CompDir(pc uint64) (string, error) {
	link := pc - lt.v.kaslr
	i := sort.Search(len(lt.units), func(i int) bool { return lt.units[i].lo > link }) - 1
	for ; i >= 0; i-- {
		u := lt.units[i]
		if link < u.lo || link >= u.hi {
			continue
		}
		r := lt.d.Reader()
		r.Seek(u.off)
		e, err := r.Next()
		if err != nil || e == nil {
			return "", fmt.Errorf("compile unit at %#x: %v", u.off, err)
		}
		dir, _ := e.Val(dwarf.AttrCompDir).(string)
		return dir, nil
	}
	return "", fmt.Errorf("no compile unit holds %#x", pc)
}
