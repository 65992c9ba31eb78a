package thin

import "sort"

// Extent is a run of Len consecutive virtual blocks mapped to consecutive
// data blocks starting at DBlock.
type Extent struct {
	VBlock, DBlock, Len uint64
}

// maxExtents caps the extent list a thin LV keeps in memory (24 bytes
// each, so 24 MiB). Consecutive blocks merge into one extent, so the list
// grows with fragmentation, not with size: a 1 TiB LV written in order is
// a handful of extents, and even one fragmented in every 64 KiB block fits
// up to 64 GiB of provisioned data. Beyond the cap the LV looks its blocks
// up in the tree for each range read (treeMap), with memory bounded by the
// node cache. A variable so tests can force the tree path.
var maxExtents = 1 << 20

// mapper finds the provisioned blocks of one thin device.
type mapper interface {
	// each calls fn, in order, for the maximal extents of provisioned
	// blocks within virtual blocks [v0, v1), clipped to that range.
	each(v0, v1 uint64, fn func(Extent) error) error
}

// extentMap is a sorted, merged extent list.
type extentMap []Extent

func (x extentMap) each(v0, v1 uint64, fn func(Extent) error) error {
	i := sort.Search(len(x), func(i int) bool { return x[i].VBlock+x[i].Len > v0 })
	for ; i < len(x) && x[i].VBlock < v1; i++ {
		e := x[i]
		if e.VBlock < v0 {
			d := v0 - e.VBlock
			e.VBlock, e.DBlock, e.Len = v0, e.DBlock+d, e.Len-d
		}
		if end := e.VBlock + e.Len; end > v1 {
			e.Len -= end - v1
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// merger accumulates mappings, in virtual block order, into extents.
type merger struct {
	cur  Extent
	emit func(Extent) error
}

func (g *merger) add(v, d uint64) error {
	c := &g.cur
	if c.Len > 0 && v == c.VBlock+c.Len && d == c.DBlock+c.Len {
		c.Len++
		return nil
	}
	if err := g.flush(); err != nil {
		return err
	}
	*c = Extent{VBlock: v, DBlock: d, Len: 1}
	return nil
}

func (g *merger) flush() error {
	if g.cur.Len == 0 {
		return nil
	}
	e := g.cur
	g.cur = Extent{}
	return g.emit(e)
}

// treeMap looks blocks up in the device's mapping tree on each call.
type treeMap struct {
	m  *Metadata
	id uint64
}

func (t treeMap) each(v0, v1 uint64, fn func(Extent) error) error {
	if v0 >= v1 {
		return nil
	}
	g := merger{emit: fn}
	err := t.m.WalkDevice(t.id, v0, v1-1, false, func(mp Mapping) error { return g.add(mp.VBlock, mp.DBlock) })
	if err != nil {
		return err
	}
	return g.flush()
}

// DeviceStats summarises a thin device's mapping tree.
type DeviceStats struct {
	Mapped  uint64 // provisioned blocks (leaf entries)
	Beyond  uint64 // of those, blocks at or past the LV's end (ignored)
	Extents uint64 // runs of consecutive blocks mapped to consecutive data blocks
	MaxTime uint32 // newest provisioning time
}

// loadDevice walks the whole mapping tree of device id once, validating
// every node, and returns its mapper for virtual blocks below vEnd: the
// extent list when it has at most maxExtents extents (those starting
// below vEnd), else a treeMap. Mappings at or past vEnd are counted in
// Beyond; vEnd 0 only counts.
func (m *Metadata) loadDevice(id, vEnd uint64) (mapper, DeviceStats, error) {
	var st DeviceStats
	var list extentMap
	keep := true
	g := merger{emit: func(e Extent) error {
		st.Extents++
		if keep && e.VBlock < vEnd {
			if len(list) >= maxExtents {
				keep, list = false, nil
			} else {
				list = append(list, e)
			}
		}
		return nil
	}}
	err := m.WalkDevice(id, 0, ^uint64(0), true, func(mp Mapping) error {
		st.Mapped++
		st.MaxTime = max(st.MaxTime, mp.Time)
		if mp.VBlock >= vEnd {
			st.Beyond++
		}
		return g.add(mp.VBlock, mp.DBlock)
	})
	if err == nil {
		err = g.flush()
	}
	if err != nil {
		return nil, st, err
	}
	if !keep {
		return treeMap{m: m, id: id}, st, nil
	}
	return list, st, nil
}
