package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/symbols"
)

// Memory counters by name: the vm_zone_stat / vm_node_stat arrays, each
// zone's vm_stat, the per-cpu vm_event_states (include/linux/mmzone.h,
// include/linux/vm_event_item.h), and the zones and huge page states.

// Counter is one named counter.
type Counter struct {
	Name  string
	Value int64
}

// EnumNames are the enumerators of the named enum indexed by value, up
// to (not including) the enumerator stop; crash's vm_stat_init names
// counters this way.
func (k *Kernel) EnumNames(enum, stop string) ([]string, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	typ, err := t.Lookup("enum " + enum)
	if err != nil {
		return nil, err
	}
	et, ok := typ.(*godwarf.EnumType)
	if !ok {
		return nil, fmt.Errorf("%s is not an enum", enum)
	}
	n := int64(-1)
	for _, v := range et.Val {
		if v.Name == stop {
			n = v.Val
		}
	}
	if n < 0 || n > 4096 {
		return nil, fmt.Errorf("enum %s has no %s", enum, stop)
	}
	names := make([]string, n)
	for _, v := range et.Val {
		if v.Val >= 0 && v.Val < n { // the last of equal values wins, as in crash's table
			names[v.Val] = v.Name
		}
	}
	return names, nil
}

func (k *Kernel) readLongs(addr uint64, n int) ([]int64, error) {
	b := make([]byte, 8*n)
	if err := k.memory().ReadVirt(b, addr); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

// Counters reads n longs at addr named by names.
func (k *Kernel) counters(addr uint64, names []string) ([]Counter, error) {
	v, err := k.readLongs(addr, len(names))
	if err != nil {
		return nil, err
	}
	out := make([]Counter, len(names))
	for i := range names {
		out[i] = Counter{Name: names[i], Value: v[i]}
	}
	return out, nil
}

// VMStat is the global vm_zone_stat and vm_node_stat counters.
type VMStat struct {
	Zone, Node []Counter
	Numa       []Counter // vm_numa_stat (4.14-5.13), nil otherwise
}

// ErrNoVMStat says the kernel keeps no vm_zone_stat.
var ErrNoVMStat = errors.New("vm_stat not available in this kernel")

// VMStat reads the global counters.
func (k *Kernel) VMStat() (*VMStat, error) {
	za, ok := k.Vmlinux.Lookup("vm_zone_stat")
	na, ok2 := k.Vmlinux.Lookup("vm_node_stat")
	if !ok || !ok2 {
		return nil, ErrNoVMStat
	}
	zn, err := k.EnumNames("zone_stat_item", "NR_VM_ZONE_STAT_ITEMS")
	if err != nil {
		return nil, err
	}
	nn, err := k.EnumNames("node_stat_item", "NR_VM_NODE_STAT_ITEMS")
	if err != nil {
		return nil, err
	}
	st := &VMStat{}
	if st.Zone, err = k.counters(za, zn); err != nil {
		return nil, fmt.Errorf("vm_zone_stat: %w", err)
	}
	if st.Node, err = k.counters(na, nn); err != nil {
		return nil, fmt.Errorf("vm_node_stat: %w", err)
	}
	if ua, ok := k.Vmlinux.Lookup("vm_numa_stat"); ok {
		if un, err := k.EnumNames("numa_stat_item", "NR_VM_NUMA_STAT_ITEMS"); err == nil && len(un) > 0 {
			st.Numa, _ = k.counters(ua, un)
		}
	}
	return st, nil
}

// VMEvents sums the per-cpu vm_event_states over cpus.
func (k *Kernel) VMEvents() ([]Counter, error) {
	names, err := k.EnumNames("vm_event_item", "NR_VM_EVENT_ITEMS")
	if err != nil {
		return nil, err
	}
	base, ok := k.Vmlinux.Lookup("vm_event_states")
	if !ok {
		return nil, errors.New("no vm_event_states")
	}
	n, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	out := make([]Counter, len(names))
	for i := range names {
		out[i].Name = names[i]
	}
	for cpu := 0; cpu < n; cpu++ {
		off, err := k.PerCPUOffset(cpu)
		if err != nil {
			return nil, err
		}
		v, err := k.readLongs(base+off, len(names))
		if err != nil {
			return nil, fmt.Errorf("vm_event_states of cpu %d: %w", cpu, err)
		}
		for i := range v {
			out[i].Value = int64(uint64(out[i].Value) + uint64(v[i]))
		}
	}
	return out, nil
}

// A Zone is one struct zone of a node.
type Zone struct {
	Node, Index      int
	Addr             uint64
	Name             string
	NameOK           bool
	Spanned, Present uint64
	Min, Low, High   uint64
	Boost            uint64    // watermark_boost (5.0+; 0 before)
	Stat             []Counter // zone.vm_stat
	ZoneStartPFN     uint64
	FreeArea         uint64 // zone.free_area
	ManagedPages     uint64
}

// Zones reads the zones of the pglist_data at pgdat, node n.
func (k *Kernel) Zones(n int, pgdat uint64) ([]Zone, error) {
	t, err := k.Layouts()
	if err != nil {
		return nil, err
	}
	nz, err := t.Member("pglist_data", "node_zones")
	if err != nil {
		return nil, err
	}
	zsize, err := t.SizeOf("zone")
	if err != nil {
		return nil, err
	}
	total, err := t.Size(nz.Type)
	if err != nil || zsize <= 0 {
		return nil, fmt.Errorf("pglist_data.node_zones: %v", err)
	}
	nzones := int(total / zsize)
	wm := "zone._watermark"
	if !t.HasMember("zone", "_watermark") {
		wm = "zone.watermark"
	}
	var r tOffsets
	r.t = t
	nameOff, spanned, present, wmOff, stat, startPFN, freeArea := r.o("zone.name"), r.o("zone.spanned_pages"), r.o("zone.present_pages"), r.o(wm), r.o("zone.vm_stat"), r.o("zone.zone_start_pfn"), r.o("zone.free_area")
	managed := r.o("zone.managed_pages")
	if r.err != nil {
		return nil, r.err
	}
	zn, _ := k.EnumNames("zone_stat_item", "NR_VM_ZONE_STAT_ITEMS")
	idx := func(name string, def int64) uint64 {
		if v, err := t.Enumerator(name); err == nil {
			return uint64(v)
		}
		return uint64(def)
	}
	wmin, wlow, whigh := idx("WMARK_MIN", 0), idx("WMARK_LOW", 1), idx("WMARK_HIGH", 2)
	boostOff, boostErr := t.Offset("zone.watermark_boost")
	var out []Zone
	for i := 0; i < nzones; i++ {
		a := pgdat + uint64(nz.Offset) + uint64(i)*uint64(zsize)
		b := make([]byte, zsize)
		if err := k.memory().ReadVirt(b, a); err != nil {
			return out, fmt.Errorf("zone %d of node %d at %#x: %w", i, n, a, err)
		}
		u := func(off uint64) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
		z := Zone{Node: n, Index: i, Addr: a}
		if s, err := symbols.ReadCString(k.memory(), u(nameOff), 64); err == nil {
			z.Name, z.NameOK = s, true
		}
		z.Spanned, z.Present = u(spanned), u(present)
		z.Min, z.Low, z.High = u(wmOff+8*wmin), u(wmOff+8*wlow), u(wmOff+8*whigh)
		if boostErr == nil && uint64(boostOff)+8 <= uint64(len(b)) {
			z.Boost = u(uint64(boostOff))
		}
		z.ZoneStartPFN, z.FreeArea, z.ManagedPages = u(startPFN), a+freeArea, u(managed)
		for j, name := range zn {
			if stat+uint64(8*j)+8 <= uint64(len(b)) {
				z.Stat = append(z.Stat, Counter{Name: name, Value: int64(u(stat + uint64(8*j)))})
			}
		}
		out = append(out, z)
	}
	return out, nil
}

type tOffsets struct {
	t   *symbols.Types
	err error
}

func (r *tOffsets) o(path string) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.t.Offset(path)
	r.err = err
	return uint64(v)
}

