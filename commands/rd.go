package commands

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"gocrash/vmcore"
)

// rd displays memory exactly as crash 8.0.6 does (memory.c cmd_rd() and
// display_memory(), read for the layout facts below; no code was taken).
//
//   - a line is the address right-justified in 16 hex digits, ":  ", then
//     the values, each followed by one space; 2 values per line for 64-bit,
//     4 for 32-bit, 8 for 16-bit, 16 for 8-bit;
//   - in hexadecimal, unless -s or -x, the line ends with two spaces and
//     the bytes as ASCII ('.' for bytes outside 0x20..0x7e); the last line
//     is padded so that its ASCII column lines up (column 53 for 64-bit,
//     55 for 32-bit, 59 for 16-bit, 67 for 8-bit);
//   - -d prints 64-bit values as %15ld, 32-bit as %12d, 16 as %5d, 8 as %3d,
//     -D as %20lu, %12u, %5u, %3u; 16- and 8-bit values are never negative
//     (crash passes them promoted to int);
//   - -s replaces a 64-bit value that falls inside the kernel's symbol range
//     by "symbol+offset" (decimal offset), left-justified in 16 columns;
//   - -a prints runs of printable bytes, 60 per line, each line starting
//     with its address; without a count it stops at the first unprintable
//     byte, with one every unprintable byte ends the line;
//   - memory is read one item at a time, and the first unreadable item ends
//     the command with crash's readmem() message, after what was printed.

var rdCommand = Command{
	Name:     "rd",
	Summary:  "read memory",
	Synopsis: "[-adDsSupxmfNR][-8|-16|-32|-64][-o offs][-e addr][-r file][address|symbol]\n     [count]",
	Description: `  This command displays the contents of memory, with the output formatted
  in several different manners.  The starting address may be entered either
  symbolically or by address.  The default output size is the size of a long
  data type, and the default output format is hexadecimal.  When hexadecimal
  output is used, the output will be accompanied by an ASCII translation.`,
	Flags: []Flag{
		{Name: "p", Help: "address argument is a physical address."},
		{Name: "u", Help: "address argument is a user virtual address (of the current context, the panic task by default)."},
		{Name: "m", Help: "address argument is a xen host machine address (refused: this is not a Xen dump)."},
		{Name: "f", Help: "address argument is a dumpfile offset: the bytes of the dump file as stored (compressed pages stay compressed)."},
		{Name: "d", Help: "display output in signed decimal format (default is hexadecimal)."},
		{Name: "D", Help: "display output in unsigned decimal format (default is hexadecimal)."},
		{Name: "s", Help: "displays output symbolically when appropriate."},
		{Name: "S", Help: "displays output symbolically when appropriate; if the memory references a slab cache object, the name of the slab cache is displayed in brackets; -SS also shows the referenced address with it."},
		{Name: "x", Help: "do not display ASCII translation at end of each line."},
		{Name: "8", Help: "display output in 8-bit values."},
		{Name: "16", Help: "display output in 16-bit values."},
		{Name: "32", Help: "display output in 32-bit values."},
		{Name: "64", Help: "display output in 64-bit values (the default)."},
		{Name: "a", Help: "display output in ASCII characters if the memory contains printable ASCII characters; if no count argument is entered, stop at the first non-printable character."},
		{Name: "N", Help: "display output in network byte order (only valid for 16- and 32-bit values)"},
		{Name: "R", Help: "display memory in reverse order; memory will be displayed up to and including the address argument, requiring the count argument to be greater than 1 in order to display memory before the specified address."},
		{Name: "o", Arg: "offs", Help: "offset the starting address by offs."},
		{Name: "e", Arg: "addr", Help: "display memory until reaching specified ending hexadecimal address."},
		{Name: "r", Arg: "file", Help: "dumps raw data to the specified output file; the number of bytes that are copied to the file must be specified either by a count argument or by the -e option."},
	},
	Operands: []Operand{
		{"address", `starting hexadecimal address (a bare number is hexadecimal), or "(expression)", or symbol+offset.`},
		{"symbol", "symbol of starting address to read."},
		{"count", "number of memory locations to display; if entered, it must be the last argument on the command line; if not entered, the count defaults to 1, or unlimited for -a; when used with the -r option, it is the number of bytes to be written to the file."},
	},
	Examples: `  Display the kernel's version string:

    crash> rd -a linux_banner

  Display jiffies and the three longs after it:

    crash> rd -64 jiffies 4

  The same memory as bytes, and symbolically:

    crash> rd -8 jiffies 32
    crash> rd -s jiffies 4

  Find what is at a physical address:

    crash> rd -p 1000 8

  The first bytes of the dump file itself (an ELF dump's header):

    crash> rd -f 0 4
                   0:  00010102464c457f 0000000000000000   .ELF............
                  10:  00000001003e0004 0000000000000000   ..>.............`,
	Run: runRd,
}

