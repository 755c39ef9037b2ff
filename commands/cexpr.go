package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// A small C expression evaluator for p and whatis: gdb's C grammar as far
// as a post-mortem needs it — kernel variables and functions, numbers and
// characters, the value history ($, $N, $$, $$N), member access (. and ->),
// indexing, the unary operators (* & - + ! ~), sizeof, casts to any type
// the kernel's DWARF names (with * for pointers), the binary operators of C
// with gdb's integer promotions, ?: and gdb's @ (artificial arrays).

// exprEnv is what an expression reads: types, symbols, memory, history.
type exprEnv struct {
	t       *symbols.Types
	vm      *symbols.Vmlinux
	mem     symbols.Memory
	history []cval
	// noRead makes every memory read fail (p -u of a kernel address).
	noRead bool
	// mods are the module objects mod -s loaded: their variables are
	// known after vmlinux's, as gdb's add-symbol-file makes them.
	mods []*symbols.ModuleObject
	// modSym is a module symbol's address from the modules' kallsyms
	// (nil: none), for a module function typed by its BTF.
	modSym func(name string) (uint64, bool)
	// typeOnly reads zeroes instead of memory: ptype wants only the
	// expression's type, as gdb's EVAL_AVOID_SIDE_EFFECTS, so a pointer
	// into nowhere still has its target type.
	typeOnly bool
}

// cval is a value: an lvalue at addr, or an rvalue in data.
type cval struct {
	typ             godwarf.Type
	lval            bool
	addr            uint64
	data            []byte
	bitOff, bitSize int64
	// optimizedOut is a variable the compiler kept no storage for (a
	// module's DWARF variable without a symbol): it has a type, no value.
	optimizedOut bool
}

// exprError is gdb's error text for an expression it refuses.
type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func errorf(format string, a ...any) error { return &exprError{fmt.Sprintf(format, a...)} }

// --- tokens

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tChar
	tIdent
	tHist
	tPunct
	tString
)

type token struct {
	kind tokKind
	s    string
	num  uint64
	// for numbers: the literal's C type
	unsigned, long bool
	hex            bool
}

var puncts = []string{"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--",
	"+", "-", "*", "/", "%", "<", ">", "&", "|", "^", "!", "~", "(", ")", "[", "]", ".", ",", "?", ":", "@", "="}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c >= '0' && c <= '9':
			j := i
			base := 10
			if c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
				base = 16
				j += 2
			} else if c == '0' {
				base = 8
			}
			k := j
			for k < len(s) && (isAlnum(s[k])) {
				k++
			}
			lit := s[j:k]
			suffix := ""
			for len(lit) > 0 && strings.ContainsRune("uUlL", rune(lit[len(lit)-1])) {
				suffix = lit[len(lit)-1:] + suffix
				lit = lit[:len(lit)-1]
			}
			if base == 8 && lit == "" {
				lit = "0"
			}
			n, err := strconv.ParseUint(lit, base, 64)
			if err != nil {
				return nil, errorf("Invalid number \"%s\".", s[i:k])
			}
			su := strings.ToLower(suffix)
			out = append(out, token{kind: tNum, s: s[i:k], num: n, unsigned: strings.Contains(su, "u"), long: strings.Contains(su, "l"), hex: base != 10})
			i = k
		case c == '\'':
			// a character literal, or gdb's quoted symbol name
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errorf("Unmatched single quote.")
			}
			body := s[i+1 : i+1+j]
			if v, ok := charLiteral(body); ok {
				out = append(out, token{kind: tChar, num: v, s: s[i : i+2+j]})
			} else {
				out = append(out, token{kind: tIdent, s: body})
			}
			i += j + 2
		case c == '"':
			return nil, errorf("evaluation of this expression requires the target program to be active")
		case c == '$':
			j := i + 1
			for j < len(s) && (s[j] == '$' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			if j < len(s) && isIdentStart(s[j]) && j == i+1 {
				for j < len(s) && isAlnum(s[j]) {
					j++
				}
			}
			out = append(out, token{kind: tHist, s: s[i:j]})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(s) && isAlnum(s[j]) {
				j++
			}
			out = append(out, token{kind: tIdent, s: s[i:j]})
			i = j
		default:
			found := false
			for _, p := range puncts {
				if strings.HasPrefix(s[i:], p) {
					out = append(out, token{kind: tPunct, s: p})
					i += len(p)
					found = true
					break
				}
			}
			if !found {
				return nil, errorf("Invalid character '%c' in expression.", c)
			}
		}
	}
	return append(out, token{kind: tEOF}), nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool      { return isIdentStart(c) || c >= '0' && c <= '9' }

