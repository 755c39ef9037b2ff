package kernel

import (
	"context"
	"fmt"
)

// Timer wheels (kernel/time/timer.c since 4.8: per-cpu timer_bases[], each
// a struct timer_base whose vectors[] are hlists of struct timer_list).

// Timer is one pending struct timer_list.
type Timer struct {
	Addr     uint64
	Expires  uint64
	Function uint64
}

// TimerBase is one cpu's timer_base and its pending timers in wheel order.
type TimerBase struct {
	CPU    int
	Index  int
	Addr   uint64
	Timers []Timer
}

// TimerBases are the timer_bases[] of a cpu, n of them (the per-cpu array
// has NR_BASES entries).
func (k *Kernel) TimerBases(ctx context.Context, cpu, n int) ([]TimerBase, error) {
	t, err := k.Types()
	if err != nil {
		return nil, err
	}
	sym, ok := k.Vmlinux.Lookup("timer_bases")
	if !ok {
		return nil, fmt.Errorf("no timer_bases: kernels before 4.8 are not supported")
	}
	off, err := k.PerCPUOffset(cpu)
	if err != nil {
		return nil, err
	}
	size, err := t.SizeOf("timer_base")
	if err != nil {
		return nil, err
	}
	vm, err := t.Member("timer_base", "vectors")
	if err != nil {
		return nil, err
	}
	vsize, err := t.Size(vm.Type)
	if err != nil {
		return nil, err
	}
	entry, err := t.Offset("timer_list.entry")
	if err != nil {
		return nil, err
	}
	expOff, err := t.Offset("timer_list.expires")
	if err != nil {
		return nil, err
	}
	fnOff, err := t.Offset("timer_list.function")
	if err != nil {
		return nil, err
	}
	var out []TimerBase
	for b := 0; b < n; b++ {
		base := sym + off + uint64(b)*uint64(size)
		tb := TimerBase{CPU: cpu, Index: b, Addr: base}
		vec := make([]byte, vsize)
		if err := k.Mem.ReadVirt(vec, base+uint64(vm.Offset)); err != nil {
			return out, fmt.Errorf("timer_base.vectors[] at %#x: %w", base, err)
		}
		for i := int64(0); i+8 <= vsize; i += 8 {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			first := le64(vec, i)
			if first == 0 {
				continue
			}
			// A chain that loops or cannot be read is left out, as crash
			// does (RETURN_ON_LIST_ERROR).
			var chain []Timer
			seen := map[uint64]bool{}
			ok := true
			for node := first; node != 0; {
				if seen[node] || len(chain) >= MaxListEntries {
					ok = false
					break
				}
				seen[node] = true
				tl := node - uint64(entry)
				exp, err1 := ReadPointer(k.Mem, tl+uint64(expOff))
				fn, err2 := ReadPointer(k.Mem, tl+uint64(fnOff))
				next, err3 := ReadPointer(k.Mem, node)
				if err3 != nil {
					ok = false
					break
				}
				if err1 == nil && err2 == nil {
					chain = append(chain, Timer{Addr: tl, Expires: exp, Function: fn})
				}
				node = next
			}
			if ok {
				tb.Timers = append(tb.Timers, chain...)
			}
		}
		out = append(out, tb)
	}
	return out, nil
}
