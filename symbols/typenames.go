package symbols

import "sort"

// TypeNames are the names of the kernel's struct or union types (kind
// "struct" or "union"; any other kind: both), sorted and unique: the
// shell completes them after struct, union and "*".
func (t *Types) TypeNames(kind string) ([]string, error) {
	if t.dwarf != nil {
		return t.dwarf.TypeNames(kind)
	}
	var out []string
	if c := t.cached; c != nil {
		if kind != "union" {
			out = append(out, c.tableNames(tabStruct)...)
		}
		if kind != "struct" {
			out = append(out, c.tableNames(tabUnion)...)
		}
		return uniqueSorted(out), nil
	}
	idx, err := t.index()
	if err != nil {
		return nil, err
	}
	if kind != "union" {
		for n := range idx.structs {
			out = append(out, n)
		}
	}
	if kind != "struct" {
		for n := range idx.unions {
			out = append(out, n)
		}
	}
	return uniqueSorted(out), nil
}

func uniqueSorted(out []string) []string {
	sort.Strings(out)
	uniq := out[:0]
	for i, n := range out {
		if n != "" && (i == 0 || n != out[i-1]) {
			uniq = append(uniq, n)
		}
	}
	return uniq
}
