package symbols

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// openCached writes the index cache of the real vmlinux into a fresh cache
// directory and returns the vmlinux opened without a cache and with it.
func openCached(t *testing.T) (plain, cached *Vmlinux, dir, path string) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv("GOCRASH_CACHE", dir)
	p := realVmlinux(t)
	plain, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	if plain.IndexCached() {
		t.Fatal("a fresh cache directory has a cache")
	}
	path, err = WriteIndexCache(plain)
	if err != nil {
		t.Fatal(err)
	}
	cached, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cached.Close() })
	if !cached.IndexCached() {
		t.Fatalf("%s was just written and is not used", path)
	}
	return plain, cached, dir, path
}

// TestRealIndexCacheMatches: with the cache, every symbol name, the address
// order and every DWARF name give what the vmlinux itself gives, at KASLR
// offset 0 and at the test bed's.
func TestRealIndexCacheMatches(t *testing.T) {
	plain, cached, _, _ := openCached(t)
	for _, kaslr := range []uint64{0x2a00000, 0} {
		plain.SetKASLR(kaslr)
		cached.SetKASLR(kaslr)
		want := plain.Symbols()
		// Names first, while the cached table is not decoded: these
		// answers come from the cache alone.
		seen := map[string]bool{}
		for _, s := range want {
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			w, wok := plain.LookupSymbol(s.Name)
			g, gok := cached.LookupSymbol(s.Name)
			if w != g || wok != gok {
				t.Fatalf("KASLR %#x: LookupSymbol(%q) = %+v, %v with the cache; %+v, %v without", kaslr, s.Name, g, gok, w, wok)
			}
		}
		if _, ok := cached.LookupSymbol("no_such_symbol_anywhere"); ok {
			t.Error("a name the kernel lacks was found in the cache")
		}
		if got := cached.Symbols(); !slices.Equal(got, want) {
			t.Fatalf("KASLR %#x: Symbols() differs with the cache (%d symbols, %d without)", kaslr, len(got), len(want))
		}
		for _, a := range []uint64{want[len(want)/2].Addr + 1, want[len(want)/3].Addr} {
			w, _, _ := plain.Symbolize(a)
			g, _, _ := cached.Symbolize(a)
			if w != g {
				t.Errorf("Symbolize(%#x) = %s with the cache, %s without", a, g, w)
			}
		}
	}

	pt, err := plain.Types()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := cached.Types()
	if err != nil {
		t.Fatal(err)
	}
	if ct.cached == nil || ct.lazy != nil {
		t.Fatal("Types of the cached vmlinux does not answer from the cache")
	}
	full, err := fastIndex(*pt.sec)
	if err != nil {
		t.Fatal(err)
	}
	units, err := parseUnits(pt.sec.info)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ct.cached.units, units) {
		t.Error("the cached unit headers differ from .debug_info's")
	}
	for _, m := range []struct {
		kind string
		full map[string]dieRef
		get  func(x *nameIndex) map[string]dieRef
	}{
		{"struct", full.structs, func(x *nameIndex) map[string]dieRef { return x.structs }},
		{"union", full.unions, func(x *nameIndex) map[string]dieRef { return x.unions }},
		{"enum", full.enums, func(x *nameIndex) map[string]dieRef { return x.enums }},
		{"typedef", full.typedefs, func(x *nameIndex) map[string]dieRef { return x.typedefs }},
		{"base", full.bases, func(x *nameIndex) map[string]dieRef { return x.bases }},
		{"variable", full.vars, func(x *nameIndex) map[string]dieRef { return x.vars }},
	} {
		for name, want := range m.full {
			got, ok := m.get(ct.cached.names(name))[name]
			if !ok || got != want {
				t.Errorf("%s %s: cache %+v (found %v), index %+v", m.kind, name, got, ok, want)
			}
		}
	}
	for name, want := range full.varDefs {
		if got, ok := ct.cached.names(name).varDefs[name]; !ok || got != want {
			t.Errorf("definition of %s: cache %+v, index %+v", name, got, want)
		}
	}
	for name, want := range full.enumerators {
		if got, ok := ct.cached.names(name).enumerators[name]; !ok || got != want {
			t.Errorf("enumerator %s: cache %+v, index %+v", name, got, want)
		}
	}
	// What commands ask, end to end.
	for _, name := range []string{"struct task_struct", "struct rq", "pid_t", "unsigned long", "union thread_union"} {
		w, werr := pt.Lookup(name)
		g, gerr := ct.Lookup(name)
		if (werr == nil) != (gerr == nil) || werr == nil && w.String() != g.String() {
			t.Errorf("Lookup(%q) = %v, %v with the cache; %v, %v without", name, g, gerr, w, werr)
		}
	}
	wn, _ := pt.TypeNames("")
	gn, _ := ct.TypeNames("")
	if !slices.Equal(wn, gn) {
		t.Errorf("TypeNames: %d names with the cache, %d without", len(gn), len(wn))
	}
}