// The display flags, named after crash's so the option interplay (the
// order of -s and -32 matters, -d and -D combine) follows the same rules.
const (
	rdHex = 1 << iota
	rdDec
	rdUdec
	rdSymbolic
	rdNoASCII
	rdNetEndian
	rdASCIIEndline
	rdSlab  // -S: a value in a slab object shows its cache's name
	rdSlab2 // -SS: with the value
)

// rdMode is the item size, or ascii (-a) / raw (-r).
type rdMode int

const (
	rd64 rdMode = iota
	rd32
	rd16
	rd8
	rdASCII
	rdRaw
)

func (m rdMode) size() int {
	switch m {
	case rd64:
		return 8
	case rd32:
		return 4
	case rd16:
		return 2
	}
	return 1
}

func (m rdMode) perLine() int {
	switch m {
	case rd64:
		return 2
	case rd32:
		return 4
	case rd16:
		return 8
	case rd8:
		return 16
	}
	return 60
}

// asciiStart is crash's ASCII_START_n with VADDR_PRLEN 16.
func (m rdMode) asciiStart() int {
	switch m {
	case rd64:
		return 37 + 16
	case rd32:
		return 39 + 16
	case rd16:
		return 43 + 16
	}
	return 51 + 16
}

// asciiUnlimited is crash's count for -a without a count.
const asciiUnlimited = math.MaxInt64

// memType is crash's KVADDR / UVADDR / PHYSADDR.
type memType int

const (
	kvaddr memType = iota
	uvaddr
	physaddr
	fileaddr // an offset in the dump file (crash's FILEADDR: rd -f, struct -f)
)

func (t memType) String() string {
	switch t {
	case uvaddr:
		return "UVADDR"
	case physaddr:
		return "PHYSADDR"
	case fileaddr:
		return "FILEADDR"
	}
	return "KVADDR"
}

// space is crash's memtype_string(memtype, 0).
func (t memType) space() string {
	switch t {
	case uvaddr:
		return "user virtual"
	case physaddr:
		return "physical"
	case fileaddr:
		return "dumpfile"
	}
	return "kernel virtual"
}

// rdRequest is one parsed rd command.
type rdRequest struct {
	mode  rdMode
	flag  int
	mem   memType
	addr  uint64
	count int64
}

// ReadFunc reads len(p) bytes at addr or fails with a *vmcore.AddrError.
type ReadFunc func(p []byte, addr uint64) error

// MemReadError is a failed read in crash's words: "seek error: kernel
// virtual address: ffffffffdeadbeef  type: "64-bit KVADDR"".
type MemReadError struct {
	Kind     string // "seek error", "read error", "page excluded", "invalid kernel virtual address", ...
	Space    string // "kernel virtual", ...; empty for the "invalid ..." kinds
	Addr     uint64
	ReadType string
	Err      error // the underlying error, for errors.Is and the detail line
	// pinned keeps ReadType: the read that failed was not the one asked
	// for (a kernel thread's user read fails reading its mm's pgd).
	pinned bool
}

