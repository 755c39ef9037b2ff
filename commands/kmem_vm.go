package commands

import (
	"bufio"
	"fmt"
	"strings"

	"gocrash/kernel"
)

// kmem -V, -z, -h, -o: crash's dump_vm_stat / dump_vm_event_state,
// dump_zone_stats, dump_hstates and dump_per_cpu_offsets.

// writeCounters prints counters right-aligned to the longest name.
func writeCounters(w *bufio.Writer, width int, cs []kernel.Counter, unsigned bool) {
	for _, c := range cs {
		if unsigned {
			fmt.Fprintf(w, "%*s: %d\n", width, c.Name, uint64(c.Value))
		} else {
			fmt.Fprintf(w, "%*s: %d\n", width, c.Name, c.Value)
		}
	}
}

func longest(groups ...[]kernel.Counter) int {
	n := 0
	for _, g := range groups {
		for _, c := range g {
			n = max(n, len(c.Name))
		}
	}
	return n
}

func runKmemVMStat(s *Session, w *bufio.Writer) error {
	st, err := s.VMStat()
	if err != nil {
		return err
	}
	width := longest(st.Zone, st.Node, st.Numa)
	w.WriteString("  VM_ZONE_STAT:\n")
	writeCounters(w, width, st.Zone, false)
	w.WriteString("\n  VM_NODE_STAT:\n")
	writeCounters(w, width, st.Node, false)
	if len(st.Numa) > 0 {
		w.WriteString("\n  VM_NUMA_STAT:\n")
		writeCounters(w, width, st.Numa, false)
	}
	ev, err := s.VMEvents()
	if err != nil {
		return nil
	}
	w.WriteString("\n  VM_EVENT_STATES:\n")
	writeCounters(w, longest(ev), ev, true)
	return nil
}

func runKmemZones(s *Session, w *bufio.Writer) error {
	for n, id := range s.onlineNodes() {
		pg, err := s.pgdat(id)
		if err != nil {
			return err
		}
		zones, err := s.Zones(n, pg)
		for _, z := range zones {
			name := "(unknown) "
			if z.NameOK {
				name = z.Name
			}
			fmt.Fprintf(w, "NODE: %d  ZONE: %d  ADDR: %x  NAME: \"%s\"\n", n, z.Index, z.Addr, name)
			if z.Spanned == 0 {
				w.WriteString("  [unpopulated]\n\n")
				continue
			}
			fmt.Fprintf(w, "  SIZE: %d", z.Spanned)
			if z.Present < z.Spanned {
				fmt.Fprintf(w, "  PRESENT: %d", z.Present)
			}
			fmt.Fprintf(w, "  MIN/LOW/HIGH: %d/%d/%d", z.Min, z.Low, z.High)
			w.WriteString("\n  VM_STAT:\n")
			writeCounters(w, longest(z.Stat), z.Stat, false)
			w.WriteString("\n\n")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func runKmemHStates(s *Session, w *bufio.Writer) error {
	hs, err := s.HStates()
	if err != nil {
		fmt.Fprintf(w, "kmem: %v\n", err)
		return fmt.Errorf("-h option not supported or applicable on this architecture or kernel")
	}
	w.WriteString("     HSTATE        SIZE    FREE   TOTAL  NAME\n")
	ps := uint64(s.Dump.PageSize())
	for _, h := range hs {
		size := strings.Replace(pagesToSize(uint64(1)<<h.Order, ps), " ", "", 1)
		fmt.Fprintf(w, "%x  %5s  %6d  %6d  %s\n", h.Addr, size, h.Free, h.Total, h.Name)
	}
	return nil
}

func runKmemOffsets(s *Session, w *bufio.Writer) error {
	n, err := s.NumCPUs()
	if err != nil {
		return err
	}
	w.WriteString("PER-CPU OFFSET VALUES:\n")
	for cpu := 0; cpu < n; cpu++ {
		off, err := s.PerCPUOffset(cpu)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%7s: %x\n", fmt.Sprintf("CPU %d", cpu), off)
	}
	return nil
}
