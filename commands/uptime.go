package commands

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// uptime: gocrash's own command (crash has none; its sys shows UPTIME and
// LOAD AVERAGE) for people who come from the live system's uptime(1):
// procps-ng 4.0's line, from the same values as sys.

func init() {
	register(Command{
		Name:     "uptime",
		Summary:  "time, uptime and load in uptime(1)'s layout (gocrash's own command)",
		Synopsis: "[-p] [-s]",
		Description: `  gocrash's own command: crash has no "uptime".  It prints what procps's
  uptime(1) would have printed at the moment of the crash: the time of day
  of sys's DATE (in the local time zone, as sys shows it), how long the
  kernel had been up (sys's UPTIME, from jiffies_64 and the kernel's HZ) and
  the load averages (sys's LOAD AVERAGE, from avenrun).  uptime(1)'s count
  of logged-in users comes from utmp, a file the dump does not hold: it is
  left out.`,
		Flags: []Flag{
			{Name: "p", Help: "pretty: only how long the system had been up, in words."},
			{Name: "s", Help: "since: the time the system booted (DATE less UPTIME)."},
		},
		Examples: `  The sample dump:

    crash> uptime
     17:13:11 up 0 min,  load average: 2.16, 0.53, 0.18
    crash> uptime -s
    2026-12-01 17:12:36`,
		Run: runUptime,
	})
}

func runUptime(s *Session, args []string, w io.Writer) error {
	g := parseFlags("uptime", args)
	pretty, since := false, false
	for g.next() {
		switch g.flag {
		case "p":
			pretty = true
		case "s":
			since = true
		}
	}
	if g.err != nil {
		return g.err
	}
	if len(g.rest()) > 0 {
		return usageErr("uptime", "unexpected argument: %s", g.rest()[0])
	}
	up, err := s.Uptime()
	if err != nil {
		return fmt.Errorf("uptime: %w", err)
	}
	now, err := s.DumpTime()
	if err != nil {
		return err
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	now = now.In(loc)
	var line string
	switch {
	case since:
		line = now.Add(-up).Format("2006-01-02 15:04:05")
	case pretty:
		line = prettyUptime(up)
	default:
		load, err := s.LoadAverage()
		if err != nil {
			return err
		}
		line = fmt.Sprintf(" %02d:%02d:%02d up %s,  load average: %s", now.Hour(), now.Minute(), now.Second(), uptimeSpan(up), load)
	}
	_, err = io.WriteString(w, line+"\n")
	return err
}

// uptimeSpan is procps's "N days, HH:MM" or "M min".
func uptimeSpan(d time.Duration) string {
	secs := int64(d / time.Second)
	days := secs / 86400
	mins := secs / 60
	hours := mins / 60 % 24
	mins %= 60
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%d day", days)
		if days > 1 {
			b.WriteString("s")
		}
		b.WriteString(", ")
	}
	if hours > 0 {
		fmt.Fprintf(&b, "%2d:%02d", hours, mins)
	} else {
		fmt.Fprintf(&b, "%d min", mins)
	}
	return b.String()
}

// prettyUptime is procps's uptime -p: "up 2 weeks, 1 day, 3 hours, 5 minutes".
func prettyUptime(d time.Duration) string {
	secs := int64(d / time.Second)
	parts := []struct {
		n    int64
		name string
	}{
		{secs / (60 * 60 * 24 * 365), "year"},
		{secs / (60 * 60 * 24 * 7) % 52, "week"},
		{secs / (60 * 60 * 24) % 7, "day"},
		{secs / (60 * 60) % 24, "hour"},
		{secs / 60 % 60, "minute"},
	}
	var out []string
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s", p.n, p.name)
		if p.n > 1 {
			s += "s"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "up 0 minutes"
	}
	return "up " + strings.Join(out, ", ")
}