func (e *MemReadError) Error() string {
	if e.Space == "" {
		return fmt.Sprintf("%s: %x  type: \"%s\"", e.Kind, e.Addr, e.ReadType)
	}
	return fmt.Sprintf("%s: %s address: %x  type: \"%s\"", e.Kind, e.Space, e.Addr, e.ReadType)
}

func (e *MemReadError) Unwrap() error { return e.Err }

// classifyReadError maps a reader's error onto crash's readmem() message
// kinds: a translation failure is "invalid kernel virtual address"; memory
// the dump does not hold is a "read error" in an ELF dump (netdump.c: no
// PT_LOAD holds it) and a "seek error" in a kdump-compressed one
// (diskdump.c: not RAM or beyond max_mapnr); a filtered page is "page
// excluded" in a kdump-compressed dump; anything else reads as a read error.
func classifyReadError(err error, t memType, addr uint64, readType string, format vmcore.Format) *MemReadError {
	var pinned *MemReadError
	if errors.As(err, &pinned) && pinned.pinned {
		return pinned
	}
	e := &MemReadError{Kind: "read error", Space: t.space(), Addr: addr, ReadType: readType, Err: err}
	var ae *vmcore.AddrError
	if errors.As(err, &ae) {
		e.Addr = ae.Addr
		if ae.Space != t.space() {
			// A failure on the physical side of a virtual read is
			// reported at the virtual address, as crash does.
			e.Addr = addr
		}
	}
	// a dump-file read (FILEADDR) fails as a read() of the file does
	kdump := format == vmcore.FormatKdump && t != fileaddr
	switch {
	case errors.Is(err, vmcore.ErrBadAddress):
		e.Kind, e.Space = "invalid "+t.space()+" address", ""
	case errors.Is(err, vmcore.ErrExcluded):
		if kdump {
			e.Kind = "page excluded"
		}
	case errors.Is(err, vmcore.ErrNotInDump):
		if kdump {
			e.Kind = "seek error"
		}
	}
	return e
}

// parseRd reads rd's options the way crash's getopt string
// "Raxme:r:pfudDusSNo:81:3:6:" does.
func parseRd(s *Session, args []string) (req rdRequest, reverse bool, endAddr uint64, rawFile string, err error) {
	req.mode = rd64
	req.flag = rdHex
	req.mem = kvaddr
	req.count = -1
	var offset uint64
	var showOffset bool
	g := parseFlags("rd", args)
	for g.next() {
		switch g.flag {
		case "R":
			reverse = true
		case "a":
			req.mode = rdASCII
		case "8":
			req.mode = rd8
		case "16":
			req.mode = rd16
		case "32":
			req.mode = rd32
		case "64":
			req.mode = rd64
		case "e":
			if endAddr, err = parseHex(g.val); err != nil {
				return req, false, 0, "", err
			}
		case "r":
			req.mode, rawFile = rdRaw, g.val
		case "s", "S":
			if req.mode != rd64 {
				return req, false, 0, "", usageErr("rd", "-%s option is only allowed with 64-bit display", g.flag)
			}
			req.flag |= rdSymbolic
			if g.flag == "S" {
				// crash's SLAB_CACHE, then SLAB_CACHE2 for a second -S.
				if req.flag&rdSlab != 0 {
					req.flag |= rdSlab2
				}
				req.flag |= rdSlab
			}
		case "o":
			if offset, err = ParseNumber(g.val); err != nil {
				return req, false, 0, "", err
			}
			showOffset = true
		case "p":
			req.mem = physaddr
		case "u":
			req.mem = uvaddr
		case "f":
			req.mem = fileaddr
		case "d":
			req.flag &^= rdHex | rdDec
			req.flag |= rdDec
		case "D":
			req.flag &^= rdHex | rdUdec
			req.flag |= rdUdec
		case "m":
			return req, false, 0, "", errors.New("-m option only applies to xen architecture")
		case "x":
			req.flag |= rdNoASCII
		case "N":
			req.flag |= rdNetEndian
		}
	}
	if g.err != nil {
		return req, false, 0, "", g.err
	}
	args = g.rest()
	if len(args) == 0 {
		return req, false, 0, "", &UsageError{Cmd: "rd"}
	}
	if req.addr, err = EvalAddress(args[0], s.lookupFunc()); err != nil {
		return req, false, 0, "", err
	}
	if showOffset {
		req.addr += offset
	}
	if len(args) > 1 {
		n, err := ParseNumber(args[1])
		if err != nil {
			return req, false, 0, "", err
		}
		req.count = int64(n)
		if req.count < 0 || n > math.MaxInt64/8 {
			return req, false, 0, "", fmt.Errorf("invalid count request: %d", req.count)
		}
	}
	if len(args) > 2 {
		return req, false, 0, "", &UsageError{Cmd: "rd"}
	}
	return req, reverse, endAddr, rawFile, nil
}

