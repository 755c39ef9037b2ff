package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// eBPF programs and maps (kernel/bpf/syscall.c): prog_idr and map_idr,
// IDRs (XArrays since 4.20) of struct bpf_prog and struct bpf_map
// pointers indexed by their ID. Read as crash's bpf.c bpf_init does.

// BPFProg is one loaded program.
type BPFProg struct {
	ID       uint64
	Addr     uint64 // struct bpf_prog
	Aux      uint64 // its struct bpf_prog_aux
	Type     int64
	Tag      [8]byte
	UsedMaps []uint64 // bpf_prog_aux.used_maps[used_map_cnt]

	// The details crash's bpf -p/-P prints.
	Len      uint32 // bpf_prog.len: instructions of the translated program
	JitedLen uint32 // bpf_prog.jited_len: bytes of the JIT image
	Func     uint64 // bpf_prog.bpf_func: the JIT image
	Insnsi   uint64 // the address of bpf_prog.insnsi, the translated program
	Pages    uint16 // bpf_prog.pages (HasPages: the member exists)
	HasPages bool
	// LoadTime is bpf_prog_aux.load_time, ns of boot time (HasLoadTime:
	// the member exists).
	LoadTime    uint64
	HasLoadTime bool
	GPL         BPFBool // bpf_prog.gpl_compatible
	Name        string  // bpf_prog_aux.name (HasName: the member exists)
	HasName     bool
	UID         BPFUID // bpf_prog_aux.user->uid
}

// BPFBool is a flag that a kernel may not have: BPFUnknown, BPFNo, BPFYes.
type BPFBool int

const (
	BPFUnknown BPFBool = iota
	BPFNo
	BPFYes
)

// BPFUID is the uid of a program's or map's user_struct, as crash finds
// it: State says whether there is one (BPFUIDKnown), whether the kernel
// keeps one but it could not be read (BPFUIDUnknown), or whether the
// kernel keeps none (BPFUIDNone: a program's user went in 5.11, crash's
// "(unknown)"; a map's, crash's "(unused)").
type BPFUID struct {
	UID   uint32
	State int
}

const (
	BPFUIDNone = iota
	BPFUIDUnknown
	BPFUIDKnown
)

// BPFMap is one map.
type BPFMap struct {
	ID    uint64
	Addr  uint64 // struct bpf_map
	Type  int64
	Flags uint32

	// The details crash's bpf -m/-M prints; Has* say the member exists.
	KeySize, ValueSize, MaxEntries          uint32
	HasKeySize, HasValueSize, HasMaxEntries bool
	// Pages is bpf_map.memory.pages (5.3 to 5.10) or bpf_map.pages
	// (before); HasPages says either exists. Where neither does, crash
	// computes the memory from the sizes (PossibleCPUs for the per-cpu
	// types).
	Pages        uint32
	HasPages     bool
	PossibleCPUs int
	Name         string // bpf_map.name (HasName: the member exists)
	HasName      bool
	UID          BPFUID // bpf_map.memory.user or bpf_map.user ->uid
}

// ErrNoBPF says the kernel has no prog_idr or map_idr (no
// CONFIG_BPF_SYSCALL): crash's command_not_supported().
var ErrNoBPF = errors.New("command not supported or applicable on this architecture or kernel")