func charLiteral(b string) (uint64, bool) {
	if len(b) == 1 {
		return uint64(b[0]), true
	}
	if len(b) >= 2 && b[0] == '\\' {
		switch b[1:] {
		case "n":
			return '\n', true
		case "t":
			return '\t', true
		case "r":
			return '\r', true
		case "a":
			return 7, true
		case "b":
			return 8, true
		case "f":
			return 12, true
		case "v":
			return 11, true
		case "\\":
			return '\\', true
		case "'":
			return '\'', true
		case "\"":
			return '"', true
		}
		if n, err := strconv.ParseUint(b[1:], 8, 8); err == nil {
			return n, true
		}
		if b[1] == 'x' {
			if n, err := strconv.ParseUint(b[2:], 16, 8); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

// --- parser and evaluator (one pass: values are lazy, so sizeof and & read
// nothing)

type parser struct {
	env  *exprEnv
	toks []token
	pos  int
	// depth bounds recursion on hostile input.
	depth int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}
func (p *parser) isPunct(s string) bool { t := p.peek(); return t.kind == tPunct && t.s == s }
func (p *parser) accept(s string) bool {
	if p.isPunct(s) {
		p.next()
		return true
	}
	return false
}

// evalExpr parses and evaluates a whole expression.
func (env *exprEnv) eval(expr string) (cval, error) {
	toks, err := lex(expr)
	if err != nil {
		return cval{}, err
	}
	p := &parser{env: env, toks: toks}
	v, err := p.comma()
	if err != nil {
		return cval{}, err
	}
	if p.peek().kind != tEOF {
		return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
	}
	return v, nil
}

func (p *parser) rest() string {
	var parts []string
	for _, t := range p.toks[p.pos:] {
		if t.kind == tEOF {
			break
		}
		parts = append(parts, t.s)
	}
	return strings.Join(parts, " ")
}

func (p *parser) comma() (cval, error) {
	v, err := p.assign()
	for err == nil && p.accept(",") {
		v, err = p.assign()
	}
	return v, err
}

func (p *parser) assign() (cval, error) {
	v, err := p.cond()
	if err != nil {
		return v, err
	}
	if p.isPunct("=") {
		return cval{}, errorf("cannot assign in a dump: the kernel is not running")
	}
	return v, nil
}

func (p *parser) cond() (cval, error) {
	c, err := p.binary(0)
	if err != nil || !p.accept("?") {
		return c, err
	}
	a, err := p.comma()
	if err != nil {
		return a, err
	}
	if !p.accept(":") {
		return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
	}
	b, err := p.cond()
	if err != nil {
		return b, err
	}
	t, err := p.env.truth(c)
	if err != nil {
		return cval{}, err
	}
	if t {
		return a, nil
	}
	return b, nil
}

var binPrec = map[string]int{
	"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
	"<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "@": 9,
	"+": 10, "-": 10, "*": 11, "/": 11, "%": 11,
}

func (p *parser) binary(min int) (cval, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 200 {
		return cval{}, errorf("expression nested too deeply")
	}
	l, err := p.unary()
	if err != nil {
		return l, err
	}
	for {
		t := p.peek()
		prec, ok := binPrec[t.s]
		if t.kind != tPunct || !ok || prec <= min {
			return l, nil
		}
		p.next()
		r, err := p.binary(prec)
		if err != nil {
			return r, err
		}
		if l, err = p.env.binop(t.s, l, r); err != nil {
			return l, err
		}
	}
}

func (p *parser) unary() (cval, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 200 {
		return cval{}, errorf("expression nested too deeply")
	}
	t := p.peek()
	if t.kind == tPunct {
		switch t.s {
		case "*", "&", "-", "+", "!", "~":
			p.next()
			v, err := p.unary()
			if err != nil {
				return v, err
			}
			return p.env.unop(t.s, v)
		case "++", "--":
			return cval{}, errorf("cannot assign in a dump: the kernel is not running")
		case "(":
			// a cast?
			save := p.pos
			p.next()
			if typ, ok, err := p.typeName(); err != nil {
				return cval{}, err
			} else if ok {
				if !p.accept(")") {
					return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
				}
				v, err := p.unary()
				if err != nil {
					return v, err
				}
				return p.env.cast(typ, v)
			}
			p.pos = save
		}
	}
	if t.kind == tIdent && t.s == "sizeof" {
		p.next()
		var typ godwarf.Type
		if p.isPunct("(") {
			save := p.pos
			p.next()
			tt, ok, err := p.typeName()
			if err != nil {
				return cval{}, err
			}
			if ok && p.accept(")") {
				typ = tt
			} else {
				p.pos = save
			}
		}
		if typ == nil {
			v, err := p.unary()
			if err != nil {
				return v, err
			}
			typ = v.typ
		}
		n, err := p.env.size(typ)
		if err != nil {
			return cval{}, err
		}
		return p.env.intValue(n, false, 4), nil
	}
	return p.postfix()
}

func (p *parser) postfix() (cval, error) {
	v, err := p.primary()
	if err != nil {
		return v, err
	}
	for {
		switch {
		case p.accept("."):
			id := p.next()
			if id.kind != tIdent {
				return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
			}
			if v, err = p.env.member(v, id.s); err != nil {
				return v, err
			}
		case p.accept("->"):
			id := p.next()
			if id.kind != tIdent {
				return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
			}
			rt := p.env.resolve(v.typ)
			if _, ok := rt.(*godwarf.PtrType); !ok {
				if _, isStruct := rt.(*godwarf.StructType); !isStruct {
					return cval{}, errorf("The -> operator must be applied to a pointer or structure value.")
				}
			} else if v, err = p.env.unop("*", v); err != nil {
				return v, err
			}
			if v, err = p.env.member(v, id.s); err != nil {
				return v, err
			}
		case p.accept("["):
			i, err := p.comma()
			if err != nil {
				return i, err
			}
			if !p.accept("]") {
				return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
			}
			if v, err = p.env.index(v, i); err != nil {
				return v, err
			}
		case p.isPunct("("):
			return cval{}, errorf("You can't do that without a process to debug.")
		default:
			return v, nil
		}
	}
}

func (p *parser) primary() (cval, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return p.env.literal(t), nil
	case tChar:
		ct, _ := p.env.baseType("char")
		return cval{typ: ct, data: []byte{byte(t.num)}}, nil
	case tHist:
		return p.env.historyValue(t.s)
	case tIdent:
		return p.env.variable(t.s)
	case tPunct:
		if t.s == "(" {
			v, err := p.comma()
			if err != nil {
				return v, err
			}
			if !p.accept(")") {
				return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
			}
			return v, nil
		}
	case tEOF:
		return cval{}, errorf("A syntax error in expression, near `'.")
	}
	p.pos--
	return cval{}, errorf("A syntax error in expression, near `%s'.", p.rest())
}

// typeName parses a type name at the cursor (for casts and sizeof): struct,
// union and enum tags, C base type keywords, typedef names, qualifiers, then
// '*'s. ok is false, with the cursor unmoved, when no type name is there.
func (p *parser) typeName() (godwarf.Type, bool, error) {
	start := p.pos
	var quals []string
	var words []string
	var typ godwarf.Type
	for {
		t := p.peek()
		if t.kind != tIdent {
			break
		}
		switch t.s {
		case "const", "volatile":
			quals = append(quals, t.s)
			p.next()
			continue
		case "struct", "union", "enum":
			p.next()
			tag := p.next()
			if tag.kind != tIdent {
				return nil, false, errorf("A syntax error in expression, near `%s'.", p.rest())
			}
			tt, err := p.env.t.Lookup(t.s + " " + tag.s)
			if err != nil {
				return nil, false, errorf("No %s type named %s.", t.s, tag.s)
			}
			typ = tt
		case "unsigned", "signed", "int", "long", "short", "char", "_Bool", "void":
			words = append(words, t.s)
			p.next()
			continue
		default:
			if len(words) > 0 || typ != nil {
				break
			}
			if _, isVar := p.env.vm.Lookup(t.s); isVar {
				break
			}
			tt, err := p.env.t.Lookup(t.s)
			if err != nil {
				break
			}
			if _, ok := tt.(*godwarf.TypedefType); !ok {
				if _, ok := tt.(*godwarf.StructType); ok {
					break // a struct tag needs "struct"
				}
				if _, ok := tt.(*godwarf.EnumType); ok {
					break
				}
			}
			typ = tt
			p.next()
		}
		break
	}
	if typ == nil && len(words) > 0 {
		bt, err := p.env.baseType(strings.Join(words, " "))
		if err != nil {
			return nil, false, err
		}
		typ = bt
	}
	if typ == nil {
		p.pos = start
		return nil, false, nil
	}
	for i := len(quals) - 1; i >= 0; i-- {
		typ = &godwarf.QualType{Qual: quals[i], Type: typ}
	}
	for p.accept("*") {
		typ = &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: typ}
		for p.peek().kind == tIdent && (p.peek().s == "const" || p.peek().s == "volatile") {
			typ = &godwarf.QualType{Qual: p.next().s, Type: typ}
		}
	}
	return typ, true, nil
}

// --- values

func (env *exprEnv) resolve(typ godwarf.Type) godwarf.Type {
	if typ == nil {
		return nil
	}
	if rt, err := env.t.Resolve(typ); err == nil {
		return rt
	}
	return typ
}

func (env *exprEnv) size(typ godwarf.Type) (int64, error) {
	n, err := env.t.Size(typ)
	if err != nil {
		return 0, errorf("%v", err)
	}
	return n, nil
}

// baseType is a C base type by its C spelling ("unsigned long"): the
// kernel's DWARF one when it has it, else made up with the x86_64 size.
func (env *exprEnv) baseType(c string) (godwarf.Type, error) {
	dw := map[string]string{
		"unsigned long": "long unsigned int", "unsigned long int": "long unsigned int", "long unsigned int": "long unsigned int",
		"long": "long int", "long int": "long int", "signed long": "long int",
		"unsigned": "unsigned int", "unsigned int": "unsigned int", "int": "int", "signed": "int", "signed int": "int",
		"short": "short int", "short int": "short int", "unsigned short": "short unsigned int", "short unsigned int": "short unsigned int",
		"long long": "long long int", "long long int": "long long int", "unsigned long long": "long long unsigned int",
		"long long unsigned int": "long long unsigned int",
		"char":                   "char", "signed char": "signed char", "unsigned char": "unsigned char", "_Bool": "_Bool", "void": "void",
	}[c]
	if dw == "" {
		return nil, errorf("A syntax error in expression, near `%s'.", c)
	}
	if dw == "void" {
		return &godwarf.VoidType{}, nil
	}
	if t, err := env.t.Lookup(dw); err == nil {
		return t, nil
	}
	size := map[string]int64{"long unsigned int": 8, "long int": 8, "unsigned int": 4, "int": 4, "short int": 2,
		"short unsigned int": 2, "long long int": 8, "long long unsigned int": 8, "char": 1, "signed char": 1,
		"unsigned char": 1, "_Bool": 1}[dw]
	bt := godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: size, Name: dw}}
	switch {
	case dw == "_Bool":
		return &godwarf.BoolType{BasicType: bt}, nil
	case dw == "char" || dw == "signed char":
		return &godwarf.CharType{BasicType: bt}, nil
	case dw == "unsigned char":
		return &godwarf.UcharType{BasicType: bt}, nil
	case strings.Contains(dw, "unsigned"):
		return &godwarf.UintType{BasicType: bt}, nil
	}
	return &godwarf.IntType{BasicType: bt}, nil
}