func runRd(s *Session, args []string, w io.Writer) error {
	req, reverse, endAddr, rawFile, err := parseRd(s, args)
	if err != nil {
		var nf *SymbolNotFoundError
		if errors.As(err, &nf) {
			return s.symbolNotFound(w, nf.Name)
		}
		return err
	}
	if req.count == -1 {
		if endAddr != 0 {
			if endAddr <= req.addr {
				return fmt.Errorf("invalid ending address: %x", endAddr)
			}
			bcnt := int64(endAddr - req.addr)
			req.count = bcnt / int64(req.mode.size())
			if bcnt == 0 {
				req.count = 1
			}
		} else {
			if req.mode == rdRaw {
				return errors.New("-r option requires either a count argument or the -e option")
			}
			req.count = 1
			if req.mode == rdASCII {
				req.count = asciiUnlimited
			}
		}
	} else if endAddr != 0 {
		fmt.Fprintf(w, "WARNING: ending address ignored when count is specified\n")
	}
	if req.flag&rdHex != 0 && req.flag&(rdSymbolic|rdNoASCII) == 0 && req.mode != rdASCII {
		req.flag |= rdASCIIEndline
	}
	if req.mem == kvaddr && req.addr < s.PageOffset() {
		req.mem = uvaddr
	}
	if reverse {
		if req.count == 0 {
			req.count = 1
		}
		if req.count > 1 {
			req.addr -= uint64((req.count - 1) * int64(req.mode.size()))
		}
	}
	read, err := s.reader(req.mem)
	if err != nil {
		return err
	}
	format := s.dumpFormat()
	if req.mode == rdRaw {
		return rdRawToFile(s, req, rawFile, read, format, w)
	}
	var sym Symbolizer
	if req.flag&rdSymbolic != 0 {
		// crash's display_memory: value_to_symstr over crash's own symbol
		// table (sym's), the modules' symbols included; of symbols sharing
		// an address crash names the first. -S: else the slab cache of
		// the object the value points into.
		t, slab, both := s.symTable(), req.flag&rdSlab != 0, req.flag&rdSlab2 != 0
		sym = func(v uint64) string {
			if t.inRange(v) {
				if r, off, ok := t.search(v); ok {
					name, _, _ := t.sym(r)
					if off != 0 {
						return fmt.Sprintf("%s+%d", name, off)
					}
					return name
				}
			}
			if !slab {
				return ""
			}
			if c, ok := s.SlabCacheOf(v); ok {
				if both {
					return fmt.Sprintf("[%x:%s]", v, c)
				}
				return "[" + c + "]"
			}
			return ""
		}
	}
	return displayMemory(s.Ctx(), w, req, read, sym, format)
}

