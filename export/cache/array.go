package cache

import (
	"encoding/binary"
	"math"
)

const (
	nodeHeader  = 32
	flagNode    = 1 // internal node
	flagLeaf    = 2
	arrayHeader = 24
	valueSize   = 8
	// maxDepth bounds the b-tree depth; a real array tree of 2^32
	// entries is 4 levels deep.
	maxDepth = 8
)

// maxNodeEntries is a node's capacity for values of vs bytes.
func maxNodeEntries(vs uint32) uint32 { return (4064 / (8 + vs)) / 3 * 3 }

// arrayEntries is an array block's capacity for values of vs bytes.
func arrayEntries(vs uint32) uint32 { return (BlockSize - arrayHeader) / vs }

// leafEntry is one (key, value) of a b-tree leaf.
type leafEntry struct{ key, value uint64 }

// walkTree collects the leaf entries of the b-tree at root in key order.
// Keys must be below limit; at most limit entries are collected.
func (m *metaDev) walkTree(tree string, root, limit uint64) ([]leafEntry, error) {
	var out []leafEntry
	seen := map[uint64]bool{}
	var walk func(b, lo, hi uint64, depth int) error
	walk = func(b, lo, hi uint64, depth int) error {
		st := "b-tree node of the " + tree
		if seen[b] || depth > maxDepth {
			return m.errf(b, st, "", ErrCycle, "node reached twice or deeper than %d levels", maxDepth)
		}
		seen[b] = true
		buf, err := m.read(b, st, saltNode, 8)
		if err != nil {
			return err
		}
		le := binary.LittleEndian
		flags, nr, max, vs := le.Uint32(buf[4:]), le.Uint32(buf[16:]), le.Uint32(buf[20:]), le.Uint32(buf[24:])
		if flags != flagNode && flags != flagLeaf {
			return m.errf(b, st, "flags", ErrCorrupt, "%d is neither internal (1) nor leaf (2)", flags)
		}
		if vs != valueSize {
			return m.errf(b, st, "value_size", ErrCorrupt, "%d, want %d", vs, valueSize)
		}
		if max != maxNodeEntries(vs) {
			return m.errf(b, st, "max_entries", ErrCorrupt, "%d, want %d for %d-byte values", max, maxNodeEntries(vs), vs)
		}
		if nr > max {
			return m.errf(b, st, "nr_entries", ErrCorrupt, "%d entries exceed the capacity %d", nr, max)
		}
		if flags == flagNode && nr == 0 {
			return m.errf(b, st, "nr_entries", ErrCorrupt, "internal node without entries")
		}
		keys := func(i uint32) uint64 { return le.Uint64(buf[nodeHeader+8*i:]) }
		vals := func(i uint32) uint64 { return le.Uint64(buf[nodeHeader+8*max+8*i:]) }
		for i := uint32(0); i < nr; i++ {
			k := keys(i)
			if k < lo || k >= hi || (i > 0 && k <= keys(i-1)) {
				return m.errf(b, st, "keys", ErrCorrupt, "key %d (entry %d) is out of order or outside [%d, %d)", k, i, lo, hi)
			}
		}
		for i := uint32(0); i < nr; i++ {
			if flags == flagLeaf {
				if uint64(len(out)) >= limit {
					return m.errf(b, st, "nr_entries", ErrRange, "more than %d entries", limit)
				}
				out = append(out, leafEntry{keys(i), vals(i)})
				continue
			}
			end := hi
			if i+1 < nr {
				end = keys(i + 1)
			}
			if err := walk(vals(i), keys(i), end, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 0, math.MaxUint64, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// walkArray visits the elements of the persistent array at root in index
// order. The array must hold at least n elements; the blocks needed for
// them must all be present and all but the last full. Elements of the
// last block beyond n are visited too.
func (m *metaDev) walkArray(name string, root, n uint64, fn func(e, v, block uint64) error) error {
	per := uint64(arrayEntries(valueSize))
	need := (n + per - 1) / per
	entries, err := m.walkTree(name, root, need)
	if err != nil {
		return err
	}
	if uint64(len(entries)) != need {
		return m.errf(root, "b-tree of the "+name, "nr_entries", ErrCorrupt, "%d array blocks for %d elements, want %d", len(entries), n, need)
	}
	st := "array block of the " + name
	for k, le := range entries {
		if le.key != uint64(k) {
			return m.errf(root, "b-tree of the "+name, "keys", ErrCorrupt, "array block %d is missing", k)
		}
		buf, err := m.read(le.value, st, saltArray, 16)
		if err != nil {
			return err
		}
		max, nr, vs := binary.LittleEndian.Uint32(buf[4:]), binary.LittleEndian.Uint32(buf[8:]), binary.LittleEndian.Uint32(buf[12:])
		if vs != valueSize || max != arrayEntries(vs) {
			return m.errf(le.value, st, "value_size", ErrCorrupt, "value_size %d, max_entries %d; want %d, %d", vs, max, valueSize, arrayEntries(valueSize))
		}
		if nr > max {
			return m.errf(le.value, st, "nr_entries", ErrCorrupt, "%d entries exceed the capacity %d", nr, max)
		}
		first := uint64(k) * per
		if last := uint64(k)+1 == need; !last && uint64(nr) != per || last && first+uint64(nr) < n {
			return m.errf(le.value, st, "nr_entries", ErrCorrupt, "%d entries: array block %d of %d should hold elements up to %d", nr, k, need, min(n, first+per))
		}
		for i := uint64(0); i < uint64(nr); i++ {
			if err := fn(first+i, binary.LittleEndian.Uint64(buf[arrayHeader+8*i:]), le.value); err != nil {
				return err
			}
		}
	}
	return nil
}