// intValue is an rvalue of a builtin integer type of size bytes.
func (env *exprEnv) intValue(v int64, unsigned bool, size int) cval {
	name := map[[2]int]string{{4, 0}: "int", {4, 1}: "unsigned int", {8, 0}: "long", {8, 1}: "unsigned long"}[[2]int{size, b2i(unsigned)}]
	typ, _ := env.baseType(name)
	data := make([]byte, 8)
	binary.LittleEndian.PutUint64(data, uint64(v))
	return cval{typ: typ, data: data[:size]}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// literal types an integer literal as gdb's C parser does: int when it fits
// 31 bits... more precisely: with 32 bits it is int, or unsigned int when
// its top bit is set (whatever its base); else long or unsigned long.
func (env *exprEnv) literal(t token) cval {
	n := t.num
	if !t.long && n>>32 == 0 {
		uns := t.unsigned || n&(1<<31) != 0
		return env.intValue(int64(n), uns, 4)
	}
	uns := t.unsigned || n&(1<<63) != 0
	return env.intValue(int64(n), uns, 8)
}

func (env *exprEnv) historyValue(s string) (cval, error) {
	h := env.history
	idx := -1
	switch {
	case s == "$":
		idx = len(h) - 1
	case s == "$$":
		idx = len(h) - 2
	case strings.HasPrefix(s, "$$"):
		n, err := strconv.Atoi(s[2:])
		if err != nil {
			return cval{}, errorf("History has not yet reached %s.", s)
		}
		idx = len(h) - 1 - n
	default:
		n, err := strconv.Atoi(s[1:])
		if err != nil {
			// a convenience variable: void until set
			return cval{typ: &godwarf.VoidType{}}, nil
		}
		if n <= 0 || n > len(h) {
			return cval{}, errorf("History has not yet reached $%d.", n)
		}
		idx = n - 1
	}
	if len(h) == 0 && (s == "$" || s == "$$") {
		return cval{typ: &godwarf.VoidType{}}, nil
	}
	if idx < 0 || idx >= len(h) {
		return cval{}, errorf("History has not yet reached %s.", s)
	}
	return h[idx], nil
}

// variable is a kernel variable or function by name.
func (env *exprEnv) variable(name string) (cval, error) {
	addr, ok := env.vm.Lookup(name)
	if typ, err := env.t.ValueVarType(name); err == nil && ok {
		return cval{typ: typ, lval: true, addr: addr}, nil
	}
	if !ok {
		if v, err := env.t.Enumerator(name); err == nil {
			return env.intValue(v, false, 4), nil
		}
		if v, ok := env.moduleVariable(name); ok {
			return v, nil
		}
		return cval{}, errorf("No symbol \"%s\" in current context.", name)
	}
	if ft, err := env.t.FuncType(addr, env.vm.KASLR(), name); err == nil {
		return cval{typ: ft, lval: true, addr: addr}, nil
	}
	return cval{}, errorf("'%s' has unknown type; cast it to its declared type", name)
}

// moduleVariable is a variable of a module whose object mod -s loaded: its
// loaded address from the object's symbols, its type from the object's
// DWARF.
func (env *exprEnv) moduleVariable(name string) (cval, bool) {
	for _, o := range env.mods {
		t := o.Types()
		if t == nil {
			continue
		}
		typ, err := t.DeclaredVarType(name)
		if err != nil {
			// A function of the module: its type from the object's
			// DWARF, found by name.
			if sym, ok := o.Lookup(name); ok {
				if ft, err := t.FuncType(sym.Addr, 0, name); err == nil {
					return cval{typ: ft, lval: true, addr: sym.Addr}, true
				}
			}
			continue
		}
		if _, ok := o.Lookup(name); !ok {
			// In the DWARF without a symbol: gdb knows its type (whatis,
			// ptype), not a value.
			return cval{typ: typ, lval: true, optimizedOut: true}, true
		}
		// where gdb has it: crash may not have told gdb where its
		// section is (ModuleObject.PlaceLikeCrash)
		addr, _ := o.GDBAddr(name)
		return cval{typ: typ, lval: true, addr: addr}, true
	}
	// Without the vmlinux: a module function's type from the module's
	// BTF, at its kallsyms address.
	if env.modSym != nil {
		if addr, ok := env.modSym(name); ok {
			if ft, err := env.t.ModuleFuncType(name); err == nil {
				return cval{typ: ft, lval: true, addr: addr}, true
			}
		}
	}
	return cval{}, false
}

// bytes returns the value's bytes, reading an lvalue.
func (env *exprEnv) bytes(v cval) ([]byte, error) {
	if !v.lval {
		return v.data, nil
	}
	if v.optimizedOut && !env.typeOnly {
		return nil, errorf("value has been optimized out")
	}
	n, err := env.size(v.typ)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > 64<<20 {
		return nil, errorf("value of type %s too large to read (%d bytes)", symbols.TypeName(v.typ), n)
	}
	if v.bitSize > 0 {
		n = (v.bitOff + v.bitSize + 7) / 8
	}
	b := make([]byte, n)
	if env.typeOnly {
		return b, nil
	}
	if env.noRead {
		return nil, errorf("Cannot access memory at address %#x", v.addr)
	}
	if err := env.mem.ReadVirt(b, v.addr); err != nil {
		return nil, errorf("Cannot access memory at address %#x", v.addr)
	}
	return b, nil
}

// scalar reads an integer-like or pointer value: its bits and whether its
// type is signed.
func (env *exprEnv) scalar(v cval) (uint64, bool, error) {
	rt := env.resolve(v.typ)
	switch rt.(type) {
	case *godwarf.ArrayType:
		// arrays decay to a pointer to their first element
		if v.lval {
			return v.addr, false, nil
		}
		return 0, false, errorf("Attempt to take address of value not located in memory.")
	case *godwarf.FuncType:
		return v.addr, false, nil
	case *godwarf.StructType:
		return 0, false, errorf("Argument to arithmetic operation not a number or boolean.")
	case *godwarf.VoidType, nil:
		return 0, false, errorf("Argument to arithmetic operation not a number or boolean.")
	}
	b, err := env.bytes(v)
	if err != nil {
		return 0, false, err
	}
	var raw [16]byte
	copy(raw[:], b)
	signed := false
	switch tt := rt.(type) {
	case *godwarf.IntType, *godwarf.CharType:
		signed = true
	case *godwarf.EnumType:
		signed = false
		for _, e := range tt.Val {
			if e.Val < 0 {
				signed = true
			}
		}
	}
	size := rt.Common().ByteSize
	if v.bitSize > 0 {
		lo := binary.LittleEndian.Uint64(raw[:])
		hi := binary.LittleEndian.Uint64(raw[8:])
		x := lo >> uint(v.bitOff)
		if v.bitOff > 0 {
			x |= hi << uint(64-v.bitOff)
		}
		if v.bitSize < 64 {
			x &= 1<<uint(v.bitSize) - 1
			if signed && x&(1<<uint(v.bitSize-1)) != 0 {
				x |= ^uint64(0) << uint(v.bitSize)
			}
		}
		return x, signed, nil
	}
	x := binary.LittleEndian.Uint64(raw[:])
	if size > 0 && size < 8 {
		x &= 1<<uint(size*8) - 1
		if signed && x&(1<<uint(size*8-1)) != 0 {
			x |= ^uint64(0) << uint(size*8)
		}
	}
	return x, signed, nil
}

func (env *exprEnv) truth(v cval) (bool, error) {
	x, _, err := env.scalar(v)
	return x != 0, err
}

func (env *exprEnv) isPtr(v cval) (*godwarf.PtrType, bool) {
	pt, ok := env.resolve(v.typ).(*godwarf.PtrType)
	return pt, ok
}

// ptrTo makes a pointer type to typ.
func ptrTo(typ godwarf.Type) *godwarf.PtrType {
	return &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: typ}
}

