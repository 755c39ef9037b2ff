package commands

import (
	"errors"
	"fmt"

	"gocrash/kernel"
)

// KmemCacheJSON is one line of kmem -s.
type KmemCacheJSON struct {
	Cache     Addr   `json:"cache" desc:"CACHE: the struct kmem_cache"`
	ObjSize   uint64 `json:"objsize" desc:"OBJSIZE"`
	Gathered  bool   `json:"gathered" desc:"the counts could be read (kmem -s shows ? otherwise)"`
	Allocated uint64 `json:"allocated" desc:"ALLOCATED objects"`
	Total     uint64 `json:"total" desc:"TOTAL objects"`
	Slabs     uint64 `json:"slabs" desc:"SLABS"`
	SSizeKB   uint64 `json:"ssize_kb" desc:"SSIZE: one slab's size in KB"`
	Name      string `json:"name" desc:"NAME"`
}

// kmemSlabJSON is kmem -s's JSON: every cache, walked as runKmemSlab
// and dumpCaches walk them.
func kmemSlabJSON(s *Session) (any, error) {
	sl, err := s.Slab()
	if err != nil {
		if errors.Is(err, kernel.ErrNoSlab) {
			return nil, err
		}
		return nil, fmt.Errorf("kmem cache slab subsystem not available: %w", err)
	}
	if !sl.HasNodeCounters() {
		return nil, errors.New("option requires kmem_cache_node.nr_slabs member! (the kernel must be built with CONFIG_SLUB_DEBUG)")
	}
	ctx := s.Ctx()
	addrs, err := sl.CacheAddrs(ctx)
	if err != nil {
		return nil, err
	}
	out := []KmemCacheJSON{}
	for _, a := range addrs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := sl.Cache(a)
		if err != nil {
			continue // dumpCaches passes it over too
		}
		st, ok := sl.Stats(ctx, c, func(string) {})
		j := KmemCacheJSON{Cache: Addr(c.Addr), ObjSize: uint64(c.ObjSize), Gathered: ok, SSizeKB: uint64(c.SlabSize(12) / 1024), Name: c.Name}
		if ok {
			j.Allocated, j.Total, j.Slabs = uint64(st.Allocated), uint64(st.Total), uint64(st.Slabs)
		}
		out = append(out, j)
	}
	return out, nil
}