// BPF reads the programs and maps in ID order.
func (k *Kernel) BPF(ctx context.Context) ([]BPFProg, []BPFMap, error) {
	progIDR, ok1 := k.Vmlinux.Lookup("prog_idr")
	mapIDR, ok2 := k.Vmlinux.Lookup("map_idr")
	if !ok1 || !ok2 {
		return nil, nil, ErrNoBPF
	}
	t, err := k.Layouts()
	if err != nil {
		return nil, nil, err
	}
	progs, err := k.idrEntries(ctx, progIDR)
	if err != nil {
		return nil, nil, fmt.Errorf("prog_idr: %w", err)
	}
	maps, err := k.idrEntries(ctx, mapIDR)
	if err != nil {
		return nil, nil, fmt.Errorf("map_idr: %w", err)
	}
	var outP []BPFProg
	for _, e := range progs {
		p := BPFProg{ID: e.Index, Addr: e.Entry}
		o, err := t.Object(k.memory(), e.Entry, "bpf_prog")
		if err == nil {
			o, err = o.Load() // crash reads the whole struct bpf_prog
		}
		if err != nil {
			return outP, nil, err
		}
		num := func(path string) (uint64, error) {
			m, err := o.Member(path)
			if err != nil {
				return 0, err
			}
			return m.Uint()
		}
		if p.Aux, err = num("aux"); err != nil {
			return outP, nil, err
		}
		ty, err := num("type")
		if err != nil {
			return outP, nil, err
		}
		p.Type = int64(int32(ty))
		tag, err := o.Member("tag")
		if err != nil {
			return outP, nil, err
		}
		b, err := tag.Bytes()
		if err != nil {
			return outP, nil, err
		}
		copy(p.Tag[:], b)
		aux, err := t.Object(k.memory(), p.Aux, "bpf_prog_aux")
		if err == nil {
			aux, err = aux.Load()
		}
		if err != nil {
			return outP, nil, err
		}
		cm, err := aux.Member("used_map_cnt")
		if err != nil {
			return outP, nil, err
		}
		cnt, err := cm.Uint()
		if err != nil {
			return outP, nil, err
		}
		um, err := aux.Member("used_maps")
		if err != nil {
			return outP, nil, err
		}
		arr, err := um.Pointer()
		if err != nil {
			return outP, nil, err
		}
		for i := uint64(0); i < cnt && i < 1<<16; i++ {
			var w [8]byte
			if k.memory().ReadVirt(w[:], arr+8*i) != nil {
				break // crash returns the list it has
			}
			p.UsedMaps = append(p.UsedMaps, leUint64(w[:]))
		}
		if err := k.bpfProgDetails(t, o, aux, &p); err != nil {
			return outP, nil, err
		}
		outP = append(outP, p)
	}
	var outM []BPFMap
	for _, e := range maps {
		m := BPFMap{ID: e.Index, Addr: e.Entry}
		o, err := t.Object(k.memory(), e.Entry, "bpf_map")
		if err == nil {
			o, err = o.Load()
		}
		if err != nil {
			return outP, outM, err
		}
		mt, err := o.Member("map_type")
		if err != nil {
			return outP, outM, err
		}
		ty, err := mt.Uint()
		if err != nil {
			return outP, outM, err
		}
		m.Type = int64(int32(ty))
		mf, err := o.Member("map_flags")
		if err != nil {
			return outP, outM, err
		}
		fl, err := mf.Uint()
		if err != nil {
			return outP, outM, err
		}
		m.Flags = uint32(fl)
		if err := k.bpfMapDetails(t, o, &m); err != nil {
			return outP, outM, err
		}
		outM = append(outM, m)
	}
	return outP, outM, nil
}

// idrEntries lists the non-NULL entries of the struct idr at addr (its
// idr_rt XArray).
func (k *Kernel) idrEntries(ctx context.Context, addr uint64) ([]XAEntry, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	rt, err := t.Offset("idr.idr_rt")
	if err != nil {
		return nil, fmt.Errorf("this kernel's IDR is not an XArray: %w", err)
	}
	xh, err := t.Offset("xarray.xa_head")
	if err != nil {
		return nil, err
	}
	var b [8]byte
	if err := k.memory().ReadVirt(b[:], addr+uint64(rt+xh)); err != nil {
		return nil, err
	}
	head := leUint64(b[:])
	if head == 0 {
		return nil, nil
	}
	l, err := k.XALayout()
	if err != nil {
		return nil, err
	}
	var out []XAEntry
	err = WalkXArray(ctx, k.memory(), l, head, false, func(e XAEntry) error {
		if e.Entry != 0 {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// EnumValues are an enum's enumerators in declaration order, and their
// values.
func (k *Kernel) EnumValues(name string) ([]godwarf.EnumValue, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	typ, err := t.Lookup("enum " + name)
	if err != nil {
		return nil, err
	}
	et, ok := typ.(*godwarf.EnumType)
	if !ok {
		return nil, fmt.Errorf("%s is not an enum", name)
	}
	var out []godwarf.EnumValue
	for _, v := range et.Val {
		out = append(out, *v)
	}
	return out, nil
}
