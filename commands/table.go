package commands

import (
	"fmt"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"io"
	"sort"
	"strings"
	"sync"
)

// Command is one entry of the command table: everything the shell needs to
// run it, complete its options and explain it (Delve's pkg/terminal keeps
// the help next to the command the same way).
type Command struct {
	Name    string
	Aliases []string
	Summary string // one line, crash's NAME line

	// The options, declared once (options.go): the usage line, the help
	// page's option list, completion and parsing (parseFlags) come from
	// them.
	Flags    []Flag
	Operands []Operand
	// Synopsis is what follows the name in the usage line, in crash's
	// words (crash prints it on a usage error); "" generates it from
	// Flags and Operands. A test checks it names exactly the Flags.
	Synopsis string

	Description string // the help before the option list
	Notes       string // the help after the option list (optional)
	Examples    string // the EXAMPLES section, from the sample dump

	// Columns explains each column of the command's output, for people
	// learning to read a dump; "help CMD" shows them as a table.
	Columns []Column
	Run     func(s *Session, args []string, w io.Writer) error
	// JSON, when set, is the command's result as a plain value for
	// --json and "set output json" (json.go, docs/json.md): the same
	// arguments as Run.
	JSON func(s *Session, args []string) (any, error)

	// Usage, Help and Options are the former declaration (the whole
	// synopsis, the whole description, the option words), still honoured
	// for commands not yet converted to Flags.
	Usage   string
	Help    string
	Options []string
}

// Column is one output column and where its value comes from in the kernel.
type Column struct{ Name, Meaning string }

// The table. This file holds the core commands; other commands/*.go files
// add theirs with register from an init function, so that every command
// keeps its help text next to its code without everyone editing one list.
var (
	tableMu sync.Mutex
	table   []Command
	byName  map[string]int
)

func init() {
	register(rdCommand)
	register(Command{
		Name:     "sys",
		Summary:  "system data",
		Synopsis: "[-c [name|number]] [-t] [-i] config",
		Description: `  This command displays system-specific data: the vmlinux and dump file
  used, the number of cpus, the time of the crash, the uptime, the load
  average, the number of tasks, the kernel's utsname, the cpu speed, the
  amount of memory and the panic message.`,
		Flags: []Flag{
			{Name: "c", Help: `the system call table (sys_call_table): each slot's number, the function it calls and the source line of that function, shown from the kernel build directory ("../fs/read_write.c: 623").  A name argument shows the calls whose function name contains it, a number the call of that number.  A slot that points at no function's start is shown as an invalid entry.`},
			{Name: "t", Help: "the kernel's taints: tainted_mask in hex and, for each entry of the kernel's taint_flags[] table, its letter when that bit is set (else its letter for a clear bit, where that is not ' ', '-' or 'G')."},
			{Name: "i", Help: "the DMI strings the firmware gave the kernel (dmi_ident[]: BIOS, system, board and chassis vendor, name, version, serial), each under its enum dmi_field name."},
		},
		Operands: []Operand{
			{"config", `the kernel's own configuration, when it was built with CONFIG_IKCONFIG (the gzipped .config at kernel_config_data); otherwise "kernel_config_data does not exist in this kernel".`},
		},
		Examples: `  Display essential system information:

    crash> sys
          KERNEL: vmlinux  [TAINTED]
        DUMPFILE: vmcore.elf
            CPUS: 2
            DATE: Tue Dec  1 17:13:11 UTC 2026
          UPTIME: 00:00:35
    LOAD AVERAGE: 2.16, 0.53, 0.18
           TASKS: 59
        NODENAME: gocrash-guest
         RELEASE: 6.1.192
         VERSION: #1 SMP Tue Dec  1 17:09:54 UTC 2026
         MACHINE: x86_64  (2595 Mhz)
          MEMORY: 383.5 MB
           PANIC: "Kernel panic - not syncing: sysrq triggered crash"

  The sample dump's kernel was built with CONFIG_IKCONFIG, so it carries
  its own .config; without CONFIG_DMI it kept no DMI strings:

    crash> sys config
    #
    # Automatically generated file; DO NOT EDIT.
    # Linux/x86 6.1.192 Kernel Configuration
    #
    ...
    crash> sys config | grep IKCONFIG
    CONFIG_IKCONFIG=y
    CONFIG_IKCONFIG_PROC=y
    crash> sys config | grep CONFIG_DMI
    # CONFIG_DMI is not set
    crash> sys -i
    sys: dmi_ident does not exist in this kernel

  Which functions system calls 0 and 1 run, and the calls about "open":

    crash> sys -c 0 1
    NUM  SYSTEM CALL                FILE AND LINE NUMBER
      0  __x64_sys_read             ../fs/read_write.c: 623
      1  __x64_sys_write            ../fs/read_write.c: 649
    crash> sys -c open

  The kernel's taints (here a WARN() fired and an out-of-tree module was
  loaded):

    crash> sys -t
    TAINTED_MASK: 1200  WO`,
		Run: runSys,
	})
	register(Command{
		Name:     "eval",
		Summary:  "evaluate",
		Synopsis: "[-b][-l] (expression) | value",
		Description: `  This command evaluates an expression or a value and shows the result in
  hexadecimal, decimal, octal and binary, with a KB, MB or GB short-hand
  when the value is a whole number of them, and the signed value when the
  top bit is set.  The expression is one operation, x OP y, with OP one of
  + - & | ^ * / % << >> or # (power); an operand is a symbol or a number.
  The parentheses may be left out, and the words are then joined with
  spaces.  Inside an expression a number made only of digits is decimal
  and any other number is hexadecimal; k, m or g multiply it by 1K, 1M or
  1G, and ~ takes its one's complement.  The options must come first.`,
		Flags: []Flag{
			{Name: "b", Help: "also list the bit positions that are set."},
			{Name: "l", Help: "64-bit operands and result (always so on x86_64)."},
		},
		Examples: `  Where is the 16th byte after jiffies:

    crash> eval (jiffies + 16)
    hexadecimal: ffffffff8d8079d0
        decimal: 18446744071788591568  (-1920960048)
          octal: 1777777777761540074720
         binary: 1111111111111111111111111111111110001101100000000111100111010000

  128 megabytes, and the bits of a flags word:

    crash> eval 128 * 1m
    hexadecimal: 8000000  (128MB)
        decimal: 134217728
          octal: 1000000000
         binary: 0000000000000000000000000000000000001000000000000000000000000000
    crash> eval -b 41dc065
    hexadecimal: 41dc065
        decimal: 69058661
          octal: 407340145
         binary: 0000000000000000000000000000000000000100000111011100000001100101
       bits set: 26 20 19 18 16 15 14 6 5 2 0`,
		Run: runEval,
	})
}