func (env *exprEnv) pointerValue(typ godwarf.Type, addr uint64) cval {
	data := make([]byte, 8)
	binary.LittleEndian.PutUint64(data, addr)
	return cval{typ: typ, data: data}
}

// decay turns an array into a pointer to its first element and a function
// into a pointer to it (C's conversions of an operand).
func (env *exprEnv) decay(v cval) cval {
	switch tt := env.resolve(v.typ).(type) {
	case *godwarf.ArrayType:
		if v.lval {
			return env.pointerValue(ptrTo(tt.Type), v.addr)
		}
	case *godwarf.FuncType:
		return env.pointerValue(ptrTo(v.typ), v.addr)
	}
	return v
}

func (env *exprEnv) unop(op string, v cval) (cval, error) {
	switch op {
	case "&":
		if !v.lval {
			return cval{}, errorf("Attempt to take address of value not located in memory.")
		}
		if v.bitSize > 0 {
			return cval{}, errorf("Attempt to take address of value not located in memory.")
		}
		return env.pointerValue(ptrTo(v.typ), v.addr), nil
	case "*":
		v = env.decay(v)
		pt, ok := env.isPtr(v)
		if !ok {
			rt := env.resolve(v.typ)
			switch rt.(type) {
			case *godwarf.IntType, *godwarf.UintType:
				// gdb: *INT reads a long at that address
				x, _, err := env.scalar(v)
				if err != nil {
					return cval{}, err
				}
				lt, _ := env.baseType("long")
				return cval{typ: lt, lval: true, addr: x}, nil
			}
			return cval{}, errorf("Attempt to take contents of a non-pointer value.")
		}
		x, _, err := env.scalar(v)
		if err != nil {
			return cval{}, err
		}
		if _, void := env.resolve(pt.Type).(*godwarf.VoidType); void || pt.Type == nil {
			return cval{}, errorf("Attempt to take contents of a non-pointer value.")
		}
		return cval{typ: pt.Type, lval: true, addr: x}, nil
	case "+", "-", "~":
		x, signed, err := env.scalar(v)
		if err != nil {
			return cval{}, err
		}
		size, uns := env.promote1(v.typ, signed)
		switch op {
		case "-":
			x = -x
		case "~":
			x = ^x
		}
		return env.intValue(int64(x), uns, size), nil
	case "!":
		t, err := env.truth(env.decay(v))
		if err != nil {
			return cval{}, err
		}
		return env.intValue(int64(b2i(!t)), false, 4), nil
	}
	return cval{}, errorf("unsupported operator %s", op)
}

