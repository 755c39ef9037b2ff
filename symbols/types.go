package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Types answers questions about the kernel's C types from DWARF. Nothing is
// read when it is created; lookups build a name index over the compile units
// (in parallel, and on a linked vmlinux only as far as the names asked for
// need: lazyIndex), and types are then decoded one at a time with
// godwarf.ReadType into a shared cache.
type Types struct {
	path string
	d    *dwarf.Data
	sec  *dwarfSections // raw sections for the fast index; nil for .o files

	lazyOnce sync.Once
	lazy     *lazyIndex
	lazyErr  error
	// cached answers every name question when the vmlinux has an index
	// cache (cache.go): then nothing is scanned at all.
	cached *indexCache
	// vm is the vmlinux the types are of (nil for .o files read alone);
	// aranges is its .debug_aranges, read for unithint.go.
	vm      *Vmlinux
	aranges aranges

	// d is built on first use on a linked vmlinux (debug/dwarf.New parses
	// every unit's abbreviations: 80 MB of maps on a distribution kernel);
	// types are read through prefix, a dwarf.Data over the first
	// prefixUnits units of .debug_info, grown as later units are needed.
	fullOnce    sync.Once
	fullErr     error
	prefix      *dwarf.Data
	prefixEnd   uint64
	prefixUnits int
	// windows hold single units past the prefix (unitWindow), by index.
	windows map[int]*dwarf.Data
	// partial is a dwarf.Data over the partial units dwz moved the shared
	// types to (DW_UT_partial, all at the start of .debug_info, up to
	// partialEnd, 0 without any), which refer to each other with
	// DW_FORM_ref_addr: a type of theirs reads there, without the cost of
	// every compile unit's abbreviations (a dwz'd vmlinux's task_struct:
	// 4 ms instead of 110 ms over all of .debug_info).
	partial     *dwarf.Data
	partialEnd  uint64
	partialDone bool

	indexOnce sync.Once
	idx       *nameIndex
	idxErr    error
	idxTime   time.Duration

	// btf is set when the types come from BTF instead (btf.go): the name
	// index then holds BTF type IDs.
	btf *btfTypes
	// dwarf is the vmlinux's DWARF behind Layouts' BTF-backed Types
	// (layouts.go): it answers what BTF cannot. layouts is that
	// BTF-backed Types, on the DWARF one.
	dwarf       *Types
	layoutsOnce sync.Once
	layouts     *Types

	// walks are the member paths resolved (walk), by type and path: a
	// walker resolves the same few paths for every task of a foreach
	// (task_struct.pid, .stack, .thread.sp …), and parsing and walking them
	// each time was a fifth of foreach bt.
	walks sync.Map // walkKey -> walkResult

	mu      sync.Mutex
	cache   map[dwarf.Offset]godwarf.Type
	visited map[godwarf.Type]bool   // types already passed through fixNew
	named   map[string]godwarf.Type // Lookup results

	// modules are the types of modules Lookup and Enumerator fall back on
	// (SetModuleTypes).
	modMu   sync.Mutex
	modules []moduleTypes
}

// moduleTypes are one module's types: from its object file (mod -s) or
// its BTF.
type moduleTypes struct {
	module string
	object bool
	t      *Types
}

// nameIndex maps names to DIE offsets. Struct/union/enum tags have their
// own namespaces in C, so they are kept apart from typedef and base names.
type nameIndex struct {
	structs, unions, enums, typedefs, bases map[string]dieRef
	vars                                    map[string]dieRef // offset of the variable's type DIE
	// varDefs holds each variable's first definition (lowest DIE offset),
	// typed or taking its type from its declaration: gdb's choice
	// (DeclaredVarType).
	varDefs map[string]firstDef
	// Enumerators are not unique across compile units (every file system's
	// mount option enum has an Opt_err); the first unit's value is kept.
	enumerators map[string]enumVal
}

type dieRef struct {
	off  dwarf.Offset
	decl bool // only a declaration (incomplete struct, extern variable)
	// inherited marks a variable definition that takes its type from the
	// declaration it completes (DW_AT_specification without DW_AT_type):
	// with `const char linux_banner[] __weak;` in one file and the sized
	// definition in another, the one carrying its own type is complete.
	inherited bool
}

type enumVal struct {
	val int64
	off dwarf.Offset
}

// better reports whether a should replace b in the index: a definition beats
// a declaration, a typed definition an inherited one, then the lowest offset
// wins, so the result does not depend on how units were split among workers.
func (a dieRef) better(b dieRef) bool {
	if a.decl != b.decl {
		return !a.decl
	}
	if a.inherited != b.inherited {
		return !a.inherited
	}
	return a.off < b.off
}

