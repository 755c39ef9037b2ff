package commands

import (
	"strings"
	"testing"
)

func fakeLookup(m map[string]uint64) SymbolLookup {
	return func(name string) (uint64, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// The rules are crash's (tools.c hexadecimal(), htoll(), stol(),
// eval_common()); each case names the rule it checks.
func TestEvalAddress(t *testing.T) {
	syms := fakeLookup(map[string]uint64{
		"jiffies": 0xffffffff82c05a00,
		"dead":    0x1111, // a symbol made of hex digits loses to the number
	})
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"jiffies", 0xffffffff82c05a00},
		{"ffffffff81000000", 0xffffffff81000000}, // bare numbers are hex
		{"0xffffffff81000000", 0xffffffff81000000},
		{"dead", 0xdead},                       // hexadecimal() is tried before the symbol table
		{"100", 0x100},                         // even all-digit addresses are hex
		{"(jiffies+10)", 0xffffffff82c05a0a},   // inside (), all digits is decimal
		{"(jiffies+0x10)", 0xffffffff82c05a10}, // and 0x is hex
		{"(jiffies+1f)", 0xffffffff82c05a1f},   // and hex digits make hex
		{"(jiffies-8)", 0xffffffff82c059f8},
		{"(1k)", 1024},
		{"(2m)", 2 << 20},
		{"(1 << 4)", 16},
		{"(-1)", ^uint64(0)},
		{"jiffies+0x10", 0xffffffff82c05a10}, // the extension: no parentheses needed
		{"jiffies-0x8", 0xffffffff82c059f8},
	} {
		got, err := EvalAddress(c.in, syms)
		if err != nil {
			t.Errorf("EvalAddress(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("EvalAddress(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "nosuchsymbol", "(jiffies", "((1+2))", "(1 < 2)", "(+)", "12345678901234567"} {
		if v, err := EvalAddress(bad, syms); err == nil {
			t.Errorf("EvalAddress(%q) = %#x, want an error", bad, v)
		}
	}
	if _, err := EvalAddress("nosuchsymbol", syms); !strings.Contains(err.Error(), "symbol not found: nosuchsymbol") {
		t.Errorf("unknown symbol error = %v", err)
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]uint64{"10": 10, "0x10": 16, "1f": 31, "ff": 255} {
		if got, err := ParseNumber(in); err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1g2", "zz"} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) succeeded", bad)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		`rd -64 jiffies 4`:      {"rd", "-64", "jiffies", "4"},
		`  sym   "a b"  'c|d' `: {"sym", "a b", "'c|d'"},
		`ps 'a b' x'y'z`:        {"ps", "'a b'", "x'y'z"},
		`eval (1 + 2)`:          {"eval", "(1 + 2)"},
		`eval ((a) b)c d`:       {"eval", "((a) b)c", "d"},
		`eval (1 + `:            {"eval", "(1 + "},
		`(a b)`:                 {"(a", "b)"},
		`x "a\"b" \ y`:          {"x", `a"b`, " y"},
		``:                      nil,
	} {
		got, err := SplitArgs(in)
		if err != nil || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := SplitShellWords(`  "a b"  'c|d' `); err != nil || strings.Join(got, "\x00") != "a b\x00c|d" {
		t.Errorf("SplitShellWords: %q, %v; want the quotes removed", got, err)
	}
	if _, err := SplitArgs(`echo "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func FuzzEvalAddress(f *testing.F) {
	for _, s := range []string{"jiffies", "(jiffies+10)", "ffff", "(1<<2)", "(~1k)", "a-b", "((", "(-)"} {
		f.Add(s)
	}
	syms := fakeLookup(map[string]uint64{"jiffies": 0xffffffff82c05a00})
	f.Fuzz(func(t *testing.T, s string) {
		EvalAddress(s, syms)
		SplitArgs(s)
	})
}
