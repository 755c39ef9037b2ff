package commands

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// sys -c: the system call table, one line a slot: its number, the
// function it points at, and where that function is defined. The facts
// are crash's (kernel.c dump_sys_call_table(), get_NR_syscalls(),
// symbols.c get_build_directory()); the table is read the same way so that
// the lines match crash's.

const sysCallHeader = "NUM  SYSTEM CALL                FILE AND LINE NUMBER\n"

// sysCall is one sys_call_table slot.
type sysCall struct {
	nr   int
	addr uint64
	name string // "" when the slot points at no symbol's start
	near string // then the symbol and offset it points into, if any
	at   string // "../fs/read_write.c: 623", or "" when unknown
}

// syscallCount is NR_syscalls: the length of sys_call_table's array type
// in DWARF (confirmed), else the distance to the next symbol (crash's
// guess for a kernel whose table has no sized type).
func (s *Session) syscallCount(table uint64) (n int, confirmed bool) {
	if types, err := s.Types(); err == nil {
		if typ, err := types.VarType("sys_call_table"); err == nil {
			if at, ok := typ.(*godwarf.ArrayType); ok && at.Count > 0 {
				return int(at.Count), true
			}
		}
	}
	next, ok := s.nextSymbol(table)
	if !ok {
		return 256, false // crash's default when nothing follows
	}
	return int((next - table) / 8), false
}

// nextSymbol is the address of the first symbol above addr.
func (s *Session) nextSymbol(addr uint64) (uint64, bool) {
	sym, ok := s.Vmlinux.SymbolAfter(addr)
	return sym.Addr, ok
}

// buildDir is crash's get_build_directory(): the path of schedule()'s
// source file up to "/kernel/" (or "/./arch/"), e.g.
// "/usr/src/linux-6.1" for "/usr/src/linux-6.1/kernel/sched/core.c".
func buildDir(lt *symbols.LineTable, img *symbols.Vmlinux) (string, bool) {
	for _, fn := range []string{"schedule", "do_schedule"} {
		addr, ok := img.Lookup(fn)
		if !ok {
			continue
		}
		file, line, err := lt.Line(addr)
		if err != nil {
			return "", false
		}
		at := lineString(file, line)
		for _, cut := range []string{"/kernel/", "/./arch/"} {
			if i := strings.Index(at, cut); i >= 0 {
				return at[:i], true
			}
		}
		return "", false
	}
	return "", false
}

// lineString is a source line as crash's get_line_number() words it:
// gdb's "file: line" with any "//" made "/".
func lineString(file string, line int) string {
	at := fmt.Sprintf("%s: %d", file, line)
	for strings.Contains(at, "//") {
		at = strings.ReplaceAll(at, "//", "/")
	}
	return at
}

// syscalls reads sys_call_table and places each entry in the source.
func (s *Session) syscalls() (calls []sysCall, confirmed bool, err error) {
	table, ok := s.Vmlinux.Lookup("sys_call_table")
	if !ok {
		return nil, false, fmt.Errorf("sys_call_table: no such symbol in %s", s.VmlinuxPath)
	}
	n, confirmed := s.syscallCount(table)
	if n <= 0 || n > 4096 {
		return nil, false, fmt.Errorf("sys_call_table: implausible number of system calls %d", n)
	}
	buf := make([]byte, 8*n)
	if err := s.Mem.ReadVirt(buf, table); err != nil {
		return nil, false, classifyReadError(err, kvaddr, table, "sys_call_table", s.dumpFormat())
	}
	lt, ltErr := symbols.NewLineTable(s.Vmlinux)
	dir, haveDir := "", false
	if ltErr == nil {
		dir, haveDir = buildDir(lt, s.Vmlinux)
	}
	for i := range n {
		c := sysCall{nr: i, addr: binary.LittleEndian.Uint64(buf[8*i:])}
		if sym, ok := s.Vmlinux.SymbolStartingAt(c.addr); ok {
			c.name = sym.Name
		} else if sym, ok := s.Vmlinux.SymbolAt(c.addr); ok {
			c.near = fmt.Sprintf("%s+%d", sym.Name, c.addr-sym.Addr)
		}
		if c.name != "" && ltErr == nil {
			c.at = sourceOf(lt, s, c.addr, dir, haveDir)
		}
		calls = append(calls, c)
	}
	if ltErr != nil {
		err = fmt.Errorf("line numbers are not available: %v", ltErr)
	}
	return calls, confirmed, err
}

// sourceOf is where a system call function is defined. For a function
// whose first instructions are inlined from a header, the first line of
// the function that is not in include/*.h names the right file (crash
// looks at each address up to the next symbol). Paths under the build
// directory are shown from it, as "../fs/read_write.c: 623".
func sourceOf(lt *symbols.LineTable, s *Session, addr uint64, dir string, haveDir bool) string {
	end, ok := s.nextSymbol(addr)
	if !ok || end <= addr || end-addr > 1<<20 {
		return ""
	}
	ranges, err := lt.Ranges(addr, end)
	if err != nil {
		return ""
	}
	for _, r := range ranges {
		at := lineString(r.File, r.Line)
		if strings.Contains(at, ".h: ") && strings.Contains(at, "include/") {
			continue
		}
		if !haveDir {
			return at
		}
		if i := strings.Index(at, dir); i >= 0 {
			return ".." + at[i+len(dir):]
		}
	}
	return ""
}

// writeSyscalls is sys -c [name|number ...]: the whole table, or the
// lines whose name contains a name argument, or the line of a number.
func writeSyscalls(s *Session, specs []string, w io.Writer) error {
	calls, confirmed, err := s.syscalls()
	if calls == nil {
		return err
	}
	if err != nil {
		fmt.Fprintf(w, "sys: %v\n", err)
	}
	var lines []string
	for _, c := range calls {
		if c.name == "" {
			// Only a table whose length DWARF confirmed has real
			// slots past the functions; a guessed length may run
			// into the next variable.
			if confirmed {
				l := fmt.Sprintf("%3d  invalid sys_call_table entry: %x ", c.nr, c.addr)
				if c.near != "" {
					l += "(" + c.near + ")"
				}
				lines = append(lines, l+"\n")
			}
			continue
		}
		lines = append(lines, fmt.Sprintf("%3d  %-26s %s\n", c.nr, c.name, c.at))
	}
	if len(specs) == 0 {
		io.WriteString(w, sysCallHeader)
		for _, l := range lines {
			io.WriteString(w, l)
		}
		return nil
	}
	// The header goes before the first line printed for the first
	// argument only, as crash prints it.
	printed := 0
	for n, spec := range specs {
		printed = max(printed, n)
		num, isNum := parseSyscallNumber(spec)
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			if isNum && f[0] != num || !isNum && !strings.Contains(f[1], spec) {
				continue
			}
			if printed == 0 {
				io.WriteString(w, sysCallHeader)
			}
			printed++
			io.WriteString(w, l)
			if isNum {
				break
			}
		}
	}
	return nil
}

// parseSyscallNumber reads a sys -c argument that is a number (decimal,
// or hexadecimal with 0x or hex digits, as crash's IS_A_NUMBER() and
// stol() take it) and returns it as the table prints it.
func parseSyscallNumber(spec string) (string, bool) {
	if v, err := strconv.ParseUint(spec, 10, 64); err == nil {
		return strconv.FormatUint(v, 10), true
	}
	h := strings.TrimPrefix(strings.TrimPrefix(spec, "0x"), "0X")
	if v, err := strconv.ParseUint(h, 16, 64); err == nil && h != "" {
		return strconv.FormatUint(v, 10), true
	}
	return "", false
}
