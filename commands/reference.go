package commands

import (
	"fmt"
	"io"
	"strings"
)

// WriteReference writes the command reference, docs/commands.md: every
// command of the table with its summary, and its "help" page. The file is
// generated (go test ./commands -run TestCommandReference -update) and a
// test fails when it no longer matches the table, as Delve checks its
// generated CLI documentation.
func WriteReference(w io.Writer) {
	var b strings.Builder
	b.WriteString("# gocrash command reference\n\n")
	b.WriteString("Generated from the command table (each command's declaration in\n")
	b.WriteString("`commands/`) by `go test ./commands -run TestCommandReference -update`;\n")
	b.WriteString("do not edit by hand. In the shell, `help CMD` prints the same page.\n\n")
	b.WriteString("| command | summary |\n| --- | --- |\n")
	cmds := Table()
	for _, c := range cmds {
		names := c.Name
		if len(c.Aliases) > 0 {
			names += " (" + strings.Join(c.Aliases, ", ") + ")"
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s |\n", names, anchor(c.Name), strings.ReplaceAll(c.Summary, "|", `\|`))
	}
	for i := range cmds {
		c := &cmds[i]
		fmt.Fprintf(&b, "\n## %s\n\n```\n", c.Name)
		var page strings.Builder
		WriteHelp(&page, c)
		b.WriteString(strings.Trim(page.String(), "\n"))
		b.WriteString("\n```\n")
	}
	io.WriteString(w, b.String())
}

// anchor is the GitHub heading anchor of a command name.
func anchor(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
