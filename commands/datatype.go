package commands

import (
	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// datatypeCommand is crash's is_datatype_command: a command word that is no
// command but a symbol or a data type becomes the command that shows it.
// A symbol alone is printed ("jiffies" is "p jiffies"); a struct or union
// name is the struct or union command ("task_struct.pid ADDR"), or whatis
// when it is a typedef of one given alone; an enum, pointer, array or
// function type is whatis; an integer type alone is whatis, with a symbol
// after it p SYMBOL, with anything else rd of its width.
func (s *Session) datatypeCommand(args []string) ([]string, bool) {
	if len(args) == 0 || s == nil || s.Kernel == nil || s.Vmlinux == nil {
		return nil, false
	}
	word := args[0]
	_, isSym := s.Vmlinux.Lookup(word)
	if isSym && len(args) == 1 {
		return append([]string{"p"}, args...), true
	}
	s.loadModuleTypes()
	if word == "enum" {
		return append([]string{"whatis"}, args...), true
	}
	t, err := s.Types()
	if err != nil {
		return nil, false
	}
	name := word
	if i := indexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	if name == "" {
		return nil, false
	}
	if dt, err := lookupDatatype(t, name); err == nil {
		if isSym {
			return append([]string{"p"}, args...), true
		}
		if dt.typedef && len(args) == 1 {
			return append([]string{"whatis"}, args...), true
		}
		return append([]string{dt.kind}, args...), true
	}
	typ, err := t.Lookup(name)
	if err != nil {
		return nil, false
	}
	rt, err := t.Resolve(typ)
	if err != nil {
		return nil, false
	}
	switch rt.(type) {
	case *godwarf.PtrType, *godwarf.ArrayType, *godwarf.FuncType, *godwarf.EnumType:
		return append([]string{"whatis"}, args...), true
	case *godwarf.IntType, *godwarf.UintType, *godwarf.CharType, *godwarf.UcharType, *godwarf.BoolType:
		if len(args) == 1 {
			return append([]string{"whatis"}, args...), true
		}
		if _, ok := s.Vmlinux.Lookup(args[1]); ok {
			return append([]string{"p"}, args[1:]...), true
		}
		width := map[int64]string{8: "-64", 4: "-32", 2: "-16", 1: "-8"}[rt.Common().ByteSize]
		if width == "" {
			return nil, false
		}
		return append([]string{"rd", width}, args[1:]...), true
	}
	return nil, false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
