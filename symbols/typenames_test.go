package symbols

import (
	"sort"
	"testing"
)

// TestTypeNames: the kernel's struct and union names for completion
// (pahole -C task_struct / gdb "ptype union __sifields" on the committed
// vmlinux name them), sorted, each once.
func TestTypeNames(t *testing.T) {
	_, ty := openReal(t)
	has := func(list []string, n string) bool {
		i := sort.SearchStrings(list, n)
		return i < len(list) && list[i] == n
	}
	structs, err := ty.TypeNames("struct")
	if err != nil {
		t.Fatal(err)
	}
	unions, _ := ty.TypeNames("union")
	both, _ := ty.TypeNames("")
	if !sort.StringsAreSorted(structs) || !sort.StringsAreSorted(both) {
		t.Error("names not sorted")
	}
	for i := 1; i < len(both); i++ {
		if both[i] == both[i-1] {
			t.Errorf("%q twice", both[i])
		}
	}
	if !has(structs, "task_struct") || has(structs, "__sifields") || !has(unions, "__sifields") || has(unions, "task_struct") {
		t.Errorf("task_struct in structs: %v, __sifields in unions: %v", has(structs, "task_struct"), has(unions, "__sifields"))
	}
	if !has(both, "task_struct") || !has(both, "__sifields") {
		t.Error("both kinds lack a name")
	}
}

// TestCompletionNamesWithoutTheDWARFIndex: without an index cache the
// shell's completion names come from the vmlinux's .BTF (the committed 6.1
// and 6.12 kernels have one), and reading them builds neither the DWARF
// name index nor the lazy one past what opening did; they include every
// struct and union name the DWARF index has (pahole made the BTF from that
// DWARF) and the typedefs (pid_t, gdb's "whatis pid_t" on the vmlinux).
func TestCompletionNamesWithoutTheDWARFIndex(t *testing.T) {
	t.Setenv("GOCRASH_CACHE", "off")
	_, ty := openReal(t)
	if ty.cached != nil {
		t.Fatal("an index cache with GOCRASH_CACHE=off")
	}
	names := ty.CompletionNames("struct", "union")
	typedefs := ty.CompletionNames("typedef")
	if ty.idx != nil {
		t.Error("CompletionNames built the full DWARF name index")
	}
	if ty.lazy != nil && ty.lazy.next >= len(ty.lazy.units) {
		t.Error("CompletionNames scanned every unit")
	}
	if !sort.StringsAreSorted(names) || !sort.StringsAreSorted(typedefs) {
		t.Error("names not sorted")
	}
	has := func(list []string, n string) bool {
		i := sort.SearchStrings(list, n)
		return i < len(list) && list[i] == n
	}
	if !has(typedefs, "pid_t") || has(names, "pid_t") {
		t.Errorf("pid_t in typedefs: %v, in structs and unions: %v", has(typedefs, "pid_t"), has(names, "pid_t"))
	}
	dwarfNames, err := ty.TypeNames("")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range dwarfNames {
		if !has(names, n) {
			t.Errorf("DWARF's %q not offered", n)
		}
	}
	if len(names) < len(dwarfNames) || len(dwarfNames) < 3000 {
		t.Errorf("%d names offered, DWARF has %d", len(names), len(dwarfNames))
	}
}