func putEnum(m map[string]enumVal, name string, v enumVal) {
	if old, ok := m[name]; !ok || v.off < old.off {
		m[name] = v
	}
}

func newTypes(v *Vmlinux) (*Types, error) {
	d, sec, err := v.dwarfData()
	if err != nil {
		return nil, err
	}
	t := newTypesFromData(v.path, d)
	t.sec = sec
	t.vm = v
	if sec != nil && v.cache != nil && v.cache.checkDWARF(uint64(len(sec.info))) {
		t.cached = v.cache
		return t, nil
	}
	if sec != nil && !v.HasBTF() {
		// Check the unit headers now (as dwarf.New did): a vmlinux with
		// broken DWARF fails here, not in the middle of a command. With
		// .BTF the walkers read layouts from it (Layouts) and DWARF is
		// read only for a command that prints C types, which then says
		// what is wrong with it: walking every unit header costs a fault
		// per unit, 10 ms on a distribution kernel's 2,000 units.
		if _, err := t.lazyIndex(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func newTypesFromData(path string, d *dwarf.Data) *Types {
	return &Types{
		path:    path,
		d:       d,
		cache:   map[dwarf.Offset]godwarf.Type{},
		visited: map[godwarf.Type]bool{},
		named:   map[string]godwarf.Type{},
	}
}

// dwarfData finds the DWARF sections, mapped, without copying them, and
// returns a builder of dwarf.Data over them (types.go builds one over a
// prefix of .debug_info, and the full one only when something needs every
// unit). Compressed sections are decompressed once. Relocatable objects (.o)
// need relocations applied, which debug/elf's File.DWARF does: for them the
// dwarf.Data itself is returned.
func (v *Vmlinux) dwarfData() (*dwarf.Data, *dwarfSections, error) {
	if !v.HasDWARF() {
		return nil, nil, fmt.Errorf("%s: %w", v.path, errNoDWARF)
	}
	if v.f.Type == elf.ET_REL || v.f.Section(".zdebug_info") != nil {
		d, err := v.f.DWARF()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", v.path, err)
		}
		return d, nil, nil
	}
	get := func(name string) ([]byte, error) {
		s := v.f.Section(".debug_" + name)
		if s == nil {
			return nil, nil
		}
		return v.sectionData(s)
	}
	var sec [8][]byte
	for i, name := range []string{"abbrev", "aranges", "frame", "info", "line", "pubnames", "ranges", "str"} {
		b, err := get(name)
		if err != nil {
			return nil, nil, err
		}
		sec[i] = b
	}
	raw := &dwarfSections{abbrev: sec[0], info: sec[3], str: sec[7]}
	// Only a mapping may have its pages dropped (dontNeed zeroes heap
	// memory): not a decompressed copy, not openBytes' bytes.
	if info := v.f.Section(".debug_info"); v.mapped && info.Flags&elf.SHF_COMPRESSED == 0 {
		raw.mapped = true
		raw.file, raw.infoOff = v.file, int64(info.Offset)
	}
	var extra [4][]byte
	extraNames := []string{"addr", "line_str", "str_offsets", "rnglists"}
	for i, name := range extraNames {
		b, err := get(name)
		if err != nil {
			return nil, nil, err
		}
		extra[i] = b
		switch name {
		case "line_str":
			raw.lineStr = b
		case "str_offsets":
			raw.strOffsets = b
		}
	}
	// build makes a dwarf.Data over info, all of .debug_info or a prefix of
	// it that ends at a unit boundary (offsets stay those of the file).
	raw.build = func(info []byte) (*dwarf.Data, error) {
		d, err := dwarf.New(sec[0], sec[1], sec[2], info, sec[4], sec[5], sec[6], sec[7])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.path, err)
		}
		for i, name := range extraNames {
			if extra[i] != nil {
				if err := d.AddSection(".debug_"+name, extra[i]); err != nil {
					return nil, fmt.Errorf("%s: .debug_%s: %w", v.path, name, err)
				}
			}
		}
		return d, nil
	}
	return nil, raw, nil
}

// fullData is the dwarf.Data over all of .debug_info.
func (t *Types) fullData() (*dwarf.Data, error) {
	if t.dwarf != nil {
		return t.dwarf.fullData()
	}
	if t.btf != nil {
		return nil, errNoDWARFWithoutVmlinux
	}
	t.fullOnce.Do(func() {
		if t.d == nil && t.sec != nil && t.sec.build != nil {
			t.d, t.fullErr = t.sec.build(t.sec.info)
		}
	})
	return t.d, t.fullErr
}

