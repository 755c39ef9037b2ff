// Package commands holds gocrash's commands, one file each, and the small
// kernel walkers they share. A command reads the dump only through the
// Session: kernel virtual memory (Mem), physical memory (Dump) and typed
// objects (Types); it never parses a file's bytes itself.
package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"gocrash/symbols"
	"gocrash/vmcore"
)

// Options tune Open.
type Options struct {
	Force        bool // go on when the vmlinux does not match the dump
	ZeroExcluded bool // read pages filtered out of the dump as zeroes (crash's zero_excluded)
}

// ErrMismatch is wrapped by Open's error when the vmlinux is not the
// kernel that wrote the dump.
var ErrMismatch = errors.New("vmlinux and vmcore do not match")

// A Session is one open dump with its kernel: what every command reads.
type Session struct {
	Dump        *vmcore.Dump
	Mem         *vmcore.KernelSpace
	Vmlinux     *symbols.Vmlinux
	VmlinuxPath string
	DumpPath    string

	// Location is the time zone DATE is shown in; crash uses the local
	// zone (localtime()), so this defaults to time.Local.
	Location *time.Location

	// Warnings are what Open let pass (a forced mismatch); the shell prints
	// them before the first prompt.
	Warnings []string

	typesOnce sync.Once
	types     *symbols.Types
	typesErr  error

	pageOffsetOnce sync.Once
	pageOff        uint64

	bannerErr error // the dump's linux_banner could not be read at Open

	ctxMu   sync.Mutex
	ctxTask uint64 // task_struct of the current context; 0 = not chosen yet
}

// Open opens a dump and its vmlinux. The two paths may come in either
// order: the one vmcore recognises as a dump is the dump. A vmlinux that
// is not the dump's kernel is refused (crash: "vmlinux and vmcore do not
// match!") unless opt.Force is set.
func Open(vmlinuxPath, dumpPath string, opt Options) (*Session, error) {
	d, err := vmcore.Open(dumpPath)
	if err != nil {
		d2, err2 := vmcore.Open(vmlinuxPath)
		if err2 != nil {
			return nil, err
		}
		d, vmlinuxPath, dumpPath = d2, dumpPath, vmlinuxPath
	}
	s := &Session{Dump: d, VmlinuxPath: vmlinuxPath, DumpPath: dumpPath, Location: time.Local}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	d.SetZeroExcluded(opt.ZeroExcluded)
	if s.Vmlinux, err = symbols.Open(vmlinuxPath); err != nil {
		return nil, vmlinuxOpenError(vmlinuxPath, dumpPath, err)
	}
	var params vmcore.X86Params
	if info := d.Info(); info != nil {
		s.Vmlinux.SetKASLR(info.KernelOffset)
		params, err = vmcore.ParamsFromInfo(info)
	} else {
		// QEMU dump-guest-memory without VMCOREINFO (session_qemu.go).
		params, err = s.paramsWithoutInfo()
	}
	if err != nil {
		return nil, withDumpWarnings(d, fmt.Errorf("%s: %w", dumpPath, err))
	}
	s.Mem = vmcore.NewKernelSpace(d, params)
	if diff := s.checkMatch(); diff != "" {
		msg := fmt.Sprintf("%s and %s do not match!\n%s", vmlinuxPath, dumpPath, diff)
		if !opt.Force {
			return nil, &mismatchError{msg: msg}
		}
		s.Warnings = append(s.Warnings, "WARNING: "+msg+"(going on: --force)")
	}
	s.Warnings = append(s.Warnings, s.openWarnings()...)
	ok = true
	return s, nil
}

type mismatchError struct{ msg string }

func (e *mismatchError) Error() string { return strings.TrimRight(e.msg, "\n") }
func (e *mismatchError) Unwrap() error { return ErrMismatch }

// bannerMax bounds linux_banner reads; the kernel's is well under 256.
const bannerMax = 512

// checkMatch compares the vmlinux's linux_banner with the dump's copy at
// the relocated address, and the release in it with VMCOREINFO's
// OSRELEASE. It returns what differs, one line each, or "".
func (s *Session) checkMatch() string {
	var diff strings.Builder
	addr, ok := s.Vmlinux.Lookup("linux_banner")
	if !ok {
		return "  vmlinux: no linux_banner symbol\n"
	}
	fileBanner, ferr := readBanner(func(p []byte) error { return s.Vmlinux.ReadFile(addr, p) })
	dumpBanner, derr := readBanner(func(p []byte) error { return s.Mem.ReadVirt(p, addr) })
	switch {
	case ferr != nil:
		fmt.Fprintf(&diff, "  vmlinux: cannot read linux_banner at %#x: %v\n", addr, ferr)
	case derr != nil:
		// A damaged dump, not evidence of another kernel: the release
		// check below still runs; the caller warns.
		s.bannerErr = fmt.Errorf("cannot read linux_banner at %#x to check that the vmlinux matches: %w", addr, derr)
	case fileBanner != dumpBanner:
		fmt.Fprintf(&diff, "  vmlinux: %s\n  vmcore:  %s\n", bannerText(strings.TrimSpace(fileBanner)), bannerText(strings.TrimSpace(dumpBanner)))
	}
	if info := s.Dump.Info(); info != nil && info.OSRelease != "" && ferr == nil {
		if rel := bannerRelease(fileBanner); rel != "" && rel != info.OSRelease {
			fmt.Fprintf(&diff, "  vmlinux release: %s\n  vmcore OSRELEASE: %s\n", rel, info.OSRelease)
		}
	}
	return diff.String()
}

