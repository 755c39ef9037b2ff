package kernel

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"gocrash/vmcore"
)

// What a damaged dump or a wrong file looks like to the user: Open's
// errors and diagnostics name the file and what was found in it, so that
// one line tells a cut-short dump from a wrong vmlinux. The damage matrix
// (cmd/gocrash/damage_test.go) runs every case of this over real dumps.

// bannerMax bounds linux_banner reads; the kernel's is well under 256.
const bannerMax = 512

// checkMatch compares the vmlinux's linux_banner with the dump's copy at
// the relocated address, and the release in it with VMCOREINFO's
// OSRELEASE. It returns what differs, one line each, or "", and, apart,
// the failure to read the dump's banner: a damaged dump, not evidence of
// another kernel.
func (k *Kernel) checkMatch() (diff string, bannerErr error) {
	var b strings.Builder
	addr, ok := k.Vmlinux.Lookup("linux_banner")
	if !ok {
		return "  vmlinux: no linux_banner symbol\n", nil
	}
	fileBanner, ferr := readBanner(func(p []byte) error { return k.Vmlinux.ReadFile(addr, p) })
	dumpBanner, derr := readBanner(func(p []byte) error { return k.Mem.ReadVirt(p, addr) })
	switch {
	case ferr != nil:
		fmt.Fprintf(&b, "  vmlinux: cannot read linux_banner at %#x: %v\n", addr, ferr)
	case derr != nil:
		// The release check below still runs; the caller warns.
		bannerErr = fmt.Errorf("cannot read linux_banner at %#x to check that the vmlinux matches: %w", addr, derr)
	case fileBanner != dumpBanner:
		fmt.Fprintf(&b, "  vmlinux: %s\n  vmcore:  %s\n", bannerText(strings.TrimSpace(fileBanner)), bannerText(strings.TrimSpace(dumpBanner)))
	}
	if info := k.Dump.Info(); info != nil && info.OSRelease != "" && ferr == nil {
		if rel := bannerRelease(fileBanner); rel != "" && rel != info.OSRelease {
			fmt.Fprintf(&b, "  vmlinux release: %s\n  vmcore OSRELEASE: %s\n", rel, info.OSRelease)
		}
	}
	return b.String(), bannerErr
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

// openDiagnostics are the problems Open found that do not stop a session:
// the dump's own (unreadable notes, a stream cut short), a dump
// makedumpfile could not finish, a vmlinux without DWARF.
func (k *Kernel) openDiagnostics(bannerErr error) []Diagnostic {
	var out []Diagnostic
	d := k.Dump
	warn := func(file, text string) {
		out = append(out, Diagnostic{Severity: Warning, File: file, Text: text})
	}
	if bannerErr != nil {
		addr, _ := k.Vmlinux.Lookup("linux_banner")
		out = append(out, Diagnostic{Severity: Warning, File: k.DumpPath, Addr: addr, HasAddr: true, Text: bannerErr.Error()})
	}
	for _, w := range d.Warnings() {
		warn(k.DumpPath, strings.TrimPrefix(w, "vmcore: "))
	}
	if d.Incomplete() {
		why := "its data ends before its headers say"
		if h := d.KdumpHeader(); h != nil && h.Incomplete() {
			// makedumpfile sets the flag when writing fails (ENOSPC) and
			// names the file vmcore-incomplete.
			why = "makedumpfile marked it DUMP_DH_COMPRESSED_INCOMPLETE (it could not write it all)"
		}
		warn(k.DumpPath, fmt.Sprintf("the dump is incomplete: %s; pages missing from it are read errors (\"set zero_excluded on\" reads them as zeroes)", why))
	}
	if len(d.CPUs()) == 0 {
		warn(k.DumpPath, "no CPU register notes (NT_PRSTATUS): the registers of the tasks active at the crash are unknown; bt starts their backtraces at return addresses into machine_kexec or crash_nmi_callback found on their stacks")
	}
	if k.Vmlinux != nil && !k.Vmlinux.FromMemory() && !k.Vmlinux.HasDWARF() {
		warn(k.VmlinuxPath, "no DWARF debug information (stripped?): only commands that need no kernel types will work; use the vmlinux with debug info (the -dbg/-dbgsym package)")
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
