package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Settings are the internal variables "set NAME [VALUE]" reads and
// changes, and "set -v" lists (crash: tools.c cmd_set() and
// show_options()). A session starts with the ones the commands need
// (zero_excluded, unwind_notes); the shell adds its own (scroll, silent)
// with Define, so that the pager setting lives beside the pager.
type Settings struct {
	mu   sync.Mutex
	list []*Setting
	on   map[string]bool // the values of settings made by DefineBool
}

// Setting is one internal variable.
type Setting struct {
	Name   string
	Values string // what it takes, as help shows it: "on | off"
	Help   string // one line (or a few) for "help set"
	// Get is the value as "set NAME" and "set -v" show it.
	Get func() string
	// Set changes it; a nil Set makes the setting read-only.
	Set func(value string) error
	// Gocrash marks a setting crash does not have.
	Gocrash bool
}

// crashOrder is show_options()'s order for the variables gocrash shares
// with crash; the others follow by name.
var crashOrder = []string{"scroll", "radix", "refresh", "print_max", "print_array", "console",
	"debug", "core", "hash", "silent", "edit", "namelist", "dumpfile", "unwind", "zero_excluded",
	"null-stop", "gdb", "scope", "offline", "redzone", "error"}

// Define adds a setting, or replaces the one of the same name.
func (st *Settings) Define(s Setting) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, old := range st.list {
		if old.Name == s.Name {
			st.list[i] = &s
			return
		}
	}
	st.list = append(st.list, &s)
}

// DefineBool adds an on|off setting kept here; On reads it.
func (st *Settings) DefineBool(name, help string, gocrash bool, initial bool) {
	st.mu.Lock()
	if st.on == nil {
		st.on = map[string]bool{}
	}
	st.on[name] = initial
	st.mu.Unlock()
	st.Define(Setting{
		Name: name, Values: "on | off", Help: help, Gocrash: gocrash,
		Get: func() string { return onOff(st.On(name)) },
		Set: func(v string) error {
			b, err := ParseOnOff(v)
			if err != nil {
				return err
			}
			st.mu.Lock()
			st.on[name] = b
			st.mu.Unlock()
			return nil
		},
	})
}

// On is the value of a setting made by DefineBool (false if there is none).
func (st *Settings) On(name string) bool {
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.on[name]
}

// Lookup finds a setting by name.
func (st *Settings) Lookup(name string) (*Setting, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.list {
		if s.Name == name {
			c := *s
			return &c, true
		}
	}
	return nil, false
}