// Symbolizer names a value for rd -s: "symbol" or "symbol+off", or "".
type Symbolizer func(v uint64) string

// displayMemory is display_memory() for the item modes and -a.
func displayMemory(ctx context.Context, w io.Writer, req rdRequest, read ReadFunc, sym Symbolizer, format vmcore.Format) error {
	if req.count <= 0 {
		return fmt.Errorf("invalid count request: %d", req.count)
	}
	size := req.mode.size()
	readType := fmt.Sprintf("%d-bit %s", size*8, req.mem)
	if req.mode == rdASCII {
		readType = "ascii"
	}
	var (
		out      strings.Builder
		hexchars []byte
		linelen  int
		perLine  = req.mode.perLine()
		addr     = req.addr
		buf      [8]byte
		a        int64 // printable run position (-a)
		shown    int64
		lost     int64 // items of a dump-file read that failed
	)
	flush := func() {
		io.WriteString(w, out.String())
		out.Reset()
	}
	cancelled := ctx.Done()
	for i := int64(0); i < req.count; i++ {
		if i%int64(perLine) == 0 {
			select {
			case <-cancelled:
				flush()
				return ctx.Err()
			default:
			}
		}
		p := buf[:size]
		if err := readItem(read, p, addr); err != nil && req.mem == fileaddr {
			// crash's dumpfile reads report a failure and return (they
			// take no FAULT_ON_ERROR): display_memory counts the item
			// lost and goes on with the next one.
			fmt.Fprintf(&out, "rd: %s\n", classifyReadError(err, req.mem, addr, readType, format))
			lost++
			addr += uint64(size)
			continue
		} else if err != nil {
			flush()
			var me *MemReadError
			if errors.As(err, &me) {
				if !me.pinned {
					me.ReadType = readType
				}
				return me
			}
			return classifyReadError(err, req.mem, addr, readType, format)
		}
		if req.mode != rdASCII && (i-lost)%int64(perLine) == 0 {
			if i-lost != 0 {
				if req.flag&rdASCIIEndline != 0 {
					out.WriteString("  ")
					out.Write(hexchars)
				}
				out.WriteString("\n")
				if out.Len() > 1<<16 {
					flush()
				}
			}
			fmt.Fprintf(&out, "%16x:  ", addr)
			hexchars = hexchars[:0]
			linelen = 16 + 3
		}
		switch req.mode {
		case rd64:
			v := binary.LittleEndian.Uint64(p)
			if req.flag&rdSymbolic != 0 && req.flag&rdHex != 0 && sym != nil {
				if name := sym(v); name != "" {
					fmt.Fprintf(&out, "%-16s ", name)
					linelen += len(name) + 1
					break
				}
			}
			switch {
			case req.flag&rdHex != 0:
				fmt.Fprintf(&out, "%016x ", v)
				linelen += 17
			case req.flag&rdDec != 0:
				fmt.Fprintf(&out, "%15d ", int64(v))
			case req.flag&rdUdec != 0:
				fmt.Fprintf(&out, "%20d ", v)
			}
		case rd32:
			v := binary.LittleEndian.Uint32(p)
			if req.flag&rdNetEndian != 0 {
				v = binary.BigEndian.Uint32(p)
				binary.LittleEndian.PutUint32(p, v)
			}
			switch {
			case req.flag&rdHex != 0:
				fmt.Fprintf(&out, "%08x ", v)
				linelen += 9
			case req.flag&rdDec != 0:
				fmt.Fprintf(&out, "%12d ", int32(v))
			case req.flag&rdUdec != 0:
				fmt.Fprintf(&out, "%12d ", v)
			}
		case rd16:
			v := binary.LittleEndian.Uint16(p)
			if req.flag&rdNetEndian != 0 {
				v = binary.BigEndian.Uint16(p)
				binary.LittleEndian.PutUint16(p, v)
			}
			switch {
			case req.flag&rdHex != 0:
				fmt.Fprintf(&out, "%04x ", v)
				linelen += 5
			case req.flag&(rdDec|rdUdec) != 0:
				fmt.Fprintf(&out, "%5d ", v)
			}
		case rd8:
			switch {
			case req.flag&rdHex != 0:
				fmt.Fprintf(&out, "%02x ", p[0])
				linelen += 3
			case req.flag&(rdDec|rdUdec) != 0:
				fmt.Fprintf(&out, "%3d ", p[0])
			}
		case rdASCII:
			c := p[0]
			if c >= 0x20 && c < 0x7f { // isprint in the C locale
				if a%int64(perLine) == 0 {
					if shown != 0 && i != 0 {
						out.WriteString("\n")
					}
					fmt.Fprintf(&out, "%16x:  ", addr)
				}
				out.WriteByte(c)
				shown++
				a++
			} else {
				if req.count == asciiUnlimited {
					flush()
					return nil
				}
				a = 0
			}
		}
		if req.flag&rdHex != 0 && req.mode != rdASCII {
			for _, c := range p {
				if c >= 0x20 && c < 0x7f {
					hexchars = append(hexchars, c)
				} else {
					hexchars = append(hexchars, '.')
				}
			}
		}
		addr += uint64(size)
	}
	if req.flag&rdASCIIEndline != 0 && len(hexchars) > 0 {
		if pad := req.mode.asciiStart() - linelen; pad > 0 {
			out.WriteString(strings.Repeat(" ", pad))
		}
		out.WriteString("  ")
		out.Write(hexchars)
	}
	if lost != req.count {
		out.WriteString("\n")
	}
	flush()
	return nil
}