// promote1 is C's integer promotion of one operand: its size after
// promotion and whether it is unsigned.
func (env *exprEnv) promote1(typ godwarf.Type, signed bool) (int, bool) {
	rt := env.resolve(typ)
	n := int(rt.Common().ByteSize)
	if n < 4 {
		return 4, false
	}
	if n > 8 {
		n = 8
	}
	return n, !signed
}

func (env *exprEnv) binop(op string, l, r cval) (cval, error) {
	if op == "@" {
		return env.artificialArray(l, r)
	}
	if op == "&&" || op == "||" {
		a, err := env.truth(env.decay(l))
		if err != nil {
			return cval{}, err
		}
		b, err := env.truth(env.decay(r))
		if err != nil {
			return cval{}, err
		}
		res := a && b
		if op == "||" {
			res = a || b
		}
		return env.intValue(int64(b2i(res)), false, 4), nil
	}
	l, r = env.decay(l), env.decay(r)
	lp, lIsPtr := env.isPtr(l)
	rp, rIsPtr := env.isPtr(r)
	lx, ls, err := env.scalar(l)
	if err != nil {
		return cval{}, err
	}
	rx, rs, err := env.scalar(r)
	if err != nil {
		return cval{}, err
	}
	if lIsPtr || rIsPtr {
		switch op {
		case "+", "-":
			if lIsPtr && rIsPtr {
				if op == "+" {
					return cval{}, errorf("Argument to arithmetic operation not a number or boolean.")
				}
				es := env.elemSize(lp)
				d := int64(lx - rx)
				if es > 0 {
					d /= es
				}
				return env.intValue(d, false, 8), nil
			}
			if rIsPtr {
				if op == "-" {
					return cval{}, errorf("Argument to arithmetic operation not a number or boolean.")
				}
				lx, rx, lp = rx, lx, rp
				l = r
			}
			es := env.elemSize(lp)
			if op == "-" {
				rx = -rx
			}
			return env.pointerValue(l.typ, lx+rx*uint64(es)), nil
		case "==", "!=", "<", ">", "<=", ">=":
			return env.intValue(int64(b2i(compare(op, lx, rx, false))), false, 4), nil
		}
	}
	size, uns := env.promote2(l.typ, ls, r.typ, rs)
	mask := ^uint64(0)
	if size == 4 {
		mask = 0xffffffff
	}
	sx := func(x uint64) int64 {
		if size == 4 {
			return int64(int32(uint32(x)))
		}
		return int64(x)
	}
	var res uint64
	switch op {
	case "+":
		res = lx + rx
	case "-":
		res = lx - rx
	case "*":
		res = lx * rx
	case "/", "%":
		if rx&mask == 0 && env.typeOnly {
			rx = 1 // ptype: the type of x/0 is the type of x/1
		} else if rx&mask == 0 {
			return cval{}, errorf("Division by zero")
		}
		if uns {
			a, b := lx&mask, rx&mask
			if op == "/" {
				res = a / b
			} else {
				res = a % b
			}
		} else {
			a, b := sx(lx), sx(rx)
			if b == -1 {
				if op == "/" {
					res = uint64(-a)
				} else {
					res = 0
				}
			} else if op == "/" {
				res = uint64(a / b)
			} else {
				res = uint64(a % b)
			}
		}
	case "<<":
		res = lx << (rx & 63)
	case ">>":
		if uns {
			res = (lx & mask) >> (rx & 63)
		} else {
			res = uint64(sx(lx) >> (rx & 63))
		}
	case "&":
		res = lx & rx
	case "|":
		res = lx | rx
	case "^":
		res = lx ^ rx
	case "==", "!=", "<", ">", "<=", ">=":
		var c bool
		if uns {
			c = compare(op, lx&mask, rx&mask, false)
		} else {
			c = compareSigned(op, sx(lx), sx(rx))
		}
		return env.intValue(int64(b2i(c)), false, 4), nil
	default:
		return cval{}, errorf("unsupported operator %s", op)
	}
	return env.intValue(int64(res), uns, size), nil
}

