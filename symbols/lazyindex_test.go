package symbols

import (
	"debug/dwarf"
	"slices"
	"testing"
)

func fullData(t testing.TB, ty *Types) *dwarf.Data {
	t.Helper()
	d, err := ty.fullData()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRealLazyIndexMatchesFull: every name the full index knows gets the
// same DIE from the lazy index, asked on its own (a fresh lazy index each
// time would be slow: one index answers all, in an order that makes later
// questions find earlier scans done, and a second index asked in reverse
// order makes them scan further).
func TestRealLazyIndexMatchesFull(t *testing.T) {
	_, ty := openReal(t)
	full, err := fastIndex(*ty.sec)
	if err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		l, err := newLazyIndex(*ty.sec)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			kind string
			full map[string]dieRef
			lazy func(x *nameIndex) map[string]dieRef
		}{
			{"struct", full.structs, func(x *nameIndex) map[string]dieRef { return x.structs }},
			{"union", full.unions, func(x *nameIndex) map[string]dieRef { return x.unions }},
			{"enum", full.enums, func(x *nameIndex) map[string]dieRef { return x.enums }},
			{"typedef", full.typedefs, func(x *nameIndex) map[string]dieRef { return x.typedefs }},
			{"base", full.bases, func(x *nameIndex) map[string]dieRef { return x.bases }},
			{"variable", full.vars, func(x *nameIndex) map[string]dieRef { return x.vars }},
		} {
			names := make([]string, 0, len(m.full))
			for name := range m.full {
				names = append(names, name)
			}
			if reverse {
				names = names[len(names)/2:]
			}
			for _, name := range names {
				want := m.full[name]
				var got dieRef
				var ok bool
				if _, err := l.find(name, func(x *nameIndex) bool {
					got, ok = m.lazy(x)[name]
					return final(got, ok)
				}); err != nil {
					t.Fatal(err)
				}
				if !ok || got != want {
					t.Errorf("%s %s: lazy %+v (found %v), full %+v", m.kind, name, got, ok, want)
				}
			}
		}
		for name, want := range full.enumerators {
			var got enumVal
			var ok bool
			l.find(name, func(x *nameIndex) bool { got, ok = x.enumerators[name]; return ok })
			if !ok || got != want {
				t.Errorf("enumerator %s: lazy %+v, full %+v", name, got, want)
			}
		}
	}
}

// TestRealLazyIndexScansAPrefix: the questions a session starts with are
// answered without indexing every unit, and types read through the prefix
// data equal those read through the full data.
func TestRealLazyIndexScansAPrefix(t *testing.T) {
	t.Setenv("GOCRASH_CACHE", "off") // the lazy index itself, not the cache
	_, ty := openReal(t)
	for _, name := range []string{"task_struct", "struct rq", "struct printk_ringbuffer", "pid_t"} {
		if _, err := ty.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ty.VarType("init_uts_ns"); err != nil {
		t.Fatal(err)
	}
	if ty.lazy.next >= len(ty.lazy.units) {
		t.Errorf("scanned all %d units for a few common types", len(ty.lazy.units))
	}
	if ty.prefixUnits == 0 || ty.prefixUnits >= len(ty.lazy.units) {
		t.Errorf("types read through %d of %d units", ty.prefixUnits, len(ty.lazy.units))
	}
	off, err := ty.Offset("task_struct.se.vruntime")
	if err != nil {
		t.Fatal(err)
	}
	// The same member through a Types that has only the full data.
	_, ty2 := openReal(t)
	ty2.prefix, ty2.prefixEnd = fullData(t, ty2), uint64(len(ty2.sec.info))
	off2, err := ty2.Offset("task_struct.se.vruntime")
	if err != nil {
		t.Fatal(err)
	}
	if off != off2 {
		t.Errorf("task_struct.se.vruntime: %d through the prefix, %d through the full data", off, off2)
	}
}

// TestRealUnitHintMatchesFull: every variable a unit hint answers
// (unithint.go) gets the full index's entry, and the hints answer the
// static variables a session starts with.
func TestRealUnitHintMatchesFull(t *testing.T) {
	t.Setenv("GOCRASH_CACHE", "off")
	_, ty := openReal(t)
	if _, err := ty.lazyIndex(); err != nil {
		t.Fatal(err)
	}
	full, err := fastIndex(*ty.sec)
	if err != nil {
		t.Fatal(err)
	}
	// Every tenth name, in order (all of them take a minute here: each
	// hint scans the symbol table and a unit).
	names := make([]string, 0, len(full.vars))
	for name := range full.vars {
		names = append(names, name)
	}
	slices.Sort(names)
	answered, asked := 0, 0
	for i := 0; i < len(names); i += 10 {
		name, want := names[i], full.vars[names[i]]
		asked++
		got, ok := ty.hintedVar(name)
		if !ok {
			continue
		}
		answered++
		if got != want {
			t.Errorf("variable %s: hinted unit %+v, full index %+v", name, got, want)
		}
	}
	if _, ok := ty.hintedVar("shadow_timekeeper"); !ok {
		t.Error("shadow_timekeeper (static in kernel/time/timekeeping.c) is not found through its unit")
	}
	t.Logf("%d of %d variables asked answered by their unit", answered, asked)
}
