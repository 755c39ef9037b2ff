package commands

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
)

func init() {
	register(Command{
		Name:     "timer",
		Summary:  "timer queue data",
		Synopsis: "[-r][-C cpu]",
		Description: `  This command displays the pending timers of each cpu's timer wheel
  (timer_bases[]): for each, when it expires (in jiffies), the time to
  expiry (TTE, negative once past), the struct timer_list and the function
  it will call, in order of expiry.

  As crash 8.0.6 does, it shows two bases of each cpu, labelled BASE_STD and
  BASE_DEF. On 6.9 and later kernels, which have three (BASE_LOCAL,
  BASE_GLOBAL, BASE_DEF), these are BASE_LOCAL and BASE_GLOBAL, and the
  deferrable timers of the real BASE_DEF are not shown: crash's layout is
  kept so that its users' scripts read the same lines.`,
		Flags: []Flag{
			{Name: "r", Help: "the high-resolution timers of each clock base of each cpu's hrtimer_cpu_base: soft and hard expiry and time to expiry in nanoseconds (CURRENT: the clock now, from the uptime in jiffies and the kernel's HZ), the struct hrtimer and its function."},
			{Name: "C", Arg: "cpu", Help: `these cpus only: "1", "0,3", "1-2", "all".`},
		},
		Examples: `  The timers of the sample dump's cpus:

    crash> timer
    JIFFIES   
    4294918552

    TIMER_BASES[0][BASE_STD]: ff18cf441681b380
      EXPIRES        TTE        TIMER_LIST     FUNCTION
      4294919482     930  ff18cf4400a180f8  ffffffff95984896  <blk_rq_timed_out_timer>`,
		Run: runTimer,
	})
}

func runTimer(s *Session, args []string, w io.Writer) error {
	var hr bool
	var cpuArg string
	g := parseFlags("timer", args)
	for g.next() {
		switch g.flag {
		case "r":
			hr = true
		case "C":
			cpuArg = g.val
		}
	}
	if g.err != nil {
		return g.err
	}
	if len(g.rest()) > 0 {
		return usageErr("timer", "")
	}
	ncpu, err := s.NumCPUs()
	if err != nil {
		return err
	}
	var cpus map[int]bool
	if cpuArg != "" {
		if cpus, err = parseCPUList(cpuArg, ncpu); err != nil {
			return err
		}
	}
	if hr {
		bw := bufio.NewWriter(w)
		defer bw.Flush()
		return runHRTimers(s, cpus, ncpu, bw)
	}
	jo, err := s.Var("jiffies")
	if err != nil {
		return err
	}
	jiffies, err := jo.Uint()
	if err != nil {
		return err
	}
	// crash 8.0.6 looks at two bases (BASE_STD, BASE_DEF) when the kernel
	// has timer migration (NO_HZ_COMMON), else one. Since 6.9 the kernel
	// has three (kernel/time/timer.c: BASE_LOCAL, BASE_GLOBAL, BASE_DEF):
	// crash shows the first two under its old names and never the
	// deferrable one. gocrash prints what crash prints (see
	// TestTimerBasesSince69).
	nbases := 1
	if _, ok := s.Vmlinux.Lookup("sysctl_timer_migration"); ok {
		nbases = 2
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	js := strconv.FormatUint(jiffies, 10)
	flen := max(len(js), len("JIFFIES"))
	fmt.Fprintf(bw, "%-*s\n%*s\n\n", flen, "JIFFIES", flen, js)
	sym := s.symbolizer()
	n := 0
	for cpu := 0; cpu < ncpu; cpu++ {
		if cpus != nil && !cpus[cpu] {
			continue
		}
		bases, err := s.TimerBases(s.Ctx(), cpu, nbases)
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString("\n")
		}
		n++
		for _, b := range bases {
			label := "BASE_STD"
			if b.Index == 1 {
				label = "BASE_DEF"
			}
			fmt.Fprintf(bw, "TIMER_BASES[%d][%s]: %x\n", cpu, label, b.Addr)
			ts := b.Timers
			sort.SliceStable(ts, func(i, j int) bool { return ts[i].Expires < ts[j].Expires })
			var highest int64
			for _, t := range ts {
				tte := int64(t.Expires - jiffies)
				if tte < 0 {
					tte = -tte
				}
				highest = max(highest, tte)
			}
			tlen := max(len(strconv.FormatInt(highest, 10))+1, len("TTE"))
			fmt.Fprintf(bw, "  %-*s     %-*s     TIMER_LIST     FUNCTION\n", flen, "EXPIRES", tlen, "TTE")
			for _, t := range ts {
				name := ""
				if sym != nil {
					name = sym(t.Function)
				}
				fmt.Fprintf(bw, "  %*d  %*d  %s  %16x  <%s>\n", flen, t.Expires, tlen, int64(t.Expires-jiffies),
					center(fmt.Sprintf("%16x", t.Addr), 16, false), t.Function, name)
			}
			if len(ts) == 0 {
				bw.WriteString("  (none)\n")
			}
		}
	}
	return nil
}

