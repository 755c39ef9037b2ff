package symbols

import (
	"bytes"
	"debug/dwarf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// The index cache keeps what is expensive to build from a vmlinux and the
// same every time — the DWARF name index over all compile units, the unit
// headers, and the symbol table's name lookup and address order — in one
// file per vmlinux under the user's cache directory, named by the image's
// build id and size:
//
//	$GOCRASH_CACHE (a directory; "off" disables the cache)
//	else $XDG_CACHE_HOME/gocrash, else ~/.cache/gocrash
//	    BUILDID-SIZE.idx
//
// A session that finds it answers names without scanning DWARF or decoding
// the symbol table. A file is used only when everything in it checks out
// (magic, version, the vmlinux's size, build id and section headers, a
// CRC-32C over the contents, every record's bounds); anything else —
// truncated, garbage, another file's — is ignored as if absent, and
// WriteIndexCache replaces it. Writers write a temporary file and rename
// it into place, so readers see a whole file or none, and two writers at
// once both succeed.
//
// Layout (little-endian): a header, then tables at 8-byte aligned offsets
// given in the header's directory.
//
//	header: magic "GOCRIDX\x00", version u32, crc u32 (of all bytes after
//	        the header), vmlinux size u64, CRC-32C of the ELF section
//	        header table u32, build id length u32, build id [64]byte,
//	        .debug_info size u64, symbol count u32 (decoded entries),
//	        producer u32 (see producer), directory [tableCount]{off, len u64}
//	tabStrings      the DWARF names, concatenated
//	tabStruct…Var   {nameOff u32, nameLen u32, ref u64} sorted by name;
//	                ref: DIE offset | decl<<63 | inherited<<62
//	tabVarDef       {nameOff, nameLen u32, die u64, ref u64}
//	tabEnumerator   {nameOff, nameLen u32, value i64, die u64}
//	tabUnits        {off, end, dieOff, abbrevOff u64, version u16,
//	                offsetSize u8, addrSize u8, pad u32}
//	tabSymNames     {.strtab offset u32, first u32, count u32} sorted by name
//	tabSymCands     u32 .symtab indexes of the symbols of each name
//	tabSymOrder     u32 indexes into the decoded table, by address at KASLR 0

// cacheVersion numbers the layout and the meaning of the tables: bump it
// when either changes (a scanner fix that changes which DIE a name gets
// included), so that no cache of the old meaning answers.
const (
	cacheMagic   = "GOCRIDX\x00"
	cacheVersion = 1
	maxBuildID   = 64
)

// producer identifies the gocrash build that writes and reads caches: the
// CRC-32C of its VCS revision (0 when the build has none, as under go
// test). A cache written by another revision is rebuilt, in case its index
// code differed without a cacheVersion bump.
var producer = func() uint32 {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return 0
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return 0
	}
	return crc32.Checksum([]byte(rev+modified), castagnoli)
}()

const (
	tabStrings = iota
	tabStruct
	tabUnion
	tabEnum
	tabTypedef
	tabBase
	tabVar
	tabVarDef
	tabEnumerator
	tabUnits
	tabSymNames
	tabSymCands
	tabSymOrder
	tableCount
)

const (
	hdrFixed   = 8 + 4 + 4 + 8 + 4 + 4 + maxBuildID + 8 + 4 + 4
	headerSize = hdrFixed + tableCount*16
)

var recSize = [tableCount]int{
	tabStrings: 1, tabStruct: 16, tabUnion: 16, tabEnum: 16, tabTypedef: 16, tabBase: 16, tabVar: 16,
	tabVarDef: 24, tabEnumerator: 24, tabUnits: 40, tabSymNames: 12, tabSymCands: 4, tabSymOrder: 4,
}

const (
	refDecl      = 1 << 63
	refInherited = 1 << 62
)

