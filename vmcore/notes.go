package vmcore

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// ELF note types and names used in vmcores (include/uapi/linux/elf.h,
// crash's netdump.h, QEMU's dump.c).
const (
	ntPRSTATUS = 1
	ntDISKDUMP = 0x70000001 // crash netdump.h: a non-zero int marks a partial dump

	// x86_64 struct elf_prstatus: pr_pid at 32, pr_reg (27 longs, the order
	// of struct user_regs_struct) at 112.
	prstatusPidOff = 32
	prstatusRegOff = 112
	x86NumRegs     = 27

	// QEMUCPUState, QEMU target/i386/arch_dump.c (also crash defs.h).
	qemuStateSize = 432
)

// Note is one ELF note of the dump.
type Note struct {
	Name string // "CORE", "VMCOREINFO", "QEMU", ...
	Type uint32
	Desc []byte
	Off  int64 // file offset of the note header, -1 when unknown
}

// parseNotes splits a PT_NOTE segment (or the kdump notes area) into notes.
// Zero padding after the last note is accepted; on a malformed note the
// notes before it are returned with an error naming its offset.
func parseNotes(buf []byte, bo binary.ByteOrder, base int64) ([]Note, error) {
	var notes []Note
	pos := 0
	for pos+12 <= len(buf) {
		namesz := uint64(bo.Uint32(buf[pos:]))
		descsz := uint64(bo.Uint32(buf[pos+4:]))
		typ := bo.Uint32(buf[pos+8:])
		if namesz == 0 && descsz == 0 && typ == 0 {
			// Padding, or a note zeroed in place: look on, four bytes
			// at a time, for notes after it.
			pos += 4
			continue
		}
		nameOff := uint64(pos) + 12
		descOff := nameOff + align4(namesz)
		end := descOff + align4(descsz)
		if descOff+descsz > uint64(len(buf)) {
			return notes, formatErr(base+int64(pos), fmt.Sprintf("ELF note (namesz %d, descsz %d) extends past the notes area (%d bytes)", namesz, descsz, len(buf)), nil)
		}
		name := strings.TrimRight(string(buf[nameOff:nameOff+namesz]), "\x00")
		notes = append(notes, Note{Name: name, Type: typ, Desc: buf[descOff : descOff+descsz], Off: base + int64(pos)})
		if end > uint64(len(buf)) {
			break
		}
		pos = int(end)
	}
	return notes, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// X86Regs is struct user_regs_struct, the order of elf_prstatus.pr_reg.
type X86Regs struct {
	R15, R14, R13, R12, RBP, RBX, R11, R10, R9, R8  uint64
	RAX, RCX, RDX, RSI, RDI, OrigRAX, RIP, CS       uint64
	EFLAGS, RSP, SS, FSBase, GSBase, DS, ES, FS, GS uint64
}

// CPUState is the register state one CPU saved at crash time.
type CPUState struct {
	CPU  int // index in note order
	PID  int // pr_pid (0 for the idle task; 0 when taken from QEMU notes)
	Regs X86Regs
}

// QEMUSegment is a QEMUCPUSegment.
type QEMUSegment struct {
	Selector, Limit, Flags uint32
	Base                   uint64
}

// QEMUCPUState is the "QEMU" note dump-guest-memory writes per vCPU; unlike
// NT_PRSTATUS it carries the control registers (CR3 of the running task).
type QEMUCPUState struct {
	Version, Size                          uint32
	RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
	CS, DS, ES, FS, GS, SS, LDT, TR        QEMUSegment
	GDT, IDT                               QEMUSegment
	CR                                     [5]uint64
}

func parsePRStatus(desc []byte, bo binary.ByteOrder, cpu int) (CPUState, bool) {
	if len(desc) < prstatusRegOff+x86NumRegs*8 {
		return CPUState{}, false
	}
	r := make([]uint64, x86NumRegs)
	for i := range r {
		r[i] = bo.Uint64(desc[prstatusRegOff+8*i:])
	}
	return CPUState{
		CPU: cpu,
		PID: int(int32(bo.Uint32(desc[prstatusPidOff:]))),
		Regs: X86Regs{
			R15: r[0], R14: r[1], R13: r[2], R12: r[3], RBP: r[4], RBX: r[5], R11: r[6], R10: r[7], R9: r[8], R8: r[9],
			RAX: r[10], RCX: r[11], RDX: r[12], RSI: r[13], RDI: r[14], OrigRAX: r[15], RIP: r[16], CS: r[17],
			EFLAGS: r[18], RSP: r[19], SS: r[20], FSBase: r[21], GSBase: r[22], DS: r[23], ES: r[24], FS: r[25], GS: r[26],
		},
	}, true
}

func parseQEMUState(desc []byte, bo binary.ByteOrder) (QEMUCPUState, bool) {
	if len(desc) < qemuStateSize {
		return QEMUCPUState{}, false
	}
	var s QEMUCPUState
	s.Version = bo.Uint32(desc[0:])
	s.Size = bo.Uint32(desc[4:])
	g := []*uint64{&s.RAX, &s.RBX, &s.RCX, &s.RDX, &s.RSI, &s.RDI, &s.RSP, &s.RBP,
		&s.R8, &s.R9, &s.R10, &s.R11, &s.R12, &s.R13, &s.R14, &s.R15, &s.RIP, &s.RFLAGS}
	for i, p := range g {
		*p = bo.Uint64(desc[8+8*i:])
	}
	segs := []*QEMUSegment{&s.CS, &s.DS, &s.ES, &s.FS, &s.GS, &s.SS, &s.LDT, &s.TR, &s.GDT, &s.IDT}
	for i, p := range segs {
		b := desc[152+24*i:]
		*p = QEMUSegment{Selector: bo.Uint32(b), Limit: bo.Uint32(b[4:]), Flags: bo.Uint32(b[8:]), Base: bo.Uint64(b[16:])}
	}
	for i := range s.CR {
		s.CR[i] = bo.Uint64(desc[392+8*i:])
	}
	return s, true
}

// regs converts a QEMU vCPU state into the prstatus register layout.
func (s *QEMUCPUState) regs() X86Regs {
	return X86Regs{
		R15: s.R15, R14: s.R14, R13: s.R13, R12: s.R12, RBP: s.RBP, RBX: s.RBX, R11: s.R11, R10: s.R10, R9: s.R9, R8: s.R8,
		RAX: s.RAX, RCX: s.RCX, RDX: s.RDX, RSI: s.RSI, RDI: s.RDI, RIP: s.RIP, CS: uint64(s.CS.Selector),
		EFLAGS: s.RFLAGS, RSP: s.RSP, SS: uint64(s.SS.Selector), FSBase: s.FS.Base, GSBase: s.GS.Base,
		DS: uint64(s.DS.Selector), ES: uint64(s.ES.Selector), FS: uint64(s.FS.Selector), GS: uint64(s.GS.Selector),
	}
}

// noteInfo is what Open extracts from the notes.
type noteInfo struct {
	notes      []Note
	vmcoreinfo string
	hasVMCI    bool
	cpus       []CPUState
	qemu       []QEMUCPUState
	partial    bool // NT_DISKDUMP with a non-zero value
}

func collectNotes(notes []Note, bo binary.ByteOrder) noteInfo {
	ni := noteInfo{notes: notes}
	for _, n := range notes {
		switch {
		case n.Type == ntPRSTATUS && n.Name == "CORE":
			if c, ok := parsePRStatus(n.Desc, bo, len(ni.cpus)); ok {
				ni.cpus = append(ni.cpus, c)
			}
		case n.Name == "VMCOREINFO" && !ni.hasVMCI:
			ni.vmcoreinfo, ni.hasVMCI = string(n.Desc), true
		case n.Name == "QEMU":
			if s, ok := parseQEMUState(n.Desc, bo); ok {
				ni.qemu = append(ni.qemu, s)
			}
		case n.Type == ntDISKDUMP && len(n.Desc) >= 4:
			ni.partial = bo.Uint32(n.Desc) != 0
		}
	}
	if len(ni.cpus) == 0 {
		for i := range ni.qemu {
			ni.cpus = append(ni.cpus, CPUState{CPU: i, Regs: ni.qemu[i].regs()})
		}
	}
	return ni
}
