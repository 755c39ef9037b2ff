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
    4294901069

    TIMER_BASES[0][BASE_STD]: ff42bab50e61b4c0
      EXPIRES        TTE        TIMER_LIST     FUNCTION
      4294901070       1  ff5ed7c98006be58  ffffffff8ca8a30b  <process_timeout>
    ...`,
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
	// crash takes no operands and ignores any.
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
	tj, err := s.timerWheels(cpus, ncpu)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	js := strconv.FormatUint(tj.Jiffies, 10)
	flen := max(len(js), len("JIFFIES"))
	fmt.Fprintf(bw, "%-*s\n%*s\n\n", flen, "JIFFIES", flen, js)
	for i, b := range tj.Bases {
		if i > 0 && b.CPU != tj.Bases[i-1].CPU {
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "TIMER_BASES[%d][%s]: %x\n", b.CPU, b.Base, uint64(b.TimerBase))
		var highest int64
		for _, t := range b.Timers {
			highest = max(highest, t.TTE, -t.TTE)
		}
		tlen := max(len(strconv.FormatInt(highest, 10))+1, len("TTE"))
		fmt.Fprintf(bw, "  %-*s     %-*s     TIMER_LIST     FUNCTION\n", flen, "EXPIRES", tlen, "TTE")
		for _, t := range b.Timers {
			fmt.Fprintf(bw, "  %*d  %*d  %s  %16x  <%s>\n", flen, t.Expires, tlen, t.TTE,
				center(fmt.Sprintf("%16x", uint64(t.TimerList)), 16, false), uint64(t.Function), t.FunctionName)
		}
		if len(b.Timers) == 0 {
			bw.WriteString("  (none)\n")
		}
	}
	return nil
}

// TimerJSON is timer's answer: jiffies and each cpu's timer bases.
type TimerJSON struct {
	Jiffies uint64          `json:"jiffies" desc:"JIFFIES"`
	Bases   []TimerBaseJSON `json:"bases" desc:"each cpu's bases, in cpu order"`
}

// TimerBaseJSON is one TIMER_BASES[cpu][base] block.
type TimerBaseJSON struct {
	CPU       int              `json:"cpu" desc:"the cpu"`
	Base      string           `json:"base" desc:"BASE_STD or BASE_DEF, as timer labels timer_bases[0] and [1] (see help timer for 6.9+)"`
	TimerBase Addr             `json:"timer_base" desc:"the struct timer_base"`
	Timers    []TimerEntryJSON `json:"timers" desc:"its pending timers, by expiry"`
}

// TimerEntryJSON is one timer line.
type TimerEntryJSON struct {
	Expires      uint64 `json:"expires" desc:"EXPIRES: in jiffies"`
	TTE          int64  `json:"tte" desc:"TTE: expires - jiffies, negative once past"`
	TimerList    Addr   `json:"timer_list" desc:"TIMER_LIST: the struct timer_list"`
	Function     Addr   `json:"function" desc:"FUNCTION: the address it calls"`
	FunctionName string `json:"function_name" desc:"FUNCTION's symbol in brackets, empty when none"`
}

// timerWheels is what timer shows: jiffies and the bases of the cpus
// (nil: all), their timers by expiry.
func (s *Session) timerWheels(cpus map[int]bool, ncpu int) (*TimerJSON, error) {
	jo, err := s.Var("jiffies")
	if err != nil {
		return nil, err
	}
	jiffies, err := jo.Uint()
	if err != nil {
		return nil, err
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
	sym := s.symbolizer()
	tj := &TimerJSON{Jiffies: jiffies, Bases: []TimerBaseJSON{}}
	for cpu := 0; cpu < ncpu; cpu++ {
		if cpus != nil && !cpus[cpu] {
			continue
		}
		bases, err := s.TimerBases(s.Ctx(), cpu, nbases)
		if err != nil {
			return nil, err
		}
		for _, b := range bases {
			label := "BASE_STD"
			if b.Index == 1 {
				label = "BASE_DEF"
			}
			tb := TimerBaseJSON{CPU: cpu, Base: label, TimerBase: Addr(b.Addr), Timers: []TimerEntryJSON{}}
			ts := b.Timers
			sort.SliceStable(ts, func(i, j int) bool { return ts[i].Expires < ts[j].Expires })
			for _, t := range ts {
				e := TimerEntryJSON{Expires: t.Expires, TTE: int64(t.Expires - jiffies), TimerList: Addr(t.Addr), Function: Addr(t.Function)}
				if sym != nil {
					e.FunctionName = sym(t.Function)
				}
				tb.Timers = append(tb.Timers, e)
			}
			tj.Bases = append(tj.Bases, tb)
		}
	}
	return tj, nil
}

// timerJSON is timer's JSON: the default format and -C.
func timerJSON(s *Session, args []string) (any, error) {
	var cpuArg string
	g := parseFlags("timer", args)
	for g.next() {
		switch g.flag {
		case "C":
			cpuArg = g.val
		default:
			return nil, jsonOptionsErr("timer", args)
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	if len(g.rest()) > 0 {
		return nil, usageErr("timer", "")
	}
	ncpu, err := s.NumCPUs()
	if err != nil {
		return nil, err
	}
	var cpus map[int]bool
	if cpuArg != "" {
		if cpus, err = parseCPUList(cpuArg, ncpu); err != nil {
			return nil, err
		}
	}
	return s.timerWheels(cpus, ncpu)
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