// HState is one huge page size of hstates[].
type HState struct {
	Addr        uint64
	Order       int
	Free, Total int64
	Name        string
}

// HStates reads hstates[] (entries of order 0 are unused).
func (k *Kernel) HStates() ([]HState, error) {
	o, err := k.Var("hstates")
	if err != nil {
		return nil, fmt.Errorf("hstates[] array does not exist")
	}
	var out []HState
	for i := 0; i < o.Len(); i++ {
		el, err := o.Index(i)
		if err != nil {
			break
		}
		el, err = el.Load()
		if err != nil {
			break
		}
		h := HState{Addr: el.Addr}
		if m, err := el.Member("order"); err == nil {
			v, _ := m.Int()
			h.Order = int(v)
		}
		if h.Order == 0 {
			continue
		}
		if m, err := el.Member("free_huge_pages"); err == nil {
			h.Free, _ = m.Int()
		}
		if m, err := el.Member("nr_huge_pages"); err == nil {
			h.Total, _ = m.Int()
		}
		if m, err := el.Member("name"); err == nil {
			h.Name, _ = m.CString()
		}
		out = append(out, h)
	}
	return out, nil
}

func readCStringMem(k *Kernel, addr uint64) (string, error) {
	return symbols.ReadCString(k.memory(), addr, 1500)
}
