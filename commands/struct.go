package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/commands/gdbfmt"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:    "struct",
		Usage:   "struct struct_name[.member[,member]][-o][-l offset][-rfuxdp]\n         [address | symbol][:cpuspec] [count | -c count]",
		Summary: "structure contents",
		Help:    structHelp,
		Options: []string{"-o", "-l", "-r", "-x", "-d", "-c", "-p", "-f", "-u"},
		Run:     func(s *Session, args []string, w io.Writer) error { return runDatatype(s, "struct", args, w) },
	})
	register(Command{
		Name:    "union",
		Usage:   "union union_name[.member[,member]] [-o][-l offset][-rfuxdp]\n        [address | symbol][:cpuspec] [count | -c count]",
		Summary: "union contents",
		Help:    unionHelp,
		Options: []string{"-o", "-l", "-r", "-x", "-d", "-c", "-p", "-f", "-u"},
		Run:     func(s *Session, args []string, w io.Writer) error { return runDatatype(s, "union", args, w) },
	})
}

const structHelp = `  This command displays either a structure definition, or a formatted display
  of the contents of a structure at a specified address.  When no address is
  specified, the structure definition is shown along with the structure size.
  A structure member may be appended to the structure name in order to limit
  the scope of the data displayed to that particular member; a comma-separated
  list of members may be given.  Integers are shown in decimal unless -x (or
  crash's output radix) says hexadecimal.

    struct_name  name of a C-code structure used by the kernel.
      .member  name of a structure member; several, separated by commas.
           -o  show member offsets when displaying structure definitions;
               with an address, the address of each member.
    -l offset  the address given is that of an embedded list_head at offset
               (a number, or struct.member) inside the structure.
           -r  raw dump of the structure's memory.
           -f  address argument is a dumpfile offset: the structure is read
               from the dump file itself.
           -u  address argument is a user virtual address in the current
               context.
           -x  integers in hexadecimal.
           -d  integers in decimal.
           -p  if a structure member is a pointer value, show the member's
               data type on the output line; and on the subsequent line(s),
               dereference the pointer, display the pointer target's symbol
               value in brackets if appropriate, and if possible, display the
               target data; requires an address argument.
      address  hexadecimal address of a structure; a symbol of one.
     :cpuspec  with a per-cpu symbol: the cpus (a list such as 0,1 or a for
               all) whose copies to show.
        count  how many structures in a row (negative: ending at address).

  A structure name alone as the command word is a struct command:
  "task_struct.pid ADDR" is "struct task_struct.pid ADDR".

EXAMPLES
  The definition of struct list_head, with offsets:

    crash> struct -o list_head
    struct list_head {
       [0] struct list_head *next;
       [8] struct list_head *prev;
    }
    SIZE: 16

  Members of the init process's task_struct:

    crash> struct task_struct.pid,comm ff42bab500198000
      pid = 1,
      comm = "init\000\000\000\000\000\000\000\000\000\000\000",

  The same in the short form, and a member of each cpu's runqueue:

    crash> task_struct.pid ff42bab500198000
      pid = 1,
    crash> struct rq.nr_running runqueues:a
    [0]: ff42bab50e621d80
      nr_running = 2,
    [1]: ff42bab50e721d80
      nr_running = 2,

  Pointer members and what they point to (-p):

    crash> task_struct.stack,mm,sched_class ff42bab500198000 -p
      void *stack = 0xff5ed7c980010000
      -> (unknown target type)
      struct mm_struct *mm = 0xff42bab5018b4000
      -> {
           {
             mm_mt = {
    ...
      const struct sched_class *sched_class = 0xffffffff8d38b9d0
      -> <fair_sched_class> {
           enqueue_task = 0xffffffff8ca5cdc5 <enqueue_task_fair>,
    ...
    crash> struct -p list_head ff42bab500198000
    struct list_head {
      struct list_head *next = 0x0
      -> NULL
      struct list_head *prev = 0x0
      -> NULL
    }

  The ELF header at the start of the dump file (-f), and a structure in
  the current context's user memory (-u):

    crash> struct -f -x elf64_hdr 0
    struct elf64_hdr {
      e_ident = "\177ELF\002\001\001\000\000\000\000\000\000\000\000",
      e_type = 0x4,
      e_machine = 0x3e,
    ...
    crash> struct -u elf64_hdr.e_entry,e_phoff 400000
      e_entry = 0,
      e_phoff = 0,`

const unionHelp = `  This command displays either a union definition, or a formatted display
  of the contents of a union at a specified address.  It takes the options
  and arguments of the struct command.

EXAMPLES
  The definition of a union (inner anonymous types of named members
  print as {...}, as gdb's ptype does):

    crash> union __sifields
    union __sifields {
        struct {
            __kernel_pid_t _pid;
            __kernel_uid32_t _uid;
        } _kill;
    ...
    }
    SIZE: 32`

