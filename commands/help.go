package commands

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// crashCommand is one entry of crash 8.0.6's command table
// (global_data.c linux_command_table, without its hidden commands "map"
// and "test"): its name, a one-line summary in our words, and the option
// letters its getopt() takes, so that gocrash can say plainly which of
// crash's commands and options it does not have yet.
type crashCommand struct {
	name, summary, options string
}

// crashCommands lists crash 8.0.6's commands in the order of its help
// list (alphabetical, q last). Option letters are from each cmd_*()'s
// getopt() string in crash's sources.
var crashCommands = []crashCommand{
	{"*", "pointer-to shorthand for struct and union", "pxdhfuc:rvol:"},
	{"alias", "command aliases", ""},
	{"ascii", "translate a hexadecimal string to ASCII", ""},
	{"bpf", "eBPF programs and maps", "PMtTjsxdm:p:"},
	{"bt", "backtrace", "D:fFI:S:c:n:aAloreEgstTdxR:Ovp"},
	{"btop", "bytes to page", ""},
	{"dev", "device data", "dDpiVv:"},
	{"dis", "disassemble", "dxhulsrfUb:B:"},
	{"eval", "evaluate", ""},
	{"exit", "exit this session", ""},
	{"extend", "extend the command set with shared objects", "lus"},
	{"files", "open files", "d:R:p:c"},
	{"foreach", "display command data for multiple tasks", "R:vomlgersStTpukcfFxhdaGy:"},
	{"fuser", "file users", ""},
	{"gdb", "gdb command", ""},
	{"help", "get help", ""},
	{"ipcs", "System V IPC facilities", "smMqn:"},
	{"irq", "interrupt request data", "dbuasc:"},
	{"kmem", "kernel memory", "gI:sS::rFfm:pvczCinl:L:PVoh"},
	{"list", "linked list", "BHhrs:S:e:o:O:xdl:"},
	{"log", "dump system message buffer", "Ttdmasc"},
	{"mach", "machine specific data", "cmxd"},
	{"mod", "module information and loading of symbols and debugging data", "Rd:Ds:Sot"},
	{"mount", "mounted filesystem data", "ifn:"},
	{"net", "network command", ""},
	{"p", "print the value of an expression", "dhxu"},
	{"ps", "display process status information", "HASgstcpkuGlmarC:y:"},
	{"pte", "translate a page table entry", ""},
	{"ptob", "page to bytes", ""},
	{"ptov", "physical or per-cpu to virtual", ""},
	{"rd", "read memory", "Raxme:r:pfudDusSNo:81:3:6:"},
	{"repeat", "repeat a command", ""},
	{"runq", "run queue", "dtTgmc:"},
	{"sbitmapq", "sbitmap_queue struct contents", "s:a:pxdv"},
	{"search", "search memory", "Ttl:ukKVps:e:v:m:hwcx:"},
	{"set", "set a process context or internal variable", "pvc:a:"},
	{"sig", "task signal handling", "lR:s:g"},
	{"struct", "structure contents", "pxdhfuc:rvol:"},
	{"swap", "swap device information", ""},
	{"sym", "translate a symbol to its virtual address, or vice-versa", "lLQ:q:npsMm:"},
	{"sys", "system data", "ctip:"},
	{"task", "task_struct and thread_info contents", "xdhR:"},
	{"timer", "timer queue data", "rC:"},
	{"tree", "tree walk", "xdt:r:o:s:S:plNv"},
	{"union", "union contents", "pxdhfuc:rvol:"},
	{"vm", "virtual memory", "f:pmvR:P:xdM:"},
	{"vtop", "virtual to physical", "ukc:"},
	{"waitq", "list tasks queued on a wait queue", ""},
	{"whatis", "search symbol table for data or type information", "om:r:"},
	{"wr", "write memory", "fukp81:3:6:"},
	{"q", "exit this session", ""},
}

func crashCommandNamed(name string) (crashCommand, bool) {
	for _, c := range crashCommands {
		if c.name == name {
			return c, true
		}
	}
	return crashCommand{}, false
}

// CrashCommandNames are crash 8.0.6's command names, in its help order.
func CrashCommandNames() []string {
	out := make([]string, len(crashCommands))
	for i, c := range crashCommands {
		out[i] = c.name
	}
	return out
}

// IsCrashCommand reports whether crash 8.0.6 has a command of this name.
func IsCrashCommand(name string) bool {
	_, ok := crashCommandNamed(name)
	return ok
}

// ErrNotYet is returned by Run for a crash command gocrash does not have.
var ErrNotYet = errors.New("a crash 8.0.6 command gocrash does not have yet")

// NotYetError names the command.
type NotYetError struct{ Name string }

func (e *NotYetError) Error() string {
	return fmt.Sprintf("%s: crash 8.0.6 has this command; gocrash does not have it yet (\"help\" lists what gocrash has)", e.Name)
}
func (e *NotYetError) Unwrap() error { return ErrNotYet }

