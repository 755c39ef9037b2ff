package commands

import "errors"

// KmemFreeJSON is kmem -f: each zone's buddy free lists.
type KmemFreeJSON struct {
	Zones       []KmemFreeZoneJSON `json:"zones" desc:"every zone of every online node"`
	NrFreePages uint64             `json:"nr_free_pages" desc:"nr_free_pages: the zones' NR_FREE_PAGES summed"`
	FoundPages  uint64             `json:"found_pages" desc:"the pages of the free blocks found on the lists ((verified) when equal)"`
}

// KmemFreeZoneJSON is one zone's line and its free areas.
type KmemFreeZoneJSON struct {
	Node       int                `json:"node" desc:"NODE: the node's id"`
	Zone       int                `json:"zone" desc:"ZONE"`
	Name       string             `json:"name" desc:"NAME (empty when it could not be read)"`
	Size       uint64             `json:"size" desc:"SIZE: spanned pages"`
	Free       uint64             `json:"free" desc:"FREE: vm_stat[NR_FREE_PAGES]"`
	MemMap     Addr               `json:"mem_map" desc:"MEM_MAP: the struct page of the zone's first pfn"`
	StartPaddr Addr               `json:"start_paddr" desc:"START_PADDR"`
	StartMapnr uint64             `json:"start_mapnr" desc:"START_MAPNR"`
	Areas      []KmemFreeAreaJSON `json:"areas" desc:"the free lists (none read when FREE is 0)"`
}

// KmemFreeAreaJSON is one AREA line.
type KmemFreeAreaJSON struct {
	Order       int    `json:"order" desc:"AREA: the order"`
	SizeKB      uint64 `json:"size_kb" desc:"SIZE: a block's size in KB"`
	MigrateType int    `json:"migrate_type" desc:"the list's index in free_list[]"`
	FreeArea    Addr   `json:"free_area" desc:"FREE_AREA_STRUCT: the list_head"`
	Blocks      int    `json:"blocks" desc:"BLOCKS"`
	Pages       uint64 `json:"pages" desc:"PAGES"`
}

// kmemFreeJSON reads what runKmemFree prints (without -F's pages); a
// list that loops or cannot be read is the error.
func kmemFreeJSON(s *Session) (any, error) {
	zones, err := s.freeZones()
	if err != nil {
		return nil, err
	}
	ps := uint64(s.Dump.PageSize())
	j := &KmemFreeJSON{Zones: []KmemFreeZoneJSON{}}
	for i := range zones {
		fz := &zones[i]
		if err := s.Ctx().Err(); err != nil {
			return nil, err
		}
		zj := KmemFreeZoneJSON{Node: fz.nodeID, Zone: fz.z.Index, Size: fz.z.Spanned, Free: fz.free, MemMap: Addr(fz.memMap),
			StartPaddr: Addr(fz.z.ZoneStartPFN << 12), StartMapnr: fz.mapnr, Areas: []KmemFreeAreaJSON{}}
		if fz.z.NameOK {
			zj.Name = fz.z.Name
		}
		j.NrFreePages += fz.free
		if fz.free != 0 {
			lists, err := s.FreeLists(s.Ctx(), fz.z.FreeArea)
			if err != nil {
				return nil, err
			}
			for _, fl := range lists {
				if fl.Err != nil {
					return nil, errors.Join(errors.New("corrupted free list"), fl.Err)
				}
				zj.Areas = append(zj.Areas, KmemFreeAreaJSON{Order: fl.Order, SizeKB: (uint64(1) << fl.Order) * ps / 1024, MigrateType: fl.Type,
					FreeArea: Addr(fl.Addr), Blocks: len(fl.Blocks), Pages: uint64(len(fl.Blocks)) << fl.Order})
				j.FoundPages += uint64(len(fl.Blocks)) << fl.Order
			}
		}
		j.Zones = append(j.Zones, zj)
	}
	return j, nil
}
