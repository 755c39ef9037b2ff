package commands

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/symbols"
)

// bt -D: crash's framesize debugging (kernel.c cmd_bt, x86_64.c
// x86_64_framesize_debug and orc_dump). crash's x86_64 backtracer keeps
// a cache of each function's frame size; -D shows and changes it, and
// -D orc -I ip shows the kernel's ORC entries from the one covering ip
// to the function's last. gocrash's unwinder keeps no such cache (ORC and
// DWARF CFI give each frame's size), so the forms that only clear crash's
// cache answer as crash does, and the forms that show or set it (dump,
// framepointer, noframepointer) say that gocrash has none.

// framesizeDebugMessage is crash's FRAMESIZE_DEBUG_MESSAGE, printed for a
// -D without its argument (crash prints no newline after it).
const framesizeDebugMessage = "\nx86 usage: bt -D [size|clear|dump|seek|noseek|validate|novalidate] [-I eip]\n" +
	"  If eip:  set its associated framesize to size.\n" +
	"           \"validate/novalidate\" will turn on/off V bit for this eip entry.\n" +
	"  If !eip: \"clear\" will clear the framesize cache and RA seek/noseek flags.\n" +
	"           \"dump\" will dump the current framesize cache entries.\n" +
	"           \"seek/noseek\" turns on/off RA seeking.\n" +
	"           \"validate/novalidate\" turns on/off V bit for all current entries.\n" +
	"\n" +
	"x86_64 usage: bt -D [clear|dump|validate|framepointer|noframepointer] [-I rip]\n" +
	"  If rip:  \"validate\" will verbosely recalculate the framesize without\n" +
	"           framepointers (no stack reference).\n" +
	"  If !rip: \"clear\" will clear the framesize cache.\n" +
	"           \"dump\" will dump the current framesize cache entries.\n" +
	"           \"framepointer/noframepointer\" toggle the FRAMEPOINTER flag and\n" +
	"           clear the framesize cache."

// crashDtol is crash's dtol(): decimal digits after leading blanks, else
// its message ("bogus: \"b\" is not a digit 0 - 9").
func crashDtol(s string) (uint64, error) {
	t := strings.TrimLeft(s, " ")
	if t == "" {
		return 0, errors.New("invalid expression")
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, fmt.Errorf("%s: \"%c\" is not a digit 0 - 9", s, t[i])
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, errors.New("invalid expression")
	}
	return v, nil
}

// The -D forms, as crash's hook.esp encodes them.
const (
	fdClear          = 0
	fdDump           = 1
	fdValidate       = -1
	fdNoValidate     = -2
	fdFramepointer   = -3
	fdNoFramepointer = -4
	fdORC            = -5
)

// parseFramesizeDebug is cmd_bt's -D argument: done when crash returns
// from cmd_bt at once (seek, noseek: x86's, nothing on x86_64; dwarf, cfi
// on a crash that cannot unwind DWARF), else the form.
func parseFramesizeDebug(arg string) (form int64, done bool, err error) {
	switch {
	case arg == "seek" || arg == "noseek" || arg == "dwarf" || arg == "cfi":
		return 0, true, nil
	case arg == "dump":
		return fdDump, false, nil
	case strings.HasPrefix(arg, "level-"):
		if _, err := crashDtol(arg[6:]); err != nil {
			return 0, false, err
		}
		return fdClear, false, nil
	case arg == "validate":
		return fdValidate, false, nil
	case arg == "novalidate":
		return fdNoValidate, false, nil
	case arg == "framepointer":
		return fdFramepointer, false, nil
	case arg == "noframepointer":
		return fdNoFramepointer, false, nil
	case arg == "orc":
		return fdORC, false, nil
	case arg == "clear":
		return fdClear, false, nil
	case strings.HasPrefix(arg, "-"):
		v, err := crashDtol(arg[1:])
		return -int64(v), false, err
	}
	v, err := crashDtol(arg)
	return int64(v), false, err
}

// framesizeDebug is x86_64_framesize_debug for the form and the -I (or
// first argument's) instruction address, 0 for none.
func (r *btRun) framesizeDebug(form int64, ip uint64) error {
	w := r.w
	switch form {
	case fdDump:
		return errors.New("-D dump: gocrash keeps no framesize cache (its unwinder takes each frame's size from ORC or DWARF CFI)")
	case fdFramepointer, fdNoFramepointer:
		return errors.New("-D framepointer, noframepointer: gocrash keeps no framesize cache and unwinds by ORC or DWARF CFI, frame pointers only where neither covers a frame")
	case fdClear:
		if ip == 0 {
			_, err := io.WriteString(w, "framesize caches cleared\n")
			return err
		}
		return nil // crash forgets the one function's entry: nothing shown
	case fdValidate:
		if ip == 0 {
			return errors.New("x86_64_framesize_debug: ignoring command")
		}
		return r.validateFramesize(ip)
	case fdORC:
		if ip == 0 {
			return errors.New("x86_64_framesize_debug: ignoring command (no ip)")
		}
		return r.orcDump(ip)
	}
	if form > 1 || form < 0 {
		return nil // a size for the ip's entry (or none without one): nothing shown
	}
	return errors.New("x86_64_framesize_debug: ignoring command")
}

