package kernel

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"gocrash/symbols"
)

// Per-cpu variables: the symbol's value is an offset into the per-cpu
// area, and cpu N's copy lives at that offset plus __per_cpu_offset[N]
// (include/asm-generic/percpu.h per_cpu_offset()).

// PerCPUOffset is __per_cpu_offset[cpu].
func (k *Kernel) PerCPUOffset(cpu int) (uint64, error) {
	o, err := k.Var("__per_cpu_offset")
	if err != nil {
		return 0, err
	}
	if n := o.Len(); n > 0 && cpu >= n {
		return 0, fmt.Errorf("cpu %d out of range: __per_cpu_offset has %d entries", cpu, n)
	}
	el, err := o.Index(cpu)
	if err != nil {
		return 0, err
	}
	return el.Uint()
}

// PerCPU is cpu's copy of the per-cpu variable name, typed.
func (k *Kernel) PerCPU(name string, cpu int) (symbols.Object, error) {
	t, err := k.Layouts()
	if err != nil {
		return symbols.Object{}, err
	}
	o, err := t.Var(k.memory(), k.Vmlinux, name)
	if err != nil {
		return symbols.Object{}, err
	}
	off, err := k.PerCPUOffset(cpu)
	if err != nil {
		return symbols.Object{}, err
	}
	return t.ObjectOf(k.memory(), o.Addr+off, o.Type, fmt.Sprintf("per_cpu(%s, %d)", name, cpu)), nil
}

// CPUMask reads a struct cpumask variable ("__cpu_online_mask") as the
// list of set cpu numbers.
func (k *Kernel) CPUMask(name string) ([]int, error) {
	o, err := k.Var(name)
	if err != nil {
		return nil, err
	}
	b, err := o.Bytes()
	if err != nil {
		return nil, err
	}
	var cpus []int
	for i := 0; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		for w != 0 {
			bit := bits.TrailingZeros64(w)
			cpus = append(cpus, i*8+bit)
			w &^= 1 << bit
		}
	}
	return cpus, nil
}

// cpuNumber reads the per-cpu cpu number of cpu's area: pcpu_hot.cpu_number
// since 6.2, the cpu_number variable before.
func (k *Kernel) cpuNumber(cpu int) (int64, error) {
	if o, err := k.PerCPU("pcpu_hot", cpu); err == nil {
		m, err := o.Member("cpu_number")
		if err != nil {
			return 0, err
		}
		return m.Int()
	}
	o, err := k.PerCPU("cpu_number", cpu)
	if err != nil {
		return 0, err
	}
	return o.Int()
}

// NumCPUs is crash's count of cpus (kt->cpus, x86_64_per_cpu_init()): the
// per-cpu areas that were set up, that is the leading entries of
// __per_cpu_offset that no longer hold the boot value __per_cpu_load and
// whose cpu number matches; reduced to the highest present cpu + 1 when
// fewer cpus are present than areas exist.
func (k *Kernel) NumCPUs() (int, error) {
	o, err := k.Var("__per_cpu_offset")
	if err != nil {
		return 0, err
	}
	n := o.Len()
	load, hasLoad := k.Vmlinux.Lookup("__per_cpu_load")
	cpus := 0
	var stop error // why cpu 0 did not count: a damaged dump says where
	for ; cpus < n; cpus++ {
		off, err := k.PerCPUOffset(cpus)
		if err != nil || (hasLoad && off == load) {
			stop = err
			break
		}
		nr, err := k.cpuNumber(cpus)
		if err != nil || nr != int64(cpus) {
			stop = err
			break
		}
	}
	if present, err := k.CPUMask("__cpu_present_mask"); err == nil && len(present) > 0 {
		if cpus == 0 || len(present) < cpus {
			cpus = present[len(present)-1] + 1
		}
	}
	if cpus == 0 {
		if stop != nil {
			return 0, fmt.Errorf("cannot count cpus: cpu 0's per-cpu area: %w", stop)
		}
		return 0, fmt.Errorf("cannot count cpus: no per-cpu area is set up")
	}
	return cpus, nil
}