func compare(op string, a, b uint64, _ bool) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case ">":
		return a > b
	case "<=":
		return a <= b
	}
	return a >= b
}

func compareSigned(op string, a, b int64) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case ">":
		return a > b
	case "<=":
		return a <= b
	}
	return a >= b
}

// promote2 is gdb's binop_promote for two C integers: each promoted to at
// least int, the longer one's signedness wins, unsigned when of equal
// length and either is.
func (env *exprEnv) promote2(lt godwarf.Type, ls bool, rt godwarf.Type, rs bool) (int, bool) {
	l1, u1 := env.promote1(lt, ls)
	l2, u2 := env.promote1(rt, rs)
	switch {
	case l1 > l2:
		return l1, u1
	case l2 > l1:
		return l2, u2
	}
	return l1, u1 || u2
}

func (env *exprEnv) elemSize(pt *godwarf.PtrType) int64 {
	rt := env.resolve(pt.Type)
	switch rt.(type) {
	case *godwarf.VoidType, *godwarf.FuncType, nil:
		return 1
	}
	n, err := env.t.Size(pt.Type)
	if err != nil || n <= 0 {
		return 1
	}
	return n
}

func (env *exprEnv) artificialArray(l, r cval) (cval, error) {
	if !l.lval {
		return cval{}, errorf("Only values in memory can be extended with '@'.")
	}
	n, _, err := env.scalar(r)
	if err != nil {
		return cval{}, err
	}
	if int64(n) <= 0 {
		return cval{}, errorf("Non-positive repeat count.")
	}
	if n > 1<<20 {
		return cval{}, errorf("repeat count %d too large", n)
	}
	return cval{typ: &godwarf.ArrayType{Type: l.typ, Count: int64(n)}, lval: true, addr: l.addr}, nil
}

