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
	t, err := k.Layouts()
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
		if err := k.memory().ReadVirt(vec, base+uint64(vm.Offset)); err != nil {
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
				if len(seen)%256 == 255 && ctx.Err() != nil {
					return out, ctx.Err()
				}
				if seen[node] || len(chain) >= MaxListEntries {
					ok = false
					break
				}
				seen[node] = true
				tl := node - uint64(entry)
				exp, err1 := ReadPointer(k.memory(), tl+uint64(expOff))
				fn, err2 := ReadPointer(k.memory(), tl+uint64(fnOff))
				next, err3 := ReadPointer(k.memory(), node)
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

// HRTimer is one queued struct hrtimer.
type HRTimer struct {
	Addr                 uint64
	SoftExpires, Expires int64
	Function             uint64
	FunctionOK           bool
}

// HRClockBase is one hrtimer_clock_base of a cpu's hrtimer_cpu_base.
type HRClockBase struct {
	Index   int
	Addr    uint64
	GetTime uint64 // the clock's get_time function
	Offset  int64  // ktime offset to the monotonic clock
	Timers  []HRTimer
}

// HRTimerBases are cpu's hrtimer_bases (the per-cpu hrtimer_cpu_base):
// its address and each clock base with its timers in expiry order (the
// timerqueue's rbtree in order).
func (k *Kernel) HRTimerBases(ctx context.Context, cpu int) (uint64, []HRClockBase, error) {
	t, err := k.Layouts()
	if err != nil {
		return 0, nil, err
	}
	sym, ok := k.Vmlinux.Lookup("hrtimer_bases")
	if !ok {
		return 0, nil, fmt.Errorf("no hrtimer_bases")
	}
	off, err := k.PerCPUOffset(cpu)
	if err != nil {
		return 0, nil, err
	}
	base := sym + off
	var r tOffsets
	r.t = t
	cbOff, getTime, offOff, active := r.o("hrtimer_cpu_base.clock_base"), r.o("hrtimer_clock_base.get_time"), r.o("hrtimer_clock_base.offset"), r.o("hrtimer_clock_base.active")
	rootOff := r.o("timerqueue_head.rb_root")
	nodeOff, expOff, softOff, fnOff := r.o("hrtimer.node"), r.o("hrtimer.node.expires"), r.o("hrtimer._softexpires"), r.o("hrtimer.function")
	if r.err != nil {
		return 0, nil, r.err
	}
	cbm, err := t.Member("hrtimer_cpu_base", "clock_base")
	if err != nil {
		return 0, nil, err
	}
	total, err := t.Size(cbm.Type)
	if err != nil {
		return 0, nil, err
	}
	size, err := t.SizeOf("hrtimer_clock_base")
	if err != nil || size <= 0 {
		return 0, nil, fmt.Errorf("struct hrtimer_clock_base: %v", err)
	}
	var out []HRClockBase
	for i := 0; i < int(total/size); i++ {
		cb := base + cbOff + uint64(i)*uint64(size)
		c := HRClockBase{Index: i, Addr: cb}
		c.GetTime, _ = ReadPointer(k.memory(), cb+getTime)
		o, _ := ReadPointer(k.memory(), cb+offOff)
		c.Offset = int64(o)
		// rb_root_cached: rb_root then rb_leftmost.
		top, err := ReadPointer(k.memory(), cb+active+rootOff)
		if err != nil {
			return base, out, fmt.Errorf("hrtimer_clock_base %#x: %w", cb, err)
		}
		err = WalkRBTree(ctx, k.memory(), top, RBWalk{Linear: true, Visit: func(node uint64, _ []byte) error {
			h := node - nodeOff
			ht := HRTimer{Addr: h}
			e, err := ReadPointer(k.memory(), h+expOff)
			if err != nil {
				return nil
			}
			ht.Expires = int64(e)
			s, _ := ReadPointer(k.memory(), h+softOff)
			ht.SoftExpires = int64(s)
			if fn, err := ReadPointer(k.memory(), h+fnOff); err == nil {
				ht.Function, ht.FunctionOK = fn, true
			}
			c.Timers = append(c.Timers, ht)
			return nil
		}})
		if err != nil {
			return base, out, err
		}
		out = append(out, c)
	}
	return base, out, nil
}
