package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"gocrash/symbols"
)

// The details of a program and a map that crash's bpf -p/-P/-m/-M prints
// (bpf.c do_bpf): each read where this kernel has the member, and marked
// missing where it has not, as crash's VALID_MEMBER tests.

// bpfProgDetails fills p's details from its bpf_prog o and bpf_prog_aux aux.
func (k *Kernel) bpfProgDetails(t *symbols.Types, o, aux symbols.Object, p *BPFProg) error {
	u32 := func(obj symbols.Object, path string) (uint32, error) {
		m, err := obj.Member(path)
		if err != nil {
			return 0, err
		}
		v, err := m.Uint()
		return uint32(v), err
	}
	var err error
	if p.Len, err = u32(o, "len"); err != nil {
		return err
	}
	if p.JitedLen, err = u32(o, "jited_len"); err != nil {
		return err
	}
	fn, err := o.Member("bpf_func")
	if err != nil {
		return err
	}
	if p.Func, err = fn.Pointer(); err != nil {
		return err
	}
	off, err := t.Offset("bpf_prog.insnsi")
	if err != nil {
		return err
	}
	p.Insnsi = p.Addr + uint64(off)
	if t.HasMember("bpf_prog", "pages") {
		v, err := u32(o, "pages")
		if err != nil {
			return err
		}
		p.Pages, p.HasPages = uint16(v), true
	}
	if t.HasMember("bpf_prog_aux", "load_time") {
		m, err := aux.Member("load_time")
		if err != nil {
			return err
		}
		if p.LoadTime, err = m.Uint(); err != nil {
			return err
		}
		p.HasLoadTime = true
	}
	if t.HasMember("bpf_prog", "gpl_compatible") {
		if v, err := u32(o, "gpl_compatible"); err == nil {
			p.GPL = BPFNo
			if v == 1 {
				p.GPL = BPFYes
			} else if v != 0 {
				p.GPL = BPFUnknown
			}
		}
	}
	if t.HasMember("bpf_prog_aux", "name") {
		if p.Name, err = fixedName(aux, "name"); err != nil {
			return err
		}
		p.HasName = true
	}
	p.UID.State = BPFUIDUnknown
	if t.HasMember("bpf_prog_aux", "user") {
		m, err := aux.Member("user")
		if err != nil {
			return err
		}
		user, err := m.Pointer()
		if err != nil {
			return err
		}
		p.UID = k.userUID(t, user)
	}
	return nil
}