func (env *exprEnv) member(v cval, name string) (cval, error) {
	st, ok := env.resolve(v.typ).(*godwarf.StructType)
	if !ok {
		return cval{}, errorf("Attempt to extract a component of a value that is not a structure.")
	}
	f, off, found := findMember(env, st, name, 0)
	if !found {
		return cval{}, errorf("There is no member named %s.", name)
	}
	out := cval{typ: f.Type, lval: v.lval, addr: v.addr + uint64(off), optimizedOut: v.optimizedOut}
	if f.BitSize > 0 {
		out.bitOff, out.bitSize = f.BitOffset, f.BitSize
	}
	if !v.lval {
		sz, _ := env.t.Size(f.Type)
		if f.BitSize > 0 {
			sz = (f.BitOffset + f.BitSize + 7) / 8
		}
		if off < 0 || off+sz > int64(len(v.data)) {
			return cval{}, errorf("value too short for member %s", name)
		}
		out.data = v.data[off : off+sz]
	}
	return out, nil
}

// findMember looks name up in st and, as C does, inside its anonymous
// members.
func findMember(env *exprEnv, st *godwarf.StructType, name string, depth int) (*godwarf.StructField, int64, bool) {
	if depth > 32 {
		return nil, 0, false
	}
	for _, f := range st.Field {
		if f.Name == name {
			return f, f.ByteOffset, true
		}
	}
	for _, f := range st.Field {
		if f.Name != "" {
			continue
		}
		if in, ok := env.resolve(f.Type).(*godwarf.StructType); ok {
			if g, off, ok := findMember(env, in, name, depth+1); ok {
				return g, f.ByteOffset + off, true
			}
		}
	}
	return nil, 0, false
}