// uptimeJiffies is crash's get_uptime(): jiffies_64 counted from
// INITIAL_JIFFIES (-300 seconds' worth, include/linux/jiffies.h), with
// the kernel's HZ.
func (s *Session) uptimeJiffies() (uint64, uint64, error) {
	hz, err := s.HZ()
	if err != nil {
		return 0, 0, err
	}
	o, err := s.Var("jiffies_64")
	if err != nil {
		return 0, 0, err
	}
	j, err := o.Uint()
	if err != nil {
		return 0, 0, err
	}
	if wrapped := j & 0xffffffff00000000; wrapped != 0 {
		wrapped -= 0x100000000
		j = j&0xffffffff | wrapped
		j += 300 * hz
	} else {
		j -= uint64(uint32(-300 * int64(hz)))
	}
	return j, hz, nil
}

// runHRTimers is timer -r: crash's dump_hrtimer_data.
func runHRTimers(s *Session, cpus map[int]bool, ncpu int, w *bufio.Writer) error {
	up, hz, err := s.uptimeJiffies()
	if err != nil {
		return err
	}
	sym := s.symbolizer()
	name := func(v uint64) string {
		if sym == nil {
			return ""
		}
		return sym(v)
	}
	n := 0
	for cpu := 0; cpu < ncpu; cpu++ {
		if cpus != nil && !cpus[cpu] {
			continue
		}
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		if n > 0 {
			w.WriteString("\n")
		}
		n++
		base, cbs, err := s.HRTimerBases(s.Ctx(), cpu)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "CPU: %d  HRTIMER_CPU_BASE: %x\n", cpu, base)
		for j, c := range cbs {
			if j > 0 {
				w.WriteString("\n")
			}
			fmt.Fprintf(w, "  CLOCK: %d  HRTIMER_CLOCK_BASE: %x  [%s]\n", c.Index, c.Addr, name(c.GetTime))
			if len(c.Timers) == 0 {
				w.WriteString("  (empty)\n")
				continue
			}
			now := int64(up*(1000000000/hz)) + c.Offset
			last := c.Timers[len(c.Timers)-1]
			explen := max(len(strconv.FormatInt(last.Expires, 10)), 7)
			softlen := max(len(strconv.FormatInt(last.SoftExpires, 10)), 11)
			ttelen := len(strconv.FormatInt(last.Expires-now, 10))
			fmt.Fprintf(w, "  %s\n", center("CURRENT", softlen, true))
			fmt.Fprintf(w, "  %s\n", center(strconv.FormatInt(now, 10), softlen, true))
			fmt.Fprintf(w, "  %s  %s  %s  %s  %s\n", center("SOFTEXPIRES", softlen, true), center("EXPIRES", explen, true),
				center("TTE", ttelen, true), center("HRTIMER", 16, false), center("FUNCTION", 16, false))
			for _, t := range c.Timers {
				fmt.Fprintf(w, "  %s  %s  %*d  %x  ", center(strconv.FormatInt(t.SoftExpires, 10), softlen, true),
					center(strconv.FormatInt(t.Expires, 10), explen, true), ttelen, t.Expires-now, t.Addr)
				if t.FunctionOK {
					fmt.Fprintf(w, "%x  <%s>", t.Function, name(t.Function))
				}
				w.WriteString("\n")
			}
		}
	}
	return nil
}