// dtOpts are the options of struct and union (crash's
// cmd_datatype_common).
type dtOpts struct {
	radix    int // 0, 10 or 16
	raw      bool
	offsets  bool
	listOff  int64
	count    int64
	hasCount bool
	deref    bool    // -p: show what each pointer member points to
	mem      memType // -u: user virtual, -f: dump file offset; else kernel virtual
	fileOff  uint64  // -f: the offset
}

// permute splits args the way glibc's getopt sees them (it permutes: an
// option anywhere is an option, "--" ends them); withArg names the letters
// that take an argument. It returns the options in order and the other
// words.
func permute(cmd string, args []string, letters, withArg string) (opts []optArg, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			if !strings.ContainsRune(letters, rune(c)) {
				return nil, nil, usageErr(cmd, "invalid option -- '%c'", c)
			}
			if strings.ContainsRune(withArg, rune(c)) {
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, nil, usageErr(cmd, "option requires an argument -- '%c'", c)
					}
					i++
					v = args[i]
				}
				opts = append(opts, optArg{c, v})
				break
			}
			opts = append(opts, optArg{c: c})
		}
	}
	return opts, rest, nil
}

type optArg struct {
	c   byte
	arg string
}

func runDatatype(s *Session, kind string, args []string, w io.Writer) error {
	s.loadModuleTypes()
	opts, rest, err := permute(kind, args, "pxdhfuc:rvol:", "cl")
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			ue.Reason = "" // crash prints the usage block alone
		}
		return err
	}
	var o dtOpts
	for _, op := range opts {
		switch op.c {
		case 'd':
			if err := setRadix(&o.radix, 10); err != nil {
				return err
			}
		case 'x', 'h':
			if err := setRadix(&o.radix, 16); err != nil {
				return err
			}
		case 'c':
			n, _ := strconv.ParseInt(op.arg, 10, 64)
			o.count, o.hasCount = n, true
		case 'r':
			o.raw = true
		case 'o':
			o.offsets = true
		case 'l':
			off, err := parseListOffset(s, op.arg)
			if err != nil {
				return err
			}
			o.listOff = off
		case 'p':
			o.deref = true
		case 'f':
			o.mem = fileaddr
		case 'u':
			o.mem = uvaddr
		case 'v':
			// crash's STRUCT_VERBOSE: only raw_data_dump looks at it,
			// and prints the same.
		}
	}
	if len(rest) == 0 {
		return &UsageError{Cmd: kind}
	}
	spec := rest[0]
	if strings.HasSuffix(spec, ",") || strings.HasSuffix(spec, ".") {
		return fmt.Errorf("invalid format: %s", spec)
	}
	var addr uint64
	hasAddr := false
	cpuspec, hasCPU := "", false
	for _, a := range rest[1:] {
		if hasAddr && o.hasCount {
			return errors.New("too many arguments!")
		}
		if !hasAddr {
			if i := strings.IndexByte(a, ':'); i >= 0 {
				a, cpuspec, hasCPU = a[:i], a[i+1:], true
			}
		}
		if isNumberArg(a) {
			if hasAddr {
				n, err := strconv.ParseInt(a, 10, 64)
				if err != nil {
					u, err2 := parseHex(a)
					if err2 != nil {
						return fmt.Errorf("invalid count: %s", a)
					}
					n = int64(u)
				}
				o.count, o.hasCount = n, true
				continue
			}
			if hasCPU && o.mem == fileaddr {
				return errors.New("-f option cannot be used with percpu")
			}
			if !hasCPU && o.mem == fileaddr {
				// crash's stoll: decimal when every digit is, else hex
				v, err := strconv.ParseUint(a, 10, 64)
				if err != nil {
					if v, err = parseHex(a); err != nil {
						return fmt.Errorf("invalid address: %s", a)
					}
				}
				o.fileOff, hasAddr = v, true
				continue
			}
			v, err := parseHex(a)
			if err != nil {
				return fmt.Errorf("invalid address: %s", a)
			}
			if !hasCPU && o.mem != uvaddr && v < s.PageOffset() && v < s.kernelStart() {
				return fmt.Errorf("invalid kernel virtual address: %s", a)
			}
			addr, hasAddr = v, true
			continue
		}
		if v, ok := s.Vmlinux.Lookup(a); ok {
			if hasCPU && !s.isPerCPUSymbol(v) {
				fmt.Fprintf(w, "WARNING: %s is not percpu; cpuspec ignored.\n", a)
				hasCPU = false
			}
			addr, hasAddr = v, true
			continue
		}
		fmt.Fprintf(w, "symbol not found: %s\npossible alternatives:\n  (none found)\n", a)
		return nil
	}
	var cpus []int
	if hasCPU {
		if cpuspec == "" {
			cpus = []int{s.currentCPU()}
		} else {
			n, err := s.NumCPUs()
			if err != nil {
				return err
			}
			c, err := parseCPUList(cpuspec, n)
			if err != nil {
				return err
			}
			for i := range n {
				if c[i] {
					cpus = append(cpus, i)
				}
			}
		}
	}
	count := int64(1)
	if o.hasCount {
		if !hasAddr {
			return errors.New("no kernel virtual address argument entered")
		}
		count = o.count
	}
	if o.deref && !hasAddr {
		return errors.New("-p option requires address argument")
	}
	addr -= uint64(o.listOff)

	name, memberList, hasMembers := strings.Cut(spec, ".")
	var members []string
	if hasMembers {
		members = strings.Fields(strings.ReplaceAll(memberList, ",", " "))
	}
	t, err := s.Types()
	if err != nil {
		return err
	}
	// A value is printed from the kernel's BTF where it has the type
	// (valueTypes); a declaration (no address, -o) and -p's pointer
	// declarations are the DWARF's, gdb's spelling.
	vt := t
	if hasAddr && !o.offsets && !o.deref {
		vt = s.valueTypes()
	}
	dt, err := lookupDatatype(vt, name)
	if err != nil && vt != t {
		vt = t
		dt, err = lookupDatatype(t, name)
	}
	if err != nil {
		return fmt.Errorf("invalid data structure reference: %s", name)
	}
	if kind != "" && dt.kind != kind {
		return fmt.Errorf("data type mismatch: %s is not a %s", name, kind)
	}
	pr := s.gdbPrinter(o.radix)
	pr.Types = vt
	if len(members) > 1 && !hasAddr {
		if o.offsets {
			fmt.Fprintf(w, "%s: -o option not valid with multiple member format\n", kind)
		} else {
			fmt.Fprintf(w, "%s: multiple member format not supported in this syntax\n", kind)
		}
		members = nil
		o.offsets = true
	}
	if len(members) > 1 && hasAddr && o.offsets {
		return errors.New("-o option not valid with multiple member format")
	}
	if !hasAddr {
		var member string
		if len(members) > 0 {
			member = members[0]
			if _, err := t.Member(dt.lookupName, member); err != nil {
				return fmt.Errorf("invalid data structure reference: %s.%s", name, member)
			}
			if strings.Contains(member, ".") {
				return fmt.Errorf("invalid data structure reference: %s.%s", name, member)
			}
		}
		writeDeclaration(w, t, dt, member, 0, o.offsets || member != "", radixOf(o.radix))
		return nil
	}
	if cpus != nil {
		for _, c := range cpus {
			off, err := s.PerCPUOffset(c)
			if err != nil {
				return err
			}
			a := addr + off
			fmt.Fprintf(w, "[%d]: %x\n", c, a)
			if err := s.datatypeAt(w, pr, vt, dt, a, count, o, members); err != nil {
				return err
			}
		}
		return nil
	}
	return s.datatypeAt(w, pr, vt, dt, addr, count, o, members)
}

