package commands

import "gocrash/kernel"

// KmemVMStatJSON is kmem -V: the kernel's vm_stat counters and VM events.
type KmemVMStatJSON struct {
	ZoneStat []CounterJSON      `json:"zone_stat" desc:"VM_ZONE_STAT: vm_zone_stat, by zone_stat_item, in the enum's order"`
	NodeStat []CounterJSON      `json:"node_stat" desc:"VM_NODE_STAT: vm_node_stat, by node_stat_item"`
	NumaStat []CounterJSON      `json:"numa_stat,omitempty" desc:"VM_NUMA_STAT: vm_numa_stat (4.14 to 5.13)"`
	Events   []EventCounterJSON `json:"events,omitempty" desc:"VM_EVENT_STATES: the vm_event_states summed over the cpus (absent where the kernel keeps none)"`
}

// CounterJSON is one named counter.
type CounterJSON struct {
	Name  string `json:"name" desc:"the enumerator's name, lower case as kmem prints it"`
	Value int64  `json:"value" desc:"its value"`
}

// EventCounterJSON is one VM event counter (unsigned).
type EventCounterJSON struct {
	Name  string `json:"name" desc:"the vm_event_item's name"`
	Value uint64 `json:"value" desc:"its count"`
}

// KmemZoneJSON is one zone of kmem -z.
type KmemZoneJSON struct {
	Node        int           `json:"node" desc:"NODE"`
	Zone        int           `json:"zone" desc:"ZONE: the index in node_zones"`
	Addr        Addr          `json:"addr" desc:"ADDR: the struct zone"`
	Name        string        `json:"name" desc:"NAME (empty when it could not be read: kmem shows (unknown))"`
	Unpopulated bool          `json:"unpopulated" desc:"no pages spanned ([unpopulated]); nothing below is read"`
	Size        uint64        `json:"size" desc:"SIZE: spanned pages"`
	Present     uint64        `json:"present" desc:"present pages (kmem shows PRESENT when below SIZE)"`
	Min         uint64        `json:"min" desc:"the MIN watermark, pages"`
	Low         uint64        `json:"low" desc:"the LOW watermark"`
	High        uint64        `json:"high" desc:"the HIGH watermark"`
	VMStat      []CounterJSON `json:"vm_stat" desc:"VM_STAT: zone.vm_stat"`
}

func countersJSON(cs []kernel.Counter) []CounterJSON {
	out := []CounterJSON{}
	for _, c := range cs {
		out = append(out, CounterJSON{Name: c.Name, Value: c.Value})
	}
	return out
}

// kmemVMStatJSON reads what runKmemVMStat prints.
func kmemVMStatJSON(s *Session) (any, error) {
	st, err := s.VMStat()
	if err != nil {
		return nil, err
	}
	j := &KmemVMStatJSON{ZoneStat: countersJSON(st.Zone), NodeStat: countersJSON(st.Node)}
	if len(st.Numa) > 0 {
		j.NumaStat = countersJSON(st.Numa)
	}
	if ev, err := s.VMEvents(); err == nil {
		j.Events = []EventCounterJSON{}
		for _, c := range ev {
			j.Events = append(j.Events, EventCounterJSON{Name: c.Name, Value: uint64(c.Value)})
		}
	}
	return j, nil
}

// kmemZonesJSON reads what runKmemZones prints.
func kmemZonesJSON(s *Session) (any, error) {
	out := []KmemZoneJSON{}
	for n, id := range s.OnlineNodes() {
		pg, err := s.PGDat(id)
		if err != nil {
			return nil, err
		}
		zones, err := s.Zones(n, pg)
		if err != nil {
			return nil, err
		}
		for _, z := range zones {
			j := KmemZoneJSON{Node: n, Zone: z.Index, Addr: Addr(z.Addr), VMStat: []CounterJSON{}}
			if z.NameOK {
				j.Name = z.Name
			}
			if z.Spanned == 0 {
				j.Unpopulated = true
			} else {
				j.Size, j.Present, j.Min, j.Low, j.High = z.Spanned, z.Present, z.Min, z.Low, z.High
				j.VMStat = countersJSON(z.Stat)
			}
			out = append(out, j)
		}
	}
	return out, nil
}