var invalidOption = regexp.MustCompile(`^invalid option -- '(.)'$`)

// notYetOption rewrites getopt's "invalid option -- 'c'" for an option
// crash's command takes: the user typed crash's option, not a typo.
func notYetOption(cmd string, ue *UsageError) {
	m := invalidOption.FindStringSubmatch(ue.Reason)
	if m == nil {
		return
	}
	cc, ok := crashCommandNamed(cmd)
	if !ok || m[1] == ":" || !strings.Contains(cc.options, m[1]) {
		return
	}
	ue.Reason = fmt.Sprintf("-%s: crash 8.0.6 has this option; gocrash does not have it yet", m[1])
}

func init() {
	register(Command{
		Name:     "help",
		Summary:  "get help",
		Synopsis: "[command ...]",
		Description: `  When entered with no argument, crash 8.0.6's commands are listed, each
  marked with what gocrash does with it: a plain name is a command gocrash
  has (its page says which options), "(name)" is a crash command gocrash
  does not have yet, and "name+" is gocrash's own (crash has no such
  command).  If one or more commands are entered as arguments, the help page
  of each is displayed.`,
		Examples: `  List the commands:

    crash> help

  Show how to use rd:

    crash> help rd`,
		Run: runHelp,
	})
	quitDescription := `  Bail out of the current gocrash session.  Typed at the terminal it
  always exits with status 0; at the end of a batch run (-i FILE, or commands
  on standard input) the exit status is 1 if any command failed.  Ctrl-D on
  an empty line does not exit (as in crash): type q.`
	for _, c := range [][2]string{{"q", "exit"}, {"exit", "q"}} {
		register(Command{
			Name: c[0], Summary: "exit this session",
			Description: quitDescription,
			Notes:       "NOTE\n  This command is equivalent to the \"" + c[1] + "\" command.",
			Examples:    "  Leave gocrash:\n\n    crash> " + c[0],
			Run:         func(*Session, []string, io.Writer) error { return ErrQuit },
		})
	}
}

// ErrQuit is what q and exit return when Run is asked to run them: the
// shell ends the session on seeing the word itself.
var ErrQuit = errors.New("quit")

func runHelp(s *Session, args []string, w io.Writer) error {
	if len(args) == 0 {
		WriteHelpList(w)
		return nil
	}
	for _, name := range args {
		if c, ok := Lookup(name); ok {
			WriteHelp(w, c)
			continue
		}
		if cc, ok := crashCommandNamed(name); ok {
			fmt.Fprintf(w, "\nNAME\n  %s - %s\n\nDESCRIPTION\n  crash 8.0.6 has this command; gocrash does not have it yet.\n\n", cc.name, cc.summary)
			continue
		}
		fmt.Fprintf(w, "No help data for \"%s\" is available.\n", name)
	}
	return nil
}

// helpColumns is crash's HELP_COLUMNS: the command list is printed in
// columns of 15 characters, filled top to bottom.
const helpColumns = 5

// WriteHelpList prints crash 8.0.6's commands in crash's "help" layout,
// each marked with what gocrash does for it, and gocrash's own commands.
func WriteHelpList(w io.Writer) {
	var names []string
	seen := map[string]bool{}
	for _, cc := range crashCommands {
		if cc.name == "q" {
			continue
		}
		seen[cc.name] = true
		name := cc.name
		if name == "*" {
			name = "struct" // the shell turns "*" into struct
		}
		if _, ok := Lookup(name); ok {
			names = append(names, cc.name)
		} else {
			names = append(names, "("+cc.name+")")
		}
	}
	for _, c := range Table() {
		if !seen[c.Name] && c.Name != "q" {
			names = append(names, c.Name+"+")
		}
	}
	bare := func(n string) string { return strings.Trim(n, "()+") }
	sort.SliceStable(names, func(i, j int) bool { return bare(names[i]) < bare(names[j]) })
	names = append(names, "q")
	rows := (len(names) + helpColumns - 1) / helpColumns
	var b strings.Builder
	b.WriteString("\n")
	for r := 0; r < rows; r++ {
		for i := r; i < len(names); i += rows {
			fmt.Fprintf(&b, "%-15s", names[i])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n(name)  crash 8.0.6 has this command; gocrash does not have it yet.\n")
	b.WriteString("name+   gocrash's own command: crash has no such command.\n\n")
	b.WriteString("For help on any command above, enter \"help <command>\".\n")
	b.WriteString("Output may be piped (cmd | shell command) or redirected (cmd > file, cmd >> file);\n")
	b.WriteString("\"!command\" runs a shell command, \"< file\" the commands in a file; \"alias\" lists the\n")
	b.WriteString("command aliases (dmesg, ...).\n\n")
	io.WriteString(w, b.String())
}