func radixOf(r int) int {
	if r == 0 {
		return 10
	}
	return r
}

// isNumberArg is crash's IS_A_NUMBER: a hexadecimal or decimal number.
func isNumberArg(a string) bool {
	return a != "" && (isHexWord(a) || isDecWord(a))
}

func parseListOffset(s *Session, arg string) (int64, error) {
	if isNumberArg(arg) {
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			u, err := parseHex(arg)
			if err != nil {
				return 0, fmt.Errorf("invalid -l option: %s", arg)
			}
			n = int64(u)
		}
		return n, nil
	}
	t, err := s.Types()
	if err != nil {
		return 0, err
	}
	name, member, ok := strings.Cut(arg, ".")
	if ok {
		if dt, err := lookupDatatype(t, name); err == nil {
			if m, err := t.Member(dt.lookupName, member); err == nil {
				return m.Offset, nil
			}
		}
	}
	return 0, fmt.Errorf("invalid -l option: %s", arg)
}

// kernelStart is the lowest address crash's IS_KVADDR accepts besides the
// direct map: the start of the kernel's address space half.
func (s *Session) kernelStart() uint64 { return 0xffff800000000000 }

func (s *Session) isPerCPUSymbol(v uint64) bool {
	start, ok1 := s.Vmlinux.Lookup("__per_cpu_start")
	end, ok2 := s.Vmlinux.Lookup("__per_cpu_end")
	return ok1 && ok2 && v >= start && v < end
}

// currentCPU is the cpu of the current context (crash's
// CURRENT_CONTEXT()->processor), 0 when unknown.
func (s *Session) currentCPU() int {
	if task, err := s.Context(); err == nil {
		if t, err := s.Types(); err == nil {
			if o, err := t.Object(s.Mem, task, "task_struct"); err == nil {
				if m, err := o.Member("thread_info.cpu"); err == nil {
					if v, err := m.Int(); err == nil {
						return int(v)
					}
				}
				if m, err := o.Member("cpu"); err == nil {
					if v, err := m.Int(); err == nil {
						return int(v)
					}
				}
			}
		}
	}
	return 0
}