// unitHeaders is every unit header of .debug_info: the index cache's, or
// parsed now when no name was asked for yet (TypeAt from frame or line
// information). The caller holds t.mu.
func (t *Types) unitHeaders() []unitHeader {
	switch {
	case t.cached != nil:
		return t.cached.units
	case t.sec != nil:
		if l, err := t.lazyIndex(); err == nil {
			return l.units
		}
	}
	return nil
}

// partialData is the dwarf.Data over dwz's partial units when off lies
// among them, else nil. The caller holds t.mu.
func (t *Types) partialData(off dwarf.Offset) *dwarf.Data {
	if !t.partialDone {
		t.partialDone = true
		units := t.unitHeaders()
		if t.sec == nil || t.sec.build == nil {
			return nil
		}
		for _, u := range units {
			// DWARF 5's unit_type follows the length and the version
			typeAt := u.off + 4 + 2
			if u.offsetSize == 8 {
				typeAt = u.off + 12 + 2
			}
			if u.version >= 5 && typeAt < uint64(len(t.sec.info)) && t.sec.info[typeAt] == 0x03 { // DW_UT_partial
				t.partialEnd = u.end
				continue
			}
			// dwz writes the partial units first: the first other unit
			// ends them (reading every unit's header faults in a page
			// of each of a distribution kernel's 3,000 units: 5 ms and
			// 100 MB of RSS, for nothing on a vmlinux without dwz).
			break
		}
		if t.partialEnd > 0 && t.partialEnd <= uint64(len(t.sec.info)) {
			d, err := t.sec.build(t.sec.info[:t.partialEnd])
			if err != nil {
				t.partialEnd = 0
				return nil
			}
			t.partial = d
		}
	}
	if t.partial == nil || uint64(off) >= t.partialEnd {
		return nil
	}
	return t.partial
}

// dataFor returns a dwarf.Data whose .debug_info holds the unit of off: the
// prefix, grown (at least doubled) when off lies past it, or the full data.
// The caller holds t.mu.
func (t *Types) dataFor(off dwarf.Offset) (*dwarf.Data, error) {
	if t.partial != nil && uint64(off) < t.partialEnd {
		return t.partial, nil
	}
	if t.prefix != nil && uint64(off) < t.prefixEnd {
		return t.prefix, nil
	}
	units := t.unitHeaders()
	if t.sec == nil || t.sec.build == nil || units == nil {
		return t.fullData()
	}
	i := sort.Search(len(units), func(i int) bool { return units[i].end > uint64(off) })
	if i < len(units) && i >= t.prefixUnits {
		if d, ok := t.windows[i]; ok {
			return d, nil
		}
		d, ok, err := unitWindow(*t.sec, units[i])
		if err != nil {
			return nil, err
		}
		if ok {
			if t.windows == nil {
				t.windows = map[int]*dwarf.Data{}
			}
			t.windows[i] = d
			return d, nil
		}
	}
	n := max(i+1, 2*t.prefixUnits, 64)
	if i >= len(units) || n >= len(units) {
		return t.fullData()
	}
	d, err := t.sec.build(t.sec.info[:units[n-1].end])
	if err != nil {
		return nil, err
	}
	// dwarf.New read every unit header of the prefix, faulting in the
	// pages around each: let them go (lazyindex.go's dontNeed).
	if t.sec.mapped {
		dontNeed(t.sec.info[:units[n-1].end])
	}
	t.prefix, t.prefixEnd, t.prefixUnits = d, units[n-1].end, n
	return d, nil
}

// IndexTime is how long building the name index took (0 before it is built).
func (t *Types) IndexTime() time.Duration {
	t.index()
	return t.idxTime
}

func (t *Types) index() (*nameIndex, error) {
	t.indexOnce.Do(func() {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				t.idx, t.idxErr = nil, fmt.Errorf("%s: malformed DWARF: %v", t.path, r)
			}
		}()
		if t.sec != nil {
			t.idx, t.idxErr = fastIndex(*t.sec)
		} else {
			t.idx, t.idxErr = buildIndex(t.d)
		}
		t.idxTime = time.Since(start)
		if t.idxErr != nil {
			t.idxErr = fmt.Errorf("%s: indexing DWARF: %w", t.path, t.idxErr)
		}
	})
	return t.idx, t.idxErr
}

// query answers a question about the name key from the lazy index, scanning
// only as many units as it takes for answer to report that nothing later can
// change its answer (answer runs under the index's lock and copies out what
// it needs). Without raw sections (.o files) the full index answers; with an
// index cache, the cache's entries for key.
func (t *Types) query(what, key string, answer func(x *nameIndex) (final bool)) error {
	if t.cached != nil {
		answer(t.cached.names(key))
		return nil
	}
	if t.sec == nil {
		x, err := t.index()
		if err == nil {
			answer(x)
		}
		return err
	}
	l, err := t.lazyIndex()
	if err != nil {
		return err
	}
	if _, err := l.find(what, answer); err != nil {
		return fmt.Errorf("%s: indexing DWARF: %w", t.path, err)
	}
	return nil
}

