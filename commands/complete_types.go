package commands

import (
	"sort"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// CompleteDatatype completes the word after struct, union, p or whatis (the
// shell's completer calls it): "task_s" gives the struct and union names that
// start with it, "task_struct.pi" the member names of
// task_struct that do ("task_struct.pid", "task_struct.pid_links", ...),
// after the last comma of a member list too.
func (s *Session) CompleteDatatype(word string) []string {
	t, err := s.Types()
	if err != nil {
		return nil
	}
	name, members, hasDot := strings.Cut(word, ".")
	if !hasDot {
		var out []string
		names, err := t.TypeNames("")
		if err != nil {
			return nil
		}
		for _, n := range names {
			if strings.HasPrefix(n, word) {
				out = append(out, n)
			}
		}
		sort.Strings(out)
		return dedup(out)
	}
	dt, err := lookupDatatype(t, name)
	if err != nil {
		return nil
	}
	done, last := "", members
	if i := strings.LastIndexByte(members, ','); i >= 0 {
		done, last = members[:i+1], members[i+1:]
	}
	var out []string
	var walk func(st *godwarf.StructType, depth int)
	walk = func(st *godwarf.StructType, depth int) {
		if depth > 16 {
			return
		}
		for _, f := range st.Field {
			if f.Name == "" {
				if in, err := t.Resolve(f.Type); err == nil {
					if ist, ok := in.(*godwarf.StructType); ok {
						walk(ist, depth+1)
					}
				}
				continue
			}
			if strings.HasPrefix(f.Name, last) {
				out = append(out, name+"."+done+f.Name)
			}
		}
	}
	walk(dt.st, 0)
	sort.Strings(out)
	return dedup(out)
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