// A datatype is a struct or union named on a command line.
type datatype struct {
	kind       string // "struct" or "union"
	name       string // as typed
	lookupName string // for Types.Lookup
	typedef    bool
	typ        godwarf.Type
	st         *godwarf.StructType
	size       int64
}

// lookupDatatype resolves a struct, union or typedef name the way crash's
// arg_to_datatype does for struct and union: "task_struct", a typedef of a
// struct ("cpumask_t").
func lookupDatatype(t *symbols.Types, name string) (*datatype, error) {
	if name == "" || strings.ContainsAny(name, " *[]()") {
		return nil, fmt.Errorf("no type %q", name)
	}
	for _, kind := range []string{"struct", "union", ""} {
		lookup := kind + " " + name
		if kind == "" {
			lookup = name
		}
		typ, err := t.Lookup(lookup)
		if err != nil {
			continue
		}
		_, isTypedef := typ.(*godwarf.TypedefType)
		if kind != "" && isTypedef {
			continue
		}
		rt, err := t.Resolve(typ)
		if err != nil {
			continue
		}
		st, ok := rt.(*godwarf.StructType)
		if !ok {
			continue
		}
		size, err := t.Size(st)
		if err != nil {
			continue
		}
		return &datatype{kind: st.Kind, name: name, lookupName: lookup, typedef: isTypedef, typ: typ, st: st, size: size}, nil
	}
	return nil, fmt.Errorf("no struct or union %q", name)
}

// gdbPrinter is a value printer over the session's memory and symbols, in
// the radix given (0: crash's default, decimal).
func (s *Session) gdbPrinter(radix int) *gdbfmt.Printer {
	t, _ := s.Types()
	st := s.Settings()
	if radix == 0 {
		radix = st.outputRadix() // set radix
	}
	return &gdbfmt.Printer{Types: t, Symbol: s.gdbSymbol, Mem: s.Mem, Hex: radix == 16, PrintMax: st.printMax()}
}

// valueTypes is the Types values are printed through (struct and union
// at an address, task, the structures of mach -c, net -s and vm -R): the
// vmlinux's BTF-backed Types (symbols.Types.Layouts) when it has a .BTF,
// whose types are decoded one at a time, else its DWARF. A value prints
// alike from either (TestBTFValuesMatchDWARF); a dwz'd or distribution
// vmlinux's DWARF costs 50-100 ms before the first structure of a session
// prints, BTF a millisecond or two. GOCRASH_VALUES=dwarf (or
// GOCRASH_LAYOUTS=dwarf) prints from DWARF.
func (s *Session) valueTypes() *symbols.Types {
	t, err := s.Types()
	if err != nil || t == nil {
		return t
	}
	if t.FromBTF() || os.Getenv("GOCRASH_VALUES") == "dwarf" {
		return t
	}
	return t.Layouts()
}

