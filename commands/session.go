// Package commands holds gocrash's commands, one file each, and the small
// kernel walkers they share. A command reads the dump only through the
// Session: kernel virtual memory (Mem), physical memory (Dump) and typed
// objects (Types); it never parses a file's bytes itself.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"gocrash/kernel"
	"gocrash/vmcore"
)

// Options tune Open.
type Options = kernel.Options

// ErrMismatch is wrapped by Open's error when the vmlinux is not the
// kernel that wrote the dump.
var ErrMismatch = kernel.ErrMismatch

// A Session is one open kernel with what the commands add to it: the
// time zone dates are shown in and the task the user chose with set.
type Session struct {
	*kernel.Kernel

	// Location is the time zone DATE is shown in; crash uses the local
	// zone (localtime()), so this defaults to time.Local.
	Location *time.Location

	ctxMu   sync.Mutex
	ctxTask uint64 // task_struct of the current context; 0 = not chosen yet

	cmdMu  sync.Mutex
	cmdCtx context.Context // the running command's (RunContext)

	mods         moduleCache // mod, dis: the modules list, read once
	symval       symvalHash  // dis: crash's symbol-value hash's last lookups
	btOld        bool        // bt -O: the old method is bt's default (crash's USE_OPT_BT)
	activeMu     sync.Mutex
	activeSet    map[int]uint64 // set -a: the task marked active on a cpu
	settingsOnce sync.Once
	settings     *Settings // "set NAME VALUE" (settings.go)

	// Stderr, when set, takes the lines crash writes to its standard
	// error alone: getopt's complaint about an option and gdb's reason
	// for refusing an expression ("No symbol \"foo\" in current
	// context."). A redirected crash command's file or pipe has none of
	// them; the shell sets Stderr while a command's output is redirected.
	// Nil: they go with the output, as on crash's terminal.
	Stderr io.Writer
}

// StderrOnly reports whether err is one crash reports on its standard
// error alone (gdb's failed read under struct, an error() inside a gdb
// request such as dis -s's "source code is not available"): the shell
// leaves it out of a redirected command's file or pipe.
func StderrOnly(err error) bool {
	var e interface{ StderrOnly() bool }
	return errors.As(err, &e) && e.StderrOnly()
}

// stderrError marks err as StderrOnly.
type stderrError struct{ err error }

func (e *stderrError) Error() string    { return e.err.Error() }
func (e *stderrError) Unwrap() error    { return e.err }
func (e *stderrError) StderrOnly() bool { return true }

// diag is where a line crash writes to stderr alone goes: Stderr when the
// output is redirected, else w.
func (s *Session) diag(w io.Writer) io.Writer {
	if s != nil && s.Stderr != nil {
		return s.Stderr
	}
	return w
}

// Ctx is the context of the command being run: cancelled when the user
// presses ^C (RunContext), so walkers and read loops stop promptly. It
// lives in the Session, not in each command's signature, so that every
// command keeps the one Run signature of the table.
func (s *Session) Ctx() context.Context {
	if s == nil {
		return context.Background()
	}
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	if s.cmdCtx == nil {
		return context.Background()
	}
	return s.cmdCtx
}

// withCtx makes ctx the running command's context until restore is
// called (a command run inside another, as foreach does, gets its own).
func (s *Session) withCtx(ctx context.Context) (restore func()) {
	if s == nil {
		return func() {}
	}
	s.cmdMu.Lock()
	prev := s.cmdCtx
	s.cmdCtx = ctx
	s.cmdMu.Unlock()
	return func() {
		s.cmdMu.Lock()
		s.cmdCtx = prev
		s.cmdMu.Unlock()
	}
}

// Open opens a dump and its vmlinux (kernel.Open) for the commands.
func Open(vmlinuxPath, dumpPath string, opt Options) (*Session, error) {
	k, err := kernel.Open(vmlinuxPath, dumpPath, opt)
	if err != nil {
		return nil, err
	}
	// crash reads what makedumpfile excluded from an ELF dump as zeroes,
	// in every command
	k.Dump.SetZeroFillELF(true)
	return &Session{Kernel: k, Location: time.Local}, nil
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
	case fileaddr:
		return func(p []byte, off uint64) error { return s.Dump.ReadFile(p, off) }, nil
	case uvaddr:
		return func(p []byte, addr uint64) error {
			if addr >= userTop || addr+uint64(len(p)) > userTop {
				return &vmcore.AddrError{Addr: addr, Space: "user virtual", Err: vmcore.ErrBadAddress}
			}
			pgd, err := s.contextPGD()
			if err != nil {
				if e := s.noUserSpace(); e != nil {
					return e
				}
				return &vmcore.AddrError{Addr: addr, Space: "user virtual", Err: vmcore.ErrBadAddress, Detail: err.Error()}
			}
			// crash reads an ELF dump's excluded user pages as zeroes
			return s.readUserLikeCrash(pgd, p, addr)
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

// dumpFormat is the format that decides crash's error wording
// (kernel's DumpFormat).
func (s *Session) dumpFormat() vmcore.Format {
	if s == nil {
		return vmcore.FormatUnknown
	}
	return s.DumpFormat()
}

// noUserSpace is crash's answer to a user read in a kernel thread's
// context: uvtop reads the NULL mm's pgd, "invalid kernel virtual address:
// 38  type: "mm_struct pgd"" (nil when the context has an mm).
func (s *Session) noUserSpace() error {
	task, err := s.Context()
	if err != nil {
		return nil
	}
	o, err := s.Object(task, "task_struct")
	if err != nil {
		return nil
	}
	m, err := o.Member("mm")
	if err != nil {
		return nil
	}
	if mm, err := m.Pointer(); err != nil || mm != 0 {
		return nil
	}
	t, err := s.Types()
	if err != nil {
		return nil
	}
	off, err := t.Offset("mm_struct.pgd")
	if err != nil {
		return nil
	}
	return &MemReadError{Kind: "invalid kernel virtual address", Addr: uint64(off), ReadType: "mm_struct pgd",
		Err: vmcore.ErrBadAddress, pinned: true}
}
