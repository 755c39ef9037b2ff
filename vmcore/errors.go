package vmcore

import (
	"errors"
	"fmt"
)

// The sentinels below classify why an address could not be read, so that
// callers can tell a filtered page (makedumpfile dump level) from memory the
// dump never covered and from a file that was cut short.
var (
	// ErrNotInDump: the address is outside every memory range the dump
	// describes (a hole in physical memory, beyond max_mapnr, no PT_LOAD).
	ErrNotInDump = errors.New("not in dump")
	// ErrExcluded: the page existed but makedumpfile filtered it out.
	ErrExcluded = errors.New("page excluded from dump")
	// ErrTruncated: the headers describe the page but its data (or its page
	// descriptor) lies past the end of the file, or was never written.
	ErrTruncated = errors.New("dump file truncated")
	// ErrBadAddress: the address cannot be translated (not canonical, page
	// table entry not present, ...).
	ErrBadAddress = errors.New("invalid address")
	// ErrCorrupt: the dump holds the page but its data cannot be decoded
	// (decompression failure, impossible descriptor).
	ErrCorrupt = errors.New("corrupt page data")
)

// AddrError reports a failed memory access at one address.
type AddrError struct {
	Addr   uint64
	Space  string // "physical", "kernel virtual", "user virtual"
	Err    error  // one of the sentinels above
	Detail string // where and why, e.g. "pfn 0x1234 excluded by dump level 31"
}

func (e *AddrError) Error() string {
	s := fmt.Sprintf("%s address %#x: %v", e.Space, e.Addr, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *AddrError) Unwrap() error { return e.Err }

func physError(addr uint64, err error, format string, args ...any) *AddrError {
	return &AddrError{Addr: addr, Space: "physical", Err: err, Detail: fmt.Sprintf(format, args...)}
}

// FormatError reports a malformed dump file: what was expected and where.
type FormatError struct {
	Off int64  // file offset of the offending data, -1 if not applicable
	Msg string // what was expected
	Val any    // the value found, nil if not applicable
}

func (e *FormatError) Error() string {
	s := "vmcore: " + e.Msg
	if e.Val != nil {
		s += fmt.Sprintf(" '%v'", e.Val)
	}
	if e.Off >= 0 {
		s += fmt.Sprintf(" at offset %#x", e.Off)
	}
	return s
}

func formatErr(off int64, msg string, val any) error {
	return &FormatError{Off: off, Msg: msg, Val: val}
}

// detail is the reason inside err without its sentinel, for wrapping a
// physical-address error into a virtual-address one.
func detail(err error) string {
	var ae *AddrError
	if errors.As(err, &ae) {
		if ae.Space == "physical" {
			return fmt.Sprintf("physical %#x: %s", ae.Addr, ae.Detail)
		}
		return fmt.Sprintf("%s %#x: %s", ae.Space, ae.Addr, ae.Detail)
	}
	return err.Error()
}
