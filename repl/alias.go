package repl

import (
	"fmt"
	"io"
	"strings"

	"gocrash/commands"
)

// An alias replaces the first word of a command line (crash: cmdline.c
// resolve_aliases(), one level, the rest of the line appended).
type alias struct {
	name   string
	words  []string // what it stands for, split as crash's parse_line does
	origin string   // "builtin" or "runtime" (crash 8.0.6 shows .crashrc aliases as runtime too)
}

// builtinAliases are crash 8.0.6's (cmdline.c alias_init()), in its order;
// "alias" with no argument lists them first.
var builtinAliases = [][2]string{
	{"man", "help"}, {"?", "help"}, {"quit", "q"}, {"sf", "set scroll off"}, {"sn", "set scroll on"},
	{"hex", "set radix 16"}, {"dec", "set radix 10"}, {"g", "gdb"}, {"px", "p -x"}, {"pd", "p -d"},
	{"for", "foreach"}, {"size", "*"}, {"dmesg", "log"}, {"lsmod", "mod"},
}

func (sh *Shell) initAliases() {
	if sh.aliases != nil {
		return
	}
	sh.aliases = []alias{}
	for _, b := range builtinAliases {
		sh.aliases = append(sh.aliases, alias{name: b[0], words: strings.Fields(b[1]), origin: "builtin"})
	}
	// crash's task_init adds one more where the kernel keeps last-run
	// timestamps (sched_info.last_arrival: CONFIG_SCHED_INFO).
	if sh.Session != nil && sh.Session.Kernel != nil && sh.Session.HasLastRun() {
		sh.aliases = append(sh.aliases, alias{name: "last", words: []string{"ps", "-l"}, origin: "builtin"})
	}
}

// expandAlias replaces an alias at the start of line by what it stands
// for.
func (sh *Shell) expandAlias(line string) string {
	sh.initAliases()
	t := strings.TrimLeft(line, " \t")
	first := t
	rest := ""
	if i := strings.IndexAny(t, " \t"); i >= 0 {
		first, rest = t[:i], strings.TrimLeft(t[i:], " \t")
	}
	for _, a := range sh.aliases {
		if a.name == first {
			out := strings.Join(a.words, " ")
			if rest != "" {
				out += " " + rest
			}
			return out
		}
	}
	return line
}

// isCommandName is what an alias may stand for and may not be named:
// a command gocrash has, one crash has, or the shell's own words.
func isCommandName(name string) bool {
	if _, ok := commands.Lookup(name); ok {
		return true
	}
	return commands.IsCrashCommand(name)
}

// runAlias is crash's "alias [name [command string]]" (cmd_alias()).
func (sh *Shell) runAlias(args []string, w io.Writer) error {
	sh.initAliases()
	switch len(args) {
	case 0:
		sh.listAliases(w, "")
		return nil
	case 1:
		sh.listAliases(w, args[0])
		return nil
	}
	name := args[0]
	// The command string may be one quoted word ("kmem -p | grep slab")
	// or several.
	words, err := commands.SplitArgs(strings.Join(args[1:], " "))
	if err != nil {
		return err
	}
	if isCommandName(name) {
		return fmt.Errorf("cannot alias existing command name: %s", name)
	}
	if len(words) == 0 {
		for i, a := range sh.aliases {
			if a.name == name {
				sh.aliases = append(sh.aliases[:i], sh.aliases[i+1:]...)
				fmt.Fprintf(w, "alias deleted: %s\n", name)
				return nil
			}
		}
		return nil // crash says nothing when there was no such alias
	}
	if !isCommandName(words[0]) {
		return fmt.Errorf("invalid alias attempt on non-existent command: %s", words[0])
	}
	for i, a := range sh.aliases {
		if a.name == name {
			sh.aliases = append(sh.aliases[:i], sh.aliases[i+1:]...)
			break
		}
	}
	sh.aliases = append(sh.aliases, alias{name: name, words: words, origin: "runtime"})
	sh.listAliases(w, name)
	return nil
}

// listAliases prints crash's list_aliases() table: ORIGIN padded to 7,
// the alias to 7, each word of the command followed by a space.
func (sh *Shell) listAliases(w io.Writer, only string) {
	var b strings.Builder
	b.WriteString("ORIGIN   ALIAS    COMMAND\n")
	found := false
	for _, a := range sh.aliases {
		if only != "" && a.name != only {
			continue
		}
		found = true
		fmt.Fprintf(&b, "%-7s  %-7s  ", a.origin, a.name)
		for _, word := range a.words {
			b.WriteString(word + " ")
		}
		b.WriteString("\n")
	}
	if only != "" && !found {
		fmt.Fprintf(&b, "alias does not exist: %s\n", only)
	}
	io.WriteString(w, b.String())
}