// All returns the settings in "set -v" order: crash's variables in
// crash's order, then gocrash's own by name.
func (st *Settings) All() []Setting {
	st.mu.Lock()
	out := make([]Setting, 0, len(st.list))
	for _, s := range st.list {
		out = append(out, *s)
	}
	st.mu.Unlock()
	rank := func(n string) int {
		for i, c := range crashOrder {
			if c == n {
				return i
			}
		}
		return len(crashOrder)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i].Name), rank(out[j].Name)
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Names are the settings' names, sorted (for completion).
func (st *Settings) Names() []string {
	var out []string
	for _, s := range st.All() {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// ParseOnOff reads crash's spellings of a boolean setting: on, off, or a
// number (non-zero is on).
func ParseOnOff(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "1":
		return true, nil
	case "off", "0":
		return false, nil
	}
	if n, err := strconv.ParseInt(v, 0, 64); err == nil {
		return n != 0, nil
	}
	return false, fmt.Errorf("invalid setting: %s (on or off)", v)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Settings returns the session's settings, defining the commands' own
// the first time (a nil session has only those).
func (s *Session) Settings() *Settings {
	if s == nil {
		return defaultSettings()
	}
	s.settingsOnce.Do(func() {
		st := defaultSettings()
		if s.Dump != nil {
			d := s.Dump
			st.Define(Setting{
				Name:   "zero_excluded",
				Values: "on | off",
				Help: "controls whether excluded pages, or pages that are missing from\n" +
					"an incomplete dumpfile, read as zero-filled memory (else they are\n" +
					"errors naming the page).  Off unless gocrash was started with\n" +
					"--zero-excluded.",
				Get: func() string { return onOff(d.ZeroExcluded()) },
				Set: func(v string) error {
					b, err := ParseOnOff(v)
					if err == nil {
						d.SetZeroExcluded(b)
					}
					return err
				},
			})
		}
		if s.VmlinuxPath != "" {
			p := s.VmlinuxPath
			st.Define(Setting{Name: "namelist", Values: "filename", Help: "the kernel (vmlinux) of this session; set at start only.", Get: func() string { return p }})
		}
		if s.DumpPath != "" {
			p := s.DumpPath
			st.Define(Setting{Name: "dumpfile", Values: "filename", Help: "the dump of this session; set at start only.", Get: func() string { return p }})
		}
		s.settings = st
	})
	return s.settings
}

// UnwindNotes is the setting that makes bt say which frames an unwinder
// other than ORC found. crash prints no such line, so it is off.
const UnwindNotes = "unwind_notes"

// crashFixed are crash's variables whose value gocrash does not let change:
// the value is what gocrash does (gdb's print_array off, no console, no
// core file on error, lists walked with loop detection as crash's hash
// on…), as crash shows it by default.
var crashFixed = []struct{ name, value, help string }{
	{"refresh", "on", "the task table is read again when the system changes (a dump does not)."},
	{"print_array", "off", "gdb's \"set print array\": arrays are printed on one line."},
	{"console", "(not assigned)", "the tty crash's debug output goes to: none."},
	{"debug", "0", "crash's debug level: none."},
	{"core", "off", "a core file when gocrash meets an internal error: never."},
	{"hash", "on", "lists are walked with loop detection (crash's hash table of entries seen)."},
	{"edit", "vi", "the command line's editing mode (crash's default)."},
	{"unwind", "off", "crash's DWARF unwinder (gocrash's bt reads ORC, then DWARF CFI, as crash's default)."},
	{"null-stop", "off", "gdb's \"set print null-stop\": char arrays print all of their characters."},
	{"gdb", "off", "crash's gdb mode: off, commands are crash's."},
	{"scope", "0 (not set)", "the text address gdb resolves symbols in: none."},
	{"offline", "show", "offline cpus are shown."},
	{"redzone", "on", "kmem -s objects include SLUB's red zones (crash's default)."},
	{"error", "default", "where error messages go: as crash's default."},
}

// defineCrashVariables adds crash's variables: radix and print_max, which
// change what p, struct and union print, and the rest with the values
// gocrash's fixed behaviour has (crashFixed).
func defineCrashVariables(st *Settings) {
	var radix, printMax atomic.Int64
	radix.Store(10)
	printMax.Store(256)
	st.Define(Setting{
		Name: "radix", Values: "10 | 16",
		Help: "the output radix of p, struct and union without -x or -d.",
		Get: func() string {
			if radix.Load() == 16 {
				return "16 (hexadecimal)"
			}
			return "10 (decimal)"
		},
		Set: func(v string) error {
			switch v {
			case "10", "decimal":
				radix.Store(10)
			case "16", "hex", "hexadecimal":
				radix.Store(16)
			default:
				return fmt.Errorf("invalid radix: %s (10 or 16)", v)
			}
			return nil
		},
	})
	st.Define(Setting{
		Name: "print_max", Values: "number",
		Help: "gdb's \"set print elements\": the most elements of an array, or characters of a string, printed.",
		Get:  func() string { return strconv.FormatInt(printMax.Load(), 10) },
		Set: func(v string) error {
			n, err := strconv.ParseInt(v, 0, 32)
			if err != nil || n <= 0 {
				return fmt.Errorf("invalid print_max: %s", v)
			}
			printMax.Store(n)
			return nil
		},
	})
	for _, f := range crashFixed {
		value := f.value
		st.Define(Setting{Name: f.name, Values: "(shown only)", Help: f.help, Get: func() string { return value }})
	}
}

// outputRadix is the radix setting: 10 or 16.
func (st *Settings) outputRadix() int {
	if s, ok := st.Lookup("radix"); ok && strings.HasPrefix(s.Get(), "16") {
		return 16
	}
	return 10
}

// printMax is the print_max setting.
func (st *Settings) printMax() int {
	if s, ok := st.Lookup("print_max"); ok {
		if n, err := strconv.Atoi(s.Get()); err == nil {
			return n
		}
	}
	return 0
}

func defaultSettings() *Settings {
	st := &Settings{}
	defineCrashVariables(st)
	st.DefineBool(UnwindNotes,
		"if on, bt ends a backtrace with a line naming the frames that DWARF\n"+
			"CFI or the frame-pointer chain found where the kernel's ORC data\n"+
			"could not unwind (crash prints no such line).", true, false)
	defineOutput(st) // json.go
	return st
}

// runSetVariable is "set NAME [VALUE]": with no value it shows the
// setting, as crash does ("scroll: on (/usr/bin/less)").
func runSetVariable(s *Session, st *Setting, args []string, w func(string) error) error {
	if len(args) > 1 {
		return usageErr("set", "one value expected for %s: %s", st.Name, strings.Join(args, " "))
	}
	if len(args) == 1 {
		if st.Set == nil {
			return fmt.Errorf("%s cannot be changed during a session", st.Name)
		}
		if err := st.Set(args[0]); err != nil {
			return fmt.Errorf("%s: %v", st.Name, err)
		}
	}
	return w(fmt.Sprintf("%s: %s\n", st.Name, st.Get()))
}

// writeSettings is "set -v": every setting as crash's show_options()
// lays them out, the name right-aligned in 14 columns.
// gocrash's own settings are left out, as crash's list has none of them
// ("set NAME" shows one).
func writeSettings(st *Settings) string {
	var b strings.Builder
	for _, s := range st.All() {
		if s.Gocrash {
			continue
		}
		fmt.Fprintf(&b, "%14s: %s\n", s.Name, s.Get())
	}
	return b.String()
}
