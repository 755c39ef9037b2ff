package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Address arguments follow crash's rules (tools.c hexadecimal(), htoll(),
// stol(), eval_common()), so that what one types into crash types the same
// here:
//
//   - a word made only of hex digits (and 'x') is a hexadecimal address,
//     with or without 0x: "dead" is 0xdead even if a symbol is called so;
//   - otherwise it is a symbol;
//   - "(a OP b)" is one binary operation, OP one of + - & | ^ * / % << >>
//     and # (power); an operand is a symbol or a number, and a number is
//     decimal when it is all digits, else hexadecimal (crash's stol); k, m,
//     g suffixes multiply by 1K, 1M, 1G;
//   - "symbol+off" and "symbol-off" without parentheses are accepted as if
//     they had them (crash says "symbol not found" there: a deliberate
//     extension).
//
// Counts (rd's COUNT) use stol: decimal when all digits, else hexadecimal.

// SymbolLookup resolves a kernel symbol name to its relocated address.
type SymbolLookup func(name string) (uint64, bool)

// SymbolNotFoundError is an address argument that is neither a number nor a
// known symbol.
type SymbolNotFoundError struct{ Name string }

func (e *SymbolNotFoundError) Error() string { return "symbol not found: " + e.Name }

// isHexWord is crash's hexadecimal(s, 0): hex digits, 'x' or 'X', at least
// one digit.
func isHexWord(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			digits++
		case c == 'x' || c == 'X':
		default:
			return false
		}
	}
	return digits > 0
}

// isDecWord is crash's decimal(s, 0).
func isDecWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseHex is crash's htoll: an optional 0x prefix, then at most 16 hex
// digits; 'x', 'X' and 'h' inside are skipped.
func parseHex(s string) (uint64, error) {
	t := s
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		t = t[2:]
	}
	if len(t) > 16 {
		return 0, fmt.Errorf("input string too large: \"%s\" (%d vs 16)", t, len(t))
	}
	var n uint64
	for i := 0; i < len(t); i++ {
		c := t[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		case c == 'x' || c == 'X' || c == 'h':
			continue
		default:
			return 0, fmt.Errorf("invalid input: \"%s\"", t)
		}
		n = n<<4 | d
	}
	return n, nil
}

// ParseNumber is crash's stol: decimal when all digits, else hexadecimal.
func ParseNumber(s string) (uint64, error) {
	switch {
	case isDecWord(s):
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("not a valid number: %s", s)
		}
		return n, nil
	case isHexWord(s):
		return parseHex(s)
	}
	return 0, fmt.Errorf("not a valid number: %s", s)
}

// EvalAddress turns an address argument into an address (rules above).
func EvalAddress(expr string, lookup SymbolLookup) (uint64, error) {
	if expr == "" {
		return 0, fmt.Errorf("empty address")
	}
	if expr[0] == '(' {
		return evalParen(expr, lookup)
	}
	if isHexWord(expr) {
		return parseHex(expr)
	}
	if lookup != nil {
		if a, ok := lookup(expr); ok {
			return a, nil
		}
	}
	// The extension: sym+off / sym-off.
	if i := strings.IndexAny(expr, "+-"); i > 0 && i < len(expr)-1 {
		if v, err := evalParen("("+expr+")", lookup); err == nil {
			return v, nil
		}
	}
	return 0, &SymbolNotFoundError{Name: expr}
}

// evalParen is crash's eval_common for "(a OP b)" or "(a)".
func evalParen(s string, lookup SymbolLookup) (uint64, error) {
	bad := fmt.Errorf("invalid expression: %s", s)
	if s[0] != '(' || s[len(s)-1] != ')' || strings.IndexByte(s, ')') != len(s)-1 {
		return 0, bad
	}
	work := s[1 : len(s)-1]
	if strings.ContainsAny(work, "()") {
		return 0, bad
	}
	if strings.HasPrefix(work, "-") {
		work = "0" + work
	}
	i := strings.IndexAny(work, "#><+-&|*/%^")
	if i < 0 {
		v, ok := calcOperand(strings.TrimSpace(work), lookup)
		if !ok {
			return 0, bad
		}
		return v, nil
	}
	op := work[i]
	left, right := work[:i], work[i+1:]
	if op == '<' || op == '>' {
		if i+1 >= len(work) || work[i+1] != op {
			return 0, bad
		}
		right = work[i+2:]
	}
	left, right = strings.TrimSpace(left), strings.TrimSpace(right)
	if left == "" || right == "" {
		return 0, bad
	}
	a, ok1 := calcOperand(left, lookup)
	b, ok2 := calcOperand(right, lookup)
	if !ok1 || !ok2 {
		return 0, bad
	}
	switch op {
	case '+':
		return a + b, nil
	case '-':
		return a - b, nil
	case '&':
		return a & b, nil
	case '|':
		return a | b, nil
	case '^':
		return a ^ b, nil
	case '*':
		return a * b, nil
	case '/', '%':
		if b == 0 {
			return 0, fmt.Errorf("division by zero: %s", s)
		}
		if op == '/' {
			return a / b, nil
		}
		return a % b, nil
	case '<':
		return a << (b & 63), nil
	case '>':
		return a >> (b & 63), nil
	case '#':
		// crash multiplies b times; squaring gives the same product
		// modulo 2^64 in 64 steps instead of up to 2^64 (FuzzEvalAddress
		// found "(0#FFFFFFF0)" taking seconds, larger exponents forever).
		r := uint64(1)
		for ; b > 0; b >>= 1 {
			if b&1 != 0 {
				r *= a
			}
			a *= a
		}
		return r, nil
	}
	return 0, bad
}

