package repl

import (
	"slices"
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
		c.types["struct"] = t.CompletionNames("struct")
		c.types["union"] = t.CompletionNames("union")
		c.types[""] = t.CompletionNames("struct", "union")
		c.types["typedef"] = t.CompletionNames("typedef")
	})
	return withPrefix(c.types[kind], prefix)
}

// withPrefix are the names of the sorted list that start with prefix, at
// most maxCandidates of them.
func withPrefix(names []string, prefix string) []string {
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

// typeArgument says whether the word after args (struct's arguments so
// far) is its type: only options came before (struct -o task_s, struct -x
// -l task_struct.tas: -l's argument is a member too; -c's a count).
func typeArgument(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return false
		}
		if strings.HasSuffix(a, "c") {
			if i == len(args)-1 {
				return false // the count is being typed
			}
			i++
		} else if strings.HasSuffix(a, "l") {
			i++
		}
	}
	return true
}

// isExprCommand: the commands whose arguments are gdb expressions or type
// names (p/x and print/d too).
func isExprCommand(cmd string) bool {
	word, _, _ := strings.Cut(cmd, "/")
	switch word {
	case "p", "print", "whatis", "ptype":
		return true
	}
	return false
}

// expression completes word, the end of args (what follows the command
// word cmd): a member after '.' or "->" of a C expression (p
// init_task.pi, p ((struct task_struct *)ADDR)->se.vr), a struct or
// union name after "struct" or "union" (whatis struct task_s, p (struct
// task_s, p sizeof(union thread_), a type or symbol name as whatis's and
// ptype's argument (whatis task_s offers task_struct and task_struct_cachep),
// and a kernel symbol after any operator and parenthesis (p &init_ta).
func (c *Completer) expression(cmd, args, word string, fields []string, nth int) []string {
	_ = fields[nth-1] // nth >= 1: the command word is fields[0]
	if c.Session == nil || c.Session.Vmlinux == nil {
		return nil
	}
	if names, partial, ok := c.Session.CompleteExpression(args); ok {
		stem := word[:len(word)-len(partial)]
		out := make([]string, 0, len(names))
		for _, n := range names {
			if len(out) == maxCandidates {
				break
			}
			out = append(out, stem+n)
		}
		return out
	}
	// The identifier being typed, after any operator or parenthesis.
	i := len(word)
	for i > 0 && (isIdent(word[i-1])) {
		i--
	}
	lead, ident := word[:i], word[i:]
	if strings.HasSuffix(lead, ".") || strings.HasSuffix(lead, "->") {
		return nil // a member of what is not a struct or union, or not known
	}
	prev := ""
	if lead == "" && nth >= 2 {
		prev = fields[nth-1]
	} else {
		prev = lead
	}
	prev = prev[strings.LastIndexAny(prev, "(*&!~-+")+1:]
	var out []string
	add := func(names []string) {
		for _, n := range names {
			out = append(out, lead+n)
		}
	}
	switch {
	case prev == "struct" || prev == "union":
		add(c.typesWithPrefix(prev, ident))
		return out
	case ident == "" || strings.ContainsAny(ident[:1], "0123456789"):
		return nil
	}
	base, _, _ := strings.Cut(cmd, "/")
	if (base == "whatis" || base == "ptype") && lead == "" {
		names := append(c.typesWithPrefix("", ident), c.typesWithPrefix("typedef", ident)...)
		names = append(names, c.symbolsWithPrefix(ident)...)
		sort.Strings(names)
		names = slices.Compact(names)
		if len(names) > maxCandidates {
			names = names[:maxCandidates]
		}
		add(names)
		return out
	}
	add(c.symbolsWithPrefix(ident))
	return out
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
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
		case (cmd == "struct" || cmd == "union" || cmd == "*" || cmd == "size") && typeArgument(fields[1:nth]) && !strings.HasPrefix(word, "-"):
			kind := cmd
			if cmd == "*" || cmd == "size" {
				kind = ""
			}
			cands = c.typesWithPrefix(kind, word)
		case isExprCommand(cmd) && !strings.HasPrefix(word, "-"):
			cands = c.expression(cmd, before[strings.Index(before, fields[0])+len(fields[0]):], word, fields, nth)
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
