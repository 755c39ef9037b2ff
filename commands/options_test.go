package commands

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// synopsisFlags lists the options a crash-style synopsis names: "-a",
// grouped letters "[-adD]", numeric words "-16", "-[l|m]" and the bare
// letter of "[-x|d]".
func synopsisFlags(syn string) []string {
	var out []string
	isAlnum := func(b byte) bool {
		return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
	}
	for i := 0; i < len(syn); i++ {
		switch {
		case syn[i] == '-' && (i == 0 || strings.IndexByte(" [|", syn[i-1]) >= 0):
			j := i + 1
			if j < len(syn) && syn[j] == '[' { // -[l|m]
				k := strings.IndexByte(syn[j:], ']')
				for _, l := range strings.Split(syn[j+1:j+k], "|") {
					if strings.Trim(l, "0123456789") == "" {
						out = append(out, l)
						continue
					}
					for _, c := range l { // -[kKV]: three options
						out = append(out, string(c))
					}
				}
				i = j + k
				continue
			}
			for j < len(syn) && isAlnum(syn[j]) {
				j++
			}
			word := syn[i+1 : j]
			if strings.Trim(word, "0123456789") == "" {
				out = append(out, word)
			} else {
				for _, c := range word {
					out = append(out, string(c))
				}
			}
			i = j - 1
		case syn[i] == '|' && i+2 < len(syn) && isAlnum(syn[i+1]) && (syn[i+2] == ']' || syn[i+2] == '|') && i > 0 && isAlnum(syn[i-1]):
			// "[-x|d]": d is an option too.
			out = append(out, syn[i+1:i+2])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestSynopsisFlags(t *testing.T) {
	for syn, want := range map[string]string{
		"[-adDsupxmNR][-8|-16|-32|-64][-o offs][-e addr][-r file][address|symbol]\n     [count]":                 "16 32 64 8 D N R a d e m o p r s u x",
		"[-k|-u|-G|-y policy] [-s] [-p|-c|-t|-[l|m][-C cpu]|-a|-g|-r|-S|-A|-H]\n     [pid | task | command] ...": "A C G H S a c g k l m p r s t u y",
		"[-a|-c cpu(s)|-t|-T|-l|-e|-f] [-s [-x|d]] [pid | task]":                                                 "T a c d e f l s t x",
		"[-Ttdmasc]": "T a c d m s t",
	} {
		if got := strings.Join(synopsisFlags(syn), " "); got != want {
			t.Errorf("synopsisFlags(%q) = %q, want %q", syn, got, want)
		}
	}
}

// TestFlagDeclarations: every declared command's usage line names exactly
// its options (the hidden ones aside), each option has help, and no two
// options share the letter getopt sees.
func TestFlagDeclarations(t *testing.T) {
	for _, c := range Table() {
		if len(c.Flags) == 0 {
			if c.Usage != "" {
				t.Logf("%s: not yet converted to Flags", c.Name)
			}
			continue
		}
		var declared []string
		letters := map[byte]string{}
		for _, f := range c.Flags {
			if f.Name == "" || f.Help == "" {
				t.Errorf("%s: option %q without name or help", c.Name, f.Name)
				continue
			}
			if len(f.Name) > 1 && strings.Trim(f.Name, "0123456789") != "" {
				t.Errorf("%s: option -%s: a long name must be a number (crash's -16)", c.Name, f.Name)
			}
			if prev, dup := letters[f.Name[0]]; dup {
				t.Errorf("%s: options -%s and -%s both start with %q", c.Name, prev, f.Name, f.Name[0])
			}
			letters[f.Name[0]] = f.Name
			if !f.Hidden {
				declared = append(declared, f.Name)
			}
		}
		sort.Strings(declared)
		syn := strings.TrimPrefix(c.UsageLine(), c.Name)
		if got := synopsisFlags(syn); !reflect.DeepEqual(got, declared) && !(len(got) == 0 && len(declared) == 0) {
			t.Errorf("%s: usage %q names options %v; declared: %v", c.Name, c.UsageLine(), got, declared)
		}
		if c.Usage != "" || c.Help != "" || c.Options != nil {
			t.Errorf("%s: declares Flags and also the former Usage/Help/Options", c.Name)
		}
	}
}

// The parser follows the declaration: grouped options, an argument from
// the rest of the word or the next one, crash's numeric words, an
// undeclared option refused, and glibc's permutation where asked for.
func TestParseFlags(t *testing.T) {
	type opt struct{ flag, val string }
	parse := func(cmd string, permute bool, args ...string) ([]opt, []string, string) {
		g := parseFlags(cmd, args)
		if permute {
			g = parseFlagsPermuted(cmd, args)
		}
		var got []opt
		for g.next() {
			got = append(got, opt{g.flag, g.val})
		}
		e := ""
		if g.err != nil {
			e = g.err.Error()
		}
		return got, g.rest(), e
	}
	for _, c := range []struct {
		cmd     string
		permute bool
		args    []string
		opts    []opt
		rest    []string
		err     string
	}{
		{"rd", false, []string{"-8x", "jiffies", "4"}, []opt{{"8", ""}, {"x", ""}}, []string{"jiffies", "4"}, ""},
		{"rd", false, []string{"-16", "-ooffs", "-e", "ffff", "x"}, []opt{{"16", ""}, {"o", "offs"}, {"e", "ffff"}}, []string{"x"}, ""},
		{"rd", false, []string{"-17"}, nil, []string{}, "invalid option: 17"},
		{"rd", false, []string{"-q", "x"}, nil, []string{"-q", "x"}, "invalid option -- 'q'"},
		{"rd", false, []string{"-r"}, nil, []string{"-r"}, "option requires an argument -- 'r'"},
		{"rd", false, []string{"--", "-p"}, nil, []string{"-p"}, ""},
		{"log", true, []string{"foo", "-m", "-", "-T"}, []opt{{"m", ""}, {"T", ""}}, []string{"foo", "-"}, ""},
		{"runq", false, []string{"-c1", "-d"}, []opt{{"c", "1"}, {"d", ""}}, []string{}, ""},
	} {
		opts, rest, err := parse(c.cmd, c.permute, c.args...)
		if !reflect.DeepEqual(opts, c.opts) || !reflect.DeepEqual(rest, c.rest) || err != c.err {
			t.Errorf("%s %q: %v %q %q; want %v %q %q", c.cmd, c.args, opts, rest, err, c.opts, c.rest, c.err)
		}
	}
}

// help's option list is crash's layout: names right-aligned in one
// column, the text wrapped beside them within 79 columns.
func TestHelpOptionList(t *testing.T) {
	c, _ := Lookup("rd")
	h := c.HelpText()
	for _, want := range []string{
		"\n       -p  address argument is a physical address.\n",
		"\n  -o offs  offset the starting address by offs.\n",
		"\n  address  starting hexadecimal address",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("help rd lacks %q:\n%s", want, h)
		}
	}
	for _, l := range strings.Split(h, "\n") {
		if len(l) > helpWidth && !strings.HasPrefix(l, "    crash> ") && !strings.HasPrefix(l, "    ") {
			t.Errorf("help rd line longer than %d: %q", helpWidth, l)
		}
	}
}
