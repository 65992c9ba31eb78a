package thin

import "fmt"

// B-tree node layout (spec 6.3).
const (
	nodeHeaderSize = 32
	flagInternal   = 1
	flagLeaf       = 2
)

// node is a validated b-tree node. It keeps the raw block and reads keys
// and values from it on demand.
type node struct {
	block     uint64
	leaf      bool
	nr        int
	max       int
	valueSize int
	raw       []byte
}

// maxEntries is the capacity the format gives a node with values of vs
// bytes: floor(floor(4064 / (8 + vs)) / 3) * 3.
func maxEntries(vs int) int {
	return (BlockSize - nodeHeaderSize) / (8 + vs) / 3 * 3
}

func (n *node) key(i int) uint64 { return le64(n.raw, nodeHeaderSize+8*i) }

func (n *node) value(i int) []byte {
	off := nodeHeaderSize + 8*n.max + n.valueSize*i
	return n.raw[off : off+n.valueSize]
}

// child is the block number internal node n points to at index i.
func (n *node) child(i int) uint64 { return le64(n.value(i), 0) }

// parseNode decodes and validates the b-tree node in b, read from metadata
// block blk of a device of nrBlocks blocks. leafValueSize is the value
// size leaves of this tree must have (internal nodes always hold 8-byte
// block numbers). tree names the tree for error messages.
//
// Checked: checksum, block number, node type, value size, max_entries
// (the format's formula), nr_entries <= max_entries, keys strictly
// ascending, and in internal nodes at least one entry and every child
// inside 1..nrBlocks-1.
func parseNode(b []byte, blk, nrBlocks uint64, leafValueSize int, tree string) (*node, error) {
	bad := func(field, problem string, err error) error {
		return &MetadataError{Block: blk, Structure: "b-tree node", Tree: tree, Field: field, Problem: problem, Err: err}
	}
	if len(b) < BlockSize {
		return nil, bad("", fmt.Sprintf("%d bytes, a block is %d", len(b), BlockSize), ErrCorrupt)
	}
	if stored, want, ok := checksumOK(b, saltNode); !ok {
		return nil, bad("csum", fmt.Sprintf("stored %#08x, computed %#08x (damaged, or not a b-tree node)", stored, want), ErrChecksum)
	}
	if n := le64(b, 8); n != blk {
		return nil, bad("blocknr", fmt.Sprintf("says block %d (a node copied or pointed to by mistake)", n), ErrCorrupt)
	}
	n := &node{block: blk, raw: b[:BlockSize]}
	switch f := le32(b, 4); f {
	case flagInternal:
	case flagLeaf:
		n.leaf = true
	default:
		return nil, bad("flags", fmt.Sprintf("%#x, want 1 (internal) or 2 (leaf)", f), ErrCorrupt)
	}
	vs := le32(b, 24)
	want := 8
	if n.leaf {
		want = leafValueSize
	}
	if vs != uint32(want) {
		kind := "internal node"
		if n.leaf {
			kind = "leaf"
		}
		return nil, bad("value_size", fmt.Sprintf("%d, a %s of this tree has %d-byte values", vs, kind, want), ErrCorrupt)
	}
	n.valueSize = want
	n.max = maxEntries(want)
	if m := le32(b, 20); m != uint32(n.max) {
		return nil, bad("max_entries", fmt.Sprintf("%d, want %d for %d-byte values", m, n.max, want), ErrCorrupt)
	}
	nr := le32(b, 16)
	if nr > uint32(n.max) {
		return nil, bad("nr_entries", fmt.Sprintf("%d exceeds max_entries %d", nr, n.max), ErrCorrupt)
	}
	n.nr = int(nr)
	if !n.leaf && n.nr == 0 {
		return nil, bad("nr_entries", "0 in an internal node", ErrCorrupt)
	}
	for i := 1; i < n.nr; i++ {
		if k0, k1 := n.key(i-1), n.key(i); k1 <= k0 {
			return nil, bad(fmt.Sprintf("keys[%d]", i), fmt.Sprintf("%d not above keys[%d] = %d (keys must be strictly ascending)", k1, i-1, k0), ErrCorrupt)
		}
	}
	if !n.leaf {
		for i := 0; i < n.nr; i++ {
			if c := n.child(i); c == 0 || c >= nrBlocks {
				return nil, bad(fmt.Sprintf("values[%d]", i), fmt.Sprintf("child block %d outside 1..%d", c, nrBlocks-1), ErrRange)
			}
		}
	}
	return n, nil
}
