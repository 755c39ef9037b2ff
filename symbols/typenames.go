package symbols

import (
	"debug/dwarf"
	"sort"
)

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

// A NamedType is one named type definition of the debuginfo: a struct,
// union or enum tag, a base type or a typedef, the first definition of
// its name (the one Lookup finds).
type NamedType struct {
	Name string
	Kind string // "struct", "union", "enum", "base", "typedef"; "var": a variable, Off its type
	Off  dwarf.Offset
}

// NamedTypes lists every named type definition (declarations left out),
// and the type of every variable (kind "var"), sorted by name then kind: whatis -r and -m search them. It reads the
// whole name index (a second or two on a distribution vmlinux the first
// time, without an index cache).
func (t *Types) NamedTypes() ([]NamedType, error) {
	kinds := []struct {
		kind string
		tab  int
		m    func(x *nameIndex) map[string]dieRef
	}{
		{"struct", tabStruct, func(x *nameIndex) map[string]dieRef { return x.structs }},
		{"union", tabUnion, func(x *nameIndex) map[string]dieRef { return x.unions }},
		{"enum", tabEnum, func(x *nameIndex) map[string]dieRef { return x.enums }},
		{"base", tabBase, func(x *nameIndex) map[string]dieRef { return x.bases }},
		{"typedef", tabTypedef, func(x *nameIndex) map[string]dieRef { return x.typedefs }},
		{"var", tabVar, func(x *nameIndex) map[string]dieRef { return x.vars }},
	}
	var out []NamedType
	if c := t.cached; c != nil {
		for _, k := range kinds {
			for _, n := range c.tableNames(k.tab) {
				if r, ok := k.m(c.names(n))[n]; ok && !r.decl {
					out = append(out, NamedType{n, k.kind, r.off})
				}
			}
		}
	} else {
		idx, err := t.index()
		if err != nil {
			return nil, err
		}
		for _, k := range kinds {
			for n, r := range k.m(idx) {
				if !r.decl && n != "" {
					out = append(out, NamedType{n, k.kind, r.off})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Kind < out[j].Kind
	})
	return out, nil
}

// CompletionNames are the names of the given kinds ("struct", "union",
// "typedef") sorted and unique, for the shell's completion, found without
// reading all of .debug_info where that can be helped: the index cache's
// tables when the vmlinux has one; else, when the vmlinux has .BTF, the name
// index of its BTF layouts (Layouts, which the session's walkers build
// anyway: ~15 ms on the test bed's 6.1 vmlinux where the DWARF name index
// takes ~0.5 s, and a second or two on a distribution kernel); else the
// DWARF name index (TypeNames). pahole's BTF has every struct and union the
// DWARF index has, and a few more (types defined inside a function, such
// as 6.1's struct bts_record, which gdb's global lookup does not find).
func (t *Types) CompletionNames(kinds ...string) []string {
	var out []string
	tabs := map[string]int{"struct": tabStruct, "union": tabUnion, "typedef": tabTypedef}
	maps := map[string]func(x *nameIndex) map[string]dieRef{
		"struct":  func(x *nameIndex) map[string]dieRef { return x.structs },
		"union":   func(x *nameIndex) map[string]dieRef { return x.unions },
		"typedef": func(x *nameIndex) map[string]dieRef { return x.typedefs },
	}
	if c := t.cached; c != nil {
		for _, k := range kinds {
			if tab, ok := tabs[k]; ok {
				out = append(out, c.tableNames(tab)...)
			}
		}
		return uniqueSorted(out)
	}
	src := t
	if t.btf == nil {
		if l := t.Layouts(); l != nil && l.btf != nil {
			src = l
		}
	}
	idx, err := src.index()
	if err != nil {
		return nil
	}
	for _, k := range kinds {
		if m, ok := maps[k]; ok {
			for n := range m(idx) {
				out = append(out, n)
			}
		}
	}
	return uniqueSorted(out)
}
