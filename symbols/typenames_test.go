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
