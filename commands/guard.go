package commands

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"gocrash/vmcore"
)

// What a damaged dump or a wrong file looks like to the user: Open's
// errors and warnings name the file and what was found in it, so that one
// line tells a cut-short dump from a wrong vmlinux. The damage matrix
// (cmd/gocrash/damage_test.go) runs every case of this over real dumps.

// openWarnings are the problems Open found that do not stop a session:
// the dump's own (unreadable notes, a stream cut short), a dump
// makedumpfile could not finish, a vmlinux without DWARF.
func (s *Session) openWarnings() []string {
	var out []string
	d := s.Dump
	if s.bannerErr != nil {
		out = append(out, fmt.Sprintf("WARNING: %s: %v", s.DumpPath, s.bannerErr))
	}
	for _, w := range d.Warnings() {
		out = append(out, fmt.Sprintf("WARNING: %s: %s", s.DumpPath, strings.TrimPrefix(w, "vmcore: ")))
	}
	if d.Incomplete() {
		why := "its data ends before its headers say"
		if h := d.KdumpHeader(); h != nil && h.Incomplete() {
			// makedumpfile sets the flag when writing fails (ENOSPC) and
			// names the file vmcore-incomplete.
			why = "makedumpfile marked it DUMP_DH_COMPRESSED_INCOMPLETE (it could not write it all)"
		}
		out = append(out, fmt.Sprintf("WARNING: %s: the dump is incomplete: %s; pages missing from it are read errors (\"set zero_excluded on\" reads them as zeroes)", s.DumpPath, why))
	}
	if len(d.CPUs()) == 0 {
		out = append(out, fmt.Sprintf("WARNING: %s: no CPU register notes (NT_PRSTATUS): the registers of the tasks active at the crash are unknown; bt starts their backtraces at return addresses into machine_kexec or crash_nmi_callback found on their stacks", s.DumpPath))
	}
	if s.Vmlinux != nil && !s.Vmlinux.HasDWARF() {
		out = append(out, fmt.Sprintf("WARNING: %s: no DWARF debug information (stripped?): only commands that need no kernel types will work; use the vmlinux with debug info (the -dbg/-dbgsym package)", s.VmlinuxPath))
	}
	return out
}

// withDumpWarnings adds to an error that stops Open what the dump's
// parser noticed on the way (a note area cut short explains a missing
// VMCOREINFO).
func withDumpWarnings(d *vmcore.Dump, err error) error {
	ws := d.Warnings()
	if len(ws) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(ws, "; "))
}

// vmlinuxOpenError explains a vmlinux that cannot be opened; the
// commonest cause is a second dump where the vmlinux should be.
func vmlinuxOpenError(vmlinuxPath, dumpPath string, err error) error {
	if d, derr := vmcore.Open(vmlinuxPath); derr == nil {
		d.Close()
		return fmt.Errorf("%s and %s are both dumps: a vmlinux (the kernel with debug info) is needed too", vmlinuxPath, dumpPath)
	}
	return err
}

// bannerText quotes a banner that is not text (a wrong address reads
// garbage), so that a message stays one readable line.
func bannerText(s string) string {
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			q := strconv.QuoteToASCII(s)
			if len(q) > 120 {
				q = q[:120] + "..."
			}
			return q
		}
	}
	return s
}
