package commands

import (
	"strconv"
	"strings"
	"time"
)

// The JSON forms of gocrash's own commands free and uptime.

// FreeJSON is free's table, in bytes.
type FreeJSON struct {
	Total     uint64 `json:"total" desc:"Mem: total (_totalram_pages)"`
	Used      uint64 `json:"used" desc:"Mem: used, total - available as procps-ng 4 computes it"`
	Free      uint64 `json:"free" desc:"Mem: free (NR_FREE_PAGES)"`
	Shared    uint64 `json:"shared" desc:"Mem: shared (NR_SHMEM)"`
	Buffers   uint64 `json:"buffers" desc:"buffers (free -w)"`
	Cache     uint64 `json:"cache" desc:"cache: page cache less swap cache and buffers, plus SReclaimable (free -w); buff/cache is buffers + cache"`
	Available uint64 `json:"available" desc:"Mem: available, as si_mem_available() computes it"`
	SwapTotal uint64 `json:"swap_total" desc:"Swap: total"`
	SwapUsed  uint64 `json:"swap_used" desc:"Swap: used"`
	SwapFree  uint64 `json:"swap_free" desc:"Swap: free"`
}

func freeJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("free", args)
	}
	f, err := s.ReadFree()
	if err != nil {
		return nil, err
	}
	j := &FreeJSON{Total: f.Total, Free: f.Free, Shared: f.Shared, Buffers: f.Buffers, Cache: f.Cache, Available: f.Available,
		SwapTotal: f.SwapTotal, SwapFree: f.SwapFree, SwapUsed: f.SwapTotal - f.SwapFree}
	if f.Total > f.Available {
		j.Used = f.Total - f.Available
	}
	return j, nil
}

// UptimeJSON is uptime's line.
type UptimeJSON struct {
	Time          string     `json:"time" desc:"the time of the dump, RFC 3339 in the session's zone"`
	UptimeSeconds float64    `json:"uptime_seconds" desc:"seconds since boot, from jiffies and the kernel's HZ"`
	Since         string     `json:"since" desc:"the boot time, RFC 3339 (uptime -s)"`
	LoadAverage   [3]float64 `json:"load_average" desc:"1, 5 and 15 minute load averages, rounded as uptime shows them"`
}

func uptimeJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("uptime", args)
	}
	up, err := s.Uptime()
	if err != nil {
		return nil, err
	}
	now, err := s.DumpTime()
	if err != nil {
		return nil, err
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	now = now.In(loc)
	load, err := s.LoadAverage()
	if err != nil {
		return nil, err
	}
	j := &UptimeJSON{Time: now.Format(time.RFC3339), UptimeSeconds: up.Seconds(), Since: now.Add(-up).Format(time.RFC3339)}
	for i, f := range strings.Split(load, ", ") {
		if i < 3 {
			j.LoadAverage[i], _ = strconv.ParseFloat(f, 64)
		}
	}
	return j, nil
}
