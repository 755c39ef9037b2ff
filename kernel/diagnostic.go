package kernel

import "fmt"

// Severity says how much a Diagnostic matters.
type Severity int

const (
	// Warning: the session goes on, but some answers may be missing or
	// need the user's judgement (crash's "WARNING:" lines).
	Warning Severity = iota + 1
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "WARNING"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// A Diagnostic is a problem found in the dump or the vmlinux that did not
// stop the work: what, in which file, and where when an address is known.
type Diagnostic struct {
	Severity Severity
	File     string // the file it is about; "" when it is about both
	Addr     uint64 // the kernel address it is about, when HasAddr
	HasAddr  bool
	Text     string // one sentence (a mismatch lists what differs, a line each)
}

// String is the diagnostic as gocrash prints it: "WARNING: FILE: TEXT".
func (d Diagnostic) String() string {
	if d.File == "" {
		return d.Severity.String() + ": " + d.Text
	}
	return d.Severity.String() + ": " + d.File + ": " + d.Text
}
