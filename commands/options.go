package commands

import (
	"errors"
	"fmt"
	"strings"
)

// A command's options are declared once, in its Command entry (Flags and
// Operands); its usage line, its help page, the shell's completion and
// the parsing of its command line all come from that declaration, so
// they cannot drift apart (drgn's @crash_command does the same for
// drgn's crash commands).

// Flag is one option of a command.
type Flag struct {
	// Name is what follows the '-': one letter, or crash's numeric
	// words "8", "16", "32", "64" (rd -16). A multi-character name is
	// parsed as getopt(3) sees it in crash: its first character is an
	// option whose argument must be the rest ("-16" is -1 with "6").
	Name string
	// Arg names the option's argument in the usage and help ("cpu(s)",
	// "file"); "" for an option without one.
	Arg string
	// Help says what the option does: one paragraph, wrapped by help.
	Help string
	// Hidden options are accepted and listed in help, but crash's
	// synopsis leaves them out (runq -d, crash 8.0.6 help.c): the usage
	// line, which crash prints on a usage error, stays crash's.
	Hidden bool
}

// Operand is a non-option argument, explained in the help's option list
// as crash's help pages do ("pid  a process PID.").
type Operand struct {
	Name string
	Help string
}

// UsageLine is the command's synopsis, as "help CMD" and usage errors
// print it: the name and Synopsis, or one generated from the flags and
// operands.
func (c *Command) UsageLine() string {
	if c.Usage != "" { // not yet converted to Flags
		return c.Usage
	}
	if c.Synopsis != "" {
		return c.Name + " " + c.Synopsis
	}
	return strings.TrimSpace(c.Name + " " + generatedSynopsis(c.Flags, c.Operands))
}

// generatedSynopsis is crash's style for a simple command: the switches
// grouped ("[-Ttd]"), then each option with its argument, then the
// operands.
func generatedSynopsis(flags []Flag, ops []Operand) string {
	var sw strings.Builder
	var parts []string
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		if f.Arg == "" && len(f.Name) == 1 {
			sw.WriteString(f.Name)
		} else if f.Arg == "" {
			parts = append(parts, "[-"+f.Name+"]")
		} else {
			parts = append(parts, "[-"+f.Name+" "+f.Arg+"]")
		}
	}
	if sw.Len() > 0 {
		parts = append([]string{"[-" + sw.String() + "]"}, parts...)
	}
	for _, o := range ops {
		parts = append(parts, "["+o.Name+"]")
	}
	return strings.Join(parts, " ")
}

// OptionWords are the options as typed ("-a", "-16"), for completion.
func (c *Command) OptionWords() []string {
	if len(c.Flags) == 0 {
		return c.Options // not yet converted to Flags
	}
	out := make([]string, 0, len(c.Flags))
	for _, f := range c.Flags {
		out = append(out, "-"+f.Name)
	}
	return out
}

// HelpText is the DESCRIPTION section of "help CMD": the description,
// the options and operands (crash's layout: names right-aligned, text
// wrapped beside them), the notes and the examples.
func (c *Command) HelpText() string {
	if c.Help != "" { // not yet converted to Flags
		return c.Help
	}
	var b strings.Builder
	if c.Description != "" {
		b.WriteString(strings.TrimRight(c.Description, "\n"))
		b.WriteString("\n\n")
	}
	if list := optionList(c.Flags, c.Operands); list != "" {
		b.WriteString(list)
		b.WriteString("\n")
	}
	if c.Notes != "" {
		b.WriteString(strings.TrimRight(c.Notes, "\n"))
		b.WriteString("\n\n")
	}
	b.WriteString("EXAMPLES\n")
	b.WriteString(strings.TrimRight(c.Examples, "\n"))
	return b.String()
}

// helpWidth is where help text is wrapped (crash's pages fit 80 columns).
const helpWidth = 79

// optionList lays the flags and operands out as crash's help pages do.
func optionList(flags []Flag, ops []Operand) string {
	type item struct{ name, help string }
	var items []item
	for _, f := range flags {
		n := "-" + f.Name
		if f.Arg != "" {
			n += " " + f.Arg
		}
		items = append(items, item{n, f.Help})
	}
	for _, o := range ops {
		items = append(items, item{o.Name, o.Help})
	}
	if len(items) == 0 {
		return ""
	}
	w := 0
	for _, it := range items {
		w = max(w, len(it.name))
	}
	indent := 2 + w + 2
	var b strings.Builder
	for _, it := range items {
		lines := wrap(it.help, helpWidth-indent)
		fmt.Fprintf(&b, "  %*s  %s\n", w, it.name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "%*s%s\n", indent, "", l)
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width characters at spaces
// (a longer word keeps its own line); a "\n" in text breaks a line.
func wrap(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) > width:
				lines = append(lines, line)
				line = word
			default:
				line += " " + word
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// flagParser reads a command line by the command's declared flags, with
// getopt(3)'s rules (getopt.go): for each option, next sets flag (its
// Name) and, for an option with an argument, val. An option the command
// does not declare, or one missing its argument, ends the walk with a
// usage error in err.
type flagParser struct {
	g     *getopt
	decl  map[byte]*Flag
	flag  string
	val   string
	err   error
	ended bool
}

// parseFlags starts reading args by command cmd's declaration; the
// options end at the first word that is not one.
func parseFlags(cmd string, args []string) *flagParser {
	p := &flagParser{g: newGetopt(cmd, args), decl: map[byte]*Flag{}}
	if c, ok := Lookup(cmd); ok {
		for i := range c.Flags {
			f := &c.Flags[i]
			p.decl[f.Name[0]] = f
		}
	}
	return p
}

// parseFlagsPermuted is parseFlags with glibc getopt's default
// permutation: options may follow the other words ("log foo -m").
func parseFlagsPermuted(cmd string, args []string) *flagParser {
	p := parseFlags(cmd, args)
	p.g.permute = true
	return p
}

// next reads the next option; false when the options end or on an error.
func (p *flagParser) next() bool {
	if p.ended {
		return false
	}
	c, ok := p.g.next()
	if !ok {
		p.ended = true
		return false
	}
	f := p.decl[c]
	if f == nil {
		p.ended = true
		p.err = usageErr(p.g.cmd, "invalid option -- '%c'", c)
		return false
	}
	p.flag, p.val = f.Name, ""
	if len(f.Name) > 1 || f.Arg != "" {
		v, err := p.g.arg()
		if err != nil {
			p.ended, p.err = true, err
			return false
		}
		if len(f.Name) > 1 && v != f.Name[1:] {
			// crash's rd: error(INFO, "invalid option: %c%s\n", c, optarg)
			p.ended = true
			p.err = usageErr(p.g.cmd, "invalid option: %c%s", c, v)
			return false
		}
		if f.Arg != "" {
			p.val = v
		}
	}
	return true
}

// rest is what follows the options (once next has returned false).
func (p *flagParser) rest() []string { return p.g.rest() }

// setRadix records -x (16) or -d (10) in *radix: crash refuses the other
// one once either is given (its "-d and -x are mutually exclusive").
func setRadix(radix *int, r int) error {
	if *radix != 0 && *radix != r {
		return errors.New("-d and -x are mutually exclusive")
	}
	*radix = r
	return nil
}