// readBanner reads a NUL-terminated banner, shrinking the read when the
// end of the readable area is near (the banner sits in .rodata, whose end
// may be closer than bannerMax).
func readBanner(read func(p []byte) error) (string, error) {
	var err error
	for n := bannerMax; n >= 64; n /= 2 {
		buf := make([]byte, n)
		if err = read(buf); err == nil {
			if i := bytes.IndexByte(buf, 0); i >= 0 {
				buf = buf[:i]
			}
			return string(buf), nil
		}
	}
	return "", err
}

// bannerRelease is the release word of "Linux version RELEASE (...".
func bannerRelease(banner string) string {
	f := strings.Fields(banner)
	if len(f) >= 3 && f[0] == "Linux" && f[1] == "version" {
		return f[2]
	}
	return ""
}

// Types returns the vmlinux's DWARF types, indexed on first use.
func (s *Session) Types() (*symbols.Types, error) {
	s.typesOnce.Do(func() {
		s.types, s.typesErr = s.Vmlinux.Types()
	})
	return s.types, s.typesErr
}

// Close releases the dump and the vmlinux.
func (s *Session) Close() error {
	var errs []error
	if s.Vmlinux != nil {
		errs = append(errs, s.Vmlinux.Close())
		s.Vmlinux = nil
	}
	if s.Dump != nil {
		errs = append(errs, s.Dump.Close())
		s.Dump = nil
	}
	return errors.Join(errs...)
}

// Var is the typed global variable name.
func (s *Session) Var(name string) (symbols.Object, error) {
	t, err := s.Types()
	if err != nil {
		return symbols.Object{}, err
	}
	return t.Var(s.Mem, s.Vmlinux, name)
}

// Object is the object of type typeName at addr.
func (s *Session) Object(addr uint64, typeName string) (symbols.Object, error) {
	t, err := s.Types()
	if err != nil {
		return symbols.Object{}, err
	}
	return t.Object(s.Mem, addr, typeName)
}

// defaultPageOffset is x86_64's __PAGE_OFFSET_BASE_L4 without KASLR.
const defaultPageOffset = 0xffff888000000000

// pageOffset is the start of the direct map (page_offset_base, randomised
// by KASLR): crash treats lower addresses given to rd as user addresses.
func (s *Session) pageOffset() uint64 {
	if s == nil || s.Mem == nil {
		return defaultPageOffset
	}
	s.pageOffsetOnce.Do(func() {
		s.pageOff = defaultPageOffset
		if o, err := s.Var("page_offset_base"); err == nil {
			if v, err := o.Uint(); err == nil && v != 0 {
				s.pageOff = v
			}
		}
	})
	return s.pageOff
}

// userTop is x86_64's TASK_SIZE_MAX + 1 with 4-level paging
// (crash's x86_64_is_uvaddr limit).
const userTop = 0x0000800000000000

// reader returns how rd and friends read memory of the given kind.
func (s *Session) reader(t memType) (ReadFunc, error) {
	if s == nil || s.Dump == nil {
		return nil, errors.New("no dump open")
	}
	switch t {
	case physaddr:
		return s.Dump.ReadPhys, nil
	case uvaddr:
		return func(p []byte, addr uint64) error {
			if addr >= userTop || addr+uint64(len(p)) > userTop {
				return &vmcore.AddrError{Addr: addr, Space: "user virtual", Err: vmcore.ErrBadAddress}
			}
			pgd, err := s.contextPGD()
			if err != nil {
				return &vmcore.AddrError{Addr: addr, Space: "user virtual", Err: vmcore.ErrBadAddress, Detail: err.Error()}
			}
			return s.Mem.ReadUser(pgd, p, addr)
		}, nil
	}
	return s.Mem.ReadVirt, nil
}

// symbolizer returns rd -s's naming: crash's value_to_symstr with its
// default output radix of 10 ("name+123"), for values the symbol table
// covers.
func (s *Session) symbolizer() Symbolizer {
	if s == nil || s.Vmlinux == nil {
		return nil
	}
	return func(v uint64) string {
		name, off, ok := s.Vmlinux.Symbolize(v)
		if !ok {
			return ""
		}
		if off == 0 {
			return name
		}
		return fmt.Sprintf("%s+%d", name, off)
	}
}

// symbolNotFound prints crash's answer to an unknown symbol: the
// symbols containing the word, as "possible alternatives".
func (s *Session) symbolNotFound(w io.Writer, name string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "symbol not found: %s\npossible alternatives:\n", name)
	n := 0
	if s != nil && s.Vmlinux != nil {
		for _, sym := range s.Vmlinux.Symbols() {
			if strings.Contains(sym.Name, name) {
				fmt.Fprintf(&b, "  %x (%c) %s\n", sym.Addr, sym.Kind, sym.Name)
				n++
			}
		}
	}
	if n == 0 {
		b.WriteString("  (none found)\n")
	}
	io.WriteString(w, b.String())
	return &printedError{err: &SymbolNotFoundError{Name: name}}
}

// printedError is a failure whose message the command already printed:
// the shell counts it but does not print it again.
type printedError struct{ err error }

func (e *printedError) Error() string { return e.err.Error() }
func (e *printedError) Unwrap() error { return e.err }

// Printed reports whether err's message was already written to the
// command's output.
func Printed(err error) bool {
	var p *printedError
	var u *UsageError
	return errors.As(err, &p) || errors.As(err, &u)
}

// dumpFormat is the format that decides crash's error wording: a
// flattened dump reads like the format inside it.
func (s *Session) dumpFormat() vmcore.Format {
	if s == nil || s.Dump == nil {
		return vmcore.FormatUnknown
	}
	if f := s.Dump.Format(); f != vmcore.FormatFlattened {
		return f
	}
	return s.Dump.InnerFormat()
}
