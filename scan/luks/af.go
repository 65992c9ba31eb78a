package luks

import (
	"encoding/binary"
	"fmt"
	"hash"
)

// diffuse is luks.md §5.4's diffusion of x in place: x cut into pieces
// of the hash's size (the last possibly shorter); piece i becomes the
// first len(piece) bytes of H(u32-big-endian(i) ‖ piece).
func diffuse(x []byte, newHash func() hash.Hash) {
	h := newHash()
	n := h.Size()
	var ctr [4]byte
	sum := make([]byte, 0, n)
	defer func() { wipe(sum[:cap(sum)]) }()
	for i, off := 0, 0; off < len(x); i, off = i+1, off+n {
		piece := x[off:min(off+n, len(x))]
		h.Reset()
		binary.BigEndian.PutUint32(ctr[:], uint32(i))
		h.Write(ctr[:])
		h.Write(piece)
		sum = h.Sum(sum[:0])
		copy(piece, sum)
	}
}

// afMerge is luks.md §5.4's merge of split material (stripes blocks of
// keyLen bytes) into the candidate key: d = 0; d = diffuse(d ⊕ sⱼ) for
// every stripe but the last; key = d ⊕ s_last. The caller wipes the key.
func afMerge(material []byte, keyLen, stripes int, newHash func() hash.Hash) ([]byte, error) {
	if keyLen < 1 || stripes < 1 || len(material) < keyLen*stripes {
		return nil, fmt.Errorf("AF merge: %d bytes of material for %d stripes of %d bytes", len(material), stripes, keyLen)
	}
	d := make([]byte, keyLen)
	for j := 0; j < stripes-1; j++ {
		s := material[j*keyLen : (j+1)*keyLen]
		for i := range d {
			d[i] ^= s[i]
		}
		diffuse(d, newHash)
	}
	last := material[(stripes-1)*keyLen : stripes*keyLen]
	for i := range d {
		d[i] ^= last[i]
	}
	return d, nil
}