func (env *exprEnv) index(v, i cval) (cval, error) {
	ix, is, err := env.scalar(i)
	if err != nil {
		return cval{}, err
	}
	idx := int64(ix)
	if !is {
		idx = int64(ix)
	}
	if at, ok := env.resolve(v.typ).(*godwarf.ArrayType); ok {
		es, err := env.size(at.Type)
		if err != nil {
			return cval{}, err
		}
		if v.lval {
			return cval{typ: at.Type, lval: true, addr: v.addr + uint64(idx*es), optimizedOut: v.optimizedOut}, nil
		}
		if idx < 0 || (idx+1)*es > int64(len(v.data)) {
			return cval{}, errorf("no such vector element")
		}
		return cval{typ: at.Type, data: v.data[idx*es : (idx+1)*es]}, nil
	}
	if pt, ok := env.isPtr(v); ok {
		x, _, err := env.scalar(v)
		if err != nil {
			return cval{}, err
		}
		return cval{typ: pt.Type, lval: true, addr: x + uint64(idx*env.elemSize(pt))}, nil
	}
	return cval{}, errorf("cannot subscript something of type `%s'", symbols.TypeName(v.typ))
}

func (env *exprEnv) cast(typ godwarf.Type, v cval) (cval, error) {
	rt := env.resolve(typ)
	switch tt := rt.(type) {
	case *godwarf.StructType:
		if v.lval && env.resolve(v.typ) == rt {
			return v, nil
		}
		return cval{}, errorf("Invalid cast.")
	case *godwarf.ArrayType:
		if v.lval {
			return cval{typ: typ, lval: true, addr: v.addr}, nil
		}
		return cval{}, errorf("Invalid cast.")
	case *godwarf.VoidType:
		return cval{typ: typ}, nil
	case *godwarf.PtrType:
		v = env.decay(v)
		x, _, err := env.scalar(v)
		if err != nil {
			return cval{}, err
		}
		return env.pointerValue(typ, x), nil
	default:
		v = env.decay(v)
		x, _, err := env.scalar(v)
		if err != nil {
			return cval{}, err
		}
		n := tt.Common().ByteSize
		if n <= 0 || n > 8 {
			return cval{}, errorf("Invalid cast.")
		}
		data := make([]byte, 8)
		binary.LittleEndian.PutUint64(data, x)
		if _, ok := rt.(*godwarf.BoolType); ok {
			data = []byte{byte(b2i(x != 0))}
			return cval{typ: typ, data: data}, nil
		}
		return cval{typ: typ, data: data[:n]}, nil
	}
}

var errNoValue = errors.New("no value")