func (t *Types) lazyIndex() (*lazyIndex, error) {
	t.lazyOnce.Do(func() {
		t.lazy, t.lazyErr = newLazyIndex(*t.sec)
		if t.lazyErr != nil {
			t.lazyErr = fmt.Errorf("%s: %w", t.path, t.lazyErr)
		}
	})
	return t.lazy, t.lazyErr
}

func newNameIndex() *nameIndex {
	return &nameIndex{
		structs:     map[string]dieRef{},
		unions:      map[string]dieRef{},
		enums:       map[string]dieRef{},
		typedefs:    map[string]dieRef{},
		bases:       map[string]dieRef{},
		vars:        map[string]dieRef{},
		varDefs:     map[string]firstDef{},
		enumerators: map[string]enumVal{},
	}
}

func put(m map[string]dieRef, name string, r dieRef) {
	if old, ok := m[name]; !ok || r.better(old) {
		m[name] = r
	}
}

func (x *nameIndex) merge(y *nameIndex) {
	for _, p := range [][2]map[string]dieRef{{x.structs, y.structs}, {x.unions, y.unions}, {x.enums, y.enums},
		{x.typedefs, y.typedefs}, {x.bases, y.bases}, {x.vars, y.vars}} {
		for k, r := range p[1] {
			put(p[0], k, r)
		}
	}
	for k, val := range y.enumerators {
		putEnum(x.enumerators, k, val)
	}
	for k, d := range y.varDefs {
		putFirstDef(x.varDefs, k, d.die, d.ref)
	}
}

// buildIndex scans the top-level DIEs of every compile unit, one worker per
// core taking units from a shared counter (units differ wildly in size).
// Children of functions and structs are skipped via DW_AT_sibling, which is
// what keeps this affordable on a kernel.
func buildIndex(d *dwarf.Data) (*nameIndex, error) {
	var units []dwarf.Offset
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			units = append(units, e.Offset)
		}
		r.SkipChildren()
	}
	return indexUnits(len(units), func() (*nameIndex, func(i int) error) {
		x, r := newNameIndex(), d.Reader()
		return x, func(i int) error { return x.scanUnit(d, r, units[i]) }
	})
}

// indexUnits indexes n units with one worker per core, each taking the next
// unit from a shared counter (units differ wildly in size), and merges the
// workers' indexes. newWorker gives a worker its own index and the function
// that scans unit i into it; a panic on malformed DWARF becomes an error.
func indexUnits(n int, newWorker func() (*nameIndex, func(i int) error)) (*nameIndex, error) {
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	parts := make([]*nameIndex, workers)
	errs := make([]error, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[w] = fmt.Errorf("malformed DWARF: %v", r)
				}
			}()
			x, scan := newWorker()
			parts[w] = x
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := scan(i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	x := parts[0]
	for _, y := range parts[1:] {
		x.merge(y)
	}
	return x, nil
}