// readItem reads one item, in pieces where it crosses a page boundary, so
// that a failure names the address of the piece that failed (as readmem()
// does).
func readItem(read ReadFunc, p []byte, addr uint64) error {
	for len(p) > 0 {
		n := len(p)
		if room := 4096 - int(addr&4095); n > room {
			n = room
		}
		if err := read(p[:n], addr); err != nil {
			var ae *vmcore.AddrError
			if errors.As(err, &ae) {
				return err
			}
			return &vmcore.AddrError{Addr: addr, Err: err}
		}
		p, addr = p[n:], addr+uint64(n)
	}
	return nil
}

// rdRawToFile is rd -r: count bytes copied to a file.
func rdRawToFile(s *Session, req rdRequest, path string, read ReadFunc, format vmcore.Format, w io.Writer) error {
	if req.count <= 0 {
		return fmt.Errorf("invalid count request: %d", req.count)
	}
	// Opening with O_TRUNC would destroy the evidence before a byte is
	// read: the dump and the vmlinux (by inode, so links and other spellings
	// count) are never an output file.
	if out, err := os.Stat(path); err == nil {
		for _, kept := range []struct{ what, path string }{{"the dump", s.DumpPath}, {"the vmlinux", s.VmlinuxPath}} {
			if in, err := os.Stat(kept.path); err == nil && os.SameFile(in, out) {
				return fmt.Errorf("will not write to %s: it is %s of this session (gocrash never writes to its input files)", path, kept.what)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("cannot open output file: %s", path)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	ctx := s.Ctx()
	for done := int64(0); done < req.count; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int64(len(buf))
		if room := int64(4096 - (req.addr+uint64(done))&4095); n > room {
			n = room
		}
		if rest := req.count - done; n > rest {
			n = rest
		}
		at := req.addr + uint64(done)
		if err := read(buf[:n], at); err != nil {
			return classifyReadError(err, req.mem, at, "raw dump to file", format)
		}
		if _, err := f.Write(buf[:n]); err != nil {
			return fmt.Errorf("cannot write to: %s", path)
		}
		done += n
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write to: %s", path)
	}
	fmt.Fprintf(w, "%d bytes copied from 0x%x to %s\n", req.count, req.addr, path)
	return nil
}