// FormatObject writes the object as crash's struct command does: "struct
// NAME " then gdb's pretty print of its value and a newline (task and the
// other commands that show a kernel structure use it). hex prints integers
// in hexadecimal.
func (s *Session) FormatObject(w io.Writer, obj symbols.Object, hex bool) error {
	radix := 10
	if hex {
		radix = 16
	}
	t := obj.Types()
	if t == nil {
		var err error
		if t, err = s.Types(); err != nil {
			return err
		}
	}
	pr := s.gdbPrinter(radix)
	pr.Types = t // the Types the object's type is of
	data, err := obj.Bytes()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	rt, err := t.Resolve(obj.Type)
	if err != nil {
		return err
	}
	if st, ok := rt.(*godwarf.StructType); ok {
		b.WriteString(st.Kind + " " + st.StructName + " ")
	}
	pr.Value(&b, obj.Type, data, obj.Addr, 0)
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

// datatypeAt prints count objects of dt from addr on (crash's
// do_datatype_addr).
func (s *Session) datatypeAt(w io.Writer, pr *gdbfmt.Printer, t *symbols.Types, dt *datatype, addr uint64, count int64, o dtOpts, members []string) error {
	n := count
	if n < 0 {
		n = -n
		addr -= uint64(dt.size) * uint64(n)
		addr += uint64(dt.size)
	}
	if o.mem == fileaddr {
		// crash prints the object at address 0 and reads every byte of
		// it from the file offset, which a negative count leaves alone.
		addr = 0
	}
	ctx := s.Ctx()
	for c := int64(0); c < n; c++ {
		// A count of 10^9 over readable memory is what was asked for:
		// ^C stops it, and the first unreadable object ends it.
		if err := ctx.Err(); err != nil {
			return err
		}
		if c > 0 {
			io.WriteString(w, "\n")
		}
		at := addr + uint64(c)*uint64(dt.size)
		// where the object's bytes are read, and how a failure names it
		mem, where := symbols.Memory(s.Mem), at
		switch o.mem {
		case uvaddr:
			mem = s.userMemory()
		case fileaddr:
			where = o.fileOff + uint64(c)*uint64(dt.size)
			mem = s.fileMemory(where)
		}
		opr := *pr
		opr.Mem = mem
		list := members
		if len(list) == 0 {
			list = []string{""}
		}
		for _, m := range list {
			if m != "" {
				if len(members) > 1 && o.raw {
					return errors.New("only one structure member allowed with -r")
				}
				if _, err := t.Member(dt.lookupName, m); err != nil {
					return fmt.Errorf("invalid data structure reference: %s.%s", dt.name, m)
				}
			}
			switch {
			case o.offsets:
				writeDeclaration(w, t, dt, m, at, true, radixOf(o.radix))
			case o.raw:
				start, size := where, dt.size
				if m != "" {
					mem, _ := t.Member(dt.lookupName, m)
					start += uint64(mem.Offset)
					if sz, err := t.Size(mem.Type); err == nil {
						size = sz
					}
				}
				if err := s.rawDump(w, o.mem, start, size); err != nil {
					return err
				}
			default:
				text, err := s.datatypeText(&opr, mem, dt, at)
				if err != nil && m == "" {
					// crash's print_struct writes "struct NAME " before gdb
					// fails, and gdb's read callback says why.
					me := classifyReadError(errors.Unwrap(err), o.mem, where, "gdb_readmem_callback", s.dumpFormat())
					fmt.Fprintf(w, "%s %s %s: %v\n", dt.kind, dt.name, dt.kind, me)
					// (a kernel thread's failed pgd read ends the command
					// before print_struct's newline)
					if dt.kind == "struct" && !me.pinned {
						io.WriteString(w, "\n") // print_struct's own newline after gdb's output
					}
					return &printedError{err}
				}
				if err != nil {
					return err
				}
				if m == "" {
					if o.deref {
						s.printWithDereference(w, &opr, dt, at, text, o.radix)
						continue
					}
					io.WriteString(w, text)
					continue
				}
				if o.deref && s.dereferencePointer(w, dt, m, at, o.radix) {
					continue
				}
				var out string
				if strings.ContainsAny(m, ".[") {
					out, err = parseForMemberExtended(text, m)
				} else {
					out = parseForMember(text, m)
				}
				io.WriteString(w, out)
				if err != nil {
					// crash's error(INFO) from inside its gdb output
					// parse: not in a redirected answer.
					fmt.Fprintf(s.diag(w), "%s: %v\n", dt.kind, err)
				}
			}
		}
	}
	return nil
}

// datatypeText is what crash's print_struct writes: "struct NAME ", gdb's
// value, a newline (print_union has none); the bytes come from mem.
func (s *Session) datatypeText(pr *gdbfmt.Printer, mem symbols.Memory, dt *datatype, addr uint64) (string, error) {
	data := make([]byte, dt.size)
	if err := mem.ReadVirt(data, addr); err != nil {
		return "", &readErr{memReadError(err, addr, dt.kind+" "+dt.name), err}
	}
	var b bytes.Buffer
	b.WriteString(dt.kind + " " + dt.name + " ")
	pr.Value(&b, dt.typ, data, addr, 0)
	if dt.kind != "union" {
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// userMemory reads user virtual memory of the current context (struct -u).
func (s *Session) userMemory() symbols.Memory {
	read, err := s.reader(uvaddr)
	if err != nil {
		return readFuncMemory(func(p []byte, addr uint64) error { return err })
	}
	return readFuncMemory(read)
}

// fileMemory serves every read from the dump file at off, whatever the
// address: gdb's reads of struct -f's object at address 0 all land there
// (crash's gdb_readmem_callback reads its curcmd_private offset).
func (s *Session) fileMemory(off uint64) symbols.Memory {
	return readFuncMemory(func(p []byte, _ uint64) error { return s.Dump.ReadFile(p, off) })
}

// readFuncMemory is a ReadFunc as a symbols.Memory.
type readFuncMemory ReadFunc

func (f readFuncMemory) ReadVirt(p []byte, addr uint64) error { return f(p, addr) }

type readErr struct {
	msg error
	err error
}

func (e *readErr) Error() string { return e.msg.Error() }
func (e *readErr) Unwrap() error { return e.err }

// StderrOnly: crash's gdb reports the failed read on its stderr, and a
// redirected struct command's file is empty.
func (e *readErr) StderrOnly() bool { return true }

// memReadError says which read failed.
func memReadError(err error, addr uint64, what string) error {
	return fmt.Errorf("cannot read %s at %x: %v", what, addr, err)
}

// rawDump is crash's raw_data_dump: rd's 64-bit display of the bytes, of
// the memory (or dump file) mt says.
func (s *Session) rawDump(w io.Writer, mt memType, addr uint64, size int64) error {
	n := (size + 7) / 8
	var args []string
	switch mt {
	case uvaddr:
		args = append(args, "-u")
	case fileaddr:
		args = append(args, "-f")
	}
	if size%8 != 0 || addr%8 != 0 {
		return runRd(s, append(args, "-8", fmt.Sprintf("%x", addr), strconv.FormatInt(size, 10)), w)
	}
	return runRd(s, append(args, "-64", fmt.Sprintf("%x", addr), strconv.FormatInt(n, 10)), w)
}

// writeDeclaration prints the definition of dt as crash's
// do_datatype_declaration does: gdb's ptype text, each member line with its
// offset (or its address, from vaddr) when offsets is set, and "SIZE: N"
// unless one member was asked for.
func writeDeclaration(w io.Writer, t *symbols.Types, dt *datatype, member string, vaddr uint64, offsets bool, radix int) {
	body := gdbfmt.Body(dt.st)
	lines := strings.SplitAfter(body+"\n", "\n")
	var b strings.Builder
	sizeStr := strconv.FormatInt(dt.size, 10)
	if radix == 16 {
		sizeStr = "0x" + strconv.FormatInt(dt.size, 16)
	}
	var anon struct{ inUnion, inStruct bool }
	for i, l := range lines {
		if l == "" {
			continue
		}
		if i == 0 {
			if dt.typedef {
				b.WriteString("typedef ")
			}
			b.WriteString(l)
			continue
		}
		if dt.typedef && strings.HasPrefix(l, "}") {
			b.WriteString("} " + dt.name + ";\n")
			continue
		}
		if offsets && (l[0] == ' ' || l[0] == '\t') {
			showMemberOffset(&b, t, dt, member, vaddr, l, sizeStr, radix, &anon)
			continue
		}
		b.WriteString(l)
	}
	if member == "" {
		b.WriteString("SIZE: " + sizeStr + "\n")
	}
	io.WriteString(w, b.String())
}

// showMemberOffset writes one ptype line with crash's offset column
// (show_member_offset): the member name is dug out of the declaration text
// and looked up in the outer type, directly or through anonymous members;
// lines without one get blanks.
func showMemberOffset(b *strings.Builder, t *symbols.Types, dt *datatype, member string, vaddr uint64, line, sizeStr string, radix int, anon *struct{ inUnion, inStruct bool }) {
	width := len(sizeStr) + 4
	if !strings.HasPrefix(line, "    ") {
		b.WriteString("rejecting: " + line)
		return
	}
	if strings.HasPrefix(line, "    union {") {
		anon.inUnion = true
	}
	if strings.HasPrefix(line, "    struct {") {
		anon.inStruct = true
	}
	endOfBlock := strings.HasPrefix(line, "    } ")
	target := memberTarget(line)
	empty := func() {
		if endOfBlock {
			anon.inUnion, anon.inStruct = false, false
		}
		if member != "" {
			return
		}
		b.WriteString(strings.Repeat(" ", len(sizeStr)+1))
		b.WriteString(line)
	}
	if target == "" {
		empty()
		return
	}
	if member != "" && member != target {
		if endOfBlock {
			anon.inUnion, anon.inStruct = false, false
		}
		return
	}
	m, err := t.Member(dt.lookupName, target)
	if err != nil {
		empty()
		return
	}
	col := func() string {
		switch {
		case vaddr != 0:
			return fmt.Sprintf("  [%x]", uint64(m.Offset)+vaddr)
		case radix == 16:
			return fmt.Sprintf("  [0x%x]", m.Offset)
		}
		return fmt.Sprintf("  [%d]", m.Offset)
	}
	if endOfBlock && member != "" {
		b.WriteString(strings.Repeat(" ", width+1))
		switch {
		case anon.inUnion && !anon.inStruct:
			b.WriteString("union {\n")
		case anon.inStruct && !anon.inUnion:
			b.WriteString("struct {\n")
		}
		anon.inUnion, anon.inStruct = false, false
	}
	fmt.Fprintf(b, "%*s", width, col())
	b.WriteString(line[3:])
}

// memberTarget finds the member name in a ptype line as crash does: the word
// before " : " of a bit field, the name inside "(*name)" of a function
// pointer, else the last word when it ends the declaration with ';'; with
// "*[];()" turned to blanks and cut at the first blank.
func memberTarget(line string) string {
	words := strings.Fields(line)
	target := ""
	found := false
	if strings.Contains(line, ":") {
		for i := 1; i < len(words); i++ {
			if words[i] == ":" {
				target, found = words[i-1], true
				break
			}
		}
	} else if len(words) > 0 {
		i := 0
		if strings.Contains(line, "(*") {
			for ; i < len(words); i++ {
				w := words[i]
				var tg string
				switch {
				case strings.HasPrefix(w, "(*"):
					tg = w[2:]
				case strings.HasPrefix(w, "*(*"):
					tg = w[3:]
				case strings.HasPrefix(w, "**(*"):
					tg = w[4:]
				default:
					continue
				}
				j := strings.IndexByte(tg, ')')
				if j < 0 {
					continue
				}
				target, found = tg[:j], true
				break
			}
		} else {
			i = len(words)
		}
		if i == len(words) {
			target = words[len(words)-1]
			found = strings.Contains(target, ";")
		}
	}
	if !found {
		return ""
	}
	target = strings.Map(func(r rune) rune {
		if strings.ContainsRune("*[];()", r) {
			return ' '
		}
		return r
	}, target)
	target = strings.TrimSpace(target)
	if i := strings.IndexByte(target, ' '); i >= 0 {
		target = target[:i]
	}
	return target
}

func leadingSpaces(s string) int {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

// parseForMember picks one member's lines out of a struct's gdb text as
// crash's parse_for_member (PARSE_FOR_DATA) does: the line "  NAME = ..."
// outside nested blocks, and when it opens a block, every line to the one
// closing it; a trailing ", " becomes the line's end.
func parseForMember(text, member string) string {
	look1 := "  " + member + " "
	look2 := "  " + member + "["
	lines := strings.SplitAfter(text, "\n")
	var out strings.Builder
	i := 0
	indent, embed := 0, 0
	for {
		on := 0
		array := false
		for ; i < len(lines); i++ {
			buf := lines[i]
			if buf == "" {
				continue
			}
			ls := leadingSpaces(buf)
			if (embed != 0 && ls == embed) || (strings.Contains(buf, "}}") && embed == ls-2) {
				embed = 0
			}
			if on == 0 && embed == 0 && strings.Contains(buf, "= {") && !strings.Contains(buf, look1) {
				embed = ls
			}
			if embed != 0 {
				continue
			}
			if strings.Contains(buf, look1) || strings.Contains(buf, look2) {
				on++
				if strings.Contains(buf, "= {") {
					indent = ls
				}
				if strings.Contains(buf, "[") {
					array = true
				}
			}
			if on == 0 {
				continue
			}
			if (indent != 0 && on > 1 && ls == indent && !strings.Contains(buf, "}")) || buf[0] == '}' {
				i++
				break
			}
			if indent != 0 && on > 1 && indent == ls-2 && strings.Contains(buf, "}}") {
				out.WriteString(buf)
				i++
				break
			}
			if indent == 0 {
				out.WriteString(strings.Replace(buf, ", \n", "\n", 1))
				i++
				break
			}
			if strings.Contains(buf, "}") && ls == indent {
				out.WriteString(strings.Replace(buf, "}, \n", "}\n", 1))
				i++
				break
			}
			out.WriteString(buf)
			on++
		}
		if !array || i >= len(lines) {
			break
		}
	}
	return out.String()
}

// crashBufsize is crash's BUFSIZE (defs.h), the size of the line buffers
// it reads gdb's output with.
const crashBufsize = 1500

// elem is a node of crash's parse_for_member_extended tree.
type elem struct {
	name        string
	value       string
	arrayRoot   bool
	parent      *elem
	inner, next *elem
}

// parseForMemberExtended picks a member path ("se.avg", "pid_links[1]")
// out of a struct's gdb text as crash's parse_for_member_extended does: it
// reads the text into a tree of named values and prints the node found
// under the path's name.
func parseForMemberExtended(text, member string) (string, error) {
	root := &elem{}
	cur := &elem{parent: root}
	root.inner = cur
	allocInner := func() {
		n := &elem{parent: cur}
		cur.inner = n
		cur = n
	}
	allocNext := func() {
		n := &elem{parent: cur.parent}
		cur.next = n
		cur = n
	}
	// crash reads the text with fgets into a BUFSIZE (1500) buffer: a
	// longer line comes as several, 1,499 bytes at a time - a cpumask of
	// Debian's NR_CPUS=8192, 128 words on one line, opens a level it never
	// closes, and the member after it is not found ("invalid data
	// structure member reference: pid_links[1]").
	var chunks []string
	for _, line := range strings.Split(text, "\n") {
		full := line + "\n"
		for len(full) > crashBufsize-1 {
			chunks = append(chunks, full[:crashBufsize-1])
			full = full[crashBufsize-1:]
		}
		chunks = append(chunks, full)
	}
	for _, line := range chunks {
		buf := strings.TrimRightFunc(line, func(r rune) bool { return r <= ' ' })
		if buf == "" {
			continue
		}
		comma := strings.HasSuffix(buf, ",")
		if comma {
			buf = buf[:len(buf)-1]
		}
		if braces := rightBraces(buf); braces > 0 {
			for ; braces > 0 && cur != nil; braces-- {
				cur = cur.parent
			}
			if cur == nil {
				return "", fmt.Errorf("invalid data structure member reference: %s", member)
			}
			if cur.parent == root || comma {
				allocNext()
			}
			continue
		}
		p1 := strings.TrimLeft(buf, " ")
		se := p1
		eq := strings.Index(buf, " = ")
		if eq >= 0 {
			se = buf[eq+3:]
			cur.name = strings.TrimLeft(buf[:eq], " ")
		}
		switch {
		case eq >= 0 && (!strings.HasPrefix(se, "{") || strings.HasSuffix(buf, "}")):
			cur.value = se
			if comma {
				allocNext()
			}
		case strings.HasPrefix(se, "{"):
			allocInner()
			if strings.HasPrefix(se, "{{") {
				cur.parent.arrayRoot = true
				allocInner()
			}
		case strings.Contains(se, "}, {"):
			cur = cur.parent
			allocNext()
			allocInner()
		case strings.HasPrefix(buf, "struct "):
			rest := buf[len("struct "):]
			if i := strings.Index(rest, " {"); i >= 0 {
				rest = rest[:i]
			}
			cur.name = rest
			allocInner()
		}
		if cur == nil {
			return "", fmt.Errorf("invalid data structure member reference: %s", member)
		}
	}
	for i := root.inner; i != nil; i = i.next {
		if n := findNode(i.inner, member, 0); n != nil {
			var b strings.Builder
			dumpNode(&b, n, member, 0, false, 0)
			return b.String(), nil
		}
	}
	return "", fmt.Errorf("invalid data structure member reference: %s", member)
}

// rightBraces is crash's is_right_brace: 1 or 2 for a line of blanks and
// "}" or "}}" (and a comma, already taken off), else 0.
func rightBraces(b string) int {
	b = strings.TrimLeft(b, " ")
	r := 0
	if strings.HasPrefix(b, "}}") {
		r, b = 2, b[2:]
	} else if strings.HasPrefix(b, "}") {
		r, b = 1, b[1:]
	}
	b = strings.TrimPrefix(b, ",")
	if b != "" {
		return 0
	}
	return r
}

func findNode(s *elem, n string, depth int) *elem {
	if n == "" || s == nil || depth > 64 {
		return s
	}
	p := strings.IndexByte(n, '.')
	if p < 0 {
		p = len(n)
	}
	b := strings.IndexByte(n[:p], '[')
	if b < 0 {
		b = p
	}
	t := s
	for ; s != nil; s = s.next {
		if s.name == "" || s.name != n[:b] {
			continue
		}
		if s.arrayRoot && b == p && p < len(n) {
			return nil
		}
		if b < p {
			j := b + 1
			for j < p && n[j] >= '0' && n[j] <= '9' {
				j++
			}
			if !s.arrayRoot || j == b+1 || j >= p || n[j] != ']' {
				return nil
			}
			idx, _ := strconv.Atoi(n[b+1 : j])
			for s = s.inner; s != nil && idx > 0; s, idx = s.next, idx-1 {
			}
			if idx > 0 || s == nil {
				return nil
			}
		}
		if p == len(n) {
			return s
		}
		return findNode(s.inner, n[p+1:], depth+1)
	}
	for s = t; s != nil; s = s.next {
		if s.name != "" {
			continue
		}
		if r := findNode(s.inner, n, depth+1); r != nil {
			return r
		}
	}
	return nil
}

func dumpNode(b *strings.Builder, p *elem, f string, level int, isArray bool, depth int) {
	if p == nil || depth > 64 {
		return
	}
	arr := 0
	if isArray {
		arr = 1
	}
	put := func(m int, s string) {
		b.WriteString(strings.Repeat(" ", 2+2*(m*arr+level)))
		b.WriteString(s)
	}
	for {
		name := p.name
		if f != "" {
			name = f
		}
		if p.inner != nil {
			open, closing := "{", "}"
			if p.inner.arrayRoot {
				open, closing = "{{", "}}"
			}
			if p.name != "" {
				put(1, name+" = "+open+"\n")
			} else {
				if f != "" {
					put(1, f+" = ")
				}
				put(1, open+"\n")
			}
			dumpNode(b, p.inner, "", arr+level+1, p.inner.arrayRoot, depth+1)
			comma := ""
			if p.next != nil && !p.next.arrayRoot {
				comma = ","
			}
			put(1, closing+comma+"\n")
		} else {
			end := "\n"
			if p.next != nil {
				end = ",\n"
			}
			put(1, name+" = "+p.value+end)
		}
		if level == 0 {
			return
		}
		p = p.next
		if p == nil {
			return
		}
		if p.arrayRoot {
			put(0, "}, {\n")
		}
	}
}