// cacheKey identifies a vmlinux for the cache: its build id (or, without
// one, "nobuildid"), size, and the CRC of its section headers.
type cacheKey struct {
	buildID []byte
	size    uint64
	shdrCRC uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (v *Vmlinux) cacheKey() (cacheKey, bool) {
	k := cacheKey{size: uint64(len(v.data))}
	if v.f == nil || !v.mapped || len(v.data) < 64 {
		return k, false // an image from memory, or bytes of a test
	}
	if id := v.BuildID(); id != "" {
		b, err := hex.DecodeString(id)
		if err != nil || len(b) > maxBuildID {
			return k, false
		}
		k.buildID = b
	}
	// The section header table: a file rewritten under the same build id
	// (objcopy, dwz, strip -g) has other section sizes or offsets.
	le := binary.LittleEndian
	shoff, shentsize, shnum := le.Uint64(v.data[0x28:]), uint64(le.Uint16(v.data[0x3a:])), uint64(le.Uint16(v.data[0x3c:]))
	if shoff > uint64(len(v.data)) || shentsize*shnum > uint64(len(v.data))-shoff {
		return k, false
	}
	k.shdrCRC = crc32.Checksum(v.data[shoff:shoff+shentsize*shnum], castagnoli)
	return k, true
}

// CacheDir is where index caches live: $GOCRASH_CACHE, else the user's cache
// directory's gocrash; "" when the cache is off (GOCRASH_CACHE=off) or no
// cache directory is known.
func CacheDir() string {
	if d := os.Getenv("GOCRASH_CACHE"); d != "" {
		if d == "off" {
			return ""
		}
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "gocrash")
}

// cachePath is the cache file of v in dir.
func (v *Vmlinux) cachePath(dir string) (string, cacheKey, bool) {
	k, ok := v.cacheKey()
	if !ok || dir == "" {
		return "", k, false
	}
	id := "nobuildid"
	if len(k.buildID) > 0 {
		id = hex.EncodeToString(k.buildID)
	}
	return filepath.Join(dir, id+"-"+strconv.FormatUint(k.size, 10)+".idx"), k, true
}

// IndexCachePath is the cache file this vmlinux has or would have; ok is
// false when the cache is off.
func (v *Vmlinux) IndexCachePath() (path string, ok bool) {
	p, _, ok := v.cachePath(CacheDir())
	return p, ok
}

// IndexCached reports whether Open found a valid index cache.
func (v *Vmlinux) IndexCached() bool { return v.cache != nil }

// indexCache is a validated cache file, in memory.
type indexCache struct {
	b       []byte
	mapped  bool // b is a mapping of the file (openIndexCache)
	tabs    [tableCount][]byte
	strs    string // tabStrings, aliasing b
	infoLen uint64
	nsyms   int

	dwarfOnce sync.Once
	dwarfOK   bool
	units     []unitHeader

	symOnce sync.Once
	symOK   bool
}

// openIndexCache reads v's cache file, nil when there is none or it does
// not check out.
func openIndexCache(v *Vmlinux) *indexCache {
	path, key, ok := v.cachePath(CacheDir())
	if !ok {
		return nil
	}
	// Mapped, not read: the pages a session touches cost no heap (and
	// no garbage collection). Writers never change a file in place, they
	// rename a new one over it, so the mapping stays whole.
	b, err := mapFile(path)
	if err != nil {
		return nil
	}
	c, err := parseIndexCache(b, key)
	if err != nil {
		unmapFile(b)
		if os.Getenv("GOCRASH_TRACE_INDEX") != "" {
			fmt.Fprintf(os.Stderr, "gocrash: index cache %s: %v (ignored)\n", path, err)
		}
		return nil
	}
	c.mapped = true
	// The checksum read every page: let them go from the resident set
	// (they stay in the page cache); lookups fault back the few they use.
	c.release()
	return c
}

// parseIndexCache checks a cache file's header, checksum and table bounds
// against key. The records themselves are checked on first use
// (checkDWARF, checkSyms), against the vmlinux they describe.
func parseIndexCache(b []byte, key cacheKey) (*indexCache, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("%d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[:8]) != cacheMagic {
		return nil, fmt.Errorf("bad magic % x", b[:8])
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[8:]); v != cacheVersion {
		return nil, fmt.Errorf("version %d, want %d", v, cacheVersion)
	}
	if got, want := crc32.Checksum(b[headerSize:], castagnoli), le.Uint32(b[12:]); got != want {
		return nil, fmt.Errorf("checksum %#x, header says %#x (truncated or damaged)", got, want)
	}
	if size := le.Uint64(b[16:]); size != key.size {
		return nil, fmt.Errorf("made for a vmlinux of %d bytes, this one has %d", size, key.size)
	}
	if crc := le.Uint32(b[24:]); crc != key.shdrCRC {
		return nil, fmt.Errorf("made for other section headers (%#x, this vmlinux %#x)", crc, key.shdrCRC)
	}
	idLen := le.Uint32(b[28:])
	if idLen > maxBuildID || !bytes.Equal(b[32:32+idLen], key.buildID) {
		return nil, fmt.Errorf("made for another build id")
	}
	if p := le.Uint32(b[44+maxBuildID:]); p != producer {
		return nil, fmt.Errorf("written by another gocrash build (%#x, this one %#x)", p, producer)
	}
	c := &indexCache{b: b}
	c.infoLen = le.Uint64(b[32+maxBuildID:])
	c.nsyms = int(le.Uint32(b[40+maxBuildID:]))
	for i := range tableCount {
		d := b[hdrFixed+16*i:]
		off, n := le.Uint64(d), le.Uint64(d[8:])
		if off < headerSize || off > uint64(len(b)) || n > uint64(len(b))-off {
			return nil, fmt.Errorf("table %d at %#x, %d bytes: outside the file (%d bytes)", i, off, n, len(b))
		}
		if n%uint64(recSize[i]) != 0 {
			return nil, fmt.Errorf("table %d: %d bytes, not a multiple of its %d-byte records", i, n, recSize[i])
		}
		c.tabs[i] = b[off : off+n : off+n]
	}
	if len(c.tabs[tabStrings]) > 0 {
		// b is never written: its strings are compared in place (and
		// copied when they leave: tableNames).
		c.strs = unsafe.String(&c.tabs[tabStrings][0], len(c.tabs[tabStrings]))
	}
	return c, nil
}

// release lets the pages a check read leave the resident set.
func (c *indexCache) release() {
	if c.mapped {
		dontNeed(c.b)
	}
}

// close unmaps the file (Vmlinux.Close): no string of it is held anywhere.
func (c *indexCache) close() {
	if c != nil && c.mapped {
		c.mapped = false
		unmapFile(c.b)
	}
}

// checkDWARF checks the name tables and unit headers against a .debug_info
// of infoLen bytes, once; false means the cache cannot answer for DWARF.
func (c *indexCache) checkDWARF(infoLen uint64) bool {
	c.dwarfOnce.Do(func() {
		if c.infoLen != infoLen {
			return
		}
		le := binary.LittleEndian
		for tab := tabStruct; tab <= tabEnumerator; tab++ {
			t, rs := c.tabs[tab], recSize[tab]
			prev := ""
			for i := 0; i < len(t); i += rs {
				no, nl := uint64(le.Uint32(t[i:])), uint64(le.Uint32(t[i+4:]))
				if no > uint64(len(c.strs)) || nl > uint64(len(c.strs))-no {
					return
				}
				name := c.strs[no : no+nl]
				if i > 0 && name <= prev {
					return // not sorted, or a name twice
				}
				prev = name
				// The DIE offsets each record holds.
				var offs []uint64
				switch tab {
				case tabVarDef:
					offs = []uint64{le.Uint64(t[i+8:]), le.Uint64(t[i+16:]) &^ (refDecl | refInherited)}
				case tabEnumerator:
					offs = []uint64{le.Uint64(t[i+16:])}
				default:
					offs = []uint64{le.Uint64(t[i+8:]) &^ (refDecl | refInherited)}
				}
				for _, o := range offs {
					if o >= infoLen {
						return
					}
				}
			}
		}
		t := c.tabs[tabUnits]
		units := make([]unitHeader, 0, len(t)/40)
		end := uint64(0)
		for i := 0; i < len(t); i += 40 {
			u := unitHeader{off: le.Uint64(t[i:]), end: le.Uint64(t[i+8:]), dieOff: le.Uint64(t[i+16:]),
				abbrevOff: le.Uint64(t[i+24:]), version: int(le.Uint16(t[i+32:])), offsetSize: int(t[i+34]), addrSize: int(t[i+35])}
			if u.off != end || u.dieOff < u.off || u.dieOff > u.end || u.end > infoLen ||
				u.version < 2 || u.version > 5 || (u.offsetSize != 4 && u.offsetSize != 8) {
				return
			}
			end = u.end
			units = append(units, u)
		}
		if end != infoLen {
			return
		}
		c.units, c.dwarfOK = units, true
		c.release()
	})
	return c.dwarfOK
}

// checkSyms checks the symbol tables against v's .symtab, once.
func (c *indexCache) checkSyms(v *Vmlinux) bool {
	c.symOnce.Do(func() {
		le := binary.LittleEndian
		names, cands := c.tabs[tabSymNames], c.tabs[tabSymCands]
		ncand := uint64(len(cands) / 4)
		// Bounds only: the order of the names is the writer's, and a
		// lookup checks the name of every entry it returns.
		for i := 0; i < len(names); i += 12 {
			no, first, n := uint64(le.Uint32(names[i:])), uint64(le.Uint32(names[i+4:])), uint64(le.Uint32(names[i+8:]))
			if no >= uint64(len(v.symtab.str)) || n == 0 || first > ncand || n > ncand-first {
				return
			}
		}
		for i := 0; i < len(cands); i += 4 {
			if j := le.Uint32(cands[i:]); j == 0 || int(j) >= v.symtab.n {
				return
			}
		}
		c.symOK = true
		c.release()
	})
	return c.symOK
}

// lookupSym answers LookupSymbol from the cache: answered is false when the
// cache cannot (its symbol tables did not check out).
func (c *indexCache) lookupSym(v *Vmlinux, name string) (s Symbol, ok, answered bool) {
	if !c.checkSyms(v) {
		return Symbol{}, false, false
	}
	le := binary.LittleEndian
	names := c.tabs[tabSymNames]
	n := len(names) / 12
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(cstrAt(v.symtab.str, uint64(le.Uint32(names[m*12:]))), []byte(name)) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == n || string(cstrAt(v.symtab.str, uint64(le.Uint32(names[lo*12:])))) != name {
		return Symbol{}, false, true
	}
	first, cnt := int(le.Uint32(names[lo*12+4:])), int(le.Uint32(names[lo*12+8:]))
	var best symbol
	have := false
	for k := first; k < first+cnt; k++ {
		sym, ok := v.decodeSym(int(le.Uint32(c.tabs[tabSymCands][4*k:])), "")
		if !ok || sym.name != name {
			return Symbol{}, false, false // the cache does not describe this table
		}
		if !have || v.preferName(&sym, &best) {
			best, have = sym, true
		}
	}
	return v.export(best), true, true
}

// symOrder is the address order at KASLR offset 0 from the cache, nil when
// the cache cannot give it for a table of nsyms symbols.
func (c *indexCache) symOrder(nsyms int) []int32 {
	if c == nil || nsyms != c.nsyms || len(c.tabs[tabSymOrder]) != 4*nsyms {
		return nil
	}
	// Each index once: a permutation of the table.
	le := binary.LittleEndian
	order := make([]int32, nsyms)
	seen := make([]bool, nsyms)
	t := c.tabs[tabSymOrder]
	for i := range order {
		j := le.Uint32(t[4*i:])
		if int(j) >= nsyms || seen[j] {
			return nil
		}
		seen[j] = true
		order[i] = int32(j)
	}
	return order
}

// names answers an index question about key from the cache: a nameIndex
// holding only key's entries, which is all the query callbacks look at.
func (c *indexCache) names(key string) *nameIndex {
	x := &nameIndex{}
	for tab, m := range map[int]*map[string]dieRef{tabStruct: &x.structs, tabUnion: &x.unions, tabEnum: &x.enums,
		tabTypedef: &x.typedefs, tabBase: &x.bases, tabVar: &x.vars} {
		if rec, ok := c.find(tab, key); ok {
			r := binary.LittleEndian.Uint64(rec[8:])
			*m = map[string]dieRef{key: {off: dwarf.Offset(r &^ (refDecl | refInherited)), decl: r&refDecl != 0, inherited: r&refInherited != 0}}
		}
	}
	le := binary.LittleEndian
	if rec, ok := c.find(tabVarDef, key); ok {
		r := le.Uint64(rec[16:])
		x.varDefs = map[string]firstDef{key: {die: dwarf.Offset(le.Uint64(rec[8:])),
			ref: dieRef{off: dwarf.Offset(r &^ (refDecl | refInherited)), decl: r&refDecl != 0, inherited: r&refInherited != 0}}}
	}
	if rec, ok := c.find(tabEnumerator, key); ok {
		x.enumerators = map[string]enumVal{key: {val: int64(le.Uint64(rec[8:])), off: dwarf.Offset(le.Uint64(rec[16:]))}}
	}
	return x
}

// find is the record of name in a name table (binary search).
func (c *indexCache) find(tab int, name string) ([]byte, bool) {
	t, rs := c.tabs[tab], recSize[tab]
	n := len(t) / rs
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.nameAt(t[m*rs:]) < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < n && c.nameAt(t[lo*rs:]) == name {
		return t[lo*rs : (lo+1)*rs], true
	}
	return nil, false
}

func (c *indexCache) nameAt(rec []byte) string {
	le := binary.LittleEndian
	no, nl := le.Uint32(rec), le.Uint32(rec[4:])
	return c.strs[no : no+nl]
}

// tableNames lists the names of a name table, in order.
func (c *indexCache) tableNames(tab int) []string {
	t, rs := c.tabs[tab], recSize[tab]
	out := make([]string, 0, len(t)/rs)
	for i := 0; i < len(t); i += rs {
		out = append(out, strings.Clone(c.nameAt(t[i:])))
	}
	return out
}

// WriteIndexCache builds v's index — every DWARF compile unit and the whole
// symbol table — and writes it to the cache directory, replacing any file
// there. It returns the file's path. It takes a second or two on a
// distribution vmlinux; gocrash runs it in a background process
// (cmd/gocrash --build-index) the first time it meets a vmlinux.
func WriteIndexCache(v *Vmlinux) (string, error) {
	return v.writeIndexCache(CacheDir())
}

func (v *Vmlinux) writeIndexCache(dir string) (string, error) {
	path, key, ok := v.cachePath(dir)
	if !ok {
		return "", errors.New("no index cache: GOCRASH_CACHE=off, no cache directory, or the vmlinux has no readable section headers")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// One builder at a time per file (another process holding the lock
	// is building the same thing); the lock goes with the process.
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return path, fmt.Errorf("%s: another process is building it", path)
	}
	b, err := v.encodeIndexCache(key)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	os.Remove(lock.Name())
	return path, nil
}

// encodeIndexCache builds the cache file's bytes.
func (v *Vmlinux) encodeIndexCache(key cacheKey) ([]byte, error) {
	var tabs [tableCount][]byte
	le := binary.LittleEndian
	var infoLen uint64
	if v.HasDWARF() {
		_, sec, err := v.dwarfData()
		if err != nil {
			return nil, err
		}
		if sec != nil {
			infoLen = uint64(len(sec.info))
			units, err := parseUnits(sec.info)
			if err != nil {
				return nil, err
			}
			x, err := fastIndex(*sec)
			if err != nil {
				return nil, err
			}
			var strs strings.Builder
			offs := map[string]uint32{}
			str := func(s string) (uint32, uint32) {
				o, ok := offs[s]
				if !ok {
					o = uint32(strs.Len())
					offs[s] = o
					strs.WriteString(s)
				}
				return o, uint32(len(s))
			}
			refBits := func(r dieRef) uint64 {
				b := uint64(r.off)
				if r.decl {
					b |= refDecl
				}
				if r.inherited {
					b |= refInherited
				}
				return b
			}
			for tab, m := range map[int]map[string]dieRef{tabStruct: x.structs, tabUnion: x.unions, tabEnum: x.enums,
				tabTypedef: x.typedefs, tabBase: x.bases, tabVar: x.vars} {
				for _, name := range sortedKeys(m) {
					o, n := str(name)
					tabs[tab] = le.AppendUint32(tabs[tab], o)
					tabs[tab] = le.AppendUint32(tabs[tab], n)
					tabs[tab] = le.AppendUint64(tabs[tab], refBits(m[name]))
				}
			}
			for _, name := range sortedKeys(x.varDefs) {
				d := x.varDefs[name]
				o, n := str(name)
				t := le.AppendUint32(tabs[tabVarDef], o)
				t = le.AppendUint32(t, n)
				t = le.AppendUint64(t, uint64(d.die))
				tabs[tabVarDef] = le.AppendUint64(t, refBits(d.ref))
			}
			for _, name := range sortedKeys(x.enumerators) {
				e := x.enumerators[name]
				o, n := str(name)
				t := le.AppendUint32(tabs[tabEnumerator], o)
				t = le.AppendUint32(t, n)
				t = le.AppendUint64(t, uint64(e.val))
				tabs[tabEnumerator] = le.AppendUint64(t, uint64(e.off))
			}
			for _, u := range units {
				t := le.AppendUint64(tabs[tabUnits], u.off)
				t = le.AppendUint64(t, u.end)
				t = le.AppendUint64(t, u.dieOff)
				t = le.AppendUint64(t, u.abbrevOff)
				t = le.AppendUint16(t, uint16(u.version))
				t = append(t, byte(u.offsetSize), byte(u.addrSize))
				tabs[tabUnits] = le.AppendUint32(t, 0)
			}
			tabs[tabStrings] = []byte(strs.String())
		}
	}

	// Symbols: each name's .symtab entries, and the address order at
	// offset 0 (computed on a copy, whatever v's offset).
	syms := v.symbols()
	byName := map[string][]uint32{}
	for i := range syms {
		byName[syms[i].name] = append(byName[syms[i].name], uint32(syms[i].order))
	}
	names := sortedKeys(byName)
	nameOff := map[string]uint32{}
	for i := range syms {
		if _, ok := nameOff[syms[i].name]; !ok {
			nameOff[syms[i].name] = uint32(le.Uint32(v.symtab.data[int(syms[i].order)*symSize:]))
		}
	}
	for _, name := range names {
		t := le.AppendUint32(tabs[tabSymNames], nameOff[name])
		t = le.AppendUint32(t, uint32(len(tabs[tabSymCands])/4))
		tabs[tabSymNames] = le.AppendUint32(t, uint32(len(byName[name])))
		for _, j := range byName[name] {
			tabs[tabSymCands] = le.AppendUint32(tabs[tabSymCands], j)
		}
	}
	z := &Vmlinux{}
	order := make([]int32, len(syms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return z.cmpSym(&syms[a], &syms[b]) })
	for _, j := range order {
		tabs[tabSymOrder] = le.AppendUint32(tabs[tabSymOrder], uint32(j))
	}

	b := make([]byte, headerSize)
	copy(b, cacheMagic)
	le.PutUint32(b[8:], cacheVersion)
	le.PutUint64(b[16:], key.size)
	le.PutUint32(b[24:], key.shdrCRC)
	le.PutUint32(b[28:], uint32(len(key.buildID)))
	copy(b[32:], key.buildID)
	le.PutUint64(b[32+maxBuildID:], infoLen)
	le.PutUint32(b[40+maxBuildID:], uint32(len(syms)))
	le.PutUint32(b[44+maxBuildID:], producer)
	for i, t := range tabs {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		le.PutUint64(b[hdrFixed+16*i:], uint64(len(b)))
		le.PutUint64(b[hdrFixed+16*i+8:], uint64(len(t)))
		b = append(b, t...)
	}
	le.PutUint32(b[12:], crc32.Checksum(b[headerSize:], castagnoli))
	return b, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
