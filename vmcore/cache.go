package vmcore

// pageCache is a fixed-size LRU of decompressed pages keyed by pfn. Buffers
// are recycled on eviction, so a long session does not churn the GC.
type pageCache struct {
	max     int
	size    int // bytes per page
	index   map[uint64]int32
	entries []cacheEntry
	head    int32 // most recently used, -1 if empty
	tail    int32 // least recently used
	spare   []byte
}

type cacheEntry struct {
	pfn        uint64
	data       []byte
	prev, next int32
}

func newPageCache(maxPages, pageSize int) *pageCache {
	return &pageCache{max: max(maxPages, 1), size: pageSize, index: make(map[uint64]int32), head: -1, tail: -1}
}

func (c *pageCache) get(pfn uint64) ([]byte, bool) {
	i, ok := c.index[pfn]
	if !ok {
		return nil, false
	}
	c.moveToFront(i)
	return c.entries[i].data, true
}

// slot returns a buffer to load a page into before put.
func (c *pageCache) slot() []byte {
	if c.spare == nil {
		c.spare = make([]byte, c.size)
	}
	return c.spare
}

// put stores buf (from slot) as page pfn and returns it.
func (c *pageCache) put(pfn uint64, buf []byte) []byte {
	c.spare = nil
	if len(c.entries) < c.max {
		i := int32(len(c.entries))
		c.entries = append(c.entries, cacheEntry{pfn: pfn, data: buf, prev: -1, next: -1})
		c.index[pfn] = i
		c.pushFront(i)
		return buf
	}
	i := c.tail
	e := &c.entries[i]
	delete(c.index, e.pfn)
	c.spare = e.data
	e.pfn, e.data = pfn, buf
	c.index[pfn] = i
	c.moveToFront(i)
	return buf
}

func (c *pageCache) unlink(i int32) {
	e := &c.entries[i]
	if e.prev >= 0 {
		c.entries[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.entries[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (c *pageCache) pushFront(i int32) {
	e := &c.entries[i]
	e.prev, e.next = -1, c.head
	if c.head >= 0 {
		c.entries[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}

func (c *pageCache) moveToFront(i int32) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}
