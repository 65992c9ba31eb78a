package thin

import (
	"fmt"
	"sort"
)

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
	// Damaged subtrees were found, and kept, when the device was loaded.
	skip := func(lo, hi uint64, err error) {}
	err := t.m.walkDevice(t.id, v0, v1-1, false, func(mp Mapping) error { return g.add(mp.VBlock, mp.DBlock) }, skip)
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
	// Damaged counts the virtual blocks (below the LV's end) whose
	// mappings cannot be read (see Damage).
	Damaged uint64
}

// maxDamage bounds the damaged ranges a device may have and still open.
const maxDamage = 4096

// loadDevice walks the whole mapping tree of device id once, validating
// every node, and returns its mapper for virtual blocks below vEnd: the
// extent list when it has at most maxExtents extents (those starting
// below vEnd), else a treeMap. Mappings at or past vEnd are counted in
// Beyond; vEnd 0 only counts, and fails on any damage. A damaged or unreadable subtree below the
// root, and a mapping to a data block the pool does not have, are
// returned as damage (below vEnd, sorted) instead of failing the open,
// up to maxDamage ranges.
func (m *Metadata) loadDevice(id, vEnd uint64) (mapper, DeviceStats, []Damage, error) {
	var st DeviceStats
	var list extentMap
	var damage []Damage
	var tooMuch error
	bad := func(lo, hi uint64, err error) {
		if lo >= vEnd || tooMuch != nil {
			return
		}
		hi = min(hi, vEnd-1)
		if len(damage) >= maxDamage {
			tooMuch = fmt.Errorf("more than %d damaged parts of the mapping tree, the first: %w", maxDamage, damage[0].Err)
			return
		}
		damage = append(damage, Damage{VBlock: lo, Len: hi - lo + 1, Err: err})
	}
	if vEnd == 0 {
		bad = nil // counting (PoolInfo): damage is an error
	}
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
	err := m.walkDevice(id, 0, ^uint64(0), true, func(mp Mapping) error {
		st.Mapped++
		st.MaxTime = max(st.MaxTime, mp.Time)
		if mp.VBlock >= vEnd {
			st.Beyond++
		}
		return g.add(mp.VBlock, mp.DBlock)
	}, bad)
	if err == nil {
		err = g.flush()
	}
	if err == nil {
		err = tooMuch
	}
	if err != nil {
		return nil, st, nil, err
	}
	sort.Slice(damage, func(i, j int) bool { return damage[i].VBlock < damage[j].VBlock })
	for _, d := range damage {
		st.Damaged += d.Len
	}
	if !keep {
		return treeMap{m: m, id: id}, st, damage, nil
	}
	return list, st, damage, nil
}