// register adds a command to the table; a duplicate name is a programming
// error caught by the table test.
func register(c Command) {
	tableMu.Lock()
	defer tableMu.Unlock()
	if byName == nil {
		byName = make(map[string]int)
	}
	if c.JSON == nil {
		c.JSON = jsonForms[c.Name] // json_cmds.go
	}
	table = append(table, c)
	i := len(table) - 1
	for _, n := range append([]string{c.Name}, c.Aliases...) {
		if _, dup := byName[n]; !dup {
			byName[n] = i
		}
	}
}

// Table returns the commands sorted by name.
func Table() []Command {
	tableMu.Lock()
	defer tableMu.Unlock()
	out := append([]Command(nil), table...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a command by name or alias.
func Lookup(name string) (*Command, bool) {
	tableMu.Lock()
	defer tableMu.Unlock()
	i, ok := byName[name]
	if !ok {
		return nil, false
	}
	c := table[i]
	return &c, true
}

// WriteHelp prints one command's page in crash's NAME/SYNOPSIS/DESCRIPTION
// layout.
func WriteHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "\nNAME\n  %s - %s\n\nSYNOPSIS\n  %s\n\nDESCRIPTION\n%s\n\n",
		c.Name, c.Summary, c.UsageLine(), strings.TrimRight(c.HelpText(), "\n"))
	if len(c.Columns) > 0 {
		// crash's help has no such section: this one is gocrash's, so it
		// can use an ordinary table rather than a crash byte layout.
		io.WriteString(w, "COLUMNS\n")
		// ASCII and at most 100 columns wide, with long meanings wrapped:
		// help is read in terminals, logs and through pipes.
		t := tablewriter.NewTable(w,
			tablewriter.WithMaxWidth(100),
			tablewriter.WithRowAutoWrap(tw.WrapNormal),
			tablewriter.WithSymbols(tw.NewSymbols(tw.StyleASCII)))
		t.Header("column", "what it shows")
		for _, col := range c.Columns {
			t.Append(col.Name, col.Meaning)
		}
		if err := t.Render(); err != nil {
			fmt.Fprintf(w, "  (columns table: %v)\n", err)
		}
		io.WriteString(w, "\n")
	}
	if c.JSON != nil {
		// gocrash's too: where the command's JSON form is documented.
		var forms []string
		for k := range JSONResultTypes {
			if first, _, _ := strings.Cut(k, " "); first == c.Name {
				forms = append(forms, k)
			}
		}
		sort.Strings(forms)
		fmt.Fprintf(w, "JSON\n  gocrash --json (or \"set output json\") makes %s print one JSON document,\n"+
			"  {\"command\": \"%s\", \"result\": ...}, instead of its text; docs/json.md\n  describes the result (%s).\n\n",
			c.Name, forms[0], strings.Join(forms, ", "))
	}
}
