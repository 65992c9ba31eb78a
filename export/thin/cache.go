package thin

// nodeCacheSize is how many validated nodes a Metadata keeps (4 KiB each):
// enough for the internal nodes of any tree plus recent leaves.
const nodeCacheSize = 512

type cacheKey struct {
	blk uint64
	vs  int
}

// nodeCache is a bounded cache of validated nodes with clock eviction.
type nodeCache struct {
	m    map[cacheKey]int // index into ring
	ring []cacheEntry
	hand int
}

type cacheEntry struct {
	key  cacheKey
	n    *node
	used bool
}

func (c *nodeCache) init(size int) {
	c.m = make(map[cacheKey]int, size)
	c.ring = make([]cacheEntry, 0, size)
}

func (c *nodeCache) get(blk uint64, vs int) *node {
	i, ok := c.m[cacheKey{blk, vs}]
	if !ok {
		return nil
	}
	c.ring[i].used = true
	return c.ring[i].n
}

func (c *nodeCache) put(blk uint64, vs int, n *node) {
	k := cacheKey{blk, vs}
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.m[k] = len(c.ring)
		c.ring = append(c.ring, cacheEntry{key: k, n: n})
		return
	}
	if len(c.ring) == 0 {
		return
	}
	for c.ring[c.hand].used {
		c.ring[c.hand].used = false
		c.hand = (c.hand + 1) % len(c.ring)
	}
	delete(c.m, c.ring[c.hand].key)
	c.ring[c.hand] = cacheEntry{key: k, n: n}
	c.m[k] = c.hand
	c.hand = (c.hand + 1) % len(c.ring)
}