func (x *nameIndex) scanUnit(d *dwarf.Data, r *dwarf.Reader, unit dwarf.Offset) error {
	r.Seek(unit)
	cu, err := r.Next()
	if err != nil {
		return err
	}
	if cu == nil || !cu.Children {
		return nil
	}
	type varDecl struct {
		name string
		typ  any
	}
	unitVars := map[dwarf.Offset]varDecl{}
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		decl, _ := e.Val(dwarf.AttrDeclaration).(bool)
		ref := dieRef{off: e.Offset, decl: decl}
		switch {
		case e.Tag == dwarf.TagEnumerationType:
			if name != "" {
				put(x.enums, name, ref)
			}
			if e.Children {
				if err := x.scanEnumerators(r); err != nil {
					return err
				}
				continue
			}
		case name == "":
		case e.Tag == dwarf.TagStructType:
			put(x.structs, name, ref)
		case e.Tag == dwarf.TagUnionType:
			put(x.unions, name, ref)
		case e.Tag == dwarf.TagTypedef:
			put(x.typedefs, name, ref)
		case e.Tag == dwarf.TagBaseType:
			put(x.bases, name, ref)
		case e.Tag == dwarf.TagVariable:
			unitVars[e.Offset] = varDecl{name, e.Val(dwarf.AttrType)}
		}
		if e.Tag == dwarf.TagVariable {
			typ := e.Val(dwarf.AttrType)
			inherited := false
			if spec, ok := e.Val(dwarf.AttrSpecification).(dwarf.Offset); ok && name == "" {
				// A definition whose name is on an earlier declaration.
				v, ok := unitVars[spec]
				if !ok {
					// In a dwz partial unit (dwarfscan.go's varIn).
					v, ok = varAt(d, spec)
				}
				if ok {
					name = v.name
					if typ == nil {
						typ, inherited = v.typ, true
					}
				}
			}
			if toff, ok := typ.(dwarf.Offset); ok && name != "" {
				put(x.vars, name, dieRef{off: toff, decl: decl, inherited: inherited})
				if !decl {
					putFirstDef(x.varDefs, name, e.Offset, dieRef{off: toff, inherited: inherited})
				}
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

// varAt reads the named variable entry at off, in whatever unit holds it.
func varAt(d *dwarf.Data, off dwarf.Offset) (v struct {
	name string
	typ  any
}, ok bool) {
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil || e.Offset != off || e.Tag != dwarf.TagVariable {
		return v, false
	}
	v.name, _ = e.Val(dwarf.AttrName).(string)
	v.typ = e.Val(dwarf.AttrType)
	return v, v.name != ""
}

func (x *nameIndex) scanEnumerators(r *dwarf.Reader) error {
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		if e.Tag == dwarf.TagEnumerator {
			name, _ := e.Val(dwarf.AttrName).(string)
			if name != "" {
				switch v := e.Val(dwarf.AttrConstValue).(type) {
				case int64:
					putEnum(x.enumerators, name, enumVal{v, e.Offset})
				case uint64:
					putEnum(x.enumerators, name, enumVal{int64(v), e.Offset})
				}
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

// readType decodes the type at off through the shared cache and fixes up
// every struct it had not seen before, holding t.mu for both.
func (t *Types) readType(off dwarf.Offset) (typ godwarf.Type, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() {
		// godwarf indexes slices with values from the file; a corrupt
		// vmlinux must give an error, not crash the session.
		if r := recover(); r != nil {
			typ, err = nil, fmt.Errorf("%s: malformed DWARF type at offset %#x: %v", t.path, off, r)
			// The cache may hold half-built types now.
			t.cache = map[dwarf.Offset]godwarf.Type{}
			t.visited = map[godwarf.Type]bool{}
		}
	}()
	if t.btf != nil {
		typ, err = t.btf.btfType(uint32(off))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.path, err)
		}
		return typ, nil
	}
	d, err := t.dataFor(off)
	if err != nil {
		return nil, err
	}
	typ, err = godwarf.ReadType(d, 0, off, t.cache)
	if err != nil && d != t.d && d != t.partial {
		if p := t.partialData(off); p != nil {
			t.cache = map[dwarf.Offset]godwarf.Type{}
			t.visited = map[godwarf.Type]bool{}
			d = p
			typ, err = godwarf.ReadType(p, 0, off, t.cache)
		}
	}
	if err != nil && d != t.d {
		// A reference into a unit past the prefix (DW_FORM_ref_addr, as
		// dwz writes): again over all of .debug_info, with a fresh cache
		// (the failed read may have left half-built types in it).
		if full, ferr := t.fullData(); ferr == nil {
			t.cache = map[dwarf.Offset]godwarf.Type{}
			t.visited = map[godwarf.Type]bool{}
			typ, err = godwarf.ReadType(full, 0, off, t.cache)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading type at DWARF offset %#x: %w", t.path, off, err)
	}
	if err := t.fixNew(typ); err != nil {
		return nil, err
	}
	return typ, nil
}

// fixNew walks the part of the type graph reachable from typ that has not
// been walked before and applies fixStruct to its structs. It must run right
// after ReadType, before anyone looks at the new types, because ReadType may
// have damaged array types shared with older ones.
func (t *Types) fixNew(typ godwarf.Type) error {
	stack := []godwarf.Type{typ}
	for len(stack) > 0 {
		typ := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if typ == nil || t.visited[typ] {
			continue
		}
		t.visited[typ] = true
		switch tt := typ.(type) {
		case *godwarf.StructType:
			if needsFix(tt) {
				if err := t.fixStruct(tt); err != nil {
					return err
				}
			}
			for _, f := range tt.Field {
				stack = append(stack, f.Type)
			}
		case *godwarf.TypedefType:
			stack = append(stack, tt.Type)
		case *godwarf.QualType:
			stack = append(stack, tt.Type)
		case *godwarf.PtrType:
			stack = append(stack, tt.Type)
		case *godwarf.ArrayType:
			stack = append(stack, tt.Type)
		case *godwarf.FuncType:
			stack = append(stack, tt.ReturnType)
			stack = append(stack, tt.ParamType...)
		}
	}
	return nil
}

func needsFix(st *godwarf.StructType) bool {
	for _, f := range st.Field {
		if f.BitSize > 0 {
			return true
		}
		if at, ok := f.Type.(*godwarf.ArrayType); ok && at.Count == 0 {
			return true
		}
	}
	return false
}

// Lookup finds a type by its C name: "task_struct" (struct, union, typedef,
// enum or base type, in that order), "struct task_struct", "union
// thread_union", "enum zone_stat_item", "unsigned long", and any of these
// followed by "*" for a pointer to it. Structs resolve to a complete
// definition when one exists.
func (t *Types) Lookup(name string) (godwarf.Type, error) {
	name = strings.TrimSpace(name)
	t.mu.Lock()
	typ, ok := t.named[name]
	t.mu.Unlock()
	if ok {
		return typ, nil
	}
	typ, err := t.lookup(name)
	if err != nil {
		// A module's type (not kept in named: mod -d takes it away).
		for _, mt := range t.moduleTypeList() {
			if typ, merr := mt.Lookup(name); merr == nil {
				return typ, nil
			}
		}
		return nil, err
	}
	t.mu.Lock()
	t.named[name] = typ
	t.mu.Unlock()
	return typ, nil
}

// SetModuleTypes makes a module's types known after t's own to Lookup
// (and so Member, SizeOf, Offset) and Enumerator, as gdb knows a module's
// types once its symbol file is loaded: mt from its object file's DWARF
// (object, crash's mod -s) or from its BTF. Object files' types come
// before BTF's. A nil mt takes that module's types of that source away.
// A name the kernel has is the kernel's: a module's type of the same name
// is found only by the module's own Types.
func (t *Types) SetModuleTypes(module string, object bool, mt *Types) {
	t.modMu.Lock()
	defer t.modMu.Unlock()
	mods := t.modules[:0:0]
	for _, m := range t.modules {
		if m.module != module || m.object != object {
			mods = append(mods, m)
		}
	}
	if mt != nil {
		mods = append(mods, moduleTypes{module: module, object: object, t: mt})
	}
	// Object files first, then BTF; each in the order added.
	sort.SliceStable(mods, func(i, j int) bool { return mods[i].object && !mods[j].object })
	t.modules = mods
}

// moduleTypeList is a copy of the modules' Types, in lookup order.
func (t *Types) moduleTypeList() []*Types {
	t.modMu.Lock()
	defer t.modMu.Unlock()
	out := make([]*Types, len(t.modules))
	for i, m := range t.modules {
		out[i] = m.t
	}
	return out
}

// ModuleOf is the module whose types (SetModuleTypes) the type name is
// found in, or "" for the kernel's own or an unknown one.
func (t *Types) ModuleOf(name string) string {
	if _, err := t.lookupOwn(name); err == nil {
		return ""
	}
	t.modMu.Lock()
	mods := append([]moduleTypes(nil), t.modules...)
	t.modMu.Unlock()
	for _, m := range mods {
		if _, err := m.t.Lookup(name); err == nil {
			return m.module
		}
	}
	return ""
}

// lookupOwn is Lookup without the modules' types.
func (t *Types) lookupOwn(name string) (godwarf.Type, error) {
	name = strings.TrimSpace(name)
	t.mu.Lock()
	typ, ok := t.named[name]
	t.mu.Unlock()
	if ok {
		return typ, nil
	}
	return t.lookup(name)
}

func (t *Types) lookup(name string) (godwarf.Type, error) {
	if base, ok := strings.CutSuffix(name, "*"); ok {
		elem, err := t.Lookup(base)
		if err != nil {
			return nil, err
		}
		return &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: elem}, nil
	}
	name = strings.Join(strings.Fields(name), " ")
	kind, bare, _ := strings.Cut(name, " ")
	var ref dieRef
	found := false
	key := name
	switch kind {
	case "struct", "union", "enum":
		key = bare
	}
	err := t.query(name, key, func(x *nameIndex) bool {
		var maps []map[string]dieRef
		switch kind {
		case "struct":
			maps = []map[string]dieRef{x.structs}
		case "union":
			maps = []map[string]dieRef{x.unions}
		case "enum":
			maps = []map[string]dieRef{x.enums}
		default:
			bare = name
			maps = []map[string]dieRef{x.structs, x.unions, x.typedefs, x.enums, x.bases}
		}
		for i, m := range maps {
			if r, ok := m[bare]; ok {
				ref, found = r, true
				// A struct or union definition is final; so is a bare
				// name's first typedef, enum or base type (C keeps tags
				// apart: a later "struct NAME" is not what a bare NAME
				// found as a typedef meant).
				return final(r, ok) || (len(maps) > 1 && i >= 2)
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if !found {
		src := "DWARF"
		if t.btf != nil {
			src = "BTF"
		}
		return nil, fmt.Errorf("no type %q in the kernel's %s", name, src)
	}
	typ, err := t.readType(ref.off)
	return typ, err
}

// VarType returns the declared type of a global variable.
func (t *Types) VarType(name string) (godwarf.Type, error) { return t.varType(name, t.readType) }

// varType is VarType with the type at a DWARF offset decoded by read.
func (t *Types) varType(name string, read func(dwarf.Offset) (godwarf.Type, error)) (godwarf.Type, error) {
	var r dieRef
	ok := false
	strict := false
	// A variable the units scanned so far do not name: its own unit
	// answers (unithint.go).
	if t.cached == nil && t.sec != nil && t.btf == nil {
		if _, err := t.lazyIndex(); err != nil {
			return nil, err
		}
	}
	if t.cached == nil && t.lazy != nil && !t.lazy.has(name) {
		if r, ok := t.hintedVar(name); ok {
			return read(r.off)
		}
	}
	for {
		err := t.query("variable "+name, name, func(x *nameIndex) bool {
			r, ok = x.vars[name]
			// The first declaration found will do: `extern T x;` in a
			// header has the definition's type, and headers are in the
			// first units while the definition may be in the last. Only
			// an array of unknown size (extern char linux_banner[];) needs
			// the sized definition, and so the strict rule of dieRef.
			return final(r, ok) || (!strict && ok)
		})
		if err != nil {
			return nil, err
		}
		if !ok && t.btf != nil && t.btf.base != nil {
			return nil, fmt.Errorf("no variable %q in the module's BTF", name)
		}
		if !ok && t.btf != nil {
			typ, err := t.knownVarType(name)
			if err != nil && t.dwarf != nil {
				return t.dwarf.VarType(name)
			}
			return typ, err
		}
		if !ok {
			return nil, fmt.Errorf("no variable %q in the kernel's DWARF", name)
		}
		typ, err := read(r.off)
		if err == nil && !final(r, ok) && !strict && unsizedArray(typ) {
			strict = true
			continue
		}
		return typ, err
	}
}

// unsizedArray reports whether typ, under qualifiers and typedefs, is an
// array of unknown size (extern const char linux_banner[]).
func unsizedArray(typ godwarf.Type) bool {
	for range 16 {
		switch tt := typ.(type) {
		case *godwarf.QualType:
			typ = tt.Type
		case *godwarf.TypedefType:
			typ = tt.Type
		case *godwarf.ArrayType:
			return tt.Count <= 0
		default:
			return false
		}
	}
	return false
}

// Enumerator returns the value of an enumeration constant such as
// NR_FREE_PAGES.
func (t *Types) Enumerator(name string) (int64, error) {
	var v enumVal
	ok := false
	err := t.query("enumerator "+name, name, func(x *nameIndex) bool {
		v, ok = x.enumerators[name]
		return ok
	})
	if err != nil {
		return 0, err
	}
	if !ok {
		for _, mt := range t.moduleTypeList() {
			if v, merr := mt.Enumerator(name); merr == nil {
				return v, nil
			}
		}
		return 0, fmt.Errorf("no enumerator %q in the kernel's DWARF", name)
	}
	return v.val, nil
}

// resolve strips typedefs and qualifiers and replaces a struct declaration
// by its complete definition.
func (t *Types) resolve(typ godwarf.Type) (godwarf.Type, error) {
	for range 64 {
		switch tt := typ.(type) {
		case *godwarf.TypedefType:
			typ = tt.Type
		case *godwarf.QualType:
			typ = tt.Type
		case *godwarf.StructType:
			return t.complete(tt)
		case nil:
			return nil, fmt.Errorf("missing type")
		default:
			return typ, nil
		}
	}
	return nil, fmt.Errorf("typedef chain of %s too long", typ)
}

// complete returns the full definition for a struct or union declaration
// (the kernel's DWARF has `struct mm_struct;` in compile units that only use
// pointers to it).
func (t *Types) complete(st *godwarf.StructType) (*godwarf.StructType, error) {
	if st.Incomplete && t.btf != nil {
		// A pointer's target not decoded yet (btf.go's stub): that type,
		// not another of its name.
		if id, ok := t.btf.stubOf(st); ok {
			typ, err := t.readType(dwarf.Offset(id))
			if err != nil {
				return nil, err
			}
			full, ok := typ.(*godwarf.StructType)
			if !ok {
				return nil, fmt.Errorf("BTF type %d (%s %s) is a %T", id, st.Kind, st.StructName, typ)
			}
			return full, nil
		}
	}
	if st.Incomplete {
		if st.StructName == "" {
			return nil, fmt.Errorf("anonymous %s declaration has no definition", st.Kind)
		}
		var r dieRef
		ok := false
		err := t.query(st.Kind+" "+st.StructName, st.StructName, func(x *nameIndex) bool {
			m := x.structs
			if st.Kind == "union" {
				m = x.unions
			}
			r, ok = m[st.StructName]
			return final(r, ok)
		})
		if err != nil {
			return nil, err
		}
		if (!ok || r.decl) && t.dwarf != nil {
			return t.dwarf.complete(st)
		}
		if (!ok || r.decl) && t.btf != nil && t.btf.base != nil {
			// A module's declaration of a kernel struct.
			return t.btf.base.complete(st)
		}
		if !ok || r.decl {
			return nil, fmt.Errorf("%s %s is only declared in the kernel's DWARF, never defined", st.Kind, st.StructName)
		}
		typ, err := t.readType(r.off)
		if err != nil {
			return nil, err
		}
		full, ok := typ.(*godwarf.StructType)
		if !ok {
			return nil, fmt.Errorf("%s %s at DWARF offset %#x is a %T", st.Kind, st.StructName, r.off, typ)
		}
		st = full
	}
	return st, nil
}

// fixStruct corrects two things godwarf.ReadType gets wrong for C from a
// modern gcc, by re-reading the struct's member DIEs:
//
//   - DWARF 4/5 bit fields carry DW_AT_data_bit_offset and no
//     DW_AT_data_member_location, which ReadType does not read: every bit
//     field comes back at offset 0. After fixup ByteOffset is the byte holding
//     the field's lowest bit, BitOffset the bit number within that byte
//     (counting from the least significant bit) and BitSize the width. Old
//     DW_AT_bit_offset (counted from the most significant bit of a
//     DW_AT_byte_size storage unit) is converted to the same form.
//   - ReadType treats an array followed by a member at the same offset as a
//     zero-length array and zeroes its count in place; with bit fields
//     misplaced at offset 0 that hits real arrays. Counts are restored
//     from the array's subrange.
//
// The caller holds t.mu.
func (t *Types) fixStruct(st *godwarf.StructType) error {
	d, err := t.dataFor(st.Offset)
	if err != nil {
		return err
	}
	r := d.Reader()
	r.Seek(st.Offset)
	e, err := r.Next()
	if err != nil {
		return fmt.Errorf("%s: re-reading %s at DWARF offset %#x: %w", t.path, st, st.Offset, err)
	}
	if e == nil || !e.Children {
		return nil
	}
	i := 0
	for {
		kid, err := r.Next()
		if err != nil {
			return fmt.Errorf("%s: re-reading members of %s at DWARF offset %#x: %w", t.path, st, st.Offset, err)
		}
		if kid == nil || kid.Tag == 0 {
			return nil
		}
		if kid.Children {
			r.SkipChildren()
		}
		if kid.Tag != dwarf.TagMember {
			continue
		}
		if i >= len(st.Field) {
			return nil
		}
		f := st.Field[i]
		i++
		if dbo, ok := kid.Val(dwarf.AttrDataBitOffset).(int64); ok {
			f.ByteOffset, f.BitOffset = dbo/8, dbo%8
		} else if f.BitSize > 0 {
			if bo, ok := kid.Val(dwarf.AttrBitOffset).(int64); ok {
				unit := f.ByteSize
				if unit == 0 {
					unit = f.Type.Size()
				}
				dbo := f.ByteOffset*8 + unit*8 - bo - f.BitSize
				f.ByteOffset, f.BitOffset = dbo/8, dbo%8
			}
		}
		if at, ok := f.Type.(*godwarf.ArrayType); ok && at.Count == 0 {
			t.restoreCount(at)
		}
	}
}

// restoreCount re-reads an array type's dimensions from its DIE.
func (t *Types) restoreCount(at *godwarf.ArrayType) {
	d, err := t.dataFor(at.Offset)
	if err != nil {
		return
	}
	r := d.Reader()
	r.Seek(at.Offset)
	e, err := r.Next()
	if err != nil || e == nil || e.Tag != dwarf.TagArrayType || !e.Children {
		return
	}
	dim := at
	for {
		kid, err := r.Next()
		if err != nil || kid == nil || kid.Tag == 0 {
			return
		}
		if kid.Tag != dwarf.TagSubrangeType {
			continue
		}
		count, ok := kid.Val(dwarf.AttrCount).(int64)
		if !ok {
			if ub, ok := kid.Val(dwarf.AttrUpperBound).(int64); ok {
				count = ub + 1
			} else {
				count = -1
			}
		}
		if dim == nil {
			return
		}
		dim.Count = count
		dim, _ = dim.Type.(*godwarf.ArrayType)
	}
}