// fixedName is a char[16] name member, up to its first NUL.
func fixedName(o symbols.Object, path string) (string, error) {
	m, err := o.Member(path)
	if err != nil {
		return "", err
	}
	b, err := m.Bytes()
	if err != nil {
		return "", err
	}
	if len(b) > 16 {
		b = b[:16] // crash copies 16 bytes
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return string(b), nil
}

// userUID is the uid of the user_struct at user: BPFUIDKnown, or
// BPFUIDUnknown where it cannot be read or the kernel's user_struct has
// no uid.
func (k *Kernel) userUID(t *symbols.Types, user uint64) BPFUID {
	off, err := t.Offset("user_struct.uid")
	if err != nil {
		return BPFUID{State: BPFUIDUnknown}
	}
	uid, err := k.ReadU32(user + uint64(off))
	if err != nil {
		return BPFUID{State: BPFUIDUnknown}
	}
	return BPFUID{UID: uid, State: BPFUIDKnown}
}

// bpfMapDetails fills m's details from its bpf_map o.
func (k *Kernel) bpfMapDetails(t *symbols.Types, o symbols.Object, m *BPFMap) error {
	u32 := func(path string, v *uint32, has *bool) error {
		if !t.HasMember("bpf_map", path) {
			return nil
		}
		mo, err := o.Member(path)
		if err != nil {
			return err
		}
		x, err := mo.Uint()
		if err != nil {
			return err
		}
		*v, *has = uint32(x), true
		return nil
	}
	if err := u32("key_size", &m.KeySize, &m.HasKeySize); err != nil {
		return err
	}
	if err := u32("value_size", &m.ValueSize, &m.HasValueSize); err != nil {
		return err
	}
	if err := u32("max_entries", &m.MaxEntries, &m.HasMaxEntries); err != nil {
		return err
	}
	// The memory's pages and user: in struct bpf_map_memory from 5.3 to
	// 5.10, in bpf_map itself before; later kernels account maps by
	// memory cgroup and keep neither.
	memory := t.HasMember("bpf_map", "memory")
	var user uint64
	switch {
	case memory && t.HasMember("bpf_map_memory", "pages"):
		if err := u32("memory.pages", &m.Pages, &m.HasPages); err != nil {
			return err
		}
	case t.HasMember("bpf_map", "pages"):
		if err := u32("pages", &m.Pages, &m.HasPages); err != nil {
			return err
		}
	default:
		if cpus, err := k.CPUMask("__cpu_possible_mask"); err == nil {
			m.PossibleCPUs = len(cpus)
		} else if cpus, err := k.CPUMask("cpu_possible_mask"); err == nil {
			m.PossibleCPUs = len(cpus)
		}
	}
	userPath := ""
	switch {
	case memory && t.HasMember("bpf_map_memory", "user"):
		userPath = "memory.user"
	case t.HasMember("bpf_map", "user"):
		userPath = "user"
	}
	if userPath != "" {
		mo, err := o.Member(userPath)
		if err != nil {
			return err
		}
		if user, err = mo.Pointer(); err != nil {
			return err
		}
	}
	if t.HasMember("bpf_map", "name") {
		var err error
		if m.Name, err = fixedName(o, "name"); err != nil {
			return err
		}
		m.HasName = true
	}
	m.UID.State = BPFUIDNone
	if _, err := t.Offset("user_struct.uid"); err == nil && user != 0 {
		m.UID = k.userUID(t, user)
	}
	return nil
}

// BPFInsn is one eBPF instruction (struct bpf_insn): the opcode, the
// destination and source registers, the signed offset and immediate.
type BPFInsn struct {
	Code     uint8
	Dst, Src uint8
	Off      int16
	Imm      int32
}

// DecodeBPFInsns splits a program's bytes into its 8-byte instructions
// (little-endian: dst_reg is the low nibble of the second byte); a short
// tail is left out.
func DecodeBPFInsns(b []byte) []BPFInsn {
	out := make([]BPFInsn, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		out = append(out, BPFInsn{
			Code: b[0],
			Dst:  b[1] & 0xf,
			Src:  b[1] >> 4,
			Off:  int16(binary.LittleEndian.Uint16(b[2:])),
			Imm:  int32(binary.LittleEndian.Uint32(b[4:])),
		})
	}
	return out
}

// maxBPFInsns bounds a program read (the verifier's limit is 1M
// instructions).
const maxBPFInsns = 1 << 20

// BPFInsns reads p's translated program (bpf_prog.insnsi, len
// instructions of 8 bytes).
func (k *Kernel) BPFInsns(p BPFProg) ([]byte, error) {
	if p.Len > maxBPFInsns {
		return nil, fmt.Errorf("bpf_prog.len %d is more than a program can have", p.Len)
	}
	b := make([]byte, int(p.Len)*8)
	if err := k.memory().ReadVirt(b, p.Insnsi); err != nil {
		return nil, err
	}
	return b, nil
}

// ErrNoBPFHelpers says the kernel has no __BPF_FUNC_MAX_ID enumerator.
var ErrNoBPFHelpers = errors.New("no __BPF_FUNC_MAX_ID")

// BPFHelperName is the name of helper function id (kernel/bpf/disasm.c's
// func_id_str[id], "bpf_map_lookup_elem"); ok is false where id is not a
// helper's (out of 0..__BPF_FUNC_MAX_ID), and the error ErrNoBPFHelpers
// where the kernel does not number them, or says which read failed.
func (k *Kernel) BPFHelperName(id int32) (name string, ok bool, err error) {
	t, err := k.Layouts()
	if err != nil {
		return "", false, err
	}
	maxID, err := t.Enumerator("__BPF_FUNC_MAX_ID")
	if err != nil {
		return "", false, ErrNoBPFHelpers
	}
	if id < 0 || int64(id) >= maxID {
		return "", false, nil
	}
	tab, found := k.SymbolAddr("func_id_str")
	if !found {
		return "", false, errors.New("cannot read func_id_str[]")
	}
	ptr, err := k.ReadU64(tab + 8*uint64(id))
	if err != nil {
		return "", false, errors.New("cannot read func_id_str[]")
	}
	s, err := readCStringMem(k, ptr)
	if err != nil {
		return "", false, errors.New("cannot read func_id_str[] string")
	}
	return s, true, nil
}