// TestRealIndexCacheDamaged: a cache file that is truncated, garbage,
// flipped, of another version or of another file is not used, the answers
// are the vmlinux's own, and writing the cache again replaces it.
func TestRealIndexCacheDamaged(t *testing.T) {
	plain, _, _, path := openCached(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	withCRC := func(b []byte) []byte {
		le.PutUint32(b[12:], crc32.Checksum(b[headerSize:], castagnoli))
		return b
	}
	mod := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":          {},
		"header only":    good[:headerSize],
		"truncated":      good[:len(good)/2],
		"one byte short": good[:len(good)-1],
		"garbage":        []byte("this is not an index cache, but it is long enough to have a header of the right size, or nearly so: " + string(make([]byte, headerSize))),
		"flipped byte":   mod(func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }),
		"other version":  mod(func(b []byte) []byte { le.PutUint32(b[8:], cacheVersion+1); return b }),
		"other size":     mod(func(b []byte) []byte { le.PutUint64(b[16:], le.Uint64(b[16:])+1); return b }),
		"other build id": mod(func(b []byte) []byte { b[32] ^= 1; return b }),
		"other sections": mod(func(b []byte) []byte { le.PutUint32(b[24:], le.Uint32(b[24:])+1); return b }),
		"other producer": mod(func(b []byte) []byte { le.PutUint32(b[44+maxBuildID:], producer+1); return b }),
		"table outside":  mod(func(b []byte) []byte { le.PutUint64(b[hdrFixed+16*tabVar+8:], 1<<40); return withCRC(b) }),
		"DIE past the end": mod(func(b []byte) []byte {
			le.PutUint64(b[le.Uint64(b[hdrFixed+16*tabStruct:])+8:], 1<<50)
			return withCRC(b)
		}),
		"symbol past the end": mod(func(b []byte) []byte {
			le.PutUint32(b[le.Uint64(b[hdrFixed+16*tabSymCands:]):], 0xfffffff)
			return withCRC(b)
		}),
		"unit gap": mod(func(b []byte) []byte {
			off := le.Uint64(b[hdrFixed+16*tabUnits:])
			le.PutUint64(b[off+40:], le.Uint64(b[off+40:])+1)
			return withCRC(b)
		}),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			v, err := Open(plain.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			ty, err := v.Types()
			if err != nil {
				t.Fatal(err)
			}
			if ty.cached != nil && name != "symbol past the end" {
				t.Errorf("the damaged cache answers DWARF names")
			}
			for _, sym := range []string{"init_task", "jiffies", "runqueues"} {
				w, _ := plain.LookupSymbol(sym)
				if g, ok := v.LookupSymbol(sym); !ok || g != w {
					t.Errorf("LookupSymbol(%s) = %+v, %v; want %+v", sym, g, ok, w)
				}
			}
			if _, err := ty.Lookup("struct task_struct"); err != nil {
				t.Error(err)
			}
			if _, err := WriteIndexCache(v); err != nil {
				t.Fatal(err)
			}
			v2, err := Open(plain.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer v2.Close()
			if !v2.IndexCached() {
				t.Error("the rewritten cache is not used")
			}
		})
	}
}

// TestRealIndexCacheConcurrent: writers racing each other and readers
// opening meanwhile: every reader gets a whole cache or none, and the file
// left is valid. (cmd/gocrash's TestIndexCacheTwoSessions does the same
// with two processes.)
func TestRealIndexCacheConcurrent(t *testing.T) {
	plain, _, dir, path := openCached(t)
	os.Remove(path)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := Open(plain.Path())
			if err != nil {
				t.Error(err)
				return
			}
			defer v.Close()
			// Another writer holding the lock is fine.
			v.writeIndexCache(dir)
		}()
	}
	for range 20 {
		v, err := Open(plain.Path())
		if err != nil {
			t.Fatal(err)
		}
		w, _ := plain.LookupSymbol("init_task")
		if g, ok := v.LookupSymbol("init_task"); !ok || g != w {
			t.Errorf("during the writes: LookupSymbol(init_task) = %+v, %v (cached %v)", g, ok, v.IndexCached())
		}
		v.Close()
	}
	wg.Wait()
	v, err := Open(plain.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if !v.IndexCached() {
		t.Error("no valid cache after the writers finished")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// FuzzIndexCache: whatever bytes the cache file holds, opening and asking
// it never panics. The checksum is made to match, so that mutations reach
// the record checks. Seeded with the real vmlinux's cache.
func FuzzIndexCache(f *testing.F) {
	p := realVmlinux(f)
	v, err := Open(p)
	if err != nil {
		f.Fatal(err)
	}
	defer v.Close()
	key, ok := v.cacheKey()
	if !ok {
		f.Fatal("no cache key")
	}
	b, err := v.encodeIndexCache(key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, true)
	f.Add(b[:headerSize+64], true)
	f.Add([]byte(cacheMagic), false)
	_, sec, err := v.dwarfData()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC && len(b) >= headerSize {
			binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[headerSize:], castagnoli))
		}
		c, err := parseIndexCache(b, key)
		if err != nil {
			return
		}
		if c.checkDWARF(uint64(len(sec.info))) {
			for _, name := range []string{"task_struct", "jiffies", "pid_t", "TASK_RUNNING", ""} {
				c.names(name)
			}
			c.tableNames(tabStruct)
		}
		if c.checkSyms(v) {
			for _, name := range []string{"init_task", "jiffies", "zzz", ""} {
				c.lookupSym(v, name)
			}
		}
		c.symOrder(c.nsyms)
	})
}