// validateFramesize is x86_64_get_framesize with -D's verbosity and no
// stack: silent where crash takes the size from the ORC entry (a call
// frame based on the stack pointer) or has no symbol for ip; crash's
// disassembly-based count for the rest is not reproduced.
func (r *btRun) validateFramesize(ip uint64) error {
	t := r.s.symTable()
	if _, _, ok := t.search(ip); !ok {
		return nil
	}
	if init, ok1 := r.s.Vmlinux.Lookup("__init_begin"); ok1 {
		if end, ok2 := r.s.Vmlinux.Lookup("__init_end"); ok2 {
			if ref, _, ok := t.search(ip); ok {
				if _, a, _ := t.sym(ref); a >= init && a < end {
					return nil
				}
			}
		}
	}
	if orc, err := r.bk.Unwinder().ORC(); err == nil && orc != nil {
		if e, _, ok := orc.Find(ip); ok && e.Type == symbols.ORCTypeCall && e.SPReg == symbols.ORCRegSP {
			return nil
		}
	}
	return fmt.Errorf("-D validate -I %x: gocrash does not print crash's framesize count from the function's disassembly (no stack-pointer ORC entry covers it)", ip)
}

// orcDump is crash's orc_dump: the ORC entry covering ip, and the entries
// after it while they start in the same function.
func (r *btRun) orcDump(ip uint64) error {
	w := r.w
	t := r.s.symTable()
	ref, off, resolved := t.search(ip)
	fmt.Fprintf(w, "orc_dump: %x / ", ip)
	if resolved {
		name, _, _ := t.sym(ref)
		fmt.Fprintf(w, "%s+%d\n--------\n", name, off)
	} else {
		io.WriteString(w, "(unresolved)\n--------\n")
	}
	orc, err := r.bk.Unwinder().ORC()
	if err != nil || orc == nil {
		fmt.Fprintf(w, "%x: ip not found\n", ip)
		return nil
	}
	j, found := orc.FindRaw(ip)
	if !found {
		fmt.Fprintf(w, "%x: ip not found\n", ip)
		return nil
	}
	orcBase, okBase := r.s.Vmlinux.Lookup("__start_orc_unwind")
	if !okBase {
		return errors.New("cannot read orc_entry")
	}
	types, err := r.s.Types()
	if err != nil {
		return err
	}
	hasSignal := types.HasMember("orc_entry", "signal")
	hasEnd := types.HasMember("orc_entry", "end")
	v64 := hasSignal && !hasEnd // crash's ORC_6_4
	for {
		slot, pc, e, ok := orc.Raw(j)
		if !ok {
			return nil
		}
		fmt.Fprintf(w, "ip: %x -> %x / ", slot, pc)
		if sr, soff, ok := t.search(pc); ok {
			name, _, _ := t.sym(sr)
			fmt.Fprintf(w, "%s+%d -> ", name, soff)
		} else {
			io.WriteString(w, "(unresolved) -> ")
		}
		raw := e.Raw
		spReg, bpReg := raw&0xf, raw>>4&0xf
		var typ, signal, end uint16
		if v64 {
			typ, signal = raw>>8&7, raw>>11&1
		} else {
			typ = raw >> 8 & 3
			if hasSignal {
				signal, end = raw>>10&1, raw>>11&1
			} else {
				end = raw >> 10 & 1
			}
		}
		fmt.Fprintf(w, "orc: %x  spo: %d bpo: %d spr: %d bpr: %d type: %d", orcBase+uint64(6*j), e.SPOffset, e.BPOffset, spReg, bpReg, typ)
		if hasSignal {
			fmt.Fprintf(w, " signal: %d", signal)
		}
		if hasEnd {
			fmt.Fprintf(w, " end: %d", end)
		}
		io.WriteString(w, "\n")
		j++
		_, npc, _, ok := orc.Raw(j)
		if !ok {
			return nil
		}
		nr, _, nok := t.search(npc)
		if !nok || !resolved || nr != ref {
			return nil
		}
	}
}
