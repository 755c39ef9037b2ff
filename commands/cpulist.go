package commands

import (
	"fmt"
	"strings"
)

// parseCPUList reads the cpu lists of bt -c, ps -C and runq -c as crash
// reads them (tools.c make_cpumask() and dtoi()): comma-separated pieces,
// each "N", "N-M" or "a"/"all"; every cpu named must be below ncpu. A
// piece that is not a number is named with its first wrong character, as
// dtoi() words it; a cpu out of range names the whole list. A range whose
// end is below its start selects nothing, as in crash.
func parseCPUList(spec string, ncpu int) (map[int]bool, error) {
	bad := fmt.Errorf("invalid cpu specification: %s", spec)
	set := map[int]bool{}
	pieces := 0
	for _, piece := range strings.Split(spec, ",") {
		if piece == "" {
			continue // strtok() skips empty pieces
		}
		pieces++
		lo, hi := 0, ncpu-1
		if piece != "a" && piece != "all" {
			// strtok(p, "-"): the first two non-empty fields.
			var fields []string
			for _, f := range strings.Split(piece, "-") {
				if f != "" {
					fields = append(fields, f)
				}
			}
			if len(fields) == 0 {
				return nil, bad
			}
			var err error
			if lo, err = cpuNumber(fields[0]); err != nil {
				return nil, err
			}
			hi = lo
			if len(fields) > 1 {
				if hi, err = cpuNumber(fields[1]); err != nil {
					return nil, err
				}
			}
		}
		if lo < 0 || lo >= ncpu || hi < 0 || hi >= ncpu {
			return nil, bad
		}
		for c := lo; c <= hi; c++ {
			set[c] = true
		}
	}
	if pieces == 0 {
		return nil, bad
	}
	return set, nil
}

// cpuNumber is dtoi(): decimal digits only (leading blanks skipped).
func cpuNumber(s string) (int, error) {
	s = strings.TrimLeft(s, " ")
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s: %q is not a digit 0 - 9", s, string(c))
		}
		if n < 1<<20 { // beyond any cpu count: the range check refuses it
			n = n*10 + int(c-'0')
		}
	}
	if s == "" {
		return 0, fmt.Errorf("%s: %q is not a digit 0 - 9", s, "")
	}
	return n, nil
}
