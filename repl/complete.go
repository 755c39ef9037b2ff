package repl

import (
	"sort"
	"strings"
	"sync"

	"gocrash/commands"
)

// maxCandidates bounds a completion list: a one-letter symbol prefix can
// match tens of thousands of kernel symbols.
const maxCandidates = 400

// Completer completes command names in the first word, a command's
// options after '-', command names after "help", and kernel symbols
// elsewhere. It satisfies readline.AutoCompleter.
type Completer struct {
	Session *commands.Session
	Shell   *Shell // for its aliases; may be nil

	once    sync.Once
	symbols []string // sorted, unique

	typesOnce sync.Once
	types     map[string][]string // struct, union and "" (both) names, sorted
}

// typesWithPrefix completes the names of struct and union types (kind
// "struct", "union" or "" for both), as "struct task_<TAB>" does; a member
// path after a '.' completes the members (Session.CompleteDatatype).
func (c *Completer) typesWithPrefix(kind, prefix string) []string {
	if strings.Contains(prefix, ".") {
		if c.Session == nil || c.Session.Vmlinux == nil {
			return nil
		}
		return c.Session.CompleteDatatype(prefix)
	}
	c.typesOnce.Do(func() {
		c.types = map[string][]string{}
		if c.Session == nil || c.Session.Vmlinux == nil {
			return
		}
		t, err := c.Session.Types()
		if err != nil {
			return
		}
		for _, k := range []string{"struct", "union", ""} {
			c.types[k], _ = t.TypeNames(k)
		}
	})
	names := c.types[kind]
	i := sort.SearchStrings(names, prefix)
	var out []string
	for ; i < len(names) && strings.HasPrefix(names[i], prefix); i++ {
		if len(out) == maxCandidates {
			break
		}
		out = append(out, names[i])
	}
	return out
}

func (c *Completer) symbolNames() []string {
	c.once.Do(func() {
		if c.Session == nil || c.Session.Vmlinux == nil {
			return
		}
		syms := c.Session.Vmlinux.Symbols()
		names := make([]string, 0, len(syms))
		for _, s := range syms {
			names = append(names, s.Name)
		}
		sort.Strings(names)
		out := names[:0]
		for i, n := range names {
			if n != "" && (i == 0 || n != names[i-1]) {
				out = append(out, n)
			}
		}
		c.symbols = out
	})
	return c.symbols
}

// Do returns the suffixes that complete the word before pos, and that
// word's length (readline's contract).
func (c *Completer) Do(line []rune, pos int) ([][]rune, int) {
	if pos > len(line) {
		pos = len(line)
	}
	before := string(line[:pos])
	start := strings.LastIndexAny(before, " \t") + 1
	word := before[start:]
	first := strings.TrimSpace(before[:start]) == ""
	// After a pipe or a redirection the shell or a file name follows.
	if strings.ContainsAny(before[:start], "|>") || strings.HasPrefix(strings.TrimSpace(before), "!") {
		return nil, 0
	}
	var cands []string
	switch {
	case first && strings.HasPrefix(word, "*") && len(word) > 1:
		// crash's "*page": the pointer-to shorthand touching its type.
		for _, n := range c.typesWithPrefix("", word[1:]) {
			cands = append(cands, "*"+n)
		}
	case first:
		cands = c.commandNames(word)
	default:
		fields := strings.Fields(before)
		cmd := fields[0]
		nth := len(fields) // the word being completed is argument nth
		if word != "" {
			nth--
		}
		switch {
		case cmd == "help":
			cands = c.commandNames(word)
			for _, n := range crashOnly() {
				if strings.HasPrefix(n, word) {
					cands = append(cands, n)
				}
			}
			sort.Strings(cands)
		case (cmd == "struct" || cmd == "union" || cmd == "*" || cmd == "size") && nth == 1 && !strings.HasPrefix(word, "-"):
			kind := cmd
			if cmd == "*" || cmd == "size" {
				kind = ""
			}
			cands = c.typesWithPrefix(kind, word)
		case cmd == "set" && nth == 1 && !strings.HasPrefix(word, "-"):
			cands = c.settingNames(word)
		case cmd == "set" && nth == 2:
			cands = settingValues(fields[1], word)
		case strings.HasPrefix(word, "-"):
			if cm, ok := commands.Lookup(cmd); ok {
				for _, o := range cm.OptionWords() {
					if strings.HasPrefix(o, word) {
						cands = append(cands, o)
					}
				}
			}
		default:
			cands = c.symbolsWithPrefix(word)
		}
	}
	out := make([][]rune, 0, len(cands))
	for _, s := range cands {
		suffix := s[len(word):]
		if len(cands) == 1 {
			suffix += " "
		}
		out = append(out, []rune(suffix))
	}
	return out, len([]rune(word))
}

func (c *Completer) commandNames(prefix string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if strings.HasPrefix(n, prefix) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, cm := range commands.Table() {
		add(cm.Name)
		for _, a := range cm.Aliases {
			add(a)
		}
	}
	for _, n := range []string{"q", "quit", "exit"} {
		add(n)
	}
	if c.Shell != nil {
		c.Shell.initAliases()
		for _, a := range c.Shell.aliases {
			add(a.name)
		}
	}
	sort.Strings(out)
	return out
}

// crashOnly are crash's commands gocrash does not have ("help struct"
// says so).
func crashOnly() []string {
	var out []string
	for _, n := range commands.CrashCommandNames() {
		if _, ok := commands.Lookup(n); !ok {
			out = append(out, n)
		}
	}
	return out
}

func (c *Completer) settingNames(prefix string) []string {
	var out []string
	for _, n := range c.Session.Settings().Names() {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// settingValues are the words a setting takes.
func settingValues(setting, prefix string) []string {
	var vals []string
	switch setting {
	case "scroll":
		vals = []string{"on", "off", "less", "more", "CRASHPAGER"}
	case "zero_excluded", "silent", commands.UnwindNotes:
		vals = []string{"on", "off"}
	}
	var out []string
	for _, v := range vals {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}

func (c *Completer) symbolsWithPrefix(prefix string) []string {
	if prefix == "" {
		return nil
	}
	names := c.symbolNames()
	i := sort.SearchStrings(names, prefix)
	var out []string
	for ; i < len(names) && strings.HasPrefix(names[i], prefix); i++ {
		if len(out) == maxCandidates {
			break
		}
		out = append(out, names[i])
	}
	return out
}