// calcOperand is crash's calculate(): a symbol, or a number with an
// optional ~ and k/m/g multiplier.
func calcOperand(s string, lookup SymbolLookup) (uint64, bool) {
	not := false
	if strings.HasPrefix(s, "~") {
		not, s = true, s[1:]
	}
	if lookup != nil {
		if a, ok := lookup(s); ok {
			if not {
				a = ^a
			}
			return a, true
		}
	}
	factor := uint64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			factor, s = 1<<10, s[:len(s)-1]
		case 'm', 'M':
			factor, s = 1<<20, s[:len(s)-1]
		case 'g', 'G':
			factor, s = 1<<30, s[:len(s)-1]
		}
	}
	v, err := ParseNumber(s)
	if err != nil {
		return 0, false
	}
	v *= factor
	if not {
		v = ^v
	}
	return v, true
}

// lookupFunc returns the session's symbol resolver (nil without a vmlinux).
func (s *Session) lookupFunc() SymbolLookup {
	if s == nil || s.Vmlinux == nil {
		return nil
	}
	return s.Vmlinux.Lookup
}

// runEval is crash's cmd_eval: -b and -l (in crash's fixed places, not
// getopt, so that "-1" stays a number), then either the first word that
// is a parenthesized expression, alone, or all the words joined with
// spaces inside "(...)" (numbers all digits are decimal there); the value
// is shown in crash's print_number layout.
func runEval(s *Session, args []string, w io.Writer) error {
	bits := false
	switch {
	case len(args) > 0 && (args[0] == "-lb" || args[0] == "-bl"):
		bits, args = true, args[1:]
	case len(args) > 0 && args[0] == "-l":
		args = args[1:]
		if len(args) > 1 && args[0] == "-b" {
			bits, args = true, args[1:]
		}
	case len(args) > 1 && args[0] == "-b":
		if args[1] == "-l" {
			if len(args) < 3 {
				return &UsageError{Cmd: "eval"}
			}
			args = args[2:]
		} else {
			args = args[1:]
		}
		bits = true
	}
	if len(args) == 0 {
		return &UsageError{Cmd: "eval"}
	}
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "(") {
			v, err := evalParen(a, s.lookupFunc())
			if err != nil {
				return fmt.Errorf("invalid expression: %s", a)
			}
			writeNumber(w, v, bits)
			return nil
		}
		words = append(words, a)
	}
	expr := "(" + strings.TrimSpace(strings.Join(words, " ")) + ")"
	v, err := evalParen(expr, s.lookupFunc())
	if err != nil {
		return fmt.Errorf("invalid expression: %s", expr)
	}
	writeNumber(w, v, bits)
	return nil
}

// writeNumber is crash's print_number() for a 64-bit value.
func writeNumber(w io.Writer, v uint64, bits bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "hexadecimal: %x  ", v)
	if v >= 1<<10 {
		switch {
		case v%(1<<30) == 0:
			fmt.Fprintf(&b, "(%dGB)", v>>30)
		case v%(1<<20) == 0:
			fmt.Fprintf(&b, "(%dMB)", v>>20)
		case v%(1<<10) == 0:
			fmt.Fprintf(&b, "(%dKB)", v>>10)
		}
	}
	fmt.Fprintf(&b, "\n    decimal: %d  ", v)
	if int64(v) < 0 {
		fmt.Fprintf(&b, "(%d)", int64(v))
	}
	fmt.Fprintf(&b, "\n      octal: %o\n     binary: %064b\n", v, v)
	if bits {
		// crash wraps the list before column 77, indenting under it.
		const hdr = "   bits set: "
		b.WriteString(hdr)
		col := len(hdr)
		for i := 63; i >= 0; i-- {
			if v&(1<<uint(i)) == 0 {
				continue
			}
			n, _ := fmt.Fprintf(&b, "%d ", i)
			if col += n; col >= 77 {
				b.WriteString("\n" + strings.Repeat(" ", len(hdr)))
				col = len(hdr)
			}
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}
